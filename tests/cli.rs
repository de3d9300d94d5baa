//! The `cargo-x07` binary as a user runs it, against small fixture workspaces:
//! discovery and configuration, command construction and environment
//! cleaning, output formats, `list`, `run`, bless, and the embedded runner.

mod common;

use common::*;

fn ok_fixture(ws: &Workspace, name: &str, output: &str) {
    ws.fake_fixture(
        name,
        &cat_report_sh(0),
        &[
            ("report-os.json", &report("run-os", output.as_bytes(), None)),
            (
                "report-sandbox.json",
                &report("run-os-sandboxed", output.as_bytes(), None),
            ),
        ],
    );
}

#[test]
fn list_formats_and_nextest_contract() {
    let ws = Workspace::new("");
    ok_fixture(&ws, "fixtures/b", "");
    ok_fixture(&ws, "fixtures/a/nested", "");
    ws.fixture(
        "fixtures/a/nested",
        &[(
            "x07test.json",
            r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "cases": [
                 { "name": "one" }, { "name": "two", "ignore": "not yet" } ] }"#,
        )],
    );
    let output = ws
        .command(&["test", "--list", "--format", "terse"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "fixtures/a/nested::one::os: test\n\
         fixtures/a/nested::one::sandbox: test\n\
         fixtures/a/nested::two::os: test\n\
         fixtures/a/nested::two::sandbox: test\n\
         fixtures/b::default::os: test\n\
         fixtures/b::default::sandbox: test\n"
    );
    let ignored = ws
        .command(&["test", "--list", "--format", "terse", "--ignored"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(ignored.stdout).unwrap(),
        "fixtures/a/nested::two::os: test\nfixtures/a/nested::two::sandbox: test\n"
    );
    let listed = ws.command(&["list"]).output().unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(listed.contains("fixtures/a/nested::two::os\n"), "{listed}");
    assert_eq!(listed.lines().count(), 6);
    let long = ws.command(&["list", "--long"]).output().unwrap();
    let long = String::from_utf8(long.stdout).unwrap();
    assert!(
        long.contains("fixtures/a/nested::two::os  (ignored: not yet)\n"),
        "{long}"
    );
}

#[test]
fn exact_runs_one_case_and_filters_skip_work() {
    let ws = Workspace::new("");
    ok_fixture(&ws, "fixtures/a", "");
    ok_fixture(&ws, "fixtures/b", "");
    let output = ws.test_with_fake(&["--exact", "fixtures/b::default::os"]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert!(all.contains("running 1 test"), "{all}");
    assert!(outcome(&all, "fixtures/b::default::os") == "ok", "{all}");

    let output = ws.test_with_fake(&["fixtures/a", "--skip", "sandbox"]);
    let all = text(&output);
    assert!(all.contains("running 1 test"), "{all}");
    assert!(outcome(&all, "fixtures/a::default::os") == "ok", "{all}");
}

#[test]
fn first_line_names_the_runner() {
    let ws = Workspace::new("");
    ok_fixture(&ws, "fixtures/a", "");
    let output = ws.test_with_fake(&[]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let first = stdout.lines().next().unwrap();
    assert_eq!(
        first,
        format!("runner: x07 0.2.17-fake at {}", fake_x07().display())
    );
    // $X07 is used when --x07 is not given.
    let output = ws
        .command(&["test"])
        .env("X07", fake_x07())
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.starts_with("runner: x07 0.2.17-fake at "),
        "{stdout}"
    );
    // An `x07` on PATH is used when nothing else is configured.
    let bin = tempfile::tempdir().unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(fake_x07(), bin.path().join("x07")).unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin.path().to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let output = ws.command(&["test"]).env("PATH", &path).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout.lines().next().unwrap(),
        format!(
            "runner: x07 0.2.17-fake at {}",
            bin.path().join("x07").display()
        )
    );
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    // --backend embedded ignores it.
    let output = ws
        .command(&["test", "--backend", "embedded", "--list"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn command_line_env_and_stdin_as_x07_expects() {
    let ws = Workspace::new(
        "[workspace.metadata.x07]\nprofiles = [\"sandbox\"]\nenv = { CONFIGURED = \"yes\" }\n",
    );
    ws.fake_fixture(
        "fixtures/args",
        &cat_report_sh(0),
        &[
            ("report-sandbox.json", &report("run-os-sandboxed", b"", None)),
            ("in.bin", "data"),
            ("alt.policy.json", include_str!("data/workspaces/hello/policy.json")),
            (
                "x07test.json",
                r#"{ "schema_version": "cargo-x07.fixture@0.1.0",
                     "run": { "solve_fuel": 5, "env": { "X07_KEEP": "kept" } },
                     "cases": [
                       { "name": "text", "input": { "text": "hi" } },
                       { "name": "file", "input": { "file": "in.bin" },
                         "run": { "policy": "alt.policy.json", "allow_hosts": ["example.com:443"], "allow_read_roots": ["data"] } },
                       { "name": "argv", "input": { "argv": ["a", "", "d e"] } },
                       { "name": "none" }
                     ] }"#,
            ),
        ],
    );
    let log = tempfile::NamedTempFile::new().unwrap();
    let output = ws
        .command(&[
            "test",
            "--x07",
            fake_x07().to_str().unwrap(),
            "--test-threads",
            "1",
        ])
        .env("FAKE_X07_LOG", log.path())
        .env("X07_OS_SANDBOXED", "1")
        .env("X07_WORLD", "inherited")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let log = std::fs::read_to_string(log.path()).unwrap();
    let runs: Vec<&str> = log.split("ARGS").skip(1).collect();
    assert_eq!(runs.len(), 4, "{log}");
    // With one thread, cases run in file order: text, file, argv, none.
    let args = |run: &str| run.lines().next().unwrap().trim().to_string();
    let project = |run: &str| {
        let first = args(run);
        let start = first.find("--project] [").unwrap() + "--project] [".len();
        first[start..].split(']').next().unwrap().to_string()
    };
    for run in &runs {
        let project = project(run);
        assert!(project.ends_with("/args/x07.json"), "{project}");
        assert!(
            !project.starts_with(ws.root().to_str().unwrap()),
            "the runner got the fixture itself, not a copy: {project}"
        );
        // The inherited run-shaping X07_* variables never reach the runner, the explicit
        // one does, and so does the default native cache (tests/toolchain_env.rs); stdin
        // is empty.
        let env: Vec<&str> = run.lines().filter(|l| l.starts_with("ENV ")).collect();
        assert_eq!(env.len(), 2, "{run}");
        assert_eq!(env[0], "ENV X07_KEEP=kept", "{run}");
        assert!(
            env[1].starts_with("ENV X07_NATIVE_CACHE_DIR=")
                && env[1].ends_with("/x07-native-cache"),
            "{run}"
        );
        assert!(run.contains("STDIN 0"), "{run}");
    }
    let tail = |run: &str| {
        let first = args(run);
        let at = first.find("[--repair=off]").unwrap();
        first[at..].to_string()
    };
    assert_eq!(
        tail(runs[0]),
        "[--repair=off] [--sandbox-backend] [os] [--i-accept-weaker-isolation] [--solve-fuel] [5] [--input-b64] [aGk=]"
    );
    let file_tail = tail(runs[1]);
    assert!(
        file_tail.starts_with("[--repair=off] [--policy] ["),
        "{file_tail}"
    );
    assert!(file_tail.contains("/args/alt.policy.json] [--sandbox-backend] [os] [--i-accept-weaker-isolation] [--allow-host] [example.com:443] [--allow-read-root] [data] [--solve-fuel] [5] [--input] ["), "{file_tail}");
    assert!(file_tail.ends_with("/args/in.bin]"), "{file_tail}");
    assert_eq!(
        tail(runs[2]),
        "[--repair=off] [--sandbox-backend] [os] [--i-accept-weaker-isolation] [--solve-fuel] [5] [--] [a] [] [d e]"
    );
    assert_eq!(
        tail(runs[3]),
        "[--repair=off] [--sandbox-backend] [os] [--i-accept-weaker-isolation] [--solve-fuel] [5]"
    );
    assert!(
        args(runs[3]).starts_with("[run] [--project] ["),
        "{}",
        args(runs[3])
    );
    assert!(args(runs[3]).contains("/x07.json] [--profile] [sandbox] [--repair=off]"));
}

#[test]
fn configuration_keys_subdirectories_and_smoke_suites() {
    let ws = Workspace::new(
        "[package.metadata.x07]\nfixtures = [\"x07-tests\", \"suites/*.smoke.json\"]\nprofiles = [\"os\"]\nsmoke_root = \"suites\"\n",
    );
    ok_fixture(&ws, "x07-tests/one", "");
    ok_fixture(&ws, "fixtures/not-configured", "");
    ws.fixture(
        "suites",
        &[
            ("prog/main.x07.json", "{}"),
            (
                "echo.smoke.json",
                r#"{ "schema_version": "x07.smoke_suite@0.1.0", "suite_id": "smoke/echo@0.1.0/run-os",
                     "world": "run-os", "program_x07json": "prog/main.x07.json",
                     "cases": [ { "name": "hi", "input_b64": "aGk=", "expected_b64": "aGk=" } ],
                     "notes": [] }"#,
            ),
            (
                "det.smoke.json",
                r#"{ "schema_version": "x07.smoke_suite@0.1.0", "world": "solve-pure",
                     "program_x07json": "prog/main.x07.json",
                     "cases": [ { "name": "a", "input_b64": "", "expected_b64": "" } ] }"#,
            ),
        ],
    );
    let sub = ws.root().join("x07-tests/one");
    let output = ws
        .command(&["list", "--long"])
        .current_dir(&sub)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "suites/det.smoke.json::a::solve-pure  (ignored: world solve-pure runs on the deterministic solve runner, which cargo-x07 does not drive)\n\
         suites/echo.smoke.json::hi::run-os  — smoke/echo@0.1.0/run-os\n\
         x07-tests/one::default::os\n"
    );
    // The smoke case's command line, shown in its failure message (the fake runner
    // cannot run a bare program, so the case fails).
    let output = ws.test_with_fake(&["echo.smoke"]);
    let all = text(&output);
    assert!(all.contains("x07 run --program "), "{all}");
    assert!(
        all.contains(" suites/prog/main.x07.json --repair=off --input-b64 aGk="),
        "{all}"
    );
    // Unknown package.
    let output = ws.command(&["list", "-p", "nope"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains("package `nope` is not a member"),
        "{}",
        text(&output)
    );
    // Unknown configuration key.
    let bad = Workspace::new("[workspace.metadata.x07]\nfixture = [\"x\"]\n");
    let output = bad.command(&["list"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains("unknown field `fixture`"),
        "{}",
        text(&output)
    );
}

#[test]
fn configuration_errors_name_the_key_and_zero_counts_are_refused() {
    // Before: a wrong type said only "invalid type: integer `5`, expected a sequence" (no
    // key), a non-table said "expected struct RawSettings", and `timeout_ms = 0`, `jobs =
    // 0`, `--timeout-ms 0` and `-j 0` were accepted (every case timed out at once).
    for (metadata, says) in [
        (
            "fixtures = 5",
            "fixtures: invalid type: integer `5`, expected a sequence",
        ),
        (
            "fixtures = [\"a\", 3]",
            "fixtures[1]: invalid type: integer `3`",
        ),
        (
            "env = { A = 1 }",
            "env.A: invalid type: integer `1`, expected a string",
        ),
        (
            "timeout_ms = 0",
            "timeout_ms: must be at least 1 (milliseconds)",
        ),
        ("jobs = 0", "jobs: must be at least 1"),
    ] {
        let ws = Workspace::new(&format!("[package.metadata.x07]\n{metadata}\n"));
        ok_fixture(&ws, "fixtures/a", "");
        let output = ws.test_with_fake(&[]);
        let all = text(&output);
        assert_eq!(output.status.code(), Some(2), "{metadata}: {all}");
        assert!(
            all.contains("invalid [package.metadata.x07] in ") && all.contains(says),
            "{metadata}: {all}"
        );
    }
    let ws = Workspace::new("[package.metadata]\nx07 = \"yes\"\n");
    let output = ws.command(&["list"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains("expected a table, got \"yes\""),
        "{}",
        text(&output)
    );
    let ws = Workspace::new("");
    ok_fixture(&ws, "fixtures/a", "");
    for (flags, says) in [
        (
            ["-j", "0"],
            "invalid value '0' for '--jobs <N>': must not be 0",
        ),
        (
            ["--timeout-ms", "0"],
            "invalid value '0' for '--timeout-ms <MS>': must not be 0",
        ),
    ] {
        for command in ["test", "run", "audit"] {
            let mut args = vec![command];
            if command == "run" {
                args.push("fixtures/a");
                if flags[0] == "-j" {
                    continue;
                }
            }
            args.extend(flags);
            let output = ws.command(&args).output().unwrap();
            assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
            assert!(text(&output).contains(says), "{args:?}: {}", text(&output));
        }
    }
}

#[test]
fn a_fixture_outside_the_workspace_is_named_by_its_absolute_path_once() {
    // Before: `cargo x07 test /abs/path` named the cases `//abs/path::…` (the root
    // component joined with "/"), not the path the user wrote.
    let ws = Workspace::new("[workspace.metadata.x07]\nprofiles = [\"os\"]\n");
    let other = Workspace::new("");
    ok_fixture(&other, "fixtures/far", "");
    let far = other.root().join("fixtures/far");
    let far = far.to_str().unwrap();
    let output = ws.command(&["list", far]).output().unwrap();
    let listed = String::from_utf8_lossy(&output.stdout);
    assert_eq!(listed, format!("{far}::default::os\n"), "{}", text(&output));
    let output = ws.test_with_fake(&[far]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert_eq!(outcome(&all, &format!("{far}::default::os")), "ok", "{all}");
}

#[test]
fn a_broken_package_table_fails_one_case_and_the_other_packages_run() {
    // Before: one member's bad `[package.metadata.x07]` stopped the whole `--workspace`
    // run with exit 2, so no other package's case ran.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("Cargo.toml"),
        b"[workspace]\nmembers = [\"a\", \"b\"]\nresolver = \"2\"\n\n[workspace.metadata.x07]\nprofiles = [\"os\"]\n",
    );
    for member in ["a", "b"] {
        let broken = if member == "b" {
            "\n[package.metadata.x07]\nfixtures = 5\n"
        } else {
            ""
        };
        write(
            &root.join(member).join("Cargo.toml"),
            format!(
                "[package]\nname = \"{member}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n{broken}"
            )
            .as_bytes(),
        );
        write(&root.join(member).join("src/lib.rs"), b"");
        let fixture = root.join(member).join("fixtures/f");
        write(&fixture.join("x07.json"), project_manifest().as_bytes());
        write(
            &fixture.join("policy.json"),
            include_str!("data/workspaces/hello/policy.json").as_bytes(),
        );
        write(&fixture.join("main.x07.json"), b"{}\n");
        write(&fixture.join("fake.sh"), cat_report_sh(0).as_bytes());
        write(
            &fixture.join("report-os.json"),
            report("run-os", b"", None).as_bytes(),
        );
    }
    let run = |args: &[&str]| {
        let fake = fake_x07();
        let mut command = std::process::Command::new(cargo_x07());
        command
            .arg("x07")
            .arg("test")
            .arg("--x07")
            .arg(&fake)
            .args(args)
            .current_dir(root)
            .env_remove("CI")
            .env_remove("X07");
        command.output().unwrap()
    };
    let output = run(&["--workspace"]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert_eq!(outcome(&all, "a/fixtures/f::default::os"), "ok", "{all}");
    assert_eq!(
        outcome(&all, "b/Cargo.toml::metadata.x07::config"),
        "FAILED",
        "{all}"
    );
    assert!(
        all.contains("b/Cargo.toml: fixtures: invalid type: integer `5`, expected a sequence; the package's fixtures were not looked for"),
        "{all}"
    );
    // Selected alone, the broken package is a configuration error, as before.
    let output = run(&["-p", "b"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
}

#[test]
fn a_profile_no_case_has_is_named() {
    // Before: `--profile sandbx` said only "no test case selected (no fixture found, or
    // none left after --profile and --partition)".
    let ws = Workspace::new("");
    ok_fixture(&ws, "fixtures/a", "");
    let output = ws.test_with_fake(&["--profile", "sandbx"]);
    assert_eq!(output.status.code(), Some(4), "{}", text(&output));
    assert!(
        text(&output)
            .contains("note: no case has the profile `sandbx` (the cases' profiles: os, sandbox)"),
        "{}",
        text(&output)
    );
}

#[test]
fn json_format_is_one_event_per_line() {
    let ws = Workspace::new("");
    ok_fixture(&ws, "fixtures/a", "");
    let output = ws.test_with_fake(&["--format", "json"]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
        .collect();
    assert!(!events.is_empty());
    assert!(
        stdout
            .lines()
            .any(|line| line.contains("fixtures/a::default::os")),
        "{stdout}"
    );
    assert!(String::from_utf8(output.stderr)
        .unwrap()
        .starts_with("runner: "));
}

#[test]
fn terse_and_quiet() {
    let ws = Workspace::new("");
    ok_fixture(&ws, "fixtures/a", "");
    let output = ws.test_with_fake(&["-q"]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("\n..") || stdout.contains(".."), "{stdout}");
    assert_eq!(outcome(&stdout, "fixtures/a::default::os"), "", "{stdout}");
}

#[test]
fn every_check_failure_is_listed_with_the_reproduce_line() {
    let ws = Workspace::new("");
    ws.fake_fixture(
        "fixtures/wrong",
        &cat_report_sh(1),
        &[
            ("report-os.json", &report("run-os", b"", Some("fuel exhausted"))),
            (
                "x07test.json",
                r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "profiles": ["os"],
                     "expect": { "world": "run-os-sandboxed", "exit_code": 0, "output": { "text": "DATA" },
                                 "trap": { "regex": "^out of memory$" } } }"#,
            ),
        ],
    );
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    for line in [
        "  - world: expected \"run-os-sandboxed\", got \"run-os\"",
        "  - exit_code: expected 0, got 1",
        "  - output: expected 4 bytes (from text), got 0 bytes; actual ends at offset 0",
        "  - trap: expected a match for regex \"^out of memory$\", got \"fuel exhausted\"",
        "trap: fuel exhausted",
        "reproduce with:",
    ] {
        assert!(all.contains(line), "missing {line:?} in\n{all}");
    }
    // Run from the workspace root, the reproduce line and the fixture file are
    // relative to it: pasteable, and free of machine paths in CI logs. It names the
    // runner that ran (here the stand-in given as --x07).
    assert!(
        all.contains(&format!(
            "reproduce with:\n  {} run --project fixtures/wrong/x07.json --profile os --repair=off\n",
            fake_x07().display()
        )),
        "{all}"
    );
    assert!(
        all.contains("  fixture file: fixtures/wrong/x07test.json\n"),
        "{all}"
    );
}

#[test]
fn vm_fail_closed_gets_a_hint() {
    let ws = Workspace::new("");
    ws.fake_fixture(
        "fixtures/vm",
        &cat_report_sh(1),
        &[
            (
                "report-sandbox.json",
                include_str!("data/reports/sandbox-failclosed-vm.json"),
            ),
            (
                "x07test.json",
                r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "profiles": ["sandbox"] }"#,
            ),
        ],
    );
    let output = ws.test_with_fake(&["--sandbox-backend", "vm"]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(
        all.contains("hint: the sandbox VM backend failed closed"),
        "{all}"
    );
    assert!(all.contains("--sandbox-backend os"), "{all}");
    assert!(
        all.contains("--profile sandbox --repair=off\n"),
        "vm: no backend flags\n{all}"
    );
}

#[test]
fn run_prints_the_report_and_the_verdict() {
    let ws = Workspace::new("");
    ok_fixture(&ws, "fixtures/a", "OK");
    ws.fixture(
        "fixtures/a",
        &[(
            "x07test.json",
            r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "expect": { "output": { "text": "OK" } } }"#,
        )],
    );
    let fake = fake_x07();
    let output = ws
        .command(&[
            "run",
            "fixtures/a",
            "--profile",
            "os",
            "--report",
            "--x07",
            fake.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("== fixtures/a::default::os"), "{stdout}");
    assert!(
        stdout.contains("\"solve_output_b64\": \"T0s=\""),
        "{stdout}"
    );
    assert!(stdout.contains("verdict: pass"), "{stdout}");
    assert!(!stdout.contains("::sandbox"), "{stdout}");

    ws.fixture(
        "fixtures/a",
        &[(
            "x07test.json",
            r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "expect": { "output": { "text": "KO" } } }"#,
        )],
    );
    let output = ws
        .command(&["run", "fixtures/a", "--x07", fake.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("verdict: FAIL"), "{stdout}");
    assert!(stdout.contains("-KO"), "{stdout}");
    assert!(stdout.contains("+OK"), "{stdout}");

    // Asking for a case that is not there says which ones are.
    let output = ws
        .command(&[
            "run",
            "fixtures/a",
            "--case",
            "nope",
            "--x07",
            fake.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(
            "no case of fixtures/a matches --case nope; its cases: default; its profiles: os, sandbox"
        ),
        "{stderr}"
    );
}

#[test]
fn bless_rewrites_failing_expectations_and_refuses_in_ci() {
    let ws = Workspace::new("");
    let dir = ws.fake_fixture(
        "fixtures/b",
        &cat_report_sh(0),
        &[
            ("report-os.json", &report("run-os", b"NEW", None)),
            ("report-sandbox.json", &report("run-os-sandboxed", b"NEW", None)),
            (
                "x07test.json",
                r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "cases": [ { "name": "c", "expect": { "output": { "text": "OLD" } } } ] }"#,
            ),
        ],
    );
    ws.fake_fixture(
        "fixtures/crash",
        "echo garbage\nexit 3\n",
        &[(
            "x07test.json",
            r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "profiles": ["os"] }"#,
        )],
    );
    // In CI: refused, nothing written, before anything runs.
    let before = ws.snapshot();
    let fake = fake_x07();
    let output = ws
        .command(&["test", "--bless", "--x07", fake.to_str().unwrap()])
        .env("CI", "true")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("refusing to bless"),
        "{}",
        text(&output)
    );
    assert_eq!(before, ws.snapshot());

    // Locally: the failing case is rewritten, the crashed one is left alone.
    let output = ws
        .command(&["bless", "--x07", fake.to_str().unwrap()])
        .output()
        .unwrap();
    let all = text(&output);
    assert!(
        all.contains("bless: left fixtures/crash::default::os alone"),
        "{all}"
    );
    let blessed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("x07test.json")).unwrap()).unwrap();
    assert_eq!(
        blessed["cases"][0]["expect"]["output"],
        serde_json::json!({ "text": "NEW" })
    );
    assert_eq!(blessed["cases"][0]["name"], "c");
    assert!(!ws.root().join("fixtures/crash/x07test.json.tmp").exists());
    let crash_before = before
        .get(std::path::Path::new("fixtures/crash/x07test.json"))
        .unwrap();
    assert_eq!(
        &std::fs::read(ws.root().join("fixtures/crash/x07test.json")).unwrap(),
        crash_before
    );
    // And now it passes.
    let output = ws.test_with_fake(&["fixtures/b"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

#[test]
fn bless_writes_per_profile_when_profiles_differ() {
    let ws = Workspace::new("");
    let dir = ws.fake_fixture(
        "fixtures/p",
        &cat_report_sh(0).replace("exit 0", "[ \"$1\" = sandbox ] && exit 1\nexit 0"),
        &[
            ("report-os.json", &report("run-os", b"A", None)),
            (
                "report-sandbox.json",
                &report("run-os-sandboxed", b"", Some("os.fs disabled by policy")),
            ),
        ],
    );
    let fake = fake_x07();
    let output = ws
        .command(&["bless", "--x07", fake.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let blessed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("x07test.json")).unwrap()).unwrap();
    assert_eq!(blessed["schema_version"], "cargo-x07.fixture@0.1.0");
    assert_eq!(
        blessed["cases"][0]["by_profile"]["sandbox"]["expect"]["trap"],
        "os.fs disabled by policy"
    );
    let output = ws.test_with_fake(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

#[test]
fn embedded_runner_passes_and_a_broken_byte_shows_a_diff() {
    let ws = Workspace::new("");
    let dir = ws.fixture(
        "fixtures/hello",
        &[
            ("x07.json", &project_manifest()),
            ("policy.json", include_str!("data/workspaces/hello/policy.json")),
            ("main.x07.json", include_str!("data/workspaces/hello/main.x07.json")),
            (
                "x07test.json",
                r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "expect": { "output": { "text": "hello, x07" } } }"#,
            ),
        ],
    );
    let before = ws.snapshot();
    let output = ws
        .command(&["test", "--backend", "embedded"])
        .output()
        .unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert!(all.starts_with("runner: embedded x07-lite "), "{all}");
    assert!(all.contains("2 passed; 0 failed"), "{all}");
    assert_eq!(before, ws.snapshot());

    std::fs::write(
        dir.join("x07test.json"),
        r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "expect": { "output": { "text": "hello, x08" } } }"#,
    )
    .unwrap();
    let before = ws.snapshot();
    let output = ws
        .command(&["test", "--backend", "embedded"])
        .output()
        .unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(
        all.contains(
            "  - output: expected 10 bytes (from text), got 10 bytes; \
             first difference at offset 9 (line 1, column 10)"
        ),
        "{all}"
    );
    assert!(all.contains("  -hello, x08"), "{all}");
    assert!(all.contains("  +hello, x07"), "{all}");
    assert!(
        all.contains(
            "x07 run --project fixtures/hello/x07.json --profile sandbox --repair=off --sandbox-backend os --i-accept-weaker-isolation"
        ),
        "{all}"
    );
    assert_eq!(before, ws.snapshot());
}

#[test]
fn policy_init_and_check_are_wired() {
    let ws = Workspace::new("");
    ws.fixture("fixtures/p", &[("x07.json", &project_manifest())]);
    let sub = ws.root().join("fixtures/p");
    let output = ws
        .command(&["policy", "init", "--template", "cli"])
        .current_dir(&sub)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let line: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(line["status"], "created");
    let written = sub.join(".x07/policies/base/cli.sandbox.base.policy.json");
    assert!(written.is_file());
    let output = ws
        .command(&["policy", "check", written.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    std::fs::write(sub.join("broken.json"), "{ \"schema_version\": 1 }").unwrap();
    let output = ws
        .command(&["policy", "check", sub.join("broken.json").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("broken.json"), "{}", text(&output));
}

#[test]
fn binary_output_mismatch_shows_a_hex_dump() {
    let ws = Workspace::new("");
    ws.fake_fixture(
        "fixtures/bin",
        &cat_report_sh(0),
        &[
            (
                "report-os.json",
                &report("run-os", &[0x00, 0xfe, 0x41], None),
            ),
            ("expected.bin", "\u{0}"),
            (
                "x07test.json",
                r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "profiles": ["os"],
                     "expect": { "output": { "b64": "AP9B" } } }"#,
            ),
        ],
    );
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(
        all.contains(
            "  - output: expected 3 bytes (from b64), got 3 bytes; \
             first difference at offset 1 (0x1)"
        ),
        "{all}"
    );
    assert!(
        all.contains("binary output differs at offset 1 (0x1)"),
        "{all}"
    );
    assert!(all.contains("00000000  00>ff 41"), "{all}");
    assert!(all.contains("00000000  00>fe 41"), "{all}");
}

#[test]
fn package_selection_follows_cargo() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("Cargo.toml"),
        b"[workspace]\nmembers = [\"a\", \"b\"]\nresolver = \"2\"\n\n[workspace.metadata.x07]\nprofiles = [\"os\"]\n",
    );
    for member in ["a", "b"] {
        write(
            &root.join(member).join("Cargo.toml"),
            format!("[package]\nname = \"{member}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
                .as_bytes(),
        );
        write(&root.join(member).join("src/lib.rs"), b"");
        write(
            &root.join(member).join("fixtures/f/x07.json"),
            project_manifest().as_bytes(),
        );
    }
    let list = |cwd: &std::path::Path, args: &[&str]| {
        let mut command = std::process::Command::new(cargo_x07());
        command.arg("x07").arg("list").args(args).current_dir(cwd);
        command.env_remove("CI");
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
        String::from_utf8(output.stdout).unwrap()
    };
    let both = "a/fixtures/f::default::os\nb/fixtures/f::default::os\n";
    // The virtual root: the default members (all of them here).
    assert_eq!(list(root, &[]), both);
    // Inside a member: that member only, from any depth.
    assert_eq!(
        list(&root.join("a/fixtures/f"), &[]),
        "a/fixtures/f::default::os\n"
    );
    // Selectors.
    assert_eq!(
        list(&root.join("a"), &["-p", "b"]),
        "b/fixtures/f::default::os\n"
    );
    assert_eq!(list(&root.join("a"), &["--workspace"]), both);
    let manifest = root.join("b/Cargo.toml");
    assert_eq!(
        list(
            std::env::temp_dir().as_path(),
            &["--manifest-path", manifest.to_str().unwrap()]
        ),
        "b/fixtures/f::default::os\n"
    );
}

#[test]
fn test_help_describes_the_libtest_flags_for_cases() {
    for command in ["test", "bless"] {
        let output = std::process::Command::new(cargo_x07())
            .args(["x07", command, "--help"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0));
        let help = String::from_utf8(output.stdout).unwrap();
        assert!(help.starts_with("Run "), "{help}");
        assert!(help.contains("Usage: cargo x07 "), "{help}");
        for line in [
            "--include-ignored\n          Run the ignored cases as well as the others",
            "--ignored\n          Run only the ignored cases",
            "--list\n          List the selected cases as `NAME: test` lines and run nothing",
            "the same as --message-format json",
            "--nocapture\n          Print each passing case's runner stderr after its line",
            "--show-output\n          Print the runner stderr of passing cases in a `successes:` section",
        ] {
            assert!(help.contains(line), "missing {line:?} in\n{help}");
        }
        // libtest-mimic's own wording and its no-op flags are gone from the help …
        for gone in [
            "Run ignored tests",
            "--bench",
            "-Z <",
            "If this is set, `format` is `None`",
        ] {
            assert!(!help.contains(gone), "{gone:?} still in\n{help}");
        }
    }
    // … but still accepted, as tools calling a libtest harness pass them.
    let ws = Workspace::new("");
    let output = ws
        .command(&[
            "test",
            "--nocapture",
            "-Z",
            "unstable-options",
            "--allow-empty",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

#[test]
fn runner_output_names_the_fixture_not_its_temporary_copy() {
    let ws = Workspace::new("");
    ws.fake_fixture(
        "fixtures/where",
        "echo \"error: cannot read $(pwd)/main.x07.json\" >&2\necho \"at $(pwd)/main.x07.json\"\nexit 3\n",
        &[(
            "x07test.json",
            r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "profiles": ["os"] }"#,
        )],
    );
    let output = ws.test_with_fake(&[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(
        all.contains("runner stderr:\n  error: cannot read fixtures/where/main.x07.json\n"),
        "{all}"
    );
    assert!(
        all.contains("runner stdout:\n  at fixtures/where/main.x07.json\n"),
        "{all}"
    );
    assert!(!all.contains("cargo-x07-"), "{all}");
}

#[test]
fn version_and_top_level_help_read_as_cargo_x07() {
    let version = std::process::Command::new(cargo_x07())
        .args(["x07", "--version"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(version.stdout).unwrap(),
        format!("cargo-x07 {}\n", env!("CARGO_PKG_VERSION"))
    );
    let help = std::process::Command::new(cargo_x07())
        .args(["x07", "list", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(help.contains("Usage: cargo x07 list"), "{help}");
    assert!(!help.contains("fixtures to run"), "{help}");
    let bare = std::process::Command::new(cargo_x07()).output().unwrap();
    assert_eq!(bare.status.code(), Some(2));
    let bare = String::from_utf8(bare.stderr).unwrap();
    assert!(bare.starts_with("cargo-x07: run X07 fixtures"), "{bare}");
}

#[test]
fn list_long_names_a_broken_fixture_relative_to_the_current_directory() {
    let ws = Workspace::new("");
    ws.fixture(
        "fixtures/broken",
        &[("x07.json", &project_manifest()), ("x07test.json", "{")],
    );
    let output = ws.command(&["list", "--long"]).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("fixtures/broken::default::os  [broken: malformed JSON in fixtures/broken/x07test.json: "),
        "{stdout}"
    );
}
