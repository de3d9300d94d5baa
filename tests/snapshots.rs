//! The failure messages the engine really produces, one snapshot per kind of failure
//! (`tests/snapshots/`): each case is a fixture written to disk, planned by the planner,
//! executed by the engine with a recorded runner output, checked by the checker and
//! worded by `message.rs` — the text every output (libtest lines, JSON events, JUnit,
//! GitHub) shows. Review a changed snapshot like code: it is what users read.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cargo_x07::backend::{Backend, RunnerKind};
use cargo_x07::engine::{self, CaseOutcome};
use cargo_x07::failure::{CopyFailure, RunnerFailure};
use cargo_x07::message;
use cargo_x07::run::RunOutput;
use cargo_x07::testing::{self, Recorded};
use serde_json::{json, Value};

/// A workspace root of its own, under the target directory (so paths in messages are
/// relative to the current directory) and removed at the end.
struct Root(PathBuf);

impl Root {
    fn new(name: &str) -> Root {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("snapshots-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        Root(root)
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Takes the machine out of a message: the scratch root, the cargo-x07 target path.
fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.add_filter(r"target/tmp/snapshots-\d+-[a-z0-9-]+/", "");
    settings.add_filter(r"target/tmp/snapshots-\d+-[a-z0-9-]+", "[WORKSPACE]");
    settings
}

/// The outcome of the first case of `fixtures/<name>` (profile `profile`) with
/// `x07test.json` = `expectations` (or none) and `backend`.
fn outcome(
    name: &str,
    profile: &str,
    expectations: Option<Value>,
    extra: &[(&str, &[u8])],
    backend: &dyn Backend,
) -> (Root, CaseOutcome) {
    let root = Root::new(name);
    let text = expectations.map(|value| value.to_string());
    let mut files: Vec<(&str, &[u8])> = extra.to_vec();
    if let Some(text) = &text {
        files.push(("x07test.json", text.as_bytes()));
    }
    testing::write_fixture(&root.0, name, &files);
    let outcome = testing::outcomes(&root.0, name, &[profile], backend)
        .into_iter()
        .next()
        .expect("one case");
    (root, outcome)
}

fn expect(value: Value) -> Option<Value> {
    let mut file = json!({ "schema_version": "cargo-x07.fixture@0.1.0" });
    file["expect"] = value;
    Some(file)
}

fn printing(report: &str, code: i32) -> Recorded {
    Recorded::printing(RunnerKind::Embedded, report, code, 7)
}

fn os_report(output: &[u8]) -> String {
    testing::report("run-os", output, None)
}

fn edited(report: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut value: Value = serde_json::from_str(report).unwrap();
    edit(&mut value);
    serde_json::to_string_pretty(&value).unwrap()
}

fn snapshot(name: &str, outcome: &CaseOutcome) {
    assert_eq!(
        outcome.status,
        cargo_x07::model::CaseStatus::Failed,
        "{name}: the case should fail"
    );
    let text = format!(
        "{}\n--- failed checks ---\n{}\n",
        message::failure_message(outcome),
        message::failed_checks(outcome).join("\n")
    );
    settings().bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn output_differences() {
    let report = os_report(b"hello, x07\n");
    let (_root, text) = outcome(
        "text",
        "os",
        expect(json!({ "output": { "text": "hello, x08\n" } })),
        &[],
        &printing(&report, 0),
    );
    snapshot("output_text_diff", &text);

    let (_root, binary) = outcome(
        "binary",
        "os",
        expect(json!({ "output": { "b64": "AP9BAQ==" } })),
        &[],
        &printing(&os_report(&[0, 0xfe, 0x41, 1]), 0),
    );
    snapshot("output_hex_view", &binary);

    let (_root, control) = outcome(
        "control",
        "os",
        expect(json!({ "output": { "text": "x\u{1}" } })),
        &[],
        &printing(&os_report(b"x\0"), 0),
    );
    snapshot("output_control_bytes", &control);

    let expected: String = (0..300).map(|n| format!("line {n}\n")).collect();
    let actual = expected.replace("line 150\n", "line 150 changed\n") + "extra\n";
    let (_root, long) = outcome(
        "long",
        "os",
        expect(json!({ "output": { "file": "expected.txt" } })),
        &[("expected.txt", expected.as_bytes())],
        &printing(&os_report(actual.as_bytes()), 0),
    );
    snapshot("output_window", &long);
}

#[test]
fn report_field_checks() {
    let trap = testing::report("run-os", b"", Some("fuel exhausted"));
    let (_root, unexpected_trap) = outcome("trap", "os", None, &[], &printing(&trap, 1));
    snapshot("unexpected_trap", &unexpected_trap);

    let (_root, wrong_trap) = outcome(
        "wrongtrap",
        "os",
        expect(
            json!({ "trap": { "regex": "^out of memory$" }, "exit_status": 9, "solve_stderr": { "contains": "memory" } }),
        ),
        &[],
        &printing(&trap, 1),
    );
    snapshot("trap_pattern_exit_status_solve_stderr", &wrong_trap);

    let compile_error = edited(&os_report(b""), |report| {
        report["exit_code"] = json!(1);
        report["compile"]["ok"] = json!(false);
        report["compile"]["exit_status"] = json!(1);
        report["compile"]["compile_error"] = json!("unknown module: std.nope");
        report["solve"] = Value::Null;
    });
    let (_root, compile) = outcome(
        "compile",
        "os",
        expect(json!({ "output": { "text": "x" } })),
        &[],
        &printing(&compile_error, 1),
    );
    snapshot("unexpected_compile_error", &compile);

    let (_root, labels) = outcome(
        "labels",
        "os",
        expect(
            json!({ "schema_version": "x07-os-runner.report@0.4.0", "mode": "compile-run", "world": "run-os-sandboxed", "stderr": "quiet" }),
        ),
        &[],
        &printing(&os_report(b""), 0),
    );
    snapshot("schema_version_mode_world_stderr", &labels);

    let (_root, process) = outcome("process", "os", None, &[], &printing(&os_report(b""), 3));
    snapshot("process_exit_differs", &process);
}

#[test]
fn runner_failures() {
    let (_root, empty) = outcome("empty", "os", None, &[], &printing("", 2));
    snapshot("no_report_empty_stdout", &empty);

    let garbage = Recorded::new(RunnerKind::X07, |_| {
        Ok(RunOutput {
            exit_code: None,
            signal: Some(9),
            stdout: b"not a report\n".to_vec(),
            stderr: b"runner: \x1b[31mboom\x1b[0m\n".to_vec(),
            duration: Duration::from_millis(3),
            ..RunOutput::default()
        })
    });
    let (_root, not_json) = outcome("garbage", "os", None, &[], &garbage);
    snapshot("no_report_not_json_killed", &not_json);

    let timeout = Recorded::new(RunnerKind::Embedded, |_| {
        Ok(RunOutput {
            timed_out: true,
            duration: Duration::from_millis(500),
            ..RunOutput::default()
        })
    });
    let (_root, timed_out) = outcome(
        "slow",
        "os",
        Some(json!({ "schema_version": "cargo-x07.fixture@0.1.0", "timeout_ms": 500 })),
        &[],
        &timeout,
    );
    snapshot("timeout", &timed_out);

    let schema = edited(&os_report(b""), |report| {
        report["solve"]["unexpected"] = json!(1);
        report["exit_code"] = json!(-1);
    });
    let (_root, invalid) = outcome("schema", "os", None, &[], &printing(&schema, 0));
    snapshot("report_schema", &invalid);

    let shape = edited(&os_report(b""), |report| {
        report["solve"]["ok"] = json!("yes");
    });
    let (_root, shaped) = outcome("shape", "os", None, &[], &printing(&shape, 0));
    snapshot("report_shape", &shaped);

    let copy = Recorded::new(RunnerKind::Embedded, |case| {
        Err(RunnerFailure::Copy {
            path: case.fixture_dir.join("pipe"),
            reason: CopyFailure::NotAFile,
        })
    });
    let (_root, not_copied) = outcome("copy", "os", None, &[], &copy);
    snapshot("runner_copy", &not_copied);

    let spawn = Recorded::new(RunnerKind::X07, |_| {
        Err(RunnerFailure::Spawn {
            program: PathBuf::from("/opt/x07/bin/x07"),
            error: Arc::new(std::io::Error::from(std::io::ErrorKind::PermissionDenied)),
        })
    });
    let (_root, not_started) = outcome("spawn", "os", None, &[], &spawn);
    snapshot("runner_spawn", &not_started);
}

#[test]
fn problems_found_before_any_run() {
    let unused = printing(&os_report(b""), 0);
    let (_root, malformed) = outcome(
        "malformed",
        "os",
        None,
        &[("x07test.json", b"{ \"schema_version\": ")],
        &unused,
    );
    snapshot("fixture_malformed_json", &malformed);

    let (_root, schema) = outcome(
        "schema",
        "os",
        Some(
            json!({ "schema_version": "cargo-x07.fixture@0.1.0", "cases": [{ "name": "bad name!" }, { "name": "ok", "expect": { "exitcode": 1 } }] }),
        ),
        &[],
        &unused,
    );
    snapshot("fixture_schema", &schema);

    let (_root, missing) = outcome(
        "missing",
        "os",
        Some(
            json!({ "schema_version": "cargo-x07.fixture@0.1.0", "cases": [{ "name": "c", "input": { "file": "in.bin" }, "expect": { "output": { "file": "out.bin" } } }] }),
        ),
        &[],
        &unused,
    );
    snapshot("fixture_missing_files", &missing);

    let (_root, regex) = outcome(
        "regex",
        "os",
        expect(json!({ "trap": { "regex": "(" } })),
        &[],
        &unused,
    );
    snapshot("fixture_invalid_regex", &regex);

    let policy = edited(
        x07_lite::templates::template_json("cli").unwrap(),
        |policy| {
            policy["fs"]["enabledd"] = json!(true);
            policy["limits"]["cpu_ms"] = json!("lots");
        },
    );
    let (_root, invalid_policy) = outcome(
        "policy",
        "sandbox",
        None,
        &[("policy.json", policy.as_bytes())],
        &unused,
    );
    snapshot("fixture_invalid_policy", &invalid_policy);

    let (_root, undeclared) = outcome(
        "undeclared",
        "os",
        Some(json!({ "schema_version": "cargo-x07.fixture@0.1.0", "profiles": ["os", "gpu"] })),
        &[],
        &unused,
    );
    snapshot("fixture_undeclared_profile", &undeclared);

    let root = Root::new("outside");
    let dir = testing::write_fixture(
        &root.0,
        "outside",
        &[(
            "x07test.json",
            br#"{ "schema_version": "cargo-x07.fixture@0.1.0", "expect": { "output": { "file": "secret.txt" } } }"#,
        )],
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/hostname", dir.join("secret.txt")).unwrap();
    let outside = testing::outcomes(&root.0, "outside", &["os"], &unused).remove(0);
    snapshot("fixture_file_outside_the_workspace", &outside);

    let gone = Root::new("unreadable");
    let workspace = testing::workspace(&gone.0, &["os"]);
    let location = cargo_x07::discover::FixtureLocation {
        path: gone.0.join("fixtures/locked"),
        name: "fixtures/locked".into(),
        kind: cargo_x07::discover::FixtureKind::Unreadable(Arc::new(std::io::Error::from(
            std::io::ErrorKind::PermissionDenied,
        ))),
        package: 0,
    };
    let case = cargo_x07::plan::plan_fixture(&workspace, &location).remove(0);
    snapshot(
        "unreadable_directory",
        &engine::execute_case(&case, &unused),
    );
}

#[test]
fn the_reproduce_lines_name_the_runner() {
    let report = os_report(b"A");
    let fixture = expect(json!({ "output": { "text": "B" } }));
    let (_root, embedded) = outcome(
        "embedded",
        "os",
        fixture.clone(),
        &[],
        &printing(&report, 0),
    );
    snapshot("reproduce_embedded", &embedded);
    let (_root, real) = outcome(
        "real",
        "os",
        fixture,
        &[],
        &Recorded::printing(RunnerKind::X07, &report, 0, 7),
    );
    snapshot("reproduce_real_x07", &real);
    assert!(Path::new(env!("CARGO_TARGET_TMPDIR")).is_dir());
}

/// The sandbox case of `fixtures/<name>` after the profile differential, with `backend`
/// answering both profiles.
fn differential_outcome(
    name: &str,
    expectations: Option<Value>,
    backend: &dyn Backend,
) -> (Root, CaseOutcome) {
    let root = Root::new(name);
    let text = expectations.map(|value| value.to_string());
    let mut files: Vec<(&str, &[u8])> = Vec::new();
    if let Some(text) = &text {
        files.push(("x07test.json", text.as_bytes()));
    }
    testing::write_fixture(&root.0, name, &files);
    let cases = testing::plan(&root.0, name, &["os", "sandbox"]);
    let selected: Vec<engine::SelectedCase> = cases
        .iter()
        .map(|case| engine::SelectedCase {
            case: case.clone(),
            ignored: None,
        })
        .collect();
    let companions = cargo_x07::differential::companions(&selected, &cases);
    let sandbox = cases
        .iter()
        .find(|case| case.id.profile == "sandbox")
        .expect("a sandbox case");
    let mut outcome = engine::execute_case(sandbox, backend);
    cargo_x07::differential::apply(&companions[&sandbox.id], &mut outcome, backend);
    (root, outcome)
}

/// A backend answering each profile with its own report.
fn by_profile(os: String, sandbox: String, code: i32) -> Recorded {
    Recorded::new(RunnerKind::Embedded, move |case| {
        let stdout = if case.id.profile == "sandbox" {
            &sandbox
        } else {
            &os
        };
        Ok(RunOutput {
            exit_code: Some(if stdout.is_empty() { 2 } else { code }),
            stdout: stdout.as_bytes().to_vec(),
            duration: Duration::from_millis(7),
            ..RunOutput::default()
        })
    })
}

#[test]
fn differential_findings() {
    let trap = "os.fs.read_file open failed path=missing.txt";
    let (_root, not_evidence) = differential_outcome(
        "denial",
        Some(json!({
            "schema_version": "cargo-x07.fixture@0.1.0",
            "profiles": ["sandbox"],
            "cases": [{ "name": "missing", "input": { "text": "missing.txt" },
                        "expect": { "trap": { "contains": "os.fs.read_file" } } }]
        })),
        &by_profile(
            testing::report("run-os", b"", Some(trap)),
            testing::report(
                "run-os-sandboxed",
                b"",
                Some("os.fs.read_file open failed path=./missing.txt"),
            ),
            1,
        ),
    );
    snapshot("differential_not_evidence", &not_evidence);

    let (_root, differ) = differential_outcome(
        "world",
        None,
        &by_profile(
            testing::report("run-os", b"v=run-os", None),
            testing::report("run-os-sandboxed", b"v=run-os-sandboxed", None),
            0,
        ),
    );
    snapshot("differential_outcomes_differ", &differ);

    let (_root, no_report) = differential_outcome(
        "silent",
        None,
        &by_profile(
            String::new(),
            testing::report("run-os-sandboxed", b"x", None),
            0,
        ),
    );
    snapshot("differential_os_run_failed", &no_report);
}
