//! GitHub annotations and the step summary, as a failing run produces them.

#[path = "data/ci/support.rs"]
mod common_ci;

use std::time::Duration;

use cargo_x07::engine::exit::RunOutcome;
use cargo_x07::engine::{RunSummary, RunTotals};
use cargo_x07::report::github::{
    annotations, append_step_summary, escape_data, escape_property, step_summary,
};
use cargo_x07::report::ReportOptions;
use common_ci::{ignored, output_mismatch, passed, root, scratch};

/// Undoes the runner's escaping (what GitHub shows).
fn unescape(text: &str) -> String {
    text.replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

#[test]
fn escaping_round_trips_and_leaves_no_separator_in_properties() {
    for raw in [
        "plain",
        "a:b,c",
        "100%",
        "%0A literally",
        "line\nbreak\r\n",
        "fixtures/a::b::os",
    ] {
        let property = escape_property(raw);
        assert!(!property.contains([':', ',', '\n', '\r']), "{property}");
        assert_eq!(unescape(&property), raw);
        let data = escape_data(raw);
        assert!(!data.contains(['\n', '\r']));
        assert_eq!(unescape(&data), raw);
    }
}

#[test]
fn one_error_line_per_failing_case_with_folded_output() {
    let results = vec![
        passed("fixtures/ok", "default", "os", 10),
        output_mismatch("fixtures/z:1,comma", "c", "sandbox", "x", "y"),
        output_mismatch("fixtures/a", "default", "os", "x\n", "y\n"),
        ignored("fixtures/skip", "default", "os", "later"),
    ];
    let text = annotations(&results, &root());
    let errors: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("::error"))
        .collect();
    assert_eq!(errors.len(), 2, "{text}");
    let reproduce = results[2].reproduce.as_ref().unwrap().primary();
    assert_eq!(
        errors[0],
        format!(
            "::error file=fixtures/a/x07test.json,title=fixtures/a%3A%3Adefault%3A%3Aos::\
             output: expected 2 bytes (from text), got 2 bytes; first difference at offset 0 (line 1, column 1)\
             %0Areproduce: {reproduce}"
        )
    );
    assert!(errors[1].starts_with(
        "::error file=fixtures/z%3A1%2Ccomma/x07test.json,title=fixtures/z%3A1%2Ccomma%3A%3Ac%3A%3Asandbox::"
    ));
    assert_eq!(text.matches("::group::").count(), 2);
    assert_eq!(text.matches("::endgroup::").count(), 2);
    let first_group = text.split("::group::").nth(1).unwrap();
    assert!(
        first_group.contains("-x\n") && first_group.contains("+y\n"),
        "{first_group}"
    );
    assert!(
        first_group.contains(&cargo_x07::message::failure_message(&results[2])),
        "the folded text is the message every output shows\n{first_group}"
    );
}

#[test]
fn step_summary_file_gets_a_failure_table_naming_the_broken_case() {
    let results = vec![
        passed("fixtures/ok", "default", "os", 300),
        passed("fixtures/ok", "default", "sandbox", 200),
        output_mismatch("fixtures/broken", "default", "sandbox", "good", "bad"),
    ];
    let summary = RunSummary {
        totals: RunTotals::count(&results),
        selected: 3,
        filtered_out: 0,
        not_run: 0,
        stopped: false,
        outcome: RunOutcome::Failed,
        wall_time: Duration::from_millis(400),
        since_last_run: None,
    };
    let mut options = ReportOptions::new(root());
    options.slowest = 2;
    let folder = scratch();
    let path = folder.path().join("step_summary.md");
    append_step_summary(&path, &step_summary(&results, &summary, &options)).unwrap();
    let markdown = std::fs::read_to_string(&path).unwrap();

    assert!(
        markdown.starts_with("### cargo x07 test: ❌ 1 failed\n"),
        "{markdown}"
    );
    let table_rows = |heading: &str| -> Vec<Vec<String>> {
        let start = markdown
            .find(heading)
            .unwrap_or_else(|| panic!("no {heading}"));
        let section = &markdown[start..];
        section
            .lines()
            .skip_while(|line| !line.starts_with('|'))
            .take_while(|line| line.starts_with('|'))
            .skip(2)
            .map(|line| {
                line.trim_matches('|')
                    .split(" | ")
                    .map(|cell| cell.trim().to_string())
                    .collect()
            })
            .collect()
    };
    let totals = table_rows("| profile |");
    assert_eq!(
        totals,
        [
            ["os", "1", "0", "0", "0.300s"],
            ["sandbox", "1", "1", "0", "0.225s"]
        ]
    );
    let failures = table_rows("#### Failures");
    assert_eq!(failures.len(), 1);
    assert_eq!(
        failures[0][0],
        "<code>fixtures/broken::default::sandbox</code>"
    );
    assert_eq!(
        failures[0][1],
        "output: expected 4 bytes (from text), got 3 bytes; first difference at offset 0 (line 1, column 1)"
    );
    assert_eq!(failures[0][2], "<code>fixtures/broken/x07test.json</code>");
    let reproduce = results[2].reproduce.as_ref().unwrap().primary();
    assert_eq!(failures[0][3], format!("<code>{reproduce}</code>"));
    assert!(reproduce.ends_with(
        "fixtures/broken/x07.json --profile sandbox --repair=off --policy policy.json --sandbox-backend os --i-accept-weaker-isolation --input-b64 aGk="
    ) || reproduce.contains("--profile sandbox"), "{reproduce}");
    let slowest = table_rows("#### Slowest cases");
    assert_eq!(slowest[0][0], "<code>fixtures/ok::default::os</code>");
    assert_eq!(slowest.len(), 2);
}
