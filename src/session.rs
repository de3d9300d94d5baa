//! A test run from start to end — the one place that loads the workspace, plans and
//! selects the cases, picks the backend, builds the reporters and runs the engine, then
//! blesses when asked and decides the exit code. `cargo x07 test`, `cargo x07 bless` and
//! the harness test target (`x07_harness::main`) all call [`run_tests`], so they select,
//! print and exit alike.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use crate::backend::{self, Backend as _, BackendChoice, Runner, RunnerKind};
use crate::bless;
use crate::config::{self, SandboxBackend, Selection as Packages, WorkspaceConfig};
use crate::differential;
use crate::discover;
use crate::engine::{self, exit, EngineOptions};
use crate::history::LastRun;
use crate::plan::{self, PlannedCase};
use crate::report::{self, args::CiArgs, MessageFormat, SharedStream, Streams};
use crate::run::{self, EnvClear, RunnerEnv};
use crate::select::Selection;

/// Everything a test run is asked to do.
#[derive(Debug, Clone, Default)]
pub struct TestRequest {
    /// Which workspace and packages.
    pub packages: Packages,
    /// `--x07 PATH`.
    pub x07: Option<PathBuf>,
    /// `--backend`.
    pub backend: BackendChoice,
    /// `--sandbox-backend`, overriding the configuration.
    pub sandbox_backend: Option<SandboxBackend>,
    /// `--timeout-ms`, overriding the configuration.
    pub timeout_ms: Option<u64>,
    /// `-j N`.
    pub jobs: Option<usize>,
    /// `--clean-env`: remove every inherited `X07_*` variable (as `env_clear = "all"`).
    pub clean_env: bool,
    /// libtest's flags.
    pub libtest: libtest_mimic::Arguments,
    /// The CI flags.
    pub ci: CiArgs,
    /// Rewrite the expectations of failing cases afterwards.
    pub bless: bool,
    /// `--differential` (`Some(true)`) / `--no-differential` (`Some(false)`); `None`: the
    /// `differential` configuration key.
    pub differential: Option<bool>,
    /// `--last-failed`: run only the cases that failed in the last run.
    pub last_failed: bool,
    /// `--failed-first`: run the last run's failures before the other cases.
    pub failed_first: bool,
}

/// Why a run could not start (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// `--test-threads 0`.
    #[error("argument for --test-threads must not be 0")]
    ZeroThreads,
    /// `RUST_TEST_THREADS` is set (and used) but is no positive integer; libtest stops too.
    #[error("RUST_TEST_THREADS is `{0}`, should be a positive integer")]
    BadThreadsVariable(String),
    /// `--ignored` with `--include-ignored` (libtest refuses the pair too).
    #[error("the options --include-ignored and --ignored are mutually exclusive")]
    IgnoredTwice,
    /// The configuration could not be loaded.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The fixture roots could not be walked.
    #[error(transparent)]
    Discover(#[from] discover::DiscoverError),
    /// `cargo x07 test <path>` named a path without fixtures.
    #[error(transparent)]
    Path(#[from] discover::PathError),
    /// No runner.
    #[error(transparent)]
    Runner(#[from] backend::ResolveError),
    /// Bless refused.
    #[error(transparent)]
    Bless(#[from] bless::BlessError),
    /// An output could not be opened (`--logfile`).
    #[error("cannot open the output: {0}")]
    Output(std::io::Error),
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

/// Gives `backend` the run's environment (see [`crate::run::env`]): inherited run-shaping
/// `X07_*` variables removed (every `X07_*` one with `--clean-env` or `env_clear = "all"`),
/// and the configured native cache as `X07_NATIVE_CACHE_DIR` unless the caller set it (not
/// with a clean environment: then only the configured `env` is set). For a real toolchain
/// the native cache directory is created.
pub fn set_runner_environment(backend: &mut Runner, workspace: &WorkspaceConfig, clean_env: bool) {
    let settings = workspace.run_settings();
    let clear = if clean_env {
        EnvClear::All
    } else {
        settings.env_clear
    };
    let native_cache = match clear {
        EnvClear::All => None,
        EnvClear::RunShaping => settings.native_cache_dir.as_deref(),
    };
    let env = RunnerEnv::from_process(clear, native_cache);
    if backend.info.kind == RunnerKind::X07 {
        if let Some(dir) = env.default_native_cache() {
            // Best effort: x07 falls back to its own default when it cannot use the directory.
            let _ = std::fs::create_dir_all(dir);
        }
    }
    backend.set_environment(env);
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

/// The planned cases of a run and how many cases the workspace has in all. With
/// `--exact NAME` only the fixture that name points at is planned (nextest runs one test
/// per process); the others are only counted, for libtest's filtered-out count.
pub fn load_cases(
    workspace: &WorkspaceConfig,
    exact_name: Option<&str>,
) -> Result<(Vec<PlannedCase>, usize), SetupError> {
    match exact_name.and_then(|name| discover::locate(workspace, name)) {
        Some(location) => {
            let cases = plan::plan_fixture(workspace, &location);
            let all = discover::discover(workspace)?;
            let total = plan::count_cases(workspace, &all).max(cases.len());
            Ok((cases, total))
        }
        None => {
            let fixtures = discover::discover(workspace)?;
            let cases = plan::plan_all(workspace, &fixtures);
            let total = cases.len();
            Ok((cases, total))
        }
    }
}

/// The path a test-name FILTER names, when it names one: `cargo x07 test demo` runs the
/// fixtures at or below `./demo` (a fixture directory, its `x07.json`, a smoke suite or a
/// directory of fixtures) even when they are outside the configured fixture roots. A
/// FILTER with `::` (a test name), `--exact`, or one that is no existing path stays a
/// libtest filter.
pub fn filter_path(libtest: &libtest_mimic::Arguments) -> Option<PathBuf> {
    if libtest.exact {
        return None;
    }
    path_of_filter(libtest.filter.as_deref()?)
}

/// `filter` as a path, when it is no test name (no `::`) and names an existing file or
/// directory (from the current directory).
pub fn path_of_filter(filter: &str) -> Option<PathBuf> {
    let is_path =
        !filter.is_empty() && !filter.contains("::") && std::fs::symlink_metadata(filter).is_ok();
    is_path.then(|| PathBuf::from(filter))
}

/// The planned cases of the fixtures at or below `path` (see [`filter_path`]).
pub fn load_cases_at(
    workspace: &mut WorkspaceConfig,
    path: &std::path::Path,
) -> Result<(Vec<PlannedCase>, usize), SetupError> {
    let fixtures = discover::discover_path(workspace, path)?;
    let cases = plan::plan_all(workspace, &fixtures);
    // libtest's filtered-out count: every other case of the workspace, counted cheaply.
    let others: Vec<discover::FixtureLocation> = discover::discover(workspace)
        .unwrap_or_default()
        .into_iter()
        .filter(|other| fixtures.iter().all(|selected| selected.name != other.name))
        .collect();
    let total = cases.len() + plan::count_cases(workspace, &others);
    Ok((cases, total))
}

/// Flags a `cargo x07 run` reproduce line repeats so that it runs like this run.
fn reproduce_flags(request: &TestRequest, workspace: &WorkspaceConfig) -> Vec<String> {
    let mut flags = Vec::new();
    let inside = std::env::current_dir()
        .ok()
        .and_then(|cwd| cwd.canonicalize().ok())
        .is_some_and(|cwd| {
            let root = workspace
                .root
                .canonicalize()
                .unwrap_or(workspace.root.clone());
            cwd.starts_with(root)
        });
    if !inside {
        flags.push("--manifest-path".into());
        flags.push(
            run::path_from_cwd(&workspace.root.join("Cargo.toml"))
                .display()
                .to_string(),
        );
    }
    if let Some(backend) = request.sandbox_backend {
        flags.push("--sandbox-backend".into());
        flags.push(
            match backend {
                SandboxBackend::Os => "os",
                SandboxBackend::Vm => "vm",
            }
            .into(),
        );
    }
    if let Some(timeout) = request.timeout_ms {
        flags.push("--timeout-ms".into());
        flags.push(timeout.to_string());
    }
    if request.clean_env {
        flags.push("--clean-env".into());
    }
    flags
}

/// Writes text to a stream, ignoring a closed pipe (the reader has seen enough).
fn say(out: &mut dyn Write, text: &str) {
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Runs a test run and returns its exit code (see [`engine::exit`]); output goes to
/// `streams`.
pub fn run_tests(request: TestRequest, streams: Streams) -> i32 {
    let mut stdout = SharedStream::new(streams.stdout);
    let mut stderr = SharedStream::new(streams.stderr);
    match run_tests_inner(&request, &mut stdout, &mut stderr) {
        Ok(code) => code,
        Err(error) => {
            say(&mut stderr, &format!("error: {error}\n"));
            exit::USAGE_ERROR
        }
    }
}

fn run_tests_inner(
    request: &TestRequest,
    stdout: &mut SharedStream,
    stderr: &mut SharedStream,
) -> Result<i32, SetupError> {
    if request.bless {
        bless::refuse_in_ci()?;
    }
    if request.libtest.test_threads == Some(0) {
        return Err(SetupError::ZeroThreads);
    }
    if request.libtest.test_threads.is_none() && request.jobs.is_none() {
        if let Ok(value) = std::env::var("RUST_TEST_THREADS") {
            if !value.trim().parse::<usize>().is_ok_and(|count| count > 0) {
                return Err(SetupError::BadThreadsVariable(value));
            }
        }
    }
    if request.libtest.ignored && request.libtest.include_ignored {
        return Err(SetupError::IgnoredTwice);
    }
    let path = filter_path(&request.libtest);
    let mut packages = request.packages.clone();
    if path.is_some() && packages.packages.is_empty() {
        // The path says which package a fixture belongs to.
        packages.workspace = true;
    }
    let mut workspace = config::load(&packages)?;
    override_settings(&mut workspace, request.sandbox_backend, request.timeout_ms);
    let state_path = LastRun::path(&workspace.target_dir);
    let previous = match LastRun::load(&state_path) {
        Ok(previous) => previous,
        Err(error) => {
            say(
                stderr,
                &format!("warning: {error}; the last run's results are not used\n"),
            );
            None
        }
    };
    let recorded_failures = previous.as_ref().map(LastRun::failed).unwrap_or_default();
    let mut selection = Selection {
        profiles: request.ci.profiles.clone(),
        partition: request.ci.partition,
        libtest: request.libtest.clone(),
        only: request.last_failed.then(|| recorded_failures.clone()),
        first: request.failed_first.then(|| recorded_failures.clone()),
    };
    if request.last_failed && request.failed_first {
        selection.first = None;
    }
    let at_path = match &path {
        Some(path) => match load_cases_at(&mut workspace, path) {
            Ok(loaded) => Some(loaded),
            Err(SetupError::Path(error)) => {
                // `cargo x07 test src`: a word that happens to be a path without fixtures
                // is still a test-name filter, over the packages selected as usual.
                say(
                    stderr,
                    &format!("note: {error}; FILTER is used as a test-name filter\n"),
                );
                workspace = config::load(&request.packages)?;
                override_settings(&mut workspace, request.sandbox_backend, request.timeout_ms);
                None
            }
            Err(error) => return Err(error),
        },
        None => None,
    };
    let (cases, total) = match at_path {
        Some(loaded) => {
            // The path selected the fixtures; the other filters still apply.
            selection.libtest.filter = None;
            loaded
        }
        None => load_cases(&workspace, selection.exact_name())?,
    };
    let planned_ids: Vec<PlannedCase> = if request.bless {
        cases.clone()
    } else {
        Vec::new()
    };
    // Every test name of the workspace, when the whole workspace was planned (not with
    // `--exact`): the state file keeps only those.
    let known_names: Option<HashSet<String>> =
        (cases.len() == total).then(|| cases.iter().map(|case| case.id.test_name()).collect());
    let differential_on = request
        .differential
        .unwrap_or_else(|| workspace.configured_differential());
    let os_cases: Vec<PlannedCase> = if differential_on {
        cases
            .iter()
            .filter(|case| case.world == differential::OS_WORLD)
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    // `--profile P` that no planned case has: said by name at the end (a typo would
    // otherwise read as "no fixture found").
    let unknown_profiles: Vec<String> = {
        let known: std::collections::BTreeSet<&str> =
            cases.iter().map(|case| case.id.profile.as_str()).collect();
        let unknown = request
            .ci
            .profiles
            .iter()
            .filter(|profile| !known.contains(profile.as_str()))
            .map(|profile| format!("`{profile}`"))
            .collect::<Vec<_>>();
        if unknown.is_empty() || known.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "note: no case has the profile {} (the cases' profiles: {})\n",
                unknown.join(", "),
                known.into_iter().collect::<Vec<_>>().join(", ")
            )]
        }
    };
    let mut plan = selection.plan(cases, total);
    if differential_on {
        plan.differential = differential::companions(&plan.cases, &os_cases);
    }
    plan.previous_run = previous.clone().map(Arc::new);

    if request.libtest.list {
        let mut text = String::new();
        for selected in &plan.cases {
            if request.libtest.ignored && selected.case.ignore.is_none() {
                continue;
            }
            text.push_str(&format!("{}: test\n", selected.case.id.test_name()));
        }
        say(stdout, &text);
        return Ok(exit::ALL_PASSED);
    }

    let threads = thread_count(
        request.libtest.test_threads,
        request.jobs,
        workspace.configured_jobs(),
    );
    let configured = workspace.configured_x07();
    let mut backend = backend::resolve(
        request.x07.as_deref(),
        request.backend,
        configured.as_deref(),
    )?;
    set_runner_environment(&mut backend, &workspace, request.clean_env);
    backend
        .info
        .cargo_x07_flags
        .extend(reproduce_flags(request, &workspace));
    run::kill_running_on_interrupt();

    let mut options = request.ci.report_options(&workspace.root);
    let json = request.ci.message_format == MessageFormat::Json
        || matches!(
            request.libtest.format,
            Some(libtest_mimic::FormatSetting::Json)
        );
    if json {
        options.message_format = MessageFormat::Json;
    }
    options.human = report::libtest::HumanOptions {
        terse: request.libtest.quiet
            || matches!(
                request.libtest.format,
                Some(libtest_mimic::FormatSetting::Terse)
            ),
        color: request.libtest.color,
        logfile: request.libtest.logfile.as_ref().map(PathBuf::from),
        show_output: request.libtest.show_output,
        nocapture: request.libtest.nocapture,
    };
    let options = options.detect_environment(request.ci.github, request.ci.progress_flag());
    let description = format!("{}\n", backend.info().description);
    if options.message_format == MessageFormat::Json {
        say(stderr, &description);
    } else {
        say(stdout, &description);
    }
    if differential_on {
        let left_out = match differential::manifest_cases_not_compared(&plan.cases) {
            0 => String::new(),
            count => format!(
                "; {count} sandboxed x07 test manifest case(s) are not compared ({})",
                differential::MANIFEST_NOT_COMPARED
            ),
        };
        say(
            stderr,
            &format!(
                "differential: {} sandbox case(s) will also run under their os profile{left_out}\n",
                plan.differential.len()
            ),
        );
    }
    let mut sinks = report::sinks(
        &options,
        Streams {
            stdout: Box::new(stdout.clone()),
            stderr: Box::new(stderr.clone()),
        },
    )
    .map_err(SetupError::Output)?;
    let result = engine::run(
        &plan,
        &backend,
        &EngineOptions {
            threads,
            allow_empty: request.ci.allow_empty,
        },
        &mut sinks,
    );
    for error in sinks.errors() {
        say(stderr, &format!("error: {error}\n"));
    }
    let summary = &result.summary;
    let mut code = exit::process_exit_code(summary, sinks.errors().len());
    if !result.outcomes.is_empty() || known_names.is_some() {
        let next = previous.unwrap_or_default().updated(
            &result.outcomes,
            known_names.as_ref(),
            &workspace.root,
        );
        if let Err(error) = next.save(&state_path) {
            say(stderr, &format!("warning: {error}\n"));
        }
    }
    if request.last_failed && summary.selected == 0 {
        say(
            stderr,
            &format!(
                "note: --last-failed: {} records no failed case among the selected ones; nothing ran\n",
                run::path_from_cwd(&state_path).display()
            ),
        );
    }
    for note in &unknown_profiles {
        say(stderr, note);
    }
    if summary.outcome == exit::RunOutcome::NoCasesSelected {
        say(
            stderr,
            "error: no test case selected (no fixture found, or none left after --profile and --partition); pass --allow-empty to exit 0\n",
        );
    } else if summary.selected == 0 && plan.name_filtered && !request.last_failed {
        say(
            stderr,
            &format!(
                "note: no test case matches the test-name filters ({} filtered out)\n",
                summary.filtered_out
            ),
        );
    }
    if request.bless && !summary.stopped {
        code = bless_failures(&result.outcomes, &planned_ids, code, stdout)?;
    }
    Ok(code)
}

fn bless_failures(
    outcomes: &[engine::CaseOutcome],
    planned: &[PlannedCase],
    run_exit: i32,
    stdout: &mut SharedStream,
) -> Result<i32, SetupError> {
    let summary = bless::bless(outcomes, planned)?;
    let mut text = String::new();
    for file in &summary.files {
        text.push_str(&format!(
            "blessed: wrote {}\n",
            run::path_from_cwd(file).display()
        ));
    }
    for (name, reason) in &summary.skipped {
        text.push_str(&format!("bless: left {name} alone: {reason}\n"));
    }
    text.push_str(&format!(
        "bless: {} case(s) rewritten in {} file(s), {} failing case(s) not blessable\n",
        summary.blessed.len(),
        summary.files.len(),
        summary.skipped.len()
    ));
    say(stdout, &text);
    Ok(if summary.skipped.is_empty() {
        exit::ALL_PASSED
    } else {
        run_exit.max(exit::CASES_FAILED)
    })
}
