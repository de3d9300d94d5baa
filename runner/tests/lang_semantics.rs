//! Runtime semantics beyond the conformance examples: the pitfalls of subset §13, the
//! value tables of §7 and §9.4, trap texts of §8/§9.9, and robustness (deep nesting,
//! fuel, recursion, memory, every builtin and std function with edge-case arguments).

use serde_json::{json, Value};
use x07_lite::check::sigs::{BUILTINS, P};
use x07_lite::host::{Host, HostResult, Interrupt};
use x07_lite::std::STD_FUNCTIONS;
use x07_lite::types::Ty;
use x07_lite::{load_program, solve, SolveLimits};

/// A host without an OS: every OS call traps; `exit` exits.
struct NoOs;

fn no_os<T>() -> HostResult<T> {
    Err(Interrupt::Trap("no os in this test".to_string()))
}

impl Host for NoOs {
    fn fs_read_file(&mut self, _: &[u8]) -> HostResult<Vec<u8>> {
        no_os()
    }
    fn fs_write_file(&mut self, _: &[u8], _: &[u8]) -> HostResult<i32> {
        no_os()
    }
    fn env_get(&mut self, _: &[u8]) -> HostResult<Vec<u8>> {
        no_os()
    }
    fn time_now_unix_ms(&mut self) -> HostResult<i32> {
        no_os()
    }
    fn time_now_instant_v1(&mut self) -> HostResult<Vec<u8>> {
        no_os()
    }
    fn time_sleep_ms_v1(&mut self, _: i32) -> HostResult<i32> {
        no_os()
    }
    fn time_local_tzid_v1(&mut self) -> HostResult<Vec<u8>> {
        no_os()
    }
    fn process_exit(&mut self, code: i32) -> Interrupt {
        Interrupt::Exit(code)
    }
    fn process_run_capture_v1(&mut self, _: &[u8], _: &[u8]) -> HostResult<Vec<u8>> {
        no_os()
    }
    fn process_spawn_capture_v1(&mut self, _: &[u8], _: &[u8]) -> HostResult<i32> {
        no_os()
    }
    fn process_spawn_piped_v1(&mut self, _: &[u8], _: &[u8]) -> HostResult<i32> {
        no_os()
    }
    fn process_try_join_capture_v1(&mut self, _: i32) -> HostResult<Option<Vec<u8>>> {
        no_os()
    }
    fn process_join_capture_v1(&mut self, _: i32) -> HostResult<Vec<u8>> {
        no_os()
    }
    fn process_join_exit_v1(&mut self, _: i32) -> HostResult<i32> {
        no_os()
    }
    fn process_try_wait_v1(&mut self, _: i32) -> HostResult<i32> {
        no_os()
    }
    fn process_take_exit_v1(&mut self, _: i32) -> HostResult<i32> {
        no_os()
    }
    fn process_stdout_read_v1(&mut self, _: i32, _: i32) -> HostResult<Vec<u8>> {
        no_os()
    }
    fn process_stderr_read_v1(&mut self, _: i32, _: i32) -> HostResult<Vec<u8>> {
        no_os()
    }
    fn process_stdin_write_v1(&mut self, _: i32, _: &[u8]) -> HostResult<i32> {
        no_os()
    }
    fn process_stdin_close_v1(&mut self, _: i32) -> HostResult<i32> {
        no_os()
    }
    fn process_kill_v1(&mut self, _: i32, _: i32) -> HostResult<i32> {
        no_os()
    }
    fn process_drop_v1(&mut self, _: i32) -> HostResult<i32> {
        no_os()
    }
    fn net_http_request(&mut self, _: &[u8]) -> HostResult<Vec<u8>> {
        Err(Interrupt::Trap(
            "os.net.http_request not implemented".to_string(),
        ))
    }
}

fn entry(imports: Value, decls: Value, solve: Value) -> String {
    json!({"schema_version":"x07.x07ast@0.8.0","kind":"entry","module_id":"main","imports":imports,"decls":decls,"solve":solve}).to_string()
}

/// Loads and runs a program text; compile errors come back as `Err(Trap("compile: …"))`.
fn run_text(text: &str, input: &[u8], limits: SolveLimits) -> Result<Vec<u8>, Interrupt> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("main.x07.json");
    std::fs::write(&path, text).unwrap();
    let program =
        load_program(&path, &[]).map_err(|e| Interrupt::Trap(format!("compile: {}", e.message)))?;
    solve(&program, input, &mut NoOs, &limits).result
}

fn run(imports: Value, solve_expr: Value, input: &[u8]) -> Result<Vec<u8>, Interrupt> {
    run_text(
        &entry(imports, json!([]), solve_expr),
        input,
        SolveLimits::default(),
    )
}

fn ok_text(r: Result<Vec<u8>, Interrupt>) -> String {
    String::from_utf8_lossy(&r.expect("run failed")).into_owned()
}

fn trap_text(r: Result<Vec<u8>, Interrupt>) -> String {
    match r {
        Err(Interrupt::Trap(t)) => t,
        other => panic!("expected a trap, got {other:?}"),
    }
}

/// `fmt.s32_to_dec` of an i32 expression.
fn dec(e: Value) -> Value {
    json!(["fmt.s32_to_dec", e])
}

#[test]
fn i32_operator_table() {
    let cases: &[(&str, i64, i64, i32)] = &[
        ("+", 2147483647, 1, -2147483648),
        ("-", 0, 1, -1),
        ("*", 65536, 65536, 0),
        ("*", -2147483648, -1, -2147483648),
        ("/", -7, 2, 2147483644),
        ("/", 7, -2, 0),
        ("/", 5, 0, 0),
        ("/", -5, 0, 0),
        ("%", -7, 2, 1),
        ("%", 7, -2, 7),
        ("%", -5, 0, -5),
        ("%", -1, 10, 5),
        ("&", 12, 10, 8),
        ("|", 12, 10, 14),
        ("^", 12, -1, -13),
        ("<<u", 1, 31, -2147483648),
        ("<<u", 1, 32, 1),
        ("<<u", 1, 33, 2),
        ("<<u", 3, -1, -2147483648),
        (">>u", -1, 28, 15),
        (">>u", -16, 2, 1073741820),
        (">>u", 1, 32, 1),
        ("<", -1, 0, 1),
        (">u", -1, 0, 1),
        ("<u", 0, -1, 1),
        ("<=u", 3, 3, 1),
        ("&&", 5, 7, 1),
        ("||", 0, -3, 1),
        ("||", 0, 0, 0),
    ];
    for &(op, a, b, want) in cases {
        // Both from literals (folded by the real compiler) and from input-derived values.
        let lit = ok_text(run(json!([]), dec(json!([op, a, b])), b""));
        assert_eq!(lit, want.to_string(), "{a} {op} {b}");
        let from_input = json!([
            op,
            ["codec.read_u32_le", "input", 0],
            ["codec.read_u32_le", "input", 4]
        ]);
        let mut input = (a as i32).to_le_bytes().to_vec();
        input.extend_from_slice(&(b as i32).to_le_bytes());
        assert_eq!(
            ok_text(run(json!([]), dec(from_input), &input)),
            want.to_string(),
            "input {a} {op} {b}"
        );
    }
}

#[test]
fn evaluation_is_left_to_right() {
    let prog = json!([
        "begin",
        ["let", "x", 0],
        dec(json!([
            "-",
            ["begin", ["set", "x", 10], "x"],
            ["begin", ["set", "x", 3], "x"]
        ]))
    ]);
    assert_eq!(ok_text(run(json!([]), prog, b"")), "7");
}

#[test]
fn std_parse_observed_table() {
    let cases: &[(&str, &str, &str)] = &[
        ("0", "0", "0"),
        (" 42 ", "42", "42"),
        ("\t7\t", "7", "7"),
        ("", "e1", "e1"),
        ("  ", "e1", "e1"),
        ("+5", "e2", "5"),
        ("-5", "e2", "-5"),
        ("-0", "e2", "0"),
        ("+", "e2", "e2"),
        ("12a", "e2", "e2"),
        ("1 2", "e2", "e2"),
        ("4294967295", "-1", "e3"),
        ("4294967296", "e3", "e3"),
        ("2147483648", "-2147483648", "e3"),
        ("-2147483648", "e2", "-2147483648"),
        ("-2147483649", "e2", "e3"),
        ("007", "7", "7"),
        ("--1", "e2", "e2"),
    ];
    let show = |f: &str| {
        json!([
            "begin",
            ["let", "r", [f, "input"]],
            [
                "if",
                ["result_i32.is_ok", "r"],
                ["fmt.s32_to_dec", ["result_i32.unwrap_or", "r", 0]],
                [
                    "bytes.concat",
                    ["bytes.lit", "e"],
                    ["fmt.s32_to_dec", ["result_i32.err_code", "r"]]
                ]
            ]
        ])
    };
    for &(input, u, i) in cases {
        assert_eq!(
            ok_text(run(
                json!(["std.parse"]),
                show("std.parse.u32_dec"),
                input.as_bytes()
            )),
            u,
            "u32_dec {input:?}"
        );
        assert_eq!(
            ok_text(run(
                json!(["std.parse"]),
                show("std.parse.i32_dec"),
                input.as_bytes()
            )),
            i,
            "i32_dec {input:?}"
        );
    }
    let hex = |e: Value| json!(["std.codec.hex_encode_v1", e]);
    let imports = json!(["std.parse", "std.codec"]);
    assert_eq!(
        ok_text(run(
            imports.clone(),
            hex(json!([
                "std.parse.u32_status_le_at",
                ["bytes.view_lit", "12a"],
                0
            ])),
            b""
        )),
        "010c00000002000000"
    );
    assert_eq!(
        ok_text(run(
            imports.clone(),
            hex(json!([
                "std.parse.u32_status_le",
                ["bytes.view_lit", "12a"]
            ])),
            b""
        )),
        "00"
    );
    assert_eq!(
        ok_text(run(
            imports,
            hex(json!([
                "std.parse.u32_status_le_at",
                ["bytes.view_lit", "x 12 ,5"],
                1
            ])),
            b""
        )),
        "010c00000005000000"
    );
}

#[test]
fn builtin_trap_texts() {
    let b = |s: &str| json!(["bytes.lit", s]);
    let cases: Vec<(Value, Value, &str)> = vec![
        (
            json!([]),
            json!(["bytes.slice", b("abc"), 2, 5]),
            "view.slice oob ptr=/solve",
        ),
        (
            json!([]),
            json!(["view.to_bytes", ["view.slice", "input", 1, 9]]),
            "view.slice oob ptr=/solve/1",
        ),
        (
            json!([]),
            dec(json!(["bytes.cmp_range", b("abc"), 0, 9, b("x"), 0, 1])),
            "view.cmp_range oob",
        ),
        (
            json!([]),
            json!(["bytes.copy", b("abcd"), b("ab")]),
            "bytes.copy dst too small",
        ),
        (
            json!([]),
            json!(["bytes.set_u8", b("ab"), 2, 1]),
            "bytes.set_u8 oob ptr=/solve",
        ),
        (
            json!([]),
            json!([
                "vec_u8.into_bytes",
                ["vec_u8.set", ["vec_u8.with_capacity", 4], 0, 1]
            ]),
            "vec_u8.set oob",
        ),
        (
            json!([]),
            json!([
                "vec_u8.into_bytes",
                [
                    "vec_u8.extend_bytes_range",
                    ["vec_u8.with_capacity", 4],
                    b("ab"),
                    1,
                    2
                ]
            ]),
            "vec_u8.extend_bytes_range oob",
        ),
        (
            json!([]),
            dec(json!(["codec.read_u32_le", b("abc"), 0])),
            "codec.read_u32_le oob",
        ),
        (
            json!([]),
            dec(json!(["parse.u32_dec", ["bytes.view_lit", ""]])),
            "parse.u32_dec empty",
        ),
        (
            json!([]),
            dec(json!(["parse.u32_dec", ["bytes.view_lit", "4294967296"]])),
            "parse.u32_dec overflow",
        ),
        (
            json!([]),
            dec(json!(["parse.u32_dec_at", ["bytes.view_lit", "12"], 3])),
            "parse.u32_dec_at oob",
        ),
        (
            json!(["std.bytes"]),
            json!(["std.bytes.set_u8", b("ab"), 5, 1]),
            "bytes.set_u8 oob ptr=/decls/16/body",
        ),
        (
            json!(["std.bytes"]),
            dec(json!(["std.bytes.cmp_range", "input", 0, 1, "input", 0, 1])),
            "view.cmp_range oob",
        ),
        (
            json!(["std.vec"]),
            dec(json!(["std.vec.get", ["vec_u8.with_capacity", 1], 0])),
            "vec_u8.get oob",
        ),
        (
            json!(["std.codec"]),
            dec(json!(["std.codec.read_u32_le", "input", 0])),
            "codec.read_u32_le oob",
        ),
    ];
    for (imports, prog, want) in cases {
        let got = trap_text(run(imports, prog.clone(), b""));
        assert!(got.starts_with(want), "{prog}: got {got:?}, want {want:?}");
    }
    // Exact pointers: the call expression inside the file.
    let sub = json!([
        "begin",
        ["let", "b", ["bytes.lit", "ab"]],
        ["view.to_bytes", ["bytes.subview", "b", 1, 5]]
    ]);
    assert_eq!(
        trap_text(run(json!([]), sub, b"")),
        "bytes.subview oob ptr=/solve/2/1"
    );
}

#[test]
fn std_helpers_pitfalls() {
    let imports = json!(["std.bytes", "std.btree_map", "std.btree_set", "std.codec"]);
    let v = |s: &str| json!(["bytes.view_lit", s]);
    let cases: Vec<(Value, &str)> = vec![
        // only 32, 9, 10, 13 are trimmed
        (
            json!([
                "view.to_bytes",
                ["std.bytes.trim_ascii_view", v("\u{b} a \u{c}")]
            ]),
            "\u{b} a \u{c}",
        ),
        (
            json!([
                "view.to_bytes",
                ["std.bytes.trim_ascii_view", v(" \r\n\t ")]
            ]),
            "",
        ),
        (dec(json!(["std.bytes.find_sub", v(""), v("")])), "0"),
        (dec(json!(["std.bytes.starts_with", v("abc"), v("")])), "1"),
        (dec(json!(["std.bytes.max_u8", v("")])), "0"),
        (
            json!([
                "view.to_bytes",
                ["std.bytes.strip_suffix_view", v("hello.txt"), v(".txt")]
            ]),
            "hello",
        ),
        (json!(["std.bytes.slice_v1", v("hello"), 3, -1]), ""),
        (
            json!([
                "std.codec.hex_encode_v1",
                [
                    "std.btree_map.put_u32_u32",
                    [
                        "std.btree_map.put_u32_u32",
                        [
                            "std.btree_map.put_u32_u32",
                            ["std.btree_map.empty_u32_u32"],
                            5,
                            1
                        ],
                        -1,
                        2
                    ],
                    5,
                    3
                ]
            ]),
            "0500000003000000ffffffff02000000",
        ),
        (
            dec(json!([
                "std.btree_map.get_u32_u32_or",
                [
                    "std.btree_map.put_u32_u32",
                    ["std.btree_map.empty_u32_u32"],
                    7,
                    70
                ],
                8,
                -9
            ])),
            "-9",
        ),
        (
            dec(json!([
                "std.btree_set.len_u32",
                [
                    "std.btree_set.insert_u32",
                    [
                        "std.btree_set.insert_u32",
                        ["std.btree_set.insert_u32", ["std.btree_set.empty_u32"], 3],
                        1
                    ],
                    3
                ]
            ])),
            "2",
        ),
    ];
    for (prog, want) in cases {
        assert_eq!(
            ok_text(run(imports.clone(), prog.clone(), b"")),
            want,
            "{prog}"
        );
    }
}

#[test]
fn ownership_and_option_quirks() {
    let b = |s: &str| json!(["bytes.lit", s]);
    // With a some-option the default variable keeps its value.
    let keep = json!([
        "begin",
        ["let", "d", b("dflt")],
        [
            "let",
            "u",
            ["option_bytes.unwrap_or", ["option_bytes.some", b("v")], "d"]
        ],
        ["bytes.concat", "u", "d"]
    ]);
    assert_eq!(ok_text(run(json!([]), keep, b"")), "vdflt");
    // `set` on a consumed variable revives it.
    let revive = json!([
        "begin",
        ["let", "a", b("x")],
        ["let", "c", "a"],
        ["set", "a", b("y")],
        ["bytes.concat", "a", "c"]
    ]);
    assert_eq!(ok_text(run(json!([]), revive, b"")), "yx");
    // Views are snapshots of a buffer that is later changed after the view's scope ends.
    let snap = json!([
        "begin",
        ["let", "b", b("abc")],
        [
            "let",
            "first",
            [
                "begin",
                ["let", "v", ["bytes.view", "b"]],
                ["view.get_u8", "v", 0]
            ]
        ],
        ["set", "b", ["bytes.set_u8", "b", 0, 90]],
        ["bytes.concat", "b", ["fmt.s32_to_dec", "first"]]
    ]);
    assert_eq!(ok_text(run(json!([]), snap, b"")), "Zbc97");
    // os.process.exit(0) still ends the run.
    let exit = json!(["begin", ["os.process.exit", 0], b("never")]);
    assert_eq!(run(json!([]), exit, b""), Err(Interrupt::Exit(0)));
}

#[test]
fn functions_try_and_try_doc() {
    let decls = json!([
        {"kind":"defn","name":"main.even","params":[{"name":"n","ty":"i32"}],"result":"i32",
         "body":["if",["=","n",0],1,["main.odd",["-","n",1]]]},
        {"kind":"defn","name":"main.odd","params":[{"name":"n","ty":"i32"}],"result":"i32",
         "body":["if",["=","n",0],0,["main.even",["-","n",1]]]},
        {"kind":"defn","name":"main.mixed","params":[{"name":"b","ty":"bytes_view"}],"result":"result_i32",
         "body":["begin",["let","x",["try",["main.nonempty","b"]]],["result_i32.ok",["bytes.len","x"]]]},
        {"kind":"defn","name":"main.nonempty","params":[{"name":"b","ty":"bytes_view"}],"result":"result_bytes",
         "body":["if",["=",["view.len","b"],0],["result_bytes.err",42],["result_bytes.ok",["view.to_bytes","b"]]]}
    ]);
    let solve_expr = json!([
        "begin",
        ["let", "o", ["vec_u8.with_capacity", 0]],
        [
            "set",
            "o",
            ["vec_u8.extend_bytes", "o", dec(json!(["main.even", 1001]))]
        ],
        [
            "set",
            "o",
            [
                "vec_u8.extend_bytes",
                "o",
                dec(json!([
                    "result_i32.err_code",
                    ["main.mixed", ["bytes.view_lit", ""]]
                ]))
            ]
        ],
        [
            "set",
            "o",
            [
                "vec_u8.extend_bytes",
                "o",
                dec(json!(["result_i32.unwrap_or", ["main.mixed", "input"], -1]))
            ]
        ],
        [
            "set",
            "o",
            ["vec_u8.extend_bytes", "o", ["try_doc", ["bytes.lit", ""]]]
        ],
        ["vec_u8.into_bytes", "o"]
    ]);
    let out = run_text(
        &entry(json!([]), decls, solve_expr),
        b"abc",
        SolveLimits::default(),
    );
    // try_doc of an empty doc returns it from solve unchanged (empty output).
    assert_eq!(out, Ok(Vec::new()));
}

#[test]
fn vec_capacity_rules() {
    let prog = json!([
        "begin",
        ["let", "v", ["vec_u8.with_capacity", 3]],
        ["set", "v", ["vec_u8.extend_zeroes", "v", 10]],
        ["let", "c1", ["vec_u8.cap", "v"]],
        ["set", "v", ["vec_u8.reserve_exact", "v", 1]],
        ["let", "c2", ["vec_u8.cap", "v"]],
        ["set", "v", ["vec_u8.reserve_exact", "v", 5]],
        [
            "bytes.concat",
            ["fmt.s32_to_dec", "c1"],
            [
                "bytes.concat",
                ["fmt.s32_to_dec", "c2"],
                ["fmt.s32_to_dec", ["vec_u8.cap", "v"]]
            ]
        ]
    ]);
    assert_eq!(ok_text(run(json!([]), prog, b"")), "121215");
}

#[test]
fn request_builders_and_validation() {
    let imports = json!([
        "std.os.process.req_v1",
        "std.os.process.caps_v1",
        "std.codec"
    ]);
    let req = json!([
        "std.os.process.req_v1.finish",
        [
            "std.os.process.req_v1.stdin",
            [
                "std.os.process.req_v1.arg",
                [
                    "std.os.process.req_v1.cwd",
                    [
                        "std.os.process.req_v1.env",
                        ["std.os.process.req_v1.new", ["bytes.lit", "/bin/x"]],
                        ["bytes.lit", "K"],
                        ["bytes.lit", "V"]
                    ],
                    ["bytes.lit", "/tmp"]
                ],
                ["bytes.lit", "a"]
            ],
            ["bytes.lit", "in"]
        ]
    ]);
    let hex = ok_text(run(
        imports.clone(),
        json!(["std.codec.hex_encode_v1", req.clone()]),
        b"",
    ));
    let want = [
        "0100",
        "02000000",
        "06000000",
        "2f62696e2f78",
        "01000000",
        "61", // argv: /bin/x a
        "01000000",
        "01000000",
        "4b",
        "01000000",
        "56", // env K=V
        "04000000",
        "2f746d70", // cwd /tmp
        "02000000",
        "696e", // stdin "in"
    ]
    .concat();
    assert_eq!(hex, want);
    let valid = json!([
        "begin",
        ["let", "r", req],
        dec(json!([
            "result_i32.unwrap_or",
            ["std.os.process.req_v1.validate_v1", "r"],
            -1
        ]))
    ]);
    assert_eq!(ok_text(run(imports.clone(), valid, b"")), "0");
    let bad = dec(json!([
        "result_i32.err_code",
        [
            "std.os.process.caps_v1.validate_v1",
            ["bytes.view_lit", "x"]
        ]
    ]));
    assert_eq!(ok_text(run(imports, bad, b"")), "2");
}

#[test]
fn deep_nesting_is_a_clean_compile_error() {
    let depth = 10_000;
    let text = format!(
        "{{\"schema_version\":\"x07.x07ast@0.8.0\",\"kind\":\"entry\",\"module_id\":\"main\",\"imports\":[],\"decls\":[],\"solve\":{}[\"bytes.lit\",\"x\"]{}}}",
        "[\"begin\",".repeat(depth),
        "]".repeat(depth)
    );
    let err = trap_text(run_text(&text, b"", SolveLimits::default()));
    assert!(
        err.starts_with("compile: Parse: main: recursion limit exceeded at line 1 column"),
        "{err}"
    );
}

#[test]
fn nesting_below_the_parser_limit_runs_on_a_small_stack() {
    let depth = 120;
    let text = format!(
        "{{\"schema_version\":\"x07.x07ast@0.8.0\",\"kind\":\"entry\",\"module_id\":\"main\",\"imports\":[],\"decls\":[],\"solve\":{}[\"bytes.lit\",\"x\"]{}}}",
        "[\"begin\",".repeat(depth),
        "]".repeat(depth)
    );
    let handle = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(move || run_text(&text, b"", SolveLimits::default()))
        .unwrap();
    assert_eq!(handle.join().unwrap(), Ok(b"x".to_vec()));
}

#[test]
fn infinite_loop_stops_at_the_fuel_limit() {
    let text = entry(
        json!([]),
        json!([]),
        json!([
            "begin",
            ["let", "i", 0],
            ["while", 1, ["set", "i", ["+", "i", 1]]],
            ["bytes.lit", "never"]
        ]),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("main.x07.json");
    std::fs::write(&path, text).unwrap();
    let program = load_program(&path, &[]).unwrap();
    let limits = SolveLimits {
        fuel: 100_000,
        ..SolveLimits::default()
    };
    let out = solve(&program, b"", &mut NoOs, &limits);
    assert_eq!(
        out.result,
        Err(Interrupt::Trap("fuel exhausted".to_string()))
    );
    assert_eq!(out.stats.fuel_used, 100_000);
}

#[test]
fn a_million_iterations_fit_the_default_fuel() {
    let prog = json!([
        "begin",
        ["let", "s", 0],
        ["for", "i", 0, 1000000, ["set", "s", ["+", "s", "i"]]],
        ["fmt.u32_to_dec", "s"]
    ]);
    assert_eq!(ok_text(run(json!([]), prog, b"")), "1783293664");
}

#[test]
fn recursion_depth() {
    // semantics R24: no call-depth limit, only the native stack of the compiled program.
    let sum = json!([{"kind":"defn","name":"main.f","params":[{"name":"n","ty":"i32"}],"result":"i32",
        "body":["if",["=","n",0],0,["+","n",["main.f",["-","n",1]]]]}]);
    let deep = entry(
        json!([]),
        sum.clone(),
        json!(["fmt.u32_to_dec", ["main.f", 20000]]),
    );
    assert_eq!(
        run_text(&deep, b"", SolveLimits::default()),
        Ok(b"200010000".to_vec())
    );
    // Plain recursion 1,000,000 deep runs (gcc turns `(+ 1 (down ..))` into a loop).
    let down = json!([{"kind":"defn","name":"main.down","params":[{"name":"n","ty":"i32"}],"result":"i32",
        "body":["if",["=","n",0],0,["+",1,["main.down",["-","n",1]]]]}]);
    let text = entry(
        json!([]),
        down,
        json!(["fmt.u32_to_dec", ["main.down", 1_000_000]]),
    );
    assert_eq!(
        run_text(&text, b"", SolveLimits::default()),
        Ok(b"1000000".to_vec())
    );
    // Endless tail recursion is a loop: it runs out of fuel.
    let forever = json!([{"kind":"defn","name":"main.f","params":[{"name":"n","ty":"i32"}],"result":"i32",
        "body":["main.f",["+","n",1]]}]);
    let text = entry(json!([]), forever, json!(["fmt.u32_to_dec", ["main.f", 0]]));
    let got = trap_text(run_text(&text, b"", SolveLimits::default()));
    assert_eq!(got, "fuel exhausted");
    // Endless recursion that needs its frames overflows the native stack: signal 11.
    let two = json!([{"kind":"defn","name":"main.f","params":[{"name":"n","ty":"i32"}],"result":"i32",
        "body":["+",["main.f",["+","n",1]],["main.f","n"]]}]);
    let text = entry(json!([]), two, json!(["fmt.u32_to_dec", ["main.f", 0]]));
    assert_eq!(
        run_text(&text, b"", SolveLimits::default()),
        Err(Interrupt::Signal(11))
    );
}

#[test]
fn memory_limit() {
    let alloc = |n: i64| {
        json!([
            "begin",
            ["let", "b", ["bytes.alloc", n]],
            ["fmt.s32_to_dec", ["bytes.len", "b"]]
        ])
    };
    assert_eq!(
        trap_text(run(json!([]), alloc(100_000_000), b"")),
        "out of memory"
    );
    let big = SolveLimits {
        max_memory_bytes: 200_000_000,
        ..SolveLimits::default()
    };
    assert_eq!(
        run_text(&entry(json!([]), json!([]), alloc(100_000_000)), b"", big),
        Ok(b"100000000".to_vec())
    );
    assert_eq!(trap_text(run(json!([]), alloc(-1), b"")), "out of memory");
    let cap = json!(["vec_u8.into_bytes", ["vec_u8.with_capacity", -1]]);
    assert_eq!(trap_text(run(json!([]), cap, b"")), "out of memory");
    let grow = json!([
        "begin",
        ["let", "v", ["vec_u8.with_capacity", 0]],
        [
            "while",
            1,
            ["set", "v", ["vec_u8.extend_zeroes", "v", 1000000]]
        ],
        ["vec_u8.into_bytes", "v"]
    ]);
    assert_eq!(trap_text(run(json!([]), grow, b"")), "out of memory");
    let concat = json!([
        "begin",
        ["let", "b", ["bytes.alloc", 1000]],
        ["while", 1, ["set", "b", ["std.bytes.concat", "b", "b"]]],
        "b"
    ]);
    assert_eq!(
        trap_text(run(json!(["std.bytes"]), concat, b"")),
        "out of memory"
    );
}

#[test]
fn malformed_programs_never_panic() {
    for text in ["", "null", "[]", "{}", "{\"schema_version\":5}", "\u{0}\u{1}", "{\"solve\":", "[[[[", "{\"schema_version\":\"x07.x07ast@0.8.0\",\"kind\":\"entry\",\"module_id\":\"main\",\"imports\":[],\"decls\":[5],\"solve\":1}"] {
        let r = run_text(text, b"", SolveLimits::default());
        assert!(matches!(&r, Err(Interrupt::Trap(t)) if t.starts_with("compile: Parse: main: ")), "{text:?}: {r:?}");
    }
}

/// An argument expression of the right type with an edge-case value.
fn arg_for(p: P, variant: usize) -> Value {
    let i32s = [0i64, -1, 2147483647, 3];
    match p {
        P::I32 => json!(i32s[variant % 4]),
        P::BV | P::V => json!("input"),
        P::BytesOwn => json!(["bytes.lit", "ab\u{1}cd"]),
        P::BytesRef => json!("b"),
        P::VecOwn => json!(["vec_u8.with_capacity", 2]),
        P::VecRef => json!("v"),
        P::OptI32 => json!(["option_i32.some", 1]),
        P::OptBytesOwn | P::OptBytesRef => json!(["option_bytes.none"]),
        P::OptView => json!(["option_bytes_view.none"]),
        P::ResI32 => json!(["result_i32.err", 0]),
        P::ResBytesOwn | P::ResBytesRef => json!(["result_bytes.err", 3]),
        P::ResView => json!(["result_bytes_view.ok", "input"]),
    }
}

fn std_arg_for(t: Ty, variant: usize) -> Value {
    let i32s = [0i64, -1, 2147483647, 3];
    match t {
        Ty::I32 => json!(i32s[variant % 4]),
        Ty::Bytes => json!(["bytes.lit", "ab\u{1}cd"]),
        Ty::VecU8 => json!(["vec_u8.with_capacity", 2]),
        _ => json!("input"),
    }
}

fn wrapped(call: Value) -> Value {
    json!([
        "begin",
        ["let", "b", ["bytes.lit", "xyz"]],
        ["let", "v", ["vec_u8.with_capacity", 1]],
        ["let", "r", call],
        ["bytes.lit", "done"]
    ])
}

#[test]
fn every_builtin_and_std_function_survives_edge_arguments() {
    let mut ran = 0;
    for variant in 0..4 {
        for sig in BUILTINS {
            if sig.name.starts_with("os.process.join") {
                continue;
            }
            let mut call = vec![json!(sig.name)];
            call.extend(sig.params.iter().map(|&p| arg_for(p, variant)));
            let r = run(json!([]), wrapped(Value::Array(call)), b"\x01\x00\xffz");
            if let Err(Interrupt::Trap(t)) = &r {
                assert!(!t.starts_with("compile:"), "{}: {t}", sig.name);
            }
            ran += 1;
        }
        for sig in STD_FUNCTIONS {
            let module = &sig.name[..sig.name.rfind('.').unwrap()];
            let mut call = vec![json!(sig.name)];
            call.extend(sig.params.iter().map(|&t| std_arg_for(t, variant)));
            let r = run(json!([module]), wrapped(Value::Array(call)), b"12 ");
            if let Err(Interrupt::Trap(t)) = &r {
                assert!(!t.starts_with("compile:"), "{}: {t}", sig.name);
            }
            ran += 1;
        }
    }
    assert!(ran > 700);
}

#[test]
fn echo_stats_match_the_recorded_report() {
    // reports/artifact-run-os.json: `view.to_bytes input` on "abc" gave fuel_used 2,
    // heap_used 6 and these mem_stats.
    let text = entry(json!([]), json!([]), json!(["view.to_bytes", "input"]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("main.x07.json");
    std::fs::write(&path, text).unwrap();
    let program = load_program(&path, &[]).unwrap();
    let out = solve(&program, b"abc", &mut NoOs, &SolveLimits::default());
    assert_eq!(out.result, Ok(b"abc".to_vec()));
    assert_eq!(out.stats.fuel_used, 2);
    assert_eq!(out.stats.heap_used, 6);
    let m = out.stats.mem;
    assert_eq!(
        [
            m.alloc_calls,
            m.realloc_calls,
            m.free_calls,
            m.bytes_alloc_total,
            m.bytes_freed_total
        ],
        [1, 0, 1, 3, 3]
    );
    assert_eq!(
        [
            m.live_bytes,
            m.peak_live_bytes,
            m.live_allocs,
            m.peak_live_allocs,
            m.memcpy_bytes
        ],
        [0, 3, 0, 1, 3]
    );
}

/// Programs written for this test (the repository's own `docs/examples` sources are not
/// recorded) that must give the outputs subset §14 lists for those examples.
#[test]
fn docs_example_outputs() {
    let rle: Value = serde_json::from_str(r#"["begin", ["let", "n", ["view.len", "input"]], ["if", ["=", "n", 0], ["return", ["bytes.alloc", 0]], 0], ["let", "out", ["std.vec.with_capacity", 16]], ["let", "cur", ["view.get_u8", "input", 0]], ["let", "cnt", 1], ["for", "i", 1, "n", ["begin", ["let", "c", ["view.get_u8", "input", "i"]], ["if", ["&&", ["=", "c", "cur"], ["<", "cnt", 255]], ["set", "cnt", ["+", "cnt", 1]], ["begin", ["set", "out", ["std.vec.push", "out", "cnt"]], ["set", "out", ["std.vec.push", "out", "cur"]], ["set", "cur", "c"], ["set", "cnt", 1], 0]]]], ["set", "out", ["std.vec.push", "out", "cnt"]], ["set", "out", ["std.vec.push", "out", "cur"]], ["std.vec.as_bytes", "out"]]"#).unwrap();
    assert_eq!(
        run(json!(["std.vec"]), rle.clone(), b"aaabccddd"),
        Ok(b"\x03a\x01b\x02c\x03d".to_vec())
    );
    assert_eq!(run(json!(["std.vec"]), rle, b""), Ok(Vec::new()));
    let pal_decls: Value = serde_json::from_str(r#"[{"kind": "defn", "name": "main.is_palindrome", "params": [{"name": "v", "ty": "bytes_view"}], "result": "i32", "body": ["begin", ["let", "n", ["view.len", "v"]], ["let", "i", 0], ["let", "ok", 1], ["while", ["&&", "ok", ["<", ["*", "i", 2], "n"]], ["begin", ["if", ["!=", ["view.get_u8", "v", "i"], ["view.get_u8", "v", ["-", ["-", "n", "i"], 1]]], ["set", "ok", 0], 0], ["set", "i", ["+", "i", 1]]]], "ok"]}]"#).unwrap();
    let pal_solve: Value = serde_json::from_str(r#"["begin", ["if", ["main.is_palindrome", "input"], ["begin", ["let", "b", ["bytes.alloc", 1]], "b"], ["bytes.alloc", 0]]]"#).unwrap();
    let pal = entry(json!([]), pal_decls, pal_solve);
    assert_eq!(
        run_text(&pal, b"racecar", SolveLimits::default()),
        Ok(vec![0])
    );
    assert_eq!(
        run_text(&pal, b"ab", SolveLimits::default()),
        Ok(Vec::new())
    );
    let wc: Value = serde_json::from_str(r#"["begin", ["let", "n", ["view.len", "input"]], ["let", "words", 0], ["let", "inw", 0], ["for", "i", 0, "n", ["begin", ["let", "c", ["view.get_u8", "input", "i"]], ["let", "ws", ["||", ["=", "c", 32], ["||", ["=", "c", 9], ["||", ["=", "c", 10], ["=", "c", 13]]]]], ["if", "ws", ["set", "inw", 0], ["if", "inw", 0, ["begin", ["set", "inw", 1], ["set", "words", ["+", "words", 1]]]]]]], ["codec.write_u32_le", "words"]]"#).unwrap();
    assert_eq!(
        run(json!([]), wc, b"  hello world\tfoo\n"),
        Ok(vec![3, 0, 0, 0])
    );
    let maxb: Value = serde_json::from_str(r#"["begin", ["let", "n", ["view.len", "input"]], ["if", ["=", "n", 0], ["return", ["bytes.alloc", 0]], 0], ["let", "m", 0], ["for", "i", 0, "n", ["if", [">u", ["view.get_u8", "input", "i"], "m"], ["set", "m", ["view.get_u8", "input", "i"]], 0]], ["bytes1", "m"]]"#).unwrap();
    assert_eq!(run(json!([]), maxb.clone(), b"azb"), Ok(b"z".to_vec()));
    assert_eq!(run(json!([]), maxb, b""), Ok(Vec::new()));
    let rev = json!(["std.bytes.reverse", "input"]);
    assert_eq!(run(json!(["std.bytes"]), rev, b"abc"), Ok(b"cba".to_vec()));
    let len = json!(["codec.write_u32_le", ["view.len", "input"]]);
    assert_eq!(run(json!([]), len, b"hello"), Ok(vec![5, 0, 0, 0]));
}

#[test]
fn traps_in_module_functions_point_into_the_module_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("mods");
    std::fs::create_dir_all(root.join("app")).unwrap();
    let module = json!({"schema_version":"x07.x07ast@0.8.0","kind":"module","module_id":"app.m","imports":[],
        "decls":[{"kind":"export","names":["app.m.at"]},
                 {"kind":"defn","name":"app.m.at","params":[{"name":"v","ty":"bytes_view"},{"name":"i","ty":"i32"}],"result":"i32",
                  "body":["begin",["let","x",["view.get_u8","v","i"]],"x"]}]});
    std::fs::write(root.join("app/m.x07.json"), module.to_string()).unwrap();
    let path = dir.path().join("main.x07.json");
    let text = entry(
        json!(["app.m"]),
        json!([]),
        dec(json!(["app.m.at", "input", 7])),
    );
    std::fs::write(&path, text).unwrap();
    let program = load_program(&path, &[root]).unwrap();
    let out = solve(&program, b"abc", &mut NoOs, &SolveLimits::default());
    assert_eq!(
        out.result,
        Err(Interrupt::Trap(
            "view.get_u8 oob ptr=/decls/1/body/1/2".to_string()
        ))
    );
    let out = solve(&program, b"abcdefgh", &mut NoOs, &SolveLimits::default());
    assert_eq!(out.result, Ok(b"104".to_vec()));
}

#[test]
fn program_and_errors_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<x07_lite::Program>();
    send_sync::<x07_lite::CompileError>();
    send_sync::<x07_lite::SolveOutcome>();
}
