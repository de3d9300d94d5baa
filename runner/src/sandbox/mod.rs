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
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

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

/// The sandbox's test switches: `X07_LITE_LANDLOCK=off` and `X07_LITE_OPENAT2=off` turn
/// Landlock and `openat2` off, to test the runner's own checks alone. Only the starter's
/// **own process environment** decides them ([`TestSwitches::from_process_environment`]),
/// never the environment it hands a run: a cargo-x07 fixture sets variables for its run
/// (`run.env`), and must not be able to switch its own sandbox off. The starter puts
/// them in the solver spec; the solver installs them before it builds the sandbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestSwitches {
    /// Landlock is not applied.
    #[serde(default)]
    pub landlock_off: bool,
    /// Paths are resolved by the `O_NOFOLLOW` walk, as without `openat2`.
    #[serde(default)]
    pub openat2_off: bool,
}

static SWITCHES: OnceLock<TestSwitches> = OnceLock::new();

impl TestSwitches {
    /// The switches as this process's own environment has them.
    pub fn from_process_environment() -> TestSwitches {
        let off = |key: &str| std::env::var_os(key).is_some_and(|value| value == "off");
        TestSwitches {
            landlock_off: off("X07_LITE_LANDLOCK"),
            openat2_off: off("X07_LITE_OPENAT2"),
        }
    }

    /// Makes these the switches of this process (the first call wins).
    pub fn install(self) {
        let _ = SWITCHES.set(self);
    }

    /// The switches of this process: as installed, else everything on.
    pub fn current() -> TestSwitches {
        SWITCHES.get().copied().unwrap_or_default()
    }
}
