//! Real case outcomes for the CI-output tests: each is a fixture written under one
//! workspace root, planned, executed by the engine with a recorded runner output, and
//! checked — so the messages are the ones a real run prints.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use cargo_x07::backend::RunnerKind;
use cargo_x07::engine::CaseOutcome;
use cargo_x07::testing::{self, Recorded};

/// The workspace root every outcome of this test binary comes from.
pub fn root() -> PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("ci-support-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("the workspace root");
        root
    })
    .clone()
}

fn fixture_name(fixture: &str) -> &str {
    fixture.strip_prefix("fixtures/").unwrap_or(fixture)
}

/// The outcome of `<fixture>::<case>::<profile>` whose runner printed `output` (after
/// `millis`) against the expected output `expected`.
fn outcome(
    fixture: &str,
    case: &str,
    profile: &str,
    expected: &str,
    output: &str,
    millis: u64,
) -> CaseOutcome {
    let root = root();
    let name = fixture_name(fixture);
    let expectations = serde_json::json!({
        "schema_version": "cargo-x07.fixture@0.1.0",
        "profiles": [profile],
        "cases": [{ "name": case, "input": { "text": "hi" }, "expect": { "output": { "text": expected } } }]
    });
    testing::write_fixture(
        &root,
        name,
        &[("x07test.json", expectations.to_string().as_bytes())],
    );
    let report = testing::report(testing::world_of(profile), output.as_bytes(), None);
    let backend = Recorded::printing(RunnerKind::X07, &report, 0, millis);
    testing::outcomes(&root, name, &[profile], &backend)
        .into_iter()
        .find(|outcome| outcome.id().case == case)
        .expect("the case was planned")
}

/// A passing case `<fixture>::<case>::<profile>` whose runner took `millis`.
pub fn passed(fixture: &str, case: &str, profile: &str, millis: u64) -> CaseOutcome {
    outcome(fixture, case, profile, "ok", "ok", millis)
}

/// An ignored case.
pub fn ignored(fixture: &str, case: &str, profile: &str, reason: &str) -> CaseOutcome {
    let planned = outcome(fixture, case, profile, "ok", "ok", 0);
    CaseOutcome::ignored(&planned.case, reason.to_string())
}

/// A case whose output differed.
pub fn output_mismatch(
    fixture: &str,
    case: &str,
    profile: &str,
    expected: &str,
    actual: &str,
) -> CaseOutcome {
    outcome(fixture, case, profile, expected, actual, 25)
}

/// A temporary folder that is removed at the end of the test.
pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary folder")
}
