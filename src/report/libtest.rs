//! The libtest-format lines of a run, as libtest (and libtest-mimic) print them:
//!
//! ```text
//!
//! running 3 tests
//! test fixtures/a::default::os      ... ok
//! test fixtures/a::default::sandbox ... FAILED
//! test fixtures/b::slow::os         ... ignored, needs a network
//!
//! failures:
//!
//! ---- fixtures/a::default::sandbox ----
//! <the failure message>
//!
//!
//! failures:
//!     fixtures/a::default::sandbox
//!
//! test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 2 filtered out; finished in 0.31s
//!
//! ```
//!
//! `--format terse` (`-q`) prints one character per case instead; `--color` colours the
//! outcomes; `--show-output` adds a `successes:` section with each passing case's runner
//! stderr, `--nocapture` prints it right after the case's line. With one thread the
//! `test … ... ` prefix is printed before the case runs, as libtest does.

use std::io::Write;

use anstyle::{AnsiColor, Color, Style};

use super::progress::ProgressHandle;
use crate::engine::{CaseOutcome, Event, EventSink, SinkError};
use crate::message;
use crate::model::CaseStatus;

/// How the libtest lines look.
#[derive(Debug, Clone, Default)]
pub struct HumanOptions {
    /// One character per case instead of one line.
    pub terse: bool,
    /// `--color`: auto (a terminal that wants colour), always or never.
    pub color: Option<libtest_mimic::ColorSetting>,
    /// `--logfile`: write the lines there instead of standard output.
    pub logfile: Option<std::path::PathBuf>,
    /// `--show-output`: a `successes:` section with the runner stderr of passing cases.
    pub show_output: bool,
    /// `--nocapture`: a passing case's runner stderr right after its line.
    pub nocapture: bool,
}

/// Prints the libtest lines of a run.
pub struct LibtestPrinter {
    out: Box<dyn Write + Send>,
    options: HumanOptions,
    name_width: usize,
    one_thread: bool,
    /// The case whose `test … ... ` prefix is already printed.
    pending: Option<String>,
    successes: Vec<(String, String)>,
    failures: Vec<(String, String)>,
    bar: ProgressHandle,
}

fn style(status: CaseStatus) -> Style {
    let color = match status {
        CaseStatus::Passed => AnsiColor::Green,
        CaseStatus::Failed => AnsiColor::Red,
        CaseStatus::Ignored => AnsiColor::Yellow,
    };
    Style::new().fg_color(Some(Color::Ansi(color)))
}

impl LibtestPrinter {
    /// A printer writing to `out`; in GitHub mode every line is neutralised so that no
    /// text from a program, report or fixture file becomes a workflow command.
    pub fn new(
        options: &HumanOptions,
        github: bool,
        out: Box<dyn Write + Send>,
        bar: ProgressHandle,
    ) -> LibtestPrinter {
        let choice = match options.color.unwrap_or(libtest_mimic::ColorSetting::Auto) {
            libtest_mimic::ColorSetting::Always => anstream::ColorChoice::Always,
            libtest_mimic::ColorSetting::Never => anstream::ColorChoice::Never,
            // Like libtest: colour when the lines go to a terminal that wants colour
            // (NO_COLOR, CLICOLOR, TERM are honoured); never into a log file.
            libtest_mimic::ColorSetting::Auto if options.logfile.is_some() => {
                anstream::ColorChoice::Never
            }
            libtest_mimic::ColorSetting::Auto => anstream::AutoStream::choice(&std::io::stdout()),
        };
        let out: Box<dyn Write + Send> = if github {
            Box::new(super::github::NeutralisingWriter::new(out))
        } else {
            out
        };
        let out: Box<dyn Write + Send> = Box::new(anstream::AutoStream::new(out, choice));
        LibtestPrinter {
            out,
            options: options.clone(),
            name_width: 0,
            one_thread: false,
            pending: None,
            successes: Vec::new(),
            failures: Vec::new(),
            bar,
        }
    }

    fn write(&mut self, text: &str) -> Result<(), SinkError> {
        let out = &mut self.out;
        self.bar
            .suspend(|| super::write_all(out.as_mut(), text, "the test output"))
    }

    fn prefix(&self, name: &str) -> String {
        format!("test {name:<0$} ... ", self.name_width)
    }

    fn outcome_text(outcome: &CaseOutcome) -> String {
        let style = style(outcome.status);
        let word = match outcome.status {
            CaseStatus::Passed => "ok".to_string(),
            CaseStatus::Failed => "FAILED".to_string(),
            CaseStatus::Ignored => match message::ignore_reason(outcome) {
                Some(reason) if !reason.is_empty() && reason != "ignored" => {
                    format!("ignored, {}", one_line(reason))
                }
                _ => "ignored".to_string(),
            },
        };
        format!("{style}{word}{style:#}")
    }

    fn finished(&mut self, outcome: &CaseOutcome) -> Result<(), SinkError> {
        let name = outcome.id().test_name();
        let mut text = String::new();
        if self.options.terse {
            let style = style(outcome.status);
            let mark = match outcome.status {
                CaseStatus::Passed => '.',
                CaseStatus::Failed => 'F',
                CaseStatus::Ignored => 'i',
            };
            text.push_str(&format!("{style}{mark}{style:#}"));
        } else {
            if self.pending.as_deref() != Some(name.as_str()) {
                text.push_str(&self.prefix(&name));
            }
            text.push_str(&Self::outcome_text(outcome));
            text.push('\n');
        }
        self.pending = None;
        match outcome.status {
            CaseStatus::Failed => self
                .failures
                .push((name.clone(), message::failure_message(outcome))),
            CaseStatus::Passed => {
                if let Some(stderr) = message::runner_stderr(outcome) {
                    if self.options.nocapture {
                        text.push_str(&stderr);
                        if !stderr.ends_with('\n') {
                            text.push('\n');
                        }
                    }
                    if self.options.show_output {
                        self.successes.push((name, stderr));
                    }
                }
            }
            CaseStatus::Ignored => {}
        }
        self.write(&text)
    }

    fn run_finished(&mut self, summary: &crate::engine::RunSummary) -> Result<(), SinkError> {
        let mut text = String::new();
        if !self.successes.is_empty() {
            text.push_str("\nsuccesses:\n\n");
            for (name, stderr) in &self.successes {
                text.push_str(&format!("---- {name} stderr ----\n{stderr}"));
                if !stderr.ends_with('\n') {
                    text.push('\n');
                }
                text.push('\n');
            }
            text.push_str("\nsuccesses:\n");
            for (name, _) in &self.successes {
                text.push_str(&format!("    {name}\n"));
            }
        }
        if !self.failures.is_empty() {
            text.push_str("\nfailures:\n\n");
            for (name, message) in &self.failures {
                text.push_str(&format!("---- {name} ----\n{message}"));
                if !message.ends_with('\n') {
                    text.push('\n');
                }
                text.push('\n');
            }
            text.push_str("\nfailures:\n");
            for (name, _) in &self.failures {
                text.push_str(&format!("    {name}\n"));
            }
        }
        if let Some(since) = summary.since_last_run.as_ref().filter(|s| !s.is_empty()) {
            text.push_str(&format!(
                "\nsince the last run: {} newly failing, {} fixed\n",
                since.newly_failed.len(),
                since.fixed.len()
            ));
            for name in &since.newly_failed {
                text.push_str(&format!("    newly failing: {name}\n"));
            }
            for name in &since.fixed {
                text.push_str(&format!("    fixed:         {name}\n"));
            }
        }
        let totals = summary.totals;
        let verdict = if totals.failed > 0 {
            CaseStatus::Failed
        } else {
            CaseStatus::Passed
        };
        let style = style(verdict);
        let word = if totals.failed > 0 { "FAILED" } else { "ok" };
        text.push_str(&format!(
            "\ntest result: {style}{word}{style:#}. {} passed; {} failed; {} ignored; 0 measured; {} filtered out; finished in {:.2}s\n\n",
            totals.passed,
            totals.failed,
            totals.ignored,
            summary.filtered_out,
            summary.wall_time.as_secs_f64()
        ));
        self.write(&text)
    }
}

/// The first line of `text` (ignore reasons are shown on the case's line).
fn one_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

impl EventSink for LibtestPrinter {
    fn handle(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        match event {
            Event::RunStarted(start) => {
                self.name_width = start
                    .names
                    .iter()
                    .map(|name| name.chars().count())
                    .max()
                    .unwrap_or(0);
                self.one_thread = start.threads == 1;
                let plural = if start.case_count == 1 { "" } else { "s" };
                self.write(&format!("\nrunning {} test{plural}\n", start.case_count))
            }
            Event::CaseStarted(id) => {
                if self.one_thread && !self.options.terse {
                    let name = id.test_name();
                    let prefix = self.prefix(&name);
                    self.pending = Some(name);
                    self.write(&prefix)
                } else {
                    Ok(())
                }
            }
            Event::CaseFinished(outcome) => self.finished(outcome),
            Event::RunFinished { summary, .. } => self.run_finished(summary),
        }
    }
}
