//! libtest's habits for the flags people type: `-- --nocapture`, `--show-output`,
//! `--test-threads 0`, filtered-out counts, `list` lines that paste back into `--exact`,
//! `--color`, and a closed stdout.

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;

use common::*;

fn ok_fixture(ws: &Workspace, name: &str, stderr_line: &str) {
    ws.fake_fixture(
        name,
        &format!("echo '{stderr_line}' >&2\n{}", cat_report_sh(0)),
        &[
            ("report-os.json", &report("run-os", b"", None)),
            (
                "report-sandbox.json",
                &report("run-os-sandboxed", b"", None),
            ),
        ],
    );
}

/// The `test result:` line of a human run.
fn result_line(all: &str) -> String {
    all.lines()
        .find(|line| line.starts_with("test result:"))
        .unwrap_or_else(|| panic!("no result line in\n{all}"))
        .to_string()
}

#[test]
fn flags_after_a_double_dash_are_libtest_flags_not_a_filter() {
    let ws = Workspace::new("");
    ok_fixture(&ws, "fixtures/a", "a says hi");
    let output = ws.test_with_fake(&["--", "--nocapture"]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert!(all.contains("running 2 tests"), "{all}");
    // A filter after `--` still works as a filter.
    let output = ws.test_with_fake(&["--", "--exact", "fixtures/a::default::os"]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert!(all.contains("running 1 test\n"), "{all}");
}

#[test]
fn nocapture_and_show_output_print_a_passing_case_runner_stderr() {
    let ws = Workspace::new("");
    ok_fixture(&ws, "fixtures/a", "note from the runner");
    let plain = ws.test_with_fake(&[]);
    assert!(
        !text(&plain).contains("note from the runner"),
        "{}",
        text(&plain)
    );
    for flag in ["--nocapture", "--show-output"] {
        let output = ws.test_with_fake(&[flag]);
        let all = text(&output);
        assert_eq!(output.status.code(), Some(0), "{all}");
        assert_eq!(
            all.matches("note from the runner").count(),
            2,
            "{flag}: one per case\n{all}"
        );
    }
    let output = ws.test_with_fake(&["--show-output"]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("\nsuccesses:\n"), "{stdout}");
    assert!(
        stdout.contains("---- fixtures/a::default::os stderr ----\nnote from the runner\n"),
        "{stdout}"
    );
}

#[test]
fn zero_test_threads_is_rejected_like_libtest() {
    let ws = Workspace::new("");
    ok_fixture(&ws, "fixtures/a", "");
    let output = ws.test_with_fake(&["--test-threads", "0"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("--test-threads must not be 0"),
        "{}",
        text(&output)
    );
}

#[test]
fn a_rust_test_threads_that_is_no_positive_integer_is_rejected_like_libtest() {
    // Before: RUST_TEST_THREADS=0 ran on one thread and "abc" was ignored without a word.
    let ws = Workspace::new("");
    ok_fixture(&ws, "fixtures/a", "");
    for value in ["0", "abc"] {
        let fake = fake_x07();
        let output = ws
            .command(&["test", "--x07", fake.to_str().unwrap()])
            .env("RUST_TEST_THREADS", value)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", text(&output));
        assert!(
            text(&output).contains(&format!(
                "RUST_TEST_THREADS is `{value}`, should be a positive integer"
            )),
            "{}",
            text(&output)
        );
    }
    // Not read when --test-threads or -j says how many.
    let fake = fake_x07();
    let output = ws
        .command(&["test", "--x07", fake.to_str().unwrap(), "-j", "2"])
        .env("RUST_TEST_THREADS", "0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

#[test]
fn ignored_with_include_ignored_is_rejected_like_libtest() {
    // Before: the pair ran as `--ignored` and printed "no test case matches the test-name
    // filters"; libtest refuses it as a usage error.
    let ws = Workspace::new("");
    ok_fixture(&ws, "fixtures/a", "");
    let output = ws.test_with_fake(&["--ignored", "--include-ignored"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output)
            .contains("the options --include-ignored and --ignored are mutually exclusive"),
        "{}",
        text(&output)
    );
}

#[test]
fn a_control_character_in_a_fixture_directory_name_stays_on_one_line() {
    // Before: a directory named "x<newline>y" made `--list` print "fixtures/x" and
    // "y::default::os" on two lines (nextest reads one test per line), and the test line
    // likewise split, so a directory name could forge a line of the output.
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    ok_fixture(&ws, "fixtures/x\ntest forged ... ok", "");
    let output = ws.command(&["list"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "fixtures/x\\ntest forged ... ok::default::os\n"
    );
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert!(
        all.contains("\ntest fixtures/x\\ntest forged ... ok::default::os ... ok\n"),
        "{all}"
    );
    assert!(
        !all.lines().any(|line| line.starts_with("test forged")),
        "{all}"
    );
    // The same for the names a broken x07test.json and a smoke suite give their cases.
    ws.fixture(
        "fixtures/x\ntest forged ... ok",
        &[("x07test.json", r#"{ "cases": [ { "name": "a\nb" } ] }"#)],
    );
    ws.fixture(
        "fixtures",
        &[(
            "s.smoke.json",
            r#"{ "schema_version": "x07.smoke_suite@0.1.0", "world": "run-os\nforged",
                 "program_x07json": "p.x07.json",
                 "cases": [ { "name": "c\rd", "input_b64": "", "expected_b64": "" } ] }"#,
        )],
    );
    let output = ws.command(&["list"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "fixtures/s.smoke.json::c\\rd::run-os\\nforged\n\
         fixtures/x\\ntest forged ... ok::a\\nb::os\n"
    );
}

#[test]
fn exact_counts_every_other_case_as_filtered_out() {
    let ws = Workspace::new("");
    for name in ["fixtures/a", "fixtures/b", "fixtures/c"] {
        ok_fixture(&ws, name, "");
    }
    let output = ws.test_with_fake(&["--exact", "fixtures/b::default::sandbox"]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert!(
        result_line(&all).contains("1 passed; 0 failed; 0 ignored; 0 measured; 5 filtered out"),
        "{all}"
    );
    let output = ws.test_with_fake(&["fixtures/c", "--skip", "sandbox"]);
    let all = text(&output);
    assert!(result_line(&all).contains("1 passed;"), "{all}");
    assert!(result_line(&all).contains(" 5 filtered out"), "{all}");
}

#[test]
fn list_prints_bare_names_that_paste_into_exact() {
    let ws = Workspace::new("");
    ok_fixture(&ws, "fixtures/a", "");
    ws.fixture(
        "fixtures/a",
        &[(
            "x07test.json",
            r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "description": "says hi",
                 "cases": [ { "name": "one" }, { "name": "two", "ignore": "not yet" } ] }"#,
        )],
    );
    let listed = ws.command(&["list"]).output().unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert_eq!(
        listed,
        "fixtures/a::one::os\nfixtures/a::one::sandbox\nfixtures/a::two::os\nfixtures/a::two::sandbox\n"
    );
    for name in listed.lines() {
        let output = ws.test_with_fake(&["--exact", name, "--include-ignored"]);
        assert!(text(&output).contains("running 1 test\n"), "{name}");
    }
    let long = ws.command(&["list", "--long"]).output().unwrap();
    let long = String::from_utf8(long.stdout).unwrap();
    assert!(
        long.contains("fixtures/a::two::os  (ignored: not yet)"),
        "{long}"
    );
    assert!(long.contains("says hi"), "{long}");
}

#[test]
fn color_always_colours_the_outcomes_and_never_does_not() {
    let ws = Workspace::new("");
    ok_fixture(&ws, "fixtures/a", "");
    let coloured = ws.test_with_fake(&["--color", "always"]);
    let stdout = String::from_utf8(coloured.stdout).unwrap();
    assert!(stdout.contains("\u{1b}[32mok\u{1b}[0m"), "{stdout:?}");
    let plain = ws.test_with_fake(&["--color", "never"]);
    assert!(!String::from_utf8(plain.stdout).unwrap().contains('\u{1b}'));
}

#[cfg(unix)]
#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    let ws = Workspace::new("");
    for index in 0..12 {
        ok_fixture(&ws, &format!("fixtures/f{index:02}"), "");
    }
    let fake = fake_x07();
    let mut child = ws
        .command(&[
            "test",
            "--x07",
            fake.to_str().unwrap(),
            "--test-threads",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    for _ in 0..2 {
        stdout.read_line(&mut first).unwrap();
    }
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        matches!(output.status.code(), Some(0) | Some(1)),
        "{:?}\n{stderr}",
        output.status
    );
}

#[test]
fn logfile_takes_the_test_lines() {
    let ws = Workspace::new("");
    ok_fixture(&ws, "fixtures/a", "");
    let log = ws.root().join("test.log");
    let output = ws.test_with_fake(&["--logfile", log.to_str().unwrap()]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with("runner: "), "{stdout}");
    assert!(!stdout.contains("running 2 tests"), "{stdout}");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("\nrunning 2 tests\n"), "{logged}");
    assert!(logged.contains("test result: ok. 2 passed;"), "{logged}");
    assert!(
        !logged.contains('\u{1b}'),
        "no colour in a log file: {logged:?}"
    );
    // A log file that cannot be created is a usage error naming it (before: "cannot open
    // the output: No such file or directory", without the path).
    let missing = ws.root().join("no-such-dir/test.log");
    let output = ws.test_with_fake(&["--logfile", missing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains(&format!("--logfile {}: No such file", missing.display())),
        "{}",
        text(&output)
    );
}
