//! `x07 run` as a library: plan a run from a typed [`RunRequest`] — target, profile,
//! world, policy (loaded, or derived and written), sandbox backend, lockfile, input,
//! limits, module roots, the solver's environment — then turn what the solver process
//! did into the runner report.
//!
//! The command line (`x07-lite run …`, `cargo-x07 __x07 run …`) parses its flags into a
//! [`RunRequest`] and calls [`prepare`] and [`finish`]; cargo-x07's embedded backend
//! builds the same request from a planned case and calls the same two functions, so both
//! paths check the same things in the same order and print the same report. What the
//! command line would print on stderr is collected in [`Prepared::stderr`] and
//! [`Finished::stderr`] instead of being printed here.
//!
//! Paths in a request are used as given: relative ones resolve against the process's
//! working directory, as they do for the command line. An in-process caller whose
//! process directory is not the run's ([`RunContext::cwd`]) passes absolute paths (the
//! embedded backend does).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::Value;

use crate::derived::{derive, write_derived, DeriveError, Overrides};
use crate::limits::{
    cpu_seconds_from_ms, ProcessLimits, DEFAULT_CPU_SECONDS, DEFAULT_MAX_MEMORY_BYTES,
    DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_SOLVE_FUEL, RUN_OS_ADDRESS_SPACE_SLACK,
};
use crate::policy::{load_policy, Policy, PolicyError};
use crate::project::{absolute, check_world, Manifest, Profile};
use crate::report::{CompileSection, RunMode, RunnerReport, WrappedTarget};
use crate::solver::{self, RawRun, SolverLaunch, SolverSpec};

/// The message of the VM backend, which is never available to x07-lite.
pub const VM_FAILURE: &str =
    "missing firecracker-ctr binary \"firecracker-ctr\" (set X07_VM_FIRECRACKER_CTR_BIN to override)";

/// The input flag of a run (at most one; clap refuses two together on the command line).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RunInput {
    /// No input flag: the profile's input, else piped stdin.
    #[default]
    None,
    /// `--input FILE`.
    File(String),
    /// `--stdin`.
    Stdin,
    /// `--input-b64 B64` (decoded where the command line decodes it).
    Base64(String),
    /// The input bytes themselves (in-process callers; cannot fail to decode).
    Bytes(Vec<u8>),
    /// Trailing `ARG...` (argv_v1 input).
    Args(Vec<String>),
    /// A bare `--` with nothing after it: empty input.
    EndOfFlags,
}

/// The flags of one `x07 run`, typed: everything that decides what runs and how.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRequest {
    /// `--project`.
    pub project: Option<String>,
    /// `--program`.
    pub program: Option<String>,
    /// `--artifact` (refused: x07-lite runs x07AST programs only).
    pub artifact: Option<String>,
    /// `--module-root` (repeatable).
    pub module_roots: Vec<String>,
    /// `--repair` (`off`, `memory`, `write`).
    pub repair: String,
    /// `--report-out` (checked here; written by the command line).
    pub report_out: Option<String>,
    /// The hidden `--world`.
    pub world: Option<String>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--policy`.
    pub policy: Option<String>,
    /// The derived-policy flags.
    pub overrides: Overrides,
    /// `--sandbox-backend`.
    pub sandbox_backend: Option<String>,
    /// `--i-accept-weaker-isolation`.
    pub accept_weaker_isolation: bool,
    /// The input flag.
    pub input: RunInput,
    /// `--solve-fuel`.
    pub solve_fuel: Option<u64>,
    /// `--max-memory-bytes`.
    pub max_memory_bytes: Option<u64>,
    /// `--max-output-bytes`.
    pub max_output_bytes: Option<u64>,
    /// `--cpu-time-limit-seconds`.
    pub cpu_time_limit_seconds: Option<u64>,
}

impl Default for RunRequest {
    fn default() -> Self {
        RunRequest {
            project: None,
            program: None,
            artifact: None,
            module_roots: Vec::new(),
            repair: "write".into(),
            report_out: None,
            world: None,
            profile: None,
            policy: None,
            overrides: Overrides::default(),
            sandbox_backend: None,
            accept_weaker_isolation: false,
            input: RunInput::None,
            solve_fuel: None,
            max_memory_bytes: None,
            max_output_bytes: None,
            cpu_time_limit_seconds: None,
        }
    }
}

/// Where a run's stdin comes from when the input falls back to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdinSource {
    /// This process's stdin (the command line).
    Inherited,
    /// Nothing (an in-process caller; like a runner started with stdin from `/dev/null`).
    Empty,
}

/// What a run sees of the process that runs it.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// The run's working directory (the command line's cwd).
    pub cwd: PathBuf,
    /// The runner's environment: `X07_SANDBOX_BACKEND` and
    /// `X07_I_ACCEPT_WEAKER_ISOLATION` are read from it, and the solver inherits it
    /// (a sandboxed one only `X07_*` and the keys its policy allows).
    pub env: Vec<(OsString, OsString)>,
    /// Where stdin comes from.
    pub stdin: StdinSource,
}

impl RunContext {
    /// The context of this process: its cwd, environment and stdin.
    pub fn of_process() -> Result<RunContext, RunFailure> {
        Ok(RunContext {
            cwd: std::env::current_dir().map_err(|e| RunFailure::Usage(format!("cwd: {e}")))?,
            env: std::env::vars_os().collect(),
            stdin: StdinSource::Inherited,
        })
    }

    fn var(&self, key: &str) -> Option<String> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.to_str().map(str::to_string))
    }

    fn flag(&self, key: &str) -> bool {
        self.var(key)
            .is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes"))
    }
}

/// A run that ends without a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunFailure {
    /// rc 2 with one stderr message (a newline is added when printed).
    Usage(String),
    /// rc 3 with an x07diag line on stderr.
    Schema(String),
}

impl RunFailure {
    /// The exit code.
    pub fn exit_code(&self) -> i32 {
        match self {
            RunFailure::Usage(_) => 2,
            RunFailure::Schema(_) => 3,
        }
    }

    /// The stderr bytes, exactly as the command line prints them.
    pub fn stderr(&self) -> Vec<u8> {
        match self {
            RunFailure::Usage(message) => format!("{message}\n").into_bytes(),
            RunFailure::Schema(message) => DeriveError::diag_line(message).into_bytes(),
        }
    }
}

fn usage<T>(message: impl Into<String>) -> Result<T, RunFailure> {
    Err(RunFailure::Usage(message.into()))
}

/// A planned run.
#[derive(Debug)]
pub struct Prepared {
    /// What the command line has printed on stderr so far (derived policy, lockfile).
    pub stderr: Vec<u8>,
    /// The target of the `--report wrapped` shape.
    pub wrapped_target: WrappedTarget,
    /// `--repair`.
    pub repair: String,
    /// A report without a solver (the VM backend failing closed), or a solver to start.
    pub next: Next,
}

/// What a planned run does next.
#[derive(Debug)]
pub enum Next {
    /// Print this report (rc from the report); no solver process.
    Report(RunnerReport),
    /// Start the solver as `launch` says, feed it `input`, then call [`finish`].
    Solve(SolveStep),
}

/// The solver of a planned run and what [`finish`] needs to build the report.
#[derive(Debug)]
pub struct SolveStep {
    /// How to start the solver.
    pub launch: SolverLaunch,
    /// The input bytes.
    pub input: Vec<u8>,
    /// What the report is built from.
    pub finish: FinishPlan,
}

/// The parts of the report known before the solver runs.
#[derive(Debug, Clone)]
pub struct FinishPlan {
    mode: RunMode,
    world: String,
    sandbox_backend: Option<String>,
    roots_shown: Vec<String>,
    max_output_bytes: u64,
    fuel: u64,
    compile_fuel: Option<u64>,
}

/// A finished run: the report, and what the command line prints on stderr after it
/// (compile hints, notes of the solver).
#[derive(Debug)]
pub struct Finished {
    /// The runner report.
    pub report: RunnerReport,
    /// Stderr printed after the solver ran.
    pub stderr: Vec<u8>,
}

/// `path` without `.` segments (`./src` → `src`, `.` → empty).
fn lexical(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

/// Where `relative` points when resolved against `base` (kept as is when absolute).
pub fn resolve_against(base: &Path, relative: &str) -> PathBuf {
    let path = Path::new(relative);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// argv_v1: u32le count, then (u32le length, bytes) per argument.
pub fn encode_argv_v1(args: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(args.len() as u32).to_le_bytes());
    for arg in args {
        out.extend_from_slice(&(arg.len() as u32).to_le_bytes());
        out.extend_from_slice(arg.as_bytes());
    }
    out
}

/// Plans a run: every check `x07 run` makes before it starts the solver, in its order,
/// with the same messages. Writes what `x07 run` writes (a derived policy, a missing
/// lockfile; `--repair=memory`'s staged copy).
pub fn prepare(request: &RunRequest, context: &RunContext) -> Result<Prepared, Refused> {
    let mut stderr = Vec::new();
    match plan(request, context, &mut stderr) {
        Ok((wrapped_target, next)) => Ok(Prepared {
            stderr,
            wrapped_target,
            repair: request.repair.clone(),
            next,
        }),
        Err(failure) => {
            stderr.extend_from_slice(&failure.stderr());
            Err(Refused {
                exit_code: failure.exit_code(),
                stderr,
            })
        }
    }
}

/// A run refused before any solver started (usage error, rc 2; policy schema, rc 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The exit code.
    pub exit_code: i32,
    /// Everything the command line prints on stderr, the refusal last.
    pub stderr: Vec<u8>,
}

fn plan(
    request: &RunRequest,
    context: &RunContext,
    stderr: &mut Vec<u8>,
) -> Result<(WrappedTarget, Next), RunFailure> {
    let repair = request.repair.as_str();
    let targets = [&request.project, &request.program, &request.artifact]
        .iter()
        .filter(|t| t.is_some())
        .count();
    if targets > 1 {
        return usage("set exactly one of --project, --program, or --artifact");
    }
    if request.report_out.as_deref() == Some("-") {
        return usage("--report-out '-' is not supported (stdout is reserved for the report)");
    }
    if request.artifact.is_some() {
        return usage("--artifact is not supported by x07-lite (it runs x07AST programs, not native executables)");
    }
    let cwd = context.cwd.clone();
    let module_roots_flag = &request.module_roots;

    // Target: the manifest (if any), the entry program, and the mode.
    let (manifest, program_path, program_shown, project_target) =
        if let Some(project) = &request.project {
            let path = Path::new(project);
            let manifest_path = if path.is_dir() {
                path.join(crate::project::MANIFEST_FILE)
            } else {
                path.to_path_buf()
            };
            let manifest = Manifest::load(&manifest_path).map_err(RunFailure::Usage)?;
            if !module_roots_flag.is_empty() {
                return usage("--module-root is only valid with --program");
            }
            let entry = manifest.root.join(&manifest.entry);
            let shown = display(&manifest.resolve(&manifest.entry));
            (Some(manifest), entry, shown, true)
        } else if let Some(program) = &request.program {
            if !program.ends_with(".x07.json") {
                return usage(format!(
                    "--program must be an x07AST JSON file (*.x07.json), got {program}"
                ));
            }
            let start = Path::new(program).parent().unwrap_or(Path::new(""));
            let manifest = match Manifest::find_upwards(start) {
                Some(path) => Some(Manifest::load(&path).map_err(RunFailure::Usage)?),
                None => None,
            };
            (
                manifest,
                absolute(Path::new(program)),
                program.clone(),
                false,
            )
        } else {
            let Some(path) = Manifest::find_upwards(&cwd) else {
                return usage("no project found (pass --project, --program, or --artifact)");
            };
            let manifest = Manifest::load(&path).map_err(RunFailure::Usage)?;
            if !module_roots_flag.is_empty() {
                return usage("--module-root is only valid with --program");
            }
            let entry = manifest.root.join(&manifest.entry);
            let shown = display(&manifest.resolve(&manifest.entry));
            (Some(manifest), entry, shown, true)
        };

    // Profile and world.
    let profile_flag = request.profile.as_deref();
    let profile: Option<(String, Profile)> = match &manifest {
        Some(manifest) => manifest
            .select_profile(profile_flag)
            .map_err(RunFailure::Usage)?,
        None => {
            if profile_flag.is_some() {
                return usage(
                    "--profile requires a project manifest (--project or a discovered x07.json)",
                );
            }
            None
        }
    };
    let world = match (&request.world, &profile, &manifest) {
        (Some(world), _, _) => {
            check_world(world)
                .map_err(|why| RunFailure::Usage(format!("invalid --world {world:?}: {why}")))?;
            world.clone()
        }
        (None, Some((name, profile)), manifest) => {
            let world = profile
                .world
                .clone()
                .or_else(|| manifest.as_ref().map(|m| m.world.clone()))
                .unwrap_or_else(|| "run-os".to_string());
            check_world(&world).map_err(|why| {
                RunFailure::Usage(format!("invalid profiles[{name:?}].world {world:?}: {why}"))
            })?;
            world
        }
        (None, None, Some(manifest)) => {
            check_world(&manifest.world).map_err(|why| {
                RunFailure::Usage(format!(
                    "invalid x07.json world {:?}: {why}",
                    manifest.world
                ))
            })?;
            manifest.world.clone()
        }
        (None, None, None) => "run-os".to_string(),
    };
    let sandboxed = world == "run-os-sandboxed";
    let policy_flag = request.policy.as_ref();
    if let Some((name, profile)) = &profile {
        let profile_sandboxed = profile.world.as_deref() == Some("run-os-sandboxed");
        if profile_sandboxed && profile.policy.is_none() && policy_flag.is_none() {
            return usage(format!(
                "profiles[{name:?}].policy is required when profiles[{name:?}].world is run-os-sandboxed"
            ));
        }
        if !profile_sandboxed && profile.policy.is_some() {
            return usage(format!(
                "profiles[{name:?}].policy is only valid when profiles[{name:?}].world is run-os-sandboxed"
            ));
        }
    }
    if policy_flag.is_some() && !sandboxed {
        return usage("--policy is only valid for --world run-os-sandboxed");
    }
    let overrides = &request.overrides;
    if !overrides.is_empty() && !sandboxed {
        return usage("--allow-host/--deny-host/--allow-read-root/--allow-write-root requires run-os-sandboxed (policy-enforced OS world)");
    }
    let project_root = manifest.as_ref().map(|m| m.root.clone());
    let policy_path: Option<PathBuf> = if sandboxed {
        let base = project_root.clone().unwrap_or_else(|| cwd.clone());
        match (
            policy_flag,
            profile.as_ref().and_then(|(_, p)| p.policy.as_ref()),
        ) {
            (Some(flag), _) => Some(resolve_against(&base, flag)),
            (None, Some(from_profile)) => Some(resolve_against(&base, from_profile)),
            (None, None) => {
                return usage(
                    "run-os-sandboxed requires a policy file (--policy or profile policy)",
                )
            }
        }
        .map(|p| crate::project::normalize(&p))
    } else {
        None
    };

    // The program file (x07-lite never rewrites it, whatever --repair says).
    match crate::project::read_source_file(&program_path) {
        Ok(bytes) => {
            if repair != "off" {
                match serde_json::from_slice::<Value>(&bytes) {
                    Err(err) => {
                        return usage(format!(
                            "repair program: {program_shown}: parse x07AST JSON: {program_shown}: {err}"
                        ))
                    }
                    Ok(value) if repair == "memory" => {
                        let base = match (&manifest, project_target) {
                            (Some(manifest), true) => manifest.root.clone(),
                            _ => program_path.parent().map(Path::to_path_buf).unwrap_or_default(),
                        };
                        stage_repair_copy(&base, &program_path, value);
                    }
                    Ok(_) => {}
                }
            }
        }
        Err(err) => {
            return usage(if repair == "off" {
                format!("read program: {program_shown}: {err}")
            } else {
                format!("repair program: {program_shown}: read x07AST: {program_shown}: {err}")
            })
        }
    }

    // Policy: loaded, or derived then loaded.
    let mut policy: Option<(PathBuf, Policy)> = None;
    if let Some(path) = &policy_path {
        let effective = if overrides.is_empty() {
            path.clone()
        } else {
            let bytes = match crate::project::read_source_file(path) {
                Ok(bytes) => bytes,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                    return usage(format!("missing policy file: {}", path.display()))
                }
                Err(err) => return usage(format!("read policy file: {}: {err}", path.display())),
            };
            let derived = derive(path, &bytes, overrides).map_err(|err| match err {
                DeriveError::Usage(message) => RunFailure::Usage(message),
                DeriveError::Schema(message) => RunFailure::Schema(message),
            })?;
            // The derived policy must pass the same checks as any policy before it is
            // written (a `;` in a root flag would otherwise smuggle in more roots). A
            // parse error names the base file, whose content it comes from.
            crate::policy::parse_policy(derived.text.as_bytes()).map_err(|err| {
                let err = match err {
                    PolicyError::Parse { source, .. } => PolicyError::Parse {
                        path: path.clone(),
                        source,
                    },
                    other => other,
                };
                RunFailure::Usage(err.to_string())
            })?;
            let root = project_root.clone().unwrap_or_else(|| cwd.clone());
            let written = write_derived(&root, &derived)
                .map_err(|err| RunFailure::Usage(format!("write derived policy: {err}")))?;
            stderr.extend_from_slice(
                format!("x07 run: using derived policy {}\n", written.display()).as_bytes(),
            );
            written
        };
        let loaded = load_policy(&effective).map_err(|err| RunFailure::Usage(err.to_string()))?;
        policy = Some((effective, loaded));
    }

    // Sandbox backend: the VM backend is never available here, so it fails closed.
    let mut sandbox_backend: Option<String> = None;
    let mut vm_failure = false;
    if sandboxed {
        let backend = request
            .sandbox_backend
            .clone()
            .or_else(|| context.var("X07_SANDBOX_BACKEND"))
            .unwrap_or_else(|| "vm".to_string());
        let accepted =
            request.accept_weaker_isolation || context.flag("X07_I_ACCEPT_WEAKER_ISOLATION");
        match backend.as_str() {
            "os" | "none" if accepted => sandbox_backend = Some(backend.clone()),
            "os" | "none" => {
                let effective = if backend == "os" { "Os" } else { "None" };
                return usage(format!(
                    "run-os-sandboxed defaults to sandbox_backend=vm and fails closed; effective sandbox backend is {effective}\n\nfix:\n  - use a VM backend: --sandbox-backend=vm (default), or\n  - explicitly accept weaker isolation: --i-accept-weaker-isolation (or set X07_I_ACCEPT_WEAKER_ISOLATION=1)"
                ));
            }
            _ => vm_failure = true,
        }
    }

    // Lockfile.
    if let Some(manifest) = &manifest {
        if matches!(manifest.ensure_lockfile(), Ok(true)) {
            stderr.extend_from_slice(
                format!(
                    "x07 run: hydrated project dependencies via `x07 pkg lock --project {}`\n",
                    manifest.root.join(crate::project::MANIFEST_FILE).display()
                )
                .as_bytes(),
            );
        }
    }

    // Input.
    let profile_ref = profile.as_ref().map(|(_, p)| p);
    let input = resolve_input(
        &request.input,
        context.stdin,
        profile_ref,
        project_root.as_deref(),
    )?;

    // Limits.
    let pick = |flag: Option<u64>, from_profile: Option<u64>, default: u64| -> u64 {
        flag.or(from_profile).unwrap_or(default)
    };
    let fuel = pick(
        request.solve_fuel,
        profile_ref.and_then(|p| p.solve_fuel),
        DEFAULT_SOLVE_FUEL,
    );
    let max_memory_bytes = pick(
        request.max_memory_bytes,
        profile_ref.and_then(|p| p.max_memory_bytes),
        DEFAULT_MAX_MEMORY_BYTES,
    );
    let max_output_bytes = pick(
        request.max_output_bytes,
        profile_ref.and_then(|p| p.max_output_bytes),
        DEFAULT_MAX_OUTPUT_BYTES,
    );
    let cpu_flag = request
        .cpu_time_limit_seconds
        .or(profile_ref.and_then(|p| p.cpu_time_limit_seconds));

    // Module roots: absolute for the compile, as shown for the wrapped report.
    let (roots_abs, roots_shown): (Vec<PathBuf>, Vec<String>) = if !module_roots_flag.is_empty() {
        (
            module_roots_flag
                .iter()
                .map(|r| absolute(Path::new(r)))
                .collect(),
            module_roots_flag.clone(),
        )
    } else if let Some(manifest) = &manifest {
        let abs: Vec<PathBuf> = manifest
            .module_roots
            .iter()
            .map(|r| crate::project::normalize(&manifest.root.join(r)))
            .collect();
        let shown: Vec<String> = if project_target {
            abs.iter().map(|p| display(p)).collect()
        } else {
            manifest
                .module_roots
                .iter()
                .map(|r| display(&lexical(&manifest.resolve(r))))
                .collect()
        };
        if !project_target && shown.iter().any(String::is_empty) {
            // x07 hands its runner an empty `--module-root` here (observed-behaviour.md
            // §1.7); the run fails the same way.
            return usage("error: a value is required for '--module-root <MODULE_ROOT>' but none was supplied\n\nFor more information, try '--help'.");
        }
        (abs, shown)
    } else {
        let dir = Path::new(request.program.as_deref().unwrap_or(""))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        (vec![absolute(&dir)], vec![display(&dir)])
    };

    // `--repair=memory` on a project runs it as a program, in the caller's cwd.
    let mode = if project_target && repair != "memory" {
        RunMode::ProjectCompileRun
    } else {
        RunMode::CompileRun
    };
    let program_cwd = match (&manifest, mode) {
        (Some(manifest), RunMode::ProjectCompileRun) => manifest.root.clone(),
        _ => cwd.clone(),
    };
    let wrapped_target = WrappedTarget {
        kind: if project_target { "project" } else { "program" },
        path: match (&manifest, project_target) {
            (Some(manifest), true) => display(&manifest.root.join(crate::project::MANIFEST_FILE)),
            _ => program_shown.clone(),
        },
        project_root: manifest.as_ref().map(|m| display(&m.root)),
        lockfile: manifest
            .as_ref()
            .map(|m| display(&m.root.join(&m.lockfile))),
        resolved_module_roots: roots_shown.clone(),
    };

    // The VM backend fails closed once x07 would hand the run to its runner.
    if vm_failure {
        stderr.extend_from_slice(format!("{VM_FAILURE}\n").as_bytes());
        let report = RunnerReport {
            mode,
            world: world.clone(),
            sandbox_backend: None,
            compile: CompileSection::vm_failure(&world, VM_FAILURE),
            solve: None,
        };
        return Ok((wrapped_target, Next::Report(report)));
    }

    // The compiler's own fuel (`compile.fuel_used`), from the program as written.
    let compile_fuel = crate::compile_fuel::compile_fuel(&program_path, &roots_abs);

    // The solver's environment, limits and clock.
    let mut environment: BTreeMap<OsString, OsString> = BTreeMap::new();
    let (limits, wall_limit, starved_grace) = match &policy {
        Some((_, policy)) => {
            // A sandboxed solver gets only `X07_*` and the keys the policy allows.
            environment.extend(solver::sandbox_environment(
                policy,
                context.env.iter().cloned(),
            ));
            environment.insert("X07_OS_SANDBOXED".into(), "1".into());
            environment.extend(
                policy_env(policy)
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into())),
            );
            (
                ProcessLimits {
                    cpu_seconds: Some(cpu_seconds_from_ms(policy.limits.cpu_ms)),
                    address_space_bytes: Some(policy.limits.mem_bytes),
                    open_files: Some(policy.limits.fds.max(8)),
                    core_dumps: policy.limits.core_dumps.unwrap_or(false),
                    file_size_bytes: policy.fs.max_write_bytes.filter(|_| policy.fs.enabled),
                },
                Duration::from_millis(policy.limits.wall_ms),
                Duration::ZERO,
            )
        }
        None => {
            environment.extend(context.env.iter().cloned());
            let cpu = cpu_flag.unwrap_or(DEFAULT_CPU_SECONDS).max(1);
            (
                ProcessLimits {
                    cpu_seconds: Some(cpu),
                    address_space_bytes: Some(
                        max_memory_bytes
                            .saturating_mul(4)
                            .saturating_add(RUN_OS_ADDRESS_SPACE_SLACK),
                    ),
                    open_files: None,
                    core_dumps: false,
                    file_size_bytes: None,
                },
                // The real runner allows one second more than the CPU limit. A solver that
                // is still runnable then (starved on a busy machine) gets up to 3 × the CPU
                // limit more, so the CPU limit decides as it does on an idle machine; a
                // sleeping or blocked one times out on time.
                Duration::from_secs(cpu + 1),
                Duration::from_secs(cpu * 3),
            )
        }
    };
    environment.insert("X07_WORLD".into(), world.clone().into());
    // The solver's own wall clock only backs up its starter's (which decides).
    let wall_backstop = wall_limit + starved_grace + Duration::from_secs(1);
    let launch = SolverLaunch {
        cwd: program_cwd,
        environment: environment.into_iter().collect(),
        wall_limit,
        starved_grace,
        max_output_bytes,
        spec: SolverSpec {
            entry: program_path.clone(),
            module_roots: roots_abs,
            policy: policy.as_ref().map(|(path, _)| path.clone()),
            fuel,
            max_memory_bytes,
            limits,
            parent_pid: None,
            wall_backstop_ms: Some(wall_backstop.as_millis() as u64),
            // From this process's own environment, not `context.env`: the run's
            // environment is the fixture's to set, the sandbox's switches are not.
            test_switches: crate::sandbox::TestSwitches::from_process_environment(),
        },
    };
    Ok((
        wrapped_target,
        Next::Solve(SolveStep {
            launch,
            input,
            finish: FinishPlan {
                mode,
                world,
                sandbox_backend,
                roots_shown,
                max_output_bytes,
                fuel,
                compile_fuel,
            },
        }),
    ))
}

/// Builds the report of a run from what its solver process did: a compile error (with
/// the `hint: x07 ast get …` lines), or x07's framing rules applied to the solver's
/// output; the solver's notes (no Landlock) go to stderr and the report's diagnostics.
pub fn finish(plan: FinishPlan, raw: RawRun) -> Finished {
    let FinishPlan {
        mode,
        world,
        sandbox_backend,
        roots_shown,
        max_output_bytes,
        fuel,
        compile_fuel,
    } = plan;
    let mut stderr = Vec::new();
    if let Some(err) = solver::compile_failure(&raw) {
        stderr.extend_from_slice(compile_hints(&err.message, &roots_shown).as_bytes());
        // A missing native backend is found after the C was generated, so the
        // compiler's fuel is reported (compile-error-native-backend-missing); parse and
        // type errors come before that (null).
        let generated_c = !err.native_requires.is_empty();
        let mut compile =
            CompileSection::failure(&world, err.message, err.diagnostics, err.native_requires);
        compile.fuel_used = compile_fuel.filter(|_| generated_c);
        let report = RunnerReport {
            mode,
            world: world.clone(),
            sandbox_backend,
            compile,
            solve: None,
        };
        return Finished { report, stderr };
    }
    // Notes of the solver (no Landlock on this kernel): once on stderr, and in the
    // report's diagnostics.
    let mut compile = CompileSection::success(&world);
    compile.fuel_used = compile_fuel;
    if !raw.notes.is_empty() {
        for note in &raw.notes {
            stderr.extend_from_slice(format!("{note}\n").as_bytes());
        }
        compile.diagnostics = Some(Value::Array(
            raw.notes
                .iter()
                .map(|note| {
                    serde_json::json!({
                        "code": "X07-LITE-SANDBOX-0001",
                        "message": note,
                        "severity": "warning",
                        "stage": "run",
                    })
                })
                .collect(),
        ));
    }
    let solve = solver::solve_section(raw, max_output_bytes, fuel);
    let report = RunnerReport {
        mode,
        world: world.clone(),
        sandbox_backend,
        compile,
        solve: Some(solve),
    };
    Finished { report, stderr }
}

/// `--repair=memory` leaves the source alone and stages a canonical copy (one line,
/// keys sorted) at `<base>/.x07/repair/_staged/0/<file>`, as x07 does.
fn stage_repair_copy(base: &Path, program: &Path, mut value: Value) {
    let Some(name) = program.file_name() else {
        return;
    };
    crate::report::sort_keys(&mut value);
    let text = format!("{value}\n");
    // Never through a symlink the project planted on the way.
    let _ = crate::project::write_below(
        base,
        &[".x07", "repair", "_staged", "0"],
        name,
        text.as_bytes(),
    );
}

/// The `X07_OS_*` variables the real runner hands a sandboxed program.
fn policy_env(policy: &Policy) -> Vec<(String, String)> {
    let hosts = policy
        .net
        .allow_hosts
        .iter()
        .map(|h| {
            let ports: Vec<String> = h.ports.iter().map(u64::to_string).collect();
            format!("{}:{}", h.host, ports.join(","))
        })
        .collect::<Vec<_>>()
        .join(";");
    vec![
        (
            "X07_OS_FS_READ_ROOTS".into(),
            policy.fs.read_roots.join(";"),
        ),
        (
            "X07_OS_FS_WRITE_ROOTS".into(),
            policy.fs.write_roots.join(";"),
        ),
        (
            "X07_OS_DENY_HIDDEN".into(),
            if policy.fs.deny_hidden { "1" } else { "0" }.into(),
        ),
        ("X07_OS_NET_ALLOW_HOSTS".into(), hosts),
        (
            "X07_OS_TIME_MAX_SLEEP_MS".into(),
            policy.time.max_sleep_ms.to_string(),
        ),
        (
            "X07_OS_ENV_ALLOW_KEYS".into(),
            policy.env.allow_keys.join(";"),
        ),
        (
            "X07_OS_PROC_ALLOW_EXECS".into(),
            policy.process.allow_execs.join(";"),
        ),
    ]
}

fn resolve_input(
    input: &RunInput,
    stdin: StdinSource,
    profile: Option<&Profile>,
    project_root: Option<&Path>,
) -> Result<Vec<u8>, RunFailure> {
    let read_stdin = || -> std::io::Result<Vec<u8>> {
        let mut data = Vec::new();
        if stdin == StdinSource::Inherited {
            std::io::stdin().lock().read_to_end(&mut data)?;
        }
        Ok(data)
    };
    match input {
        RunInput::File(path) => {
            return crate::project::read_input_file(Path::new(path))
                .map_err(|err| RunFailure::Usage(format!("read input: {path}: {err}")))
        }
        RunInput::Stdin => {
            return read_stdin().map_err(|err| RunFailure::Usage(format!("read stdin: {err}")))
        }
        RunInput::Base64(text) => {
            return B64
                .decode(text)
                .map_err(|err| RunFailure::Usage(format!("decode --input-b64: {err}")))
        }
        RunInput::Bytes(bytes) => return Ok(bytes.clone()),
        RunInput::Args(args) => return Ok(encode_argv_v1(args)),
        // `--` with nothing after it: empty input, not an argv_v1 count of 0.
        RunInput::EndOfFlags => return Ok(Vec::new()),
        RunInput::None => {}
    }
    if let Some(input) = profile.and_then(|p| p.input.as_ref()) {
        let base = project_root.map(Path::to_path_buf).unwrap_or_default();
        let path = resolve_against(&base, input);
        return crate::project::read_input_file(&path)
            .map_err(|err| RunFailure::Usage(format!("read input: {input}: {err}")));
    }
    if stdin == StdinSource::Inherited && std::io::stdin().is_terminal() {
        return Ok(Vec::new());
    }
    Ok(read_stdin().unwrap_or_default())
}

/// `hint: x07 ast get ...` lines for compile errors that carry JSON pointers into a
/// module file found under the module roots.
fn compile_hints(message: &str, roots_shown: &[String]) -> String {
    let mut hints = String::new();
    let Some(fn_at) = message.find("(fn=") else {
        return hints;
    };
    let function: String = message[fn_at + 4..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != ')')
        .collect();
    let Some((module, _)) = function.rsplit_once('.') else {
        return hints;
    };
    let relative = format!("{}.x07.json", module.replace('.', "/"));
    let Some(file) = roots_shown.iter().find_map(|root| {
        let candidate = Path::new(root).join(&relative);
        candidate.is_file().then(|| {
            if Path::new(root).is_absolute() {
                display(&candidate)
            } else {
                format!("./{}", display(&crate::project::normalize(&candidate)))
            }
        })
    }) else {
        return hints;
    };
    for token in message.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
        let pointer = token
            .strip_prefix("moved_ptr=")
            .or_else(|| token.strip_prefix("ptr="));
        if let Some(pointer) = pointer {
            hints.push_str(&format!("hint: x07 ast get --in {file} --ptr {pointer}\n"));
        }
    }
    hints
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The run's environment (a cargo-x07 fixture's `run.env`) cannot switch the sandbox
    /// off: the switches come from this process's own environment only.
    #[test]
    fn the_runs_environment_does_not_reach_the_sandbox_switches() {
        if std::env::var_os("X07_LITE_LANDLOCK").is_some()
            || std::env::var_os("X07_LITE_OPENAT2").is_some()
        {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("main.x07.json"),
            r#"{"schema_version":"x07.x07ast@0.8.0","kind":"entry","module_id":"main","imports":[],"decls":[],"solve":["bytes.lit","ok"]}"#,
        )
        .unwrap();
        let policy = serde_json::json!({
            "schema_version": "x07.run-os-policy@0.1.0", "policy_id": "p",
            "limits": {"cpu_ms": 1000, "wall_ms": 1000, "mem_bytes": 1073741824, "fds": 64, "procs": 4},
            "fs": {"enabled": true, "read_roots": ["."], "write_roots": [], "deny_hidden": true},
            "net": {"enabled": false, "allow_dns": false, "allow_tcp": false, "allow_udp": false, "allow_hosts": []},
            "env": {"enabled": false, "allow_keys": [], "deny_keys": []},
            "time": {"enabled": false, "allow_monotonic": false, "allow_wall_clock": false, "allow_sleep": false, "max_sleep_ms": 0, "allow_local_tzid": false},
            "process": {"enabled": false, "allow_spawn": false, "max_live": 0, "max_spawns": 0, "allow_exec": false, "allow_exit": false}
        });
        std::fs::write(dir.path().join("policy.json"), policy.to_string()).unwrap();
        let at = |name: &str| dir.path().join(name).into_os_string();
        let args: Vec<OsString> = vec![
            "run".into(),
            "--program".into(),
            at("main.x07.json"),
            "--module-root".into(),
            dir.path().as_os_str().to_os_string(),
            "--repair=off".into(),
            "--world".into(),
            "run-os-sandboxed".into(),
            "--policy".into(),
            at("policy.json"),
            "--sandbox-backend".into(),
            "os".into(),
            "--i-accept-weaker-isolation".into(),
        ];
        let request = crate::cli::parse_run_request(&args).unwrap();
        let context = RunContext {
            cwd: dir.path().to_path_buf(),
            env: vec![
                ("X07_LITE_LANDLOCK".into(), "off".into()),
                ("X07_LITE_OPENAT2".into(), "off".into()),
            ],
            stdin: StdinSource::Empty,
        };
        let prepared = match prepare(&request, &context) {
            Ok(prepared) => prepared,
            Err(refused) => panic!("refused: {}", String::from_utf8_lossy(&refused.stderr)),
        };
        let Next::Solve(step) = prepared.next else {
            panic!("no solver to start");
        };
        assert_eq!(
            step.launch.spec.test_switches,
            crate::sandbox::TestSwitches::default()
        );
    }

    #[test]
    fn argv_v1_layout() {
        let args: Vec<String> = ["a", "bc", "", "d e"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            encode_argv_v1(&args),
            b"\x04\x00\x00\x00\x01\x00\x00\x00a\x02\x00\x00\x00bc\x00\x00\x00\x00\x03\x00\x00\x00d e"
        );
    }
}
