//! `--message-format json`: one JSON object per line on standard output.
//!
//! A run prints a `started` event, one `case` event per case as it finishes (in finishing
//! order, from many threads), and a final `summary` event. Every event carries
//! `schema_version` ([`EVENTS_SCHEMA_VERSION`]); the fields are documented in `docs/ci.md`.
//! Fields are only ever added within a schema version, never renamed or removed.

use std::path::Path;

use serde::Serialize;

use super::RunSummary;
use crate::model::{CaseResult, CaseStatus};
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
    pub failed_checks: &'a [String],
    /// Command line that reproduces the case with the real `x07`.
    pub reproduce: &'a str,
    /// The file to edit to change this case's expectations, relative to the workspace root.
    pub source_file: String,
    /// The full failure text (null unless failed).
    pub message: Option<&'a str>,
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
    /// The process exit code (0, 1 or 4; see `docs/ci.md`).
    pub exit_code: i32,
    /// The slowest cases, slowest first (as many as `--slowest`).
    pub slowest: Vec<SlowCase>,
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

/// The `case` event line for `result`; `workspace_root` makes `source_file` relative.
pub fn case_event(result: &CaseResult, workspace_root: &Path) -> String {
    to_line(&CaseEvent {
        schema_version: EVENTS_SCHEMA_VERSION,
        kind: "case",
        name: result.id.test_name(),
        fixture: &result.id.fixture,
        case: &result.id.case,
        profile: &result.id.profile,
        status: status_name(result.status),
        duration_ms: millis(result.duration),
        failed_checks: &result.failed_checks,
        reproduce: &result.reproduce,
        source_file: super::display_path(&result.source_file, workspace_root),
        message: (result.status == CaseStatus::Failed).then_some(result.message.as_str()),
        ignore_reason: result.ignore_reason.as_deref(),
    })
}

/// The `summary` event line.
pub fn summary_event(summary: &RunSummary, slowest: &[&CaseResult]) -> String {
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
            .map(|result| SlowCase {
                name: result.id.test_name(),
                duration_ms: millis(result.duration),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::exit::RunOutcome;
    use crate::report::test_support::{result, result_in};
    use crate::report::RunTotals;
    use serde_json::Value;
    use std::time::Duration;

    #[test]
    fn case_event_has_every_documented_field() {
        let failed = result_in(
            "fixtures/io/read",
            "hidden",
            "sandbox",
            CaseStatus::Failed,
            1234,
        );
        let event: Value = serde_json::from_str(&case_event(&failed, Path::new("/ws"))).unwrap();
        assert_eq!(event["schema_version"], EVENTS_SCHEMA_VERSION);
        assert_eq!(event["type"], "case");
        assert_eq!(event["name"], "fixtures/io/read::hidden::sandbox");
        assert_eq!(event["fixture"], "fixtures/io/read");
        assert_eq!(event["case"], "hidden");
        assert_eq!(event["profile"], "sandbox");
        assert_eq!(event["status"], "failed");
        assert_eq!(event["duration_ms"], 1234);
        assert_eq!(event["failed_checks"][0], "output: bytes differ");
        assert!(event["reproduce"]
            .as_str()
            .unwrap()
            .starts_with("x07 run --project fixtures/io/read/x07.json"));
        assert_eq!(event["source_file"], "fixtures/io/read/x07test.json");
        assert!(event["message"].as_str().unwrap().contains("+hellp"));
        assert_eq!(event["ignore_reason"], Value::Null);

        let ignored = result("fixtures/skip", CaseStatus::Ignored, 0);
        let event: Value = serde_json::from_str(&case_event(&ignored, Path::new("/ws"))).unwrap();
        assert_eq!(event["status"], "ignored");
        assert_eq!(event["ignore_reason"], "flaky on CI");
        assert_eq!(event["message"], Value::Null);
    }

    #[test]
    fn started_and_summary_events() {
        let partition: Partition = "hash:1/2".parse().unwrap();
        let started: Value = serde_json::from_str(&started_event(7, Some(&partition))).unwrap();
        assert_eq!(started["type"], "started");
        assert_eq!(started["case_count"], 7);
        assert_eq!(started["partition"], "hash:1/2");

        let slow = result("fixtures/slow", CaseStatus::Passed, 900);
        let summary = RunSummary {
            totals: RunTotals {
                passed: 5,
                failed: 0,
                ignored: 2,
            },
            outcome: RunOutcome::Passed,
            wall_time: Duration::from_millis(1500),
        };
        let event: Value = serde_json::from_str(&summary_event(&summary, &[&slow])).unwrap();
        assert_eq!(event["type"], "summary");
        assert_eq!(event["total"], 7);
        assert_eq!(event["exit_code"], 0);
        assert_eq!(event["duration_ms"], 1500);
        assert_eq!(event["slowest"][0]["name"], "fixtures/slow::default::os");
        assert_eq!(event["slowest"][0]["duration_ms"], 900);
    }
}
