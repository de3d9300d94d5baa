//! Fixture expectations against the real toolchain's recorded reports.
//!
//! Where a fixture case runs the same program, input and policy as one of the recorded
//! probes (reports captured from x07 0.2.17, kept under `tests/data/reports/`), the case's
//! merged expectation must accept that recorded report: same exit code, trap, exit status,
//! output and compile error. This ties the corpus to the facts rather than to whatever the
//! embedded runner prints.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Map, Value};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn merge(into: &mut Map<String, Value>, from: &Value) {
    if let Some(from) = from.as_object() {
        for (k, v) in from {
            into.insert(k.clone(), v.clone());
        }
    }
}

/// The expectation of `fixture::case::profile`, merged as the fixture format prescribes:
/// fixture `expect` < case `expect` < `by_profile.<profile>.expect`.
fn merged_expectation(fixture: &str, case: &str, profile: &str) -> Map<String, Value> {
    let file = workspace()
        .join("fixtures")
        .join(fixture)
        .join("x07test.json");
    let doc = read_json(&file);
    let case_doc = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == case)
        .unwrap_or_else(|| panic!("{fixture}: no case {case}"))
        .clone();
    let mut expect = Map::new();
    merge(&mut expect, &doc["expect"]);
    merge(&mut expect, &case_doc["expect"]);
    merge(&mut expect, &case_doc["by_profile"][profile]["expect"]);
    expect
}

fn decode(b64: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

fn text_matches(expected: &Value, actual: &str) -> bool {
    match expected {
        Value::String(s) => s == actual,
        Value::Object(m) if m.contains_key("regex") => {
            regex::Regex::new(m["regex"].as_str().unwrap())
                .unwrap()
                .is_match(actual)
        }
        Value::Object(m) if m.contains_key("contains") => {
            actual.contains(m["contains"].as_str().unwrap())
        }
        other => panic!("unexpected text matcher {other}"),
    }
}

/// Checks the recorded `report` against the merged expectation; returns the mismatches.
fn mismatches(expect: &Map<String, Value>, fixture_dir: &Path, report: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let get = |k: &str| expect.get(k).filter(|v| !v.is_null());
    let compile_error_expected = get("compile_error").is_some();
    let trap_expected = get("trap").is_some();
    let exit_code = get("exit_code").and_then(Value::as_i64).unwrap_or(
        if trap_expected || compile_error_expected {
            1
        } else {
            0
        },
    );
    if report["exit_code"].as_i64() != Some(exit_code) {
        out.push(format!(
            "exit_code: expected {exit_code}, recorded {}",
            report["exit_code"]
        ));
    }
    let compile_ok = get("compile_ok")
        .and_then(Value::as_bool)
        .unwrap_or(!compile_error_expected);
    if report["compile"]["ok"].as_bool() != Some(compile_ok) {
        out.push(format!(
            "compile_ok: expected {compile_ok}, recorded {}",
            report["compile"]["ok"]
        ));
    }
    match get("compile_error") {
        Some(m) => {
            let actual = report["compile"]["compile_error"].as_str().unwrap_or("");
            if !text_matches(m, actual) {
                out.push(format!("compile_error: expected {m}, recorded {actual:?}"));
            }
        }
        None if compile_ok && !report["compile"]["compile_error"].is_null() => {
            out.push("compile_error: recorded one".into())
        }
        None => {}
    }
    if !compile_ok {
        return out;
    }
    let solve = &report["solve"];
    let solve_ok = get("solve_ok")
        .and_then(Value::as_bool)
        .unwrap_or(!trap_expected);
    if solve["ok"].as_bool() != Some(solve_ok) {
        out.push(format!(
            "solve_ok: expected {solve_ok}, recorded {}",
            solve["ok"]
        ));
    }
    if let Some(status) = get("exit_status") {
        if &solve["exit_status"] != status {
            out.push(format!(
                "exit_status: expected {status}, recorded {}",
                solve["exit_status"]
            ));
        }
    }
    match get("trap") {
        Some(m) => {
            let actual = solve["trap"].as_str().unwrap_or("");
            if !text_matches(m, actual) {
                out.push(format!("trap: expected {m}, recorded {actual:?}"));
            }
        }
        None if !solve["trap"].is_null() => {
            out.push(format!("trap: none expected, recorded {}", solve["trap"]))
        }
        None => {}
    }
    if let Some(output) = get("output") {
        let expected = if let Some(t) = output.get("text") {
            t.as_str().unwrap().as_bytes().to_vec()
        } else if let Some(b) = output.get("b64") {
            decode(b.as_str().unwrap())
        } else {
            std::fs::read(fixture_dir.join(output["file"].as_str().unwrap())).unwrap()
        };
        let actual = decode(solve["solve_output_b64"].as_str().unwrap());
        if expected != actual {
            out.push(format!(
                "output: expected {expected:?}, recorded {actual:?}"
            ));
        }
    }
    out
}

/// (fixture, case, profile, recorded report, what makes the runs the same)
const PAIRS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "deny/fs-disabled",
        "default",
        "sandbox",
        "deny-fs-disabled",
        "read data.txt, fs.enabled false",
    ),
    (
        "deny/fs-hidden",
        "default",
        "sandbox",
        "deny-fs-hidden",
        "read a hidden file, deny_hidden",
    ),
    (
        "deny/fs-dotdot",
        "leading-dotdot",
        "sandbox",
        "deny-fs-unsafe-path",
        "read ../…",
    ),
    (
        "deny/exit-disabled",
        "exit-3",
        "sandbox",
        "deny-process-exit",
        "exit(3), allow_exit false",
    ),
    (
        "deny/time-wall-clock",
        "default",
        "sandbox",
        "deny-time-wallclock",
        "now_unix_ms, allow_wall_clock false",
    ),
    (
        "deny/env-not-allowed",
        "default",
        "sandbox",
        "deny-env-key",
        "get a key outside allow_keys",
    ),
    (
        "deny/net-disabled",
        "request",
        "os",
        "net-http-not-implemented",
        "http_request in run-os",
    ),
    (
        "deny/process-exe-not-allowed",
        "sh",
        "sandbox",
        "proc-run-capture-denied",
        "/bin/sh outside allow_execs",
    ),
    (
        "deny/process-exe-not-allowed",
        "echo-allowed",
        "sandbox",
        "proc-run-capture-ok",
        "/bin/echo hello, allowed",
    ),
    (
        "traps/wall-timeout",
        "endless-loop",
        "sandbox",
        "trap-wall-timeout",
        "endless loop, wall_ms 1000, fuel 1e12",
    ),
    (
        "traps/cpu-limit",
        "endless-loop",
        "sandbox",
        "trap-cpu-limit",
        "endless loop, cpu_ms 1000, fuel 1e12",
    ),
    (
        "traps/fuel-profile",
        "profile-fuel",
        "os",
        "trap-fuel",
        "fuel 1000 exhausted",
    ),
    (
        "traps/output-cap",
        "slightly-over",
        "os",
        "trap-max-output",
        "DATA with --max-output-bytes 3",
    ),
    (
        "traps/oob-get-u8",
        "c33",
        "os",
        "trap-oob",
        "get_u8 out of range at /solve/2/2",
    ),
    (
        "traps/memory",
        "over-arena",
        "os",
        "trap-oom-os",
        "alloc 100,000,000 bytes",
    ),
    (
        "traps/sandbox-mem-64mib",
        "default-arena",
        "sandbox",
        "trap-calloc-sandbox-mem64",
        "mem_bytes 64 MiB",
    ),
    (
        "compile-errors/type",
        "default",
        "os",
        "compile-error-type",
        "solve is (+ 1 2)",
    ),
    (
        "compile-errors/unknown-module",
        "default",
        "os",
        "compile-error-unknown-module",
        "import zzz.nothere",
    ),
    (
        "compile-errors/ext-fs-backend-missing",
        "default",
        "os",
        "compile-error-native-backend-missing",
        "read_all_v1",
    ),
    (
        "process/exit",
        "zero",
        "os",
        "process-exit-zero-os",
        "exit(0)",
    ),
    (
        "projects/cwd-is-project-dir",
        "default",
        "sandbox",
        "ok-sandbox-project",
        "relative read from the project dir (content differs)",
    ),
];

#[test]
fn fixture_expectations_accept_the_recorded_reports() {
    let mut failures = Vec::new();
    for (fixture, case, profile, report_name, why) in PAIRS {
        let report = read_json(
            &workspace()
                .join("tests/data/reports")
                .join(format!("{report_name}.json")),
        );
        let mut expect = merged_expectation(fixture, case, profile);
        if *fixture == "projects/cwd-is-project-dir" {
            // Same program shape, different file content: compare everything but the bytes.
            expect.remove("output");
        }
        let dir = workspace().join("fixtures").join(fixture);
        for m in mismatches(&expect, &dir, &report) {
            failures.push(format!(
                "{fixture}::{case}::{profile} vs reports/{report_name}.json ({why}): {m}"
            ));
        }
        let world = if *profile == "sandbox" {
            "run-os-sandboxed"
        } else {
            "run-os"
        };
        if report["world"] != world {
            failures.push(format!(
                "{fixture}: paired with a {} report",
                report["world"]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The recorded reports really are what the checks above read (guards against a silent
/// pass when a report file changes shape).
#[test]
fn the_pairing_sees_traps_and_outputs() {
    let report = read_json(&workspace().join("tests/data/reports/trap-wall-timeout.json"));
    assert_eq!(report["solve"]["trap"], "timed out");
    let mut wrong = merged_expectation("traps/wall-timeout", "endless-loop", "sandbox");
    wrong.insert("trap".into(), Value::String("fuel exhausted".into()));
    let dir = workspace().join("fixtures/traps/wall-timeout");
    assert!(!mismatches(&wrong, &dir, &report).is_empty());
    let ok = read_json(&workspace().join("tests/data/reports/proc-run-capture-ok.json"));
    let mut wrong = merged_expectation("deny/process-exe-not-allowed", "echo-allowed", "sandbox");
    wrong.insert("output".into(), serde_json::json!({ "text": "nope" }));
    assert!(!mismatches(
        &wrong,
        &workspace().join("fixtures/deny/process-exe-not-allowed"),
        &ok
    )
    .is_empty());
}

/// Every fixture case named after a conformance example (`c01`…`c50`) runs exactly that
/// example's program and input and expects exactly its recorded result (the examples are
/// kept as test data under `runner/tests/data/conformance/`).
#[test]
fn conformance_cases_match_the_recorded_examples() {
    let root = workspace().join("fixtures");
    let mut stack = vec![root.clone()];
    let mut checked = 0;
    let mut failures = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            }
        }
        let file = dir.join("x07test.json");
        if !file.is_file() {
            continue;
        }
        let rel = dir
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let doc = read_json(&file);
        let manifest = read_json(&dir.join("x07.json"));
        for case in doc["cases"].as_array().into_iter().flatten() {
            let name = case["name"].as_str().unwrap();
            let Some(num) = name
                .strip_prefix('c')
                .filter(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit()))
            else {
                continue;
            };
            let example =
                read_json(&workspace().join(format!("runner/tests/data/conformance/C{num}.json")));
            let program: Value =
                serde_json::from_str(example["program"].as_str().unwrap()).unwrap();
            let entry = read_json(&dir.join(manifest["entry"].as_str().unwrap()));
            if program != entry {
                failures.push(format!(
                    "{rel}::{name}: the entry program differs from C{num}"
                ));
            }
            let input = match &case["input"] {
                Value::Null => Vec::new(),
                i if i.get("text").is_some() => i["text"].as_str().unwrap().as_bytes().to_vec(),
                i if i.get("b64").is_some() => decode(i["b64"].as_str().unwrap()),
                other => panic!("{rel}::{name}: unexpected input {other}"),
            };
            if input != decode(example["input_b64"].as_str().unwrap()) {
                failures.push(format!("{rel}::{name}: the input differs from C{num}"));
            }
            for (var, value) in example["env"].as_object().unwrap() {
                if doc["run"]["env"][var] != *value {
                    failures.push(format!("{rel}::{name}: C{num} needs env {var}={value}"));
                }
            }
            let recorded = &example["expect"];
            let mut report = serde_json::json!({
                "exit_code": 0,
                "compile": { "ok": true, "compile_error": null },
                "solve": { "ok": true, "exit_status": 0, "trap": null, "solve_output_b64": "" },
            });
            match recorded["kind"].as_str().unwrap() {
                "ok" => report["solve"]["solve_output_b64"] = recorded["output_b64"].clone(),
                "trap" => {
                    report["exit_code"] = 1.into();
                    report["solve"] = serde_json::json!({ "ok": false, "exit_status": 132, "trap": recorded["trap"], "solve_output_b64": "" });
                }
                "exit" => {
                    report["exit_code"] = 1.into();
                    report["solve"] = serde_json::json!({ "ok": false, "exit_status": recorded["code"], "trap": recorded["report_trap"], "solve_output_b64": "" });
                }
                "compile_error" => {
                    report["exit_code"] = 1.into();
                    report["compile"] =
                        serde_json::json!({ "ok": false, "compile_error": recorded["message"] });
                    report["solve"] = Value::Null;
                }
                other => panic!("C{num}: unknown kind {other}"),
            }
            for profile in ["os", "sandbox"] {
                let expect = merged_expectation(&rel, name, profile);
                for m in mismatches(&expect, &dir, &report) {
                    failures.push(format!("{rel}::{name}::{profile} vs C{num}: {m}"));
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} conformance cases found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Where the probe set `os-builtins-matrix` (x07 0.2.17, kept under
/// `runner/tests/data/probes/`) lives in the repository.
fn matrix_dir() -> PathBuf {
    workspace().join("runner/tests/data/probes/os-builtins-matrix")
}

/// Undoes Python's `repr` of a str as `OBSERVED.txt` prints it (`'DATA'`, `'vm\n'`).
/// Returns `None` for values that are not a quoted string (`None`, `<1048576 zero bytes>`,
/// `OK doc ...` summaries).
fn unrepr(field: &str) -> Option<Vec<u8>> {
    let inner = field.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = Vec::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('r') => out.push(b'\r'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&hex, 16).unwrap());
            }
            Some(other) => out.push(other as u8),
            None => panic!("dangling backslash in {field}"),
        }
    }
    Some(out)
}

/// One recorded matrix run: the command's program, input and limit flags, and the observed
/// result fields.
struct MatrixRun {
    program: Value,
    input: Vec<u8>,
    sandboxed: bool,
    policy: Option<Value>,
    limit_flags: Vec<(String, String)>,
    observed: std::collections::BTreeMap<String, String>,
}

fn matrix_run(tag: &str) -> MatrixRun {
    let dir = matrix_dir();
    let cmd = std::fs::read_to_string(dir.join("CMD")).unwrap();
    let lines: Vec<&str> = cmd.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == format!("# {tag}"))
        .unwrap_or_else(|| panic!("matrix CMD has no tag {tag}"));
    let words: Vec<&str> = lines[at + 1].split_whitespace().collect();
    let mut run = MatrixRun {
        program: Value::Null,
        input: Vec::new(),
        sandboxed: false,
        policy: None,
        limit_flags: Vec::new(),
        observed: Default::default(),
    };
    let mut i = 0;
    while i < words.len() {
        let value = words.get(i + 1).copied().unwrap_or("");
        match words[i] {
            "--program" => run.program = read_json(&dir.join(value)),
            "--input-b64" => run.input = decode(value),
            "--profile" => run.sandboxed = value == "sandbox",
            "--policy" => run.policy = Some(read_json(&dir.join(value))),
            flag @ ("--solve-fuel"
            | "--max-output-bytes"
            | "--max-memory-bytes"
            | "--cpu-time-limit-seconds") => {
                run.limit_flags.push((flag.to_string(), value.to_string()))
            }
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    let observed = std::fs::read_to_string(dir.join("OBSERVED.txt")).unwrap();
    let line = observed
        .lines()
        .find(|l| l.split('\t').next() == Some(tag))
        .unwrap_or_else(|| panic!("OBSERVED.txt has no row {tag}"));
    for field in line.split('\t').skip(1) {
        let (k, v) = field.split_once('=').unwrap();
        run.observed.insert(k.to_string(), v.to_string());
    }
    run
}

/// The merged `run` options of `fixture::case::profile`.
fn merged_run(fixture: &str, case: &str, profile: &str) -> Map<String, Value> {
    let doc = read_json(
        &workspace()
            .join("fixtures")
            .join(fixture)
            .join("x07test.json"),
    );
    let case_doc = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == case)
        .unwrap()
        .clone();
    let mut run = Map::new();
    merge(&mut run, &doc["run"]);
    merge(&mut run, &case_doc["run"]);
    merge(&mut run, &case_doc["by_profile"][profile]["run"]);
    run
}

fn case_input(fixture: &str, case: &str) -> Vec<u8> {
    let doc = read_json(
        &workspace()
            .join("fixtures")
            .join(fixture)
            .join("x07test.json"),
    );
    let case_doc = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == case)
        .unwrap()
        .clone();
    match &case_doc["input"] {
        Value::Null => Vec::new(),
        i if i.get("text").is_some() => i["text"].as_str().unwrap().as_bytes().to_vec(),
        i if i.get("b64").is_some() => decode(i["b64"].as_str().unwrap()),
        other => panic!("{fixture}::{case}: input {other} has no matrix equivalent"),
    }
}

/// Fixture cases that run exactly a recorded `os-builtins-matrix` command: the same program,
/// input and limit flags; for sandbox rows the listed policy fields are the same as in the
/// probe's policy (the fields that decide the outcome). Each expectation must accept the
/// observed row.
const MATRIX_PAIRS: &[(&str, &str, &str, &str, &[&str])] = &[
    ("audit/unneeded-write-root", "read", "os", "rf-os-rel", &[]),
    (
        "audit/unneeded-write-root",
        "read",
        "sandbox",
        "rf-sb-rel",
        &["/fs/enabled", "/fs/read_roots", "/fs/deny_hidden"],
    ),
    (
        "deny/fs-absolute-path",
        "etc-hostname",
        "os",
        "rf-os-abs",
        &[],
    ),
    (
        "deny/fs-absolute-path",
        "etc-hostname",
        "sandbox",
        "rf-sb-abs",
        &["/fs/enabled", "/fs/read_roots"],
    ),
    (
        "deny/fs-write-outside-roots",
        "sub-dir",
        "sandbox",
        "wf-sb-outside-root",
        &["/fs/write_roots", "/fs/deny_hidden"],
    ),
    (
        "deny/fs-write-outside-roots",
        "hidden",
        "sandbox",
        "wf-sb-hidden",
        &["/fs/write_roots", "/fs/deny_hidden"],
    ),
    ("deny/net-disabled", "request", "os", "http-os", &[]),
    (
        "deny/net-disabled",
        "request",
        "sandbox",
        "http-sb-net-disabled",
        &["/net/enabled"],
    ),
    (
        "deny/process-disabled",
        "echo",
        "sandbox",
        "prun-sb-process-disabled",
        &["/process/enabled"],
    ),
    (
        "deny/process-exe-not-allowed",
        "sh",
        "sandbox",
        "prun-sb-exe-not-allowed",
        &["/process/enabled", "/process/allow_spawn"],
    ),
    (
        "deny/process-exe-not-allowed",
        "echo-allowed",
        "sandbox",
        "prun-sb-echo",
        &["/process/enabled", "/process/allow_spawn"],
    ),
    ("deny/process-no-spawn", "echo", "os", "pspawn-os", &[]),
    (
        "deny/process-no-spawn",
        "echo",
        "sandbox",
        "pspawn-sb-no-spawn",
        &["/process/allow_spawn"],
    ),
    ("fs/read-in-root", "data", "os", "rf-os-rel", &[]),
    (
        "fs/read-in-root",
        "data",
        "sandbox",
        "rf-sb-rel",
        &["/fs/read_roots"],
    ),
    (
        "fs/read-in-root",
        "nested",
        "sandbox",
        "rf-sb-nested",
        &["/fs/read_roots"],
    ),
    ("fs/read-in-root", "missing", "os", "rf-os-missing", &[]),
    (
        "fs/read-in-root",
        "missing",
        "sandbox",
        "rf-sb-missing",
        &["/fs/read_roots"],
    ),
    ("fs/read-roots-sub", "outside-root", "os", "rf-os-rel", &[]),
    (
        "fs/read-roots-sub",
        "outside-root",
        "sandbox",
        "rf-sb-roots-sub-outside",
        &["/fs/read_roots"],
    ),
    (
        "fs/read-roots-sub",
        "relative-to-root",
        "sandbox",
        "rf-sb-roots-sub-relative",
        &["/fs/read_roots"],
    ),
    (
        "fs/read-roots-sub",
        "root-prefixed",
        "sandbox",
        "rf-sb-roots-sub-prefixed",
        &["/fs/read_roots"],
    ),
    (
        "fs/write-errno",
        "missing-dir",
        "sandbox",
        "wf-sb-nodir",
        &["/fs/write_roots"],
    ),
    ("process/exit", "zero", "os", "pexit-os-0", &[]),
    ("process/exit", "seven", "os", "pexit-os-7", &[]),
    (
        "process/exit",
        "seven",
        "sandbox",
        "pexit-sb-7",
        &["/process/allow_exit"],
    ),
    ("process/exit", "mod-256", "os", "pexit-os-300", &[]),
    ("traps/cpu-limit", "endless-loop", "os", "cpu-os-flag", &[]),
    (
        "traps/cpu-limit",
        "endless-loop",
        "sandbox",
        "cpu-sb",
        &["/limits/cpu_ms"],
    ),
    (
        "traps/fuel-default",
        "endless-loop",
        "os",
        "fuel-default",
        &[],
    ),
    ("traps/memory", "small", "os", "alloc-os-1m", &[]),
    ("traps/memory", "over-arena", "os", "alloc-os-100m", &[]),
    ("traps/memory", "raised", "os", "alloc-os-100m-raised", &[]),
    ("traps/output-cap", "fits", "os", "maxout-4-fits", &[]),
    ("traps/output-cap", "slightly-over", "os", "maxout-3", &[]),
    ("traps/output-cap", "far-over", "os", "maxout-0", &[]),
    (
        "traps/output-default-cap",
        "at-cap",
        "os",
        "big-1048576",
        &[],
    ),
    (
        "traps/output-default-cap",
        "one-over",
        "os",
        "big-1048577",
        &[],
    ),
    (
        "traps/output-default-cap",
        "far-over",
        "os",
        "big-2000000",
        &[],
    ),
    (
        "traps/sandbox-mem-64mib",
        "default-arena",
        "sandbox",
        "alloc-sb-mem64",
        &["/limits/mem_bytes"],
    ),
    (
        "traps/sandbox-mem-64mib",
        "small-arena",
        "sandbox",
        "alloc-sb-mem64-small-arena",
        &["/limits/mem_bytes"],
    ),
    (
        "traps/wall-timeout",
        "endless-loop",
        "sandbox",
        "wall-sb",
        &["/limits/wall_ms"],
    ),
];

#[test]
fn fixture_expectations_accept_the_recorded_matrix_rows() {
    let flag_keys = [
        ("solve_fuel", "--solve-fuel"),
        ("max_output_bytes", "--max-output-bytes"),
        ("max_memory_bytes", "--max-memory-bytes"),
        ("cpu_time_limit_seconds", "--cpu-time-limit-seconds"),
    ];
    let mut failures = Vec::new();
    for (fixture, case, profile, tag, policy_fields) in MATRIX_PAIRS {
        let at = format!("{fixture}::{case}::{profile} vs os-builtins-matrix#{tag}");
        let dir = workspace().join("fixtures").join(fixture);
        let run = matrix_run(tag);
        let manifest = read_json(&dir.join("x07.json"));
        if read_json(&dir.join(manifest["entry"].as_str().unwrap())) != run.program {
            failures.push(format!("{at}: the program differs"));
        }
        if case_input(fixture, case) != run.input {
            failures.push(format!("{at}: the input differs"));
        }
        if run.sandboxed != (*profile == "sandbox") {
            failures.push(format!("{at}: recorded in the other world"));
        }
        let options = merged_run(fixture, case, profile);
        let mut fixture_flags = Vec::new();
        for (key, flag) in flag_keys {
            if let Some(v) = options.get(key).filter(|v| !v.is_null()) {
                fixture_flags.push((flag.to_string(), v.to_string()));
            }
        }
        let mut recorded_flags = run.limit_flags.clone();
        recorded_flags.sort();
        fixture_flags.sort();
        if fixture_flags != recorded_flags {
            failures.push(format!(
                "{at}: limit flags {fixture_flags:?}, recorded {recorded_flags:?}"
            ));
        }
        if let Some(probe_policy) = &run.policy {
            let ours = read_json(&dir.join("policy.json"));
            for field in *policy_fields {
                if ours.pointer(field) != probe_policy.pointer(field) {
                    failures.push(format!("{at}: policy {field} differs from the probe's"));
                }
            }
        }
        let obs = &run.observed;
        let trap = unrepr(&obs["trap"]).map(|t| String::from_utf8(t).unwrap());
        let output = unrepr(&obs["out"]);
        let ok = obs["ok"] == "True";
        let report = serde_json::json!({
            "exit_code": obs["exit_code"].parse::<i64>().unwrap(),
            "compile": { "ok": true, "compile_error": null },
            "solve": {
                "ok": ok,
                "exit_status": obs["exit_status"].parse::<i64>().unwrap(),
                "trap": trap,
                "solve_output_b64": base64::engine::general_purpose::STANDARD
                    .encode(output.clone().unwrap_or_default()),
            },
        });
        let mut expect = merged_expectation(fixture, case, profile);
        if output.is_none() {
            // The row summarises the output instead of quoting it.
            expect.remove("output");
        }
        for m in mismatches(&expect, &dir, &report) {
            failures.push(format!("{at}: {m}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The matrix rows are really parsed (guards against a silent pass when the row format
/// changes): a quoted trap and output are decoded, a summary is not, and a wrong
/// expectation is caught.
#[test]
fn the_matrix_pairing_sees_traps_and_outputs() {
    let row = matrix_run("maxout-3");
    assert_eq!(
        unrepr(&row.observed["trap"]).unwrap(),
        b"native output too large: 4 > max_output_bytes=3"
    );
    assert_eq!(
        row.limit_flags,
        vec![("--max-output-bytes".to_string(), "3".to_string())]
    );
    assert_eq!(
        unrepr(&matrix_run("rf-os-abs").observed["out"]).unwrap(),
        b"vm\n"
    );
    assert_eq!(unrepr(&matrix_run("big-1048576").observed["out"]), None);
    assert!(matrix_run("rf-sb-rel").sandboxed);
    let row = matrix_run("wall-sb");
    let report = serde_json::json!({
        "exit_code": 1,
        "compile": { "ok": true, "compile_error": null },
        "solve": { "ok": false, "exit_status": 137, "trap": unrepr(&row.observed["trap"]).map(|t| String::from_utf8(t).unwrap()), "solve_output_b64": "" },
    });
    let mut wrong = merged_expectation("traps/wall-timeout", "endless-loop", "sandbox");
    assert!(mismatches(
        &wrong,
        &workspace().join("fixtures/traps/wall-timeout"),
        &report
    )
    .is_empty());
    wrong.insert("exit_status".into(), 132.into());
    assert!(!mismatches(
        &wrong,
        &workspace().join("fixtures/traps/wall-timeout"),
        &report
    )
    .is_empty());
}

/// Every fixture directory (relative to `fixtures/`) with its expectations document.
fn all_fixtures() -> Vec<(String, Value)> {
    let root = workspace().join("fixtures");
    let mut stack = vec![root.clone()];
    let mut out = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            }
        }
        let file = dir.join("x07test.json");
        if file.is_file() {
            let rel = dir
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, read_json(&file)));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// What the real `x07 run` needs from a project before it runs anything
/// (observed-behaviour §1.1, §1.3, §1.5, §2, §4.7): the committed lockfile is the one x07
/// itself writes (otherwise it re-hydrates and prints a line on stderr); no run-os case
/// passes `--policy` or a derived-policy flag (rc 2); every sandbox policy leaves room for
/// the 64 MiB runtime arena (`calloc failed` below that, the fixture that proves it
/// excepted) and keeps the file limit at least as high as the recorded probes, and the
/// process limit too where the program may spawn (spawning worked there); a policy that
/// cannot spawn keeps at least the cli template's 16 processes.
#[test]
fn fixtures_are_runnable_projects_for_the_real_runner() {
    let hydrated = std::fs::read(
        workspace().join("runner/tests/data/probes/ok-sandbox-project/x07.lock.json"),
    )
    .unwrap();
    let mut failures = Vec::new();
    let fixtures = all_fixtures();
    assert!(fixtures.len() >= 40);
    for (rel, doc) in &fixtures {
        let dir = workspace().join("fixtures").join(rel);
        if std::fs::read(dir.join("x07.lock.json")).ok().as_deref() != Some(&hydrated[..]) {
            failures.push(format!(
                "{rel}: x07.lock.json is not the lockfile x07 writes"
            ));
        }
        let expects_calloc_failure = doc["cases"].as_array().unwrap().iter().any(|c| {
            merged_expectation(rel, c["name"].as_str().unwrap(), "sandbox").get("trap")
                == Some(&Value::String("calloc failed".into()))
        });
        let mut policies = vec![dir.join("policy.json")];
        for case in doc["cases"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let os_run = merged_run(rel, name, "os");
            for key in [
                "policy",
                "allow_hosts",
                "deny_hosts",
                "allow_read_roots",
                "allow_write_roots",
            ] {
                if os_run.get(key).is_some_and(|v| !v.is_null()) {
                    failures.push(format!(
                        "{rel}::{name}::os: `{key}` makes x07 exit 2 in run-os"
                    ));
                }
            }
            if let Some(p) = merged_run(rel, name, "sandbox")
                .get("policy")
                .and_then(Value::as_str)
            {
                policies.push(dir.join(p));
            }
        }
        for path in policies {
            let policy = read_json(&path);
            let limit = |k: &str| policy["limits"][k].as_i64().unwrap();
            if limit("mem_bytes") < 128 * 1024 * 1024 && !expects_calloc_failure {
                failures.push(format!(
                    "{}: mem_bytes below 128 MiB fails with `calloc failed`",
                    path.display()
                ));
            }
            // Where the program may start processes, at least the probes' 64; else at
            // least the cli template's 16 (`x07 policy init` writes it, so x07 runs it).
            let spawns =
                policy["process"]["enabled"] == true && policy["process"]["allow_spawn"] == true;
            let min_procs = if spawns { 64 } else { 16 };
            if limit("procs") < min_procs || limit("fds") < 64 {
                failures.push(format!(
                    "{}: procs below {min_procs} or fds below the probes' 64",
                    path.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A trap's exit status is what the recorded runs show for that kind of trap
/// (observed-behaviour §4, §4.5, §4.7, §5.3): runtime traps and policy denials 132, the
/// wall and CPU limits 137, output-cap failures 0, and `os.process.exit` the exit code;
/// every expected trap pins its status.
#[test]
fn trap_expectations_carry_the_recorded_exit_status() {
    let mut failures = Vec::new();
    let mut traps = 0;
    for (rel, doc) in all_fixtures() {
        for case in doc["cases"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            for profile in ["os", "sandbox"] {
                let expect = merged_expectation(&rel, name, profile);
                let Some(trap) = expect.get("trap").filter(|t| !t.is_null()) else {
                    continue;
                };
                traps += 1;
                let at = format!("{rel}::{name}::{profile}");
                let Some(status) = expect.get("exit_status").and_then(Value::as_i64) else {
                    failures.push(format!("{at}: a trap without exit_status"));
                    continue;
                };
                let Some(trap) = trap.as_str() else { continue };
                let wanted = match trap {
                    "timed out" | "terminated by signal 9" => Some(137),
                    "stdout exceeded cap" => Some(0),
                    t if t.starts_with("native output too large: ") => Some(0),
                    "native stdout too short for length prefix" => None,
                    _ => Some(132),
                };
                if let Some(wanted) = wanted.filter(|w| *w != status) {
                    failures.push(format!(
                        "{at}: trap {trap:?} exits {wanted}, expected {status}"
                    ));
                }
            }
        }
    }
    assert!(traps >= 30, "only {traps} trap expectations");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
