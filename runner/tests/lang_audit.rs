//! Row-by-row audit of the language against `subset.md` §2–§14 (second, independent pass).
//!
//! Every case lives in `tests/data/audit/*.jsonl` (one JSON object per line; blank lines and
//! lines starting with `//` are skipped). A case names the subset row it checks (`row`),
//! describes a program and says what the real toolchain does with it. Program fields:
//!
//! * `entry`: a whole entry file (object, or raw text when a string), or else
//!   `imports` / `decls` (default `[]`), `schema` (default `x07.x07ast@0.8.0`) and either
//!   `solve` (the expression) or `ints` (i32 expressions printed with `fmt.s32_to_dec`,
//!   joined by `,`) preceded by the statements in `pre`;
//! * `modules`: `{ "<module id>": <module file> }` placed under one module root;
//! * `input` (text) or `input_hex`; `fuel` (default 50,000,000).
//!
//! Expected outcome (exactly one): `out` (text) / `out_hex`, `trap` (exact text), `exit`
//! (status of `os.process.exit`), `err` (exact compile error), `err_prefix`, `err_contains`.
//!
//! A second test mutates the conformance programs and the audit rows at random (fixed seed, bounded count) and
//! runs them with a small fuel limit: nothing may panic or hang.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use x07_lite::host::Interrupt;
use x07_lite::os::OsHost;
use x07_lite::{load_program, solve, SolveLimits};

/// The outcome a case expects.
#[derive(Debug)]
enum Want {
    Out(Vec<u8>),
    Trap(String),
    Exit(i32),
    Err(String),
    ErrPrefix(String),
    ErrContains(String),
}

/// One audit case after decoding.
struct Case {
    origin: String,
    row: String,
    entry_text: String,
    modules: Vec<(String, String)>,
    input: Vec<u8>,
    fuel: u64,
    want: Want,
}

fn hex_decode(text: &str) -> Vec<u8> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    (0..clean.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&clean[i..i + 2], 16).expect("bad hex"))
        .collect()
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(raw) => raw.clone(),
        other => other.to_string(),
    }
}

/// Builds the solve expression printing `ints` as comma-separated signed decimals.
fn ints_solve(pre: &[Value], ints: &[Value]) -> Value {
    let mut body = vec![json!("begin")];
    body.extend(pre.iter().cloned());
    body.push(json!(["let", "audit_out", ["vec_u8.with_capacity", 0]]));
    for (i, e) in ints.iter().enumerate() {
        if i > 0 {
            body.push(json!([
                "set",
                "audit_out",
                ["vec_u8.push", "audit_out", 44]
            ]));
        }
        body.push(json!([
            "set",
            "audit_out",
            ["vec_u8.extend_bytes", "audit_out", ["fmt.s32_to_dec", e]]
        ]));
    }
    body.push(json!(["vec_u8.into_bytes", "audit_out"]));
    Value::Array(body)
}

fn decode_case(origin: &str, v: &Value) -> Case {
    let row = v["row"].as_str().unwrap_or("?").to_string();
    let entry_text = if let Some(e) = v.get("entry") {
        text_of(e)
    } else {
        let solve = if let Some(s) = v.get("solve") {
            s.clone()
        } else {
            let pre = v["pre"].as_array().cloned().unwrap_or_default();
            let ints = v["ints"].as_array().cloned().expect("solve or ints");
            ints_solve(&pre, &ints)
        };
        json!({
            "schema_version": v.get("schema").cloned().unwrap_or(json!("x07.x07ast@0.8.0")),
            "kind": "entry",
            "module_id": "main",
            "imports": v.get("imports").cloned().unwrap_or(json!([])),
            "decls": v.get("decls").cloned().unwrap_or(json!([])),
            "solve": solve,
        })
        .to_string()
    };
    let modules = v
        .get("modules")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, f)| (k.clone(), text_of(f))).collect())
        .unwrap_or_default();
    let input = match (v.get("input"), v.get("input_hex")) {
        (Some(Value::String(s)), _) => s.as_bytes().to_vec(),
        (_, Some(Value::String(h))) => hex_decode(h),
        _ => Vec::new(),
    };
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let want = if let Some(o) = s("out") {
        Want::Out(o.into_bytes())
    } else if let Some(h) = s("out_hex") {
        Want::Out(hex_decode(&h))
    } else if let Some(t) = s("trap") {
        Want::Trap(t)
    } else if let Some(c) = v.get("exit").and_then(Value::as_i64) {
        Want::Exit(c as i32)
    } else if let Some(e) = s("err") {
        Want::Err(e)
    } else if let Some(e) = s("err_prefix") {
        Want::ErrPrefix(e)
    } else if let Some(e) = s("err_contains") {
        Want::ErrContains(e)
    } else {
        panic!("{origin}: case {row:?} has no expectation");
    };
    Case {
        origin: origin.to_string(),
        row,
        entry_text,
        modules,
        input,
        fuel: v.get("fuel").and_then(Value::as_u64).unwrap_or(50_000_000),
        want,
    }
}

fn load_cases(dir: &Path) -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("audit data dir")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with("//") {
                continue;
            }
            let origin = format!("{name}:{}", n + 1);
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{origin}: invalid JSON line: {e}"));
            cases.push(decode_case(&origin, &v));
        }
    }
    cases
}

/// What a run actually did, in the vocabulary of [`Want`].
#[derive(Debug)]
enum Got {
    Out(Vec<u8>),
    Trap(String),
    Exit(i32),
    Err(String),
}

fn run_case(case: &Case) -> Got {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("main.x07.json");
    std::fs::write(&path, &case.entry_text).unwrap();
    let root = dir.path().join("mods");
    std::fs::create_dir_all(&root).unwrap();
    for (id, text) in &case.modules {
        let file = root.join(format!("{}.x07.json", id.replace('.', "/")));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    let program = match load_program(&path, &[root]) {
        Ok(p) => p,
        Err(e) => return Got::Err(e.message),
    };
    let limits = SolveLimits {
        fuel: case.fuel,
        ..SolveLimits::default()
    };
    let mut host = OsHost::run_os();
    match solve(&program, &case.input, &mut host, &limits).result {
        Ok(out) => Got::Out(out),
        Err(Interrupt::Trap(t)) => Got::Trap(t),
        Err(Interrupt::Exit(c)) => Got::Exit(c),
        Err(Interrupt::Signal(s)) => Got::Trap(format!("terminated by signal {s}")),
    }
}

fn matches(want: &Want, got: &Got) -> bool {
    match (want, got) {
        (Want::Out(w), Got::Out(g)) => w == g,
        (Want::Trap(w), Got::Trap(g)) => w == g,
        (Want::Exit(w), Got::Exit(g)) => w == g,
        (Want::Err(w), Got::Err(g)) => w == g,
        (Want::ErrPrefix(w), Got::Err(g)) => g.starts_with(w.as_str()),
        (Want::ErrContains(w), Got::Err(g)) => g.contains(w.as_str()),
        _ => false,
    }
}

fn show(got: &Got) -> String {
    match got {
        Got::Out(b) => format!("out {:?}", String::from_utf8_lossy(b)),
        other => format!("{other:?}"),
    }
}

#[test]
fn subset_rows_behave_as_documented() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/audit");
    let cases = load_cases(&dir);
    let mut failures = Vec::new();
    for case in &cases {
        let got = run_case(case);
        if !matches(&case.want, &got) {
            failures.push(format!(
                "{} [{}]\n    want {:?}\n    got  {}",
                case.origin,
                case.row,
                case.want,
                show(&got)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} audit rows differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(cases.len() > 300, "only {} audit cases found", cases.len());
}

/// A small deterministic PRNG (xorshift64*), so the fuzz run is repeatable.
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

/// Replacement material for mutations: interesting numbers, names and heads.
fn atoms() -> Vec<Value> {
    vec![
        json!(0),
        json!(1),
        json!(-1),
        json!(2147483647),
        json!(-2147483648),
        json!(8),
        json!(255),
        json!(1000000),
        json!("input"),
        json!("o"),
        json!("x"),
        json!("i"),
        json!(["bytes.lit", ""]),
        json!(["bytes.view_lit", "ab"]),
        json!(["vec_u8.with_capacity", 0]),
        json!(["bytes.alloc", 3]),
        json!(["view.get_u8", "input", 0]),
        json!(["option_bytes.none"]),
        json!(["result_i32.err", 3]),
        json!(["while", 1, 0]),
        json!(["for", "i", 0, -1, 0]),
        json!(["return", ["bytes.lit", "r"]]),
        json!(["begin"]),
        json!([]),
        json!(null),
        json!(1.5),
    ]
}

/// Collects JSON pointers of every array/scalar position inside `v`.
fn positions(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                positions(item, format!("{at}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                positions(item, format!("{at}/{k}"), out);
            }
        }
        _ => {}
    }
}

fn mutate(program: &mut Value, rng: &mut Rng, pool: &[Value]) {
    let mut spots = Vec::new();
    positions(program, String::new(), &mut spots);
    let spot = spots[rng.below(spots.len())].clone();
    if spot.is_empty() {
        return;
    }
    let choice = rng.below(4);
    // Donor subtree from elsewhere in the same program (keeps mutants close to valid).
    let donor = program
        .pointer(&spots[rng.below(spots.len())])
        .cloned()
        .unwrap_or(Value::Null);
    let Some(target) = program.pointer_mut(&spot) else {
        return;
    };
    match choice {
        0 => *target = pool[rng.below(pool.len())].clone(),
        1 => *target = donor,
        2 => {
            if let Value::Array(items) = target {
                if !items.is_empty() {
                    let i = rng.below(items.len());
                    items.remove(i);
                }
            }
        }
        _ => {
            if let Value::Array(items) = target {
                let i = rng.below(items.len() + 1);
                items.insert(i, pool[rng.below(pool.len())].clone());
            } else if let Value::Number(n) = target {
                let k = n.as_i64().unwrap_or(0);
                *target = json!(k.wrapping_mul(-3).wrapping_add(1) as i32);
            }
        }
    }
}

#[test]
fn mutated_programs_never_panic_or_hang() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance");
    let mut seeds: Vec<(Value, Vec<u8>)> = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    for path in names {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let program = match case.get("program") {
            Some(Value::String(text)) => serde_json::from_str(text).unwrap(),
            Some(other) => other.clone(),
            None => case.clone(),
        };
        if program.get("solve").is_none() {
            continue;
        }
        // The OS families (env, fs, processes, exit) are left out: mutants must not touch the
        // machine. Everything else is fair game.
        let text = program.to_string();
        if text.contains("\"os.") || text.contains("std.os.") || text.contains("std.fs") {
            continue;
        }
        seeds.push((program, b"abc,12".to_vec()));
    }
    // The audit rows are seeds too (they reach every builtin and std function).
    let audit = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/audit");
    for case in load_cases(&audit) {
        let text = &case.entry_text;
        if !case.modules.is_empty()
            || text.contains("\"os.")
            || text.contains("std.os.")
            || text.contains("std.fs")
        {
            continue;
        }
        if let Ok(program) = serde_json::from_str::<Value>(text) {
            seeds.push((program, case.input.clone()));
        }
    }
    assert!(seeds.len() >= 300, "only {} seed programs", seeds.len());
    let pool = atoms();
    // `X07_AUDIT_FUZZ_SEED` / `X07_AUDIT_FUZZ_ITERS` widen the search by hand; the default
    // run is fixed and bounded.
    let env_num = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let mut rng = Rng(env_num("X07_AUDIT_FUZZ_SEED", 0x5EED_0A11_D17E_0007) | 1);
    let iterations = env_num("X07_AUDIT_FUZZ_ITERS", 3000);
    let limits = SolveLimits {
        fuel: 20_000,
        max_memory_bytes: 8 * 1024 * 1024,
    };
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("main.x07.json");
    let started = std::time::Instant::now();
    let mut compiled = 0;
    for iteration in 0..iterations {
        let (seed, input) = &seeds[rng.below(seeds.len())];
        let mut program = seed.clone();
        for _ in 0..=rng.below(3) {
            mutate(&mut program, &mut rng, &pool);
        }
        let text = program.to_string();
        if text.contains("\"os.") {
            continue;
        }
        std::fs::write(&path, &text).unwrap();
        let one = std::time::Instant::now();
        match load_program(&path, &[]) {
            Ok(p) => {
                compiled += 1;
                // The test build checks every run against the reference evaluator; a
                // disagreement comes back as a trap naming it.
                // Once as is, once with a heap so small that most programs run out of
                // memory somewhere (both engines must agree on where).
                for heap in [limits.max_memory_bytes, 64] {
                    let tight = SolveLimits {
                        max_memory_bytes: heap,
                        ..limits
                    };
                    let outcome = solve(&p, input, &mut OsHost::run_os(), &tight);
                    if let Err(Interrupt::Trap(t)) = &outcome.result {
                        assert!(
                            !t.contains("differential mismatch"),
                            "iteration {iteration} (heap {heap}): {t}: {text}"
                        );
                    }
                }
            }
            Err(e) => assert!(
                !e.message.contains("internal error"),
                "iteration {iteration}: {}: {text}",
                e.message
            ),
        }
        assert!(
            one.elapsed().as_secs() < 10,
            "iteration {iteration} took {:?}: {text}",
            one.elapsed()
        );
    }
    assert!(compiled > 50, "only {compiled} mutants compiled");
    assert!(started.elapsed().as_secs() < 300);
    eprintln!("{iterations} mutants, {compiled} compiled and ran");
}
