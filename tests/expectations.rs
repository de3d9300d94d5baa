//! How expectations merge and how problems in the files that state them are reported:
//! a trap override does not inherit an output, a policy typo fails its case before the
//! run, schema errors name the user's file and JSON path, and a problem found before any
//! run prints no reproduce line.

mod common;

use common::*;

#[test]
fn a_trap_override_does_not_inherit_an_output() {
    let ws = Workspace::new("");
    ws.fake_fixture(
        "fixtures/denied",
        &cat_report_sh(0).replace("exit 0", "[ \"$1\" = sandbox ] && exit 1\nexit 0"),
        &[
            ("report-os.json", &report("run-os", b"DATA", None)),
            (
                "report-sandbox.json",
                &report("run-os-sandboxed", b"", Some("os.fs.read_file hidden path denied")),
            ),
            (
                "x07test.json",
                r#"{ "schema_version": "cargo-x07.fixture@0.1.0",
                     "expect": { "output": { "text": "DATA" } },
                     "cases": [ { "name": "hidden",
                       "by_profile": { "sandbox": { "expect": { "trap": "os.fs.read_file hidden path denied" } } } } ] }"#,
            ),
        ],
    );
    let output = ws.test_with_fake(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

#[test]
fn a_typo_in_a_sandbox_policy_fails_the_case_naming_the_key() {
    let ws = Workspace::new("");
    let dir = ws.fake_fixture(
        "fixtures/typo",
        &cat_report_sh(0),
        &[
            ("report-os.json", &report("run-os", b"", None)),
            (
                "report-sandbox.json",
                &report("run-os-sandboxed", b"", None),
            ),
        ],
    );
    let mut policy: serde_json::Value =
        serde_json::from_str(include_str!("data/workspaces/hello/policy.json")).unwrap();
    policy["fs"]["enabledd"] = serde_json::json!(true);
    std::fs::write(dir.join("policy.json"), policy.to_string()).unwrap();
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert_eq!(outcome(&all, "fixtures/typo::default::os"), "ok", "{all}");
    assert_eq!(
        outcome(&all, "fixtures/typo::default::sandbox"),
        "FAILED",
        "{all}"
    );
    assert!(all.contains("fixtures/typo/policy.json"), "{all}");
    assert!(all.contains("fs.enabledd"), "{all}");
}

#[test]
fn schema_errors_name_the_file_and_the_json_path_not_the_schema() {
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    ws.fake_fixture(
        "fixtures/bad",
        &cat_report_sh(0),
        &[(
            "x07test.json",
            r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "cases": [ { "name": "bad name!" } ] }"#,
        )],
    );
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("fixtures/bad/x07test.json"), "{all}");
    assert!(all.contains("/cases/0/name"), "{all}");
    assert!(!all.contains("schemas/fixture.schema.json"), "{all}");
}

#[test]
fn a_problem_found_before_any_run_prints_no_reproduce_line() {
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    ws.fake_fixture(
        "fixtures/broken",
        &cat_report_sh(0),
        &[("x07test.json", "{ \"schema_version\": ")],
    );
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(
        all.contains("malformed JSON in fixtures/broken/x07test.json"),
        "{all}"
    );
    assert!(!all.contains("x07 run"), "{all}");
    assert!(!all.contains("reproduce"), "{all}");
}
