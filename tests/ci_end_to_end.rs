//! The CI outputs of the real `cargo-x07` binary on a small fixture workspace
//! (`tests/data/ci/workspace`, copied to a temporary folder for every test so that
//! nothing in the repository is written): sharded JUnit files add up to the unsharded run,
//! GitHub annotations and the step summary name a broken fixture, JSON events stream,
//! `list --partition`, and the documented exit codes.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// A fresh copy of the CI fixture workspace.
struct Workspace {
    folder: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Workspace {
        let folder = tempfile::tempdir().unwrap();
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ci/workspace");
        common::copy_tree(&source, folder.path());
        Workspace { folder }
    }

    fn root(&self) -> &Path {
        self.folder.path()
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root().join(relative)
    }

    /// `cargo x07 <args>` in the workspace, with the embedded runner and no CI environment.
    fn cargo_x07(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-x07"));
        command
            .arg("x07")
            .args(args)
            .current_dir(self.root())
            .env_remove("X07")
            .env_remove("CI")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("RUST_TEST_THREADS");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cargo_x07(args).output().expect("cargo-x07 starts")
    }

    /// Makes `fixtures/greet` run only under `os` and expect the wrong greeting.
    fn break_greet(&self) {
        std::fs::write(
            self.path("fixtures/greet/x07test.json"),
            r#"{
  "schema_version": "cargo-x07.fixture@0.1.0",
  "profiles": ["os"],
  "expect": { "output": { "text": "hello, CI" } }
}
"#,
        )
        .unwrap();
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    )
}

/// The `(name, status)` of every testcase in a JUnit file, status being
/// `passed`, `failed` or `skipped`.
fn junit_cases(path: &Path) -> Vec<(String, String)> {
    let xml = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    let document = roxmltree::Document::parse(&xml).expect("JUnit parses");
    document
        .descendants()
        .filter(|node| node.has_tag_name("testcase"))
        .map(|case| {
            let status = if case.children().any(|node| node.has_tag_name("failure")) {
                "failed"
            } else if case.children().any(|node| node.has_tag_name("skipped")) {
                "skipped"
            } else {
                "passed"
            };
            (
                case.attribute("name").unwrap().to_string(),
                status.to_string(),
            )
        })
        .collect()
}

#[test]
fn three_shards_of_junit_hold_exactly_the_unsharded_cases() {
    let workspace = Workspace::new();
    let whole = workspace.run(&["test", "--junit", "junit/all.xml"]);
    assert_eq!(whole.status.code(), Some(0), "{}", describe(&whole));
    let all_cases = junit_cases(&workspace.path("junit/all.xml"));
    assert_eq!(all_cases.len(), 16, "{all_cases:?}");
    let all: BTreeSet<_> = all_cases.iter().cloned().collect();

    for scheme in ["hash", "slice"] {
        let mut together = Vec::new();
        for shard in 1..=3 {
            let partition = format!("{scheme}:{shard}/3");
            let junit = format!("junit/{scheme}-{shard}.xml");
            let output = workspace.run(&["test", "--partition", &partition, "--junit", &junit]);
            assert_eq!(
                output.status.code(),
                Some(0),
                "{partition}: {}",
                describe(&output)
            );
            let cases = junit_cases(&workspace.path(&junit));
            assert!(!cases.is_empty(), "{partition} ran nothing");
            // `cargo x07 list --partition` shows exactly that shard's cases.
            let listed = workspace.run(&["list", "--partition", &partition]);
            let listed: BTreeSet<String> = text(&listed.stdout)
                .lines()
                .map(|line| line.split("  ").next().unwrap().to_string())
                .collect();
            let ran: BTreeSet<String> = cases.iter().map(|(name, _)| name.clone()).collect();
            assert_eq!(listed, ran, "{partition}");
            together.extend(cases);
        }
        assert_eq!(
            together.len(),
            all.len(),
            "{scheme}: a case ran twice or not at all"
        );
        let together: BTreeSet<_> = together.into_iter().collect();
        assert_eq!(together, all, "{scheme}");
    }
}

#[test]
fn github_annotations_name_files_relative_to_the_checkout() {
    // A cargo workspace in a subdirectory of the repository: GitHub resolves
    // `file=` against $GITHUB_WORKSPACE, so the path must include the subdirectory.
    let workspace = Workspace::new();
    workspace.break_greet();
    let checkout = workspace.root().parent().unwrap().to_path_buf();
    let subdirectory = workspace
        .root()
        .canonicalize()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let output = workspace
        .cargo_x07(&["test"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", &checkout)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stdout = text(&output.stdout);
    let errors: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("::error"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", describe(&output));
    let expected = format!("::error file={subdirectory}/fixtures/greet/x07test.json,title=");
    assert!(errors[0].starts_with(&expected), "{}", errors[0]);
}

#[test]
fn github_run_with_one_broken_fixture_annotates_it_once_and_summarises_it() {
    let workspace = Workspace::new();
    workspace.break_greet();
    let summary_path = workspace.path("step_summary.md");
    std::fs::write(&summary_path, "## earlier step\n").unwrap();
    let output = workspace
        .cargo_x07(&["test", "--junit", "junit.xml"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary_path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stdout = text(&output.stdout);
    let errors: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("::error"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", describe(&output));
    assert!(
        errors[0].starts_with(
            "::error file=fixtures/greet/x07test.json,title=fixtures/greet%3A%3Adefault%3A%3Aos::output"
        ),
        "{}",
        errors[0]
    );
    // The embedded runner ran: the reproduce line is the cargo x07 command that reruns it.
    assert!(
        errors[0]
            .ends_with("%0Areproduce: cargo x07 run fixtures/greet --case default --profile os"),
        "{}",
        errors[0]
    );
    assert_eq!(
        stdout
            .matches("::group::fixtures/greet::default::os\n")
            .count(),
        1
    );
    assert_eq!(stdout.matches("::endgroup::").count(), 1);

    let summary = std::fs::read_to_string(&summary_path).unwrap();
    assert!(
        summary.starts_with("## earlier step\n### cargo x07 test: ❌ 1 failed\n"),
        "{summary}"
    );
    let failure_rows: Vec<&str> = summary
        .split("#### Failures")
        .nth(1)
        .expect("a failure table")
        .split("#### Slowest cases")
        .next()
        .unwrap()
        .lines()
        .filter(|line| line.starts_with("| <code>"))
        .collect();
    assert_eq!(failure_rows.len(), 1, "{summary}");
    assert!(failure_rows[0].starts_with("| <code>fixtures/greet::default::os</code> | output"));
    assert!(
        failure_rows[0]
            .contains("<code>cargo x07 run fixtures/greet --case default --profile os</code>"),
        "{}",
        failure_rows[0]
    );
    assert!(summary.contains("| os | 6 | 1 | 1 |"), "{summary}");
    assert!(summary.contains("| sandbox | 6 | 0 | 1 |"), "{summary}");

    // The failing case's JUnit body holds the diff and both reproduce lines.
    let xml = std::fs::read_to_string(workspace.path("junit.xml")).unwrap();
    let document = roxmltree::Document::parse(&xml).unwrap();
    let failure = document
        .descendants()
        .find(|node| node.has_tag_name("failure"))
        .expect("one failure");
    let body = failure.text().unwrap();
    assert!(body.contains("-hello, CI"), "{body}");
    assert!(body.contains("+hello, ci"), "{body}");
    assert!(
        body.contains(
            "reproduce with:\n  cargo x07 run fixtures/greet --case default --profile os\n"
        ),
        "{body}"
    );
    assert!(
        body.contains("or with the real x07 toolchain:\n  x07 run --project "),
        "{body}"
    );
    assert!(
        body.contains("fixtures/greet/x07.json --profile os --repair=off"),
        "{body}"
    );
}

#[test]
fn without_github_actions_there_are_no_annotations() {
    let workspace = Workspace::new();
    workspace.break_greet();
    let output = workspace.run(&["test"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(!text(&output.stdout).contains("::error"));
    // `--github` turns them on outside GitHub too (no summary file: none is named).
    let output = workspace.run(&["test", "--github"]);
    assert_eq!(text(&output.stdout).matches("::error ").count(), 1);
}

#[test]
fn json_events_stream_one_line_per_case_and_a_summary() {
    let workspace = Workspace::new();
    workspace.break_greet();
    let output = workspace.run(&[
        "test",
        "--message-format",
        "json",
        "--partition",
        "slice:1/1",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let events: Vec<Value> = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert_eq!(events.first().unwrap()["type"], "started");
    assert_eq!(events.first().unwrap()["case_count"], 15);
    assert_eq!(events.first().unwrap()["partition"], "slice:1/1");
    let cases: Vec<&Value> = events
        .iter()
        .filter(|event| event["type"] == "case")
        .collect();
    assert_eq!(cases.len(), 15);
    let names: BTreeSet<&str> = cases
        .iter()
        .map(|event| event["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 15);
    let failed: Vec<&&Value> = cases
        .iter()
        .filter(|event| event["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["name"], "fixtures/greet::default::os");
    assert_eq!(failed[0]["fixture"], "fixtures/greet");
    assert_eq!(failed[0]["source_file"], "fixtures/greet/x07test.json");
    assert!(failed[0]["failed_checks"][0]
        .as_str()
        .unwrap()
        .starts_with("output"));
    assert_eq!(
        failed[0]["reproduce"],
        "cargo x07 run fixtures/greet --case default --profile os"
    );
    assert!(failed[0]["reproduce_x07"]
        .as_str()
        .unwrap()
        .starts_with("x07 run --project fixtures/greet/x07.json --profile os "));
    let summary = events.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(
        (
            &summary["passed"],
            &summary["failed"],
            &summary["ignored"],
            &summary["exit_code"]
        ),
        (
            &Value::from(12),
            &Value::from(1),
            &Value::from(2),
            &Value::from(1)
        )
    );
    // libtest's `--format json` asks for the same stream.
    let libtest_json = workspace.run(&["test", "--format", "json"]);
    let first = text(&libtest_json.stdout);
    let first: Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert_eq!(first["schema_version"], "cargo-x07.events@0.1.0");
}

#[test]
fn exit_codes_follow_the_documented_convention() {
    let workspace = Workspace::new();
    let code = |args: &[&str]| workspace.run(args).status.code();
    assert_eq!(code(&["test", "--slowest", "0"]), Some(0));
    // Nothing selected without a test-name filter (a profile nobody has, an empty
    // shard): 4, unless --allow-empty.
    let empty = workspace.run(&["test", "--profile", "no-such-profile"]);
    assert_eq!(empty.status.code(), Some(4), "{}", describe(&empty));
    assert!(text(&empty.stderr).contains("--allow-empty"));
    assert_eq!(
        code(&["test", "--allow-empty", "--profile", "no-such-profile"]),
        Some(0)
    );
    // A test-name filter that matches nothing exits 0, as libtest (and the harness
    // target, which `cargo test <filter>` runs with every filter) does; it says so.
    let filtered = workspace.run(&["test", "--", "no-such-case"]);
    assert_eq!(filtered.status.code(), Some(0), "{}", describe(&filtered));
    assert!(text(&filtered.stderr).contains("no test case matches the test-name filters"));
    assert_eq!(code(&["test", "--partition", "hash:3/2"]), Some(2));
    assert_eq!(code(&["test", "--partition", "modulo:1/2"]), Some(2));
    assert_eq!(code(&["test", "--message-format", "xml"]), Some(2));
    // A JUnit path that cannot be written is an error of its own.
    std::fs::write(workspace.path("blocker"), "").unwrap();
    let unwritable = workspace.run(&["test", "--junit", "blocker/junit.xml"]);
    assert_eq!(
        unwritable.status.code(),
        Some(2),
        "{}",
        describe(&unwritable)
    );
    assert!(text(&unwritable.stderr).contains("cannot write the JUnit file"));
    workspace.break_greet();
    assert_eq!(code(&["test"]), Some(1));
}

#[test]
fn slowest_cases_close_a_human_run() {
    let workspace = Workspace::new();
    let output = workspace.run(&["test", "--slowest", "3"]);
    let stdout = text(&output.stdout);
    let tail: Vec<&str> = stdout.lines().rev().take(4).collect();
    assert_eq!(tail[3], "slowest 3 cases:", "{stdout}");
    for line in &tail[..3] {
        let (seconds, name) = line.trim().split_once("s  ").expect("`<time>s  <name>`");
        assert!(seconds.parse::<f64>().is_ok(), "{line}");
        assert!(name.starts_with("fixtures/"), "{line}");
    }
    let quiet = workspace.run(&["test", "--slowest", "0"]);
    assert!(!text(&quiet.stdout).contains("slowest"));
}

#[test]
fn profile_flags_select_profiles_before_the_partition() {
    let workspace = Workspace::new();
    let output = workspace.run(&["test", "--profile", "sandbox", "--junit", "sandbox.xml"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let cases = junit_cases(&workspace.path("sandbox.xml"));
    assert_eq!(cases.len(), 8);
    assert!(
        cases.iter().all(|(name, _)| name.ends_with("::sandbox")),
        "{cases:?}"
    );
    let both = workspace.run(&[
        "test",
        "--profile",
        "sandbox",
        "--profile",
        "os",
        "--junit",
        "both.xml",
    ]);
    assert_eq!(both.status.code(), Some(0));
    assert_eq!(junit_cases(&workspace.path("both.xml")).len(), 16);
    // slice splits what --profile left: 8 sandbox cases, 4 per shard.
    for shard in ["slice:1/2", "slice:2/2"] {
        let junit = format!("{}.xml", shard.replace([':', '/'], "-"));
        let output = workspace.run(&[
            "test",
            "--profile",
            "sandbox",
            "--partition",
            shard,
            "--junit",
            &junit,
        ]);
        assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
        assert_eq!(junit_cases(&workspace.path(&junit)).len(), 4, "{shard}");
    }
    let none = workspace.run(&["test", "--profile", "no-such-profile"]);
    assert_eq!(none.status.code(), Some(4));
}
