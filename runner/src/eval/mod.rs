//! Evaluation: runs a checked [`Program`] on an input.
//!
//! `check` builds the typed tree of the optimized program; [`solve`] runs it and reports
//! the fuel charged by the formula of `crate::fuel`, heap counters and the output or the
//! trap. `builtins` implements the builtin heads on [`crate::value::Value`]s, `reference`
//! is the tree-walking evaluator.

pub mod builtins;
#[cfg(feature = "reference")]
pub mod differential;
#[cfg(feature = "reference")]
pub mod reference;

use crate::host::{Host, Interrupt};
use crate::tir::TProgram;
use crate::value;

/// A loaded and checked program, ready for [`solve`].
#[derive(Debug, Clone)]
pub struct Program {
    /// The typed tree of the optimized program.
    pub tree: TProgram,
    /// The same, lowered for the register machine.
    pub code: crate::vm::VmProgram,
}

impl Program {
    /// Lowers a checked program.
    pub fn new(tree: TProgram) -> Program {
        let code = crate::vm::lower(&tree);
        Program { tree, code }
    }
}

/// Resource limits of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SolveLimits {
    /// Fuel units (semantics R21); default 50,000,000.
    pub fuel: u64,
    /// Heap limit in bytes; default 64 MiB.
    pub max_memory_bytes: u64,
}

impl Default for SolveLimits {
    fn default() -> Self {
        SolveLimits {
            fuel: 50_000_000,
            max_memory_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Heap counters of a run (the report's `mem_stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemStats {
    /// Buffers allocated.
    pub alloc_calls: u64,
    /// Buffers resized.
    pub realloc_calls: u64,
    /// Buffers freed.
    pub free_calls: u64,
    /// Bytes allocated in total.
    pub bytes_alloc_total: u64,
    /// Bytes freed in total.
    pub bytes_freed_total: u64,
    /// Bytes live at the end.
    pub live_bytes: u64,
    /// Most bytes live at once.
    pub peak_live_bytes: u64,
    /// Buffers live at the end.
    pub live_allocs: u64,
    /// Most buffers live at once.
    pub peak_live_allocs: u64,
    /// Bytes copied between buffers.
    pub memcpy_bytes: u64,
}

/// Statistics of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SolveStats {
    /// Fuel units used.
    pub fuel_used: u64,
    /// Peak heap bytes plus the input size (the real runtime's `heap_used` counts both).
    pub heap_used: u64,
    /// Heap counters.
    pub mem: MemStats,
}

/// Result of [`solve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SolveOutcome {
    /// The output bytes, or why the run stopped.
    pub result: Result<Vec<u8>, Interrupt>,
    /// Counters (meaningful on success; plausible otherwise).
    pub stats: SolveStats,
}

/// Runs `solve` with `input` as the `input` view.
pub fn solve(
    program: &Program,
    input: &[u8],
    host: &mut dyn Host,
    limits: &SolveLimits,
) -> SolveOutcome {
    value::reset_counters();
    #[cfg(feature = "reference")]
    if differential::enabled() {
        let mut recorder = differential::Recorder::new(host);
        let (result, fuel_used) = crate::vm::run(
            &program.code,
            input,
            &mut recorder,
            limits.fuel,
            limits.max_memory_bytes,
        );
        let stats = stats(fuel_used, input.len());
        let checked = differential::compare(
            &program.tree,
            input,
            recorder.replay(),
            limits.fuel,
            limits.max_memory_bytes,
            &result,
            fuel_used,
        );
        let result = match checked {
            Ok(()) => result,
            Err(why) => Err(Interrupt::Trap(format!(
                "x07-lite differential mismatch: {why}"
            ))),
        };
        return SolveOutcome { result, stats };
    }
    {
        let (result, fuel_used) = crate::vm::run(
            &program.code,
            input,
            host,
            limits.fuel,
            limits.max_memory_bytes,
        );
        SolveOutcome {
            result,
            stats: stats(fuel_used, input.len()),
        }
    }
}

/// The counters of the run that just ended on this thread.
fn stats(fuel_used: u64, input_len: usize) -> SolveStats {
    let c = value::counters();
    SolveStats {
        fuel_used,
        heap_used: c[6] + input_len as u64,
        mem: MemStats {
            alloc_calls: c[0],
            realloc_calls: c[1],
            free_calls: c[2],
            bytes_alloc_total: c[3],
            bytes_freed_total: c[4],
            live_bytes: c[5],
            peak_live_bytes: c[6],
            live_allocs: c[7],
            peak_live_allocs: c[8],
            memcpy_bytes: c[9],
        },
    }
}
