//! Bless on the files people actually write: sidecar output files, `regex`/`contains`
//! expectations, and per-profile overrides over a case-level value.

mod common;

use serde_json::{json, Value};

use common::*;

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn bless(ws: &Workspace) -> std::process::Output {
    let fake = fake_x07();
    ws.command(&["bless", "--x07", fake.to_str().unwrap()])
        .output()
        .unwrap()
}

#[test]
fn a_sidecar_output_file_is_rewritten_in_place() {
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    let new_bytes = [0xffu8, 0x00, 0x41];
    let dir = ws.fake_fixture(
        "fixtures/side",
        &cat_report_sh(0),
        &[
            ("report-os.json", &report("run-os", &new_bytes, None)),
            ("expected.bin", "OLD"),
            (
                "x07test.json",
                r#"{ "schema_version": "cargo-x07.fixture@0.1.0",
                     "expect": { "output": { "file": "expected.bin" } } }"#,
            ),
        ],
    );
    let output = bless(&ws);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(std::fs::read(dir.join("expected.bin")).unwrap(), new_bytes);
    let blessed = read_json(&dir.join("x07test.json"));
    assert_eq!(
        blessed["expect"]["output"],
        json!({ "file": "expected.bin" })
    );
    assert!(
        text(&output).contains("fixtures/side/expected.bin"),
        "{}",
        text(&output)
    );
    let output = ws.test_with_fake(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

#[test]
fn a_sidecar_outside_the_fixture_is_left_alone() {
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    write(&ws.root().join("shared/expected.txt"), b"OLD");
    let dir = ws.fake_fixture(
        "fixtures/outside",
        &cat_report_sh(0),
        &[
            ("report-os.json", &report("run-os", b"NEW", None)),
            (
                "x07test.json",
                r#"{ "schema_version": "cargo-x07.fixture@0.1.0",
                     "expect": { "output": { "file": "../../shared/expected.txt" } } }"#,
            ),
        ],
    );
    let before = std::fs::read(dir.join("x07test.json")).unwrap();
    let output = bless(&ws);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(
        all.contains("bless: left fixtures/outside::default::os alone"),
        "{all}"
    );
    assert!(all.contains("outside the fixture directory"), "{all}");
    assert_eq!(
        std::fs::read(ws.root().join("shared/expected.txt")).unwrap(),
        b"OLD"
    );
    assert_eq!(std::fs::read(dir.join("x07test.json")).unwrap(), before);
}

#[test]
fn a_pattern_that_still_matches_is_kept() {
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    let dir = ws.fake_fixture(
        "fixtures/pattern",
        &cat_report_sh(1),
        &[
            ("report-os.json", &report("run-os", b"", Some("fuel exhausted"))),
            (
                "x07test.json",
                r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "cases": [
                     { "name": "kept", "expect": { "trap": { "regex": "^fuel" }, "exit_code": 3 } },
                     { "name": "contains", "expect": { "trap": { "contains": "exhausted" }, "exit_code": 3 } },
                     { "name": "replaced", "expect": { "trap": { "regex": "^out of memory$" } } } ] }"#,
            ),
        ],
    );
    let output = bless(&ws);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let blessed = read_json(&dir.join("x07test.json"));
    assert_eq!(
        blessed["cases"][0]["expect"],
        json!({ "trap": { "regex": "^fuel" } })
    );
    assert_eq!(
        blessed["cases"][1]["expect"],
        json!({ "trap": { "contains": "exhausted" } })
    );
    assert_eq!(
        blessed["cases"][2]["expect"],
        json!({ "trap": "fuel exhausted" })
    );
}

#[test]
fn a_case_level_value_every_profile_overrides_is_removed() {
    let ws = Workspace::new("");
    let dir = ws.fake_fixture(
        "fixtures/split",
        &cat_report_sh(0),
        &[
            ("report-os.json", &report("run-os", b"A", None)),
            (
                "report-sandbox.json",
                &report("run-os-sandboxed", b"B", None),
            ),
            (
                "x07test.json",
                r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "cases": [
                     { "name": "c", "expect": { "output": { "text": "OLD" } } } ] }"#,
            ),
        ],
    );
    let output = bless(&ws);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let blessed = read_json(&dir.join("x07test.json"));
    let case = &blessed["cases"][0];
    assert_eq!(
        case["by_profile"]["os"]["expect"]["output"],
        json!({ "text": "A" })
    );
    assert_eq!(
        case["by_profile"]["sandbox"]["expect"]["output"],
        json!({ "text": "B" })
    );
    assert!(
        case.get("expect")
            .is_none_or(|expect| expect.get("output").is_none()),
        "{case}"
    );
    let output = ws.test_with_fake(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

#[test]
fn a_sidecar_another_passing_case_expects_is_left_alone() {
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    // Both cases expect expected.txt; the runner prints what `run.env.OUT` names.
    let dir = ws.fake_fixture(
        "fixtures/shared",
        "cat \"report-$OUT.json\"\n",
        &[
            ("report-new.json", &report("run-os", b"NEW", None)),
            ("report-old.json", &report("run-os", b"OLD", None)),
            ("expected.txt", "OLD"),
            (
                "x07test.json",
                r#"{ "schema_version": "cargo-x07.fixture@0.1.0",
                     "expect": { "output": { "file": "expected.txt" } },
                     "cases": [ { "name": "a", "run": { "env": { "OUT": "new" } } },
                                { "name": "b", "run": { "env": { "OUT": "old" } } } ] }"#,
            ),
        ],
    );
    let before = std::fs::read(dir.join("x07test.json")).unwrap();
    let output = bless(&ws);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(
        all.contains("bless: left fixtures/shared::a::os alone: its expected output file expected.txt is shared with the case b::os, which is not being blessed"),
        "{all}"
    );
    assert_eq!(std::fs::read(dir.join("expected.txt")).unwrap(), b"OLD");
    assert_eq!(std::fs::read(dir.join("x07test.json")).unwrap(), before);
}

#[test]
fn a_symlinked_expectations_file_is_written_through_or_refused_never_replaced() {
    // Before: bless renamed a fresh file over a symlinked x07test.json, so the link
    // became a private copy and the file it pointed to (shared, or elsewhere) stayed stale.
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    let expectations = r#"{ "schema_version": "cargo-x07.fixture@0.1.0",
                             "expect": { "output": { "text": "OLD" } } }"#;
    let inside = ws.fake_fixture(
        "fixtures/inside",
        &cat_report_sh(0),
        &[
            ("report-os.json", &report("run-os", b"NEW", None)),
            ("real.json", expectations),
        ],
    );
    std::os::unix::fs::symlink("real.json", inside.join("x07test.json")).unwrap();
    let output = bless(&ws);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let link = std::fs::symlink_metadata(inside.join("x07test.json")).unwrap();
    assert!(link.is_symlink(), "the link is still a link");
    assert_eq!(
        read_json(&inside.join("real.json"))["expect"]["output"],
        json!({ "text": "NEW" })
    );

    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    write(
        &ws.root().join("shared/x07test.json"),
        expectations.as_bytes(),
    );
    let outside = ws.fake_fixture(
        "fixtures/outside",
        &cat_report_sh(0),
        &[("report-os.json", &report("run-os", b"NEW", None))],
    );
    std::os::unix::fs::symlink("../../shared/x07test.json", outside.join("x07test.json")).unwrap();
    let output = bless(&ws);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output)
            .contains("outside its directory; bless writes only inside the fixture's directory"),
        "{}",
        text(&output)
    );
    let link = std::fs::symlink_metadata(outside.join("x07test.json")).unwrap();
    assert!(link.is_symlink(), "the link is still a link");
    assert_eq!(
        read_json(&ws.root().join("shared/x07test.json"))["expect"]["output"],
        json!({ "text": "OLD" })
    );
}
