//! x07-lite never hangs or panics: malformed programs, unknown heads, deep nesting,
//! infinite loops, unbounded allocation, unbounded output and bad flags all end with a
//! report (or a usage error) within the limits.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn run(dir: &Path, args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_x07-lite"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env_remove("X07_OS_SANDBOXED")
        .output()
        .unwrap();
    (output, started.elapsed())
}

fn program(solve: &str, imports: &str) -> String {
    format!(
        r#"{{"decls":[],"imports":[{imports}],"kind":"entry","module_id":"main","schema_version":"x07.x07ast@0.8.0","solve":{solve}}}"#
    )
}

fn run_program(text: &str, extra: &[&str]) -> (Output, Value, Duration) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.x07.json"), text).unwrap();
    let mut args = vec!["run", "--program", "p.x07.json", "--repair=off"];
    args.extend_from_slice(extra);
    let (output, elapsed) = run(dir.path(), &args);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!(
            "no report: rc {:?} stderr {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output, report, elapsed)
}

#[test]
fn malformed_and_unknown_programs_are_compile_errors() {
    let (output, report, _) = run_program("{\"decls\": [", &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(report["compile"]["compile_error"]
        .as_str()
        .unwrap()
        .starts_with("Parse: main: EOF while parsing"));
    let (output, report, _) = run_program(&program(r#"["no.such.head", 1]"#, ""), &[]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(report["compile"]["ok"], false);
    assert_eq!(report["solve"], Value::Null);
}

#[test]
fn deep_nesting_does_not_crash() {
    let depth = 100_000;
    let solve = format!(
        "{}[\"bytes.lit\",\"x\"]{}",
        "[\"begin\",".repeat(depth),
        "]".repeat(depth)
    );
    let (output, report, _) = run_program(&program(&solve, ""), &[]);
    assert!(matches!(output.status.code(), Some(0) | Some(1)));
    assert!(report["compile"].is_object());
}

#[test]
fn an_infinite_loop_stops_at_the_fuel_limit() {
    let solve =
        r#"["begin",["let","i",0],["while",1,["set","i",["+","i",1]]],["bytes.lit","never"]]"#;
    let (output, report, _) = run_program(&program(solve, ""), &["--solve-fuel", "100000"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(report["solve"]["trap"], "fuel exhausted");
    assert_eq!(
        report["solve"]["trap_help"],
        "fuel limit 100000 reached; raise it with --solve-fuel or scope costs with budget.scope_v1"
    );
}

#[test]
fn an_infinite_loop_with_huge_fuel_stops_at_the_cpu_limit() {
    let solve =
        r#"["begin",["let","i",0],["while",1,["set","i",["+","i",1]]],["bytes.lit","never"]]"#;
    let (output, report, elapsed) = run_program(
        &program(solve, ""),
        &[
            "--solve-fuel",
            "1000000000000",
            "--cpu-time-limit-seconds",
            "1",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(report["solve"]["exit_status"], 137);
    let trap = report["solve"]["trap"].as_str().unwrap();
    assert!(
        trap == "terminated by signal 9" || trap == "timed out",
        "{trap}"
    );
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[test]
fn unbounded_allocation_is_out_of_memory() {
    let solve = r#"["begin",["let","b",["bytes.alloc",["std.codec.read_u32_le","input",0]]],["std.fmt.s32_to_dec",["bytes.len","b"]]]"#;
    // 2,000,000,000 bytes.
    let (output, report, _) = run_program(
        &program(solve, r#""std.codec","std.fmt""#),
        &["--input-b64", "AJQ1dw=="],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(report["solve"]["trap"], "out of memory");
}

#[test]
fn unbounded_output_is_cut_at_the_cap() {
    let solve = r#"["bytes.alloc",["std.codec.read_u32_le","input",0]]"#;
    // 60,000,000 bytes with the heap raised so the program can build them.
    let (output, report, _) = run_program(
        &program(solve, r#""std.codec""#),
        &["--input-b64", "AIeTAw==", "--max-memory-bytes", "200000000"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(report["solve"]["trap"], "stdout exceeded cap");
    let stdout = report["solve"]["stdout_b64"].as_str().unwrap();
    use base64::Engine as _;
    let cut = base64::engine::general_purpose::STANDARD
        .decode(stdout)
        .unwrap();
    assert_eq!(cut.len(), 4 + 1_048_576 + 1);
    assert_eq!(report["solve"]["mem_stats"], Value::Null);
}

#[test]
fn bad_flags_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["run", "--solve-fuel", "abc"],
        vec!["run", "--repair", "sometimes"],
        vec!["run", "--report", "xml"],
        vec!["policy", "init", "--template", "nope"],
        vec!["frobnicate"],
    ] {
        let (output, _) = run(dir.path(), &args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
    let (output, _) = run(dir.path(), &["run", "--help"]);
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn library_entry_returns_usage_codes_in_process() {
    use std::ffi::OsString;
    let args: Vec<OsString> = ["run", "--program", "x.json", "--repair=off"]
        .iter()
        .map(OsString::from)
        .collect();
    assert_eq!(
        x07_lite::cli::main_with_args(args, vec![OsString::from("__x07")]),
        2
    );
    let args: Vec<OsString> = ["run", "--bogus-flag"].iter().map(OsString::from).collect();
    assert_eq!(x07_lite::cli::main_with_args(args, Vec::new()), 2);
}

#[test]
fn denied_sandbox_writes_never_touch_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let policy = x07_lite::templates::template_json("cli").unwrap();
    std::fs::write(dir.path().join("policy.json"), policy).unwrap();
    let solve = r#"["std.fmt.s32_to_dec",["os.fs.write_file",["view.to_bytes","input"],["bytes.lit","X"]]]"#;
    std::fs::write(
        dir.path().join("w.x07.json"),
        program(solve, r#""std.fmt""#),
    )
    .unwrap();
    let outside = dir.path().join("outside.txt");
    let outside_b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(outside.to_string_lossy().as_bytes())
    };
    let (output, _) = run(
        dir.path(),
        &[
            "run",
            "--program",
            "w.x07.json",
            "--repair=off",
            "--world",
            "run-os-sandboxed",
            "--policy",
            "policy.json",
            "--sandbox-backend",
            "os",
            "--i-accept-weaker-isolation",
            "--input-b64",
            &outside_b64,
        ],
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["solve"]["trap"], "os.fs.write_file unsafe path");
    assert_eq!(report["sandbox_backend"], "os");
    assert!(!outside.exists());
}
