//! The one run loop: [`run()`] executes a [`RunPlan`] on a rayon pool of worker threads
//! (one per `--test-threads`) with a [`Backend`] and reports typed [`Event`]s to an
//! [`EventSink`] on the calling thread.
//! `cargo x07 test`, `cargo x07 run`, bless and the harness test target all go through
//! it; every reporter (libtest lines, JSON events, JUnit, GitHub, progress) is a sink, so
//! they are views of the same stream (nextest's runner/reporter split).
//!
//! A case travels: planned ([`crate::plan`]) → selected ([`crate::select`]) → executed
//! here (problems found while planning fail it at once; otherwise the backend runs it and
//! [`crate::check`] checks the report) → a [`CaseOutcome`] whose failures are data
//! ([`Failure`]); [`crate::message`] turns them into text.
//!
//! A sink that finds its output closed (`cargo x07 test | head`) stops the run: no
//! further case starts, the running ones are killed, and the exit code reflects the
//! cases that finished. Exit codes are decided in [`exit`].

pub mod exit;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use crate::backend::{Backend, RunnerInfo};
use crate::check::{self, Verdict};
use crate::differential::{self, Companion};
use crate::failure::Failure;
use crate::history::{LastRun, SinceLastRun};
use crate::model::{CaseId, CaseStatus};
use crate::partition::Partition;
use crate::plan::PlannedCase;
use crate::run::{self, Reproduce, RunOutput};

/// A case the run reports on: run it, or report it ignored.
#[derive(Debug, Clone)]
pub struct SelectedCase {
    /// The case.
    pub case: PlannedCase,
    /// `Some(reason)`: report it as ignored without running it.
    pub ignored: Option<String>,
}

/// What a run covers: the selected cases in order, and how many were left out.
#[derive(Debug, Clone, Default)]
pub struct RunPlan {
    /// The cases to report on, in order.
    pub cases: Vec<SelectedCase>,
    /// Cases left out by `--profile`, test-name filters and `--partition`.
    pub filtered_out: usize,
    /// Whether a test-name filter was given (FILTER, `--skip`, `--exact`, `--ignored`).
    pub name_filtered: bool,
    /// The shard this run covers.
    pub partition: Option<Partition>,
    /// `--differential`: what to run after a sandbox case passed (see [`differential`]).
    pub differential: HashMap<CaseId, Arc<Companion>>,
    /// The last run's verdicts, when known: the summary then says which cases newly
    /// failed and which were fixed.
    pub previous_run: Option<Arc<LastRun>>,
}

impl RunPlan {
    /// A plan that runs every one of `cases`, in order, with nothing filtered out.
    pub fn of_cases(cases: impl IntoIterator<Item = PlannedCase>) -> RunPlan {
        RunPlan {
            cases: cases
                .into_iter()
                .map(|case| SelectedCase {
                    case,
                    ignored: None,
                })
                .collect(),
            ..RunPlan::default()
        }
    }
}

/// How to run.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Cases run at once (at least 1).
    pub threads: usize,
    /// Whether an empty selection passes.
    pub allow_empty: bool,
}

/// Everything known about one finished case.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    /// The case as planned.
    pub case: PlannedCase,
    /// Passed, failed or ignored.
    pub status: CaseStatus,
    /// Wall time of the runner process (zero when it did not run).
    pub duration: Duration,
    /// Every failure, in check order (empty unless failed).
    pub failures: Vec<Failure>,
    /// What the runner process did, when it ran.
    pub output: Option<RunOutput>,
    /// The report and the values read from it, when the runner ran (its `failures` are
    /// moved to [`CaseOutcome::failures`]).
    pub verdict: Option<Verdict>,
    /// The lines that reproduce the case; `None` when it failed before any run.
    pub reproduce: Option<Reproduce>,
    /// Why the case was not run, when it is ignored.
    pub ignore_reason: Option<String>,
}

impl CaseOutcome {
    /// The case's identity.
    pub fn id(&self) -> &CaseId {
        &self.case.id
    }

    /// The runner's report as JSON, when it printed one (a real toolchain) or handed one
    /// over (the embedded runner, whose report is rendered here, on demand).
    pub fn report_json(&self) -> Option<serde_json::Value> {
        if let Some(report) = self.verdict.as_ref().and_then(|v| v.report.as_ref()) {
            return Some(report.clone());
        }
        let report = self.output.as_ref()?.report.as_ref()?;
        Some(report.to_value())
    }

    /// Drops what only the case's own `CaseFinished` event needs once every sink has
    /// seen it: for a case that did not fail, the output bytes and the report (a case
    /// whose program printed 50 MB must not hold them until the end of the run). A
    /// failed case keeps everything (messages, JUnit and bless read it at the end).
    pub fn keep_summary(&mut self) {
        if self.status == CaseStatus::Failed {
            return;
        }
        if let Some(output) = &mut self.output {
            output.stdout = Vec::new();
            output.report = None;
        }
        if let Some(verdict) = &mut self.verdict {
            verdict.report = None;
            if let Some(actual) = &mut verdict.actual {
                actual.output = None;
                actual.solve_stderr = None;
            }
        }
    }

    /// A case reported as ignored, with the reason, without running it.
    pub fn ignored(case: &PlannedCase, reason: String) -> CaseOutcome {
        CaseOutcome {
            case: case.clone(),
            status: CaseStatus::Ignored,
            duration: Duration::ZERO,
            failures: Vec::new(),
            output: None,
            verdict: None,
            reproduce: None,
            ignore_reason: Some(reason),
        }
    }
}

/// Counts of outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunTotals {
    /// Cases whose every check held.
    pub passed: usize,
    /// Cases that failed or could not run.
    pub failed: usize,
    /// Cases reported as ignored.
    pub ignored: usize,
}

impl RunTotals {
    /// Counts `outcomes`.
    pub fn count<'a>(outcomes: impl IntoIterator<Item = &'a CaseOutcome>) -> RunTotals {
        let mut totals = RunTotals::default();
        for outcome in outcomes {
            totals.add(outcome.status);
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

/// The end of a run.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// Counts of the finished cases.
    pub totals: RunTotals,
    /// Cases the plan selected.
    pub selected: usize,
    /// Cases left out by filters and `--partition`.
    pub filtered_out: usize,
    /// Selected cases that never finished because the run was stopped.
    pub not_run: usize,
    /// Whether an output was closed and the run stopped early.
    pub stopped: bool,
    /// How the run ended (see [`exit`]).
    pub outcome: exit::RunOutcome,
    /// Wall time of the run.
    pub wall_time: Duration,
    /// Cases newly failed and fixed since the last run, when the last run is known.
    pub since_last_run: Option<SinceLastRun>,
}

impl RunSummary {
    /// The exit code of this run, not counting outputs that could not be written.
    pub fn exit_code(&self) -> i32 {
        self.outcome.exit_code()
    }
}

/// The start of a run.
#[derive(Debug, Clone)]
pub struct RunStart<'a> {
    /// Cases selected.
    pub case_count: usize,
    /// Cases left out by filters and `--partition`.
    pub filtered_out: usize,
    /// Cases run at once.
    pub threads: usize,
    /// The runner.
    pub runner: &'a RunnerInfo,
    /// The shard this run covers.
    pub partition: Option<Partition>,
    /// The test names of the selected cases, in order.
    pub names: Vec<String>,
}

/// What a run reports, in order: one `RunStarted`, then per case `CaseStarted` (only for
/// cases that run) and `CaseFinished`, and one `RunFinished`.
#[derive(Debug)]
pub enum Event<'a> {
    /// The run is about to start.
    RunStarted(&'a RunStart<'a>),
    /// A case's runner is about to start.
    CaseStarted(&'a CaseId),
    /// A case finished (or was ignored).
    CaseFinished(&'a CaseOutcome),
    /// Every case finished (or the run was stopped).
    RunFinished {
        /// Totals and outcome.
        summary: &'a RunSummary,
        /// Every finished case, in plan order.
        outcomes: &'a [CaseOutcome],
    },
}

/// Why a sink could not report an event.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Its output was closed by the reader (`| head`): the run stops quietly.
    #[error("the output was closed")]
    Closed,
    /// It could not write (a JUnit file, the step summary, stdout); the run goes on and
    /// the error is printed at the end.
    #[error("{0}")]
    Failed(String),
}

impl SinkError {
    /// An I/O error writing a stream: `Closed` for a broken pipe.
    pub fn from_io(error: std::io::Error, what: &str) -> SinkError {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            SinkError::Closed
        } else {
            SinkError::Failed(format!("cannot write {what}: {error}"))
        }
    }
}

/// A reporter: sees every event of a run, on the thread that called [`run()`].
pub trait EventSink {
    /// Handles one event.
    fn handle(&mut self, event: &Event<'_>) -> Result<(), SinkError>;
}

/// Several sinks, each seeing every event in order. A sink whose output is closed is
/// asked no more and the run is told to stop; other errors are kept for the end.
pub struct Sinks {
    sinks: Vec<(Box<dyn EventSink>, bool)>,
    errors: Vec<String>,
    closed: bool,
}

impl Sinks {
    /// No sinks yet.
    pub fn new() -> Sinks {
        Sinks {
            sinks: Vec::new(),
            errors: Vec::new(),
            closed: false,
        }
    }

    /// Adds a sink; it sees events after the ones added before it.
    pub fn push(&mut self, sink: Box<dyn EventSink>) {
        self.sinks.push((sink, true));
    }

    /// The errors of sinks that could not write (not counting closed outputs).
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// Whether an output was closed.
    pub fn closed(&self) -> bool {
        self.closed
    }
}

impl Default for Sinks {
    fn default() -> Self {
        Sinks::new()
    }
}

impl EventSink for Sinks {
    fn handle(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        let mut closed_now = false;
        for (sink, open) in &mut self.sinks {
            if !*open {
                continue;
            }
            match sink.handle(event) {
                Ok(()) => {}
                Err(SinkError::Closed) => {
                    *open = false;
                    closed_now = true;
                }
                Err(SinkError::Failed(error)) => self.errors.push(error),
            }
        }
        if closed_now && !self.closed {
            self.closed = true;
            return Err(SinkError::Closed);
        }
        Ok(())
    }
}

/// The result of [`run()`].
#[derive(Debug)]
pub struct RunResult {
    /// Totals, outcome, timing.
    pub summary: RunSummary,
    /// Every finished case, in plan order.
    pub outcomes: Vec<CaseOutcome>,
}

enum Message {
    Started(usize),
    Finished(usize, Box<CaseOutcome>),
    NotRun,
}

/// Runs `plan` with `backend` on `options.threads` worker threads, reporting to `sink`
/// from the calling thread.
pub fn run(
    plan: &RunPlan,
    backend: &dyn Backend,
    options: &EngineOptions,
    sink: &mut dyn EventSink,
) -> RunResult {
    let started = Instant::now();
    let threads = options.threads.max(1);
    let stop = AtomicBool::new(false);
    let stop_now = |stop: &AtomicBool| {
        if !stop.swap(true, Ordering::SeqCst) {
            run::stop_running_cases();
        }
    };
    let start = RunStart {
        case_count: plan.cases.len(),
        filtered_out: plan.filtered_out,
        threads,
        runner: backend.info(),
        partition: plan.partition,
        names: plan.cases.iter().map(|c| c.case.id.test_name()).collect(),
    };
    if let Err(SinkError::Closed) = sink.handle(&Event::RunStarted(&start)) {
        stop.store(true, Ordering::SeqCst);
    }
    let mut finished: Vec<Option<CaseOutcome>> = vec![None; plan.cases.len()];
    let (sender, receiver) = mpsc::channel::<Message>();
    let workers = threads.min(plan.cases.len()).max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(|worker| format!("cargo-x07-case-{worker}"))
        .build()
        .expect("the worker threads start");
    // The cases go to the pool in plan order (jobs injected from outside the pool are
    // taken first in, first out); this thread reports while they run.
    pool.in_place_scope(|scope| {
        for (index, selected) in plan.cases.iter().enumerate() {
            let sender = sender.clone();
            let stop = &stop;
            scope.spawn(move |_| {
                if stop.load(Ordering::SeqCst) {
                    let _ = sender.send(Message::NotRun);
                    return;
                }
                let outcome = match ignore_reason(selected, backend) {
                    Some(reason) => CaseOutcome::ignored(&selected.case, reason),
                    None => {
                        let _ = sender.send(Message::Started(index));
                        let mut outcome = execute_case(&selected.case, backend);
                        if let Some(companion) = plan.differential.get(&selected.case.id) {
                            differential::apply(companion, &mut outcome, backend);
                        }
                        outcome
                    }
                };
                let _ = sender.send(Message::Finished(index, Box::new(outcome)));
            });
        }
        drop(sender);
        for message in receiver {
            if stop.load(Ordering::SeqCst) {
                continue;
            }
            let event_result = match &message {
                Message::Started(index) => {
                    sink.handle(&Event::CaseStarted(&plan.cases[*index].case.id))
                }
                Message::Finished(_, outcome) => sink.handle(&Event::CaseFinished(outcome)),
                Message::NotRun => Ok(()),
            };
            if let Message::Finished(index, mut outcome) = message {
                outcome.keep_summary();
                finished[index] = Some(*outcome);
            }
            if let Err(SinkError::Closed) = event_result {
                stop_now(&stop);
            }
        }
    });
    let outcomes: Vec<CaseOutcome> = finished.into_iter().flatten().collect();
    let stopped = stop.load(Ordering::SeqCst);
    let totals = RunTotals::count(&outcomes);
    let summary = RunSummary {
        totals,
        selected: plan.cases.len(),
        filtered_out: plan.filtered_out,
        not_run: plan.cases.len() - outcomes.len(),
        stopped,
        outcome: exit::RunOutcome::decide(
            totals.failed,
            plan.cases.len(),
            plan.name_filtered,
            options.allow_empty,
        ),
        wall_time: started.elapsed(),
        since_last_run: plan
            .previous_run
            .as_deref()
            .map(|previous| SinceLastRun::compare(previous, &outcomes)),
    };
    // After a stop, the outputs that are still open (JUnit, step summary) still get the
    // end of the run, with what finished.
    let _ = sink.handle(&Event::RunFinished {
        summary: &summary,
        outcomes: &outcomes,
    });
    RunResult { summary, outcomes }
}

fn ignore_reason(selected: &SelectedCase, backend: &dyn Backend) -> Option<String> {
    selected
        .ignored
        .clone()
        .or_else(|| backend.cannot_run(&selected.case))
}

/// Runs one case start to finish: a planning problem fails it at once; else the backend
/// runs it and the report is checked.
pub fn execute_case(case: &PlannedCase, backend: &dyn Backend) -> CaseOutcome {
    let mut outcome = CaseOutcome {
        case: case.clone(),
        status: CaseStatus::Failed,
        duration: Duration::ZERO,
        failures: Vec::new(),
        output: None,
        verdict: None,
        reproduce: None,
        ignore_reason: None,
    };
    if !case.problems.is_empty() {
        outcome.failures = case
            .problems
            .iter()
            .cloned()
            .map(Failure::Fixture)
            .collect();
        return outcome;
    }
    let info = backend.info();
    outcome.reproduce = Some(run::reproduce(
        case,
        info.kind,
        &info.program_word,
        &info.cargo_x07_flags,
    ));
    let output = match backend.execute(case) {
        Ok(output) => output,
        Err(failure) => {
            outcome.failures.push(Failure::Runner(failure));
            return outcome;
        }
    };
    let mut verdict = check::check(case, &output);
    outcome.duration = output.duration;
    outcome.failures = std::mem::take(&mut verdict.failures);
    if outcome.failures.is_empty() {
        outcome.status = CaseStatus::Passed;
    }
    outcome.output = Some(output);
    outcome.verdict = Some(verdict);
    outcome
}
