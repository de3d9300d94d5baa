//! `x07 test` manifests end to end: every entry of a project's `tests/tests.json` (or of a
//! manifest named by `test_manifests`) is one case.
//!
//! * With the embedded runner the cases are listed, reported ignored with the reason, and
//!   included in `--partition` shards and JUnit.
//! * With `x07-replay` — the stand-in that answers with the real toolchain's recorded
//!   `x07 test` reports (`tests/data/x07-replay/`) — each case gets the verdict its
//!   recording implies, failures show the status, the assertion code, the got/expected
//!   bytes, the trap or compile error and a reproduce line, and nothing is written under
//!   the fixtures.
//! * Broken manifests fail before anything runs, with x07's own diagnostic codes and JSON
//!   pointers (checked against x07's recorded stderr for the probe manifests).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cargo_x07::discover::{FixtureKind, FixtureLocation};
use cargo_x07::failure::FixtureProblem;
use cargo_x07::plan::plan_fixture;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn replay() -> PathBuf {
    common::x07_replay()
}

fn probes() -> PathBuf {
    repo().join("tests/data/x07-test/probes")
}

const BUNDLED: &str = "fixtures/manifests/calc/tests/tests.json";

/// The ids of the bundled manifest and the verdict each gets from its recording.
const BUNDLED_VERDICTS: [(&str, &str, &str); 7] = [
    ("double/os", "run-os", "ok"),
    ("double/pure", "solve-pure", "ok"),
    ("files/read-data sandboxed", "run-os-sandboxed", "ok"),
    ("files/write-marker", "run-os", "ok"),
    ("known-bug/one-is-two", "solve-pure", "ok"),
    (
        "later/not-yet",
        "solve-pure",
        "ignored, the manifest says expect: skip (x07 test never compiles or runs it)",
    ),
    ("prop/always-ok", "solve-pure", "ok"),
];

/// `cargo-x07 x07 <args>` on this repository, with the environment cleaned as in
/// `common::Workspace::command`.
fn in_repo(args: &[&str]) -> Command {
    let mut command = Command::new(common::cargo_x07());
    command
        .arg("x07")
        .args(args)
        .arg("--manifest-path")
        .arg(repo().join("Cargo.toml"))
        .current_dir(repo());
    clean(&mut command);
    command
}

fn clean(command: &mut Command) {
    command
        .env_remove("X07")
        .env_remove("CI")
        .env_remove("RUST_TEST_THREADS");
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        if key_text.starts_with("X07_") || key_text.starts_with("GITHUB_") {
            command.env_remove(key);
        }
    }
}

/// `test NAME ... RESULT` lines of libtest output, by name.
fn results(output: &Output) -> BTreeMap<String, String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.strip_prefix("test "))
        .filter_map(|line| line.split_once(" ... "))
        .map(|(name, result)| (name.trim_end().to_string(), result.to_string()))
        .collect()
}

fn bundled_name(id: &str, world: &str) -> String {
    format!(
        "{BUNDLED}::{}::{world}",
        cargo_x07::manifest::name::encode_id(id)
    )
}

#[test]
fn the_embedded_runner_lists_the_cases_and_reports_them_ignored_with_the_reason() {
    let listed = in_repo(&["test", "--list", "--backend", "embedded", BUNDLED])
        .output()
        .unwrap();
    assert!(listed.status.success(), "{}", common::text(&listed));
    let names: BTreeSet<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(str::to_string)
        .collect();
    let expected: BTreeSet<String> = BUNDLED_VERDICTS
        .iter()
        .map(|(id, world, _)| bundled_name(id, world))
        .collect();
    assert_eq!(names, expected);

    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let run = in_repo(&[
        "test",
        "--backend",
        "embedded",
        BUNDLED,
        "--junit",
        junit.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert!(run.status.success(), "{}", common::text(&run));
    let results = results(&run);
    for (id, world, verdict) in BUNDLED_VERDICTS {
        let expected = if verdict == "ok" {
            "ignored, needs the real x07 toolchain: x07 test"
        } else {
            verdict
        };
        assert_eq!(
            results.get(&bundled_name(id, world)).map(String::as_str),
            Some(expected),
            "{}",
            common::text(&run)
        );
    }
    assert!(String::from_utf8_lossy(&run.stdout).contains("0 passed; 0 failed; 7 ignored"));
    let xml = std::fs::read_to_string(&junit).unwrap();
    let document = roxmltree::Document::parse(&xml).unwrap();
    let skipped: BTreeMap<String, String> = document
        .descendants()
        .filter(|node| node.has_tag_name("testcase"))
        .filter_map(|case| {
            let skipped = case
                .children()
                .find(|child| child.has_tag_name("skipped"))?;
            Some((
                case.attribute("name")?.to_string(),
                skipped.attribute("message")?.to_string(),
            ))
        })
        .collect();
    assert_eq!(skipped.len(), 7, "{xml}");
    assert_eq!(
        skipped[&bundled_name("double/pure", "solve-pure")],
        "needs the real x07 toolchain: x07 test"
    );
}

#[test]
fn partitions_share_the_manifest_cases_out() {
    let mut seen = BTreeMap::new();
    for shard in 1..=3 {
        let partition = format!("hash:{shard}/3");
        let listed = in_repo(&["list", BUNDLED, "--partition", &partition])
            .output()
            .unwrap();
        assert!(listed.status.success(), "{}", common::text(&listed));
        for name in String::from_utf8_lossy(&listed.stdout).lines() {
            assert!(
                seen.insert(name.to_string(), shard).is_none(),
                "{name} is in two shards"
            );
        }
    }
    assert_eq!(seen.len(), BUNDLED_VERDICTS.len(), "{seen:?}");
}

#[test]
fn the_stand_in_gives_every_bundled_test_its_recorded_verdict_and_the_fixture_stays_as_it_was() {
    let fixture = repo().join("fixtures/manifests/calc");
    let before = common::files_under(&fixture);
    let replay = replay();
    let run = in_repo(&["test", "--x07", replay.to_str().unwrap(), BUNDLED])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", common::text(&run));
    // The manifest's path selects its cases as a path (not as a name filter).
    assert!(
        !String::from_utf8_lossy(&run.stderr).contains("test-name filter"),
        "{}",
        common::text(&run)
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.starts_with("runner: x07 0.2.17 (x07-replay: replays recorded x07 test outputs"),
        "{stdout}"
    );
    let results = results(&run);
    assert_eq!(results.len(), BUNDLED_VERDICTS.len(), "{stdout}");
    for (id, world, verdict) in BUNDLED_VERDICTS {
        assert_eq!(
            results.get(&bundled_name(id, world)).map(String::as_str),
            Some(verdict),
            "{stdout}"
        );
    }
    // The README's example shows these very lines.
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let example: BTreeSet<&str> = readme
        .lines()
        .filter(|line| line.starts_with(&format!("test {BUNDLED}::")))
        .collect();
    let printed: BTreeSet<&str> = stdout
        .lines()
        .filter(|line| line.starts_with(&format!("test {BUNDLED}::")))
        .collect();
    assert_eq!(example, printed, "the README's example is out of date");
    // files/write-marker writes marker.txt into the manifest's directory (as recorded):
    // of the copy, never of the fixture.
    assert_eq!(common::files_under(&fixture), before, "the fixture changed");
    assert!(!fixture.join("tests/marker.txt").exists());
}

#[test]
fn sandboxed_tests_get_the_os_backend_and_inherited_run_shaping_variables_are_cleared() {
    let replay = replay();
    // The stand-in refuses run-os tests when an X07_OS_* variable is set and answers a
    // sandboxed test by the two backend variables, as the recordings were made: a pass
    // means cargo-x07 removed the inherited ones and set the os backend itself.
    let run = in_repo(&["test", "--x07", replay.to_str().unwrap(), BUNDLED])
        .env("X07_OS_SANDBOXED", "1")
        .env("X07_SANDBOX_BACKEND", "vm")
        .env("X07_I_ACCEPT_WEAKER_ISOLATION", "0")
        .env("X07_TOOL_API_CHILD", "1")
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", common::text(&run));

    let vm = in_repo(&[
        "test",
        "--x07",
        replay.to_str().unwrap(),
        "--sandbox-backend",
        "vm",
        "--exact",
        &bundled_name("files/read-data sandboxed", "run-os-sandboxed"),
    ])
    .output()
    .unwrap();
    let text = common::text(&vm);
    assert_eq!(vm.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "status: expected pass, got error; compile error: missing firecracker-ctr binary"
        ),
        "{text}"
    );
    assert!(
        text.contains("hint: the sandbox VM backend failed closed"),
        "{text}"
    );
    assert!(
        text.contains(
            "reproduce with:\n  target/debug/x07-replay test --manifest fixtures/manifests/calc/tests/tests.json \
             --filter 'files/read-data sandboxed' --exact --all --no-fail-fast"
        ) || text.contains("--filter 'files/read-data sandboxed' --exact --all --no-fail-fast"),
        "{text}"
    );
}

/// A workspace holding copies of the probe manifests (`tests/data/x07-test/probes`),
/// named by `test_manifests`.
fn probe_workspace(manifests: &[&str]) -> common::Workspace {
    let list: Vec<String> = manifests.iter().map(|m| format!("{m:?}")).collect();
    let workspace = common::Workspace::new(&format!(
        "[package.metadata.x07]\nfixtures = []\ntest_manifests = [{}]\n",
        list.join(", ")
    ));
    for set in ["basic", "pbt"] {
        for (path, bytes) in common::files_under(&probes().join(set).join("tests")) {
            let relative = path.strip_prefix(probes().join(set)).unwrap();
            common::write(&workspace.root().join(set).join(relative), &bytes);
        }
    }
    workspace
}

/// The statuses x07 reported for the probe tests (`tests=` of OBSERVED.txt).
fn recorded_statuses(set: &str, tag: &str) -> BTreeMap<String, String> {
    let observed = std::fs::read_to_string(probes().join(set).join("OBSERVED.txt")).unwrap();
    let line = observed
        .lines()
        .find(|line| line.starts_with(&format!("{tag}\t")))
        .unwrap();
    let tests = line
        .split("tests=")
        .nth(1)
        .unwrap()
        .split('\t')
        .next()
        .unwrap();
    tests
        .split(' ')
        .filter_map(|item| item.split_once(':'))
        .map(|(id, status)| {
            let status = status.split('[').next().unwrap();
            (id.to_string(), status.to_string())
        })
        .collect()
}

#[test]
fn every_probe_test_gets_the_verdict_x07_reported_and_failures_say_why() {
    let workspace = probe_workspace(&["basic/tests/tests.json", "pbt/tests/tests.json"]);
    let before = workspace.snapshot();
    let junit = workspace.root().join("target/junit.xml");
    let replay = replay();
    let run = workspace
        .command(&["test", "--x07", replay.to_str().unwrap(), "--junit"])
        .arg(&junit)
        .output()
        .unwrap();
    let text = common::text(&run);
    assert_eq!(run.status.code(), Some(1), "{text}");
    let results = results(&run);
    let mut expected = BTreeMap::new();
    for (set, tag, manifest) in [
        ("basic", "full-no-fail-fast", "basic/tests/tests.json"),
        ("pbt", "all", "pbt/tests/tests.json"),
    ] {
        for (id, status) in recorded_statuses(set, tag) {
            let verdict = match status.as_str() {
                "pass" | "xfail_fail" => "ok",
                // Never run: expect skip.
                "skip" if id == "j/skip" => {
                    "ignored, the manifest says expect: skip (x07 test never compiles or runs it)"
                }
                _ => "FAILED",
            };
            expected.insert(format!("{manifest}::{id}::solve-pure"), verdict.to_string());
        }
    }
    let actual: BTreeMap<String, String> = results.into_iter().collect();
    assert_eq!(actual, expected, "{text}");

    // The assertion's code and the got/expected bytes.
    let bytes_failure = text
        .split("---- basic/tests/tests.json::c/fail_bytes::solve-pure ----")
        .nth(1)
        .unwrap()
        .split("\n---- ")
        .next()
        .unwrap();
    for line in [
        "  - status: expected pass, got fail; assertion code 1003 (std.test.assert_bytes_eq)",
        "assert_bytes_eq (- expected, + got):\n  -hello there\n  +hello world\n",
        "X07T_ASSERT_BYTES_EQ: assert_bytes_eq failed",
        "program stderr (run.stderr_b64): the runner's statistics line (fuel_used 35, heap_used 22)",
        "--filter c/fail_bytes --exact --all --no-fail-fast",
    ] {
        assert!(bytes_failure.contains(line), "{line:?} missing in\n{bytes_failure}");
    }
    for line in [
        "status: expected pass, got error; trap: view.get_u8 oob ptr=/decls/6/body/3/2",
        "status: expected pass, got error; compile error: Typing: call \"std.test.status_from_result_i32\" arg 0 expects ResultI32 (fn=solve)",
        "status: expected xfail_fail (expect: fail wants a failed assertion), got xfail_pass (the test passed)",
        "status: expected xfail_fail (expect: fail wants a failed assertion), got error; trap: view.get_u8 oob",
        "status: expected pass, got skip",
        "status: expected pass, got fail; assertion code 77",
        "status: expected pass, got error; EBAD_STATUS: X7TEST_STATUS_V1 must be >= 5 bytes, got 2",
        "status: expected pass, got error; contract violation",
        "X07T_CONTRACT_V1 {\"contract_kind\":\"requires\",\"fn\":\"probe.needs_pos\"",
        "status: expected pass, got fail; property failed, code 7",
        "counterexample (found after 3 cases, shrinking: minimal_found):\n  b (bytes) = 3 bytes: 00 00 00",
    ] {
        assert!(text.contains(line), "{line:?} missing in\n{text}");
    }
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(
            "status: expected pass, got fail; assertion code 1003 (std.test.assert_bytes_eq)"
        ),
        "{xml}"
    );
    let mut after = workspace.snapshot();
    after.retain(|path, _| !path.starts_with("target"));
    assert_eq!(after, before, "the run wrote into the workspace");
}

#[test]
fn exact_selects_an_id_with_colons_spaces_and_percent_signs() {
    let workspace = probe_workspace(&["basic/tests/odd-ids.json"]);
    let listed = workspace.command(&["list"]).output().unwrap();
    let names = String::from_utf8_lossy(&listed.stdout).to_string();
    assert_eq!(
        names,
        "basic/tests/odd-ids.json::50%25%3A half::solve-pure\n\
         basic/tests/odd-ids.json::odd%3A%3Aid with spaces::solve-pure\n"
    );
    let replay = replay();
    for (name, code, verdict) in [
        (
            "basic/tests/odd-ids.json::odd%3A%3Aid with spaces::solve-pure",
            0,
            "ok",
        ),
        (
            "basic/tests/odd-ids.json::50%25%3A half::solve-pure",
            1,
            "FAILED",
        ),
    ] {
        let run = workspace
            .command(&["test", "--x07", replay.to_str().unwrap(), "--exact", name])
            .output()
            .unwrap();
        let text = common::text(&run);
        assert_eq!(run.status.code(), Some(code), "{text}");
        assert_eq!(
            results(&run).get(name).map(String::as_str),
            Some(verdict),
            "{text}"
        );
        assert!(text.contains("1 filtered out"), "{text}");
    }
}

/// `CODE: message (pointer)` lines of x07's stderr for a refused manifest.
fn recorded_problems(file: &str) -> Vec<(String, String)> {
    let path = repo().join("tests/data/x07-test/reports").join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (code, rest) = line.split_once(": ")?;
            let pointer = rest.rsplit_once(" (")?.1.strip_suffix(')')?;
            Some((code.to_string(), pointer.to_string()))
        })
        .collect()
}

/// The (code, pointer) of every problem cargo-x07 finds in the manifest at `manifest`
/// (relative to the probes' copy in `root`).
fn planned_problems(root: &Path, manifest: &str) -> Vec<(String, String)> {
    let workspace = cargo_x07::testing::workspace(root, &["os", "sandbox"]);
    let location = FixtureLocation {
        path: root.join(manifest),
        name: manifest.to_string(),
        kind: FixtureKind::TestManifest,
        package: 0,
    };
    let mut problems = Vec::new();
    for case in plan_fixture(&workspace, &location) {
        for problem in &case.problems {
            let FixtureProblem::TestManifest { problems: list, .. } = problem else {
                panic!("{problem:?}");
            };
            problems.extend(
                list.iter()
                    .map(|p| (p.code.unwrap_or("-").to_string(), p.pointer.clone())),
            );
        }
    }
    problems
}

#[test]
fn broken_manifests_get_x07s_codes_and_pointers_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    for set in ["basic", "pbt", "fixture-worlds"] {
        for (path, bytes) in common::files_under(&probes().join(set)) {
            let relative = path.strip_prefix(probes()).unwrap();
            common::write(&dir.path().join(relative), &bytes);
        }
    }
    let cases = [
        (
            "basic/tests/bad-json.json",
            "basic.manifest-bad-json.stderr.txt",
        ),
        (
            "basic/tests/bad-schema.json",
            "basic.manifest-bad-schema-version.stderr.txt",
        ),
        (
            "basic/tests/no-schema.json",
            "basic.manifest-no-schema-version.stderr.txt",
        ),
        (
            "basic/tests/empty.json",
            "basic.manifest-empty-tests.stderr.txt",
        ),
        (
            "basic/tests/nothere.json",
            "basic.manifest-missing.stderr.txt",
        ),
        (
            "basic/tests/dup-id.json",
            "basic.manifest-dup-id.stderr.txt",
        ),
        (
            "basic/tests/many-errors.json",
            "basic.manifest-many-errors.stderr.txt",
        ),
        (
            "basic/tests/more-errors.json",
            "basic.manifest-more-errors.stderr.txt",
        ),
        (
            "basic/tests/missing-entry-key.json",
            "basic.manifest-missing-entry-key.stderr.txt",
        ),
        (
            "basic/tests/non-ascii-id.json",
            "basic.manifest-non-ascii-id.stderr.txt",
        ),
        (
            "basic/tests/unknown-entry.json",
            "basic.manifest-unknown-entry.stderr.txt",
        ),
        (
            "basic/tests/input-v010.json",
            "basic.manifest-input-in-v010.stderr.txt",
        ),
        (
            "basic/tests/sandbox-no-policy.json",
            "basic.manifest-sandbox-without-policy.stderr.txt",
        ),
        (
            "basic/tests/os-with-policy.json",
            "basic.manifest-os-with-policy.stderr.txt",
        ),
        (
            "basic/tests/fs-no-fixture.json",
            "basic.manifest-solve-fs-without-fixture.stderr.txt",
        ),
        ("basic/tests/unknown-keys.json", "(x07 accepted it)"),
        ("basic/tests/tests.json", "(x07 accepted it)"),
        (
            "fixture-worlds/tests/bad-fixtures.json",
            "fixture-worlds.fixture-errors.stderr.txt",
        ),
        ("fixture-worlds/tests/tests.json", "(x07 accepted it)"),
        (
            "pbt/tests/bad-pbt.json",
            "pbt.pbt-manifest-errors.stderr.txt",
        ),
        ("pbt/tests/tests.json", "(x07 accepted it)"),
    ];
    for (manifest, stderr) in cases {
        let mut ours = planned_problems(dir.path(), manifest);
        let x07 = recorded_problems(stderr);
        // Where x07 printed no JSON pointer (a missing field, an unknown entry, an
        // unreadable file), the code alone must match.
        for (code, pointer) in &x07 {
            let found = ours.iter().position(|(our_code, our_pointer)| {
                our_code == code && (!pointer.starts_with('/') || our_pointer == pointer)
            });
            match found {
                Some(index) => {
                    ours.remove(index);
                }
                None => panic!("{manifest}: x07's {code} ({pointer}) is not found"),
            }
        }
        assert!(ours.is_empty(), "{manifest}: x07 did not report {ours:?}");
    }
    // x07 refuses this one with exit code 2 when it runs; it is found before.
    let mismatch = planned_problems(dir.path(), "pbt/tests/pbt-type-mismatch.json");
    assert_eq!(
        mismatch,
        [("-".to_string(), "/tests/0/pbt/params".to_string())]
    );
}

#[test]
fn a_broken_entry_fails_alone_even_with_the_embedded_runner() {
    let workspace = probe_workspace(&["basic/tests/unknown-entry.json"]);
    let run = workspace
        .command(&["test", "--backend", "embedded"])
        .output()
        .unwrap();
    let text = common::text(&run);
    assert_eq!(run.status.code(), Some(1), "{text}");
    let results = results(&run);
    assert_eq!(
        results["basic/tests/unknown-entry.json::a/pass::solve-pure"],
        "ignored, needs the real x07 toolchain: x07 test"
    );
    assert_eq!(
        results["basic/tests/unknown-entry.json::u::solve-pure"],
        "FAILED"
    );
    assert!(
        text.contains(
            "the case could not be run:\n  x07 test manifest basic/tests/unknown-entry.json: \
             ETEST_ENTRY_INVALID: entry \"nomod.f\" was not found: no module file nomod.x07.json \
             (or nomod.x07t) under the module roots (.); a module's file name must match its \
             module_id (at /tests/2/entry)"
        ),
        "{text}"
    );
    assert!(!text.contains("reproduce with"), "{text}");
}

/// A stand-in that logs how it was called (argv, working directory, the manifest it was
/// given, the X07_* environment) and then sleeps, to see the call and the timeout.
const LOGGING_X07: &str = r#"#!/bin/sh
if [ "$1" = "--version" ]; then echo "x07 0.2.17-logging"; exit 0; fi
{
  printf 'ARGS'; for arg in "$@"; do printf ' [%s]' "$arg"; done; printf '\n'
  printf 'CWD %s\n' "$PWD"
  printf 'CWD-ENTRIES %s\n' "$(ls -A | wc -l | tr -d ' ')"
  printf 'MANIFEST '; cat "$3" | tr -d '\n '; printf '\n'
  env | grep '^X07' | sort | sed 's/^/ENV /'
} >> "$LOG"
if [ -n "$SLEEP" ]; then sleep "$SLEEP"; fi
if [ -n "$FLOOD" ]; then head -c "$FLOOD" /dev/zero | tr '\0' x; fi
"#;

#[test]
fn each_call_runs_one_entry_from_a_scratch_directory_and_is_killed_at_the_timeout() {
    use std::os::unix::fs::PermissionsExt;
    let workspace = probe_workspace(&[]);
    let project = workspace.root().join("fixtures/p");
    for (path, bytes) in common::files_under(&repo().join("fixtures/manifests/calc")) {
        let relative = path
            .strip_prefix(repo().join("fixtures/manifests/calc"))
            .unwrap();
        common::write(&project.join(relative), &bytes);
    }
    std::fs::write(
        workspace.root().join("Cargo.toml"),
        "[package]\nname = \"ws\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    let fake = workspace.root().join("logging-x07");
    std::fs::write(&fake, LOGGING_X07).unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let log = workspace.root().join("calls.log");
    let name = "fixtures/p/tests/tests.json::files/read-data sandboxed::run-os-sandboxed";
    let run = workspace
        .command(&["test", "--x07", fake.to_str().unwrap(), "--exact", name])
        .env("LOG", &log)
        .env("X07_OS_SANDBOXED", "1")
        .env("X07_TOOL_API_CHILD", "1")
        .output()
        .unwrap();
    let text = common::text(&run);
    assert_eq!(run.status.code(), Some(1), "{text}");
    assert!(
        text.contains("report: the runner printed nothing on stdout; exit code 0"),
        "{text}"
    );
    let calls = std::fs::read_to_string(&log).unwrap();
    let line = |prefix: &str| -> String {
        calls
            .lines()
            .find_map(|line| line.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {calls}"))
            .to_string()
    };
    let args = line("ARGS ");
    let cwd = line("CWD ");
    let project_copy = Path::new(&cwd).parent().unwrap().join("p");
    assert_eq!(
        args,
        format!(
            "[test] [--manifest] [{}] [--filter] [files/read-data sandboxed] [--exact] [--all] [--no-fail-fast] [--artifact-dir] [{}]",
            project_copy.join("tests/tests.json").display(),
            Path::new(&cwd).parent().unwrap().join("artifacts").display()
        )
    );
    assert!(
        !cwd.starts_with(&workspace.root().display().to_string()),
        "{cwd}"
    );
    assert_eq!(
        line("CWD-ENTRIES "),
        "0",
        "the working directory starts empty"
    );
    assert_eq!(
        line("MANIFEST "),
        r#"{"schema_version":"x07.tests_manifest@0.2.0","tests":[{"id":"files/read-datasandboxed","world":"run-os-sandboxed","entry":"files_test.read_data","policy_json":"policy.json"}]}"#
    );
    // The run's environment (tests/toolchain_env.rs checks it in full): the run-shaping
    // variables removed, the native cache default in the workspace's target directory;
    // plus the os sandbox backend.
    let env: Vec<&str> = calls.lines().filter(|l| l.starts_with("ENV ")).collect();
    assert_eq!(env.len(), 3, "{calls}");
    assert_eq!(env[0], "ENV X07_I_ACCEPT_WEAKER_ISOLATION=1", "{calls}");
    assert!(
        env[1].starts_with("ENV X07_NATIVE_CACHE_DIR=") && env[1].ends_with("/x07-native-cache"),
        "{calls}"
    );
    assert_eq!(env[2], "ENV X07_SANDBOX_BACKEND=os", "{calls}");
    // The scratch directory is gone.
    assert!(!Path::new(&cwd).exists());

    // A call that hangs is killed at the per-case timeout.
    let started = std::time::Instant::now();
    let run = workspace
        .command(&[
            "test",
            "--x07",
            fake.to_str().unwrap(),
            "--timeout-ms",
            "700",
            "--exact",
            "fixtures/p/tests/tests.json::double/os::run-os",
        ])
        .env("LOG", &log)
        .env("SLEEP", "30")
        .output()
        .unwrap();
    let text = common::text(&run);
    assert_eq!(run.status.code(), Some(1), "{text}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{text}"
    );
    assert!(
        text.contains(
            "timeout: the runner did not finish within 700 ms; its process group was killed"
        ),
        "{text}"
    );

    // A call that prints more than any report can need is read to the end but only its
    // head is kept (bounded capture), and the case fails saying so.
    let limit = cargo_x07::manifest::command::capture_limits().stdout;
    let flood = limit + 5_000_000;
    let run = workspace
        .command(&[
            "test",
            "--x07",
            fake.to_str().unwrap(),
            "--exact",
            "fixtures/p/tests/tests.json::double/os::run-os",
        ])
        .env("LOG", &log)
        .env("FLOOD", flood.to_string())
        .output()
        .unwrap();
    let text = common::text(&run);
    assert_eq!(run.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "more than any report can need: cut after {limit} bytes, 5000000 more bytes not kept"
        )),
        "{}",
        &text[..text.len().min(4000)]
    );
}

#[test]
fn bless_leaves_manifest_cases_alone() {
    let workspace = probe_workspace(&["basic/tests/tests.json"]);
    let before = workspace.snapshot();
    let replay = replay();
    let run = workspace
        .command(&[
            "bless",
            "--x07",
            replay.to_str().unwrap(),
            "--exact",
            "basic/tests/tests.json::c/fail_bytes::solve-pure",
        ])
        .output()
        .unwrap();
    let text = common::text(&run);
    assert_eq!(run.status.code(), Some(1), "{text}");
    assert!(
        text.contains("bless: left basic/tests/tests.json::c/fail_bytes::solve-pure alone: it is an x07 test manifest entry"),
        "{text}"
    );
    assert_eq!(workspace.snapshot(), before);
}

#[test]
fn the_probe_workspace_in_the_repository_shows_a_failing_assertion_as_recorded() {
    let data = repo().join("tests/data/x07-test");
    let before = common::files_under(&data);
    let replay = replay();
    // The run's own files (the last-run record, the native cache) go to the cargo target
    // directory, which for this stand-alone workspace would be inside tests/data.
    let target = tempfile::tempdir().unwrap();
    let mut command = Command::new(common::cargo_x07());
    command
        .args([
            "x07",
            "test",
            "--x07",
            replay.to_str().unwrap(),
            "--manifest-path",
        ])
        .arg(data.join("Cargo.toml"))
        .args([
            "--exact",
            "probes/basic/tests/tests.json::c/fail_bytes::solve-pure",
        ])
        .current_dir(repo());
    clean(&mut command);
    command.env("CARGO_TARGET_DIR", target.path());
    let run = command.output().unwrap();
    let text = common::text(&run);
    assert_eq!(run.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "failed checks:\n  - status: expected pass, got fail; assertion code 1003 (std.test.assert_bytes_eq)\n\
             assert_bytes_eq (- expected, + got):\n  -hello there\n  +hello world\n"
        ),
        "{text}"
    );
    assert_eq!(
        common::files_under(&data),
        before,
        "the run wrote under tests/data"
    );
}

#[test]
fn a_symlinked_manifest_is_replaced_in_the_copy_not_written_through() {
    let workspace = probe_workspace(&[]);
    let shared = workspace.root().join("shared/tests.json");
    common::write(
        &shared,
        br#"{"schema_version":"x07.tests_manifest@0.2.0","tests":[{"id":"a/pass","world":"solve-pure","entry":"probe.pass_ok"},{"id":"b/fail_i32","world":"solve-pure","entry":"probe.fail_i32"}]}"#,
    );
    let project = workspace.root().join("fixtures/p");
    common::write(
        &project.join("x07.json"),
        br#"{"module_roots":["."],"dependencies":[]}"#,
    );
    common::write(
        &project.join("tests/probe.x07.json"),
        &std::fs::read(probes().join("basic/tests/probe.x07.json")).unwrap(),
    );
    std::os::unix::fs::symlink(&shared, project.join("tests/tests.json")).unwrap();
    std::fs::write(
        workspace.root().join("Cargo.toml"),
        "[package]\nname = \"ws\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    let before = std::fs::read(&shared).unwrap();
    let replay = replay();
    let run = workspace
        .command(&["test", "--x07", replay.to_str().unwrap(), "tests.json"])
        .output()
        .unwrap();
    let text = common::text(&run);
    // The project copy is not the probe's directory, so x07-replay finds no recording for
    // it (its module roots differ): what matters is that the shared file is untouched.
    assert_eq!(std::fs::read(&shared).unwrap(), before, "{text}");
    assert!(results(&run).len() == 2, "{text}");
}

#[test]
fn report_text_cannot_become_a_github_workflow_command() {
    use base64::Engine as _;
    use std::os::unix::fs::PermissionsExt;
    let injections = [
        "::error file=evil.rs::injected-annotation",
        "  ::warning::injected-indented",
        "text before ##[error]injected-legacy",
        "::add-mask::injected-mask",
    ];
    let all = injections.join("\n");
    let workspace = common::Workspace::new("");
    let tests = workspace.root().join("fixtures/evil/tests");
    common::write(
        &workspace.root().join("fixtures/evil/x07.json"),
        br#"{"module_roots":["."],"dependencies":[]}"#,
    );
    common::write(
        &tests.join("tests.json"),
        serde_json::json!({
            "schema_version": "x07.tests_manifest@0.2.0",
            "tests": [{ "id": "evil", "world": "solve-pure", "entry": "probe.pass_ok" }]
        })
        .to_string()
        .as_bytes(),
    );
    common::write(
        &tests.join("probe.x07.json"),
        &std::fs::read(probes().join("basic/tests/probe.x07.json")).unwrap(),
    );
    let report = serde_json::json!({
        "schema_version": "x07.x07test@0.4.0",
        "summary": { "passed": 0, "failed": 0, "skipped": 0, "errors": 1, "compile_failures": 0, "run_failures": 1 },
        "tests": [{
            "id": "evil", "world": "solve-pure", "expect": "pass", "status": "error", "duration_ms": 1,
            "entry": "probe.pass_ok", "compile": { "ok": true },
            "run": { "ok": false, "exit_code": 132,
                     "stderr_b64": base64::engine::general_purpose::STANDARD.encode(&all) },
            "diags": [
                { "code": "X07T_RUN_TRAP", "message": all, "details": { "trap": injections.join(" | ") } },
                { "code": "ETEST_RUN", "message": all }
            ]
        }]
    });
    common::write(&tests.join("report.json"), report.to_string().as_bytes());
    let fake = workspace.root().join("evil-x07");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nif [ \"$1\" = --version ]; then echo x07; exit 0; fi\nprintf '%s\\n' '{}' >&2\ncat \"$(dirname \"$3\")/report.json\"\nexit 12\n",
            all.replace('\'', "'\\''")
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    for format in ["human", "json"] {
        let output = workspace
            .command(&[
                "test",
                "--x07",
                fake.to_str().unwrap(),
                "--github",
                "--message-format",
                format,
            ])
            .output()
            .unwrap();
        let text = common::text(&output);
        assert_eq!(output.status.code(), Some(1), "{text}");
        assert!(
            text.contains("injected"),
            "the report's text is still shown\n{text}"
        );
        assert_eq!(
            common::injected_commands(&text),
            Vec::<String>::new(),
            "{format}\n{text}"
        );
    }
}

/// `cargo x07 run` shows a manifest case in the words of its `x07 test` report: the
/// status against `expect`, compile and run, the program's stderr decoded, and for a
/// failure the failed checks with the got/expected bytes.
#[test]
fn cargo_x07_run_summarises_a_manifest_case_from_its_report() {
    let replay = replay();
    let name = bundled_name("double/os", "run-os");
    let run = in_repo(&["run", &name, "--x07", replay.to_str().unwrap()])
        .output()
        .unwrap();
    let text = common::text(&run);
    assert_eq!(run.status.code(), Some(0), "{text}");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let summary = stdout.split_once(&format!("== {name}\n")).unwrap().1;
    let lines: Vec<&str> = summary.lines().collect();
    assert!(
        lines[0].starts_with("command: ")
            && lines[0].ends_with(
                " test --manifest fixtures/manifests/calc/tests/tests.json --filter double/os \
                 --exact --all --no-fail-fast"
            ),
        "{stdout}"
    );
    assert_eq!(
        lines[1..5],
        [
            "exit code: 0",
            "status: pass (expect: pass; duration_ms 14)",
            "compile: ok; run: ok, exit code 0",
            "program stderr (run.stderr_b64): the runner's statistics line (fuel_used 41, heap_used 9)",
        ],
        "{stdout}"
    );
    assert!(lines[5].starts_with("verdict: pass ("), "{stdout}");
    assert!(!stdout.contains("no readable report"), "{stdout}");

    // A recorded failure: the same lines, then the failed checks and the bytes.
    let probes = repo().join("tests/data/x07-test/Cargo.toml");
    let name = "probes/basic/tests/tests.json::c/fail_bytes::solve-pure";
    let mut command = Command::new(common::cargo_x07());
    command
        .args(["x07", "run", name, "--x07", replay.to_str().unwrap()])
        .arg("--manifest-path")
        .arg(&probes)
        .current_dir(repo());
    clean(&mut command);
    // Its native cache goes to a target directory outside tests/data.
    let target = tempfile::tempdir().unwrap();
    command.env("CARGO_TARGET_DIR", target.path());
    let run = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{}", common::text(&run));
    for expected in [
        "exit code: 10\nstatus: fail (expect: pass; duration_ms 10)\ncompile: ok; run: ok, exit code 0\nverdict: FAIL (",
        "  - status: expected pass, got fail; assertion code 1003 (std.test.assert_bytes_eq)\n",
        "assert_bytes_eq (- expected, + got):\n  -hello there\n  +hello world\n",
    ] {
        assert!(stdout.contains(expected), "{expected:?} in\n{stdout}");
    }
}
