//! `cargo x07 test` and a harness test target exit with the same code on the same
//! fixtures: all pass, a failure, a filter that selects nothing, and no cases at all.
//! Both run in this process (the CLI through its library entry point), on the embedded
//! runner, which is this very binary (`__x07`).

use std::path::{Path, PathBuf};

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn workspace(name: &str) -> Scratch {
    let dir =
        std::env::temp_dir().join(format!("x07-harness-parity-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/ci/workspace"),
        &dir,
    );
    Scratch(dir)
}

fn cli_code(manifest: &Path, libtest_args: &[&str]) -> i32 {
    let mut args = vec![
        "cargo-x07".to_string(),
        "x07".into(),
        "test".into(),
        "--manifest-path".into(),
        manifest.display().to_string(),
        "--workspace".into(),
    ];
    args.extend(libtest_args.iter().map(|arg| arg.to_string()));
    cargo_x07::cli::main_with_args(args.into_iter().map(Into::into).collect())
}

fn harness_code(manifest: &Path, libtest_args: &[&str]) -> i32 {
    let args = libtest_mimic::Arguments::from_iter(
        std::iter::once("fixtures").chain(libtest_args.iter().copied()),
    );
    x07_harness::run_with(args, Some(manifest.to_path_buf()))
}

fn main() {
    if let Some(code) = cargo_x07::run::dispatch_embedded_runner() {
        std::process::exit(code);
    }
    std::env::remove_var("X07");
    std::env::remove_var("RUST_TEST_THREADS");
    let mut failures = Vec::new();
    // The libtest lines of these runs go to a log file (some of them fail on purpose).
    let log = std::env::temp_dir().join(format!("x07-harness-parity-{}.log", std::process::id()));
    let log_arg = log.display().to_string();
    let mut check = |what: &str, manifest: &Path, args: &[&str], expected: i32| {
        let args: Vec<&str> = args
            .iter()
            .copied()
            .chain(["--logfile", log_arg.as_str()])
            .collect();
        let cli = cli_code(manifest, &args);
        let harness = harness_code(manifest, &args);
        if cli != harness || cli != expected {
            failures.push(format!(
                "{what}: cargo x07 test exited {cli}, the harness {harness}; both should exit {expected}"
            ));
        }
    };

    let passing = workspace("pass");
    let manifest = passing.0.join("Cargo.toml");
    check("all pass", &manifest, &[], 0);
    check(
        "a filter that selects nothing",
        &manifest,
        &["no-such-case"],
        0,
    );

    let failing = workspace("fail");
    let greet = failing.0.join("fixtures/greet/x07test.json");
    let text = std::fs::read_to_string(&greet).unwrap();
    std::fs::write(&greet, text.replace("hello, ci", "hello, CI")).unwrap();
    check("a failure", &failing.0.join("Cargo.toml"), &[], 1);

    let empty = workspace("empty");
    std::fs::remove_dir_all(empty.0.join("fixtures")).unwrap();
    std::fs::create_dir_all(empty.0.join("fixtures")).unwrap();
    check("no case at all", &empty.0.join("Cargo.toml"), &[], 4);

    let _ = std::fs::remove_file(&log);
    if failures.is_empty() {
        println!("exit codes agree");
    } else {
        for failure in &failures {
            eprintln!("{failure}");
        }
        std::process::exit(1);
    }
}
