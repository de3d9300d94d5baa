//! What Landlock cannot restrict: changes to a file's metadata by path. Landlock
//! confines opening, creating, removing, linking and renaming files, but not `chmod`,
//! `chown`, `utime`/`utimensat` or `setxattr` (its documented limits), so a child process
//! could `touch` or `chmod` any file it can name, inside the roots or not.
//!
//! The solver's main thread (which runs the program and starts every child) installs a
//! seccomp filter after Landlock, inherited by every process it starts, that refuses
//! (`EPERM`) the path-based forms of those calls. The descriptor-based forms (`fchmod`,
//! `fchown`, `futimens` = `utimensat` with no path, `fsetxattr`) stay allowed: they act
//! on a file the process could open, which Landlock already decided. So `touch` of a
//! file in a write root still works (coreutils opens it and sets the times through the
//! descriptor), while `touch` or `chmod` of a file outside fails.
//!
//! The same filter closes the network where Landlock cannot: Landlock restricts TCP
//! from ABI 4 and UDP only from ABI 10, so with `net` disabled every IPv4/IPv6 socket is
//! refused, and with `net` enabled but neither UDP nor DNS allowed, datagram sockets
//! are. `io_uring` is refused too: its operations (it can create sockets) pass by
//! seccomp unseen. So are `open_by_handle_at`, System V IPC and the key rings, which
//! reach what the whole host shares.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

/// `fchmodat2` (Linux 6.6), the same number on every architecture.
const SYS_FCHMODAT2: i64 = 452;
/// `setxattrat` (Linux 6.13), the same number on every architecture.
const SYS_SETXATTRAT: i64 = 463;
/// `removexattrat` (Linux 6.13), the same number on every architecture.
const SYS_REMOVEXATTRAT: i64 = 466;

/// System calls refused whatever their arguments: they name the file by path.
fn path_based_calls() -> Vec<i64> {
    let mut calls = vec![
        libc::SYS_fchmodat,
        SYS_FCHMODAT2,
        libc::SYS_fchownat,
        libc::SYS_setxattr,
        libc::SYS_lsetxattr,
        libc::SYS_removexattr,
        libc::SYS_lremovexattr,
        SYS_SETXATTRAT,
        SYS_REMOVEXATTRAT,
    ];
    #[cfg(target_arch = "x86_64")]
    calls.extend([
        libc::SYS_chmod,
        libc::SYS_chown,
        libc::SYS_lchown,
        libc::SYS_utime,
        libc::SYS_utimes,
        libc::SYS_futimesat,
    ]);
    calls
}

/// Which sockets the filter refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// Every IPv4 and IPv6 socket (`net` disabled).
    Closed,
    /// IPv4 and IPv6 datagram sockets (`net` enabled, UDP and DNS not allowed).
    NoDatagrams,
    /// None (Landlock, where the kernel has it, restricts the ports).
    Open,
}

impl Network {
    /// What `policy.net` asks for.
    pub fn of(policy: &crate::policy::Policy) -> Network {
        let net = &policy.net;
        if !net.enabled {
            Network::Closed
        } else if !net.allow_udp && !net.allow_dns {
            Network::NoDatagrams
        } else {
            Network::Open
        }
    }
}

/// `io_uring_setup`, `io_uring_enter`, `io_uring_register` (Linux 5.1), the same numbers
/// on every architecture.
const IO_URING_CALLS: [i64; 3] = [425, 426, 427];
/// The socket type without its `SOCK_NONBLOCK` / `SOCK_CLOEXEC` flags.
const SOCKET_TYPE_MASK: u64 = 0xf;

/// Calls that reach past the file system into what the whole host shares, which
/// Landlock does not cover: opening a file by handle (`CAP_DAC_READ_SEARCH`, which a
/// root run keeps, would open any file without a path walk), System V IPC objects (a
/// root child could attach to another program's shared memory), and the kernel's key
/// rings.
fn host_wide_calls() -> Vec<i64> {
    vec![
        libc::SYS_open_by_handle_at,
        libc::SYS_shmget,
        libc::SYS_shmat,
        libc::SYS_shmctl,
        libc::SYS_msgget,
        libc::SYS_msgsnd,
        libc::SYS_msgrcv,
        libc::SYS_msgctl,
        libc::SYS_semget,
        libc::SYS_semop,
        libc::SYS_semctl,
        libc::SYS_semtimedop,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_keyctl,
    ]
}

/// The filter: the path-based metadata calls fail with `EPERM`, `utimensat` too unless
/// its path argument is null (then it is `futimens` on a descriptor), the host-wide
/// calls, `io_uring`, and the sockets `network` refuses; everything else is allowed.
fn filter(network: Network) -> Result<BpfProgram, String> {
    let text = |err: seccompiler::BackendError| err.to_string();
    let arch = TargetArch::try_from(std::env::consts::ARCH).map_err(text)?;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = path_based_calls()
        .into_iter()
        .chain(host_wide_calls())
        .chain(IO_URING_CALLS)
        .map(|call| (call, Vec::new()))
        .collect();
    let mut socket_rules = Vec::new();
    for family in [libc::AF_INET, libc::AF_INET6] {
        let family =
            SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, family as u64)
                .map_err(text)?;
        let conditions = match network {
            Network::Open => continue,
            Network::Closed => vec![family],
            Network::NoDatagrams => vec![
                family,
                SeccompCondition::new(
                    1,
                    SeccompCmpArgLen::Dword,
                    SeccompCmpOp::MaskedEq(SOCKET_TYPE_MASK),
                    libc::SOCK_DGRAM as u64,
                )
                .map_err(text)?,
            ],
        };
        socket_rules.push(SeccompRule::new(conditions).map_err(text)?);
    }
    if !socket_rules.is_empty() {
        rules.insert(libc::SYS_socket, socket_rules);
    }
    let with_path =
        SeccompCondition::new(1, SeccompCmpArgLen::Qword, SeccompCmpOp::Ne, 0).map_err(text)?;
    rules.insert(
        libc::SYS_utimensat,
        vec![SeccompRule::new(vec![with_path]).map_err(text)?],
    );
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(text)?;
    filter.try_into().map_err(text)
}

/// Installs the filter on the calling thread (and what it starts later); the reason when
/// it could not be installed (an architecture seccompiler does not know, a kernel
/// without seccomp).
pub fn install(network: Network) -> Result<(), String> {
    let program = filter(network)?;
    seccompiler::apply_filter(&program).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_builds_for_this_machine() {
        for network in [Network::Closed, Network::NoDatagrams, Network::Open] {
            let program = filter(network).unwrap();
            assert!(!program.is_empty());
        }
    }
}
