//! `x07-replay`: a stand-in for the real `x07` that answers single-test `x07 test` calls
//! with what x07 0.2.17 printed when it ran those tests (the reports recorded under
//! `tests/data/x07-test/reports/`, copied verbatim from the toolchain facts). It lets the
//! test suite and the README example drive cargo-x07's manifest cases end to end where
//! the real toolchain cannot be installed. It compiles and runs nothing.
//!
//! It answers `x07 test --manifest M --filter ID --exact [--all] [--no-fail-fast]
//! [--artifact-dir D]` when the entry `ID` of `M` is, key for key, an entry listed in
//! `tests/data/x07-replay/index.json` and every file that entry lists (the test module,
//! the code under test, the policy, the data) has the recorded content hash. For
//! sandboxed tests the recording also depends on `X07_SANDBOX_BACKEND` and
//! `X07_I_ACCEPT_WEAKER_ISOLATION`, as it did for the real x07. Anything else — another
//! command, another test, a changed file, an environment no recording was made in — is
//! refused with exit code 2 and a message saying why; it never makes a result up.
//!
//! What it changes in a recorded report: the `invocation` (argv, cwd, manifest path,
//! module root) is this call's, the test's `id` and `entry` are the ones asked for (the
//! index says when a recording was made under another id), and when the recording holds
//! several tests the `summary` is recounted for the one test taken from it. It repeats
//! the recorded side effects: the artifact directories of OS-world tests and the files a
//! test writes (`marker.txt`).  See `tests/data/x07-replay/README.md`.
//!
//! It is a workspace member of its own (`replay/`, `publish = false`), not a binary of
//! cargo-x07: `cargo install` never puts this fake `x07` on a user's PATH, and the
//! product binary embeds none of the recordings. `cargo build` and `cargo test
//! --workspace` build it into `target/<profile>/`, where the tests find it
//! (`tests/common/replay.rs`).
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{json, Map, Value};

/// The index: which manifest entries are answered with which recording.
const INDEX: &str = include_str!("../../tests/data/x07-replay/index.json");

/// The recorded reports, by file name.
const RECORDINGS: &[(&str, &str)] = &[
    (
        "basic.filter-exact-pass.json",
        include_str!("../../tests/data/x07-test/reports/basic.filter-exact-pass.json"),
    ),
    (
        "basic.full-no-fail-fast.json",
        include_str!("../../tests/data/x07-test/reports/basic.full-no-fail-fast.json"),
    ),
    (
        "basic.one-bad-status-bytes.json",
        include_str!("../../tests/data/x07-test/reports/basic.one-bad-status-bytes.json"),
    ),
    (
        "basic.one-compile-error.json",
        include_str!("../../tests/data/x07-test/reports/basic.one-compile-error.json"),
    ),
    (
        "basic.one-contract-violation.json",
        include_str!("../../tests/data/x07-test/reports/basic.one-contract-violation.json"),
    ),
    (
        "basic.one-default-limit-5s.json",
        include_str!("../../tests/data/x07-test/reports/basic.one-default-limit-5s.json"),
    ),
    (
        "basic.one-fail-bytes.json",
        include_str!("../../tests/data/x07-test/reports/basic.one-fail-bytes.json"),
    ),
    (
        "basic.one-fail-code.json",
        include_str!("../../tests/data/x07-test/reports/basic.one-fail-code.json"),
    ),
    (
        "basic.one-fail-i32.json",
        include_str!("../../tests/data/x07-test/reports/basic.one-fail-i32.json"),
    ),
    (
        "basic.one-fuel-exhausted.json",
        include_str!("../../tests/data/x07-test/reports/basic.one-fuel-exhausted.json"),
    ),
    (
        "basic.one-status-skip-expect-pass.json",
        include_str!("../../tests/data/x07-test/reports/basic.one-status-skip-expect-pass.json"),
    ),
    (
        "basic.one-timeout.json",
        include_str!("../../tests/data/x07-test/reports/basic.one-timeout.json"),
    ),
    (
        "basic.one-trap.json",
        include_str!("../../tests/data/x07-test/reports/basic.one-trap.json"),
    ),
    (
        "basic.one-xfail-but-trap.json",
        include_str!("../../tests/data/x07-test/reports/basic.one-xfail-but-trap.json"),
    ),
    (
        "basic.one-xfail.json",
        include_str!("../../tests/data/x07-test/reports/basic.one-xfail.json"),
    ),
    (
        "basic.one-xpass.json",
        include_str!("../../tests/data/x07-test/reports/basic.one-xpass.json"),
    ),
    (
        "os-worlds.os-and-sandbox-default-env.json",
        include_str!("../../tests/data/x07-test/reports/os-worlds.os-and-sandbox-default-env.json"),
    ),
    (
        "os-worlds.sandbox-backend-os-without-accept.json",
        include_str!(
            "../../tests/data/x07-test/reports/os-worlds.sandbox-backend-os-without-accept.json"
        ),
    ),
    (
        "os-worlds.sandbox-one-pass-warm.json",
        include_str!("../../tests/data/x07-test/reports/os-worlds.sandbox-one-pass-warm.json"),
    ),
    (
        "pbt.all.json",
        include_str!("../../tests/data/x07-test/reports/pbt.all.json"),
    ),
    (
        "pbt.pbt-one-passing.json",
        include_str!("../../tests/data/x07-test/reports/pbt.pbt-one-passing.json"),
    ),
    (
        "project.second-run.json",
        include_str!("../../tests/data/x07-test/reports/project.second-run.json"),
    ),
];

/// What `--version` prints: the recorded toolchain's version, and what this is.
const VERSION: &str =
    "x07 0.2.17 (x07-replay: replays recorded x07 test outputs; compiles and runs nothing)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("x07-replay: {message}");
            ExitCode::from(2)
        }
    }
}

/// The arguments of one `x07 test` call.
#[derive(Debug, Default)]
struct TestCall {
    manifest: Option<String>,
    filter: Option<String>,
    exact: bool,
    artifact_dir: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<TestCall, String> {
    let mut call = TestCall::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = |name: &str| {
            rest.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--manifest" => call.manifest = Some(value("--manifest")?),
            "--filter" if call.filter.is_some() => {
                return Err("the argument '--filter <SUBSTR>' cannot be used multiple times".into())
            }
            "--filter" => call.filter = Some(value("--filter")?),
            "--artifact-dir" => call.artifact_dir = Some(PathBuf::from(value("--artifact-dir")?)),
            "--exact" => call.exact = true,
            "--all" | "--no-fail-fast" => {}
            other => {
                return Err(format!(
                    "unsupported argument {other:?}: only single-test calls \
                     `x07 test --manifest M --filter ID --exact [--all] [--no-fail-fast] [--artifact-dir D]` are replayed"
                ))
            }
        }
    }
    Ok(call)
}

fn run(args: &[String]) -> Result<u8, String> {
    match args.first().map(String::as_str) {
        Some("--version") => {
            println!("{VERSION}");
            return Ok(0);
        }
        Some("test") => {}
        _ => {
            return Err(format!(
                "no recording for `x07 {}`: only `x07 test` single-test calls are replayed",
                args.join(" ")
            ))
        }
    }
    let call = parse(&args[1..])?;
    let (Some(manifest_arg), Some(id), true) = (&call.manifest, &call.filter, call.exact) else {
        return Err("only `--manifest M --filter ID --exact` calls are replayed".into());
    };
    let cwd = std::env::current_dir().map_err(|error| format!("no working directory: {error}"))?;
    let manifest_path = cwd.join(manifest_arg);
    let manifest_dir = manifest_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| cwd.clone());
    let manifest: Value = std::fs::read(&manifest_path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| format!("cannot read the manifest {}", manifest_path.display()))?;
    let tests = manifest["tests"].as_array().cloned().unwrap_or_default();
    let Some(entry) = tests.iter().find(|test| test["id"] == id.as_str()) else {
        // What x07 prints for an id that selects nothing.
        eprintln!(
            "0 tests selected (manifest had {}; filter(exact)={id:?}, pbt_only=false)\nhint: pass --allow-empty to treat this as success",
            tests.len()
        );
        return Ok(2);
    };
    let index: Value =
        serde_json::from_str(INDEX).map_err(|error| format!("bad index: {error}"))?;
    let recorded = find_recorded(&index, entry, &manifest_dir)?;
    let world = entry["world"].as_str().unwrap_or_default();
    let condition = environment(world)?;
    let recording = recorded["recordings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|recording| recording["env"] == condition)
        .ok_or_else(|| format!("no recording of test {id:?} in this environment ({condition})"))?;
    let report = replay(recording, entry, args, &cwd, &manifest_path, &manifest_dir)?;
    apply_effects(recording, world, &call, &cwd, &manifest_dir)?;
    println!("{report}");
    Ok(recording["rc"].as_u64().unwrap_or(2) as u8)
}

/// The index entry for `entry`, when its files have the recorded contents.
fn find_recorded<'a>(
    index: &'a Value,
    entry: &Value,
    manifest_dir: &Path,
) -> Result<&'a Value, String> {
    let candidates: Vec<&Value> = index["tests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|recorded| &recorded["entry"] == entry)
        .collect();
    if candidates.is_empty() {
        return Err(format!("no recording of a test entry like {entry}"));
    }
    let mut differences = Vec::new();
    for candidate in &candidates {
        let changed: Vec<String> = candidate["files"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(file, hash)| {
                let actual = std::fs::read(manifest_dir.join(file))
                    .ok()
                    .map(|bytes| fnv1a64(&bytes));
                actual.as_deref() != hash.as_str()
            })
            .map(|(file, _)| file.clone())
            .collect();
        if changed.is_empty() {
            return Ok(candidate);
        }
        differences.push(changed.join(", "));
    }
    Err(format!(
        "no recording for test {}: these files differ from the recorded ones: {}",
        entry["id"],
        differences.join("; ")
    ))
}

/// The recorded environment a call matches: `any` for tests outside the sandbox (when no
/// `X07_OS_*` variable turns run-os into a sandbox), and for sandboxed tests which of the
/// two backend variables are set.
fn environment(world: &str) -> Result<&'static str, String> {
    let var = |key: &str| std::env::var(key).ok();
    if world == "run-os-sandboxed" {
        return match (
            var("X07_SANDBOX_BACKEND").as_deref(),
            var("X07_I_ACCEPT_WEAKER_ISOLATION").as_deref(),
        ) {
            (Some("os"), Some("1")) => Ok("sandbox-os-accepted"),
            (Some("os"), None) => Ok("sandbox-os-not-accepted"),
            (None, None) => Ok("sandbox-default"),
            (backend, accept) => Err(format!(
                "no recording with X07_SANDBOX_BACKEND={backend:?} X07_I_ACCEPT_WEAKER_ISOLATION={accept:?}"
            )),
        };
    }
    if let Some((key, _)) = std::env::vars().find(|(key, _)| key.starts_with("X07_OS_")) {
        return Err(format!(
            "no recording with {key} set (it changes run-os tests)"
        ));
    }
    Ok("any")
}

/// The recorded report with this call's invocation, the asked test's id and entry, and
/// (for a test taken from a several-test recording) its summary recounted.
fn replay(
    recording: &Value,
    entry: &Value,
    args: &[String],
    cwd: &Path,
    manifest_path: &Path,
    manifest_dir: &Path,
) -> Result<String, String> {
    let name = recording["report"].as_str().unwrap_or_default();
    let text = RECORDINGS
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, text)| *text)
        .ok_or_else(|| format!("recording {name} is not built in"))?;
    let mut report: Value =
        serde_json::from_str(text).map_err(|error| format!("{name}: {error}"))?;
    let recorded_id = recording["test"].as_str().unwrap_or_default();
    let tests = report["tests"].as_array().cloned().unwrap_or_default();
    let whole = tests.len() == 1;
    let mut test = tests
        .into_iter()
        .find(|test| test["id"] == recorded_id)
        .ok_or_else(|| format!("{name} has no test {recorded_id}"))?;
    test["id"] = entry["id"].clone();
    test["entry"] = entry["entry"].clone();
    if !whole {
        report["summary"] = summary_of(&test);
    }
    report["tests"] = json!([test]);
    let mut argv = vec![Value::from("x07")];
    argv.extend(args.iter().map(|arg| Value::from(arg.as_str())));
    let invocation = &mut report["invocation"];
    invocation["argv"] = Value::Array(argv);
    invocation["cwd"] = Value::from(cwd.display().to_string());
    invocation["manifest_path"] = Value::from(manifest_path.display().to_string());
    invocation["module_root"] = Value::from(manifest_dir.display().to_string());
    serde_json::to_string(&report).map_err(|error| error.to_string())
}

/// The summary of a call that ran only `test` (x07-test notes §3.1: one count per status).
fn summary_of(test: &Value) -> Value {
    let status = test["status"].as_str().unwrap_or_default();
    let count = |name: &str| u64::from(status == name);
    let failed = |key: &str| u64::from(test[key]["ok"] == false);
    let mut summary = Map::new();
    for (key, value) in [
        ("passed", count("pass")),
        ("failed", count("fail")),
        ("skipped", count("skip")),
        ("errors", count("error")),
        ("xfail_passed", count("xfail_pass")),
        ("xfail_failed", count("xfail_fail")),
        ("duration_ms", test["duration_ms"].as_u64().unwrap_or(0)),
        ("compile_failures", failed("compile")),
        ("run_failures", failed("run")),
    ] {
        summary.insert(key.into(), value.into());
    }
    Value::Object(summary)
}

/// The recorded side effects: OS-world tests leave `tests/_tmp/` (and sandboxed ones
/// `runtime-attest/`) in the artifact directory; a recording may list files the test
/// writes.
fn apply_effects(
    recording: &Value,
    world: &str,
    call: &TestCall,
    cwd: &Path,
    manifest_dir: &Path,
) -> Result<(), String> {
    let artifacts = match &call.artifact_dir {
        Some(dir) => cwd.join(dir),
        None => cwd.join("target/x07test"),
    };
    let io =
        |path: &Path, error: std::io::Error| format!("cannot write {}: {error}", path.display());
    let mut dirs = Vec::new();
    if world.starts_with("run-os") {
        dirs.push(artifacts.join("tests/_tmp"));
    }
    if world == "run-os-sandboxed" {
        dirs.push(artifacts.join("runtime-attest"));
    }
    for dir in dirs {
        std::fs::create_dir_all(&dir).map_err(|error| io(&dir, error))?;
    }
    let bases: BTreeMap<&str, &Path> = [
        ("manifest_dir", manifest_dir),
        ("artifact_dir", artifacts.as_path()),
        ("cwd", cwd),
    ]
    .into_iter()
    .collect();
    for write in recording["writes"].as_array().into_iter().flatten() {
        let base = bases
            .get(write["relative_to"].as_str().unwrap_or_default())
            .ok_or("a recorded write has an unknown base")?;
        let path = base.join(write["path"].as_str().unwrap_or_default());
        std::fs::write(&path, write["text"].as_str().unwrap_or_default())
            .map_err(|error| io(&path, error))?;
    }
    Ok(())
}

/// FNV-1a (64 bit) of `bytes`, as 16 hex digits: the content hash in the index.
fn fnv1a64(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The repository root (this package is its `replay/`).
    fn workspace() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("replay/ is inside the repository")
            .to_path_buf()
    }

    /// Every file the index lists still has its recorded content: a changed test module,
    /// policy or manifest entry must be re-mapped to a recording (or its recording made
    /// again with the real x07), not replayed with a result it never had.
    #[test]
    fn the_index_matches_the_files_and_the_recordings() {
        let index: Value = serde_json::from_str(INDEX).unwrap();
        let mut stale = Vec::new();
        for recorded in index["tests"].as_array().unwrap() {
            let manifest = workspace().join(recorded["manifest"].as_str().unwrap());
            let value: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
            assert!(
                value["tests"]
                    .as_array()
                    .unwrap()
                    .contains(&recorded["entry"]),
                "{}: the manifest has no entry {}",
                manifest.display(),
                recorded["entry"]
            );
            let dir = manifest.parent().unwrap();
            for (file, hash) in recorded["files"].as_object().unwrap() {
                let actual = fnv1a64(&std::fs::read(dir.join(file)).unwrap());
                if hash != &actual {
                    stale.push(format!(
                        "{} {file}: recorded {hash}, now {actual}",
                        manifest.display()
                    ));
                }
            }
            for recording in recorded["recordings"].as_array().unwrap() {
                let name = recording["report"].as_str().unwrap();
                let (_, text) = RECORDINGS.iter().find(|(file, _)| *file == name).unwrap();
                let report: Value = serde_json::from_str(text).unwrap();
                let test = recording["test"].as_str().unwrap();
                assert!(
                    report["tests"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|t| t["id"] == test),
                    "{name} has no test {test}"
                );
                assert!(recording["rc"].is_u64());
            }
        }
        assert!(stale.is_empty(), "{}", stale.join("\n"));
    }

    #[test]
    fn a_test_taken_from_a_larger_recording_gets_its_own_summary() {
        let test =
            json!({ "id": "t", "status": "error", "duration_ms": 2, "compile": { "ok": false } });
        let summary = summary_of(&test);
        assert_eq!(summary["errors"], 1);
        assert_eq!(summary["compile_failures"], 1);
        assert_eq!(summary["run_failures"], 0);
        assert_eq!(summary["duration_ms"], 2);
    }

    #[test]
    fn fnv_is_the_documented_function() {
        assert_eq!(fnv1a64(b""), "cbf29ce484222325");
        assert_eq!(fnv1a64(b"a"), "af63dc4c8601ec8c");
    }
}
