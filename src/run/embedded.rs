//! The embedded runner, in-process: each case is planned here with x07-lite as a library
//! ([`x07_lite::run::prepare`], the same function its command line calls) and runs as
//! **one** process, the solver, forked by a per-thread solver zygote
//! ([`x07_lite::zygote`]); the report is built here ([`x07_lite::run::finish`]) and
//! handed to the checks as data ([`RunOutput::report`]).
//!
//! Why a zygote and not a small solver executable: measured on the 2-core development
//! machine, starting any executable costs about 1 ms of CPU (`/bin/true`), the 2.5 MB
//! `x07-lite` 1.4 ms and the 12 MB `cargo-x07` 1.8 ms — most of a 2 ms budget per case —
//! while forking a small single-threaded process costs 0.2 ms. A separate executable
//! also cannot be found by a harness test binary in a user's workspace; the zygote is
//! this very executable (`<exe> __x07 __zygote`), started once per worker thread.
//!
//! The zygotes are kept per thread (by `ThreadId`, not rayon's `current_thread_index()`):
//! a zygote dies with the thread that started it (its parent-death signal), so a new
//! pool's threads must get new ones, and a caller outside any pool (the bench, a
//! single case) gets one too.
//!
//! Isolation is the solver's own (it applies the sandbox to itself whoever starts it);
//! its process group, rlimits, parent-death signal and wall-clock kill apply to it alone.
//! The zygote runs with an empty environment; each solver gets exactly the environment
//! the command line would give it, computed by [`x07_lite::run::prepare`] from the run's
//! [`RunnerEnv`] (the environment a runner process of the command-line backend gets).

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Instant;

use x07_lite::derived::Overrides;
use x07_lite::run::{Next, RunContext, RunInput, RunRequest, SolveStep, StdinSource};
use x07_lite::zygote::Zygote;

use super::process::SolverRegistration;
use super::{case_workspace, LazyScratch, RunOutput, RunnerEnv, EMBEDDED_RUNNER_ARG};
use crate::config::SandboxBackend;
use crate::failure::RunnerFailure;
use crate::fixture::{Input, PROJECT_FILE};
use crate::plan::{PlannedCase, PolicyArg, Target, SANDBOX_WORLD};

/// The request `x07 run` would get from the case's command line
/// ([`super::command_args`] rendered against `project_dir`), built directly: the flags,
/// with the input as bytes instead of base64.
pub fn request(case: &PlannedCase, project_dir: &Path) -> RunRequest {
    let mut request = RunRequest {
        repair: "off".into(),
        ..RunRequest::default()
    };
    let text = |path: PathBuf| path.to_string_lossy().into_owned();
    match &case.target {
        Target::Project { profile, .. } => {
            request.project = Some(text(project_dir.join(PROJECT_FILE)));
            request.profile = profile.clone();
            request.policy = match &case.run.policy {
                Some(PolicyArg::InFixture(path)) => Some(text(project_dir.join(path))),
                Some(PolicyArg::Outside(path)) => Some(text(path.clone())),
                None => None,
            };
        }
        Target::Smoke {
            program,
            policy,
            module_roots,
            ..
        } => {
            request.program = Some(text(program.clone()));
            if case.world == SANDBOX_WORLD {
                request.world = Some(SANDBOX_WORLD.into());
            }
            request.policy = policy.clone().map(text);
            request.module_roots = module_roots.iter().cloned().map(text).collect();
        }
        // An `x07 test` manifest case has no `x07 run` request; [`EmbeddedRunner::run_case`]
        // refuses it before asking for one.
        Target::TestManifest(_) => {}
    }
    if case.world == SANDBOX_WORLD && case.sandbox_backend == SandboxBackend::Os {
        request.sandbox_backend = Some("os".into());
        request.accept_weaker_isolation = true;
    }
    let run = &case.run;
    request.overrides = Overrides {
        allow_hosts: run.allow_hosts.clone(),
        deny_hosts: run.deny_hosts.clone(),
        allow_read_roots: run.allow_read_roots.clone(),
        allow_write_roots: run.allow_write_roots.clone(),
        ..Overrides::default()
    };
    request.solve_fuel = run.solve_fuel;
    request.max_memory_bytes = run.max_memory_bytes;
    request.max_output_bytes = run.max_output_bytes;
    request.cpu_time_limit_seconds = run.cpu_time_limit_seconds;
    request.input = match &case.input {
        None => RunInput::None,
        Some(Input::Bytes(bytes)) => RunInput::Bytes(bytes.clone()),
        Some(Input::File(file)) => {
            let path = if super::command::escapes(file) {
                case.fixture_dir.join(file)
            } else {
                project_dir.join(file)
            };
            RunInput::File(text(path))
        }
        Some(Input::Argv(argv)) if argv.is_empty() => RunInput::EndOfFlags,
        Some(Input::Argv(argv)) => RunInput::Args(argv.clone()),
    };
    request
}

/// Runs cases with the embedded runner in-process: one scratch root for the run, one
/// solver zygote per thread that runs cases.
#[derive(Debug)]
pub struct EmbeddedRunner {
    exe: PathBuf,
    env: RunnerEnv,
    scratch: LazyScratch,
    zygotes: Mutex<HashMap<ThreadId, Zygote>>,
}

impl EmbeddedRunner {
    /// A runner whose zygotes are `exe __x07 __zygote` (this executable), whose
    /// solvers run in `env` (as a runner process of the command-line backend would).
    pub fn new(exe: PathBuf, env: RunnerEnv) -> EmbeddedRunner {
        EmbeddedRunner {
            exe,
            env,
            scratch: LazyScratch::default(),
            zygotes: Mutex::new(HashMap::new()),
        }
    }

    /// Runs the cases in `env` from now on.
    pub fn set_environment(&mut self, env: RunnerEnv) {
        self.env = env;
    }

    fn spawn_failure(&self, error: std::io::Error) -> RunnerFailure {
        RunnerFailure::Spawn {
            program: self.exe.clone(),
            error: Arc::new(error),
        }
    }

    /// This thread's zygote (started when it has none, or its old one is gone).
    /// The zygotes of threads that have ended (an earlier pool's, as the audit's two
    /// phases leave) died with them; they are reaped when a new one starts.
    fn take_zygote(&self) -> Result<Zygote, RunnerFailure> {
        let me = std::thread::current().id();
        {
            let mut zygotes = self
                .zygotes
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(mut zygote) = zygotes.remove(&me) {
                if zygote.is_alive() {
                    return Ok(zygote);
                }
            }
            zygotes.retain(|_, zygote| zygote.is_alive());
        }
        Zygote::start(&self.exe, &[OsString::from(EMBEDDED_RUNNER_ARG)])
            .map_err(|error| self.spawn_failure(error))
    }

    fn keep_zygote(&self, zygote: Zygote) {
        self.zygotes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(std::thread::current().id(), zygote);
    }

    /// Runs one case: copy, plan, solve, report.
    pub fn run_case(&self, case: &PlannedCase) -> Result<RunOutput, RunnerFailure> {
        if matches!(case.target, Target::TestManifest(_)) {
            // Reported ignored before it gets here (`Backend::cannot_run`).
            return Err(self.spawn_failure(std::io::Error::other(crate::manifest::NEEDS_REAL_X07)));
        }
        let started = Instant::now();
        let (case_dir, project_dir) = case_workspace(case, &self.scratch)?;
        let context = RunContext {
            cwd: project_dir.clone(),
            env: self.env.environment(&case.run.env),
            stdin: StdinSource::Empty,
        };
        let mut output = RunOutput {
            project_copy: matches!(case.target, Target::Project { .. })
                .then(|| project_dir.clone()),
            ..RunOutput::default()
        };
        match x07_lite::run::prepare(&request(case, &project_dir), &context) {
            Err(refused) => {
                output.exit_code = Some(refused.exit_code);
                output.stderr = refused.stderr;
            }
            Ok(prepared) => {
                output.stderr = prepared.stderr;
                match prepared.next {
                    Next::Report(report) => {
                        output.exit_code = Some(report.exit_code());
                        output.report = Some(Arc::new(report));
                    }
                    Next::Solve(step) => self.solve(step, started + case.timeout, &mut output)?,
                }
            }
        }
        output.duration = started.elapsed();
        drop(case_dir);
        Ok(output)
    }

    /// Starts the solver through this thread's zygote, collects it, builds the report.
    fn solve(
        &self,
        step: SolveStep,
        case_deadline: Instant,
        output: &mut RunOutput,
    ) -> Result<(), RunnerFailure> {
        let mut zygote = self.take_zygote()?;
        let solving = match zygote.spawn(&step.launch, &step.input) {
            Ok(solving) => solving,
            Err(message) => return Err(self.spawn_failure(std::io::Error::other(message))),
        };
        let registration = SolverRegistration::new(solving.pid, solving.pidfd.clone());
        let solved = solving.finish(Some(case_deadline));
        drop(registration);
        let solved = match solved {
            Ok(solved) => {
                self.keep_zygote(zygote);
                solved
            }
            Err(message) => return Err(self.spawn_failure(std::io::Error::other(message))),
        };
        if solved.hard_timed_out {
            output.timed_out = true;
            return Ok(());
        }
        let finished = x07_lite::run::finish(step.finish, solved.raw);
        output.stderr.extend_from_slice(&finished.stderr);
        output.exit_code = Some(finished.report.exit_code());
        output.report = Some(Arc::new(finished.report));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use base64::Engine as _;

    use super::*;
    use crate::plan::RunOptions;
    use crate::run::{command_args, render_args};

    fn case(world: &str, target: Target, input: Option<Input>, run: RunOptions) -> PlannedCase {
        PlannedCase {
            input,
            run,
            ..PlannedCase::for_test(world, "p", target)
        }
    }

    fn project(profile: Option<&str>) -> Target {
        Target::Project {
            dir: PathBuf::from("/ws/fixtures/a"),
            profile: profile.map(str::to_string),
        }
    }

    /// What x07-lite's command line makes of the case's rendered `x07 run` arguments,
    /// with `--input-b64` decoded (the embedded backend passes the bytes).
    fn from_command_line(case: &PlannedCase, project_dir: &Path) -> RunRequest {
        let args = render_args(&command_args(case), project_dir);
        let mut parsed = x07_lite::cli::parse_run_request(&args).unwrap();
        if let RunInput::Base64(text) = &parsed.input {
            parsed.input = RunInput::Bytes(
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .unwrap(),
            );
        }
        parsed
    }

    #[test]
    fn the_request_is_what_the_x07_run_command_line_parses_to() {
        let limits = RunOptions {
            policy: Some(PolicyArg::InFixture("pol.json".into())),
            allow_hosts: vec!["example.com:443".into()],
            deny_hosts: vec!["example.com:*".into()],
            allow_read_roots: vec!["data".into()],
            allow_write_roots: vec!["out".into()],
            solve_fuel: Some(1000),
            max_memory_bytes: Some(2),
            max_output_bytes: Some(3),
            cpu_time_limit_seconds: Some(4),
            env: BTreeMap::new(),
        };
        let outside = RunOptions {
            policy: Some(PolicyArg::Outside("/ws/policies/p.json".into())),
            ..RunOptions::default()
        };
        let mut vm = case(
            SANDBOX_WORLD,
            project(Some("sandbox")),
            Some(Input::Argv(Vec::new())),
            RunOptions::default(),
        );
        vm.sandbox_backend = SandboxBackend::Vm;
        let smoke = Target::Smoke {
            program: PathBuf::from("/ws/smoke/main.x07.json"),
            policy: Some(PathBuf::from("/ws/smoke/policy.json")),
            module_roots: vec![PathBuf::from("/ws/smoke"), PathBuf::from("/ws/lib")],
            case_index: 0,
        };
        let cases = [
            case(
                "run-os",
                project(Some("os")),
                Some(Input::Bytes(b"hi\0there".to_vec())),
                RunOptions::default(),
            ),
            case("run-os", project(None), None, RunOptions::default()),
            case(
                SANDBOX_WORLD,
                project(Some("sandbox")),
                Some(Input::Argv(vec!["a".into(), "".into(), "--b".into()])),
                limits,
            ),
            case(SANDBOX_WORLD, project(Some("sandbox")), None, outside),
            vm,
            case(
                "run-os",
                project(Some("os")),
                Some(Input::File("in.bin".into())),
                RunOptions::default(),
            ),
            case(
                "run-os",
                project(Some("os")),
                Some(Input::File("../shared/in.bin".into())),
                RunOptions::default(),
            ),
            case(SANDBOX_WORLD, smoke, None, RunOptions::default()),
        ];
        let project_dir = Path::new("/tmp/scratch/0/a");
        for case in &cases {
            assert_eq!(
                request(case, project_dir),
                from_command_line(case, project_dir),
                "{:?}",
                command_args(case)
            );
        }
    }
}
