//! Report details beyond the recorded single-case probes (those are compared whole in
//! `probes.rs`), each expectation derived from the recorded facts about x07 0.2.17 as noted on the test:
//! the statistics line of the OS builtins, `compile.fuel_used` of programs that compile
//! or fail, and the limit flags at their edges. Every run goes through the real
//! `x07-lite` binary, as a user's `x07 run` would.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};

fn write_entry(dir: &Path, name: &str, imports: Value, solve: Value) {
    let file = json!({"schema_version":"x07.x07ast@0.8.0","kind":"entry","module_id":"main",
        "imports": imports, "decls": [], "solve": solve});
    std::fs::write(dir.join(name), file.to_string()).unwrap();
}

fn x07_run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_x07-lite"));
    command
        .arg("run")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("X07_") || key == "PROBE_VAR" {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().copied());
    command.output().unwrap()
}

fn report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!(
            "no report (rc {:?}): {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// `[alloc_calls, bytes_alloc_total, memcpy_bytes, live_allocs, live_bytes]`.
fn heap(report: &Value) -> [u64; 5] {
    let m = &report["solve"]["mem_stats"];
    [
        "alloc_calls",
        "bytes_alloc_total",
        "memcpy_bytes",
        "live_allocs",
        "live_bytes",
    ]
    .map(|key| {
        m[key]
            .as_u64()
            .unwrap_or_else(|| panic!("{key} in {report}"))
    })
}

/// `x07-test/reports/basic.one-bad-status-bytes.json` records the statistics of a
/// function whose whole body is `(bytes.lit "xy")`: the literal's two bytes are
/// allocated and copied, then freed with the output.
#[test]
fn a_literal_is_allocated_and_copied() {
    let dir = tempfile::tempdir().unwrap();
    write_entry(
        dir.path(),
        "lit.x07.json",
        json!([]),
        json!(["bytes.lit", "xy"]),
    );
    let report = report(&x07_run(
        dir.path(),
        &["--program", "lit.x07.json", "--repair=off"],
        &[],
    ));
    // (Its fuel was 2 there, the call of the function included; as `solve` it is 1, R21.)
    assert_eq!(report["solve"]["fuel_used"], 1);
    assert_eq!(report["solve"]["heap_used"], 2);
    assert_eq!(
        report["solve"]["mem_stats"],
        json!({"alloc_calls":1,"realloc_calls":0,"free_calls":1,"bytes_alloc_total":2,
               "bytes_freed_total":2,"live_bytes":0,"peak_live_bytes":2,"live_allocs":0,
               "peak_live_allocs":1,"memcpy_bytes":2})
    );
}

/// The `x07 test` reports of `x07-test/probes/os-worlds` (`os-worlds.os-and-sandbox-
/// default-env.json`) record the statistics of three run-os functions; every `x07 test`
/// run adds the same baseline after the function returns (the status document: 2
/// allocations, 9 bytes, 4 copied, none live; recorded alone in `os/fail_i32`, whose
/// function allocates nothing). Subtracting it, and adding the `(bytes.lit "ok")` these programs
/// return instead (1 allocation, 2 bytes, 2 copied, freed):
/// * `os/write_marker`, `(os.fs.write_file (bytes.lit "marker.txt") (bytes.lit "x"))`:
///   5/31/25, live 1/11 → 4/24/23, live 1/11 (the literals, and an 11-byte copy of the
///   path with its NUL that stays live);
/// * `os/env_probe`, `(os.env.get (bytes.lit "PROBE_VAR"))` unset, and the literal
///   `"yes"` it compares with: 5/31/25, live 1/10 → without `"yes"` (3 bytes, 3 copied)
///   3/21/20, live 1/10; with `PROBE_VAR=yes` (`os-worlds.env-reaches-run-os-test.json`)
///   6/34/28: the value is one more allocation, copied → 4/24/23;
/// * `os/read_data`, `(os.fs.read_file (bytes.lit "data.txt"))` of `hello\n` and the
///   literal `"hello\n"`: 6/38/26, live 1/9 → 5/31/24, live 1/9.
#[test]
fn os_builtins_statistics_follow_the_recorded_x07_test_runs() {
    let dir = tempfile::tempdir().unwrap();
    let ok = json!(["bytes.lit", "ok"]);
    write_entry(
        dir.path(),
        "w.x07.json",
        json!([]),
        json!([
            "begin",
            [
                "let",
                "rc",
                [
                    "os.fs.write_file",
                    ["bytes.lit", "marker.txt"],
                    ["bytes.lit", "x"]
                ]
            ],
            ok
        ]),
    );
    write_entry(
        dir.path(),
        "e.x07.json",
        json!([]),
        json!([
            "begin",
            ["let", "v", ["os.env.get", ["bytes.lit", "PROBE_VAR"]]],
            ok
        ]),
    );
    write_entry(
        dir.path(),
        "r.x07.json",
        json!([]),
        json!([
            "begin",
            ["let", "got", ["os.fs.read_file", ["bytes.lit", "data.txt"]]],
            ["let", "e", ["bytes.lit", "hello\n"]],
            ok
        ]),
    );
    std::fs::write(dir.path().join("data.txt"), "hello\n").unwrap();
    for (program, expected) in [
        ("w.x07.json", [4, 24, 23, 1, 11]),
        ("e.x07.json", [3, 21, 20, 1, 10]),
        ("r.x07.json", [5, 31, 24, 1, 9]),
    ] {
        let output = x07_run(dir.path(), &["--program", program, "--repair=off"], &[]);
        let report = report(&output);
        assert_eq!(report["solve"]["ok"], true, "{program}: {report}");
        assert_eq!(heap(&report), expected, "{program}: {report}");
        // heap_used is the input plus the peak of live bytes (reports/*.json).
        assert_eq!(
            report["solve"]["heap_used"], report["solve"]["mem_stats"]["peak_live_bytes"],
            "{program}"
        );
        // The stats line on stderr is the one the metric fields were copied from.
        let line = B64
            .decode(report["solve"]["stderr_b64"].as_str().unwrap())
            .unwrap();
        let stats: Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(stats["mem_stats"], report["solve"]["mem_stats"]);
        assert!(line.ends_with(b"}\n"));
    }
    let set = x07_run(
        dir.path(),
        &["--program", "e.x07.json", "--repair=off"],
        &[("PROBE_VAR", "yes")],
    );
    assert_eq!(heap(&report(&set)), [4, 24, 23, 1, 10]);
}

/// `compile.fuel_used` (observed-behaviour.md §5.2–5.3: set whenever C was generated,
/// null for parse and type errors, set for the missing ext-fs backend, which is found
/// after the C was generated: reports/compile-error-native-backend-missing.json).
#[test]
fn compile_fuel_is_set_exactly_when_c_was_generated() {
    let dir = tempfile::tempdir().unwrap();
    write_entry(
        dir.path(),
        "ok.x07.json",
        json!([]),
        json!([
            "bytes.concat",
            ["bytes.lit", "v="],
            ["view.to_bytes", "input"]
        ]),
    );
    write_entry(dir.path(), "type.x07.json", json!([]), json!(5));
    write_entry(
        dir.path(),
        "trap.x07.json",
        json!([]),
        json!(["view.to_bytes", ["view.slice", "input", 5, 1]]),
    );
    write_entry(
        dir.path(),
        "extfs.x07.json",
        json!([]),
        json!([
            "result_bytes.unwrap_or",
            ["os.fs.read_all_v1", ["bytes.lit", "d"], ["bytes.lit", "c"]],
            ["bytes.lit", "E"]
        ]),
    );
    std::fs::write(dir.path().join("bad.x07.json"), "{\"solve\": [").unwrap();
    let fuel = |program: &str| {
        let report = report(&x07_run(
            dir.path(),
            &["--program", program, "--repair=off"],
            &[],
        ));
        report["compile"]["fuel_used"].clone()
    };
    // 8 nodes (the list, its head, the literal's 3, to_bytes's 3): 2 units each.
    assert_eq!(fuel("ok.x07.json"), json!(16));
    // A trap at run time does not change what was compiled: 7 nodes.
    assert_eq!(fuel("trap.x07.json"), json!(14));
    assert_eq!(fuel("type.x07.json"), Value::Null);
    assert_eq!(fuel("bad.x07.json"), Value::Null);
    assert!(fuel("extfs.x07.json").as_u64().is_some_and(|n| n > 0));
}

/// The limit flags at their edges (observed-behaviour.md §4.7, semantics.md R22).
#[test]
fn limit_flags_at_their_edges() {
    let dir = tempfile::tempdir().unwrap();
    write_entry(
        dir.path(),
        "echo.x07.json",
        json!([]),
        json!(["view.to_bytes", "input"]),
    );
    let run = |extra: &[&str]| {
        let mut args = vec![
            "--program",
            "echo.x07.json",
            "--repair=off",
            "--input-b64",
            "REFUQQ==",
        ];
        args.extend_from_slice(extra);
        x07_run(dir.path(), &args, &[])
    };
    // `--solve-fuel 0` traps at once: 0 is not "unlimited" (R22).
    let zero = report(&run(&["--solve-fuel", "0"]));
    assert_eq!(zero["solve"]["trap"], "fuel exhausted");
    assert_eq!(zero["solve"]["exit_status"], 132);
    assert_eq!(
        zero["solve"]["trap_help"],
        "fuel limit 0 reached; raise it with --solve-fuel or scope costs with budget.scope_v1"
    );
    assert_eq!(zero["solve"]["fuel_used"], Value::Null);
    // The exact need (2 units) runs; the most a u64 holds is a limit like any other.
    for fuel in ["2", "18446744073709551615"] {
        let report = report(&run(&["--solve-fuel", fuel]));
        assert_eq!(report["solve"]["ok"], true, "{fuel}");
        assert_eq!(report["solve"]["fuel_used"], 2, "{fuel}");
        assert_eq!(report["solve"]["trap_help"], Value::Null);
    }
    // Output cap 0 with 4 bytes: far over, stdout cut to 4 + 0 + 1 bytes, metrics null.
    let cut = report(&run(&["--max-output-bytes", "0"]));
    assert_eq!(cut["solve"]["trap"], "stdout exceeded cap");
    assert_eq!(cut["solve"]["exit_status"], 0);
    assert_eq!(cut["solve"]["stdout_b64"], B64.encode(b"\x04\x00\x00\x00D"));
    assert_eq!(cut["solve"]["solve_output_b64"], "");
    assert_eq!(cut["solve"]["fuel_used"], Value::Null);
    assert_eq!(cut["solve"]["mem_stats"], Value::Null);
    assert_eq!(cut["exit_code"], 1);
    // Cap 3: just over, the whole frame is kept and the metrics are reported.
    let over = report(&run(&["--max-output-bytes", "3"]));
    assert_eq!(
        over["solve"]["trap"],
        "native output too large: 4 > max_output_bytes=3"
    );
    assert_eq!(
        over["solve"]["stdout_b64"],
        B64.encode(b"\x04\x00\x00\x00DATA")
    );
    assert_eq!(over["solve"]["fuel_used"], 2);
    // Negative and non-numeric values are usage errors (rc 2, nothing on stdout).
    for (flag, value) in [
        ("--solve-fuel", "-1"),
        ("--solve-fuel", "abc"),
        ("--max-memory-bytes", "x"),
        ("--max-output-bytes", "-5"),
        ("--cpu-time-limit-seconds", "1.5"),
        ("--solve-fuel", "99999999999999999999"),
    ] {
        let output = run(&[flag, value]);
        assert_eq!(output.status.code(), Some(2), "{flag} {value}");
        assert!(output.stdout.is_empty(), "{flag} {value}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with("error: "), "{flag} {value}: {stderr}");
    }
}
