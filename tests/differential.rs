//! `cargo x07 test --differential` (and `differential = true`): a sandbox case that
//! expects a denial must not end the same way under the os profile; a fixture without
//! expectations must end alike under both. Runs the embedded runner.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::{json, Value};

/// `os.fs.read_file(input)` (the recorded probe program `rf`).
const READ_FILE: &str = r#"{"decls":[],"imports":[],"kind":"entry","module_id":"main","schema_version":"x07.x07ast@0.8.0","solve":["os.fs.read_file",["view.to_bytes","input"]]}"#;

fn policy() -> String {
    include_str!("data/workspaces/hello/policy.json").to_string()
}

fn write_fixture(
    ws: &Workspace,
    name: &str,
    program: &str,
    expectations: Option<Value>,
) -> PathBuf {
    let mut files = vec![
        ("x07.json".to_string(), project_manifest()),
        ("policy.json".to_string(), policy()),
        ("main.x07.json".to_string(), program.to_string()),
    ];
    if let Some(expectations) = expectations {
        files.push((
            "x07test.json".to_string(),
            serde_json::to_string_pretty(&expectations).unwrap(),
        ));
    }
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(name, text)| (name.as_str(), text.as_str()))
        .collect();
    ws.fixture(name, &files)
}

fn test(ws: &Workspace, args: &[&str]) -> (Option<i32>, String) {
    let mut all = vec!["test", "--backend", "embedded"];
    all.extend_from_slice(args);
    let output = ws.command(&all).output().unwrap();
    (output.status.code(), text(&output))
}

/// A sandbox-only case that "expects a denial" of reading a file that does not exist.
fn sandbox_only_missing_file() -> Value {
    json!({
        "schema_version": "cargo-x07.fixture@0.1.0",
        "description": "claims the sandbox denies reading missing.txt",
        "profiles": ["sandbox"],
        "cases": [{
            "name": "missing",
            "input": { "text": "missing.txt" },
            "expect": { "trap": { "contains": "os.fs.read_file" } }
        }]
    })
}

#[test]
fn a_denial_that_happens_without_the_policy_too_is_rejected() {
    let ws = Workspace::new("");
    write_fixture(
        &ws,
        "fixtures/sandbox-only",
        READ_FILE,
        Some(sandbox_only_missing_file()),
    );
    write_fixture(
        &ws,
        "fixtures/regex-override",
        READ_FILE,
        Some(json!({
            "schema_version": "cargo-x07.fixture@0.1.0",
            "cases": [{
                "name": "missing",
                "input": { "text": "missing.txt" },
                "expect": { "trap": "os.fs.read_file open failed path=missing.txt", "exit_status": 132 },
                "by_profile": { "sandbox": { "expect": { "trap": { "regex": "^os\\.fs\\.read_file " } } } }
            }]
        })),
    );
    let before = ws.snapshot();

    // Without the differential both fixtures pass: the sandbox does trap.
    let (code, all) = test(&ws, &[]);
    assert_eq!(code, Some(0), "{all}");

    let (code, all) = test(&ws, &["--differential"]);
    assert_eq!(code, Some(1), "{all}");
    assert!(
        all.contains("differential: 2 sandbox case(s) will also run under their os profile"),
        "{all}"
    );
    for name in [
        "fixtures/sandbox-only::missing::sandbox",
        "fixtures/regex-override::missing::sandbox",
    ] {
        assert_eq!(outcome(&all, name), "FAILED", "{name}: {all}");
    }
    assert_eq!(
        outcome(&all, "fixtures/regex-override::missing::os"),
        "ok",
        "{all}"
    );
    assert!(
        all.contains(
            "  - differential: the denial is not evidence of the policy: under profile `os` (no policy) \
             the case ends the same way (exit_code 1, trap \"os.fs.read_file open failed path=missing.txt\", exit status 132)"
        ),
        "{all}"
    );
    assert!(
        all.contains(
            "    the run without the policy: x07 run --project fixtures/sandbox-only/x07.json --profile os --repair=off --input-b64 bWlzc2luZy50eHQ="
        ),
        "{all}"
    );
    assert_eq!(before, ws.snapshot(), "nothing under the workspace changes");

    // Bless cannot fix what the differential finds: the report meets the expectations.
    let output = ws
        .command(&["bless", "--backend", "embedded", "--differential"])
        .output()
        .unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(
        all.contains(
            "bless: left fixtures/sandbox-only::missing::sandbox alone: the profile differential failed"
        ),
        "{all}"
    );
    assert_eq!(before, ws.snapshot(), "bless wrote nothing");
}

#[test]
fn the_configuration_key_turns_it_on_and_the_flag_off() {
    let ws = Workspace::new("[workspace.metadata.x07]\ndifferential = true\n");
    write_fixture(
        &ws,
        "fixtures/sandbox-only",
        READ_FILE,
        Some(sandbox_only_missing_file()),
    );
    let (code, all) = test(&ws, &[]);
    assert_eq!(code, Some(1), "{all}");
    assert!(
        all.contains("the denial is not evidence of the policy"),
        "{all}"
    );
    let (code, all) = test(&ws, &["--no-differential"]);
    assert_eq!(code, Some(0), "{all}");
}

#[test]
fn without_expectations_os_and_sandbox_must_end_alike() {
    let ws = Workspace::new("");
    // Reads its world's name (recorded: `v=run-os`, and `v=run-os-sandboxed` where the
    // policy allows the key).
    let program = r#"{"decls":[],"imports":[],"kind":"entry","module_id":"main","schema_version":"x07.x07ast@0.8.0","solve":["bytes.concat",["bytes.lit","v="],["os.env.get",["bytes.lit","X07_WORLD"]]]}"#;
    let dir = write_fixture(&ws, "fixtures/world", program, None);
    let mut policy: Value = serde_json::from_str(&policy()).unwrap();
    policy["env"]["allow_keys"]
        .as_array_mut()
        .unwrap()
        .push(json!("X07_WORLD"));
    write(
        &dir.join("policy.json"),
        serde_json::to_string_pretty(&policy).unwrap().as_bytes(),
    );
    write_fixture(
        &ws,
        "fixtures/same",
        r#"{"decls":[],"imports":[],"kind":"entry","module_id":"main","schema_version":"x07.x07ast@0.8.0","solve":["bytes.lit","same"]}"#,
        None,
    );

    let (code, all) = test(&ws, &[]);
    assert_eq!(code, Some(0), "{all}");
    let (code, all) = test(&ws, &["--differential"]);
    assert_eq!(code, Some(1), "{all}");
    assert_eq!(
        outcome(&all, "fixtures/world::default::sandbox"),
        "FAILED",
        "{all}"
    );
    assert_eq!(
        outcome(&all, "fixtures/same::default::sandbox"),
        "ok",
        "{all}"
    );
    assert!(
        all.contains(
            "differential: the sandbox run ends differently from the run under profile `os`, and the fixture \
             has no x07test.json that expects it: os: exit_code 0, output \"v=run-os\"; sandbox: exit_code 0, \
             output \"v=run-os-sandboxed\""
        ),
        "{all}"
    );
}

#[test]
fn a_project_without_an_os_profile_cannot_be_compared() {
    let ws = Workspace::new("");
    let dir = write_fixture(
        &ws,
        "fixtures/sandbox-only",
        READ_FILE,
        Some(sandbox_only_missing_file()),
    );
    let mut manifest: Value = serde_json::from_str(&project_manifest()).unwrap();
    manifest["profiles"].as_object_mut().unwrap().remove("os");
    manifest["default_profile"] = json!("sandbox");
    write(&dir.join("x07.json"), manifest.to_string().as_bytes());
    let (code, all) = test(&ws, &["--differential"]);
    assert_eq!(code, Some(1), "{all}");
    assert!(
        all.contains(
            "differential: cannot run the case without its policy: fixtures/sandbox-only/x07.json declares no profile with world run-os"
        ),
        "{all}"
    );
}

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_bundled_denial_fixtures_are_evidence_of_their_policies() {
    let output = Command::new(cargo_x07())
        .args([
            "x07",
            "test",
            "--backend",
            "embedded",
            "--differential",
            "--manifest-path",
        ])
        .arg(repository().join("Cargo.toml"))
        .args(["--", "fixtures/audit/", "--test-threads", "2"])
        .current_dir(repository())
        .env_remove("CI")
        .output()
        .unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert!(
        all.contains("differential: 1 sandbox case(s) will also run under their os profile"),
        "{all}"
    );
    assert_eq!(
        outcome(&all, "fixtures/audit/env-key-denied::not-allowed::sandbox"),
        "ok",
        "{all}"
    );
}
