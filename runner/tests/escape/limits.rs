//! Resource limits: output caps, the heap, huge files against the heap, child output
//! caps, and the file-size cap of child processes.

use std::time::Duration;

use serde_json::json;

use crate::support::*;

#[test]
fn output_over_the_cap() {
    let lab = Lab::new();
    lab.run_with(zeros(11), b"", &["--max-output-bytes", "10"], &[])
        .assert_trap("native output too large: 11 > max_output_bytes=10");
    lab.run_with(zeros(100), b"", &["--max-output-bytes", "10"], &[])
        .assert_trap("stdout exceeded cap");
}

#[test]
fn heap_exhaustion_traps() {
    let lab = Lab::new();
    lab.run_with(
        zeros(50_000_000),
        b"",
        &["--max-memory-bytes", "16777216"],
        &[],
    )
    .assert_trap("out of memory");
}

#[test]
fn a_sparse_huge_file_is_not_read_past_the_heap() {
    let lab = Lab::new();
    let file = std::fs::File::create(lab.project.join("huge.bin")).unwrap();
    file.set_len(8 << 30).unwrap();
    let run = lab.run_with(
        read_input(),
        b"huge.bin",
        &["--max-memory-bytes", "16777216"],
        &[],
    );
    run.assert_trap("out of memory");
    assert!(run.elapsed < Duration::from_secs(10));
}

#[test]
fn child_output_over_its_cap() {
    let mut lab = Lab::new();
    lab.policy(|p| {
        allow_processes(p, &["/bin/sh"]);
        p["process"]["max_stdout_bytes"] = 1000.into();
    });
    let run = lab.run(
        run_capture_input(),
        &proc_input(
            &[
                "/bin/sh",
                "-c",
                "while :; do echo yyyyyyyyyyyyyyyyyyyy; done",
            ],
            &[],
            "",
        ),
    );
    assert_eq!(run.doc(), "ERR 5");
}

#[test]
fn child_files_are_capped_by_max_write_bytes() {
    let mut lab = Lab::new();
    lab.policy(|p| {
        allow_processes(p, &["/bin/sh"]);
        p["fs"]["max_write_bytes"] = 1000.into();
    });
    let script = "i=0; while [ $i -lt 200 ]; do echo 0123456789012345678901234567890123456789; i=$((i+1)); done > out/big.txt";
    lab.run(
        run_capture_input(),
        &proc_input(&["/bin/sh", "-c", script], &[], ""),
    );
    let size = std::fs::metadata(lab.project.join("out/big.txt"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert!(size <= 1000, "a child wrote {size} bytes");
}

#[test]
fn spawns_beyond_max_spawns_are_denied() {
    let mut lab = Lab::new();
    lab.policy(|p| {
        allow_processes(p, &["/bin/echo"]);
        p["process"]["max_spawns"] = 3.into();
    });
    let run_once = json!([
        "os.process.run_capture_v1",
        req_from_input(),
        caps_from_input()
    ]);
    let solve = json!([
        "begin",
        ["let", "a", run_once.clone()],
        ["let", "b", run_once.clone()],
        ["let", "c", run_once.clone()],
        ["let", "d", run_once],
        "d"
    ]);
    let run = lab.run(solve, &proc_input(&["/bin/echo", "x"], &[], ""));
    assert_eq!(run.doc(), "ERR 1");
}

/// A child that floods its output while the request asks for caps of 4 GiB: what is
/// collected stays within the program's heap (the output limit, error 5), under a small
/// address-space limit, instead of the solver aborting on a failed allocation.
#[test]
fn child_output_flood_with_the_largest_caps() {
    let mut lab = Lab::new();
    lab.policy(|p| {
        allow_processes(p, &["/bin/sh"]);
        p["limits"]["mem_bytes"] = json!(256 << 20);
    });
    let mut input = caps(u32::MAX, u32::MAX, 8000, u32::MAX);
    input.extend(req(
        &[
            "/bin/sh",
            "-c",
            "yes AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ],
        &[],
        "",
        "",
    ));
    let run = lab.run(run_capture_input(), &input);
    assert_eq!(run.trap(), None, "stderr: {}", run.stderr());
    assert_eq!(run.doc(), "ERR 5");
    assert!(
        run.elapsed < Duration::from_secs(20),
        "took {:?}",
        run.elapsed
    );
}

/// `limits.mem_bytes` just above what x07 needs (heap + 32 MiB): a program that reads a
/// file almost as large as its heap runs, as it does under x07 (whose heap is reserved
/// up front), instead of the solver aborting.
#[test]
fn large_read_under_a_tight_address_space_limit() {
    let mut lab = Lab::new();
    lab.policy(|p| p["limits"]["mem_bytes"] = json!(100 << 20));
    lab.file("big.bin", &vec![b'A'; 60 << 20]);
    let solve = json!([
        "begin",
        ["let", "b", read_input()],
        ["view.to_bytes", ["view.slice", ["bytes.view", "b"], 0, 2]]
    ]);
    // The test build's differential check keeps a copy of every OS answer: off here,
    // it is not part of the runner.
    lab.run_with(solve, b"big.bin", &[], &[("X07_LITE_DIFFERENTIAL", "0")])
        .assert_output(b"AA");
}

/// A child is held to `limits.mem_bytes` itself (the solver's own limit is larger by
/// the heap, for the interpreter's copies).
#[test]
fn child_address_space_is_the_policys() {
    let mut lab = Lab::new();
    lab.policy(|p| {
        allow_processes(p, &["/bin/sh"]);
        p["limits"]["mem_bytes"] = json!(300 << 20);
    });
    let run = lab.run(
        run_capture_input(),
        &proc_input(
            &["/bin/sh", "-c", "ulimit -v; /bin/sh -c 'ulimit -v'"],
            &[],
            "",
        ),
    );
    assert_eq!(run.doc(), "OK exit=0 out=\"307200\\n307200\\n\" err=\"\"");
}

/// The same after the program has started a few processes (each with helper threads in
/// the solver): the solver's address space does not grow with its threads (one malloc
/// arena), so a read that fits the heap never aborts it, at any `mem_bytes` x07 accepts.
#[test]
fn large_read_after_children_under_tight_address_space_limits() {
    let run_one = json!([
        "os.process.run_capture_v1",
        req_from_input(),
        caps_from_input()
    ]);
    let solve = json!([
        "begin",
        ["let", "a", run_one.clone()],
        ["let", "c", run_one.clone()],
        ["let", "d", run_one],
        ["let", "b", ["os.fs.read_file", lit("big.bin")]],
        ["view.to_bytes", ["view.slice", ["bytes.view", "b"], 0, 2]]
    ]);
    for mem in [100u64, 160, 256] {
        let mut lab = Lab::new();
        lab.policy(|p| {
            allow_processes(p, &["/bin/sh"]);
            p["limits"]["mem_bytes"] = json!(mem << 20);
        });
        lab.file("big.bin", &vec![b'A'; 40 << 20]);
        let input = proc_input(&["/bin/sh", "-c", "echo hi"], &[], "");
        let run = lab.run_with(
            solve.clone(),
            &input,
            &[],
            &[("X07_LITE_DIFFERENTIAL", "0")],
        );
        assert_eq!(run.trap(), None, "mem_bytes {mem} MiB: {}", run.stderr());
        assert_eq!(run.text(), "AA", "mem_bytes {mem} MiB");
    }
}

/// A policy, program, input or module file that is a symlink to an endless device: the runner
/// (which reads these outside any sandbox, a harness in its own process) refuses it at
/// once instead of reading until memory runs out.
#[test]
fn source_files_that_are_endless_devices() {
    let lab = Lab::new();
    std::os::unix::fs::symlink("/dev/zero", lab.project.join("zero-policy.json")).unwrap();
    std::os::unix::fs::symlink("/dev/urandom", lab.project.join("noise.x07.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", lab.project.join("endless.x07.json")).unwrap();
    let run = |args: &[&str]| {
        std::fs::write(lab.project.join("main.x07.json"), entry(lit("ok"))).unwrap();
        let started = std::time::Instant::now();
        let output = std::process::Command::new(runner_binary())
            .args(args)
            .current_dir(&lab.project)
            .env_remove("X07_OS_SANDBOXED")
            .output()
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(10));
        output
    };
    let policy = run(&[
        "run",
        "--program",
        "main.x07.json",
        "--module-root",
        ".",
        "--repair=off",
        "--world",
        "run-os-sandboxed",
        "--policy",
        "zero-policy.json",
        "--sandbox-backend",
        "os",
        "--i-accept-weaker-isolation",
    ]);
    assert_eq!(policy.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&policy.stderr).contains("a device, not a file"));
    let program = run(&[
        "run",
        "--program",
        "noise.x07.json",
        "--module-root",
        ".",
        "--repair=off",
    ]);
    assert_eq!(program.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&program.stderr).contains("a device, not a file"));
    std::os::unix::fs::symlink("/dev/zero", lab.project.join("zero-input.bin")).unwrap();
    let input = run(&[
        "run",
        "--program",
        "main.x07.json",
        "--module-root",
        ".",
        "--repair=off",
        "--input",
        "zero-input.bin",
    ]);
    assert_eq!(input.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&input.stderr)
        .contains("read input: zero-input.bin: a device, not a file"));
    // An import of a module whose file is a device: a compile error of that run.
    std::fs::write(
        lab.project.join("main.x07.json"),
        json!({
            "schema_version": "x07.x07ast@0.8.0", "kind": "entry", "module_id": "main",
            "imports": ["endless"], "decls": [], "solve": ["bytes.lit", "ok"]
        })
        .to_string(),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let module = std::process::Command::new(runner_binary())
        .args([
            "run",
            "--program",
            "main.x07.json",
            "--module-root",
            ".",
            "--repair=off",
        ])
        .current_dir(&lab.project)
        .env_remove("X07_OS_SANDBOXED")
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    let report = String::from_utf8_lossy(&module.stdout);
    assert!(report.contains("\"compile_error\": \"Parse: "), "{report}");
}
