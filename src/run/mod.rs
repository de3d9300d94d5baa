//! Running one case: a fresh private copy of the fixture in the run's scratch root
//! ([`scratch`], [`copy`]), then either the `x07 run …` command line exactly as the real
//! toolchain expects it ([`command`]), spawned with the run's environment ([`mod@env`]:
//! inherited run-shaping `X07_*` variables removed, the native cache set) and no stdin
//! under a wall-clock timeout that kills its whole process group ([`process`]), or the
//! embedded runner planned in-process with one solver process per case ([`embedded`]),
//! in the same environment.
//!
//! How a case is executed is behind [`crate::backend::Backend`]; this module is the
//! machinery of both backends.

pub mod command;
pub mod copy;
pub mod embedded;
pub mod env;
pub mod process;
pub mod scratch;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::failure::RunnerFailure;
use crate::plan::{PlannedCase, Target};

pub use command::{
    command_args, path_from_cwd, render_args, reproduce, shell_quote, Arg, Reproduce,
};
pub use env::{clean_env, EnvClear, RunnerEnv};
pub use process::{execute, kill_running_on_interrupt, stop_running_cases, CaptureLimits};

/// The first argument that makes `cargo-x07` (and harness test binaries) act as the embedded runner.
pub const EMBEDDED_RUNNER_ARG: &str = "__x07";

/// Runs the embedded runner (`x07-lite`) with the arguments after `__x07`; returns its exit code.
pub fn embedded_runner_main(args_after_marker: Vec<OsString>) -> i32 {
    x07_lite::cli::main_with_args(args_after_marker, vec![EMBEDDED_RUNNER_ARG.into()])
}

/// When this process was started as the embedded runner (`<exe> __x07 …`, which
/// includes its solver zygote, `<exe> __x07 __zygote`), runs it and returns the exit
/// code; else `None`. Call first thing in `main`.
pub fn dispatch_embedded_runner() -> Option<i32> {
    let mut args = std::env::args_os();
    let _program = args.next();
    if args.next().is_some_and(|arg| arg == EMBEDDED_RUNNER_ARG) {
        Some(embedded_runner_main(args.collect()))
    } else {
        None
    }
}

/// What the runner did.
#[derive(Debug, Clone, Default)]
pub struct RunOutput {
    /// Exit code, when it exited normally.
    pub exit_code: Option<i32>,
    /// Signal that ended it (unix), when one did.
    pub signal: Option<i32>,
    /// What it wrote to stdout (the report; empty when [`RunOutput::report`] is set),
    /// at most the capture limit: the head.
    pub stdout: Vec<u8>,
    /// What it wrote to stderr, at most the capture limit: the head.
    pub stderr: Vec<u8>,
    /// Stdout bytes read but not kept (past the capture limit).
    pub stdout_dropped: u64,
    /// Stderr bytes read but not kept.
    pub stderr_dropped: u64,
    /// Wall time from spawn to exit.
    pub duration: Duration,
    /// Whether the timeout killed it.
    pub timed_out: bool,
    /// The temporary copy of the fixture the runner ran in (removed by now),
    /// so messages can show the fixture's own path where the runner printed this one.
    pub project_copy: Option<PathBuf>,
    /// The embedded runner's report, handed over in-process: the same report the
    /// command line prints, with the output as bytes (no JSON text, no base64).
    pub report: Option<Arc<x07_lite::report::RunnerReport>>,
}

/// A run's scratch root, made when the first case needs it.
#[derive(Debug, Default)]
pub struct LazyScratch(OnceLock<Result<scratch::ScratchRoot, String>>);

impl LazyScratch {
    /// A fresh directory for one case.
    pub fn case_dir(&self) -> Result<scratch::CaseDir, RunnerFailure> {
        let root = self
            .0
            .get_or_init(|| scratch::ScratchRoot::new().map_err(|e| e.to_string()));
        let io = |error: std::io::Error| RunnerFailure::Io(Arc::new(error));
        match root {
            Ok(root) => root.case_dir().map_err(io),
            Err(error) => Err(io(std::io::Error::other(format!(
                "cannot create the scratch directory: {error}"
            )))),
        }
    }
}

/// A case's private directory and the project directory to run in: a fresh copy of the
/// fixture for a project, the empty directory itself for a smoke-suite case.
pub(crate) fn case_workspace(
    case: &PlannedCase,
    scratch: &LazyScratch,
) -> Result<(scratch::CaseDir, PathBuf), RunnerFailure> {
    let case_dir = scratch.case_dir()?;
    let project_dir = match &case.target {
        Target::Project { dir, .. } => {
            let copy = case_dir.path().join(
                dir.file_name()
                    .map(|name| name.to_os_string())
                    .unwrap_or_else(|| "project".into()),
            );
            copy::copy_fixture(dir, &copy)?;
            copy
        }
        Target::Smoke { .. } | Target::TestManifest(_) => case_dir.path().to_path_buf(),
    };
    Ok((case_dir, project_dir))
}

/// The `max_output_bytes` a run of `case` in `project_dir` has: the flag, else the
/// profile's, else x07's default.
fn max_output_bytes(case: &PlannedCase, project_dir: &Path) -> u64 {
    let from_profile = || {
        let Target::Project { profile, .. } = &case.target else {
            return None;
        };
        let manifest =
            x07_lite::project::Manifest::load(&project_dir.join(crate::fixture::PROJECT_FILE))
                .ok()?;
        let (_, profile) = manifest.select_profile(profile.as_deref()).ok()??;
        profile.max_output_bytes
    };
    case.run
        .max_output_bytes
        .or_else(from_profile)
        .unwrap_or(x07_lite::limits::DEFAULT_MAX_OUTPUT_BYTES)
}

/// Runs one planned case with `program` (`leading_args` first, then `run …`) in the
/// environment `env`: copy, spawn, collect (bounded, see [`CaptureLimits::for_report`]).
/// The copy is removed afterwards.
pub fn run_case(
    case: &PlannedCase,
    program: &Path,
    leading_args: &[OsString],
    env: &RunnerEnv,
    scratch: &LazyScratch,
) -> Result<RunOutput, RunnerFailure> {
    if let Target::TestManifest(test) = &case.target {
        return crate::manifest::command::run_test(case, test, program, leading_args, env, scratch);
    }
    let (case_dir, project_dir) = case_workspace(case, scratch)?;
    let mut runner = Command::new(program);
    runner
        .args(leading_args)
        .args(render_args(&command_args(case), &project_dir))
        .current_dir(&project_dir);
    env.apply(&mut runner, &case.run.env);
    let limits = CaptureLimits::for_report(max_output_bytes(case, &project_dir));
    let output = execute(runner, case.timeout, limits).map(|mut output| {
        if matches!(case.target, Target::Project { .. }) {
            output.project_copy = Some(project_dir.clone());
        }
        output
    });
    drop(case_dir);
    output.map_err(|error| RunnerFailure::Spawn {
        program: program.to_path_buf(),
        error: Arc::new(error),
    })
}
