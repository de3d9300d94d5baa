//! `--last-failed` / `--failed-first` and the "since the last run" lines: the state file
//! under the target directory, written at the end of every run; filters and partitions;
//! newly failing and fixed cases in the human summary and the JSON summary event.

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::Value;

/// A fake-runner fixture whose `profile` runs print `output` while `expected` is expected.
fn fixture(ws: &Workspace, name: &str, expected: &str, os_output: &str, sandbox_output: &str) {
    ws.fake_fixture(
        name,
        &cat_report_sh(0),
        &[
            ("report-os.json", &report("run-os", os_output.as_bytes(), None)),
            (
                "report-sandbox.json",
                &report("run-os-sandboxed", sandbox_output.as_bytes(), None),
            ),
            (
                "x07test.json",
                &format!(
                    r#"{{ "schema_version": "cargo-x07.fixture@0.1.0", "expect": {{ "output": {{ "text": "{expected}" }} }} }}"#
                ),
            ),
        ],
    );
}

/// The test names of the `test NAME ... outcome` lines, in order.
fn ran(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|line| line.strip_prefix("test "))
        .filter_map(|line| line.split_once(" ... "))
        .map(|(name, _)| name.trim_end().to_string())
        .collect()
}

fn state(ws: &Workspace) -> Value {
    let text = std::fs::read_to_string(ws.root().join("target/cargo-x07/last-run.json"))
        .expect("the state file is written");
    serde_json::from_str(&text).unwrap()
}

fn workspace() -> Workspace {
    let ws = Workspace::new("");
    fixture(&ws, "fixtures/a-good", "ok", "ok", "ok");
    fixture(&ws, "fixtures/b-os-broken", "ok", "bad", "ok");
    fixture(&ws, "fixtures/c-both-broken", "ok", "bad", "bad");
    fixture(&ws, "fixtures/d-good", "ok", "ok", "ok");
    ws
}

const FAILING: [&str; 3] = [
    "fixtures/b-os-broken::default::os",
    "fixtures/c-both-broken::default::os",
    "fixtures/c-both-broken::default::sandbox",
];

#[test]
fn last_failed_runs_exactly_the_failures_of_the_last_run() {
    let ws = workspace();
    let first = ws.test_with_fake(&[]);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first));
    let recorded = state(&ws);
    assert_eq!(recorded["schema_version"], "cargo-x07.last-run@0.1.0");
    let failed: BTreeSet<&str> = recorded["cases"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, status)| *status == "failed")
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(failed, BTreeSet::from(FAILING));
    assert_eq!(recorded["cases"]["fixtures/a-good::default::os"], "passed");
    // The first run has no run before it: no "since the last run" lines.
    assert!(
        !text(&first).contains("since the last run"),
        "{}",
        text(&first)
    );

    let again = ws.test_with_fake(&["--last-failed"]);
    let all = text(&again);
    assert_eq!(again.status.code(), Some(1), "{all}");
    let names: BTreeSet<String> = ran(&all).into_iter().collect();
    assert_eq!(
        names,
        FAILING
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>(),
        "{all}"
    );
    assert!(all.contains("running 3 tests"), "{all}");
    assert!(all.contains("5 filtered out"), "{all}");

    // With a filter and a partition too: the filters apply first, then the shard.
    let filtered = ws.test_with_fake(&["--last-failed", "c-both"]);
    assert_eq!(
        ran(&text(&filtered)).into_iter().collect::<BTreeSet<_>>(),
        BTreeSet::from([FAILING[1].to_string(), FAILING[2].to_string()]),
        "{}",
        text(&filtered)
    );
    let mut sharded = BTreeSet::new();
    for shard in ["slice:1/2", "slice:2/2"] {
        let output = ws.test_with_fake(&["--last-failed", "--partition", shard]);
        let names = ran(&text(&output));
        assert!(names.len() <= 2, "{}", text(&output));
        sharded.extend(names);
    }
    assert_eq!(
        sharded,
        FAILING
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>()
    );
}

#[test]
fn failed_first_runs_the_failures_before_the_rest() {
    let ws = workspace();
    assert_eq!(ws.test_with_fake(&[]).status.code(), Some(1));
    let output = ws.test_with_fake(&["--failed-first", "--test-threads", "1"]);
    let names = ran(&text(&output));
    assert_eq!(names.len(), 8, "{}", text(&output));
    let first: BTreeSet<&str> = names[..3].iter().map(String::as_str).collect();
    assert_eq!(first, BTreeSet::from(FAILING), "{}", text(&output));
    // The rest keep their usual (sorted) order.
    let rest = &names[3..];
    let mut sorted = rest.to_vec();
    sorted.sort();
    assert_eq!(rest, sorted.as_slice());
}

#[test]
fn the_summary_says_what_newly_failed_and_what_was_fixed() {
    let ws = workspace();
    assert_eq!(ws.test_with_fake(&[]).status.code(), Some(1));
    // Fix b, break d.
    fixture(&ws, "fixtures/b-os-broken", "ok", "ok", "ok");
    fixture(&ws, "fixtures/d-good", "ok", "ok", "bad");
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(
        all.contains("since the last run: 1 newly failing, 1 fixed\n"),
        "{all}"
    );
    assert!(
        all.contains("    newly failing: fixtures/d-good::default::sandbox\n"),
        "{all}"
    );
    assert!(
        all.contains("    fixed:         fixtures/b-os-broken::default::os\n"),
        "{all}"
    );

    // JSON events carry the same lists in the summary.
    fixture(&ws, "fixtures/d-good", "ok", "ok", "ok");
    let output = ws.test_with_fake(&["--message-format", "json"]);
    let summary: Value = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|event| event["type"] == "summary")
        .expect("a summary event");
    assert_eq!(summary["newly_failed"], serde_json::json!([]));
    assert_eq!(
        summary["fixed"],
        serde_json::json!(["fixtures/d-good::default::sandbox"])
    );

    // Nothing failed last: --last-failed runs nothing, says so, and passes.
    fixture(&ws, "fixtures/c-both-broken", "ok", "ok", "ok");
    assert_eq!(ws.test_with_fake(&[]).status.code(), Some(0));
    let output = ws.test_with_fake(&["--last-failed"]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert!(all.contains("running 0 tests"), "{all}");
    assert!(
        all.contains("note: --last-failed: target/cargo-x07/last-run.json records no failed case"),
        "{all}"
    );
}

#[test]
fn a_run_of_some_cases_keeps_what_it_knows_about_the_others() {
    let ws = workspace();
    assert_eq!(ws.test_with_fake(&[]).status.code(), Some(1));
    // Only the os profile runs; the sandbox failure stays on record.
    fixture(&ws, "fixtures/c-both-broken", "ok", "ok", "bad");
    assert_eq!(
        ws.test_with_fake(&["--profile", "os"]).status.code(),
        Some(1)
    );
    let recorded = state(&ws);
    assert_eq!(
        recorded["cases"]["fixtures/c-both-broken::default::os"],
        "passed"
    );
    assert_eq!(
        recorded["cases"]["fixtures/c-both-broken::default::sandbox"],
        "failed"
    );
    // A fixture that is gone leaves the record with the next full run.
    std::fs::remove_dir_all(ws.root().join("fixtures/d-good")).unwrap();
    ws.test_with_fake(&[]);
    let recorded = state(&ws);
    assert!(recorded["cases"]
        .get("fixtures/d-good::default::os")
        .is_none());
    // A broken state file is reported and replaced, never fatal.
    std::fs::write(ws.root().join("target/cargo-x07/last-run.json"), "{ nope").unwrap();
    let output = ws.test_with_fake(&["--last-failed"]);
    let all = text(&output);
    assert!(all.contains("warning: "), "{all}");
    assert!(
        all.contains("last-run.json is not a cargo-x07.last-run@0.1.0 file"),
        "{all}"
    );
    assert_eq!(state(&ws)["schema_version"], "cargo-x07.last-run@0.1.0");
}
