//! Process control for a runner process, and the registry of everything running now.
//!
//! The runner starts the compiled program as a child of its own, and a hung program must
//! not outlive its case. The runner is spawned as the leader of a new process group
//! (`CommandExt::process_group(0)`, std) and, when the case ends for any reason, the whole
//! group gets SIGKILL via `killpg` (the `nix` crate, so no unsafe code here). A process
//! that leaves the group on purpose (`setsid`) is out of reach; x07 does not do that.
//!
//! One `poll` loop per case watches the runner's stdout, stderr and a pidfd of it (which
//! becomes readable when it exits) against the timeout; no helper threads. The group is
//! killed **before** the leader is reaped: the pidfd reports the exit while the leader is
//! still a zombie, so its pid — the group id — cannot be reused by an unrelated process
//! while `killpg` runs.
//!
//! **Bounded capture**: at most [`CaptureLimits`] bytes of each stream are kept (the
//! head); the rest is read and counted but not kept ([`RunOutput::stdout_dropped`]), so a
//! runner that prints without end cannot exhaust memory.
//!
//! Because each runner has its own process group, a Ctrl-C at the terminal does not reach
//! it. [`kill_running_on_interrupt`] installs a SIGINT/SIGTERM handler (the `ctrlc` crate)
//! that stops every running case (the process groups of runners; embedded solvers get
//! SIGTERM, on which they kill their process trees) and removes the scratch directories
//! before the process exits, so an interrupted run leaves nothing behind either.

use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::RunOutput;

/// Something running for a case now, to stop when the run is stopped.
#[derive(Debug, Clone)]
enum Running {
    /// A runner process, leader of its own process group.
    Group(u32),
    /// An embedded runner's solver (forked by a zygote), by pid and pidfd.
    Solver(u32, Option<Arc<OwnedFd>>),
}

/// What is running now.
static RUNNING: Mutex<Vec<Running>> = Mutex::new(Vec::new());

fn running() -> std::sync::MutexGuard<'static, Vec<Running>> {
    RUNNING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Temporary directories of the cases (or runs) that are running now.
static RUNNING_SCRATCH: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn running_scratch() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    RUNNING_SCRATCH
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Waits while an interrupt is being handled (the handler holds the registry until the
/// process exits), so a case killed by the interrupt cannot finish and let the run end
/// with its own exit code first. A case takes it when it removes its directory.
pub(crate) fn wait_for_interrupt_handler() {
    drop(running_scratch());
}

/// Lists a temporary directory in the registry while it lives, so an interrupt can
/// remove it (a `TempDir`'s own cleanup never runs on `exit`).
#[derive(Debug)]
pub(crate) struct ScratchRegistration(PathBuf);

impl ScratchRegistration {
    pub(crate) fn new(path: &Path) -> Self {
        running_scratch().push(path.to_path_buf());
        ScratchRegistration(path.to_path_buf())
    }
}

impl Drop for ScratchRegistration {
    fn drop(&mut self) {
        running_scratch().retain(|path| path != &self.0);
    }
}

/// Lists an embedded runner's solver as running while it lives.
#[derive(Debug)]
pub(crate) struct SolverRegistration(u32);

impl SolverRegistration {
    pub(crate) fn new(pid: u32, pidfd: Option<Arc<OwnedFd>>) -> Self {
        running().push(Running::Solver(pid, pidfd));
        SolverRegistration(pid)
    }
}

impl Drop for SolverRegistration {
    fn drop(&mut self) {
        let pid = self.0;
        running().retain(|item| !matches!(item, Running::Solver(p, _) if *p == pid));
    }
}

/// How long an interrupted run waits for stopped solvers to kill their process trees.
const STOP_PATIENCE: Duration = Duration::from_secs(3);

/// Stops everything running now (their cases then end as killed); returns how many
/// cases that was. Runner process groups get SIGKILL; embedded solvers get SIGTERM, on
/// which each kills its process tree and then itself, and this waits (a few seconds
/// at most) until they are gone.
pub fn stop_running_cases() -> usize {
    let items: Vec<Running> = running().clone();
    let mut solvers = Vec::new();
    for item in &items {
        match item {
            Running::Group(pid) => kill_process_group(*pid),
            Running::Solver(pid, pidfd) => {
                x07_lite::zygote::signal_solver(
                    pidfd.as_deref(),
                    *pid,
                    rustix::process::Signal::TERM,
                );
                solvers.push(*pid);
            }
        }
    }
    let started = Instant::now();
    while started.elapsed() < STOP_PATIENCE && solvers.iter().any(|pid| process_alive(*pid)) {
        std::thread::sleep(Duration::from_millis(10));
    }
    items.len()
}

/// Whether `pid` still runs (a zombie has ended).
fn process_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
        })
        .unwrap_or(false)
}

/// Installs a Ctrl-C / SIGTERM handler that stops every running case, removes the
/// temporary fixture copies and exits with 130. Call once, before running cases; a
/// second call (or a handler installed elsewhere) is left alone.
pub fn kill_running_on_interrupt() {
    let _ = ctrlc::set_handler(|| {
        // Held until the process exits: a case whose runner is killed below cannot finish
        // (its scratch registration waits for this lock), so the run cannot end with its
        // own exit code before this handler exits with 130.
        let scratch = running_scratch();
        let killed = stop_running_cases();
        for dir in scratch.iter() {
            let _ = std::fs::remove_dir_all(dir);
        }
        eprintln!("cargo-x07: interrupted; killed the process groups of {killed} running case(s)");
        std::process::exit(130);
    });
}

/// Most bytes of a runner's streams kept in memory; the rest is read and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureLimits {
    /// Stdout bytes kept (the report).
    pub stdout: usize,
    /// Stderr bytes kept.
    pub stderr: usize,
}

/// Runner stderr kept: notes and usage errors are a few lines.
pub const RUNNER_STDERR_LIMIT: usize = 1024 * 1024;

impl CaptureLimits {
    /// Limits for a runner report of a run whose output may be `max_output_bytes` long:
    /// the report holds the output twice in base64 (`solve_output_b64`, and the framed
    /// `stdout_b64`), plus a 16 MiB margin for the program's stderr, the compiler's
    /// fields and the JSON around them.
    pub fn for_report(max_output_bytes: u64) -> CaptureLimits {
        let framed = max_output_bytes.saturating_add(5);
        let base64 = framed.div_ceil(3).saturating_mul(4);
        let stdout = base64.saturating_mul(2).saturating_add(16 * 1024 * 1024);
        CaptureLimits {
            stdout: usize::try_from(stdout).unwrap_or(usize::MAX),
            stderr: RUNNER_STDERR_LIMIT,
        }
    }
}

/// How long the streams are still read after the runner's process group was killed
/// (something outside the group may hold them open).
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(2);

/// One stream: its pipe while open, the bytes kept and the bytes dropped.
struct Stream {
    pipe: Option<std::fs::File>,
    kept: Vec<u8>,
    dropped: u64,
    limit: usize,
}

impl Stream {
    fn new(pipe: Option<OwnedFd>, limit: usize) -> Stream {
        Stream {
            pipe: pipe.map(std::fs::File::from),
            kept: Vec::new(),
            dropped: 0,
            limit,
        }
    }

    fn read_some(&mut self, buffer: &mut [u8]) {
        let Some(pipe) = self.pipe.as_mut() else {
            return;
        };
        match pipe.read(buffer) {
            Ok(0) => self.pipe = None,
            Ok(n) => {
                let room = self.limit.saturating_sub(self.kept.len()).min(n);
                self.kept.extend_from_slice(&buffer[..room]);
                self.dropped += (n - room) as u64;
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => self.pipe = None,
        }
    }
}

/// Spawns `command` with stdin null and stdout/stderr captured (bounded by `limits`);
/// kills its whole process group at the end (and at `timeout`), before the leader is
/// reaped. One poll loop on this thread.
pub fn execute(
    mut command: Command,
    timeout: Duration,
    limits: CaptureLimits,
) -> std::io::Result<RunOutput> {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    use std::os::unix::process::CommandExt;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let started = Instant::now();
    let mut child = command.spawn()?;
    let pid = child.id();
    running().push(Running::Group(pid));
    let mut stdout = Stream::new(child.stdout.take().map(OwnedFd::from), limits.stdout);
    let mut stderr = Stream::new(child.stderr.take().map(OwnedFd::from), limits.stderr);
    // The pidfd is readable once the leader has exited (and is not reaped yet).
    let mut pidfd = rustix::process::Pid::from_raw(pid as i32).and_then(|raw| {
        rustix::process::pidfd_open(raw, rustix::process::PidfdFlags::empty()).ok()
    });
    let deadline = started + timeout;
    let mut timed_out = false;
    let mut exited_at: Option<Instant> = None;
    let mut duration = None;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let streams_open = stdout.pipe.is_some() || stderr.pipe.is_some();
        let now = Instant::now();
        if !streams_open && (exited_at.is_some() || pidfd.is_none()) {
            break;
        }
        if exited_at.is_some_and(|at| now >= at + DRAIN_AFTER_EXIT) {
            break;
        }
        if !timed_out && now >= deadline {
            timed_out = true;
            // Killed while the leader is unreaped: the group id is still ours.
            kill_process_group(pid);
        }
        let wake = match exited_at {
            Some(at) => at + DRAIN_AFTER_EXIT,
            None if timed_out => now + DRAIN_AFTER_EXIT,
            None => deadline,
        };
        let mut fds = Vec::with_capacity(3);
        let mut which = Vec::with_capacity(3);
        if let Some(pipe) = &stdout.pipe {
            fds.push(PollFd::new(pipe, PollFlags::IN));
            which.push(0);
        }
        if let Some(pipe) = &stderr.pipe {
            fds.push(PollFd::new(pipe, PollFlags::IN));
            which.push(1);
        }
        if let (Some(fd), None) = (&pidfd, exited_at) {
            fds.push(PollFd::new(fd, PollFlags::IN));
            which.push(2);
        }
        let wait = wake
            .saturating_duration_since(now)
            .max(Duration::from_millis(1));
        let timespec = Timespec {
            tv_sec: wait.as_secs() as i64,
            tv_nsec: i64::from(wait.subsec_nanos()),
        };
        match poll(&mut fds, Some(&timespec)) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(error) => {
                kill_process_group(pid);
                let _ = child.wait();
                running().retain(|item| !matches!(item, Running::Group(p) if *p == pid));
                return Err(std::io::Error::from_raw_os_error(error.raw_os_error()));
            }
        }
        let ready: Vec<usize> = fds
            .iter()
            .zip(&which)
            .filter(|(fd, _)| !fd.revents().is_empty())
            .map(|(_, which)| *which)
            .collect();
        drop(fds);
        for which in ready {
            match which {
                0 => stdout.read_some(&mut buffer),
                1 => stderr.read_some(&mut buffer),
                _ => {
                    // The leader exited: kill what it left in its group before it is
                    // reaped; then read what is still buffered in the pipes.
                    duration.get_or_insert_with(|| started.elapsed());
                    kill_process_group(pid);
                    exited_at = Some(Instant::now());
                    pidfd = None;
                }
            }
        }
    }
    if exited_at.is_none() {
        // No pidfd on this kernel, or the drain gave up: the group goes now.
        kill_process_group(pid);
    }
    let status = child.wait();
    kill_process_group(pid);
    running().retain(|item| !matches!(item, Running::Group(p) if *p == pid));
    let status = status?;
    let signal = std::os::unix::process::ExitStatusExt::signal(&status);
    Ok(RunOutput {
        exit_code: status.code(),
        signal,
        stdout: stdout.kept,
        stderr: stderr.kept,
        stdout_dropped: stdout.dropped,
        stderr_dropped: stderr.dropped,
        duration: duration.unwrap_or_else(|| started.elapsed()),
        timed_out,
        project_copy: None,
        report: None,
    })
}

fn kill_process_group(pid: u32) {
    use nix::sys::signal::{killpg, Signal};
    use nix::unistd::Pid;
    // ESRCH (the group is already gone) is the normal case after a clean exit.
    let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: CaptureLimits = CaptureLimits {
        stdout: 1 << 20,
        stderr: 1 << 20,
    };

    #[test]
    fn capture_keeps_the_head_and_counts_the_rest() {
        let mut command = Command::new("/bin/sh");
        command.args([
            "-c",
            "head -c 300000 /dev/zero; head -c 70000 /dev/zero >&2",
        ]);
        let limits = CaptureLimits {
            stdout: 100_000,
            stderr: 65_536,
        };
        let output = execute(command, Duration::from_secs(10), limits).unwrap();
        assert_eq!(output.exit_code, Some(0));
        assert_eq!(
            (output.stdout.len(), output.stdout_dropped),
            (100_000, 200_000)
        );
        assert_eq!(
            (output.stderr.len(), output.stderr_dropped),
            (65_536, 4_464)
        );
    }

    #[test]
    fn report_limits_cover_two_base64_copies_of_the_output() {
        let limits = CaptureLimits::for_report(50_000_000);
        assert!(limits.stdout > 2 * 50_000_000 * 4 / 3);
        assert!(limits.stdout < 2 * 50_000_000 * 4 / 3 + 32 * 1024 * 1024);
    }

    #[test]
    fn stdin_is_empty() {
        let mut command = Command::new("/bin/sh");
        command.args(["-c", "wc -c"]);
        let output = execute(command, Duration::from_secs(10), LIMITS).unwrap();
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "0");
    }

    #[test]
    fn exit_code_and_signal_are_reported() {
        let mut command = Command::new("/bin/sh");
        command.args(["-c", "echo out; echo err >&2; exit 3"]);
        let output = execute(command, Duration::from_secs(10), LIMITS).unwrap();
        assert_eq!(output.exit_code, Some(3));
        assert_eq!(output.stdout, b"out\n");
        assert_eq!(output.stderr, b"err\n");
        let mut command = Command::new("/bin/sh");
        command.args(["-c", "kill -9 $$"]);
        let output = execute(command, Duration::from_secs(10), LIMITS).unwrap();
        assert_eq!((output.exit_code, output.signal), (None, Some(9)));
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let mut command = Command::new("/bin/sh");
        command.args([
            "-c",
            &format!("sleep 30 & echo $! > {}; wait", pid_file.display()),
        ]);
        let started = Instant::now();
        let output = execute(command, Duration::from_millis(300), LIMITS).unwrap();
        assert!(output.timed_out);
        assert!(started.elapsed() < Duration::from_secs(10));
        let grandchild: i32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(
            gone_soon(grandchild),
            "grandchild {grandchild} survived the timeout"
        );
    }

    /// Whether `pid` is gone (or a zombie) within a few seconds: SIGKILL is delivered
    /// asynchronously.
    fn gone_soon(pid: i32) -> bool {
        let gone = || {
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            state.is_empty() || state.contains(") Z")
        };
        let started = Instant::now();
        while !gone() && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        gone()
    }

    #[test]
    fn a_leader_that_exits_leaves_no_group_member_behind() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let mut command = Command::new("/bin/sh");
        // The leader exits at once; its background child keeps the output pipes open.
        command.args([
            "-c",
            &format!("sleep 30 & echo $! > {}; exit 0", pid_file.display()),
        ]);
        let output = execute(command, Duration::from_secs(20), LIMITS).unwrap();
        assert!(!output.timed_out);
        assert_eq!(output.exit_code, Some(0));
        let child: i32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(gone_soon(child), "the leader's child {child} survived");
    }
}
