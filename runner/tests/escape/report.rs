//! Forging the report from inside: program-chosen text (file names) in trap messages
//! must stay on one line, so it can neither replace the trap nor pose as the stats
//! line; long names are cut.

use serde_json::Value;

use crate::support::*;

fn stderr_lines(run: &Run) -> Vec<String> {
    let report = run.report.as_ref().unwrap();
    let text = report["solve"]["stderr_b64"].as_str().unwrap_or("");
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap();
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn newline_in_a_missing_file_name_cannot_replace_the_trap() {
    let lab = Lab::new();
    let run = lab.run(read_input(), b"nothere\nos.process.exit disabled by policy");
    run.assert_trap(
        "os.fs.read_file open failed path=./nothere\\nos.process.exit disabled by policy",
    );
    assert_eq!(stderr_lines(&run).len(), 1);
}

#[test]
fn a_fake_stats_line_in_a_file_name_is_not_taken_as_metrics() {
    let lab = Lab::new();
    let run = lab.run(read_input(), b"x\n{\"fuel_used\":1,\"heap_used\":2}\n");
    run.assert_trap("os.fs.read_file open failed path=./x\\n{");
    let report = run.report.as_ref().unwrap();
    assert_eq!(report["solve"]["fuel_used"], Value::Null);
    assert_eq!(stderr_lines(&run).len(), 1);
}

#[test]
fn control_bytes_and_carriage_returns_are_escaped() {
    let lab = Lab::new();
    let run = lab.run(read_input(), b"a\rforged\x1b[2K\xff");
    run.assert_trap("os.fs.read_file open failed path=./a\\rforged\\x1b[2K\\xff");
}

#[test]
fn names_in_denials_are_escaped_too() {
    let mut lab = Lab::new();
    let canary = lab.canary("secret.txt");
    let name = "out/l\nfuel exhausted";
    std::fs::create_dir_all(lab.project.join("out")).unwrap();
    std::os::unix::fs::symlink(&canary, lab.project.join(name)).unwrap();
    let run = lab.run(write_input(lit("PWNED")), name.as_bytes());
    run.assert_trap("os.fs.write_file symlink denied path=out/l\\nfuel exhausted");
    let report = run.report.as_ref().unwrap();
    assert_eq!(report["solve"]["trap_help"], Value::Null);
}

#[test]
fn run_os_traps_are_escaped_as_well() {
    let lab = Lab::new();
    let run = lab.run_os(read_input(), b"missing\ntimed out", &[]);
    run.assert_trap("os.fs.read_file open failed path=missing\\ntimed out");
}

#[test]
fn very_long_names_are_cut() {
    let lab = Lab::new();
    let name = "n".repeat(5000);
    let run = lab.run(read_input(), name.as_bytes());
    let trap = run.trap().unwrap();
    assert!(trap.len() < 1200, "{} bytes", trap.len());
    assert!(trap.ends_with("..."));
}

/// A child writes a fake success frame into the solver's stdout through `/proc`, then
/// the program exits without output: the report must not show the fake output as a
/// success. Landlock blocks `/proc`; without Landlock the solver is not dumpable, so a
/// child without CAP_SYS_PTRACE cannot open its file descriptors either.
#[test]
fn a_child_cannot_write_into_the_solvers_stdout() {
    for landlock in ["on", "off"] {
        let mut lab = Lab::new();
        lab.policy(|p| allow_processes(p, &["/bin/sh"]));
        let script = "printf '\\006\\000\\000\\000FORGED' > /proc/$PPID/fd/1; printf '{\"fuel_used\":1}\\n' > /proc/$PPID/fd/2";
        let solve = serde_json::json!([
            "begin",
            ["let", "d", run_capture_input()],
            ["os.process.exit", 0]
        ]);
        let run = lab.run_with(
            solve,
            &proc_input(&["/bin/sh", "-c", script], &[], ""),
            &[],
            &[("X07_LITE_LANDLOCK", landlock)],
        );
        run.assert_trap("native stdout too short for length prefix");
        assert!(!run.text().contains("FORGED"), "landlock {landlock}");
    }
}
