//! The `x07-lite` command line: `run` with the flags of `x07 run`, `policy init`, and
//! the hidden solver subcommand. Exit codes and the stdout/stderr split follow
//! `observed-behaviour.md` §1.1: 0 success, 1 a report with a failure, 2 usage errors,
//! 3 a policy that fails its schema on the derived-policy path.

use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use clap::builder::{NonEmptyStringValueParser, PossibleValuesParser};
use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::Value;

use crate::derived::{derive, write_derived, DeriveError, Overrides};
use crate::limits::{
    cpu_seconds_from_ms, ProcessLimits, DEFAULT_CPU_SECONDS, DEFAULT_MAX_MEMORY_BYTES,
    DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_SOLVE_FUEL, RUN_OS_ADDRESS_SPACE_SLACK,
};
use crate::policy::{is_valid_policy_id, load_policy, Policy};
use crate::project::{absolute, check_world, Manifest, Profile};
use crate::report::{
    policy_init_line, pretty_text, sort_keys, wrapped_text, CompileSection, RunMode, RunnerReport,
    WrappedTarget,
};
use crate::solver::{self, SolverLaunch, SolverSpec, SOLVE_SUBCOMMAND};
use crate::templates;

/// The message of the VM backend, which is never available to x07-lite.
const VM_FAILURE: &str =
    "missing firecracker-ctr binary \"firecracker-ctr\" (set X07_VM_FIRECRACKER_CTR_BIN to override)";

/// Runs the CLI with `args` (without argv\[0\]); `self_prefix` is what must follow
/// `std::env::current_exe()` to re-invoke this same CLI (empty for the `x07-lite`
/// binary, `["__x07"]` when embedded in cargo-x07). Prints to stdout/stderr and returns
/// the exit code; never panics.
pub fn main_with_args(args: Vec<OsString>, self_prefix: Vec<OsString>) -> i32 {
    let result = std::panic::catch_unwind(move || dispatch(args, self_prefix));
    match result {
        Ok(code) => code,
        Err(_) => {
            eprintln!("x07-lite: internal error");
            3
        }
    }
}

fn dispatch(args: Vec<OsString>, self_prefix: Vec<OsString>) -> i32 {
    if args.first().is_some_and(|a| a == SOLVE_SUBCOMMAND) {
        let spec = args.get(1).and_then(|s| s.to_str()).unwrap_or("");
        return solver::child_main(spec);
    }
    let mut argv = vec![OsString::from("x07")];
    argv.extend(args.iter().cloned());
    let matches = match command().try_get_matches_from(argv) {
        Ok(matches) => matches,
        Err(err) => {
            let is_run = args.first().is_some_and(|a| a == "run");
            if let (true, Some(pretty)) = (is_run, json_requested(&args)) {
                let text = err.render().to_string();
                let started = std::time::Instant::now();
                return emit_envelope(
                    &args,
                    err.exit_code(),
                    b"",
                    text.as_bytes(),
                    started,
                    pretty,
                );
            }
            let _ = err.print();
            return err.exit_code();
        }
    };
    match matches.subcommand() {
        Some(("run", run)) if run.get_one::<String>("json").is_some() => {
            let pretty = run.get_one::<String>("json").is_some_and(|m| m == "pretty");
            json_envelope(&args, &self_prefix, pretty)
        }
        Some(("run", run)) => match run_command(run, &args, &self_prefix) {
            Ok(code) => code,
            Err(failure) => failure.emit(),
        },
        Some(("policy", policy)) => match policy.subcommand() {
            Some(("init", init)) => match policy_init(init) {
                Ok(code) => code,
                Err(failure) => failure.emit(),
            },
            _ => 2,
        },
        _ => 2,
    }
}

/// The clap command tree (named `x07` so usage errors read as the real tool's).
pub fn command() -> Command {
    Command::new("x07")
        .bin_name("x07")
        .about("x07-lite: an x07-compatible runner for the X07 core subset")
        .version(concat!(
            env!("CARGO_PKG_VERSION"),
            " (x07-lite, compatible with x07 0.2.17)"
        ))
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(run_args())
        .subcommand(
            Command::new("policy")
                .about("Sandbox policies")
                .subcommand_required(true)
                .subcommand(policy_init_args()),
        )
}

fn path_arg(id: &'static str, long: &'static str, help: &'static str) -> Arg {
    Arg::new(id).long(long).value_name("PATH").help(help)
}

fn many(id: &'static str, long: &'static str, value: &'static str, help: &'static str) -> Arg {
    Arg::new(id)
        .long(long)
        .value_name(value)
        .action(ArgAction::Append)
        .help(help)
}

fn number(id: &'static str, long: &'static str, help: &'static str) -> Arg {
    Arg::new(id)
        .long(long)
        .value_name("N")
        .value_parser(clap::value_parser!(u64))
        .help(help)
}

fn run_args() -> Command {
    Command::new("run")
        .about("Compile-and-run an x07AST program or project and print the runner report")
        .arg(path_arg(
            "project",
            "project",
            "Project manifest (x07.json) or its directory",
        ))
        .arg(path_arg("program", "program", "Entry program (*.x07.json)"))
        .arg(path_arg(
            "artifact",
            "artifact",
            "A compiled executable (not supported by x07-lite)",
        ))
        .arg(
            Arg::new("world")
                .long("world")
                .value_name("WORLD")
                .hide(true),
        )
        .arg(
            Arg::new("module_root")
                .long("module-root")
                .value_name("MODULE_ROOT")
                .action(ArgAction::Append)
                .value_parser(NonEmptyStringValueParser::new())
                .help("Module root for --program (repeatable)"),
        )
        .arg(
            Arg::new("profile")
                .long("profile")
                .value_name("PROFILE")
                .help("Profile of x07.json"),
        )
        .arg(path_arg(
            "policy",
            "policy",
            "Sandbox policy file (run-os-sandboxed)",
        ))
        .arg(
            path_arg("input", "input", "Input file").conflicts_with_all([
                "stdin",
                "input_b64",
                "args",
            ]),
        )
        .arg(
            Arg::new("stdin")
                .long("stdin")
                .action(ArgAction::SetTrue)
                .help("Read the input from stdin")
                .conflicts_with_all(["input_b64", "args"]),
        )
        .arg(
            Arg::new("input_b64")
                .long("input-b64")
                .value_name("BASE64")
                .help("Input as base64")
                .conflicts_with("args"),
        )
        .arg(
            Arg::new("repair")
                .long("repair")
                .value_name("REPAIR")
                .value_parser(PossibleValuesParser::new(["off", "memory", "write"]))
                .default_value("write")
                .help("Repair mode; x07-lite never rewrites sources"),
        )
        .arg(
            Arg::new("report")
                .long("report")
                .value_name("REPORT")
                .value_parser(PossibleValuesParser::new(["runner", "wrapped"]))
                .default_value("runner")
                .help("Report shape"),
        )
        .arg(path_arg(
            "report_out",
            "report-out",
            "Also write the report to this file",
        ))
        .arg(
            Arg::new("quiet_json")
                .long("quiet-json")
                .action(ArgAction::SetTrue)
                .help("Do not print the report on stdout"),
        )
        .arg(
            Arg::new("sandbox_backend")
                .long("sandbox-backend")
                .value_name("BACKEND")
                .value_parser(PossibleValuesParser::new(["auto", "vm", "os", "none"]))
                .help("Sandbox backend of run-os-sandboxed"),
        )
        .arg(
            Arg::new("accept_weaker")
                .long("i-accept-weaker-isolation")
                .action(ArgAction::SetTrue)
                .help("Allow the os/none sandbox backends"),
        )
        .arg(many(
            "allow_host",
            "allow-host",
            "HOST:PORTS",
            "Derive a policy allowing a host",
        ))
        .arg(many(
            "allow_host_file",
            "allow-host-file",
            "PATH",
            "Hosts to allow, one HOST:PORTS a line",
        ))
        .arg(many(
            "deny_host",
            "deny-host",
            "HOST:PORTS",
            "Derive a policy denying a host (PORTS may be *)",
        ))
        .arg(many(
            "deny_host_file",
            "deny-host-file",
            "PATH",
            "Hosts to deny, one a line",
        ))
        .arg(
            many(
                "allow_read_root",
                "allow-read-root",
                "ALLOW_READ_ROOT",
                "Derive a policy with another read root",
            )
            .value_parser(NonEmptyStringValueParser::new()),
        )
        .arg(
            many(
                "allow_write_root",
                "allow-write-root",
                "ALLOW_WRITE_ROOT",
                "Derive a policy with another write root",
            )
            .value_parser(NonEmptyStringValueParser::new()),
        )
        .arg(number(
            "solve_fuel",
            "solve-fuel",
            "Fuel limit (default 50000000)",
        ))
        .arg(number(
            "max_memory_bytes",
            "max-memory-bytes",
            "Heap limit (default 64 MiB)",
        ))
        .arg(number(
            "max_output_bytes",
            "max-output-bytes",
            "Output limit (default 1 MiB)",
        ))
        .arg(number(
            "cpu_time_limit_seconds",
            "cpu-time-limit-seconds",
            "CPU limit of run-os (default 30)",
        ))
        .arg(
            Arg::new("json")
                .long("json")
                .value_name("MODE")
                .num_args(0..=1)
                .require_equals(true)
                .default_missing_value("compact")
                .value_parser(PossibleValuesParser::new(["compact", "pretty"]))
                .help("Print an x07.tool.run.report@0.1.0 envelope around the run"),
        )
        .arg(
            Arg::new("args")
                .value_name("ARG")
                .num_args(1..)
                .trailing_var_arg(true)
                .help("Program arguments, passed as argv_v1 input"),
        )
}

fn policy_init_args() -> Command {
    Command::new("init")
        .about("Write a base sandbox policy from a template")
        .arg(
            Arg::new("template")
                .long("template")
                .value_name("TEMPLATE")
                .required(true)
                .value_parser(PossibleValuesParser::new(templates::TEMPLATE_NAMES)),
        )
        .arg(path_arg("out", "out", "Output file"))
        .arg(
            Arg::new("mkdir_out")
                .long("mkdir-out")
                .action(ArgAction::SetTrue)
                .help("Create the parent directory of --out"),
        )
        .arg(
            Arg::new("force")
                .long("force")
                .action(ArgAction::SetTrue)
                .help("Overwrite a different existing file"),
        )
        .arg(Arg::new("policy_id").long("policy-id").value_name("ID"))
        .arg(
            Arg::new("emit")
                .long("emit")
                .value_name("EMIT")
                .value_parser(PossibleValuesParser::new(["report", "policy"]))
                .default_value("report"),
        )
}

/// A run that ends without a report.
enum Failure {
    /// rc 2 with one stderr line.
    Usage(String),
    /// rc 3 with an x07diag line on stderr.
    Schema(String),
}

impl Failure {
    fn emit(self) -> i32 {
        let mut stderr = std::io::stderr().lock();
        match self {
            Failure::Usage(message) => {
                let _ = writeln!(stderr, "{message}");
                2
            }
            Failure::Schema(message) => {
                let _ = stderr.write_all(DeriveError::diag_line(&message).as_bytes());
                3
            }
        }
    }
}

fn usage<T>(message: impl Into<String>) -> Result<T, Failure> {
    Err(Failure::Usage(message.into()))
}

fn strings(matches: &ArgMatches, id: &str) -> Vec<String> {
    matches
        .get_many::<String>(id)
        .map(|values| values.cloned().collect())
        .unwrap_or_default()
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

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| matches!(v.as_str(), "1" | "true" | "yes"))
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// `path` without `.` segments (`./src` → `src`, `.` → empty).
fn lexical(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

/// Where `relative` points when resolved against `base` (kept as is when absolute).
fn resolve_against(base: &Path, relative: &str) -> PathBuf {
    let path = Path::new(relative);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

fn run_command(
    matches: &ArgMatches,
    raw_args: &[OsString],
    self_prefix: &[OsString],
) -> Result<i32, Failure> {
    let project_flag = matches.get_one::<String>("project");
    let program_flag = matches.get_one::<String>("program");
    let artifact_flag = matches.get_one::<String>("artifact");
    let module_roots_flag = strings(matches, "module_root");
    let repair = matches
        .get_one::<String>("repair")
        .map(String::as_str)
        .unwrap_or("write");
    let report_shape = matches
        .get_one::<String>("report")
        .map(String::as_str)
        .unwrap_or("runner");
    let report_out = matches.get_one::<String>("report_out");

    let targets = [project_flag, program_flag, artifact_flag]
        .iter()
        .filter(|t| t.is_some())
        .count();
    if targets > 1 {
        return usage("set exactly one of --project, --program, or --artifact");
    }
    if report_out.is_some_and(|out| out == "-") {
        return usage("--report-out '-' is not supported (stdout is reserved for the report)");
    }
    if artifact_flag.is_some() {
        return usage("--artifact is not supported by x07-lite (it runs x07AST programs, not native executables)");
    }
    let cwd = std::env::current_dir().map_err(|e| Failure::Usage(format!("cwd: {e}")))?;

    // Target: the manifest (if any), the entry program, and the mode.
    let (manifest, program_path, program_shown, project_target) =
        if let Some(project) = project_flag {
            let path = Path::new(project);
            let manifest_path = if path.is_dir() {
                path.join(crate::project::MANIFEST_FILE)
            } else {
                path.to_path_buf()
            };
            let manifest = Manifest::load(&manifest_path).map_err(Failure::Usage)?;
            if !module_roots_flag.is_empty() {
                return usage("--module-root is only valid with --program");
            }
            let entry = manifest.root.join(&manifest.entry);
            let shown = display(&manifest.resolve(&manifest.entry));
            (Some(manifest), entry, shown, true)
        } else if let Some(program) = program_flag {
            if !program.ends_with(".x07.json") {
                return usage(format!(
                    "--program must be an x07AST JSON file (*.x07.json), got {program}"
                ));
            }
            let start = Path::new(program).parent().unwrap_or(Path::new(""));
            let manifest = match Manifest::find_upwards(start) {
                Some(path) => Some(Manifest::load(&path).map_err(Failure::Usage)?),
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
            let manifest = Manifest::load(&path).map_err(Failure::Usage)?;
            if !module_roots_flag.is_empty() {
                return usage("--module-root is only valid with --program");
            }
            let entry = manifest.root.join(&manifest.entry);
            let shown = display(&manifest.resolve(&manifest.entry));
            (Some(manifest), entry, shown, true)
        };

    // Profile and world.
    let profile_flag = matches.get_one::<String>("profile").map(String::as_str);
    let profile: Option<(String, Profile)> = match &manifest {
        Some(manifest) => manifest
            .select_profile(profile_flag)
            .map_err(Failure::Usage)?,
        None => {
            if profile_flag.is_some() {
                return usage(
                    "--profile requires a project manifest (--project or a discovered x07.json)",
                );
            }
            None
        }
    };
    let world = match (matches.get_one::<String>("world"), &profile, &manifest) {
        (Some(world), _, _) => {
            check_world(world)
                .map_err(|why| Failure::Usage(format!("invalid --world {world:?}: {why}")))?;
            world.clone()
        }
        (None, Some((name, profile)), manifest) => {
            let world = profile
                .world
                .clone()
                .or_else(|| manifest.as_ref().map(|m| m.world.clone()))
                .unwrap_or_else(|| "run-os".to_string());
            check_world(&world).map_err(|why| {
                Failure::Usage(format!("invalid profiles[{name:?}].world {world:?}: {why}"))
            })?;
            world
        }
        (None, None, Some(manifest)) => {
            check_world(&manifest.world).map_err(|why| {
                Failure::Usage(format!(
                    "invalid x07.json world {:?}: {why}",
                    manifest.world
                ))
            })?;
            manifest.world.clone()
        }
        (None, None, None) => "run-os".to_string(),
    };
    let sandboxed = world == "run-os-sandboxed";
    let policy_flag = matches.get_one::<String>("policy");
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
    let overrides = Overrides {
        allow_hosts: strings(matches, "allow_host"),
        allow_host_files: strings(matches, "allow_host_file")
            .into_iter()
            .map(PathBuf::from)
            .collect(),
        deny_hosts: strings(matches, "deny_host"),
        deny_host_files: strings(matches, "deny_host_file")
            .into_iter()
            .map(PathBuf::from)
            .collect(),
        allow_read_roots: strings(matches, "allow_read_root"),
        allow_write_roots: strings(matches, "allow_write_root"),
    };
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
    match std::fs::read(&program_path) {
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
            let bytes = match std::fs::read(path) {
                Ok(bytes) => bytes,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                    return usage(format!("missing policy file: {}", path.display()))
                }
                Err(err) => return usage(format!("read policy file: {}: {err}", path.display())),
            };
            let derived = derive(path, &bytes, &overrides).map_err(|err| match err {
                DeriveError::Usage(message) => Failure::Usage(message),
                DeriveError::Schema(message) => Failure::Schema(message),
            })?;
            // The derived policy must pass the same checks as any policy before it is
            // written (a `;` in a root flag would otherwise smuggle in more roots).
            crate::policy::parse_policy(derived.text.as_bytes())
                .map_err(|err| Failure::Usage(err.to_string()))?;
            let root = project_root.clone().unwrap_or_else(|| cwd.clone());
            let written = write_derived(&root, &derived)
                .map_err(|err| Failure::Usage(format!("write derived policy: {err}")))?;
            eprintln!("x07 run: using derived policy {}", written.display());
            written
        };
        let loaded = load_policy(&effective).map_err(|err| Failure::Usage(err.to_string()))?;
        policy = Some((effective, loaded));
    }

    // Sandbox backend: the VM backend is never available here, so it fails closed.
    let mut sandbox_backend: Option<String> = None;
    let mut vm_failure = false;
    if sandboxed {
        let backend = matches
            .get_one::<String>("sandbox_backend")
            .cloned()
            .or_else(|| std::env::var("X07_SANDBOX_BACKEND").ok())
            .unwrap_or_else(|| "vm".to_string());
        let accepted =
            matches.get_flag("accept_weaker") || env_flag("X07_I_ACCEPT_WEAKER_ISOLATION");
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
            eprintln!(
                "x07 run: hydrated project dependencies via `x07 pkg lock --project {}`",
                manifest.root.join(crate::project::MANIFEST_FILE).display()
            );
        }
    }

    // Input.
    let profile_ref = profile.as_ref().map(|(_, p)| p);
    let input = resolve_input(matches, raw_args, profile_ref, project_root.as_deref())?;

    // Limits.
    let pick = |id: &str, from_profile: Option<u64>, default: u64| -> u64 {
        matches
            .get_one::<u64>(id)
            .copied()
            .or(from_profile)
            .unwrap_or(default)
    };
    let fuel = pick(
        "solve_fuel",
        profile_ref.and_then(|p| p.solve_fuel),
        DEFAULT_SOLVE_FUEL,
    );
    let max_memory_bytes = pick(
        "max_memory_bytes",
        profile_ref.and_then(|p| p.max_memory_bytes),
        DEFAULT_MAX_MEMORY_BYTES,
    );
    let max_output_bytes = pick(
        "max_output_bytes",
        profile_ref.and_then(|p| p.max_output_bytes),
        DEFAULT_MAX_OUTPUT_BYTES,
    );
    let cpu_flag = matches
        .get_one::<u64>("cpu_time_limit_seconds")
        .copied()
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
            eprint!("error: a value is required for '--module-root <MODULE_ROOT>' but none was supplied\n\nFor more information, try '--help'.\n");
            return Ok(2);
        }
        (abs, shown)
    } else {
        let dir = Path::new(program_flag.map(String::as_str).unwrap_or(""))
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
    let wrapped = (report_shape == "wrapped").then_some((&wrapped_target, repair));

    // The VM backend fails closed once x07 would hand the run to its runner.
    if vm_failure {
        eprintln!("{VM_FAILURE}");
        let report = RunnerReport {
            mode,
            world: world.clone(),
            sandbox_backend: None,
            compile: CompileSection::vm_failure(&world, VM_FAILURE),
            solve: None,
        };
        return emit_report(matches, &report, wrapped, report_out, report_shape);
    }

    // Compile and solve in a child process.
    let mut env: Vec<(OsString, OsString)> = Vec::new();
    let (limits, wall_limit, starved_grace) = match &policy {
        Some((_, policy)) => {
            // A sandboxed solver gets only `X07_*` and the keys the policy allows.
            env.extend(solver::sandbox_environment(policy, std::env::vars_os()));
            env.push(("X07_OS_SANDBOXED".into(), "1".into()));
            env.extend(
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
    env.push(("X07_WORLD".into(), world.clone().into()));
    // The solver's own wall clock only backs up this process's (which decides).
    let wall_backstop = wall_limit + starved_grace + Duration::from_secs(1);
    let exe = std::env::current_exe()
        .map_err(|err| Failure::Usage(format!("locate x07-lite executable: {err}")))?;
    let launch = SolverLaunch {
        exe,
        self_prefix: self_prefix.to_vec(),
        cwd: program_cwd,
        env,
        clear_env: policy.is_some(),
        wall_limit,
        starved_grace,
        max_output_bytes,
        spec: SolverSpec {
            entry: program_path.clone(),
            module_roots: roots_abs.clone(),
            policy: policy.as_ref().map(|(path, _)| path.clone()),
            fuel,
            max_memory_bytes,
            limits,
            parent_pid: Some(std::process::id()),
            wall_backstop_ms: Some(wall_backstop.as_millis() as u64),
        },
    };
    let raw = solver::launch(&launch, &input).map_err(Failure::Usage)?;
    if let Some(err) = solver::compile_failure(&raw) {
        print_compile_hints(&err.message, &roots_shown);
        let report = RunnerReport {
            mode,
            world: world.clone(),
            sandbox_backend,
            compile: CompileSection::failure(
                &world,
                err.message,
                err.diagnostics,
                err.native_requires,
            ),
            solve: None,
        };
        return emit_report(matches, &report, wrapped, report_out, report_shape);
    }
    // Notes of the solver (no Landlock on this kernel): once on stderr, and in the
    // report's diagnostics.
    let mut compile = CompileSection::success(&world);
    if !raw.notes.is_empty() {
        for note in &raw.notes {
            eprintln!("{note}");
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
    emit_report(matches, &report, wrapped, report_out, report_shape)
}

/// `x07 run --json[=pretty]`: the run (this CLI again, without the flag) wrapped in the
/// `x07.tool.run.report@0.1.0` envelope of `observed-behaviour.md` §1.4: always one JSON
/// document on stdout, for usage errors too, and the run's exit code. The diagnostic of
/// a failed run carries only the code x07 uses (`X07-TOOL-EXEC-0001`); its message is
/// our own text.
fn json_envelope(args: &[OsString], self_prefix: &[OsString], pretty: bool) -> i32 {
    let started = std::time::Instant::now();
    // The flag itself is the first `--json…` before `--` (clap found it there).
    let mut inner: Vec<OsString> = Vec::with_capacity(args.len());
    let mut removed = false;
    let mut after_ddash = false;
    for arg in args {
        after_ddash |= arg == "--";
        let is_flag = arg == "--json" || arg.to_string_lossy().starts_with("--json=");
        if !removed && !after_ddash && is_flag {
            removed = true;
            continue;
        }
        inner.push(arg.clone());
    }
    let output = std::env::current_exe().and_then(|exe| {
        std::process::Command::new(exe)
            .args(self_prefix)
            .args(&inner)
            .stdin(std::process::Stdio::inherit())
            .output()
    });
    let (exit_code, stdout, stderr) = match output {
        Ok(output) => (
            output.status.code().unwrap_or(1),
            output.stdout,
            output.stderr,
        ),
        Err(err) => (2, Vec::new(), format!("x07-lite: {err}\n").into_bytes()),
    };
    emit_envelope(args, exit_code, &stdout, &stderr, started, pretty)
}

/// Whether the raw arguments ask for the `--json` envelope (before any `--`), and
/// whether pretty; for usage errors clap could not parse.
fn json_requested(args: &[OsString]) -> Option<bool> {
    args.iter()
        .take_while(|a| *a != "--")
        .find_map(|a| match a.to_str() {
            Some("--json") => Some(false),
            Some(other) => other.strip_prefix("--json=").map(|mode| mode == "pretty"),
            None => None,
        })
}

/// Prints the envelope of a run that ended with `exit_code`, `stdout` and `stderr`.
fn emit_envelope(
    args: &[OsString],
    exit_code: i32,
    stdout: &[u8],
    stderr: &[u8],
    started: std::time::Instant,
    pretty: bool,
) -> i32 {
    let stdout_json = serde_json::from_slice::<Value>(stdout).unwrap_or(Value::Null);
    let diagnostics = if exit_code == 0 {
        Vec::new()
    } else {
        vec![serde_json::json!({
            "code": "X07-TOOL-EXEC-0001",
            "message": format!("x07 run exited with code {exit_code}"),
            "severity": "error",
            "stage": "run",
        })]
    };
    let argv: Vec<String> = std::iter::once("x07".to_string())
        .chain(args.iter().map(|a| a.to_string_lossy().into_owned()))
        .collect();
    let cwd = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    let stream = |bytes: &[u8]| {
        serde_json::json!({
            "bytes_len": bytes.len(),
            "text": String::from_utf8_lossy(bytes),
        })
    };
    let mut envelope = serde_json::json!({
        "command": "x07.run",
        "diagnostics": diagnostics,
        "exit_code": exit_code,
        "meta": {
            "argv": argv,
            "cwd": cwd,
            "elapsed_ms": started.elapsed().as_millis() as u64,
            "inputs": [],
            "nondeterminism": {
                "uses_network": true,
                "uses_os_time": false,
                "uses_process": false,
            },
            "outputs": [],
            "tool": { "name": "x07", "version": "0.2.17" },
        },
        "ok": exit_code == 0,
        "result": {
            "stderr": stream(stderr),
            "stdout": stream(stdout),
            "stdout_json": stdout_json,
        },
        "schema_version": "x07.tool.run.report@0.1.0",
    });
    sort_keys(&mut envelope);
    let text = if pretty {
        pretty_text(&envelope)
    } else {
        format!("{envelope}\n")
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    exit_code
}

/// `--repair=memory` leaves the source alone and stages a canonical copy (one line,
/// keys sorted) at `<base>/.x07/repair/_staged/0/<file>`, as x07 does.
fn stage_repair_copy(base: &Path, program: &Path, mut value: Value) {
    let Some(name) = program.file_name() else {
        return;
    };
    let dir = base.join(".x07").join("repair").join("_staged").join("0");
    sort_keys(&mut value);
    let text = format!("{value}\n");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join(name), text);
    }
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
    matches: &ArgMatches,
    raw_args: &[OsString],
    profile: Option<&Profile>,
    project_root: Option<&Path>,
) -> Result<Vec<u8>, Failure> {
    if let Some(path) = matches.get_one::<String>("input") {
        return std::fs::read(path)
            .map_err(|err| Failure::Usage(format!("read input: {path}: {err}")));
    }
    if matches.get_flag("stdin") {
        let mut data = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut data)
            .map_err(|err| Failure::Usage(format!("read stdin: {err}")))?;
        return Ok(data);
    }
    if let Some(text) = matches.get_one::<String>("input_b64") {
        return B64
            .decode(text)
            .map_err(|err| Failure::Usage(format!("decode --input-b64: {err}")));
    }
    let args = strings(matches, "args");
    if !args.is_empty() {
        return Ok(encode_argv_v1(&args));
    }
    if raw_args.iter().any(|a| a == "--") {
        // `--` with nothing after it: empty input, not an argv_v1 count of 0.
        return Ok(Vec::new());
    }
    if let Some(input) = profile.and_then(|p| p.input.as_ref()) {
        let base = project_root.map(Path::to_path_buf).unwrap_or_default();
        let path = resolve_against(&base, input);
        return std::fs::read(&path)
            .map_err(|err| Failure::Usage(format!("read input: {input}: {err}")));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(Vec::new());
    }
    let mut data = Vec::new();
    let _ = stdin.lock().read_to_end(&mut data);
    Ok(data)
}

/// `hint: x07 ast get ...` lines for compile errors that carry JSON pointers into a
/// module file found under the module roots.
fn print_compile_hints(message: &str, roots_shown: &[String]) {
    let Some(fn_at) = message.find("(fn=") else {
        return;
    };
    let function: String = message[fn_at + 4..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != ')')
        .collect();
    let Some((module, _)) = function.rsplit_once('.') else {
        return;
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
        return;
    };
    let mut stderr = std::io::stderr().lock();
    for token in message.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
        let pointer = token
            .strip_prefix("moved_ptr=")
            .or_else(|| token.strip_prefix("ptr="));
        if let Some(pointer) = pointer {
            let _ = writeln!(stderr, "hint: x07 ast get --in {file} --ptr {pointer}");
        }
    }
}

fn emit_report(
    matches: &ArgMatches,
    report: &RunnerReport,
    wrapped: Option<(&WrappedTarget, &str)>,
    report_out: Option<&String>,
    report_shape: &str,
) -> Result<i32, Failure> {
    let runner_text = report.to_text();
    let text = match wrapped {
        Some((target, repair)) if report_shape == "wrapped" => wrapped_text(
            &report.world,
            target,
            (repair != "off").then_some(repair),
            &runner_text,
        ),
        _ => runner_text,
    };
    if let Some(out) = report_out {
        let path = Path::new(out);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|err| Failure::Usage(format!("write report: {out}: {err}")))?;
        }
        std::fs::write(path, &text)
            .map_err(|err| Failure::Usage(format!("write report: {out}: {err}")))?;
    }
    if !(matches.get_flag("quiet_json") && report_out.is_some()) {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }
    Ok(report.exit_code())
}

fn policy_init(matches: &ArgMatches) -> Result<i32, Failure> {
    let template = matches
        .get_one::<String>("template")
        .cloned()
        .unwrap_or_default();
    let Some(template_text) = templates::template_json(&template) else {
        return usage(format!("unknown template {template:?}"));
    };
    let cwd = std::env::current_dir().map_err(|e| Failure::Usage(format!("cwd: {e}")))?;
    let root = Manifest::find_upwards(&cwd)
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| cwd.clone());
    let policy_id_flag = matches.get_one::<String>("policy_id");
    if let Some(id) = policy_id_flag {
        if !is_valid_policy_id(id) {
            return usage("--policy-id must match ^[a-zA-Z0-9_.-]{1,64}$");
        }
    }
    let (text, policy_id) = match policy_id_flag {
        Some(id) => {
            let mut value: Value = serde_json::from_str(template_text)
                .map_err(|err| Failure::Usage(format!("template {template}: {err}")))?;
            value["policy_id"] = id.clone().into();
            sort_keys(&mut value);
            (pretty_text(&value), id.clone())
        }
        None => (
            template_text.to_string(),
            templates::template_policy_id(&template),
        ),
    };
    let out_path = match matches.get_one::<String>("out") {
        Some(out) => {
            let path = resolve_against(&cwd, out);
            if let Some(parent) = Path::new(out)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                let parent_abs = resolve_against(&cwd, &parent.to_string_lossy());
                if !parent_abs.is_dir() {
                    if !matches.get_flag("mkdir_out") {
                        return usage(format!(
                            "refusing to create output dir {parent:?} (pass --mkdir-out to allow)"
                        ));
                    }
                    std::fs::create_dir_all(&parent_abs).map_err(|err| {
                        Failure::Usage(format!("create {}: {err}", parent_abs.display()))
                    })?;
                }
            }
            path
        }
        None => {
            let dir = root.join(".x07").join("policies").join("base");
            std::fs::create_dir_all(&dir)
                .map_err(|err| Failure::Usage(format!("create {}: {err}", dir.display())))?;
            dir.join(templates::template_file_name(&template))
        }
    };
    let (status, code) = match std::fs::read(&out_path) {
        Ok(existing) if existing == text.as_bytes() => ("unchanged", 0),
        Ok(_) if !matches.get_flag("force") => ("exists_different", 2),
        Ok(_) => ("overwritten", 0),
        Err(_) => ("created", 0),
    };
    if status == "created" || status == "overwritten" {
        std::fs::write(&out_path, &text)
            .map_err(|err| Failure::Usage(format!("write {}: {err}", out_path.display())))?;
    }
    let out_shown = out_path
        .strip_prefix(&root)
        .map(display)
        .unwrap_or_else(|_| display(&out_path));
    let mut stdout = std::io::stdout().lock();
    let printed = if matches
        .get_one::<String>("emit")
        .is_some_and(|e| e == "policy")
    {
        text.clone()
    } else {
        policy_init_line(&template, &display(&root), &out_shown, status, &policy_id)
    };
    let _ = stdout.write_all(printed.as_bytes());
    let _ = stdout.flush();
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn clap_conflicts_read_like_x07() {
        let err = command()
            .try_get_matches_from([
                "x07",
                "run",
                "--program",
                "echo.x07.json",
                "--repair=off",
                "--input",
                "in.bin",
                "--stdin",
            ])
            .unwrap_err();
        assert_eq!(
            err.render().to_string(),
            "error: the argument '--input <PATH>' cannot be used with '--stdin'\n\nUsage: x07 run --program <PATH> --repair <REPAIR> --input <PATH> [ARG]...\n\nFor more information, try '--help'.\n"
        );
        let err = command()
            .try_get_matches_from([
                "x07",
                "run",
                "--program",
                "echo.x07.json",
                "--repair=off",
                "--bogus",
            ])
            .unwrap_err();
        assert_eq!(
            err.render().to_string(),
            "error: unexpected argument '--bogus' found\n\n  tip: to pass '--bogus' as a value, use '-- --bogus'\n\nUsage: x07 run --program <PATH> --repair <REPAIR> [ARG]...\n\nFor more information, try '--help'.\n"
        );
        let err = command()
            .try_get_matches_from([
                "x07",
                "run",
                "--repair=off",
                "--program",
                "main.x07.json",
                "--module-root",
                "",
            ])
            .unwrap_err();
        assert_eq!(
            err.render().to_string(),
            "error: a value is required for '--module-root <MODULE_ROOT>' but none was supplied\n\nFor more information, try '--help'.\n"
        );
    }

    #[test]
    fn trailing_args_swallow_flags() {
        let m = command()
            .try_get_matches_from(["x07", "run", "--program", "e.x07.json", "a", "--b"])
            .unwrap();
        let (_, run) = m.subcommand().unwrap();
        assert_eq!(strings(run, "args"), vec!["a", "--b"]);
    }
}
