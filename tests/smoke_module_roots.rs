//! The X07 repository's own smoke suites run as that repository's scripts run them:
//! relative `smoke_module_roots` (`packages/ext/…/modules`) resolve against `smoke_root`,
//! and a smoke case whose module root does not exist fails naming that path.

mod common;

use common::*;

const SUITE: &str = r#"{
  "schema_version": "x07.smoke_suite@0.1.0",
  "suite_id": "smoke/ext-app@0.1.0/run-os",
  "world": "run-os",
  "program_x07json": "tests/external_os/greet/src/main.x07.json",
  "cases": [ { "name": "greet", "input_b64": "", "expected_b64": "ZnJvbS1tb2R1bGU=" } ],
  "notes": ["the entry imports app.util from a package module root"]
}"#;

const ENTRY: &str = r#"{"decls":[],"imports":["app.util"],"kind":"entry","module_id":"main","schema_version":"x07.x07ast@0.8.0","solve":["app.util.greet"]}"#;

const MODULE: &str = r#"{"decls":[{"kind":"export","names":["app.util.greet"]},{"body":["bytes.lit","from-module"],"kind":"defn","name":"app.util.greet","params":[],"result":"bytes"}],"imports":[],"kind":"module","module_id":"app.util","schema_version":"x07.x07ast@0.8.0"}"#;

/// A workspace holding a copy of "the X07 repository" under `x07/`, whose smoke suite
/// is run with `smoke_root = "x07"` and the given module roots.
fn workspace(module_roots: &str) -> Workspace {
    let ws = Workspace::new(&format!(
        "[workspace.metadata.x07]\nfixtures = [\"x07/ci/suites/smoke\"]\nsmoke_root = \"x07\"\nsmoke_module_roots = {module_roots}\n"
    ));
    ws.fixture(
        "x07",
        &[
            ("ci/suites/smoke/ext-app.smoke.json", SUITE),
            ("tests/external_os/greet/src/main.x07.json", ENTRY),
            (
                "packages/ext/x07-ext-app/0.1.0/modules/app/util.x07.json",
                MODULE,
            ),
        ],
    );
    ws
}

#[test]
fn relative_module_roots_resolve_against_smoke_root() {
    let ws = workspace("[\"packages/ext/x07-ext-app/0.1.0/modules\"]");
    let output = ws
        .command(&["test", "--backend", "embedded"])
        .output()
        .unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert_eq!(
        outcome(
            &all,
            "x07/ci/suites/smoke/ext-app.smoke.json::greet::run-os"
        ),
        "ok",
        "{all}"
    );
    // The command line names the root inside smoke_root.
    let output = ws
        .command(&[
            "run",
            "x07/ci/suites/smoke/ext-app.smoke.json",
            "--backend",
            "embedded",
        ])
        .output()
        .unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert!(
        all.contains("--module-root x07/packages/ext/x07-ext-app/0.1.0/modules"),
        "{all}"
    );
}

#[test]
fn a_missing_module_root_fails_the_case_naming_the_path() {
    let ws = workspace("[\"packages/ext/x07-ext-gone/0.1.0/modules\"]");
    let output = ws
        .command(&["test", "--backend", "embedded"])
        .output()
        .unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(
        all.contains(
            "missing module root directory x07/packages/ext/x07-ext-gone/0.1.0/modules \
             (named by smoke_module_roots in Cargo.toml)"
        ),
        "{all}"
    );
}
