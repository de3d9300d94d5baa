//! Failure messages that do not mislead: outputs with control bytes are shown as hex,
//! huge differences are bounded and say what was left out, and the reproduce line names
//! the runner that actually ran.

mod common;

use base64::Engine as _;

use common::*;

fn output_fixture(ws: &Workspace, name: &str, expected: &[u8], actual: &[u8]) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(expected);
    ws.fake_fixture(
        name,
        &cat_report_sh(0),
        &[
            ("report-os.json", &report("run-os", actual, None)),
            (
                "x07test.json",
                &format!(
                    r#"{{ "schema_version": "cargo-x07.fixture@0.1.0", "profiles": ["os"],
                         "expect": {{ "output": {{ "b64": "{b64}" }} }} }}"#
                ),
            ),
        ],
    );
}

#[test]
fn control_bytes_are_shown_as_hex_not_as_an_empty_looking_text_diff() {
    let ws = Workspace::new("");
    output_fixture(&ws, "fixtures/ctl", b"x\x01\n", b"x\x00\n");
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(!all.contains("  -x"), "{all}");
    assert!(all.contains("78>01 0a"), "{all}");
    assert!(all.contains("78>00 0a"), "{all}");
}

#[test]
fn a_huge_difference_is_bounded_and_says_what_was_left_out() {
    let ws = Workspace::new("");
    let expected: String = (0..30_000)
        .map(|n| format!("expected line {n}\n"))
        .collect();
    let actual: String = (0..30_000).map(|n| format!("actual line {n}\n")).collect();
    output_fixture(&ws, "fixtures/huge", expected.as_bytes(), actual.as_bytes());
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    let diff_lines = all
        .lines()
        .filter(|line| line.starts_with("  -") || line.starts_with("  +"))
        .count();
    assert!(diff_lines <= 100, "{diff_lines} diff lines");
    assert!(all.contains("  -expected line 0\n"), "{all}");
    assert!(all.contains("  +actual line 0\n"), "{all}");
    assert!(all.contains("not shown"), "{all}");
}

#[test]
fn the_embedded_runner_reproduce_line_works_as_printed() {
    let ws = Workspace::new("");
    ws.fixture(
        "fixtures/hello",
        &[
            ("x07.json", &project_manifest()),
            (
                "policy.json",
                include_str!("data/workspaces/hello/policy.json"),
            ),
            (
                "main.x07.json",
                include_str!("data/workspaces/hello/main.x07.json"),
            ),
            (
                "x07test.json",
                r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "profiles": ["os"],
                     "expect": { "output": { "text": "hello, x08" } } }"#,
            ),
        ],
    );
    let output = ws
        .command(&["test", "--backend", "embedded"])
        .output()
        .unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(!all.contains("reproduce with the real x07"), "{all}");
    let line = "  cargo x07 run fixtures/hello --case default --profile os --backend embedded\n";
    assert!(all.contains(line), "{all}");
    assert!(
        all.contains("  x07 run --project fixtures/hello/x07.json --profile os --repair=off\n"),
        "{all}"
    );
    // The printed command reproduces the failure from the same directory.
    let words: Vec<&str> = line.split_whitespace().skip(2).collect();
    let again = ws.command(&words).output().unwrap();
    let again_text = text(&again);
    assert_eq!(again.status.code(), Some(1), "{again_text}");
    assert!(
        again_text.contains("  -hello, x08\n  +hello, x07\n"),
        "{again_text}"
    );
}
