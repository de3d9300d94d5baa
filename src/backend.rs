//! How a case is executed: the [`Backend`] trait and the [`Runner`] that [`resolve`]
//! picks.
//!
//! A real `x07` (or any runner command) runs each case as `x07 run …`
//! ([`CommandBackend`]); the embedded runner plans each case in-process and starts one
//! solver process per case ([`crate::run::embedded`]). The engine only needs
//! [`Backend::execute`], plus [`Backend::cannot_run`] to report a case it does not
//! support as ignored with a reason.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::failure::RunnerFailure;
use crate::plan::PlannedCase;
use crate::run::embedded::EmbeddedRunner;
use crate::run::{self, EnvClear, LazyScratch, RunOutput, RunnerEnv, EMBEDDED_RUNNER_ARG};

/// Which kind of runner runs the cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunnerKind {
    /// The embedded runner, x07-lite.
    Embedded,
    /// A real `x07` toolchain.
    X07,
}

/// What the reporters say about the runner.
#[derive(Debug, Clone)]
pub struct RunnerInfo {
    /// Embedded or real.
    pub kind: RunnerKind,
    /// The first output line: `runner: x07 0.2.17 at /usr/bin/x07`.
    pub description: String,
    /// How the `x07 run` reproduce line names the program: `x07` when that is what runs,
    /// else the path it was given as.
    pub program_word: String,
    /// Flags a `cargo x07 run` reproduce line repeats so that it runs the same way.
    pub cargo_x07_flags: Vec<String>,
}

/// Something that runs planned cases.
pub trait Backend: Send + Sync {
    /// What it is, for the reporters and the reproduce lines.
    fn info(&self) -> &RunnerInfo;

    /// Runs one case and returns what the runner did.
    fn execute(&self, case: &PlannedCase) -> Result<RunOutput, RunnerFailure>;

    /// Why this backend cannot run `case`, when it cannot: the case is then reported as
    /// ignored with this reason (never as a silent pass).
    fn cannot_run(&self, case: &PlannedCase) -> Option<String> {
        let _ = case;
        None
    }
}

/// Which runner `--backend` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum BackendChoice {
    /// `--x07`, else `$X07`, else configured `x07`, else `x07` on PATH, else the embedded runner.
    #[default]
    Auto,
    /// Always the embedded runner.
    Embedded,
    /// A real `x07` binary; an error when none is found.
    X07,
}

/// Why no runner could be chosen.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// `--backend x07` and no x07 was found.
    #[error("no x07 binary found (tried --x07, $X07, the `x07` configuration key and PATH)")]
    NoX07,
    /// The runner named by `--x07`, `$X07` or the `x07` key does not exist.
    #[error("x07 binary {} (from {from}) does not exist", path.display())]
    MissingRunner {
        /// The path as given.
        path: PathBuf,
        /// Where it was given: `--x07`, `$X07` or the `x07` configuration key.
        from: &'static str,
    },
    /// A bare runner name (no `/`) from `--x07`, `$X07` or the `x07` key is not on `PATH`.
    #[error("x07 binary `{name}` (from {from}) is not on PATH")]
    RunnerNotOnPath {
        /// The name as given.
        name: String,
        /// Where it was given.
        from: &'static str,
    },
    /// The path of this executable (the embedded runner) is unknown.
    #[error("cannot find this executable to use as the embedded runner: {0}")]
    CurrentExe(std::io::Error),
}

/// Runs each case as a process: `<program> [leading args] run …`, on a fresh copy of
/// its fixture in the run's scratch root.
#[derive(Debug)]
pub struct CommandBackend {
    /// The executable.
    pub program: PathBuf,
    /// Arguments before `run …`.
    pub leading_args: Vec<OsString>,
    /// What the reporters say about it.
    pub info: RunnerInfo,
    /// The environment of every runner process (see [`crate::run::env`]).
    pub env: RunnerEnv,
    scratch: LazyScratch,
}

impl CommandBackend {
    /// A backend that runs `program [leading_args] run …` in the default environment
    /// (inherited run-shaping variables removed).
    pub fn new(program: PathBuf, leading_args: Vec<OsString>, info: RunnerInfo) -> Self {
        CommandBackend {
            program,
            leading_args,
            info,
            env: RunnerEnv::from_process(EnvClear::RunShaping, None),
            scratch: LazyScratch::default(),
        }
    }
}

impl Backend for CommandBackend {
    fn info(&self) -> &RunnerInfo {
        &self.info
    }

    fn execute(&self, case: &PlannedCase) -> Result<RunOutput, RunnerFailure> {
        run::run_case(
            case,
            &self.program,
            &self.leading_args,
            &self.env,
            &self.scratch,
        )
    }

    /// The embedded runner's command line (`<exe> __x07`) has no `x07 test` either.
    fn cannot_run(&self, case: &PlannedCase) -> Option<String> {
        (self.info.kind == RunnerKind::Embedded)
            .then(|| needs_real_x07(case))
            .flatten()
    }
}

/// The embedded runner has no `x07 test`: manifest cases are ignored with
/// [`crate::manifest::NEEDS_REAL_X07`] (a broken manifest still fails).
fn needs_real_x07(case: &PlannedCase) -> Option<String> {
    let manifest_case = matches!(case.target, crate::plan::Target::TestManifest(_));
    (manifest_case && case.problems.is_empty()).then(|| crate::manifest::NEEDS_REAL_X07.to_string())
}

/// The embedded runner, in-process (see [`crate::run::embedded`]).
#[derive(Debug)]
pub struct EmbeddedBackend {
    /// What the reporters say about it.
    pub info: RunnerInfo,
    runner: EmbeddedRunner,
}

impl EmbeddedBackend {
    /// The embedded runner whose solver zygotes are `exe __x07 __zygote`, in the default
    /// environment (inherited run-shaping variables removed).
    pub fn new(exe: PathBuf, info: RunnerInfo) -> Self {
        EmbeddedBackend {
            info,
            runner: EmbeddedRunner::new(exe, RunnerEnv::from_process(EnvClear::RunShaping, None)),
        }
    }
}

impl Backend for EmbeddedBackend {
    fn info(&self) -> &RunnerInfo {
        &self.info
    }

    fn execute(&self, case: &PlannedCase) -> Result<RunOutput, RunnerFailure> {
        self.runner.run_case(case)
    }

    fn cannot_run(&self, case: &PlannedCase) -> Option<String> {
        needs_real_x07(case)
    }
}

/// The runner [`resolve`] picks.
#[derive(Debug)]
pub struct Runner {
    /// What the reporters say about it (the reproduce flags can be added to).
    pub info: RunnerInfo,
    backend: ResolvedBackend,
}

#[derive(Debug)]
enum ResolvedBackend {
    Command(CommandBackend),
    Embedded(EmbeddedBackend),
}

impl Runner {
    /// Runs the cases in `env`; the first output line ([`RunnerInfo::description`]) then
    /// also says which inherited `X07_*` variables are passed and which removed.
    pub fn set_environment(&mut self, env: RunnerEnv) {
        if let Some(note) = crate::message::environment_note(&env) {
            self.info.description = format!("{}; {note}", self.info.description);
        }
        match &mut self.backend {
            ResolvedBackend::Command(backend) => backend.env = env,
            ResolvedBackend::Embedded(backend) => backend.runner.set_environment(env),
        }
    }
}

impl Backend for Runner {
    fn info(&self) -> &RunnerInfo {
        &self.info
    }

    fn execute(&self, case: &PlannedCase) -> Result<RunOutput, RunnerFailure> {
        match &self.backend {
            ResolvedBackend::Command(backend) => backend.execute(case),
            ResolvedBackend::Embedded(backend) => backend.execute(case),
        }
    }

    fn cannot_run(&self, case: &PlannedCase) -> Option<String> {
        match &self.backend {
            ResolvedBackend::Command(backend) => backend.cannot_run(case),
            ResolvedBackend::Embedded(backend) => backend.cannot_run(case),
        }
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .map(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// Resolves the runner: `--x07 PATH`, else env `X07`, else the configured
/// `x07`, else `x07` on PATH, else the embedded runner (this executable, `__x07`).
pub fn resolve(
    explicit: Option<&Path>,
    choice: BackendChoice,
    configured: Option<&Path>,
) -> Result<Runner, ResolveError> {
    if choice != BackendChoice::Embedded {
        let from_env = std::env::var_os("X07")
            .filter(|value| !value.is_empty())
            .map(PathBuf::from);
        let candidate = explicit
            .map(|path| (path.to_path_buf(), "--x07"))
            .or(from_env.map(|path| (path, "$X07")))
            .or_else(|| configured.map(|path| (path.to_path_buf(), "the `x07` configuration key")));
        let bare_name = if cfg!(windows) { "x07.exe" } else { "x07" };
        let found = match candidate {
            Some((path, from)) if path.components().count() == 1 && !path.exists() => {
                let name = path.to_string_lossy().into_owned();
                let found = find_on_path(&name).ok_or(ResolveError::RunnerNotOnPath {
                    name: name.clone(),
                    from,
                })?;
                Some((found, Some(name)))
            }
            Some((path, _)) if path.exists() => Some((path, None)),
            Some((path, from)) => return Err(ResolveError::MissingRunner { path, from }),
            None => find_on_path(bare_name).map(|found| (found, Some("x07".to_string()))),
        };
        if let Some((program, on_path_as)) = found {
            let program = std::path::absolute(&program).unwrap_or(program);
            let version = external_version(&program);
            let program_word = on_path_as
                .unwrap_or_else(|| run::path_from_cwd(&program).to_string_lossy().into_owned());
            let info = RunnerInfo {
                kind: RunnerKind::X07,
                description: format!("runner: {version} at {}", program.display()),
                program_word,
                cargo_x07_flags: Vec::new(),
            };
            return Ok(Runner {
                info: info.clone(),
                backend: ResolvedBackend::Command(CommandBackend::new(program, Vec::new(), info)),
            });
        }
        if choice == BackendChoice::X07 {
            return Err(ResolveError::NoX07);
        }
    }
    let program = std::env::current_exe().map_err(ResolveError::CurrentExe)?;
    let cargo_x07_flags = if choice == BackendChoice::Embedded {
        vec!["--backend".to_string(), "embedded".to_string()]
    } else {
        Vec::new()
    };
    let info = RunnerInfo {
        kind: RunnerKind::Embedded,
        description: format!(
            "runner: embedded x07-lite {} ({} {EMBEDDED_RUNNER_ARG})",
            env!("CARGO_PKG_VERSION"),
            program.display()
        ),
        program_word: "x07".into(),
        cargo_x07_flags,
    };
    Ok(Runner {
        info: info.clone(),
        backend: ResolvedBackend::Embedded(EmbeddedBackend::new(program, info)),
    })
}

/// First line of `x07 --version`, e.g. `x07 0.2.17` (or `x07 (version unknown)`).
fn external_version(program: &Path) -> String {
    let mut command = Command::new(program);
    command.arg("--version");
    run::clean_env(&mut command, &Default::default());
    match run::execute(
        command,
        Duration::from_secs(10),
        run::CaptureLimits {
            stdout: 64 * 1024,
            stderr: 64 * 1024,
        },
    ) {
        Ok(output) if output.exit_code == Some(0) => {
            let text = String::from_utf8_lossy(&output.stdout);
            match text.lines().next().map(str::trim) {
                Some(line) if !line.is_empty() => line.to_string(),
                _ => "x07 (version unknown)".into(),
            }
        }
        _ => "x07 (version unknown)".into(),
    }
}
