//! The solver process: `solve` runs in a process of its own that mirrors the ABI of the
//! real compiled executable, and its starter applies the real runner's framing rules.
//! Every solver is forked by a solver zygote ([`crate::zygote`]): the `x07-lite run`
//! command line starts one zygote for its one run, cargo-x07 one per worker thread.
//!
//! ABI (`observed-behaviour.md` §1.2 end, §5.3), as the real executable's: on success
//! `u32le len + output` on stdout, one JSON stats line on stderr, exit 0; on a trap the
//! trap text on stderr (one line, escaped) and exit status 132; `os.process.exit(c)`
//! exits with `c` and writes no frame. The input comes with the zygote's request (the
//! real executable reads it from a file), and stdin is `/dev/null`.
//!
//! # The solver's contract
//!
//! The solver isolates itself; its starter ([`crate::zygote`] and its caller) does this:
//! 1. Fork it from a single-threaded process that lives until it is reaped (the
//!    solver's parent-death signal fires when its parent goes), as the leader of a new
//!    process group, with the run's directory as cwd, stdin `/dev/null`, stdout and
//!    stderr pipes, and `parent_pid` = the parent's pid in the spec. The zygote was
//!    started with nothing of the caller's environment (only `MALLOC_ARENA_MAX=1`), so
//!    nothing of it is in the solver's initial environment block (`/proc/<pid>/environ`).
//! 2. Environment: `X07_WORLD`, and for a sandbox `X07_OS_SANDBOXED=1` and the
//!    `X07_OS_*` variables. In a sandbox the solver keeps only `X07_*` and the policy's
//!    allowed `env` keys ([`sandbox_environment`]; it unsets anything else itself).
//! 3. Read stdout (bounded by the output cap) and stderr until both close
//!    ([`capture`]). Lines of stderr that start with [`NOTE_PREFIX`] are notes for the
//!    starter (e.g. no Landlock), not program output.
//! 4. Enforce the wall-clock limit: at the deadline SIGKILL the solver through a pidfd
//!    (never a reused pid); `wall_backstop_ms` in the spec makes the solver kill its tree
//!    and itself on its own, should the starter not.
//! 5. Wait for the exit without reaping, kill the solver's process group while its id
//!    is still reserved, reap. If it died by a signal, what it started was re-parented
//!    to the parent (a child subreaper): kill it
//!    ([`crate::sandbox::tree::kill_descendants`]).
//!
//! What the solver does itself, in order: dies with its parent (`PR_SET_PDEATHSIG`);
//! in a sandbox loads the policy and drops the environment; sets its rlimits (CPU soft
//! limit, hard limit 2 s later; core dumps; file size); compiles the program (on its
//! main thread, whose stack may grow to 64 MiB for the compile: no compile thread);
//! becomes the child subreaper of everything the program starts; sets its
//! address-space limit; starts its signal thread (SIGTERM, SIGINT, SIGHUP, SIGXCPU:
//! kill the tree, die by SIGKILL) and its watchdog (CPU time of the whole tree,
//! `limits.procs`, the wall backstop), both still able to read `/proc`; in a sandbox
//! confines itself with Landlock and `no_new_privs` and drops capabilities; sets its
//! open-files limit; from then on its parent's death is a SIGTERM; runs `solve`, and
//! kills the whole process tree before it writes its output, whatever way the solve
//! ended.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::eval::{solve, SolveLimits, SolveStats};
use crate::host::Interrupt;
use crate::limits::{ProcessLimits, RUNTIME_OVERHEAD_BYTES};
use crate::os::OsHost;
use crate::policy::{load_policy, Policy};
use crate::report::SolveSection;

/// Exit status of a trapped solver (128 + SIGILL, as the real runtime).
pub const TRAP_EXIT_STATUS: i32 = 132;
/// The scheduler trace hash of a run that never used the scheduler.
pub const EMPTY_SCHED_TRACE_HASH: &str = "0x14650fb0739d0383";
/// Exit status of a solver whose program does not compile; the error is the last
/// stderr line, a JSON object under [`COMPILE_ERROR_KEY`].
pub const COMPILE_ERROR_EXIT_STATUS: i32 = 3;
/// Key of the compile-error line on the solver's stderr.
pub const COMPILE_ERROR_KEY: &str = "x07_lite_compile_error";
/// Most solver stderr bytes kept by its starter (the head; the rest is read and dropped).
pub const MAX_STDERR_BYTES: usize = 1024 * 1024;

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
    /// A wall-clock limit the solver enforces on itself (killing its process tree and
    /// itself), in case its starter does not; milliseconds from the solver's start.
    #[serde(default)]
    pub wall_backstop_ms: Option<u64>,
    /// The sandbox's test switches, from the starter's own environment.
    #[serde(default)]
    pub test_switches: crate::sandbox::TestSwitches,
}

/// The start of a stderr line that is a note from the solver to its starter, not
/// program output. It begins with a NUL byte, which no trap text can contain (trap
/// texts are escaped).
pub const NOTE_PREFIX: &str = "\0x07-lite note ";

/// The stderr line by which a solver tells its starter that the program started
/// processes (killed already; a starter that is a child subreaper checks for leftovers).
pub const CHILDREN_MARK: &str = "\0x07-lite children";

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
    // One line whatever the text holds: the trap is the last line of stderr, and a
    // program must not be able to add lines after it.
    let text = crate::sandbox::text::one_line(text);
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
    let _ = stderr.flush();
    TRAP_EXIT_STATUS
}

fn note(text: &str) {
    mark(&format!(
        "{NOTE_PREFIX}{}",
        crate::sandbox::text::one_line(text)
    ));
}

fn mark(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
    let _ = stderr.flush();
}

/// The environment of a sandboxed solver, taken from `inherited`: every `X07_*`
/// variable, and the keys `env.allow_keys` allows (not in `deny_keys`) when `env` is
/// enabled. Nothing else: the program cannot reach what the solver does not have,
/// not even through `/proc/<pid>/environ` of a child process.
pub fn sandbox_environment(
    policy: &Policy,
    inherited: impl Iterator<Item = (OsString, OsString)>,
) -> Vec<(OsString, OsString)> {
    let env = &policy.env;
    inherited
        .filter(|(key, _)| {
            let Some(key) = key.to_str() else {
                return false;
            };
            key.starts_with("X07_")
                || (env.enabled
                    && env.allow_keys.iter().any(|k| k == key)
                    && !env.deny_keys.iter().any(|k| k == key))
        })
        .collect()
}

/// Unsets every variable the sandbox does not allow. The solver was forked by a zygote
/// that was itself started with nothing of the caller's environment (only
/// `MALLOC_ARENA_MAX=1`), and got its variables set after
/// the fork: nothing of the caller is in its initial environment block
/// (`/proc/<pid>/environ`), so unsetting is all it takes. The starter normally passes
/// exactly the sandbox environment already (see [`sandbox_environment`]).
fn drop_environment(policy: &Policy) {
    let current: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let kept = sandbox_environment(policy, current.iter().cloned());
    for (key, _) in &current {
        if !kept.iter().any(|(k, _)| k == key) {
            // The solver is single-threaded here: nothing reads the environment
            // concurrently.
            std::env::remove_var(key);
        }
    }
}

/// The stack a compile may need: parsing and checking recurse over the expression tree
/// (at most 128 JSON levels), as deep as [`crate::parse::load_program`]'s helper thread
/// allows.
const COMPILE_STACK_BYTES: u64 = 64 * 1024 * 1024;

/// Compiles the program. On the main thread the compile runs right here: the main
/// thread's stack grows on demand up to `RLIMIT_STACK`, which is raised to 64 MiB for the
/// compile and put back afterwards (child processes see the limit they always had), so
/// stack pages are touched only as deep as the program's nesting goes and no thread is
/// started. Elsewhere, or where the limit cannot be raised, the compile runs on a helper
/// thread with that stack.
fn compile(
    entry: &std::path::Path,
    module_roots: &[PathBuf],
) -> Result<crate::parse::Program, crate::parse::CompileError> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let on_main_thread = rustix::thread::gettid() == rustix::process::getpid();
    if on_main_thread {
        if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_STACK) {
            let raised = soft >= COMPILE_STACK_BYTES
                || (hard >= COMPILE_STACK_BYTES
                    && setrlimit(Resource::RLIMIT_STACK, COMPILE_STACK_BYTES, hard).is_ok());
            if raised {
                let outcome = std::panic::catch_unwind(|| {
                    crate::parse::load_program_on_this_thread(entry, module_roots)
                });
                let _ = setrlimit(Resource::RLIMIT_STACK, soft, hard);
                return outcome.unwrap_or_else(|_| {
                    Err(crate::parse::CompileError::new(
                        "x07-lite internal error: the compiler panicked",
                    ))
                });
            }
        }
    }
    crate::parse::load_program(entry, module_roots)
}

/// SIGTERM (starter gone), SIGINT, SIGHUP and SIGXCPU (the CPU soft limit) all end the
/// solver after its process tree is killed. SIGXCPU ends it by SIGKILL (x07 reports a
/// CPU-limit kill as `terminated by signal 9`); the others by the signal itself, as the
/// real compiled program, which does not catch them, would die (a child that sends its
/// parent SIGTERM sees `terminated by signal 15` reported).
fn install_signal_thread() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGXCPU};
    if let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP, SIGXCPU])
    {
        let _ = thread::Builder::new()
            .name("x07-lite-signals".into())
            .stack_size(crate::sandbox::tree::HELPER_STACK_BYTES)
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    if signal != SIGXCPU {
                        crate::sandbox::tree::kill_all();
                        // Default action again, and the signal once more: the process
                        // ends by it (SIGKILL below only if that failed).
                        let _ = signal_hook::low_level::emulate_default_handler(signal);
                    }
                    crate::sandbox::tree::die();
                }
            });
    }
}

/// The solver process (forked by [`crate::zygote`]): isolates itself, compiles and runs
/// the program on `input`, writes the output frame; returns the exit status. The zygote
/// has set up stdin (`/dev/null`), stdout and stderr (pipes), the working directory,
/// the environment and the process group; this is the process's only thread.
pub fn run_solver(spec: &SolverSpec, input: Vec<u8>) -> i32 {
    use crate::sandbox::{landlock, tree};
    let started = std::time::Instant::now();
    // A solver never outlives the process that started it (say, one killed by a
    // harness timeout): the kernel kills it when its parent goes, and a parent already
    // gone before that was set up is noticed here.
    let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
    // The starter's switches, never the run's environment (a fixture sets that).
    spec.test_switches.install();
    let parent_gone = || {
        spec.parent_pid
            .is_some_and(|pid| std::os::unix::process::parent_id() != pid)
    };
    if parent_gone() {
        return 2;
    }

    let sandboxed = std::env::var_os("X07_OS_SANDBOXED").is_some_and(|v| v == "1");
    let policy = if sandboxed {
        let policy = match &spec.policy {
            Some(path) => match load_policy(path) {
                Ok(policy) => policy,
                Err(err) => return trap_exit(&err.to_string()),
            },
            None => Policy::deny_all(),
        };
        drop_environment(&policy);
        Some(policy)
    } else {
        None
    };
    spec.limits.apply_early();

    let input = &input[..];

    // The program is compiled here, not in the parent, so a run loads it only once.
    let program = match compile(&spec.entry, &spec.module_roots) {
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

    let procs = policy.as_ref().map(|policy| policy.limits.procs);
    let mut host = match policy {
        Some(policy) => {
            // The real runtime reserves its whole arena up front inside the address-space limit.
            if spec.policy.is_some()
                && spec.max_memory_bytes.saturating_add(RUNTIME_OVERHEAD_BYTES)
                    > policy.limits.mem_bytes
            {
                return trap_exit("calloc failed");
            }
            OsHost::sandboxed(policy)
        }
        None => OsHost::run_os(),
    }
    .with_heap_limit(spec.max_memory_bytes);
    // Everything the program starts stays below the solver, even when its parent dies.
    let _ = nix::sys::prctl::set_child_subreaper(true);
    spec.limits.apply_address_space();
    // The signal thread and the keeper start before Landlock: they stay able to read
    // `/proc` (to measure and kill the process tree), which the program and its
    // children cannot.
    install_signal_thread();
    tree::start_keeper(tree::TreeLimits {
        cpu_ms: spec.limits.cpu_seconds.map(|s| s.max(1) * 1000),
        procs,
        wall_deadline: spec
            .wall_backstop_ms
            .map(|ms| started + Duration::from_millis(ms)),
    });
    // Defence in depth: confine this thread, and all it starts, to the policy.
    if let Some((policy, roots)) = host.policy_and_roots() {
        let cwd = std::env::current_dir().unwrap_or_default();
        let grants = landlock::Grants {
            read_roots: &roots.read,
            write_roots: &roots.write,
            cwd: &cwd,
        };
        if let landlock::Confinement::Unavailable(reason) = landlock::confine(policy, &grants) {
            note(&landlock::unavailable_message(&reason));
        }
        crate::sandbox::caps::drop_for_children();
        if landlock::spawning_allowed(policy) {
            let network = crate::sandbox::seccomp::Network::of(policy);
            if let Err(reason) = crate::sandbox::seccomp::install(network) {
                note(&format!(
                    "x07-lite: the seccomp filter could not be installed ({reason}); child processes can change file metadata by path and use UDP"
                ));
            }
        }
        // Not dumpable: a child process (without CAP_SYS_PTRACE now) cannot open the
        // solver's `/proc/<pid>/{fd,environ,mem}`, even where Landlock is missing.
        if policy.limits.core_dumps != Some(true) {
            let _ = nix::sys::prctl::set_dumpable(false);
        }
    }
    spec.limits.apply_open_files();
    // From now on the parent's death is a SIGTERM, so the tree goes too.
    let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM);
    if parent_gone() {
        tree::die();
    }

    let limits = SolveLimits {
        fuel: spec.fuel,
        max_memory_bytes: spec.max_memory_bytes,
    };
    // An interpreter bug must still end as a trap the parent can report, not a crash.
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        solve(&program, input, &mut host, &limits)
    }));
    // Whatever way the solve ended, nothing the program started outlives it.
    drop(host);
    if tree::any_child_started() {
        tree::kill_all();
        // The starter double-checks (it may be a child subreaper, as the CLI is).
        mark(CHILDREN_MARK);
    }
    let outcome = match outcome {
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
            // The frame is written in two parts, so the output is never copied (it can
            // be as large as `max_output_bytes`).
            let length = (output.len() as u32).to_le_bytes();
            let mut stdout = std::io::stdout().lock();
            // A parent that stopped reading (output cap) is not the solver's failure.
            let _ = stdout
                .write_all(&length)
                .and_then(|()| stdout.write_all(&output))
                .and_then(|()| stdout.flush());
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
    /// The solver's working directory.
    pub cwd: PathBuf,
    /// The solver's whole environment (a sandbox: exactly what
    /// [`sandbox_environment`] keeps, plus the `X07_*` variables of the run).
    pub environment: Vec<(OsString, OsString)>,
    /// Wall-clock limit.
    pub wall_limit: Duration,
    /// Extra wall time granted, once, when the limit passes while the solver is still
    /// runnable (on a busy machine it has not yet had its CPU time). Used where the wall
    /// limit only backs up a CPU limit, so the CPU limit decides as it does unloaded.
    pub starved_grace: Duration,
    /// `--max-output-bytes`.
    pub max_output_bytes: u64,
    /// The solver spec (`parent_pid` is filled in by the starter).
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
    /// The solver's notes to its starter (e.g. that the kernel has no Landlock).
    pub notes: Vec<String>,
    /// Whether the solver said it had started processes (it killed them; a starter
    /// that is a child subreaper double-checks for leftovers).
    pub children_started: bool,
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

/// What [`capture`] watches.
#[derive(Debug, Clone)]
pub struct Watch {
    /// The solver's pid (its state decides the starved grace).
    pub pid: u32,
    /// The wall-clock deadline of the run.
    pub deadline: Instant,
    /// Extra time granted once at the deadline when the solver is still runnable.
    pub starved_grace: Duration,
    /// Most stdout bytes kept (`4 + max_output_bytes + 1`); reading stops there.
    pub stdout_cap: usize,
    /// A deadline of the starter's own (a harness's case timeout), no grace.
    pub hard_deadline: Option<Instant>,
}

/// What a solver wrote, read until both its streams closed or a deadline passed.
#[derive(Debug, Default)]
pub struct Captured {
    /// Stdout, up to the cap.
    pub stdout: Vec<u8>,
    /// Whether stdout had more.
    pub stdout_over_cap: bool,
    /// Stderr, its first [`MAX_STDERR_BYTES`].
    pub stderr: Vec<u8>,
    /// The run's wall-clock deadline passed: the solver must be killed (report
    /// `timed out`).
    pub timed_out: bool,
    /// The starter's hard deadline passed: the solver must be killed (no report).
    pub hard_timed_out: bool,
}

impl Captured {
    /// The raw run, given how the process ended.
    pub fn into_raw(self, exit_status: i32, signal: Option<i32>) -> RawRun {
        let (stderr, notes, children_started) = split_notes(&self.stderr);
        RawRun {
            exit_status: if self.timed_out { 137 } else { exit_status },
            signal,
            stdout: self.stdout,
            stdout_over_cap: self.stdout_over_cap,
            stderr,
            timed_out: self.timed_out,
            notes,
            children_started,
        }
    }
}

/// Reads a solver's stdout and stderr on this thread (one `poll` loop, no helper
/// threads) until both close, or until a deadline passes (then returns at once; the
/// caller kills the solver). Stdout is read up to its cap and then closed (the solver's
/// further writes fail); stderr keeps its first [`MAX_STDERR_BYTES`].
pub fn capture(
    stdout: std::os::fd::OwnedFd,
    stderr: std::os::fd::OwnedFd,
    watch: &Watch,
) -> Result<Captured, String> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;

    let mut deadline = watch.deadline;
    let mut grace = watch.starved_grace;
    let mut stdout_pipe = Some(std::fs::File::from(stdout));
    let mut stderr_pipe = Some(std::fs::File::from(stderr));
    let mut captured = Captured::default();
    let mut buffer = vec![0u8; 64 * 1024];
    while stdout_pipe.is_some() || stderr_pipe.is_some() {
        let now = Instant::now();
        if watch.hard_deadline.is_some_and(|hard| now >= hard) {
            captured.hard_timed_out = true;
            break;
        }
        if now >= deadline {
            if !grace.is_zero() && is_runnable(watch.pid) {
                deadline += grace;
                grace = Duration::ZERO;
                continue;
            }
            captured.timed_out = true;
            break;
        }
        let next = watch
            .hard_deadline
            .map_or(deadline, |hard| hard.min(deadline));
        let remaining_ms = (next - now).as_millis().clamp(1, 60_000) as i32;
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
                        let room = watch.stdout_cap - captured.stdout.len();
                        captured.stdout.extend_from_slice(&buffer[..n.min(room)]);
                        if n > room {
                            // Stop reading: the solver's further writes fail (EPIPE).
                            captured.stdout_over_cap = true;
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
                        let room = MAX_STDERR_BYTES.saturating_sub(captured.stderr.len());
                        captured.stderr.extend_from_slice(&buffer[..n.min(room)]);
                    }
                }
            }
        }
    }
    Ok(captured)
}

/// Separates the solver's notes ([`NOTE_PREFIX`] lines) and its [`CHILDREN_MARK`] from
/// the stderr the report shows.
fn split_notes(stderr: &[u8]) -> (Vec<u8>, Vec<String>, bool) {
    if !stderr.contains(&0) {
        return (stderr.to_vec(), Vec::new(), false);
    }
    let prefix = NOTE_PREFIX.as_bytes();
    let mut kept = Vec::with_capacity(stderr.len());
    let mut notes = Vec::new();
    let mut children = false;
    for line in stderr.split_inclusive(|&b| b == b'\n') {
        if let Some(rest) = line.strip_prefix(prefix) {
            notes.push(String::from_utf8_lossy(rest).trim_end().to_string());
        } else if line.strip_suffix(b"\n").unwrap_or(line) == CHILDREN_MARK.as_bytes() {
            children = true;
        } else {
            kept.extend_from_slice(line);
        }
    }
    (kept, notes, children)
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
            None
        }
    };
    let metrics_reported = trap.as_deref() != Some("stdout exceeded cap");
    let ok = raw.exit_status == 0 && trap.is_none();
    let trap_help = (trap.as_deref() == Some("fuel exhausted")).then(|| fuel_trap_help(fuel));
    SolveSection {
        ok,
        exit_status: raw.exit_status,
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
    use std::process::Command;

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
            notes: Vec::new(),
            children_started: false,
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
        assert_eq!(ok.solve_output(), b"hi");
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
        assert!(big.solve_output().is_empty());
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
