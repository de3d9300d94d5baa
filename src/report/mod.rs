//! The report stage for CI: the outputs that sit next to the libtest-style lines.
//!
//! Every output is a view of the same stream of [`CaseResult`]s:
//! * [`events`]: `--message-format json`, one JSON line per finished case plus a summary;
//! * [`junit`]: `--junit PATH`, a JUnit XML file;
//! * [`github`]: `::error` annotations and the `$GITHUB_STEP_SUMMARY` Markdown summary;
//! * [`progress`]: a progress bar on a terminal;
//! * [`slowest`]: the N slowest cases at the end.
//!
//! The test command builds one [`Reporters`] from its options, calls
//! [`Reporters::case_finished`] from whichever thread finished a case, and
//! [`Reporters::finish`] once with every result. [`exit`] holds the exit codes, [`args`]
//! the command-line flags, and [`event_stream`] the case loop used in JSON mode.

pub mod args;
pub mod event_stream;
pub mod events;
pub mod exit;
pub mod github;
pub mod junit;
pub mod progress;
pub mod slowest;

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::model::{CaseResult, CaseStatus};
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
    /// Whether an empty selection exits 0 instead of 4.
    pub allow_empty: bool,
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
            junit_path: None,
            github: false,
            step_summary_path: None,
            progress: false,
            slowest: DEFAULT_SLOWEST,
            allow_empty: false,
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

/// Counts of a set of results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunTotals {
    /// Cases whose every check held.
    pub passed: usize,
    /// Cases that failed or could not run.
    pub failed: usize,
    /// Cases marked `ignore`.
    pub ignored: usize,
}

impl RunTotals {
    /// Counts `results`.
    pub fn count<'a>(results: impl IntoIterator<Item = &'a CaseResult>) -> RunTotals {
        let mut totals = RunTotals::default();
        for result in results {
            totals.add(result.status);
        }
        totals
    }

    /// Counts one more case with this status.
    pub fn add(&mut self, status: CaseStatus) {
        match status {
            CaseStatus::Passed => self.passed += 1,
            CaseStatus::Failed => self.failed += 1,
            CaseStatus::Ignored => self.ignored += 1,
        }
    }

    /// Every case counted.
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.ignored
    }
}

/// Totals per profile, in profile-name order, with the summed runner time of each.
pub fn totals_by_profile(results: &[CaseResult]) -> BTreeMap<&str, (RunTotals, Duration)> {
    let mut by_profile: BTreeMap<&str, (RunTotals, Duration)> = BTreeMap::new();
    for result in results {
        let entry = by_profile.entry(result.id.profile.as_str()).or_default();
        entry.0.add(result.status);
        entry.1 += result.duration;
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

/// A failed case's checks joined with `separator`, or, when it has none (the case
/// could not be run), the first non-blank line of its message.
pub fn failed_checks_text(result: &CaseResult, separator: &str) -> String {
    if result.failed_checks.is_empty() {
        result
            .message
            .lines()
            .find(|line| !line.trim().is_empty())
            .unwrap_or("case failed")
            .trim()
            .to_string()
    } else {
        result.failed_checks.join(separator)
    }
}

/// Why writing one of the CI outputs failed.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The JUnit file could not be built or written.
    #[error("cannot write the JUnit file `{path}`: {message}")]
    Junit {
        /// The `--junit` path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The step summary could not be appended to.
    #[error("cannot append to the step summary `{path}`: {source}")]
    StepSummary {
        /// The `$GITHUB_STEP_SUMMARY` path.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// Standard output (or the stream standing in for it) could not be written.
    #[error("cannot write the run output: {0}")]
    Output(#[from] io::Error),
}

/// The totals and outcome of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunSummary {
    /// Counts of all results.
    pub totals: RunTotals,
    /// How the run ended.
    pub outcome: exit::RunOutcome,
    /// Wall time from [`Reporters::new`] to [`Reporters::finish`].
    pub wall_time: Duration,
}

impl RunSummary {
    /// The exit code for these cases (see [`exit`]; ignores output errors).
    pub fn exit_code(&self) -> i32 {
        self.outcome.exit_code()
    }
}

/// What [`Reporters::finish`] returns: the run's summary and the outputs that could not
/// be written.
#[derive(Debug)]
pub struct RunEnd {
    /// Totals and outcome.
    pub summary: RunSummary,
    /// Outputs that failed (JUnit file, step summary, stdout), in the order attempted.
    pub report_errors: Vec<ReportError>,
}

impl RunEnd {
    /// The process exit code: 1 when cases failed; else 2 when an output could not be
    /// written; else 4 for an empty selection (unless allowed); else 0.
    pub fn exit_code(&self) -> i32 {
        match self.summary.outcome {
            exit::RunOutcome::Failed => exit::CASES_FAILED,
            _ if !self.report_errors.is_empty() => exit::USAGE_ERROR,
            outcome => outcome.exit_code(),
        }
    }
}

/// The CI reporters of one run. Shareable between threads: `case_finished` may be called
/// concurrently from the threads that run cases.
pub struct Reporters {
    options: ReportOptions,
    started: Instant,
    /// Where events, annotations and the slowest list go (standard output by default).
    output: Mutex<Box<dyn Write + Send>>,
    /// Where GitHub annotations go when standard output carries JSON events.
    side_output: Mutex<Box<dyn Write + Send>>,
    progress: progress::Progress,
}

impl Reporters {
    /// Reporters printing on the process's standard output (and standard error for the
    /// progress bar, and for annotations when standard output carries JSON events).
    pub fn new(options: ReportOptions) -> Reporters {
        Reporters::with_output(options, Box::new(io::stdout()), Box::new(io::stderr()))
    }

    /// Reporters printing to `output` in place of standard output and to `side_output` in
    /// place of standard error (tests use in-memory buffers).
    pub fn with_output(
        options: ReportOptions,
        output: Box<dyn Write + Send>,
        side_output: Box<dyn Write + Send>,
    ) -> Reporters {
        let progress = progress::Progress::new(options.progress);
        Reporters {
            options,
            started: Instant::now(),
            output: Mutex::new(output),
            side_output: Mutex::new(side_output),
            progress,
        }
    }

    /// The options these reporters were built with.
    pub fn options(&self) -> &ReportOptions {
        &self.options
    }

    /// Announces the run: `case_count` cases are about to run (sets the progress bar's
    /// length; emits the `started` event in JSON mode).
    pub fn run_started(&self, case_count: usize) -> Result<(), ReportError> {
        self.progress.set_length(case_count as u64);
        if self.options.message_format == MessageFormat::Json {
            let line = events::started_event(case_count, self.options.partition.as_ref());
            self.write_line(&line)?;
        }
        Ok(())
    }

    /// Records one finished case: emits its JSON event in JSON mode and advances the bar.
    pub fn case_finished(&self, result: &CaseResult) -> Result<(), ReportError> {
        if self.options.message_format == MessageFormat::Json {
            let line = events::case_event(result, &self.options.workspace_root);
            self.write_line(&line)?;
        }
        self.progress.case_finished(result);
        Ok(())
    }

    /// Writes the end-of-run outputs for `results` (every case of the run, in any order):
    /// GitHub annotations and step summary, the JUnit file, the slowest cases, the JSON
    /// summary event, and on stderr a note when no case was selected. Every output is
    /// attempted; the ones that failed are listed in [`RunEnd::report_errors`].
    pub fn finish(&self, results: &[CaseResult]) -> RunEnd {
        self.progress.finish();
        let wall_time = self.started.elapsed();
        let totals = RunTotals::count(results);
        let outcome = exit::RunOutcome::from_totals(&totals, self.options.allow_empty);
        let summary = RunSummary {
            totals,
            outcome,
            wall_time,
        };
        let slowest = slowest::slowest_cases(results, self.options.slowest);
        let mut report_errors = Vec::new();
        let mut keep = |result: Result<(), ReportError>| {
            if let Err(error) = result {
                report_errors.push(error);
            }
        };

        if self.options.github {
            let annotations = github::annotations(results, &self.options.workspace_root);
            if !annotations.is_empty() {
                let sink = match self.options.message_format {
                    MessageFormat::Human => &self.output,
                    MessageFormat::Json => &self.side_output,
                };
                keep(write_locked(sink, &annotations));
            }
            if let Some(path) = &self.options.step_summary_path {
                let markdown = github::step_summary(results, &summary, &self.options);
                keep(github::append_step_summary(path, &markdown));
            }
        }
        if let Some(path) = &self.options.junit_path {
            keep(junit::write_junit(path, results, wall_time, &self.options));
        }
        match self.options.message_format {
            MessageFormat::Human => {
                let text = slowest::render_human(&slowest);
                if !text.is_empty() {
                    keep(write_locked(&self.output, &text));
                }
            }
            MessageFormat::Json => {
                let line = events::summary_event(&summary, &slowest);
                keep(self.write_line(&line));
            }
        }
        if outcome == exit::RunOutcome::NoCasesSelected {
            keep(write_locked(
                &self.side_output,
                "error: no test case selected (after filters and --partition); pass --allow-empty to exit 0\n",
            ));
        }
        RunEnd {
            summary,
            report_errors,
        }
    }

    fn write_line(&self, line: &str) -> Result<(), ReportError> {
        let mut text = String::with_capacity(line.len() + 1);
        text.push_str(line);
        text.push('\n');
        self.progress.suspend(|| write_locked(&self.output, &text))
    }
}

/// Writes `text` to `sink`. A closed pipe (`cargo x07 test --message-format json | head`) is
/// not an error: the reader has seen all it wanted.
fn write_locked(sink: &Mutex<Box<dyn Write + Send>>, text: &str) -> Result<(), ReportError> {
    let mut writer = sink.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    match writer
        .write_all(text.as_bytes())
        .and_then(|()| writer.flush())
    {
        Err(error) if error.kind() != io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(()),
    }
}

/// Builders shared by the unit tests of the report modules.
#[cfg(test)]
pub(crate) mod test_support {
    use std::path::PathBuf;
    use std::time::Duration;

    use crate::model::{CaseId, CaseResult, CaseStatus};

    /// A result for `<fixture>::default::os` with the given status and duration.
    pub(crate) fn result(fixture: &str, status: CaseStatus, millis: u64) -> CaseResult {
        result_in(fixture, "default", "os", status, millis)
    }

    /// A result for `<fixture>::<case>::<profile>`; failed results get a check, a message
    /// and a reproduce command, ignored ones a reason.
    pub(crate) fn result_in(
        fixture: &str,
        case: &str,
        profile: &str,
        status: CaseStatus,
        millis: u64,
    ) -> CaseResult {
        let reproduce =
            format!("x07 run --project {fixture}/x07.json --profile {profile} --repair=off");
        let failed = status == CaseStatus::Failed;
        CaseResult {
            id: CaseId {
                fixture: fixture.to_string(),
                case: case.to_string(),
                profile: profile.to_string(),
            },
            status,
            duration: Duration::from_millis(millis),
            failed_checks: if failed {
                vec!["output: bytes differ".to_string()]
            } else {
                Vec::new()
            },
            message: if failed {
                format!("output: bytes differ\n-hello\n+hellp\n\nreproduce:\n    {reproduce}\n")
            } else {
                String::new()
            },
            reproduce,
            source_file: PathBuf::from(format!("/ws/{fixture}/x07test.json")),
            ignore_reason: (status == CaseStatus::Ignored).then(|| "flaky on CI".to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{result, result_in};
    use super::*;
    use std::sync::Arc;

    /// A cloneable in-memory stream.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Buffer {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn totals_count_each_status() {
        let results = vec![
            result("a", CaseStatus::Passed, 1),
            result("b", CaseStatus::Failed, 1),
            result_in("c", "default", "sandbox", CaseStatus::Ignored, 0),
        ];
        let totals = RunTotals::count(&results);
        assert_eq!((totals.passed, totals.failed, totals.ignored), (1, 1, 1));
        let by_profile = totals_by_profile(&results);
        assert_eq!(
            by_profile.keys().copied().collect::<Vec<_>>(),
            ["os", "sandbox"]
        );
        assert_eq!(by_profile["os"].0.total(), 2);
        assert_eq!(by_profile["os"].1, Duration::from_millis(2));
    }

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

    #[test]
    fn json_mode_streams_events_from_many_threads_and_ends_with_a_summary() {
        let output = Buffer::default();
        let side = Buffer::default();
        let mut options = ReportOptions::new("/ws");
        options.message_format = MessageFormat::Json;
        let reporters =
            Reporters::with_output(options, Box::new(output.clone()), Box::new(side.clone()));
        let results: Vec<CaseResult> = (0..64)
            .map(|index| {
                let status = if index % 9 == 0 {
                    CaseStatus::Failed
                } else {
                    CaseStatus::Passed
                };
                result(&format!("fixtures/f{index}"), status, index)
            })
            .collect();
        reporters.run_started(results.len()).unwrap();
        std::thread::scope(|scope| {
            for chunk in results.chunks(8) {
                let reporters = &reporters;
                scope.spawn(move || {
                    for result in chunk {
                        reporters.case_finished(result).unwrap();
                    }
                });
            }
        });
        let end = reporters.finish(&results);
        assert!(end.report_errors.is_empty());
        assert_eq!(end.exit_code(), exit::CASES_FAILED);
        let text = output.text();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).expect("every line is JSON"))
            .collect();
        assert_eq!(lines.len(), 66);
        assert_eq!(lines[0]["type"], "started");
        assert_eq!(lines[0]["case_count"], 64);
        assert!(lines[1..65].iter().all(|event| event["type"] == "case"));
        assert_eq!(lines[65]["type"], "summary");
        assert_eq!(lines[65]["failed"], 8);
        assert_eq!(lines[65]["passed"], 56);
        assert_eq!(lines[65]["exit_code"], 1);
        assert!(side.text().is_empty());
    }

    #[test]
    fn human_mode_prints_the_slowest_cases_and_github_annotations() {
        let output = Buffer::default();
        let mut options = ReportOptions::new("/ws");
        options.github = true;
        options.slowest = 2;
        let reporters =
            Reporters::with_output(options, Box::new(output.clone()), Box::new(io::sink()));
        let results = vec![
            result("fixtures/ok", CaseStatus::Passed, 30),
            result("fixtures/broken", CaseStatus::Failed, 20),
            result("fixtures/fast", CaseStatus::Passed, 1),
        ];
        for result in &results {
            reporters.case_finished(result).unwrap();
        }
        let end = reporters.finish(&results);
        assert_eq!(end.summary.outcome, exit::RunOutcome::Failed);
        let text = output.text();
        let errors: Vec<&str> = text
            .lines()
            .filter(|line| line.starts_with("::error "))
            .collect();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("::error file=fixtures/broken/x07test.json,title=fixtures/broken%3A%3Adefault%3A%3Aos::"));
        assert!(text.ends_with(
            "slowest 2 cases:\n    0.030s  fixtures/ok::default::os\n    0.020s  fixtures/broken::default::os\n"
        ));
    }

    #[test]
    fn empty_run_exits_four_unless_allowed() {
        let side = Buffer::default();
        let reporters = Reporters::with_output(
            ReportOptions::new("/ws"),
            Box::new(io::sink()),
            Box::new(side.clone()),
        );
        assert_eq!(reporters.finish(&[]).exit_code(), exit::NO_CASES_SELECTED);
        assert!(side.text().contains("no test case selected"));
        let mut options = ReportOptions::new("/ws");
        options.allow_empty = true;
        let reporters = Reporters::with_output(options, Box::new(io::sink()), Box::new(io::sink()));
        assert_eq!(reporters.finish(&[]).exit_code(), exit::ALL_PASSED);
    }

    #[test]
    fn an_unwritable_junit_file_exits_two_unless_cases_failed() {
        let folder = tempfile::tempdir().unwrap();
        let blocker = folder.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let mut options = ReportOptions::new("/ws");
        options.junit_path = Some(blocker.join("junit.xml"));
        let reporters =
            Reporters::with_output(options.clone(), Box::new(io::sink()), Box::new(io::sink()));
        let end = reporters.finish(&[result("a", CaseStatus::Passed, 1)]);
        assert_eq!(end.report_errors.len(), 1);
        assert!(end.report_errors[0]
            .to_string()
            .starts_with("cannot write the JUnit file"));
        assert_eq!(end.exit_code(), exit::USAGE_ERROR);
        let reporters = Reporters::with_output(options, Box::new(io::sink()), Box::new(io::sink()));
        let end = reporters.finish(&[result("a", CaseStatus::Failed, 1)]);
        assert_eq!(end.exit_code(), exit::CASES_FAILED);
    }
}
