//! Where the `x07-replay` stand-in is (shared by the integration tests and the bench,
//! which includes this file by path).
//!
//! `x07-replay` is the workspace member `replay/` (not a binary of cargo-x07, so cargo
//! sets no `CARGO_BIN_EXE_x07-replay` here): it is built into the same
//! `<target>/<profile>/` directory as the cargo-x07 under test. `cargo test --workspace`
//! and `cargo build` have built it already; a run of only this package's tests (`cargo
//! test -p cargo-x07 --test NAME`, `cargo bench -p cargo-x07`) has not, so the first
//! call builds it there — once per process, offline, with the same profile and target
//! directory (a no-op when it is up to date).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The `x07-replay` next to `cargo_x07` (the binary under test), built first.
pub fn x07_replay_next_to(cargo_x07: &Path) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| build_next_to(cargo_x07)).clone()
}

fn build_next_to(cargo_x07: &Path) -> PathBuf {
    let profile_dir = cargo_x07
        .parent()
        .expect("the cargo-x07 binary is in <target>/<profile>/");
    let target_dir = profile_dir
        .parent()
        .expect("the profile directory is in the target directory");
    let repository = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new(env!("CARGO"));
    command
        .args([
            "build",
            "--quiet",
            "--package",
            "x07-replay",
            "--manifest-path",
        ])
        .arg(repository.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target_dir)
        .env("CARGO_NET_OFFLINE", "true");
    // `debug` is the dev profile's directory; every other profile has its own name
    // (`cargo bench` builds into `release`).
    match profile_dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") | None => {}
        Some(profile) => {
            command.args(["--profile", profile]);
        }
    }
    let output = command.output().expect("cargo runs");
    assert!(
        output.status.success(),
        "building x07-replay failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let replay = profile_dir.join(format!("x07-replay{}", std::env::consts::EXE_SUFFIX));
    assert!(replay.is_file(), "{} was not built", replay.display());
    replay
}
