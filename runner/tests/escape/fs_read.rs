//! Reading outside the read roots: symlinks (to files, directories, chains, magic
//! links, special files), hidden files, hard links, `..`, special files, caps, races.

use std::time::Duration;

use serde_json::json;

use crate::support::*;

#[test]
fn symlink_to_a_file_outside() {
    let mut lab = Lab::new();
    let canary = lab.canary("secret.txt");
    lab.symlink("leak.txt", &canary);
    lab.run(read_input(), b"leak.txt")
        .assert_trap("os.fs.read_file symlink denied path=./leak.txt");
}

#[test]
fn relative_symlink_climbing_out_of_the_root() {
    let mut lab = Lab::new();
    lab.canary("secret.txt");
    lab.symlink("sub/up", "../../outside/secret.txt");
    lab.run(read_input(), b"sub/up")
        .assert_trap("os.fs.read_file symlink denied");
}

#[test]
fn symlink_to_a_directory_outside() {
    let mut lab = Lab::new();
    lab.canary("dir/secret.txt");
    lab.symlink("door", lab.outside.join("dir"));
    lab.run(read_input(), b"door/secret.txt")
        .assert_trap("os.fs.read_file symlink denied");
}

#[test]
fn symlink_chain_through_the_root() {
    let mut lab = Lab::new();
    let canary = lab.canary("secret.txt");
    lab.symlink("a", "b");
    lab.symlink("b", "sub/c");
    lab.symlink("sub/c", &canary);
    lab.run(read_input(), b"a")
        .assert_trap("os.fs.read_file symlink denied");
}

#[test]
fn chain_through_proc_self_root() {
    let mut lab = Lab::new();
    let canary = lab.canary("secret.txt");
    lab.symlink("magic", format!("/proc/self/root{}", canary.display()));
    lab.run(read_input(), b"magic")
        .assert_trap("os.fs.read_file symlink denied");
}

#[test]
fn symlink_to_proc_self_environ_with_env_disabled() {
    let mut lab = Lab::new();
    lab.secret_env("ESCAPE_SECRET_TOKEN");
    lab.symlink("env.txt", "/proc/self/environ");
    lab.run(read_input(), b"env.txt")
        .assert_trap("os.fs.read_file symlink denied");
}

#[test]
fn symlink_to_dev_zero_is_not_read_until_memory_runs_out() {
    let lab = Lab::new();
    lab.symlink("zero", "/dev/zero");
    let run = lab.run(read_input(), b"zero");
    run.assert_trap("os.fs.read_file symlink denied");
    assert!(run.elapsed < Duration::from_secs(5));
}

#[test]
fn visible_symlink_to_a_hidden_file() {
    let lab = Lab::new();
    lab.symlink("visible.txt", ".hidden.txt");
    lab.run(read_input(), b"visible.txt")
        .assert_trap("os.fs.read_file symlink denied");
}

#[test]
fn allowed_symlinks_still_stop_at_the_roots() {
    let mut lab = Lab::new();
    let canary = lab.canary("secret.txt");
    lab.symlink("leak.txt", &canary);
    lab.symlink("sub/up", "../../outside/secret.txt");
    lab.symlink("magic", format!("/proc/self/root{}", canary.display()));
    lab.policy(|p| p["fs"]["allow_symlinks"] = true.into());
    for path in ["leak.txt", "sub/up", "magic"] {
        lab.run(read_input(), path.as_bytes())
            .assert_trap("os.fs.read_file symlink denied");
    }
}

#[test]
fn allowed_symlinks_do_not_unhide_hidden_files() {
    let lab = Lab::new();
    lab.symlink("visible.txt", ".hidden.txt");
    let mut lab = lab;
    lab.policy(|p| p["fs"]["allow_symlinks"] = true.into());
    lab.run(read_input(), b"visible.txt")
        .assert_trap("os.fs.read_file hidden path denied");
}

#[test]
fn allowed_symlinks_inside_the_root_work() {
    let mut lab = Lab::new();
    lab.symlink("alias.txt", "sub/nested.txt");
    lab.policy(|p| p["fs"]["allow_symlinks"] = true.into());
    lab.run(read_input(), b"alias.txt").assert_output(b"NESTED");
}

#[test]
fn symlinked_component_in_the_middle_of_the_path() {
    let mut lab = Lab::new();
    lab.canary("dir/sub/secret.txt");
    lab.symlink("sub/deep", lab.outside.join("dir"));
    lab.run(read_input(), b"sub/deep/sub/secret.txt")
        .assert_trap("os.fs.read_file symlink denied");
}

#[test]
fn hard_link_to_a_file_outside() {
    let mut lab = Lab::new();
    let canary = lab.canary("secret.txt");
    lab.hard_link("linked.txt", &canary);
    lab.run(read_input(), b"linked.txt")
        .assert_trap("os.fs.read_file hard link denied path=./linked.txt");
}

#[test]
fn absolute_path_to_the_canary() {
    let mut lab = Lab::new();
    let canary = lab.canary("secret.txt");
    lab.run(read_input(), canary.display().to_string().as_bytes())
        .assert_trap("os.fs.read_file unsafe path");
}

#[test]
fn dotdot_and_dot_segments() {
    let mut lab = Lab::new();
    lab.canary("secret.txt");
    for path in [
        "../outside/secret.txt",
        "sub/../../outside/secret.txt",
        "./data.txt",
        "sub//nested.txt",
        "sub\\..\\x",
    ] {
        lab.run(read_input(), path.as_bytes())
            .assert_trap("os.fs.read_file unsafe path");
    }
}

#[test]
fn root_prefix_stripping_does_not_open_a_way_out() {
    let mut lab = Lab::new();
    lab.canary("secret.txt");
    lab.policy(|p| p["fs"]["read_roots"] = json!(["sub"]));
    lab.run(read_input(), b"sub/../../outside/secret.txt")
        .assert_trap("os.fs.read_file unsafe path");
    lab.run(read_input(), b"nested.txt")
        .assert_output(b"NESTED");
}

#[test]
fn a_read_root_that_is_a_symlink_grants_nothing() {
    let mut lab = Lab::new();
    lab.canary("secret.txt");
    lab.symlink("data", &lab.outside);
    lab.policy(|p| p["fs"]["read_roots"] = json!(["data"]));
    lab.run(read_input(), b"secret.txt")
        .assert_trap("os.fs.read_file open failed path=data/secret.txt");
}

#[test]
fn fifo_in_the_root_does_not_hang_the_run() {
    let lab = Lab::new();
    lab.fifo("pipe");
    let run = lab.run(read_input(), b"pipe");
    run.assert_trap("os.fs.read_file not a regular file path=./pipe");
    assert!(run.elapsed < Duration::from_secs(5));
}

#[test]
fn proc_files_under_a_slash_root_are_not_regular_files() {
    let mut lab = Lab::new();
    lab.secret_env("ESCAPE_SECRET_TOKEN");
    lab.policy(|p| p["fs"]["read_roots"] = json!(["/"]));
    // /proc/self is a symlink; a numeric pid reaches procfs directly.
    lab.run(read_input(), b"proc/self/environ")
        .assert_trap("os.fs.read_file symlink denied");
    lab.run(read_input(), b"proc/1/environ")
        .assert_trap("os.fs.read_file not a regular file");
    lab.run(read_input(), b"dev/zero")
        .assert_trap("os.fs.read_file not a regular file");
}

#[test]
fn a_file_over_max_read_bytes_is_not_read() {
    let mut lab = Lab::new();
    let secret = unique("CANARY-BIG");
    let path = lab.file("big.txt", format!("{secret}{}", "x".repeat(100)).as_bytes());
    lab.guard_file(&path, &secret);
    lab.policy(|p| p["fs"]["max_read_bytes"] = 64.into());
    lab.run(read_input(), b"big.txt")
        .assert_trap("os.fs.read_file file too large (max_read_bytes=64)");
    lab.run(read_input(), b"data.txt").assert_output(b"DATA");
}

#[test]
fn swapping_a_file_for_a_symlink_while_reading_never_leaks() {
    let mut lab = Lab::new();
    let canary = lab.canary("secret.txt");
    let target = lab.project.join("swap.txt");
    std::fs::write(&target, "SAFE").unwrap();
    let staging = lab.project.join("sub/staging");
    let swapper = Repeating::start(move || {
        let _ = std::fs::remove_file(&staging);
        let _ = std::os::unix::fs::symlink(&canary, &staging);
        let _ = std::fs::rename(&staging, &target);
        let _ = std::fs::write(&staging, "SAFE");
        let _ = std::fs::rename(&staging, &target);
    });
    // Read the path 300 times; every read gives SAFE or is refused, never the canary.
    let program = json!([
        "begin",
        ["let", "o", ["vec_u8.with_capacity", 0]],
        [
            "for",
            "i",
            0,
            300,
            [
                "set",
                "o",
                ["vec_u8.extend_bytes", "o", ["os.fs.read_file", input()]]
            ]
        ],
        ["vec_u8.into_bytes", "o"]
    ]);
    for _ in 0..5 {
        let run = lab.run(program.clone(), b"swap.txt");
        if let Some(trap) = run.trap() {
            assert!(
                trap.starts_with("os.fs.read_file symlink denied")
                    || trap.starts_with("os.fs.read_file open failed"),
                "{trap}"
            );
        }
    }
    drop(swapper);
}

#[test]
fn the_checks_alone_hold_without_landlock_and_openat2() {
    let mut lab = Lab::new();
    let canary = lab.canary("secret.txt");
    lab.symlink("leak.txt", &canary);
    lab.symlink("door", &lab.outside);
    lab.hard_link("linked.txt", &canary);
    let env = [("X07_LITE_LANDLOCK", "off"), ("X07_LITE_OPENAT2", "off")];
    for (path, trap) in [
        ("leak.txt", "os.fs.read_file symlink denied"),
        ("door/secret.txt", "os.fs.read_file symlink denied"),
        ("linked.txt", "os.fs.read_file hard link denied"),
    ] {
        lab.run_with(read_input(), path.as_bytes(), &[], &env)
            .assert_trap(trap);
    }
    lab.run_with(read_input(), b"sub/nested.txt", &[], &env)
        .assert_output(b"NESTED");
}
