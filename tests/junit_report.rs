//! The JUnit file reads back with an XML parser and holds what docs/ci.md says:
//! one suite per profile, one testcase per case, the failure's diff and reproduce command.

#[path = "data/ci/support.rs"]
mod common_ci;

use std::time::Duration;

use cargo_x07::report::junit::write_junit;
use cargo_x07::report::ReportOptions;
use common_ci::{ignored, output_mismatch, passed, root, scratch};

#[test]
fn junit_file_parses_back_with_the_failure_diff_and_reproduce_command() {
    let results = vec![
        passed("fixtures/a", "default", "sandbox", 120),
        output_mismatch(
            "fixtures/b",
            "greet",
            "os",
            "hello\nworld\n",
            "hello\nwurld\n",
        ),
        passed("fixtures/a", "default", "os", 80),
        ignored("fixtures/c", "slow", "os", "needs the network"),
    ];
    let folder = scratch();
    let path = folder.path().join("reports/nested/junit.xml");
    let mut options = ReportOptions::new(root());
    options.partition = Some("slice:1/1".parse().unwrap());
    write_junit(&path, &results, Duration::from_millis(300), &options).unwrap();

    let xml = std::fs::read_to_string(&path).unwrap();
    let document = roxmltree::Document::parse(&xml).expect("the JUnit file is well-formed XML");
    let root_element = document.root_element();
    assert_eq!(root_element.tag_name().name(), "testsuites");
    assert_eq!(
        root_element.attribute("name"),
        Some("cargo-x07 (slice:1/1)")
    );
    assert_eq!(root_element.attribute("tests"), Some("4"));
    assert_eq!(root_element.attribute("failures"), Some("1"));
    assert_eq!(root_element.attribute("skipped"), Some("1"));

    let suites: Vec<_> = root_element
        .children()
        .filter(|node| node.has_tag_name("testsuite"))
        .collect();
    let suite_names: Vec<_> = suites
        .iter()
        .map(|suite| suite.attribute("name").unwrap())
        .collect();
    assert_eq!(suite_names, ["os", "sandbox"]);
    let os_cases: Vec<_> = suites[0]
        .children()
        .filter(|node| node.has_tag_name("testcase"))
        .collect();
    let names: Vec<_> = os_cases
        .iter()
        .map(|case| case.attribute("name").unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "fixtures/a::default::os",
            "fixtures/b::greet::os",
            "fixtures/c::slow::os"
        ]
    );
    assert_eq!(os_cases[0].attribute("classname"), Some("fixtures/a"));
    assert_eq!(os_cases[0].attribute("time"), Some("0.080"));
    assert_eq!(
        os_cases[1].attribute("file"),
        Some("fixtures/b/x07test.json")
    );

    let failure = os_cases[1]
        .children()
        .find(|node| node.has_tag_name("failure"))
        .expect("the failed case has a <failure>");
    assert_eq!(failure.attribute("type"), Some("x07 case failed"));
    assert_eq!(
        failure.attribute("message"),
        Some(
            "output: expected 12 bytes (from text), got 12 bytes; \
             first difference at offset 7 (line 2, column 2)"
        )
    );
    let body = failure.text().expect("the failure has a body");
    assert_eq!(
        body,
        cargo_x07::message::failure_message(&results[1]),
        "the body is the message every output shows"
    );
    assert!(body.contains("-world"), "{body}");
    assert!(body.contains("+wurld"), "{body}");
    let reproduce = results[1].reproduce.as_ref().unwrap().primary();
    assert!(
        reproduce.ends_with("fixtures/b/x07.json --profile os --repair=off --input-b64 aGk="),
        "{reproduce}"
    );
    assert!(body.contains(reproduce), "{body}");

    let skipped = os_cases[2]
        .children()
        .find(|node| node.has_tag_name("skipped"))
        .unwrap();
    assert_eq!(skipped.attribute("message"), Some("needs the network"));
    assert!(os_cases[0].children().all(|node| !node.is_element()));
}

#[test]
fn control_characters_and_markup_in_messages_stay_well_formed() {
    let nasty = output_mismatch(
        "fixtures/x",
        "default",
        "os",
        "a",
        "red</failure>& ]]> <![CDATA[ \"quoted\"",
    );
    let folder = scratch();
    let path = folder.path().join("junit.xml");
    write_junit(&path, &[nasty], Duration::ZERO, &ReportOptions::new(root())).unwrap();
    let xml = std::fs::read_to_string(&path).unwrap();
    let document = roxmltree::Document::parse(&xml).expect("still well-formed");
    let body = document
        .descendants()
        .find(|node| node.has_tag_name("failure"))
        .and_then(|node| node.text())
        .unwrap()
        .to_string();
    assert!(body.contains("</failure>&"), "{body}");
    assert!(body.contains("]]> <![CDATA["), "{body}");
}
