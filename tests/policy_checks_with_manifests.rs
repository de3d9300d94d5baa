//! Where issue 14's features (`--differential`, `cargo x07 audit`, `--last-failed` /
//! `--failed-first`) meet `x07 test` manifest cases, the run's environment and `cargo x07
//! run TARGET`:
//!
//! * the differential and the audit leave sandboxed manifest cases out (they run and are
//!   checked as usual; the run says how many were left out) instead of crashing on them;
//! * the differential's `os` companion runs and the audit's runs get the run's
//!   environment (set-up `X07_*` variables passed, run-shaping ones removed, the native
//!   cache, `--clean-env`);
//! * a `Failure::Differential` and a `Failure::X07Test` of the same run reach every output:
//!   libtest lines, JUnit, GitHub annotations, the step summary and JSON events;
//! * failed manifest cases are recorded for `--last-failed` / `--failed-first` (also with a
//!   path), and `cargo x07 run` takes the recorded name without touching the record.
//!
//! The runner is a stand-in `x07` that logs every call's arguments and `X07_*` variables,
//! answers `x07 test` calls with `x07-replay` (the real toolchain's recorded reports) and
//! `x07 run` calls with the embedded runner (`cargo-x07 __x07`), so both kinds of case
//! really run in one workspace.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use serde_json::{json, Value};

/// The stand-in `x07`: logs, then replays `x07 test` and runs `x07 run` with the embedded
/// runner. One `printf` per call, so that the lines of parallel calls do not interleave.
const STANDIN: &str = r#"#!/bin/sh
if [ "$1" = "--version" ]; then echo "x07 0.2.17-interplay"; exit 0; fi
record="$(printf 'CALL'; for arg in "$@"; do printf ' [%s]' "$arg"; done; printf '\n'; env | grep '^X07' | LC_ALL=C sort | sed 's/^/ENV /')"
printf '%s\n' "$record" >> "$STANDIN_LOG"
if [ "$1" = "test" ]; then exec "$REPLAY" "$@"; fi
exec "$EMBEDDED" __x07 "$@"
"#;

/// `os.fs.read_file(input)` (the recorded probe program `rf`).
const READ_FILE: &str = r#"{"decls":[],"imports":[],"kind":"entry","module_id":"main","schema_version":"x07.x07ast@0.8.0","solve":["os.fs.read_file",["view.to_bytes","input"]]}"#;

/// Inherited by the runs: two set-up variables and two run-shaping ones.
const CALLER: &[(&str, &str)] = &[
    ("X07_CC", "clang"),
    ("X07_OFFLINE", "1"),
    ("X07_OS_SANDBOXED", "1"),
    ("X07_WORLD", "run-os-sandboxed"),
];

/// The failure of the differential (the sandbox-only case below).
const DIFFERENTIAL_LINE: &str = "differential: the denial is not evidence of the policy: under profile `os` (no policy) the case ends the same way";

/// The failure of the manifest case `c/fail_bytes`, as x07 recorded it.
const X07TEST_LINE: &str =
    "status: expected pass, got fail; assertion code 1003 (std.test.assert_bytes_eq)";

const SANDBOX_ONLY: &str = "fixtures/sandbox-only::missing::sandbox";
const FAIL_BYTES: &str = "probes/tests/two.json::c/fail_bytes::solve-pure";
const PASS: &str = "probes/tests/two.json::a/pass::solve-pure";
const SANDBOXED_TEST: &str =
    "fixtures/calc/tests/tests.json::files/read-data sandboxed::run-os-sandboxed";

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace: the bundled manifest project as `fixtures/calc` (two `x07 run` cases,
/// six `x07 test` cases, one of them sandboxed), a manifest `probes/tests/two.json` with
/// two recorded probe tests (`a/pass` passes, `c/fail_bytes` fails an assertion), and
/// `fixtures/sandbox-only`, a sandbox case whose "denial" — reading a file that does not
/// exist — happens without the policy too. `calc_manifest` edits the project's manifest.
fn workspace(calc_manifest: impl FnOnce(&mut Value)) -> Workspace {
    let ws =
        Workspace::new("[package.metadata.x07]\ntest_manifests = [\"probes/tests/two.json\"]\n");
    let calc = ws.root().join("fixtures/calc");
    common::copy_tree(&repository().join("fixtures/manifests/calc"), &calc);
    let manifest_path = calc.join("tests/tests.json");
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    calc_manifest(&mut manifest);
    write(
        &manifest_path,
        serde_json::to_string_pretty(&manifest).unwrap().as_bytes(),
    );

    let probes = repository().join("tests/data/x07-test/probes/basic/tests");
    let recorded: Value =
        serde_json::from_slice(&std::fs::read(probes.join("tests.json")).unwrap()).unwrap();
    let entries: Vec<&Value> = recorded["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|test| matches!(test["id"].as_str(), Some("a/pass" | "c/fail_bytes")))
        .collect();
    assert_eq!(entries.len(), 2);
    let two = json!({ "schema_version": recorded["schema_version"], "tests": entries });
    write(
        &ws.root().join("probes/tests/two.json"),
        serde_json::to_string_pretty(&two).unwrap().as_bytes(),
    );
    write(
        &ws.root().join("probes/tests/probe.x07.json"),
        &std::fs::read(probes.join("probe.x07.json")).unwrap(),
    );

    ws.fixture(
        "fixtures/sandbox-only",
        &[
            ("x07.json", &project_manifest()),
            (
                "policy.json",
                include_str!("data/workspaces/hello/policy.json"),
            ),
            ("main.x07.json", READ_FILE),
            (
                "x07test.json",
                &json!({
                    "schema_version": "cargo-x07.fixture@0.1.0",
                    "description": "claims the sandbox denies reading missing.txt",
                    "profiles": ["sandbox"],
                    "cases": [{
                        "name": "missing",
                        "input": { "text": "missing.txt" },
                        "expect": { "trap": { "contains": "os.fs.read_file" } }
                    }]
                })
                .to_string(),
            ),
        ],
    );
    ws
}

/// The stand-in, written into the workspace.
fn standin(ws: &Workspace) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = ws.root().join("interplay-x07");
    std::fs::write(&path, STANDIN).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// `cargo x07 <command> --x07 <stand-in> <args>` with `vars` inherited: the output and
/// every runner call.
fn run(ws: &Workspace, command: &str, args: &[&str], vars: &[(&str, &str)]) -> (Output, Vec<Call>) {
    let standin = standin(ws);
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut all = vec![command, "--x07", standin.to_str().unwrap()];
    all.extend_from_slice(args);
    let mut cmd = ws.command(&all);
    cmd.env("STANDIN_LOG", log.path())
        .env("REPLAY", x07_replay())
        .env("EMBEDDED", cargo_x07());
    for (name, value) in vars {
        cmd.env(name, value);
    }
    let output = cmd.output().unwrap();
    (output, read_call_log(log.path()))
}

/// The native cache the runs get by default.
fn native_cache(ws: &Workspace) -> String {
    format!(
        "X07_NATIVE_CACHE_DIR={}",
        ws.root().join("target/x07-native-cache").display()
    )
}

/// Every call saw exactly `expected` (the sandboxed manifest test also the os sandbox
/// backend's two variables).
fn assert_environment(calls: &[Call], expected: &[String]) {
    assert!(!calls.is_empty());
    for call in calls {
        let mut want = expected.to_vec();
        if call.args.contains("[files/read-data sandboxed]") {
            want.push("X07_I_ACCEPT_WEAKER_ISOLATION=1".into());
            want.push("X07_SANDBOX_BACKEND=os".into());
            want.sort();
        }
        assert_eq!(call.env, want, "{}", call.args);
    }
}

/// The test names of the `test NAME ... outcome` lines, in order.
fn ran(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.strip_prefix("test "))
        .filter_map(|line| line.split_once(" ... "))
        .map(|(name, _)| name.trim_end().to_string())
        .collect()
}

#[test]
fn the_differential_leaves_manifest_cases_out_and_both_failure_kinds_reach_every_output() {
    let ws = workspace(|_| {});
    let before = ws.snapshot();
    let junit = ws.root().join("target/junit.xml");
    let step_summary = ws.root().join("target/step-summary.md");
    std::fs::create_dir_all(ws.root().join("target")).unwrap();
    let mut vars = CALLER.to_vec();
    let summary_path = step_summary.to_str().unwrap().to_string();
    vars.push(("GITHUB_STEP_SUMMARY", &summary_path));
    let (output, calls) = run(
        &ws,
        "test",
        &[
            "--differential",
            "--test-threads",
            "1",
            "--junit",
            junit.to_str().unwrap(),
            "--github",
        ],
        &vars,
    );
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(
        all.contains(
            "differential: 1 sandbox case(s) will also run under their os profile; \
             1 sandboxed x07 test manifest case(s) are not compared"
        ),
        "{all}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    for (name, verdict) in [
        (SANDBOX_ONLY, "FAILED"),
        (FAIL_BYTES, "FAILED"),
        (PASS, "ok"),
        (SANDBOXED_TEST, "ok"),
        ("fixtures/calc::solve::os", "ok"),
        ("fixtures/calc::solve::sandbox", "ok"),
    ] {
        assert_eq!(outcome(&stdout, name), verdict, "{name}: {all}");
    }

    // The sandbox-only case ran twice: under its policy, and under `os` as the
    // differential's companion, in the run's environment like every other call.
    let input = "[--input-b64] [bWlzc2luZy50eHQ=]";
    let companions: Vec<&Call> = calls
        .iter()
        .filter(|call| call.args.contains(input) && call.args.contains("[--profile] [os]"))
        .collect();
    assert_eq!(companions.len(), 1, "{calls:?}");
    assert!(!companions[0].args.contains("[--policy]"), "{calls:?}");
    let expected = [
        "X07_CC=clang".to_string(),
        native_cache(&ws),
        "X07_OFFLINE=1".to_string(),
    ];
    assert_environment(&calls, &expected);
    let tests = calls
        .iter()
        .filter(|c| c.args.starts_with("[test]"))
        .count();
    assert_eq!(
        tests, 8,
        "six calc tests (one is skipped) and two probe tests"
    );

    // Both failure kinds, in every output.
    for section in [SANDBOX_ONLY, FAIL_BYTES] {
        assert!(stdout.contains(&format!("---- {section} ----")), "{stdout}");
    }
    for line in [DIFFERENTIAL_LINE, X07TEST_LINE] {
        assert!(stdout.contains(&format!("  - {line}")), "libtest: {stdout}");
        let annotation = stdout
            .lines()
            .filter(|l| l.starts_with("::error "))
            .find(|l| l.contains(line));
        assert!(annotation.is_some(), "annotation {line:?}: {stdout}");
    }
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(DIFFERENTIAL_LINE) && xml.contains(X07TEST_LINE),
        "{xml}"
    );
    // The step summary is HTML: its backticks are escaped.
    let summary = std::fs::read_to_string(&step_summary).unwrap();
    for text in [SANDBOX_ONLY, FAIL_BYTES, DIFFERENTIAL_LINE, X07TEST_LINE] {
        let html = text.replace('`', "&#96;");
        assert!(
            summary.contains(&html),
            "{html:?} in the step summary:\n{summary}"
        );
    }

    // JSON events: the same failed checks and messages.
    let (output, _) = run(
        &ws,
        "test",
        &["--differential", "--message-format", "json"],
        CALLER,
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let events: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    for (name, line) in [
        (SANDBOX_ONLY, DIFFERENTIAL_LINE),
        (FAIL_BYTES, X07TEST_LINE),
    ] {
        let event = events
            .iter()
            .find(|event| event["name"] == name && event["status"] == "failed")
            .unwrap_or_else(|| panic!("no failed event for {name}: {events:?}"));
        let checks: Vec<&str> = event["failed_checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|check| check.as_str().unwrap())
            .collect();
        assert!(
            checks.iter().any(|check| check.starts_with(line)),
            "{event}"
        );
        assert!(event["message"].as_str().unwrap().contains(line), "{event}");
    }

    let mut after = ws.snapshot();
    after.retain(|path, _| !path.starts_with("interplay-x07"));
    assert_eq!(after, before, "nothing written under the fixtures");
}

#[test]
fn the_audit_lists_manifest_cases_as_not_audited_and_runs_in_the_runs_environment() {
    // The sandboxed manifest test shares the project's sandbox policy.
    let ws = workspace(|manifest| {
        for test in manifest["tests"].as_array_mut().unwrap() {
            if test["id"] == "files/read-data sandboxed" {
                test["policy_json"] = json!("../policy.json");
            }
        }
    });
    let before = ws.snapshot();
    let (output, calls) = run(
        &ws,
        "audit",
        &[
            "--format",
            "json",
            "--exhaustive",
            "-j",
            "1",
            "--no-progress",
        ],
        CALLER,
    );
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert!(
        all.contains("audit: 1 sandboxed x07 test manifest case(s) not audited"),
        "{all}"
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let policy = report["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|policy| {
            policy["file"]
                .as_str()
                .unwrap()
                .ends_with("fixtures/calc/policy.json")
        })
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(
        policy["cases"],
        json!(["fixtures/calc::solve::sandbox"]),
        "{policy}"
    );
    assert_eq!(
        policy["not_used"],
        json!([{
            "case": SANDBOXED_TEST,
            "reason": cargo_x07::audit::MANIFEST_NOT_AUDITED,
        }]),
        "{policy}"
    );
    // No x07 test call; the cases under their own policies and the runs without one
    // grant each (under a derived policy) all got the run's environment.
    assert!(
        calls.iter().all(|call| call.args.starts_with("[run]")),
        "{calls:?}"
    );
    let derived = calls
        .iter()
        .filter(|call| call.args.contains(".policy.json]") && call.args.contains("[--policy]"))
        .count();
    assert!(derived > 0, "{calls:?}");
    let expected = [
        "X07_CC=clang".to_string(),
        native_cache(&ws),
        "X07_OFFLINE=1".to_string(),
    ];
    assert_environment(&calls, &expected);

    // --clean-env: nothing inherited reaches the runner.
    let (output, calls) = run(
        &ws,
        "audit",
        &["--clean-env", "--exhaustive", "-j", "1", "--no-progress"],
        CALLER,
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_environment(&calls, &[]);

    // A filter that selects only the manifest case audits nothing, and says why.
    let (output, calls) = run(
        &ws,
        "audit",
        &["--no-progress", "read-data sandboxed"],
        CALLER,
    );
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert!(
        all.contains("audit: 1 sandboxed x07 test manifest case(s) not audited")
            && all.contains("error: no sandbox x07 run case selected by the filter"),
        "{all}"
    );
    assert!(calls.is_empty(), "{calls:?}");

    let mut after = ws.snapshot();
    after.retain(|path, _| !path.starts_with("interplay-x07"));
    assert_eq!(after, before, "nothing written under the fixtures");
}

#[test]
fn failed_manifest_cases_are_rerun_first_or_alone_and_cargo_x07_run_takes_their_names() {
    let ws = workspace(|_| {});
    let state_file = ws.root().join("target/cargo-x07/last-run.json");
    let (first, _) = run(&ws, "test", &[], &[]);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first));
    let state: Value = serde_json::from_slice(&std::fs::read(&state_file).unwrap()).unwrap();
    let failed: BTreeSet<&str> = state["cases"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, status)| *status == "failed")
        .map(|(name, _)| name.as_str())
        .collect();
    // Without --differential the sandbox-only case passes.
    assert_eq!(failed, BTreeSet::from([FAIL_BYTES]), "{state}");
    assert_eq!(state["cases"][SANDBOXED_TEST], "passed");
    assert_eq!(
        state["cases"]["fixtures/calc/tests/tests.json::later/not-yet::solve-pure"],
        "ignored"
    );

    let (again, _) = run(&ws, "test", &["--last-failed"], &[]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert_eq!(ran(&again), [FAIL_BYTES]);

    // `cargo x07 run` takes the recorded name and leaves the record alone.
    let recorded = std::fs::read(&state_file).unwrap();
    let (shown, calls) = run(&ws, "run", &[FAIL_BYTES], &[]);
    let stdout = String::from_utf8_lossy(&shown.stdout).to_string();
    assert_eq!(shown.status.code(), Some(1), "{}", text(&shown));
    assert!(stdout.contains(&format!("== {FAIL_BYTES}\n")), "{stdout}");
    assert!(stdout.contains("verdict: FAIL"), "{stdout}");
    assert!(stdout.contains(X07TEST_LINE), "{stdout}");
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(std::fs::read(&state_file).unwrap(), recorded);

    // With a path: the failures at or below it, none elsewhere.
    let (at_path, _) = run(
        &ws,
        "test",
        &["probes/tests/two.json", "--last-failed"],
        &[],
    );
    assert_eq!(at_path.status.code(), Some(1), "{}", text(&at_path));
    assert_eq!(ran(&at_path), [FAIL_BYTES]);
    let (elsewhere, calls) = run(&ws, "test", &["fixtures/calc", "--last-failed"], &[]);
    assert_eq!(elsewhere.status.code(), Some(0), "{}", text(&elsewhere));
    assert!(ran(&elsewhere).is_empty(), "{}", text(&elsewhere));
    assert!(calls.is_empty(), "{calls:?}");
    assert!(
        text(&elsewhere).contains("records no failed case among the selected ones"),
        "{}",
        text(&elsewhere)
    );

    // --failed-first: the failure, then the rest.
    let (ordered, _) = run(&ws, "test", &["--failed-first", "--test-threads", "1"], &[]);
    assert_eq!(ordered.status.code(), Some(1), "{}", text(&ordered));
    let names = ran(&ordered);
    assert_eq!(
        names.first().map(String::as_str),
        Some(FAIL_BYTES),
        "{names:?}"
    );
    assert_eq!(names.len(), 12, "{names:?}");
}
