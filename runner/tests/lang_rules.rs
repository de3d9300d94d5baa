//! The evidence of every rule of the semantics notes (R1–R24 and the defects of section
//! G), as a table: each row is a probe program run on the real toolchain and what it
//! did. The programs are the notes' short forms written out; pointers in expected error
//! texts follow from the program shapes.

use serde_json::{json, Value};
use x07_lite::host::Interrupt;
use x07_lite::os::OsHost;
use x07_lite::{load_program, solve, SolveLimits};

/// What the real toolchain did.
#[derive(Debug)]
enum Want {
    /// solve.ok with this output.
    Out(&'static str),
    /// This compile error, exactly.
    Err(&'static str),
    /// This trap.
    Trap(&'static str),
    /// This fuel_used on success.
    Fuel(u64),
    /// Killed by this signal.
    Signal(i32),
}

struct Row {
    rule: &'static str,
    decls: Value,
    imports: Value,
    solve: Value,
    input: &'static [u8],
    want: Want,
}

fn row(rule: &'static str, solve: Value, want: Want) -> Row {
    Row {
        rule,
        decls: json!([]),
        imports: json!([]),
        solve,
        input: b"",
        want,
    }
}

fn with_decls(mut r: Row, decls: Value) -> Row {
    r.decls = decls;
    r
}

fn with_input(mut r: Row, input: &'static [u8]) -> Row {
    r.input = input;
    r
}

fn with_imports(mut r: Row, imports: Value) -> Row {
    r.imports = imports;
    r
}

fn lit(s: &str) -> Value {
    json!(["bytes.lit", s])
}

fn vec0() -> Value {
    json!(["vec_u8.with_capacity", 0])
}

/// `(fmt.s32_to_dec x)`.
macro_rules! dec {
    ($($e:tt)+) => {
        json!(["fmt.s32_to_dec", $($e)+])
    };
}

fn defn(name: &str, params: Value, result: &str, body: Value) -> Value {
    let params: Vec<Value> = params
        .as_array()
        .unwrap()
        .iter()
        .map(|p| json!({"name": p[0], "ty": p[1]}))
        .collect();
    json!({"kind":"defn","name":name,"params":params,"result":result,"body":body})
}

fn run(r: &Row) -> Result<(Result<Vec<u8>, Interrupt>, u64), String> {
    let text = json!({"schema_version":"x07.x07ast@0.8.0","kind":"entry","module_id":"main",
        "imports":r.imports,"decls":r.decls,"solve":r.solve})
    .to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("main.x07.json");
    std::fs::write(&path, text).unwrap();
    let program = load_program(&path, &[]).map_err(|e| e.message)?;
    let out = solve(
        &program,
        r.input,
        &mut OsHost::run_os(),
        &SolveLimits::default(),
    );
    Ok((out.result, out.stats.fuel_used))
}

fn check(rows: Vec<Row>) {
    let mut failures = Vec::new();
    for r in &rows {
        let got = run(r);
        let ok = match (&r.want, &got) {
            (Want::Out(w), Ok((Ok(out), _))) => out == w.as_bytes(),
            (Want::Err(w), Err(e)) => e == w,
            (Want::Trap(w), Ok((Err(Interrupt::Trap(t)), _))) => t == w,
            (Want::Fuel(w), Ok((Ok(_), fuel))) => fuel == w,
            (Want::Signal(w), Ok((Err(Interrupt::Signal(s)), _))) => s == w,
            _ => false,
        };
        if !ok {
            let shown = match &got {
                Ok((Ok(out), fuel)) => {
                    format!("ok {:?} (fuel {fuel})", String::from_utf8_lossy(out))
                }
                Ok((Err(i), _)) => format!("{i:?}"),
                Err(e) => format!("compile error {e:?}"),
            };
            failures.push(format!("{}: want {:?}, got {shown}", r.rule, r.want));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_statement_and_value_position_r1_to_r10() {
    let push = |c: i64| json!(["set", "o", ["vec_u8.push", "o", c]]);
    let rows = vec![
        row(
            "R1 statement if in a loop body",
            json!(["begin", ["let", "o", vec0()],
                ["for", "i", 0, 3, ["begin", ["let", "k", "i"], ["if", ["=", "k", 1], push(66), 0]]],
                ["vec_u8.into_bytes", "o"]]),
            Want::Out("B"),
        ),
        row(
            "R2 statement if with branches of different types",
            json!(["begin", ["let", "o", vec0()], ["if", 1, push(65), 0], ["vec_u8.into_bytes", "o"]]),
            Want::Out("A"),
        ),
        with_input(
            row(
                "R2 statement if: bytes vs i32 branches",
                json!(["begin", ["if", ["view.len", "input"], lit("junk"), 5], lit("ok")]),
                Want::Out("ok"),
            ),
            b"x",
        ),
        row(
            "R2/R3 an if ending a statement-if branch is typed as a value",
            json!(["begin", ["let", "o", vec0()],
                ["if", 1, ["begin", push(65), ["if", 0, 0, push(66)]], lit("x")],
                ["vec_u8.into_bytes", "o"]]),
            Want::Err("Typing: if branches must have same type (then=I32, else=VecU8); if a branch is a statement assignment, use [\"set0\",name,expr] (yields i32) or end the branch with 0 (fn=solve)"),
        ),
        with_input(
            row(
                "R3 value if: the error carries the hint",
                json!(["begin", ["let", "x", ["if", ["view.len", "input"], lit("a"), 1]], lit("b")]),
                Want::Err("Typing: if branches must have same type (then=Bytes, else=I32); if a branch is a statement assignment, use [\"set0\",name,expr] (yields i32) or end the branch with 0 (fn=solve)"),
            ),
            b"x",
        ),
        row(
            "R4 value set of a vec_u8",
            json!(["begin", ["let", "o", vec0()], ["let", "y", push(65)], ["vec_u8.into_bytes", "o"]]),
            Want::Err("Unsupported: set expression cannot produce an owned value; use (begin (set ...) <var>) (fn=solve)"),
        ),
        row(
            "R4 value set of an option_bytes",
            json!(["begin", ["let", "w", ["option_bytes.none"]], ["let", "v", ["set", "w", ["option_bytes.some", lit("q")]]], lit("x")]),
            Want::Err("Unsupported: set expression cannot produce an owned value; use (begin (set ...) <var>) (fn=solve)"),
        ),
        row(
            "R4 value set of a result_bytes",
            json!(["begin", ["let", "w", ["result_bytes.err", 1]], ["let", "v", ["set", "w", ["result_bytes.ok", lit("q")]]], lit("x")]),
            Want::Err("Unsupported: set expression cannot produce an owned value; use (begin (set ...) <var>) (fn=solve)"),
        ),
        row(
            "R4 set as an argument",
            json!(["begin", ["let", "w", lit("a")], ["bytes.concat", ["set", "w", lit("q")], lit("x")]]),
            Want::Err("Unsupported: set expression cannot produce an owned value; use (begin (set ...) <var>) (fn=solve)"),
        ),
        with_decls(
            row(
                "R4 a function body ending in an owned set",
                json!(["vec_u8.into_bytes", ["main.f", vec0()]]),
                Want::Err("Unsupported: set expression cannot produce an owned value; use (begin (set ...) <var>) (fn=main.f)"),
            ),
            json!([defn("main.f", json!([["o", "vec_u8"]]), "vec_u8", json!(["set", "o", ["vec_u8.push", "o", 59]]))]),
        ),
        row(
            "R4 a value set of an option_i32 yields the value",
            json!(["begin", ["let", "w", ["option_i32.none"]], ["let", "v", ["set", "w", ["option_i32.some", 4]]],
                dec!(["option_i32.unwrap_or", "v", 0])]),
            Want::Out("4"),
        ),
        row(
            "R5 value let of an option_bytes",
            json!(["begin", ["let", "y", ["let", "w", ["option_bytes.some", lit("q")]]], lit("x")]),
            Want::Err("Unsupported: let expression cannot produce an owned value; use (begin (let ...) <var>) (fn=solve)"),
        ),
        with_decls(
            row(
                "R5 a function body ending in a result_bytes let",
                json!(["result_bytes.unwrap_or", ["main.f", 1], lit("e")]),
                Want::Err("Unsupported: let expression cannot produce an owned value; use (begin (let ...) <var>) (fn=main.f)"),
            ),
            json!([defn("main.f", json!([["n", "i32"]]), "result_bytes",
                json!(["begin", ["let", "k", "n"], ["let", "res", ["result_bytes.ok", lit("r")]]]))]),
        ),
        row(
            "R6 value let of a view",
            json!(["begin", ["let", "v", ["let", "w", ["bytes.view_lit", "abc"]]], lit("x")]),
            Want::Err("Typing: cannot infer borrow source for bytes_view expression (fn=solve)"),
        ),
        row(
            "R6 value set of a view",
            json!(["begin", ["let", "w", ["bytes.view_lit", "a"]], ["let", "v", ["set", "w", ["bytes.view_lit", "de"]]], lit("x")]),
            Want::Err("Typing: cannot infer borrow source for bytes_view expression (fn=solve)"),
        ),
        row(
            "R7 set0 on bytes assigns and yields 0",
            json!(["begin", ["let", "b", lit("a")], ["let", "z", ["set0", "b", lit("yz")]],
                ["bytes.concat", "b", dec!("z")]]),
            Want::Out("yz0"),
        ),
        row(
            "R8 a begin ending in a loop is 0",
            json!(["begin", ["let", "s", 0], ["let", "n", ["begin", ["let", "a", 1], ["for", "i", 0, 3, ["set", "s", ["+", "s", "a"]]]]],
                dec!(["+", "n", "s"])]),
            Want::Out("3"),
        ),
        row(
            "R9 a bare owned identifier statement moves",
            json!(["begin", ["let", "buf", vec0()], ["set", "buf", ["vec_u8.push", "buf", 65]],
                "buf", ["set", "buf", ["vec_u8.push", "buf", 66]], ["vec_u8.into_bytes", "buf"]]),
            Want::Err("Typing: use after move: \"buf\" moved_ptr=/solve/3 (fn=solve)"),
        ),
        row(
            "R9 an owned statement consumes its arguments",
            json!(["begin", ["let", "a", lit("a")], ["let", "b", lit("b")], ["bytes.concat", "a", "b"], "a"]),
            Want::Err("Typing: use after move: \"a\" moved_ptr=/solve/3/1 (fn=solve ptr=/solve/4)"),
        ),
        row(
            "R10 a view statement keeps its owner borrowed",
            json!(["begin", ["let", "b", lit("xy")], ["bytes.view", "b"], "b"]),
            Want::Err("Typing: move while borrowed: \"b\" (fn=solve ptr=/solve/3)"),
        ),
        with_decls(
            row(
                "R10 a view temporary in an argument is released after the call",
                json!(["begin", ["let", "a", lit("abc")], ["let", "n", ["view.len", ["main.m", "a"]]], ["bytes.concat", "a", dec!("n")]]),
                Want::Out("abc2"),
            ),
            json!([defn("main.m", json!([["s", "bytes_view"]]), "bytes_view", json!(["view.slice", "s", 1, 2]))]),
        ),
    ];
    check(rows);
}

#[test]
fn b_scoping_and_input_r11_to_r14() {
    let rows = vec![
        row(
            "R11 a let in an operand binds in the enclosing scope",
            json!(["begin", ["let", "y", ["+", ["let", "a", 1], "a"]], dec!(["+", "a", "y"])]),
            Want::Out("3"),
        ),
        with_input(
            row(
                "R11 a let in a for bound binds in the enclosing scope",
                json!(["begin", ["let", "k", ["view.len", "input"]], ["for", "i", ["let", "s", "k"], 5, 0], dec!("s")]),
                Want::Out("2"),
            ),
            b"ab",
        ),
        with_input(
            row(
                "R11 a let in an if condition binds in the enclosing scope",
                json!(["begin", ["let", "k", ["view.len", "input"]], ["if", ["let", "c", "k"], ["set", "k", 1], 0], dec!(["+", "c", "k"])]),
                Want::Out("3"),
            ),
            b"ab",
        ),
        row(
            "R11 a let in a while condition does not",
            json!(["begin", ["while", ["let", "c", 0], 0], dec!("c")]),
            Want::Err("Typing: unknown identifier: \"c\" (fn=solve)"),
        ),
        with_decls(
            row(
                "R11 a let may shadow a parameter in the body begin",
                dec!(["main.f", 4]),
                Want::Out("5"),
            ),
            json!([defn("main.f", json!([["x", "i32"]]), "i32", json!(["begin", ["let", "x", ["+", "x", 1]], "x"]))]),
        ),
        with_decls(
            row(
                "R12 input is not a parameter name",
                lit("x"),
                Want::Err("Parse: main: defn arg name must not be 'input' (reserved); rename to 'data', 'payload', 'in_bytes', or 'buf' at /decls/0/params/0/name"),
            ),
            json!([defn("main.f", json!([["input", "bytes"]]), "i32", json!(0))]),
        ),
        with_imports(
            with_input(
                row(
                    "R12 let input never rebinds input",
                    json!(["begin", ["let", "input", ["std.bytes.trim_ascii_view", "input"]], ["view.to_bytes", "input"]]),
                    Want::Out("  hi  "),
                ),
                b"  hi  ",
            ),
            json!(["std.bytes"]),
        ),
        row(
            "R13 a one-item begin is no scope after optimizing",
            json!(["begin", ["let", "w", 10], ["begin", ["let", "w", 20]], dec!("w")]),
            Want::Out("20"),
        ),
        row(
            "R13 a literal-condition if is replaced by its branch",
            json!(["begin", ["let", "m", 1], ["if", ["=", 1, 1], ["let", "m", 2], 0], dec!("m")]),
            Want::Out("2"),
        ),
        row(
            "R13 with an owned outer variable the merged let collides",
            json!(["begin", ["let", "a", lit("outer")], ["begin", ["let", "a", lit("inner")]], "a"]),
            Want::Err("Typing: duplicate let binding in same scope: \"a\" (fn=solve)"),
        ),
        with_input(
            row(
                "R13 identical branches: the condition is never evaluated",
                json!(["begin", ["let", "k", ["if", ["view.get_u8", "input", 100], 5, 5]], dec!("k")]),
                Want::Out("5"),
            ),
            b"abc",
        ),
        with_input(
            row(
                "R13 identical branches: a set in the condition does not happen",
                json!(["begin", ["let", "k", ["view.len", "input"]], ["if", ["set", "k", 9], 0, 0], dec!("k")]),
                Want::Out("3"),
            ),
            b"abc",
        ),
        row(
            "R13 the dead branch of a literal if is still checked",
            json!(["begin", ["if", 1, 0, ["+", 1, lit("x")]], lit("y")]),
            Want::Err("Typing: + expects i32 args (fn=solve)"),
        ),
        with_input(
            row(
                "R14 an unused pure let costs nothing",
                json!(["begin", ["let", "k", ["view.len", "input"]], ["let", "z", ["+", 1, 2]], dec!("k")]),
                Want::Fuel(5),
            ),
            b"abc",
        ),
        with_input(
            row(
                "R14 a let bound from a call is kept",
                json!(["begin", ["let", "k", ["view.len", "input"]], ["let", "z", ["view.len", "input"]], dec!("k")]),
                Want::Fuel(7),
            ),
            b"abc",
        ),
    ];
    check(rows);
    // R13: a condition with an effect is dropped with it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("never.txt");
    let path = file.to_str().unwrap().to_string();
    let r = row(
        "R13 (if (os.fs.write_file p d) 0 0) never writes",
        json!([
            "begin",
            [
                "if",
                ["os.fs.write_file", ["bytes.lit", path], lit("d")],
                0,
                0
            ],
            lit("ok")
        ]),
        Want::Out("ok"),
    );
    check(vec![r]);
    assert!(!file.exists(), "the dropped condition wrote the file");
}

#[test]
fn c_moves_and_borrows_r15_to_r19() {
    let loop_move = |n: i64| {
        json!([
            "begin",
            ["let", "a", lit("xy")],
            ["let", "n", 0],
            [
                "for",
                "i",
                0,
                n,
                [
                    "begin",
                    ["let", "b", "a"],
                    ["set", "n", ["+", "n", ["bytes.len", "b"]]]
                ]
            ],
            dec!("n")
        ])
    };
    let bump = defn(
        "main.bump",
        json!([["c", "bytes"], ["i", "i32"], ["v", "i32"]]),
        "bytes",
        json!(["bytes.set_u8", "c", "i", "v"]),
    );
    let rows = vec![
        row("R15 a move in a loop: later iterations see empty", loop_move(20), Want::Out("2")),
        row("R15 for 0 9 is not unrolled", loop_move(9), Want::Out("2")),
        row(
            "R15 for 0 8 is unrolled and its second copy fails",
            loop_move(8),
            Want::Err("Typing: use after move: \"a\" moved_ptr=/solve/3/4/1/2 (fn=solve)"),
        ),
        row(
            "R15 re-setting revives inside a loop",
            json!(["begin", ["let", "a", lit("x")], ["for", "i", 0, 3, ["set", "a", ["bytes.concat", "a", lit("y")]]], "a"]),
            Want::Out("xyyy"),
        ),
        with_input(
            row(
                "R15 a while body move",
                json!(["begin", ["let", "a", lit("xy")], ["let", "n", 0], ["let", "j", 0],
                    ["while", ["<", "j", ["view.len", "input"]], ["begin", ["let", "b", "a"],
                        ["set", "n", ["+", "n", ["bytes.len", "b"]]], ["set", "j", ["+", "j", 1]]]],
                    dec!("n")]),
                Want::Out("2"),
            ),
            b"abcd",
        ),
        with_input(
            row(
                "R16 moved in one branch: unknown",
                json!(["begin", ["let", "a", lit("x")], ["if", ["view.len", "input"], ["begin", ["let", "b", "a"], 0], 0], "a"]),
                Want::Err("Typing: use after move: \"a\" moved_ptr=<unknown> (fn=solve ptr=/solve/3)"),
            ),
            b"x",
        ),
        with_input(
            row(
                "R16 moved before, re-set in one branch: the original move",
                json!(["begin", ["let", "a", lit("x")], ["let", "b", "a"], ["if", ["view.len", "input"], ["set", "a", lit("y")], 0], ["let", "c", 1], "a"]),
                Want::Err("Typing: use after move: \"a\" moved_ptr=/solve/2/2 (fn=solve ptr=/solve/5)"),
            ),
            b"x",
        ),
        with_input(
            row(
                "R16 a branch that returns does not move",
                json!(["begin", ["let", "a", lit("x")], ["if", ["view.len", "input"], ["return", "a"], 0], "a"]),
                Want::Out("x"),
            ),
            b"",
        ),
        with_input(
            row(
                "R17 statement if: two owners",
                json!(["begin", ["let", "a", lit("x")], ["let", "b", lit("y")], ["let", "v", ["bytes.view", "a"]],
                    ["if", ["view.len", "input"], ["set", "v", ["bytes.view", "b"]], 0], ["view.to_bytes", "v"]]),
                Want::Err("Typing: BytesView must have a single borrow source across branches (fn=solve)"),
            ),
            b"x",
        ),
        with_input(
            row(
                "R17 value if: two owners",
                json!(["begin", ["let", "a", lit("x")], ["let", "b", lit("y")],
                    ["let", "v", ["if", ["view.len", "input"], ["bytes.view", "a"], ["bytes.view", "b"]]], ["view.to_bytes", "v"]]),
                Want::Err("Typing: bytes_view must have a single borrow source across branches (fn=solve)"),
            ),
            b"x",
        ),
        with_input(
            row(
                "R17 input and literal views mix with an owned view",
                json!(["begin", ["let", "a", lit("x")],
                    ["let", "v", ["if", ["view.len", "input"], ["bytes.view", "a"], "input"]],
                    ["let", "w", ["if", ["view.len", "input"], ["bytes.view_lit", "L"], ["bytes.view", "a"]]],
                    ["bytes.concat", ["view.to_bytes", "v"], ["view.to_bytes", "w"]]]),
                Want::Out("xL"),
            ),
            b"q",
        ),
        row(
            "R18 the histogram idiom",
            json!(["begin", ["let", "b", ["bytes.alloc", 2]], ["set", "b", ["bytes.set_u8", "b", 1, ["+", ["bytes.get_u8", "b", 1], 66]]],
                ["set", "b", ["bytes.set_u8", "b", 0, ["+", ["bytes.get_u8", "b", 1], 1]]], "b"]),
            Want::Out("CB"),
        ),
        row(
            "R18 push reads the vector's own length",
            json!(["begin", ["let", "v", vec0()], ["set", "v", ["vec_u8.push", "v", 65]],
                ["set", "v", ["vec_u8.push", "v", ["+", 64, ["vec_u8.len", "v"]]]], ["vec_u8.into_bytes", "v"]]),
            Want::Out("AA"),
        ),
        row(
            "R18 set reads the vector",
            json!(["begin", ["let", "v", vec0()], ["set", "v", ["vec_u8.extend_bytes", "v", ["bytes.view_lit", "abcd"]]],
                ["set", "v", ["vec_u8.set", "v", 0, ["vec_u8.get", "v", 3]]], ["vec_u8.into_bytes", "v"]]),
            Want::Out("dbcd"),
        ),
        row(
            "R18 extend_bytes appends the vector to itself",
            json!(["begin", ["let", "v", vec0()], ["set", "v", ["vec_u8.push", "v", 65]],
                ["set", "v", ["vec_u8.extend_bytes", "v", ["vec_u8.as_view", "v"]]], ["vec_u8.into_bytes", "v"]]),
            Want::Out("AA"),
        ),
        with_decls(
            row(
                "R18 a user function moves its argument when evaluated",
                json!(["begin", ["let", "counts", ["bytes.alloc", 3]], ["set", "counts", ["main.bump", "counts", 1, ["+", ["bytes.get_u8", "counts", 1], 1]]], "counts"]),
                Want::Err("Typing: use after move: \"counts\" moved_ptr=/solve/2/2/1 (fn=solve ptr=/solve/2/2/3/1/1)"),
            ),
            json!([bump]),
        ),
        row(
            "R19 return is not a builtin argument",
            json!(["bytes.concat", lit("a"), ["return", lit("r")]]),
            Want::Err("Typing: bytes.concat expects (bytes, bytes) (fn=solve)"),
        ),
        row(
            "R19 return is not an operand",
            json!(["begin", ["let", "x", ["+", 1, ["return", lit("r")]]], lit("y")]),
            Want::Err("Typing: + expects i32 args (fn=solve)"),
        ),
        with_decls(
            row(
                "R19 return is not a user function argument",
                json!(["begin", ["let", "x", ["main.f", ["return", lit("r")]]], lit("y")]),
                Want::Err("Typing: call \"main.f\" arg 0 expects I32 (fn=solve)"),
            ),
            json!([defn("main.f", json!([["n", "i32"]]), "i32", json!("n"))]),
        ),
        with_input(
            row(
                "R19 return in a while condition, a let and an if branch",
                json!(["begin", ["let", "i", 0],
                    ["while", ["if", ["=", "i", 2], ["return", lit("done")], 1], ["set", "i", ["+", "i", 1]]],
                    ["let", "z", ["return", lit("never")]], lit("no")]),
                Want::Out("done"),
            ),
            b"",
        ),
    ];
    check(rows);
}

#[test]
fn d_literals_r20() {
    let raw = |text: &str| -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("main.x07.json");
        std::fs::write(
            &path,
            format!("{{\"schema_version\":\"x07.x07ast@0.8.0\",\"kind\":\"entry\",\"module_id\":\"main\",\"imports\":[],\"decls\":[],\"solve\":[\"fmt.s32_to_dec\",{text}]}}"),
        )
        .unwrap();
        match load_program(&path, &[]) {
            Ok(_) => "ok".to_string(),
            Err(e) => e.message,
        }
    };
    let cases = [
        (
            "2147483648",
            "Parse: main: number out of i32 range: 2147483648 at /solve/1",
        ),
        (
            "-2147483649",
            "Parse: main: number out of i32 range: -2147483649 at /solve/1",
        ),
        ("-2147483648", "ok"),
        (
            "14695981039346656037",
            "Parse: main: number is not an i64: 14695981039346656037 at /solve/1",
        ),
        (
            "18446744073709551616",
            "Parse: main: number is not an i64: 1.8446744073709552e+19 at /solve/1",
        ),
        (
            "1e22",
            "Parse: main: number is not an i64: 1e+22 at /solve/1",
        ),
        ("-0", "Parse: main: number is not an i64: -0.0 at /solve/1"),
        (
            "1e3",
            "Parse: main: number is not an i64: 1000.0 at /solve/1",
        ),
        ("1.5", "Parse: main: number is not an i64: 1.5 at /solve/1"),
        ("00", "Parse: main: invalid number at line 1 column 123 at "),
        (
            "\"0x10\"",
            "Typing: unknown identifier: \"0x10\" (fn=solve)",
        ),
        ("\"5\"", "Typing: unknown identifier: \"5\" (fn=solve)"),
    ];
    let mut failures = Vec::new();
    for (text, want) in cases {
        let got = raw(text);
        if got != want {
            failures.push(format!("{text}: want {want:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn f_recursion_depth_r24() {
    let down = defn(
        "main.down",
        json!([["n", "i32"]]),
        "i32",
        json!([
            "if",
            ["=", "n", 0],
            0,
            ["+", 1, ["main.down", ["-", "n", 1]]]
        ]),
    );
    let two = defn(
        "main.two",
        json!([["n", "i32"]]),
        "i32",
        json!([
            "if",
            ["<", "n", 2],
            "n",
            ["+", ["main.two", ["-", "n", 1]], ["main.two", 0]]
        ]),
    );
    let thread = defn(
        "main.th",
        json!([["b", "bytes"], ["n", "i32"]]),
        "bytes",
        json!([
            "if",
            ["=", "n", 0],
            "b",
            ["main.th", ["bytes.concat", "b", lit("")], ["-", "n", 1]]
        ]),
    );
    let rows = vec![
        with_decls(
            row(
                "R24 plain recursion 1,000,000 deep",
                dec!(["main.down", 1_000_000]),
                Want::Out("1000000"),
            ),
            json!([down.clone()]),
        ),
        with_decls(
            row(
                "R24 down(1000) fuel",
                dec!(["main.down", 1000]),
                Want::Fuel(10008),
            ),
            json!([down.clone()]),
        ),
        with_decls(
            row(
                "R24 down(10^7) needs 10^8 units",
                dec!(["main.down", 10_000_000]),
                Want::Trap("fuel exhausted"),
            ),
            json!([down]),
        ),
        with_decls(
            row(
                "R24 two-call i32 function at 150,000",
                dec!(["main.two", 150_000]),
                Want::Out("1"),
            ),
            json!([two.clone()]),
        ),
        with_decls(
            row(
                "R24 two-call i32 function at 200,000",
                dec!(["main.two", 200_000]),
                Want::Signal(11),
            ),
            json!([two]),
        ),
        with_decls(
            row(
                "R24 bytes-threading function at 70,000",
                json!(["main.th", lit("a"), 70_000]),
                Want::Out("a"),
            ),
            json!([thread.clone()]),
        ),
        with_decls(
            row(
                "R24 bytes-threading function at 100,000",
                json!(["main.th", lit("a"), 100_000]),
                Want::Signal(11),
            ),
            json!([thread]),
        ),
    ];
    check(rows);
}

#[test]
fn g_the_compiler_panic_program_runs() {
    let rows = vec![with_input(
        row(
            "G let in both branches, the second's local read in a call argument",
            json!([
                "begin",
                ["let", "o", vec0()],
                [
                    "if",
                    ["view.len", "input"],
                    ["begin", ["let", "a", 1], 0],
                    [
                        "begin",
                        ["let", "rc", 2],
                        [
                            "set",
                            "o",
                            ["vec_u8.extend_bytes", "o", ["fmt.s32_to_dec", "rc"]]
                        ],
                        0
                    ]
                ],
                ["vec_u8.into_bytes", "o"]
            ]),
            Want::Out("2"),
        ),
        b"",
    )];
    check(rows);
}

#[test]
fn f_a_native_stack_overflow_reports_signal_11_r24() {
    // Through the binary: the solver dies by SIGSEGV as the compiled program would.
    let dir = tempfile::tempdir().unwrap();
    let program = json!({"schema_version":"x07.x07ast@0.8.0","kind":"entry","module_id":"main","imports":[],
        "decls":[defn("main.f", json!([["n", "i32"]]), "i32",
            json!(["+", ["main.f", ["+", "n", 1]], ["main.f", "n"]]))],
        "solve": dec!(["main.f", 0])});
    std::fs::write(dir.path().join("main.x07.json"), program.to_string()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_x07-lite"))
        .args(["run", "--program", "main.x07.json", "--repair=off"])
        .current_dir(dir.path())
        .env("X07_LITE_DIFFERENTIAL", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["exit_code"], 1);
    assert_eq!(report["solve"]["ok"], false);
    assert_eq!(report["solve"]["trap"], "terminated by signal 11");
    assert_eq!(report["solve"]["exit_status"], 139);
    assert_eq!(report["solve"]["stderr_b64"], "");
    assert_eq!(report["solve"]["fuel_used"], Value::Null);
}
