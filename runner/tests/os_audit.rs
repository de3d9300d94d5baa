//! A second, independent pass over the OS side of x07-lite, row by row against
//! `observed-behaviour.md` §1–§5 and `subset.md` §10–§11, for the rows the probe-set
//! replays (`cli.rs`, `os_builtins.rs`, `policy_overrides.rs`) do not reach: the
//! process ABI's validation, spawn, timeout and output-limit rules (exactly-at-cap
//! included), handles and generations, the process trap texts, processes left behind
//! by a killed solver, denied operations that must not touch the OS, the stdout/stderr
//! split of usage errors, the report options and the lockfile.
//!
//! Everything runs through the real `x07-lite` binary.

#[path = "data/probes/harness.rs"]
mod harness;
#[path = "support/proc_req.rs"]
mod proc_req;
use proc_req::req;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use harness::*;
use serde_json::Value;

// ------------------------------------------------------------------------------------
// Helpers

/// Runs x07-lite with `args` in `dir` (no `X07_*` variables inherited).
fn x07(dir: &Path, args: &[&str]) -> Output {
    x07_env(dir, args, &[])
}

fn x07_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_x07-lite"));
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, _) in std::env::vars() {
        if key.starts_with("X07_") {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().copied());
    command.output().unwrap()
}

/// `ProcCapsV1` (17 bytes).
fn caps(stdout: u32, stderr: u32, timeout_ms: u32, total: u32) -> Vec<u8> {
    let mut out = vec![1];
    for value in [stdout, stderr, timeout_ms, total] {
        out.extend_from_slice(&value.to_le_bytes());
    }
    out
}

fn u32_at(doc: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([doc[at], doc[at + 1], doc[at + 2], doc[at + 3]])
}

/// A result document as `OK exit=N out=.. err=..` or `ERR n`.
fn render_doc(doc: &[u8]) -> String {
    match doc {
        [1, 1, ..] if doc.len() >= 14 => {
            let out_len = u32_at(doc, 10) as usize;
            let err_len = u32_at(doc, 14 + out_len) as usize;
            format!(
                "OK exit={} out={:?} err={:?}",
                u32_at(doc, 2) as i32,
                String::from_utf8_lossy(&doc[14..14 + out_len]),
                String::from_utf8_lossy(&doc[18 + out_len..18 + out_len + err_len])
            )
        }
        [0, ..] if doc.len() == 9 => format!("ERR {}", u32_at(doc, 1)),
        _ => format!("BAD {doc:?}"),
    }
}

fn unhex(text: &[u8]) -> Vec<u8> {
    text.chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

fn entry(solve: &str, imports: &[&str]) -> String {
    let imports: Vec<String> = imports.iter().map(|i| format!("{i:?}")).collect();
    format!(
        r#"{{"decls":[],"imports":[{}],"kind":"entry","module_id":"main","schema_version":"x07.x07ast@0.8.0","solve":{solve}}}"#,
        imports.join(",")
    )
}

/// The request and caps a process program reads from its input (caps, then request).
const REQ: &str = r#"["view.to_bytes",["view.slice","input",17,["-",["view.len","input"],17]]]"#;
const CAPS: &str = r#"["view.to_bytes",["view.slice","input",0,17]]"#;

const SB: [&str; 5] = [
    "--profile",
    "sandbox",
    "--sandbox-backend",
    "os",
    "--i-accept-weaker-isolation",
];

/// Runs `program` (written as `p.x07.json` into `dir`) with caps + request as input.
fn run_proc(dir: &Path, program: &str, input: &[u8], extra: &[&str]) -> (Output, Value) {
    std::fs::write(dir.join("p.x07.json"), program).unwrap();
    let b64 = B64.encode(input);
    let mut args = vec![
        "run",
        "--program",
        "p.x07.json",
        "--module-root",
        ".",
        "--repair=off",
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--input-b64", &b64]);
    let output = x07(dir, &args);
    let report = runner_report(&output.stdout).unwrap_or_else(|| {
        panic!(
            "no report: rc {:?} stderr {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let errors = schema_errors(&report);
    assert!(errors.is_empty(), "report fails the schema: {errors:?}");
    (output, report)
}

/// The decoded output, or the trap as `TRAP <text>`.
fn outcome(report: &Value) -> String {
    if let Some(error) = report["compile"]["compile_error"].as_str() {
        return format!("COMPILE {error}");
    }
    match report["solve"]["trap"].as_str() {
        Some(trap) => format!("TRAP {trap}"),
        None => String::from_utf8_lossy(&solve_output(report)).to_string(),
    }
}

// ------------------------------------------------------------------------------------
// subset.md §11.2: request/caps validation, spawn failures, timeouts, output limits

#[test]
fn process_abi_rows() {
    let copy = copy_probe("os-builtins-matrix");
    let dir = &copy.dir;
    std::fs::write(dir.join("plain.txt"), "not executable").unwrap();
    let plain = dir.join("plain.txt").display().to_string();
    let run_capture = entry(
        &format!(r#"["std.codec.hex_encode_v1",["os.process.run_capture_v1",{REQ},{CAPS}]]"#),
        &["std.codec"],
    );
    let big = caps(65536, 65536, 5000, 0);
    let echo = req(&["/bin/echo", "hello"], &[], "", "");
    let mut truncated = echo.clone();
    truncated.truncate(echo.len() - 3);
    let mut bad_version = echo.clone();
    bad_version[0] = 2;
    let mut bad_flags = echo.clone();
    bad_flags[1] = 1;
    let mut argc_zero = vec![1, 0, 0, 0, 0, 0];
    argc_zero.extend_from_slice(&[0; 12]);
    let many: Vec<&str> = std::iter::repeat_n("/bin/echo", 129).collect();
    let at_max: Vec<&str> = std::iter::repeat_n("/bin/echo", 128).collect();
    let env_257: Vec<(&str, &str)> = std::iter::repeat_n(("K", "v"), 257).collect();
    let mut short_caps = big.clone();
    short_caps.pop();
    let mut caps_tag = big.clone();
    caps_tag[0] = 2;

    let rows: Vec<(&str, Vec<u8>, Vec<u8>, String)> = vec![
        // Validation: code 2.
        ("caps 16 bytes", short_caps, echo.clone(), "ERR 2".into()),
        ("caps tag 2", caps_tag, echo.clone(), "ERR 2".into()),
        (
            "request 5 bytes",
            big.clone(),
            vec![1, 0, 1, 0, 0],
            "ERR 2".into(),
        ),
        ("version 2", big.clone(), bad_version, "ERR 2".into()),
        ("flags 1", big.clone(), bad_flags, "ERR 2".into()),
        ("argc 0", big.clone(), argc_zero, "ERR 2".into()),
        (
            "argc 129",
            big.clone(),
            req(&many, &[], "", ""),
            "ERR 2".into(),
        ),
        (
            "argc 128",
            big.clone(),
            req(&at_max, &[], "", ""),
            format!(
                "OK exit=0 out={:?} err=\"\"",
                format!("{}\n", at_max[1..].join(" "))
            ),
        ),
        (
            "length past the end",
            big.clone(),
            truncated,
            "ERR 2".into(),
        ),
        (
            "empty argv[0]",
            big.clone(),
            req(&[""], &[], "", ""),
            "ERR 2".into(),
        ),
        (
            "env_count 257",
            big.clone(),
            req(&["/bin/echo"], &env_257, "", ""),
            "ERR 2".into(),
        ),
        (
            "empty env key",
            big.clone(),
            req(&["/bin/echo"], &[("", "v")], "", ""),
            "ERR 2".into(),
        ),
        // Spawn failures: code 3.
        (
            "relative exe",
            big.clone(),
            req(&["echo", "hi"], &[], "", ""),
            "ERR 3".into(),
        ),
        (
            "missing exe",
            big.clone(),
            req(&["/nonexistent/bin"], &[], "", ""),
            "ERR 3".into(),
        ),
        (
            "not executable",
            big.clone(),
            req(&[plain.as_str()], &[], "", ""),
            "ERR 3".into(),
        ),
        (
            "missing cwd",
            big.clone(),
            req(&["/bin/pwd"], &[], "/nonexistent-dir", ""),
            "ERR 3".into(),
        ),
        // Execution.
        (
            "env is exactly the request's",
            big.clone(),
            req(&["/usr/bin/env"], &[("A", "1")], "", ""),
            "OK exit=0 out=\"A=1\\n\" err=\"\"".into(),
        ),
        (
            "no cwd: the run's cwd",
            big.clone(),
            req(&["/bin/pwd"], &[], "", ""),
            format!(
                "OK exit=0 out={:?} err=\"\"",
                format!("{}\n", dir.display())
            ),
        ),
        (
            "empty stdin is closed at once",
            big.clone(),
            req(&["/bin/cat"], &[], "", ""),
            "OK exit=0 out=\"\" err=\"\"".into(),
        ),
        (
            "signal death is 128 + n",
            big.clone(),
            req(&["/bin/sh", "-c", "kill -9 $$"], &[], "", ""),
            "OK exit=137 out=\"\" err=\"\"".into(),
        ),
        (
            "timeout 0 is no timeout",
            caps(100, 100, 0, 0),
            req(&["/bin/sh", "-c", "sleep 0.3; echo done"], &[], "", ""),
            "OK exit=0 out=\"done\\n\" err=\"\"".into(),
        ),
        (
            "timeout",
            caps(100, 100, 200, 0),
            req(&["/bin/sleep", "5"], &[], "", ""),
            "ERR 4".into(),
        ),
        (
            "timeout kills the whole tree",
            caps(100, 100, 200, 0),
            req(&["/bin/sh", "-c", "sleep 5; echo late"], &[], "", ""),
            "ERR 4".into(),
        ),
        // Output limits: reaching a cap is code 5, exactly-at-cap included.
        (
            "stdout exactly at cap",
            caps(6, 100, 5000, 0),
            echo.clone(),
            "ERR 5".into(),
        ),
        (
            "stdout one under cap",
            caps(7, 100, 5000, 0),
            echo.clone(),
            "OK exit=0 out=\"hello\\n\" err=\"\"".into(),
        ),
        (
            "stderr exactly at cap",
            caps(100, 6, 5000, 0),
            req(&["/bin/sh", "-c", "echo hello >&2"], &[], "", ""),
            "ERR 5".into(),
        ),
        (
            "stderr one under cap",
            caps(100, 7, 5000, 0),
            req(&["/bin/sh", "-c", "echo hello >&2"], &[], "", ""),
            "OK exit=0 out=\"\" err=\"hello\\n\"".into(),
        ),
        (
            "total at cap",
            caps(100, 100, 5000, 6),
            echo.clone(),
            "ERR 5".into(),
        ),
        (
            "total 0 is stdout + stderr",
            caps(7, 7, 5000, 0),
            echo.clone(),
            "OK exit=0 out=\"hello\\n\" err=\"\"".into(),
        ),
        (
            "zero stdout cap with no output",
            caps(0, 100, 5000, 0),
            req(&["/bin/true"], &[], "", ""),
            "ERR 5".into(),
        ),
        (
            "endless output stops at the cap",
            caps(1000, 100, 10000, 0),
            req(&["/usr/bin/yes"], &[], "", ""),
            "ERR 5".into(),
        ),
    ];
    let mut problems = Vec::new();
    for (name, caps, request, expected) in rows {
        let mut input = caps;
        input.extend_from_slice(&request);
        let (output, report) = run_proc(dir, &run_capture, &input, &[]);
        let got = match report["solve"]["trap"].as_str() {
            Some(trap) => format!("TRAP {trap}"),
            None => render_doc(&unhex(&solve_output(&report))),
        };
        if got != expected || output.status.code() != Some(0) {
            problems.push(format!(
                "{name}: expected {expected}, got {got} (rc {:?})",
                output.status.code()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn nul_bytes_in_a_request_trap() {
    let copy = copy_probe("os-builtins-matrix");
    let run_capture = entry(
        &format!(r#"["std.codec.hex_encode_v1",["os.process.run_capture_v1",{REQ},{CAPS}]]"#),
        &["std.codec"],
    );
    let mut input = caps(100, 100, 1000, 0);
    input.extend_from_slice(&req(&["/bin/echo", "a\0b"], &[], "", ""));
    let (output, report) = run_proc(&copy.dir, &run_capture, &input, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(report["solve"]["exit_status"], 132);
    assert!(outcome(&report).starts_with("TRAP os.process.spawn_capture_v1 argv contains NUL"));
}

// ------------------------------------------------------------------------------------
// subset.md §10.3 / §11.1: handles, generations and the process trap texts

#[test]
fn handles_traps_and_values() {
    let copy = copy_probe("os-builtins-matrix");
    let dir = &copy.dir;
    let dec = |name: &str| format!(r#"["std.fmt.s32_to_dec","{name}"]"#);
    let dec_expr = |e: &str| format!(r#"["std.fmt.s32_to_dec",{e}]"#);
    let join = |parts: &[String]| -> String {
        let mut acc = r#"["bytes.lit",""]"#.to_string();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                acc = format!(r#"["bytes.concat",{acc},["bytes.lit",","]]"#);
            }
            acc = format!(r#"["bytes.concat",{acc},{part}]"#);
        }
        acc
    };
    let spawn = format!(r#"["os.process.spawn_capture_v1",{REQ},{CAPS}]"#);
    let piped = format!(r#"["os.process.spawn_piped_v1",{REQ},{CAPS}]"#);
    let lets = |body: &[(&str, String)], result: String| -> String {
        let mut items = vec![r#""begin""#.to_string()];
        for (name, value) in body {
            items.push(format!(r#"["let","{name}",{value}]"#));
        }
        items.push(result);
        format!("[{}]", items.join(","))
    };
    let quick = {
        let mut input = caps(1000, 1000, 5000, 0);
        input.extend_from_slice(&req(&["/bin/echo", "hi"], &[], "", ""));
        input
    };
    let slow = {
        let mut input = caps(1000, 1000, 10000, 0);
        input.extend_from_slice(&req(&["/bin/sleep", "5"], &[], "", ""));
        input
    };
    let missing = {
        let mut input = caps(1000, 1000, 5000, 0);
        input.extend_from_slice(&req(&["/nonexistent/x"], &[], "", ""));
        input
    };
    let cat = {
        let mut input = caps(1000, 1000, 5000, 0);
        input.extend_from_slice(&req(&["/bin/cat"], &[], "", ""));
        input
    };
    let rows: Vec<(&str, String, &Vec<u8>, &str)> = vec![
        (
            "first handles, slot reuse bumps the generation",
            lets(
                &[
                    ("a", spawn.clone()),
                    ("b", spawn.clone()),
                    ("x", r#"["os.process.drop_v1","a"]"#.into()),
                    ("c", spawn.clone()),
                    ("d", spawn.clone()),
                ],
                join(&[dec("a"), dec("b"), dec("x"), dec("c"), dec("d")]),
            ),
            &quick,
            "65537,65538,1,131073,65539",
        ),
        (
            "join_exit, take_exit, try_wait",
            lets(
                &[
                    ("a", spawn.clone()),
                    ("j", r#"["os.process.join_exit_v1","a"]"#.into()),
                    ("w", r#"["os.process.try_wait_v1","a"]"#.into()),
                    ("e", r#"["os.process.take_exit_v1","a"]"#.into()),
                ],
                join(&[dec("j"), dec("w"), dec("e")]),
            ),
            &quick,
            "1,1,0",
        ),
        (
            "take_exit of a failed spawn is -code",
            lets(
                &[
                    ("a", spawn.clone()),
                    ("j", r#"["os.process.join_exit_v1","a"]"#.into()),
                    ("e", r#"["os.process.take_exit_v1","a"]"#.into()),
                ],
                join(&[dec("a"), dec("e")]),
            ),
            &missing,
            "65537,-3",
        ),
        (
            "take_exit before exit",
            lets(
                &[
                    ("a", spawn.clone()),
                    ("e", r#"["os.process.take_exit_v1","a"]"#.into()),
                ],
                dec("e"),
            ),
            &slow,
            "TRAP os.process.take_exit_v1 before exit",
        ),
        (
            "take_exit twice",
            lets(
                &[
                    ("a", spawn.clone()),
                    ("j", r#"["os.process.join_exit_v1","a"]"#.into()),
                    ("e", r#"["os.process.take_exit_v1","a"]"#.into()),
                    ("f", r#"["os.process.take_exit_v1","a"]"#.into()),
                ],
                dec("f"),
            ),
            &quick,
            "TRAP os.process.take_exit_v1 already taken",
        ),
        (
            "join_capture twice",
            lets(
                &[
                    ("a", spawn.clone()),
                    ("d", r#"["os.process.join_capture_v1","a"]"#.into()),
                    ("e", r#"["os.process.join_capture_v1","a"]"#.into()),
                ],
                r#"["bytes.lit","never"]"#.into(),
            ),
            &quick,
            "TRAP os.process join already taken",
        ),
        (
            "kill a running child, then its exit is 128 + 9",
            lets(
                &[
                    ("a", spawn.clone()),
                    ("w", r#"["os.process.try_wait_v1","a"]"#.into()),
                    ("k", r#"["os.process.kill_v1","a",9]"#.into()),
                    ("j", r#"["os.process.join_exit_v1","a"]"#.into()),
                    ("e", r#"["os.process.take_exit_v1","a"]"#.into()),
                    ("l", r#"["os.process.kill_v1","a",9]"#.into()),
                ],
                join(&[dec("w"), dec("k"), dec("e"), dec("l")]),
            ),
            &slow,
            "0,1,137,0",
        ),
        (
            "a never issued handle",
            dec_expr(r#"["os.process.try_wait_v1",12345]"#),
            &quick,
            "TRAP os.process invalid handle",
        ),
        (
            "handle 0",
            dec_expr(r#"["os.process.take_exit_v1",0]"#),
            &quick,
            "TRAP os.process invalid handle",
        ),
        (
            "a dropped handle",
            lets(
                &[
                    ("a", spawn.clone()),
                    ("x", r#"["os.process.drop_v1","a"]"#.into()),
                    ("w", r#"["os.process.try_wait_v1","a"]"#.into()),
                ],
                dec("w"),
            ),
            &slow,
            "TRAP os.process invalid handle",
        ),
        (
            "join_capture of a piped handle",
            lets(
                &[
                    ("a", piped.clone()),
                    ("d", r#"["os.process.join_capture_v1","a"]"#.into()),
                ],
                r#""d""#.into(),
            ),
            &quick,
            "TRAP os.process.join_capture_v1 invalid proc mode",
        ),
        (
            "stdout_read of a capture handle",
            lets(
                &[("a", spawn.clone())],
                r#"["os.process.stdout_read_v1","a",10]"#.into(),
            ),
            &quick,
            "TRAP os.process.stdout_read_v1 invalid proc mode",
        ),
        (
            "piped: write, close, read back",
            lets(
                &[
                    ("a", piped.clone()),
                    (
                        "w",
                        r#"["os.process.stdin_write_v1","a",["bytes.lit","abc"]]"#.into(),
                    ),
                    ("c", r#"["os.process.stdin_close_v1","a"]"#.into()),
                    ("c2", r#"["os.process.stdin_close_v1","a"]"#.into()),
                    ("j", r#"["os.process.join_exit_v1","a"]"#.into()),
                    ("o", r#"["os.process.stdout_read_v1","a",100]"#.into()),
                    ("e", r#"["os.process.take_exit_v1","a"]"#.into()),
                ],
                join(&[dec("w"), dec("c"), dec("c2"), r#""o""#.into(), dec("e")]),
            ),
            &cat,
            "1,1,0,abc,0",
        ),
        (
            "piped: partial reads, max <= 0, writes after close",
            lets(
                &[
                    ("a", piped.clone()),
                    (
                        "w",
                        r#"["os.process.stdin_write_v1","a",["bytes.lit","abc"]]"#.into(),
                    ),
                    ("c", r#"["os.process.stdin_close_v1","a"]"#.into()),
                    (
                        "w2",
                        r#"["os.process.stdin_write_v1","a",["bytes.lit","x"]]"#.into(),
                    ),
                    ("j", r#"["os.process.join_exit_v1","a"]"#.into()),
                    ("z", r#"["os.process.stdout_read_v1","a",0]"#.into()),
                    ("n", r#"["os.process.stdout_read_v1","a",-1]"#.into()),
                    ("o", r#"["os.process.stdout_read_v1","a",2]"#.into()),
                    ("p", r#"["os.process.stdout_read_v1","a",2]"#.into()),
                    ("q", r#"["os.process.stdout_read_v1","a",2]"#.into()),
                    ("e", r#"["os.process.stderr_read_v1","a",10]"#.into()),
                ],
                join(&[
                    dec("w2"),
                    r#""z""#.into(),
                    r#""n""#.into(),
                    r#""o""#.into(),
                    r#""p""#.into(),
                    r#""q""#.into(),
                    r#""e""#.into(),
                ]),
            ),
            &cat,
            "0,,,ab,c,,",
        ),
    ];
    let mut problems = Vec::new();
    for (name, solve, input, expected) in rows {
        let program = entry(&solve, &["std.fmt"]);
        let (_, report) = run_proc(dir, &program, input, &[]);
        let got = outcome(&report);
        // Runtime traps may carry a ` ptr=` suffix.
        let matches = got == expected
            || (expected.starts_with("TRAP ") && got.starts_with(&format!("{expected} ptr=")));
        if !matches {
            problems.push(format!("{name}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn sandbox_process_limits_are_error_documents() {
    let copy = copy_probe("os-builtins-matrix");
    let dir = &copy.dir;
    let mut policy: Value =
        serde_json::from_slice(&std::fs::read(dir.join("pol-allow.json")).unwrap()).unwrap();
    policy["process"]["max_live"] = 1.into();
    policy["process"]["max_spawns"] = 2.into();
    policy["process"]["allow_execs"] = serde_json::json!(["/bin/sleep", "/bin/echo"]);
    std::fs::write(dir.join("pol-live.json"), policy.to_string()).unwrap();
    // Three spawns of a long sleep: the second exceeds max_live (err 1, still a handle).
    let spawn = format!(r#"["os.process.spawn_capture_v1",{REQ},{CAPS}]"#);
    let solve = format!(
        r#"["begin",["let","a",{spawn}],["let","b",{spawn}],["let","k",["os.process.kill_v1","a",9]],["let","j",["os.process.join_exit_v1","a"]],["let","x",["os.process.drop_v1","a"]],["let","c",{spawn}],["let","d",{spawn}],["bytes.concat",["std.codec.hex_encode_v1",["os.process.join_capture_v1","b"]],["bytes.concat",["bytes.lit",","],["bytes.concat",["std.codec.hex_encode_v1",["os.process.join_capture_v1","d"]],["bytes.concat",["bytes.lit",","],["std.fmt.s32_to_dec","c"]]]]]]"#
    );
    let program = entry(&solve, &["std.codec", "std.fmt"]);
    let mut input = caps(100, 100, 3000, 0);
    input.extend_from_slice(&req(&["/bin/sleep", "0.5"], &[], "", ""));
    let mut args = SB.to_vec();
    args.extend_from_slice(&["--policy", "pol-live.json"]);
    let (output, report) = run_proc(dir, &program, &input, &args);
    assert_eq!(output.status.code(), Some(0), "{report}");
    let text = String::from_utf8(solve_output(&report)).unwrap();
    let parts: Vec<&str> = text.split(',').collect();
    // b: denied by max_live; d: denied by max_spawns (a and c were spawned); c: a handle.
    assert_eq!(render_doc(&unhex(parts[0].as_bytes())), "ERR 1");
    assert_eq!(render_doc(&unhex(parts[1].as_bytes())), "ERR 1");
    assert_eq!(parts[2], "131073");
}

// ------------------------------------------------------------------------------------
// No process is left behind; a denied operation never touches the OS

fn running_with_marker(marker: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|entry| {
        std::fs::read(entry.path().join("cmdline"))
            .map(|cmd| {
                let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
                cmd.contains(marker) && cmd.contains("sleep")
            })
            .unwrap_or(false)
    })
}

#[test]
fn children_never_outlive_the_run() {
    let copy = copy_probe("os-builtins-matrix");
    let dir = &copy.dir;
    let mut policy: Value =
        serde_json::from_slice(&std::fs::read(dir.join("pol-allow.json")).unwrap()).unwrap();
    policy["process"]["allow_execs"] = serde_json::json!(["/bin/sleep", "/bin/sh"]);
    policy["limits"]["wall_ms"] = 1500.into();
    std::fs::write(dir.join("pol-sleep.json"), policy.to_string()).unwrap();
    let spawn = format!(r#"["os.process.spawn_capture_v1",{REQ},{CAPS}]"#);
    let endless = format!(
        r#"["begin",["let","h",{spawn}],["let","i",0],["while",1,["set","i",["+","i",1]]],["std.fmt.s32_to_dec","h"]]"#
    );
    let returns = format!(r#"["begin",["let","h",{spawn}],["std.fmt.s32_to_dec","h"]]"#);
    let exits = format!(r#"["begin",["let","h",{spawn}],["os.process.exit",3]]"#);
    let traps = format!(
        r#"["begin",["let","h",{spawn}],["view.to_bytes",["view.slice","input",0,100000]]]"#
    );
    let cases: Vec<(&str, String, Vec<&str>, &str, bool)> = vec![
        ("run-os, returns", returns.clone(), vec![], "7.1001", false),
        ("run-os, exits", exits, vec![], "7.1002", false),
        ("run-os, traps", traps, vec![], "7.1003", false),
        (
            "run-os, killed by the CPU limit",
            endless.clone(),
            vec![
                "--cpu-time-limit-seconds",
                "1",
                "--solve-fuel",
                "100000000000",
            ],
            "7.1004",
            true,
        ),
        (
            "sandbox, killed by the wall limit",
            endless,
            [
                SB.as_slice(),
                &["--policy", "pol-sleep.json", "--solve-fuel", "100000000000"],
            ]
            .concat(),
            "7.1005",
            true,
        ),
        (
            "sandbox, returns",
            returns,
            [SB.as_slice(), &["--policy", "pol-sleep.json"]].concat(),
            "7.1006",
            false,
        ),
    ];
    let mut problems = Vec::new();
    for (name, solve, extra, marker, killed) in cases {
        // A shell that starts a grandchild in the same group: both must go.
        let mut input = caps(100, 100, 0, 0);
        input.extend_from_slice(&req(
            &["/bin/sh", "-c", &format!("/bin/sleep {marker}; :")],
            &[],
            "",
            "",
        ));
        let program = entry(&solve, &["std.fmt"]);
        let (_, report) = run_proc(dir, &program, &input, &extra);
        let status = &report["solve"]["exit_status"];
        if killed != (status == 137) {
            problems.push(format!("{name}: exit_status {status}"));
        }
        // The report's stderr is the solver's own: a trap text or the stats line.
        let stderr = B64
            .decode(report["solve"]["stderr_b64"].as_str().unwrap_or(""))
            .unwrap();
        let stderr = String::from_utf8_lossy(&stderr).to_string();
        let expected_stderr = match report["solve"]["trap"].as_str() {
            _ if killed => stderr.is_empty(),
            Some("native stdout too short for length prefix") => stderr.is_empty(),
            Some(trap) => stderr == format!("{trap}\n"),
            None => stderr.starts_with("{\"fuel_used\":") && stderr.lines().count() == 1,
        };
        if !expected_stderr {
            problems.push(format!("{name}: stderr {stderr:?}"));
        }
        // Let a SIGKILLed group disappear from /proc.
        let started = Instant::now();
        while running_with_marker(marker) && started.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(20));
        }
        if running_with_marker(marker) {
            problems.push(format!("{name}: `sleep {marker}` is still running"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn denied_operations_never_touch_the_os() {
    let copy = copy_probe("os-builtins-matrix");
    let dir = &copy.dir;
    let target = tempfile::tempdir().unwrap();
    let outside = target.path().join("written.txt");
    let marker = target.path().join("touched");
    let sandbox = [SB.as_slice(), &["--policy", "pol-allow.json"]].concat();

    // os.fs.write_file to an absolute path: trap, no file.
    let write = entry(
        r#"["std.fmt.s32_to_dec",["os.fs.write_file",["view.to_bytes","input"],["bytes.lit","X"]]]"#,
        &["std.fmt"],
    );
    let (_, report) = run_proc(
        dir,
        &write,
        outside.display().to_string().as_bytes(),
        &sandbox,
    );
    assert_eq!(outcome(&report), "TRAP os.fs.write_file unsafe path");
    assert!(!outside.exists());
    // Hidden and `..` paths: trap, nothing written anywhere.
    for path in ["out/.hidden.txt", "../escape.txt"] {
        let (_, report) = run_proc(dir, &write, path.as_bytes(), &sandbox);
        assert!(
            outcome(&report).starts_with("TRAP os.fs.write_file"),
            "{path}"
        );
        assert!(!dir.join(path).exists(), "{path}");
    }
    // fs disabled: not even a write inside the write root.
    let fs_off = [SB.as_slice(), &["--policy", "pol-fsoff.json"]].concat();
    let (_, report) = run_proc(dir, &write, b"out/never.txt", &fs_off);
    assert_eq!(outcome(&report), "TRAP os.fs disabled by policy");
    assert!(!dir.join("out/never.txt").exists());

    // A process the policy does not allow is never started.
    let run_capture = entry(
        &format!(r#"["std.codec.hex_encode_v1",["os.process.run_capture_v1",{REQ},{CAPS}]]"#),
        &["std.codec"],
    );
    let mut input = caps(100, 100, 1000, 0);
    input.extend_from_slice(&req(
        &["/usr/bin/touch", &marker.display().to_string()],
        &[],
        "",
        "",
    ));
    for policy in ["pol-allow.json", "pol-procoff.json", "pol-nospawn.json"] {
        let args = [SB.as_slice(), &["--policy", policy]].concat();
        let (output, report) = run_proc(dir, &run_capture, &input, &args);
        assert_eq!(output.status.code(), Some(0));
        assert_eq!(
            render_doc(&unhex(&solve_output(&report))),
            "ERR 1",
            "{policy}"
        );
        assert!(!marker.exists(), "{policy}");
    }
    // ... while run-os does start it (the request itself is fine).
    let (_, report) = run_proc(dir, &run_capture, &input, &[]);
    assert!(render_doc(&unhex(&solve_output(&report))).starts_with("OK exit=0"));
    assert!(marker.exists());
}

// ------------------------------------------------------------------------------------
// §1.8: the program's environment

#[test]
fn the_program_sees_the_callers_environment() {
    let copy = copy_probe("os-builtins-matrix");
    let dir = &copy.dir;
    let env_get = entry(r#"["os.env.get",["view.to_bytes","input"]]"#, &[]);
    type EnvRow<'a> = (&'a str, Vec<&'a str>, &'a [(&'a str, &'a str)], &'a str);
    let rows: Vec<EnvRow> = vec![
        (
            "AUDIT_VAR",
            vec![],
            &[("AUDIT_VAR", "from-caller")],
            "from-caller",
        ),
        ("X07_WORLD", vec![], &[], "run-os"),
        ("X07_OS_SANDBOXED", vec![], &[], ""),
        (
            "X07_WORLD",
            [SB.as_slice(), &["--policy", "pol-envpeek.json"]].concat(),
            &[],
            "run-os-sandboxed",
        ),
        (
            "X07_OS_SANDBOXED",
            [SB.as_slice(), &["--policy", "pol-envpeek.json"]].concat(),
            &[],
            "1",
        ),
    ];
    let mut problems = Vec::new();
    for (key, extra, env, expected) in rows {
        std::fs::write(dir.join("p.x07.json"), &env_get).unwrap();
        let b64 = B64.encode(key);
        let mut args = vec![
            "run",
            "--program",
            "p.x07.json",
            "--module-root",
            ".",
            "--repair=off",
        ];
        args.extend_from_slice(&extra);
        args.extend_from_slice(&["--input-b64", &b64]);
        let output = x07_env(dir, &args, env);
        let report = runner_report(&output.stdout).unwrap();
        let got = outcome(&report);
        if got != expected {
            problems.push(format!(
                "{key} {extra:?}: expected {expected:?}, got {got:?}"
            ));
        }
    }
    // An inherited X07_OS_SANDBOXED=1 turns a run-os run into a deny-all sandbox.
    let output = x07_env(
        dir,
        &[
            "run",
            "--program",
            "p.x07.json",
            "--module-root",
            ".",
            "--repair=off",
            "--input-b64",
            "SE9NRQ==",
        ],
        &[("X07_OS_SANDBOXED", "1")],
    );
    let report = runner_report(&output.stdout).unwrap();
    if outcome(&report) != "TRAP os.env disabled by policy" || report["world"] != "run-os" {
        problems.push(format!("forced sandbox: {}", outcome(&report)));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ------------------------------------------------------------------------------------
// §1.1: usage errors print one line on stderr and nothing on stdout (rc 2)

#[test]
fn usage_errors_are_one_stderr_line() {
    let copy = copy_probe("cli-contract");
    let dir = &copy.dir;
    std::fs::write(dir.join("notes.txt"), "x").unwrap();
    let rows: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["run", "--program", "nothere.x07.json", "--repair=off"],
            "read program: nothere.x07.json: No such file or directory (os error 2)",
        ),
        (
            vec!["run", "--program", "echo.json", "--repair=off"],
            "--program must be an x07AST JSON file (*.x07.json), got echo.json",
        ),
        (
            vec!["run", "--repair=off"],
            "no project found (pass --project, --program, or --artifact)",
        ),
        (
            vec!["run", "--program", "echo.x07.json", "--project", ".", "--repair=off"],
            "set exactly one of --project, --program, or --artifact",
        ),
        (
            vec!["run", "--program", "echo.x07.json", "--repair=off", "--policy", "policy.json"],
            "--policy is only valid for --world run-os-sandboxed",
        ),
        (
            vec!["run", "--program", "echo.x07.json", "--repair=off", "--profile", "os"],
            "--profile requires a project manifest (--project or a discovered x07.json)",
        ),
        (
            vec!["run", "--program", "echo.x07.json", "--repair=off", "--input-b64", "!"],
            "decode --input-b64: Invalid symbol 33, offset 0.",
        ),
        (
            vec!["run", "--program", "echo.x07.json", "--repair=off", "--input", "nothere.bin"],
            "read input: nothere.bin: No such file or directory (os error 2)",
        ),
        (
            vec!["run", "--program", "echo.x07.json", "--repair=off", "--report-out", "-"],
            "--report-out '-' is not supported (stdout is reserved for the report)",
        ),
        (
            vec!["run", "--program", "echo.x07.json", "--repair=off", "--allow-host", "a.com:1"],
            "--allow-host/--deny-host/--allow-read-root/--allow-write-root requires run-os-sandboxed (policy-enforced OS world)",
        ),
        (
            vec!["run", "--program", "malformed.x07.json"],
            "repair program: malformed.x07.json: parse x07AST JSON: malformed.x07.json: EOF while parsing a value at line 1 column 52",
        ),
    ];
    let mut problems = Vec::new();
    for (args, expected) in rows {
        let output = x07(dir, &args);
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        if output.status.code() != Some(2)
            || !output.stdout.is_empty()
            || stderr != format!("{expected}\n")
        {
            problems.push(format!(
                "{args:?}: rc {:?} stdout {:?} stderr {stderr:?}",
                output.status.code(),
                String::from_utf8_lossy(&output.stdout)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ------------------------------------------------------------------------------------
// §1.4: report options; §5.1: every report validates

#[test]
fn report_options() {
    let copy = copy_probe("cli-contract");
    let dir = &copy.dir;
    let base = [
        "run",
        "--program",
        "echo.x07.json",
        "--repair=off",
        "--input-b64",
        "aGk=",
    ];

    // --report-out creates missing parents and writes the stdout bytes.
    let output = x07(
        dir,
        &[base.as_slice(), &["--report-out", "deep/er/r.json"]].concat(),
    );
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        std::fs::read(dir.join("deep/er/r.json")).unwrap(),
        output.stdout
    );
    let report = runner_report(&output.stdout).unwrap();
    assert!(schema_errors(&report).is_empty());

    // --quiet-json with --report-out: nothing on stdout, the file is written.
    let output = x07(
        dir,
        &[base.as_slice(), &["--report-out", "q.json", "--quiet-json"]].concat(),
    );
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty());
    let written = std::fs::read(dir.join("q.json")).unwrap();
    assert!(runner_report(&written).is_some());
    assert!(written.ends_with(b"}\n"));

    // A failing run still writes the file, with rc 1.
    let output = x07(
        dir,
        &[
            "run",
            "--program",
            "oob.x07.json",
            "--repair=off",
            "--report-out",
            "f.json",
            "--quiet-json",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let report = runner_report(&std::fs::read(dir.join("f.json")).unwrap()).unwrap();
    assert_eq!(report["exit_code"], 1);

    // --report wrapped: fixed key order, program target, inner report validates.
    let output = x07(dir, &[base.as_slice(), &["--report", "wrapped"]].concat());
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    let wrapped: Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&str> = wrapped
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["schema_version", "runner", "world", "target", "report"]
    );
    assert_eq!(wrapped["schema_version"], "x07.run.report@0.3.0");
    assert_eq!(wrapped["runner"], "os");
    assert_eq!(wrapped["target"]["kind"], "program");
    assert_eq!(wrapped["target"]["path"], "echo.x07.json");
    assert_eq!(wrapped["target"]["project_root"], Value::Null);
    assert!(schema_errors(&wrapped["report"]).is_empty());
    // With repair on there is a `repair` object before `report`.
    let output = x07(
        dir,
        &[
            "run",
            "--program",
            "echo.x07.json",
            "--input-b64",
            "aGk=",
            "--report",
            "wrapped",
        ],
    );
    let wrapped: Value = serde_json::from_slice(&output.stdout).unwrap();
    let keys: Vec<&str> = wrapped
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "schema_version",
            "runner",
            "world",
            "target",
            "repair",
            "report"
        ]
    );
    assert_eq!(
        wrapped["repair"],
        serde_json::json!({"mode":"write","iterations":1,"applied_ops_count":0,"last_lint_ok":true})
    );
}

#[test]
fn every_kind_of_report_validates() {
    let copy = copy_probe("os-builtins-matrix");
    let dir = &copy.dir;
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (
            vec![
                "run",
                "--program",
                "main.x07.json",
                "--module-root",
                ".",
                "--repair=off",
            ],
            0,
        ),
        // A trap, fuel, output cap, os.process.exit.
        (
            vec![
                "run",
                "--program",
                "loop.x07.json",
                "--module-root",
                ".",
                "--repair=off",
                "--solve-fuel",
                "1000",
            ],
            1,
        ),
        (
            vec![
                "run",
                "--program",
                "big.x07.json",
                "--module-root",
                ".",
                "--repair=off",
                "--max-output-bytes",
                "0",
                "--input-b64",
                "ZAAAAA==",
            ],
            1,
        ),
        (
            vec![
                "run",
                "--program",
                "pexit.x07.json",
                "--module-root",
                ".",
                "--repair=off",
                "--input-b64",
                "BwAAAA==",
            ],
            1,
        ),
        // The VM backend fails closed.
        (
            vec![
                "run",
                "--program",
                "main.x07.json",
                "--module-root",
                ".",
                "--repair=off",
                "--profile",
                "sandbox",
            ],
            1,
        ),
        // A sandboxed run, a compile error (the v1 fs API).
        (
            vec![
                "run",
                "--program",
                "env.x07.json",
                "--module-root",
                ".",
                "--repair=off",
                "--profile",
                "sandbox",
                "--sandbox-backend",
                "os",
                "--i-accept-weaker-isolation",
                "--input-b64",
                "UFJPQkVfU0VU",
            ],
            0,
        ),
        (
            vec![
                "run",
                "--program",
                "ra.x07.json",
                "--module-root",
                ".",
                "--repair=off",
                "--input-b64",
                "ZGF0YS50eHQ=",
            ],
            1,
        ),
        // A project target.
        (vec!["run", "--repair=off"], 0),
    ];
    let mut problems = Vec::new();
    for (args, rc) in cases {
        let output = x07(dir, &args);
        let Some(report) = runner_report(&output.stdout) else {
            problems.push(format!("{args:?}: no report"));
            continue;
        };
        if output.status.code() != Some(rc) || report["exit_code"] != rc {
            problems.push(format!(
                "{args:?}: rc {:?} exit_code {}",
                output.status.code(),
                report["exit_code"]
            ));
        }
        for error in schema_errors(&report) {
            problems.push(format!("{args:?}: {error}"));
        }
        let text = String::from_utf8_lossy(&output.stdout);
        if !text.ends_with("}\n") || !text.starts_with("{\n  \"") {
            problems.push(format!("{args:?}: not pretty JSON with a trailing newline"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ------------------------------------------------------------------------------------
// §1.5: the lockfile

#[test]
fn a_missing_lockfile_is_created() {
    let copy = copy_probe("os-builtins-matrix");
    let dir = &copy.dir;
    let expected = std::fs::read(dir.join("x07.lock.json")).unwrap();
    std::fs::remove_file(dir.join("x07.lock.json")).unwrap();
    let output = x07(dir, &["run", "--repair=off"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(std::fs::read(dir.join("x07.lock.json")).unwrap(), expected);
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "x07 run: hydrated project dependencies via `x07 pkg lock --project {}/x07.json`\n",
            dir.display()
        )
    );
    // The second run finds it: no message.
    let output = x07(dir, &["run", "--repair=off"]);
    assert!(output.stderr.is_empty());
}

// ------------------------------------------------------------------------------------
// subset.md §10.1–§10.2: edge rows of the fs, env and time builtins in run-os

#[test]
fn fs_env_time_edge_rows() {
    let copy = copy_probe("os-builtins-matrix");
    let dir = &copy.dir;
    let read = entry(r#"["os.fs.read_file",["view.to_bytes","input"]]"#, &[]);
    let write = entry(
        r#"["std.fmt.s32_to_dec",["os.fs.write_file",["view.to_bytes","input"],["bytes.lit","W"]]]"#,
        &["std.fmt"],
    );
    let env = entry(
        r#"["bytes.concat",["bytes.lit","v="],["os.env.get",["view.to_bytes","input"]]]"#,
        &[],
    );
    let tzid = entry(
        r#"["std.codec.hex_encode_v1",["os.time.local_tzid_v1"]]"#,
        &["std.codec"],
    );
    let sleep = entry(
        r#"["std.fmt.s32_to_dec",["os.time.sleep_ms_v1",-1]]"#,
        &["std.fmt"],
    );
    let rows: Vec<(&str, &String, &[u8], &str)> = vec![
        (
            "read a directory",
            &read,
            b"sub",
            "TRAP os.fs.read_file file too large",
        ),
        (
            "read NUL",
            &read,
            b"a\0b",
            "TRAP os.fs.read_file path contains NUL",
        ),
        (
            "read missing",
            &read,
            b"nothere.txt",
            "TRAP os.fs.read_file open failed path=nothere.txt",
        ),
        ("read", &read, b"data.txt", "DATA"),
        ("write a directory", &write, b"sub", "21"),
        (
            "write into a missing directory",
            &write,
            b"nodir/x.txt",
            "2",
        ),
        (
            "write NUL",
            &write,
            b"a\0b",
            "TRAP os.fs.write_file path contains NUL",
        ),
        ("write", &write, b"out/audit.txt", "0"),
        ("env empty key", &env, b"", "v="),
        ("env key with =", &env, b"A=B", "v="),
        ("env NUL", &env, b"A\0B", "TRAP os.env.get key contains NUL"),
        ("local tzid", &tzid, b"", "010100000000"),
        ("sleep negative", &sleep, b"", "0"),
    ];
    let mut problems = Vec::new();
    for (name, program, input, expected) in rows {
        let (_, report) = run_proc(dir, program, input, &[]);
        let got = outcome(&report);
        if got != expected {
            problems.push(format!("{name}: expected {expected:?}, got {got:?}"));
        }
    }
    assert_eq!(std::fs::read(dir.join("out/audit.txt")).unwrap(), b"W");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ------------------------------------------------------------------------------------
// A solver never outlives its CLI (a harness may SIGKILL the runner on its own timeout)

/// Whether a process other than `cli` and its own children works in `dir` (the solver,
/// which the zygote forks, does; the zygote works in `/`, and a child of `cli` on its way
/// to becoming the zygote briefly still in `dir` does not count), not counting zombies.
fn solver_running(dir: &std::path::Path, cli: u32) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|entry| {
        let pid = entry.file_name().to_string_lossy().to_string();
        // After the command name: the state, then the parent's pid.
        let state_and_parent = std::fs::read_to_string(entry.path().join("stat"))
            .ok()
            .and_then(|stat| {
                let (_, rest) = stat.rsplit_once(')')?;
                let mut fields = rest.split_whitespace();
                Some((fields.next()?.to_string(), fields.next()?.to_string()))
            });
        let Some((state, parent)) = state_and_parent else {
            return false;
        };
        pid != cli.to_string()
            && parent != cli.to_string()
            && !state.starts_with(['Z', 'X'])
            && std::fs::read_link(entry.path().join("cwd")).is_ok_and(|cwd| cwd == dir)
    })
}

#[test]
fn the_solver_dies_with_its_cli() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().canonicalize().unwrap();
    let program = "endless-solver-marker.x07.json";
    std::fs::write(
        dir.join(program),
        entry(
            r#"["begin",["let","i",0],["while",1,["set","i",["+","i",1]]],["bytes.lit","never"]]"#,
            &[],
        ),
    )
    .unwrap();
    let mut cli = Command::new(env!("CARGO_BIN_EXE_x07-lite"))
        .args(["run", "--program", program, "--repair=off"])
        .args(["--solve-fuel", "100000000000"])
        .current_dir(&dir)
        .env_remove("X07_OS_SANDBOXED")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let cli_pid = cli.id();
    // Only a wait for the start: a loaded machine may take seconds to get there.
    let started = Instant::now();
    while !solver_running(&dir, cli_pid) && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        solver_running(&dir, cli_pid),
        "the solver never started (the cli: {:?})",
        cli.try_wait()
    );
    cli.kill().unwrap();
    cli.wait().unwrap();
    let killed = Instant::now();
    while solver_running(&dir, cli_pid) && killed.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !solver_running(&dir, cli_pid),
        "the solver outlived its CLI by 3 s"
    );
}

// ------------------------------------------------------------------------------------
// §1.4: the --json envelope

#[test]
fn json_envelope_rows() {
    let copy = copy_probe("cli-contract");
    let dir = &copy.dir;
    // Success: compact, one line, the runner report inside.
    let output = x07(
        dir,
        &[
            "run",
            "--program",
            "echo.x07.json",
            "--repair=off",
            "--json",
            "--input-b64",
            "aGk=",
        ],
    );
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    assert_eq!(text.lines().count(), 1);
    let envelope: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(envelope["schema_version"], "x07.tool.run.report@0.1.0");
    assert_eq!(envelope["command"], "x07.run");
    assert_eq!(envelope["ok"], true);
    assert_eq!(envelope["diagnostics"], serde_json::json!([]));
    let report = &envelope["result"]["stdout_json"];
    assert!(schema_errors(report).is_empty());
    assert_eq!(solve_output(report), b"hi");
    // `--json=pretty` is pretty; a trap is rc 1 with the failure diagnostic.
    let output = x07(
        dir,
        &[
            "run",
            "--program",
            "oob.x07.json",
            "--repair=off",
            "--json=pretty",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    assert!(text.starts_with("{\n  \"command\": \"x07.run\",\n"));
    let envelope: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(envelope["exit_code"], 1);
    assert_eq!(envelope["ok"], false);
    assert_eq!(envelope["diagnostics"][0]["code"], "X07-TOOL-EXEC-0001");
    // A `--json` after `--` is a program argument, not the flag.
    let output = x07(
        dir,
        &[
            "run",
            "--program",
            "echo.x07.json",
            "--repair=off",
            "--",
            "--json",
        ],
    );
    assert_eq!(output.status.code(), Some(0));
    let report = runner_report(&output.stdout).unwrap();
    assert_eq!(
        solve_output(&report),
        b"\x01\x00\x00\x00\x06\x00\x00\x00--json"
    );
    // A clap usage error is wrapped too, with clap's text as stderr.
    let output = x07(
        dir,
        &["run", "--program", "echo.x07.json", "--bogus", "--json"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stderr.is_empty());
    let envelope: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(envelope["exit_code"], 2);
    assert!(envelope["result"]["stderr"]["text"]
        .as_str()
        .unwrap()
        .starts_with("error: unexpected argument '--bogus' found"));
}

#[test]
fn a_denied_sleep_returns_at_once() {
    let copy = copy_probe("os-builtins-matrix");
    let sleep = entry(
        r#"["std.fmt.s32_to_dec",["os.time.sleep_ms_v1",2000]]"#,
        &["std.fmt"],
    );
    let args = [SB.as_slice(), &["--policy", "pol-allow.json"]].concat();
    let started = Instant::now();
    let (_, report) = run_proc(&copy.dir, &sleep, b"", &args);
    assert_eq!(outcome(&report), "0");
    assert!(started.elapsed() < Duration::from_millis(1500));
}

#[test]
fn children_die_with_a_killed_runner() {
    let copy = copy_probe("os-builtins-matrix");
    let dir = &copy.dir;
    let spawn = format!(r#"["os.process.spawn_capture_v1",{REQ},{CAPS}]"#);
    let program = entry(
        &format!(
            r#"["begin",["let","h",{spawn}],["let","i",0],["while",1,["set","i",["+","i",1]]],["std.fmt.s32_to_dec","h"]]"#
        ),
        &["std.fmt"],
    );
    std::fs::write(dir.join("p.x07.json"), program).unwrap();
    let marker = "7.2001";
    let mut input = caps(100, 100, 0, 0);
    input.extend_from_slice(&req(
        &["/bin/sh", "-c", &format!("/bin/sleep {marker}; :")],
        &[],
        "",
        "",
    ));
    let mut cli = Command::new(env!("CARGO_BIN_EXE_x07-lite"))
        .args([
            "run",
            "--program",
            "p.x07.json",
            "--module-root",
            ".",
            "--repair=off",
        ])
        .args([
            "--solve-fuel",
            "100000000000",
            "--input-b64",
            &B64.encode(&input),
        ])
        .current_dir(dir)
        .env_remove("X07_OS_SANDBOXED")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Only a wait for the start: a loaded machine may take seconds to get there.
    let started = Instant::now();
    while !running_with_marker(marker) && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(running_with_marker(marker), "the child never started");
    // Give the solver time to switch to its SIGTERM guard after the spawn.
    std::thread::sleep(Duration::from_millis(100));
    cli.kill().unwrap();
    cli.wait().unwrap();
    let killed = Instant::now();
    while running_with_marker(marker) && killed.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !running_with_marker(marker),
        "`sleep {marker}` outlived the runner"
    );
}
