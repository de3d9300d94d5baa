//! The report stage: every output of a run is an [`EventSink`](crate::engine::EventSink) over the engine's events,
//! so they are views of one stream and say the same thing ([`crate::message`] words it):
//! * [`libtest`]: the libtest-format lines (`running N tests`, `test … ok`, `failures:`,
//!   `test result:`), pretty or terse, coloured per `--color`, to stdout or `--logfile`;
//! * [`events`]: `--message-format json`, one JSON line per event;
//! * [`junit`]: `--junit PATH`, a JUnit XML file;
//! * [`github`]: `::error` annotations and the `$GITHUB_STEP_SUMMARY` Markdown summary,
//!   with every byte from programs, reports and fixture files neutralised;
//! * [`progress`]: a progress bar on a terminal;
//! * [`slowest`]: the N slowest cases at the end.
//!
//! [`sinks`] builds the set a run asks for; [`args`] holds the CI flags.

pub mod args;
pub mod events;
pub mod github;
pub mod junit;
pub mod libtest;
pub mod progress;
pub mod slowest;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::engine::{CaseOutcome, RunTotals, Sinks};
use crate::partition::Partition;

/// How per-case results are printed on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum MessageFormat {
    /// libtest-style lines for people.
    #[default]
    Human,
    /// One JSON event per line (schema `cargo-x07.events@0.1.0`, see `docs/ci.md`).
    Json,
}

/// Everything the reporters need to know about the run, resolved from flags and environment.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// How results are printed on standard output.
    pub message_format: MessageFormat,
    /// The libtest lines' options (human format).
    pub human: libtest::HumanOptions,
    /// Where to write the JUnit XML file, if anywhere.
    pub junit_path: Option<PathBuf>,
    /// Whether to print GitHub workflow commands (`--github` or `GITHUB_ACTIONS=true`).
    pub github: bool,
    /// The Markdown file to append the step summary to (`$GITHUB_STEP_SUMMARY`), when `github`.
    pub step_summary_path: Option<PathBuf>,
    /// Whether to draw a progress bar on standard error.
    pub progress: bool,
    /// How many of the slowest cases to show at the end (0: none).
    pub slowest: usize,
    /// The shard this run covers, shown in summaries.
    pub partition: Option<Partition>,
    /// The workspace root; source files under it are shown relative to it.
    pub workspace_root: PathBuf,
}

impl ReportOptions {
    /// Options with every output off except human lines, for a run rooted at `workspace_root`.
    pub fn new(workspace_root: impl Into<PathBuf>) -> ReportOptions {
        ReportOptions {
            message_format: MessageFormat::Human,
            human: libtest::HumanOptions::default(),
            junit_path: None,
            github: false,
            step_summary_path: None,
            progress: false,
            slowest: DEFAULT_SLOWEST,
            partition: None,
            workspace_root: workspace_root.into(),
        }
    }

    /// Turns on the GitHub outputs when `github_flag` is set or the environment is GitHub
    /// Actions (`GITHUB_ACTIONS=true`), taking the summary file from `GITHUB_STEP_SUMMARY`;
    /// decides the progress bar from `progress_flag` (`--progress`/`--no-progress`), else
    /// as [`progress::auto_enabled`] says. Set `message_format` first.
    pub fn detect_environment(mut self, github_flag: bool, progress_flag: Option<bool>) -> Self {
        let env = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        self.github = github_flag || github::running_in_github_actions();
        if self.github {
            self.step_summary_path = env("GITHUB_STEP_SUMMARY").map(PathBuf::from);
        }
        self.progress =
            progress_flag.unwrap_or_else(|| progress::auto_enabled(self.message_format));
        self
    }
}

/// How many slowest cases are listed by default.
pub const DEFAULT_SLOWEST: usize = 5;

/// Where the streams of a run go: standard output and standard error, or (in tests)
/// in-memory buffers.
pub struct Streams {
    /// Stands in for standard output.
    pub stdout: Box<dyn Write + Send>,
    /// Stands in for standard error.
    pub stderr: Box<dyn Write + Send>,
}

impl Streams {
    /// The process's standard output and error.
    pub fn standard() -> Streams {
        Streams {
            stdout: Box::new(std::io::stdout()),
            stderr: Box::new(std::io::stderr()),
        }
    }
}

/// A stream shared by several sinks (each writes whole lines, on the engine's thread).
#[derive(Clone)]
pub struct SharedStream(std::sync::Arc<std::sync::Mutex<Box<dyn Write + Send>>>);

impl SharedStream {
    /// Shares `stream`.
    pub fn new(stream: Box<dyn Write + Send>) -> SharedStream {
        SharedStream(std::sync::Arc::new(std::sync::Mutex::new(stream)))
    }
}

impl Write for SharedStream {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .flush()
    }
}

/// The sinks a run's options ask for, in the order their output appears.
pub fn sinks(options: &ReportOptions, streams: Streams) -> std::io::Result<Sinks> {
    let stdout = SharedStream::new(streams.stdout);
    let stderr = SharedStream::new(streams.stderr);
    let mut sinks = Sinks::new();
    let progress = progress::ProgressSink::new(options.progress, options.github);
    let bar = progress.handle();
    sinks.push(Box::new(progress));
    // `--logfile`: the libtest lines (and the slowest cases after them) go to the file.
    let lines = match &options.human.logfile {
        Some(path) => {
            SharedStream::new(Box::new(std::fs::File::create(path).map_err(|error| {
                std::io::Error::new(
                    error.kind(),
                    format!("--logfile {}: {error}", path.display()),
                )
            })?))
        }
        None => stdout.clone(),
    };
    match options.message_format {
        MessageFormat::Human => {
            sinks.push(Box::new(libtest::LibtestPrinter::new(
                &options.human,
                options.github,
                Box::new(lines.clone()),
                bar.clone(),
            )));
        }
        MessageFormat::Json => {
            sinks.push(Box::new(events::JsonEvents::new(
                Box::new(stdout.clone()),
                options,
                bar.clone(),
            )));
        }
    }
    if options.github {
        let annotations: Box<dyn Write + Send> = match options.message_format {
            MessageFormat::Human => Box::new(stdout.clone()),
            MessageFormat::Json => Box::new(stderr.clone()),
        };
        sinks.push(Box::new(github::GithubSink::new(options, annotations)));
    }
    if let Some(path) = &options.junit_path {
        sinks.push(Box::new(junit::JunitSink::new(path, options)));
    }
    if options.message_format == MessageFormat::Human {
        sinks.push(Box::new(slowest::SlowestSink::new(
            options.slowest,
            options.github,
            Box::new(lines),
        )));
    }
    Ok(sinks)
}

/// Totals per profile, in profile-name order, with the summed runner time of each.
pub fn totals_by_profile(outcomes: &[CaseOutcome]) -> BTreeMap<&str, (RunTotals, Duration)> {
    let mut by_profile: BTreeMap<&str, (RunTotals, Duration)> = BTreeMap::new();
    for outcome in outcomes {
        let entry = by_profile.entry(outcome.id().profile.as_str()).or_default();
        entry.0.add(outcome.status);
        entry.1 += outcome.duration;
    }
    by_profile
}

/// A source file as shown to people and to GitHub: relative to the workspace root when it
/// lies under it, with `/` separators.
pub fn display_path(path: &Path, workspace_root: &Path) -> String {
    let shown = path.strip_prefix(workspace_root).unwrap_or(path);
    let text = shown.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        text.into_owned()
    } else {
        text.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

/// Writes `text` to `out` and flushes it, for a sink.
pub(crate) fn write_all(
    out: &mut dyn Write,
    text: &str,
    what: &str,
) -> Result<(), crate::engine::SinkError> {
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|error| crate::engine::SinkError::from_io(error, what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_path_is_relative_to_the_workspace() {
        assert_eq!(
            display_path(Path::new("/ws/fixtures/a/x07test.json"), Path::new("/ws")),
            "fixtures/a/x07test.json"
        );
        assert_eq!(
            display_path(Path::new("/elsewhere/x.json"), Path::new("/ws")),
            "/elsewhere/x.json"
        );
        assert_eq!(
            display_path(Path::new("fixtures/a/x07.json"), Path::new("/ws")),
            "fixtures/a/x07.json"
        );
    }
}
