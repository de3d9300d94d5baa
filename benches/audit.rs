//! How long `cargo x07 audit` takes on the bundled corpus next to
//! `cargo x07 test --profile sandbox` (issue 14's target: under 4 times as long), with the
//! embedded runner, each the median of several rounds (`X07_BENCH_ROUNDS`, default 3).
//!
//! Both wall time and CPU time (user + system of the child processes, from
//! `/proc/self/stat`, in the kernel's 1/100 s ticks) are printed: on a machine shared
//! with other work the CPU time is the steadier of the two. Linux only.
//!
//! ```text
//! cargo bench -p cargo-x07 --bench audit
//! ```

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Clock ticks per second of `/proc/self/stat` (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// User + system CPU seconds of the children this process has waited for.
fn children_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    // Fields after the name start at field 3; cutime and cstime are fields 16 and 17.
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let tick = |index: usize| -> f64 {
        fields
            .get(index - 3)
            .and_then(|value| value.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (tick(16) + tick(17)) / TICKS_PER_SECOND
}

/// Runs `cargo-x07 x07 <args>` in the repository; returns (wall, CPU seconds, stdout).
fn measure(args: &[&str]) -> (Duration, f64, Vec<u8>) {
    let repository = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cpu_before = children_cpu();
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_cargo-x07"))
        .arg("x07")
        .args(args)
        .current_dir(repository)
        .env_remove("CI")
        .output()
        .expect("cargo-x07 runs");
    let wall = started.elapsed();
    assert!(
        output.status.success(),
        "cargo x07 {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    (wall, children_cpu() - cpu_before, output.stdout)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let rounds: usize = std::env::var("X07_BENCH_ROUNDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(3)
        .max(1);
    let test_args = [
        "test",
        "--backend",
        "embedded",
        "--profile",
        "sandbox",
        "-q",
    ];
    let audit_args = [
        "audit",
        "--backend",
        "embedded",
        "--no-progress",
        "--format",
        "json",
    ];
    let (mut test_wall, mut test_cpu, mut audit_wall, mut audit_cpu) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut summary = serde_json::Value::Null;
    for _ in 0..rounds {
        let (wall, cpu, _) = measure(&test_args);
        test_wall.push(wall.as_secs_f64());
        test_cpu.push(cpu);
        let (wall, cpu, stdout) = measure(&audit_args);
        audit_wall.push(wall.as_secs_f64());
        audit_cpu.push(cpu);
        let report: serde_json::Value = serde_json::from_slice(&stdout).expect("audit JSON");
        summary = report["summary"].clone();
    }
    let (tw, tc, aw, ac) = (
        median(test_wall),
        median(test_cpu),
        median(audit_wall),
        median(audit_cpu),
    );
    println!("bundled corpus, embedded runner, median of {rounds} round(s):");
    println!("  cargo x07 test --profile sandbox: wall {tw:.2} s, cpu {tc:.2} s");
    println!("  cargo x07 audit:                  wall {aw:.2} s, cpu {ac:.2} s");
    println!(
        "  audit / test: wall {:.2}x, cpu {:.2}x (target: under 4x)",
        aw / tw,
        ac / tc
    );
    println!(
        "  audit: {} policy files, {} grants ({} needed, {} unneeded); {} case runs, {} runs without a grant, {} skipped as unreachable",
        summary["policies"],
        summary["grants"],
        summary["needed"],
        summary["unneeded"],
        summary["case_runs"],
        summary["runs"],
        summary["skipped"]
    );
}
