//! `--junit PATH`: the run as a JUnit XML file (quick-junit).
//!
//! Layout, chosen to read well in GitHub's and GitLab's test views:
//! * one `<testsuite>` per profile (`os`, `sandbox`, …), named after the profile;
//! * one `<testcase>` per case: `name` is the full test name
//!   `<fixture>::<case>::<profile>` (what `--exact` and filters take), `classname` is the
//!   fixture path (GitLab groups by it), `file` is the expectations file, `time` is the
//!   runner's wall time;
//! * a failed case has `<failure message="<failed checks>" type="x07 case failed">` whose
//!   text is the full failure message (checks, diff or hex dump, trap, stderr, and the
//!   reproduce lines when the case ran);
//! * an ignored case has `<skipped message="<reason>"/>`.
//!
//! Suites and cases are sorted by name, so the file does not depend on finishing order.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{display_path, ReportOptions};
use crate::engine::{CaseOutcome, Event, EventSink, SinkError};
use crate::message;
use crate::model::CaseStatus;

/// The `type` attribute of every `<failure>`.
pub const FAILURE_TYPE: &str = "x07 case failed";

fn test_case(outcome: &CaseOutcome, workspace_root: &Path) -> TestCase {
    let status = match outcome.status {
        CaseStatus::Passed => TestCaseStatus::success(),
        CaseStatus::Failed => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(message::failed_checks_line(outcome, "; "))
                .set_type(FAILURE_TYPE)
                .set_description(message::failure_message(outcome));
            status
        }
        CaseStatus::Ignored => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(outcome.ignore_reason.as_deref().unwrap_or("ignored"));
            status
        }
    };
    let mut case = TestCase::new(outcome.id().test_name(), status);
    case.set_classname(outcome.id().fixture.as_str());
    case.set_time(outcome.duration);
    case.extra.insert(
        "file".into(),
        display_path(&outcome.case.source_file, workspace_root).into(),
    );
    case
}

/// Builds the JUnit report of `outcomes`, whose run took `wall_time`.
pub fn build_report(
    outcomes: &[CaseOutcome],
    wall_time: Duration,
    options: &ReportOptions,
) -> Report {
    let mut by_profile: BTreeMap<&str, Vec<&CaseOutcome>> = BTreeMap::new();
    for outcome in outcomes {
        by_profile
            .entry(outcome.id().profile.as_str())
            .or_default()
            .push(outcome);
    }
    let mut report = Report::new(match &options.partition {
        Some(partition) => format!("cargo-x07 ({partition})"),
        None => "cargo-x07".to_string(),
    });
    report.set_time(wall_time);
    for (profile, mut cases) in by_profile {
        cases.sort_by(|a, b| a.id().cmp(b.id()));
        let mut suite = TestSuite::new(profile);
        suite.set_time(cases.iter().map(|outcome| outcome.duration).sum());
        suite.add_test_cases(
            cases
                .into_iter()
                .map(|outcome| test_case(outcome, &options.workspace_root)),
        );
        report.add_test_suite(suite);
    }
    report
}

/// Writes the JUnit file for `outcomes` to `path` (creating its folder), atomically: the
/// file is written next to `path` and renamed over it.
pub fn write_junit(
    path: &Path,
    outcomes: &[CaseOutcome],
    wall_time: Duration,
    options: &ReportOptions,
) -> Result<(), SinkError> {
    let error = |message: String| {
        SinkError::Failed(format!(
            "cannot write the JUnit file `{}`: {message}",
            path.display()
        ))
    };
    let xml = build_report(outcomes, wall_time, options)
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

/// Writes the JUnit file at the end of a run.
pub struct JunitSink {
    path: PathBuf,
    options: ReportOptions,
}

impl JunitSink {
    /// A sink writing to `path`.
    pub fn new(path: &Path, options: &ReportOptions) -> JunitSink {
        JunitSink {
            path: path.to_path_buf(),
            options: options.clone(),
        }
    }
}

impl EventSink for JunitSink {
    fn handle(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        match event {
            Event::RunFinished { summary, outcomes } => {
                write_junit(&self.path, outcomes, summary.wall_time, &self.options)
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::RunnerKind;
    use crate::testing::{outcomes, write_fixture, Recorded};

    #[test]
    fn one_suite_per_profile_with_sorted_cases_and_the_real_message() {
        let dir = tempfile::tempdir().unwrap();
        write_fixture(
            dir.path(),
            "b",
            &[(
                "x07test.json",
                br#"{ "schema_version": "cargo-x07.fixture@0.1.0", "cases": [
                    { "name": "skipped", "ignore": "flaky on CI" },
                    { "name": "wrong", "expect": { "exit_code": 3 } } ] }"#,
            )],
        );
        let report = include_str!("../../tests/data/reports/ok-os-project-profile-input.json");
        let backend = Recorded::printing(RunnerKind::Embedded, report, 0, 20);
        let mut results = outcomes(dir.path(), "b", &["os"], &backend);
        // The engine reports an ignored case without running it.
        results[0] = crate::engine::CaseOutcome {
            status: CaseStatus::Ignored,
            failures: Vec::new(),
            ignore_reason: Some("flaky on CI".into()),
            output: None,
            verdict: None,
            reproduce: None,
            duration: Duration::ZERO,
            case: results[0].case.clone(),
        };
        let mut options = ReportOptions::new(dir.path());
        options.partition = Some("hash:1/2".parse().unwrap());
        let report = build_report(&results, Duration::from_secs(1), &options);
        assert_eq!(
            report.name.as_ref().map(|name| name.as_str()),
            Some("cargo-x07 (hash:1/2)")
        );
        let os = &report.test_suites[0];
        assert_eq!(os.name.as_str(), "os");
        assert_eq!(os.test_cases[0].name.as_str(), "fixtures/b::skipped::os");
        assert_eq!(os.test_cases[1].name.as_str(), "fixtures/b::wrong::os");
        assert_eq!(os.failures, 1);
        assert_eq!((os.errors, os.skipped, os.tests), (0, 1, 2));
        let xml = report.to_string().unwrap();
        assert!(xml.contains(r#"<skipped message="flaky on CI"/>"#), "{xml}");
        assert!(xml.contains(r#"file="fixtures/b/x07test.json""#), "{xml}");
        assert!(
            xml.contains(r#"message="exit_code: expected 3, got 0""#),
            "{xml}"
        );
        assert!(xml.contains("reproduce with:\n  cargo x07 run "), "{xml}");
    }
}
