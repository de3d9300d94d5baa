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
//! PATH, else the embedded runner — this very test binary), and exits like
//! libtest: 0 when everything passed, 101 when a case failed.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::Arc;

use cargo_x07::config::{self, Selection};
use cargo_x07::run::{self, BackendChoice};
use cargo_x07::suite::{self, Collector};

/// Exit code for configuration and discovery errors.
pub const EXIT_SETUP_ERROR: i32 = 2;

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
/// directory). Returns the exit code.
pub fn run_with(mut args: libtest_mimic::Arguments, manifest_path: Option<PathBuf>) -> i32 {
    let manifest_path = manifest_path.or_else(|| {
        std::env::var_os("CARGO_MANIFEST_DIR").map(|dir| PathBuf::from(dir).join("Cargo.toml"))
    });
    let selection = Selection {
        manifest_path,
        packages: Vec::new(),
        workspace: true,
    };
    let workspace = match config::load(&selection) {
        Ok(workspace) => workspace,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_SETUP_ERROR;
        }
    };
    let exact = suite::exact_filter(&args).map(str::to_string);
    let cases = match suite::load_cases(&workspace, exact.as_deref()) {
        Ok(cases) => cases,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_SETUP_ERROR;
        }
    };
    let threads = suite::thread_count(args.test_threads, None, workspace.configured_jobs());
    args.test_threads = Some(threads);
    if args.list {
        let _listed = libtest_mimic::run(&args, suite::list_trials(&cases));
        return 0;
    }
    let configured = workspace.configured_x07();
    let runner = match run::resolve_runner(None, BackendChoice::Auto, configured.as_deref()) {
        Ok(runner) => runner,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_SETUP_ERROR;
        }
    };
    run::kill_running_on_interrupt();
    if matches!(args.format, Some(libtest_mimic::FormatSetting::Json)) {
        eprintln!("{}", runner.description);
    } else {
        println!("{}", runner.description);
    }
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => Arc::new(pool),
        Err(error) => {
            eprintln!("error: failed to start the case pool: {error}");
            return EXIT_SETUP_ERROR;
        }
    };
    let collector = Arc::new(Collector::new());
    let trials = suite::trials(&cases, Arc::new(runner), pool, collector);
    if libtest_mimic::run(&args, trials).has_failed() {
        101
    } else {
        0
    }
}
