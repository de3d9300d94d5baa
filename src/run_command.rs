//! `cargo x07 run TARGET`: run some cases and show each one to a person — the command,
//! the exit code, the output decoded (text or hex), the trap or compile error and the
//! verdict ([`crate::message::run_summary`]); the full runner report only with `--report`,
//! and one JSON object per case with `--json`.
//!
//! TARGET is, in this order: a test name as `cargo x07 test` prints it
//! (`fixtures/trapper::oob::os`, or `fixture::case` for every profile); a path (a fixture
//! directory, its `x07.json`, a `*.smoke.json` file, or a directory of fixtures), from the
//! current directory or the workspace root; else a filter, a part of test names. The cases
//! go through the same engine as `cargo x07 test`, one at a time.

use std::io::Write as _;
use std::path::PathBuf;

use serde_json::{json, Value};

use crate::backend::Backend as _;
use crate::cli::{load_workspace, resolve_runner, RunArgs};
use crate::config::WorkspaceConfig;
use crate::discover::{self, PathError};
use crate::engine::{self, exit, EngineOptions, Event, EventSink, RunPlan, SinkError};
use crate::message;
use crate::model::CaseStatus;
use crate::plan::{self, PlannedCase};
use crate::run;

/// The `schema_version` of each line `cargo x07 run --json` prints.
pub const RUN_JSON_SCHEMA_VERSION: &str = "cargo-x07.run@0.1.0";

/// Why TARGET selects no case (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// A test name whose fixture does not exist.
    #[error("no fixture {fixture} (from the test name {name}): {source}")]
    NoFixture {
        /// The fixture part of the name.
        fixture: String,
        /// The test name as given.
        name: String,
        /// What is wrong with the fixture path.
        source: PathError,
    },
    /// A path without fixtures.
    #[error(transparent)]
    Path(#[from] PathError),
    /// The fixture roots could not be walked (for a filter).
    #[error(transparent)]
    Discover(#[from] discover::DiscoverError),
    /// Nothing matches.
    #[error("{0}")]
    NoMatch(String),
}

/// The cases TARGET names, before `--case` / `--profile`, and the fixture a test name
/// named.
fn target_cases(
    workspace: &mut WorkspaceConfig,
    target: &str,
) -> Result<(Vec<PlannedCase>, Option<String>), TargetError> {
    // A test name whose fixture part is one fixture; else it may still be a filter
    // (`::os`, `hello-literal::c01`), and the fixture problem is the error when that
    // matches nothing either.
    let mut not_a_fixture = None;
    if let Some((fixture, rest)) = target.split_once("::").filter(|(f, _)| !f.is_empty()) {
        let (case, profile) = match rest.split_once("::") {
            Some((case, profile)) => (case, Some(profile)),
            None => (rest, None),
        };
        match fixture_of_test_name(workspace, fixture) {
            Ok(locations) if locations.len() == 1 => {
                let planned = plan::plan_all(workspace, &locations);
                let cases: Vec<PlannedCase> = planned
                    .iter()
                    .filter(|planned| planned.id.case == case)
                    .filter(|planned| profile.is_none_or(|profile| planned.id.profile == profile))
                    .cloned()
                    .collect();
                if cases.is_empty() {
                    let mut asked = format!("--case {case}");
                    if let Some(profile) = profile {
                        asked.push_str(&format!(" --profile {profile}"));
                    }
                    return Err(TargetError::NoMatch(no_matching_case(
                        fixture, &planned, &asked,
                    )));
                }
                return Ok((cases, Some(fixture.to_string())));
            }
            Ok(_) => {}
            Err(source) => {
                not_a_fixture = Some(TargetError::NoFixture {
                    fixture: fixture.to_string(),
                    name: target.to_string(),
                    source,
                })
            }
        }
    } else {
        let as_path = [PathBuf::from(target), workspace.root.join(target)]
            .into_iter()
            .find(|path| std::fs::symlink_metadata(path).is_ok());
        if let Some(path) = as_path {
            let locations = discover::discover_path(workspace, &path)?;
            return Ok((plan::plan_all(workspace, &locations), None));
        }
    }
    let fixtures = discover::discover(workspace)?;
    let mut cases = plan::plan_all(workspace, &fixtures);
    cases.retain(|case| case.id.test_name().contains(target));
    if cases.is_empty() {
        return Err(not_a_fixture.unwrap_or_else(|| {
            TargetError::NoMatch(format!(
                "{target} is no fixture path, no test name, and no test name contains it \
                 (cargo x07 list shows the test names)"
            ))
        }));
    }
    Ok((cases, None))
}

/// The fixture part of a test name: relative to the workspace root (as test names are),
/// else to the current directory.
fn fixture_of_test_name(
    workspace: &mut WorkspaceConfig,
    fixture: &str,
) -> Result<Vec<discover::FixtureLocation>, PathError> {
    let from_root = workspace.root.join(fixture);
    let path = if from_root.exists() {
        from_root
    } else {
        PathBuf::from(fixture)
    };
    discover::discover_path(workspace, &path)
}

/// The error when `--case`/`--profile` (or a test name) select nothing: what was asked
/// for and which cases and profiles the fixture has.
fn no_matching_case(fixture: &str, planned: &[PlannedCase], asked: &str) -> String {
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
        "no case of {fixture} matches {asked}; its cases: {}; its profiles: {}",
        none(&case_names),
        none(&profiles)
    )
}

/// How `cargo x07 run` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// The human summary of each case.
    Summary,
    /// The summary, then the runner's full report.
    SummaryAndReport,
    /// One JSON object per case.
    Json,
}

/// Prints each case of `cargo x07 run` as it finishes.
struct RunPrinter {
    format: Format,
}

/// One `--json` line: the case, its verdict and the runner's report as printed.
fn json_line(outcome: &engine::CaseOutcome) -> Value {
    let status = match outcome.status {
        CaseStatus::Passed => "passed",
        CaseStatus::Failed => "failed",
        CaseStatus::Ignored => "ignored",
    };
    let report = outcome.report_json().unwrap_or(Value::Null);
    json!({
        "schema_version": RUN_JSON_SCHEMA_VERSION,
        "name": outcome.id().test_name(),
        "status": status,
        "duration_ms": u64::try_from(outcome.duration.as_millis()).unwrap_or(u64::MAX),
        "command": outcome.reproduce.as_ref().map(|reproduce| reproduce.x07.clone()),
        "failed_checks": message::failed_checks(outcome),
        "message": (outcome.status == CaseStatus::Failed).then(|| message::failure_message(outcome)),
        "report": report,
    })
}

impl EventSink for RunPrinter {
    fn handle(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        let Event::CaseFinished(outcome) = event else {
            return Ok(());
        };
        let text = match self.format {
            Format::Json => format!("{}\n", json_line(outcome)),
            Format::Summary | Format::SummaryAndReport => {
                let mut text = message::run_summary(outcome);
                let report = outcome.report_json();
                if let (Format::SummaryAndReport, Some(report)) = (self.format, report) {
                    text.push_str("report:\n");
                    text.push_str(&serde_json::to_string_pretty(&report).unwrap_or_default());
                    text.push('\n');
                }
                text.push('\n');
                text
            }
        };
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|error| SinkError::from_io(error, "the run output"))
    }
}

fn error_exit(error: impl std::fmt::Display) -> i32 {
    eprintln!("error: {error}");
    exit::USAGE_ERROR
}

/// `cargo x07 run TARGET [--case C] [--profile P] [--report | --json]`: exit 0 when every
/// case passed, 1 when one failed, 2 for a usage error (TARGET selects nothing).
pub fn run(args: RunArgs) -> i32 {
    let mut packages = args.workspace.clone();
    if packages.package.is_empty() {
        // The fixture's path says which package it belongs to.
        packages.workspace = true;
    }
    let mut workspace = match load_workspace(&packages, &args.runner) {
        Ok(workspace) => workspace,
        Err(error) => return error_exit(error),
    };
    let (planned, named) = match target_cases(&mut workspace, &args.target) {
        Ok(found) => found,
        Err(error) => return error_exit(error),
    };
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
        let mut asked = Vec::new();
        if let Some(case) = &args.case {
            asked.push(format!("--case {case}"));
        }
        if let Some(profile) = &args.profile {
            asked.push(format!("--profile {profile}"));
        }
        let fixture = named
            .or_else(|| {
                let mut fixtures: Vec<&str> =
                    planned.iter().map(|c| c.id.fixture.as_str()).collect();
                fixtures.dedup();
                (fixtures.len() == 1).then(|| fixtures[0].to_string())
            })
            .unwrap_or_else(|| args.target.clone());
        return error_exit(no_matching_case(&fixture, &planned, &asked.join(" ")));
    }
    let backend = match resolve_runner(&args.runner, &workspace) {
        Ok(backend) => backend,
        Err(error) => return error_exit(error),
    };
    run::kill_running_on_interrupt();
    let format = if args.json {
        Format::Json
    } else if args.report {
        Format::SummaryAndReport
    } else {
        Format::Summary
    };
    if format == Format::Json {
        eprintln!("{}", backend.info().description);
    } else {
        println!("{}\n", backend.info().description);
    }
    let plan = RunPlan::of_cases(cases);
    let mut printer = RunPrinter { format };
    let result = engine::run(
        &plan,
        &backend,
        &EngineOptions {
            threads: 1,
            allow_empty: true,
        },
        &mut printer,
    );
    let totals = result.summary.totals;
    if format != Format::Json && plan.cases.len() > 1 {
        println!(
            "{} passed; {} failed; {} ignored",
            totals.passed, totals.failed, totals.ignored
        );
    }
    i32::from(totals.failed > 0)
}
