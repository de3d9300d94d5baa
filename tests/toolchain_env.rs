//! The runner's environment on a real X07 user's machine: toolchain set-up variables
//! (`X07_CC`, `X07_NATIVE_CACHE_DIR`, …) reach `x07`, run-shaping ones (`X07_OS_*`,
//! `X07_WORLD`, …) never do, `--clean-env` / `env_clear = "all"` remove them all, the
//! native cache defaults to `<cargo target dir>/x07-native-cache`, and the first output line
//! names what was passed and removed. Measured with stand-ins that record the environment
//! they saw (`tests/data/fake-x07`, `tests/data/native-cache-x07`), since no real x07 is
//! installed here.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;

/// The cargo target directory of a workspace, as cargo itself reports it.
fn target_dir(ws: &Workspace) -> PathBuf {
    let output = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(ws.root())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    PathBuf::from(metadata["target_directory"].as_str().unwrap())
}

/// A workspace with one fake-runner fixture whose two profiles pass.
fn workspace(metadata: &str) -> Workspace {
    let ws = Workspace::new(metadata);
    ws.fake_fixture(
        "fixtures/env",
        &cat_report_sh(0),
        &[
            ("report-os.json", &report("run-os", b"", None)),
            (
                "report-sandbox.json",
                &report("run-os-sandboxed", b"", None),
            ),
        ],
    );
    ws
}

/// Runs `cargo x07 test --x07 fake-x07 <args>` with `vars` inherited; returns the output and
/// the `X07_*` variables each runner process saw (one sorted list per run).
fn run_logged(ws: &Workspace, args: &[&str], vars: &[(&str, &str)]) -> (Output, Vec<Vec<String>>) {
    let log = tempfile::NamedTempFile::new().unwrap();
    let fake = fake_x07();
    // One case at a time: the fake runner's log lines of parallel runs would interleave.
    let mut all = vec![
        "test",
        "--x07",
        fake.to_str().unwrap(),
        "--test-threads",
        "1",
    ];
    all.extend_from_slice(args);
    let mut command = ws.command(&all);
    command.env("FAKE_X07_LOG", log.path());
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    let log = std::fs::read_to_string(log.path()).unwrap();
    let mut runs: Vec<Vec<String>> = Vec::new();
    for line in log.lines() {
        if line.starts_with("ARGS ") {
            runs.push(Vec::new());
        } else if let (Some(name), Some(run)) = (line.strip_prefix("ENV "), runs.last_mut()) {
            run.push(name.to_string());
        }
    }
    (output, runs)
}

fn first_line(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

const CALLER: &[(&str, &str)] = &[
    ("X07_CC", "clang"),
    ("X07_CC_ARGS", "-O1"),
    ("X07_NATIVE_CACHE_DIR", "/var/cache/x07-native"),
    ("X07_OFFLINE", "1"),
    ("X07_OS_SANDBOXED", "1"),
    ("X07_OS_FS_READ_ROOTS", "/"),
    ("X07_WORLD", "run-os-sandboxed"),
    ("X07_PROFILE", "1"),
];

#[test]
fn set_up_variables_reach_x07_and_run_shaping_ones_never_do() {
    let ws = workspace("");
    let (output, runs) = run_logged(&ws, &[], CALLER);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(runs.len(), 2);
    for seen in &runs {
        assert_eq!(
            seen,
            &[
                "X07_CC=clang",
                "X07_CC_ARGS=-O1",
                "X07_NATIVE_CACHE_DIR=/var/cache/x07-native",
                "X07_OFFLINE=1",
            ],
            "{}",
            text(&output)
        );
    }
    // Names only, never values.
    assert_eq!(
        first_line(&output),
        format!(
            "runner: x07 0.2.17-fake at {}; inherited X07_*: passed X07_CC, X07_CC_ARGS, \
             X07_NATIVE_CACHE_DIR, X07_OFFLINE; removed X07_OS_FS_READ_ROOTS, X07_OS_SANDBOXED, \
             X07_PROFILE, X07_WORLD (run-shaping)",
            fake_x07().display()
        )
    );
    // The user's own cache is used, ours is not created.
    assert!(!target_dir(&ws).join("x07-native-cache").exists());
}

#[test]
fn clean_env_removes_every_inherited_x07_variable() {
    let ws = workspace("[workspace.metadata.x07]\nenv = { X07_FIXTURE_SET = \"kept\" }\n");
    let (output, runs) = run_logged(&ws, &["--clean-env"], CALLER);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(runs.len(), 2);
    for seen in &runs {
        // Only what the configuration sets explicitly.
        assert_eq!(seen, &["X07_FIXTURE_SET=kept"]);
    }
    assert!(
        first_line(&output).ends_with(
            "; inherited X07_*: removed X07_CC, X07_CC_ARGS, X07_NATIVE_CACHE_DIR, X07_OFFLINE, \
             X07_OS_FS_READ_ROOTS, X07_OS_SANDBOXED, X07_PROFILE, X07_WORLD (clean env)"
        ),
        "{}",
        first_line(&output)
    );
    // The same from the configuration key.
    let ws = workspace("[workspace.metadata.x07]\nenv_clear = \"all\"\n");
    let (output, runs) = run_logged(&ws, &[], CALLER);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(runs.iter().all(Vec::is_empty), "{runs:?}");
}

#[test]
fn the_native_cache_defaults_to_the_cargo_target_dir() {
    let ws = workspace("");
    let (output, runs) = run_logged(&ws, &[], &[("X07_OS_SANDBOXED", "1")]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let cache = target_dir(&ws).join("x07-native-cache");
    for seen in &runs {
        assert_eq!(seen, &[format!("X07_NATIVE_CACHE_DIR={}", cache.display())]);
    }
    assert!(cache.is_dir(), "created for the real toolchain");
    // Nothing was inherited but the run-shaping variable.
    assert!(
        first_line(&output).ends_with("; inherited X07_*: removed X07_OS_SANDBOXED (run-shaping)")
    );

    // Nothing inherited: the first line is just the runner.
    let (output, _) = run_logged(&ws, &[], &[]);
    assert_eq!(
        first_line(&output),
        format!("runner: x07 0.2.17-fake at {}", fake_x07().display())
    );
}

#[test]
fn the_native_cache_key_relative_paths_and_opting_out() {
    // A configured directory, relative to the manifest that names it.
    let ws = workspace("[workspace.metadata.x07]\nnative_cache_dir = \"caches/x07\"\n");
    let (output, runs) = run_logged(&ws, &[], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let configured = ws.root().join("caches/x07");
    for seen in &runs {
        assert_eq!(
            seen,
            &[format!("X07_NATIVE_CACHE_DIR={}", configured.display())]
        );
    }
    // A relative directory from the caller is made absolute against the directory
    // cargo x07 runs in (the runner itself runs in a temporary copy of the fixture).
    let (_, runs) = run_logged(
        &ws,
        &[],
        &[("X07_NATIVE_CACHE_DIR", "nc"), ("X07_PKG_HOME", "pkgs")],
    );
    for seen in &runs {
        assert_eq!(
            seen,
            &[
                format!("X07_NATIVE_CACHE_DIR={}", ws.root().join("nc").display()),
                format!("X07_PKG_HOME={}", ws.root().join("pkgs").display()),
            ]
        );
    }
    // "" leaves it to the toolchain.
    let ws = workspace("[workspace.metadata.x07]\nnative_cache_dir = \"\"\n");
    let (_, runs) = run_logged(&ws, &[], &[]);
    assert!(runs.iter().all(Vec::is_empty), "{runs:?}");
}

#[test]
fn cargo_x07_run_uses_the_same_environment() {
    let ws = workspace("");
    let log = tempfile::NamedTempFile::new().unwrap();
    let fake = fake_x07();
    let output = ws
        .command(&[
            "run",
            "fixtures/env",
            "--profile",
            "os",
            "--x07",
            fake.to_str().unwrap(),
        ])
        .env("FAKE_X07_LOG", log.path())
        .env("X07_CC", "gcc")
        .env("X07_OS_SANDBOXED", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let log = std::fs::read_to_string(log.path()).unwrap();
    let cache = target_dir(&ws).join("x07-native-cache");
    assert!(log.contains("ENV X07_CC=gcc\n"), "{log}");
    assert!(
        log.contains(&format!("ENV X07_NATIVE_CACHE_DIR={}\n", cache.display())),
        "{log}"
    );
    assert!(!log.contains("X07_OS_SANDBOXED"), "{log}");
    assert!(
        first_line(&output)
            .ends_with("; inherited X07_*: passed X07_CC; removed X07_OS_SANDBOXED (run-shaping)"),
        "{}",
        first_line(&output)
    );
}

/// The cases and profiles of a run share the native cache, and a second run (a CI job
/// whose cache of `target/` was restored) compiles nothing.
#[test]
fn cases_share_the_native_cache_and_a_second_run_compiles_nothing() {
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    let program = r#"{"decls":[],"imports":[],"kind":"entry","module_id":"main","schema_version":"x07.x07ast@0.8.0","solve":["view.to_bytes","input"]}"#;
    let expectations = r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "cases": [
        { "name": "a", "input": { "text": "a" }, "expect": { "output": { "text": "a" } } },
        { "name": "b", "input": { "text": "b" }, "expect": { "output": { "text": "b" } } } ] }"#;
    // Two copies of the same program in two fixtures: one cache entry.
    for fixture in ["fixtures/one", "fixtures/two"] {
        ws.fixture(
            fixture,
            &[
                ("x07.json", &project_manifest()),
                ("main.x07.json", program),
                (
                    "policy.json",
                    include_str!("data/workspaces/hello/policy.json"),
                ),
                ("x07test.json", expectations),
            ],
        );
    }
    let run = |log: &Path| {
        let standin = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/native-cache-x07");
        let output = ws
            .command(&[
                "test",
                "--x07",
                standin.to_str().unwrap(),
                "--test-threads",
                "1",
            ])
            .env("STANDIN_LOG", log)
            .env("STANDIN_RUNNER", cargo_x07())
            .env("STANDIN_COMPILE_MS", "0")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
        let log = std::fs::read_to_string(log).unwrap();
        let count = |word: &str| log.lines().filter(|l| l.starts_with(word)).count();
        (count("miss "), count("hit "))
    };
    let first = tempfile::NamedTempFile::new().unwrap();
    assert_eq!(run(first.path()), (1, 3));
    let second = tempfile::NamedTempFile::new().unwrap();
    assert_eq!(run(second.path()), (0, 4));
    let entries = std::fs::read_dir(target_dir(&ws).join("x07-native-cache"))
        .unwrap()
        .count();
    assert_eq!(entries, 1);
}

/// A stand-in `x07` that appends each call's arguments and `X07_*` environment to
/// `$ENV_LOG`, then answers `x07 test` calls with the `x07-replay` stand-in (`$REPLAY`,
/// the recorded reports of the bundled manifest project) and `x07 run` calls with
/// `tests/data/fake-x07` (`$FAKE`).
const RECORDING_X07: &str = r#"#!/bin/sh
if [ "$1" = "--version" ]; then echo "x07 0.2.17-recording"; exit 0; fi
{
  printf 'CALL'; for arg in "$@"; do printf ' [%s]' "$arg"; done; printf '\n'
  env | grep '^X07' | sort | sed 's/^/ENV /'
} >> "$ENV_LOG"
if [ "$1" = "test" ]; then exec "$REPLAY" "$@"; fi
exec "$FAKE" "$@"
"#;

/// A workspace with the fake-runner fixture `fixtures/env` (two `x07 run` cases) and a copy
/// of the bundled manifest project outside the fixture roots, whose `tests/tests.json`
/// the `test_manifests` key names (six `x07 test` calls, one skipped entry).
fn manifest_workspace(metadata: &str) -> Workspace {
    let ws = workspace(&format!(
        "[workspace.metadata.x07]\ntest_manifests = [\"projects/calc/tests/tests.json\"]\n{metadata}"
    ));
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/manifests/calc");
    common::copy_tree(&bundled, &ws.root().join("projects/calc"));
    ws
}

/// `cargo x07 test` with the recording stand-in, one case at a time, with `vars`
/// inherited; the run's output and every runner call.
fn run_recorded(ws: &Workspace, args: &[&str], vars: &[(&str, &str)]) -> (Output, Vec<Call>) {
    use std::os::unix::fs::PermissionsExt;
    let standin = ws.root().join("recording-x07");
    std::fs::write(&standin, RECORDING_X07).unwrap();
    std::fs::set_permissions(&standin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut all = vec![
        "test",
        "--x07",
        standin.to_str().unwrap(),
        "--test-threads",
        "1",
    ];
    all.extend_from_slice(args);
    let mut command = ws.command(&all);
    command
        .env("ENV_LOG", log.path())
        .env("REPLAY", x07_replay())
        .env("FAKE", fake_x07());
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    (output, read_call_log(log.path()))
}

/// Checks that every call saw `expected` — the `x07 run` calls and the `x07 test` calls
/// alike — and the sandboxed test also the os sandbox backend's two variables.
fn assert_same_environment(output: &Output, calls: &[Call], expected: &[String]) {
    assert_eq!(output.status.code(), Some(0), "{}", text(output));
    let runs = calls.iter().filter(|c| c.args.starts_with("[run]")).count();
    let tests = calls
        .iter()
        .filter(|c| c.args.starts_with("[test]"))
        .count();
    assert_eq!((runs, tests), (2, 6), "{}", text(output));
    for call in calls {
        let mut want = expected.to_vec();
        if call.args.contains("[files/read-data sandboxed]") {
            want.push("X07_I_ACCEPT_WEAKER_ISOLATION=1".into());
            want.push("X07_SANDBOX_BACKEND=os".into());
            want.sort();
        }
        assert_eq!(call.env, want, "{}", call.args);
    }
}

/// Inherited besides [`CALLER`]: variables that would turn `x07 test` into a tool child
/// or a VM sandbox run.
const CALLER_FOR_TESTS: &[(&str, &str)] = &[
    ("X07_TOOL_API_CHILD", "1"),
    ("X07_SANDBOX_BACKEND", "vm"),
    ("X07_I_ACCEPT_WEAKER_ISOLATION", "0"),
];

#[test]
fn manifest_cases_get_the_same_environment_as_run_cases() {
    let ws = manifest_workspace("env = { X07_FIXTURE_SET = \"kept\" }\n");
    let mut inherited = CALLER.to_vec();
    inherited.extend_from_slice(CALLER_FOR_TESTS);

    // Set-up variables pass (the caller's native cache wins), run-shaping ones never
    // reach either kind of call, the configured env is set.
    let (output, calls) = run_recorded(&ws, &[], &inherited);
    let passed = [
        "X07_CC=clang",
        "X07_CC_ARGS=-O1",
        "X07_FIXTURE_SET=kept",
        "X07_NATIVE_CACHE_DIR=/var/cache/x07-native",
        "X07_OFFLINE=1",
    ]
    .map(String::from);
    assert_same_environment(&output, &calls, &passed);
    assert!(
        first_line(&output).ends_with(
            "; inherited X07_*: passed X07_CC, X07_CC_ARGS, X07_NATIVE_CACHE_DIR, X07_OFFLINE; \
             removed X07_I_ACCEPT_WEAKER_ISOLATION, X07_OS_FS_READ_ROOTS, X07_OS_SANDBOXED, \
             X07_PROFILE, X07_SANDBOX_BACKEND, X07_TOOL_API_CHILD, X07_WORLD (run-shaping)"
        ),
        "{}",
        first_line(&output)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let sandboxed = "projects/calc/tests/tests.json::files/read-data sandboxed::run-os-sandboxed";
    assert!(
        stdout
            .lines()
            .any(|line| line.contains(sandboxed) && line.ends_with("... ok")),
        "{stdout}"
    );

    // The native cache default is the one the x07 run cases get.
    let (output, calls) = run_recorded(&ws, &[], CALLER_FOR_TESTS);
    let cache = target_dir(&ws).join("x07-native-cache");
    let default = [
        "X07_FIXTURE_SET=kept".to_string(),
        format!("X07_NATIVE_CACHE_DIR={}", cache.display()),
    ];
    assert_same_environment(&output, &calls, &default);

    // --clean-env: nothing inherited, only what is set on purpose.
    let (output, calls) = run_recorded(&ws, &["--clean-env"], &inherited);
    assert_same_environment(&output, &calls, &["X07_FIXTURE_SET=kept".to_string()]);

    // env_clear = "all" likewise.
    let ws = manifest_workspace("env_clear = \"all\"\n");
    let (output, calls) = run_recorded(&ws, &[], &inherited);
    assert_same_environment(&output, &calls, &[]);
}
