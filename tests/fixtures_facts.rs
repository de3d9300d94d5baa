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
