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
