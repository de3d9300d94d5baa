//! Rough edges of real file trees: an unreadable directory under `fixtures/`, symlinks
//! inside a fixture (a link to `..` included), files that cannot be copied. Each is one
//! failing case (or none at all), never a stopped run, and every message names the path
//! relative to the current directory.

#![cfg(unix)]

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn good_fixture(ws: &Workspace, name: &str) {
    ws.fake_fixture(
        name,
        &cat_report_sh(0),
        &[
            ("report-os.json", &report("run-os", b"", None)),
            (
                "report-sandbox.json",
                &report("run-os-sandboxed", b"", None),
            ),
        ],
    );
}

/// Runs `command` and kills it when it takes longer than `limit` (a hang is a failure).
fn output_within(mut command: Command, limit: Duration) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!("still running after {limit:?}:\n{}", text(&output));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `command` unable to read a `chmod 000` directory. As root the permission bits do not
/// apply, so the command runs under `setpriv` without the two capabilities that bypass
/// them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH); `None` when that is not possible here.
fn without_dac_override(command: &Command) -> Option<Command> {
    if !running_as_root() {
        let mut same = Command::new(command.get_program());
        same.args(command.get_args());
        copy_settings(command, &mut same);
        return Some(same);
    }
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .find(|path| Path::new(path).is_file())?;
    let mut wrapped = Command::new(setpriv);
    wrapped
        .arg("--inh-caps=-dac_override,-dac_read_search")
        .arg("--bounding-set=-dac_override,-dac_read_search")
        .arg(command.get_program())
        .args(command.get_args());
    copy_settings(command, &mut wrapped);
    Some(wrapped)
}

fn running_as_root() -> bool {
    let id = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&id.stdout).trim() == "0"
}

fn copy_settings(from: &Command, to: &mut Command) {
    if let Some(dir) = from.get_current_dir() {
        to.current_dir(dir);
    }
    for (key, value) in from.get_envs() {
        match value {
            Some(value) => to.env(key, value),
            None => to.env_remove(key),
        };
    }
}

#[test]
fn an_unreadable_fixture_directory_is_one_failing_case() {
    use std::os::unix::fs::PermissionsExt as _;
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    good_fixture(&ws, "fixtures/good");
    let locked = ws.root().join("fixtures/locked");
    std::fs::create_dir_all(locked.join("inner")).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let fake = fake_x07();
    let plain = ws.command(&["test", "--x07", fake.to_str().unwrap()]);
    let Some(command) = without_dac_override(&plain) else {
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
        eprintln!("skipped: running as root and setpriv is not installed, so no directory is unreadable here");
        return;
    };
    let output = output_within(command, Duration::from_secs(60));
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert_eq!(outcome(&all, "fixtures/good::default::os"), "ok", "{all}");
    assert_eq!(
        outcome(&all, "fixtures/locked::default::os"),
        "FAILED",
        "{all}"
    );
    assert!(
        all.contains("cannot read directory fixtures/locked: Permission denied"),
        "{all}"
    );
}

#[test]
fn symlinks_inside_a_fixture_are_copied_as_symlinks() {
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    let dir = ws.fake_fixture(
        "fixtures/links",
        // The runner sees the links as links, pointing where they pointed.
        &format!(
            "[ -L up ] && [ \"$(readlink up)\" = .. ] || {{ echo 'up is not a link to ..' >&2; exit 9; }}\n\
             [ -L data.link ] && [ \"$(readlink data.link)\" = data.txt ] || {{ echo 'data.link is not a link' >&2; exit 9; }}\n{}",
            cat_report_sh(0)
        ),
        &[
            ("report-os.json", &report("run-os", b"", None)),
            ("data.txt", "DATA"),
        ],
    );
    std::os::unix::fs::symlink("..", dir.join("up")).unwrap();
    std::os::unix::fs::symlink("data.txt", dir.join("data.link")).unwrap();
    let fake = fake_x07();
    let output = output_within(
        ws.command(&["test", "--x07", fake.to_str().unwrap()]),
        Duration::from_secs(60),
    );
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert!(!all.contains("File name too long"), "{all}");
}

#[test]
fn a_file_that_cannot_be_copied_fails_its_case_naming_the_file() {
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    good_fixture(&ws, "fixtures/good");
    let dir = ws.fake_fixture(
        "fixtures/fifo",
        &cat_report_sh(0),
        &[("report-os.json", &report("run-os", b"", None))],
    );
    let made = Command::new("mkfifo")
        .arg(dir.join("pipe"))
        .status()
        .unwrap();
    assert!(made.success());
    let fake = fake_x07();
    let output = output_within(
        ws.command(&["test", "--x07", fake.to_str().unwrap()]),
        Duration::from_secs(60),
    );
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert_eq!(outcome(&all, "fixtures/good::default::os"), "ok", "{all}");
    assert_eq!(
        outcome(&all, "fixtures/fifo::default::os"),
        "FAILED",
        "{all}"
    );
    assert!(
        all.contains("cannot copy fixtures/fifo/pipe: not a regular file, directory or symlink"),
        "{all}"
    );
}

/// Replaces `file` by something that is not a readable regular file: a directory, a
/// symlink to itself (a loop) or a dangling symlink.
fn break_file(file: &Path, how: &str) {
    let _ = std::fs::remove_file(file);
    match how {
        "directory" => std::fs::create_dir(file).unwrap(),
        "loop" => std::os::unix::fs::symlink(file.file_name().unwrap(), file).unwrap(),
        "dangling" => std::os::unix::fs::symlink("nowhere.json", file).unwrap(),
        other => panic!("{other}"),
    }
}

#[test]
fn an_expectations_file_that_cannot_be_read_fails_its_fixture_instead_of_vanishing() {
    // Before: a directory, a symlink loop or a dangling symlink named x07test.json was
    // taken as "no expectations file", so its cases vanished and the fixture passed on
    // exit code 0 alone.
    for how in ["directory", "loop", "dangling"] {
        let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
        good_fixture(&ws, "fixtures/good");
        let dir = ws.fake_fixture(
            "fixtures/broken",
            &cat_report_sh(0),
            &[("report-os.json", &report("run-os", b"", None))],
        );
        break_file(&dir.join("x07test.json"), how);
        let output = ws.test_with_fake(&[]);
        let all = text(&output);
        assert_eq!(output.status.code(), Some(1), "{how}: {all}");
        assert_eq!(outcome(&all, "fixtures/good::default::os"), "ok", "{all}");
        assert_eq!(
            outcome(&all, "fixtures/broken::default::os"),
            "FAILED",
            "{how}: {all}"
        );
        assert!(all.contains("fixtures/broken/x07test.json"), "{how}: {all}");
    }
}

#[test]
fn a_project_file_that_is_a_directory_fails_its_fixture_instead_of_vanishing() {
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    good_fixture(&ws, "fixtures/good");
    let dir = ws.fake_fixture(
        "fixtures/broken",
        &cat_report_sh(0),
        &[("report-os.json", &report("run-os", b"", None))],
    );
    break_file(&dir.join("x07.json"), "directory");
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert_eq!(outcome(&all, "fixtures/good::default::os"), "ok", "{all}");
    assert_eq!(
        outcome(&all, "fixtures/broken::default::os"),
        "FAILED",
        "{all}"
    );
    assert!(
        all.contains("cannot read fixtures/broken/x07.json: Is a directory"),
        "{all}"
    );
}

const ECHO_PROGRAM: &str = r#"{"decls":[],"imports":[],"kind":"entry","module_id":"main","schema_version":"x07.x07ast@0.8.0","solve":["view.to_bytes","input"]}"#;

fn echo_suite(cases: &str) -> String {
    format!(
        r#"{{ "schema_version": "x07.smoke_suite@0.1.0", "suite_id": "smoke/echo@0.1.0/run-os",
             "world": "run-os", "program_x07json": "fixtures/prog/echo.x07.json",
             "cases": [ {cases} ] }}"#
    )
}

#[test]
fn a_symlinked_or_broken_smoke_suite_is_run_or_fails_instead_of_vanishing() {
    // Before: only regular files named *.smoke.json were suites; a symlink to a suite
    // (and a broken one) was skipped without a word.
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    ws.fixture(
        "fixtures",
        &[
            ("prog/echo.x07.json", ECHO_PROGRAM),
            (
                "suites/real.json",
                &echo_suite(r#"{ "name": "hi", "input_b64": "aGk=", "expected_b64": "aGk=" }"#),
            ),
        ],
    );
    let suites = ws.root().join("fixtures/suites");
    std::os::unix::fs::symlink("real.json", suites.join("linked.smoke.json")).unwrap();
    std::os::unix::fs::symlink("loop.smoke.json", suites.join("loop.smoke.json")).unwrap();
    let output = ws
        .command(&["test", "--backend", "embedded"])
        .output()
        .unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert_eq!(
        outcome(&all, "fixtures/suites/linked.smoke.json::hi::run-os"),
        "ok",
        "{all}"
    );
    assert_eq!(
        outcome(&all, "fixtures/suites/loop.smoke.json::default::run-os"),
        "FAILED",
        "{all}"
    );
    assert!(
        all.contains("fixtures/suites/loop.smoke.json: Too many levels of symbolic links"),
        "{all}"
    );
}

#[test]
fn a_smoke_suite_with_two_cases_of_one_name_fails_them() {
    // Before: both cases ran under one test name, which `--exact` and nextest cannot tell apart.
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    ws.fixture(
        "fixtures",
        &[
            ("prog/echo.x07.json", ECHO_PROGRAM),
            (
                "echo.smoke.json",
                &echo_suite(
                    r#"{ "name": "hi", "input_b64": "aGk=", "expected_b64": "aGk=" },
                       { "name": "hi", "input_b64": "aG8=", "expected_b64": "aG8=" },
                       { "name": "other", "input_b64": "", "expected_b64": "" }"#,
                ),
            ),
        ],
    );
    let output = ws
        .command(&["test", "--backend", "embedded"])
        .output()
        .unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    let names: Vec<&str> = all
        .lines()
        .filter(|line| line.starts_with("test fixtures/echo.smoke.json::hi::run-os "))
        .collect();
    assert_eq!(names.len(), 1, "{all}");
    assert_eq!(
        outcome(&all, "fixtures/echo.smoke.json::hi::run-os"),
        "FAILED",
        "{all}"
    );
    assert_eq!(
        outcome(&all, "fixtures/echo.smoke.json::other::run-os"),
        "ok",
        "{all}"
    );
    assert!(
        all.contains("fixtures/echo.smoke.json: cases[1].name: case name \"hi\" is used twice"),
        "{all}"
    );
}

#[test]
fn a_wrong_type_in_x07_json_or_a_smoke_suite_names_the_json_pointer() {
    // Before: "malformed JSON in …/x07.json: invalid type: integer `5`, expected a string",
    // for a file that is well-formed JSON, without saying where the value is.
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    good_fixture(&ws, "fixtures/good");
    let dir = ws.fake_fixture(
        "fixtures/typed",
        &cat_report_sh(0),
        &[("report-os.json", &report("run-os", b"", None))],
    );
    let mut manifest: serde_json::Value = serde_json::from_str(&project_manifest()).unwrap();
    manifest["profiles"]["os"]["world"] = serde_json::json!(5);
    write(&dir.join("x07.json"), manifest.to_string().as_bytes());
    ws.fixture(
        "fixtures",
        &[
            ("prog/echo.x07.json", ECHO_PROGRAM),
            (
                "nulls.smoke.json",
                r#"{ "schema_version": "x07.smoke_suite@0.1.0", "world": "run-os",
                     "program_x07json": "fixtures/prog/echo.x07.json", "cases": null }"#,
            ),
        ],
    );
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert_eq!(outcome(&all, "fixtures/good::default::os"), "ok", "{all}");
    assert!(
        all.contains("fixtures/typed/x07.json is not a valid x07.project file: at /profiles/os/world: invalid type: integer `5`, expected a string"),
        "{all}"
    );
    assert!(
        all.contains("fixtures/nulls.smoke.json is not a valid x07.smoke_suite@0.1.0 file: at /cases: invalid type: null, expected a sequence"),
        "{all}"
    );
}

#[test]
fn a_named_file_that_exists_but_is_no_file_is_not_called_missing() {
    // Before: a policy that is a directory, a symlink loop or a dangling link was reported
    // as "missing policy file", sending the author looking for a file that is there.
    for (how, says) in [
        ("directory", "cannot be used: it is a directory, not a file"),
        ("loop", "cannot be used: Too many levels of symbolic links"),
        (
            "dangling",
            "cannot be used: it is a symlink to a path that does not exist",
        ),
    ] {
        let ws = Workspace::new("");
        good_fixture(&ws, "fixtures/good");
        let dir = ws.fake_fixture(
            "fixtures/broken",
            &cat_report_sh(0),
            &[
                ("report-os.json", &report("run-os", b"", None)),
                (
                    "report-sandbox.json",
                    &report("run-os-sandboxed", b"", None),
                ),
            ],
        );
        break_file(&dir.join("policy.json"), how);
        let output = ws.test_with_fake(&[]);
        let all = text(&output);
        assert_eq!(output.status.code(), Some(1), "{how}: {all}");
        assert_eq!(outcome(&all, "fixtures/broken::default::os"), "ok", "{all}");
        assert_eq!(
            outcome(&all, "fixtures/broken::default::sandbox"),
            "FAILED",
            "{all}"
        );
        assert!(
            all.contains(&format!("policy file fixtures/broken/policy.json {says}")),
            "{how}: {all}"
        );
        assert!(!all.contains("missing policy file"), "{how}: {all}");
    }
}

#[test]
fn a_repeated_key_or_a_byte_order_mark_in_an_expectations_file_fails_with_what_is_wrong() {
    // Before: `"expect": {…}, "expect": {…}` kept the last block and silently dropped the
    // other (the case checked less than its author wrote and passed); a file saved with a
    // byte-order mark said only "expected value at line 1 column 1".
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    good_fixture(&ws, "fixtures/good");
    for name in ["twice", "bom"] {
        ws.fake_fixture(
            &format!("fixtures/{name}"),
            &cat_report_sh(0),
            &[("report-os.json", &report("run-os", b"", None))],
        );
    }
    write(
        &ws.root().join("fixtures/twice/x07test.json"),
        br#"{ "schema_version": "cargo-x07.fixture@0.1.0",
              "expect": { "output": { "text": "never printed" } },
              "expect": { "exit_code": 0 } }"#,
    );
    write(
        &ws.root().join("fixtures/bom/x07test.json"),
        b"\xEF\xBB\xBF{ \"schema_version\": \"cargo-x07.fixture@0.1.0\" }",
    );
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert_eq!(outcome(&all, "fixtures/good::default::os"), "ok", "{all}");
    assert_eq!(
        outcome(&all, "fixtures/twice::default::os"),
        "FAILED",
        "{all}"
    );
    assert_eq!(
        outcome(&all, "fixtures/bom::default::os"),
        "FAILED",
        "{all}"
    );
    assert!(
        all.contains("malformed JSON in fixtures/twice/x07test.json: the key \"expect\" appears twice in one object"),
        "{all}"
    );
    assert!(
        all.contains("fixtures/bom/x07test.json starts with a UTF-8 byte-order mark (EF BB BF), which JSON does not allow"),
        "{all}"
    );
}

#[test]
fn a_test_manifest_that_is_no_file_fails_its_case_instead_of_vanishing() {
    // Before: a project's tests/tests.json that was a directory or a symlink loop was not
    // found, so the project's own tests silently disappeared from the run.
    for how in ["directory", "loop"] {
        let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
        good_fixture(&ws, "fixtures/good");
        let dir = ws.fake_fixture(
            "fixtures/project",
            &cat_report_sh(0),
            &[
                ("report-os.json", &report("run-os", b"", None)),
                ("tests/tests.json", "{}"),
            ],
        );
        break_file(&dir.join("tests/tests.json"), how);
        let output = ws.test_with_fake(&[]);
        let all = text(&output);
        assert_eq!(output.status.code(), Some(1), "{how}: {all}");
        assert_eq!(outcome(&all, "fixtures/good::default::os"), "ok", "{all}");
        assert_eq!(
            outcome(
                &all,
                "fixtures/project/tests/tests.json::manifest:invalid::x07-test"
            ),
            "FAILED",
            "{how}: {all}"
        );
        assert!(
            all.contains("x07 test manifest fixtures/project/tests/tests.json: ETEST_MANIFEST_IO"),
            "{how}: {all}"
        );
    }
}

#[test]
fn profiles_listed_for_a_project_without_profiles_fail_instead_of_vanishing() {
    // Before: x07test.json listing ["os", "sandbox"] for an x07.json without `profiles`
    // ran one case in the manifest's world and silently dropped the sandbox case.
    let ws = Workspace::new("");
    good_fixture(&ws, "fixtures/good");
    let dir = ws.fake_fixture(
        "fixtures/flat",
        &cat_report_sh(0),
        &[
            ("report-os.json", &report("run-os", b"", None)),
            (
                "x07test.json",
                r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "profiles": ["os", "sandbox"] }"#,
            ),
        ],
    );
    let mut manifest: serde_json::Value = serde_json::from_str(&project_manifest()).unwrap();
    let object = manifest.as_object_mut().unwrap();
    object.remove("profiles");
    object.remove("default_profile");
    write(&dir.join("x07.json"), manifest.to_string().as_bytes());
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert_eq!(
        outcome(&all, "fixtures/good::default::sandbox"),
        "ok",
        "{all}"
    );
    assert_eq!(outcome(&all, "fixtures/flat::default::run-os"), "", "{all}");
    for profile in ["os", "sandbox"] {
        assert_eq!(
            outcome(&all, &format!("fixtures/flat::default::{profile}")),
            "FAILED",
            "{all}"
        );
        assert!(
            all.contains(&format!("profile `{profile}` is listed in fixtures/flat/x07test.json but not declared in fixtures/flat/x07.json")),
            "{all}"
        );
    }
}

#[test]
fn a_profile_listed_twice_is_one_failing_test_not_two() {
    // Before: `"profiles": ["os", "os"]` failed the schema but listed two tests named
    // `…::default::os`, which `--exact` and nextest cannot tell apart.
    let ws = Workspace::new("");
    ws.fake_fixture(
        "fixtures/twice",
        &cat_report_sh(0),
        &[
            ("report-os.json", &report("run-os", b"", None)),
            (
                "x07test.json",
                r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "profiles": ["os", "os"] }"#,
            ),
        ],
    );
    let output = ws.command(&["list"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "fixtures/twice::default::os\n"
    );
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("has non-unique elements"), "{all}");
}

#[test]
fn a_fixture_that_declares_none_of_the_configured_profiles_is_listed_as_ignored() {
    // Before: with `profiles = ["sandbx"]` (a typo), or a project whose profiles are named
    // otherwise, every such fixture silently had no case and the run was green.
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"sandbx\"]\n");
    ws.fake_fixture(
        "fixtures/a",
        &cat_report_sh(0),
        &[("report-os.json", &report("run-os", b"", None))],
    );
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    for profile in ["os", "sandbox"] {
        assert_eq!(
            outcome(&all, &format!("fixtures/a::default::{profile}")),
            "ignored, x07.json declares none of the configured profiles (sandbx); list the profiles to run in x07test.json `profiles` or the `profiles` configuration key",
            "{all}"
        );
    }
    // Asked for, they run under the profiles the fixture declares.
    let output = ws.test_with_fake(&["--include-ignored", "fixtures/a::default::os", "--exact"]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert_eq!(outcome(&all, "fixtures/a::default::os"), "ok", "{all}");
}

#[test]
fn a_by_profile_key_that_names_no_profile_fails_its_case() {
    // Before: `"by_profile": { "sandbx": { "expect": { "trap": … } } }` (a typo) was never
    // applied and never reported, so the case passed on the case-level expectations.
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    ws.fake_fixture(
        "fixtures/typo",
        &cat_report_sh(0),
        &[
            ("report-os.json", &report("run-os", b"", None)),
            (
                "x07test.json",
                r#"{ "schema_version": "cargo-x07.fixture@0.1.0",
                     "cases": [ { "name": "c", "by_profile": { "sandbx": { "expect": { "trap": "denied" } } } } ] }"#,
            ),
        ],
    );
    // A declared profile this run does not select is fine.
    ws.fake_fixture(
        "fixtures/fine",
        &cat_report_sh(0),
        &[
            ("report-os.json", &report("run-os", b"", None)),
            (
                "x07test.json",
                r#"{ "schema_version": "cargo-x07.fixture@0.1.0",
                     "cases": [ { "name": "c", "by_profile": { "sandbox": { "expect": { "trap": "denied" } } } } ] }"#,
            ),
        ],
    );
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert_eq!(outcome(&all, "fixtures/fine::c::os"), "ok", "{all}");
    assert_eq!(outcome(&all, "fixtures/typo::c::os"), "FAILED", "{all}");
    assert!(
        all.contains("fixtures/typo/x07test.json: cases[0].by_profile.sandbx: names no profile of this fixture (x07.json has: os, sandbox)"),
        "{all}"
    );
}

#[test]
fn a_fifo_named_like_a_fixture_file_fails_its_case_instead_of_blocking_the_run() {
    // Before: a FIFO named x07test.json or tests/tests.json was skipped as if absent (and,
    // once such entries count, opening one would wait for a writer for ever); `cargo x07
    // policy check` on a FIFO did wait for ever.
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    good_fixture(&ws, "fixtures/good");
    let dir = ws.fake_fixture(
        "fixtures/fifo",
        &cat_report_sh(0),
        &[
            ("report-os.json", &report("run-os", b"", None)),
            ("tests/keep", ""),
        ],
    );
    for name in ["x07test.json", "tests/tests.json"] {
        let made = Command::new("mkfifo").arg(dir.join(name)).status().unwrap();
        assert!(made.success());
    }
    let fake = fake_x07();
    let output = output_within(
        ws.command(&["test", "--x07", fake.to_str().unwrap()]),
        Duration::from_secs(60),
    );
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert_eq!(outcome(&all, "fixtures/good::default::os"), "ok", "{all}");
    assert_eq!(
        outcome(&all, "fixtures/fifo::default::os"),
        "FAILED",
        "{all}"
    );
    assert!(
        all.contains("cannot read fixtures/fifo/x07test.json: not a regular file"),
        "{all}"
    );
    assert!(
        all.contains("ETEST_MANIFEST_IO: failed to read manifest: not a regular file"),
        "{all}"
    );
    let output = output_within(
        ws.command(&[
            "policy",
            "check",
            dir.join("x07test.json").to_str().unwrap(),
        ]),
        Duration::from_secs(60),
    );
    assert_ne!(output.status.code(), Some(0), "{}", text(&output));
}
