//! `--message-format json` events, fed the way the test command feeds them: every line is
//! a JSON object with the documented fields.

#[path = "data/ci/support.rs"]
mod common_ci;

use std::io::Write;
use std::sync::{Arc, Mutex};

use cargo_x07::engine::{self, EngineOptions, RunPlan, SelectedCase};
use cargo_x07::report::events::EVENTS_SCHEMA_VERSION;
use cargo_x07::report::{MessageFormat, ReportOptions, Streams};
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
    let results = [
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
    let mut sinks = cargo_x07::report::sinks(
        &options,
        Streams {
            stdout: Box::new(stdout.clone()),
            stderr: Box::new(stderr.clone()),
        },
    )
    .unwrap();
    // The engine runs the same cases again, replaying each one's recorded runner output.
    let recorded: Vec<(String, Option<cargo_x07::run::RunOutput>)> = results
        .iter()
        .map(|outcome| (outcome.id().test_name(), outcome.output.clone()))
        .collect();
    let backend =
        cargo_x07::testing::Recorded::new(cargo_x07::backend::RunnerKind::X07, move |case| {
            let name = case.id.test_name();
            Ok(recorded
                .iter()
                .find(|(recorded, _)| *recorded == name)
                .and_then(|(_, output)| output.clone())
                .expect("a recorded output"))
        });
    let plan = RunPlan {
        cases: results
            .iter()
            .map(|outcome| SelectedCase {
                case: outcome.case.clone(),
                ignored: outcome.ignore_reason.clone(),
            })
            .collect(),
        partition: options.partition,
        ..RunPlan::default()
    };
    let result = engine::run(
        &plan,
        &backend,
        &EngineOptions {
            threads: 1,
            allow_empty: false,
        },
        &mut sinks,
    );
    assert!(sinks.errors().is_empty());
    assert_eq!(result.summary.exit_code(), 1);

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
        "output: expected 2 bytes (from text), got 2 bytes; first difference at offset 0 (line 1, column 1)"
    );
    assert_eq!(
        events[2]["message"],
        cargo_x07::message::failure_message(&results[1])
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
