//! A program under test cannot create GitHub workflow commands: every byte that comes
//! from a program, a report or a fixture file is neutralised in every section of
//! GitHub-mode output (the libtest lines and `failures:` section, annotations, JSON
//! events), checked by feeding injection strings through a whole run.

mod common;

use common::*;

const INJECTIONS: [&str; 4] = [
    "::error file=evil.rs::injected-annotation",
    "  ::warning::injected-indented",
    "text before ##[error]injected-legacy",
    "::add-mask::injected-mask",
];

fn evil_workspace() -> Workspace {
    let ws = Workspace::new("");
    let all_lines = INJECTIONS.join("\n");
    let trap = INJECTIONS.join(" | ");
    let escaped_output = all_lines.replace('\'', "'\\''");
    ws.fake_fixture(
        "fixtures/evil",
        &format!(
            "printf '%s\\n' '{escaped_output}' >&2\n{}",
            cat_report_sh(1).replace("exit 1", "[ \"$1\" = sandbox ] && exit 1\nexit 0")
        ),
        &[
            (
                "report-os.json",
                &report("run-os", all_lines.as_bytes(), None),
            ),
            (
                "report-sandbox.json",
                &report("run-os-sandboxed", b"", Some(&trap)),
            ),
            (
                "x07test.json",
                &serde_json::json!({
                    "schema_version": "cargo-x07.fixture@0.1.0",
                    "description": all_lines,
                    "expect": { "output": { "text": "something else" } },
                    "cases": [{ "name": "c", "description": all_lines }]
                })
                .to_string(),
            ),
        ],
    );
    ws
}

#[test]
fn no_injected_line_becomes_a_workflow_command_in_human_output() {
    let ws = evil_workspace();
    for extra in [&[][..], &["--show-output"][..], &["--nocapture"][..]] {
        let mut args = vec!["--github"];
        args.extend_from_slice(extra);
        let output = ws.test_with_fake(&args);
        let all = text(&output);
        assert_eq!(output.status.code(), Some(1), "{all}");
        assert!(
            all.contains("::error file="),
            "our own annotations are there\n{all}"
        );
        assert!(
            all.contains("injected"),
            "the program's text is still shown\n{all}"
        );
        assert_eq!(
            injected_commands(&all),
            Vec::<String>::new(),
            "{extra:?}\n{all}"
        );
    }
}

#[test]
fn no_injected_line_becomes_a_workflow_command_in_json_output() {
    let ws = evil_workspace();
    let output = ws.test_with_fake(&["--github", "--message-format", "json"]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert_eq!(injected_commands(&all), Vec::<String>::new(), "{all}");
    for line in String::from_utf8(output.stdout).unwrap().lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
}
