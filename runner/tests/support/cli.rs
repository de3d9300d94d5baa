//! Runs `x07-lite run --program F --repair=off --input-b64 B [--solve-fuel N]` the way a
//! user would, in a fresh directory, with a wall-clock bound, and reads its report.
//!
//! Only the command line and the printed report are used, so the tests built on this work
//! against any engine behind the CLI.

// Shared by several test crates, each of which uses only a part of it.
#![allow(dead_code)]

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

/// What one run printed.
pub struct Run {
    /// The runner's process exit code (`None` when killed by a signal).
    pub rc: Option<i32>,
    /// Raw stdout (the report).
    pub stdout: String,
    /// Raw stderr.
    pub stderr: String,
    /// The report, when stdout is JSON.
    pub report: Option<Value>,
    /// Wall time of the run.
    pub elapsed: Duration,
}

/// The observable outcome of a run, in the vocabulary of the language notes.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `solve.ok` with this output.
    Ok(Vec<u8>),
    /// `compile.compile_error`.
    CompileError(String),
    /// `solve.trap`.
    Trap(String),
    /// Something that is none of the above (no report, usage error, …).
    Broken(String),
}

impl Run {
    /// `solve.fuel_used` (`None` when absent or null).
    pub fn fuel_used(&self) -> Option<u64> {
        self.report.as_ref()?["solve"]["fuel_used"].as_u64()
    }

    /// A field of the report by JSON pointer.
    pub fn field(&self, pointer: &str) -> Value {
        self.report
            .as_ref()
            .and_then(|r| r.pointer(pointer).cloned())
            .unwrap_or(Value::Null)
    }

    /// Classifies the report.
    pub fn outcome(&self) -> Outcome {
        let Some(report) = &self.report else {
            return Outcome::Broken(format!(
                "no report (rc {:?}); stdout {:?}; stderr {:?}",
                self.rc,
                clip(&self.stdout),
                clip(&self.stderr)
            ));
        };
        if let Some(err) = report["compile"]["compile_error"].as_str() {
            return Outcome::CompileError(err.to_string());
        }
        let solve = &report["solve"];
        if solve["ok"] == Value::Bool(true) {
            let b64 = solve["solve_output_b64"].as_str().unwrap_or("");
            return match base64::engine::general_purpose::STANDARD.decode(b64) {
                Ok(bytes) => Outcome::Ok(bytes),
                Err(e) => Outcome::Broken(format!("bad solve_output_b64: {e}")),
            };
        }
        match solve["trap"].as_str() {
            Some(trap) => Outcome::Trap(trap.to_string()),
            None => Outcome::Broken(format!("neither ok, trap nor compile error: {report}")),
        }
    }
}

fn clip(text: &str) -> String {
    text.chars().take(600).collect()
}

/// Runs the entry file text `program` with `input`. `extra` flags follow the input flag.
/// The run is killed (and reported as an `Err`) when it takes longer than `timeout`.
pub fn run_program(
    program: &str,
    input: &[u8],
    extra: &[String],
    timeout: Duration,
) -> Result<Run, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    std::fs::write(dir.path().join("main.x07.json"), program)
        .map_err(|e| format!("write program: {e}"))?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(input);
    let mut args: Vec<String> = vec![
        "run".into(),
        "--program".into(),
        "main.x07.json".into(),
        "--repair=off".into(),
        "--input-b64".into(),
        b64,
    ];
    args.extend(extra.iter().cloned());
    run_in(dir.path(), &args, timeout)
}

/// Runs `x07-lite ARGS` in `dir` with a clean `X07_*` environment.
pub fn run_in(dir: &Path, args: &[String], timeout: Duration) -> Result<Run, String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_x07-lite"));
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("X07_") {
            cmd.env_remove(key);
        }
    }
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("spawn x07-lite: {e}"))?;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "no result after {timeout:?} (killed): x07-lite {}",
                    args.join(" ")
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("wait: {e}")),
        }
    };
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    Ok(Run {
        rc: status.code(),
        report: serde_json::from_str(&stdout).ok(),
        stdout,
        stderr,
        elapsed: started.elapsed(),
    })
}

/// Runs `jobs` on a few worker threads (the machine is shared; at most 4) and returns the
/// results in input order.
pub fn parallel_map<T: Sync, R: Send>(jobs: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 4);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= jobs.len() {
                    break;
                }
                let r = work(&jobs[i]);
                results.lock().unwrap()[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every job ran"))
        .collect()
}
