//! Running one case: copy the fixture to a fresh temporary directory
//! ([`copy`]), build the `x07 run …` command line exactly as the real toolchain
//! expects ([`command`]), spawn the runner with the run's environment ([`mod@env`]: inherited
//! run-shaping `X07_*` variables removed, the native cache set) and no stdin under a
//! wall-clock timeout that kills its whole process group ([`process`]).
//!
//! How a case is executed is behind [`crate::backend::Backend`]; this module is the
//! command-line backend's machinery (the real `x07`, or this executable as the embedded
//! runner with `__x07`).

pub mod command;
pub mod copy;
pub mod env;
pub mod process;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use crate::failure::RunnerFailure;
use crate::plan::{PlannedCase, Target};

pub use command::{
    command_args, path_from_cwd, render_args, reproduce, shell_quote, Arg, Reproduce,
};
pub use env::{clean_env, EnvClear, RunnerEnv};
pub use process::{execute, kill_running_on_interrupt, stop_running_cases};

/// The first argument that makes `cargo-x07` (and harness test binaries) act as the embedded runner.
pub const EMBEDDED_RUNNER_ARG: &str = "__x07";

/// Runs the embedded runner (`x07-lite`) with the arguments after `__x07`; returns its exit code.
pub fn embedded_runner_main(args_after_marker: Vec<OsString>) -> i32 {
    x07_lite::cli::main_with_args(args_after_marker, vec![EMBEDDED_RUNNER_ARG.into()])
}

/// When this process was started as the embedded runner (`<exe> __x07 …`),
/// runs it and returns the exit code; else `None`. Call first thing in `main`.
pub fn dispatch_embedded_runner() -> Option<i32> {
    let mut args = std::env::args_os();
    let _program = args.next();
    if args.next().is_some_and(|arg| arg == EMBEDDED_RUNNER_ARG) {
        Some(embedded_runner_main(args.collect()))
    } else {
        None
    }
}

/// What the runner process did.
#[derive(Debug, Clone, Default)]
pub struct RunOutput {
    /// Exit code, when it exited normally.
    pub exit_code: Option<i32>,
    /// Signal that ended it (unix), when one did.
    pub signal: Option<i32>,
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
    /// Wall time from spawn to exit.
    pub duration: Duration,
    /// Whether the timeout killed it.
    pub timed_out: bool,
    /// The temporary copy of the fixture the runner ran in (removed by now),
    /// so messages can show the fixture's own path where the runner printed this one.
    pub project_copy: Option<PathBuf>,
}

/// Runs one planned case with `program` (`leading_args` first, then `run …`) in the
/// environment `env`: copy, spawn, collect. The temporary copy is removed afterwards.
pub fn run_case(
    case: &PlannedCase,
    program: &Path,
    leading_args: &[OsString],
    env: &RunnerEnv,
) -> Result<RunOutput, RunnerFailure> {
    if let Target::TestManifest(test) = &case.target {
        return crate::manifest::command::run_test(case, test, program, leading_args, env);
    }
    let io = |error: std::io::Error| RunnerFailure::Io(Arc::new(error));
    let scratch = tempfile::Builder::new()
        .prefix("cargo-x07-")
        .tempdir()
        .map_err(io)?;
    let _registered = process::ScratchRegistration::new(scratch.path());
    let project_dir = match &case.target {
        Target::Project { dir, .. } => {
            let copy = scratch.path().join(
                dir.file_name()
                    .map(|name| name.to_os_string())
                    .unwrap_or_else(|| "project".into()),
            );
            copy::copy_fixture(dir, &copy)?;
            copy
        }
        Target::Smoke { .. } | Target::TestManifest(_) => scratch.path().to_path_buf(),
    };
    let mut runner = Command::new(program);
    runner
        .args(leading_args)
        .args(render_args(&command_args(case), &project_dir))
        .current_dir(&project_dir);
    env.apply(&mut runner, &case.run.env);
    let output = execute(runner, case.timeout).map(|mut output| {
        if matches!(case.target, Target::Project { .. }) {
            output.project_copy = Some(project_dir.clone());
        }
        output
    });
    drop(scratch);
    output.map_err(|error| RunnerFailure::Spawn {
        program: program.to_path_buf(),
        error: Arc::new(error),
    })
}
