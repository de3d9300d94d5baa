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
use crate::engine::{CaseOutcome, Event, EventSink, SinkError};
use crate::model::CaseStatus;

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
    github: bool,
}

/// A handle on the progress bar (if any), for sinks that write to a terminal and must
/// hide the bar while they do.
#[derive(Clone, Default)]
pub struct ProgressHandle(Option<ProgressBar>);

impl ProgressHandle {
    /// Hides the bar while `write` runs, so that lines written meanwhile are not garbled.
    pub fn suspend<R>(&self, write: impl FnOnce() -> R) -> R {
        match &self.0 {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

impl Progress {
    /// A bar drawn on standard error when `enabled`, else a no-op.
    pub fn new(enabled: bool) -> Progress {
        Progress::with_target(enabled, ProgressDrawTarget::stderr())
    }

    /// A bar drawn on `target` when `enabled` (tests draw on a hidden target).
    pub fn with_target(enabled: bool, target: ProgressDrawTarget) -> Progress {
        if !enabled {
            return Progress {
                bar: None,
                github: false,
            };
        }
        let bar = ProgressBar::with_draw_target(Some(0), target);
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] [{bar:30}] {pos}/{len} cases {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        Progress {
            bar: Some(bar),
            github: false,
        }
    }

    /// A handle on the bar for other sinks.
    pub fn handle(&self) -> ProgressHandle {
        ProgressHandle(self.bar.clone())
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
    pub fn case_finished(&self, outcome: &CaseOutcome) {
        let Some(bar) = &self.bar else { return };
        if outcome.status == CaseStatus::Failed {
            let failed = failed_count(&bar.message()) + 1;
            bar.set_message(format!("({failed} failed)"));
            let line = format!("FAILED {}", outcome.id().test_name());
            bar.println(if self.github {
                super::github::neutralise_line(&line)
            } else {
                line
            });
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

/// The progress bar as a sink of the run's events.
pub struct ProgressSink(Progress);

impl ProgressSink {
    /// A bar on standard error when `enabled`; `github` neutralises the names it prints.
    pub fn new(enabled: bool, github: bool) -> ProgressSink {
        let mut progress = Progress::new(enabled);
        progress.github = github;
        ProgressSink(progress)
    }

    /// A handle on the bar for other sinks.
    pub fn handle(&self) -> ProgressHandle {
        self.0.handle()
    }
}

impl EventSink for ProgressSink {
    fn handle(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        match event {
            Event::RunStarted(start) => self.0.set_length(start.case_count as u64),
            Event::CaseFinished(outcome) => self.0.case_finished(outcome),
            Event::RunFinished { .. } => self.0.finish(),
            Event::CaseStarted(_) => {}
        }
        Ok(())
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
    use crate::backend::RunnerKind;
    use crate::testing::{outcomes, write_fixture, Recorded};

    #[test]
    fn counts_cases_and_failures() {
        let dir = tempfile::tempdir().unwrap();
        write_fixture(dir.path(), "a", &[]);
        let report = include_str!("../../tests/data/reports/ok-sandbox-project.json");
        let backend = Recorded::printing(RunnerKind::X07, report, 0, 1);
        // os: wrong world in the report (fails); sandbox: passes.
        let results = outcomes(dir.path(), "a", &["os", "sandbox"], &backend);
        let progress = Progress::with_target(true, ProgressDrawTarget::hidden());
        assert!(progress.is_enabled());
        progress.set_length(3);
        for outcome in results.iter().chain(&results[..1]) {
            progress.case_finished(outcome);
        }
        assert_eq!(progress.position(), 3);
        assert_eq!(progress.bar.as_ref().unwrap().message(), "(2 failed)");
        progress.finish();
    }

    #[test]
    fn disabled_progress_does_nothing() {
        let progress = Progress::new(false);
        assert!(!progress.is_enabled());
        assert_eq!(progress.position(), 0);
        assert_eq!(progress.suspend(|| 7), 7);
        assert_eq!(progress.handle().suspend(|| 8), 8);
    }
}
