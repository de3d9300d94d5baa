//! The `x07-lite` command line: `run` with the flags of `x07 run`, `policy init`, and
//! the hidden solver zygote (`__zygote`, see [`crate::zygote`]). Exit codes and the
//! stdout/stderr split follow `observed-behaviour.md` §1.1: 0 success, 1 a report with a
//! failure, 2 usage errors, 3 a policy that fails its schema on the derived-policy path.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::builder::{NonEmptyStringValueParser, PossibleValuesParser};
use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::Value;

use crate::derived::Overrides;
use crate::policy::is_valid_policy_id;
use crate::project::Manifest;
use crate::report::{
    policy_init_line, pretty_text, sort_keys, wrapped_text, RunnerReport, WrappedTarget,
};
use crate::run::{resolve_against, Next, Refused, RunContext, RunInput, RunRequest, SolveStep};
use crate::solver;
use crate::templates;
use crate::zygote::Zygote;

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
    if args
        .first()
        .is_some_and(|a| a == crate::zygote::ZYGOTE_SUBCOMMAND)
    {
        return crate::zygote::serve();
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
        Some(("run", run)) => run_command(run, &args, &self_prefix),
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

/// A command that ends without a report: rc 2 with one stderr line.
enum Failure {
    /// The message.
    Usage(String),
}

impl Failure {
    fn emit(self) -> i32 {
        let Failure::Usage(message) = self;
        write_stderr(format!("{message}\n").as_bytes());
        2
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

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// The typed request of `x07 run`'s flags.
fn run_request(matches: &ArgMatches, raw_args: &[OsString]) -> RunRequest {
    let one = |id: &str| matches.get_one::<String>(id).cloned();
    let number = |id: &str| matches.get_one::<u64>(id).copied();
    let args = strings(matches, "args");
    // The order `x07 run` reads the input flags in (clap refuses most pairs).
    let input = if let Some(path) = one("input") {
        RunInput::File(path)
    } else if matches.get_flag("stdin") {
        RunInput::Stdin
    } else if let Some(text) = one("input_b64") {
        RunInput::Base64(text)
    } else if !args.is_empty() {
        RunInput::Args(args)
    } else if raw_args.iter().any(|a| a == "--") {
        RunInput::EndOfFlags
    } else {
        RunInput::None
    };
    RunRequest {
        project: one("project"),
        program: one("program"),
        artifact: one("artifact"),
        module_roots: strings(matches, "module_root"),
        repair: one("repair").unwrap_or_else(|| "write".into()),
        report_out: one("report_out"),
        world: one("world"),
        profile: one("profile"),
        policy: one("policy"),
        overrides: Overrides {
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
        },
        sandbox_backend: one("sandbox_backend"),
        accept_weaker_isolation: matches.get_flag("accept_weaker"),
        input,
        solve_fuel: number("solve_fuel"),
        max_memory_bytes: number("max_memory_bytes"),
        max_output_bytes: number("max_output_bytes"),
        cpu_time_limit_seconds: number("cpu_time_limit_seconds"),
    }
}

fn write_stderr(bytes: &[u8]) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(bytes).and_then(|()| stderr.flush());
}

/// Starts the solver through a zygote of this executable (`<exe> [self_prefix...]
/// __zygote`, the way cargo-x07 starts every solver) and collects what it did.
fn solve(step: &SolveStep, self_prefix: &[OsString]) -> Result<solver::RawRun, String> {
    let exe =
        std::env::current_exe().map_err(|err| format!("locate x07-lite executable: {err}"))?;
    let mut zygote =
        Zygote::start(&exe, self_prefix).map_err(|err| format!("spawn solver: {err}"))?;
    let solved = zygote.spawn(&step.launch, &step.input)?.finish(None)?;
    Ok(solved.raw)
}

/// The typed request of an `x07 run` command line (`args` after the program name,
/// starting with `run`), as [`crate::run::prepare`] takes it; clap's error when the
/// flags do not parse.
pub fn parse_run_request(args: &[OsString]) -> Result<RunRequest, clap::Error> {
    let mut argv = vec![OsString::from("x07")];
    argv.extend(args.iter().cloned());
    let matches = command().try_get_matches_from(argv)?;
    match matches.subcommand() {
        Some(("run", run)) => Ok(run_request(run, args)),
        _ => Err(clap::Error::new(clap::error::ErrorKind::InvalidSubcommand)),
    }
}

/// `x07 run`: plan the run ([`crate::run::prepare`]), start the solver, build the
/// report ([`crate::run::finish`]) and print it.
fn run_command(matches: &ArgMatches, raw_args: &[OsString], self_prefix: &[OsString]) -> i32 {
    let report_shape = matches
        .get_one::<String>("report")
        .map(String::as_str)
        .unwrap_or("runner");
    let request = run_request(matches, raw_args);
    let prepared = match RunContext::of_process()
        .map_err(|failure| Refused {
            exit_code: failure.exit_code(),
            stderr: failure.stderr(),
        })
        .and_then(|context| crate::run::prepare(&request, &context))
    {
        Ok(prepared) => prepared,
        Err(refused) => {
            write_stderr(&refused.stderr);
            return refused.exit_code;
        }
    };
    write_stderr(&prepared.stderr);
    let wrapped =
        (report_shape == "wrapped").then_some((&prepared.wrapped_target, prepared.repair.as_str()));
    let report_out = request.report_out.as_ref();
    let report = match prepared.next {
        Next::Report(report) => report,
        Next::Solve(step) => {
            let raw = match solve(&step, self_prefix) {
                Ok(raw) => raw,
                Err(message) => return Failure::Usage(message).emit(),
            };
            let finished = crate::run::finish(step.finish, raw);
            write_stderr(&finished.stderr);
            finished.report
        }
    };
    match emit_report(matches, &report, wrapped, report_out, report_shape) {
        Ok(code) => code,
        Err(failure) => failure.emit(),
    }
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
