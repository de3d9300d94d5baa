//! The `cargo x07` command line (clap derive): `test`, `list`, `run`, `new`, `policy`,
//! `bless`, `audit`.
//!
//! Parsed as `cargo x07 …` (`bin_name = "cargo"` with an `X07` subcommand),
//! the way cargo runs external subcommands. Each command is a function over
//! its argument struct; new flags go into those structs.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::PathBuf;

use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

use crate::audit::{AuditFormat, AuditRequest};
use crate::backend::{self, BackendChoice, Runner};
use crate::config::{self, SandboxBackend, Selection, WorkspaceConfig};
use crate::engine;
use crate::message;
use crate::partition::Partition;
use crate::report::{args::CiArgs, Streams};
use crate::session::{self, TestRequest};

/// Exit code for usage, configuration and discovery errors (and refused bless).
pub const EXIT_USAGE: i32 = engine::exit::USAGE_ERROR;

/// `cargo x07 …`, as cargo invokes it: `cargo-x07 x07 …`.
#[derive(Debug, Parser)]
#[command(
    bin_name = "cargo",
    version,
    about = "cargo-x07: run X07 fixtures as test cases; use it as `cargo x07 …`",
    styles = clap::builder::Styles::plain()
)]
pub enum CargoCli {
    /// Run X07 fixtures as test cases: every fixture × case × profile is one libtest test.
    #[command(name = "x07", version, author, display_name = "cargo-x07")]
    X07(X07Cli),
}

/// The `x07` subcommand.
#[derive(Debug, Args)]
pub struct X07Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands of `cargo x07`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every fixture × case × profile as a test case (libtest flags accepted).
    #[command(
        help_template = "{about-with-newline}\n{usage-heading} {usage}\n\n{all-args}{after-help}"
    )]
    Test(TestArgs),
    /// List the test cases (one name per line).
    List(ListArgs),
    /// Run cases (a fixture path, a test name or a filter) and show each one: command, exit
    /// code, output, trap or compile error, verdict.
    Run(RunArgs),
    /// Create a first fixture that passes at once (x07.json with os and sandbox profiles, a
    /// sandbox policy, src/main.x07.json, x07test.json with one case); never overwrites.
    New(NewArgs),
    /// Sandbox policy files: write a template (`init`) or validate files (`check`).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Run the tests and rewrite the expectations of failing cases from their reports.
    #[command(
        help_template = "{about-with-newline}\n{usage-heading} {usage}\n\n{all-args}{after-help}"
    )]
    Bless(TestArgs),
    /// Least-privilege audit: which grants of each sandbox policy its cases need.
    Audit(AuditArgs),
}

/// `cargo x07 audit`.
#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// Package selection.
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// Runner settings.
    #[command(flatten)]
    pub runner: RunnerArgs,
    /// Audit the policies of the sandbox cases whose test names contain FILTER, or that lie
    /// at or below FILTER when it is a path, as for `test` (each judged over all its cases).
    pub filter: Option<String>,
    /// Output: human (a table per policy file) or json.
    #[arg(long, value_enum, default_value_t = AuditFormat::Human)]
    pub format: AuditFormat,
    /// Exit 1 when any grant is unneeded (or cannot be judged), for CI.
    #[arg(long)]
    pub deny_unneeded: bool,
    /// Run every case without every grant, skipping none that are provably unreachable.
    #[arg(long)]
    pub exhaustive: bool,
    /// Runs at once (default: as for `test`).
    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = at_least_one)]
    pub jobs: Option<usize>,
    /// Draw a progress bar on stderr (default: on a terminal outside CI; lines otherwise).
    #[arg(long, overrides_with = "no_progress")]
    pub progress: bool,
    /// Never show progress.
    #[arg(long, overrides_with = "progress")]
    pub no_progress: bool,
}

/// `cargo x07 new`.
#[derive(Debug, Clone, Args)]
pub struct NewArgs {
    /// The fixture directory to create (must not exist, or be empty).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The sandbox policy template: cli (default), http-client, web-service, fs-tool,
    /// sqlite-app, postgres-client, worker, worker-parallel.
    #[arg(long, value_name = "T")]
    pub template: Option<String>,
}

/// `cargo x07 policy …`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Write one of the `x07 policy init` templates (same location, statuses and report line).
    Init(PolicyInitArgs),
    /// Validate policy files (a directory stands for the `*.json` files in it); exit 2 on any error.
    Check {
        /// Policy files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

/// `cargo x07 policy init`.
#[derive(Debug, Clone, Args)]
pub struct PolicyInitArgs {
    /// The template: cli, http-client, web-service, fs-tool, sqlite-app, postgres-client, worker, worker-parallel.
    #[arg(long)]
    pub template: String,
    /// Where to write it (default: `<project root>/.x07/policies/base/<T>.sandbox.base.policy.json`).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Overwrite an existing file whose bytes differ.
    #[arg(long)]
    pub force: bool,
    /// Create the missing parent directory of --out.
    #[arg(long)]
    pub mkdir_out: bool,
    /// Replace the template's policy_id.
    #[arg(long, value_name = "ID")]
    pub policy_id: Option<String>,
    /// `policy`: print the policy instead of writing it; `report` (default): write it and print the report line.
    #[arg(long, value_name = "policy|report", default_value = "report")]
    pub emit: String,
}

/// Cargo's package selectors.
#[derive(Debug, Clone, Default, Args)]
pub struct WorkspaceArgs {
    /// Path to Cargo.toml.
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Package(s) whose fixtures to use (repeatable).
    #[arg(short = 'p', long = "package", value_name = "SPEC")]
    pub package: Vec<String>,
    /// Use the fixtures of every workspace member.
    #[arg(long)]
    pub workspace: bool,
}

impl WorkspaceArgs {
    /// As a [`Selection`].
    pub fn selection(&self) -> Selection {
        Selection {
            manifest_path: self.manifest_path.clone(),
            packages: self.package.clone(),
            workspace: self.workspace,
        }
    }
}

/// `-j N`: a count of at least 1 (0 would run nothing, as libtest's `--test-threads 0`).
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must not be 0".into()),
        Ok(count) => Ok(count),
        Err(error) => Err(format!("not a number: {error}")),
    }
}

/// `--timeout-ms MS`: at least 1 (0 would time every case out before it starts).
fn at_least_one_ms(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("must not be 0".into()),
        Ok(ms) => Ok(ms),
        Err(error) => Err(format!("not a number of milliseconds: {error}")),
    }
}

/// Runner choice and run settings.
#[derive(Debug, Clone, Default, Args)]
pub struct RunnerArgs {
    /// The x07 binary to use (default: $X07, the `x07` config key, `x07` on PATH, else the embedded runner).
    #[arg(long = "x07", value_name = "PATH")]
    pub x07: Option<PathBuf>,
    /// Which runner to use.
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    pub backend: BackendChoice,
    /// Sandbox backend for sandboxed profiles (default: the `sandbox_backend` config key, else os).
    #[arg(long, value_enum)]
    pub sandbox_backend: Option<SandboxBackend>,
    /// Per-case timeout in milliseconds, overriding the configuration (fixtures may still set their own).
    #[arg(long, value_name = "MS", value_parser = at_least_one_ms)]
    pub timeout_ms: Option<u64>,
    /// Remove every inherited X07_* variable from the runner's environment, not only the
    /// run-shaping ones (as `env_clear = "all"`); only the configured `env` reaches it.
    #[arg(long)]
    pub clean_env: bool,
}

/// `cargo x07 test` / `cargo x07 bless`.
#[derive(Debug, Clone, Args)]
pub struct TestArgs {
    /// Package selection.
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// Runner settings.
    #[command(flatten)]
    pub runner: RunnerArgs,
    /// Number of cases run at once (like --test-threads).
    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = at_least_one)]
    pub jobs: Option<usize>,
    /// Rewrite the expected exit/output/trap/compile-error fields of failing cases (refused when CI is set).
    #[arg(long)]
    pub bless: bool,
    /// Also run each sandbox case that expects a denial under the os profile; fail it when it ends the same way there.
    #[arg(long, overrides_with = "no_differential")]
    pub differential: bool,
    /// Do not run the profile differential, even when the `differential` configuration key is on.
    #[arg(long, overrides_with = "differential")]
    pub no_differential: bool,
    /// Run the cases that failed in the last run first (from `<target dir>/cargo-x07/last-run.json`).
    #[arg(long)]
    pub failed_first: bool,
    /// Run only the cases that failed in the last run (with the other filters and --partition).
    #[arg(long)]
    pub last_failed: bool,
    /// CI options: --profile, --partition, --junit, --message-format, --github, --allow-empty, --progress, --slowest.
    #[command(flatten)]
    pub ci: CiArgs,
    /// libtest's flags: FILTER, --exact, --skip, --list, --format, -q, --ignored, --include-ignored, --test-threads, …
    #[command(flatten)]
    pub libtest: libtest_mimic::Arguments,
}

/// `cargo x07 list`.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Package selection.
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// Only names containing this.
    pub filter: Option<String>,
    /// Also show each case's description and ignore reason.
    #[arg(long)]
    pub long: bool,
    /// Only the cases of this shard (`hash:K/N` or `slice:K/N`, as for `test`).
    #[arg(long, value_name = "hash:K/N|slice:K/N")]
    pub partition: Option<Partition>,
}

/// `cargo x07 run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Package selection.
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// Runner settings.
    #[command(flatten)]
    pub runner: RunnerArgs,
    /// A test name (`fixtures/x::case::profile`, or `fixtures/x::case`), a path (fixture
    /// directory, its x07.json, a *.smoke.json file, a directory of fixtures) or a filter
    /// (part of test names).
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Only this case.
    #[arg(long)]
    pub case: Option<String>,
    /// Only this profile.
    #[arg(long)]
    pub profile: Option<String>,
    /// Also print each case's full runner report (JSON).
    #[arg(long, conflicts_with = "json")]
    pub report: bool,
    /// Print one JSON object per case (`cargo-x07.run@0.1.0`: name, status, command, failed
    /// checks, message, the runner report) instead of the summary.
    #[arg(long)]
    pub json: bool,
}

/// Entry point of the `cargo-x07` binary (after the embedded-runner dispatch).
pub fn main_with_args(args: Vec<OsString>) -> i32 {
    let parsed = command()
        .try_get_matches_from(libtest_args_after_double_dash(args))
        .and_then(|matches| CargoCli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return error.exit_code();
        }
    };
    let CargoCli::X07(x07) = cli;
    match x07.command {
        Command::Test(args) => test(args),
        Command::Bless(mut args) => {
            args.bless = true;
            test(args)
        }
        Command::List(args) => list(args),
        Command::Run(args) => crate::run_command::run(args),
        Command::Policy(command) => policy(command),
        Command::New(args) => crate::new_fixture::run(&args.dir, args.template.as_deref()),
        Command::Audit(args) => audit(args),
    }
}

/// `cargo x07 test -- --nocapture`: as with `cargo test`, what follows `--` are the test
/// harness's arguments (libtest flags and filters), so the `--` itself is dropped.
fn libtest_args_after_double_dash(mut args: Vec<OsString>) -> Vec<OsString> {
    let is = |index: usize, word: &str| args.get(index).is_some_and(|arg| arg == word);
    if is(1, "x07") && (is(2, "test") || is(2, "bless")) {
        if let Some(at) = args.iter().skip(3).position(|arg| arg == "--") {
            args.remove(at + 3);
        }
    }
    args
}

/// The clap command of `cargo x07`, with the help of libtest's flags
/// (flattened from `libtest_mimic::Arguments`) reworded for fixture cases.
pub fn command() -> clap::Command {
    CargoCli::command().mut_subcommand("x07", |x07| {
        x07.mut_subcommand("test", reword_libtest_flags)
            .mut_subcommand("bless", reword_libtest_flags)
    })
}

/// libtest-mimic's help texts describe libtest-mimic (both `--ignored` flags
/// read "Run ignored tests", `-q` explains a struct field, `--bench` …);
/// these say what the flags do here. Flags that only exist so that tools
/// calling a libtest harness keep working stay accepted but hidden.
fn reword_libtest_flags(test: clap::Command) -> clap::Command {
    let help = [
        (
            "include_ignored",
            "Run the ignored cases as well as the others",
        ),
        ("ignored", "Run only the ignored cases"),
        (
            "list",
            "List the selected cases as `NAME: test` lines and run nothing",
        ),
        (
            "exact",
            "Match FILTER against whole test names instead of substrings",
        ),
        (
            "quiet",
            "One character per case (the same as --format terse)",
        ),
        (
            "test_threads",
            "Cases run at once (else -j, RUST_TEST_THREADS, the `jobs` key, the number of cores)",
        ),
        ("skip", "Skip cases whose names contain FILTER (repeatable)"),
        ("logfile", "Write the test lines to PATH instead of stdout"),
        (
            "format",
            "pretty (one line per case, the default), terse (one character per case) or json \
             (the cargo-x07 event stream, the same as --message-format json)",
        ),
        ("filter", "Run only the cases whose names contain FILTER"),
        (
            "color",
            "Color the test lines: auto (on a terminal), always or never",
        ),
        (
            "nocapture",
            "Print each passing case's runner stderr after its line",
        ),
        (
            "show_output",
            "Print the runner stderr of passing cases in a `successes:` section",
        ),
    ];
    let hidden = ["test", "bench", "unstable_flags"];
    let test = help.into_iter().fold(test, |test, (id, text)| {
        test.mut_arg(id, |arg| arg.help(text).long_help(None::<&str>))
    });
    let test = ["format", "color"].into_iter().fold(test, |test, id| {
        test.mut_arg(id, |arg| arg.hide_possible_values(true))
    });
    let test = test.mut_arg("test_threads", |arg| arg.value_name("N"));
    hidden
        .into_iter()
        .fold(test, |test, id| test.mut_arg(id, |arg| arg.hide(true)))
}

fn error_exit(error: impl std::fmt::Display) -> i32 {
    eprintln!("error: {error}");
    EXIT_USAGE
}

/// Loads the workspace with command-line overrides applied.
pub fn load_workspace(
    workspace: &WorkspaceArgs,
    runner: &RunnerArgs,
) -> Result<WorkspaceConfig, config::ConfigError> {
    let mut loaded = config::load(&workspace.selection())?;
    session::override_settings(&mut loaded, runner.sandbox_backend, runner.timeout_ms);
    Ok(loaded)
}

/// Resolves the runner for this workspace, with the run's environment.
pub fn resolve_runner(
    runner: &RunnerArgs,
    workspace: &WorkspaceConfig,
) -> Result<Runner, backend::ResolveError> {
    let configured = workspace.configured_x07();
    let mut backend =
        backend::resolve(runner.x07.as_deref(), runner.backend, configured.as_deref())?;
    session::set_runner_environment(&mut backend, workspace, runner.clean_env);
    Ok(backend)
}

/// `cargo x07 test` / `cargo x07 bless`: one [`session::run_tests`].
pub fn test(args: TestArgs) -> i32 {
    let request = TestRequest {
        packages: args.workspace.selection(),
        x07: args.runner.x07,
        backend: args.runner.backend,
        sandbox_backend: args.runner.sandbox_backend,
        timeout_ms: args.runner.timeout_ms,
        jobs: args.jobs,
        clean_env: args.runner.clean_env,
        libtest: args.libtest,
        ci: args.ci,
        bless: args.bless,
        differential: if args.differential {
            Some(true)
        } else if args.no_differential {
            Some(false)
        } else {
            None
        },
        last_failed: args.last_failed,
        failed_first: args.failed_first,
    };
    session::run_tests(request, Streams::standard())
}

/// `cargo x07 audit`: see [`crate::audit`].
pub fn audit(args: AuditArgs) -> i32 {
    let request = AuditRequest {
        packages: args.workspace.selection(),
        x07: args.runner.x07,
        backend: args.runner.backend,
        sandbox_backend: args.runner.sandbox_backend,
        timeout_ms: args.runner.timeout_ms,
        clean_env: args.runner.clean_env,
        jobs: args.jobs,
        filter: args.filter,
        format: args.format,
        deny_unneeded: args.deny_unneeded,
        exhaustive: args.exhaustive,
        progress: if args.no_progress {
            Some(false)
        } else if args.progress {
            Some(true)
        } else {
            None
        },
    };
    crate::audit::run_audit(&request)
}

/// `cargo x07 policy init|check` (the work is in [`crate::policy`]).
pub fn policy(command: PolicyCommand) -> i32 {
    let mut out = std::io::stdout().lock();
    match command {
        PolicyCommand::Init(args) => {
            let emit_policy = match args.emit.as_str() {
                "policy" => true,
                "report" => false,
                other => {
                    return error_exit(format!("--emit must be policy or report, not {other:?}"))
                }
            };
            let cwd = match std::env::current_dir() {
                Ok(cwd) => cwd,
                Err(error) => {
                    return error_exit(format!("cannot read the current directory: {error}"))
                }
            };
            let options = crate::policy::InitOptions {
                template: args.template,
                out: args.out,
                force: args.force,
                mkdir_out: args.mkdir_out,
                policy_id: args.policy_id,
                emit_policy,
                cwd,
            };
            match crate::policy::init(&options, &mut out) {
                Ok(code) => code,
                Err(error) => {
                    eprintln!("error: {error}");
                    error.exit_code()
                }
            }
        }
        PolicyCommand::Check { paths } => crate::policy::check(&paths, &mut out),
    }
}

/// `cargo x07 list`: one test name per line, pasteable into `--exact`; `--long` adds the
/// description, the ignore reason and a broken fixture's problem.
pub fn list(args: ListArgs) -> i32 {
    // `cargo x07 list demo`: a FILTER that is a path holding fixtures lists those, as
    // `cargo x07 test demo` runs them.
    let path = args.filter.as_deref().and_then(session::path_of_filter);
    let mut selection = args.workspace.selection();
    if path.is_some() && selection.packages.is_empty() {
        selection.workspace = true;
    }
    let mut workspace = match config::load(&selection) {
        Ok(workspace) => workspace,
        Err(error) => return error_exit(error),
    };
    let path_given = path.is_some();
    let at_path = path.and_then(|path| session::load_cases_at(&mut workspace, &path).ok());
    let path_selected = at_path.is_some();
    let loaded = match at_path {
        Some(loaded) => Ok(loaded),
        // A path without fixtures is a plain filter over the packages selected as usual.
        None if path_given => config::load(&args.workspace.selection())
            .map_err(session::SetupError::from)
            .and_then(|workspace| session::load_cases(&workspace, None)),
        None => session::load_cases(&workspace, None),
    };
    let mut cases = match loaded {
        Ok((cases, _)) => cases,
        Err(error) => return error_exit(error),
    };
    let filter = match (path_selected, args.filter.as_deref()) {
        (false, Some(filter)) => filter,
        _ => "",
    };
    cases.retain(|case| case.id.test_name().contains(filter));
    if let Some(partition) = &args.partition {
        partition.retain(&mut cases, |case| &case.id);
    }
    let mut out = std::io::stdout().lock();
    for case in &cases {
        let mut line = case.id.test_name();
        if args.long {
            if let Some(reason) = &case.ignore {
                line.push_str(&format!("  (ignored: {reason})"));
            }
            if let Some(description) = &case.description {
                line.push_str(&format!("  — {description}"));
            }
            if let Some(problem) = case.problems.first() {
                let text = message::fixture_problem(problem);
                line.push_str(&format!(
                    "  [broken: {}]",
                    text.lines().next().unwrap_or("")
                ));
            }
        }
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    0
}
