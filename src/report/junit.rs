//! `--junit PATH`: the run as a JUnit XML file (quick-junit).
//!
//! Layout, chosen to read well in GitHub's and GitLab's test views:
//! * one `<testsuite>` per profile (`os`, `sandbox`, …), named after the profile;
//! * one `<testcase>` per case: `name` is the full test name
//!   `<fixture>::<case>::<profile>` (what `--exact` and filters take), `classname` is the
//!   fixture path (GitLab groups by it), `file` is the expectations file, `time` is the
//!   runner's wall time;
//! * a failed case has `<failure message="<failed checks>" type="x07 case failed">` whose
//!   text is the full failure message (checks, diff or hex dump, trap, stderr) ending with
//!   the reproduce command;
//! * an ignored case has `<skipped message="<reason>"/>`.
//!
//! Suites and cases are sorted by name, so the file does not depend on finishing order.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{display_path, ReportError, ReportOptions};
use crate::model::{CaseResult, CaseStatus};

/// The `type` attribute of every `<failure>`.
pub const FAILURE_TYPE: &str = "x07 case failed";

/// The text of a failed case's `<failure>` element: the failure message, followed by the
/// reproduce command when the message does not already contain it.
pub fn failure_body(result: &CaseResult) -> String {
    let mut body = if result.message.trim().is_empty() {
        result.failed_checks.join("\n")
    } else {
        result.message.trim_end().to_string()
    };
    if !result.reproduce.is_empty() && !body.contains(&result.reproduce) {
        if !body.is_empty() {
            body.push_str("\n\n");
        }
        body.push_str("reproduce with:\n    ");
        body.push_str(&result.reproduce);
    }
    body.push('\n');
    body
}

/// The `message` attribute of a failed case's `<failure>`: its failed checks on one line.
pub fn failure_message(result: &CaseResult) -> String {
    super::failed_checks_text(result, "; ")
}

fn test_case(result: &CaseResult, workspace_root: &Path) -> TestCase {
    let status = match result.status {
        CaseStatus::Passed => TestCaseStatus::success(),
        CaseStatus::Failed => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(failure_message(result))
                .set_type(FAILURE_TYPE)
                .set_description(failure_body(result));
            status
        }
        CaseStatus::Ignored => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(result.ignore_reason.as_deref().unwrap_or("ignored"));
            status
        }
    };
    let mut case = TestCase::new(result.id.test_name(), status);
    case.set_classname(result.id.fixture.as_str());
    case.set_time(result.duration);
    case.extra.insert(
        "file".into(),
        display_path(&result.source_file, workspace_root).into(),
    );
    case
}

/// Builds the JUnit report of `results`, whose run took `wall_time`.
pub fn build_report(
    results: &[CaseResult],
    wall_time: Duration,
    options: &ReportOptions,
) -> Report {
    let mut by_profile: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for result in results {
        by_profile
            .entry(result.id.profile.as_str())
            .or_default()
            .push(result);
    }
    let mut report = Report::new(match &options.partition {
        Some(partition) => format!("cargo-x07 ({partition})"),
        None => "cargo-x07".to_string(),
    });
    report.set_time(wall_time);
    for (profile, mut cases) in by_profile {
        cases.sort_by(|a, b| a.id.cmp(&b.id));
        let mut suite = TestSuite::new(profile);
        suite.set_time(cases.iter().map(|result| result.duration).sum());
        suite.add_test_cases(
            cases
                .into_iter()
                .map(|result| test_case(result, &options.workspace_root)),
        );
        report.add_test_suite(suite);
    }
    report
}

/// Writes the JUnit file for `results` to `path` (creating its folder), atomically: the file
/// is written next to `path` and renamed over it.
pub fn write_junit(
    path: &Path,
    results: &[CaseResult],
    wall_time: Duration,
    options: &ReportOptions,
) -> Result<(), ReportError> {
    let error = |message: String| ReportError::Junit {
        path: path.to_path_buf(),
        message,
    };
    let xml = build_report(results, wall_time, options)
        .to_string()
        .map_err(|source| error(source.to_string()))?;
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        fs::create_dir_all(parent).map_err(|source| error(source.to_string()))?;
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    fs::write(&temporary, xml).map_err(|source| error(source.to_string()))?;
    fs::rename(&temporary, path).map_err(|source| {
        let _ = fs::remove_file(&temporary);
        error(source.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::{result, result_in};

    #[test]
    fn one_suite_per_profile_with_sorted_cases() {
        let results = vec![
            result_in("fixtures/b", "default", "sandbox", CaseStatus::Passed, 10),
            result_in("fixtures/b", "default", "os", CaseStatus::Failed, 20),
            result_in("fixtures/a", "default", "os", CaseStatus::Ignored, 0),
        ];
        let report = build_report(&results, Duration::from_secs(1), &ReportOptions::new("/ws"));
        let names: Vec<&str> = report
            .test_suites
            .iter()
            .map(|suite| suite.name.as_str())
            .collect();
        assert_eq!(names, ["os", "sandbox"]);
        let os = &report.test_suites[0];
        assert_eq!(os.test_cases[0].name.as_str(), "fixtures/a::default::os");
        assert_eq!(os.test_cases[1].name.as_str(), "fixtures/b::default::os");
        assert_eq!(
            os.test_cases[1].classname.as_ref().unwrap().as_str(),
            "fixtures/b"
        );
        assert_eq!(os.failures, 1);
        assert_eq!((os.errors, os.skipped, os.tests), (0, 1, 2));
        let xml = report.to_string().unwrap();
        assert!(xml.contains(r#"<skipped message="flaky on CI"/>"#), "{xml}");
        assert!(xml.contains(r#"file="fixtures/b/x07test.json""#), "{xml}");
    }

    #[test]
    fn failure_body_always_ends_with_the_reproduce_command() {
        let mut failed = result("fixtures/x", CaseStatus::Failed, 5);
        assert_eq!(
            failure_body(&failed),
            format!("{}\n", failed.message.trim_end())
        );
        failed.message = "exit_code: expected 0, got 3".to_string();
        let body = failure_body(&failed);
        assert!(body.starts_with("exit_code: expected 0, got 3\n\nreproduce with:\n    x07 run"));
        failed.message.clear();
        assert!(failure_body(&failed).starts_with("output: bytes differ\n\nreproduce with:"));
        assert_eq!(failure_message(&failed), "output: bytes differ");
    }
}
