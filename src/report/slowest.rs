//! The N slowest cases of a run, printed at the end of a human-readable run and listed in
//! the JSON summary event and the GitHub step summary.

use std::fmt::Write as _;
use std::time::Duration;

use crate::engine::{CaseOutcome, Event, EventSink, SinkError};
use crate::model::CaseStatus;

/// The `count` slowest cases that ran (ignored cases are left out), slowest first;
/// equal durations are ordered by test name so the list is deterministic.
pub fn slowest_cases(outcomes: &[CaseOutcome], count: usize) -> Vec<&CaseOutcome> {
    let mut ran: Vec<&CaseOutcome> = outcomes
        .iter()
        .filter(|outcome| outcome.status != CaseStatus::Ignored && outcome.output.is_some())
        .collect();
    ran.sort_by(|a, b| b.duration.cmp(&a.duration).then_with(|| a.id().cmp(b.id())));
    ran.truncate(count);
    ran
}

/// A duration as seconds with three decimals, e.g. `1.204s`.
pub fn format_seconds(duration: Duration) -> String {
    format!("{:.3}s", duration.as_secs_f64())
}

/// The human-readable block printed at the end of a run; empty when `slowest` is empty.
///
/// ```text
/// slowest 2 cases:
///     1.204s  fixtures/net/fetch::default::sandbox
///     0.310s  fixtures/core/hello::default::os
/// ```
pub fn render_human(slowest: &[&CaseOutcome]) -> String {
    let mut text = String::new();
    if slowest.is_empty() {
        return text;
    }
    let noun = if slowest.len() == 1 { "case" } else { "cases" };
    let _ = writeln!(text, "slowest {} {noun}:", slowest.len());
    let width = slowest
        .iter()
        .map(|outcome| format_seconds(outcome.duration).len())
        .max()
        .unwrap_or(0);
    for outcome in slowest {
        let _ = writeln!(
            text,
            "    {:>width$}  {}",
            format_seconds(outcome.duration),
            outcome.id().test_name()
        );
    }
    text
}

/// Prints the slowest cases at the end of a human-readable run.
pub struct SlowestSink {
    count: usize,
    github: bool,
    out: Box<dyn std::io::Write + Send>,
}

impl SlowestSink {
    /// A sink listing `count` cases on `out` (neutralised in GitHub mode).
    pub fn new(count: usize, github: bool, out: Box<dyn std::io::Write + Send>) -> SlowestSink {
        SlowestSink { count, github, out }
    }
}

impl EventSink for SlowestSink {
    fn handle(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        let Event::RunFinished { outcomes, .. } = event else {
            return Ok(());
        };
        let text = render_human(&slowest_cases(outcomes, self.count));
        if text.is_empty() {
            return Ok(());
        }
        let text = if self.github {
            super::github::neutralise(&text)
        } else {
            text
        };
        super::write_all(self.out.as_mut(), &text, "the slowest cases")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::RunnerKind;
    use crate::testing::{outcomes, write_fixture, Recorded};

    fn timed(millis: &[u64]) -> Vec<CaseOutcome> {
        let dir = tempfile::tempdir().unwrap();
        let names: Vec<String> = (0..millis.len())
            .map(|i| format!("{{ \"name\": \"c{i}\" }}"))
            .collect();
        let expectations = format!(
            r#"{{ "schema_version": "cargo-x07.fixture@0.1.0", "cases": [{}] }}"#,
            names.join(",")
        );
        write_fixture(
            dir.path(),
            "t",
            &[("x07test.json", expectations.as_bytes())],
        );
        let report = include_str!("../../tests/data/reports/ok-os-project-profile-input.json");
        let backend = Recorded::printing(RunnerKind::X07, report, 0, 0);
        let mut results = outcomes(dir.path(), "t", &["os"], &backend);
        for (outcome, millis) in results.iter_mut().zip(millis) {
            outcome.duration = Duration::from_millis(*millis);
        }
        results
    }

    #[test]
    fn orders_by_duration_then_name() {
        let results = timed(&[100, 2500, 100, 12000]);
        let names: Vec<String> = slowest_cases(&results, 3)
            .iter()
            .map(|outcome| outcome.id().case.clone())
            .collect();
        assert_eq!(names, ["c3", "c1", "c0"]);
        assert_eq!(slowest_cases(&results, 10).len(), 4);
        assert!(slowest_cases(&results, 0).is_empty());
    }

    #[test]
    fn renders_aligned_lines() {
        let results = timed(&[12_000, 5]);
        let text = render_human(&slowest_cases(&results, 5));
        assert_eq!(
            text,
            "slowest 2 cases:\n    12.000s  fixtures/t::c0::os\n     0.005s  fixtures/t::c1::os\n"
        );
        assert_eq!(render_human(&[]), "");
    }
}
