//! The progress bar drawn on standard error while cases run (indicatif).
//!
//! It is on by default only when standard error is a terminal, the run is not in CI
//! (`CI` or `GITHUB_ACTIONS` set), and nothing else draws on that terminal line by line:
//! with human output on a terminal, libtest's own `test … ok` lines already show progress
//! (and a bar would be torn by them, as libtest writes to stdout past the bar). So the bar
//! shows for `--message-format json` and for `cargo x07 test > log`. `--progress` /
//! `--no-progress` override the choice.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::MessageFormat;
use crate::model::{CaseResult, CaseStatus};

/// Whether the progress bar should be drawn when neither `--progress` nor `--no-progress`
/// is given (see the module documentation).
pub fn auto_enabled(message_format: MessageFormat) -> bool {
    let stdout_free = message_format == MessageFormat::Json || !std::io::stdout().is_terminal();
    std::io::stderr().is_terminal() && !running_in_ci() && stdout_free
}

/// Whether a CI system is driving this run (`CI` set to anything but `false`/`0`, or
/// `GITHUB_ACTIONS=true`).
pub fn running_in_ci() -> bool {
    let ci = std::env::var("CI").unwrap_or_default();
    let ci_set = !ci.is_empty() && ci != "false" && ci != "0";
    ci_set || super::github::running_in_github_actions()
}

/// A progress bar, or nothing when progress is off.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar drawn on standard error when `enabled`, else a no-op.
    pub fn new(enabled: bool) -> Progress {
        Progress::with_target(enabled, ProgressDrawTarget::stderr())
    }

    /// A bar drawn on `target` when `enabled` (tests draw on a hidden target).
    pub fn with_target(enabled: bool, target: ProgressDrawTarget) -> Progress {
        if !enabled {
            return Progress { bar: None };
        }
        let bar = ProgressBar::with_draw_target(Some(0), target);
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] [{bar:30}] {pos}/{len} cases {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        Progress { bar: Some(bar) }
    }

    /// Whether a bar is being drawn.
    pub fn is_enabled(&self) -> bool {
        self.bar.is_some()
    }

    /// Sets how many cases the run has and starts drawing.
    pub fn set_length(&self, case_count: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(case_count);
            bar.enable_steady_tick(Duration::from_millis(200));
        }
    }

    /// Advances by one finished case; a failure is counted in the bar's message and its
    /// name is printed above the bar.
    pub fn case_finished(&self, result: &CaseResult) {
        let Some(bar) = &self.bar else { return };
        if result.status == CaseStatus::Failed {
            let failed = failed_count(&bar.message()) + 1;
            bar.set_message(format!("({failed} failed)"));
            bar.println(format!("FAILED {}", result.id.test_name()));
        }
        bar.inc(1);
    }

    /// Hides the bar while `write` runs, so that lines written meanwhile are not garbled.
    pub fn suspend<R>(&self, write: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    /// Removes the bar at the end of the run.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// How many cases the bar has counted (0 when off).
    pub fn position(&self) -> u64 {
        self.bar.as_ref().map_or(0, ProgressBar::position)
    }
}

/// Reads `N` back from a `(N failed)` message.
fn failed_count(message: &str) -> u64 {
    message
        .trim_start_matches('(')
        .split(' ')
        .next()
        .and_then(|count| count.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::result;

    #[test]
    fn counts_cases_and_failures() {
        let progress = Progress::with_target(true, ProgressDrawTarget::hidden());
        assert!(progress.is_enabled());
        progress.set_length(3);
        progress.case_finished(&result("a", CaseStatus::Passed, 1));
        progress.case_finished(&result("b", CaseStatus::Failed, 1));
        progress.case_finished(&result("c", CaseStatus::Failed, 1));
        assert_eq!(progress.position(), 3);
        assert_eq!(progress.bar.as_ref().unwrap().message(), "(2 failed)");
        progress.finish();
    }

    #[test]
    fn disabled_progress_does_nothing() {
        let progress = Progress::new(false);
        assert!(!progress.is_enabled());
        progress.case_finished(&result("a", CaseStatus::Failed, 1));
        assert_eq!(progress.position(), 0);
        assert_eq!(progress.suspend(|| 7), 7);
    }
}
