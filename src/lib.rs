//! cargo-x07: run X07 fixtures as test cases.
//!
//! The engine is a pipeline, one module per stage:
//! [`config`] → [`discover`] → [`fixture`] → [`plan`] → [`select`] → [`engine`] (runs
//! each case with a [`backend`] — [`run`] for the command line — and [`check`]s its
//! report) → [`report`] (every output is a sink of the engine's events), with
//! [`failure`] the data of what went wrong and [`message`] the only place that words it.
//! [`session`] ties the stages together for `cargo x07 test`, bless and the harness.
#![forbid(unsafe_code)]

pub mod backend;
pub mod bless;
pub mod check;
pub mod cli;
pub mod config;
pub mod discover;
pub mod engine;
pub mod failure;
pub mod fixture;
pub mod message;
pub mod model;
pub mod new_fixture;
pub mod partition;
pub mod plan;
pub mod policy;
pub mod report;
pub mod run;
pub mod run_command;
pub mod select;
pub mod session;
#[doc(hidden)]
pub mod testing;
