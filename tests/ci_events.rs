//! `--message-format json` events, fed the way the test command feeds them: every line is
//! a JSON object with the documented fields.

#[path = "data/ci/support.rs"]
mod common_ci;

use std::io::Write;
use std::sync::{Arc, Mutex};

use cargo_x07::report::events::EVENTS_SCHEMA_VERSION;
use cargo_x07::report::{MessageFormat, ReportOptions, Reporters};
use common_ci::{ignored, output_mismatch, passed, root};
use serde_json::Value;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn every_line_is_a_documented_event() {
    let results = vec![
        passed("fixtures/a", "default", "os", 10),
        output_mismatch("fixtures/b", "default", "sandbox", "1\n", "2\n"),
        ignored("fixtures/c", "default", "os", "not today"),
    ];
    let stdout = Captured::default();
    let stderr = Captured::default();
    let mut options = ReportOptions::new(root());
    options.message_format = MessageFormat::Json;
    options.github = true;
    options.partition = Some("hash:1/1".parse().unwrap());
    let reporters =
        Reporters::with_output(options, Box::new(stdout.clone()), Box::new(stderr.clone()));
    reporters.run_started(results.len()).unwrap();
    for result in &results {
        reporters.case_finished(result).unwrap();
    }
    let end = reporters.finish(&results);
    assert!(end.report_errors.is_empty());
    assert_eq!(end.exit_code(), 1);

    let text = String::from_utf8(stdout.0.lock().unwrap().clone()).unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(events.len(), 5);
    for event in &events {
        assert_eq!(event["schema_version"], EVENTS_SCHEMA_VERSION);
    }
    assert_eq!(events[0]["type"], "started");
    assert_eq!(events[0]["partition"], "hash:1/1");
    let case_fields = [
        "name",
        "fixture",
        "case",
        "profile",
        "status",
        "duration_ms",
        "failed_checks",
        "reproduce",
        "source_file",
        "message",
        "ignore_reason",
    ];
    for event in &events[1..4] {
        assert_eq!(event["type"], "case");
        for field in case_fields {
            assert!(
                event.get(field).is_some(),
                "case event lacks {field}: {event}"
            );
        }
    }
    assert_eq!(events[2]["status"], "failed");
    assert_eq!(
        events[2]["failed_checks"][0],
        "output: expected 2 bytes, got 2 bytes"
    );
    let message = events[2]["message"].as_str().unwrap();
    assert!(
        message.contains("-1\n") && message.contains("+2\n"),
        "{message}"
    );
    assert_eq!(events[3]["ignore_reason"], "not today");
    assert_eq!(events[4]["type"], "summary");
    assert_eq!(
        (
            events[4]["passed"].as_u64(),
            events[4]["failed"].as_u64(),
            events[4]["ignored"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(events[4]["exit_code"], 1);

    // With JSON on stdout, the GitHub annotations go to stderr.
    let side = String::from_utf8(stderr.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        side.lines()
            .filter(|line| line.starts_with("::error "))
            .count(),
        1
    );
}
