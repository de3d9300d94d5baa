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
//!    1 MiB): the diff is bounded by a window, a line cap and a deadline;
//! 5. per-case overhead of an `x07 test` manifest case (project copy, one-entry
//!    manifest, scratch directory, report check) over the `x07 test` call alone, with
//!    the `x07-replay` stand-in as x07 (it compiles nothing, so the numbers are the
//!    harness's; what x07 itself costs per call is in the toolchain notes §4.1). The
//!    stand-in is the workspace member `replay/`, built next to cargo-x07 first;
//! 6. the embedded runner (issue 11): CPU time per trivial case (one `bytes.lit`, os and
//!    sandbox) in-process against the `__x07 run` command line, the wall time of 400
//!    trivial cases on 2 threads (target ≤ 2 ms CPU per case, ≤ 0.45 s), and the peak
//!    memory of the whole process tree for a case whose program prints 50 MB, alone and
//!    six at once on 2 threads (targets < 150 MB, < 400 MB).
//!
//! CPU time is user + system time of this process and every process below it (the
//! zygotes are reaped before it is read, so the solvers they reaped count too); on a
//! machine shared with other jobs it is steadier than wall time. Linux only.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cargo_x07::backend::{Backend, CommandBackend, EmbeddedBackend, RunnerInfo, RunnerKind};
use cargo_x07::config::{PackageConfig, Settings, WorkspaceConfig};
use cargo_x07::discover;
use cargo_x07::engine::{self, EngineOptions, RunPlan, Sinks};
use cargo_x07::plan;
use cargo_x07::run;

#[path = "../tests/common/replay.rs"]
mod replay;

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
        env_clear: Default::default(),
        native_cache_dir: None,
        test_manifests: vec![],
        differential: false,
    }
}

fn workspace(root: &Path, profiles: &[&str]) -> WorkspaceConfig {
    let settings = settings(root, profiles);
    WorkspaceConfig {
        root: root.to_path_buf(),
        target_dir: root.join("target"),
        workspace_settings: settings.clone(),
        packages: vec![PackageConfig {
            name: "bench".into(),
            root: root.to_path_buf(),
            settings,
            settings_error: None,
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
    // The copy as the backends make it: in the run's scratch root (tmpfs when usable).
    let scratch = run::scratch::ScratchRoot::new().unwrap();
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
        let case_dir = scratch.case_dir().unwrap();
        run::copy::copy_fixture(&fixture, &case_dir.path().join("trivial")).unwrap();
        drop(case_dir);
        copy.push(started.elapsed());
        let started = Instant::now();
        let mut command = Command::new(&runner.program);
        command.args(&args).current_dir(&fixture);
        run::clean_env(&mut command, &case.run.env);
        let output = run::execute(
            command,
            case.timeout,
            run::CaptureLimits::for_report(1 << 20),
        )
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
        let plan = RunPlan::of_cases(cases.iter().cloned());
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

fn bench_manifest_overhead() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/manifests/calc");
    let project = root.join("fixtures/calc");
    run::copy::copy_fixture(&bundled, &project).unwrap();
    let ws = workspace(root, &["os"]);
    let cases = plan::plan_all(&ws, &discover::discover(&ws).unwrap());
    let case = cases
        .iter()
        .find(|case| case.id.case == "double/pure")
        .expect("the bundled manifest's double/pure");
    let program = replay::x07_replay_next_to(Path::new(env!("CARGO_BIN_EXE_cargo-x07")));
    let runner = CommandBackend::new(
        program.clone(),
        Vec::new(),
        RunnerInfo {
            kind: RunnerKind::X07,
            description: "runner: x07-replay".into(),
            program_word: "x07".into(),
            cargo_x07_flags: Vec::new(),
        },
    );
    let manifest = project.join("tests/tests.json");
    let rounds = 200;
    let (mut direct, mut harness, mut copy) = (Vec::new(), Vec::new(), Vec::new());
    // The copy as the backends make it: in the run's scratch root (tmpfs when usable).
    let scratch_root = run::scratch::ScratchRoot::new().unwrap();
    for _ in 0..rounds {
        let started = Instant::now();
        let case_dir = scratch_root.case_dir().unwrap();
        run::copy::copy_fixture(&project, &case_dir.path().join("calc")).unwrap();
        drop(case_dir);
        copy.push(started.elapsed());
        // The call alone, on the project in place, from an empty directory.
        let scratch = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let output = Command::new(&program)
            .args([
                "test",
                "--manifest",
                manifest.to_str().unwrap(),
                "--filter",
                "double/pure",
                "--exact",
                "--all",
                "--no-fail-fast",
            ])
            .current_dir(scratch.path())
            .output()
            .unwrap();
        direct.push(started.elapsed());
        assert!(output.status.success());
        drop(scratch);
        let started = Instant::now();
        let outcome = engine::execute_case(case, &runner);
        harness.push(started.elapsed());
        assert_eq!(
            outcome.status,
            cargo_x07::model::CaseStatus::Passed,
            "{}",
            cargo_x07::message::failure_message(&outcome)
        );
    }
    let median = |mut times: Vec<Duration>| {
        times.sort();
        times[times.len() / 2].as_secs_f64() * 1e3
    };
    let (per_direct, per_harness) = (median(direct), median(harness));
    println!(
        "manifest case overhead: {:.3} ms (median harness {per_harness:.3} ms vs the x07 test call alone {per_direct:.3} ms, {rounds} sequential cases, x07-replay as x07), of which the project copy + cleanup {:.3} ms",
        per_harness - per_direct,
        median(copy)
    );
}

const TRIVIAL_MANIFEST: &str = r#"{"schema_version":"x07.project@0.5.0","world":"run-os","entry":"main.x07.json","module_roots":["."],"profiles":{"os":{"world":"run-os"},"sandbox":{"world":"run-os-sandboxed","policy":"policy.json"}}}"#;
const TRIVIAL_POLICY: &str = r#"{"schema_version":"x07.run-os-policy@0.1.0","policy_id":"trivial","limits":{"cpu_ms":10000,"wall_ms":10000,"mem_bytes":1073741824,"fds":64,"procs":8},"fs":{"enabled":true,"read_roots":["."],"write_roots":[],"deny_hidden":true},"net":{"enabled":false,"allow_dns":false,"allow_tcp":false,"allow_udp":false,"allow_hosts":[]},"env":{"enabled":false,"allow_keys":[],"deny_keys":[]},"time":{"enabled":false,"allow_monotonic":false,"allow_wall_clock":false,"allow_sleep":false,"max_sleep_ms":0,"allow_local_tzid":false},"process":{"enabled":false,"allow_spawn":false,"allow_exec":false,"allow_exit":false,"allow_execs":[],"max_live":0,"max_spawns":0,"max_runtime_ms":0}}"#;

/// `count` fixtures whose program is one `bytes.lit`, each run as os and sandbox.
fn trivial_corpus(root: &Path, count: usize) -> Vec<cargo_x07::plan::PlannedCase> {
    for index in 0..count {
        let dir = root.join(format!("fixtures/t{index:03}"));
        write(&dir.join("x07.json"), TRIVIAL_MANIFEST);
        write(&dir.join("policy.json"), TRIVIAL_POLICY);
        write(
            &dir.join("main.x07.json"),
            &format!(
                r#"{{"decls":[],"imports":[],"kind":"entry","module_id":"main","schema_version":"x07.x07ast@0.8.0","solve":["bytes.lit","t{index}"]}}"#
            ),
        );
        write(
            &dir.join("x07.lock.json"),
            include_str!("../fixtures/core/hello-literal/x07.lock.json"),
        );
        write(
            &dir.join("x07test.json"),
            &format!(
                r#"{{"schema_version":"cargo-x07.fixture@0.1.0","cases":[{{"name":"c","expect":{{"output":{{"text":"t{index}"}}}}}}]}}"#
            ),
        );
    }
    let ws = workspace(root, &["os", "sandbox"]);
    plan::plan_all(&ws, &discover::discover(&ws).unwrap())
}

/// User + system time of this process and of every child it has reaped, in ms.
fn cpu_ms() -> f64 {
    use nix::sys::resource::{getrusage, UsageWho};
    let ms = |who| {
        let usage = getrusage(who).unwrap();
        let (user, system) = (usage.user_time(), usage.system_time());
        (user.tv_sec() + system.tv_sec()) as f64 * 1e3
            + (user.tv_usec() + system.tv_usec()) as f64 / 1e3
    };
    ms(UsageWho::RUSAGE_SELF) + ms(UsageWho::RUSAGE_CHILDREN)
}

fn embedded_backend() -> EmbeddedBackend {
    let exe = std::env::current_exe().unwrap();
    let info = RunnerInfo {
        kind: RunnerKind::Embedded,
        description: "runner: embedded (bench)".into(),
        program_word: "x07".into(),
        cargo_x07_flags: Vec::new(),
    };
    EmbeddedBackend::new(exe, info)
}

fn command_line_backend() -> CommandBackend {
    let exe = std::env::current_exe().unwrap();
    let info = RunnerInfo {
        kind: RunnerKind::Embedded,
        description: "runner: __x07 run (bench)".into(),
        program_word: "x07".into(),
        cargo_x07_flags: Vec::new(),
    };
    CommandBackend::new(exe, vec![run::EMBEDDED_RUNNER_ARG.into()], info)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// CPU ms per case of running `cases` one after the other on this thread with a fresh
/// backend (dropped, and its processes reaped, before the CPU time is read).
fn cpu_per_case<B: Backend>(make: impl Fn() -> B, cases: &[cargo_x07::plan::PlannedCase]) -> f64 {
    let before = cpu_ms();
    {
        let backend = make();
        for case in cases {
            let outcome = engine::execute_case(case, &backend);
            assert_eq!(
                outcome.status,
                cargo_x07::model::CaseStatus::Passed,
                "{}",
                cargo_x07::message::failure_message(&outcome)
            );
        }
    }
    (cpu_ms() - before) / cases.len() as f64
}

fn bench_embedded_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let cases = trivial_corpus(dir.path(), 50);
    let (mut embedded, mut command_line) = (Vec::new(), Vec::new());
    // Interleaved rounds, medians: load from elsewhere hits both alike.
    for _ in 0..5 {
        embedded.push(cpu_per_case(embedded_backend, &cases));
        command_line.push(cpu_per_case(command_line_backend, &cases));
    }
    println!(
        "embedded runner, CPU per trivial case (user+sys of the whole process tree, median of 5 x {} sequential cases): in-process {:.2} ms (target <= 2.0 ms); through the `__x07 run` command line {:.2} ms",
        cases.len(),
        median(embedded),
        median(command_line),
    );
}

fn bench_embedded_wall() {
    let dir = tempfile::tempdir().unwrap();
    let cases = trivial_corpus(dir.path(), 200);
    let plan = RunPlan::of_cases(cases.iter().cloned());
    let (mut walls, mut cpus) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let before = cpu_ms();
        let started = Instant::now();
        {
            let backend = embedded_backend();
            let result = engine::run(
                &plan,
                &backend,
                &EngineOptions {
                    threads: 2,
                    allow_empty: false,
                },
                &mut Sinks::new(),
            );
            assert_eq!(result.summary.totals.passed, cases.len());
        }
        walls.push(started.elapsed().as_secs_f64());
        cpus.push((cpu_ms() - before) / cases.len() as f64);
    }
    println!(
        "embedded runner, {} trivial cases on 2 threads: wall {:.3} s (median of 5; target <= 0.45 s), CPU {:.2} ms per case",
        cases.len(),
        median(walls),
        median(cpus)
    );
}

/// Resident memory of this process and everything below it, now, in bytes.
fn tree_rss() -> u64 {
    let me = std::process::id() as i32;
    let page = 4096;
    let mut pids = vec![me];
    pids.extend(
        x07_lite::sandbox::tree::descendants_of(me, &x07_lite::sandbox::tree::scan())
            .iter()
            .map(|stat| stat.pid),
    );
    pids.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/statm")).ok())
        .filter_map(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum::<u64>()
        * page
}

/// Runs `cases` on `threads` threads while a sampler thread records the peak resident
/// memory of the whole process tree every 2 ms.
fn peak_tree_rss(cases: &[cargo_x07::plan::PlannedCase], threads: usize) -> u64 {
    let plan = RunPlan::of_cases(cases.iter().cloned());
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let sampler = scope.spawn(|| {
            let mut peak = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                peak = peak.max(tree_rss());
                std::thread::sleep(Duration::from_millis(2));
            }
            peak
        });
        {
            let backend = embedded_backend();
            let result = engine::run(
                &plan,
                &backend,
                &EngineOptions {
                    threads,
                    allow_empty: false,
                },
                &mut Sinks::new(),
            );
            assert_eq!(result.summary.totals.passed, cases.len());
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        sampler.join().unwrap()
    })
}

fn bench_embedded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for index in 0..6 {
        let fixture = root.join(format!("fixtures/big{index}"));
        write(
            &fixture.join("x07.json"),
            r#"{"schema_version":"x07.project@0.5.0","world":"run-os","entry":"main.x07.json","module_roots":["."],"profiles":{"os":{"world":"run-os"}}}"#,
        );
        write(
            &fixture.join("main.x07.json"),
            r#"{"decls":[],"imports":[],"kind":"entry","module_id":"main","schema_version":"x07.x07ast@0.8.0","solve":["bytes.alloc",50000000]}"#,
        );
        write(
            &fixture.join("x07test.json"),
            r#"{"schema_version":"cargo-x07.fixture@0.1.0","run":{"max_output_bytes":67108864,"max_memory_bytes":134217728},"cases":[{"name":"c","expect":{"exit_code":0}}]}"#,
        );
    }
    let ws = workspace(root, &["os"]);
    let cases = plan::plan_all(&ws, &discover::discover(&ws).unwrap());
    let baseline = tree_rss();
    let one = peak_tree_rss(&cases[..1], 1);
    let six = peak_tree_rss(&cases, 2);
    let mb = |bytes: u64| bytes as f64 / 1e6;
    println!(
        "embedded runner, peak memory of the process tree (sampled every 2 ms; this bench process alone {:.0} MB): a case printing 50 MB {:.0} MB (target < 150 MB); six such cases on 2 threads {:.0} MB (target < 400 MB)",
        mb(baseline),
        mb(one),
        mb(six)
    );
}

fn main() {
    // The embedded runner's solver zygotes are this executable (`<bench> __x07 __zygote`),
    // and so is the `__x07 run` command line compared against.
    if let Some(code) = run::dispatch_embedded_runner() {
        std::process::exit(code);
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing we need.
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    bench_embedded_cpu();
    bench_embedded_wall();
    bench_embedded_memory();
    // Overhead first: discovery writes and deletes 10,000 fixture folders, and the
    // file system's write-back of that slows every file operation for a while after
    // (measured: the fixture copy took 3 ms per case right after it, 0.6 ms before).
    bench_diff();
    bench_overhead();
    bench_manifest_overhead();
    bench_discovery();
    bench_parallel();
}
