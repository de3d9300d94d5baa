//! x07-lite: an x07-compatible runner for the X07 core subset.
//!
//! Layout: `ast`/`parse` (JSON → tree), `check` (compile-time rejections),
//! `eval` (values, forms, builtins), `std` (native std functions),
//! `host` (the interpreter's view of the OS), `os` (OS builtins and the
//! policy gate), `policy`, `report` (the x07 report), `cli`.
#![forbid(unsafe_code)]

pub mod ast;
pub mod check;
pub mod eval;
pub mod host;
pub mod parse;
pub mod std;
pub mod types;
pub mod value;

pub use crate::eval::{solve, MemStats, SolveLimits, SolveOutcome, SolveStats};
pub use crate::parse::{load_program, CompileError, Program};
pub mod cli;
pub mod derived;
pub mod limits;
pub mod os;
pub mod policy;
pub mod project;
pub mod report;
pub mod run;
pub mod sandbox;
pub mod solver;
pub mod templates;
pub mod zygote;
