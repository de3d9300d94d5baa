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
    let (result, fuel_used, _) = run_with_heap(p, input, fuel, 16 * 1024 * 1024, what);
    (result, fuel_used)
}

/// Runs `p` under `fuel` and a heap of `heap` bytes; panics on a differential mismatch.
/// Returns the result, the fuel used and the peak heap bytes of the program.
fn run_with_heap(
    p: &Program,
    input: &[u8],
    fuel: u64,
    heap: u64,
    what: &str,
) -> (Result<Vec<u8>, Interrupt>, u64, u64) {
    let limits = SolveLimits {
        fuel,
        max_memory_bytes: heap,
    };
    let out = solve(p, input, &mut OsHost::run_os(), &limits);
    if let Err(Interrupt::Trap(t)) = &out.result {
        assert!(
            !t.starts_with("x07-lite differential mismatch") && !t.contains("internal error"),
            "{what} (fuel {fuel}, heap {heap}): {t}"
        );
    }
    let peak = out.stats.heap_used.saturating_sub(input.len() as u64);
    (out.result, out.stats.fuel_used, peak)
}

/// Runs a program at full fuel, then with budgets that run out at various points, then
/// with heaps at and below its peak (a heap of its peak fits; a smaller one gives the same
/// result or `out of memory`, at the same point on both engines, whatever instruction the
/// machine picked for an allocation).
fn run_budgets(p: &Program, input: &[u8], rng: &mut Rng, what: &str) {
    let (result, need, peak) = run_with_heap(p, input, 3_000_000, 16 * 1024 * 1024, what);
    if result.is_err() || need == 0 {
        return;
    }
    if peak > 0 {
        let (fits, _, _) = run_with_heap(p, input, need, peak, what);
        assert_eq!(fits, result, "{what}: a heap of its peak ({peak} bytes)");
        for heap in [peak - 1, peak * 3 / 4, peak / 2, 1] {
            let (r, _, _) = run_with_heap(p, input, need, heap, what);
            assert!(
                r == result || r == Err(Interrupt::Trap("out of memory".into())),
                "{what}: heap {heap} (peak {peak}): {:?}",
                r.as_ref().map(Vec::len)
            );
        }
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

/// Realistic programs (parsers, codecs, recursion, vectors) under every budget.
#[test]
fn realistic_programs_agree_under_every_budget() {
    use serde_json::json;
    let entry = |decls: Value, imports: Value, solve: Value| {
        json!({"schema_version":"x07.x07ast@0.8.0","kind":"entry","module_id":"main",
            "imports":imports,"decls":decls,"solve":solve})
    };
    let words = entry(
        json!([
            {"kind":"defn","name":"main.is_space","params":[{"name":"c","ty":"i32"}],"result":"i32",
             "body":["||",["=","c",32],["||",["=","c",10],["=","c",9]]]},
            {"kind":"defn","name":"main.count_words","params":[{"name":"s","ty":"bytes_view"}],"result":"i32",
             "body":["begin",["let","n",0],["let","in_word",0],
                ["for","i",0,["view.len","s"],["begin",["let","c",["view.get_u8","s","i"]],
                    ["if",["main.is_space","c"],["set","in_word",0],
                        ["if",["=","in_word",0],["begin",["set","in_word",1],["set","n",["+","n",1]],0],0]]]],
                "n"]}
        ]),
        json!([]),
        json!([
            "begin",
            ["let", "o", ["vec_u8.with_capacity", 0]],
            [
                "set",
                "o",
                [
                    "vec_u8.extend_bytes",
                    "o",
                    ["fmt.s32_to_dec", ["main.count_words", "input"]]
                ]
            ],
            ["let", "up", ["bytes.alloc", ["view.len", "input"]]],
            [
                "for",
                "i",
                0,
                ["view.len", "input"],
                [
                    "begin",
                    ["let", "c", ["view.get_u8", "input", "i"]],
                    [
                        "set",
                        "up",
                        [
                            "bytes.set_u8",
                            "up",
                            "i",
                            [
                                "if",
                                ["&&", [">=", "c", 97], ["<=", "c", 122]],
                                ["-", "c", 32],
                                "c"
                            ]
                        ]
                    ]
                ]
            ],
            ["set", "o", ["vec_u8.push", "o", 58]],
            ["set", "o", ["vec_u8.extend_bytes", "o", "up"]],
            ["vec_u8.into_bytes", "o"]
        ]),
    );
    let parens = entry(
        json!([
            {"kind":"defn","name":"main.depth","params":[{"name":"s","ty":"bytes_view"},{"name":"i","ty":"i32"}],"result":"i32",
             "body":["if",[">=u","i",["view.len","s"]],0,
                ["begin",["let","c",["view.get_u8","s","i"]],
                    ["if",["=","c",40],["+",1,["main.depth","s",["+","i",1]]],
                        ["if",["=","c",41],["-",["main.depth","s",["+","i",1]],1],["main.depth","s",["+","i",1]]]]]]}
        ]),
        json!([]),
        json!(["fmt.s32_to_dec", ["main.depth", "input", 0]]),
    );
    let results = entry(
        json!([
            {"kind":"defn","name":"main.digit","params":[{"name":"c","ty":"i32"}],"result":"result_i32",
             "body":["if",["<u",["-","c",48],10],["result_i32.ok",["-","c",48]],["result_i32.err","c"]]},
            {"kind":"defn","name":"main.sum","params":[{"name":"s","ty":"bytes_view"}],"result":"result_i32",
             "body":["begin",["let","t",0],
                ["for","i",0,["view.len","s"],["set","t",["+",["*","t",10],["try",["main.digit",["view.get_u8","s","i"]]]]]],
                ["result_i32.ok","t"]]},
            {"kind":"defn","name":"main.show","params":[{"name":"r","ty":"result_i32"}],"result":"bytes",
             "body":["if",["result_i32.is_ok","r"],["fmt.s32_to_dec",["result_i32.unwrap_or","r",0]],
                ["bytes.concat",["bytes.lit","err "],["fmt.s32_to_dec",["result_i32.err_code","r"]]]]}
        ]),
        json!(["std.bytes"]),
        json!([
            "begin",
            ["let", "v", ["std.bytes.trim_ascii_view", "input"]],
            ["let", "a", ["main.show", ["main.sum", "v"]]],
            [
                "let",
                "b",
                ["main.show", ["main.sum", ["bytes.view_lit", "12x4"]]]
            ],
            ["let", "h", ["std.bytes.find_u8", "v", 52]],
            [
                "bytes.concat",
                ["bytes.concat", "a", "b"],
                ["fmt.s32_to_dec", "h"]
            ]
        ]),
    );
    let moves = entry(
        json!([
            {"kind":"defn","name":"main.wrap","params":[{"name":"b","ty":"bytes"},{"name":"n","ty":"i32"}],"result":"bytes",
             "body":["if",["=","n",0],"b",["main.wrap",["bytes.concat",["bytes.lit","<"],["bytes.concat","b",["bytes.lit",">"]]],["-","n",1]]]}
        ]),
        json!([]),
        json!([
            "begin",
            ["let", "a", ["bytes.lit", "x"]],
            ["let", "n", 0],
            ["let", "v", ["vec_u8.with_capacity", 1]],
            [
                "while",
                ["<", "n", 5],
                [
                    "begin",
                    ["let", "b", "a"],
                    ["set", "v", ["vec_u8.extend_bytes", "v", "b"]],
                    [
                        "set",
                        "v",
                        ["vec_u8.push", "v", ["+", 48, ["vec_u8.len", "v"]]]
                    ],
                    ["set", "n", ["+", "n", 1]]
                ]
            ],
            ["set", "a", ["main.wrap", ["vec_u8.into_bytes", "v"], 3]],
            "a"
        ]),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0xFEED_0000_0000_0005);
    let cases: Vec<(&str, Value, &[u8], &str)> = vec![
        (
            "words",
            words,
            b"hello  big\tworld\nx",
            "4:HELLO  BIG\tWORLD\nX",
        ),
        ("parens", parens, b"((a)(b(c)))(", "1"),
        ("results", results, b"  12345  ", "12345err 1203"),
        ("moves", moves, b"", "<<<x12345>>>"),
    ];
    for (name, program, input, want) in cases {
        let p = compile(dir.path(), &program).unwrap_or_else(|| panic!("{name} does not compile"));
        let (r, _) = run(&p, input, 3_000_000, name);
        assert_eq!(r, Ok(want.as_bytes().to_vec()), "{name}");
        run_budgets(&p, input, &mut rng, name);
    }
}

/// Heap limits: growing a vector from a view of itself (semantics R18's
/// `(vec_u8.extend_bytes v (vec_u8.as_view v))`) and the other growth paths must count
/// the same bytes on both engines, whichever instruction the machine picks, so both trap
/// `out of memory` at the same step. Each program doubles a one-byte vector `n` times
/// (to 2^n bytes); with a 1 MiB heap, 2^20 bytes fit exactly and 2^21 do not.
#[test]
fn heap_limits_agree_on_self_extension() {
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    let grow = |step: Value| {
        json!([
            "begin",
            ["let", "v", ["vec_u8.with_capacity", 1]],
            ["set", "v", ["vec_u8.push", "v", 1]],
            ["for", "i", 0, ["view.len", "input"], step],
            ["vec_u8.into_bytes", "v"]
        ])
    };
    let steps = [
        json!([
            "set",
            "v",
            ["vec_u8.extend_bytes", "v", ["vec_u8.as_view", "v"]]
        ]),
        json!([
            "set",
            "v",
            [
                "vec_u8.extend_bytes_range",
                "v",
                ["vec_u8.as_view", "v"],
                0,
                ["vec_u8.len", "v"]
            ]
        ]),
        json!([
            "set",
            "v",
            ["vec_u8.extend_zeroes", "v", ["vec_u8.len", "v"]]
        ]),
        json!([
            "begin",
            ["let", "n", ["vec_u8.len", "v"]],
            ["set", "v", ["vec_u8.reserve_exact", "v", "n"]],
            ["set", "v", ["vec_u8.extend_zeroes", "v", "n"]]
        ]),
    ];
    for (k, step) in steps.iter().enumerate() {
        let program = json!({"schema_version":"x07.x07ast@0.8.0","kind":"entry","module_id":"main",
            "imports":[],"decls":[],"solve":grow(step.clone())});
        let p = compile(dir.path(), &program).unwrap_or_else(|| panic!("step {k} compiles"));
        for n in [19usize, 20, 21] {
            let limits = SolveLimits {
                fuel: 1_000_000,
                max_memory_bytes: 1024 * 1024,
            };
            let input = vec![b'x'; n];
            let out = solve(&p, &input, &mut OsHost::run_os(), &limits);
            if let Err(Interrupt::Trap(t)) = &out.result {
                assert!(
                    !t.starts_with("x07-lite differential mismatch"),
                    "step {k}, n {n}: {t}"
                );
            }
            match n {
                21 => assert_eq!(
                    out.result,
                    Err(Interrupt::Trap("out of memory".into())),
                    "step {k}, n {n}"
                ),
                _ => assert_eq!(
                    out.result.as_ref().map(Vec::len),
                    Ok(1 << n),
                    "step {k}, n {n}"
                ),
            }
        }
    }
}

/// A buffer of more than half the heap updated in place right after the statement that
/// bound it (the statement's value must not keep a second reference alive, or the update
/// would copy the buffer and count it twice): fits on both engines.
#[test]
fn heap_limits_agree_on_in_place_updates() {
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    let programs = [
        json!([
            "begin",
            ["let", "b", ["bytes.alloc", 600000]],
            ["set", "b", ["bytes.set_u8", "b", 0, 65]],
            ["bytes.slice", "b", 0, 1]
        ]),
        json!([
            "begin",
            ["let", "v", ["vec_u8.with_capacity", 600000]],
            ["set", "v", ["vec_u8.push", "v", 66]],
            ["set", "v", ["vec_u8.set", "v", 0, 67]],
            ["vec_u8.into_bytes", "v"]
        ]),
    ];
    for (k, solve_expr) in programs.iter().enumerate() {
        let program = json!({"schema_version":"x07.x07ast@0.8.0","kind":"entry","module_id":"main",
            "imports":[],"decls":[],"solve":solve_expr});
        let p = compile(dir.path(), &program).unwrap_or_else(|| panic!("program {k} compiles"));
        let limits = SolveLimits {
            fuel: 1_000_000,
            max_memory_bytes: 1024 * 1024,
        };
        let out = solve(&p, b"", &mut OsHost::run_os(), &limits);
        assert_eq!(
            out.result,
            Ok(vec![65 + 2 * k as u8]),
            "program {k}: {:?}",
            out.result.as_ref().map(Vec::len)
        );
    }
}
