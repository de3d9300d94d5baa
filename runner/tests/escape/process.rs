//! The process gate: executables (prefix tricks, `..`, symlinks, relative paths and
//! cwd), arguments (`allow_args_regex_lite`, `max_args`), working directories, exit,
//! and what child processes can reach (Landlock follows them).

use serde_json::json;

use crate::support::*;

const DENIED: &str = "ERR 1";

/// The policy with processes on, `/bin/sh` and `/bin/echo` allowed.
fn with_processes(lab: &mut Lab) {
    lab.policy(|p| allow_processes(p, &["/bin/echo", "/bin/sh"]));
}

#[test]
fn executable_not_allowed_never_starts() {
    let mut lab = Lab::new();
    with_processes(&mut lab);
    let marker = lab.project.join("out/touched");
    let run = lab.run(
        run_capture_input(),
        &proc_input(&["/usr/bin/touch", &marker.display().to_string()], &[], ""),
    );
    assert_eq!(run.doc(), DENIED);
    assert!(!marker.exists());
}

#[test]
fn dotdot_after_an_allowed_prefix() {
    let mut lab = Lab::new();
    lab.file("tools/ok", b"#!/bin/sh\necho ok\n");
    lab.policy(|p| {
        allow_processes(p, &[]);
        p["process"]["allow_exec_prefixes"] = json!(["tools/"]);
    });
    for exe in [
        "tools/../../../../bin/sh",
        "tools/../tools/../../bin/sh",
        "/bin/../bin/sh",
    ] {
        let run = lab.run(
            run_capture_input(),
            &proc_input(&[exe, "-c", "echo escaped"], &[], ""),
        );
        assert_eq!(run.doc(), DENIED, "{exe}");
    }
}

#[test]
fn prefix_without_slash_does_not_allow_a_sibling_directory() {
    let mut lab = Lab::new();
    let tools = lab.top.join("tools");
    let evil = lab.top.join("tools-evil");
    std::fs::create_dir_all(&tools).unwrap();
    std::fs::create_dir_all(&evil).unwrap();
    std::os::unix::fs::symlink("/bin/sh", evil.join("sh")).unwrap();
    let prefix = tools.display().to_string();
    lab.policy(|p| {
        allow_processes(p, &[]);
        p["process"]["allow_exec_prefixes"] = json!([prefix]);
    });
    let exe = evil.join("sh").display().to_string();
    let run = lab.run(
        run_capture_input(),
        &proc_input(&[&exe, "-c", "echo escaped"], &[], ""),
    );
    assert_eq!(run.doc(), DENIED);
}

#[test]
fn symlink_inside_an_allowed_prefix_leading_out() {
    let mut lab = Lab::new();
    lab.symlink("tools/sh", "/bin/sh");
    lab.policy(|p| {
        allow_processes(p, &[]);
        p["process"]["allow_exec_prefixes"] = json!(["tools"]);
    });
    let run = lab.run(
        run_capture_input(),
        &proc_input(&["tools/sh", "-c", "echo escaped"], &[], ""),
    );
    assert_eq!(run.doc(), DENIED);
}

#[test]
fn relative_executable_is_not_resolved_in_the_request_cwd() {
    let mut lab = Lab::new();
    // `out/tools/x` would be what a chdir-then-exec runs; only `tools/x` is allowed.
    std::fs::create_dir_all(lab.project.join("tools")).unwrap();
    std::fs::create_dir_all(lab.project.join("out/tools")).unwrap();
    std::os::unix::fs::symlink("/bin/echo", lab.project.join("out/tools/x")).unwrap();
    lab.policy(|p| {
        allow_processes(p, &[]);
        p["process"]["allow_exec_prefixes"] = json!(["tools"]);
        p["process"]["allow_cwd"] = true.into();
        p["process"]["allow_cwd_roots"] = json!(["out"]);
    });
    let run = lab.run(
        run_capture_input(),
        &proc_input(&["tools/x", "escaped"], &[], "out"),
    );
    // `tools/x` (in the run's directory) does not exist: spawn failed, nothing ran.
    assert_eq!(run.doc(), "ERR 3");
}

#[test]
fn arguments_must_match_the_regex_lite_patterns() {
    let mut lab = Lab::new();
    lab.policy(|p| {
        allow_processes(p, &["/bin/echo", "/bin/sh"]);
        p["process"]["allow_args_regex_lite"] = json!(["[a-z]+", "-n"]);
    });
    let run = lab.run(
        run_capture_input(),
        &proc_input(&["/bin/echo", "-n", "hello"], &[], ""),
    );
    assert_eq!(run.doc(), "OK exit=0 out=\"hello\" err=\"\"");
    for argv in [
        vec!["/bin/sh", "-c", "echo escaped"],
        vec!["/bin/echo", "hello;id"],
        vec!["/bin/echo", "hello", "WORLD"],
        vec!["/bin/echo", "hello\nworld"],
    ] {
        let run = lab.run(run_capture_input(), &proc_input(&argv, &[], ""));
        assert_eq!(run.doc(), DENIED, "{argv:?}");
    }
}

#[test]
fn an_invalid_pattern_denies_every_request() {
    let mut lab = Lab::new();
    lab.policy(|p| {
        allow_processes(p, &["/bin/echo"]);
        p["process"]["allow_args_regex_lite"] = json!(["(unclosed", ".*"]);
    });
    let run = lab.run(
        run_capture_input(),
        &proc_input(&["/bin/echo", "x"], &[], ""),
    );
    assert_eq!(run.doc(), DENIED);
}

#[test]
fn max_args_counts_argv0() {
    let mut lab = Lab::new();
    lab.policy(|p| {
        allow_processes(p, &["/bin/echo"]);
        p["process"]["max_args"] = 2.into();
    });
    let run = lab.run(
        run_capture_input(),
        &proc_input(&["/bin/echo", "a", "b"], &[], ""),
    );
    assert_eq!(run.doc(), DENIED);
    let run = lab.run(
        run_capture_input(),
        &proc_input(&["/bin/echo", "a"], &[], ""),
    );
    assert_eq!(run.doc(), "OK exit=0 out=\"a\\n\" err=\"\"");
}

fn with_cwd_roots(lab: &mut Lab) {
    lab.policy(|p| {
        allow_processes(p, &["/bin/sh"]);
        p["process"]["allow_cwd"] = true.into();
        p["process"]["allow_cwd_roots"] = json!(["out"]);
    });
}

#[test]
fn cwd_with_dotdot_after_normalisation() {
    let mut lab = Lab::new();
    with_cwd_roots(&mut lab);
    for cwd in ["out/../..", "out/../../outside", "out/./../sub"] {
        let run = lab.run(
            run_capture_input(),
            &proc_input(&["/bin/sh", "-c", "pwd"], &[], cwd),
        );
        assert_eq!(run.doc(), DENIED, "{cwd}");
    }
}

#[test]
fn cwd_string_prefix_trick() {
    let mut lab = Lab::new();
    std::fs::create_dir_all(lab.project.join("out-evil")).unwrap();
    with_cwd_roots(&mut lab);
    let run = lab.run(
        run_capture_input(),
        &proc_input(&["/bin/sh", "-c", "pwd"], &[], "out-evil"),
    );
    assert_eq!(run.doc(), DENIED);
}

#[test]
fn cwd_through_a_symlink_out_of_the_root() {
    let mut lab = Lab::new();
    lab.symlink("out/door", &lab.outside);
    with_cwd_roots(&mut lab);
    let run = lab.run(
        run_capture_input(),
        &proc_input(&["/bin/sh", "-c", "pwd"], &[], "out/door"),
    );
    assert_eq!(run.doc(), DENIED);
    let run = lab.run(
        run_capture_input(),
        &proc_input(&["/bin/sh", "-c", "pwd"], &[], "out"),
    );
    assert_eq!(
        run.doc(),
        format!(
            "OK exit=0 out={:?} err=\"\"",
            format!("{}\n", lab.project.join("out").display())
        )
    );
}

#[test]
fn exit_is_gated_by_the_process_master_switch() {
    let mut lab = Lab::new();
    lab.policy(|p| {
        p["process"]["enabled"] = false.into();
        p["process"]["allow_exit"] = true.into();
    });
    lab.run(json!(["os.process.exit", 0]), b"")
        .assert_trap("os.process.exit disabled by policy");
}

#[test]
fn spawning_disabled_never_starts() {
    let mut lab = Lab::new();
    let marker = lab.project.join("out/touched");
    lab.policy(|p| {
        allow_processes(p, &["/usr/bin/touch"]);
        p["process"]["allow_spawn"] = false.into();
    });
    let input = proc_input(&["/usr/bin/touch", &marker.display().to_string()], &[], "");
    assert_eq!(lab.run(run_capture_input(), &input).doc(), DENIED);
    assert_eq!(
        lab.run(
            dec(json!([
                "os.process.spawn_capture_v1",
                req_from_input(),
                caps_from_input()
            ])),
            &input
        )
        .text(),
        "65537"
    );
    assert!(!marker.exists());
}

#[test]
fn a_child_cannot_read_outside_the_roots() {
    let mut lab = Lab::new();
    let canary = lab.canary("secret.txt");
    with_processes(&mut lab);
    lab.policy(|p| p["process"]["allow_execs"] = json!(["/bin/cat", "/bin/sh"]));
    let path = canary.display().to_string();
    let run = lab.run(
        run_capture_input(),
        &proc_input(&["/bin/cat", &path], &[], ""),
    );
    if run.landlock_missing() {
        eprintln!("skipped: Landlock is not available");
        return;
    }
    assert!(run.doc().starts_with("OK exit=1"), "{}", run.doc());
    let run = lab.run(
        run_capture_input(),
        &proc_input(
            &["/bin/sh", "-c", "cat /etc/hostname; cat /proc/1/environ"],
            &[],
            "",
        ),
    );
    assert!(!run.doc().starts_with("OK exit=0"), "{}", run.doc());
}

#[test]
fn a_child_cannot_write_outside_the_write_roots() {
    let mut lab = Lab::new();
    let canary = lab.canary("secret.txt");
    with_processes(&mut lab);
    let script = format!(
        "echo PWNED > {c}; echo PWNED > {o}/new.txt; echo PWNED > data.txt; ln -s {c} out/l; echo ok > out/fine.txt",
        c = canary.display(),
        o = lab.outside.display()
    );
    let run = lab.run(
        run_capture_input(),
        &proc_input(&["/bin/sh", "-c", &script], &[], ""),
    );
    if run.landlock_missing() {
        eprintln!("skipped: Landlock is not available");
        return;
    }
    assert_eq!(
        std::fs::read(lab.project.join("data.txt")).unwrap(),
        b"DATA"
    );
    assert!(!lab.project.join("out/l").exists());
    assert_eq!(
        std::fs::read(lab.project.join("out/fine.txt")).unwrap(),
        b"ok\n"
    );
}

#[test]
fn a_child_cannot_execute_what_the_program_wrote() {
    let mut lab = Lab::new();
    with_processes(&mut lab);
    let script = "printf '#!/bin/sh\\necho ran\\n' > out/x.sh; chmod +x out/x.sh; ./out/x.sh";
    let run = lab.run(
        run_capture_input(),
        &proc_input(&["/bin/sh", "-c", script], &[], ""),
    );
    if run.landlock_missing() {
        eprintln!("skipped: Landlock is not available");
        return;
    }
    assert!(!run.doc().contains("ran"), "{}", run.doc());
}

#[test]
fn a_child_cannot_signal_processes_outside_the_sandbox() {
    if kernel_version() < (6, 12) {
        eprintln!("skipped: Landlock signal scoping needs Linux 6.12");
        return;
    }
    let marker = sleep_marker();
    let mut victim = std::process::Command::new("/bin/sleep")
        .arg(&marker)
        .spawn()
        .unwrap();
    let mut lab = Lab::new();
    with_processes(&mut lab);
    let script = format!("kill -9 {}; echo sent", victim.id());
    let run = lab.run(
        run_capture_input(),
        &proc_input(&["/bin/sh", "-c", &script], &[], ""),
    );
    let alive = victim.try_wait().unwrap().is_none();
    let _ = victim.kill();
    let _ = victim.wait();
    if run.landlock_missing() {
        eprintln!("skipped: Landlock is not available");
        return;
    }
    assert!(
        alive,
        "the sandboxed child killed a process outside: {}",
        run.doc()
    );
}

#[test]
fn a_child_cannot_open_tcp_connections_with_net_disabled() {
    if !std::path::Path::new("/bin/bash").exists() {
        eprintln!("skipped: no /bin/bash for /dev/tcp");
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut lab = Lab::new();
    lab.policy(|p| allow_processes(p, &["/bin/bash"]));
    let script = format!("echo hi > /dev/tcp/127.0.0.1/{port}");
    let run = lab.run(
        run_capture_input(),
        &proc_input(&["/bin/bash", "-c", &script], &[], ""),
    );
    if run.landlock_missing() || kernel_version() < (6, 7) {
        eprintln!("skipped: Landlock TCP rules need Linux 6.7");
        return;
    }
    assert!(
        listener.accept().is_err(),
        "the child connected: {}",
        run.doc()
    );
}

#[test]
fn a_root_child_has_no_admin_capabilities() {
    if !rustix::process::getuid().is_root() {
        eprintln!("skipped: not running as root");
        return;
    }
    let mut lab = Lab::new();
    with_processes(&mut lab);
    // Harmless if they worked: chroot to `/`, raising the own priority.
    let script =
        "chroot / /bin/true; echo chroot=$?; renice -n -5 -p $$ >/dev/null 2>&1; echo renice=$?";
    let run = lab.run(
        run_capture_input(),
        &proc_input(&["/bin/sh", "-c", script], &[], ""),
    );
    let doc = run.doc();
    assert!(
        doc.contains("chroot=") && !doc.contains("chroot=0"),
        "{doc}"
    );
    assert!(
        doc.contains("renice=") && !doc.contains("renice=0"),
        "{doc}"
    );
}

#[test]
fn executable_paths_not_in_normal_form_are_refused() {
    let mut lab = Lab::new();
    with_processes(&mut lab);
    for exe in ["/bin/./sh", "//bin/sh", "/bin//sh", "/bin/sh/"] {
        let run = lab.run(
            run_capture_input(),
            &proc_input(&[exe, "-c", "echo escaped"], &[], ""),
        );
        assert_eq!(run.doc(), DENIED, "{exe}");
    }
}

/// Makes `rel` in the project an executable script with `content`.
fn script(lab: &Lab, rel: &str, content: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = lab.file(rel, content.as_bytes());
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The policy allows one script; its `#!` line names a shell the policy does not allow.
#[test]
fn allowed_script_whose_interpreter_is_not_allowed() {
    let mut lab = Lab::new();
    let marker = lab.project.join("out/ran");
    script(
        &lab,
        "tools/build.sh",
        &format!("#!/bin/sh\necho ran > '{}'\n", marker.display()),
    );
    lab.policy(|p| allow_processes(p, &["tools/build.sh"]));
    let run = lab.run(
        run_capture_input(),
        &proc_input(&["tools/build.sh"], &[], ""),
    );
    assert_eq!(run.doc(), DENIED);
    assert!(!marker.exists());
}

/// The interpreter line carries the attack itself: `cat` of a canary.
#[test]
fn allowed_script_whose_interpreter_reads_a_canary() {
    let mut lab = Lab::new();
    let canary = lab.canary("interp.txt");
    script(
        &lab,
        "tools/show",
        &format!("#!/bin/cat {}\n", canary.display()),
    );
    lab.policy(|p| allow_processes(p, &["tools/show", "/bin/echo"]));
    let run = lab.run(run_capture_input(), &proc_input(&["tools/show"], &[], ""));
    assert_eq!(run.doc(), DENIED);
}

/// A script under an allowed prefix whose interpreter is a second script (also under
/// the prefix) naming a shell that is not allowed: every level is checked.
#[test]
fn chained_interpreters_are_checked_at_every_level() {
    let mut lab = Lab::new();
    let tools = lab.project.join("tools");
    script(&lab, "tools/inner", "#!/bin/sh\necho inner\n");
    script(
        &lab,
        "tools/outer",
        &format!("#!{}\necho outer\n", tools.join("inner").display()),
    );
    lab.policy(|p| {
        allow_processes(p, &[]);
        p["process"]["allow_exec_prefixes"] = json!(["tools"]);
    });
    let run = lab.run(run_capture_input(), &proc_input(&["tools/outer"], &[], ""));
    assert_eq!(run.doc(), DENIED);
}

/// A relative interpreter would be found from the child's working directory: refused.
#[test]
fn script_with_a_relative_interpreter() {
    let mut lab = Lab::new();
    script(&lab, "tools/rel", "#!out/sh\necho rel\n");
    lab.policy(|p| allow_processes(p, &["tools/rel", "out/sh"]));
    let run = lab.run(run_capture_input(), &proc_input(&["tools/rel"], &[], ""));
    assert_eq!(run.doc(), DENIED);
}

/// The ordinary case still works: a script whose interpreter the policy allows too.
#[test]
fn allowed_script_with_an_allowed_interpreter_runs() {
    let mut lab = Lab::new();
    script(
        &lab,
        "tools/hello",
        "#!/bin/sh\necho hello from the script\n",
    );
    lab.policy(|p| allow_processes(p, &["tools/hello", "/bin/sh"]));
    let run = lab.run(run_capture_input(), &proc_input(&["tools/hello"], &[], ""));
    assert_eq!(
        run.doc(),
        "OK exit=0 out=\"hello from the script\\n\" err=\"\""
    );
}

/// Runs `/bin/sh -c script` under `edit` of the policy (which allows `/bin/sh`).
fn child_reading(lab: &mut Lab, edit: impl FnOnce(&mut serde_json::Value), script: &str) -> Run {
    lab.policy(|p| allow_processes(p, &["/bin/sh"]));
    lab.policy(edit);
    lab.run(
        run_capture_input(),
        &proc_input(&["/bin/sh", "-c", script], &[], ""),
    )
}

/// `allow_exec_prefixes: ["/"]` lets any program run; it does not let a child read
/// what the `fs` section does not grant.
#[test]
fn broad_exec_prefix_does_not_open_the_file_system_to_children() {
    let mut lab = Lab::new();
    let canary = lab.canary("prefix-root.txt");
    let run = child_reading(
        &mut lab,
        |p| p["process"]["allow_exec_prefixes"] = json!(["/"]),
        &format!("/bin/cat '{}'; echo done", canary.display()),
    );
    if run.landlock_missing() {
        eprintln!("skipped: Landlock is not available");
        return;
    }
    assert!(run.doc().contains("done"), "{}", run.doc());
}

/// An exec prefix that holds the canary's directory (the lab's top directory).
#[test]
fn exec_prefix_above_the_canary_does_not_open_it_to_children() {
    let mut lab = Lab::new();
    let canary = lab.canary("prefix-top.txt");
    let top = lab.top.display().to_string();
    let run = child_reading(
        &mut lab,
        |p| p["process"]["allow_exec_prefixes"] = json!([top]),
        &format!("/bin/cat '{}'; ls '{top}'; echo done", canary.display()),
    );
    if run.landlock_missing() {
        eprintln!("skipped: Landlock is not available");
        return;
    }
    assert!(run.doc().contains("done"), "{}", run.doc());
    // The listing of the top directory would name the policy file.
    assert!(!run.doc().contains("policy.json"), "{}", run.doc());
}

/// `allow_execs` entries that name directories (`/`, `..`) cannot be run, and grant
/// children nothing either.
#[test]
fn exec_entries_naming_directories_grant_children_nothing() {
    for entry in ["/", "..", "../outside"] {
        let mut lab = Lab::new();
        let canary = lab.canary("exec-dir.txt");
        let run = child_reading(
            &mut lab,
            |p| p["process"]["allow_execs"] = json!(["/bin/sh", entry]),
            &format!("/bin/cat '{}'; echo done", canary.display()),
        );
        if run.landlock_missing() {
            eprintln!("skipped: Landlock is not available");
            return;
        }
        assert!(run.doc().contains("done"), "{entry}: {}", run.doc());
    }
}

/// The ordinary case: a program below an exec prefix outside every root still runs,
/// and so does a script there whose interpreter is allowed.
#[test]
fn programs_below_an_exec_prefix_outside_the_roots_run() {
    use std::os::unix::fs::PermissionsExt;
    let mut lab = Lab::new();
    let tools = lab.top.join("tools");
    std::fs::create_dir_all(tools.join("bin")).unwrap();
    std::fs::copy("/bin/echo", tools.join("bin/echo")).unwrap();
    std::fs::write(tools.join("bin/hello"), "#!/bin/sh\necho hello\n").unwrap();
    std::fs::set_permissions(
        tools.join("bin/hello"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let prefix = tools.display().to_string();
    lab.policy(|p| {
        allow_processes(p, &["/bin/sh"]);
        p["process"]["allow_exec_prefixes"] = json!([prefix]);
    });
    let echo = tools.join("bin/echo").display().to_string();
    let run = lab.run(run_capture_input(), &proc_input(&[&echo, "hi"], &[], ""));
    assert_eq!(run.doc(), "OK exit=0 out=\"hi\\n\" err=\"\"");
    let hello = tools.join("bin/hello").display().to_string();
    let run = lab.run(run_capture_input(), &proc_input(&[&hello], &[], ""));
    assert_eq!(run.doc(), "OK exit=0 out=\"hello\\n\" err=\"\"");
}

/// Landlock does not cover metadata: a child must still not `touch` (times), `chmod`
/// or `chown` a canary outside the roots, nor set its extended attributes. The lab
/// checks the canary's mtime; the mode and owner are checked here.
#[test]
fn child_changing_a_canarys_metadata_by_path() {
    use std::os::unix::fs::MetadataExt;
    let mut lab = Lab::new();
    let canary = lab.canary("metadata.txt");
    let before = std::fs::metadata(&canary).unwrap();
    let path = canary.display().to_string();
    let script = format!(
        "touch -d 2001-01-01 '{path}'; touch -m '{path}'; chmod 000 '{path}'; \
         chown 1:1 '{path}'; setfattr -n user.x -v 1 '{path}' 2>/dev/null; \
         python3 -c 'import os,sys; os.utime(sys.argv[1], (1, 1))' '{path}' 2>/dev/null; \
         echo done"
    );
    let run = child_reading(&mut lab, |_| {}, &script);
    assert!(run.doc().contains("done"), "{}", run.doc());
    assert!(
        !run.stderr()
            .contains("seccomp filter could not be installed"),
        "{}",
        run.stderr()
    );
    let after = std::fs::metadata(&canary).unwrap();
    assert_eq!(after.mode(), before.mode());
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
}

/// The same inside the read root (not writable): `data.txt` keeps its times and mode.
#[test]
fn child_changing_metadata_inside_a_read_root() {
    use std::os::unix::fs::MetadataExt;
    let mut lab = Lab::new();
    let data = lab.project.join("data.txt");
    let before = std::fs::metadata(&data).unwrap();
    let run = child_reading(
        &mut lab,
        |_| {},
        "touch -d 2001-01-01 data.txt; chmod 777 data.txt; echo done",
    );
    assert!(run.doc().contains("done"), "{}", run.doc());
    let after = std::fs::metadata(&data).unwrap();
    assert_eq!(after.mode(), before.mode());
    assert_eq!(after.mtime(), before.mtime());
}

/// The ordinary case: a child creates and touches files in a write root (times set
/// through the opened file), and `cp -p` keeps times there.
#[test]
fn child_touching_files_in_a_write_root() {
    let mut lab = Lab::new();
    let run = child_reading(
        &mut lab,
        |_| {},
        "cd out && touch new && touch new && echo x > f && touch -d 2001-01-01 f && \
         cp -p f g && ls -l g | grep -c 2001",
    );
    assert_eq!(run.doc(), "OK exit=0 out=\"1\\n\" err=\"\"");
}

/// `net` disabled: a child sends nothing over UDP (Landlock restricts UDP only from
/// ABI 10; the seccomp filter refuses IPv4/IPv6 sockets), nor opens TCP. A listener of
/// the test would see any datagram.
#[test]
fn child_sending_udp_with_the_network_disabled() {
    if !std::path::Path::new("/usr/bin/python3").exists() {
        eprintln!("skipped: no /usr/bin/python3 to send a datagram with");
        return;
    }
    let listener = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    listener
        .set_read_timeout(Some(std::time::Duration::from_millis(300)))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let code = format!(
        "import socket\n\
         for fam, addr in ((socket.AF_INET, ('127.0.0.1', {port})), (socket.AF_INET6, ('::1', {port}))):\n\
         \x20   try:\n\
         \x20       socket.socket(fam, socket.SOCK_DGRAM).sendto(b'EXFIL', addr); print('sent')\n\
         \x20   except OSError as e: print('refused', e.errno)\n"
    );
    let mut lab = Lab::new();
    let run = child_reading(
        &mut lab,
        |_| {},
        &format!("/usr/bin/python3 -c \"{code}\"; echo done"),
    );
    let mut buffer = [0u8; 64];
    let received = listener.recv(&mut buffer).ok();
    assert_eq!(received, None, "a datagram arrived: {}", run.doc());
    assert!(run.doc().contains("refused 1"), "{}", run.doc());
    assert!(!run.doc().contains("sent"), "{}", run.doc());
}

/// System V shared memory is shared by the whole host, past Landlock: a segment of
/// another program (here the test's, holding a canary's text) cannot be attached by a
/// child, nor can a child open a file by handle or touch the key rings.
#[test]
fn child_reaching_host_wide_objects() {
    if !std::path::Path::new("/usr/bin/python3").exists() {
        eprintln!("skipped: no /usr/bin/python3 to make System V calls with");
        return;
    }
    let mut lab = Lab::new();
    let canary = lab.canary("shm.txt");
    let secret = std::fs::read_to_string(&canary).unwrap();
    let python = |code: &str| {
        let output = std::process::Command::new("/usr/bin/python3")
            .args(["-c", code])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    let setup = format!(
        "import ctypes\n\
         libc = ctypes.CDLL(None, use_errno=True)\n\
         libc.shmat.restype = ctypes.c_void_p\n\
         sid = libc.shmget(0, 4096, 0o1600)\n\
         addr = libc.shmat(sid, None, 0)\n\
         ctypes.memmove(addr, b'{secret}', {len})\n\
         print(sid)",
        len = secret.len()
    );
    let id = python(&setup);
    assert!(id.parse::<i32>().is_ok(), "no segment: {id}");
    /// Removes the segment however the test ends.
    struct Segment(String);
    impl Drop for Segment {
        fn drop(&mut self) {
            let _ = std::process::Command::new("/usr/bin/python3")
                .args([
                    "-c",
                    &format!(
                        "import ctypes; ctypes.CDLL(None).shmctl({}, 0, None)",
                        self.0
                    ),
                ])
                .output();
        }
    }
    let _segment = Segment(id.clone());
    let attack = format!(
        "import ctypes, struct\n\
         libc = ctypes.CDLL(None, use_errno=True)\n\
         libc.shmat.restype = ctypes.c_void_p\n\
         addr = libc.shmat({id}, None, 0)\n\
         print('shmat', ctypes.get_errno())\n\
         if addr not in (None, 2**64 - 1): print(ctypes.string_at(addr, 100))\n\
         print('keyctl', libc.syscall(250, 0, -4, 0, 0, 0), ctypes.get_errno())\n"
    );
    lab.file("attack.py", attack.as_bytes());
    let run = child_reading(&mut lab, |_| {}, "/usr/bin/python3 attack.py; echo done");
    assert!(run.doc().contains("done"), "{}", run.doc());
    assert!(run.doc().contains("shmat 1"), "{}", run.doc());
}

/// An allowed executable that is a FIFO: the gate's look for a `#!` line does not hang
/// on it (starting it fails: error 3).
#[test]
fn allowed_executable_that_is_a_fifo() {
    let mut lab = Lab::new();
    lab.fifo("tool");
    lab.policy(|p| {
        allow_processes(p, &["tool"]);
        p["limits"]["wall_ms"] = json!(5000);
    });
    let run = lab.run(run_capture_input(), &proc_input(&["tool"], &[], ""));
    assert_eq!(run.doc(), "ERR 3");
    assert!(
        run.elapsed < std::time::Duration::from_secs(4),
        "took {:?}",
        run.elapsed
    );
}
