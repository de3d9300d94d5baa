//! Policies and derived-policy flags an attacker writes: `;` entries that would smuggle
//! in more roots, keys, executables or hosts, empty values, spawning without a runtime
//! limit, a working directory with no root, and flags in the wrong world.

use serde_json::json;

use crate::support::*;

fn generated_dir(lab: &Lab) -> std::path::PathBuf {
    lab.project.join(".x07/policies/_generated")
}

#[test]
fn read_root_flag_with_a_semicolon() {
    let mut lab = Lab::new();
    let canary = lab.canary("secret.txt");
    let flag = format!("sub;{}", lab.outside.display());
    let run = lab.run_with(
        read_input(),
        canary.display().to_string().as_bytes(),
        &["--allow-read-root", &flag],
        &[],
    );
    run.assert_usage_error("invalid policy: policy.fs.read_roots[1] must not contain ';'");
    assert!(
        !generated_dir(&lab).exists(),
        "a derived policy was written"
    );
}

#[test]
fn write_root_flag_with_a_semicolon() {
    let lab = Lab::new();
    let flag = format!("out;{}", lab.outside.display());
    lab.run_with(
        write_input(lit("PWNED")),
        b"out/x",
        &["--allow-write-root", &flag],
        &[],
    )
    .assert_usage_error("invalid policy: policy.fs.write_roots[1] must not contain ';'");
}

#[test]
fn empty_root_flags() {
    let lab = Lab::new();
    for flag in ["--allow-read-root", "--allow-write-root"] {
        lab.run_with(read_input(), b"data.txt", &[flag, ""], &[])
            .assert_usage_error("a value is required for");
    }
}

#[test]
fn host_flag_with_a_semicolon_or_space() {
    let mut lab = Lab::new();
    lab.policy(|p| {
        p["net"] = json!({"enabled": true, "allow_dns": true, "allow_tcp": true, "allow_udp": false, "allow_hosts": []})
    });
    for host in ["example.com;evil.com:443", "example.com evil.com:443"] {
        lab.run_with(read_input(), b"data.txt", &["--allow-host", host], &[])
            .assert_usage_error("Expected HOST:PORTS (ports are 1..65535).: host must match");
    }
    assert!(!generated_dir(&lab).exists());
}

#[test]
fn policy_file_entries_with_semicolons() {
    let mut lab = Lab::new();
    let outside = lab.outside.display().to_string();
    let cases: Vec<(&str, serde_json::Value, &str)> = vec![
        (
            "/fs/read_roots",
            json!([".", format!("sub;{outside}")]),
            "policy.fs.read_roots[1]",
        ),
        (
            "/fs/write_roots",
            json!([format!("out;{outside}")]),
            "policy.fs.write_roots[0]",
        ),
        (
            "/env/allow_keys",
            json!(["A;B"]),
            "policy.env.allow_keys[0]",
        ),
        ("/env/deny_keys", json!(["A;B"]), "policy.env.deny_keys[0]"),
    ];
    for (pointer, value, message) in cases {
        let original = lab.policy.clone();
        *lab.policy.pointer_mut(pointer).unwrap() = value;
        lab.run(read_input(), b"data.txt")
            .assert_usage_error(&format!("invalid policy: {message} must not contain ';'"));
        lab.policy = original;
    }
    lab.policy(|p| {
        allow_processes(p, &["/bin/echo;/bin/sh"]);
    });
    lab.run(read_input(), b"data.txt")
        .assert_usage_error("invalid policy: policy.process.allow_execs[0] must not contain ';'");
    lab.policy(|p| {
        allow_processes(p, &["/bin/echo"]);
        p["process"]["allow_env_keys"] = json!(["A;LD_PRELOAD"]);
    });
    lab.run(read_input(), b"data.txt").assert_usage_error(
        "invalid policy: policy.process.allow_env_keys[0] must not contain ';'",
    );
    lab.policy(|p| {
        p["process"]["allow_env_keys"] = json!([]);
        p["net"]["allow_hosts"] = json!([{"host": "a;b", "ports": [443]}]);
    });
    lab.run(read_input(), b"data.txt")
        .assert_usage_error("invalid policy: policy.net.allow_hosts[0].host must match");
}

#[test]
fn spawning_without_a_runtime_limit_is_refused() {
    let mut lab = Lab::new();
    lab.policy(|p| {
        allow_processes(p, &["/bin/echo"]);
        p["process"]["max_runtime_ms"] = 0.into();
    });
    lab.run(read_input(), b"data.txt").assert_usage_error(
        "invalid policy: policy.process.max_runtime_ms must be 1..600000 when process.allow_spawn is true (got 0)",
    );
}

#[test]
fn a_working_directory_with_no_root_is_refused() {
    let mut lab = Lab::new();
    lab.policy(|p| {
        allow_processes(p, &["/bin/sh"]);
        p["process"]["allow_cwd"] = true.into();
    });
    lab.run(read_input(), b"data.txt").assert_usage_error(
        "invalid policy: policy.process.allow_cwd_roots must not be empty when process.allow_cwd is true",
    );
}

#[test]
fn derived_flags_need_the_sandbox_world() {
    let lab = Lab::new();
    lab.run_os(read_input(), b"data.txt", &[])
        .assert_output(b"DATA");
    let run = lab.run_os_with(read_input(), b"data.txt", &["--allow-read-root", "/"]);
    run.assert_usage_error("requires run-os-sandboxed");
}

#[test]
fn read_root_slash_grants_slash_as_x07_does() {
    let lab = Lab::new();
    let run = lab.run_with(
        read_input(),
        b"etc/hostname",
        &["--allow-read-root", "/"],
        &[],
    );
    let expected = std::fs::read("/etc/hostname").unwrap();
    run.assert_output(&expected);
}

/// `.x07/policies/_generated` planted as a symlink to a directory outside: the runner
/// refuses to write the derived policy there (rc 2) instead of creating a file outside.
#[test]
fn generated_policy_directory_planted_as_a_symlink() {
    let lab = Lab::new();
    std::fs::create_dir_all(lab.project.join(".x07/policies")).unwrap();
    std::os::unix::fs::symlink(&lab.outside, generated_dir(&lab)).unwrap();
    let run = lab.run_with(
        read_input(),
        b"data.txt",
        &["--allow-read-root", "sub"],
        &[],
    );
    run.assert_usage_error("write derived policy:");
}

/// The derived policy's own file planted as a symlink to a canary, or as a hard link of
/// it: the canary is neither overwritten nor truncated (the lab checks), the run is
/// refused.
#[test]
fn generated_policy_file_planted_as_a_link_to_a_canary() {
    for how in ["symlink", "hard link"] {
        let mut lab = Lab::new();
        let canary = lab.canary("policy-target.txt");
        // A first run names the file (its name is a digest of the base and the flags).
        lab.run_with(
            read_input(),
            b"data.txt",
            &["--allow-read-root", "sub"],
            &[],
        )
        .assert_output(b"DATA");
        let generated = std::fs::read_dir(generated_dir(&lab))
            .unwrap()
            .flatten()
            .next()
            .unwrap()
            .path();
        std::fs::remove_file(&generated).unwrap();
        if how == "symlink" {
            std::os::unix::fs::symlink(&canary, &generated).unwrap();
        } else {
            lab.hard_link(
                generated
                    .strip_prefix(&lab.project)
                    .unwrap()
                    .to_str()
                    .unwrap(),
                &canary,
            );
        }
        let run = lab.run_with(
            read_input(),
            b"data.txt",
            &["--allow-read-root", "sub"],
            &[],
        );
        run.assert_usage_error("write derived policy:");
    }
}

/// A project whose lockfile is missing and planted as a dangling symlink to a file
/// outside: the runner creates no file outside while it creates missing lockfiles.
#[test]
fn missing_lockfile_planted_as_a_dangling_symlink() {
    let lab = Lab::new();
    let target = lab.outside.join("created-by-lockfile.json");
    std::os::unix::fs::symlink(&target, lab.project.join("x07.lock.json")).unwrap();
    let policy_path = lab.top.join("project-policy.json");
    std::fs::write(&policy_path, lab.policy.to_string()).unwrap();
    std::fs::write(
        lab.project.join("x07.json"),
        json!({
            "schema_version": "x07.project@0.5.0",
            "compat": "0.5",
            "world": "run-os",
            "entry": "main.x07.json",
            "module_roots": ["."],
            "dependencies": [],
            "lockfile": "x07.lock.json",
            "default_profile": "sandbox",
            "profiles": {"sandbox": {"world": "run-os-sandboxed", "policy": policy_path}}
        })
        .to_string(),
    )
    .unwrap();
    std::fs::write(lab.project.join("main.x07.json"), entry(lit("ok"))).unwrap();
    let output = std::process::Command::new(runner_binary())
        .args([
            "run",
            "--project",
            "x07.json",
            "--profile",
            "sandbox",
            "--sandbox-backend",
            "os",
            "--i-accept-weaker-isolation",
            "--repair=off",
        ])
        .current_dir(&lab.project)
        .env_remove("X07_OS_SANDBOXED")
        .output()
        .unwrap();
    assert!(
        !target.exists(),
        "the runner wrote through the planted lockfile link"
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("\"ok\": true"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
