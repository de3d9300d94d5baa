//! `cargo x07 new <dir>` then `cargo x07 test <dir>` on a fresh workspace, as a new user
//! does it: the fixture passes at once (embedded runner, every sandbox template), `new`
//! refuses to overwrite, says what to add when the fixture is outside the fixture roots
//! (and that advice works), and `cargo x07 test <path>` / `list <path>` / `run <name>`
//! accept it.

mod common;

use std::path::Path;

use common::*;

fn new(ws: &Workspace, args: &[&str]) -> (Option<i32>, String) {
    let mut all = vec!["new"];
    all.extend_from_slice(args);
    let output = ws.command(&all).output().unwrap();
    (output.status.code(), text(&output))
}

fn test(ws: &Workspace, args: &[&str], cwd: &Path) -> (Option<i32>, String) {
    let mut all = vec!["test", "--backend", "embedded"];
    all.extend_from_slice(args);
    let output = ws.command(&all).current_dir(cwd).output().unwrap();
    (output.status.code(), text(&output))
}

#[test]
fn new_then_test_passes_on_a_fresh_workspace() {
    let ws = Workspace::new("");
    let (code, out) = new(&ws, &["demo"]);
    assert_eq!(code, Some(0), "{out}");
    for file in [
        "x07.json",
        "x07.lock.json",
        "policies/cli.sandbox.base.policy.json",
        "src/main.x07.json",
        "x07test.json",
    ] {
        assert!(ws.root().join("demo").join(file).is_file(), "{file}\n{out}");
        assert!(out.contains(&format!("  demo/{file}\n")), "{out}");
    }
    assert!(out.contains("cargo x07 test demo "), "{out}");
    assert!(out.contains("cargo x07 bless demo "), "{out}");
    // The policy is the template's, byte for byte.
    assert_eq!(
        std::fs::read_to_string(ws.root().join("demo/policies/cli.sandbox.base.policy.json"))
            .unwrap(),
        include_str!("../policies/cli.sandbox.base.policy.json")
    );

    let (code, out) = test(&ws, &["demo"], ws.root());
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(outcome(&out, "demo::greet::os"), "ok", "{out}");
    assert_eq!(outcome(&out, "demo::greet::sandbox"), "ok", "{out}");
    assert!(out.contains("2 passed; 0 failed"), "{out}");

    // Also by its x07.json, from inside it, and by test name with run; list takes the path.
    let (code, out) = test(&ws, &["demo/x07.json"], ws.root());
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("2 passed"), "{out}");
    let (code, out) = test(&ws, &["."], &ws.root().join("demo"));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("2 passed"), "{out}");
    let output = ws
        .command(&["run", "demo::greet::sandbox", "--backend", "embedded"])
        .output()
        .unwrap();
    let out = text(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(
        out.contains("output (10 bytes, text): hello, x07\n"),
        "{out}"
    );
    let output = ws.command(&["list", "demo"]).output().unwrap();
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "demo::greet::os\ndemo::greet::sandbox\n"
    );
}

#[test]
fn every_sandbox_template_gives_a_passing_fixture() {
    let ws = Workspace::new("");
    for template in [
        "cli",
        "http-client",
        "web-service",
        "fs-tool",
        "sqlite-app",
        "postgres-client",
        "worker",
        "worker-parallel",
    ] {
        let dir = format!("fixtures/{template}");
        let (code, out) = new(&ws, &[&dir, "--template", template]);
        assert_eq!(code, Some(0), "{out}");
        assert!(ws
            .root()
            .join(&dir)
            .join(format!("policies/{template}.sandbox.base.policy.json"))
            .is_file());
        // Under the default fixture root: no advice needed.
        assert!(!out.contains("note:"), "{out}");
    }
    // A plain `cargo x07 test` finds them all, and nothing under fixtures/ changes.
    let before = ws.snapshot();
    let (code, out) = test(&ws, &[], ws.root());
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("16 passed; 0 failed"), "{out}");
    assert_eq!(ws.snapshot(), before);
    let (code, out) = new(&ws, &["other", "--template", "nope"]);
    assert_eq!(code, Some(2));
    assert!(
        out.contains("unknown template \"nope\" (expected one of: cli, http-client"),
        "{out}"
    );
    assert!(!ws.root().join("other").exists());
}

#[test]
fn new_never_overwrites() {
    let ws = Workspace::new("");
    ws.fixture("demo", &[("notes.txt", "mine")]);
    let (code, out) = new(&ws, &["demo"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains(
            "error: demo already exists and is not an empty directory; nothing was written"
        ),
        "{out}"
    );
    assert!(!ws.root().join("demo/x07.json").exists());
    assert_eq!(
        std::fs::read_to_string(ws.root().join("demo/notes.txt")).unwrap(),
        "mine"
    );
    // A second `new` over a created fixture changes nothing.
    let (code, _) = new(&ws, &["fresh"]);
    assert_eq!(code, Some(0));
    let before = ws.snapshot();
    let (code, _) = new(&ws, &["fresh", "--template", "worker"]);
    assert_eq!(code, Some(2));
    assert_eq!(ws.snapshot(), before);
}

#[test]
fn the_advice_for_a_fixture_outside_the_roots_works() {
    let ws = Workspace::new("");
    let (code, out) = new(&ws, &["demo"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(
            "note: demo is not under the fixture roots (fixtures), so a plain `cargo x07 test` does not run it"
        ),
        "{out}"
    );
    let advice = out
        .lines()
        .find(|line| line.trim_start().starts_with("fixtures = "))
        .expect("the key to set")
        .trim()
        .to_string();
    // fixtures/ does not exist here (a configured root must).
    assert_eq!(advice, r#"fixtures = ["demo"]"#);
    // Without it a plain run finds nothing; with it the fixture is part of every run.
    let (code, _) = test(&ws, &[], ws.root());
    assert_eq!(code, Some(4));
    let manifest = ws.root().join("Cargo.toml");
    let mut toml = std::fs::read_to_string(&manifest).unwrap();
    toml.push_str(&format!("\n[package.metadata.x07]\n{advice}\n"));
    std::fs::write(&manifest, toml).unwrap();
    let (code, out) = test(&ws, &[], ws.root());
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("test demo::greet::os"), "{out}");
    // A configured root list is extended.
    let (_, out) = new(&ws, &["fixtures/one"]);
    assert!(
        out.contains(r#"  fixtures = ["demo", "fixtures/one"]"#),
        "{out}"
    );
    // With the default root present, it is kept.
    let ws = Workspace::new("");
    new(&ws, &["fixtures/one"]);
    let (_, out) = new(&ws, &["two"]);
    assert!(out.contains(r#"  fixtures = ["fixtures", "two"]"#), "{out}");
}

#[test]
fn a_virtual_workspace_root_fixture_runs_by_path() {
    let ws = Workspace::new("");
    // Turn the workspace into a virtual one with one member.
    std::fs::write(
        ws.root().join("Cargo.toml"),
        "[workspace]\nmembers = [\"member\"]\nresolver = \"2\"\n",
    )
    .unwrap();
    write(
        &ws.root().join("member/Cargo.toml"),
        b"[package]\nname = \"member\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(&ws.root().join("member/src/lib.rs"), b"");
    let (code, out) = new(&ws, &["demo"]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = test(&ws, &["demo"], ws.root());
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("2 passed"), "{out}");
}

#[test]
fn a_path_without_fixtures_is_still_a_name_filter() {
    let ws = Workspace::new("");
    new(&ws, &["fixtures/demo"]);
    // `src` exists (the package's sources) but holds no fixture.
    let (code, out) = test(&ws, &["src"], ws.root());
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("note: src holds no fixture (no directory with x07.json, no *.smoke.json file); FILTER is used as a test-name filter"),
        "{out}"
    );
    assert!(
        out.contains("0 passed; 0 failed; 0 ignored; 0 measured; 2 filtered out"),
        "{out}"
    );
    // A test name is never a path.
    let (code, out) = test(&ws, &["fixtures/demo::greet::os", "--exact"], ws.root());
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("1 passed"), "{out}");
}
