//! x07-lite: an x07-compatible runner for the X07 core subset.
//!
//! Layout of the language: `ast`/`parse` (JSON → tree), `check` (types, moves and
//! borrows; run on the program as written and again after `opt`, the real compiler's
//! rewrites), `tir` (the typed tree), `fuel` (the fuel formula), `compile_fuel` (the
//! compiler's own fuel, `compile.fuel_used`), `vm` (the register
//! machine that runs it), `eval` (the `solve` entry point, builtins, the reference
//! evaluator), `value` (runtime values), `std` (native std functions).
//! Around it: `host` (the interpreter's view of the OS), `os` (OS builtins and the
//! policy gate), `policy`, `report` (the x07 report), `solver`, `cli`.
#![forbid(unsafe_code)]

pub mod ast;
pub mod check;
pub mod compile_fuel;
pub mod eval;
pub mod fuel;
pub mod host;
pub mod opt;
pub mod parse;
pub mod std;
pub mod tir;
pub mod types;
pub mod value;
pub mod vm;

pub use crate::eval::{solve, MemStats, SolveLimits, SolveOutcome, SolveStats};
pub use crate::parse::{load_program, CompileError, Program};
pub mod derived;
pub mod policy;
pub mod project;
pub mod report;
pub mod templates;

// Running programs needs Linux: the solver's parent-death signal, child subreaper and
// dumpability (`prctl`), Landlock, `openat2`, pidfds, descriptors passed over UNIX
// sockets and a forking zygote. The language core, policies, projects, reports and
// templates above build anywhere.
#[cfg(target_os = "linux")]
pub mod cli;
#[cfg(target_os = "linux")]
pub mod limits;
#[cfg(target_os = "linux")]
pub mod os;
#[cfg(target_os = "linux")]
pub mod run;
#[cfg(target_os = "linux")]
pub mod sandbox;
#[cfg(target_os = "linux")]
pub mod solver;
#[cfg(target_os = "linux")]
pub mod zygote;

#[cfg(not(target_os = "linux"))]
compile_error!(
    "x07-lite runs programs only on Linux: its solver needs prctl (PR_SET_PDEATHSIG, \
     PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE), Landlock, openat2, pidfds, SCM_RIGHTS and a \
     forking zygote, which this target does not have (macOS is not supported; see the \
     README's Platforms section)"
);
