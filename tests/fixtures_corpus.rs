//! The bundled fixture corpus: its shape (every fixture an X07 project with an `os` and a
//! `sandbox` profile, its policy inside the fixture, a lockfile, a one-line description,
//! every referenced file present), the coverage the project promises, and
//! `fixtures/README.md`, which is generated from the expectations files.
//!
//! After adding or changing fixtures, regenerate the README with
//! `UPDATE_FIXTURES_README=1 cargo test --test fixtures_corpus`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures_root() -> PathBuf {
    workspace().join("fixtures")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One fixture: its path relative to `fixtures/` (with `/`), its directory and files.
struct Fixture {
    rel: String,
    dir: PathBuf,
    manifest: Value,
    expectations: Value,
}

impl Fixture {
    fn area(&self) -> &str {
        self.rel.split('/').next().unwrap()
    }
    fn cases(&self) -> Vec<Value> {
        match self.expectations["cases"].as_array() {
            Some(cases) => cases.clone(),
            None => vec![serde_json::json!({ "name": "default" })],
        }
    }
    fn description(&self) -> &str {
        self.expectations["description"].as_str().unwrap_or("")
    }
}

fn fixtures() -> Vec<Fixture> {
    let root = fixtures_root();
    let mut dirs = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        if dir.join("x07.json").is_file() {
            dirs.push(dir.clone());
            continue;
        }
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    dirs.sort();
    dirs.into_iter()
        .map(|dir| {
            let rel = dir
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let expectations = if dir.join("x07test.json").is_file() {
                read_json(&dir.join("x07test.json"))
            } else {
                Value::Null
            };
            Fixture {
                rel,
                manifest: read_json(&dir.join("x07.json")),
                expectations,
                dir,
            }
        })
        .collect()
}

fn smoke_suites() -> Vec<(String, Value)> {
    let dir = fixtures_root().join("smoke");
    let mut suites: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".smoke.json"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                read_json(&p),
            )
        })
        .collect();
    suites.sort_by(|a, b| a.0.cmp(&b.0));
    suites
}

/// Every value under `key` anywhere in `value` (e.g. all `input` objects of all cases).
fn collect<'a>(value: &'a Value, key: &str, out: &mut Vec<&'a Value>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == key {
                    out.push(v);
                }
                collect(v, key, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, key, out)),
        _ => {}
    }
}

fn area_title(area: &str) -> &'static str {
    match area {
        "core" => "Pure computation: core forms, i32 edge cases, bytes/views/vec_u8, option/result",
        "semantics" => "Language rules the subset notes do not state: statement/value positions, moves in loops, the optimizer's visible effects, exact fuel",
        "std" => "std.* functions",
        "binary" => "Binary (non-UTF-8) input and output",
        "input" => "Input kinds",
        "projects" => "Project layout: module roots, profile input, reachability, working directory",
        "env" => "Environment",
        "time" => "Time",
        "fs" => "Files inside the policy roots",
        "process" => "Child processes",
        "deny" => "Sandbox denials (run-os succeeds, run-os-sandboxed fails closed)",
        "traps" => "Traps and resource limits",
        "compile-errors" => "Compile errors (expected failures)",
        "derived" => "Derived-policy flags (--allow-host, --deny-host, --allow-read-root, --allow-write-root)",
        "lang-engine" => "Language rules of the real compiler: statement/value positions, moves, the optimizer's visible effects, fuel, recursion",
        "manifests" => "Projects with their own `x07 test` manifest (`tests/tests.json`)",
        "audit" => "Demonstrations of `cargo x07 audit` and `cargo x07 test --differential`",
        _ => "Other",
    }
}

const AREA_ORDER: [&str; 17] = [
    "core",
    "semantics",
    "std",
    "binary",
    "input",
    "projects",
    "env",
    "time",
    "fs",
    "process",
    "deny",
    "traps",
    "compile-errors",
    "derived",
    "lang-engine",
    "manifests",
    "audit",
];

fn render_readme() -> String {
    let all = fixtures();
    let mut by_area: BTreeMap<String, Vec<&Fixture>> = BTreeMap::new();
    for f in &all {
        by_area.entry(f.area().to_string()).or_default().push(f);
    }
    let total_cases: usize = all.iter().map(|f| f.cases().len()).sum();
    let mut s = String::new();
    s.push_str("# Fixtures\n\n");
    s.push_str("Each directory below is an X07 project (`x07.json`, `x07.lock.json`, sources, a sandbox `policy.json`)\n");
    s.push_str("with an expectations file `x07test.json` in the format of [docs/fixture-format.md](../docs/fixture-format.md).\n");
    s.push_str("Every case runs under the profile `os` (world `run-os`) and the profile `sandbox` (world `run-os-sandboxed`).\n");
    s.push_str("The expectations are what the real x07 0.2.17 does according to the recorded facts (probe reports, the\n");
    s.push_str("OS-builtins probe matrix, the conformance examples C01–C50 of the X07 subset notes and the verified rules\n");
    s.push_str("R1–R24 of the semantics notes), not what the embedded runner prints. Programs are recorded probe or\n");
    s.push_str("conformance programs, or are built only from forms and rules those notes verify; compilation and pure\n");
    s.push_str("computation do not depend on the world, and OS builtins in the sandbox follow the recorded policy rows.\n");
    s.push_str("Where an outcome is carried over from a recording in the other world or with another limit, the description\n");
    s.push_str("says so. `tests/fixtures_facts.rs` checks every case that repeats a recording against it. The sandbox\n");
    s.push_str("policies are copies of files in [`policies/`](../policies), whose `notes` say what each allows.\n\n");
    let manifests = test_manifests();
    let manifest_tests: usize = manifests
        .iter()
        .map(|(_, m)| m["tests"].as_array().unwrap().len())
        .sum();
    s.push_str(&format!(
        "{} fixtures, {} cases, {} test cases with both profiles; plus {} smoke suites and {} `x07 test` \
         manifest(s) with {} tests.\n\n",
        all.len(),
        total_cases,
        total_cases * 2,
        smoke_suites().len(),
        manifests.len(),
        manifest_tests
    ));
    s.push_str("This file is generated by `tests/fixtures_corpus.rs`; regenerate it with\n`UPDATE_FIXTURES_README=1 cargo test --test fixtures_corpus`.\n");
    let mut areas: Vec<&String> = by_area.keys().collect();
    areas.sort_by_key(|a| AREA_ORDER.iter().position(|o| o == a).unwrap_or(usize::MAX));
    for area in areas {
        let list = &by_area[area];
        s.push_str(&format!(
            "\n## `{area}/` — {} ({})\n\n",
            area_title(area),
            list.len()
        ));
        s.push_str("| fixture | cases | what it proves |\n|---|---|---|\n");
        for f in list {
            let names: Vec<String> = f
                .cases()
                .iter()
                .map(|c| c["name"].as_str().unwrap_or("?").to_string())
                .collect();
            s.push_str(&format!(
                "| [`{}`]({}) | {} | {} |\n",
                f.rel,
                f.rel,
                names.join(", "),
                f.description().replace('|', "\\|")
            ));
        }
    }
    s.push_str("\n## `smoke/` — X07 smoke suites (`x07.smoke_suite@0.1.0`)\n\n");
    s.push_str("| file | world | program | cases | notes |\n|---|---|---|---|---|\n");
    for (name, suite) in smoke_suites() {
        let cases: Vec<&str> = suite["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        let notes: Vec<&str> = suite["notes"]
            .as_array()
            .map(|n| n.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        s.push_str(&format!(
            "| [`smoke/{name}`](smoke/{name}) | {} | `{}` | {} | {} |\n",
            suite["world"].as_str().unwrap(),
            suite["program_x07json"].as_str().unwrap(),
            cases.join(", "),
            notes.join(" ").replace('|', "\\|")
        ));
    }
    s.push_str("\n## `x07 test` manifests (`tests/tests.json`)\n\n");
    s.push_str("Each test is a case `<manifest>::<test id>::<world>`, run by the real toolchain's `x07 test`; with\n");
    s.push_str("the embedded runner it is reported as ignored (\"needs the real x07 toolchain: x07 test\"). The outcomes\n");
    s.push_str("are the ones x07 0.2.17 recorded for the same test functions (`tests/data/x07-replay/index.json` maps\n");
    s.push_str("each test to its recording; `x07-replay` replays them).\n\n");
    s.push_str("| manifest | test id | world | expect | entry | recorded status (recording) |\n|---|---|---|---|---|---|\n");
    for (rel, manifest) in &manifests {
        for test in manifest["tests"].as_array().unwrap() {
            s.push_str(&format!(
                "| [`{rel}`]({rel}) | `{}` | {} | {} | `{}` | {} |\n",
                test["id"].as_str().unwrap(),
                test["world"].as_str().unwrap(),
                test["expect"].as_str().unwrap_or("pass"),
                test["entry"].as_str().unwrap(),
                recorded_status(&format!("fixtures/{rel}"), test)
            ));
        }
    }
    s
}

/// What x07 recorded for `test` of the manifest `manifest` (relative to the repository):
/// the status in the recording `tests/data/x07-replay/index.json` maps it to (for a
/// sandboxed test, the one made with the os backend accepted), or why there is none.
fn recorded_status(manifest: &str, test: &Value) -> String {
    if test["expect"] == "skip" {
        return "never run (expect: skip)".into();
    }
    let index = read_json(&workspace().join("tests/data/x07-replay/index.json"));
    let Some(entry) = index["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["manifest"] == manifest && &entry["entry"] == test)
    else {
        return "no recording".into();
    };
    let recordings = entry["recordings"].as_array().unwrap();
    let recording = recordings
        .iter()
        .find(|r| r["env"] == "any" || r["env"] == "sandbox-os-accepted")
        .unwrap_or(&recordings[0]);
    let report = read_json(
        &workspace()
            .join("tests/data/x07-test/reports")
            .join(recording["report"].as_str().unwrap()),
    );
    let status = report["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == recording["test"])
        .map(|t| t["status"].as_str().unwrap().to_string())
        .unwrap_or_default();
    format!(
        "`{status}` ({} `{}`)",
        recording["report"]
            .as_str()
            .unwrap()
            .trim_end_matches(".json"),
        recording["test"].as_str().unwrap()
    )
}

/// The `tests/tests.json` manifests of the bundled projects (path relative to `fixtures/`).
fn test_manifests() -> Vec<(String, Value)> {
    fixtures()
        .iter()
        .filter(|f| f.dir.join("tests/tests.json").is_file())
        .map(|f| {
            (
                format!("{}/tests/tests.json", f.rel),
                read_json(&f.dir.join("tests/tests.json")),
            )
        })
        .collect()
}

#[test]
fn readme_lists_every_fixture() {
    let expected = render_readme();
    let path = fixtures_root().join("README.md");
    if std::env::var_os("UPDATE_FIXTURES_README").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "fixtures/README.md is out of date; run `UPDATE_FIXTURES_README=1 cargo test --test fixtures_corpus`"
    );
}

#[test]
fn every_fixture_is_a_project_with_both_profiles() {
    let all = fixtures();
    assert!(all.len() >= 40, "only {} fixtures", all.len());
    for f in &all {
        let name = &f.rel;
        assert_eq!(
            f.expectations["schema_version"], "cargo-x07.fixture@0.1.0",
            "{name}"
        );
        let description = f.description();
        assert!(
            !description.is_empty() && !description.contains('\n'),
            "{name}: needs a one-line description"
        );
        assert_eq!(
            f.expectations["profiles"],
            serde_json::json!(["os", "sandbox"]),
            "{name}"
        );
        let profiles = f.manifest["profiles"]
            .as_object()
            .unwrap_or_else(|| panic!("{name}: no profiles"));
        assert_eq!(profiles["os"]["world"], "run-os", "{name}");
        assert!(
            profiles["os"].get("policy").is_none(),
            "{name}: run-os profiles must not name a policy"
        );
        assert_eq!(profiles["sandbox"]["world"], "run-os-sandboxed", "{name}");
        let policy = profiles["sandbox"]["policy"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: sandbox profile without policy"));
        let policy_path = f
            .dir
            .join(policy)
            .canonicalize()
            .unwrap_or_else(|e| panic!("{name}: {policy}: {e}"));
        assert!(
            policy_path.starts_with(f.dir.canonicalize().unwrap()),
            "{name}: the sandbox policy must live inside the fixture"
        );
        let entry = f.manifest["entry"].as_str().unwrap();
        assert!(f.dir.join(entry).is_file(), "{name}: entry {entry} missing");
        assert!(
            f.dir.join("x07.lock.json").is_file(),
            "{name}: commit x07.lock.json so x07 does not create it during runs"
        );
        let mut seen = BTreeSet::new();
        for case in f.cases() {
            let case_name = case["name"].as_str().unwrap().to_string();
            assert!(
                seen.insert(case_name.clone()),
                "{name}: duplicate case {case_name}"
            );
        }
        let mut files = Vec::new();
        collect(&f.expectations, "file", &mut files);
        for file in files {
            let file = file.as_str().unwrap();
            assert!(
                f.dir.join(file).is_file(),
                "{name}: referenced file {file} missing"
            );
        }
    }
}

#[test]
fn corpus_covers_what_the_project_promises() {
    let all = fixtures();
    let count = |area: &str| all.iter().filter(|f| f.area() == area).count();
    assert!(
        count("core") + count("std") >= 10,
        "pure-computation fixtures"
    );
    assert!(count("deny") >= 12, "sandbox denials");
    assert!(count("traps") >= 6, "traps");
    assert!(count("compile-errors") >= 4, "compile errors");
    let test_cases: usize = all.iter().map(|f| f.cases().len() * 2).sum();
    assert!(
        test_cases >= 80,
        "only {test_cases} fixture x profile cases"
    );

    let mut inputs = Vec::new();
    let mut runs = Vec::new();
    for f in &all {
        collect(&f.expectations, "input", &mut inputs);
        collect(&f.expectations, "run", &mut runs);
    }
    for kind in ["text", "b64", "file", "argv"] {
        assert!(
            inputs.iter().any(|i| i.get(kind).is_some()),
            "no fixture uses input kind {kind}"
        );
    }
    assert!(
        inputs.iter().any(|i| i["argv"]
            .as_array()
            .is_some_and(|a| a.iter().any(|s| s == "")
                && a.iter().any(|s| s.as_str().unwrap_or("").contains(' ')))),
        "argv with an empty and a spaced argument"
    );
    assert!(
        inputs
            .iter()
            .any(|i| i["argv"].as_array().is_some_and(Vec::is_empty)),
        "argv with no arguments"
    );
    for flag in [
        "allow_hosts",
        "deny_hosts",
        "allow_read_roots",
        "allow_write_roots",
        "solve_fuel",
        "max_output_bytes",
        "max_memory_bytes",
        "cpu_time_limit_seconds",
        "env",
    ] {
        assert!(
            runs.iter().any(|r| r.get(flag).is_some()),
            "no fixture uses run.{flag}"
        );
    }
    assert!(
        all.iter()
            .any(|f| f.manifest["profiles"]["os"].get("solve_fuel").is_some()),
        "fuel from the profile"
    );
    assert!(
        all.iter()
            .any(|f| f.manifest["module_roots"] != serde_json::json!(["."])),
        "a project with its own module_roots"
    );

    // Binary output: an expected output that is not UTF-8.
    let mut outputs = Vec::new();
    for f in &all {
        collect(&f.expectations, "output", &mut outputs);
    }
    use base64::Engine as _;
    assert!(
        outputs
            .iter()
            .filter_map(|o| o.get("b64").and_then(Value::as_str))
            .any(|b| {
                let bytes = base64::engine::general_purpose::STANDARD.decode(b).unwrap();
                std::str::from_utf8(&bytes).is_err()
            }),
        "no fixture expects non-UTF-8 output"
    );

    // Every denial fixture expects something different in the sandbox.
    for f in all.iter().filter(|f| f.area() == "deny") {
        assert!(
            f.cases()
                .iter()
                .any(|c| c["by_profile"]["sandbox"]["expect"].is_object()),
            "{}: a denial needs a sandbox-specific expectation",
            f.rel
        );
    }
}

#[test]
fn smoke_suites_cover_both_worlds() {
    let suites = smoke_suites();
    let worlds: BTreeSet<&str> = suites
        .iter()
        .map(|(_, s)| s["world"].as_str().unwrap())
        .collect();
    assert!(
        worlds.contains("run-os") && worlds.contains("run-os-sandboxed"),
        "{worlds:?}"
    );
    for (name, suite) in &suites {
        assert_eq!(suite["schema_version"], "x07.smoke_suite@0.1.0", "{name}");
        assert!(
            workspace()
                .join(suite["program_x07json"].as_str().unwrap())
                .is_file(),
            "{name}: program"
        );
        let sandboxed = suite["world"] == "run-os-sandboxed";
        assert_eq!(
            suite.get("policy_json").is_some(),
            sandboxed,
            "{name}: policy_json exactly for run-os-sandboxed"
        );
        if let Some(policy) = suite["policy_json"].as_str() {
            assert!(workspace().join(policy).is_file(), "{name}: policy");
        }
        assert!(
            !suite["cases"].as_array().unwrap().is_empty(),
            "{name}: cases"
        );
    }
}

fn cargo_x07() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-x07"));
    // A real x07 on PATH or in $X07 would be preferred over the embedded runner.
    cmd.env_remove("X07").env_remove("CI");
    cmd
}

#[test]
fn list_shows_every_fixture_under_both_profiles() {
    let output = cargo_x07()
        .args([
            "x07",
            "test",
            "--list",
            "--format",
            "terse",
            "--backend",
            "embedded",
            "--manifest-path",
        ])
        .arg(workspace().join("Cargo.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let names: BTreeSet<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .collect();
    assert!(names.len() >= 80, "only {} cases listed", names.len());
    for f in fixtures() {
        for case in f.cases() {
            for profile in ["os", "sandbox"] {
                let name = format!(
                    "fixtures/{}::{}::{profile}",
                    f.rel,
                    case["name"].as_str().unwrap()
                );
                assert!(names.contains(name.as_str()), "{name} is not listed");
            }
        }
    }
    for (file, suite) in smoke_suites() {
        for case in suite["cases"].as_array().unwrap() {
            let name = format!(
                "fixtures/smoke/{file}::{}::{}",
                case["name"].as_str().unwrap(),
                suite["world"].as_str().unwrap()
            );
            assert!(names.contains(name.as_str()), "{name} is not listed");
        }
    }
}

/// The binary-output fixture with one expected byte broken on purpose: the run fails and
/// the message is a hex dump around the first differing offset; the fixture is untouched.
#[test]
fn breaking_one_expected_byte_of_binary_output_shows_a_hex_diff() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"hexdiff\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\npath = \"lib.rs\"\n").unwrap();
    std::fs::write(dir.path().join("lib.rs"), "").unwrap();
    let fixture = dir.path().join("fixtures/binary/bytes-alloc-set");
    common::copy_tree(&fixtures_root().join("binary/bytes-alloc-set"), &fixture);
    let expectations = fixture.join("x07test.json");
    let mut value = read_json(&expectations);
    let expected = value["cases"][0]["expect"]["output"]["b64"].clone();
    assert_eq!(expected, "QQD/QQ==", "the fixture expects A 00 FF A");
    value["cases"][0]["expect"]["output"]["b64"] = Value::String("QQD+QQ==".into()); // A 00 FE A
    std::fs::write(&expectations, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
    let before = common::files_under(&fixture);

    let output = cargo_x07()
        .args(["x07", "test", "--backend", "embedded", "--manifest-path"])
        .arg(dir.path().join("Cargo.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !output.status.success(),
        "a broken byte must fail the run:\n{stdout}"
    );
    assert!(stdout.contains("differs at offset 2"), "{stdout}");
    assert!(
        stdout.contains("41 00>fe 41") && stdout.contains("41 00>ff 41"),
        "hex dump of both sides:\n{stdout}"
    );
    assert!(
        stdout.contains("x07 run --project"),
        "a reproduce line:\n{stdout}"
    );
    assert_eq!(
        before,
        common::files_under(&fixture),
        "a run must not write into the fixture"
    );
}

#[test]
fn every_expectations_file_validates_against_the_fixture_schema() {
    let schema = read_json(&workspace().join("schemas/fixture.schema.json"));
    let validator = jsonschema::validator_for(&schema).unwrap();
    for f in fixtures() {
        let errors: Vec<String> = validator
            .iter_errors(&f.expectations)
            .map(|e| format!("{}: {e}", e.instance_path().as_str()))
            .collect();
        assert!(errors.is_empty(), "{}/x07test.json: {errors:?}", f.rel);
    }
}
