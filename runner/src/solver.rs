//! The solver process: `solve` runs in a child process (a re-exec of the current
//! executable with the hidden `__solve` subcommand) that mirrors the ABI of the real
//! compiled executable, and the parent applies the real runner's framing rules.
//!
//! Child ABI (`observed-behaviour.md` §1.2 end, §5.3): `u32le len + input` on stdin;
//! on success `u32le len + output` on stdout, one JSON stats line on stderr, exit 0;
//! on a trap the trap text on stderr and exit status 132; `os.process.exit(c)` exits
//! with `c` and writes no frame.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::eval::{solve, SolveLimits, SolveStats};
use crate::host::Interrupt;
use crate::limits::{ProcessLimits, RUNTIME_OVERHEAD_BYTES};
use crate::os::OsHost;
use crate::policy::{load_policy, Policy};
use crate::report::SolveSection;

/// The hidden subcommand that runs the solver.
pub const SOLVE_SUBCOMMAND: &str = "__solve";
/// Exit status of a trapped solver (128 + SIGILL, as the real runtime).
pub const TRAP_EXIT_STATUS: i32 = 132;
/// The scheduler trace hash of a run that never used the scheduler.
pub const EMPTY_SCHED_TRACE_HASH: &str = "0x14650fb0739d0383";
/// Exit status of a solver whose program does not compile; the error is the last
/// stderr line, a JSON object under [`COMPILE_ERROR_KEY`].
pub const COMPILE_ERROR_EXIT_STATUS: i32 = 3;
/// Key of the compile-error line on the solver's stderr.
pub const COMPILE_ERROR_KEY: &str = "x07_lite_compile_error";
/// Most solver stderr bytes kept by the parent.
const MAX_STDERR_BYTES: usize = 1024 * 1024;

/// Everything the solver process needs, passed as one JSON argument.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolverSpec {
    /// Absolute path of the entry program.
    pub entry: PathBuf,
    /// Absolute module roots.
    pub module_roots: Vec<PathBuf>,
    /// Absolute policy file of a sandboxed run (the child is sandboxed when
    /// `X07_OS_SANDBOXED=1` is in its environment; without a file it denies everything).
    pub policy: Option<PathBuf>,
    /// `--solve-fuel`.
    pub fuel: u64,
    /// `--max-memory-bytes`.
    pub max_memory_bytes: u64,
    /// rlimits of the solver process.
    pub limits: ProcessLimits,
    /// Pid of the CLI process that starts the solver: the solver dies with it.
    #[serde(default)]
    pub parent_pid: Option<u32>,
}

/// The stats line the solver prints on success (key order as the real runtime).
pub fn stats_line(stats: &SolveStats) -> String {
    let mem = &stats.mem;
    let line = json!({
        "fuel_used": stats.fuel_used,
        "heap_used": stats.heap_used,
        "fs_read_file_calls": 0,
        "fs_list_dir_calls": 0,
        "rr_open_calls": 0,
        "rr_close_calls": 0,
        "rr_stats_calls": 0,
        "rr_next_calls": 0,
        "rr_next_miss_calls": 0,
        "rr_append_calls": 0,
        "kv_get_calls": 0,
        "kv_set_calls": 0,
        "sched_stats": {
            "tasks_spawned": 0,
            "spawn_calls": 0,
            "join_calls": 0,
            "yield_calls": 0,
            "sleep_calls": 0,
            "chan_send_calls": 0,
            "chan_recv_calls": 0,
            "ctx_switches": 0,
            "wake_events": 0,
            "blocked_waits": 0,
            "virtual_time_end": 0,
            "sched_trace_hash": EMPTY_SCHED_TRACE_HASH,
        },
        "mem_stats": {
            "alloc_calls": mem.alloc_calls,
            "realloc_calls": mem.realloc_calls,
            "free_calls": mem.free_calls,
            "bytes_alloc_total": mem.bytes_alloc_total,
            "bytes_freed_total": mem.bytes_freed_total,
            "live_bytes": mem.live_bytes,
            "peak_live_bytes": mem.peak_live_bytes,
            "live_allocs": mem.live_allocs,
            "peak_live_allocs": mem.peak_live_allocs,
            "memcpy_bytes": mem.memcpy_bytes,
        },
    });
    format!("{line}\n")
}

fn trap_exit(text: &str) -> i32 {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
    let _ = stderr.flush();
    TRAP_EXIT_STATUS
}

/// The solver process: reads the input frame, runs `solve`, writes the output frame.
/// Returns the process exit status.
pub fn child_main(spec_json: &str) -> i32 {
    let Ok(spec) = serde_json::from_str::<SolverSpec>(spec_json) else {
        return 2;
    };
    // A solver never outlives the CLI that started it (say, one killed by a harness
    // timeout): the kernel kills it when its parent goes, and a parent already gone
    // before that was set up is noticed here.
    let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
    if spec
        .parent_pid
        .is_some_and(|pid| std::os::unix::process::parent_id() != pid)
    {
        return 2;
    }
    spec.limits.apply_early();

    let mut raw = Vec::new();
    if std::io::stdin().lock().read_to_end(&mut raw).is_err() || raw.len() < 4 {
        return 2;
    }
    let len = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize;
    if raw.len() - 4 != len {
        return 2;
    }
    let input = &raw[4..];

    // The program is compiled here, not in the parent, so a run loads it only once.
    let program = match crate::parse::load_program(&spec.entry, &spec.module_roots) {
        Ok(program) => program,
        Err(err) => {
            let line = json!({ COMPILE_ERROR_KEY: {
                "message": err.message,
                "diagnostics": err.diagnostics,
                "native_requires": err.native_requires,
            }});
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "{line}");
            let _ = stderr.flush();
            return COMPILE_ERROR_EXIT_STATUS;
        }
    };

    let sandboxed = std::env::var_os("X07_OS_SANDBOXED").is_some_and(|v| v == "1");
    let mut host = if sandboxed {
        let policy = match &spec.policy {
            Some(path) => match load_policy(path) {
                Ok(policy) => policy,
                Err(err) => return trap_exit(&err.to_string()),
            },
            None => Policy::deny_all(),
        };
        // The real runtime reserves its whole arena up front inside the address-space limit.
        if spec.policy.is_some()
            && spec.max_memory_bytes.saturating_add(RUNTIME_OVERHEAD_BYTES)
                > policy.limits.mem_bytes
        {
            return trap_exit("calloc failed");
        }
        OsHost::sandboxed(policy)
    } else {
        OsHost::run_os()
    };
    spec.limits.apply_late();
    crate::os::announce_children();

    let limits = SolveLimits {
        fuel: spec.fuel,
        max_memory_bytes: spec.max_memory_bytes,
    };
    // An interpreter bug must still end as a trap the parent can report, not a crash.
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        solve(&program, input, &mut host, &limits)
    })) {
        Ok(outcome) => outcome,
        Err(panic) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            return trap_exit(&format!("x07-lite internal error: {why}"));
        }
    };
    match outcome.result {
        Ok(output) => {
            let mut frame = Vec::with_capacity(output.len() + 4);
            frame.extend_from_slice(&(output.len() as u32).to_le_bytes());
            frame.extend_from_slice(&output);
            let mut stdout = std::io::stdout().lock();
            // A parent that stopped reading (output cap) is not the solver's failure.
            let _ = stdout.write_all(&frame).and_then(|()| stdout.flush());
            let mut stderr = std::io::stderr().lock();
            let _ = stderr.write_all(stats_line(&outcome.stats).as_bytes());
            let _ = stderr.flush();
            0
        }
        Err(Interrupt::Trap(text)) => trap_exit(&text),
        Err(Interrupt::Exit(code)) => code,
        Err(Interrupt::Signal(signal)) => die_by_signal(signal),
    }
}

/// Ends the solver with `signal`, as the compiled program would have died (no stderr, no
/// frame). The runtime's own handler (std installs one for SIGSEGV) resets the action to
/// the default on the first delivery, so the signal is raised until it takes; should the
/// process survive anyway, it exits with the status a death by the signal gives.
fn die_by_signal(signal: i32) -> i32 {
    use nix::sys::signal::{raise, Signal};
    let _ = std::io::stdout().flush();
    if let Ok(sig) = Signal::try_from(signal) {
        for _ in 0..3 {
            let _ = raise(sig);
        }
    }
    128 + signal
}

/// How to start the solver process and what to hand it.
#[derive(Debug, Clone)]
pub struct SolverLaunch {
    /// The executable to re-exec (normally `std::env::current_exe()`).
    pub exe: PathBuf,
    /// Arguments that make `exe` run this CLI (e.g. `["__x07"]` when embedded).
    pub self_prefix: Vec<OsString>,
    /// The solver's working directory.
    pub cwd: PathBuf,
    /// Variables added to the inherited environment (`X07_WORLD`, `X07_OS_*`).
    pub env: Vec<(String, String)>,
    /// Wall-clock limit.
    pub wall_limit: Duration,
    /// Extra wall time granted, once, when the limit passes while the solver is still
    /// runnable (on a busy machine it has not yet had its CPU time). Used where the wall
    /// limit only backs up a CPU limit, so the CPU limit decides as it does unloaded.
    pub starved_grace: Duration,
    /// `--max-output-bytes`.
    pub max_output_bytes: u64,
    /// The solver spec.
    pub spec: SolverSpec,
}

/// What the solver process did, before the framing rules.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRun {
    /// Exit status (code, or 128 + signal).
    pub exit_status: i32,
    /// The signal that ended the process, if any.
    pub signal: Option<i32>,
    /// Stdout, cut at `4 + max_output_bytes + 1` bytes.
    pub stdout: Vec<u8>,
    /// Whether stdout had more bytes than that.
    pub stdout_over_cap: bool,
    /// Stderr (bounded).
    pub stderr: Vec<u8>,
    /// Whether the wall-clock limit killed it.
    pub timed_out: bool,
}

fn status_code(status: &ExitStatus) -> (i32, Option<i32>) {
    match (status.code(), status.signal()) {
        (Some(code), _) => (code, None),
        (None, Some(signal)) => (128 + signal, Some(signal)),
        _ => (1, None),
    }
}

/// Whether process `pid` is running or waiting for a CPU (not sleeping or blocked).
/// Where the state cannot be read, it is taken as runnable.
fn is_runnable(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state is the first field after the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_none_or(|state| state == 'R'),
        Err(_) => true,
    }
}

fn kill_group(pid: u32) {
    use nix::sys::signal::{killpg, Signal};
    use nix::unistd::Pid;
    let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
}

/// Input frames up to this size are written before reading (they fit the pipe buffer);
/// larger ones are written by a helper thread.
const DIRECT_WRITE_LIMIT: usize = 60 * 1024;

/// Starts the solver process, feeds it the input frame and collects what it does.
///
/// One thread polls the solver's stdout and stderr against the wall-clock deadline, so
/// a run costs no thread start-ups (only very large inputs get a writer thread).
pub fn launch(launch: &SolverLaunch, input: &[u8]) -> Result<RawRun, String> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    use std::time::Instant;

    let started = Instant::now();
    let mut deadline = started + launch.wall_limit;
    let mut grace = launch.starved_grace;
    let spec_json = serde_json::to_string(&launch.spec).map_err(|e| e.to_string())?;
    // Children the program starts and leaves running are re-parented to this process
    // when the solver is killed, so they can be found and killed below.
    let _ = nix::sys::prctl::set_child_subreaper(true);
    let mut child = Command::new(&launch.exe)
        .args(&launch.self_prefix)
        .arg(SOLVE_SUBCOMMAND)
        .arg(spec_json)
        .current_dir(&launch.cwd)
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|err| format!("spawn solver: {err}"))?;
    let pid = child.id();

    let mut frame = Vec::with_capacity(input.len() + 4);
    frame.extend_from_slice(&(input.len() as u32).to_le_bytes());
    frame.extend_from_slice(input);
    let mut writer = None;
    if let Some(mut stdin) = child.stdin.take() {
        if frame.len() <= DIRECT_WRITE_LIMIT {
            // A solver that dies before reading is reported by its exit, not here.
            let _ = stdin.write_all(&frame);
        } else {
            writer = Some(thread::spawn(move || {
                let _ = stdin.write_all(&frame);
            }));
        }
    }

    let stdout_cap = (launch.max_output_bytes as usize).saturating_add(5);
    let mut stdout_pipe = child.stdout.take();
    let mut stderr_pipe = child.stderr.take();
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let mut stdout_over_cap = false;
    let mut timed_out = false;
    let mut buffer = vec![0u8; 64 * 1024];
    while stdout_pipe.is_some() || stderr_pipe.is_some() {
        let now = Instant::now();
        if now >= deadline {
            if !grace.is_zero() && is_runnable(pid) {
                deadline += grace;
                grace = Duration::ZERO;
                continue;
            }
            timed_out = true;
            break;
        }
        let remaining_ms = (deadline - now).as_millis().clamp(1, 60_000) as i32;
        let timeout = PollTimeout::try_from(remaining_ms).unwrap_or(PollTimeout::MAX);
        let (out_ready, err_ready) = {
            let mut fds = Vec::with_capacity(2);
            if let Some(pipe) = &stdout_pipe {
                fds.push(PollFd::new(pipe.as_fd(), PollFlags::POLLIN));
            }
            if let Some(pipe) = &stderr_pipe {
                fds.push(PollFd::new(pipe.as_fd(), PollFlags::POLLIN));
            }
            match poll(&mut fds, timeout) {
                Ok(0) => continue,
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(err) => return Err(format!("poll solver pipes: {err}")),
            }
            let ready = |fd: &PollFd<'_>| fd.revents().is_some_and(|r| !r.is_empty());
            let mut flags = fds.iter().map(ready);
            let out_ready = stdout_pipe.is_some() && flags.next().unwrap_or(false);
            let err_ready = stderr_pipe.is_some() && flags.next().unwrap_or(false);
            (out_ready, err_ready)
        };
        if out_ready {
            if let Some(pipe) = stdout_pipe.as_mut() {
                match pipe.read(&mut buffer) {
                    Ok(0) | Err(_) => stdout_pipe = None,
                    Ok(n) => {
                        let room = stdout_cap - stdout.len();
                        stdout.extend_from_slice(&buffer[..n.min(room)]);
                        if n > room {
                            // Stop reading: the solver's further writes fail (EPIPE).
                            stdout_over_cap = true;
                            stdout_pipe = None;
                        }
                    }
                }
            }
        }
        if err_ready {
            if let Some(pipe) = stderr_pipe.as_mut() {
                match pipe.read(&mut buffer) {
                    Ok(0) | Err(_) => stderr_pipe = None,
                    Ok(n) => {
                        let room = MAX_STDERR_BYTES.saturating_sub(stderr.len());
                        stderr.extend_from_slice(&buffer[..n.min(room)]);
                    }
                }
            }
        }
    }
    drop(stdout_pipe);
    drop(stderr_pipe);

    // Both streams are closed, so the solver is exiting (it never closes them itself);
    // or the deadline passed and it is killed first.
    if timed_out {
        kill_group(pid);
    }
    let status = child.wait().ok();
    // Anything the solver left in its process group goes too.
    kill_group(pid);
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    let (exit_status, signal) = match &status {
        Some(status) => status_code(status),
        None => (1, None),
    };
    let (stderr, children) = split_announcements(&stderr);
    if timed_out || signal.is_some() {
        kill_orphans(&children);
    }
    Ok(RawRun {
        exit_status: if timed_out { 137 } else { exit_status },
        signal,
        stdout,
        stdout_over_cap,
        stderr,
        timed_out,
    })
}

/// Separates the solver's child announcements ([`crate::os::CHILD_ANNOUNCE_PREFIX`]
/// lines) from the stderr the report shows.
fn split_announcements(stderr: &[u8]) -> (Vec<u8>, Vec<u32>) {
    let prefix = crate::os::CHILD_ANNOUNCE_PREFIX.as_bytes();
    if !stderr.windows(prefix.len()).any(|w| w == prefix) {
        return (stderr.to_vec(), Vec::new());
    }
    let mut kept = Vec::with_capacity(stderr.len());
    let mut children = Vec::new();
    for line in stderr.split_inclusive(|&b| b == b'\n') {
        match line.strip_prefix(prefix) {
            Some(rest) => children.extend(
                std::str::from_utf8(rest)
                    .ok()
                    .and_then(|pid| pid.trim_end().parse::<u32>().ok()),
            ),
            None => kept.extend_from_slice(line),
        }
    }
    (kept, children)
}

/// The parent pid of process `pid`, from `/proc`.
fn parent_pid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// Kills (with their process groups) and reaps the children a killed solver left
/// running. Only processes re-parented to this process are touched, so a stale or reused
/// pid never hits anything else.
fn kill_orphans(children: &[u32]) {
    use nix::sys::signal::{killpg, Signal};
    use nix::sys::wait::waitpid;
    use nix::unistd::Pid;
    let me = std::process::id();
    for &pid in children {
        if pid > 1 && parent_pid(pid) == Some(me) {
            let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
            let _ = waitpid(Pid::from_raw(pid as i32), None);
        }
    }
}

/// The compile error a solver process reported, if that is how it ended.
pub fn compile_failure(raw: &RawRun) -> Option<crate::parse::CompileError> {
    if raw.timed_out || raw.exit_status != COMPILE_ERROR_EXIT_STATUS {
        return None;
    }
    let text = String::from_utf8_lossy(&raw.stderr);
    let line = text.lines().rev().find(|line| !line.trim().is_empty())?;
    let value: Value = serde_json::from_str(line).ok()?;
    let error = value.get(COMPILE_ERROR_KEY)?;
    Some(crate::parse::CompileError {
        message: error["message"].as_str()?.to_string(),
        diagnostics: error.get("diagnostics").filter(|d| !d.is_null()).cloned(),
        native_requires: error["native_requires"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
    })
}

/// The fuel hint of the report.
pub fn fuel_trap_help(fuel: u64) -> String {
    format!(
        "fuel limit {fuel} reached; raise it with --solve-fuel or scope costs with budget.scope_v1"
    )
}

/// Applies the real runner's rules to a finished solver process.
pub fn solve_section(raw: RawRun, max_output_bytes: u64, fuel: u64) -> SolveSection {
    if raw.timed_out {
        return SolveSection {
            ok: false,
            exit_status: 137,
            solve_output: Vec::new(),
            stdout: Vec::new(),
            stderr: Vec::new(),
            metrics: None,
            trap: Some("timed out".into()),
            trap_help: None,
        };
    }
    let stderr_text = String::from_utf8_lossy(&raw.stderr);
    let trap_line = stderr_text
        .lines()
        .rev()
        .map(str::trim_end)
        .find(|line| !line.is_empty() && !line.starts_with('{'))
        .map(str::to_string);
    let stats = stderr_text
        .lines()
        .rev()
        .find(|line| line.starts_with('{'))
        .and_then(|line| serde_json::from_str::<Value>(line).ok())
        .filter(Value::is_object);

    let mut solve_output = Vec::new();
    let trap = if let Some(line) = trap_line {
        Some(line)
    } else if let Some(signal) = raw.signal {
        Some(format!("terminated by signal {signal}"))
    } else if raw.stdout_over_cap {
        Some("stdout exceeded cap".to_string())
    } else if raw.stdout.len() < 4 {
        Some("native stdout too short for length prefix".to_string())
    } else {
        let len =
            u32::from_le_bytes([raw.stdout[0], raw.stdout[1], raw.stdout[2], raw.stdout[3]]) as u64;
        if len > max_output_bytes {
            Some(format!(
                "native output too large: {len} > max_output_bytes={max_output_bytes}"
            ))
        } else if raw.stdout.len() as u64 - 4 != len {
            Some("native stdout length mismatch".to_string())
        } else {
            solve_output = raw.stdout[4..].to_vec();
            None
        }
    };
    let metrics_reported = trap.as_deref() != Some("stdout exceeded cap");
    let ok = raw.exit_status == 0 && trap.is_none();
    if !ok {
        solve_output.clear();
    }
    let trap_help = (trap.as_deref() == Some("fuel exhausted")).then(|| fuel_trap_help(fuel));
    SolveSection {
        ok,
        exit_status: raw.exit_status,
        solve_output,
        stdout: raw.stdout,
        stderr: raw.stderr,
        metrics: if metrics_reported { stats } else { None },
        trap,
        trap_help,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn a_sleeping_process_is_not_runnable_and_a_busy_one_is() {
        let mut sleeper = Command::new("sleep").arg("5").spawn().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while is_runnable(sleeper.id()) && std::time::Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        let sleeping = !is_runnable(sleeper.id());
        let _ = sleeper.kill();
        let _ = sleeper.wait();
        assert!(sleeping, "sleep(1) never showed as sleeping");
        let mut spinner = Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !is_runnable(spinner.id()) && std::time::Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        let spinning = is_runnable(spinner.id());
        let _ = spinner.kill();
        let _ = spinner.wait();
        assert!(spinning, "a busy loop never showed as runnable");
    }

    fn raw(status: i32, stdout: &[u8], stderr: &[u8]) -> RawRun {
        RawRun {
            exit_status: status,
            signal: None,
            stdout: stdout.to_vec(),
            stdout_over_cap: false,
            stderr: stderr.to_vec(),
            timed_out: false,
        }
    }

    #[test]
    fn framing_rules() {
        let ok = solve_section(
            raw(0, b"\x02\x00\x00\x00hi", b"{\"fuel_used\":2}\n"),
            1 << 20,
            9,
        );
        assert!(ok.ok);
        assert_eq!(ok.solve_output, b"hi");
        assert_eq!(ok.metrics.unwrap()["fuel_used"], 2);

        let exit = solve_section(raw(7, b"", b""), 1 << 20, 9);
        assert_eq!(
            exit.trap.as_deref(),
            Some("native stdout too short for length prefix")
        );
        assert_eq!(exit.exit_status, 7);
        assert!(exit.metrics.is_none());

        let big = solve_section(
            raw(0, b"\x04\x00\x00\x00DATA", b"{\"fuel_used\":2}\n"),
            3,
            9,
        );
        assert_eq!(
            big.trap.as_deref(),
            Some("native output too large: 4 > max_output_bytes=3")
        );
        assert!(big.metrics.is_some());
        assert!(big.solve_output.is_empty());
        assert!(!big.ok);

        let mut over = raw(0, b"\x04\x00\x00\x00D", b"{\"fuel_used\":2}\n");
        over.stdout_over_cap = true;
        let over = solve_section(over, 0, 9);
        assert_eq!(over.trap.as_deref(), Some("stdout exceeded cap"));
        assert!(over.metrics.is_none());

        let fuel = solve_section(raw(132, b"", b"fuel exhausted\n"), 1 << 20, 1000);
        assert_eq!(fuel.trap.as_deref(), Some("fuel exhausted"));
        assert_eq!(
            fuel.trap_help.as_deref(),
            Some("fuel limit 1000 reached; raise it with --solve-fuel or scope costs with budget.scope_v1")
        );

        let mut killed = raw(137, b"", b"");
        killed.signal = Some(9);
        assert_eq!(
            solve_section(killed, 1 << 20, 9).trap.as_deref(),
            Some("terminated by signal 9")
        );
    }

    #[test]
    fn stats_line_key_order() {
        let line = stats_line(&SolveStats::default());
        assert!(line.starts_with("{\"fuel_used\":0,\"heap_used\":0,\"fs_read_file_calls\":0,"));
        assert!(line.ends_with("\"memcpy_bytes\":0}}\n"));
    }
}
