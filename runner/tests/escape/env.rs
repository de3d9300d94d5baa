//! Reading the runner's environment: the builtin's gate, and every indirect way (child
//! processes, `/proc/<pid>/environ` of the solver).

use serde_json::json;

use crate::support::*;

fn env_get() -> serde_json::Value {
    json!(["os.env.get", input()])
}

#[test]
fn env_disabled() {
    let mut lab = Lab::new();
    lab.secret_env("ESCAPE_SECRET_TOKEN");
    lab.run(env_get(), b"ESCAPE_SECRET_TOKEN")
        .assert_trap("os.env disabled by policy");
}

#[test]
fn key_not_allowed_and_deny_wins() {
    let mut lab = Lab::new();
    lab.secret_env("ESCAPE_SECRET_TOKEN");
    lab.policy(|p| {
        p["env"] = json!({"enabled": true, "allow_keys": ["ESCAPE_SECRET_TOKEN", "OTHER"], "deny_keys": ["ESCAPE_SECRET_TOKEN"]})
    });
    lab.run(env_get(), b"ESCAPE_SECRET_TOKEN")
        .assert_trap("os.env.get key denied");
    lab.policy(|p| p["env"]["deny_keys"] = json!([]));
    lab.policy(|p| p["env"]["allow_keys"] = json!(["OTHER"]));
    lab.run(env_get(), b"ESCAPE_SECRET_TOKEN")
        .assert_trap("os.env.get key not allowed");
}

#[test]
fn a_child_process_sees_only_the_request_environment() {
    let mut lab = Lab::new();
    lab.secret_env("ESCAPE_SECRET_TOKEN");
    lab.policy(|p| allow_processes(p, &["/usr/bin/env", "/bin/sh"]));
    let run = lab.run(run_capture_input(), &proc_input(&["/usr/bin/env"], &[], ""));
    assert_eq!(run.doc(), "OK exit=0 out=\"\" err=\"\"");
}

#[test]
fn a_child_cannot_read_the_solvers_environ() {
    let mut lab = Lab::new();
    lab.secret_env("ESCAPE_SECRET_TOKEN");
    lab.policy(|p| allow_processes(p, &["/bin/sh"]));
    let script =
        "cat /proc/$PPID/environ; cat /proc/self/environ; tr '\\0' '\\n' < /proc/$PPID/environ";
    let run = lab.run(
        run_capture_input(),
        &proc_input(&["/bin/sh", "-c", script], &[], ""),
    );
    // Whatever the child printed, the lab's checks find no canary in it.
    assert!(run.doc().starts_with("OK exit="), "{}", run.doc());
}

#[test]
fn a_child_cannot_read_the_runners_environ() {
    let mut lab = Lab::new();
    lab.secret_env("ESCAPE_SECRET_TOKEN");
    lab.policy(|p| allow_processes(p, &["/bin/sh"]));
    // The solver's parent is the CLI, which has the whole environment.
    let script = "p=$(cut -d' ' -f4 /proc/$PPID/stat); cat /proc/$p/environ";
    let run = lab.run(
        run_capture_input(),
        &proc_input(&["/bin/sh", "-c", script], &[], ""),
    );
    if run.landlock_missing() {
        eprintln!("skipped: Landlock is not available");
        return;
    }
    assert!(run.doc().starts_with("OK exit="), "{}", run.doc());
}

#[test]
fn request_env_key_not_allowed() {
    let mut lab = Lab::new();
    lab.policy(|p| {
        allow_processes(p, &["/usr/bin/env"]);
        p["process"]["allow_env_keys"] = json!(["FOO"]);
    });
    lab.run(
        run_capture_input(),
        &proc_input(&["/usr/bin/env"], &[("LD_PRELOAD", "x")], ""),
    )
    .assert_output(&[0, 1, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn caller_x07_os_sandboxed_turns_run_os_into_deny_all() {
    let mut lab = Lab::new();
    lab.secret_env("ESCAPE_SECRET_TOKEN");
    lab.run_os(
        env_get(),
        b"ESCAPE_SECRET_TOKEN",
        &[("X07_OS_SANDBOXED", "1")],
    )
    .assert_trap("os.env disabled by policy");
}
