//! cargo-x07 as a user's workspace gets it (README, "In your own workspace"): `cargo
//! install` puts `cargo-x07` on PATH, and `x07-harness` is a dev-dependency whose
//! `harness = false` test target runs the fixtures under `cargo test`. A throwaway
//! workspace outside this repository depends on it **by path** (the README's git form
//! names the same packages from a git source), builds offline against this repository's
//! lockfile and target directory (so nothing is downloaded and the dependencies already
//! built for this test run are reused), and runs both.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{cargo_x07, outcome, text, write};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The target directory this test binary was built in (`<target>/tmp` is
/// `CARGO_TARGET_TMPDIR`).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is inside the target directory")
        .to_path_buf()
}

/// `cargo <args>` in `dir`, offline, with this repository's target directory and a clean
/// environment (no inherited runner selection, CI or X07_* settings).
fn cargo(dir: &Path, args: &[&str], path: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO"));
    command
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_NET_OFFLINE", "true")
        .env_remove("X07")
        .env_remove("CI")
        .env_remove("RUST_TEST_THREADS")
        .env_remove("GITHUB_ACTIONS");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("X07_") {
            command.env_remove(key);
        }
    }
    if let Some(bin) = path {
        let mut paths = vec![bin.to_path_buf()];
        paths.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        command.env("PATH", std::env::join_paths(paths).unwrap());
    }
    command.output().expect("cargo runs")
}

#[test]
fn a_user_workspace_installs_cargo_x07_and_runs_the_harness_by_path() {
    let ws = tempfile::Builder::new()
        .prefix("cargo-x07-user-")
        .tempdir()
        .unwrap();
    let root = ws.path();
    let harness = repo().join("harness");
    write(
        &root.join("Cargo.toml"),
        format!(
            "[package]\nname = \"x07-user\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dev-dependencies]\nx07-harness = {{ path = {:?} }}\n\n\
             [[test]]\nname = \"fixtures\"\nharness = false\n\n[workspace]\n",
            harness.display().to_string()
        )
        .as_bytes(),
    );
    write(&root.join("src/lib.rs"), b"");
    write(
        &root.join("tests/fixtures.rs"),
        b"fn main() {\n    x07_harness::main()\n}\n",
    );
    // The dependency versions this repository's tests ran with: resolvable offline.
    std::fs::copy(repo().join("Cargo.lock"), root.join("Cargo.lock")).unwrap();
    let created = Command::new(cargo_x07())
        .args(["x07", "new", "fixtures/hello"])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", text(&created));

    // `cargo install --path` (the README's `--git` form, from a path; `--debug` reuses the
    // binary this test run already built).
    let tools = root.join("tools");
    let installed = cargo(
        root,
        &[
            "install",
            "--locked",
            "--offline",
            "--debug",
            "--path",
            repo().to_str().unwrap(),
            "--root",
            tools.to_str().unwrap(),
        ],
        None,
    );
    assert!(installed.status.success(), "{}", text(&installed));
    let bin = tools.join("bin");
    assert!(bin.join("cargo-x07").is_file());
    // Then `cargo x07 …` works in the user's workspace.
    let output = cargo(root, &["x07", "test"], Some(&bin));
    let out = text(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(out.starts_with("runner: embedded x07-lite"), "{out}");
    assert!(out.contains("2 passed; 0 failed"), "{out}");

    // The harness target: `cargo test` runs the same cases with the same names.
    let output = cargo(root, &["test", "--offline", "--test", "fixtures"], None);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert_eq!(outcome(&out, "fixtures/hello::greet::os"), "ok", "{out}");
    assert_eq!(
        outcome(&out, "fixtures/hello::greet::sandbox"),
        "ok",
        "{out}"
    );
    assert!(out.contains("2 passed; 0 failed"), "{out}");
}
