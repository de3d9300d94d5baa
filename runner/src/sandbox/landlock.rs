//! Defence in depth on Linux: the solver confines itself with Landlock before the
//! program runs, and everything it starts inherits the confinement.
//!
//! What the domain allows (everything else that Landlock can handle is denied):
//! * the read roots: read files, list directories;
//! * the write roots: that, plus create, write and truncate regular files; directories,
//!   removal, renames and symlinks only when `fs.allow_mkdir` / `allow_remove` /
//!   `allow_rename` / `allow_symlinks` say so (only child processes can do those);
//! * when the policy lets the program start processes: the system directories
//!   (`/usr`, `/bin`, `/sbin`, `/lib*`) to read and execute, the allowed executables
//!   (files only) to read and execute, what lies below the exec-prefix directories to
//!   execute (not to read), the loader cache, `/etc/passwd`, `/etc/group`, the time
//!   zone, and a few `/dev` files. Not `/proc`: a
//!   child could read the environment of any process of the same user there (the
//!   solver's keeper thread, started before Landlock, measures the tree instead);
//! * TCP (and UDP, on kernels with Landlock ABI 10): nothing, unless `net` enables it;
//!   then connections only to the ports of `net.allow_hosts` (and DNS when allowed);
//! * scopes (ABI 6): no signals to, and no abstract UNIX sockets of, processes outside.
//!
//! Landlock applies to the calling thread and the threads and processes it creates
//! afterwards (the crate's default; `all_threads` is not asked for). The solver
//! confines its main thread, which runs the program and starts every child, after
//! starting exactly two threads of its own that must keep reading `/proc`: the
//! signal thread and the process-tree keeper. The policy checks of the `os` module
//! stay the primary mechanism; Landlock catches what they would miss (and confines
//! child processes, which no check can follow).

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use landlock::{
    Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, NetPort, PathBeneath, Ruleset,
    RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope, ABI,
};

use crate::policy::Policy;
use crate::sandbox::path::Root;

/// What confining the solver achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confinement {
    /// Landlock enforces the domain (fully, or as far as the kernel's ABI goes).
    Enforced,
    /// The kernel has no (usable) Landlock; the reason. `no_new_privs` is still set.
    Unavailable(String),
    /// Turned off by `X07_LITE_LANDLOCK=off` in the starter's environment (to test the
    /// policy checks alone; see [`crate::sandbox::TestSwitches`]).
    Disabled,
}

/// The one line x07-lite prints (and puts in the report's diagnostics) when the kernel
/// has no Landlock.
pub fn unavailable_message(reason: &str) -> String {
    format!(
        "x07-lite: Landlock is not available ({reason}); the sandbox relies on the runner's own checks"
    )
}

/// System directories a child process needs to start (read and execute).
const SYSTEM_DIRS: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
];
/// Single files a dynamically linked child reads (the loader's cache, the time zone, and
/// the user and group names that `id` or `ls -l` look up; none of them is a secret).
const SYSTEM_FILES: &[&str] = &[
    "/etc/ld.so.cache",
    "/etc/ld.so.preload",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
];
/// Devices a child may read.
const READ_DEVICES: &[&str] = &["/dev/zero", "/dev/urandom", "/dev/random"];

/// The roots and switches Landlock is built from.
pub struct Grants<'a> {
    /// Opened read roots.
    pub read_roots: &'a [Root],
    /// Opened write roots.
    pub write_roots: &'a [Root],
    /// The run's directory (exec paths and prefixes are relative to it).
    pub cwd: &'a Path,
}

fn open_path(path: &Path) -> Option<OwnedFd> {
    rustix::fs::open(
        path,
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .ok()
}

/// Whether the policy lets the program start processes at all.
pub fn spawning_allowed(policy: &Policy) -> bool {
    let process = &policy.process;
    process.enabled && process.allow_spawn && process.max_spawns > 0 && policy.limits.procs > 0
}

/// Confines the calling thread (and all it starts later) to what `policy` grants, and
/// sets `no_new_privs`.
pub fn confine(policy: &Policy, grants: &Grants<'_>) -> Confinement {
    if crate::sandbox::TestSwitches::current().landlock_off {
        let _ = nix::sys::prctl::set_no_new_privs();
        return Confinement::Disabled;
    }
    let outcome = build_and_restrict(policy, grants);
    // Landlock sets no_new_privs itself; without Landlock it is set here.
    let _ = nix::sys::prctl::set_no_new_privs();
    match outcome {
        Ok(RulesetStatus::NotEnforced) => {
            Confinement::Unavailable("the kernel does not support it".into())
        }
        Ok(_) => Confinement::Enforced,
        Err(err) => Confinement::Unavailable(err.to_string()),
    }
}

fn build_and_restrict(
    policy: &Policy,
    grants: &Grants<'_>,
) -> Result<RulesetStatus, landlock::RulesetError> {
    let abi = ABI::V10;
    let fs = &policy.fs;
    let read = AccessFs::ReadFile | AccessFs::ReadDir;
    let mut write = read | AccessFs::WriteFile | AccessFs::MakeReg | AccessFs::Truncate;
    if fs.allow_mkdir == Some(true) {
        write |= AccessFs::MakeDir;
    }
    if fs.allow_remove == Some(true) {
        write |= AccessFs::RemoveFile | AccessFs::RemoveDir;
    }
    if fs.allow_rename == Some(true) {
        write |= AccessFs::Refer | AccessFs::RemoveFile | AccessFs::MakeReg;
    }
    if fs.allow_symlinks == Some(true) {
        write |= AccessFs::MakeSym;
    }
    let execute = read | AccessFs::Execute;

    let tcp_open = policy.net.enabled && policy.net.allow_tcp;
    let udp_open = policy.net.enabled && policy.net.allow_udp;
    let mut handled_net: BitFlags<AccessNet> = AccessNet::BindTcp | AccessNet::ConnectTcp;
    if !udp_open {
        handled_net |= AccessNet::BindUdp | AccessNet::ConnectSendUdp;
    }

    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(abi))?
        .handle_access(handled_net)?
        .scope(Scope::from_all(abi))?
        .create()?;

    let mut rules: Vec<(OwnedFd, BitFlags<AccessFs>)> = Vec::new();
    let mut add = |fd: Option<OwnedFd>, access: BitFlags<AccessFs>| {
        if let Some(fd) = fd {
            rules.push((fd, access));
        }
    };
    if fs.enabled {
        for root in grants.read_roots {
            add(root.dir().and_then(|fd| fd.try_clone_to_owned().ok()), read);
        }
        for root in grants.write_roots {
            add(
                root.dir().and_then(|fd| fd.try_clone_to_owned().ok()),
                write,
            );
        }
    }
    if spawning_allowed(policy) {
        for dir in SYSTEM_DIRS {
            add(open_path(Path::new(dir)), execute);
        }
        for file in SYSTEM_FILES.iter().chain(READ_DEVICES) {
            add(open_path(Path::new(file)), AccessFs::ReadFile.into());
        }
        add(
            open_path(Path::new("/dev/null")),
            AccessFs::ReadFile | AccessFs::WriteFile,
        );
        // An allowed executable may be run (the kernel opens it for reading to run it,
        // and an interpreter reads a script); an entry naming a directory grants nothing
        // (a directory cannot be run). Below an exec prefix, only the files that can be
        // run (regular, with an execute bit) are granted, each on its own: reading is the
        // `fs` section's business, and a broad prefix (`/`, a home directory) would
        // otherwise open everything below it to every child.
        let process = &policy.process;
        for exec in &process.allow_execs {
            if let Some(fd) = open_path(&grants.cwd.join(exec)).filter(|fd| !is_dir(fd)) {
                add(Some(fd), AccessFs::ReadFile | AccessFs::Execute);
            }
        }
        let mut budget = MAX_PREFIX_FILES;
        for prefix in &process.allow_exec_prefixes {
            for file in executables_below(&grants.cwd.join(prefix), &mut budget) {
                add(open_path(&file), AccessFs::ReadFile | AccessFs::Execute);
            }
        }
    }
    for (fd, access) in rules {
        // Files take only file rights; directories take all.
        let access = if is_dir(&fd) {
            access
        } else {
            access
                & (AccessFs::ReadFile
                    | AccessFs::WriteFile
                    | AccessFs::Execute
                    | AccessFs::Truncate)
        };
        if !access.is_empty() {
            ruleset = ruleset.add_rule(PathBeneath::new(fd, access))?;
        }
    }
    if tcp_open {
        let mut ports: Vec<u16> = policy
            .net
            .allow_hosts
            .iter()
            .flat_map(|host| host.ports.iter())
            .filter_map(|port| u16::try_from(*port).ok())
            .collect();
        if policy.net.allow_dns {
            ports.push(53);
        }
        ports.sort_unstable();
        ports.dedup();
        for port in ports {
            ruleset = ruleset.add_rule(NetPort::new(port, AccessNet::ConnectTcp))?;
        }
    }
    if !udp_open && policy.net.enabled && policy.net.allow_dns {
        ruleset = ruleset
            .add_rule(NetPort::new(0, AccessNet::BindUdp))?
            .add_rule(NetPort::new(53, AccessNet::ConnectSendUdp))?;
    }
    Ok(ruleset.restrict_self()?.ruleset)
}

/// Most files below the exec prefixes that get a rule of their own (a prefix as broad as
/// `/` is not walked to its end; what lies beyond cannot be started by a child).
const MAX_PREFIX_FILES: usize = 4096;
/// Most directory entries looked at below one exec prefix.
const MAX_PREFIX_ENTRIES: usize = 16384;

/// The executable regular files below `prefix` (symlinks not followed: the gate allows
/// a symlink only when its target lies below the prefix too, where the walk finds it),
/// at most `budget` of them. Nothing for a prefix inside the system directories, which
/// are granted whole.
fn executables_below(prefix: &Path, budget: &mut usize) -> Vec<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(real) = std::fs::canonicalize(prefix) else {
        return Vec::new();
    };
    let in_system_dir = SYSTEM_DIRS
        .iter()
        .any(|dir| std::fs::canonicalize(dir).is_ok_and(|system| real.starts_with(system)));
    let mut found = Vec::new();
    if in_system_dir {
        return found;
    }
    let mut pending = vec![real];
    let mut looked_at = 0;
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            looked_at += 1;
            if *budget == 0 || looked_at > MAX_PREFIX_ENTRIES {
                return found;
            }
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                // The system directories are granted whole; pseudo file systems hold
                // nothing to run.
                let path = entry.path();
                let skipped = SYSTEM_DIRS
                    .iter()
                    .chain(&["/proc", "/sys", "/dev"])
                    .any(|dir| path == Path::new(dir));
                if !skipped {
                    pending.push(path);
                }
            } else if kind.is_file()
                && entry
                    .metadata()
                    .is_ok_and(|meta| meta.permissions().mode() & 0o111 != 0)
            {
                *budget -= 1;
                found.push(entry.path());
            }
        }
    }
    found
}

fn is_dir(fd: &OwnedFd) -> bool {
    rustix::fs::fstat(fd.as_fd()).is_ok_and(|stat| {
        rustix::fs::FileType::from_raw_mode(stat.st_mode) == rustix::fs::FileType::Directory
    })
}
