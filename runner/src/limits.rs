//! Resource limits of a run: the defaults of `x07 run`, the values a profile or flag
//! sets, and the `setrlimit` calls the solver process makes on itself.
//!
//! The solver applies its own rlimits at start-up (it is a re-exec of this binary), so
//! no `pre_exec` hook and no `unsafe` code is needed.

use nix::sys::resource::{getrlimit, setrlimit, Resource};
use serde::{Deserialize, Serialize};

/// Default `--solve-fuel`.
pub const DEFAULT_SOLVE_FUEL: u64 = 50_000_000;
/// Default `--max-memory-bytes` (the size of the real runtime's arena).
pub const DEFAULT_MAX_MEMORY_BYTES: u64 = 64 * 1024 * 1024;
/// Default `--max-output-bytes`.
pub const DEFAULT_MAX_OUTPUT_BYTES: u64 = 1024 * 1024;
/// Default CPU limit of a `run-os` run, in seconds (the wall limit is one more).
pub const DEFAULT_CPU_SECONDS: u64 = 30;
/// Address space the real runtime needs besides its arena: a sandbox whose
/// `limits.mem_bytes` is below arena + this fails with `calloc failed` at start-up.
pub const RUNTIME_OVERHEAD_BYTES: u64 = 32 * 1024 * 1024;
/// Safety margin of the address-space limit in `run-os`, where the real runtime sets
/// none: the interpreter's own heap limit decides, this only stops a runaway process.
pub const RUN_OS_ADDRESS_SPACE_SLACK: u64 = 1024 * 1024 * 1024;

/// The rlimits the solver process sets on itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessLimits {
    /// `RLIMIT_CPU` soft limit in seconds. At the soft limit the kernel sends SIGXCPU,
    /// on which the solver kills its process tree and itself (SIGKILL, so the report
    /// says `terminated by signal 9`); the hard limit, [`CPU_HARD_LIMIT_SLACK_SECONDS`]
    /// later, is the kernel's own SIGKILL should that fail. The solver's watchdog also
    /// holds the CPU time of the whole process tree to this limit.
    pub cpu_seconds: Option<u64>,
    /// `RLIMIT_AS` in bytes.
    pub address_space_bytes: Option<u64>,
    /// `RLIMIT_NOFILE`.
    pub open_files: Option<u64>,
    /// Whether core dumps stay allowed (`RLIMIT_CORE` is set to 0 otherwise).
    pub core_dumps: bool,
    /// `RLIMIT_FSIZE`: the largest file the solver and its children may write (a
    /// sandbox's `fs.max_write_bytes`, so child processes get the same cap as
    /// `os.fs.write_file`). The solver's stdout and stderr must be pipes.
    #[serde(default)]
    pub file_size_bytes: Option<u64>,
}

/// Seconds between the CPU soft limit (SIGXCPU, handled) and the hard limit (SIGKILL).
pub const CPU_HARD_LIMIT_SLACK_SECONDS: u64 = 2;

fn set(resource: Resource, value: u64) {
    set_soft_hard(resource, value, value);
}

fn set_soft_hard(resource: Resource, soft: u64, hard: u64) {
    // An rlimit can never be raised above the current hard limit.
    let current_hard = getrlimit(resource)
        .map(|(_, hard)| hard)
        .unwrap_or(u64::MAX);
    let hard = hard.min(current_hard);
    let _ = setrlimit(resource, soft.min(hard), hard);
}

impl ProcessLimits {
    /// Applies the CPU and core limits (before the program is loaded).
    pub fn apply_early(&self) {
        if let Some(seconds) = self.cpu_seconds {
            let seconds = seconds.max(1);
            set_soft_hard(
                Resource::RLIMIT_CPU,
                seconds,
                seconds + CPU_HARD_LIMIT_SLACK_SECONDS,
            );
        }
        if !self.core_dumps {
            set(Resource::RLIMIT_CORE, 0);
        }
        if let Some(bytes) = self.file_size_bytes {
            set(Resource::RLIMIT_FSIZE, bytes);
        }
    }

    /// Applies the address-space limit (after the program files are read and the
    /// loader's large-stack thread is gone, before the solver starts its own threads:
    /// a thread's first allocation reserves a whole malloc arena, which must not happen
    /// before the limit, or the address space is used up before `solve` starts).
    pub fn apply_address_space(&self) {
        if let Some(bytes) = self.address_space_bytes {
            set(Resource::RLIMIT_AS, bytes);
        }
    }

    /// Applies the open-files limit (after the solver has confined itself: building
    /// the Landlock rules opens a few descriptors at once).
    pub fn apply_open_files(&self) {
        if let Some(files) = self.open_files {
            set(Resource::RLIMIT_NOFILE, files);
        }
    }
}

/// CPU seconds for a sandbox `cpu_ms` (rounded up, at least 1).
pub fn cpu_seconds_from_ms(cpu_ms: u64) -> u64 {
    cpu_ms.div_ceil(1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_rounding() {
        assert_eq!(cpu_seconds_from_ms(1), 1);
        assert_eq!(cpu_seconds_from_ms(1000), 1);
        assert_eq!(cpu_seconds_from_ms(1001), 2);
        assert_eq!(cpu_seconds_from_ms(60000), 60);
    }
}
