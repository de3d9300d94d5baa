//! The test manifest `x07.tests_manifest@0.1.0` / `@0.2.0` (`tests/tests.json`), read and
//! checked the way `x07 test` checks it (x07-test notes §1), with the same diagnostic
//! codes, so that what x07 would refuse is reported before anything runs.
//!
//! Two differences, both on purpose: a problem of one entry is that entry's problem only
//! (x07 refuses the whole manifest for it, cargo-x07 runs every other entry on its own),
//! and a missing key or a value of the wrong type in an entry is reported at the key
//! (x07 says `ETEST_MANIFEST_JSON: invalid JSON: missing field …` for the whole file).
//! Unknown keys are ignored, as x07 ignores them.
//!
//! This module only reads the JSON; what the entries name on disk (fixture roots,
//! policies, input files, the entry function) is checked in [`super::project`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Map, Value};

/// `schema_version` of the first manifest version.
pub const MANIFEST_V010: &str = "x07.tests_manifest@0.1.0";
/// `schema_version` of the second manifest version (adds `input_b64` / `input_path`).
pub const MANIFEST_V020: &str = "x07.tests_manifest@0.2.0";

/// The seven worlds a manifest test may name, in x07's order.
pub const WORLDS: [&str; 7] = [
    "solve-pure",
    "solve-fs",
    "solve-rr",
    "solve-kv",
    "solve-full",
    "run-os",
    "run-os-sandboxed",
];

/// The world that runs under a sandbox policy.
pub const SANDBOXED_WORLD: &str = "run-os-sandboxed";

/// Worlds that need a `fixture_root`.
const FIXTURE_WORLDS: [&str; 4] = ["solve-fs", "solve-rr", "solve-kv", "solve-full"];

/// Whether `world` is one of the deterministic `solve-*` worlds.
pub fn is_solve_world(world: &str) -> bool {
    world.starts_with("solve-")
}

/// One problem with a manifest or one of its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestProblem {
    /// x07's diagnostic code for it (`ETEST_WORLD_INVALID`, …); `None` for a rule x07
    /// applies without a recorded code (a missing policy file, a PBT signature mismatch)
    /// or for cargo-x07's own checks (a file outside the copied project).
    pub code: Option<&'static str>,
    /// JSON pointer into the manifest (`/tests/3/world`; empty for the whole file).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl ManifestProblem {
    fn new(code: &'static str, pointer: String, message: impl Into<String>) -> Self {
        ManifestProblem {
            code: Some(code),
            pointer,
            message: message.into(),
        }
    }

    /// A problem found by a rule without an x07 code.
    pub fn uncoded(pointer: String, message: impl Into<String>) -> Self {
        ManifestProblem {
            code: None,
            pointer,
            message: message.into(),
        }
    }
}

/// What a test expects of itself (`expect`, default `pass`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Expect {
    /// The test passes.
    #[default]
    Pass,
    /// The test reports a failed assertion (a trap is still an error).
    Fail,
    /// The test is never compiled or run.
    Skip,
}

impl Expect {
    /// As written in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Pass => "pass",
            Expect::Fail => "fail",
            Expect::Skip => "skip",
        }
    }
}

/// The kind of values a PBT parameter's generator draws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenKind {
    /// `i32` (`min`/`max` optional).
    I32,
    /// `bytes` (`max_len` required).
    Bytes,
}

/// One `pbt.params` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbtParam {
    /// Its name.
    pub name: String,
    /// Its generator kind, when it is a known one.
    pub kind: Option<GenKind>,
}

/// The `pbt` object of a property test.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pbt {
    /// `cases` (x07's default 100).
    pub cases: Option<u64>,
    /// `params`, in order.
    pub params: Vec<PbtParam>,
}

/// One entry of `tests`, as far as it could be read.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Index in the `tests` array.
    pub index: usize,
    /// The id, when it is a non-empty printable-ASCII string that no earlier entry has.
    pub id: Option<String>,
    /// The world, when it is one of [`WORLDS`].
    pub world: Option<String>,
    /// `entry` (`<module>.<function>`), when it is a string containing `.`.
    pub entry: Option<String>,
    /// `expect`.
    pub expect: Expect,
    /// `returns`, when given.
    pub returns: Option<String>,
    /// `timeout_ms`, when given.
    pub timeout_ms: Option<u64>,
    /// `fixture_root`, when given.
    pub fixture_root: Option<String>,
    /// `policy_json`, when given.
    pub policy_json: Option<String>,
    /// `input_path`, when given.
    pub input_path: Option<String>,
    /// `pbt`, when given.
    pub pbt: Option<Pbt>,
    /// The entry exactly as written (what cargo-x07 hands to x07).
    pub raw: Map<String, Value>,
    /// Everything wrong with it, sorted by pointer.
    pub problems: Vec<ManifestProblem>,
}

/// A manifest whose top level is usable.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The file.
    pub path: PathBuf,
    /// Its `schema_version`.
    pub schema_version: String,
    /// Its entries, in file order.
    pub entries: Vec<Entry>,
}

/// Reads and checks a manifest file. `Err` holds the problems that make the whole file
/// unusable (unreadable, not JSON, wrong `schema_version`, no `tests`, empty `tests`).
pub fn read(path: &Path) -> Result<Manifest, Vec<ManifestProblem>> {
    let io_problem = |error: String| {
        vec![ManifestProblem::new(
            "ETEST_MANIFEST_IO",
            String::new(),
            format!("failed to read manifest: {error}"),
        )]
    };
    let bytes =
        crate::fixture::read_regular(path).map_err(|error| io_problem(error.to_string()))?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|error| {
        vec![ManifestProblem::new(
            "ETEST_MANIFEST_JSON",
            String::new(),
            format!("invalid JSON: {error}"),
        )]
    })?;
    parse(path, &value)
}

/// Checks a manifest already parsed as JSON (see [`read`]).
pub fn parse(path: &Path, value: &Value) -> Result<Manifest, Vec<ManifestProblem>> {
    let whole = |code, pointer: &str, message: String| {
        Err(vec![ManifestProblem::new(
            code,
            pointer.to_string(),
            message,
        )])
    };
    let Some(top) = value.as_object() else {
        return whole(
            "ETEST_MANIFEST_JSON",
            "",
            "invalid JSON: the manifest must be a JSON object".into(),
        );
    };
    let schema_version = match top.get("schema_version") {
        None => {
            return whole(
                "ETEST_MANIFEST_JSON",
                "/schema_version",
                "invalid JSON: missing field `schema_version`".into(),
            )
        }
        Some(Value::String(version)) => version.clone(),
        Some(_) => {
            return whole(
                "ETEST_MANIFEST_JSON",
                "/schema_version",
                "invalid JSON: `schema_version` must be a string".into(),
            )
        }
    };
    if schema_version != MANIFEST_V010 && schema_version != MANIFEST_V020 {
        return whole(
            "ETEST_SCHEMA_VERSION",
            "/schema_version",
            format!(
                "schema_version must be {MANIFEST_V010} or {MANIFEST_V020}, got {schema_version}"
            ),
        );
    }
    let tests = match top.get("tests") {
        None => {
            return whole(
                "ETEST_MANIFEST_JSON",
                "/tests",
                "invalid JSON: missing field `tests`".into(),
            )
        }
        Some(Value::Array(tests)) => tests,
        Some(_) => {
            return whole(
                "ETEST_MANIFEST_JSON",
                "/tests",
                "invalid JSON: `tests` must be an array".into(),
            )
        }
    };
    if tests.is_empty() {
        return whole("ETEST_TESTS_EMPTY", "/tests", "tests array is empty".into());
    }
    let v020 = schema_version == MANIFEST_V020;
    let mut first_index: HashMap<String, usize> = HashMap::new();
    let entries = tests
        .iter()
        .enumerate()
        .map(|(index, value)| {
            let mut entry = read_entry(index, value, v020);
            if let Some(id) = entry.id.clone() {
                if let Some(previous) = first_index.get(&id) {
                    entry.problems.push(ManifestProblem::new(
                        "ETEST_ID_DUPLICATE",
                        format!("/tests/{index}/id"),
                        format!("duplicate id: {id} (previous at index {previous})"),
                    ));
                    entry.id = None;
                } else {
                    first_index.insert(id, index);
                }
            }
            entry.problems.sort_by(|a, b| a.pointer.cmp(&b.pointer));
            entry
        })
        .collect();
    Ok(Manifest {
        path: path.to_path_buf(),
        schema_version,
        entries,
    })
}

/// A present, non-null value.
fn given<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|value| !value.is_null())
}

fn read_entry(index: usize, value: &Value, v020: bool) -> Entry {
    let at = |key: &str| format!("/tests/{index}/{key}");
    let mut problems = Vec::new();
    let empty = Map::new();
    let object = match value.as_object() {
        Some(object) => object,
        None => {
            problems.push(ManifestProblem::new(
                "ETEST_MANIFEST_JSON",
                format!("/tests/{index}"),
                "invalid JSON: a test must be a JSON object",
            ));
            &empty
        }
    };
    let mut wrong_type = |key: &str, what: &str| {
        let message = if what.is_empty() {
            format!("invalid JSON: missing field `{key}`")
        } else {
            format!("invalid JSON: `{key}` must be {what}")
        };
        problems.push(ManifestProblem::new(
            "ETEST_MANIFEST_JSON",
            at(key),
            message,
        ));
    };
    let required_string = |key: &str, wrong_type: &mut dyn FnMut(&str, &str)| match object.get(key)
    {
        None if value.is_object() => {
            wrong_type(key, "");
            None
        }
        None => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(_) => {
            wrong_type(key, "a string");
            None
        }
    };
    let optional_string =
        |key: &str, wrong_type: &mut dyn FnMut(&str, &str)| match given(object, key) {
            None => None,
            Some(Value::String(text)) => Some(text.clone()),
            Some(_) => {
                wrong_type(key, "a string");
                None
            }
        };
    let optional_count =
        |key: &str, wrong_type: &mut dyn FnMut(&str, &str)| match given(object, key) {
            None => None,
            Some(value) => match value.as_u64() {
                Some(number) => Some(number),
                None => {
                    wrong_type(key, "a non-negative integer");
                    None
                }
            },
        };

    let raw_id = required_string("id", &mut wrong_type);
    let raw_world = required_string("world", &mut wrong_type);
    let raw_entry = required_string("entry", &mut wrong_type);
    let raw_expect = optional_string("expect", &mut wrong_type);
    let returns = optional_string("returns", &mut wrong_type);
    let timeout_ms = optional_count("timeout_ms", &mut wrong_type);
    let solve_fuel = optional_count("solve_fuel", &mut wrong_type);
    let input_b64 = optional_string("input_b64", &mut wrong_type);
    let input_path = optional_string("input_path", &mut wrong_type);
    let fixture_root = optional_string("fixture_root", &mut wrong_type);
    let policy_json = optional_string("policy_json", &mut wrong_type);
    let pbt_value = given(object, "pbt").cloned();
    let evidence = ["require_runtime_attestation", "sandbox_smoke"]
        .iter()
        .any(|key| given(object, key).is_some_and(|value| value.as_bool() == Some(true)))
        || given(object, "required_capsules")
            .and_then(Value::as_array)
            .is_some_and(|capsules| !capsules.is_empty());

    let id = raw_id.and_then(|id| {
        if id.is_empty() {
            problems.push(ManifestProblem::new(
                "ETEST_ID_EMPTY",
                at("id"),
                "id must be non-empty",
            ));
            None
        } else if !id.bytes().all(|byte| (0x20..=0x7e).contains(&byte)) {
            problems.push(ManifestProblem::new(
                "ETEST_ID_NON_ASCII",
                at("id"),
                "id must be ASCII printable (bytes 0x20-0x7E: no tabs, newlines or non-ASCII)",
            ));
            None
        } else {
            Some(id)
        }
    });
    let world = raw_world.and_then(|world| {
        if WORLDS.contains(&world.as_str()) {
            Some(world)
        } else {
            problems.push(ManifestProblem::new(
                "ETEST_WORLD_INVALID",
                at("world"),
                format!("invalid world: {world} (allowed: {})", WORLDS.join(", ")),
            ));
            None
        }
    });
    let entry = raw_entry.and_then(|entry| {
        if entry.contains('.') {
            Some(entry)
        } else {
            problems.push(ManifestProblem::new(
                "ETEST_ENTRY_INVALID",
                at("entry"),
                format!("entry must contain '.', got: {entry}"),
            ));
            None
        }
    });
    let expect = match raw_expect.as_deref() {
        None | Some("pass") => Expect::Pass,
        Some("fail") => Expect::Fail,
        Some("skip") => Expect::Skip,
        Some(other) => {
            problems.push(ManifestProblem::new(
                "ETEST_EXPECT_INVALID",
                at("expect"),
                format!("invalid expect: {other:?} (allowed: pass, fail, skip)"),
            ));
            Expect::Pass
        }
    };
    if let Some(returns) = &returns {
        if returns != "result_i32" && returns != "bytes_status_v1" {
            problems.push(ManifestProblem::new(
                "ETEST_RETURNS_INVALID",
                at("returns"),
                format!("invalid returns: {returns:?} (allowed: result_i32, bytes_status_v1)"),
            ));
        }
    }
    if timeout_ms == Some(0) {
        problems.push(ManifestProblem::new(
            "ETEST_TIMEOUT_INVALID",
            at("timeout_ms"),
            "timeout_ms must be >= 1",
        ));
    }
    if solve_fuel == Some(0) {
        problems.push(ManifestProblem::new(
            "ETEST_SOLVE_FUEL_INVALID",
            at("solve_fuel"),
            "solve_fuel must be > 0",
        ));
    }

    // Inputs: 0.2.0 only, solve-* only, one of the two, valid base64.
    let has_input = input_b64.is_some() || input_path.is_some();
    if has_input {
        let key = if input_b64.is_some() {
            "input_b64"
        } else {
            "input_path"
        };
        if !v020 {
            problems.push(ManifestProblem::new(
                "ETEST_INPUT_NOT_ALLOWED_V010",
                at(key),
                format!("input_b64/input_path is only allowed in {MANIFEST_V020}"),
            ));
        }
        if let Some(world) = &world {
            if !is_solve_world(world) {
                problems.push(ManifestProblem::new(
                    "ETEST_INPUT_UNSUPPORTED_WORLD",
                    at("world"),
                    format!("input_b64/input_path is not supported for world {world}"),
                ));
            }
        }
        if input_b64.is_some() && input_path.is_some() {
            problems.push(ManifestProblem::new(
                "ETEST_INPUT_CONFLICT",
                at("input_b64"),
                "at most one of input_b64 or input_path may be set",
            ));
        }
        if let Some(b64) = &input_b64 {
            if let Err(error) = base64::engine::general_purpose::STANDARD.decode(b64) {
                problems.push(ManifestProblem::new(
                    "ETEST_INPUT_B64_INVALID",
                    at("input_b64"),
                    format!("invalid base64 input_b64: {error}"),
                ));
            }
        }
    }

    if let Some(world) = &world {
        // fixture_root: required for the fixture worlds, forbidden elsewhere.
        let needs_fixture = FIXTURE_WORLDS.contains(&world.as_str());
        match (&fixture_root, needs_fixture) {
            (None, true) => problems.push(ManifestProblem::new(
                "ETEST_FIXTURE_REQUIRED",
                at("fixture_root"),
                format!("fixture_root is required for {world}"),
            )),
            (Some(_), false) => problems.push(ManifestProblem::new(
                "ETEST_FIXTURE_FORBIDDEN",
                at("fixture_root"),
                format!("fixture_root must not be set for {world}"),
            )),
            (Some(root), true) if !safe_relative(root) => problems.push(ManifestProblem::new(
                "ETEST_FIXTURE_UNSAFE_PATH",
                at("fixture_root"),
                format!("unsafe fixture_root path: expected safe relative path, got {root}"),
            )),
            _ => {}
        }
        // policy_json: required for run-os-sandboxed, forbidden elsewhere.
        let sandboxed = world == SANDBOXED_WORLD;
        match (&policy_json, sandboxed) {
            (None, true) => problems.push(ManifestProblem::new(
                "ETEST_POLICY_REQUIRED",
                at("policy_json"),
                format!("policy_json is required for {SANDBOXED_WORLD}"),
            )),
            (Some(_), false) => problems.push(ManifestProblem::new(
                "ETEST_POLICY_FORBIDDEN",
                at("policy_json"),
                format!("policy_json is only valid for {SANDBOXED_WORLD}"),
            )),
            _ => {}
        }
        if evidence && !sandboxed {
            problems.push(ManifestProblem::new(
                "X07TEST_RUNTIME_ATTEST_REQUIRED",
                at("world"),
                format!("sandbox smoke and runtime attestation evidence are only supported for {SANDBOXED_WORLD} tests"),
            ));
        }
    }

    let pbt = pbt_value.map(|value| read_pbt(index, &value, &world, &returns, &mut problems));

    Entry {
        index,
        id,
        world,
        entry,
        expect,
        returns,
        timeout_ms,
        fixture_root,
        policy_json,
        input_path,
        pbt,
        raw: object.clone(),
        problems,
    }
}

fn read_pbt(
    index: usize,
    value: &Value,
    world: &Option<String>,
    returns: &Option<String>,
    problems: &mut Vec<ManifestProblem>,
) -> Pbt {
    let at = |key: &str| format!("/tests/{index}/{key}");
    let Some(object) = value.as_object() else {
        problems.push(ManifestProblem::new(
            "ETEST_MANIFEST_JSON",
            at("pbt"),
            "invalid JSON: `pbt` must be an object",
        ));
        return Pbt::default();
    };
    if let Some(world) = world {
        if !is_solve_world(world) {
            problems.push(ManifestProblem::new(
                "X07T_EPBT_UNSUPPORTED_WORLD",
                at("world"),
                format!("PBT tests are only supported for deterministic solve worlds, got {world}"),
            ));
        }
    }
    if returns.as_deref() == Some("result_i32") {
        problems.push(ManifestProblem::new(
            "X07T_EPBT_MANIFEST_INVALID",
            at("returns"),
            "PBT tests must use returns=\"bytes_status_v1\"",
        ));
    }
    let mut pbt = Pbt {
        cases: given(object, "cases").and_then(Value::as_u64),
        params: Vec::new(),
    };
    let params = given(object, "params")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if params.is_empty() {
        problems.push(ManifestProblem::new(
            "X07T_EPBT_PARAM_EMPTY",
            at("pbt/params"),
            "pbt.params must be non-empty",
        ));
    }
    for (number, param) in params.iter().enumerate() {
        let pointer = format!("/tests/{index}/pbt/params/{number}");
        let name = param
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let gen = param.get("gen");
        let kind = match gen.and_then(|gen| gen.get("kind")).and_then(Value::as_str) {
            Some("i32") => Some(GenKind::I32),
            Some("bytes") => {
                if gen.and_then(|gen| gen.get("max_len")).is_none() {
                    problems.push(ManifestProblem::uncoded(
                        format!("{pointer}/gen/max_len"),
                        "a bytes generator needs max_len",
                    ));
                }
                Some(GenKind::Bytes)
            }
            other => {
                problems.push(ManifestProblem::uncoded(
                    format!("{pointer}/gen/kind"),
                    format!(
                        "unknown generator kind {} (x07 knows i32 and bytes)",
                        other.map_or("(none)".to_string(), |kind| format!("{kind:?}"))
                    ),
                ));
                None
            }
        };
        pbt.params.push(PbtParam { name, kind });
    }
    pbt
}

/// A relative path without `..`, `\` or a root: what x07 accepts as `fixture_root`.
pub fn safe_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && !Path::new(path).is_absolute()
        && Path::new(path).components().all(|part| {
            matches!(
                part,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems_of(value: Value) -> Vec<(Option<&'static str>, String)> {
        match parse(Path::new("tests.json"), &value) {
            Ok(manifest) => manifest
                .entries
                .into_iter()
                .flat_map(|entry| entry.problems)
                .map(|p| (p.code, p.pointer))
                .collect(),
            Err(problems) => problems.into_iter().map(|p| (p.code, p.pointer)).collect(),
        }
    }

    fn manifest(version: &str, tests: Value) -> Value {
        json!({ "schema_version": version, "tests": tests })
    }

    #[test]
    fn whole_file_problems_use_x07s_codes() {
        assert_eq!(
            problems_of(json!({ "tests": [] })),
            [(Some("ETEST_MANIFEST_JSON"), "/schema_version".into())]
        );
        assert_eq!(
            problems_of(manifest("x07.tests_manifest@9.9.9", json!([]))),
            [(Some("ETEST_SCHEMA_VERSION"), "/schema_version".into())]
        );
        assert_eq!(
            problems_of(manifest(MANIFEST_V020, json!([]))),
            [(Some("ETEST_TESTS_EMPTY"), "/tests".into())]
        );
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "{\"tests\": [\n").unwrap();
        let problems = read(&bad).unwrap_err();
        assert_eq!(problems[0].code, Some("ETEST_MANIFEST_JSON"));
        assert!(problems[0]
            .message
            .starts_with("invalid JSON: EOF while parsing"));
    }

    // The entries of the recorded probe manifests many-errors.json and more-errors.json,
    // with the codes and pointers x07 printed for them.
    #[test]
    fn entry_problems_match_the_recorded_diagnostics() {
        let many = manifest(
            MANIFEST_V020,
            json!([
                { "id": "w", "world": "solve-wasm", "entry": "probe.pass_ok" },
                { "id": "x", "world": "solve-pure", "entry": "probe.pass_ok", "expect": "maybe" },
                { "id": "y", "world": "solve-pure", "entry": "nodot" },
                { "id": "z", "world": "solve-pure", "entry": "probe.pass_ok", "timeout_ms": 0 }
            ]),
        );
        assert_eq!(
            problems_of(many),
            [
                (Some("ETEST_WORLD_INVALID"), "/tests/0/world".into()),
                (Some("ETEST_EXPECT_INVALID"), "/tests/1/expect".into()),
                (Some("ETEST_ENTRY_INVALID"), "/tests/2/entry".into()),
                (Some("ETEST_TIMEOUT_INVALID"), "/tests/3/timeout_ms".into()),
            ]
        );
        let more = manifest(
            MANIFEST_V020,
            json!([
                { "id": "q1", "world": "run-os", "entry": "probe.pass_ok", "input_b64": "YWJj" },
                { "id": "q2", "world": "run-os", "entry": "probe.pass_ok", "require_runtime_attestation": true },
                { "id": "q3", "world": "solve-pure", "entry": "probe.pass_ok", "solve_fuel": 0 },
                { "id": "q4", "world": "solve-pure", "entry": "probe.pass_ok", "input_b64": "YWJj", "input_path": "input-abc.bin" },
                { "id": "q5", "world": "solve-pure", "entry": "probe.pass_ok", "input_b64": "!!" },
                { "id": "q6", "world": "solve-pure", "entry": "probe.pass_ok", "returns": "i32" },
                { "id": "", "world": "solve-pure", "entry": "probe.pass_ok" }
            ]),
        );
        assert_eq!(
            problems_of(more),
            [
                (
                    Some("ETEST_INPUT_UNSUPPORTED_WORLD"),
                    "/tests/0/world".into()
                ),
                (
                    Some("X07TEST_RUNTIME_ATTEST_REQUIRED"),
                    "/tests/1/world".into()
                ),
                (
                    Some("ETEST_SOLVE_FUEL_INVALID"),
                    "/tests/2/solve_fuel".into()
                ),
                (Some("ETEST_INPUT_CONFLICT"), "/tests/3/input_b64".into()),
                (Some("ETEST_INPUT_B64_INVALID"), "/tests/4/input_b64".into()),
                (Some("ETEST_RETURNS_INVALID"), "/tests/5/returns".into()),
                (Some("ETEST_ID_EMPTY"), "/tests/6/id".into()),
            ]
        );
    }

    #[test]
    fn ids_duplicates_versions_policies_and_fixtures() {
        let value = manifest(
            MANIFEST_V010,
            json!([
                { "id": "a/pass", "world": "solve-pure", "entry": "probe.pass_ok" },
                { "id": "a/pass", "world": "solve-pure", "entry": "probe.pass_ok" },
                { "id": "tab\there", "world": "solve-pure", "entry": "probe.pass_ok" },
                { "id": "in", "world": "solve-pure", "entry": "probe.pass_ok", "input_b64": "YWJj" },
                { "id": "sb", "world": "run-os-sandboxed", "entry": "probe.pass_ok" },
                { "id": "os", "world": "run-os", "entry": "probe.pass_ok", "policy_json": "p.json" },
                { "id": "fs", "world": "solve-fs", "entry": "fx.read" },
                { "id": "esc", "world": "solve-fs", "entry": "fx.read", "fixture_root": "../outside" },
                { "id": "pure", "world": "solve-pure", "entry": "fx.read", "fixture_root": "fx" },
                { "world": "solve-pure", "entry": 3 }
            ]),
        );
        let parsed = parse(Path::new("t.json"), &value).unwrap();
        let codes: Vec<Vec<Option<&str>>> = parsed
            .entries
            .iter()
            .map(|entry| entry.problems.iter().map(|p| p.code).collect())
            .collect();
        assert_eq!(
            codes,
            [
                vec![],
                vec![Some("ETEST_ID_DUPLICATE")],
                vec![Some("ETEST_ID_NON_ASCII")],
                vec![Some("ETEST_INPUT_NOT_ALLOWED_V010")],
                vec![Some("ETEST_POLICY_REQUIRED")],
                vec![Some("ETEST_POLICY_FORBIDDEN")],
                vec![Some("ETEST_FIXTURE_REQUIRED")],
                vec![Some("ETEST_FIXTURE_UNSAFE_PATH")],
                vec![Some("ETEST_FIXTURE_FORBIDDEN")],
                vec![Some("ETEST_MANIFEST_JSON"), Some("ETEST_MANIFEST_JSON")],
            ]
        );
        assert_eq!(parsed.entries[0].id.as_deref(), Some("a/pass"));
        assert_eq!(
            parsed.entries[1].id, None,
            "a duplicate is not named by its id"
        );
        assert!(parsed.entries[1].problems[0]
            .message
            .contains("previous at index 0"));
    }

    #[test]
    fn pbt_rules_and_unknown_keys() {
        let value = manifest(
            MANIFEST_V020,
            json!([
                { "id": "p1", "world": "run-os", "entry": "prop.ok", "pbt": { "params": [ { "name": "x", "gen": { "kind": "i32" } } ] } },
                { "id": "p2", "world": "solve-pure", "entry": "prop.ok", "returns": "result_i32", "pbt": { "params": [ { "name": "x", "gen": { "kind": "i32" } } ] } },
                { "id": "p3", "world": "solve-pure", "entry": "prop.ok", "pbt": { "params": [] } },
                { "id": "ok", "world": "solve-pure", "entry": "prop.ok", "timeout": 5, "tags": ["x"],
                  "pbt": { "cases": 50, "params": [ { "name": "b", "gen": { "kind": "bytes", "max_len": 16 } } ] } }
            ]),
        );
        assert_eq!(
            problems_of(value.clone()),
            [
                (Some("X07T_EPBT_UNSUPPORTED_WORLD"), "/tests/0/world".into()),
                (
                    Some("X07T_EPBT_MANIFEST_INVALID"),
                    "/tests/1/returns".into()
                ),
                (Some("X07T_EPBT_PARAM_EMPTY"), "/tests/2/pbt/params".into()),
            ]
        );
        let parsed = parse(Path::new("t.json"), &value).unwrap();
        let pbt = parsed.entries[3].pbt.as_ref().unwrap();
        assert_eq!(pbt.cases, Some(50));
        assert_eq!(pbt.params[0].kind, Some(GenKind::Bytes));
    }

    #[test]
    fn safe_relative_paths() {
        assert!(safe_relative("fx/fs"));
        assert!(safe_relative("./fx"));
        assert!(!safe_relative("../outside"));
        assert!(!safe_relative("fx/../../x"));
        assert!(!safe_relative("/abs"));
        assert!(!safe_relative("a\\b"));
        assert!(!safe_relative(""));
    }
}
