//! x07-lite benchmarks (`cargo bench -p x07-lite`, no harness; prints numbers).
//!
//! 1. Start-up: median wall time of `x07-lite run` on a trivial program through the
//!    release binary (two process starts: the CLI and the solver), and of one start of
//!    the binary alone, for scale.
//! 2. Workloads, each measured two ways:
//!    * end to end: `x07-lite run --program …` through the release binary (what a user
//!      waits for, start-up included), median of several runs;
//!    * in process: `load_program` once, then `solve` timed alone (median), which gives
//!      ns per iteration and fuel units per second of the execution engine.
//!
//! The workloads: the 10,000,000-iteration i32 loop of issue 10, the default-fuel
//! endless loop (until it traps `fuel exhausted`), a byte-wise checksum over 4 MiB of
//! input, a recursive function (fib 27, about 630,000 calls), and a vec_u8 building loop
//! (4,000,000 pushes).
//! 3. Compile time (`load_program`: parse, check, optimize, check again, lower) of large
//!    generated programs, which must grow about linearly with their size.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use x07_lite::os::OsHost;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_x07-lite")
}

/// Median wall time of `x07-lite --version`: one start of the binary.
fn single_exec(runs: usize) -> Duration {
    let samples = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let status = Command::new(exe())
                .arg("--version")
                .stdout(Stdio::null())
                .status()
                .expect("run x07-lite --version");
            assert!(status.success());
            started.elapsed()
        })
        .collect();
    median(samples)
}

/// Runs the CLI once; returns the wall time and the report.
fn cli_run(dir: &Path, program: &str, extra: &[&str]) -> (Duration, Value) {
    let started = Instant::now();
    let output = Command::new(exe())
        .args(["run", "--program", program, "--repair=off"])
        .args(extra)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run x07-lite");
    let elapsed = started.elapsed();
    let report: Value = serde_json::from_slice(&output.stdout).expect("report JSON");
    (elapsed, report)
}

fn end_to_end(dir: &Path, program: &str, extra: &[&str], runs: usize) -> (Duration, Value) {
    let mut samples = Vec::with_capacity(runs);
    let mut last = Value::Null;
    for _ in 0..runs {
        let (t, report) = cli_run(dir, program, extra);
        samples.push(t);
        last = report;
    }
    (median(samples), last)
}

struct Workload {
    name: &'static str,
    file: &'static str,
    solve: Value,
    decls: Value,
    input: Vec<u8>,
    fuel: u64,
    iterations: u64,
    unit: &'static str,
}

fn entry(decls: &Value, solve: &Value) -> String {
    json!({"decls":decls,"imports":[],"kind":"entry","module_id":"main",
        "schema_version":"x07.x07ast@0.8.0","solve":solve})
    .to_string()
}

fn workloads() -> Vec<Workload> {
    let mut input = Vec::with_capacity(4 << 20);
    let mut x: u32 = 1;
    for _ in 0..(4 << 20) {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        input.push((x >> 16) as u8);
    }
    vec![
        Workload {
            name: "10M-iteration i32 loop (issue 10)",
            file: "loop.x07.json",
            solve: json!([
                "begin",
                ["let", "x", 1],
                [
                    "for",
                    "i",
                    0,
                    10_000_000,
                    [
                        "set",
                        "x",
                        [
                            "^",
                            ["+", ["*", "x", 1_103_515_245], 12345],
                            [">>u", "x", 7]
                        ]
                    ]
                ],
                ["fmt.s32_to_dec", "x"]
            ]),
            decls: json!([]),
            input: Vec::new(),
            fuel: 1_000_000_000,
            iterations: 10_000_000,
            unit: "iteration",
        },
        Workload {
            name: "default-fuel endless loop (traps)",
            file: "endless.x07.json",
            solve: json!([
                "begin",
                ["let", "i", 0],
                ["while", 1, ["set", "i", ["+", "i", 1]]],
                ["bytes.lit", "never"]
            ]),
            decls: json!([]),
            input: Vec::new(),
            fuel: 50_000_000,
            iterations: 12_500_000,
            unit: "iteration",
        },
        Workload {
            name: "byte-wise checksum over 4 MiB of input",
            file: "checksum.x07.json",
            solve: json!([
                "begin",
                ["let", "s", 0],
                ["let", "t", 0],
                [
                    "for",
                    "i",
                    0,
                    ["view.len", "input"],
                    [
                        "begin",
                        ["let", "b", ["view.get_u8", "input", "i"]],
                        ["set", "s", ["+", "s", "b"]],
                        ["set", "t", ["^", ["<<u", "t", 1], "b"]]
                    ]
                ],
                [
                    "bytes.concat",
                    ["fmt.u32_to_dec", "s"],
                    ["fmt.u32_to_dec", "t"]
                ]
            ]),
            decls: json!([]),
            input,
            fuel: 1_000_000_000,
            iterations: 4 << 20,
            unit: "byte",
        },
        Workload {
            name: "recursive function (fib 27)",
            file: "fib.x07.json",
            solve: json!(["fmt.u32_to_dec", ["main.fib", 27]]),
            decls: json!([{"kind":"defn","name":"main.fib","params":[{"name":"n","ty":"i32"}],"result":"i32",
                "body":["if",["<u","n",2],"n",["+",["main.fib",["-","n",1]],["main.fib",["-","n",2]]]]}]),
            input: Vec::new(),
            fuel: 1_000_000_000,
            iterations: 635_621,
            unit: "call",
        },
        Workload {
            name: "vec_u8 building loop (4M pushes)",
            file: "vec.x07.json",
            solve: json!([
                "begin",
                ["let", "v", ["vec_u8.with_capacity", 0]],
                [
                    "for",
                    "i",
                    0,
                    4_000_000,
                    ["set", "v", ["vec_u8.push", "v", ["&", "i", 255]]]
                ],
                ["fmt.u32_to_dec", ["vec_u8.len", "v"]]
            ]),
            decls: json!([]),
            input: Vec::new(),
            fuel: 1_000_000_000,
            iterations: 4_000_000,
            unit: "push",
        },
    ]
}

/// Median in-process solve time and the fuel it used.
fn in_process(dir: &Path, w: &Workload, runs: usize) -> (Duration, u64) {
    let path = dir.join(w.file);
    let program = x07_lite::load_program(&path, &[dir.to_path_buf()]).expect("compile");
    let limits = x07_lite::SolveLimits {
        fuel: w.fuel,
        max_memory_bytes: 64 * 1024 * 1024,
    };
    let mut samples = Vec::new();
    let mut fuel = 0;
    for _ in 0..runs {
        let mut host = OsHost::run_os();
        let started = Instant::now();
        let outcome = x07_lite::solve(&program, &w.input, &mut host, &limits);
        samples.push(started.elapsed());
        fuel = match outcome.result {
            Ok(_) => outcome.stats.fuel_used,
            Err(_) => w.fuel,
        };
    }
    (median(samples), fuel)
}

fn main() {
    // Benches link this crate with its test feature `reference`; measure the machine
    // alone, not its differential check (this process and the runs it starts).
    std::env::set_var("X07_LITE_DIFFERENTIAL", "0");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("echo.x07.json"),
        r#"{"decls":[],"imports":[],"kind":"entry","module_id":"main","schema_version":"x07.x07ast@0.8.0","solve":["view.to_bytes","input"]}"#,
    )
    .unwrap();

    // Warm the page cache first.
    end_to_end(dir.path(), "echo.x07.json", &["--input-b64", "aGk="], 5);
    let runs = 100;
    let (trivial, _) = end_to_end(dir.path(), "echo.x07.json", &["--input-b64", "aGk="], runs);
    let exec = single_exec(runs);
    println!(
        "start-up: trivial program end to end {:.2} ms (median of {runs}); one start of the binary {:.2} ms",
        trivial.as_secs_f64() * 1e3,
        exec.as_secs_f64() * 1e3
    );
    println!();
    println!(
        "{:<42} {:>12} {:>12} {:>14} {:>12} {:>12}",
        "workload", "end to end", "solve only", "ns per unit", "fuel/s", "fuel"
    );
    for w in workloads() {
        std::fs::write(dir.path().join(w.file), entry(&w.decls, &w.solve)).unwrap();
        let input_file = dir.path().join(format!("{}.in", w.file));
        std::fs::write(&input_file, &w.input).unwrap();
        let fuel_flag = w.fuel.to_string();
        let input_flag = input_file.to_string_lossy().into_owned();
        let (wall, report) = end_to_end(
            dir.path(),
            w.file,
            &["--solve-fuel", &fuel_flag, "--input", &input_flag],
            5,
        );
        let solve = &report["solve"];
        let outcome = if solve["ok"] == true {
            "ok".to_string()
        } else {
            solve["trap"].as_str().unwrap_or("?").to_string()
        };
        let (solve_time, fuel) = in_process(dir.path(), &w, 5);
        let ns = solve_time.as_secs_f64() * 1e9 / w.iterations as f64;
        println!(
            "{:<42} {:>10.3} s {:>10.3} s {:>9.1} ns/{:<4} {:>8.0} M/s {:>12} ({outcome})",
            w.name,
            wall.as_secs_f64(),
            solve_time.as_secs_f64(),
            ns,
            w.unit,
            fuel as f64 / solve_time.as_secs_f64() / 1e6,
            fuel
        );
    }
    println!();
    compile_times(dir.path());
}

/// Median `load_program` time of large generated programs, at two sizes each.
fn compile_times(dir: &Path) {
    type Gen = fn(usize) -> Value;
    let shapes: [(&str, Gen); 4] = [
        ("lets", |n| {
            let mut items = vec![json!("begin")];
            items.extend((0..n).map(|i| json!(["let", format!("x{i}"), i])));
            items.push(json!(["bytes.lit", "a"]));
            Value::Array(items)
        }),
        ("lets + ifs over them", |n| {
            let mut items = vec![json!("begin"), json!(["let", "k", ["view.len", "input"]])];
            items.extend((0..n).map(|i| json!(["let", format!("x{i}"), ["+", "k", i]])));
            items.extend((0..n).map(|i| json!(["if", "k", ["set", format!("x{i}"), 1], 0])));
            items.push(json!(["bytes.lit", "a"]));
            Value::Array(items)
        }),
        ("vec_u8 pushes", |n| {
            let mut items = vec![
                json!("begin"),
                json!(["let", "o", ["vec_u8.with_capacity", 0]]),
            ];
            items.extend((0..n).map(|i| json!(["set", "o", ["vec_u8.push", "o", i % 256]])));
            items.push(json!(["vec_u8.into_bytes", "o"]));
            Value::Array(items)
        }),
        ("one pure expression (CSE)", |n| {
            fn tree(depth: u32, next: &mut usize) -> Value {
                if depth == 0 {
                    *next += 1;
                    return json!(["+", "k", *next % 997]);
                }
                json!(["+", tree(depth - 1, next), tree(depth - 1, next)])
            }
            let depth = (n as f64).log2() as u32;
            json!([
                "begin",
                ["let", "k", ["view.len", "input"]],
                ["fmt.s32_to_dec", tree(depth, &mut 0)]
            ])
        }),
    ];
    println!(
        "{:<32} {:>16} {:>16}",
        "compile time", "n = 8,192", "n = 32,768"
    );
    for (name, make) in shapes {
        let mut times = Vec::new();
        for n in [8192, 32768] {
            let path = dir.join(format!("compile-{n}.x07.json"));
            std::fs::write(&path, entry(&json!([]), &make(n))).unwrap();
            let samples = (0..3)
                .map(|_| {
                    let started = Instant::now();
                    x07_lite::load_program(&path, &[]).expect("compiles");
                    started.elapsed()
                })
                .collect();
            times.push(median(samples));
        }
        println!(
            "{name:<32} {:>14.1} ms {:>14.1} ms",
            times[0].as_secs_f64() * 1e3,
            times[1].as_secs_f64() * 1e3
        );
    }
}
