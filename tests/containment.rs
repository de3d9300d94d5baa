//! Every path a fixture or smoke suite names must resolve (symlinks included) inside the
//! cargo workspace (smoke paths inside `smoke_root`); otherwise its case fails naming the
//! path, and nothing from outside is read or printed.

mod common;

use common::*;

/// `../` repeated until `dir` is left for the file-system root.
fn up_to_root(dir: &std::path::Path) -> String {
    "../".repeat(dir.components().count() - 1)
}

fn outside_file() -> &'static str {
    "etc/hostname"
}

#[test]
fn an_expected_output_file_outside_the_workspace_is_not_read() {
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    let dir = ws.fake_fixture(
        "fixtures/leak",
        &cat_report_sh(0),
        &[("report-os.json", &report("run-os", b"x", None))],
    );
    let escape = format!("{}{}", up_to_root(&dir), outside_file());
    std::fs::write(
        dir.join("x07test.json"),
        format!(
            r#"{{ "schema_version": "cargo-x07.fixture@0.1.0", "expect": {{ "output": {{ "file": "{escape}" }} }} }}"#
        ),
    )
    .unwrap();
    let secret = std::fs::read_to_string(format!("/{}", outside_file())).unwrap_or_default();
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("outside the workspace"), "{all}");
    assert!(all.contains(&escape), "{all}");
    if !secret.trim().is_empty() {
        assert!(!all.contains(secret.trim()), "{all}");
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_to_outside_the_workspace_is_not_followed_for_expectations() {
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    let dir = ws.fake_fixture(
        "fixtures/link",
        &cat_report_sh(0),
        &[
            ("report-os.json", &report("run-os", b"x", None)),
            (
                "x07test.json",
                r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "expect": { "output": { "file": "expected.txt" } } }"#,
            ),
        ],
    );
    std::os::unix::fs::symlink(format!("/{}", outside_file()), dir.join("expected.txt")).unwrap();
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("fixtures/link/expected.txt"), "{all}");
    assert!(all.contains("outside the workspace"), "{all}");
}

#[test]
fn input_and_policy_files_outside_the_workspace_fail_their_cases() {
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"sandbox\"]\n");
    let dir = ws.fake_fixture(
        "fixtures/paths",
        &cat_report_sh(0),
        &[(
            "report-sandbox.json",
            &report("run-os-sandboxed", b"", None),
        )],
    );
    let up = up_to_root(&dir);
    let other = tempfile::tempdir().unwrap();
    std::fs::write(
        other.path().join("policy.json"),
        include_str!("data/workspaces/hello/policy.json"),
    )
    .unwrap();
    let policy = other.path().join("policy.json");
    std::fs::write(
        dir.join("x07test.json"),
        format!(
            r#"{{ "schema_version": "cargo-x07.fixture@0.1.0", "cases": [
                 {{ "name": "input", "input": {{ "file": "{up}{}" }} }},
                 {{ "name": "policy", "run": {{ "policy": "{}" }} }} ] }}"#,
            outside_file(),
            policy.display()
        ),
    )
    .unwrap();
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert_eq!(
        outcome(&all, "fixtures/paths::input::sandbox"),
        "FAILED",
        "{all}"
    );
    assert_eq!(
        outcome(&all, "fixtures/paths::policy::sandbox"),
        "FAILED",
        "{all}"
    );
    assert!(all.contains(&format!("{up}{}", outside_file())), "{all}");
    assert!(all.contains(&policy.display().to_string()), "{all}");
    assert_eq!(all.matches("outside the workspace").count(), 2, "{all}");
}

#[test]
fn a_smoke_program_outside_the_smoke_root_fails_its_case() {
    let ws = Workspace::new(
        "[package.metadata.x07]\nfixtures = [\"suites\"]\nsmoke_root = \"suites\"\n",
    );
    write(&ws.root().join("elsewhere/main.x07.json"), b"{}");
    ws.fixture(
        "suites",
        &[(
            "escape.smoke.json",
            r#"{ "schema_version": "x07.smoke_suite@0.1.0", "world": "run-os",
                 "program_x07json": "../elsewhere/main.x07.json",
                 "cases": [ { "name": "a", "input_b64": "", "expected_b64": "" } ] }"#,
        )],
    );
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("outside the smoke root"), "{all}");
    assert!(all.contains("elsewhere/main.x07.json"), "{all}");
}

#[cfg(unix)]
#[test]
fn a_symlinked_expectations_file_outside_the_workspace_is_not_read() {
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    let dir = ws.fake_fixture(
        "fixtures/linked",
        &cat_report_sh(0),
        &[("report-os.json", &report("run-os", b"", None))],
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let secret = elsewhere.path().join("x07test.json");
    std::fs::write(
        &secret,
        r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "description": "SECRET-TOKEN", "expect": { "exitcode": "SECRET-VALUE" } }"#,
    )
    .unwrap();
    std::os::unix::fs::symlink(&secret, dir.join("x07test.json")).unwrap();
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("outside the workspace"), "{all}");
    assert!(!all.contains("SECRET-VALUE"), "{all}");
}
