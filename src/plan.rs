//! Planning: expand each discovered fixture into runnable cases
//! (fixture × case × profile), merging `run` and `expect` blocks
//! (built-in defaults < fixture < case < `by_profile`) and resolving
//! every default, so the runner and the checker need no fixture knowledge.
//!
//! A fixture whose files cannot be read still yields its cases, each carrying
//! the reason as [`PlannedCase::problem`], so one broken fixture fails only
//! its own cases.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::config::{SandboxBackend, Settings, WorkspaceConfig};
use crate::discover::{FixtureKind, FixtureLocation};
use crate::fixture::{self, Input, EXPECTATIONS_FILE, PROJECT_FILE};
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
}

/// A `--policy` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyArg {
    /// A path inside the fixture, relative to it (resolved by x07 against the project root).
    InFixture(String),
    /// A path outside the fixture, passed absolute.
    Outside(PathBuf),
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
    /// `text`, `b64` or `file <path>`: what a message says they came from.
    pub origin: String,
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
    /// Why the case cannot run (broken fixture file, missing policy); it then fails with this text.
    pub problem: Option<String>,
    /// Sandbox backend for sandboxed worlds.
    pub sandbox_backend: SandboxBackend,
}

/// Plans every case of every fixture, in fixture order.
pub fn plan_all(workspace: &WorkspaceConfig, fixtures: &[FixtureLocation]) -> Vec<PlannedCase> {
    fixtures
        .iter()
        .flat_map(|location| plan_fixture(workspace, location))
        .collect()
}

/// Plans the cases of one fixture.
pub fn plan_fixture(workspace: &WorkspaceConfig, location: &FixtureLocation) -> Vec<PlannedCase> {
    let settings = &workspace.packages[location.package].settings;
    match location.kind {
        FixtureKind::Project => plan_project(location, settings),
        FixtureKind::SmokeSuite => plan_smoke(location, settings),
    }
}

struct ProfileInfo {
    name: String,
    world: String,
    /// `None` when x07.json has no profiles (no `--profile` flag).
    flag: Option<String>,
    policy: Option<String>,
}

fn project_profiles(
    manifest: &fixture::ProjectManifest,
    wanted: Option<&[String]>,
    settings: &Settings,
) -> (Vec<ProfileInfo>, Vec<String>) {
    let mut problems = Vec::new();
    let Some(declared) = &manifest.profiles else {
        let world = manifest.world.clone().unwrap_or_else(|| "run-os".into());
        return (
            vec![ProfileInfo {
                name: world.clone(),
                world,
                flag: None,
                policy: None,
            }],
            problems,
        );
    };
    let names: Vec<String> = match wanted {
        Some(list) => list.to_vec(),
        None => settings
            .profiles
            .iter()
            .filter(|name| declared.contains_key(name.as_str()))
            .cloned()
            .collect(),
    };
    let profiles = names
        .into_iter()
        .map(|name| {
            let decl = declared.get(&name);
            if decl.is_none() {
                problems.push(format!(
                    "profile `{name}` is listed in {EXPECTATIONS_FILE} but not declared in {PROJECT_FILE}"
                ));
            }
            let world = decl
                .and_then(|decl| decl.world.clone())
                .or_else(|| manifest.world.clone())
                .unwrap_or_else(|| "run-os".into());
            ProfileInfo {
                world,
                flag: Some(name.clone()),
                policy: decl.and_then(|decl| decl.policy.clone()),
                name,
            }
        })
        .collect();
    (profiles, problems)
}

fn plan_project(location: &FixtureLocation, settings: &Settings) -> Vec<PlannedCase> {
    let dir = &location.path;
    let manifest_path = dir.join(PROJECT_FILE);
    let expectations_path = dir.join(EXPECTATIONS_FILE);
    let (manifest, manifest_problem) = match fixture::read_project(&manifest_path) {
        Ok(manifest) => (manifest, None),
        Err(error) => (fixture::ProjectManifest::default(), Some(error.to_string())),
    };
    let (file, file_problem) = if expectations_path.is_file() {
        match fixture::read_expectations(&expectations_path) {
            Ok(file) => (Some(file), None),
            Err(error) => (None, Some(error.to_string())),
        }
    } else {
        (None, None)
    };
    let source_file = if expectations_path.is_file() {
        expectations_path.clone()
    } else {
        manifest_path.clone()
    };

    let (profiles, profile_problems) = if manifest_problem.is_some() {
        let profiles = settings
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
            })
            .collect();
        (profiles, Vec::new())
    } else {
        project_profiles(
            &manifest,
            file.as_ref().and_then(|file| file.profiles.as_deref()),
            settings,
        )
    };
    let fixture_problem = manifest_problem.or(file_problem);

    let default_case = fixture::CaseSpec {
        name: "default".into(),
        description: None,
        input: None,
        timeout_ms: None,
        ignore: None,
        run: Map::new(),
        expect: Map::new(),
        by_profile: BTreeMap::new(),
    };
    let cases: Vec<fixture::CaseSpec> = match file.as_ref().and_then(|file| file.cases.clone()) {
        Some(cases) if !cases.is_empty() => cases,
        _ => vec![default_case],
    };
    let empty = Map::new();
    let (fixture_run, fixture_expect) = match &file {
        Some(file) => (&file.run, &file.expect),
        None => (&empty, &empty),
    };

    let mut planned = Vec::new();
    for case in &cases {
        for profile in &profiles {
            let overrides = case.by_profile.get(&profile.name);
            let run_map = merge_run(&[
                fixture_run,
                &case.run,
                overrides.map(|o| &o.run).unwrap_or(&empty),
            ]);
            let expect_map = merge_objects(&[
                fixture_expect,
                &case.expect,
                overrides.map(|o| &o.expect).unwrap_or(&empty),
            ]);
            let mut problems: Vec<String> = fixture_problem.iter().cloned().collect();
            problems.extend(profile_problems.iter().cloned());

            let run = match resolve_run(&run_map, dir, &settings.env) {
                Ok(run) => run,
                Err(problem) => {
                    problems.push(format!("{}: {problem}", source_file.display()));
                    RunOptions::default()
                }
            };
            if run.policy.is_none() && profile.world == SANDBOX_WORLD {
                if let Some(policy) = &profile.policy {
                    if !dir.join(policy).is_file() {
                        problems.push(format!(
                            "missing policy file {} (named by profiles.{}.policy in {})",
                            dir.join(policy).display(),
                            profile.name,
                            manifest_path.display()
                        ));
                    }
                }
            }
            if let Some(policy) = &run.policy {
                let path = match policy {
                    PolicyArg::InFixture(relative) => dir.join(relative),
                    PolicyArg::Outside(path) => path.clone(),
                };
                if !path.is_file() {
                    problems.push(format!(
                        "missing policy file {} (named by run.policy in {})",
                        path.display(),
                        source_file.display()
                    ));
                }
            }
            let input = match case.input.as_ref().map(|input| input.to_input()) {
                None => None,
                Some(Ok(input)) => Some(input),
                Some(Err(problem)) => {
                    problems.push(format!(
                        "{}: case {}: {problem}",
                        source_file.display(),
                        case.name
                    ));
                    None
                }
            };
            if let Some(Input::File(file)) = &input {
                if !dir.join(file).is_file() {
                    problems.push(format!(
                        "missing input file {} (named by case {} in {})",
                        dir.join(file).display(),
                        case.name,
                        source_file.display()
                    ));
                }
            }
            let expect =
                match resolve_expected(&expect_map, &profile.world, "project-compile-run", dir) {
                    Ok(expect) => expect,
                    Err(problem) => {
                        problems.push(format!("{}: {problem}", source_file.display()));
                        resolve_expected(&Map::new(), &profile.world, "project-compile-run", dir)
                            .expect("defaults resolve")
                    }
                };
            let ignore = overrides
                .and_then(|o| o.ignore.clone())
                .or_else(|| case.ignore.clone())
                .or_else(|| file.as_ref().and_then(|file| file.ignore.clone()));
            let timeout_ms = case
                .timeout_ms
                .or_else(|| file.as_ref().and_then(|file| file.timeout_ms))
                .unwrap_or(settings.timeout_ms);
            planned.push(PlannedCase {
                id: CaseId {
                    fixture: location.name.clone(),
                    case: case.name.clone(),
                    profile: profile.name.clone(),
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
                problem: if problems.is_empty() {
                    None
                } else {
                    Some(problems.join("\n"))
                },
                sandbox_backend: settings.sandbox_backend,
            });
        }
    }
    planned
}

fn plan_smoke(location: &FixtureLocation, settings: &Settings) -> Vec<PlannedCase> {
    let file = &location.path;
    let dir = file.parent().unwrap_or(Path::new(".")).to_path_buf();
    let suite = match fixture::read_smoke_suite(file) {
        Ok(suite) => suite,
        Err(error) => {
            return vec![PlannedCase {
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
                fixture_dir: dir,
                description: None,
                problem: Some(error.to_string()),
                sandbox_backend: settings.sandbox_backend,
            }];
        }
    };
    let program = settings.smoke_root.join(&suite.program_x07json);
    let policy = suite
        .policy_json
        .as_ref()
        .map(|policy| settings.smoke_root.join(policy));
    suite
        .cases
        .iter()
        .enumerate()
        .map(|(index, case)| {
            let mut problems = Vec::new();
            if !program.is_file() {
                problems.push(format!(
                    "missing program {} (program_x07json in {}, relative to smoke_root {})",
                    program.display(),
                    file.display(),
                    settings.smoke_root.display()
                ));
            }
            if let Some(policy) = &policy {
                if !policy.is_file() {
                    problems.push(format!(
                        "missing policy file {} (policy_json in {})",
                        policy.display(),
                        file.display()
                    ));
                }
            }
            let engine = base64::engine::general_purpose::STANDARD;
            let input = match engine.decode(&case.input_b64) {
                Ok(bytes) => Some(Input::Bytes(bytes)),
                Err(error) => {
                    problems.push(format!("case {}: input_b64 is not base64: {error}", case.name));
                    None
                }
            };
            let expected = match engine.decode(&case.expected_b64) {
                Ok(bytes) => Some(bytes),
                Err(error) => {
                    problems.push(format!(
                        "case {}: expected_b64 is not base64: {error}",
                        case.name
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
                    case: case.name.clone(),
                    profile: suite.world.clone(),
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
                problem: if problems.is_empty() {
                    None
                } else {
                    Some(problems.join("\n"))
                },
                sandbox_backend: settings.sandbox_backend,
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
            origin: "expected_b64".into(),
        }),
        trap: NullableTextCheck::Off,
        compile_error: NullableTextCheck::Off,
        stderr: None,
        solve_stderr: None,
    }
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

/// Resolves merged expectations against the built-in defaults (see docs/fixture-format.md).
pub fn resolve_expected(
    map: &Map<String, Value>,
    world: &str,
    default_mode: &str,
    fixture_dir: &Path,
) -> Result<Expected, String> {
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
        Some(value) => Some(expected_bytes(value, fixture_dir)?),
    };
    let nullable = |key: &str, must_be_null: bool| -> Result<NullableTextCheck, String> {
        Ok(match tri(map, key) {
            None if must_be_null => NullableTextCheck::MustBeNull,
            None | Some(None) => NullableTextCheck::Off,
            Some(Some(value)) => NullableTextCheck::Matches(text_match(value, key)?),
        })
    };
    let optional_text = |key: &str| -> Result<Option<TextMatch>, String> {
        tri(map, key)
            .flatten()
            .map(|value| text_match(value, key))
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

fn expected_bytes(value: &Value, fixture_dir: &Path) -> Result<ExpectedOutput, String> {
    if let Some(text) = value.get("text").and_then(Value::as_str) {
        return Ok(ExpectedOutput {
            bytes: text.as_bytes().to_vec(),
            origin: "text".into(),
        });
    }
    if let Some(b64) = value.get("b64").and_then(Value::as_str) {
        return base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map(|bytes| ExpectedOutput {
                bytes,
                origin: "b64".into(),
            })
            .map_err(|error| format!("expect.output.b64 is not valid base64: {error}"));
    }
    if let Some(file) = value.get("file").and_then(Value::as_str) {
        let path = fixture_dir.join(file);
        return std::fs::read(&path)
            .map(|bytes| ExpectedOutput {
                bytes,
                origin: format!("file {file}"),
            })
            .map_err(|error| {
                format!(
                    "cannot read expected output file {} (expect.output.file): {error}",
                    path.display()
                )
            });
    }
    Err("expect.output must have one of text, b64, file".into())
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
