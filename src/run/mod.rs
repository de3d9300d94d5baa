//! Running one case: resolve the runner, build the `x07 run …` command line
//! exactly as the real toolchain expects, copy the fixture to a fresh
//! temporary directory, spawn the runner with a cleaned environment and no
//! stdin, and collect stdout/stderr under a wall-clock timeout.
//!
//! Process control (why this shape): the runner starts the compiled program
//! as a child of its own, and a hung program must not outlive its case. On
//! unix the runner is spawned as the leader of a new process group
//! (`CommandExt::process_group(0)`, std) and, when the case ends, for any
//! reason, the whole group gets SIGKILL via `killpg` (the `nix` crate, so no
//! unsafe code here). A process that leaves the group on purpose (`setsid`)
//! is out of reach; x07 does not do that.
//!
//! Because each runner has its own process group, a Ctrl-C at the terminal
//! does not reach it. [`kill_running_on_interrupt`] installs a SIGINT/SIGTERM
//! handler (the `ctrlc` crate) that kills every running case's group and
//! removes its temporary fixture copy before the process exits, so an
//! interrupted run leaves nothing behind either.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::config::SandboxBackend;
use crate::fixture::{Input, PROJECT_FILE};
use crate::plan::{PlannedCase, PolicyArg, Target, SANDBOX_WORLD};

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

/// The program that runs cases.
#[derive(Debug, Clone)]
pub struct Runner {
    /// The executable.
    pub program: PathBuf,
    /// Arguments before `run …` (`__x07` for the embedded runner).
    pub leading_args: Vec<OsString>,
    /// Whether this is the embedded runner.
    pub embedded: bool,
    /// The header line: `runner: x07 0.2.17 at /usr/bin/x07`.
    pub description: String,
}

/// Why a case could not be run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
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
    /// Copying the fixture failed.
    #[error("failed to copy fixture {} to a temporary directory: {source}", from.display())]
    Copy {
        /// The fixture.
        from: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The runner could not be started.
    #[error("failed to start the runner {}: {source}", program.display())]
    Spawn {
        /// The runner.
        program: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Anything else in process handling.
    #[error("failed to run the runner: {0}")]
    Io(#[from] std::io::Error),
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
pub fn resolve_runner(
    explicit: Option<&Path>,
    backend: BackendChoice,
    configured: Option<&Path>,
) -> Result<Runner, RunError> {
    if backend != BackendChoice::Embedded {
        let from_env = std::env::var_os("X07")
            .filter(|value| !value.is_empty())
            .map(PathBuf::from);
        let candidate = explicit
            .map(|path| (path.to_path_buf(), "--x07"))
            .or(from_env.map(|path| (path, "$X07")))
            .or_else(|| configured.map(|path| (path.to_path_buf(), "the `x07` configuration key")));
        let found = match candidate {
            Some((path, from)) if path.components().count() == 1 && !path.exists() => {
                let name = path.to_string_lossy().into_owned();
                Some(find_on_path(&name).ok_or(RunError::RunnerNotOnPath { name, from })?)
            }
            Some((path, _)) if path.exists() => Some(path),
            Some((path, from)) => return Err(RunError::MissingRunner { path, from }),
            None => find_on_path(if cfg!(windows) { "x07.exe" } else { "x07" }),
        };
        if let Some(program) = found {
            let program = std::path::absolute(&program).unwrap_or(program);
            let version = external_version(&program);
            return Ok(Runner {
                description: format!("runner: {version} at {}", program.display()),
                program,
                leading_args: Vec::new(),
                embedded: false,
            });
        }
        if backend == BackendChoice::X07 {
            return Err(RunError::NoX07);
        }
    }
    let program = std::env::current_exe()?;
    Ok(Runner {
        description: format!(
            "runner: embedded x07-lite {} ({} {EMBEDDED_RUNNER_ARG})",
            env!("CARGO_PKG_VERSION"),
            program.display()
        ),
        program,
        leading_args: vec![EMBEDDED_RUNNER_ARG.into()],
        embedded: true,
    })
}

/// First line of `x07 --version`, e.g. `x07 0.2.17` (or `x07 (version unknown)`).
fn external_version(program: &Path) -> String {
    let mut command = Command::new(program);
    command.arg("--version");
    clean_env(&mut command, &BTreeMap::new());
    match execute(command, Duration::from_secs(10)) {
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

/// One argument of a runner command line, before paths are fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// Literal text.
    Text(String),
    /// A path inside the project: joined to the temporary copy when run,
    /// to the fixture's own directory in the reproduce line.
    InProject(String),
    /// An absolute path outside the project.
    Path(PathBuf),
}

/// The arguments after the program name: `run --project … --repair=off …`.
pub fn command_args(case: &PlannedCase) -> Vec<Arg> {
    let text = |value: &str| Arg::Text(value.to_string());
    let mut args = vec![text("run")];
    match &case.target {
        Target::Project { profile, .. } => {
            args.push(text("--project"));
            args.push(Arg::InProject(PROJECT_FILE.into()));
            if let Some(profile) = profile {
                args.push(text("--profile"));
                args.push(text(profile));
            }
            args.push(text("--repair=off"));
            match &case.run.policy {
                Some(PolicyArg::InFixture(path)) => {
                    args.push(text("--policy"));
                    args.push(Arg::InProject(path.clone()));
                }
                Some(PolicyArg::Outside(path)) => {
                    args.push(text("--policy"));
                    args.push(Arg::Path(path.clone()));
                }
                None => {}
            }
        }
        Target::Smoke {
            program,
            policy,
            module_roots,
            ..
        } => {
            args.push(text("--program"));
            args.push(Arg::Path(program.clone()));
            args.push(text("--repair=off"));
            if case.world == SANDBOX_WORLD {
                args.push(text("--world"));
                args.push(text(SANDBOX_WORLD));
            }
            if let Some(policy) = policy {
                args.push(text("--policy"));
                args.push(Arg::Path(policy.clone()));
            }
            for root in module_roots {
                args.push(text("--module-root"));
                args.push(Arg::Path(root.clone()));
            }
        }
    }
    if case.world == SANDBOX_WORLD && case.sandbox_backend == SandboxBackend::Os {
        args.push(text("--sandbox-backend"));
        args.push(text("os"));
        args.push(text("--i-accept-weaker-isolation"));
    }
    let run = &case.run;
    for (flag, values) in [
        ("--allow-host", &run.allow_hosts),
        ("--deny-host", &run.deny_hosts),
        ("--allow-read-root", &run.allow_read_roots),
        ("--allow-write-root", &run.allow_write_roots),
    ] {
        for value in values {
            args.push(text(flag));
            args.push(text(value));
        }
    }
    for (flag, value) in [
        ("--solve-fuel", run.solve_fuel),
        ("--max-memory-bytes", run.max_memory_bytes),
        ("--max-output-bytes", run.max_output_bytes),
        ("--cpu-time-limit-seconds", run.cpu_time_limit_seconds),
    ] {
        if let Some(value) = value {
            args.push(text(flag));
            args.push(Arg::Text(value.to_string()));
        }
    }
    // At most one input flag: x07 rejects any two together (rc 2).
    match &case.input {
        None => {}
        Some(Input::Bytes(bytes)) => {
            args.push(text("--input-b64"));
            args.push(Arg::Text(
                base64::engine::general_purpose::STANDARD.encode(bytes),
            ));
        }
        Some(Input::File(file)) => {
            args.push(text("--input"));
            if escapes(file) {
                args.push(Arg::Path(case.fixture_dir.join(file)));
            } else {
                args.push(Arg::InProject(file.clone()));
            }
        }
        Some(Input::Argv(argv)) => {
            args.push(text("--"));
            args.extend(argv.iter().map(|arg| text(arg)));
        }
    }
    args
}

/// Whether a relative path leaves its base directory (or is absolute).
fn escapes(path: &str) -> bool {
    let path = Path::new(path);
    path.is_absolute()
        || path
            .components()
            .any(|part| matches!(part, std::path::Component::ParentDir))
}

/// Fixes the paths in `args` against `project_dir`.
pub fn render_args(args: &[Arg], project_dir: &Path) -> Vec<OsString> {
    args.iter()
        .map(|arg| match arg {
            Arg::Text(text) => OsString::from(text),
            Arg::InProject(relative) => project_dir.join(relative).into_os_string(),
            Arg::Path(path) => path.clone().into_os_string(),
        })
        .collect()
}

/// The shell line that reproduces a case with the real `x07`, on the fixture itself.
pub fn reproduce_command(case: &PlannedCase) -> String {
    let project_dir = match &case.target {
        Target::Project { dir, .. } => dir.clone(),
        Target::Smoke { .. } => case.fixture_dir.clone(),
    };
    let mut words: Vec<String> = case
        .run
        .env
        .iter()
        .map(|(key, value)| format!("{key}={}", shell_quote(value)))
        .collect();
    words.push("x07".into());
    let args = command_args(case)
        .into_iter()
        .map(|arg| match arg {
            Arg::Path(path) => Arg::Path(path_from_cwd(&path)),
            other => other,
        })
        .collect::<Vec<_>>();
    words.extend(
        render_args(&args, &path_from_cwd(&project_dir))
            .iter()
            .map(|arg| shell_quote(&arg.to_string_lossy())),
    );
    words.join(" ")
}

/// `path` as a person would type it from the current directory: relative
/// when it lies below it (so reproduce lines and messages carry no machine
/// paths in CI, where the cwd is the checkout), else unchanged.
pub fn path_from_cwd(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .filter(|relative| !relative.as_os_str().is_empty())
        .unwrap_or_else(|| path.to_path_buf())
}

/// Quotes a word for a POSIX shell (only when needed).
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Removes every inherited `X07_*` variable and sets only the explicit ones.
pub fn clean_env(command: &mut Command, explicit: &BTreeMap<String, String>) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("X07_") {
            command.env_remove(&key);
        }
    }
    command.envs(explicit);
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

/// Runs one planned case: copy, spawn, collect. The temporary copy is removed afterwards.
pub fn run_case(case: &PlannedCase, runner: &Runner) -> Result<RunOutput, RunError> {
    let scratch = tempfile::Builder::new().prefix("cargo-x07-").tempdir()?;
    let _registered = ScratchRegistration::new(scratch.path());
    let project_dir = match &case.target {
        Target::Project { dir, .. } => {
            let copy = scratch.path().join(
                dir.file_name()
                    .map(|name| name.to_os_string())
                    .unwrap_or_else(|| "project".into()),
            );
            copy_dir(dir, &copy).map_err(|source| RunError::Copy {
                from: dir.clone(),
                source,
            })?;
            copy
        }
        Target::Smoke { .. } => scratch.path().to_path_buf(),
    };
    let mut command = Command::new(&runner.program);
    command
        .args(&runner.leading_args)
        .args(render_args(&command_args(case), &project_dir))
        .current_dir(&project_dir);
    clean_env(&mut command, &case.run.env);
    let output = execute(command, case.timeout).map(|mut output| {
        if matches!(case.target, Target::Project { .. }) {
            output.project_copy = Some(project_dir.clone());
        }
        output
    });
    drop(scratch);
    output.map_err(|error| match error {
        RunError::Io(source) => RunError::Spawn {
            program: runner.program.clone(),
            source,
        },
        other => other,
    })
}

/// Copies a directory tree (files, hidden ones too; not `.x07/` leftovers).
pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == ".x07" {
            continue;
        }
        let kind = entry.file_type()?;
        let target = to.join(&name);
        if kind.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if kind.is_symlink() {
            let resolved = std::fs::canonicalize(entry.path())?;
            if resolved.is_dir() {
                copy_dir(&resolved, &target)?;
            } else {
                std::fs::copy(&resolved, &target)?;
            }
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Process ids (= process group ids) of the runners that are running now.
static RUNNING_GROUPS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn running_groups() -> std::sync::MutexGuard<'static, Vec<u32>> {
    RUNNING_GROUPS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Temporary fixture copies of the cases that are running now.
static RUNNING_SCRATCH: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn running_scratch() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    RUNNING_SCRATCH
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Lists a case's temporary copy in [`RUNNING_SCRATCH`] while it lives, so an
/// interrupt can remove it (a `TempDir`'s own cleanup never runs on `exit`).
struct ScratchRegistration(PathBuf);

impl ScratchRegistration {
    fn new(path: &Path) -> Self {
        running_scratch().push(path.to_path_buf());
        ScratchRegistration(path.to_path_buf())
    }
}

impl Drop for ScratchRegistration {
    fn drop(&mut self) {
        running_scratch().retain(|path| path != &self.0);
    }
}

/// Installs a Ctrl-C / SIGTERM handler that kills every running case's
/// process group, removes their temporary fixture copies and exits with 130.
/// Call once, before running cases; a second call (or a handler installed
/// elsewhere) is left alone.
pub fn kill_running_on_interrupt() {
    let _ = ctrlc::set_handler(|| {
        let groups: Vec<u32> = running_groups().clone();
        for pid in &groups {
            kill_process_group(*pid);
        }
        for dir in running_scratch().iter() {
            let _ = std::fs::remove_dir_all(dir);
        }
        eprintln!(
            "cargo-x07: interrupted; killed the process groups of {} running case(s)",
            groups.len()
        );
        std::process::exit(130);
    });
}

/// Spawns `command` with stdin null and stdout/stderr captured; kills its whole
/// process group at the end (and at `timeout`).
pub fn execute(mut command: Command, timeout: Duration) -> Result<RunOutput, RunError> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let started = Instant::now();
    let mut child = command.spawn()?;
    let pid = child.id();
    running_groups().push(pid);
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    std::thread::scope(|scope| {
        let stdout_reader = scope.spawn(move || {
            let mut bytes = Vec::new();
            let _ = stdout.read_to_end(&mut bytes);
            bytes
        });
        let stderr_reader = scope.spawn(move || {
            let mut bytes = Vec::new();
            let _ = stderr.read_to_end(&mut bytes);
            bytes
        });
        let (done_sender, done) = mpsc::channel();
        let waiter = scope.spawn(move || {
            let status = child.wait();
            let _ = done_sender.send(());
            (status, started.elapsed())
        });
        let timed_out = matches!(
            done.recv_timeout(timeout),
            Err(mpsc::RecvTimeoutError::Timeout)
        );
        // Always: a timed-out runner, and anything the runner left behind in its group.
        kill_process_group(pid);
        let (status, duration) = waiter.join().expect("wait thread does not panic");
        running_groups().retain(|running| *running != pid);
        let status = status?;
        let stdout = stdout_reader.join().unwrap_or_default();
        let stderr = stderr_reader.join().unwrap_or_default();
        #[cfg(unix)]
        let signal = std::os::unix::process::ExitStatusExt::signal(&status);
        #[cfg(not(unix))]
        let signal = None;
        Ok(RunOutput {
            exit_code: status.code(),
            signal,
            stdout,
            stderr,
            duration,
            timed_out,
            project_copy: None,
        })
    })
}

#[cfg(unix)]
fn kill_process_group(pid: u32) {
    use nix::sys::signal::{killpg, Signal};
    use nix::unistd::Pid;
    // ESRCH (the group is already gone) is the normal case after a clean exit.
    let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
}

#[cfg(not(unix))]
fn kill_process_group(pid: u32) {
    // No process groups: kill the process tree with the system tool.
    let _ = Command::new("taskkill")
        .args(["/F", "/T", "/PID", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::Input;
    use crate::model::CaseId;
    use crate::plan::{resolve_expected, RunOptions};

    fn case(
        world: &str,
        profile: Option<&str>,
        input: Option<Input>,
        run: RunOptions,
    ) -> PlannedCase {
        PlannedCase {
            id: CaseId {
                fixture: "fixtures/a".into(),
                case: "c".into(),
                profile: profile.unwrap_or(world).into(),
            },
            target: Target::Project {
                dir: PathBuf::from("/ws/fixtures/a"),
                profile: profile.map(str::to_string),
            },
            world: world.into(),
            input,
            run,
            expect: resolve_expected(
                &Default::default(),
                world,
                "project-compile-run",
                Path::new("."),
            )
            .unwrap(),
            timeout: Duration::from_secs(5),
            ignore: None,
            source_file: PathBuf::from("/ws/fixtures/a/x07test.json"),
            fixture_dir: PathBuf::from("/ws/fixtures/a"),
            description: None,
            problem: None,
            sandbox_backend: SandboxBackend::Os,
        }
    }

    fn rendered(case: &PlannedCase) -> Vec<String> {
        render_args(&command_args(case), Path::new("/tmp/copy"))
            .into_iter()
            .map(|arg| arg.into_string().unwrap())
            .collect()
    }

    #[test]
    fn os_case_with_text_input() {
        let case = case(
            "run-os",
            Some("os"),
            Some(Input::Bytes(b"hi".to_vec())),
            RunOptions::default(),
        );
        assert_eq!(
            rendered(&case),
            [
                "run",
                "--project",
                "/tmp/copy/x07.json",
                "--profile",
                "os",
                "--repair=off",
                "--input-b64",
                "aGk="
            ]
        );
    }

    #[test]
    fn sandbox_case_with_policy_derived_flags_limits_and_argv() {
        let run = RunOptions {
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
        let case = case(
            "run-os-sandboxed",
            Some("sandbox"),
            Some(Input::Argv(vec!["a".into(), "".into(), "d e".into()])),
            run,
        );
        assert_eq!(
            rendered(&case),
            [
                "run",
                "--project",
                "/tmp/copy/x07.json",
                "--profile",
                "sandbox",
                "--repair=off",
                "--policy",
                "/tmp/copy/pol.json",
                "--sandbox-backend",
                "os",
                "--i-accept-weaker-isolation",
                "--allow-host",
                "example.com:443",
                "--deny-host",
                "example.com:*",
                "--allow-read-root",
                "data",
                "--allow-write-root",
                "out",
                "--solve-fuel",
                "1000",
                "--max-memory-bytes",
                "2",
                "--max-output-bytes",
                "3",
                "--cpu-time-limit-seconds",
                "4",
                "--",
                "a",
                "",
                "d e"
            ]
        );
        assert_eq!(
            reproduce_command(&case),
            "x07 run --project /ws/fixtures/a/x07.json --profile sandbox --repair=off --policy /ws/fixtures/a/pol.json \
             --sandbox-backend os --i-accept-weaker-isolation --allow-host example.com:443 --deny-host 'example.com:*' \
             --allow-read-root data --allow-write-root out --solve-fuel 1000 --max-memory-bytes 2 \
             --max-output-bytes 3 --cpu-time-limit-seconds 4 -- a '' 'd e'"
        );
    }

    #[test]
    fn vm_backend_adds_no_backend_flags_and_empty_argv_is_a_bare_ddash() {
        let mut case = case(
            "run-os-sandboxed",
            Some("sandbox"),
            Some(Input::Argv(vec![])),
            RunOptions::default(),
        );
        case.sandbox_backend = SandboxBackend::Vm;
        assert_eq!(
            rendered(&case),
            [
                "run",
                "--project",
                "/tmp/copy/x07.json",
                "--profile",
                "sandbox",
                "--repair=off",
                "--"
            ]
        );
    }

    #[test]
    fn file_input_inside_the_fixture_uses_the_copy_outside_stays_absolute() {
        let inside = case(
            "run-os",
            Some("os"),
            Some(Input::File("in.bin".into())),
            RunOptions::default(),
        );
        assert_eq!(rendered(&inside)[6..], ["--input", "/tmp/copy/in.bin"]);
        let outside = case(
            "run-os",
            Some("os"),
            Some(Input::File("../shared/in.bin".into())),
            RunOptions::default(),
        );
        assert_eq!(
            rendered(&outside)[6..],
            ["--input", "/ws/fixtures/a/../shared/in.bin"]
        );
    }

    #[test]
    fn no_profiles_means_no_profile_flag_and_env_shows_in_reproduce() {
        let run = RunOptions {
            env: BTreeMap::from([("X07_OS_THING".to_string(), "a b".to_string())]),
            ..RunOptions::default()
        };
        let case = case("run-os", None, None, run);
        assert_eq!(
            reproduce_command(&case),
            "X07_OS_THING='a b' x07 run --project /ws/fixtures/a/x07.json --repair=off"
        );
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("plain-word_1.json"), "plain-word_1.json");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }

    #[cfg(unix)]
    #[test]
    fn env_is_cleared_of_x07_vars_except_explicit_ones() {
        std::env::set_var("X07_OS_SANDBOXED", "1");
        std::env::set_var("X07_CARGO_TEST_INHERITED", "1");
        let mut command = Command::new("/bin/sh");
        command.args(["-c", "env | grep '^X07' | sort"]);
        clean_env(
            &mut command,
            &BTreeMap::from([("X07_KEEP".to_string(), "yes".to_string())]),
        );
        let output = execute(command, Duration::from_secs(10)).unwrap();
        assert_eq!(String::from_utf8_lossy(&output.stdout), "X07_KEEP=yes\n");
    }

    #[cfg(unix)]
    #[test]
    fn stdin_is_empty() {
        let mut command = Command::new("/bin/sh");
        command.args(["-c", "wc -c"]);
        let output = execute(command, Duration::from_secs(10)).unwrap();
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "0");
    }

    #[cfg(unix)]
    #[test]
    fn timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let mut command = Command::new("/bin/sh");
        command.args([
            "-c",
            &format!("sleep 30 & echo $! > {}; wait", pid_file.display()),
        ]);
        let started = Instant::now();
        let output = execute(command, Duration::from_millis(300)).unwrap();
        assert!(output.timed_out);
        assert!(started.elapsed() < Duration::from_secs(10));
        let grandchild: i32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(grandchild), None).is_ok();
        // A zombie still answers kill(0) until reaped by init; check /proc for a live state.
        let state = std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
        assert!(
            !alive || state.contains(") Z"),
            "grandchild {grandchild} survived: {state}"
        );
    }
}
