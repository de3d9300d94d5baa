//! The N slowest cases of a run, printed at the end of a human-readable run and listed in
//! the JSON summary event and the GitHub step summary.

use std::fmt::Write as _;
use std::time::Duration;

use crate::model::{CaseResult, CaseStatus};

/// The `count` slowest cases that ran (ignored cases are left out), slowest first;
/// equal durations are ordered by test name so the list is deterministic.
pub fn slowest_cases(results: &[CaseResult], count: usize) -> Vec<&CaseResult> {
    let mut ran: Vec<&CaseResult> = results
        .iter()
        .filter(|result| result.status != CaseStatus::Ignored)
        .collect();
    ran.sort_by(|a, b| b.duration.cmp(&a.duration).then_with(|| a.id.cmp(&b.id)));
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
pub fn render_human(slowest: &[&CaseResult]) -> String {
    let mut text = String::new();
    if slowest.is_empty() {
        return text;
    }
    let noun = if slowest.len() == 1 { "case" } else { "cases" };
    let _ = writeln!(text, "slowest {} {noun}:", slowest.len());
    let width = slowest
        .iter()
        .map(|result| format_seconds(result.duration).len())
        .max()
        .unwrap_or(0);
    for result in slowest {
        let _ = writeln!(
            text,
            "    {:>width$}  {}",
            format_seconds(result.duration),
            result.id.test_name()
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::result;

    #[test]
    fn orders_by_duration_then_name_and_skips_ignored() {
        let results = vec![
            result("fixtures/a", CaseStatus::Passed, 100),
            result("fixtures/b", CaseStatus::Failed, 2500),
            result("fixtures/c", CaseStatus::Ignored, 0),
            result("fixtures/d", CaseStatus::Passed, 100),
            result("fixtures/e", CaseStatus::Passed, 12000),
        ];
        let names: Vec<String> = slowest_cases(&results, 3)
            .iter()
            .map(|result| result.id.fixture.clone())
            .collect();
        assert_eq!(names, ["fixtures/e", "fixtures/b", "fixtures/a"]);
        assert_eq!(slowest_cases(&results, 10).len(), 4);
        assert!(slowest_cases(&results, 0).is_empty());
    }

    #[test]
    fn renders_aligned_lines() {
        let results = vec![
            result("fixtures/slow", CaseStatus::Passed, 12_000),
            result("fixtures/fast", CaseStatus::Passed, 5),
        ];
        let text = render_human(&slowest_cases(&results, 5));
        assert_eq!(
            text,
            "slowest 2 cases:\n    12.000s  fixtures/slow::default::os\n     0.005s  fixtures/fast::default::os\n"
        );
        assert_eq!(render_human(&[]), "");
    }
}
