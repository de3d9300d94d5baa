//! Reading a fixture's files: the expectations file `x07test.json`
//! (validated against the `cargo-x07.fixture@0.1.0` schema), the project manifest
//! `x07.json` (profiles → worlds and policies) and `*.smoke.json` smoke suites.
//!
//! The format is documented in `docs/fixture-format.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::Deserialize;
use serde_json::{Map, Value};

/// The `schema_version` every expectations file carries.
pub const FIXTURE_SCHEMA_VERSION: &str = "cargo-x07.fixture@0.1.0";
/// File name of the expectations file inside a fixture directory.
pub const EXPECTATIONS_FILE: &str = "x07test.json";
/// File name of the X07 project manifest that makes a directory a fixture.
pub const PROJECT_FILE: &str = "x07.json";
/// Suffix of smoke-suite files.
pub const SMOKE_SUFFIX: &str = ".smoke.json";
/// The `schema_version` of smoke-suite files.
pub const SMOKE_SCHEMA_VERSION: &str = "x07.smoke_suite@0.1.0";

/// The JSON Schema for expectations files, as shipped in `schemas/`.
pub const FIXTURE_SCHEMA_TEXT: &str = include_str!("../schemas/fixture.schema.json");

/// Why a fixture file could not be read. Clone, so that every case of a broken fixture
/// can carry it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FixtureError {
    /// The file could not be read from disk.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: Arc<std::io::Error>,
    },
    /// The file is not valid JSON, or does not have the expected shape.
    #[error("malformed JSON in {}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error (with line and column).
        source: Arc<serde_json::Error>,
    },
    /// The file starts with a UTF-8 byte-order mark, which JSON does not allow (a
    /// common editor setting on Windows; serde_json rejects it).
    #[error("{} starts with a UTF-8 byte-order mark (EF BB BF), which JSON does not allow; save it without one", path.display())]
    ByteOrderMark {
        /// The file.
        path: PathBuf,
    },
    /// The file is JSON but does not follow its format.
    #[error("{} is not a valid {format} file ({} problem(s))", path.display(), problems.len())]
    Schema {
        /// The file.
        path: PathBuf,
        /// The format it was checked against (`cargo-x07.fixture@0.1.0`, …).
        format: &'static str,
        /// Each violation, with the JSON path where it is.
        problems: Vec<SchemaProblem>,
    },
}

impl FixtureError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            FixtureError::Read { path, .. }
            | FixtureError::Json { path, .. }
            | FixtureError::ByteOrderMark { path }
            | FixtureError::Schema { path, .. } => path,
        }
    }
}

/// One schema violation: where in the document, and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaProblem {
    /// JSON pointer into the document (`/cases/0/name`; `/` for the whole document).
    pub pointer: String,
    /// What is wrong, as the validator says it.
    pub message: String,
}

fn fixture_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(FIXTURE_SCHEMA_TEXT).expect("bundled fixture schema is JSON");
        jsonschema::validator_for(&schema).expect("bundled fixture schema compiles")
    })
}

/// Lists every schema violation of `instance`. A value that matches none of a `oneOf` /
/// `anyOf` is reported through the alternative it came closest to (the one whose type it
/// has, with the fewest violations), so the message points at the field that is wrong
/// instead of quoting the whole value.
pub(crate) fn schema_problems(
    validator: &jsonschema::Validator,
    instance: &Value,
) -> Vec<SchemaProblem> {
    validator
        .iter_errors(instance)
        .flat_map(|error| closest_problems(&error))
        .collect()
}

fn closest_problems(error: &jsonschema::ValidationError<'_>) -> Vec<SchemaProblem> {
    use jsonschema::error::ValidationErrorKind;
    let context = match error.kind() {
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            Some(context)
        }
        _ => None,
    };
    let closest = context.and_then(|branches| {
        branches
            .iter()
            .filter(|branch| {
                !branch.is_empty()
                    && !branch.iter().any(|inner| {
                        matches!(inner.kind(), ValidationErrorKind::Type { .. })
                            && inner.instance_path() == error.instance_path()
                    })
            })
            .min_by_key(|branch| branch.len())
    });
    match closest {
        Some(branch) => branch.iter().flat_map(closest_problems).collect(),
        None => {
            let pointer = error.instance_path().to_string();
            vec![SchemaProblem {
                pointer: if pointer.is_empty() {
                    "/".to_string()
                } else {
                    pointer
                },
                message: error.to_string(),
            }]
        }
    }
}

/// Reads and parses a JSON file (bounded, never from a device: a fixture file that is a
/// symlink to `/dev/zero` fails its fixture instead of exhausting the harness's memory).
pub fn read_json(path: &Path) -> Result<Value, FixtureError> {
    let bytes = read_bytes(path)?;
    serde_json::from_slice(&bytes).map_err(|source| json_error(path, &bytes, source))
}

/// Reads and parses an expectations file (`x07test.json`). Unlike [`read_json`] a key
/// that appears twice in one object is an error: serde_json would keep the last one and
/// silently drop the other (a second `"expect"` block, a second `"output"`), so a case
/// would check less than its author wrote.
pub fn read_expectations_json(path: &Path) -> Result<Value, FixtureError> {
    let bytes = read_bytes(path)?;
    serde_json::from_slice::<UniqueKeys>(&bytes)
        .map(|value| value.0)
        .map_err(|source| json_error(path, &bytes, source))
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, FixtureError> {
    read_regular(path).map_err(|source| FixtureError::Read {
        path: path.to_path_buf(),
        source: Arc::new(source),
    })
}

/// Reads a file that must be a regular one, bounded as the runner reads sources
/// ([`x07_lite::project::read_source_file`]): a FIFO, socket or device is an
/// `InvalidInput` error, "not a regular file" (reading a FIFO named like a fixture file
/// would block the run for ever). A directory still gets the operating system's own
/// error.
pub fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() && !metadata.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    x07_lite::project::read_source_file(path)
}

/// A JSON value parsed with every object's keys checked for repeats.
struct UniqueKeys(Value);

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(UniqueKeysVisitor)
            .map(UniqueKeys)
    }
}

struct UniqueKeysVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueKeysVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a JSON value")
    }
    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }
    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }
    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }
    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }
    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(UniqueKeys(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format_args!(
                    "the key {key:?} appears twice in one object (only one of them would be used)"
                )));
            }
            let UniqueKeys(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

fn json_error(path: &Path, bytes: &[u8], source: serde_json::Error) -> FixtureError {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return FixtureError::ByteOrderMark {
            path: path.to_path_buf(),
        };
    }
    FixtureError::Json {
        path: path.to_path_buf(),
        source: Arc::new(source),
    }
}

/// One `x07test.json`, validated. `run` and `expect` blocks stay JSON objects
/// until the planner has merged every level (fixture < case < profile).
#[derive(Debug, Clone, Deserialize)]
pub struct ExpectationsFile {
    /// Always [`FIXTURE_SCHEMA_VERSION`].
    pub schema_version: String,
    /// One line saying what the fixture proves.
    #[serde(default)]
    pub description: Option<String>,
    /// Profiles to run; `None` means the configured ones that `x07.json` declares.
    #[serde(default)]
    pub profiles: Option<Vec<String>>,
    /// Per-case timeout for every case.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// When set, every case is ignored with this reason.
    #[serde(default)]
    pub ignore: Option<String>,
    /// Run options for every case.
    #[serde(default)]
    pub run: Map<String, Value>,
    /// Expectations for every case and profile.
    #[serde(default)]
    pub expect: Map<String, Value>,
    /// The cases; `None` means one case named `default`.
    #[serde(default)]
    pub cases: Option<Vec<CaseSpec>>,
}

/// One entry of `cases` in an expectations file.
#[derive(Debug, Clone, Deserialize)]
pub struct CaseSpec {
    /// The case name (`[A-Za-z0-9_.-]+`).
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// The program's input.
    #[serde(default)]
    pub input: Option<InputSpec>,
    /// Overrides the fixture's timeout.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Ignore this case (every profile) with this reason.
    #[serde(default)]
    pub ignore: Option<String>,
    /// Run options merged over the fixture's.
    #[serde(default)]
    pub run: Map<String, Value>,
    /// Expectations merged over the fixture's.
    #[serde(default)]
    pub expect: Map<String, Value>,
    /// Per-profile overrides, merged last.
    #[serde(default)]
    pub by_profile: BTreeMap<String, ProfileOverride>,
}

/// `by_profile.<profile>` of a case.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProfileOverride {
    /// Run options for this profile only.
    #[serde(default)]
    pub run: Map<String, Value>,
    /// Expectations for this profile only.
    #[serde(default)]
    pub expect: Map<String, Value>,
    /// Ignore this case under this profile, with this reason.
    #[serde(default)]
    pub ignore: Option<String>,
}

/// The input of a case as written (exactly one key is set; the schema checks it).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct InputSpec {
    /// UTF-8 text.
    #[serde(default)]
    pub text: Option<String>,
    /// Base64 bytes.
    #[serde(default)]
    pub b64: Option<String>,
    /// A file relative to the fixture directory.
    #[serde(default)]
    pub file: Option<String>,
    /// argv_v1 arguments.
    #[serde(default)]
    pub argv: Option<Vec<String>>,
}

/// The four input kinds of `x07 run`; each maps to one input flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Bytes passed as `--input-b64` (from `text` or `b64`).
    Bytes(Vec<u8>),
    /// A file passed as `--input`, relative to the fixture directory.
    File(String),
    /// Arguments passed after `--` (the program sees argv_v1).
    Argv(Vec<String>),
}

impl InputSpec {
    /// Converts the written form into an [`Input`]; errors on bad base64.
    pub fn to_input(&self) -> Result<Input, String> {
        use base64::Engine as _;
        if let Some(text) = &self.text {
            Ok(Input::Bytes(text.as_bytes().to_vec()))
        } else if let Some(b64) = &self.b64 {
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map(Input::Bytes)
                .map_err(|error| format!("input.b64 is not valid base64: {error}"))
        } else if let Some(file) = &self.file {
            Ok(Input::File(file.clone()))
        } else if let Some(argv) = &self.argv {
            Ok(Input::Argv(argv.clone()))
        } else {
            Err("input must have one of text, b64, file, argv".to_string())
        }
    }
}

/// Reads and validates an expectations file.
pub fn read_expectations(path: &Path) -> Result<ExpectationsFile, FixtureError> {
    validate_expectations(path, read_expectations_json(path)?)
}

/// Validates a parsed expectations file (schema, then unique case names).
pub fn validate_expectations(path: &Path, value: Value) -> Result<ExpectationsFile, FixtureError> {
    let schema_error = |problems| FixtureError::Schema {
        path: path.to_path_buf(),
        format: FIXTURE_SCHEMA_VERSION,
        problems,
    };
    let problems = schema_problems(fixture_validator(), &value);
    if !problems.is_empty() {
        return Err(schema_error(problems));
    }
    let file: ExpectationsFile = typed(path, value, FIXTURE_SCHEMA_VERSION)?;
    let mut seen = std::collections::BTreeSet::new();
    for (index, case) in file.cases.iter().flatten().enumerate() {
        if !seen.insert(case.name.as_str()) {
            return Err(schema_error(vec![SchemaProblem {
                pointer: format!("/cases/{index}/name"),
                message: format!("case name {:?} is used twice", case.name),
            }]));
        }
    }
    Ok(file)
}

/// The test names an expectations file gives, read as leniently as possible so that a
/// file with a mistake keeps its cases' names (each case then fails with the mistake):
/// the `profiles` list when it is a list of strings, and the `name` of every entry of
/// `cases` that has one (first use wins). `None` for the names means one case `default`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseLayout {
    /// `profiles`, when given as a list of strings.
    pub profiles: Option<Vec<String>>,
    /// Case names in file order; empty means the one case `default`.
    pub case_names: Vec<String>,
}

impl CaseLayout {
    /// Reads the layout of a parsed expectations file.
    pub fn of(value: &Value) -> CaseLayout {
        let strings = |value: &Value| -> Option<Vec<String>> {
            value
                .as_array()?
                .iter()
                .map(|item| item.as_str().map(str::to_string))
                .collect()
        };
        // Each name once (a repeat is a schema error; two tests of one name are not).
        let profiles = value.get("profiles").and_then(strings).map(|listed| {
            let mut unique: Vec<String> = Vec::new();
            for name in listed {
                if !unique.contains(&name) {
                    unique.push(name);
                }
            }
            unique
        });
        let mut case_names: Vec<String> = Vec::new();
        for case in value
            .get("cases")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = case.get("name").and_then(Value::as_str) {
                if !name.is_empty() && !case_names.iter().any(|seen| seen == name) {
                    case_names.push(name.to_string());
                }
            }
        }
        CaseLayout {
            profiles,
            case_names,
        }
    }
}

/// The parts of an X07 project manifest (`x07.json`) that cargo-x07 needs.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProjectManifest {
    /// The project's world when it has no profiles.
    #[serde(default)]
    pub world: Option<String>,
    /// Declared profiles, by name.
    #[serde(default)]
    pub profiles: Option<BTreeMap<String, ProfileDecl>>,
}

/// One profile declared in `x07.json`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProfileDecl {
    /// `run-os`, `run-os-sandboxed`, …
    #[serde(default)]
    pub world: Option<String>,
    /// Sandbox policy path, relative to the project root.
    #[serde(default)]
    pub policy: Option<String>,
}

/// Reads `x07.json`.
pub fn read_project(path: &Path) -> Result<ProjectManifest, FixtureError> {
    typed(path, read_json(path)?, "x07.project")
}

/// `value` as a `T`; a wrong type is a [`FixtureError::Schema`] problem at the JSON
/// pointer of the value (well-formed JSON is not "malformed").
fn typed<T: serde::de::DeserializeOwned>(
    path: &Path,
    value: Value,
    format: &'static str,
) -> Result<T, FixtureError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        use serde_path_to_error::Segment;
        let pointer: String = error
            .path()
            .iter()
            .map(|segment| match segment {
                Segment::Seq { index } => format!("/{index}"),
                Segment::Map { key } | Segment::Enum { variant: key } => {
                    format!("/{}", key.replace('~', "~0").replace('/', "~1"))
                }
                Segment::Unknown => "/?".into(),
            })
            .collect();
        FixtureError::Schema {
            path: path.to_path_buf(),
            format,
            problems: vec![SchemaProblem {
                pointer: if pointer.is_empty() {
                    "/".into()
                } else {
                    pointer
                },
                message: error.into_inner().to_string(),
            }],
        }
    })
}

/// One `x07.smoke_suite@0.1.0` file.
#[derive(Debug, Clone, Deserialize)]
pub struct SmokeSuite {
    /// Always [`SMOKE_SCHEMA_VERSION`].
    pub schema_version: String,
    /// A readable id.
    #[serde(default)]
    pub suite_id: Option<String>,
    /// `run-os`, `run-os-sandboxed` or a `solve-*` world.
    pub world: String,
    /// Entry program, relative to the smoke root.
    pub program_x07json: String,
    /// Sandbox policy, relative to the smoke root.
    #[serde(default)]
    pub policy_json: Option<String>,
    /// The cases.
    pub cases: Vec<SmokeCase>,
}

/// One case of a smoke suite.
#[derive(Debug, Clone, Deserialize)]
pub struct SmokeCase {
    /// Case name.
    pub name: String,
    /// Input bytes (base64, may be empty).
    #[serde(default)]
    pub input_b64: String,
    /// Expected output bytes (base64).
    pub expected_b64: String,
}

/// Reads a smoke-suite file and checks its `schema_version`.
pub fn read_smoke_suite(path: &Path) -> Result<SmokeSuite, FixtureError> {
    let value = read_json(path)?;
    let suite: SmokeSuite = typed(path, value, SMOKE_SCHEMA_VERSION)?;
    if suite.schema_version != SMOKE_SCHEMA_VERSION {
        return Err(FixtureError::Schema {
            path: path.to_path_buf(),
            format: SMOKE_SCHEMA_VERSION,
            problems: vec![SchemaProblem {
                pointer: "/schema_version".into(),
                message: format!(
                    "expected {SMOKE_SCHEMA_VERSION:?}, got {:?}",
                    suite.schema_version
                ),
            }],
        });
    }
    Ok(suite)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn reads_the_documented_example() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "x07test.json",
            r#"{
              "schema_version": "cargo-x07.fixture@0.1.0",
              "description": "Reads data.txt from inside the read root",
              "profiles": ["os", "sandbox"],
              "timeout_ms": 20000,
              "run": { "solve_fuel": 100000 },
              "expect": { "output": { "text": "DATA" } },
              "cases": [
                { "name": "plain", "input": { "text": "data.txt" } },
                { "name": "hidden", "input": { "text": ".hidden.txt" },
                  "by_profile": { "sandbox": { "expect": { "trap": "os.fs.read_file hidden path denied" } } } }
              ]
            }"#,
        );
        let file = read_expectations(&path).unwrap();
        let cases = file.cases.unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(
            cases[0].input.as_ref().unwrap().to_input().unwrap(),
            Input::Bytes(b"data.txt".to_vec())
        );
        assert!(cases[1].by_profile.contains_key("sandbox"));
    }

    #[test]
    fn malformed_json_names_the_file_and_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "x07test.json", "{ \"schema_version\": ");
        let error = read_expectations(&path).unwrap_err().to_string();
        assert!(error.contains("malformed JSON in"), "{error}");
        assert!(error.contains("x07test.json"), "{error}");
        assert!(error.contains("line 1"), "{error}");
    }

    #[test]
    fn schema_violations_are_listed_with_pointers() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "x07test.json",
            r#"{ "schema_version": "cargo-x07.fixture@0.1.0",
                 "cases": [ { "name": "bad name!", "input": { "text": "a", "b64": "YQ==" } } ],
                 "expect": { "exitcode": 1 } }"#,
        );
        let FixtureError::Schema { problems, .. } = read_expectations(&path).unwrap_err() else {
            panic!("a schema error")
        };
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert!(pointers.contains(&"/cases/0/name"), "{pointers:?}");
        assert!(pointers.contains(&"/cases/0/input"), "{pointers:?}");
        assert!(pointers.contains(&"/expect"), "{pointers:?}");
    }

    #[test]
    fn duplicate_case_names_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "x07test.json",
            r#"{ "schema_version": "cargo-x07.fixture@0.1.0",
                 "cases": [ { "name": "a" }, { "name": "a" } ] }"#,
        );
        let FixtureError::Schema { problems, .. } = read_expectations(&path).unwrap_err() else {
            panic!("a schema error")
        };
        assert_eq!(problems[0].pointer, "/cases/1/name");
        assert!(problems[0].message.contains("used twice"));
    }

    #[test]
    fn a_broken_file_keeps_the_case_names_it_has() {
        let layout = CaseLayout::of(&serde_json::json!({
            "profiles": ["os"],
            "cases": [{ "name": "a" }, { "nome": "b" }, { "name": "a" }, { "name": "c", "expect": 5 }]
        }));
        assert_eq!(layout.profiles, Some(vec!["os".to_string()]));
        assert_eq!(layout.case_names, ["a", "c"]);
        assert_eq!(
            CaseLayout::of(&serde_json::json!({ "profiles": "os" })),
            CaseLayout::default()
        );
    }

    #[test]
    fn smoke_suites_need_their_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "a.smoke.json",
            r#"{ "schema_version": "x07.smoke_suite@0.2.0", "world": "run-os",
                 "program_x07json": "p.x07.json", "cases": [] }"#,
        );
        assert!(read_smoke_suite(&path).is_err());
    }
}
