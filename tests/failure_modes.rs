//! Broken fixtures and broken runners fail only their own cases, with a
//! message naming the file or cause; the other cases still run; no process
//! is left behind; nothing under the fixtures changes.

mod common;

use common::*;

fn good_fixture(ws: &Workspace, name: &str) {
    ws.fake_fixture(
        name,
        &cat_report_sh(0),
        &[
            ("report-os.json", &report("run-os", b"OK", None)),
            ("report-sandbox.json", &report("run-os-sandboxed", b"OK", None)),
            (
                "x07test.json",
                r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "expect": { "output": { "text": "OK" } } }"#,
            ),
        ],
    );
}

#[test]
fn each_failure_mode_fails_only_its_own_case() {
    let ws = Workspace::new("");
    good_fixture(&ws, "fixtures/good");
    // Malformed expectations file.
    ws.fake_fixture(
        "fixtures/malformed",
        &cat_report_sh(0),
        &[(
            "x07test.json",
            "{ \"schema_version\": \"cargo-x07.fixture@0.1.0\", ",
        )],
    );
    // A policy file that does not exist.
    ws.fake_fixture(
        "fixtures/missing-policy",
        &cat_report_sh(0),
        &[(
            "x07test.json",
            r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "profiles": ["sandbox"], "run": { "policy": "nope.policy.json" } }"#,
        )],
    );
    // A runner that prints garbage.
    ws.fake_fixture(
        "fixtures/garbage",
        "echo 'this is not a report'\necho 'runner exploded' >&2\nexit 7\n",
        &[(
            "x07test.json",
            r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "profiles": ["os"] }"#,
        )],
    );
    // A runner that hangs, with a grandchild that would hang forever too.
    let pid_dir = tempfile::tempdir().unwrap();
    ws.fake_fixture(
        "fixtures/hangs",
        &format!(
            "sleep 300 &\necho $! > {}/grandchild.pid\necho $$ > {}/runner.pid\nwait\n",
            pid_dir.path().display(),
            pid_dir.path().display()
        ),
        &[(
            "x07test.json",
            r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "profiles": ["os"], "timeout_ms": 500 }"#,
        )],
    );
    // A runner that prints more than any report can need (x07's default
    // max_output_bytes): only the head is kept.
    let limit = cargo_x07::run::CaptureLimits::for_report(1024 * 1024).stdout;
    ws.fake_fixture(
        "fixtures/floods",
        &format!("head -c {} /dev/zero | tr '\\0' x\n", limit + 1000),
        &[(
            "x07test.json",
            r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "profiles": ["os"] }"#,
        )],
    );
    let before = ws.snapshot();
    let started = std::time::Instant::now();
    let output = ws.test_with_fake(&["--test-threads", "4"]);
    let elapsed = started.elapsed();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(
        elapsed < std::time::Duration::from_secs(60),
        "took {elapsed:?}"
    );

    // The good fixture passes under both profiles.
    assert!(outcome(&all, "fixtures/good::default::os") == "ok", "{all}");
    assert!(
        outcome(&all, "fixtures/good::default::sandbox") == "ok",
        "{all}"
    );

    // Malformed JSON: names the file and the position.
    assert!(
        outcome(&all, "fixtures/malformed::default::os") == "FAILED",
        "{all}"
    );
    // (relative to the directory cargo x07 ran in, like the fixture file line)
    assert!(
        all.contains("  malformed JSON in fixtures/malformed/x07test.json: "),
        "{all}"
    );
    assert!(all.contains("EOF while parsing"), "{all}");

    // Missing policy: names the policy file.
    assert!(
        outcome(&all, "fixtures/missing-policy::default::sandbox") == "FAILED",
        "{all}"
    );
    assert!(
        all.contains("missing policy file fixtures/missing-policy/nope.policy.json"),
        "{all}"
    );

    // Garbage: says it is not JSON, shows the exit code and stderr.
    assert!(
        outcome(&all, "fixtures/garbage::default::os") == "FAILED",
        "{all}"
    );
    assert!(all.contains("printed stdout that is not JSON"), "{all}");
    assert!(all.contains("runner exit code: 7"), "{all}");
    assert!(all.contains("runner exploded"), "{all}");

    // Hang: timed out, the whole process group killed.
    assert!(
        outcome(&all, "fixtures/hangs::default::os") == "FAILED",
        "{all}"
    );
    assert!(all.contains("did not finish within 500 ms"), "{all}");
    #[cfg(unix)]
    for file in ["runner.pid", "grandchild.pid"] {
        let (pid, gone) = pid_file_process_gone(&pid_dir.path().join(file));
        assert!(gone, "{file} ({pid}) is still running");
    }

    // Flood: read to the end, the head kept, the case fails saying the report was cut.
    assert!(
        outcome(&all, "fixtures/floods::default::os") == "FAILED",
        "{all}"
    );
    assert!(
        all.contains(&format!(
            "more than any report can need: cut after {limit} bytes, 1000 more bytes not kept"
        )),
        "{all}"
    );

    assert!(all.contains("2 passed; 6 failed"), "{all}");
    assert_eq!(
        before,
        ws.snapshot(),
        "fixture files changed during the run"
    );
}

#[test]
fn runs_never_write_into_fixtures() {
    let ws = Workspace::new("");
    // A runner that, like x07, writes a lockfile and .x07/ into the project it is given.
    ws.fake_fixture(
        "fixtures/writer",
        &format!(
            "echo lock > x07.lock.json\nmkdir -p .x07/policies/_generated\necho p > .x07/policies/_generated/p.json\necho changed > main.x07.json\n{}",
            cat_report_sh(0)
        ),
        &[
            ("report-os.json", &report("run-os", b"", None)),
            ("report-sandbox.json", &report("run-os-sandboxed", b"", None)),
        ],
    );
    let before = ws.snapshot();
    let output = ws.test_with_fake(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(before, ws.snapshot());
}

#[test]
fn a_missing_runner_fails_before_running_anything() {
    let ws = Workspace::new("");
    good_fixture(&ws, "fixtures/good");
    let output = ws
        .command(&["test", "--x07", "/nonexistent/x07"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains("x07 binary /nonexistent/x07 (from --x07) does not exist"),
        "{}",
        text(&output)
    );
    let output = ws
        .command(&["test"])
        .env("X07", "x07-surely-not-installed")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains("x07 binary `x07-surely-not-installed` (from $X07) is not on PATH"),
        "{}",
        text(&output)
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_kills_the_running_cases() {
    let ws = Workspace::new("");
    let pid_dir = tempfile::tempdir().unwrap();
    ws.fake_fixture(
        "fixtures/hangs",
        &format!(
            "sleep 300 &\necho $! > {dir}/grandchild.pid\npwd > {dir}/copy.path\necho $$ > {dir}/runner.pid.tmp\nmv {dir}/runner.pid.tmp {dir}/runner.pid\nwait\n",
            dir = pid_dir.path().display()
        ),
        &[(
            "x07test.json",
            r#"{ "schema_version": "cargo-x07.fixture@0.1.0", "profiles": ["os"] }"#,
        )],
    );
    let fake = fake_x07();
    let child = ws
        .command(&["test", "--x07", fake.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let runner_pid_file = pid_dir.path().join("runner.pid");
    let started = std::time::Instant::now();
    while !runner_pid_file.exists() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the case never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("interrupted"));
    // The case's temporary copy of the fixture is removed too.
    let copy = std::fs::read_to_string(pid_dir.path().join("copy.path")).unwrap();
    let copy = std::path::Path::new(copy.trim());
    assert!(copy.ends_with("hangs"), "{}", copy.display());
    assert!(
        !copy.parent().unwrap().exists(),
        "{} was left behind",
        copy.display()
    );
    for file in ["runner.pid", "grandchild.pid"] {
        let (pid, gone) = pid_file_process_gone(&pid_dir.path().join(file));
        assert!(gone, "{file} ({pid}) is still running after Ctrl-C");
    }
}
