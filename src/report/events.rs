//! `--message-format json`: one JSON object per line on standard output.
//!
//! A run prints a `started` event, one `case` event per case as it finishes (in finishing
//! order, from many threads), and a final `summary` event. Every event carries
//! `schema_version` ([`EVENTS_SCHEMA_VERSION`]); the fields are documented in `docs/ci.md`.
//! Fields are only ever added within a schema version, never renamed or removed.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::progress::ProgressHandle;
use super::ReportOptions;
use crate::engine::{CaseOutcome, Event, EventSink, RunSummary, SinkError};
use crate::message;
use crate::model::CaseStatus;
use crate::partition::Partition;

/// The `schema_version` of every event.
pub const EVENTS_SCHEMA_VERSION: &str = "cargo-x07.events@0.1.0";

/// A case's status as written in events: `passed`, `failed` or `ignored`.
pub fn status_name(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::Passed => "passed",
        CaseStatus::Failed => "failed",
        CaseStatus::Ignored => "ignored",
    }
}

/// The first event: how many cases will run.
#[derive(Debug, Serialize)]
pub struct StartedEvent<'a> {
    /// Always [`EVENTS_SCHEMA_VERSION`].
    pub schema_version: &'static str,
    /// Always `started`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Number of cases selected (after filters and `--partition`).
    pub case_count: usize,
    /// The `--partition` value, or null.
    pub partition: Option<&'a str>,
}

/// One finished case.
#[derive(Debug, Serialize)]
pub struct CaseEvent<'a> {
    /// Always [`EVENTS_SCHEMA_VERSION`].
    pub schema_version: &'static str,
    /// Always `case`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The test name `<fixture>::<case>::<profile>`.
    pub name: String,
    /// Fixture path relative to the workspace root.
    pub fixture: &'a str,
    /// Case name.
    pub case: &'a str,
    /// Profile name.
    pub profile: &'a str,
    /// `passed`, `failed` or `ignored`.
    pub status: &'static str,
    /// Runner wall time in whole milliseconds (0 for ignored cases).
    pub duration_ms: u64,
    /// One line per failed check (empty unless failed).
    pub failed_checks: Vec<String>,
    /// The command line that reproduces the case with the runner that ran it (for the
    /// embedded runner a `cargo x07 run …` line); empty when the case failed before any
    /// run (a problem in its fixture files) or was ignored.
    pub reproduce: String,
    /// The `x07 run …` line for the real toolchain; empty like `reproduce`.
    pub reproduce_x07: String,
    /// The file to edit to change this case's expectations, relative to the workspace root.
    pub source_file: String,
    /// The full failure text (null unless failed).
    pub message: Option<String>,
    /// Why the case is ignored (null unless ignored).
    pub ignore_reason: Option<&'a str>,
}

/// One entry of the summary's `slowest` list.
#[derive(Debug, Serialize)]
pub struct SlowCase {
    /// The test name.
    pub name: String,
    /// Runner wall time in whole milliseconds.
    pub duration_ms: u64,
}

/// The last event: totals and the exit code the run ends with.
#[derive(Debug, Serialize)]
pub struct SummaryEvent {
    /// Always [`EVENTS_SCHEMA_VERSION`].
    pub schema_version: &'static str,
    /// Always `summary`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Cases ignored.
    pub ignored: usize,
    /// All cases.
    pub total: usize,
    /// Wall time of the whole run in whole milliseconds.
    pub duration_ms: u64,
    /// The exit code of the run's cases (0, 1 or 4; see `docs/ci.md`).
    pub exit_code: i32,
    /// The slowest cases, slowest first (as many as `--slowest`).
    pub slowest: Vec<SlowCase>,
    /// Cases of this run that failed and did not fail in the last run, by name (empty
    /// when there is no last run on record).
    pub newly_failed: Vec<String>,
    /// Cases of this run that pass and failed in the last run, by name.
    pub fixed: Vec<String>,
}

fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn to_line(event: &impl Serialize) -> String {
    // These types hold only strings and numbers: serialising them cannot fail.
    serde_json::to_string(event).unwrap_or_default()
}

/// The `started` event line.
pub fn started_event(case_count: usize, partition: Option<&Partition>) -> String {
    let partition = partition.map(Partition::to_string);
    to_line(&StartedEvent {
        schema_version: EVENTS_SCHEMA_VERSION,
        kind: "started",
        case_count,
        partition: partition.as_deref(),
    })
}

/// The `case` event line for `outcome`; `workspace_root` makes `source_file` relative.
pub fn case_event(outcome: &CaseOutcome, workspace_root: &Path) -> String {
    let id = outcome.id();
    let reproduce = outcome.reproduce.as_ref();
    to_line(&CaseEvent {
        schema_version: EVENTS_SCHEMA_VERSION,
        kind: "case",
        name: id.test_name(),
        fixture: &id.fixture,
        case: &id.case,
        profile: &id.profile,
        status: status_name(outcome.status),
        duration_ms: millis(outcome.duration),
        failed_checks: message::failed_checks(outcome),
        reproduce: reproduce
            .map(|reproduce| reproduce.primary().to_string())
            .unwrap_or_default(),
        reproduce_x07: reproduce
            .map(|reproduce| reproduce.x07.clone())
            .unwrap_or_default(),
        source_file: super::display_path(&outcome.case.source_file, workspace_root),
        message: (outcome.status == CaseStatus::Failed).then(|| message::failure_message(outcome)),
        ignore_reason: outcome.ignore_reason.as_deref(),
    })
}

/// The `summary` event line.
pub fn summary_event(summary: &RunSummary, slowest: &[&CaseOutcome]) -> String {
    to_line(&SummaryEvent {
        schema_version: EVENTS_SCHEMA_VERSION,
        kind: "summary",
        passed: summary.totals.passed,
        failed: summary.totals.failed,
        ignored: summary.totals.ignored,
        total: summary.totals.total(),
        duration_ms: millis(summary.wall_time),
        exit_code: summary.exit_code(),
        slowest: slowest
            .iter()
            .map(|outcome| SlowCase {
                name: outcome.id().test_name(),
                duration_ms: millis(outcome.duration),
            })
            .collect(),
        newly_failed: summary
            .since_last_run
            .as_ref()
            .map(|since| since.newly_failed.clone())
            .unwrap_or_default(),
        fixed: summary
            .since_last_run
            .as_ref()
            .map(|since| since.fixed.clone())
            .unwrap_or_default(),
    })
}

/// Writes the JSON events of a run, one per line.
pub struct JsonEvents {
    out: Box<dyn Write + Send>,
    workspace_root: std::path::PathBuf,
    slowest: usize,
    github: bool,
    bar: ProgressHandle,
}

impl JsonEvents {
    /// A sink writing to `out`.
    pub fn new(out: Box<dyn Write + Send>, options: &ReportOptions, bar: ProgressHandle) -> Self {
        JsonEvents {
            out,
            workspace_root: options.workspace_root.clone(),
            slowest: options.slowest,
            github: options.github,
            bar,
        }
    }

    fn line(&mut self, line: String) -> Result<(), SinkError> {
        let mut line = if self.github {
            super::github::neutralise_json_line(&line)
        } else {
            line
        };
        line.push('\n');
        let out = &mut self.out;
        self.bar
            .suspend(|| super::write_all(out.as_mut(), &line, "the JSON events"))
    }
}

impl EventSink for JsonEvents {
    fn handle(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        match event {
            Event::RunStarted(start) => {
                let line = started_event(start.case_count, start.partition.as_ref());
                self.line(line)
            }
            Event::CaseStarted(_) => Ok(()),
            Event::CaseFinished(outcome) => {
                let line = case_event(outcome, &self.workspace_root);
                self.line(line)
            }
            Event::RunFinished { summary, outcomes } => {
                let slowest = super::slowest::slowest_cases(outcomes, self.slowest);
                let line = summary_event(summary, &slowest);
                self.line(line)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::RunnerKind;
    use crate::engine::{exit::RunOutcome, RunTotals};
    use crate::testing::{outcomes, write_fixture, Recorded};
    use serde_json::Value;
    use std::time::Duration;

    #[test]
    fn case_event_has_every_documented_field() {
        let dir = tempfile::tempdir().unwrap();
        write_fixture(
            dir.path(),
            "read",
            &[(
                "x07test.json",
                br#"{ "schema_version": "cargo-x07.fixture@0.1.0", "cases": [ { "name": "hidden", "expect": { "output": { "text": "hello" } } } ] }"#,
            )],
        );
        let report = include_str!("../../tests/data/reports/ok-os-project-profile-input.json");
        let backend = Recorded::printing(RunnerKind::X07, report, 0, 1234);
        let outcome = &outcomes(dir.path(), "read", &["os"], &backend)[0];
        let event: Value = serde_json::from_str(&case_event(outcome, dir.path())).unwrap();
        assert_eq!(event["schema_version"], EVENTS_SCHEMA_VERSION);
        assert_eq!(event["type"], "case");
        assert_eq!(event["name"], "fixtures/read::hidden::os");
        assert_eq!(event["fixture"], "fixtures/read");
        assert_eq!(event["case"], "hidden");
        assert_eq!(event["profile"], "os");
        assert_eq!(event["status"], "failed");
        assert_eq!(event["duration_ms"], 1234);
        assert!(event["failed_checks"][0]
            .as_str()
            .unwrap()
            .starts_with("output: expected 5 bytes (from text)"));
        assert!(event["reproduce"]
            .as_str()
            .unwrap()
            .starts_with("x07 run --project "));
        assert_eq!(event["reproduce"], event["reproduce_x07"]);
        assert_eq!(event["source_file"], "fixtures/read/x07test.json");
        assert!(event["message"].as_str().unwrap().contains("  -hello\n"));
        assert_eq!(event["ignore_reason"], Value::Null);
    }

    #[test]
    fn started_and_summary_events() {
        let partition: Partition = "hash:1/2".parse().unwrap();
        let started: Value = serde_json::from_str(&started_event(7, Some(&partition))).unwrap();
        assert_eq!(started["type"], "started");
        assert_eq!(started["case_count"], 7);
        assert_eq!(started["partition"], "hash:1/2");

        let summary = RunSummary {
            totals: RunTotals {
                passed: 5,
                failed: 0,
                ignored: 2,
            },
            selected: 7,
            filtered_out: 0,
            not_run: 0,
            stopped: false,
            outcome: RunOutcome::Passed,
            wall_time: Duration::from_millis(1500),
            since_last_run: None,
        };
        let event: Value = serde_json::from_str(&summary_event(&summary, &[])).unwrap();
        assert_eq!(event["type"], "summary");
        assert_eq!(event["total"], 7);
        assert_eq!(event["exit_code"], 0);
        assert_eq!(event["duration_ms"], 1500);
        assert_eq!(event["slowest"], serde_json::json!([]));
        assert_eq!(event["newly_failed"], serde_json::json!([]));
        assert_eq!(event["fixed"], serde_json::json!([]));
    }
}
