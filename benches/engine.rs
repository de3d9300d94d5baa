//! `cargo bench -p cargo-x07 --bench engine`: prints how fast the harness is.
//! Not a timed test; it asserts nothing and only reports numbers against the targets:
//!
//! 1. discovery time for 10,000 generated fixtures (target ≤ 0.3 s), plus
//!    the `--exact` lookup of one fixture and the full plan (every
//!    expectations file read and schema-checked) for information;
//! 2. per-case harness overhead over the runner's own time, with a trivial
//!    runner that prints a canned report (target ≤ 1 ms);
//! 3. parallel efficiency on N cases of known duration through the engine's
//!    worker pool (target: wall ≤ 1.1 × total ÷ threads);
//! 4. how long the failure message takes for huge output differences (30,000 lines,
//!    1 MiB): the diff is bounded by a window, a line cap and a deadline.
//!
//! Unix only (the trivial runner is a shell script).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cargo_x07::backend::{CommandBackend, RunnerInfo, RunnerKind};
use cargo_x07::config::{PackageConfig, Settings, WorkspaceConfig};
use cargo_x07::discover;
use cargo_x07::engine::{self, EngineOptions, RunPlan, SelectedCase, Sinks};
use cargo_x07::plan;
use cargo_x07::run;

fn settings(root: &Path, profiles: &[&str]) -> Settings {
    Settings {
        fixtures: vec!["fixtures".into()],
        fixtures_configured: true,
        profiles: profiles.iter().map(|p| p.to_string()).collect(),
        x07: None,
        sandbox_backend: Default::default(),
        timeout_ms: 60_000,
        jobs: None,
        smoke_root: root.to_path_buf(),
        smoke_module_roots: vec![],
        env: Default::default(),
    }
}

fn workspace(root: &Path, profiles: &[&str]) -> WorkspaceConfig {
    let settings = settings(root, profiles);
    WorkspaceConfig {
        root: root.to_path_buf(),
        workspace_settings: settings.clone(),
        packages: vec![PackageConfig {
            name: "bench".into(),
            root: root.to_path_buf(),
            settings,
        }],
    }
}

const MANIFEST: &str = r#"{"schema_version":"x07.project@0.5.0","world":"run-os","entry":"main.x07.json","module_roots":["."],"profiles":{"os":{"world":"run-os"},"sandbox":{"world":"run-os-sandboxed","policy":"policy.json"}}}"#;
const EXPECT: &str = r#"{"schema_version":"cargo-x07.fixture@0.1.0","cases":[{"name":"a","input":{"text":"x"},"expect":{"output":{"text":"x"}}}]}"#;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn bench_discovery() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let count = 10_000;
    for index in 0..count {
        let fixture = root.join(format!(
            "fixtures/group-{:03}/fixture-{index:05}",
            index / 100
        ));
        write(&fixture.join("x07.json"), MANIFEST);
        write(&fixture.join("x07test.json"), EXPECT);
        write(&fixture.join("main.x07.json"), "{}");
        write(&fixture.join("policy.json"), "{}");
    }
    let ws = workspace(root, &["os", "sandbox"]);
    // Warm the file-system cache once, as a second run would see it.
    let _ = discover::discover(&ws).unwrap();
    let mut best = Duration::MAX;
    let mut found = 0;
    for _ in 0..3 {
        let started = Instant::now();
        found = discover::discover(&ws).unwrap().len();
        best = best.min(started.elapsed());
    }
    println!(
        "discovery: {found} fixtures in {:.3} s (best of 3; target <= 0.300 s)",
        best.as_secs_f64()
    );
    let name = format!("fixtures/group-099/fixture-{:05}::a::os", count - 1);
    let started = Instant::now();
    let located = discover::locate(&ws, &name).expect("the last fixture is found");
    let cases = plan::plan_fixture(&ws, &located);
    println!(
        "--exact lookup: 1 fixture ({} cases) located and planned in {:.3} ms (no walk)",
        cases.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    let started = Instant::now();
    let (cases, total) =
        cargo_x07::session::load_cases(&ws, Some(&name)).expect("the workspace plans");
    println!(
        "--exact with libtest's filtered-out count: {} case(s) planned, {total} counted in {:.3} s (walk + names of every fixture)",
        cases.len(),
        started.elapsed().as_secs_f64()
    );
    let fixtures = discover::discover(&ws).unwrap();
    let started = Instant::now();
    let planned = plan::plan_all(&ws, &fixtures);
    println!(
        "full plan: {} cases from {} expectations files (read + schema-checked) in {:.3} s",
        planned.len(),
        fixtures.len(),
        started.elapsed().as_secs_f64()
    );
}

/// A fixture for the trivial runner: `fake.sh` sleeps `sleep` seconds then prints a report.
fn trivial_fixture(root: &Path, name: &str, sleep: &str) -> PathBuf {
    let report = include_str!("../tests/data/reports/ok-sandbox-project.json")
        .replace(
            "\"world\": \"run-os-sandboxed\"\n}",
            "\"world\": \"run-os\"\n}",
        )
        .replace("\"sandbox_backend\": \"os\",\n", "")
        .replace("REFUQS1JTi1ST09U", "");
    let dir = root.join("fixtures").join(name);
    write(&dir.join("x07.json"), MANIFEST);
    write(&dir.join("policy.json"), "{}");
    write(&dir.join("report-os.json"), &report);
    let body = if sleep == "0" {
        "cat report-os.json\n".to_string()
    } else {
        format!("sleep {sleep}\ncat report-os.json\n")
    };
    write(&dir.join("fake.sh"), &body);
    write(
        &dir.join("x07test.json"),
        r#"{"schema_version":"cargo-x07.fixture@0.1.0","profiles":["os"],"expect":{"world":"run-os"}}"#,
    );
    dir
}

fn fake_runner() -> CommandBackend {
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fake-x07");
    let info = RunnerInfo {
        kind: RunnerKind::X07,
        description: format!("runner: fake at {}", program.display()),
        program_word: "x07".into(),
        cargo_x07_flags: Vec::new(),
    };
    CommandBackend::new(program, Vec::new(), info)
}

fn bench_overhead() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let fixture = trivial_fixture(root, "trivial", "0");
    let ws = workspace(root, &["os"]);
    let cases = plan::plan_all(&ws, &discover::discover(&ws).unwrap());
    let case = &cases[0];
    let runner = fake_runner();
    let rounds = 200;
    let args = run::render_args(&run::command_args(case), &fixture);
    // Interleaved, so that load from elsewhere on the machine hits both sides alike;
    // medians, so that a few slow outliers do not decide the number.
    let (mut direct, mut harness) = (Vec::new(), Vec::new());
    let (mut copy, mut spawn, mut checking) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        // The runner's own time: the same command, spawned bare, output collected.
        let started = Instant::now();
        let output = Command::new(&runner.program)
            .args(&args)
            .current_dir(&fixture)
            .output()
            .unwrap();
        direct.push(started.elapsed());
        assert!(output.status.success());
        // Through the harness: copy, clean env, process group, timeout, parse, schema, checks.
        let started = Instant::now();
        let outcome = engine::execute_case(case, &runner);
        harness.push(started.elapsed());
        assert_eq!(
            outcome.status,
            cargo_x07::model::CaseStatus::Passed,
            "{}",
            cargo_x07::message::failure_message(&outcome)
        );
        // Where the harness time goes.
        let started = Instant::now();
        let scratch = tempfile::tempdir().unwrap();
        run::copy::copy_fixture(&fixture, &scratch.path().join("trivial")).unwrap();
        drop(scratch);
        copy.push(started.elapsed());
        let started = Instant::now();
        let mut command = Command::new(&runner.program);
        command.args(&args).current_dir(&fixture);
        run::clean_env(&mut command, &case.run.env);
        let output = run::execute(command, case.timeout, run::CaptureLimits::for_report(1 << 20))
            .unwrap();
        spawn.push(started.elapsed());
        let started = Instant::now();
        let verdict = cargo_x07::check::check(case, &output);
        checking.push(started.elapsed());
        assert!(verdict.passed());
    }
    let median = |mut times: Vec<Duration>| {
        times.sort();
        times[times.len() / 2].as_secs_f64() * 1e3
    };
    let (per_direct, per_harness) = (median(direct), median(harness));
    println!(
        "per-case breakdown (medians): copy+cleanup {:.3} ms, spawn+collect (incl. runner) {:.3} ms, parse+schema+checks {:.3} ms",
        median(copy),
        median(spawn),
        median(checking)
    );
    println!(
        "per-case overhead: {:.3} ms (median harness {per_harness:.3} ms vs runner alone {per_direct:.3} ms, {rounds} sequential cases; target <= 1 ms)",
        per_harness - per_direct
    );
}

fn bench_parallel() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let count = 24;
    let seconds = 0.25;
    for index in 0..count {
        trivial_fixture(root, &format!("sleepy-{index:02}"), &seconds.to_string());
    }
    let ws = workspace(root, &["os"]);
    let cases = plan::plan_all(&ws, &discover::discover(&ws).unwrap());
    for threads in [2usize, 4, 8] {
        let plan = RunPlan {
            cases: cases
                .iter()
                .map(|case| SelectedCase {
                    case: case.clone(),
                    ignored: None,
                })
                .collect(),
            ..RunPlan::default()
        };
        let started = Instant::now();
        let result = engine::run(
            &plan,
            &fake_runner(),
            &EngineOptions {
                threads,
                allow_empty: false,
            },
            &mut Sinks::new(),
        );
        let wall = started.elapsed().as_secs_f64();
        assert_eq!(result.summary.totals.failed, 0);
        let total: f64 = result
            .outcomes
            .iter()
            .map(|outcome| outcome.duration.as_secs_f64())
            .sum();
        let ideal = total / threads as f64;
        println!(
            "parallel: {count} cases of ~{seconds} s on {threads} threads: wall {wall:.3} s, total {total:.3} s, total/threads {ideal:.3} s, wall/(total/threads) = {:.3} (target <= 1.1)",
            wall / ideal
        );
    }
}

fn bench_diff() {
    let cases: [(&str, String, String); 2] = [
        (
            "30,000 differing lines",
            (0..30_000)
                .map(|n| format!("expected line {n}\n"))
                .collect(),
            (0..30_000).map(|n| format!("actual line {n}\n")).collect(),
        ),
        (
            "1 MiB, every line different",
            (0..65_536).map(|n| format!("e{n:014}\n")).collect(),
            (0..65_536).map(|n| format!("a{n:014}\n")).collect(),
        ),
    ];
    for (what, expected, actual) in cases {
        let started = Instant::now();
        let diff = cargo_x07::message::output_diff(expected.as_bytes(), actual.as_bytes());
        println!(
            "output diff, {what}: {:.3} ms, {} lines shown (bounded: window, line cap, 100 ms deadline)",
            started.elapsed().as_secs_f64() * 1e3,
            diff.lines().count()
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing we need.
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    // Overhead first: discovery writes and deletes 10,000 fixture folders, and the
    // file system's write-back of that slows every file operation for a while after
    // (measured: the fixture copy took 3 ms per case right after it, 0.6 ms before).
    bench_diff();
    bench_overhead();
    bench_discovery();
    bench_parallel();
}
