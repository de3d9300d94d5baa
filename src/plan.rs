//! Planning: expand each discovered fixture into runnable cases
//! (fixture × case × profile), merging `run` and `expect` blocks
//! (built-in defaults < fixture < case < `by_profile`) and resolving
//! every default, so the runner and the checker need no fixture knowledge.
//!
//! A fixture whose files cannot be read still yields its cases, each carrying
//! the reasons as [`PlannedCase::problems`], so one broken fixture fails only
//! its own cases. Every file a fixture names (policy, input, expected output,
//! smoke program, module roots) must resolve, symlinks followed, inside the cargo
//! workspace root (smoke-suite paths inside `smoke_root`), or its case fails
//! naming the path; sandbox policies are checked against the policy format here,
//! before anything runs.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::config::{SandboxBackend, Settings, WorkspaceConfig};
use crate::discover::{FixtureKind, FixtureLocation};
use crate::failure::{ContainmentRoot, FileRole, FixtureProblem, NamedBy};
use crate::fixture::{
    self, ExpectationsFile, FixtureError, Input, EXPECTATIONS_FILE, PROJECT_FILE,
};
use crate::model::CaseId;

/// The world of sandboxed profiles.
pub const SANDBOX_WORLD: &str = "run-os-sandboxed";

/// What a case runs.
#[derive(Debug, Clone)]
pub enum Target {
    /// `x07 run --project <copy>/x07.json [--profile P]`.
    Project {
        /// The fixture directory (copied before each run).
        dir: PathBuf,
        /// The profile to pass; `None` when `x07.json` declares no profiles.
        profile: Option<String>,
    },
    /// `x07 run --program <program> …` for one smoke-suite case.
    Smoke {
        /// The entry program (absolute).
        program: PathBuf,
        /// The sandbox policy (absolute), for sandboxed suites.
        policy: Option<PathBuf>,
        /// `--module-root` values.
        module_roots: Vec<PathBuf>,
        /// Index of the case in the suite's `cases` (for bless).
        case_index: usize,
    },
    /// `x07 test --manifest … --filter ID --exact …` for one entry of a test manifest
    /// (see [`crate::manifest`]).
    TestManifest(Arc<crate::manifest::ManifestTest>),
}

/// A `--policy` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyArg {
    /// A path inside the fixture, relative to it (resolved by x07 against the project root).
    InFixture(String),
    /// A path outside the fixture, passed absolute.
    Outside(PathBuf),
}

impl PolicyArg {
    /// The policy file: joined to `fixture_dir` when it is inside the fixture.
    pub fn path(&self, fixture_dir: &Path) -> PathBuf {
        match self {
            PolicyArg::InFixture(relative) => fixture_dir.join(relative),
            PolicyArg::Outside(path) => path.clone(),
        }
    }
}

/// Merged run options of one case × profile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunOptions {
    /// `--policy`.
    pub policy: Option<PolicyArg>,
    /// `--allow-host H:P` each.
    pub allow_hosts: Vec<String>,
    /// `--deny-host H:P|*` each.
    pub deny_hosts: Vec<String>,
    /// `--allow-read-root D` each.
    pub allow_read_roots: Vec<String>,
    /// `--allow-write-root D` each.
    pub allow_write_roots: Vec<String>,
    /// `--solve-fuel N`.
    pub solve_fuel: Option<u64>,
    /// `--max-memory-bytes N`.
    pub max_memory_bytes: Option<u64>,
    /// `--max-output-bytes N`.
    pub max_output_bytes: Option<u64>,
    /// `--cpu-time-limit-seconds N`.
    pub cpu_time_limit_seconds: Option<u64>,
    /// Environment variables for the runner (configuration `env` < fixture `run.env`).
    pub env: BTreeMap<String, String>,
}

/// How a text field is matched.
#[derive(Debug, Clone)]
pub enum TextMatch {
    /// The whole text equals this.
    Exact(String),
    /// The regex matches somewhere in the text.
    Regex(regex::Regex),
    /// The text contains this.
    Contains(String),
}

impl TextMatch {
    /// Whether `actual` matches.
    pub fn matches(&self, actual: &str) -> bool {
        match self {
            TextMatch::Exact(text) => actual == text,
            TextMatch::Regex(regex) => regex.is_match(actual),
            TextMatch::Contains(text) => actual.contains(text.as_str()),
        }
    }

    /// How the expectation reads in a failure message.
    pub fn describe(&self) -> String {
        match self {
            TextMatch::Exact(text) => format!("{text:?}"),
            TextMatch::Regex(regex) => format!("a match for regex {:?}", regex.as_str()),
            TextMatch::Contains(text) => format!("text containing {text:?}"),
        }
    }
}

/// A check of a report field that may be null (`trap`, `compile_error`).
#[derive(Debug, Clone)]
pub enum NullableTextCheck {
    /// Not checked.
    Off,
    /// Must be null.
    MustBeNull,
    /// Must be a string that matches.
    Matches(TextMatch),
}

/// The `schema_version` check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaVersionCheck {
    /// Not checked.
    Off,
    /// Any `x07-os-runner.report@0.5.x`.
    SupportedFamily,
    /// Exactly this.
    Exact(String),
}

/// Expected output bytes and where they were written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedOutput {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Where they were written.
    pub origin: OutputOrigin,
}

/// Where expected output bytes were written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputOrigin {
    /// `{ "text": … }`.
    Text,
    /// `{ "b64": … }`.
    Base64,
    /// `{ "file": … }`: the path as written (relative to the fixture directory).
    File(String),
    /// A named field of another format (`expected_b64` of a smoke suite).
    Named(String),
}

/// Every expectation of one case × profile, defaults resolved. `None`/`Off` = not checked.
#[derive(Debug, Clone)]
pub struct Expected {
    /// Report `schema_version`.
    pub schema_version: SchemaVersionCheck,
    /// Report `mode`.
    pub mode: Option<String>,
    /// Report `world`.
    pub world: Option<String>,
    /// Report `exit_code` and the runner's process exit code.
    pub exit_code: Option<i64>,
    /// `compile.ok`.
    pub compile_ok: Option<bool>,
    /// `solve.ok`.
    pub solve_ok: Option<bool>,
    /// `solve.exit_status`.
    pub exit_status: Option<i64>,
    /// Decoded `solve.solve_output_b64`.
    pub output: Option<ExpectedOutput>,
    /// `solve.trap`.
    pub trap: NullableTextCheck,
    /// `compile.compile_error`.
    pub compile_error: NullableTextCheck,
    /// The runner process's stderr.
    pub stderr: Option<TextMatch>,
    /// Decoded `solve.stderr_b64`.
    pub solve_stderr: Option<TextMatch>,
}

/// One runnable test case.
#[derive(Debug, Clone)]
pub struct PlannedCase {
    /// Its identity and test name.
    pub id: CaseId,
    /// What to run.
    pub target: Target,
    /// The world the profile selects.
    pub world: String,
    /// The program input (`None`: no input flag, stdin empty).
    pub input: Option<Input>,
    /// Merged run options.
    pub run: RunOptions,
    /// Resolved expectations.
    pub expect: Expected,
    /// Wall-clock timeout for the runner process.
    pub timeout: Duration,
    /// Why the case is ignored, when it is.
    pub ignore: Option<String>,
    /// The file a person edits to change this case.
    pub source_file: PathBuf,
    /// The fixture directory (or the smoke file's directory); relative files resolve here.
    pub fixture_dir: PathBuf,
    /// The case's description, if any.
    pub description: Option<String>,
    /// Why the case cannot run (broken fixture file, missing or escaping file, invalid
    /// policy); when not empty the case fails with these before anything runs.
    pub problems: Vec<FixtureProblem>,
    /// Sandbox backend for sandboxed worlds.
    pub sandbox_backend: SandboxBackend,
}

#[cfg(test)]
impl PlannedCase {
    /// A case of the fixture `/ws/fixtures/a` for unit tests: case `c` of `profile`, no
    /// input, default options and expectations, the os sandbox backend.
    pub(crate) fn for_test(world: &str, profile: &str, target: Target) -> PlannedCase {
        PlannedCase {
            id: CaseId {
                fixture: "fixtures/a".into(),
                case: "c".into(),
                profile: profile.into(),
            },
            target,
            world: world.into(),
            input: None,
            run: RunOptions::default(),
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
            problems: Vec::new(),
            sandbox_backend: SandboxBackend::Os,
        }
    }
}

/// Plans every case of every fixture, in fixture order.
pub fn plan_all(workspace: &WorkspaceConfig, fixtures: &[FixtureLocation]) -> Vec<PlannedCase> {
    let planner = Planner::new(workspace);
    fixtures
        .iter()
        .flat_map(|location| planner.plan_fixture(location))
        .collect()
}

/// Plans the cases of one fixture.
pub fn plan_fixture(workspace: &WorkspaceConfig, location: &FixtureLocation) -> Vec<PlannedCase> {
    Planner::new(workspace).plan_fixture(location)
}

/// How many cases [`plan_all`] would plan for `fixtures`, read cheaply: only the case
/// names and profiles (no schema check, no expectations resolved). Used for libtest's
/// filtered-out count when `--exact` plans a single fixture.
pub fn count_cases(workspace: &WorkspaceConfig, fixtures: &[FixtureLocation]) -> usize {
    fixtures
        .iter()
        .map(|location| {
            let settings = &workspace.packages[location.package].settings;
            match &location.kind {
                FixtureKind::Project => {
                    let files = ProjectFiles::read(&location.path);
                    let layout = files.layout(settings);
                    layout.case_names.len().max(1) * layout.profiles.len()
                }
                FixtureKind::SmokeSuite => fixture::read_smoke_suite(&location.path)
                    .map(|suite| suite.cases.len())
                    .unwrap_or(1),
                FixtureKind::Unreadable(_) => settings.profiles.len(),
                FixtureKind::BrokenSettings(_) => 1,
                FixtureKind::TestManifest => crate::manifest::plan::count_cases(&location.path),
            }
        })
        .sum()
}

/// Plans fixtures of one workspace; holds what is shared between fixtures (the canonical
/// workspace root, the policies already checked).
pub struct Planner<'a> {
    workspace: &'a WorkspaceConfig,
    /// The workspace root with symlinks resolved: every file a fixture names must be in it.
    root: PathBuf,
    /// Policy file (canonical) → its errors, so a shared policy is checked once.
    policies: RefCell<HashMap<PathBuf, Vec<(String, String)>>>,
}

impl<'a> Planner<'a> {
    /// A planner for `workspace`.
    pub fn new(workspace: &'a WorkspaceConfig) -> Planner<'a> {
        Planner {
            root: canonical(&workspace.root),
            workspace,
            policies: RefCell::new(HashMap::new()),
        }
    }

    /// Plans the cases of one fixture.
    pub fn plan_fixture(&self, location: &FixtureLocation) -> Vec<PlannedCase> {
        let settings = &self.workspace.packages[location.package].settings;
        match &location.kind {
            FixtureKind::Project => self.plan_project(location, settings),
            FixtureKind::SmokeSuite => self.plan_smoke(location, settings),
            FixtureKind::Unreadable(error) => unreadable_cases(location, settings, error),
            FixtureKind::BrokenSettings(message) => {
                broken_settings_case(location, settings, message)
            }
            FixtureKind::TestManifest => {
                crate::manifest::plan::plan_manifest(location, settings, &self.workspace.root)
            }
        }
    }

    fn workspace_root(&self) -> ContainmentRoot {
        ContainmentRoot::Workspace(self.root.clone())
    }

    /// Checks a file the fixture names: it exists (as a file, or a directory for module
    /// roots) and resolves inside `root`.
    fn named_path(
        &self,
        path: &Path,
        role: FileRole,
        root: &ContainmentRoot,
        named_by: NamedBy,
    ) -> Result<PathBuf, Box<FixtureProblem>> {
        let missing = || {
            Box::new(FixtureProblem::MissingFile {
                path: path.to_path_buf(),
                role,
                named_by: named_by.clone(),
            })
        };
        let unusable = |reason: String| {
            Box::new(FixtureProblem::UnusableFile {
                path: path.to_path_buf(),
                role,
                named_by: named_by.clone(),
                reason,
            })
        };
        let resolved = std::fs::canonicalize(path).map_err(|error| {
            match std::fs::symlink_metadata(path) {
                // The entry is there: a symlink loop, or a link whose target is gone.
                Ok(meta) if meta.is_symlink() && error.kind() == std::io::ErrorKind::NotFound => {
                    unusable("it is a symlink to a path that does not exist".into())
                }
                Ok(_) => unusable(error.to_string()),
                Err(_) => missing(),
            }
        })?;
        let inside = match root {
            ContainmentRoot::Workspace(root) | ContainmentRoot::SmokeRoot(root) => {
                resolved.starts_with(root)
            }
        };
        if !inside {
            return Err(Box::new(FixtureProblem::OutsideRoot {
                path: path.to_path_buf(),
                resolved,
                role,
                root: root.clone(),
                named_by,
            }));
        }
        let right_kind = if role == FileRole::ModuleRoot {
            resolved.is_dir()
        } else {
            resolved.is_file()
        };
        if right_kind {
            Ok(resolved)
        } else if role == FileRole::ModuleRoot {
            Err(unusable("it is not a directory".into()))
        } else if resolved.is_dir() {
            Err(unusable("it is a directory, not a file".into()))
        } else {
            Err(unusable("it is not a regular file".into()))
        }
    }

    /// A fixture's own file (`x07.json`, `x07test.json`, a smoke suite) that is a symlink
    /// must resolve inside the workspace too; plain files are inside by discovery.
    fn own_file(&self, path: &Path) -> Option<FixtureProblem> {
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|meta| meta.is_symlink());
        if !is_link {
            return None;
        }
        let named_by = NamedBy {
            key: "(the fixture's own file)".into(),
            file: path.to_path_buf(),
        };
        self.named_path(
            path,
            FileRole::FixtureFile,
            &self.workspace_root(),
            named_by,
        )
        .err()
        .map(|problem| *problem)
        .filter(|problem| matches!(problem, FixtureProblem::OutsideRoot { .. }))
    }

    /// Checks a sandbox policy file: inside the workspace, and free of errors under the
    /// policy format and the runner's rules (checked once per file).
    fn policy(&self, path: &Path, named_by: NamedBy) -> Option<FixtureProblem> {
        let resolved =
            match self.named_path(path, FileRole::Policy, &self.workspace_root(), named_by) {
                Ok(resolved) => resolved,
                Err(problem) => return Some(*problem),
            };
        let mut cache = self.policies.borrow_mut();
        let errors = cache.entry(resolved.clone()).or_insert_with(|| {
            crate::policy::check_file(&resolved)
                .into_iter()
                .filter(|finding| finding.severity == crate::policy::Severity::Error)
                .map(|finding| (finding.field, finding.message))
                .collect()
        });
        (!errors.is_empty()).then(|| FixtureProblem::InvalidPolicy {
            path: path.to_path_buf(),
            errors: errors.clone(),
        })
    }

    fn plan_project(&self, location: &FixtureLocation, settings: &Settings) -> Vec<PlannedCase> {
        let dir = &location.path;
        let files = ProjectFiles::read(dir);
        let layout = files.layout(settings);
        let mut fixture_problems: Vec<FixtureProblem> = Vec::new();
        for own in [&files.manifest_path, &files.expectations_path] {
            fixture_problems.extend(self.own_file(own));
        }
        if let Err(error) = &files.manifest {
            fixture_problems.push(FixtureProblem::File(error.clone()));
        }
        let file: Option<ExpectationsFile> = match &files.expectations {
            None => None,
            Some(Err(error)) => {
                fixture_problems.push(FixtureProblem::File(error.clone()));
                None
            }
            Some(Ok(value)) => {
                match fixture::validate_expectations(&files.expectations_path, value.clone()) {
                    Ok(file) => Some(file),
                    Err(error) => {
                        fixture_problems.push(FixtureProblem::File(error));
                        None
                    }
                }
            }
        };
        if files.manifest.is_ok() {
            for profile in &layout.profiles {
                if !profile.declared {
                    fixture_problems.push(FixtureProblem::UndeclaredProfile {
                        profile: profile.name.clone(),
                        expectations: files.expectations_path.clone(),
                        manifest: files.manifest_path.clone(),
                    });
                }
            }
        }
        let source_file = files.source_file().to_path_buf();
        let empty = Map::new();
        let (fixture_run, fixture_expect) = match &file {
            Some(file) => (&file.run, &file.expect),
            None => (&empty, &empty),
        };
        let case_specs: Vec<fixture::CaseSpec> = if layout.case_names.is_empty() {
            vec![default_case("default")]
        } else {
            layout
                .case_names
                .iter()
                .map(|name| {
                    file.as_ref()
                        .and_then(|file| file.cases.as_ref())
                        .and_then(|cases| cases.iter().find(|case| &case.name == name))
                        .cloned()
                        .unwrap_or_else(|| default_case(name))
                })
                .collect()
        };

        // The profiles a `by_profile` key may name: those x07.json declares (or, without
        // profiles, the one named by its world), whether or not this run selects them.
        let known_profiles: Option<Vec<String>> = files.manifest.as_ref().ok().map(|manifest| {
            let mut known: Vec<String> = match &manifest.profiles {
                Some(declared) => declared.keys().cloned().collect(),
                None => Vec::new(),
            };
            known.extend(layout.profiles.iter().map(|profile| profile.name.clone()));
            known.sort();
            known.dedup();
            known
        });
        let mut planned = Vec::new();
        for (case_index, case) in case_specs.iter().enumerate() {
            // A `by_profile` key that names no profile (a typo such as `sandbx`) would
            // silently drop the override it holds.
            let stray_overrides: Vec<FixtureProblem> = match &known_profiles {
                Some(known) => case
                    .by_profile
                    .keys()
                    .filter(|key| !known.contains(key))
                    .map(|key| FixtureProblem::InvalidValue {
                        file: source_file.clone(),
                        at: match &file {
                            Some(file) if file.cases.is_some() => {
                                format!("cases[{case_index}].by_profile.{key}")
                            }
                            _ => format!("by_profile.{key}"),
                        },
                        message: format!(
                            "names no profile of this fixture (x07.json has: {}), so its overrides would never apply",
                            known.join(", ")
                        ),
                    })
                    .collect(),
                None => Vec::new(),
            };
            for profile in &layout.profiles {
                let overrides = case.by_profile.get(&profile.name);
                let at = |key: &str| match &file {
                    Some(file) if file.cases.is_some() => format!("cases[{case_index}].{key}"),
                    _ => key.to_string(),
                };
                let run_map = merge_run(&[
                    fixture_run,
                    &case.run,
                    overrides.map(|o| &o.run).unwrap_or(&empty),
                ]);
                let expect_map = merge_expect(&[
                    fixture_expect,
                    &case.expect,
                    overrides.map(|o| &o.expect).unwrap_or(&empty),
                ]);
                let mut problems = fixture_problems.clone();
                problems.extend(stray_overrides.iter().cloned());
                let invalid = |at: String, message: String| FixtureProblem::InvalidValue {
                    file: source_file.clone(),
                    at,
                    message,
                };
                let run = match resolve_run(&run_map, dir, &settings.env) {
                    Ok(run) => run,
                    Err(message) => {
                        // The message names the key (`run.env.X …`).
                        problems.push(invalid(String::new(), message));
                        RunOptions::default()
                    }
                };
                if profile.world == SANDBOX_WORLD && problems.is_empty() {
                    let policy = match &run.policy {
                        Some(policy) => Some((
                            policy.path(dir),
                            NamedBy {
                                key: "run.policy".into(),
                                file: source_file.clone(),
                            },
                        )),
                        None => profile.policy.as_ref().map(|policy| {
                            (
                                dir.join(policy),
                                NamedBy {
                                    key: format!("profiles.{}.policy", profile.name),
                                    file: files.manifest_path.clone(),
                                },
                            )
                        }),
                    };
                    if let Some((path, named_by)) = policy {
                        problems.extend(self.policy(&path, named_by));
                    }
                } else if let Some(policy) = &run.policy {
                    let named_by = NamedBy {
                        key: "run.policy".into(),
                        file: source_file.clone(),
                    };
                    if let Err(problem) = self.named_path(
                        &policy.path(dir),
                        FileRole::Policy,
                        &self.workspace_root(),
                        named_by,
                    ) {
                        problems.push(*problem);
                    }
                }
                let input = match case.input.as_ref().map(|input| input.to_input()) {
                    None => None,
                    Some(Ok(input)) => Some(input),
                    Some(Err(message)) => {
                        problems.push(invalid(at("input"), message));
                        None
                    }
                };
                if let Some(Input::File(file)) = &input {
                    let named_by = NamedBy {
                        key: at("input.file"),
                        file: source_file.clone(),
                    };
                    if let Err(problem) = self.named_path(
                        &dir.join(file),
                        FileRole::Input,
                        &self.workspace_root(),
                        named_by,
                    ) {
                        problems.push(*problem);
                    }
                }
                let reader = ExpectedFiles {
                    planner: self,
                    dir,
                    named_by: NamedBy {
                        key: "expect.output.file".into(),
                        file: source_file.clone(),
                    },
                };
                let expect = match resolve_expected_with(
                    &expect_map,
                    &profile.world,
                    "project-compile-run",
                    &reader,
                ) {
                    Ok(expect) => expect,
                    Err(ExpectError::Value(message)) => {
                        // The message names the key (`expect.trap.regex …`).
                        problems.push(invalid(String::new(), message));
                        defaults(&profile.world)
                    }
                    Err(ExpectError::File(problem)) => {
                        problems.push(*problem);
                        defaults(&profile.world)
                    }
                };
                let ignore = profile
                    .unconfigured
                    .clone()
                    .or_else(|| overrides.and_then(|o| o.ignore.clone()))
                    .or_else(|| case.ignore.clone())
                    .or_else(|| file.as_ref().and_then(|file| file.ignore.clone()));
                let timeout_ms = case
                    .timeout_ms
                    .or_else(|| file.as_ref().and_then(|file| file.timeout_ms))
                    .unwrap_or(settings.timeout_ms);
                planned.push(PlannedCase {
                    id: CaseId {
                        fixture: location.name.clone(),
                        // Names read from a file with mistakes are not schema-checked.
                        case: crate::discover::escape_controls(&case.name),
                        profile: crate::discover::escape_controls(&profile.name),
                    },
                    target: Target::Project {
                        dir: dir.clone(),
                        profile: profile.flag.clone(),
                    },
                    world: profile.world.clone(),
                    input,
                    run,
                    expect,
                    timeout: Duration::from_millis(timeout_ms),
                    ignore,
                    source_file: source_file.clone(),
                    fixture_dir: dir.clone(),
                    description: case
                        .description
                        .clone()
                        .or_else(|| file.as_ref().and_then(|file| file.description.clone())),
                    problems: dedup(problems),
                    sandbox_backend: settings.sandbox_backend,
                });
            }
        }
        planned
    }

    fn plan_smoke(&self, location: &FixtureLocation, settings: &Settings) -> Vec<PlannedCase> {
        let file = &location.path;
        let dir = file.parent().unwrap_or(Path::new(".")).to_path_buf();
        let broken = |problem: FixtureProblem| {
            vec![PlannedCase {
                id: CaseId {
                    fixture: location.name.clone(),
                    case: "default".into(),
                    profile: "run-os".into(),
                },
                target: Target::Smoke {
                    program: PathBuf::new(),
                    policy: None,
                    module_roots: Vec::new(),
                    case_index: 0,
                },
                world: "run-os".into(),
                input: None,
                run: RunOptions::default(),
                expect: smoke_expected("run-os", None),
                timeout: Duration::from_millis(settings.timeout_ms),
                ignore: None,
                source_file: file.clone(),
                fixture_dir: dir.clone(),
                description: None,
                problems: vec![problem],
                sandbox_backend: settings.sandbox_backend,
            }]
        };
        if let Some(problem) = self.own_file(file) {
            return broken(problem);
        }
        let suite = match fixture::read_smoke_suite(file) {
            Ok(suite) => suite,
            Err(error) => return broken(FixtureProblem::File(error)),
        };
        let smoke_root = ContainmentRoot::SmokeRoot(canonical(&settings.smoke_root));
        let named = |key: &str| NamedBy {
            key: key.into(),
            file: file.clone(),
        };
        let program = settings.smoke_root.join(&suite.program_x07json);
        let policy = suite
            .policy_json
            .as_ref()
            .map(|policy| settings.smoke_root.join(policy));
        let mut suite_problems = Vec::new();
        if let Err(problem) = self.named_path(
            &program,
            FileRole::SmokeProgram,
            &smoke_root,
            named("program_x07json"),
        ) {
            suite_problems.push(*problem);
        }
        if let Some(policy) = &policy {
            match self.named_path(policy, FileRole::Policy, &smoke_root, named("policy_json")) {
                Err(problem) => suite_problems.push(*problem),
                Ok(_) => suite_problems.extend(self.policy(policy, named("policy_json"))),
            }
        }
        for root in &settings.smoke_module_roots {
            let named_by = NamedBy {
                key: "smoke_module_roots".into(),
                file: self.workspace.root.join("Cargo.toml"),
            };
            if let Err(problem) = self.named_path(root, FileRole::ModuleRoot, &smoke_root, named_by)
            {
                suite_problems.push(*problem);
            }
        }
        let invalid = |at: String, message: String| FixtureProblem::InvalidValue {
            file: file.clone(),
            at,
            message,
        };
        // A name used twice is one test (its first case), failing: two tests of one
        // name could not be told apart by `--exact`, nextest or the last-run record.
        let first_of = |name: &str| suite.cases.iter().position(|case| case.name == name);
        suite
            .cases
            .iter()
            .enumerate()
            .filter(|(index, case)| first_of(&case.name) == Some(*index))
            .map(|(index, case)| {
                let mut problems = suite_problems.clone();
                for (again, _) in suite
                    .cases
                    .iter()
                    .enumerate()
                    .skip(index + 1)
                    .filter(|(_, other)| other.name == case.name)
                {
                    problems.push(invalid(
                        format!("cases[{again}].name"),
                        format!("case name {:?} is used twice", case.name),
                    ));
                }
                let engine = base64::engine::general_purpose::STANDARD;
                let input = match engine.decode(&case.input_b64) {
                    Ok(bytes) => Some(Input::Bytes(bytes)),
                    Err(error) => {
                        problems.push(invalid(
                            format!("cases[{index}].input_b64"),
                            format!("not base64: {error}"),
                        ));
                        None
                    }
                };
                let expected = match engine.decode(&case.expected_b64) {
                    Ok(bytes) => Some(bytes),
                    Err(error) => {
                        problems.push(invalid(
                            format!("cases[{index}].expected_b64"),
                            format!("not base64: {error}"),
                        ));
                        None
                    }
                };
                let ignore = suite.world.starts_with("solve-").then(|| {
                    format!(
                        "world {} runs on the deterministic solve runner, which cargo-x07 does not drive",
                        suite.world
                    )
                });
                PlannedCase {
                    id: CaseId {
                        fixture: location.name.clone(),
                        case: crate::discover::escape_controls(&case.name),
                        profile: crate::discover::escape_controls(&suite.world),
                    },
                    target: Target::Smoke {
                        program: program.clone(),
                        policy: policy.clone(),
                        module_roots: settings.smoke_module_roots.clone(),
                        case_index: index,
                    },
                    world: suite.world.clone(),
                    input,
                    run: RunOptions {
                        env: settings.env.clone(),
                        ..RunOptions::default()
                    },
                    expect: smoke_expected(&suite.world, expected),
                    timeout: Duration::from_millis(settings.timeout_ms),
                    ignore,
                    source_file: file.clone(),
                    fixture_dir: dir.clone(),
                    description: suite.suite_id.clone(),
                    problems,
                    sandbox_backend: settings.sandbox_backend,
                }
            })
            .collect()
    }
}

/// `path` with symlinks resolved, or as given when it cannot be resolved.
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn dedup(problems: Vec<FixtureProblem>) -> Vec<FixtureProblem> {
    let mut seen: Vec<String> = Vec::new();
    problems
        .into_iter()
        .filter(|problem| {
            let key = format!("{problem:?}");
            let fresh = !seen.contains(&key);
            seen.push(key);
            fresh
        })
        .collect()
}

fn default_case(name: &str) -> fixture::CaseSpec {
    fixture::CaseSpec {
        name: name.into(),
        description: None,
        input: None,
        timeout_ms: None,
        ignore: None,
        run: Map::new(),
        expect: Map::new(),
        by_profile: BTreeMap::new(),
    }
}

fn defaults(world: &str) -> Expected {
    resolve_expected(&Map::new(), world, "project-compile-run", Path::new("."))
        .expect("defaults resolve")
}

/// The cases of a directory under a fixture root that could not be read: one `default`
/// case per configured profile, each failing with the error.
fn unreadable_cases(
    location: &FixtureLocation,
    settings: &Settings,
    error: &Arc<std::io::Error>,
) -> Vec<PlannedCase> {
    settings
        .profiles
        .iter()
        .map(|profile| {
            let world = if profile == "sandbox" {
                SANDBOX_WORLD
            } else {
                "run-os"
            };
            PlannedCase {
                id: CaseId {
                    fixture: location.name.clone(),
                    case: "default".into(),
                    profile: profile.clone(),
                },
                target: Target::Project {
                    dir: location.path.clone(),
                    profile: Some(profile.clone()),
                },
                world: world.into(),
                input: None,
                run: RunOptions::default(),
                expect: defaults(world),
                timeout: Duration::from_millis(settings.timeout_ms),
                ignore: None,
                source_file: location.path.clone(),
                fixture_dir: location.path.clone(),
                description: None,
                problems: vec![FixtureProblem::UnreadableDirectory {
                    path: location.path.clone(),
                    error: Arc::clone(error),
                }],
                sandbox_backend: settings.sandbox_backend,
            }
        })
        .collect()
}

/// The one case of a package whose `[package.metadata.x07]` could not be read:
/// `<package>/Cargo.toml::metadata.x07::config`, failing with the configuration error.
fn broken_settings_case(
    location: &FixtureLocation,
    settings: &Settings,
    message: &Arc<str>,
) -> Vec<PlannedCase> {
    let world = "run-os";
    vec![PlannedCase {
        id: CaseId {
            fixture: location.name.clone(),
            case: "metadata.x07".into(),
            profile: "config".into(),
        },
        target: Target::Project {
            dir: location
                .path
                .parent()
                .unwrap_or(&location.path)
                .to_path_buf(),
            profile: None,
        },
        world: world.into(),
        input: None,
        run: RunOptions::default(),
        expect: defaults(world),
        timeout: Duration::from_millis(settings.timeout_ms),
        ignore: None,
        source_file: location.path.clone(),
        fixture_dir: location
            .path
            .parent()
            .unwrap_or(&location.path)
            .to_path_buf(),
        description: None,
        problems: vec![FixtureProblem::InvalidSettings {
            message: Arc::clone(message),
        }],
        sandbox_backend: settings.sandbox_backend,
    }]
}

/// A fixture directory's two files, read once: the manifest parsed, the expectations
/// file parsed as JSON (validated later).
struct ProjectFiles {
    manifest_path: PathBuf,
    expectations_path: PathBuf,
    manifest: Result<fixture::ProjectManifest, FixtureError>,
    /// `None` when the fixture has no expectations file.
    expectations: Option<Result<Value, FixtureError>>,
}

/// The profiles and case names of a project fixture.
struct ProjectLayout {
    profiles: Vec<ProfileInfo>,
    /// Empty: the one case `default`.
    case_names: Vec<String>,
}

impl ProjectFiles {
    fn read(dir: &Path) -> ProjectFiles {
        let manifest_path = dir.join(PROJECT_FILE);
        let expectations_path = dir.join(EXPECTATIONS_FILE);
        // Any entry of that name (a directory, a symlink loop, a dangling link) is the
        // author's expectations file: it fails to read rather than being taken as absent.
        let expectations = std::fs::symlink_metadata(&expectations_path)
            .is_ok()
            .then(|| fixture::read_expectations_json(&expectations_path));
        ProjectFiles {
            manifest: fixture::read_project(&manifest_path),
            manifest_path,
            expectations,
            expectations_path,
        }
    }

    /// The file a person edits to change this fixture's cases.
    fn source_file(&self) -> &Path {
        if self.expectations.is_some() {
            &self.expectations_path
        } else {
            &self.manifest_path
        }
    }

    /// Profiles and case names: from the files where they can be read (a file with
    /// mistakes keeps its names), else the defaults.
    fn layout(&self, settings: &Settings) -> ProjectLayout {
        let layout = match &self.expectations {
            Some(Ok(value)) => fixture::CaseLayout::of(value),
            _ => fixture::CaseLayout::default(),
        };
        let profiles = match &self.manifest {
            Ok(manifest) => project_profiles(manifest, layout.profiles.as_deref(), settings),
            Err(_) => settings
                .profiles
                .iter()
                .map(|name| ProfileInfo {
                    name: name.clone(),
                    world: if name == "sandbox" {
                        SANDBOX_WORLD.into()
                    } else {
                        "run-os".into()
                    },
                    flag: Some(name.clone()),
                    policy: None,
                    declared: true,
                    unconfigured: None,
                })
                .collect(),
        };
        ProjectLayout {
            profiles,
            case_names: layout.case_names,
        }
    }
}

struct ProfileInfo {
    name: String,
    world: String,
    /// `None` when x07.json has no profiles (no `--profile` flag).
    flag: Option<String>,
    policy: Option<String>,
    /// Whether `x07.json` declares it (a listed but undeclared profile is a problem).
    declared: bool,
    /// Set when none of the configured profiles is declared by `x07.json`: the fixture's
    /// own profiles are then listed as ignored cases with this reason, not dropped.
    unconfigured: Option<String>,
}

fn project_profiles(
    manifest: &fixture::ProjectManifest,
    wanted: Option<&[String]>,
    settings: &Settings,
) -> Vec<ProfileInfo> {
    let Some(declared) = &manifest.profiles else {
        let world = manifest.world.clone().unwrap_or_else(|| "run-os".into());
        if let Some(listed) = wanted.filter(|listed| !listed.is_empty()) {
            // x07test.json asks for profiles that x07.json (with none) cannot give: each is
            // a failing case, not silently one run in the manifest's world instead.
            return listed
                .iter()
                .map(|name| ProfileInfo {
                    name: name.clone(),
                    world: world.clone(),
                    flag: Some(name.clone()),
                    policy: None,
                    declared: false,
                    unconfigured: None,
                })
                .collect();
        }
        return vec![ProfileInfo {
            name: world.clone(),
            world,
            flag: None,
            policy: None,
            declared: true,
            unconfigured: None,
        }];
    };
    let mut unconfigured = None;
    let names: Vec<String> = match wanted {
        Some(list) => list.to_vec(),
        None => {
            let chosen: Vec<String> = settings
                .profiles
                .iter()
                .filter(|name| declared.contains_key(name.as_str()))
                .cloned()
                .collect();
            if chosen.is_empty() && !declared.is_empty() && !settings.profiles.is_empty() {
                // Not one case would be left: say so instead of dropping the fixture.
                unconfigured = Some(format!(
                    "x07.json declares none of the configured profiles ({}); list the profiles to run in x07test.json `profiles` or the `profiles` configuration key",
                    settings.profiles.join(", ")
                ));
                declared.keys().cloned().collect()
            } else {
                chosen
            }
        }
    };
    names
        .into_iter()
        .map(|name| {
            let decl = declared.get(&name);
            let world = decl
                .and_then(|decl| decl.world.clone())
                .or_else(|| manifest.world.clone())
                .unwrap_or_else(|| "run-os".into());
            ProfileInfo {
                world,
                flag: Some(name.clone()),
                policy: decl.and_then(|decl| decl.policy.clone()),
                declared: decl.is_some(),
                unconfigured: unconfigured.clone(),
                name,
            }
        })
        .collect()
}

/// Smoke-suite cases check only what the suite format promises: exit code 0 and the output.
fn smoke_expected(world: &str, output: Option<Vec<u8>>) -> Expected {
    Expected {
        schema_version: SchemaVersionCheck::SupportedFamily,
        mode: None,
        world: Some(world.to_string()),
        exit_code: Some(0),
        compile_ok: None,
        solve_ok: None,
        exit_status: None,
        output: output.map(|bytes| ExpectedOutput {
            bytes,
            origin: OutputOrigin::Named("expected_b64".into()),
        }),
        trap: NullableTextCheck::Off,
        compile_error: NullableTextCheck::Off,
        stderr: None,
        solve_stderr: None,
    }
}

/// The keys that describe how a program ended; see [`merge_expect`].
pub const OUTCOME_KEYS: [&str; 7] = [
    "exit_code",
    "compile_ok",
    "solve_ok",
    "exit_status",
    "output",
    "trap",
    "compile_error",
];

/// How an expectation level says the program ends: with output, a trap or a compile error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Output,
    Trap,
    CompileError,
}

fn ending(level: &Map<String, Value>) -> Option<Ending> {
    let set = |key: &str| level.get(key).is_some_and(|value| !value.is_null());
    if set("trap") {
        Some(Ending::Trap)
    } else if set("compile_error") {
        Some(Ending::CompileError)
    } else if set("output") {
        Some(Ending::Output)
    } else {
        None
    }
}

/// Merges `expect` levels (fixture < case < profile) key by key, later winning, with one
/// rule on top: a level that names a different ending than the levels below it (a `trap`
/// or `compile_error` over an inherited `output`, or an `output` over an inherited
/// `trap`) does not inherit the [`OUTCOME_KEYS`] it does not set itself. A denial
/// override (`by_profile.sandbox.expect.trap`) thus needs no `"output": null`.
pub fn merge_expect(layers: &[&Map<String, Value>]) -> Map<String, Value> {
    let mut merged = Map::new();
    for layer in layers {
        if let (Some(new), Some(old)) = (ending(layer), ending(&merged)) {
            if new != old {
                for key in OUTCOME_KEYS {
                    if !layer.contains_key(key) {
                        merged.remove(key);
                    }
                }
            }
        }
        for (key, value) in layer.iter() {
            merged.insert(key.clone(), value.clone());
        }
    }
    merged
}

/// Merges JSON objects key by key; later wins, explicit `null` included.
pub fn merge_objects(layers: &[&Map<String, Value>]) -> Map<String, Value> {
    let mut merged = Map::new();
    for layer in layers {
        for (key, value) in layer.iter() {
            merged.insert(key.clone(), value.clone());
        }
    }
    merged
}

/// Like [`merge_objects`], but `env` is merged per variable.
fn merge_run(layers: &[&Map<String, Value>]) -> Map<String, Value> {
    let mut merged = merge_objects(layers);
    let mut env = Map::new();
    for layer in layers {
        if let Some(Value::Object(vars)) = layer.get("env") {
            for (key, value) in vars {
                env.insert(key.clone(), value.clone());
            }
        }
    }
    if !env.is_empty() {
        merged.insert("env".into(), Value::Object(env));
    }
    merged
}

fn string_list(map: &Map<String, Value>, key: &str) -> Vec<String> {
    map.get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Resolves merged run options. `config_env` comes first, `run.env` on top.
fn resolve_run(
    map: &Map<String, Value>,
    fixture_dir: &Path,
    config_env: &BTreeMap<String, String>,
) -> Result<RunOptions, String> {
    let number = |key: &str| map.get(key).and_then(Value::as_u64);
    let policy = map
        .get("policy")
        .and_then(Value::as_str)
        .map(|policy| policy_arg(fixture_dir, policy));
    let mut env = config_env.clone();
    if let Some(Value::Object(vars)) = map.get("env") {
        for (key, value) in vars {
            let value = value
                .as_str()
                .ok_or_else(|| format!("run.env.{key} must be a string"))?;
            env.insert(key.clone(), value.to_string());
        }
    }
    Ok(RunOptions {
        policy,
        allow_hosts: string_list(map, "allow_hosts"),
        deny_hosts: string_list(map, "deny_hosts"),
        allow_read_roots: string_list(map, "allow_read_roots"),
        allow_write_roots: string_list(map, "allow_write_roots"),
        solve_fuel: number("solve_fuel"),
        max_memory_bytes: number("max_memory_bytes"),
        max_output_bytes: number("max_output_bytes"),
        cpu_time_limit_seconds: number("cpu_time_limit_seconds"),
        env,
    })
}

/// A policy inside the fixture stays relative (x07 resolves it in the copy);
/// one outside is made absolute.
fn policy_arg(fixture_dir: &Path, policy: &str) -> PolicyArg {
    let path = Path::new(policy);
    if path.is_absolute() {
        return PolicyArg::Outside(path.to_path_buf());
    }
    let mut depth: i32 = 0;
    let mut leaves = false;
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => depth -= 1,
            std::path::Component::Normal(_) => depth += 1,
            _ => {}
        }
        if depth < 0 {
            leaves = true;
        }
    }
    if leaves {
        let joined = fixture_dir.join(path);
        PolicyArg::Outside(normalize(&joined))
    } else {
        PolicyArg::InFixture(policy.to_string())
    }
}

/// Removes `.` and `..` parts without touching the disk.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn text_match(value: &Value, key: &str) -> Result<TextMatch, String> {
    match value {
        Value::String(text) => Ok(TextMatch::Exact(text.clone())),
        Value::Object(object) => {
            if let Some(Value::String(pattern)) = object.get("regex") {
                regex::Regex::new(pattern)
                    .map(TextMatch::Regex)
                    .map_err(|error| format!("expect.{key}.regex does not compile: {error}"))
            } else if let Some(Value::String(text)) = object.get("contains") {
                Ok(TextMatch::Contains(text.clone()))
            } else {
                Err(format!(
                    "expect.{key} must be a string, {{\"regex\"}} or {{\"contains\"}}"
                ))
            }
        }
        _ => Err(format!("expect.{key} must be a string or an object")),
    }
}

/// Reads an `expect` key: `Ok(None)` absent, `Ok(Some(None))` null (check off), else the value.
fn tri<'a>(map: &'a Map<String, Value>, key: &str) -> Option<Option<&'a Value>> {
    map.get(key)
        .map(|value| (!value.is_null()).then_some(value))
}

/// Why merged expectations could not be resolved.
#[derive(Debug, Clone)]
pub enum ExpectError {
    /// A value is unusable (a regex that does not compile, bad base64, …).
    Value(String),
    /// The expected-output file is missing or outside the workspace.
    File(Box<FixtureProblem>),
}

/// Reads `expect.output.file` sidecar files.
pub trait OutputFiles {
    /// The bytes of `file` (as written in the expectations file).
    fn read(&self, file: &str) -> Result<Vec<u8>, ExpectError>;
}

/// Sidecar files of a fixture, each checked to stay inside the workspace.
struct ExpectedFiles<'p, 'a> {
    planner: &'p Planner<'a>,
    dir: &'p Path,
    named_by: NamedBy,
}

impl OutputFiles for ExpectedFiles<'_, '_> {
    fn read(&self, file: &str) -> Result<Vec<u8>, ExpectError> {
        let path = self.dir.join(file);
        let resolved = self
            .planner
            .named_path(
                &path,
                FileRole::ExpectedOutput,
                &self.planner.workspace_root(),
                self.named_by.clone(),
            )
            .map_err(ExpectError::File)?;
        std::fs::read(&resolved).map_err(|_| {
            ExpectError::File(Box::new(FixtureProblem::MissingFile {
                path,
                role: FileRole::ExpectedOutput,
                named_by: self.named_by.clone(),
            }))
        })
    }
}

/// Sidecar files read from a directory as they are (no containment; for tools and tests).
pub struct PlainFiles<'p>(pub &'p Path);

impl OutputFiles for PlainFiles<'_> {
    fn read(&self, file: &str) -> Result<Vec<u8>, ExpectError> {
        let path = self.0.join(file);
        std::fs::read(&path).map_err(|error| {
            ExpectError::Value(format!(
                "cannot read expected output file {} (expect.output.file): {error}",
                path.display()
            ))
        })
    }
}

/// Resolves merged expectations against the built-in defaults (see docs/fixture-format.md),
/// reading sidecar files from `fixture_dir` as they are.
pub fn resolve_expected(
    map: &Map<String, Value>,
    world: &str,
    default_mode: &str,
    fixture_dir: &Path,
) -> Result<Expected, String> {
    resolve_expected_with(map, world, default_mode, &PlainFiles(fixture_dir)).map_err(|error| {
        match error {
            ExpectError::Value(message) => message,
            ExpectError::File(problem) => format!("{problem:?}"),
        }
    })
}

/// Resolves merged expectations against the built-in defaults, reading sidecar files
/// through `files`.
pub fn resolve_expected_with(
    map: &Map<String, Value>,
    world: &str,
    default_mode: &str,
    files: &dyn OutputFiles,
) -> Result<Expected, ExpectError> {
    let trap_given = matches!(tri(map, "trap"), Some(Some(_)));
    let compile_error_given = matches!(tri(map, "compile_error"), Some(Some(_)));

    let schema_version = match tri(map, "schema_version") {
        None => SchemaVersionCheck::SupportedFamily,
        Some(None) => SchemaVersionCheck::Off,
        Some(Some(value)) => SchemaVersionCheck::Exact(value.as_str().unwrap_or_default().into()),
    };
    let string = |key: &str, default: &str| match tri(map, key) {
        None => Some(default.to_string()),
        Some(None) => None,
        Some(Some(value)) => Some(value.as_str().unwrap_or_default().to_string()),
    };
    let exit_code = match tri(map, "exit_code") {
        None => Some(if trap_given || compile_error_given {
            1
        } else {
            0
        }),
        Some(None) => None,
        Some(Some(value)) => value.as_i64(),
    };
    let compile_ok = match tri(map, "compile_ok") {
        None => Some(!compile_error_given),
        Some(None) => None,
        Some(Some(value)) => value.as_bool(),
    };
    let solve_ok = match tri(map, "solve_ok") {
        None if compile_ok == Some(false) => None,
        None => Some(!trap_given),
        Some(None) => None,
        Some(Some(value)) => value.as_bool(),
    };
    let exit_status = tri(map, "exit_status").flatten().and_then(Value::as_i64);
    let output = match tri(map, "output").flatten() {
        None => None,
        Some(value) => Some(expected_bytes(value, files)?),
    };
    let nullable = |key: &str, must_be_null: bool| -> Result<NullableTextCheck, ExpectError> {
        Ok(match tri(map, key) {
            None if must_be_null => NullableTextCheck::MustBeNull,
            None | Some(None) => NullableTextCheck::Off,
            Some(Some(value)) => {
                NullableTextCheck::Matches(text_match(value, key).map_err(ExpectError::Value)?)
            }
        })
    };
    let optional_text = |key: &str| -> Result<Option<TextMatch>, ExpectError> {
        tri(map, key)
            .flatten()
            .map(|value| text_match(value, key).map_err(ExpectError::Value))
            .transpose()
    };
    Ok(Expected {
        schema_version,
        mode: string("mode", default_mode),
        world: string("world", world),
        exit_code,
        compile_ok,
        solve_ok,
        exit_status,
        output,
        trap: nullable("trap", solve_ok == Some(true))?,
        compile_error: nullable("compile_error", compile_ok == Some(true))?,
        stderr: optional_text("stderr")?,
        solve_stderr: optional_text("solve_stderr")?,
    })
}

fn expected_bytes(value: &Value, files: &dyn OutputFiles) -> Result<ExpectedOutput, ExpectError> {
    if let Some(text) = value.get("text").and_then(Value::as_str) {
        return Ok(ExpectedOutput {
            bytes: text.as_bytes().to_vec(),
            origin: OutputOrigin::Text,
        });
    }
    if let Some(b64) = value.get("b64").and_then(Value::as_str) {
        return base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map(|bytes| ExpectedOutput {
                bytes,
                origin: OutputOrigin::Base64,
            })
            .map_err(|error| {
                ExpectError::Value(format!("expect.output.b64 is not valid base64: {error}"))
            });
    }
    if let Some(file) = value.get("file").and_then(Value::as_str) {
        return files.read(file).map(|bytes| ExpectedOutput {
            bytes,
            origin: OutputOrigin::File(file.to_string()),
        });
    }
    Err(ExpectError::Value(
        "expect.output must have one of text, b64, file".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn defaults_for_a_plain_case() {
        let expect =
            resolve_expected(&Map::new(), "run-os", "project-compile-run", Path::new(".")).unwrap();
        assert_eq!(expect.schema_version, SchemaVersionCheck::SupportedFamily);
        assert_eq!(expect.mode.as_deref(), Some("project-compile-run"));
        assert_eq!(expect.world.as_deref(), Some("run-os"));
        assert_eq!(expect.exit_code, Some(0));
        assert_eq!(expect.compile_ok, Some(true));
        assert_eq!(expect.solve_ok, Some(true));
        assert!(matches!(expect.trap, NullableTextCheck::MustBeNull));
        assert!(matches!(
            expect.compile_error,
            NullableTextCheck::MustBeNull
        ));
        assert!(expect.output.is_none());
    }

    #[test]
    fn an_expected_trap_changes_the_defaults() {
        let expect = resolve_expected(
            &obj(json!({ "trap": { "regex": "^fuel" } })),
            "run-os",
            "project-compile-run",
            Path::new("."),
        )
        .unwrap();
        assert_eq!(expect.exit_code, Some(1));
        assert_eq!(expect.solve_ok, Some(false));
        assert!(matches!(
            expect.trap,
            NullableTextCheck::Matches(TextMatch::Regex(_))
        ));
        assert!(matches!(
            expect.compile_error,
            NullableTextCheck::MustBeNull
        ));
    }

    #[test]
    fn an_expected_compile_error_skips_solve_checks() {
        let expect = resolve_expected(
            &obj(json!({ "compile_error": { "contains": "unknown module" } })),
            "run-os",
            "project-compile-run",
            Path::new("."),
        )
        .unwrap();
        assert_eq!(expect.exit_code, Some(1));
        assert_eq!(expect.compile_ok, Some(false));
        assert_eq!(expect.solve_ok, None);
        assert!(matches!(expect.trap, NullableTextCheck::Off));
    }

    #[test]
    fn null_turns_a_check_off() {
        let expect = resolve_expected(
            &obj(json!({ "schema_version": null, "world": null, "exit_code": null, "trap": null })),
            "run-os",
            "project-compile-run",
            Path::new("."),
        )
        .unwrap();
        assert_eq!(expect.schema_version, SchemaVersionCheck::Off);
        assert_eq!(expect.world, None);
        assert_eq!(expect.exit_code, None);
        assert!(matches!(expect.trap, NullableTextCheck::Off));
    }

    #[test]
    fn later_layers_win_and_env_merges_per_variable() {
        let fixture = obj(json!({ "solve_fuel": 1, "env": { "X07_A": "1", "B": "1" } }));
        let case = obj(json!({ "solve_fuel": 2, "env": { "B": "2" } }));
        let profile = obj(json!({ "allow_hosts": ["h:1"] }));
        let merged = merge_run(&[&fixture, &case, &profile]);
        let run = resolve_run(
            &merged,
            Path::new("/f"),
            &BTreeMap::from([("C".into(), "c".into())]),
        )
        .unwrap();
        assert_eq!(run.solve_fuel, Some(2));
        assert_eq!(run.allow_hosts, ["h:1"]);
        assert_eq!(run.env["X07_A"], "1");
        assert_eq!(run.env["B"], "2");
        assert_eq!(run.env["C"], "c");
    }

    #[test]
    fn policies_inside_stay_relative_outside_become_absolute() {
        assert_eq!(
            policy_arg(Path::new("/ws/fixtures/a"), "policy.json"),
            PolicyArg::InFixture("policy.json".into())
        );
        assert_eq!(
            policy_arg(Path::new("/ws/fixtures/a"), "../../policies/p.json"),
            PolicyArg::Outside(PathBuf::from("/ws/policies/p.json"))
        );
    }

    #[test]
    fn output_files_are_read_binary_safe() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("out.bin"), [0u8, 255, 10]).unwrap();
        let expect = resolve_expected(
            &obj(json!({ "output": { "file": "out.bin" } })),
            "run-os",
            "project-compile-run",
            dir.path(),
        )
        .unwrap();
        assert_eq!(expect.output.unwrap().bytes, vec![0u8, 255, 10]);
        let error = resolve_expected(
            &obj(json!({ "output": { "file": "missing.bin" } })),
            "run-os",
            "project-compile-run",
            dir.path(),
        )
        .unwrap_err();
        assert!(error.contains("missing.bin"), "{error}");
    }
}
