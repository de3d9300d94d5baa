//! cargo-x07: run X07 fixtures as test cases.
//!
//! The engine is a pipeline, one module per stage:
//! discover → plan → run → check → report. The data passed between stages
//! lives in [`model`].
#![forbid(unsafe_code)]

pub mod bless;
pub mod check;
pub mod cli;
pub mod config;
pub mod discover;
pub mod fixture;
pub mod message;
pub mod model;
pub mod partition;
pub mod plan;
pub mod policy;
pub mod report;
pub mod run;
pub mod suite;
