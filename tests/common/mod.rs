//! Shared helpers for the integration tests: small cargo workspaces built in
//! temporary directories, the real `cargo-x07` binary, the test-only fake
//! runner (`tests/data/fake-x07`), and report builders.
#![allow(dead_code)]

pub mod replay;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use serde_json::{json, Value};

/// The real binary under test.
pub fn cargo_x07() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cargo-x07"))
}

/// The `x07-replay` stand-in (the workspace member `replay/`): answers `x07 test` calls
/// with the real toolchain's recorded reports (`tests/data/x07-replay/`).
pub fn x07_replay() -> PathBuf {
    replay::x07_replay_next_to(&cargo_x07())
}

/// The fake runner script.
pub fn fake_x07() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fake-x07")
}

/// A one-package cargo workspace in a temporary directory.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    /// A workspace whose `Cargo.toml` carries `metadata` (TOML appended verbatim).
    pub fn new(metadata: &str) -> Workspace {
        let dir = tempfile::Builder::new()
            .prefix("cargo-x07-test-")
            .tempdir()
            .unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/lib.rs"), "").unwrap();
        std::fs::write(
            root.join("Cargo.toml"),
            format!(
                "[package]\nname = \"ws\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n{metadata}\n"
            ),
        )
        .unwrap();
        Workspace { dir }
    }

    /// The workspace root.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `files` (relative path → contents) under `fixture` (relative to the root).
    pub fn fixture(&self, fixture: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = self.root().join(fixture);
        for (name, text) in files {
            write(&dir.join(name), text.as_bytes());
        }
        dir
    }

    /// A fake-runner fixture: x07.json with `os` and `sandbox` profiles, a valid sandbox
    /// policy, and a `fake.sh` body (gets the profile as `$1`).
    pub fn fake_fixture(&self, fixture: &str, fake_sh: &str, extra: &[(&str, &str)]) -> PathBuf {
        let dir = self.fixture(
            fixture,
            &[
                ("x07.json", &project_manifest()),
                (
                    "policy.json",
                    include_str!("../data/workspaces/hello/policy.json"),
                ),
                ("main.x07.json", "{}\n"),
                ("fake.sh", fake_sh),
            ],
        );
        for (name, text) in extra {
            write(&dir.join(name), text.as_bytes());
        }
        dir
    }

    /// `cargo-x07 x07 <args>` run in the workspace root with a clean environment
    /// (no `X07`, no `CI`, no inherited `X07_*`).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(cargo_x07());
        command.arg("x07").args(args).current_dir(self.root());
        command
            .env_remove("X07")
            .env_remove("CI")
            .env_remove("RUST_TEST_THREADS");
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("X07_")
                || key.to_string_lossy().starts_with("GITHUB_")
            {
                command.env_remove(key);
            }
        }
        command
    }

    /// Runs `cargo x07 test --x07 <fake> <args>`.
    pub fn test_with_fake(&self, args: &[&str]) -> Output {
        let fake = fake_x07();
        let mut all = vec!["test", "--x07", fake.to_str().unwrap()];
        all.extend_from_slice(args);
        self.command(&all).output().unwrap()
    }

    /// Every file under the root except cargo's own, with its bytes.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        collect(self.root(), self.root(), &mut files);
        files
    }
}

fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name == "Cargo.lock" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            collect(root, &path, files);
        } else {
            files.insert(
                path.strip_prefix(root).unwrap().to_path_buf(),
                std::fs::read(&path).unwrap(),
            );
        }
    }
}

/// Writes a file, creating parent directories.
pub fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// An `x07.json` with an `os` and a `sandbox` profile.
pub fn project_manifest() -> String {
    json!({
        "schema_version": "x07.project@0.5.0",
        "compat": "0.5",
        "world": "run-os",
        "entry": "main.x07.json",
        "module_roots": ["."],
        "dependencies": [],
        "lockfile": "x07.lock.json",
        "default_profile": "os",
        "profiles": {
            "os": { "world": "run-os" },
            "sandbox": { "world": "run-os-sandboxed", "policy": "policy.json" }
        }
    })
    .to_string()
}

/// A schema-valid project report for `world` with this output, or a trap.
pub fn report(world: &str, output: &[u8], trap: Option<&str>) -> String {
    let mut report: Value =
        serde_json::from_str(include_str!("../data/reports/ok-sandbox-project.json")).unwrap();
    let engine = base64::engine::general_purpose::STANDARD;
    report["world"] = json!(world);
    report["compile"]["native_requires"]["world"] = json!(world);
    if world == "run-os" {
        report.as_object_mut().unwrap().remove("sandbox_backend");
    }
    let mut frame = (output.len() as u32).to_le_bytes().to_vec();
    frame.extend_from_slice(output);
    report["solve"]["solve_output_b64"] = json!(engine.encode(output));
    report["solve"]["stdout_b64"] = json!(engine.encode(&frame));
    if let Some(trap) = trap {
        report["exit_code"] = json!(1);
        report["solve"]["ok"] = json!(false);
        report["solve"]["exit_status"] = json!(132);
        report["solve"]["trap"] = json!(trap);
        report["solve"]["solve_output_b64"] = json!("");
        report["solve"]["stdout_b64"] = json!("");
        report["solve"]["stderr_b64"] = json!(engine.encode(format!("{trap}\n")));
    }
    serde_json::to_string_pretty(&report).unwrap() + "\n"
}

/// A `fake.sh` that prints `report-<profile>.json` and exits with `code`.
pub fn cat_report_sh(code: i32) -> String {
    format!("cat \"report-$1.json\"\nexit {code}\n")
}

/// Text of stdout + stderr.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Whether a process is gone (or a zombie waiting to be reaped).
#[cfg(unix)]
pub fn process_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// Reads the pid written to `file` and waits up to 5 s for that process to be gone.
#[cfg(unix)]
pub fn pid_file_process_gone(file: &Path) -> (i32, bool) {
    let pid: i32 = std::fs::read_to_string(file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    for _ in 0..50 {
        if process_gone(pid) {
            return (pid, true);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    (pid, process_gone(pid))
}

/// The libtest outcome (`ok`, `FAILED`, `ignored`) printed for `name`, or `""`.
pub fn outcome<'a>(output: &'a str, name: &str) -> &'a str {
    output
        .lines()
        .filter_map(|line| line.strip_prefix("test "))
        .filter_map(|line| line.split_once(" ... "))
        .find(|(test, _)| test.trim_end() == name)
        .map(|(_, result)| result.trim())
        .unwrap_or("")
}

/// One runner call a logging stand-in recorded: its arguments and the variables it saw.
#[derive(Debug)]
pub struct Call {
    /// The `CALL` line's text (the arguments as the stand-in printed them).
    pub args: String,
    /// The `ENV` lines that followed it.
    pub env: Vec<String>,
}

/// Reads a stand-in's call log: a `CALL <args>` line per call, each followed by the
/// `ENV <name=value>` lines of what that call saw.
pub fn read_call_log(log: &Path) -> Vec<Call> {
    let mut calls: Vec<Call> = Vec::new();
    for line in std::fs::read_to_string(log).unwrap().lines() {
        if let Some(args) = line.strip_prefix("CALL ") {
            calls.push(Call {
                args: args.to_string(),
                env: Vec::new(),
            });
        } else if let (Some(var), Some(call)) = (line.strip_prefix("ENV "), calls.last_mut()) {
            call.env.push(var.to_string());
        }
    }
    calls
}

/// The lines GitHub would read as a workflow command that cargo-x07 did not mean to
/// write: a legacy `##[` anywhere, or a line starting (after blanks) with `::` that is not
/// one of cargo-x07's own commands — whose command name and properties (everything up to
/// the `::` before the message) carry no program text.
pub fn injected_commands(output: &str) -> Vec<String> {
    output
        .lines()
        .filter(|line| {
            if line.contains("##[") {
                return true;
            }
            let trimmed = line.trim_start();
            if !trimmed.starts_with("::") {
                return false;
            }
            // cargo-x07's annotations start the line and name the case in `title=`.
            if let Some(rest) = line.strip_prefix("::error ") {
                let properties = rest.split("::").next().unwrap_or("");
                return properties.contains("injected") || !properties.contains(",title=fixtures/");
            }
            let ours = trimmed.starts_with("::group::fixtures/")
                || trimmed == "::endgroup::"
                || trimmed.starts_with("::stop-commands::cargo-x07-")
                || (trimmed.starts_with("::cargo-x07-") && trimmed.ends_with("::"));
            !ours || trimmed.contains("injected")
        })
        .map(str::to_string)
        .collect()
}

/// Copies the directory tree `from` to `to` (directories and regular files), creating
/// directories as needed.
pub fn copy_tree(from: &Path, to: &Path) {
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

/// Every file under `dir` (by its full path) with its bytes.
pub fn files_under(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}
