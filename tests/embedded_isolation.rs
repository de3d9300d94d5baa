//! The embedded runner in-process (one solver per case, forked by a per-thread zygote)
//! keeps the isolation of a separately started runner: the run's wall-clock limit and
//! the case timeout kill the solver's whole process tree, detached grandchildren
//! included; Ctrl-C stops the running cases and removes their copies; each solver gets
//! its own rlimits, never those of the case before it on the same zygote.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::*;

/// `ProcCapsV1` (17 bytes) then `ProcReqV1` for `argv`: the input of a program that runs
/// the request in its input (`os.process.run_capture_v1`).
fn process_input(argv: &[&str]) -> String {
    let mut out = vec![1u8];
    for value in [1024u32, 1024, 0, 0] {
        out.extend_from_slice(&value.to_le_bytes());
    }
    let chunk = |out: &mut Vec<u8>, bytes: &[u8]| {
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
    };
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(argv.len() as u32).to_le_bytes());
    for arg in argv {
        chunk(&mut out, arg.as_bytes());
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    chunk(&mut out, b"");
    chunk(&mut out, b"");
    base64::engine::general_purpose::STANDARD.encode(out)
}

const RUN_CAPTURE: &str = r#"{"decls":[],"imports":[],"kind":"entry","module_id":"main","schema_version":"x07.x07ast@0.8.0","solve":["os.process.run_capture_v1",["view.to_bytes",["view.slice","input",17,["-",["view.len","input"],17]]],["view.to_bytes",["view.slice","input",0,17]]]}"#;

const SHELL_POLICY: &str = r#"{"schema_version":"x07.run-os-policy@0.1.0","policy_id":"shell","limits":{"cpu_ms":10000,"wall_ms":1500,"mem_bytes":1073741824,"fds":64,"procs":16},"fs":{"enabled":false,"read_roots":[],"write_roots":[],"deny_hidden":true},"net":{"enabled":false,"allow_dns":false,"allow_tcp":false,"allow_udp":false,"allow_hosts":[]},"env":{"enabled":false,"allow_keys":[],"deny_keys":[]},"time":{"enabled":false,"allow_monotonic":false,"allow_wall_clock":false,"allow_sleep":false,"max_sleep_ms":0,"allow_local_tzid":false},"process":{"enabled":true,"allow_spawn":true,"allow_exec":true,"allow_exit":true,"allow_execs":["/bin/sh"],"max_live":8,"max_spawns":16,"max_runtime_ms":10000}}"#;

fn manifest() -> String {
    r#"{"schema_version":"x07.project@0.5.0","world":"run-os","entry":"main.x07.json","module_roots":["."],"profiles":{"os":{"world":"run-os"},"sandbox":{"world":"run-os-sandboxed","policy":"policy.json"}}}"#.to_string()
}

/// A fixture whose program runs `sh -c script` through `run_capture_v1`.
fn shell_fixture(ws: &Workspace, name: &str, script: &str, x07test: &str) {
    let input = process_input(&["/bin/sh", "-c", script]);
    let x07test = x07test.replace("INPUT", &input);
    ws.fixture(
        name,
        &[
            ("x07.json", &manifest()),
            ("main.x07.json", RUN_CAPTURE),
            ("policy.json", SHELL_POLICY),
            (
                "x07.lock.json",
                include_str!("../fixtures/core/hello-literal/x07.lock.json"),
            ),
            ("x07test.json", &x07test),
        ],
    );
}

/// A unique argument for `sleep`, to find the process later.
fn sleep_marker() -> String {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("300.{}{:03}", std::process::id(), n)
}

/// Whether a live process has `marker` in its command line.
fn running_with(marker: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|entry| {
        let live = std::fs::read_to_string(entry.path().join("stat"))
            .ok()
            .and_then(|stat| {
                stat.rsplit_once(')')
                    .map(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
            })
            .unwrap_or(false);
        live && std::fs::read(entry.path().join("cmdline"))
            .is_ok_and(|cmd| String::from_utf8_lossy(&cmd).contains(marker))
    })
}

fn gone_soon(marker: &str) -> bool {
    let started = Instant::now();
    while running_with(marker) && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    !running_with(marker)
}

/// Kills (by pid) what a failed test left running with `marker` in its command line.
fn kill_marker(marker: &str) {
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if std::fs::read(entry.path().join("cmdline"))
            .is_ok_and(|cmd| String::from_utf8_lossy(&cmd).contains(marker))
        {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

#[test]
fn the_wall_limit_and_the_case_timeout_kill_the_whole_tree() {
    let ws = Workspace::new("");
    let (wall, hard) = (sleep_marker(), sleep_marker());
    // The sandbox's `wall_ms` (1.5 s) ends the run: the report says `timed out`.
    shell_fixture(
        &ws,
        "fixtures/wall",
        &format!("setsid /bin/sleep {wall} > /dev/null 2>&1 < /dev/null & /bin/sleep 300"),
        r#"{"schema_version":"cargo-x07.fixture@0.1.0","profiles":["sandbox"],"cases":[{"name":"c","input":{"b64":"INPUT"},"expect":{"trap":"timed out"}}]}"#,
    );
    // The case timeout (1 s) comes before the CPU-based wall limit of run-os.
    shell_fixture(
        &ws,
        "fixtures/hard",
        &format!("setsid /bin/sleep {hard} > /dev/null 2>&1 < /dev/null & /bin/sleep 300"),
        r#"{"schema_version":"cargo-x07.fixture@0.1.0","profiles":["os"],"cases":[{"name":"c","input":{"b64":"INPUT"},"timeout_ms":1000}]}"#,
    );
    let output = ws
        .command(&["test", "--backend", "embedded", "--test-threads", "2"])
        .output()
        .unwrap();
    let all = text(&output);
    let (wall_gone, hard_gone) = (gone_soon(&wall), gone_soon(&hard));
    kill_marker(&wall);
    kill_marker(&hard);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert_eq!(outcome(&all, "fixtures/wall::c::sandbox"), "ok", "{all}");
    assert_eq!(outcome(&all, "fixtures/hard::c::os"), "FAILED", "{all}");
    assert!(all.contains("did not finish within 1000 ms"), "{all}");
    assert!(
        wall_gone,
        "the sandbox's detached grandchild outlived the wall limit"
    );
    assert!(
        hard_gone,
        "the detached grandchild outlived the case timeout"
    );
}

#[test]
fn each_solver_gets_its_own_rlimits() {
    let ws = Workspace::new("");
    let out = tempfile::tempdir().unwrap();
    for (name, seconds) in [("a", 7), ("b", 9), ("c", 8)] {
        let file = out.path().join(name);
        shell_fixture(
            &ws,
            &format!("fixtures/{name}"),
            &format!("ulimit -t > {}", file.display()),
            &format!(
                r#"{{"schema_version":"cargo-x07.fixture@0.1.0","profiles":["os"],"run":{{"cpu_time_limit_seconds":{seconds}}},"cases":[{{"name":"c","input":{{"b64":"INPUT"}}}}]}}"#
            ),
        );
    }
    // One thread: the three solvers come from the same zygote, one after the other.
    let output = ws
        .command(&["test", "--backend", "embedded", "--test-threads", "1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    for (name, seconds) in [("a", "7"), ("b", "9"), ("c", "8")] {
        let limit = std::fs::read_to_string(out.path().join(name)).unwrap();
        assert_eq!(limit.trim(), seconds, "fixture {name}");
    }
}

#[test]
fn ctrl_c_stops_embedded_cases_and_removes_their_copies() {
    let ws = Workspace::new("");
    let marker = sleep_marker();
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    shell_fixture(
        &ws,
        "fixtures/hangs",
        &format!(
            "setsid /bin/sleep {marker} > /dev/null 2>&1 < /dev/null & pwd > {ready}.tmp; mv {ready}.tmp {ready}; /bin/sleep 300",
            ready = ready.display()
        ),
        r#"{"schema_version":"cargo-x07.fixture@0.1.0","profiles":["os"],"cases":[{"name":"c","input":{"b64":"INPUT"}}]}"#,
    );
    let child = ws
        .command(&["test", "--backend", "embedded"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !ready.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the case never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    let gone = gone_soon(&marker);
    kill_marker(&marker);
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("interrupted"));
    assert!(gone, "the case's detached grandchild outlived Ctrl-C");
    let copy = std::fs::read_to_string(&ready).unwrap();
    let copy = Path::new(copy.trim());
    assert!(copy.ends_with("hangs"), "{}", copy.display());
    let scratch_root = copy.parent().and_then(Path::parent).unwrap();
    assert!(
        !scratch_root.exists(),
        "{} was left behind",
        scratch_root.display()
    );
}
