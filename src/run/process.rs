//! Process control for a runner process.
//!
//! The runner starts the compiled program as a child of its own, and a hung program must
//! not outlive its case. The runner is spawned as the leader of a new process group
//! (`CommandExt::process_group(0)`, std) and, when the case ends for any reason, the whole
//! group gets SIGKILL via `killpg` (the `nix` crate, so no unsafe code here). A process
//! that leaves the group on purpose (`setsid`) is out of reach; x07 does not do that.
//!
//! The group is killed **before** the leader is reaped: on Linux the wait uses
//! `waitid(…, WEXITED | WNOWAIT)`, which reports the exit but leaves the leader a zombie,
//! so its pid — the group id — cannot be reused by an unrelated process while `killpg`
//! runs. Elsewhere (no `WNOWAIT` in `nix` there) the leader is reaped first and the group
//! killed right after, which leaves a small window in which the id could be reused.
//!
//! Because each runner has its own process group, a Ctrl-C at the terminal does not reach
//! it. [`kill_running_on_interrupt`] installs a SIGINT/SIGTERM handler (the `ctrlc` crate)
//! that kills every running case's group and removes its temporary fixture copy before the
//! process exits, so an interrupted run leaves nothing behind either.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use super::RunOutput;

/// Process ids (= process group ids) of the runners that are running now.
static RUNNING_GROUPS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn running_groups() -> std::sync::MutexGuard<'static, Vec<u32>> {
    RUNNING_GROUPS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Temporary fixture copies of the cases that are running now.
static RUNNING_SCRATCH: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn running_scratch() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    RUNNING_SCRATCH
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Lists a case's temporary copy in [`RUNNING_SCRATCH`] while it lives, so an
/// interrupt can remove it (a `TempDir`'s own cleanup never runs on `exit`).
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

/// Kills the process groups of every runner running now (their cases then end as
/// killed); returns how many there were. Used when a run is stopped early.
pub fn stop_running_cases() -> usize {
    let groups: Vec<u32> = running_groups().clone();
    for pid in &groups {
        kill_process_group(*pid);
    }
    groups.len()
}

/// Installs a Ctrl-C / SIGTERM handler that kills every running case's
/// process group, removes their temporary fixture copies and exits with 130.
/// Call once, before running cases; a second call (or a handler installed
/// elsewhere) is left alone.
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

/// Spawns `command` with stdin null and stdout/stderr captured; kills its whole
/// process group at the end (and at `timeout`), before the leader is reaped.
pub fn execute(mut command: Command, timeout: Duration) -> std::io::Result<RunOutput> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let started = Instant::now();
    let mut child = command.spawn()?;
    let pid = child.id();
    running_groups().push(pid);
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let result = std::thread::scope(|scope| {
        let stdout_reader = scope.spawn(move || {
            let mut bytes = Vec::new();
            let _ = stdout.read_to_end(&mut bytes);
            bytes
        });
        let stderr_reader = scope.spawn(move || {
            let mut bytes = Vec::new();
            let _ = stderr.read_to_end(&mut bytes);
            bytes
        });
        let (done_sender, done) = mpsc::channel();
        let (killed_sender, killed) = mpsc::channel::<()>();
        let waiter = scope.spawn(move || {
            let exited = wait_unreaped(&mut child);
            let elapsed = started.elapsed();
            let _ = done_sender.send(());
            // Reap only once the group has been killed.
            let _ = killed.recv();
            let status = match exited {
                Ok(Some(status)) => Ok(status),
                Ok(None) => child.wait(),
                Err(error) => Err(error),
            };
            (status, elapsed)
        });
        let timed_out = matches!(
            done.recv_timeout(timeout),
            Err(mpsc::RecvTimeoutError::Timeout)
        );
        // Always, and (on Linux) while the leader is not reaped yet: a timed-out runner,
        // and anything the runner left behind in its group.
        kill_process_group(pid);
        let _ = killed_sender.send(());
        let (status, duration) = waiter.join().expect("wait thread does not panic");
        let status = status?;
        let stdout = stdout_reader.join().unwrap_or_default();
        let stderr = stderr_reader.join().unwrap_or_default();
        #[cfg(unix)]
        let signal = std::os::unix::process::ExitStatusExt::signal(&status);
        #[cfg(not(unix))]
        let signal = None;
        Ok(RunOutput {
            exit_code: status.code(),
            signal,
            stdout,
            stderr,
            duration,
            timed_out,
            project_copy: None,
        })
    });
    running_groups().retain(|running| *running != pid);
    result
}

/// Waits until `child` has exited without reaping it (`Ok(None)`): `waitid` with
/// `WNOWAIT` leaves it a zombie, so its pid and process group id stay reserved.
#[cfg(target_os = "linux")]
fn wait_unreaped(child: &mut Child) -> std::io::Result<Option<ExitStatus>> {
    use nix::sys::wait::{waitid, Id, WaitPidFlag};
    use nix::unistd::Pid;
    let pid = Pid::from_raw(child.id() as i32);
    loop {
        match waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT) {
            Ok(_) => return Ok(None),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(errno) => return Err(std::io::Error::from(errno)),
        }
    }
}

/// Waits until `child` has exited; without `WNOWAIT` this reaps it.
#[cfg(not(target_os = "linux"))]
fn wait_unreaped(child: &mut Child) -> std::io::Result<Option<ExitStatus>> {
    child.wait().map(Some)
}

#[cfg(unix)]
fn kill_process_group(pid: u32) {
    use nix::sys::signal::{killpg, Signal};
    use nix::unistd::Pid;
    // ESRCH (the group is already gone) is the normal case after a clean exit.
    let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
}

#[cfg(not(unix))]
fn kill_process_group(pid: u32) {
    // No process groups: kill the process tree with the system tool.
    let _ = Command::new("taskkill")
        .args(["/F", "/T", "/PID", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn stdin_is_empty() {
        let mut command = Command::new("/bin/sh");
        command.args(["-c", "wc -c"]);
        let output = execute(command, Duration::from_secs(10)).unwrap();
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "0");
    }

    #[test]
    fn exit_code_and_signal_are_reported() {
        let mut command = Command::new("/bin/sh");
        command.args(["-c", "echo out; echo err >&2; exit 3"]);
        let output = execute(command, Duration::from_secs(10)).unwrap();
        assert_eq!(output.exit_code, Some(3));
        assert_eq!(output.stdout, b"out\n");
        assert_eq!(output.stderr, b"err\n");
        let mut command = Command::new("/bin/sh");
        command.args(["-c", "kill -9 $$"]);
        let output = execute(command, Duration::from_secs(10)).unwrap();
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
        let output = execute(command, Duration::from_millis(300)).unwrap();
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
        let output = execute(command, Duration::from_secs(20)).unwrap();
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
