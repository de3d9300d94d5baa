//! The sandbox of `run-os-sandboxed`: the mechanisms behind the policy gate of `os`.
//!
//! * [`path`]: one path resolution for every file builtin and for process working
//!   directories (`openat2` beneath an opened root, or an `O_NOFOLLOW` walk; regular
//!   files only; reads and writes through the checked descriptor).
//! * [`exec`]: executable, argument and working-directory rules of the process gate.
//! * [`tree`]: the solver's process tree (it is the child subreaper): whole-tree kill,
//!   `limits.procs`, CPU time over the tree, orphan reaping.
//! * [`landlock`]: the solver confines itself (and all it starts) with Landlock and
//!   `no_new_privs`.
//! * [`caps`]: a root run keeps only the file-permission capabilities, so a child
//!   started as root cannot load modules, set the clock, reboot...
//! * [`seccomp`]: what Landlock cannot restrict: no process of the run changes a file's
//!   mode, owner, times or extended attributes by path.
//! * [`text`]: program-chosen text in trap messages is escaped, so the report cannot be
//!   forged from inside.
//!
//! The checks of `os` (through [`path`] and [`exec`]) are the primary mechanism; Landlock
//! is defence in depth and the only thing that follows child processes.

pub mod caps;
pub mod exec;
pub mod landlock;
pub mod path;
pub mod seccomp;
pub mod text;
pub mod tree;

use std::path::Path;

use crate::policy::Policy;
use path::{Root, Rules};

/// The roots of a sandboxed run, opened once when the run starts.
#[derive(Debug)]
pub struct Roots {
    /// `fs.read_roots`.
    pub read: Vec<Root>,
    /// `fs.write_roots`.
    pub write: Vec<Root>,
    /// `process.allow_cwd_roots`.
    pub cwd: Vec<Root>,
    /// The resolution rules of `fs`.
    pub rules: Rules,
}

impl Roots {
    /// Opens the roots of `policy` for a run whose directory is `cwd`.
    pub fn open(policy: &Policy, cwd: &Path) -> Roots {
        let rules = Rules {
            allow_symlinks: policy.fs.allow_symlinks == Some(true),
            deny_hidden: policy.fs.deny_hidden,
        };
        let open_all = |list: &[String]| -> Vec<Root> {
            list.iter().map(|r| Root::open(r, cwd, rules)).collect()
        };
        let (read, write) = if policy.fs.enabled {
            (
                open_all(&policy.fs.read_roots),
                open_all(&policy.fs.write_roots),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        Roots {
            read,
            write,
            cwd: open_all(&policy.process.allow_cwd_roots),
            rules,
        }
    }
}
