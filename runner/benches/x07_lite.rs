//! x07-lite benchmarks (`cargo bench -p x07-lite`, no harness; prints numbers):
//!
//! 1. end to end: median wall time of `x07-lite run` on a trivial program, through the
//!    release binary (parent + solver process + report);
//! 2. interpreter throughput: a compute loop run in-process, in fuel units (executed
//!    instructions) and loop iterations per second.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use x07_lite::os::OsHost;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Median wall time of `x07-lite --version`: one start of the binary, for scale (a
/// run starts it twice, as the CLI and as the solver process).
fn single_exec(runs: usize) -> Duration {
    let exe = env!("CARGO_BIN_EXE_x07-lite");
    let samples = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let status = Command::new(exe)
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

fn end_to_end(dir: &Path, runs: usize) -> (Duration, Duration, Duration) {
    let exe = env!("CARGO_BIN_EXE_x07-lite");
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let output = Command::new(exe)
            .args([
                "run",
                "--program",
                "echo.x07.json",
                "--repair=off",
                "--input-b64",
                "aGk=",
            ])
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .expect("run x07-lite");
        samples.push(started.elapsed());
        assert!(output.status.success(), "x07-lite run failed");
    }
    let min = *samples.iter().min().unwrap();
    let max = *samples.iter().max().unwrap();
    (median(samples), min, max)
}

fn throughput(dir: &Path, iterations: u32) -> (Duration, u64) {
    // sum = 0; i = 0; while i < n { sum = sum + i * 3; i = i + 1 }
    let text = format!(
        r#"{{"decls":[],"imports":["std.fmt"],"kind":"entry","module_id":"main","schema_version":"x07.x07ast@0.8.0","solve":["begin",["let","i",0],["let","s",0],["while",["<u","i",{iterations}],["begin",["set","s",["+","s",["*","i",3]]],["set","i",["+","i",1]]]],["std.fmt.s32_to_dec","s"]]}}"#
    );
    let path = dir.join("loop.x07.json");
    std::fs::write(&path, text).unwrap();
    let program = x07_lite::load_program(&path, &[dir.to_path_buf()]).expect("compile");
    let limits = x07_lite::SolveLimits {
        fuel: u64::MAX / 2,
        max_memory_bytes: 64 * 1024 * 1024,
    };
    let mut host = OsHost::run_os();
    let started = Instant::now();
    let outcome = x07_lite::solve(&program, &[], &mut host, &limits);
    let elapsed = started.elapsed();
    assert!(outcome.result.is_ok(), "loop trapped: {:?}", outcome.result);
    (elapsed, outcome.stats.fuel_used)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("echo.x07.json"),
        r#"{"decls":[],"imports":[],"kind":"entry","module_id":"main","schema_version":"x07.x07ast@0.8.0","solve":["view.to_bytes","input"]}"#,
    )
    .unwrap();

    // Warm the page cache first.
    end_to_end(dir.path(), 5);
    let runs = 200;
    let (median, min, max) = end_to_end(dir.path(), runs);
    let exec = single_exec(runs);
    println!(
        "end-to-end trivial program ({runs} runs): median {:.2} ms (min {:.2} ms, max {:.2} ms)",
        median.as_secs_f64() * 1e3,
        min.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
    println!(
        "for scale, one start of the binary (x07-lite --version, {runs} runs): median {:.2} ms",
        exec.as_secs_f64() * 1e3
    );

    let iterations = 5_000_000u32;
    let mut best: Option<(Duration, u64)> = None;
    for _ in 0..3 {
        let sample = throughput(dir.path(), iterations);
        if best.is_none_or(|(d, _)| sample.0 < d) {
            best = Some(sample);
        }
    }
    let (elapsed, fuel) = best.unwrap();
    let secs = elapsed.as_secs_f64();
    println!(
        "interpreter compute loop ({iterations} iterations, best of 3): {:.1} ms, {:.1} M fuel units/s, {:.1} M loop iterations/s ({fuel} fuel units)",
        secs * 1e3,
        fuel as f64 / secs / 1e6,
        iterations as f64 / secs / 1e6
    );
}
