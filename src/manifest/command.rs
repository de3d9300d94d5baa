//! The `x07 test` call of one manifest entry, and the line that reproduces it.
//!
//! One call per test (not one per manifest): x07-test notes §4.1 recorded ≈21 ms per
//! warm single-test call against ≈12 ms per test inside a whole-manifest call (≈8 ms
//! more per test), and no difference once compiling dominates (8.8 s vs 8.5 s for 30
//! cold tests; 4.2 s vs 4.1 s two at a time). In exchange each case keeps libtest's
//! filtering, sharding, parallelism and per-case timeout, its result streams as soon as
//! it ends, nothing is lost to x07's fail-fast or to a test that hangs the batch, and a
//! report belongs to exactly one test.
//!
//! Each call runs on a fresh copy of the project (the directory holding `x07.json`, or
//! the manifest's directory) in a fresh directory of the run's scratch root
//! ([`crate::run::scratch`]), whose manifest is rewritten to
//! hold only this entry — so another entry that x07 would refuse cannot block it (x07
//! resolves every entry before filtering). The working directory is an empty scratch
//! directory and `--artifact-dir` an absolute one beside it, so x07's `target/x07test/`
//! and sandbox attestations land there; a run-os test still runs in the manifest's
//! directory, of the copy. Nothing is written under the fixture roots.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde_json::{json, Value};

use super::format::SANDBOXED_WORLD;
use super::ManifestTest;
use crate::backend::RunnerKind;
use crate::config::SandboxBackend;
use crate::failure::RunnerFailure;
use crate::plan::PlannedCase;
use crate::run::{
    self, copy, path_from_cwd, shell_quote, Arg, CaptureLimits, LazyScratch, Reproduce, RunOutput,
    RunnerEnv,
};

/// The flags after `--filter ID` of every call: exactly that id, unit and property
/// tests alike, and no fail-fast (which would turn a failure into skips).
pub const SELECT_FLAGS: [&str; 3] = ["--exact", "--all", "--no-fail-fast"];

/// The variables that let a sandboxed test run on the OS sandbox backend (x07-test
/// notes §1.3, §6): without them `run-os-sandboxed` fails closed where there is no VM.
pub const OS_SANDBOX_ENV: [(&str, &str); 2] = [
    ("X07_SANDBOX_BACKEND", "os"),
    ("X07_I_ACCEPT_WEAKER_ISOLATION", "1"),
];

/// The variables a case's `x07 test` process gets on top of the run's environment: the
/// configured `env`, and for a sandboxed test on the `os` sandbox backend (the default)
/// the two of [`OS_SANDBOX_ENV`] — set on purpose, although inherited copies of them are
/// removed as run-shaping.
///
/// Everything else is the run's [`RunnerEnv`] (`crate::run::env`), the same one `x07 run`
/// cases get: inherited run-shaping variables (`X07_OS_*`, `X07_TOOL_API_CHILD`, the
/// sandbox ones, …) removed, toolchain set-up ones (`X07_CC`, `X07_NATIVE_CACHE_DIR`, …)
/// passed, the native cache default, and `--clean-env` / `env_clear = "all"`.
pub fn test_env(case: &PlannedCase) -> BTreeMap<String, String> {
    let mut env = case.run.env.clone();
    if case.world == SANDBOXED_WORLD && case.sandbox_backend == SandboxBackend::Os {
        for (key, value) in OS_SANDBOX_ENV {
            env.insert(key.into(), value.into());
        }
    }
    env
}

/// The arguments after the program: `test --manifest M --filter ID --exact --all
/// --no-fail-fast`, plus `--artifact-dir D` when given.
pub fn test_args(manifest: &Path, id: &str, artifact_dir: Option<&Path>) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "test".into(),
        "--manifest".into(),
        manifest.into(),
        "--filter".into(),
        id.into(),
    ];
    args.extend(SELECT_FLAGS.iter().map(OsString::from));
    if let Some(dir) = artifact_dir {
        args.push("--artifact-dir".into());
        args.push(dir.into());
    }
    args
}

/// The arguments of [`test_args`] as a [`crate::run::Arg`] list, with the original
/// manifest (what `crate::run::command_args` gives for a manifest case).
pub fn command_args(test: &ManifestTest) -> Vec<Arg> {
    test_args(&test.manifest, &test.id, None)
        .into_iter()
        .enumerate()
        .map(|(index, arg)| {
            if index == 2 {
                Arg::Path(PathBuf::from(arg))
            } else {
                Arg::Text(arg.to_string_lossy().into_owned())
            }
        })
        .collect()
}

/// The manifest a call runs: the original's `schema_version` and this one entry.
pub fn one_test_manifest(test: &ManifestTest) -> Value {
    json!({
        "schema_version": test.schema_version,
        "tests": [Value::Object(test.entry.clone())],
    })
}

/// Most bytes of an `x07 test` report kept: x07 caps a test's output at 1 MiB (x07-test
/// notes §4.2), and the report holds it at most three times in base64 (the status record,
/// `stdout_b64`, `stderr_b64`) — [`CaptureLimits::for_report`] of that cap keeps more than
/// that, with room for diagnostics and a property test's repro.
pub fn capture_limits() -> CaptureLimits {
    CaptureLimits::for_report(x07_lite::limits::DEFAULT_MAX_OUTPUT_BYTES)
}

/// Runs one manifest entry with `program` (`leading_args` first) in the run's environment
/// `env` plus [`test_env`]: copy the project into a fresh directory of the run's scratch
/// root, write the one-test manifest, call `x07 test` from a scratch directory, collect
/// (bounded by [`capture_limits`]). The case's directory is removed afterwards.
pub fn run_test(
    case: &PlannedCase,
    test: &ManifestTest,
    program: &Path,
    leading_args: &[OsString],
    env: &RunnerEnv,
    scratch: &LazyScratch,
) -> Result<RunOutput, RunnerFailure> {
    let io = |error: std::io::Error| RunnerFailure::Io(Arc::new(error));
    let case_dir = scratch.case_dir()?;
    let copy_name = test
        .copy_root
        .file_name()
        .map(|name| name.to_os_string())
        .unwrap_or_else(|| "project".into());
    let project_copy = case_dir.path().join(copy_name);
    copy::copy_fixture(&test.copy_root, &project_copy)?;
    let manifest = project_copy.join(&test.manifest_in_copy);
    let text = serde_json::to_string_pretty(&one_test_manifest(test)).expect("a JSON value prints");
    // The copy keeps symlinks as symlinks: replace the manifest rather than write through
    // a link to the original (or to anything else).
    let _ = std::fs::remove_file(&manifest);
    std::fs::write(&manifest, text).map_err(|error| RunnerFailure::Copy {
        path: test.manifest.clone(),
        reason: crate::failure::CopyFailure::Io(Arc::new(error)),
    })?;
    let cwd = case_dir.path().join("cwd");
    let artifacts = case_dir.path().join("artifacts");
    std::fs::create_dir_all(&cwd).map_err(io)?;
    let mut command = Command::new(program);
    command
        .args(leading_args)
        .args(test_args(&manifest, &test.id, Some(&artifacts)))
        .current_dir(&cwd);
    env.apply(&mut command, &test_env(case));
    let output = run::execute(command, case.timeout, capture_limits()).map(|mut output| {
        output.project_copy = Some(project_copy.clone());
        output
    });
    drop(case_dir);
    output.map_err(|error| RunnerFailure::Spawn {
        program: program.to_path_buf(),
        error: Arc::new(error),
    })
}

/// The line that reproduces a manifest case with the real toolchain, relative to the
/// current directory: `[env] x07 test --manifest M --filter ID --exact --all
/// --no-fail-fast`. It runs the original manifest (x07 checks all of it first) from the
/// current directory, where x07 writes `target/x07test/`.
pub fn reproduce(
    case: &PlannedCase,
    test: &ManifestTest,
    runner: RunnerKind,
    program: &str,
) -> Reproduce {
    let mut words: Vec<String> = test_env(case)
        .iter()
        .map(|(key, value)| format!("{key}={}", shell_quote(value)))
        .collect();
    words.push(shell_quote(program));
    let manifest: PathBuf = path_from_cwd(&test.manifest);
    words.extend(
        test_args(&manifest, &test.id, None)
            .iter()
            .map(|arg| shell_quote(&arg.to_string_lossy())),
    );
    Reproduce {
        runner,
        cargo_x07: None,
        x07: words.join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CaseId;
    use crate::plan::{resolve_expected, RunOptions, Target};
    use std::time::Duration;

    fn case(world: &str, backend: SandboxBackend) -> (PlannedCase, Arc<ManifestTest>) {
        let test = Arc::new(ManifestTest {
            manifest: PathBuf::from("/ws/fixtures/m/tests/tests.json"),
            copy_root: PathBuf::from("/ws/fixtures/m"),
            manifest_in_copy: PathBuf::from("tests/tests.json"),
            schema_version: "x07.tests_manifest@0.2.0".into(),
            id: "sb/read data".into(),
            entry: serde_json::from_value(
                json!({ "id": "sb/read data", "world": world, "entry": "t.read" }),
            )
            .unwrap(),
            expect: super::super::Expect::Pass,
        });
        let planned = PlannedCase {
            id: CaseId {
                fixture: "fixtures/m/tests/tests.json".into(),
                case: "sb/read data".into(),
                profile: world.into(),
            },
            target: Target::TestManifest(test.clone()),
            world: world.into(),
            input: None,
            run: RunOptions::default(),
            expect: resolve_expected(&Default::default(), world, "x07-test", Path::new("."))
                .unwrap(),
            timeout: Duration::from_secs(5),
            ignore: None,
            source_file: test.manifest.clone(),
            fixture_dir: PathBuf::from("/ws/fixtures/m/tests"),
            description: None,
            problems: Vec::new(),
            sandbox_backend: backend,
        };
        (planned, test)
    }

    #[test]
    fn sandboxed_tests_get_the_os_backend_by_default() {
        let (sandboxed, test) = case(SANDBOXED_WORLD, SandboxBackend::Os);
        let env = test_env(&sandboxed);
        assert_eq!(env["X07_SANDBOX_BACKEND"], "os");
        assert_eq!(env["X07_I_ACCEPT_WEAKER_ISOLATION"], "1");
        assert_eq!(
            reproduce(&sandboxed, &test, RunnerKind::X07, "x07").x07,
            "X07_I_ACCEPT_WEAKER_ISOLATION=1 X07_SANDBOX_BACKEND=os x07 test --manifest \
             /ws/fixtures/m/tests/tests.json --filter 'sb/read data' --exact --all --no-fail-fast"
        );
        let (vm, _) = case(SANDBOXED_WORLD, SandboxBackend::Vm);
        assert!(test_env(&vm).is_empty());
        let (os, _) = case("run-os", SandboxBackend::Os);
        assert!(test_env(&os).is_empty());
    }

    #[test]
    fn the_call_selects_exactly_one_test() {
        let args: Vec<String> = test_args(
            Path::new("/c/tests/tests.json"),
            "a::b",
            Some(Path::new("/s/a")),
        )
        .into_iter()
        .map(|arg| arg.into_string().unwrap())
        .collect();
        assert_eq!(
            args,
            [
                "test",
                "--manifest",
                "/c/tests/tests.json",
                "--filter",
                "a::b",
                "--exact",
                "--all",
                "--no-fail-fast",
                "--artifact-dir",
                "/s/a"
            ]
        );
        let (_, test) = case("run-os", SandboxBackend::Os);
        let manifest = one_test_manifest(&test);
        assert_eq!(manifest["tests"].as_array().unwrap().len(), 1);
        assert_eq!(manifest["schema_version"], "x07.tests_manifest@0.2.0");
    }
}
