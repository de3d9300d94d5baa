//! `cargo x07 audit [FILTER]`: a least-privilege audit of the sandbox policies.
//!
//! For every sandbox policy file that a selected sandbox case runs under, each grant the
//! file writes ([`grants`]: a capability flag that is on, an allow-list entry, a host and
//! port, a limit raised above the template's value) — and each derived-policy flag of its
//! cases — is taken away on its own, and every case using the policy is run again under
//! that derived policy, on the same engine and backend as `cargo x07 test`. A grant whose
//! removal makes a case fail is **needed** (the table says which case and which check); a
//! grant every case still passes without is **unneeded**. A policy shared by several
//! fixtures is judged over all the sandbox cases of the workspace that use it, whatever
//! FILTER selects (FILTER picks the policies, by the test names of their cases, or — when
//! it names a path holding fixtures, as for `cargo x07 test <path>` — by the cases at or
//! below that path, also outside the fixture roots), so a verdict never rests on part of
//! them.
//!
//! The run: first every case under its own policy (a case that fails there, is ignored or
//! cannot run is not used), then one run per case × grant. A run is skipped only when the
//! case provably cannot exercise the grant ([`reach`]: its program names no function of
//! the grant's family; the proof is printed as the evidence); `--exhaustive` skips
//! nothing. Runs without a grant get at most four times the case's own run time plus five
//! seconds (a grant whose removal makes a case hang is needed). The derived policies are
//! written to a temporary directory and passed with `--policy`; nothing under the
//! fixtures changes.

pub mod grants;
mod progress;
mod proof;
pub mod reach;
pub mod render;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use self::grants::{Grant, Removal, RunFlag, TemplateChoice};
use self::proof::ProgramFacts;
use self::reach::Reach;
use crate::backend::{self, Backend as _, BackendChoice, Runner};
use crate::config::{SandboxBackend, Selection as Packages, WorkspaceConfig};
use crate::engine::{self, exit, CaseOutcome, EngineOptions, RunPlan};
use crate::fixture::PROJECT_FILE;
use crate::message;
use crate::model::CaseStatus;
use crate::plan::{PlannedCase, PolicyArg, Target, SANDBOX_WORLD};
use crate::run;
use crate::session;

/// How the audit result is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AuditFormat {
    /// A table per policy file.
    #[default]
    Human,
    /// One JSON document (`cargo-x07.audit@0.1.0`).
    Json,
}

/// What `cargo x07 audit` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct AuditRequest {
    /// Which workspace and packages.
    pub packages: Packages,
    /// `--x07 PATH`.
    pub x07: Option<PathBuf>,
    /// `--backend`.
    pub backend: BackendChoice,
    /// `--sandbox-backend`.
    pub sandbox_backend: Option<SandboxBackend>,
    /// `--timeout-ms`.
    pub timeout_ms: Option<u64>,
    /// `--clean-env`: every inherited `X07_*` variable removed from the runner's
    /// environment (see [`session::set_runner_environment`]).
    pub clean_env: bool,
    /// `-j N`.
    pub jobs: Option<usize>,
    /// Only the policies of cases whose test name contains this.
    pub filter: Option<String>,
    /// Human table or JSON.
    pub format: AuditFormat,
    /// Exit 1 when a grant is unneeded (or could not be judged).
    pub deny_unneeded: bool,
    /// Run every case × grant, skipping none.
    pub exhaustive: bool,
    /// `--progress` / `--no-progress`.
    pub progress: Option<bool>,
}

/// The verdict on one grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantVerdict {
    /// Some case fails without it (or the policy is invalid without it).
    Needed,
    /// Every case using the policy passes without it or cannot reach it.
    Unneeded,
    /// No case using the policy passes under the policy itself: nothing to judge by.
    NotJudged,
}

/// One grant, judged.
#[derive(Debug, Clone)]
pub struct GrantAudit {
    /// The grant.
    pub grant: Grant,
    /// The verdict.
    pub verdict: GrantVerdict,
    /// Cases that fail without it, each with its failed checks.
    pub needed_by: Vec<(String, Vec<String>)>,
    /// Cases that pass without it.
    pub passed_without: Vec<String>,
    /// Cases that provably cannot exercise it, each with the proof.
    pub unreachable: Vec<(String, String)>,
    /// The policy format's objection when the policy is invalid without it.
    pub required_by_rule: Option<String>,
}

/// One policy file, audited.
#[derive(Debug, Clone)]
pub struct PolicyAudit {
    /// The file.
    pub file: PathBuf,
    /// Its `policy_id`.
    pub policy_id: String,
    /// The template its limits are compared with.
    pub template: &'static str,
    /// How the template was chosen.
    pub template_choice: TemplateChoice,
    /// The cases the verdicts rest on (they pass under the policy itself).
    pub cases: Vec<String>,
    /// Sandbox cases using the policy that are not used, with the reason.
    pub not_audited: Vec<(String, String)>,
    /// Every grant.
    pub grants: Vec<GrantAudit>,
}

/// The whole audit.
#[derive(Debug, Clone)]
pub struct AuditReport {
    /// The runner's description line.
    pub runner: String,
    /// Every audited policy, by file.
    pub policies: Vec<PolicyAudit>,
    /// Runs of the cases under their own policies.
    pub baseline_runs: usize,
    /// Runs without one grant.
    pub runs: usize,
    /// Case × grant pairs not run because the case provably cannot exercise the grant.
    pub skipped: usize,
    /// Wall time of the audit.
    pub duration: Duration,
}

impl AuditReport {
    /// How many grants have this verdict.
    pub fn count(&self, verdict: GrantVerdict) -> usize {
        self.policies
            .iter()
            .flat_map(|policy| &policy.grants)
            .filter(|grant| grant.verdict == verdict)
            .count()
    }
}

/// Why the audit could not start (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// `-j 0`.
    #[error("-j must not be 0")]
    ZeroJobs,
    /// Loading, discovery or the runner failed.
    #[error(transparent)]
    Setup(#[from] session::SetupError),
    /// The temporary directory for derived policies could not be made.
    #[error("cannot create a temporary directory for the derived policies: {0}")]
    Temp(std::io::Error),
    /// A derived policy could not be written.
    #[error("cannot write the derived policy {}: {error}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
}

/// Runs `cargo x07 audit` and returns its exit code: 0, 1 (`--deny-unneeded` and a grant
/// unneeded or not judged), 2 (setup error) or 4 (no sandbox case selected, no filter).
pub fn run_audit(request: &AuditRequest) -> i32 {
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr();
    match audit(request, &mut stderr) {
        Ok(None) => {
            let _ = writeln!(
                stderr,
                "error: no sandbox x07 run case selected{}",
                if request.filter.is_some() {
                    " by the filter"
                } else {
                    ""
                }
            );
            if request.filter.is_some() {
                exit::ALL_PASSED
            } else {
                exit::NO_CASES_SELECTED
            }
        }
        Ok(Some(report)) => {
            let text = match request.format {
                AuditFormat::Human => render::human(&report),
                AuditFormat::Json => render::json(&report),
            };
            let _ = stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush());
            let unneeded = report.count(GrantVerdict::Unneeded);
            let not_judged = report.count(GrantVerdict::NotJudged);
            if request.deny_unneeded && unneeded + not_judged > 0 {
                let _ = writeln!(
                    stderr,
                    "error: --deny-unneeded: {unneeded} grant(s) unneeded, {not_judged} not judged"
                );
                exit::CASES_FAILED
            } else {
                exit::ALL_PASSED
            }
        }
        Err(error) => {
            let _ = writeln!(stderr, "error: {error}");
            exit::USAGE_ERROR
        }
    }
}

/// Why a sandboxed `x07 test` manifest case is not audited: the audit reruns `x07 run`
/// cases under derived policies; an `x07 test` call takes its policy from the manifest
/// entry's `policy_json`, which the audit does not rewrite.
pub const MANIFEST_NOT_AUDITED: &str =
    "x07 test manifest case: the audit reruns x07 run cases only, so its needs are not counted";

/// Whether a case is an `x07 test` manifest entry.
fn is_manifest_case(case: &PlannedCase) -> bool {
    matches!(case.target, Target::TestManifest(_))
}

/// One sandbox case under audit.
struct AuditedCase {
    case: PlannedCase,
    facts: ProgramFacts,
}

/// The policy of a sandbox case: the file, canonical.
fn policy_file(
    case: &PlannedCase,
    manifests: &mut HashMap<PathBuf, Option<Value>>,
) -> Option<PathBuf> {
    let path = match &case.target {
        Target::Smoke { policy, .. } => policy.clone()?,
        Target::Project { dir, profile } => match &case.run.policy {
            Some(policy) => policy.path(dir),
            None => {
                let manifest = manifest(dir, manifests)?;
                let policy = manifest
                    .get("profiles")?
                    .get(profile.as_deref()?)?
                    .get("policy")?
                    .as_str()?;
                dir.join(policy)
            }
        },
        // Its `policy_json`, relative to the manifest's directory.
        Target::TestManifest(test) => case
            .fixture_dir
            .join(test.entry.get("policy_json")?.as_str()?),
    };
    Some(std::fs::canonicalize(&path).unwrap_or(path))
}

fn manifest<'a>(
    dir: &Path,
    manifests: &'a mut HashMap<PathBuf, Option<Value>>,
) -> Option<&'a Value> {
    manifests
        .entry(dir.to_path_buf())
        .or_insert_with(|| crate::fixture::read_json(&dir.join(PROJECT_FILE)).ok())
        .as_ref()
}

/// The arena a case's runtime reserves: `--max-memory-bytes`, else the profile's, else
/// the default.
fn arena(case: &PlannedCase, manifests: &mut HashMap<PathBuf, Option<Value>>) -> u64 {
    if let Some(bytes) = case.run.max_memory_bytes {
        return bytes;
    }
    if let Target::Project {
        dir,
        profile: Some(profile),
    } = &case.target
    {
        if let Some(bytes) = manifest(dir, manifests)
            .and_then(|m| m.get("profiles"))
            .and_then(|p| p.get(profile))
            .and_then(|p| p.get("max_memory_bytes"))
            .and_then(Value::as_u64)
        {
            return bytes;
        }
    }
    proof::DEFAULT_ARENA_BYTES
}

/// The derived-policy flag grants of a case.
fn flag_grants(case: &PlannedCase) -> Vec<Grant> {
    let run = &case.run;
    let mut out = Vec::new();
    for (flag, values) in [
        (RunFlag::AllowReadRoot, &run.allow_read_roots),
        (RunFlag::AllowWriteRoot, &run.allow_write_roots),
        (RunFlag::AllowHost, &run.allow_hosts),
    ] {
        for value in values {
            out.push(grants::flag_grant(flag, value));
        }
    }
    out
}

fn has_flag(case: &PlannedCase, removal: &Removal) -> bool {
    match removal {
        Removal::DropFlag { flag, value } => {
            let values = match flag {
                RunFlag::AllowReadRoot => &case.run.allow_read_roots,
                RunFlag::AllowWriteRoot => &case.run.allow_write_roots,
                RunFlag::AllowHost => &case.run.allow_hosts,
            };
            values.contains(value)
        }
        _ => true,
    }
}

/// `case` run under the policy file `policy` (absolute) without the flag `removal` drops;
/// `None` for an `x07 test` manifest case, which has no policy to swap (see
/// [`MANIFEST_NOT_AUDITED`]).
fn derived_case(
    case: &PlannedCase,
    policy: &Path,
    removal: &Removal,
    timeout: Duration,
) -> Option<PlannedCase> {
    let mut derived = case.clone();
    match &mut derived.target {
        Target::Smoke { policy: smoke, .. } => *smoke = Some(policy.to_path_buf()),
        Target::Project { .. } => {
            derived.run.policy = Some(PolicyArg::Outside(policy.to_path_buf()))
        }
        Target::TestManifest(_) => return None,
    }
    if let Removal::DropFlag { flag, value } = removal {
        let values = match flag {
            RunFlag::AllowReadRoot => &mut derived.run.allow_read_roots,
            RunFlag::AllowWriteRoot => &mut derived.run.allow_write_roots,
            RunFlag::AllowHost => &mut derived.run.allow_hosts,
        };
        values.retain(|v| v != value);
    }
    derived.timeout = timeout;
    Some(derived)
}

fn run_cases(
    cases: Vec<PlannedCase>,
    backend: &Runner,
    threads: usize,
    progress: Option<bool>,
    phase: &'static str,
) -> Vec<CaseOutcome> {
    let plan = RunPlan::of_cases(cases);
    let mut sink = progress::AuditProgress::new(progress, phase);
    let result = engine::run(
        &plan,
        backend,
        &EngineOptions {
            threads,
            allow_empty: true,
        },
        &mut sink,
    );
    result.outcomes
}

/// The workspace, with the command-line overrides, and — when FILTER names a path that
/// holds fixtures ([`session::path_of_filter`]), as `cargo x07 test <path>` takes it — the
/// cases at or below that path, also outside the fixture roots. A path selects the packages
/// itself (the whole workspace unless `-p` is given); a path without fixtures stays a
/// test-name filter, with a note, as for `cargo x07 test`.
fn load_workspace(
    request: &AuditRequest,
    log: &mut dyn Write,
) -> Result<(WorkspaceConfig, Option<Vec<PlannedCase>>), AuditError> {
    let path = request.filter.as_deref().and_then(session::path_of_filter);
    let mut packages = request.packages.clone();
    if path.is_some() && packages.packages.is_empty() {
        packages.workspace = true;
    }
    let load = |packages: &Packages| -> Result<WorkspaceConfig, AuditError> {
        let mut workspace = crate::config::load(packages).map_err(session::SetupError::from)?;
        session::override_settings(&mut workspace, request.sandbox_backend, request.timeout_ms);
        Ok(workspace)
    };
    let mut workspace = load(&packages)?;
    let Some(path) = path else {
        return Ok((workspace, None));
    };
    match session::load_cases_at(&mut workspace, &path) {
        Ok((cases, _)) => Ok((workspace, Some(cases))),
        Err(session::SetupError::Path(error)) => {
            let _ = writeln!(log, "note: {error}; FILTER is used as a test-name filter");
            Ok((load(&request.packages)?, None))
        }
        Err(error) => Err(error.into()),
    }
}

/// Runs the audit; `Ok(None)` when no sandbox case is selected.
pub fn audit(
    request: &AuditRequest,
    log: &mut dyn Write,
) -> Result<Option<AuditReport>, AuditError> {
    let started = Instant::now();
    if request.jobs == Some(0) {
        return Err(AuditError::ZeroJobs);
    }
    let (workspace, at_path) = load_workspace(request, log)?;
    let (mut all, _) = session::load_cases(&workspace, None)?;
    // With a path, its sandbox cases choose the policies; those outside the fixture roots
    // join the workspace's cases, by which every chosen policy is judged.
    let chosen_by_path: Option<HashSet<String>> = at_path.map(|cases| {
        let names: HashSet<String> = cases.iter().map(|case| case.id.test_name()).collect();
        let known: HashSet<String> = all.iter().map(|case| case.id.test_name()).collect();
        all.extend(
            cases
                .into_iter()
                .filter(|case| !known.contains(&case.id.test_name())),
        );
        names
    });
    let mut manifests: HashMap<PathBuf, Option<Value>> = HashMap::new();
    let sandbox: Vec<(PlannedCase, Option<PathBuf>)> = all
        .into_iter()
        .filter(|case| case.world == SANDBOX_WORLD)
        .map(|case| {
            let file = policy_file(&case, &mut manifests);
            (case, file)
        })
        .collect();
    let filter = request.filter.as_deref().unwrap_or("");
    let selects = |case: &PlannedCase| match &chosen_by_path {
        Some(names) => names.contains(&case.id.test_name()),
        None => case.id.test_name().contains(filter),
    };
    let mut chosen: Vec<PathBuf> = Vec::new();
    let mut manifest_cases = 0;
    for (case, file) in &sandbox {
        if !selects(case) {
            continue;
        }
        if is_manifest_case(case) {
            // They never choose a policy; they are listed under one that x07 run cases chose.
            manifest_cases += 1;
            continue;
        }
        if let Some(file) = file {
            if !chosen.contains(file) {
                chosen.push(file.clone());
            }
        }
    }
    if manifest_cases > 0 {
        let _ = writeln!(
            log,
            "audit: {manifest_cases} sandboxed x07 test manifest case(s) not audited ({MANIFEST_NOT_AUDITED})"
        );
    }
    if chosen.is_empty() {
        return Ok(None);
    }
    chosen.sort();
    let threads = session::thread_count(None, request.jobs, workspace.configured_jobs());
    let configured = workspace.configured_x07();
    let mut backend = backend::resolve(
        request.x07.as_deref(),
        request.backend,
        configured.as_deref(),
    )
    .map_err(session::SetupError::from)?;
    // The same environment as `cargo x07 test` gives the runner (run-shaping X07_*
    // variables removed, the native cache, `--clean-env`).
    session::set_runner_environment(&mut backend, &workspace, request.clean_env);
    run::kill_running_on_interrupt();

    // The cases of each chosen policy.
    let mut policies: Vec<PolicyAudit> = Vec::new();
    let mut policy_values: Vec<Option<Value>> = Vec::new();
    let mut audited: Vec<AuditedCase> = Vec::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    let mut reaches: HashMap<PathBuf, Reach> = HashMap::new();
    for file in &chosen {
        let value = crate::fixture::read_json(file).ok();
        let (template, _, choice) = grants::template_of(value.as_ref().unwrap_or(&Value::Null));
        let mut audit = PolicyAudit {
            file: file.clone(),
            policy_id: value
                .as_ref()
                .and_then(|v| v.get("policy_id"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            template,
            template_choice: choice,
            cases: Vec::new(),
            not_audited: Vec::new(),
            grants: Vec::new(),
        };
        let mut mine = Vec::new();
        for (case, case_file) in &sandbox {
            if case_file.as_ref() != Some(file) {
                continue;
            }
            let name = case.id.test_name();
            if is_manifest_case(case) {
                audit.not_audited.push((name, MANIFEST_NOT_AUDITED.into()));
                continue;
            }
            if let Some(problem) = case.problems.first() {
                let text = message::fixture_problem(problem);
                let first = text.lines().next().unwrap_or("").to_string();
                audit
                    .not_audited
                    .push((name, format!("cannot run: {first}")));
                continue;
            }
            if let Some(reason) = &case.ignore {
                audit.not_audited.push((name, format!("ignored: {reason}")));
                continue;
            }
            if let Some(reason) = backend.cannot_run(case) {
                audit.not_audited.push((name, format!("not run: {reason}")));
                continue;
            }
            let reach = match &case.target {
                Target::Project { dir, .. } => reaches
                    .entry(dir.clone())
                    .or_insert_with(|| reach::project(dir))
                    .clone(),
                Target::Smoke {
                    program,
                    module_roots,
                    ..
                } => reach::program(program, module_roots),
                // Listed as not audited above.
                Target::TestManifest(_) => continue,
            };
            let arena = arena(case, &mut manifests);
            mine.push(audited.len());
            audited.push(AuditedCase {
                case: case.clone(),
                facts: ProgramFacts {
                    reach,
                    arena,
                    compile_failed: false,
                },
            });
        }
        if value.is_none() {
            for index in mine.drain(..) {
                audit.not_audited.push((
                    audited[index].case.id.test_name(),
                    "the policy file cannot be read".into(),
                ));
            }
        }
        policies.push(audit);
        policy_values.push(value);
        members.push(mine);
    }

    // Phase 1: every case under its own policy.
    let _ = writeln!(
        log,
        "audit: {} policy file(s), {} sandbox case(s); running each under its own policy",
        policies.len(),
        audited.len()
    );
    let baseline = run_cases(
        audited.iter().map(|a| a.case.clone()).collect(),
        &backend,
        threads,
        request.progress,
        "cases under their own policies",
    );
    let baseline: Vec<Option<&CaseOutcome>> = (0..audited.len())
        .map(|index| baseline.get(index))
        .collect();
    for (member, outcome) in audited.iter_mut().zip(&baseline) {
        member.facts.compile_failed = outcome
            .and_then(|outcome| outcome.verdict.as_ref())
            .and_then(|verdict| verdict.actual.as_ref())
            .is_some_and(|actual| actual.compile_ok == Some(false));
    }

    // Phase 2: plan the runs without one grant.
    let scratch = tempfile::Builder::new()
        .prefix("cargo-x07-audit-")
        .tempdir()
        .map_err(AuditError::Temp)?;
    // Removed on Ctrl-C too, with the cases' own copies.
    let _registered = run::process::ScratchRegistration::new(scratch.path());
    struct Job {
        policy: usize,
        grant: usize,
        case: usize,
    }
    let mut jobs: Vec<Job> = Vec::new();
    let mut job_cases: Vec<PlannedCase> = Vec::new();
    let mut skipped = 0;
    for (policy_index, audit) in policies.iter_mut().enumerate() {
        let Some(value) = &policy_values[policy_index] else {
            continue;
        };
        let passing: Vec<usize> = members[policy_index]
            .iter()
            .copied()
            .filter(|&index| match baseline[index] {
                Some(outcome) if outcome.status == CaseStatus::Passed => true,
                Some(outcome) => {
                    let checks = message::failed_checks_line(outcome, "; ");
                    audit.not_audited.push((
                        outcome.id().test_name(),
                        format!("fails under its own policy: {checks}"),
                    ));
                    false
                }
                None => false,
            })
            .collect();
        audit.cases = passing
            .iter()
            .map(|&index| audited[index].case.id.test_name())
            .collect();
        let (_, template, _) = grants::template_of(value);
        let mut grant_list = grants::policy_grants(value, &template);
        for &index in &members[policy_index] {
            for grant in flag_grants(&audited[index].case) {
                if !grant_list.iter().any(|g| g.key == grant.key) {
                    grant_list.push(grant);
                }
            }
        }
        for (grant_index, grant) in grant_list.into_iter().enumerate() {
            let mut judged = GrantAudit {
                grant,
                verdict: GrantVerdict::NotJudged,
                needed_by: Vec::new(),
                passed_without: Vec::new(),
                unreachable: Vec::new(),
                required_by_rule: None,
            };
            let derived = grants::without(value, &judged.grant.removal);
            if !matches!(judged.grant.removal, Removal::DropFlag { .. }) {
                let errors: Vec<String> = crate::policy::check_policy_value(&derived)
                    .into_iter()
                    .filter(|finding| finding.severity == crate::policy::Severity::Error)
                    .map(|finding| {
                        if finding.field.is_empty() {
                            finding.message
                        } else {
                            format!("{}: {}", finding.field, finding.message)
                        }
                    })
                    .collect();
                if let Some(error) = errors.into_iter().next() {
                    judged.required_by_rule = Some(error);
                    audit.grants.push(judged);
                    continue;
                }
            }
            let path = scratch
                .path()
                .join(format!("p{policy_index}-g{grant_index}.policy.json"));
            let mut wrote = false;
            for &index in &passing {
                let member = &audited[index];
                if !has_flag(&member.case, &judged.grant.removal) {
                    continue;
                }
                if !request.exhaustive {
                    if let Some(proof) =
                        proof::unreachable_because(&member.facts, &judged.grant, value)
                    {
                        judged.unreachable.push((member.case.id.test_name(), proof));
                        skipped += 1;
                        continue;
                    }
                }
                let own = baseline[index].map(|o| o.duration).unwrap_or_default();
                let timeout = member.case.timeout.min(own * 4 + Duration::from_secs(5));
                let Some(job_case) =
                    derived_case(&member.case, &path, &judged.grant.removal, timeout)
                else {
                    continue;
                };
                if !wrote {
                    let mut text = serde_json::to_string_pretty(&derived).expect("JSON prints");
                    text.push('\n');
                    std::fs::write(&path, text).map_err(|error| AuditError::Write {
                        path: path.clone(),
                        error,
                    })?;
                    wrote = true;
                }
                job_cases.push(job_case);
                jobs.push(Job {
                    policy: policy_index,
                    grant: audit.grants.len(),
                    case: index,
                });
            }
            audit.grants.push(judged);
        }
    }

    // Phase 2: run them, longest cases first so that the workers finish together.
    let _ = writeln!(
        log,
        "audit: {} run(s) without one grant each; {} skipped (the case provably cannot exercise the grant)",
        jobs.len(),
        skipped
    );
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    let own = |job: &Job| baseline[job.case].map(|o| o.duration).unwrap_or_default();
    order.sort_by_key(|&index| std::cmp::Reverse(own(&jobs[index])));
    let ordered: Vec<PlannedCase> = order
        .iter()
        .map(|&index| job_cases[index].clone())
        .collect();
    let outcomes = run_cases(
        ordered,
        &backend,
        threads,
        request.progress,
        "runs without one grant",
    );
    for (position, &index) in order.iter().enumerate() {
        let job = &jobs[index];
        let Some(outcome) = outcomes.get(position) else {
            continue;
        };
        let name = audited[job.case].case.id.test_name();
        let judged = &mut policies[job.policy].grants[job.grant];
        match outcome.status {
            CaseStatus::Passed => judged.passed_without.push(name),
            _ => {
                let telling = message::telling_check(outcome);
                let rest = message::failed_checks(outcome)
                    .into_iter()
                    .filter(|check| !telling.starts_with(check.as_str()));
                let checks: Vec<String> = std::iter::once(telling.clone()).chain(rest).collect();
                judged.needed_by.push((name, checks))
            }
        }
    }
    drop(scratch);
    for audit in &mut policies {
        for judged in &mut audit.grants {
            judged.needed_by.sort();
            judged.passed_without.sort();
            judged.unreachable.sort();
            judged.verdict = if judged.required_by_rule.is_some() || !judged.needed_by.is_empty() {
                GrantVerdict::Needed
            } else if judged.passed_without.is_empty() && judged.unreachable.is_empty() {
                GrantVerdict::NotJudged
            } else {
                GrantVerdict::Unneeded
            };
        }
        audit.not_audited.sort();
    }
    Ok(Some(AuditReport {
        runner: backend.info().description.clone(),
        policies,
        baseline_runs: audited.len(),
        runs: jobs.len(),
        skipped,
        duration: started.elapsed(),
    }))
}
