//! x07-lite: an x07-compatible runner for the X07 core subset.
//!
//! Layout of the language: `ast`/`parse` (JSON → tree), `check` (types, moves and
//! borrows; run on the program as written and again after `opt`, the real compiler's
//! rewrites), `tir` (the typed tree), `fuel` (the fuel formula), `vm` (the register
//! machine that runs it), `eval` (the `solve` entry point, builtins, the reference
//! evaluator), `value` (runtime values), `std` (native std functions).
//! Around it: `host` (the interpreter's view of the OS), `os` (OS builtins and the
//! policy gate), `policy`, `report` (the x07 report), `solver`, `cli`.
#![forbid(unsafe_code)]

pub mod ast;
pub mod check;
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
pub mod cli;
pub mod derived;
pub mod limits;
pub mod os;
pub mod policy;
pub mod project;
pub mod report;
pub mod sandbox;
pub mod solver;
pub mod templates;
