//! Turns cargo-x07 cases into `libtest_mimic::Trial`s for a `harness = false`
//! test target, so `cargo test` and `cargo nextest run` show one test per
//! fixture × case × profile, named exactly as `cargo x07 test` names them.
//!
//! ```toml
//! [[test]]
//! name = "fixtures"
//! harness = false
//! ```
//!
//! ```text
//! // tests/fixtures.rs
//! fn main() {
//!     x07_harness::main()
//! }
//! ```
//!
//! The target discovers the fixtures of the whole workspace (settings from
//! `[workspace.metadata.x07]` / `[package.metadata.x07]`), runs them with the
//! same runner `cargo x07 test` would pick (`$X07`, the `x07` key, `x07` on
//! PATH, else the embedded runner, in-process: its solver zygotes are this very
//! test binary started as `<test binary> __x07 __zygote`, which [`main`] dispatches
//! before anything else), and exits with the
//! codes `cargo x07 test` uses: 0 when everything passed, 1 when a case failed
//! (any non-zero code is a failure to `cargo test` and nextest), 4 when the workspace
//! has no case at all.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use cargo_x07::config::Selection;
use cargo_x07::report::Streams;
use cargo_x07::run;
use cargo_x07::session::{self, TestRequest};

/// Exit code for configuration and discovery errors.
pub const EXIT_SETUP_ERROR: i32 = cargo_x07::engine::exit::USAGE_ERROR;

/// Runs the harness with the process's arguments and exits. Call it from the
/// `main` of a `harness = false` test target.
pub fn main() -> ! {
    if let Some(code) = run::dispatch_embedded_runner() {
        std::process::exit(code);
    }
    let args = libtest_mimic::Arguments::from_args();
    std::process::exit(run_with(args, None));
}

/// Runs the harness with explicit libtest arguments; `manifest_path` picks the
/// workspace (default: `$CARGO_MANIFEST_DIR/Cargo.toml`, else the current
/// directory). Returns the exit code — the same code `cargo x07 test` returns for the
/// same cases (see `docs/ci.md`).
pub fn run_with(args: libtest_mimic::Arguments, manifest_path: Option<PathBuf>) -> i32 {
    let manifest_path = manifest_path.or_else(|| {
        std::env::var_os("CARGO_MANIFEST_DIR").map(|dir| PathBuf::from(dir).join("Cargo.toml"))
    });
    let request = TestRequest {
        packages: Selection {
            manifest_path,
            packages: Vec::new(),
            workspace: true,
        },
        libtest: args,
        ..TestRequest::default()
    };
    session::run_tests(request, Streams::standard())
}
