//! The process tree of a run: every process the program starts, however it starts it.
//!
//! The solver is a child subreaper (`PR_SET_CHILD_SUBREAPER`), so a process whose parent
//! dies (a double fork, a `setsid` daemon) is re-parented to the solver instead of
//! init: the ancestors of every descendant always lead back to the solver. The tree is
//! therefore "the processes whose parent chain reaches the solver", read from
//! `/proc/<pid>/stat`. It is used to
//! * kill the whole tree when the solve ends, in every way it can end;
//! * count live processes against `limits.procs`;
//! * sum CPU time over the tree against the CPU limit;
//! * reap orphans the solver inherited.
//!
//! Signals go through pidfds where the kernel has them, after checking that the pid
//! still belongs to the tree, so a reused pid is never hit.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use rustix::process::{Pid, PidfdFlags, Signal};

/// One process as `/proc/<pid>/stat` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// Process id.
    pub pid: i32,
    /// Parent process id.
    pub ppid: i32,
    /// Whether it has exited, every thread of it, and waits to be reaped. A thread-group
    /// leader that ended with the `exit` system call while other threads of it still run
    /// shows as `Z` too, but is alive (and is killed like any live process).
    pub zombie: bool,
    /// CPU time in clock ticks: its own user + system time and that of the children
    /// it has reaped.
    pub cpu_ticks: u64,
}

/// Parses the text of `/proc/<pid>/stat`.
pub fn parse_stat(text: &str) -> Option<ProcStat> {
    let (head, rest) = text.rsplit_once(')')?;
    let pid = head.split_whitespace().next()?.parse().ok()?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the command: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
    // ... num_threads(17).
    let number = |index: usize| fields.get(index).and_then(|f| f.parse::<u64>().ok());
    // A `Z` leader with more than one thread counted is a process whose main thread
    // left while the others run on: alive, whatever its state letter says.
    let threads = number(17).unwrap_or(1);
    Some(ProcStat {
        pid,
        ppid: fields.get(1)?.parse().ok()?,
        zombie: matches!(fields.first(), Some(&"Z") | Some(&"X")) && threads <= 1,
        cpu_ticks: number(11)? + number(12)? + number(13)? + number(14)?,
    })
}

/// `/proc/<pid>/stat` of one process, if it exists.
pub fn read_stat(pid: i32) -> Option<ProcStat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Every process visible in `/proc`.
pub fn scan() -> Vec<ProcStat> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(read_stat)
        .collect()
}

/// The processes of `all` whose parent chain reaches `root` (not `root` itself).
pub fn descendants_of(root: i32, all: &[ProcStat]) -> Vec<ProcStat> {
    let mut children: HashMap<i32, Vec<&ProcStat>> = HashMap::new();
    for stat in all {
        if stat.pid != stat.ppid {
            children.entry(stat.ppid).or_default().push(stat);
        }
    }
    let mut out = Vec::new();
    let mut queue = vec![root];
    let mut seen = HashSet::from([root]);
    while let Some(parent) = queue.pop() {
        for child in children.get(&parent).into_iter().flatten() {
            if seen.insert(child.pid) {
                out.push(**child);
                queue.push(child.pid);
            }
        }
    }
    out
}

/// Sends SIGKILL to `pid` if it still has a parent in `members`.
fn kill_member(pid: i32, members: &HashSet<i32>) {
    let Some(raw) = Pid::from_raw(pid) else {
        return;
    };
    match rustix::process::pidfd_open(raw, PidfdFlags::empty()) {
        Ok(pidfd) => {
            // The pidfd pins the process: check it is still the one found in the tree.
            if read_stat(pid).is_some_and(|stat| members.contains(&stat.ppid)) {
                let _ = rustix::process::pidfd_send_signal(&pidfd, Signal::KILL);
            }
        }
        Err(rustix::io::Errno::NOSYS) => {
            if read_stat(pid).is_some_and(|stat| members.contains(&stat.ppid)) {
                let _ = rustix::process::kill_process(raw, Signal::KILL);
            }
        }
        Err(_) => {}
    }
}

/// Kills every live process below `root` (SIGKILL) and repeats until none is left, for
/// at most `patience`. Processes forked while a round runs are found by the next round;
/// a killed process cannot fork any more. Returns the number of kills sent.
pub fn kill_descendants(root: i32, patience: Duration) -> usize {
    let started = Instant::now();
    let mut sent = 0;
    loop {
        let all = scan();
        let tree = descendants_of(root, &all);
        let live: Vec<&ProcStat> = tree.iter().filter(|p| !p.zombie).collect();
        if live.is_empty() {
            return sent;
        }
        let mut members: HashSet<i32> = tree.iter().map(|p| p.pid).collect();
        members.insert(root);
        for stat in &live {
            kill_member(stat.pid, &members);
            sent += 1;
        }
        if started.elapsed() >= patience {
            return sent;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Clock ticks per second of `/proc/<pid>/stat` times.
fn ticks_per_second() -> u64 {
    rustix::param::clock_ticks_per_second().max(1)
}

// ------------------------------------------------------------------------------------
// The solver's own bookkeeping: the keeper thread

/// Pids the solver started itself: their own supervisor threads reap them, the keeper
/// never does.
static MANAGED: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// The list of children the solver started and has not reaped yet. Hold the guard
/// across starting a child and recording it, so the keeper never sees the child as an
/// orphan in between.
pub fn managed() -> MutexGuard<'static, Vec<u32>> {
    MANAGED.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the keeper enforces over the tree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TreeLimits {
    /// CPU time of the solver and all its descendants together, in milliseconds.
    pub cpu_ms: Option<u64>,
    /// Most live descendants at once (`limits.procs`).
    pub procs: Option<u64>,
    /// When the whole run is killed regardless (a backstop to the starter's own
    /// wall-clock limit).
    pub wall_deadline: Option<Instant>,
}

enum Request {
    /// The program started a child: start measuring.
    ChildStarted,
    /// How many live descendants are there?
    CountLive(mpsc::Sender<usize>),
    /// Kill them all, then answer.
    KillAll(mpsc::Sender<()>),
}

static KEEPER: OnceLock<Mutex<mpsc::Sender<Request>>> = OnceLock::new();
static CHILDREN_STARTED: AtomicBool = AtomicBool::new(false);

thread_local! {
    static IS_KEEPER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Stack of the solver's helper threads (keeper, signals): they hold little, and every
/// byte counts against a small `limits.mem_bytes` address-space limit.
pub const HELPER_STACK_BYTES: usize = 256 * 1024;

/// How often the tree is measured while the program has children.
const WATCH_INTERVAL: Duration = Duration::from_millis(20);
/// How long the solver gives its tree to die.
const KILL_PATIENCE: Duration = Duration::from_secs(2);

fn ask<T>(make: impl FnOnce(mpsc::Sender<T>) -> Request) -> Option<T> {
    if IS_KEEPER.with(|flag| flag.get()) {
        return None;
    }
    let keeper = KEEPER.get()?;
    let (reply, answer) = mpsc::channel();
    keeper
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send(make(reply))
        .ok()?;
    answer.recv_timeout(KILL_PATIENCE * 3).ok()
}

/// Starts the keeper thread of the solver with `limits`. Call it **before** the solver
/// confines itself with Landlock: Landlock applies to the calling thread and the ones
/// it starts later, so the keeper keeps reading `/proc` while the program, and every
/// process it starts, cannot (a child could otherwise read the environment of any
/// process of the same user there).
///
/// The keeper sleeps until the first child is started (or the wall deadline), then
/// measures the tree every 20 ms: more live descendants than `procs` kills them all;
/// more CPU than `cpu_ms` over the tree, or the wall deadline, kills the tree and the
/// solver. It reaps orphans the solver inherited, and answers [`live_descendants`] and
/// [`kill_all`] for the other threads.
pub fn start_keeper(limits: TreeLimits) {
    let (sender, receiver) = mpsc::channel();
    if KEEPER.set(Mutex::new(sender)).is_err() {
        return;
    }
    let _ = std::thread::Builder::new()
        .name("x07-lite-keeper".into())
        .stack_size(HELPER_STACK_BYTES)
        .spawn(move || {
            IS_KEEPER.with(|flag| flag.set(true));
            keeper_loop(&receiver, limits);
        });
}

/// Tells the keeper that the program has started a child (it starts measuring).
pub fn note_child_started() {
    CHILDREN_STARTED.store(true, Ordering::SeqCst);
    if let Some(keeper) = KEEPER.get() {
        let _ = keeper
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(Request::ChildStarted);
    }
}

/// Whether the program has started a child yet (until then there is no tree to kill).
pub fn any_child_started() -> bool {
    CHILDREN_STARTED.load(Ordering::SeqCst)
}

/// Live descendants of this process now.
pub fn live_descendants() -> usize {
    if let Some(count) = ask(Request::CountLive) {
        return count;
    }
    count_live(&descendants_of(std::process::id() as i32, &scan()))
}

/// Kills every descendant of this process (through the keeper when there is one).
pub fn kill_all() {
    if ask(Request::KillAll).is_none() {
        kill_descendants(std::process::id() as i32, KILL_PATIENCE);
    }
}

/// Kills the whole tree, then this process with SIGKILL (its starter sees
/// `terminated by signal 9`, as for a CPU-limit kill).
pub fn die() -> ! {
    kill_all();
    let _ = rustix::process::kill_process(rustix::process::getpid(), Signal::KILL);
    // SIGKILL cannot be caught; this is only reached if it could not be sent.
    std::process::exit(128 + 9)
}

fn count_live(tree: &[ProcStat]) -> usize {
    tree.iter().filter(|p| !p.zombie).count()
}

fn cpu_ms_of_self_and_reaped() -> u64 {
    use nix::sys::resource::{getrusage, UsageWho};
    let ms = |who| {
        getrusage(who)
            .map(|usage| {
                let user = usage.user_time();
                let system = usage.system_time();
                (user.tv_sec() + system.tv_sec()) as u64 * 1000
                    + (user.tv_usec() + system.tv_usec()) as u64 / 1000
            })
            .unwrap_or(0)
    };
    ms(UsageWho::RUSAGE_SELF) + ms(UsageWho::RUSAGE_CHILDREN)
}

fn keeper_loop(requests: &mpsc::Receiver<Request>, limits: TreeLimits) {
    let me = std::process::id() as i32;
    let hz = ticks_per_second();
    let mut measuring = false;
    let mut next_check = Instant::now() + WATCH_INTERVAL;
    loop {
        let now = Instant::now();
        if limits.wall_deadline.is_some_and(|deadline| now >= deadline) {
            die();
        }
        let wake = if measuring {
            next_check
        } else {
            limits
                .wall_deadline
                .unwrap_or(now + Duration::from_secs(3600))
        };
        match requests.recv_timeout(wake.saturating_duration_since(now)) {
            Ok(Request::ChildStarted) => {
                if !measuring {
                    measuring = true;
                    next_check = Instant::now() + WATCH_INTERVAL;
                }
                continue;
            }
            Ok(Request::CountLive(reply)) => {
                let _ = reply.send(count_live(&descendants_of(me, &scan())));
                continue;
            }
            Ok(Request::KillAll(reply)) => {
                kill_descendants(me, KILL_PATIENCE);
                let _ = reply.send(());
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if !measuring || Instant::now() < next_check {
            continue;
        }
        next_check = Instant::now() + WATCH_INTERVAL;
        let tree = descendants_of(me, &scan());
        if limits
            .procs
            .is_some_and(|procs| count_live(&tree) as u64 > procs)
        {
            kill_descendants(me, KILL_PATIENCE);
        }
        if let Some(budget) = limits.cpu_ms {
            let tree_ticks: u64 = tree.iter().map(|p| p.cpu_ticks).sum();
            let total = cpu_ms_of_self_and_reaped() + tree_ticks * 1000 / hz;
            if total > budget {
                die();
            }
        }
        reap_orphans(me, &tree);
    }
}

/// Reaps zombies re-parented to this process that no supervisor thread waits for.
fn reap_orphans(me: i32, tree: &[ProcStat]) {
    use nix::sys::wait::{waitpid, WaitPidFlag};
    let managed = managed();
    for stat in tree {
        if stat.zombie && stat.ppid == me && !managed.contains(&(stat.pid as u32)) {
            let _ = waitpid(
                nix::unistd::Pid::from_raw(stat.pid),
                Some(WaitPidFlag::WNOHANG),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_parse() {
        let stat = parse_stat(
            "123 (a (weird) name) S 45 123 123 0 -1 4194304 100 0 0 0 7 3 2 1 20 0 1 0 1 1 1",
        )
        .unwrap();
        assert_eq!(stat.pid, 123);
        assert_eq!(stat.ppid, 45);
        assert!(!stat.zombie);
        assert_eq!(stat.cpu_ticks, 13);
        assert!(
            parse_stat("9 (x) Z 1 9 9 0 -1 0 0 0 0 0 0 0 0 0")
                .unwrap()
                .zombie
        );
        // A leader that exited alone while two more threads run: alive.
        let exited_leader = "9 (x) Z 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 3 0 1 1 1";
        assert!(!parse_stat(exited_leader).unwrap().zombie);
        assert!(
            parse_stat("9 (x) Z 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1")
                .unwrap()
                .zombie
        );
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn descendants_follow_parent_chains() {
        let p = |pid, ppid| ProcStat {
            pid,
            ppid,
            zombie: false,
            cpu_ticks: 0,
        };
        let all = [p(1, 0), p(10, 1), p(11, 10), p(12, 11), p(13, 1), p(14, 12)];
        let mut found: Vec<i32> = descendants_of(10, &all).iter().map(|s| s.pid).collect();
        found.sort();
        assert_eq!(found, vec![11, 12, 14]);
    }

    #[test]
    fn this_process_is_visible() {
        let me = read_stat(std::process::id() as i32).unwrap();
        assert_eq!(me.ppid, std::os::unix::process::parent_id() as i32);
    }
}
