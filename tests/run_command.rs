//! `cargo x07 run TARGET` as a person uses it, with the embedded runner: TARGET is a test
//! name as `cargo x07 test` prints it, a path (fixture directory, `x07.json`, a directory
//! of fixtures) or a filter; each case is shown as a short summary (command, exit code,
//! decoded output as text or hex, trap / compile error, verdict); the report only with
//! `--report`, JSON with `--json`.

mod common;

use common::*;

const ECHO: &str = r#"{"decls":[],"imports":[],"kind":"entry","module_id":"main","schema_version":"x07.x07ast@0.8.0","solve":["view.to_bytes","input"]}"#;
const OOB: &str = r#"{"decls":[],"imports":[],"kind":"entry","module_id":"main","schema_version":"x07.x07ast@0.8.0","solve":["begin",["let","b",["bytes.lit","ab"]],["let","x",["bytes.get_u8","b",5]],["bytes.lit","unreachable"]]}"#;
const TYPE_ERROR: &str = r#"{"decls":[],"imports":[],"kind":"entry","module_id":"main","schema_version":"x07.x07ast@0.8.0","solve":["+",1,2]}"#;

fn program_fixture(ws: &Workspace, name: &str, program: &str, expectations: &str) {
    ws.fixture(
        name,
        &[
            ("x07.json", &project_manifest()),
            ("main.x07.json", program),
            (
                "policy.json",
                include_str!("data/workspaces/hello/policy.json"),
            ),
            ("x07test.json", expectations),
        ],
    );
}

fn workspace() -> Workspace {
    let ws = Workspace::new("");
    program_fixture(
        &ws,
        "fixtures/echo",
        ECHO,
        r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "cases": [
             { "name": "text", "input": { "text": "hi" }, "expect": { "output": { "text": "hi" } } },
             { "name": "lines", "input": { "text": "a\nb\n" }, "expect": { "output": { "text": "a\nb\n" } } },
             { "name": "bin", "input": { "b64": "AP8K" }, "expect": { "output": { "b64": "AP8K" } } },
             { "name": "wrong", "input": { "text": "actual" }, "expect": { "output": { "text": "expected" } } } ] }"#,
    );
    program_fixture(
        &ws,
        "fixtures/trapper",
        OOB,
        r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "cases": [
             { "name": "oob", "expect": { "trap": { "contains": "oob" } } } ] }"#,
    );
    program_fixture(
        &ws,
        "fixtures/broken",
        TYPE_ERROR,
        r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "profiles": ["os"],
             "expect": { "compile_error": { "contains": "solve expression must evaluate to bytes" } } }"#,
    );
    ws
}

fn run(ws: &Workspace, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--backend", "embedded"]);
    let output = ws.command(&all).output().unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn a_test_name_runs_that_case_and_shows_a_summary() {
    let ws = workspace();
    let (code, stdout, stderr) = run(&ws, &["fixtures/echo::text::os"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let summary = stdout.split_once("\n\n").unwrap().1;
    assert_eq!(
        summary.trim_end().lines().map(str::to_string).collect::<Vec<_>>()[..4],
        [
            "== fixtures/echo::text::os",
            "command: x07 run --project fixtures/echo/x07.json --profile os --repair=off --input-b64 aGk=",
            "exit code: 0",
            "output (2 bytes, text): hi",
        ]
    );
    assert!(summary.contains("\nverdict: pass ("), "{summary}");
    // One case, no report, no base64.
    assert_eq!(stdout.matches("== ").count(), 1, "{stdout}");
    assert!(!stdout.contains("solve_output_b64"), "{stdout}");

    // fixture::case runs every profile of the case; from a subdirectory the name is still
    // relative to the workspace root, as `cargo x07 test` prints it.
    let output = ws
        .command(&["run", "fixtures/echo::lines", "--backend", "embedded"])
        .current_dir(ws.root().join("fixtures"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("== fixtures/echo::lines::os\n"), "{stdout}");
    assert!(
        stdout.contains("== fixtures/echo::lines::sandbox\n"),
        "{stdout}"
    );
    // Multi-line text is shown indented.
    assert!(
        stdout.contains("output (4 bytes, text):\n  a\n  b\n"),
        "{stdout}"
    );
    assert!(stdout.contains("2 passed; 0 failed; 0 ignored"), "{stdout}");
}

#[test]
fn binary_output_is_hex_and_traps_and_compile_errors_are_shown() {
    let ws = workspace();
    let (code, stdout, _) = run(
        &ws,
        &[
            "fixtures/echo/x07.json",
            "--case",
            "bin",
            "--profile",
            "sandbox",
        ],
    );
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("== fixtures/echo::bin::sandbox\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("output (3 bytes, hex): 00 ff 0a\n"),
        "{stdout}"
    );

    let (code, stdout, _) = run(&ws, &["fixtures/trapper::oob::os"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("exit code: 1\noutput: (empty)\ntrap: "),
        "{stdout}"
    );
    assert!(stdout.contains("oob"), "{stdout}");

    let (code, stdout, _) = run(&ws, &["fixtures/broken"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("output: none (the program did not run)\ncompile error:\n  "),
        "{stdout}"
    );
    assert!(
        stdout.contains("solve expression must evaluate to bytes"),
        "{stdout}"
    );
}

#[test]
fn a_failing_case_shows_its_failed_checks_and_diff_and_exits_1() {
    let ws = workspace();
    let (code, stdout, _) = run(&ws, &["fixtures/echo::wrong::os"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("output (6 bytes, text): actual\n"),
        "{stdout}"
    );
    assert!(stdout.contains("verdict: FAIL ("), "{stdout}");
    assert!(
        stdout.contains("fixture file: fixtures/echo/x07test.json"),
        "{stdout}"
    );
    assert!(stdout.contains("failed checks:\n  - output: "), "{stdout}");
    assert!(stdout.contains("  -expected\n  +actual\n"), "{stdout}");
}

#[test]
fn a_filter_or_a_directory_runs_every_matching_case() {
    let ws = workspace();
    // A filter: a part of test names.
    let (code, stdout, _) = run(&ws, &["oob"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(
        stdout.matches("== fixtures/trapper::oob::").count(),
        2,
        "{stdout}"
    );
    // A filter may hold `::` too.
    let (code, stdout, _) = run(&ws, &["::sandbox"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("== fixtures/trapper::oob::sandbox\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("::os\n"), "{stdout}");
    let (code, stdout, _) = run(&ws, &["echo::text"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(
        stdout.matches("== fixtures/echo::text::").count(),
        2,
        "{stdout}"
    );
    // A directory of fixtures.
    let (code, stdout, _) = run(&ws, &["fixtures", "--case", "text"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(stdout.matches("== ").count(), 2, "{stdout}");
}

#[test]
fn report_and_json_formats() {
    let ws = workspace();
    let (code, stdout, _) = run(&ws, &["fixtures/echo::text::os", "--report"]);
    assert_eq!(code, Some(0));
    let report = stdout.split_once("report:\n").unwrap().1;
    let report: serde_json::Value = serde_json::Deserializer::from_str(report)
        .into_iter()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(report["solve"]["solve_output_b64"], "aGk=");

    let (code, stdout, stderr) = run(&ws, &["fixtures/echo::text", "--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.starts_with("runner: embedded"), "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    for line in &lines {
        assert_eq!(line["schema_version"], "cargo-x07.run@0.1.0");
        assert_eq!(line["status"], "passed");
        assert_eq!(line["report"]["solve"]["solve_output_b64"], "aGk=");
        assert!(line["command"]
            .as_str()
            .unwrap()
            .starts_with("x07 run --project fixtures/echo/x07.json"));
        assert_eq!(line["failed_checks"], serde_json::json!([]));
        assert!(line["message"].is_null());
    }
    assert_eq!(lines[0]["name"], "fixtures/echo::text::os");
    let (code, stdout, _) = run(&ws, &["fixtures/echo::wrong::os", "--json"]);
    assert_eq!(code, Some(1));
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(line["status"], "failed");
    assert!(line["failed_checks"][0]
        .as_str()
        .unwrap()
        .starts_with("output: "));
    assert!(line["message"].as_str().unwrap().contains("-expected"));
}

#[test]
fn targets_that_select_nothing_are_usage_errors() {
    let ws = workspace();
    let (code, _, stderr) = run(&ws, &["fixtures/nope::a::os"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("error: no fixture fixtures/nope (from the test name fixtures/nope::a::os): fixtures/nope does not exist"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&ws, &["fixtures/echo::nope::os"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("no case of fixtures/echo matches --case nope --profile os; its cases: text, lines, bin, wrong; its profiles: os, sandbox"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&ws, &["zzz"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("zzz is no fixture path, no test name"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&ws, &["src"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("src holds no fixture"), "{stderr}");
}
