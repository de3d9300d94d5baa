//! Writing outside the write roots: symlinks to existing and new files, symlinked
//! directories, hard links (truncation), FIFOs, caps, and the path rules.

use std::time::Duration;

use serde_json::json;

use crate::support::*;

#[test]
fn symlink_in_the_write_root_to_an_existing_file_outside() {
    let mut lab = Lab::new();
    let canary = lab.canary("secret.txt");
    lab.symlink("out/link.txt", &canary);
    lab.run(write_input(lit("PWNED")), b"out/link.txt")
        .assert_trap("os.fs.write_file symlink denied path=out/link.txt");
}

#[test]
fn symlink_in_the_write_root_to_a_new_file_outside() {
    let lab = Lab::new();
    lab.symlink("out/new.txt", lab.outside.join("created.txt"));
    lab.run(write_input(lit("PWNED")), b"out/new.txt")
        .assert_trap("os.fs.write_file symlink denied");
    assert!(!lab.outside.join("created.txt").exists());
}

#[test]
fn rerooted_bare_name_through_a_symlink() {
    let mut lab = Lab::new();
    let canary = lab.canary("secret.txt");
    lab.symlink("out/w.txt", &canary);
    // `w.txt` is re-rooted into `out/w.txt`, the symlink.
    lab.run(write_input(lit("PWNED")), b"w.txt")
        .assert_trap("os.fs.write_file symlink denied path=out/w.txt");
}

#[test]
fn symlinked_directory_inside_the_write_root() {
    let lab = Lab::new();
    lab.symlink("out/door", &lab.outside);
    lab.run(write_input(lit("PWNED")), b"out/door/created.txt")
        .assert_trap("os.fs.write_file symlink denied");
    assert!(!lab.outside.join("created.txt").exists());
}

#[test]
fn write_root_that_is_a_symlink_grants_nothing() {
    let mut lab = Lab::new();
    lab.symlink("spill", &lab.outside);
    lab.policy(|p| p["fs"]["write_roots"] = json!(["spill"]));
    // The root cannot be opened: ENOENT, as for a missing root directory.
    lab.run(write_input(lit("PWNED")), b"spill/created.txt")
        .assert_output(b"2");
    assert!(!lab.outside.join("created.txt").exists());
}

#[test]
fn planted_hard_link_is_not_truncated() {
    let mut lab = Lab::new();
    let canary = lab.canary("secret.txt");
    lab.hard_link("out/hard.txt", &canary);
    lab.run(write_input(lit("PWNED")), b"out/hard.txt")
        .assert_trap("os.fs.write_file hard link denied path=out/hard.txt");
}

#[test]
fn fifo_in_the_write_root_does_not_hang() {
    let lab = Lab::new();
    lab.fifo("out/pipe");
    let run = lab.run(write_input(lit("PWNED")), b"out/pipe");
    run.assert_trap("os.fs.write_file not a regular file path=out/pipe");
    assert!(run.elapsed < Duration::from_secs(5));
}

#[test]
fn write_over_max_write_bytes_touches_nothing() {
    let mut lab = Lab::new();
    lab.policy(|p| p["fs"]["max_write_bytes"] = 16.into());
    lab.run(write_input(zeros(17)), b"out/big.bin")
        .assert_trap("os.fs.write_file file too large (max_write_bytes=16)");
    assert!(!lab.project.join("out/big.bin").exists());
    lab.run(write_input(zeros(16)), b"out/ok.bin")
        .assert_output(b"0");
}

#[test]
fn allowed_symlinks_do_not_write_outside() {
    let mut lab = Lab::new();
    let canary = lab.canary("secret.txt");
    lab.symlink("out/link.txt", &canary);
    lab.symlink("out/into-read-root.txt", lab.project.join("data.txt"));
    lab.policy(|p| p["fs"]["allow_symlinks"] = true.into());
    lab.run(write_input(lit("PWNED")), b"out/link.txt")
        .assert_trap("os.fs.write_file symlink denied");
    // A read root is not a write root either.
    lab.run(write_input(lit("PWNED")), b"out/into-read-root.txt")
        .assert_trap("os.fs.write_file symlink denied");
    assert_eq!(
        std::fs::read(lab.project.join("data.txt")).unwrap(),
        b"DATA"
    );
}

#[test]
fn absolute_dotdot_and_hidden_write_paths() {
    let mut lab = Lab::new();
    let canary = lab.canary("secret.txt");
    let absolute = canary.display().to_string();
    for (path, trap) in [
        (absolute.as_str(), "os.fs.write_file unsafe path"),
        ("../outside/secret.txt", "os.fs.write_file unsafe path"),
        (
            "out/../../outside/secret.txt",
            "os.fs.write_file unsafe path",
        ),
        ("out/.sneaky", "os.fs.write_file hidden path denied"),
    ] {
        lab.run(write_input(lit("PWNED")), path.as_bytes())
            .assert_trap(trap);
    }
}

#[test]
fn writes_outside_the_write_roots_are_rerooted_not_escaped() {
    let lab = Lab::new();
    // `sub/w.txt` lies outside the write roots: x07 re-roots it to `out/sub/w.txt`,
    // which does not exist (ENOENT), and writes nothing.
    lab.run(write_input(lit("PWNED")), b"sub/w.txt")
        .assert_output(b"2");
    assert!(!lab.project.join("sub/w.txt").exists());
    lab.run(write_input(lit("OK")), b"out/w.txt")
        .assert_output(b"0");
    assert_eq!(std::fs::read(lab.project.join("out/w.txt")).unwrap(), b"OK");
}

#[test]
fn swapping_the_target_for_a_symlink_while_writing() {
    let mut lab = Lab::new();
    let canary = lab.canary("secret.txt");
    let target = lab.project.join("out/w.txt");
    let staging = lab.project.join("out/staging");
    // Hard links are not swapped in by this outside thread: a planted one is refused
    // (`planted_hard_link_is_not_truncated`), and one that a process outside the sandbox
    // moves in and out in a loop can win a window of the kernel's (see the README's "What
    // it cannot enforce").
    let swapper = Repeating::start(move || {
        let _ = std::fs::remove_file(&staging);
        let _ = std::os::unix::fs::symlink(&canary, &staging);
        let _ = std::fs::rename(&staging, &target);
    });
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
                ["vec_u8.extend_bytes", "o", write_input(lit("PWNED"))]
            ]
        ],
        ["vec_u8.into_bytes", "o"]
    ]);
    for _ in 0..5 {
        let run = lab.run(program.clone(), b"out/w.txt");
        if let Some(trap) = run.trap() {
            assert!(
                trap.starts_with("os.fs.write_file symlink denied")
                    || trap.starts_with("os.fs.write_file hard link denied"),
                "{trap}"
            );
        }
    }
    drop(swapper);
}
