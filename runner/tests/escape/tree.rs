//! The process tree: nothing the program starts outlives the run, however it detaches
//! (`setsid`, double fork, `kill_on_drop: false`) and however the run ends (return,
//! trap, exit, timeout, runner killed); `limits.procs` holds against fork loops; CPU
//! time counts over the whole tree.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;

fn with_shell(lab: &mut Lab) {
    lab.policy(|p| allow_processes(p, &["/bin/sh", "/bin/sleep"]));
}

/// A shell that leaves `sleep <marker>` behind in a way that escapes its process group.
fn detaching(marker: &str, how: &str) -> Vec<u8> {
    if how == "direct" {
        let mut input = caps(1024, 1024, 0, 0);
        input.extend(req(&["/bin/sleep", marker], &[], "", ""));
        return input;
    }
    // The shell waits a moment, so the grandchild has detached before the shell's own
    // process group is cleaned up.
    let background = match how {
        "setsid" => format!("setsid /bin/sleep {marker}"),
        "double-fork" => format!("( ( /bin/sleep {marker} > /dev/null 2>&1 < /dev/null & ) & )"),
        _ => format!("/bin/sleep {marker}"),
    };
    let script =
        format!("{background} > /dev/null 2>&1 < /dev/null & /bin/sleep 0.3; echo started");
    let mut input = caps(1024, 1024, 0, 0);
    input.extend(req(&["/bin/sh", "-c", &script], &[], "", ""));
    input
}

fn survivor_case(
    how: &str,
    solve: serde_json::Value,
    policy: impl FnOnce(&mut serde_json::Value),
) -> Run {
    let mut lab = Lab::new();
    with_shell(&mut lab);
    lab.policy(policy);
    let marker = sleep_marker();
    let run = lab.run(solve, &detaching(&marker, how));
    let survived = survives(&marker);
    kill_marker(&marker);
    assert!(!survived, "`sleep {marker}` ({how}) outlived the run");
    run
}

#[test]
fn setsid_grandchild_after_a_normal_end() {
    let run = survivor_case("setsid", run_capture_input(), |_| {});
    assert!(run.doc().contains("started"), "{}", run.doc());
}

#[test]
fn double_forked_grandchild_after_a_normal_end() {
    let run = survivor_case("double-fork", run_capture_input(), |_| {});
    assert!(run.doc().contains("started"), "{}", run.doc());
}

#[test]
fn kill_on_drop_false_child_after_a_normal_end() {
    let solve = spawn_then(json!([
        "begin",
        ["os.process.drop_v1", "h"],
        lit("dropped")
    ]));
    let run = survivor_case("direct", solve, |p| {
        p["process"]["kill_on_drop"] = false.into()
    });
    assert_eq!(run.text(), "dropped");
}

#[test]
fn survivors_after_a_trap() {
    let solve = spawn_then(json!([
        "view.to_bytes",
        ["view.slice", "input", 0, 100000000]
    ]));
    survivor_case("setsid", solve, |_| {}).assert_trap("view.slice oob");
}

#[test]
fn survivors_after_exit() {
    let solve = spawn_then(json!([
        "begin",
        ["os.process.join_exit_v1", "h"],
        ["os.process.exit", 0]
    ]));
    survivor_case("setsid", solve, |_| {}).assert_trap("native stdout too short");
}

#[test]
fn survivors_after_the_wall_clock_limit() {
    let solve = spawn_then(forever());
    let run = survivor_case("setsid", solve, |p| p["limits"]["wall_ms"] = 1500.into());
    run.assert_trap("timed out");
}

#[test]
fn survivors_after_the_runner_is_killed() {
    let mut lab = Lab::new();
    with_shell(&mut lab);
    let marker = sleep_marker();
    let mut cli = lab.spawn(spawn_then(forever()), &detaching(&marker, "setsid"));
    // Only a wait for the start: a loaded machine may take seconds to get there.
    let started = Instant::now();
    while !running_with(&marker) && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(running_with(&marker), "the grandchild never started");
    cli.kill().unwrap();
    cli.wait().unwrap();
    let started = Instant::now();
    while running_with(&marker) && started.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let survived = running_with(&marker);
    kill_marker(&marker);
    assert!(!survived, "`sleep {marker}` outlived a killed runner");
}

#[test]
fn fork_loop_beyond_limits_procs() {
    let mut lab = Lab::new();
    with_shell(&mut lab);
    lab.policy(|p| p["limits"]["procs"] = 4.into());
    let marker = sleep_marker();
    let script = format!(
        "i=0; while [ $i -lt 40 ]; do /bin/sleep {marker} & i=$((i+1)); done; echo all-forked; wait"
    );
    let mut input = caps(1024, 1024, 0, 0);
    input.extend(req(&["/bin/sh", "-c", &script], &[], "", ""));
    let run = lab.run(run_capture_input(), &input);
    kill_marker(&marker);
    // The watchdog killed the tree: the shell did not get to wait for its 40 children.
    let doc = run.doc();
    assert!(
        doc.starts_with("OK exit=137") || doc.starts_with("ERR"),
        "{doc}"
    );
    assert!(run.elapsed < Duration::from_secs(15));
    assert_no_survivor(&marker);
}

#[test]
fn spawning_beyond_limits_procs_is_denied() {
    let mut lab = Lab::new();
    with_shell(&mut lab);
    lab.policy(|p| p["limits"]["procs"] = 1.into());
    let marker = sleep_marker();
    let mut input = caps(1024, 1024, 0, 0);
    input.extend(req(&["/bin/sleep", &marker], &[], "", ""));
    // Two spawns: the second would make two live processes.
    let solve = json!([
        "begin",
        [
            "let",
            "a",
            [
                "os.process.spawn_capture_v1",
                req_from_input(),
                caps_from_input()
            ]
        ],
        [
            "let",
            "b",
            [
                "os.process.run_capture_v1",
                req_from_input(),
                caps_from_input()
            ]
        ],
        "b"
    ]);
    let run = lab.run(solve, &input);
    assert_eq!(run.doc(), "ERR 1");
    assert_no_survivor(&marker);
}

#[test]
fn limits_procs_zero_allows_no_process() {
    let mut lab = Lab::new();
    with_shell(&mut lab);
    lab.policy(|p| p["limits"]["procs"] = 0.into());
    let run = lab.run(
        run_capture_input(),
        &proc_input(&["/bin/sh", "-c", "echo hi"], &[], ""),
    );
    assert_eq!(run.doc(), "ERR 1");
}

#[test]
fn cpu_burned_in_children_counts_against_cpu_ms() {
    let mut lab = Lab::new();
    with_shell(&mut lab);
    lab.policy(|p| {
        p["limits"]["cpu_ms"] = 1000.into();
        p["limits"]["wall_ms"] = 30000.into();
        p["process"]["max_runtime_ms"] = 30000.into();
    });
    let marker = sleep_marker();
    // Four burners: 4 s of CPU in 1 s of wall time on 4 cores; the tree must be
    // stopped after about 1 s of CPU in total, long before the wall limit.
    let script = format!("for i in 1 2 3 4; do sh -c 'while :; do :; done' {marker} & done; wait");
    let mut input = caps(1024, 1024, 0, 0);
    input.extend(req(&["/bin/sh", "-c", &script], &[], "", ""));
    let run = lab.run(run_capture_input(), &input);
    kill_marker(&marker);
    run.assert_trap("terminated by signal 9");
    assert!(
        run.elapsed < Duration::from_secs(20),
        "took {:?}",
        run.elapsed
    );
    assert_no_survivor(&marker);
}

#[test]
fn children_die_with_a_child_that_times_out() {
    let mut lab = Lab::new();
    with_shell(&mut lab);
    let marker = sleep_marker();
    let mut input = caps(1024, 1024, 300, 0);
    input.extend(req(
        &["/bin/sh", "-c", &format!("/bin/sleep {marker}")],
        &[],
        "",
        "",
    ));
    let run = lab.run(run_capture_input(), &input);
    assert_eq!(run.doc(), "ERR 4");
    assert_no_survivor(&marker);
}

/// A process whose main thread ends with the `exit` system call (not `exit_group`) while
/// another thread runs on: its `stat` says `Z`, yet it is alive, and it must die with
/// the run like any other process.
#[test]
fn process_whose_main_thread_left_after_a_normal_end() {
    let python = std::path::Path::new("/usr/bin/python3");
    if !python.exists() {
        eprintln!("skipped: no /usr/bin/python3 to start a threaded process with");
        return;
    }
    let mut lab = Lab::new();
    with_shell(&mut lab);
    let marker = sleep_marker();
    let code = "import sys,threading,ctypes,time\n\
                threading.Thread(target=lambda: time.sleep(float(sys.argv[1]))).start()\n\
                time.sleep(0.1)\n\
                ctypes.CDLL(None).syscall(60, 0)";
    let script = format!(
        "setsid /usr/bin/python3 -c '{code}' {marker} > /dev/null 2>&1 < /dev/null & \
         /bin/sleep 0.6; echo started"
    );
    let mut input = caps(1024, 1024, 0, 0);
    input.extend(req(&["/bin/sh", "-c", &script], &[], "", ""));
    let run = lab.run(run_capture_input(), &input);
    let survived = survives(&marker);
    kill_marker(&marker);
    assert!(
        !survived,
        "a process whose main thread left outlived the run"
    );
    assert!(run.doc().contains("started"), "{}", run.doc());
}

/// The same process counts against `limits.procs`.
#[test]
fn process_whose_main_thread_left_counts_against_limits_procs() {
    let python = std::path::Path::new("/usr/bin/python3");
    if !python.exists() {
        eprintln!("skipped: no /usr/bin/python3 to start a threaded process with");
        return;
    }
    let mut lab = Lab::new();
    with_shell(&mut lab);
    lab.policy(|p| p["limits"]["procs"] = 3.into());
    let marker = sleep_marker();
    let code = "import sys,threading,ctypes,time\n\
                threading.Thread(target=lambda: time.sleep(float(sys.argv[1]))).start()\n\
                time.sleep(0.1)\n\
                ctypes.CDLL(None).syscall(60, 0)";
    // Six such processes, one after the other (each has left its main thread before
    // the next starts, so at most three processes ever look alive by their state
    // letter): more than `procs` live at once.
    let script = format!(
        "for i in 1 2 3 4 5 6; do setsid /usr/bin/python3 -c '{code}' {marker} \
         > /dev/null 2>&1 < /dev/null & /bin/sleep 0.4; done; echo survived"
    );
    let mut input = caps(1024, 1024, 0, 0);
    input.extend(req(&["/bin/sh", "-c", &script], &[], "", ""));
    let run = lab.run(run_capture_input(), &input);
    kill_marker(&marker);
    let doc = run.doc();
    assert!(!doc.contains("survived"), "{doc}");
    assert_no_survivor(&marker);
}

/// A detached grandchild that keeps the child's stdout open: the request's timeout
/// covers reading the streams to the end (error 4 when it passes, not a run held until
/// the wall-clock limit), and the grandchild dies with the run.
#[test]
fn detached_grandchild_holding_the_pipes() {
    let mut lab = Lab::new();
    with_shell(&mut lab);
    let marker = sleep_marker();
    // The shell waits until the grandchild has left its process group (the group is
    // killed when the shell exits), then ends at once with the pipes still held.
    let script = format!("setsid /bin/sleep {marker} & /bin/sleep 0.3; echo started");
    let mut input = caps(1024, 1024, 1000, 0);
    input.extend(req(&["/bin/sh", "-c", &script], &[], "", ""));
    let run = lab.run(run_capture_input(), &input);
    let survived = survives(&marker);
    kill_marker(&marker);
    assert!(!survived, "`sleep {marker}` outlived the run");
    assert_eq!(run.doc(), "ERR 4");
    assert!(
        run.elapsed < Duration::from_secs(10),
        "took {:?}",
        run.elapsed
    );
}

/// A child that kills the solver itself (SIGKILL, SIGTERM) after leaving a detached
/// grandchild behind: the grandchild dies too, and the report says how the solver
/// ended, as for the real compiled program.
#[test]
fn child_that_kills_the_solver() {
    for (signal, trap) in [
        ("KILL", "terminated by signal 9"),
        ("TERM", "terminated by signal 15"),
    ] {
        let mut lab = Lab::new();
        with_shell(&mut lab);
        let marker = sleep_marker();
        let script = format!(
            "setsid /bin/sleep {marker} > /dev/null 2>&1 < /dev/null & /bin/sleep 0.3; \
             kill -{signal} $PPID; /bin/sleep 5"
        );
        let mut input = caps(1024, 1024, 0, 0);
        input.extend(req(&["/bin/sh", "-c", &script], &[], "", ""));
        let run = lab.run(run_capture_input(), &input);
        let survived = survives(&marker);
        kill_marker(&marker);
        assert!(
            !survived,
            "`sleep {marker}` outlived a solver killed by SIG{signal}"
        );
        run.assert_trap(trap);
    }
}
