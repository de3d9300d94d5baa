//! The solver zygote: a small single-threaded process, executed once per worker of a
//! multithreaded starter (cargo-x07's engine), that forks a fresh solver process for
//! each run. A run then costs one `fork` of a small process instead of an `exec` and
//! dynamic linking of a large executable (measured on the 2-core development machine:
//! 0.2 ms of CPU against 1.4 ms for `x07-lite`, 1.8 ms for `cargo-x07`), and the fork
//! never happens in the multithreaded starter.
//!
//! * The starter runs `<exe> [self_prefix...] __zygote` ([`Zygote::start`]) with an
//!   environment of only `MALLOC_ARENA_MAX=1` (so nothing of the starter's environment
//!   is in any solver's initial environment block, `/proc/<pid>/environ`; one malloc
//!   arena keeps a solver's address space small), its stdin one end of a UNIX
//!   stream socket pair, in a process group of its own. The zygote dies with the thread
//!   that started it (`PR_SET_PDEATHSIG`), and ends when the socket closes.
//! * Per run the starter creates the solver's stdout and stderr pipes and sends them
//!   (`SCM_RIGHTS`) with the request: the solver spec, its working directory, its whole
//!   environment and the input bytes ([`Zygote::spawn`]).
//! * The zygote checks it is single-threaded, forks, and answers with the solver's pid
//!   and a pidfd of it. The child makes itself the leader of a new process group, takes
//!   `/dev/null` and the two pipes as stdin, stdout and stderr, changes to the working
//!   directory, replaces its environment, and runs [`solver::run_solver`]: the solver
//!   isolates itself exactly as an exec'd one does (parent-death signal, rlimits,
//!   subreaper, Landlock, `no_new_privs`, capabilities, keeper and signal threads; see
//!   the solver contract in [`crate::solver`]).
//! * The starter reads the pipes in one poll loop against the run's wall-clock limit
//!   ([`Solving::finish`]); at a deadline it kills the solver through the pidfd (which
//!   can never hit a reused pid).
//! * The zygote, a child subreaper, waits for the solver without reaping it, kills its
//!   process group while the group id is still reserved, kills whatever of the solver's
//!   tree was re-parented to it (a solver killed by a signal could not do it), reaps,
//!   and sends the exit status.

use std::ffi::{OsStr, OsString};
use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};
use serde::{Deserialize, Serialize};

use crate::solver::{self, RawRun, SolverLaunch, SolverSpec, Watch};

/// The hidden subcommand that runs the zygote.
pub const ZYGOTE_SUBCOMMAND: &str = "__zygote";

/// How long the starter waits for the zygote's answer after a solver's streams closed
/// (the zygote may spend up to 2 s killing a tree a killed solver left behind).
const EXIT_REPORT_PATIENCE: Duration = Duration::from_secs(30);

/// Bytes of a request header: JSON length (u32), environment length (u32), input
/// length (u64), little-endian.
const REQUEST_HEADER: usize = 16;
/// Bytes of an answer: a tag and two i32 values.
const ANSWER: usize = 9;
/// Answer tag: the solver started (pid; the pidfd rides along).
const STARTED: u8 = b'S';
/// Answer tag: the solver ended (exit code or 128 + signal; the signal or 0).
const EXITED: u8 = b'E';
/// Answer tag: the solver could not be started (an errno).
const FAILED: u8 = b'F';

/// The JSON part of a request.
#[derive(Debug, Serialize, Deserialize)]
struct ForkRequest {
    spec: SolverSpec,
    cwd: PathBuf,
}

/// A request as the zygote received it.
struct Received {
    request: ForkRequest,
    environment: Vec<(OsString, OsString)>,
    input: Vec<u8>,
    stdout: OwnedFd,
    stderr: OwnedFd,
}

/// `key NUL value NUL` per variable (neither can contain NUL).
fn encode_environment(environment: &[(OsString, OsString)]) -> Vec<u8> {
    let mut block = Vec::new();
    for (key, value) in environment {
        block.extend_from_slice(key.as_bytes());
        block.push(0);
        block.extend_from_slice(value.as_bytes());
        block.push(0);
    }
    block
}

fn decode_environment(block: &[u8]) -> Vec<(OsString, OsString)> {
    let mut parts = block.split(|&b| b == 0);
    let mut environment = Vec::new();
    while let (Some(key), Some(value)) = (parts.next(), parts.next()) {
        if key.is_empty() {
            break;
        }
        environment.push((
            OsStr::from_bytes(key).to_os_string(),
            OsString::from_vec(value.to_vec()),
        ));
    }
    environment
}

fn io_error(error: rustix::io::Errno) -> std::io::Error {
    std::io::Error::from_raw_os_error(error.raw_os_error())
}

/// Reads exactly `buffer.len()` bytes.
fn read_exact(fd: BorrowedFd<'_>, mut buffer: &mut [u8]) -> std::io::Result<()> {
    while !buffer.is_empty() {
        match rustix::io::read(fd, &mut *buffer) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => buffer = &mut buffer[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(error) => return Err(io_error(error)),
        }
    }
    Ok(())
}

/// Writes all of `bytes`.
fn write_all(fd: BorrowedFd<'_>, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        match rustix::io::write(fd, bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(error) => return Err(io_error(error)),
        }
    }
    Ok(())
}

/// Receives exactly `buffer.len()` bytes and the file descriptors sent with them.
fn receive_with_fds(socket: BorrowedFd<'_>, buffer: &mut [u8]) -> std::io::Result<Vec<OwnedFd>> {
    let mut fds = Vec::new();
    let mut filled = 0;
    while filled < buffer.len() {
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(2))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let mut iov = [IoSliceMut::new(&mut buffer[filled..])];
        let received =
            match rustix::net::recvmsg(socket, &mut iov, &mut control, RecvFlags::CMSG_CLOEXEC) {
                Ok(received) => received,
                Err(rustix::io::Errno::INTR) => continue,
                Err(error) => return Err(io_error(error)),
            };
        for message in control.drain() {
            if let RecvAncillaryMessage::ScmRights(rights) = message {
                fds.extend(rights);
            }
        }
        if received.bytes == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        filled += received.bytes;
    }
    Ok(fds)
}

/// Sends `bytes` with `fds` attached (they go with the first byte).
fn send_with_fds(
    socket: BorrowedFd<'_>,
    bytes: &[u8],
    fds: &[BorrowedFd<'_>],
) -> std::io::Result<()> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(2))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !fds.is_empty() && !control.push(SendAncillaryMessage::ScmRights(fds)) {
        return Err(std::io::Error::other(
            "too many descriptors for one message",
        ));
    }
    let sent = loop {
        match rustix::net::sendmsg(
            socket,
            &[IoSlice::new(bytes)],
            &mut control,
            SendFlags::empty(),
        ) {
            Ok(sent) => break sent,
            Err(rustix::io::Errno::INTR) => continue,
            Err(error) => return Err(io_error(error)),
        }
    };
    write_all(socket, &bytes[sent..])
}

fn answer(tag: u8, first: i32, second: i32) -> [u8; ANSWER] {
    let mut bytes = [0u8; ANSWER];
    bytes[0] = tag;
    bytes[1..5].copy_from_slice(&first.to_le_bytes());
    bytes[5..9].copy_from_slice(&second.to_le_bytes());
    bytes
}

// ------------------------------------------------------------------------------------
// The zygote process

/// The zygote's main loop (`<exe> __zygote`, stdin the request socket); returns the
/// process exit code when the socket closes.
pub fn serve() -> i32 {
    // The zygote dies with the thread that started it; the solvers it forked then get
    // their own parent-death signal and kill their trees.
    let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
    if std::os::unix::process::parent_id() == 1 {
        return 1;
    }
    // What a killed solver leaves behind is re-parented here, to be killed.
    let _ = nix::sys::prctl::set_child_subreaper(true);
    // Descriptors the starter's own caller left open without close-on-exec (a jobserver
    // pipe, a file a wrapper script opened) came along through `exec`: none of them may
    // reach a solver, nor what a solver starts.
    close_inherited_descriptors();
    // The request socket is stdin; a forked solver replaces it with `/dev/null`.
    let socket = rustix::stdio::stdin();
    loop {
        match receive(socket) {
            Ok(Some(received)) => {
                if serve_one(socket, received).is_err() {
                    return 1;
                }
            }
            Ok(None) => return 0,
            Err(_) => return 1,
        }
    }
}

/// Closes every descriptor above stderr that this process holds. Only for a process
/// that owns none of them itself: the zygote right after `exec`, and a freshly forked
/// solver once it has taken its three standard streams.
fn close_inherited_descriptors() {
    // The list is read first: the directory's own descriptor is closed when it is
    // dropped, before anything is closed here.
    let open: Vec<i32> = match std::fs::read_dir("/proc/self/fd") {
        Ok(entries) => entries
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
            .filter(|&fd| fd > 2)
            .collect(),
        Err(_) => return,
    };
    for fd in open {
        let _ = nix::unistd::close(fd);
    }
}

/// Reads one request; `None` at the end of the stream.
fn receive(socket: BorrowedFd<'_>) -> std::io::Result<Option<Received>> {
    let mut header = [0u8; REQUEST_HEADER];
    let mut fds = match receive_with_fds(socket, &mut header) {
        Ok(fds) => fds,
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(error) => return Err(error),
    };
    let json_len = u32::from_le_bytes(header[0..4].try_into().unwrap_or_default()) as usize;
    let env_len = u32::from_le_bytes(header[4..8].try_into().unwrap_or_default()) as usize;
    let input_len = u64::from_le_bytes(header[8..16].try_into().unwrap_or_default()) as usize;
    let mut json = vec![0u8; json_len];
    read_exact(socket, &mut json)?;
    let mut environment = vec![0u8; env_len];
    read_exact(socket, &mut environment)?;
    let mut input = vec![0u8; input_len];
    read_exact(socket, &mut input)?;
    if fds.len() != 2 {
        return Err(std::io::Error::other("a request needs two descriptors"));
    }
    let stderr = fds
        .pop()
        .ok_or_else(|| std::io::Error::other("no stderr"))?;
    let stdout = fds
        .pop()
        .ok_or_else(|| std::io::Error::other("no stdout"))?;
    let request: ForkRequest = serde_json::from_slice(&json).map_err(std::io::Error::other)?;
    Ok(Some(Received {
        request,
        environment: decode_environment(&environment),
        input,
        stdout,
        stderr,
    }))
}

/// Threads of this process (`/proc/self/stat` field 20).
fn thread_count() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(17)?.parse().ok()
}

/// Forks one solver, answers with its pid and pidfd, waits for it, cleans up after it
/// and answers with its exit status.
fn serve_one(socket: BorrowedFd<'_>, received: Received) -> std::io::Result<()> {
    use nix::sys::wait::{waitid, waitpid, Id, WaitPidFlag, WaitStatus};
    use nix::unistd::Pid;

    // `fork` is only sound in a single-threaded process; the zygote never starts a
    // thread, and this makes sure of it.
    if thread_count() != Some(1) {
        return write_all(
            socket,
            &answer(FAILED, rustix::io::Errno::AGAIN.raw_os_error(), 0),
        );
    }
    if !received.request.cwd.is_dir() {
        return write_all(
            socket,
            &answer(FAILED, rustix::io::Errno::NOENT.raw_os_error(), 0),
        );
    }
    let me = std::process::id();
    let pid = match fork::fork() {
        Ok(fork::Fork::Child) => solver_child(received, me),
        Ok(fork::Fork::Parent(pid)) => pid,
        Err(error) => {
            let errno = error
                .raw_os_error()
                .unwrap_or(rustix::io::Errno::AGAIN.raw_os_error());
            return write_all(socket, &answer(FAILED, errno, 0));
        }
    };
    // The solver holds the pipes now; only it (and what it starts) may write to them.
    drop(received);
    let pidfd = rustix::process::Pid::from_raw(pid).and_then(|raw| {
        rustix::process::pidfd_open(raw, rustix::process::PidfdFlags::empty()).ok()
    });
    let started = answer(STARTED, pid, 0);
    match &pidfd {
        Some(fd) => send_with_fds(socket, &started, &[fd.as_fd()])?,
        None => write_all(socket, &started)?,
    }
    drop(pidfd);

    let child = Pid::from_raw(pid);
    // Exited, not reaped: the pid (and process group id) stay reserved while the group
    // is killed.
    while let Err(nix::errno::Errno::EINTR) =
        waitid(Id::Pid(child), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT)
    {}
    let _ = nix::sys::signal::killpg(child, nix::sys::signal::Signal::SIGKILL);
    let (code, signal) = loop {
        match waitpid(child, None) {
            Ok(WaitStatus::Exited(_, code)) => break (code, 0),
            Ok(WaitStatus::Signaled(_, signal, _)) => break (128 + signal as i32, signal as i32),
            Err(nix::errno::Errno::EINTR) => continue,
            _ => break (1, 0),
        }
    };
    // Anything re-parented here (the tree of a solver that was killed, or a process
    // that outlived a solver's own clean-up) is killed and reaped before the next run.
    let leftovers = !matches!(
        waitid(
            Id::All,
            WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT
        ),
        Err(nix::errno::Errno::ECHILD)
    );
    if leftovers {
        crate::sandbox::tree::kill_descendants(me as i32, Duration::from_secs(2));
        while let Ok(status) = waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            if status == WaitStatus::StillAlive {
                break;
            }
        }
    }
    write_all(socket, &answer(EXITED, code, signal))
}

/// The forked child: becomes the solver and never returns.
fn solver_child(received: Received, zygote: u32) -> ! {
    let Received {
        request,
        environment,
        input,
        stdout,
        stderr,
    } = received;
    let code = (|| -> Result<i32, std::io::Error> {
        rustix::process::setpgid(None, None).map_err(io_error)?;
        // `/dev/null` replaces stdin, which was the zygote's request socket.
        let null = std::fs::File::open("/dev/null")?;
        rustix::stdio::dup2_stdin(&null).map_err(io_error)?;
        rustix::stdio::dup2_stdout(&stdout).map_err(io_error)?;
        rustix::stdio::dup2_stderr(&stderr).map_err(io_error)?;
        drop((null, stdout, stderr));
        // Nothing but the three standard streams goes on into the solver.
        close_inherited_descriptors();
        std::env::set_current_dir(&request.cwd)?;
        // Single-threaded: nothing reads the environment while it is replaced.
        for (key, _) in std::env::vars_os() {
            std::env::remove_var(key);
        }
        for (key, value) in &environment {
            std::env::set_var(key, value);
        }
        let mut spec = request.spec;
        spec.parent_pid = Some(zygote);
        Ok(solver::run_solver(&spec, input))
    })();
    std::process::exit(code.unwrap_or(2))
}

// ------------------------------------------------------------------------------------
// The starter's side

/// A running zygote, owned by the thread that started it (it dies with that thread).
#[derive(Debug)]
pub struct Zygote {
    child: Child,
    socket: UnixStream,
}

impl Zygote {
    /// Starts a zygote: `exe [self_prefix...] __zygote`, with an environment of only
    /// `MALLOC_ARENA_MAX=1` (nothing of the starter's), in a process group of its own.
    pub fn start(exe: &Path, self_prefix: &[OsString]) -> std::io::Result<Zygote> {
        let (ours, theirs) = UnixStream::pair()?;
        let child = Command::new(exe)
            .args(self_prefix)
            .arg(ZYGOTE_SUBCOMMAND)
            .env_clear()
            // One malloc arena for every thread of a solver: glibc otherwise reserves
            // 64 MiB of address space per thread that allocates, which a small
            // `limits.mem_bytes` (an address-space limit) cannot afford, and which made
            // the same program pass or abort depending on which thread allocated first.
            .env("MALLOC_ARENA_MAX", "1")
            .current_dir("/")
            .stdin(Stdio::from(OwnedFd::from(theirs)))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        Ok(Zygote {
            child,
            socket: ours,
        })
    }

    /// Whether the zygote process is still there (it dies with the thread that
    /// started it, or after a protocol error).
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The zygote's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Has the zygote fork a solver for `launch`, with `input`.
    pub fn spawn(&mut self, launch: &SolverLaunch, input: &[u8]) -> Result<Solving<'_>, String> {
        let started = Instant::now();
        let pipe = || {
            rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
                .map_err(|e| format!("spawn solver: pipe: {e}"))
        };
        let (stdout_read, stdout_write) = pipe()?;
        let (stderr_read, stderr_write) = pipe()?;
        let json = serde_json::to_vec(&ForkRequest {
            spec: launch.spec.clone(),
            cwd: launch.cwd.clone(),
        })
        .map_err(|e| format!("spawn solver: {e}"))?;
        let environment = encode_environment(&launch.environment);
        let mut header = [0u8; REQUEST_HEADER];
        header[0..4].copy_from_slice(&(json.len() as u32).to_le_bytes());
        header[4..8].copy_from_slice(&(environment.len() as u32).to_le_bytes());
        header[8..16].copy_from_slice(&(input.len() as u64).to_le_bytes());
        let lost = |e: std::io::Error| format!("spawn solver: the zygote is gone ({e})");
        send_with_fds(
            self.socket.as_fd(),
            &header,
            &[stdout_write.as_fd(), stderr_write.as_fd()],
        )
        .map_err(lost)?;
        let socket = self.socket.as_fd();
        write_all(socket, &json)
            .and_then(|()| write_all(socket, &environment))
            .and_then(|()| write_all(socket, input))
            .map_err(lost)?;
        // Only the solver may hold the write ends, or the streams never close.
        drop(stdout_write);
        drop(stderr_write);
        let mut reply = [0u8; ANSWER];
        let mut fds = receive_with_fds(self.socket.as_fd(), &mut reply).map_err(lost)?;
        let value = i32::from_le_bytes(reply[1..5].try_into().unwrap_or_default());
        match reply[0] {
            STARTED => Ok(Solving {
                zygote: self,
                pid: value as u32,
                pidfd: fds.pop().map(Arc::new),
                stdout: stdout_read,
                stderr: stderr_read,
                started,
                wall_limit: launch.wall_limit,
                starved_grace: launch.starved_grace,
                stdout_cap: (launch.max_output_bytes as usize).saturating_add(5),
            }),
            FAILED => Err(format!(
                "spawn solver: {}",
                std::io::Error::from_raw_os_error(value)
            )),
            _ => Err("spawn solver: the zygote answered nonsense".into()),
        }
    }
}

impl Drop for Zygote {
    fn drop(&mut self) {
        // End of stream: the zygote leaves its loop and exits.
        let _ = self.socket.shutdown(std::net::Shutdown::Both);
        let _ = self.child.wait();
    }
}

/// A solver forked by a [`Zygote`], still running.
#[derive(Debug)]
pub struct Solving<'z> {
    zygote: &'z mut Zygote,
    /// The solver's pid (also its process group id).
    pub pid: u32,
    /// A pidfd of the solver: signals through it never hit a reused pid.
    pub pidfd: Option<Arc<OwnedFd>>,
    stdout: OwnedFd,
    stderr: OwnedFd,
    started: Instant,
    wall_limit: Duration,
    starved_grace: Duration,
    stdout_cap: usize,
}

/// What a solver forked by a zygote did.
#[derive(Debug)]
pub struct Solved {
    /// The solver's streams and exit (the run's wall-clock limit is in
    /// [`RawRun::timed_out`]).
    pub raw: RawRun,
    /// The starter's own deadline passed first: the solver was killed and there is no
    /// report.
    pub hard_timed_out: bool,
    /// Wall time from the request to the solver's end.
    pub duration: Duration,
}

/// Sends `signal` to a solver through its pidfd (or, on a kernel without pidfds, its
/// pid, which the zygote has not reaped yet).
pub fn signal_solver(pidfd: Option<&OwnedFd>, pid: u32, signal: rustix::process::Signal) {
    match pidfd {
        Some(fd) => {
            let _ = rustix::process::pidfd_send_signal(fd, signal);
        }
        None => {
            if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                let _ = rustix::process::kill_process(pid, signal);
            }
        }
    }
}

impl Solving<'_> {
    /// Reads the solver's streams until they close (or a deadline passes: then the
    /// solver is killed) and waits for the zygote's report of its exit. `hard_deadline`
    /// is the starter's own limit (a harness's case timeout).
    pub fn finish(self, hard_deadline: Option<Instant>) -> Result<Solved, String> {
        let Solving {
            zygote,
            pid,
            pidfd,
            stdout,
            stderr,
            started,
            wall_limit,
            starved_grace,
            stdout_cap,
        } = self;
        let captured = solver::capture(
            stdout,
            stderr,
            &Watch {
                pid,
                deadline: started + wall_limit,
                starved_grace,
                stdout_cap,
                hard_deadline,
            },
        );
        let captured = match captured {
            Ok(captured) => captured,
            Err(error) => {
                signal_solver(pidfd.as_deref(), pid, rustix::process::Signal::KILL);
                let _ = read_exit(zygote);
                return Err(error);
            }
        };
        if captured.timed_out || captured.hard_timed_out {
            signal_solver(pidfd.as_deref(), pid, rustix::process::Signal::KILL);
        }
        let (exit_status, signal) = read_exit(zygote)?;
        let hard_timed_out = captured.hard_timed_out;
        let signal = (signal != 0).then_some(signal);
        Ok(Solved {
            raw: captured.into_raw(exit_status, signal),
            hard_timed_out,
            duration: started.elapsed(),
        })
    }
}

/// Waits for the zygote's report of the solver's exit.
fn read_exit(zygote: &mut Zygote) -> Result<(i32, i32), String> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut fds = [PollFd::new(zygote.socket.as_fd(), PollFlags::POLLIN)];
    let timeout =
        PollTimeout::try_from(EXIT_REPORT_PATIENCE.as_millis() as i32).unwrap_or(PollTimeout::MAX);
    loop {
        match poll(&mut fds, timeout) {
            Ok(0) => {
                let _ = zygote.child.kill();
                return Err("the solver zygote stopped answering".into());
            }
            Ok(_) => break,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(error) => return Err(format!("wait for the solver: {error}")),
        }
    }
    let mut reply = [0u8; ANSWER];
    read_exact(zygote.socket.as_fd(), &mut reply)
        .map_err(|e| format!("the solver zygote ended unexpectedly ({e})"))?;
    if reply[0] != EXITED {
        return Err("the solver zygote answered nonsense".into());
    }
    let code = i32::from_le_bytes(reply[1..5].try_into().unwrap_or_default());
    let signal = i32::from_le_bytes(reply[5..9].try_into().unwrap_or_default());
    Ok((code, signal))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_blocks_round_trip() {
        let environment = vec![
            (OsString::from("A"), OsString::from("1")),
            (OsString::from("EMPTY"), OsString::new()),
            (OsString::from("X07_WORLD"), OsString::from("run-os")),
            (
                OsString::from("BYTES"),
                OsString::from_vec(vec![0xff, b'=', 0xfe]),
            ),
        ];
        assert_eq!(
            decode_environment(&encode_environment(&environment)),
            environment
        );
        assert!(decode_environment(&[]).is_empty());
    }

    #[test]
    fn this_test_process_counts_its_threads() {
        assert!(thread_count().is_some_and(|n| n >= 1));
    }
}
