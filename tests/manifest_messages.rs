//! The failure messages of manifest cases (`x07 test`), one snapshot per kind
//! (`tests/snapshots/manifest_*.snap`): each case is an entry of the recorded probe
//! manifest, planned by the planner, executed by the engine with the real toolchain's
//! recorded `x07 test` output (exit code and stdout from `tests/data/x07-test/`), checked
//! by the manifest checker and worded by `message.rs`. Review a changed snapshot like
//! code: it is what users read.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use cargo_x07::backend::RunnerKind;
use cargo_x07::discover::{FixtureKind, FixtureLocation};
use cargo_x07::engine::{self, CaseOutcome};
use cargo_x07::message;
use cargo_x07::model::CaseStatus;
use cargo_x07::plan::{plan_fixture, PlannedCase};
use cargo_x07::run::RunOutput;
use cargo_x07::testing::{self, Recorded};

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/x07-test")
}

/// A copy of the probe manifests under the target directory (so paths in messages are
/// relative to the current directory), removed at the end.
struct Root(PathBuf);

impl Root {
    fn new(name: &str) -> Root {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("manifest-messages-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for set in ["basic", "pbt"] {
            common::copy_tree(
                &data().join("probes").join(set).join("tests"),
                &root.join(set),
            );
        }
        Root(root)
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.add_filter(r"target/tmp/manifest-messages-\d+-[a-z0-9-]+/", "");
    settings
}

/// The planned case of test `id` in `manifest` (relative to the root).
fn planned(root: &Root, manifest: &str, id: &str) -> PlannedCase {
    let workspace = testing::workspace(&root.0, &["os", "sandbox"]);
    let location = FixtureLocation {
        path: root.0.join(manifest),
        name: cargo_x07::run::path_from_cwd(&root.0.join(manifest))
            .display()
            .to_string(),
        kind: FixtureKind::TestManifest,
        package: 0,
    };
    plan_fixture(&workspace, &location)
        .into_iter()
        .find(|case| case.id.case == cargo_x07::manifest::name::encode_id(id))
        .unwrap_or_else(|| panic!("no test {id} in {manifest}"))
}

/// A backend whose `x07 test` printed this recorded report (and stderr) and exited `code`.
fn recorded(report: &str, stderr: &str, code: i32) -> Recorded {
    let stdout = if report.is_empty() {
        Vec::new()
    } else {
        std::fs::read(data().join("reports").join(report)).unwrap()
    };
    let stderr = stderr.as_bytes().to_vec();
    Recorded::new(RunnerKind::X07, move |_| {
        Ok(RunOutput {
            exit_code: Some(code),
            stdout: stdout.clone(),
            stderr: stderr.clone(),
            duration: Duration::from_millis(7),
            ..RunOutput::default()
        })
    })
}

fn snapshot(name: &str, outcome: &CaseOutcome) {
    assert_eq!(
        outcome.status,
        CaseStatus::Failed,
        "{name}: the case should fail"
    );
    let text = format!(
        "{}\n--- failed checks ---\n{}\n",
        message::failure_message(outcome),
        message::failed_checks(outcome).join("\n")
    );
    settings().bind(|| insta::assert_snapshot!(name, text));
}

fn run(root: &Root, manifest: &str, id: &str, backend: &Recorded) -> CaseOutcome {
    engine::execute_case(&planned(root, manifest, id), backend)
}

#[test]
fn status_failures() {
    let root = Root::new("status");
    let basic = "basic/tests.json";
    for (name, id, report, code) in [
        (
            "manifest_assert_bytes_eq",
            "c/fail_bytes",
            "basic.one-fail-bytes.json",
            10,
        ),
        (
            "manifest_assert_i32_eq",
            "b/fail_i32",
            "basic.one-fail-i32.json",
            10,
        ),
        ("manifest_trap", "e/trap_oob", "basic.one-trap.json", 12),
        (
            "manifest_compile_error",
            "n/wrong_returns",
            "basic.one-compile-error.json",
            11,
        ),
        ("manifest_xpass", "i/xpass", "basic.one-xpass.json", 10),
        (
            "manifest_contract_violation",
            "p/contract_violation",
            "basic.one-contract-violation.json",
            12,
        ),
        (
            "manifest_bad_status_bytes",
            "l/status_bad",
            "basic.one-bad-status-bytes.json",
            10,
        ),
    ] {
        snapshot(name, &run(&root, basic, id, &recorded(report, "", code)));
    }
    snapshot(
        "manifest_pbt_counterexample",
        &run(
            &root,
            "pbt/tests.json",
            "pbt/short_bytes",
            &recorded("pbt.all.json", "", 10),
        ),
    );
}

#[test]
fn call_failures() {
    let root = Root::new("call");
    let basic = "basic/tests.json";
    let refused =
        std::fs::read_to_string(data().join("reports/basic.manifest-unknown-entry.stderr.txt"))
            .unwrap();
    snapshot(
        "manifest_refused_by_x07",
        &run(
            &root,
            basic,
            "a/pass",
            &recorded("basic.manifest-unknown-entry.json", &refused, 12),
        ),
    );
    // The report says the test passed, the exit code says otherwise.
    snapshot(
        "manifest_exit_code_disagrees",
        &run(
            &root,
            basic,
            "a/pass",
            &recorded("basic.filter-exact-pass.json", "", 11),
        ),
    );
    snapshot(
        "manifest_no_report",
        &run(
            &root,
            basic,
            "a/pass",
            &recorded(
                "",
                "error: unexpected argument '--all' found\n\nUsage: x07 test [OPTIONS]\n",
                2,
            ),
        ),
    );
    snapshot(
        "manifest_other_test_reported",
        &run(
            &root,
            basic,
            "a/pass",
            &recorded("basic.one-fail-i32.json", "", 10),
        ),
    );
}

#[test]
fn broken_manifests() {
    let root = Root::new("broken");
    snapshot(
        "manifest_broken_entry",
        &run(&root, "basic/more-errors.json", "q3", &recorded("", "", 0)),
    );
    let workspace = testing::workspace(&root.0, &["os"]);
    let location = FixtureLocation {
        path: root.0.join("basic/bad-json.json"),
        name: cargo_x07::run::path_from_cwd(&root.0.join("basic/bad-json.json"))
            .display()
            .to_string(),
        kind: FixtureKind::TestManifest,
        package: 0,
    };
    let cases = plan_fixture(&workspace, &location);
    assert_eq!(cases.len(), 1);
    snapshot(
        "manifest_unreadable",
        &engine::execute_case(&cases[0], &recorded("", "", 0)),
    );
}
