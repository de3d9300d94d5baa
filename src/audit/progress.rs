//! Progress of the audit's runs on standard error.

use std::io::IsTerminal;
use std::time::Duration;

use crate::engine::{Event, EventSink, SinkError};

/// Progress of the audit's runs on standard error: a bar on a terminal, else a line at
/// every quarter.
pub(crate) struct AuditProgress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    done: usize,
    phase: &'static str,
    lines: bool,
}

impl AuditProgress {
    /// Progress of one phase: `enabled` from `--progress`/`--no-progress`, else a bar on a
    /// terminal outside CI and lines otherwise.
    pub(crate) fn new(enabled: Option<bool>, phase: &'static str) -> AuditProgress {
        let terminal = std::io::stderr().is_terminal() && !crate::report::progress::running_in_ci();
        let bar = enabled.unwrap_or(terminal).then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] [{bar:30}] {pos}/{len} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_message(phase);
            bar
        });
        AuditProgress {
            lines: bar.is_none() && enabled != Some(false),
            bar,
            total: 0,
            done: 0,
            phase,
        }
    }
}

impl EventSink for AuditProgress {
    fn handle(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        match event {
            Event::RunStarted(start) => {
                self.total = start.case_count;
                if let Some(bar) = &self.bar {
                    bar.set_length(start.case_count as u64);
                    bar.enable_steady_tick(Duration::from_millis(200));
                }
            }
            Event::CaseFinished(_) => {
                self.done += 1;
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                } else if self.lines && self.total >= 8 {
                    let quarter = self.total.div_ceil(4);
                    if self.done.is_multiple_of(quarter) && self.done < self.total {
                        eprintln!("audit: {} {}/{}", self.phase, self.done, self.total);
                    }
                }
            }
            Event::RunFinished { .. } => {
                if let Some(bar) = &self.bar {
                    bar.finish_and_clear();
                }
            }
            Event::CaseStarted(_) => {}
        }
        Ok(())
    }
}
