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

/// The filter: the path-based metadata calls fail with `EPERM`, `utimensat` too unless
/// its path argument is null (then it is `futimens` on a descriptor); everything else
/// is allowed.
fn filter() -> Result<BpfProgram, String> {
    let text = |err: seccompiler::BackendError| err.to_string();
    let arch = TargetArch::try_from(std::env::consts::ARCH).map_err(text)?;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = path_based_calls()
        .into_iter()
        .map(|call| (call, Vec::new()))
        .collect();
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
pub fn refuse_metadata_changes_by_path() -> Result<(), String> {
    let program = filter()?;
    seccompiler::apply_filter(&program).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_builds_for_this_machine() {
        let program = filter().unwrap();
        assert!(!program.is_empty());
    }
}
