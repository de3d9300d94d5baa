//! Ties the stages together for a test run: load the planned cases, turn
//! each into a `libtest_mimic::Trial` whose closure runs the case on the
//! shared rayon pool (run → check → [`CaseResult`]), and collect every
//! finished result for the reporters and for bless.
//!
//! Both `cargo x07 test` and the `x07-harness` crate go through here, so the
//! two print and behave the same.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::check::{self, Verdict};
use crate::config::{SandboxBackend, WorkspaceConfig};
use crate::discover;
use crate::message;
use crate::model::{CaseId, CaseResult, CaseStatus};
use crate::plan::{self, PlannedCase};
use crate::run::{self, RunOutput, Runner};

/// Everything known about one executed case.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    /// The case as planned.
    pub case: PlannedCase,
    /// What every reporter renders.
    pub result: CaseResult,
    /// The check verdict, when the runner ran.
    pub verdict: Option<Verdict>,
    /// The runner's raw output, when it ran.
    pub output: Option<RunOutput>,
}

/// A callback that sees each result as soon as its case finishes.
pub type ResultCallback = Box<dyn Fn(&CaseResult) + Send + Sync>;

/// Collects finished cases from the trial closures (any thread).
#[derive(Default)]
pub struct Collector {
    outcomes: Mutex<Vec<CaseOutcome>>,
    on_result: Option<ResultCallback>,
}

impl Collector {
    /// A collector with no callback.
    pub fn new() -> Collector {
        Collector::default()
    }

    /// A collector that also calls `on_result` for each finished case.
    pub fn with_callback(on_result: ResultCallback) -> Collector {
        Collector {
            outcomes: Mutex::new(Vec::new()),
            on_result: Some(on_result),
        }
    }

    /// Records one finished case.
    pub fn push(&self, outcome: CaseOutcome) {
        if let Some(callback) = &self.on_result {
            callback(&outcome.result);
        }
        self.outcomes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(outcome);
    }

    /// Every recorded case, sorted by test name.
    pub fn outcomes(&self) -> Vec<CaseOutcome> {
        let mut outcomes = self
            .outcomes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        outcomes.sort_by(|a, b| a.result.id.cmp(&b.result.id));
        outcomes
    }

    /// Every recorded [`CaseResult`], sorted by test name.
    pub fn results(&self) -> Vec<CaseResult> {
        self.outcomes().into_iter().map(|o| o.result).collect()
    }
}

/// Why the cases could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Configuration problem.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Discovery problem.
    #[error(transparent)]
    Discover(#[from] discover::DiscoverError),
}

/// Applies command-line overrides to every package's settings.
pub fn override_settings(
    workspace: &mut WorkspaceConfig,
    sandbox_backend: Option<SandboxBackend>,
    timeout_ms: Option<u64>,
) {
    for package in &mut workspace.packages {
        if let Some(backend) = sandbox_backend {
            package.settings.sandbox_backend = backend;
        }
        if let Some(timeout) = timeout_ms {
            package.settings.timeout_ms = timeout;
        }
    }
}

/// Plans the cases to run. With `exact_name` (libtest `--exact` plus a filter)
/// only the fixture that name points at is read.
pub fn load_cases(
    workspace: &WorkspaceConfig,
    exact_name: Option<&str>,
) -> Result<Vec<PlannedCase>, LoadError> {
    let fixtures = match exact_name {
        Some(name) => discover::locate(workspace, name).into_iter().collect(),
        None => discover::discover(workspace)?,
    };
    Ok(plan::plan_all(workspace, &fixtures))
}

/// The number of cases run at once: `--test-threads`, else `-j`, else
/// `RUST_TEST_THREADS`, else the configured `jobs`, else the available cores.
pub fn thread_count(
    test_threads: Option<usize>,
    jobs: Option<usize>,
    configured: Option<usize>,
) -> usize {
    test_threads
        .or(jobs)
        .or_else(|| {
            std::env::var("RUST_TEST_THREADS")
                .ok()
                .and_then(|value| value.trim().parse().ok())
        })
        .or(configured)
        .or_else(|| std::thread::available_parallelism().ok().map(Into::into))
        .unwrap_or(1)
        .max(1)
}

/// Runs one case start to finish: problem → failure; else run, check, message.
pub fn execute_case(case: &PlannedCase, runner: &Runner) -> CaseOutcome {
    let reproduce = run::reproduce_command(case);
    let mut result = CaseResult {
        id: case.id.clone(),
        status: CaseStatus::Failed,
        duration: Duration::ZERO,
        failed_checks: Vec::new(),
        message: String::new(),
        reproduce: reproduce.clone(),
        source_file: case.source_file.clone(),
        ignore_reason: None,
    };
    if let Some(problem) = &case.problem {
        result.failed_checks.push(message::problem_summary(problem));
        result.message = message::problem_message(case, problem, &reproduce);
        return CaseOutcome {
            case: case.clone(),
            result,
            verdict: None,
            output: None,
        };
    }
    let output = match run::run_case(case, runner) {
        Ok(output) => output,
        Err(error) => {
            result.failed_checks.push(format!("runner: {error}"));
            result.message = message::run_error_message(case, &error, &reproduce);
            return CaseOutcome {
                case: case.clone(),
                result,
                verdict: None,
                output: None,
            };
        }
    };
    let verdict = check::check(case, &output);
    result.duration = output.duration;
    if verdict.passed() {
        result.status = CaseStatus::Passed;
    } else {
        result.failed_checks = verdict
            .mismatches
            .iter()
            .map(|mismatch| mismatch.summary.clone())
            .collect();
        result.message = message::failure_message(case, &output, &verdict, &reproduce);
    }
    CaseOutcome {
        case: case.clone(),
        result,
        verdict: Some(verdict),
        output: Some(output),
    }
}

/// A result for a case that was ignored and not run.
pub fn ignored_result(case: &PlannedCase) -> CaseResult {
    CaseResult {
        id: case.id.clone(),
        status: CaseStatus::Ignored,
        duration: Duration::ZERO,
        failed_checks: Vec::new(),
        message: String::new(),
        reproduce: run::reproduce_command(case),
        source_file: case.source_file.clone(),
        ignore_reason: case.ignore.clone(),
    }
}

/// Builds one trial per case. Each trial runs its case on `pool` and hands
/// the outcome to `collector`.
pub fn trials(
    cases: &[PlannedCase],
    runner: Arc<Runner>,
    pool: Arc<rayon::ThreadPool>,
    collector: Arc<Collector>,
) -> Vec<libtest_mimic::Trial> {
    cases
        .iter()
        .map(|case| {
            let name = case.id.test_name();
            let ignored = case.ignore.is_some();
            let case = case.clone();
            let runner = Arc::clone(&runner);
            let pool = Arc::clone(&pool);
            let collector = Arc::clone(&collector);
            libtest_mimic::Trial::test(name, move || {
                let outcome = pool.install(|| execute_case(&case, &runner));
                let failed = outcome.result.status == CaseStatus::Failed;
                let message = outcome.result.message.clone();
                collector.push(outcome);
                if failed {
                    Err(message.into())
                } else {
                    Ok(())
                }
            })
            .with_ignored_flag(ignored)
        })
        .collect()
}

/// Outcomes for the cases libtest selected but did not run because they are ignored.
pub fn ignored_outcomes(
    args: &libtest_mimic::Arguments,
    cases: &[PlannedCase],
) -> Vec<CaseOutcome> {
    cases
        .iter()
        .filter(|case| case.ignore.is_some())
        .filter(|case| {
            let probe =
                libtest_mimic::Trial::test(case.id.test_name(), || Ok(())).with_ignored_flag(true);
            !args.is_filtered_out(&probe) && args.is_ignored(&probe)
        })
        .map(|case| CaseOutcome {
            case: case.clone(),
            result: ignored_result(case),
            verdict: None,
            output: None,
        })
        .collect()
}

/// The name libtest `--exact` would select, when exactly one is given.
pub fn exact_filter(args: &libtest_mimic::Arguments) -> Option<&str> {
    if args.exact {
        args.filter.as_deref()
    } else {
        None
    }
}

/// The id and fixture path of every planned case (used by bless).
pub fn planned_ids(cases: &[PlannedCase]) -> Vec<(CaseId, PathBuf)> {
    cases
        .iter()
        .map(|case| (case.id.clone(), case.source_file.clone()))
        .collect()
}

/// Trials that only carry the cases' names and ignore flags, for `--list`
/// (nextest's custom-harness contract: `--list --format terse` prints only
/// `<name>: test` lines).
pub fn list_trials(cases: &[PlannedCase]) -> Vec<libtest_mimic::Trial> {
    cases
        .iter()
        .map(|case| {
            libtest_mimic::Trial::test(case.id.test_name(), || Ok(()))
                .with_ignored_flag(case.ignore.is_some())
        })
        .collect()
}
