//! Compile-time rejections (subset §12, §3.4, §5, §6, §8.6, §10.1): one table row per
//! situation. Rows marked `Exact` compare the whole `compile_error` text recorded from the
//! real toolchain; rows marked `Prefix` compare the verified part (the spec elides the rest).

use serde_json::{json, Value};
use x07_lite::load_program;

enum Want {
    Exact(&'static str),
    Prefix(&'static str),
}

struct Row {
    name: &'static str,
    /// The entry file (JSON value, or raw text when a string).
    entry: Value,
    /// Module files `(id, json)`.
    modules: Vec<(&'static str, Value)>,
    want: Want,
}

fn entry(imports: Value, decls: Value, solve: Value) -> Value {
    json!({"schema_version":"x07.x07ast@0.8.0","kind":"entry","module_id":"main","imports":imports,"decls":decls,"solve":solve})
}

fn solve_only(solve: Value) -> Value {
    entry(json!([]), json!([]), solve)
}

fn module(id: &str, imports: Value, decls: Value) -> Value {
    json!({"schema_version":"x07.x07ast@0.8.0","kind":"module","module_id":id,"imports":imports,"decls":decls})
}

fn defn(name: &str, params: Value, result: &str, body: Value) -> Value {
    json!({"kind":"defn","name":name,"params":params,"result":result,"body":body})
}

fn compile_error(row: &Row) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("main.x07.json");
    let text = match &row.entry {
        Value::String(raw) => raw.clone(),
        v => v.to_string(),
    };
    std::fs::write(&path, text).unwrap();
    let root = dir.path().join("mods");
    for (id, m) in &row.modules {
        let file = root.join(format!("{}.x07.json", id.replace('.', "/")));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, m.to_string()).unwrap();
    }
    match load_program(&path, &[root]) {
        Ok(_) => panic!("{}: program was accepted", row.name),
        Err(e) => e.message,
    }
}

fn rows() -> Vec<Row> {
    let lit = |s: &str| json!(["bytes.lit", s]);
    let id_fn = defn(
        "main.id",
        json!([{"name":"x","ty":"i32"}]),
        "i32",
        json!("x"),
    );
    let r = |name, entry, want| Row {
        name,
        entry,
        modules: vec![],
        want,
    };
    let rm = |name, entry, modules, want| Row {
        name,
        entry,
        modules,
        want,
    };
    use Want::{Exact, Prefix};
    vec![
        r("malformed json", json!("{\"schema_version\":\"x07.x07ast@0.8.0\",\"kind\":\"entry\","),
            Exact("Parse: main: EOF while parsing a value at line 1 column 52 at ")),
        r("schema version", json!({"schema_version":"x07.x07ast@0.2.0","kind":"entry","module_id":"main","imports":[],"decls":[],"solve":lit("x")}),
            Prefix("Parse: main: unsupported schema_version: got \"x07.x07ast@0.2.0\" (supported: x07.x07ast@0.3.0, ")),
        r("missing imports", json!({"schema_version":"x07.x07ast@0.8.0","kind":"entry","module_id":"main","decls":[],"solve":lit("x")}),
            Exact("Parse: main: missing required field: imports at ")),
        r("missing decls", json!({"schema_version":"x07.x07ast@0.8.0","kind":"entry","module_id":"main","imports":[],"solve":lit("x")}),
            Exact("Parse: main: missing required field: decls at ")),
        r("missing schema", json!({"kind":"entry","module_id":"main","imports":[],"decls":[],"solve":lit("x")}),
            Exact("Parse: main: missing required field: schema_version at ")),
        r("missing solve", json!({"schema_version":"x07.x07ast@0.8.0","kind":"entry","module_id":"main","imports":[],"decls":[]}),
            Exact("Parse: main: missing solve expression")),
        r("entry kind", json!({"schema_version":"x07.x07ast@0.8.0","kind":"module","module_id":"main","imports":[],"decls":[],"solve":lit("x")}),
            Exact("Parse: main: expected kind=\"entry\" got Module")),
        r("entry id", json!({"schema_version":"x07.x07ast@0.8.0","kind":"entry","module_id":"foo","imports":[],"decls":[],"solve":lit("x")}),
            Exact("Parse: main: entry module_id must be \"main\" got \"foo\"")),
        r("defn prefix", entry(json!([]), json!([defn("helper", json!([]), "i32", json!(1))]), lit("x")),
            Exact("Parse: main: defn name must start with \"main.\", got \"helper\" at /decls/0/name")),
        r("duplicate fn", entry(json!([]), json!([id_fn.clone(), id_fn.clone()]), lit("x")),
            Exact("Parse: main: duplicate function name: \"main.id\" at /decls/1/name")),
        r("decl kind", entry(json!([]), json!([{"kind":"defx","name":"main.x"}]), lit("x")),
            Exact("Parse: main: unsupported decl kind: \"defx\" at /decls/0/kind")),
        r("unknown type", entry(json!([]), json!([defn("main.f", json!([{"name":"a","ty":"u8"}]), "i32", json!(1))]), lit("x")),
            Prefix("Parse: main: unknown type: \"u8\" (expected i32, u32, bytes, ")),
        r("i32 range", solve_only(json!(["fmt.s32_to_dec", 2147483648u64])),
            Exact("Parse: main: number out of i32 range: 2147483648 at /solve/1")),
        r("float", solve_only(json!(["fmt.s32_to_dec", 1.5])),
            Exact("Parse: main: number is not an i64: 1.5 at /solve/1")),
        r("whitespace atom", solve_only(json!(["view.to_bytes", "in put"])),
            Exact("Parse: main: atom must not contain whitespace at /solve/1")),
        r("empty list", solve_only(json!(["view.to_bytes", []])),
            Exact("Parse: main: list expression must not be empty at /solve/1")),
        r("list head", solve_only(json!([5, 1])),
            Exact("Parse: main: list head must be an atom string at /solve/0")),
        r("list head whitespace", solve_only(json!(["view.to_bytes", ["view .len", "input"]])),
            Exact("Parse: main: list head must not contain whitespace at /solve/1/0")),
        r("invalid kind", json!({"schema_version":"x07.x07ast@0.8.0","kind":"program","module_id":"main","imports":[],"decls":[],"solve":lit("x")}),
            Prefix("Parse: main: invalid kind: expected \"entry\" or \"module\" got ")),
        r("json bool", solve_only(json!(["fmt.s32_to_dec", true])),
            Exact("Parse: main: unsupported JSON value in expr: Bool(true) at /solve/1")),
        r("unknown module", entry(json!(["zzz.nothere"]), json!([]), lit("x")),
            Exact("Parse: unknown module: \"zzz.nothere\" (searched: zzz/nothere.x07.json or zzz/nothere.x07t)\n\nhint: x07 pkg provides zzz.nothere")),
        r("std.os.fs missing", entry(json!(["std.os.fs"]), json!([]), lit("x")),
            Prefix("Parse: unknown module: \"std.os.fs\" (searched: std/os/fs.x07.json or std/os/fs.x07t)\n\nhint: ")),
        r("bad import id", entry(json!(["app/x"]), json!([]), lit("x")),
            Exact("Parse: main: invalid module_id (path separators are not allowed): \"app/x\" at /imports")),
        rm("module kind", entry(json!(["app.entrykind"]), json!([]), lit("x")),
            vec![("app.entrykind", json!({"schema_version":"x07.x07ast@0.8.0","kind":"entry","module_id":"app.entrykind","imports":[],"decls":[],"solve":lit("x")}))],
            Exact("Parse: module \"app.entrykind\": expected kind=\"module\" got Entry")),
        rm("module id mismatch", entry(json!(["app.mismatch"]), json!([]), lit("x")),
            vec![("app.mismatch", module("app.other", json!([]), json!([{"kind":"export","names":[]}])))],
            Exact("Parse: module \"app.mismatch\": module_id mismatch in file: got \"app.other\"")),
        rm("module no export", entry(json!(["app.noexport"]), json!([]), lit("x")),
            vec![("app.noexport", module("app.noexport", json!([]), json!([])))],
            Exact("Parse: module \"app.noexport\" is missing an export declaration")),
        rm("export undefined", entry(json!(["app.badexport"]), json!([]), lit("x")),
            vec![("app.badexport", module("app.badexport", json!([]), json!([{"kind":"export","names":["app.badexport.g"]}])))],
            Exact("Parse: export \"app.badexport.g\" is not defined in module \"app.badexport\"")),
        rm("cyclic import", entry(json!(["cyc.a"]), json!([]), lit("x")),
            vec![("cyc.a", module("cyc.a", json!(["cyc.b"]), json!([{"kind":"export","names":[]}]))),
                 ("cyc.b", module("cyc.b", json!(["cyc.a"]), json!([{"kind":"export","names":[]}])))],
            Exact("Parse: cyclic import detected at module \"cyc.a\"")),
        rm("call needs import", entry(json!(["app.a"]), json!([]), json!(["fmt.s32_to_dec", ["app.b.f"]])),
            vec![("app.a", module("app.a", json!(["app.b"]), json!([{"kind":"export","names":[]}]))),
                 ("app.b", module("app.b", json!([]), json!([{"kind":"export","names":["app.b.f"]}, defn("app.b.f", json!([]), "i32", json!(1))])))],
            Exact("Parse: call to \"app.b.f\" requires (import app.b) in module \"main\"")),
        rm("not exported", entry(json!(["app.b"]), json!([]), json!(["fmt.s32_to_dec", ["app.b.g"]])),
            vec![("app.b", module("app.b", json!([]), json!([{"kind":"export","names":["app.b.f"]}, defn("app.b.f", json!([]), "i32", json!(1)), defn("app.b.g", json!([]), "i32", json!(2))])))],
            Exact("Parse: function \"app.b.g\" is not exported by module \"app.b\"")),
        r("module not loaded", solve_only(json!(["fmt.s32_to_dec", ["app.b.f"]])),
            Exact("Unsupported: unsupported head: \"app.b.f\" (fn=solve)")),
        r("std not imported", solve_only(json!(["fmt.s32_to_dec", ["std.bytes.len", "input"]])),
            Exact("Unsupported: unsupported head: \"std.bytes.len\" (fn=solve)")),
        r("unknown head", solve_only(json!(["main.nope", 1])),
            Exact("Unsupported: unsupported head: \"main.nope\" (fn=solve)")),
        r("i32.lit", solve_only(json!(["fmt.s32_to_dec", ["i32.lit", 1]])),
            Prefix("Unsupported: unsupported head: \"i32.lit\"")),
        r("builtin arity", solve_only(json!(["fmt.s32_to_dec", ["bytes.len", "input", 1]])),
            Exact("Parse: bytes.len expects 1 args (fn=solve)")),
        r("operator arity", solve_only(json!(["fmt.s32_to_dec", ["+", 1]])),
            Prefix("Parse: + expects 2 args")),
        r("call arity", entry(json!([]), json!([id_fn.clone()]), json!(["fmt.u32_to_dec", ["main.id", 1, 2]])),
            Exact("Parse: call \"main.id\" expects 1 args (fn=solve)")),
        r("operator types", solve_only(json!(["fmt.s32_to_dec", ["+", lit("a"), 1]])),
            Prefix("Typing: + expects i32 args")),
        r("builtin types", solve_only(json!(["fmt.s32_to_dec", ["bytes.get_u8", 1, 2]])),
            Prefix("Typing: bytes.get_u8 expects (bytes_view, i32)")),
        r("bytes.len of vec", solve_only(json!(["begin", ["let", "v", ["vec_u8.with_capacity", 1]], ["fmt.s32_to_dec", ["bytes.len", "v"]]])),
            Prefix("Typing: bytes.len expects bytes_view")),
        r("view.len of bytes", solve_only(json!(["begin", ["let", "b", lit("x")], ["fmt.s32_to_dec", ["view.len", "b"]]])),
            Prefix("Typing: view.len expects bytes_view")),
        r("extend_bytes vec", solve_only(json!(["begin", ["let", "v", ["vec_u8.with_capacity", 1]], ["let", "w", ["vec_u8.with_capacity", 1]], ["vec_u8.into_bytes", ["vec_u8.extend_bytes", "v", "w"]]])),
            Prefix("Typing: vec_u8.extend_bytes expects (vec_u8, bytes_view)")),
        r("concat views", solve_only(json!(["bytes.concat", "input", lit("x")])),
            Prefix("Typing: bytes.concat expects (bytes, bytes)")),
        r("std arg type", entry(json!(["std.os.env"]), json!([]), json!(["std.os.env.get", "input"])),
            Prefix("Typing: call \"std.os.env.get\" arg 0 expects Bytes")),
        r("os bytes path", solve_only(json!(["os.fs.read_file", "input"])),
            Prefix("Typing: os.fs.read_file expects bytes path")),
        r("bytes.lit number", solve_only(json!(["bytes.lit", 5])),
            Prefix("Parse: bytes.lit expects a text string")),
        r("solve type", solve_only(json!(["+", 1, 2])),
            Exact("Typing: solve expression must evaluate to bytes (or return), got TyInfo { ty: I32, brand: None, view_full: false } (fn=solve)")),
        r("function type", entry(json!([]), json!([defn("main.g", json!([]), "i32", lit("x"))]), json!(["fmt.s32_to_dec", ["main.g"]])),
            Prefix("Typing: function \"main.g\" must evaluate to I32 (or return), got TyInfo {")),
        r("return type", solve_only(json!(["begin", ["return", 1], lit("x")])),
            Prefix("Typing: return expression must evaluate to TyInfo { ty: Bytes,")),
        r("unknown identifier", solve_only(json!(["fmt.s32_to_dec", "zz"])),
            Prefix("Typing: unknown identifier: \"zz\"")),
        r("set unknown", solve_only(json!(["begin", ["set", "zz", 1], lit("x")])),
            Prefix("Typing: set of unknown variable: \"zz\"")),
        r("duplicate let", solve_only(json!(["begin", ["let", "a", 1], ["let", "a", 2], lit("x")])),
            Prefix("Typing: duplicate let binding in same scope: \"a\"")),
        r("set type", solve_only(json!(["begin", ["let", "x", 1], ["set", "x", lit("a")], lit("x")])),
            Prefix("Typing: type mismatch in set for variable \"x\"")),
        r("if condition", solve_only(json!(["if", lit("a"), lit("b"), lit("c")])),
            Prefix("Typing: if condition must be i32")),
        r("if branches", solve_only(json!(["begin", ["let", "r", ["if", 1, lit("a"), 2]], lit("x")])),
            Prefix("Typing: if branches must have same type (then=Bytes, else=I32)")),
        r("while condition", solve_only(json!(["begin", ["while", lit("a"), 0], lit("x")])),
            Prefix("Typing: while condition must be i32")),
        r("for variable", solve_only(json!(["begin", ["let", "i", lit("a")], ["for", "i", 0, 3, 0], lit("x")])),
            Prefix("Typing: for variable must be i32: \"i\"")),
        r("if arity", solve_only(json!(["if", 1, lit("a")])),
            Prefix("Parse: if form: (if <cond:i32> <then:any> <else:any>)")),
        r("for arity", solve_only(json!(["begin", ["for", "i", 0, 3], lit("x")])),
            Prefix("Parse: for form: (for <i> <start:i32> <end:i32> <body:any>)")),
        r("while arity", solve_only(json!(["begin", ["while", 1], lit("x")])),
            Prefix("Parse: while form: (while <cond:i32> <body:any>)")),
        r("empty begin", solve_only(json!(["begin"])),
            Prefix("Parse: (begin ...) requires at least 1 expression")),
        r("use after move", solve_only(json!(["begin", ["let", "a", lit("x")], ["let", "b", "a"], "a"])),
            Exact("Typing: use after move: \"a\" moved_ptr=/solve/2/2 (fn=solve ptr=/solve/3)")),
        r("use after move in fn", entry(json!([]), json!([defn("main.f", json!([]), "bytes", json!(["begin", ["let", "a", lit("x")], ["let", "b", "a"], ["bytes.concat", "a", "b"]]))]), json!(["main.f"])),
            Exact("Typing: use after move: \"a\" moved_ptr=/decls/0/body/2/2 (fn=main.f ptr=/decls/0/body/3/1)")),
        r("move in one branch", solve_only(json!(["begin", ["let", "a", lit("x")], ["if", 1, ["begin", ["let", "b", "a"], 0], 0], "a"])),
            Exact("Typing: use after move: \"a\" moved_ptr=<unknown> (fn=solve ptr=/solve/3)")),
        // semantics R15: the literal loop is unrolled and its second copy fails; `let b a`
        // moves by name, so the error carries no ptr=.
        r("move in loop", solve_only(json!(["begin", ["let", "a", lit("x")], ["for", "i", 0, 3, ["let", "b", "a"]], lit("y")])),
            Exact("Typing: use after move: \"a\" moved_ptr=/solve/2/4/2 (fn=solve)")),
        r("std.vec.len consumes", entry(json!(["std.vec"]), json!([]), json!(["begin", ["let", "v", ["vec_u8.with_capacity", 1]], ["let", "n", ["std.vec.len", "v"]], ["vec_u8.into_bytes", "v"]])),
            Prefix("Typing: use after move: \"v\" moved_ptr=/solve/2/2/1")),
        r("move while borrowed", solve_only(json!(["begin", ["let", "b", lit("x")], ["let", "v", ["bytes.view", "b"]], ["let", "c", "b"], ["view.to_bytes", "v"]])),
            Prefix("Typing: move while borrowed: \"b\"")),
        r("set while borrowed", solve_only(json!(["begin", ["let", "b", lit("x")], ["let", "v", ["bytes.view", "b"]], ["set", "b", lit("y")], ["view.to_bytes", "v"]])),
            Prefix("Typing: set while borrowed: \"b\" borrowed_by=\"v\" borrowed_ptr=")),
        r("view of temporary", solve_only(json!(["view.to_bytes", ["bytes.view", lit("x")]])),
            Prefix("Typing: bytes.view requires an identifier owner (bind the value to a local with let first)")),
        r("view of local returned", entry(json!([]), json!([defn("main.f", json!([]), "bytes_view", json!(["begin", ["let", "b", lit("x")], ["bytes.view", "b"]]))]), json!(["view.to_bytes", ["main.f"]])),
            Exact("Typing: function \"main.f\" returns bytes_view borrowed from local owned buffer \"b\" (bytes_view return analysis: \"main.f\")")),
        r("owned let value", solve_only(json!(["begin", ["let", "x", lit("a")]])),
            Prefix("Unsupported: let expression cannot produce an owned value; use (begin (let ...) <var>)")),
        r("try in solve", solve_only(json!(["begin", ["let", "x", ["try", ["result_i32.ok", 1]]], lit("x")])),
            Prefix("Typing: try(result_i32) requires function return type result_i32 or result_bytes (fn=solve)")),
        r("unsigned lt 0", solve_only(json!(["begin", ["let", "x", 1], ["if", ["<u", "x", 0], lit("a"), lit("b")]])),
            Exact("Typing: semantic error: `(<u x 0)` is always false (unsigned comparison). Use a signed comparison like `(< x 0)` when checking for negatives, or guard before decrementing.")),
        r("unsigned ge 0", solve_only(json!(["begin", ["let", "x", 1], ["if", [">=u", "x", 0], lit("a"), lit("b")]])),
            Prefix("Typing: semantic error: `(>=u x 0)` is always true")),
        r("join outside solve", entry(json!([]), json!([defn("main.j", json!([{"name":"h","ty":"i32"}]), "bytes", json!(["os.process.join_capture_v1", "h"]))]), json!(["main.j", 1])),
            Prefix("Unsupported: os.process.join_capture_v1 is only allowed in solve or defasync (fn=main.j")),
        r("set_u8 while borrowed", solve_only(json!(["begin", ["let", "b", lit("xy")], ["let", "v", ["bytes.view", "b"]], ["set", "b", ["bytes.set_u8", "b", 0, 65]], ["view.to_bytes", "v"]])),
            Prefix("Typing: bytes.set_u8 while borrowed: \"b\"")),
        r("archive", solve_only(json!(["os.archive.zip_extract_to_fs_v1", lit("a.zip"), lit("out"), lit("p"), lit("c"), lit("x")])),
            Prefix("native backend file missing: backend_id=x07.ext.archive path=")),
        r("ext-fs", solve_only(json!(["result_bytes.unwrap_or", ["os.fs.read_all_v1", lit("data.txt"), lit("caps")], lit("ERR")])),
            Exact("native ext-fs backend missing (build + stage with ./scripts/build_ext_fs.sh)")),
    ]
}

#[test]
fn compile_errors_match_the_toolchain() {
    let mut failures = Vec::new();
    for row in rows() {
        let got = compile_error(&row);
        let ok = match row.want {
            Want::Exact(w) => got == w,
            Want::Prefix(w) => got.starts_with(w),
        };
        if !ok {
            failures.push(format!("{}: got {got:?}", row.name));
        }
    }
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}

#[test]
fn ext_fs_error_carries_native_requires() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("main.x07.json");
    let program = solve_only(json!([
        "result_bytes.unwrap_or",
        [
            "os.fs.read_all_v1",
            ["bytes.lit", "data.txt"],
            ["bytes.lit", "c"]
        ],
        ["bytes.lit", "ERR"]
    ]));
    std::fs::write(&path, program.to_string()).unwrap();
    let err = load_program(&path, &[]).unwrap_err();
    assert_eq!(
        err.native_requires,
        vec![json!({"abi_major":1,"backend_id":"x07.ext.fs","features":["os.fs.read_all_v1"]})]
    );
}

#[test]
fn type_mismatch_of_solve_has_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("main.x07.json");
    std::fs::write(&path, solve_only(json!(["+", 1, 2])).to_string()).unwrap();
    let err = load_program(&path, &[]).unwrap_err();
    assert_eq!(
        err.diagnostics,
        Some(
            json!([{"code":"X07-TYPE-UNIFY-0001","data":{"lhs":"i32","reason":"named_mismatch","rhs":"bytes"},"loc":{"kind":"x07ast","ptr":"/solve"},"message":"type mismatch: expected `bytes`, got `i32`","severity":"error","stage":"type"}])
        )
    );
}

#[test]
fn unreachable_broken_function_is_not_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("main.x07.json");
    let program = entry(
        json!(["std.bytes"]),
        json!([{"kind":"export","names":[]}, defn("main.broken", json!([]), "i32", json!(["main.nope", ["bytes.lit", "x"], "zz"]))]),
        json!(["bytes.lit", "fine"]),
    );
    std::fs::write(&path, program.to_string()).unwrap();
    assert!(load_program(&path, &[]).is_ok());
}
