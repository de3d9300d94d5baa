//! Differential test of the execution engine against the reference evaluator.
//!
//! In this crate's tests every `solve` runs the register machine and then the reference
//! evaluator (feature `reference`, `eval::differential`), and turns any difference in
//! output, trap or `fuel_used` into a trap starting `x07-lite differential mismatch`.
//! The other tests therefore compare both engines on the programs they run at full fuel.
//! This one adds what they do not reach: every conformance example and audit row again
//! under budgets that run out (the machine's per-operation path inside a block that
//! cannot be paid) and a fuzz corpus of recombined programs, each under several budgets.

use std::path::{Path, PathBuf};

use serde_json::Value;
use x07_lite::host::Interrupt;
use x07_lite::os::OsHost;
use x07_lite::{load_program, solve, Program, SolveLimits};

/// A small deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Programs that stay away from the OS (a run must not touch the machine).
fn offline(text: &str) -> bool {
    !(text.contains("\"os.") || text.contains("std.os.") || text.contains("std.fs"))
}

/// The conformance examples and audit rows without modules: (program, input).
fn seeds() -> Vec<(Value, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("conformance"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if case["modules"].as_object().is_some_and(|m| !m.is_empty()) {
            continue;
        }
        let Some(text) = case["program"].as_str() else {
            continue;
        };
        if !offline(text) {
            continue;
        }
        let input = b64(case["input_b64"].as_str().unwrap_or(""));
        out.push((serde_json::from_str(text).unwrap(), input));
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("audit"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with("//") {
                continue;
            }
            let v: Value = serde_json::from_str(line).unwrap();
            let solve_expr = match (v.get("solve"), v.get("ints")) {
                (Some(s), _) => s.clone(),
                (None, Some(Value::Array(ints))) => {
                    let pre = v["pre"].as_array().cloned().unwrap_or_default();
                    ints_solve(&pre, ints)
                }
                _ => continue,
            };
            if v.get("modules").is_some() || v.get("entry").is_some() {
                continue;
            }
            let program = serde_json::json!({
                "schema_version": "x07.x07ast@0.8.0", "kind": "entry", "module_id": "main",
                "imports": v.get("imports").cloned().unwrap_or(serde_json::json!([])),
                "decls": v.get("decls").cloned().unwrap_or(serde_json::json!([])),
                "solve": solve_expr,
            });
            if !offline(&program.to_string()) {
                continue;
            }
            let input = v
                .get("input")
                .and_then(Value::as_str)
                .unwrap_or("")
                .as_bytes()
                .to_vec();
            out.push((program, input));
        }
    }
    out
}

/// `(begin pre.. (let o ..) push each int as decimal, comma-separated .. (into o))`.
fn ints_solve(pre: &[Value], ints: &[Value]) -> Value {
    let mut body = vec![serde_json::json!("begin")];
    body.extend(pre.iter().cloned());
    body.push(serde_json::json!([
        "let",
        "diff_out",
        ["vec_u8.with_capacity", 0]
    ]));
    for (i, e) in ints.iter().enumerate() {
        if i > 0 {
            body.push(serde_json::json!([
                "set",
                "diff_out",
                ["vec_u8.push", "diff_out", 44]
            ]));
        }
        body.push(serde_json::json!([
            "set",
            "diff_out",
            ["vec_u8.extend_bytes", "diff_out", ["fmt.s32_to_dec", e]]
        ]));
    }
    body.push(serde_json::json!(["vec_u8.into_bytes", "diff_out"]));
    Value::Array(body)
}

fn b64(text: &str) -> Vec<u8> {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = ALPHA.iter().position(|&a| a == c).unwrap() as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn compile(dir: &Path, program: &Value) -> Option<Program> {
    let path = dir.join("main.x07.json");
    std::fs::write(&path, program.to_string()).unwrap();
    match load_program(&path, &[]) {
        Ok(p) => Some(p),
        Err(e) => {
            assert!(
                !e.message.contains("internal error"),
                "{}: {program}",
                e.message
            );
            None
        }
    }
}

/// Runs `p` under `fuel`; panics on a differential mismatch.
fn run(p: &Program, input: &[u8], fuel: u64, what: &str) -> (Result<Vec<u8>, Interrupt>, u64) {
    let limits = SolveLimits {
        fuel,
        max_memory_bytes: 16 * 1024 * 1024,
    };
    let out = solve(p, input, &mut OsHost::run_os(), &limits);
    if let Err(Interrupt::Trap(t)) = &out.result {
        assert!(
            !t.starts_with("x07-lite differential mismatch") && !t.contains("internal error"),
            "{what} (fuel {fuel}): {t}"
        );
    }
    (out.result, out.stats.fuel_used)
}

/// Runs a program at full fuel, then with budgets that run out at various points.
fn run_budgets(p: &Program, input: &[u8], rng: &mut Rng, what: &str) {
    let (result, need) = run(p, input, 3_000_000, what);
    if result.is_err() || need == 0 {
        return;
    }
    let mut budgets = vec![need, need - 1, need / 2, 0, 1];
    for _ in 0..3 {
        budgets.push(rng.next() % need);
    }
    for fuel in budgets {
        let (r, _) = run(p, input, fuel, what);
        if fuel >= need {
            assert_eq!(r, result, "{what}: enough fuel ({fuel}) changed the result");
        } else {
            assert_eq!(
                r,
                Err(Interrupt::Trap("fuel exhausted".into())),
                "{what}: {fuel} < {need} units"
            );
        }
    }
}

#[test]
fn every_example_runs_out_of_fuel_where_the_reference_does() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x0D1F_F00D_5EED_0001);
    let mut ran = 0;
    for (i, (program, input)) in seeds().iter().enumerate() {
        if let Some(p) = compile(dir.path(), program) {
            run_budgets(&p, input, &mut rng, &format!("seed {i}"));
            ran += 1;
        }
    }
    assert!(ran > 300, "only {ran} seed programs compiled");
}

/// Replaces a random subtree of `a` with a random subtree of `b` (same shape: both are
/// expressions), which recombines real programs into new, mostly well-typed ones.
fn recombine(a: &mut Value, b: &Value, rng: &mut Rng) {
    fn spots(v: &Value, at: String, out: &mut Vec<String>) {
        out.push(at.clone());
        if let Value::Array(items) = v {
            for (i, item) in items.iter().enumerate().skip(1) {
                spots(item, format!("{at}/{i}"), out);
            }
        }
    }
    let (mut sa, mut sb) = (Vec::new(), Vec::new());
    spots(&a["solve"], "/solve".into(), &mut sa);
    spots(&b["solve"], "/solve".into(), &mut sb);
    let donor = b.pointer(&sb[rng.below(sb.len())]).cloned();
    if let (Some(donor), Some(target)) = (donor, a.pointer_mut(&sa[rng.below(sa.len())])) {
        *target = donor;
    }
}

#[test]
fn recombined_programs_agree_with_the_reference() {
    let iterations: usize = std::env::var("X07_DIFF_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let seed: u64 = std::env::var("X07_DIFF_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0xD1FF_0000_0000_0007);
    let seeds = seeds();
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(seed | 1);
    let mut compiled = 0;
    for n in 0..iterations {
        let (a, input) = &seeds[rng.below(seeds.len())];
        let (b, _) = &seeds[rng.below(seeds.len())];
        let mut program = a.clone();
        for _ in 0..=rng.below(2) {
            recombine(&mut program, b, &mut rng);
        }
        // Imports and decls of both, so more recombinations resolve.
        for key in ["imports", "decls"] {
            if let (Some(x), Some(y)) = (program[key].as_array().cloned(), b[key].as_array()) {
                let mut merged = x;
                for item in y {
                    if !merged.contains(item) {
                        merged.push(item.clone());
                    }
                }
                program[key] = Value::Array(merged);
            }
        }
        if !offline(&program.to_string()) {
            continue;
        }
        if let Some(p) = compile(dir.path(), &program) {
            compiled += 1;
            run_budgets(&p, input, &mut rng, &format!("mutant {n}: {program}"));
        }
    }
    assert!(
        compiled > iterations / 10,
        "only {compiled} mutants compiled"
    );
}
