//! `cargo x07 audit`: the bundled demo policy's deliberately unneeded grant, `--deny-unneeded`,
//! `--format json`, policies shared by several fixtures, cases that fail under their own
//! policy, and skipped runs agreeing with `--exhaustive`. Runs the embedded runner.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use common::*;
use serde_json::{json, Value};

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `cargo-x07 x07 audit <args>` on this repository.
fn audit_repository(args: &[&str]) -> Output {
    Command::new(cargo_x07())
        .args([
            "x07",
            "audit",
            "--backend",
            "embedded",
            "--no-progress",
            "--manifest-path",
        ])
        .arg(repository().join("Cargo.toml"))
        .args(args)
        .current_dir(repository())
        .env_remove("CI")
        .output()
        .unwrap()
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}", text(output)))
}

/// Grant key → (verdict, the grant) of the one policy in `report` whose file ends with `file`.
fn verdicts<'a>(report: &'a Value, file: &str) -> BTreeMap<&'a str, (&'a str, &'a Value)> {
    let policy = report["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|policy| policy["file"].as_str().unwrap().ends_with(file))
        .unwrap_or_else(|| panic!("no policy {file} in {report}"));
    policy["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|grant| {
            (
                grant["key"].as_str().unwrap(),
                (grant["verdict"].as_str().unwrap(), grant),
            )
        })
        .collect()
}

#[test]
fn the_demo_policy_has_one_unneeded_grant_and_deny_unneeded_fails_on_it() {
    let demo = repository().join("fixtures/audit");
    let before = common::files_under(&demo);
    let output = audit_repository(&["fixtures/audit/unneeded-write-root", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let report = json_of(&output);
    assert_eq!(report["schema_version"], "cargo-x07.audit@0.1.0");
    let grants = verdicts(&report, "fixtures/audit/unneeded-write-root/policy.json");
    let keys: Vec<&str> = grants.keys().copied().collect();
    assert_eq!(
        keys,
        [
            "fs.enabled",
            "fs.read_roots[\".\"]",
            "fs.write_roots[\"out\"]"
        ],
        "every grant of the demo policy is listed"
    );
    let case = "fixtures/audit/unneeded-write-root::read::sandbox";
    let (verdict, grant) = grants["fs.write_roots[\"out\"]"];
    assert_eq!(verdict, "unneeded");
    assert_eq!(grant["passed_without"], json!([case]));
    let (verdict, grant) = grants["fs.read_roots[\".\"]"];
    assert_eq!(verdict, "needed");
    assert_eq!(grant["needed_by"][0]["case"], case);
    assert!(
        grant["needed_by"][0]["failed_checks"][0]
            .as_str()
            .unwrap()
            .starts_with("trap: expected none, got \"os.fs.read_file open failed"),
        "{grant}"
    );
    let (verdict, grant) = grants["fs.enabled"];
    assert_eq!(verdict, "needed");
    assert_eq!(
        grant["needed_by"][0]["failed_checks"][0],
        "trap: expected none, got \"os.fs disabled by policy\""
    );
    assert_eq!(report["summary"]["unneeded"], 1);
    assert_eq!(report["summary"]["needed"], 2);

    let output = audit_repository(&["fixtures/audit/unneeded-write-root", "--deny-unneeded"]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(
        all.contains("  unneeded   fs.write_roots \"out\"  1 case passes without it\n"),
        "{all}"
    );
    assert!(
        all.contains("error: --deny-unneeded: 1 grant(s) unneeded, 0 not judged"),
        "{all}"
    );
    // The other demo's policy grants only what its cases need.
    let output = audit_repository(&["fixtures/audit/env-key-denied", "--deny-unneeded"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(
        before,
        common::files_under(&demo),
        "nothing under the fixtures changes"
    );
}

#[test]
fn skipped_runs_agree_with_an_exhaustive_audit() {
    for fixture in ["fixtures/core/hello-literal", "fixtures/env/get-by-name"] {
        let proved = json_of(&audit_repository(&[fixture, "--format", "json"]));
        let exhaustive = json_of(&audit_repository(&[
            fixture,
            "--format",
            "json",
            "--exhaustive",
        ]));
        let file = format!("{fixture}/policy.json");
        let proved_verdicts: BTreeMap<&str, &str> = verdicts(&proved, &file)
            .into_iter()
            .map(|(key, (verdict, _))| (key, verdict))
            .collect();
        let exhaustive_verdicts: BTreeMap<&str, &str> = verdicts(&exhaustive, &file)
            .into_iter()
            .map(|(key, (verdict, _))| (key, verdict))
            .collect();
        assert_eq!(proved_verdicts, exhaustive_verdicts, "{fixture}");
        assert!(
            proved["summary"]["skipped"].as_u64().unwrap() > 0,
            "{fixture}: {}",
            proved["summary"]
        );
        assert_eq!(exhaustive["summary"]["skipped"], 0, "{fixture}");
    }
}

/// A fixture reading the environment variable its input names (the recorded probe `env`).
const READ_ENV: &str = r#"{"decls":[],"imports":[],"kind":"entry","module_id":"main","schema_version":"x07.x07ast@0.8.0","solve":["bytes.concat",["bytes.lit","v="],["os.env.get",["view.to_bytes","input"]]]}"#;

fn env_fixture(ws: &Workspace, name: &str, key: &str, value: &str, expected: &str) {
    let expectations = json!({
        "schema_version": "cargo-x07.fixture@0.1.0",
        "cases": [{
            "name": "read",
            "input": { "text": key },
            "run": { "env": { key: value } },
            "expect": { "output": { "text": expected } },
            "by_profile": { "sandbox": { "run": { "policy": "../../policies/shared.json" } } }
        }]
    });
    ws.fixture(
        name,
        &[
            ("x07.json", &project_manifest()),
            (
                "policy.json",
                include_str!("data/workspaces/hello/policy.json"),
            ),
            ("main.x07.json", READ_ENV),
            ("x07test.json", &expectations.to_string()),
        ],
    );
}

#[test]
fn a_shared_policy_is_judged_over_all_its_cases() {
    let ws = Workspace::new("");
    let mut shared: Value =
        serde_json::from_str(include_str!("data/workspaces/hello/policy.json")).unwrap();
    shared["policy_id"] = json!("shared");
    shared["env"]["allow_keys"] = json!(["KEY_A", "KEY_B", "KEY_C"]);
    shared["env"]["deny_keys"] = json!([]);
    write(
        &ws.root().join("policies/shared.json"),
        serde_json::to_string_pretty(&shared).unwrap().as_bytes(),
    );
    env_fixture(&ws, "fixtures/a", "KEY_A", "1", "v=1");
    env_fixture(&ws, "fixtures/b", "KEY_B", "2", "v=2");
    // A third fixture that fails under the shared policy is not used for the verdicts.
    env_fixture(&ws, "fixtures/c", "KEY_C", "3", "v=wrong");
    let before = ws.snapshot();

    // The filter picks the policy by one of its cases; all its cases are used.
    let output = ws
        .command(&[
            "audit",
            "--backend",
            "embedded",
            "--no-progress",
            "--format",
            "json",
            "fixtures/a",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let report = json_of(&output);
    assert_eq!(report["policies"].as_array().unwrap().len(), 1, "{report}");
    let policy = &report["policies"][0];
    assert_eq!(policy["file"], "policies/shared.json");
    assert_eq!(
        policy["cases"],
        json!(["fixtures/a::read::sandbox", "fixtures/b::read::sandbox"])
    );
    assert_eq!(policy["not_used"][0]["case"], "fixtures/c::read::sandbox");
    assert!(
        policy["not_used"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("fails under its own policy: output: expected"),
        "{policy}"
    );
    let grants = verdicts(&report, "policies/shared.json");
    let (verdict, grant) = grants["env.allow_keys[\"KEY_A\"]"];
    assert_eq!(verdict, "needed");
    assert_eq!(grant["needed_by"][0]["case"], "fixtures/a::read::sandbox");
    assert_eq!(
        grant["passed_without"],
        json!(["fixtures/b::read::sandbox"])
    );
    let (verdict, grant) = grants["env.allow_keys[\"KEY_B\"]"];
    assert_eq!(verdict, "needed");
    assert_eq!(grant["needed_by"][0]["case"], "fixtures/b::read::sandbox");
    assert_eq!(grants["env.allow_keys[\"KEY_C\"]"].0, "unneeded");
    // Grants no case can reach are unneeded with the proof as evidence.
    let (verdict, grant) = grants["process.allow_spawn"];
    assert_eq!(verdict, "unneeded");
    assert_eq!(grant["unreachable"].as_array().unwrap().len(), 2);
    assert!(
        grant["unreachable"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("no os.process.* / std.os.process.* call in fixtures/a/main.x07.json"),
        "{grant}"
    );
    assert_eq!(before, ws.snapshot(), "nothing under the workspace changes");

    // Only fixture c selected: its policy has no passing case, nothing can be judged.
    std::fs::remove_dir_all(ws.root().join("fixtures/a")).unwrap();
    std::fs::remove_dir_all(ws.root().join("fixtures/b")).unwrap();
    let output = ws
        .command(&[
            "audit",
            "--backend",
            "embedded",
            "--no-progress",
            "--deny-unneeded",
        ])
        .output()
        .unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("  not judged "), "{all}");
    assert!(
        all.contains("no case using the policy passes under it"),
        "{all}"
    );
    assert!(all.contains(" 0 needed, 0 unneeded, "), "{all}");
}

#[test]
fn no_sandbox_case_is_exit_4_and_a_filter_that_matches_nothing_exit_0() {
    let ws = Workspace::new("");
    let output = ws.command(&["audit", "--no-progress"]).output().unwrap();
    assert_eq!(output.status.code(), Some(4), "{}", text(&output));
    assert!(text(&output).contains("error: no sandbox x07 run case selected"));
    let output = ws
        .command(&["audit", "--no-progress", "nothing-matches"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

/// FILTER as a path, as `cargo x07 test <path>` takes it: a fixture `cargo x07 new` made
/// outside the fixture roots is audited; a path without fixtures stays a name filter.
#[test]
fn a_path_selects_the_policies_of_the_fixtures_below_it_also_outside_the_roots() {
    let ws = Workspace::new("");
    let created = ws.command(&["new", "demo"]).output().unwrap();
    assert_eq!(created.status.code(), Some(0), "{}", text(&created));
    let before = ws.snapshot();
    let audit = |args: &[&str]| {
        let mut all = vec!["audit", "--backend", "embedded", "--no-progress"];
        all.extend_from_slice(args);
        ws.command(&all).output().unwrap()
    };

    let output = audit(&["--format", "json", "demo"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let report = json_of(&output);
    let policies = report["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 1, "{report}");
    // The template policy `cargo x07 new` wrote, relative to where the audit ran.
    assert_eq!(
        policies[0]["file"],
        json!("demo/policies/cli.sandbox.base.policy.json"),
        "{report}"
    );
    assert_eq!(policies[0]["cases"], json!(["demo::greet::sandbox"]));
    assert!(
        report["summary"]["grants"].as_u64().unwrap() > 0,
        "{report}"
    );
    // Its x07.json names the same fixture.
    let output = audit(&["--format", "json", "demo/x07.json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(json_of(&output)["policies"].as_array().unwrap().len(), 1);

    // The template policy grants more than a greeting needs.
    let output = audit(&["--deny-unneeded", "demo"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));

    // A path without fixtures is a test-name filter (which matches nothing here).
    let output = audit(&["src"]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert!(
        all.contains("FILTER is used as a test-name filter"),
        "{all}"
    );
    assert!(
        all.contains("error: no sandbox x07 run case selected by the filter"),
        "{all}"
    );
    assert_eq!(ws.snapshot(), before, "the audit wrote into the workspace");
}
