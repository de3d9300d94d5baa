//! The `cargo x07` command line (clap derive): `test`, `list`, `run`, `bless`.
//!
//! Parsed as `cargo x07 …` (`bin_name = "cargo"` with an `X07` subcommand),
//! the way cargo runs external subcommands. Each command is a function over
//! its argument struct; new flags go into those structs.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

use crate::backend::{self, Backend as _, BackendChoice, Runner};
use crate::config::{self, SandboxBackend, Selection, WorkspaceConfig};
use crate::discover::{self, FixtureKind, FixtureLocation};
use crate::engine::{self, EngineOptions, Event, EventSink, RunPlan, SelectedCase, SinkError};
use crate::fixture::{PROJECT_FILE, SMOKE_SUFFIX};
use crate::message;
use crate::model::CaseStatus;
use crate::partition::Partition;
use crate::plan::{self, PlannedCase};
use crate::report::{args::CiArgs, Streams};
use crate::run;
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
    /// Run one fixture's cases and print each report and verdict.
    Run(RunArgs),
    /// Sandbox policy files: write a template (`init`) or validate files (`check`).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Run the tests and rewrite the expectations of failing cases from their reports.
    #[command(
        help_template = "{about-with-newline}\n{usage-heading} {usage}\n\n{all-args}{after-help}"
    )]
    Bless(TestArgs),
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
    #[arg(long, value_name = "MS")]
    pub timeout_ms: Option<u64>,
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
    #[arg(short = 'j', long = "jobs", value_name = "N")]
    pub jobs: Option<usize>,
    /// Rewrite the expected exit/output/trap/compile-error fields of failing cases (refused when CI is set).
    #[arg(long)]
    pub bless: bool,
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
    /// The fixture directory (or smoke-suite file), as a path or as its test-name prefix.
    pub fixture: PathBuf,
    /// Only this case.
    #[arg(long)]
    pub case: Option<String>,
    /// Only this profile.
    #[arg(long)]
    pub profile: Option<String>,
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
        Command::Run(args) => run_fixture(args),
        Command::Policy(command) => policy(command),
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

/// Resolves the runner for this workspace.
pub fn resolve_runner(
    runner: &RunnerArgs,
    workspace: &WorkspaceConfig,
) -> Result<Runner, backend::ResolveError> {
    let configured = workspace.configured_x07();
    backend::resolve(runner.x07.as_deref(), runner.backend, configured.as_deref())
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
        libtest: args.libtest,
        ci: args.ci,
        bless: args.bless,
    };
    session::run_tests(request, Streams::standard())
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
    let workspace = match config::load(&args.workspace.selection()) {
        Ok(workspace) => workspace,
        Err(error) => return error_exit(error),
    };
    let mut cases = match session::load_cases(&workspace, None) {
        Ok((cases, _)) => cases,
        Err(error) => return error_exit(error),
    };
    let filter = args.filter.as_deref().unwrap_or("");
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

/// Finds the fixture `cargo x07 run` names: a path (from the cwd) or a name (from the workspace root).
fn find_fixture(workspace: &WorkspaceConfig, given: &Path) -> Option<FixtureLocation> {
    let candidates = [
        std::path::absolute(given).ok(),
        Some(workspace.root.join(given)),
    ];
    for candidate in candidates.into_iter().flatten() {
        let path = candidate.canonicalize().unwrap_or(candidate);
        let kind = if path.join(PROJECT_FILE).is_file() {
            FixtureKind::Project
        } else if path.is_file() && path.to_string_lossy().ends_with(SMOKE_SUFFIX) {
            FixtureKind::SmokeSuite
        } else {
            continue;
        };
        let root = workspace
            .root
            .canonicalize()
            .unwrap_or(workspace.root.clone());
        let relative = path.strip_prefix(&root).unwrap_or(&path);
        let path = workspace.root.join(relative);
        let name = discover::fixture_name(&workspace.root, &path);
        let package = workspace
            .packages
            .iter()
            .position(|package| path.starts_with(&package.root))
            .unwrap_or(0);
        return Some(FixtureLocation {
            path,
            name,
            kind,
            package,
        });
    }
    None
}

/// The error of `cargo x07 run` when `--case`/`--profile` select nothing:
/// what was asked for and which cases and profiles the fixture has.
fn no_matching_case(fixture: &str, planned: &[PlannedCase], args: &RunArgs) -> String {
    let mut asked = Vec::new();
    if let Some(case) = &args.case {
        asked.push(format!("--case {case}"));
    }
    if let Some(profile) = &args.profile {
        asked.push(format!("--profile {profile}"));
    }
    let mut case_names: Vec<&str> = Vec::new();
    let mut profiles: Vec<&str> = Vec::new();
    for case in planned {
        if !case_names.contains(&case.id.case.as_str()) {
            case_names.push(&case.id.case);
        }
        if !profiles.contains(&case.id.profile.as_str()) {
            profiles.push(&case.id.profile);
        }
    }
    let none = |list: &[&str]| {
        if list.is_empty() {
            "none".to_string()
        } else {
            list.join(", ")
        }
    };
    format!(
        "no case of {fixture} matches {}; its cases: {}; its profiles: {}",
        asked.join(" "),
        none(&case_names),
        none(&profiles)
    )
}

/// Prints each case of `cargo x07 run`: the command, the report, the verdict.
struct RunPrinter {
    failed: bool,
}

impl EventSink for RunPrinter {
    fn handle(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        let Event::CaseFinished(outcome) = event else {
            return Ok(());
        };
        let mut text = format!("== {}\n", outcome.id().test_name());
        if let Some(reproduce) = &outcome.reproduce {
            text.push_str(&format!("command: {}\n", reproduce.x07));
        }
        match (
            outcome.verdict.as_ref().and_then(|v| v.report.as_ref()),
            &outcome.output,
        ) {
            (Some(report), _) => {
                text.push_str(&serde_json::to_string_pretty(report).unwrap_or_default());
                text.push('\n');
            }
            (None, Some(output)) if output.report.is_some() => {
                if let Some(report) = &output.report {
                    text.push_str(&report.to_text());
                }
            }
            (None, Some(output)) => {
                text.push_str("(stdout is not a JSON report)\n");
                text.push_str(&message::display_text(&output.stdout));
                text.push('\n');
            }
            (None, None) => {}
        }
        match outcome.status {
            CaseStatus::Passed => text.push_str(&format!(
                "verdict: pass ({} ms)\n",
                outcome.duration.as_millis()
            )),
            CaseStatus::Ignored => text.push_str(&format!(
                "verdict: ignored ({})\n",
                outcome.ignore_reason.as_deref().unwrap_or("ignored")
            )),
            CaseStatus::Failed => {
                self.failed = true;
                text.push_str("verdict: FAIL\n");
                text.push_str(&message::failure_message(outcome));
            }
        }
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|error| SinkError::from_io(error, "the run output"))
    }
}

/// `cargo x07 run <fixture>`.
pub fn run_fixture(args: RunArgs) -> i32 {
    let mut packages = args.workspace.clone();
    if packages.package.is_empty() {
        // The fixture path says which package it belongs to.
        packages.workspace = true;
    }
    let workspace = match load_workspace(&packages, &args.runner) {
        Ok(workspace) => workspace,
        Err(error) => return error_exit(error),
    };
    if workspace.packages.is_empty() {
        return error_exit("no package selected");
    }
    let Some(location) = find_fixture(&workspace, &args.fixture) else {
        return error_exit(format!(
            "{} is not a fixture directory (no {PROJECT_FILE}) or a *{SMOKE_SUFFIX} file",
            args.fixture.display()
        ));
    };
    let planned = plan::plan_fixture(&workspace, &location);
    let cases: Vec<PlannedCase> = planned
        .iter()
        .filter(|case| args.case.as_deref().is_none_or(|name| case.id.case == name))
        .filter(|case| {
            args.profile
                .as_deref()
                .is_none_or(|name| case.id.profile == name)
        })
        .cloned()
        .collect();
    if cases.is_empty() {
        return error_exit(no_matching_case(&location.name, &planned, &args));
    }
    let backend = match resolve_runner(&args.runner, &workspace) {
        Ok(backend) => backend,
        Err(error) => return error_exit(error),
    };
    run::kill_running_on_interrupt();
    println!("{}", backend.info().description);
    let plan = RunPlan {
        cases: cases
            .into_iter()
            .map(|case| SelectedCase {
                case,
                ignored: None,
            })
            .collect(),
        ..RunPlan::default()
    };
    let mut printer = RunPrinter { failed: false };
    engine::run(
        &plan,
        &backend,
        &EngineOptions {
            threads: 1,
            allow_empty: true,
        },
        &mut printer,
    );
    i32::from(printer.failed)
}
