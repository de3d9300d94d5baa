//! `compile.fuel_used` of the runner report: the fuel the real compiler spends on a
//! program that it turns into C (`observed-behaviour.md` §5.3: "a small integer that is
//! set whenever C was generated"; null when the compile fails before that).
//!
//! The recorded reports (`reports/*.json` with their `probes/*`) fit one rule exactly:
//! the compiler spends **2 units per JSON node** of the code it compiles, where a node
//! is every value of the expression tree (a list, its head atom, each argument; the text
//! of `bytes.lit` is one node). The entry's `solve` costs 2 × its nodes:
//!
//! | program (`solve`) | nodes | recorded |
//! |---|---|---|
//! | `(view.to_bytes input)` | 3 | 6 |
//! | `(os.fs.read_file (bytes.lit "data.txt"))` | 5 | 10 |
//! | `(os.net.http_request (view.to_bytes input))` | 5 | 10 |
//! | `(begin (os.process.exit 3) (bytes.lit "after-exit"))` | 8 | 16 |
//! | `(bytes.concat (bytes.lit "v=") (os.env.get (bytes.lit "OTHER_KEY")))` | 10 | 20 |
//! | `(begin (let i 0) (while 1 (set i (+ i 1))) (bytes.lit "never"))` | 19 | 38 |
//! | the `view.get_u8` out-of-bounds program of `trap-oob` | 20 | 40 |
//!
//! Every function the program reaches is compiled once more. `std.fmt.s32_to_dec`, a
//! thin wrapper of one builtin (`["fmt.s32_to_dec","x"]`, 3 nodes), adds 9 (= 2 × 3 + 3)
//! in the two recorded programs that call it (17 and 35), and `std.codec.hex_encode_v1`
//! (a loop, with its helpers) adds 1839 in the two process reports (1885 − 2 × 23).
//! From these this module charges a reached function 2 × its body's nodes +
//! [`FUNCTION_OVERHEAD`]: exact for user functions as far as the one data point goes,
//! and for std functions (whose X07 bodies are not part of this project) exact for
//! thin wrappers of a builtin and for `hex_encode_v1`, an estimate (as a thin wrapper)
//! for the other std loops. Only reachable functions count, as only reachable code is
//! compiled (`subset.md` §3.2).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Units per JSON node of compiled code.
pub const UNITS_PER_NODE: u64 = 2;
/// Units a reached function costs besides its body (fitted: `std.fmt.s32_to_dec`).
pub const FUNCTION_OVERHEAD: u64 = 3;
/// `std.codec.hex_encode_v1` with its helpers, recorded (`proc-run-capture-*`).
pub const HEX_ENCODE_V1_UNITS: u64 = 1839;

/// The number of JSON nodes of an expression.
pub fn nodes(expr: &Value) -> u64 {
    match expr {
        Value::Array(items) => 1 + items.iter().map(nodes).sum::<u64>(),
        _ => 1,
    }
}

/// Every call head inside an expression.
fn heads(expr: &Value, out: &mut Vec<String>) {
    if let Value::Array(items) = expr {
        if let Some(Value::String(head)) = items.first() {
            out.push(head.clone());
        }
        for item in items.iter().skip(1) {
            heads(item, out);
        }
    }
}

/// The compile fuel of one std function (see the module documentation).
pub fn std_function_units(sig: &crate::std::StdSig) -> u64 {
    if sig.name == "std.codec.hex_encode_v1" {
        return HEX_ENCODE_V1_UNITS;
    }
    // `[builtin, p1, …, pn]`: n + 2 nodes.
    UNITS_PER_NODE * (sig.params.len() as u64 + 2) + FUNCTION_OVERHEAD
}

/// A function's body as the files hold it.
struct Function {
    body: Value,
}

/// The `defn`s of module files, loaded on demand.
struct Functions<'a> {
    roots: &'a [PathBuf],
    by_module: HashMap<String, HashMap<String, Function>>,
}

impl Functions<'_> {
    fn add_file(&mut self, module: &str, file: &Value) {
        let mut functions = HashMap::new();
        for decl in file
            .get("decls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if decl.get("kind").and_then(Value::as_str) != Some("defn") {
                continue;
            }
            if let (Some(name), Some(body)) =
                (decl.get("name").and_then(Value::as_str), decl.get("body"))
            {
                functions.insert(name.to_string(), Function { body: body.clone() });
            }
        }
        self.by_module.insert(module.to_string(), functions);
    }

    fn module(&mut self, module: &str) -> &HashMap<String, Function> {
        if !self.by_module.contains_key(module) {
            let relative = format!("{}.x07.json", module.replace('.', "/"));
            let file = self.roots.iter().find_map(|root| {
                let bytes = std::fs::read(root.join(&relative)).ok()?;
                serde_json::from_slice::<Value>(&bytes).ok()
            });
            match file {
                Some(file) => self.add_file(module, &file),
                None => {
                    self.by_module.insert(module.to_string(), HashMap::new());
                }
            }
        }
        &self.by_module[module]
    }
}

/// `compile.fuel_used` of the entry program at `entry` (module files found under
/// `module_roots`); `None` when the entry cannot be read (the compile then fails anyway).
pub fn compile_fuel(entry: &Path, module_roots: &[PathBuf]) -> Option<u64> {
    let file: Value = serde_json::from_slice(&std::fs::read(entry).ok()?).ok()?;
    let solve = file.get("solve")?;
    let mut functions = Functions {
        roots: module_roots,
        by_module: HashMap::new(),
    };
    functions.add_file("main", &file);
    let mut total = UNITS_PER_NODE * nodes(solve);
    let mut pending = Vec::new();
    heads(solve, &mut pending);
    let mut seen = BTreeSet::new();
    while let Some(head) = pending.pop() {
        if !seen.insert(head.clone()) {
            continue;
        }
        let Some((module, _)) = head.rsplit_once('.') else {
            continue;
        };
        // Built-in std modules win over files (`subset.md` §3.3).
        if let Some(sig) = crate::std::lookup(&head) {
            total += std_function_units(sig);
            continue;
        }
        if module.starts_with("std.") && !module.starts_with("std.world.") {
            continue;
        }
        if let Some(function) = functions.module(module).get(&head) {
            let body = function.body.clone();
            total += UNITS_PER_NODE * nodes(&body) + FUNCTION_OVERHEAD;
            heads(&body, &mut pending);
        }
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(dir: &Path, imports: Value, decls: Value, solve: Value) -> PathBuf {
        let path = dir.join("main.x07.json");
        let file = json!({"schema_version":"x07.x07ast@0.8.0","kind":"entry","module_id":"main",
            "imports": imports, "decls": decls, "solve": solve});
        std::fs::write(&path, file.to_string()).unwrap();
        path
    }

    /// Every recorded successful compile (`reports/*.json`, programs in `probes/*`).
    #[test]
    fn recorded_reports() {
        let rows: Vec<(&str, Value, Value, u64)> = vec![
            ("echo", json!([]), json!(["view.to_bytes", "input"]), 6),
            (
                "read_file",
                json!([]),
                json!(["os.fs.read_file", ["bytes.lit", "data.txt"]]),
                10,
            ),
            (
                "http",
                json!([]),
                json!(["os.net.http_request", ["view.to_bytes", "input"]]),
                10,
            ),
            (
                "exit",
                json!([]),
                json!(["begin", ["os.process.exit", 3], ["bytes.lit", "after-exit"]]),
                16,
            ),
            (
                "env",
                json!([]),
                json!([
                    "bytes.concat",
                    ["bytes.lit", "v="],
                    ["os.env.get", ["bytes.lit", "OTHER_KEY"]]
                ]),
                20,
            ),
            (
                "tnow",
                json!(["std.fmt"]),
                json!(["std.fmt.s32_to_dec", ["os.time.now_unix_ms"]]),
                17,
            ),
            (
                "loop",
                json!([]),
                json!([
                    "begin",
                    ["let", "i", 0],
                    ["while", 1, ["set", "i", ["+", "i", 1]]],
                    ["bytes.lit", "never"]
                ]),
                38,
            ),
            (
                "oob",
                json!([]),
                json!([
                    "begin",
                    ["let", "b", ["bytes.lit", "abc"]],
                    ["let", "x", ["bytes.get_u8", ["bytes.view", "b"], 10]],
                    ["bytes.lit", "never"]
                ]),
                40,
            ),
            (
                "alloc",
                json!(["std.fmt"]),
                json!([
                    "begin",
                    ["let", "b", ["bytes.alloc", 100000000]],
                    ["std.fmt.s32_to_dec", ["bytes.len", "b"]]
                ]),
                35,
            ),
            (
                "calloc",
                json!(["std.fmt"]),
                json!([
                    "begin",
                    ["let", "b", ["bytes.alloc", 1000]],
                    ["std.fmt.s32_to_dec", ["bytes.len", "b"]]
                ]),
                35,
            ),
            (
                "proc",
                json!(["std.codec"]),
                json!([
                    "std.codec.hex_encode_v1",
                    [
                        "os.process.run_capture_v1",
                        [
                            "view.to_bytes",
                            ["view.slice", "input", 17, ["-", ["view.len", "input"], 17]]
                        ],
                        ["view.to_bytes", ["view.slice", "input", 0, 17]]
                    ]
                ]),
                1885,
            ),
        ];
        for (name, imports, solve, expected) in rows {
            let dir = tempfile::tempdir().unwrap();
            let path = entry(dir.path(), imports, json!([]), solve);
            assert_eq!(
                compile_fuel(&path, &[dir.path().to_path_buf()]),
                Some(expected),
                "{name}"
            );
        }
    }

    #[test]
    fn reached_functions_count_once_and_unreached_ones_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let util = dir.path().join("app");
        std::fs::create_dir_all(&util).unwrap();
        std::fs::write(
            util.join("util.x07.json"),
            json!({"schema_version":"x07.x07ast@0.8.0","kind":"module","module_id":"app.util","imports":[],
                "decls":[{"kind":"export","names":["app.util.id"]},
                         {"kind":"defn","name":"app.util.id","params":[{"name":"x","ty":"i32"}],"result":"i32","body":"x"}]})
            .to_string(),
        )
        .unwrap();
        let decls = json!([
            {"kind":"defn","name":"main.f","params":[{"name":"n","ty":"i32"}],"result":"i32",
             "body":["if",["=","n",0],0,["main.f",["app.util.id",["-","n",1]]]]},
            {"kind":"defn","name":"main.unused","params":[],"result":"i32","body":["+",1,2]}
        ]);
        // solve: (std.fmt.s32_to_dec (main.f (main.f 3))) = 7 nodes.
        let path = entry(
            dir.path(),
            json!(["std.fmt", "app.util"]),
            decls,
            json!(["std.fmt.s32_to_dec", ["main.f", ["main.f", 3]]]),
        );
        // main.f body: if, (= n 0) 4, 0, (main.f (app.util.id (- n 1))) 8 → 15 nodes.
        let expected = 2 * 7 + 9 + (2 * 15 + 3) + (2 + 3);
        assert_eq!(
            compile_fuel(&path, &[dir.path().to_path_buf()]),
            Some(expected)
        );
    }

    #[test]
    fn an_unreadable_entry_has_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            compile_fuel(&dir.path().join("nothere.x07.json"), &[]),
            None
        );
    }
}
