//! Results built like the engine builds them, for the CI-output tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use cargo_x07::message::output_diff;
use cargo_x07::model::{CaseId, CaseResult, CaseStatus};

/// The workspace root the results pretend to come from.
pub const ROOT: &str = "/workspace";

/// A passing case `<fixture>::<case>::<profile>`.
pub fn passed(fixture: &str, case: &str, profile: &str, millis: u64) -> CaseResult {
    base(fixture, case, profile, CaseStatus::Passed, millis)
}

/// An ignored case.
pub fn ignored(fixture: &str, case: &str, profile: &str, reason: &str) -> CaseResult {
    let mut result = base(fixture, case, profile, CaseStatus::Ignored, 0);
    result.ignore_reason = Some(reason.to_string());
    result
}

/// A case whose output differed: its message holds the engine's diff and the reproduce line.
pub fn output_mismatch(
    fixture: &str,
    case: &str,
    profile: &str,
    expected: &str,
    actual: &str,
) -> CaseResult {
    let mut result = base(fixture, case, profile, CaseStatus::Failed, 25);
    result.failed_checks = vec![format!(
        "output: expected {} bytes, got {} bytes",
        expected.len(),
        actual.len()
    )];
    result.message = format!(
        "{name} failed ({file})\nfailed checks:\n  - {check}\noutput (- expected, + actual):\n{diff}reproduce with the real x07:\n  {reproduce}\n",
        name = result.id.test_name(),
        file = result.source_file.display(),
        check = result.failed_checks[0],
        diff = output_diff(expected.as_bytes(), actual.as_bytes()),
        reproduce = result.reproduce,
    );
    result
}

fn base(fixture: &str, case: &str, profile: &str, status: CaseStatus, millis: u64) -> CaseResult {
    CaseResult {
        id: CaseId {
            fixture: fixture.to_string(),
            case: case.to_string(),
            profile: profile.to_string(),
        },
        status,
        duration: Duration::from_millis(millis),
        failed_checks: Vec::new(),
        message: String::new(),
        reproduce: format!(
            "x07 run --project {fixture}/x07.json --profile {profile} --repair=off --input-b64 aGk="
        ),
        source_file: Path::new(ROOT).join(fixture).join("x07test.json"),
        ignore_reason: None,
    }
}

/// A temporary folder that is removed at the end of the test.
pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary folder")
}

/// `ROOT` as a path.
pub fn root() -> PathBuf {
    PathBuf::from(ROOT)
}
