//! The words for manifest cases (`x07 test`): the one-line summary of each
//! [`X07TestFailure`], the lines under the failed checks (the assertion's code, the
//! got/expected bytes through the same renderer as every output difference, the trap,
//! the compile error, a property test's counterexample, the diagnostics, the decoded
//! program stderr) and a broken manifest's problems.

use std::fmt::Write as _;

use base64::Engine as _;

use super::{display_text, indent, output_diff, printable_text};
use crate::failure::{Counterexample, ParamValue, TestOutcome, X07TestFailure};
use crate::manifest::format::ManifestProblem;
use crate::manifest::report::X07TestReport;

/// The diagnostic of a trap (its `details.trap` is shown as `trap`).
const TRAP: &str = "X07T_RUN_TRAP";
/// The diagnostic of a compile error (its message is shown as `compile error`).
const COMPILE: &str = "ETEST_COMPILE";

/// At most this many characters of a diagnostic go into a one-line summary.
const SUMMARY_WIDTH: usize = 240;

/// The name of a std.test assertion code.
pub fn assertion_name(code: u32) -> Option<&'static str> {
    match code {
        1001 => Some("std.test.assert_true"),
        1002 => Some("std.test.assert_i32_eq"),
        1003 => Some("std.test.assert_bytes_eq"),
        1004 => Some("std.test.assert_view_eq"),
        _ => None,
    }
}

fn code_text(code: u32) -> String {
    match assertion_name(code) {
        Some(name) => format!("code {code} ({name})"),
        None => format!("code {code}"),
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    let mut cut: String = line.chars().take(SUMMARY_WIDTH).collect();
    if line.chars().count() > SUMMARY_WIDTH || text.lines().nth(1).is_some() {
        cut.push('…');
    }
    display_text(cut.as_bytes())
}

/// The short name of the check a failure belongs to.
pub fn check_name(failure: &X07TestFailure) -> &'static str {
    match failure {
        X07TestFailure::Status(_) => "status",
        X07TestFailure::ExitCode { .. } => "exit_code",
        X07TestFailure::ReportShape { .. }
        | X07TestFailure::ReportVersion { .. }
        | X07TestFailure::ManifestRefused { .. }
        | X07TestFailure::TestMissing { .. } => "report",
    }
}

fn expected_status(expect: &str) -> &'static str {
    match expect {
        "fail" => "xfail_fail (expect: fail wants a failed assertion)",
        "skip" => "skip",
        _ => "pass",
    }
}

/// What stands out about a test's outcome, for its one-line summary.
fn outcome_detail(outcome: &TestOutcome) -> Option<String> {
    if let Some(error) = &outcome.compile_error {
        return Some(format!("compile error: {}", first_line(error)));
    }
    if let Some(trap) = &outcome.trap {
        return Some(format!("trap: {}", first_line(trap)));
    }
    if let Some(kind) = &outcome.failure_kind {
        return Some(kind.replace('_', " "));
    }
    if let Some(example) = &outcome.counterexample {
        return Some(match example.assert_code {
            Some(code) => format!("property failed, {}", code_text(code)),
            None => "property failed".to_string(),
        });
    }
    if let Some(code) = outcome.failure_code {
        return Some(format!("assertion {}", code_text(code)));
    }
    outcome
        .diags
        .first()
        .map(|(code, message)| format!("{code}: {}", first_line(message)))
}

/// The one-line summary of a failure.
pub fn summary(failure: &X07TestFailure) -> String {
    match failure {
        X07TestFailure::Status(outcome) => {
            let mut text = format!(
                "status: expected {}, got {}",
                expected_status(&outcome.expect),
                outcome.status
            );
            if outcome.status == "xfail_pass" {
                text.push_str(" (the test passed)");
            }
            if let Some(detail) = outcome_detail(outcome) {
                let _ = write!(text, "; {detail}");
            }
            text
        }
        X07TestFailure::ExitCode { expected, actual } => format!(
            "exit_code: x07 test exited with {}, but its report implies {expected}",
            actual.map_or("no exit code".to_string(), |code| code.to_string())
        ),
        X07TestFailure::ManifestRefused { errors } => format!(
            "report: x07 test refused the manifest ({errors} problem{}, listed on its stderr); no test ran",
            if *errors == 1 { "" } else { "s" }
        ),
        X07TestFailure::TestMissing { id, reported } => format!(
            "report: x07 test's report has no result for test {id:?} ({})",
            if reported.is_empty() {
                "it has none".to_string()
            } else {
                format!("it has {}", reported.join(", "))
            }
        ),
        X07TestFailure::ReportShape { error } => {
            format!("report: stdout is JSON but not an x07.x07test report: {error}")
        }
        X07TestFailure::ReportVersion { actual } => format!(
            "report: expected an x07.x07test@0.4 report, got schema_version {actual:?}"
        ),
    }
}

fn bytes_text(bytes: &[u8]) -> String {
    match printable_text(bytes) {
        Some(text) if !text.contains('\n') => format!("{text:?}"),
        _ => bytes
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn counterexample_text(example: &Counterexample) -> String {
    let mut head = "counterexample".to_string();
    let mut notes = Vec::new();
    if let Some(cases) = example.cases_attempted {
        notes.push(format!("found after {cases} cases"));
    }
    if let Some(shrinking) = &example.shrinking {
        notes.push(format!("shrinking: {shrinking}"));
    }
    if !notes.is_empty() {
        let _ = write!(head, " ({})", notes.join(", "));
    }
    let mut out = format!("{head}:\n");
    for param in &example.params {
        let value = match &param.value {
            ParamValue::Int(number) => number.to_string(),
            ParamValue::Bytes(bytes) => format!("{} bytes: {}", bytes.len(), bytes_text(bytes)),
            ParamValue::Other(text) => text.clone(),
        };
        let _ = writeln!(out, "  {} ({}) = {}", param.name, param.ty, value);
    }
    out
}

/// The lines under the failed checks for one failure (empty when it has none).
pub fn details(failure: &X07TestFailure) -> String {
    let X07TestFailure::Status(outcome) = failure else {
        return String::new();
    };
    let mut out = String::new();
    if let Some(bytes) = &outcome.assert_bytes {
        let _ = write!(
            out,
            "assert_bytes_eq (- expected, + got):\n{}",
            output_diff(&bytes.expected.prefix, &bytes.got.prefix)
        );
        for (side, prefix) in [("expected", &bytes.expected), ("got", &bytes.got)] {
            if (prefix.prefix.len() as u64) < prefix.len {
                let _ = writeln!(
                    out,
                    "  … {side}: only the first {} of {} bytes are in the report",
                    prefix.prefix.len(),
                    prefix.len
                );
            }
        }
    }
    if let Some(trap) = &outcome.trap {
        let _ = writeln!(out, "trap ({TRAP}): {}", display_text(trap.as_bytes()));
    }
    if let Some(error) = &outcome.compile_error {
        let _ = write!(
            out,
            "compile error ({COMPILE}):\n{}",
            indent(&display_text(error.as_bytes()))
        );
    }
    if let Some(example) = &outcome.counterexample {
        out.push_str(&counterexample_text(example));
    }
    if let Some(kind) = &outcome.failure_kind {
        let _ = writeln!(out, "failure kind: {kind}");
    }
    if let Some(path) = &outcome.contract_repro_path {
        let _ = writeln!(
            out,
            "contract repro: x07 wrote {path} in its working directory (a scratch directory, \
             removed after the run; the reproduce line writes it under the current directory)"
        );
    }
    let shown_above = |code: &str| {
        (code == TRAP && outcome.trap.is_some())
            || (code == COMPILE && outcome.compile_error.is_some())
    };
    let diags: Vec<&(String, String)> = outcome
        .diags
        .iter()
        .filter(|(code, _)| !shown_above(code))
        .collect();
    if !diags.is_empty() {
        out.push_str("diagnostics:\n");
        for (code, message) in diags {
            let text = display_text(message.as_bytes());
            let mut lines = text.lines();
            let _ = writeln!(out, "  {code}: {}", lines.next().unwrap_or_default());
            for line in lines {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    if let Some(stderr) = &outcome.program_stderr {
        out.push_str(&program_stderr(stderr, outcome.trap.as_deref()));
    }
    out
}

/// The program's decoded stderr: the runner's statistics line in short (it is all a
/// finished run prints there), nothing when it only repeats the trap, else the text.
fn program_stderr(stderr: &[u8], trap: Option<&str>) -> String {
    let text = String::from_utf8_lossy(stderr);
    if trap.is_some_and(|trap| text.trim_end() == trap) {
        return String::new();
    }
    let statistics = serde_json::from_str::<serde_json::Value>(text.trim_end())
        .ok()
        .filter(|value| value.get("fuel_used").is_some());
    if let Some(statistics) = statistics {
        let numbers: Vec<String> = ["fuel_used", "heap_used"]
            .iter()
            .filter_map(|key| {
                statistics
                    .get(key)
                    .and_then(serde_json::Value::as_u64)
                    .map(|value| format!("{key} {value}"))
            })
            .collect();
        return format!(
            "program stderr (run.stderr_b64): the runner's statistics line ({})\n",
            numbers.join(", ")
        );
    }
    format!(
        "program stderr (run.stderr_b64):\n{}",
        indent(&display_text(stderr))
    )
}

/// What `cargo x07 run` shows of one `x07 test` call (before the verdict): the exit
/// code, the test's status against its `expect`, whether it compiled and ran, and — with
/// `with_stderr`, i.e. when the failed checks will not show it — the decoded program
/// stderr. `None` when `report` is not a readable `x07 test` report of test `id`.
pub fn call_summary(
    report: &serde_json::Value,
    id: &str,
    exit_code: Option<i32>,
    with_stderr: bool,
) -> Option<String> {
    let report = X07TestReport::from_value(report).ok()?;
    let result = report.tests.iter().find(|result| result.id == id)?;
    let mut out = String::new();
    if let Some(code) = exit_code {
        let _ = writeln!(out, "exit code: {code}");
    }
    let _ = writeln!(
        out,
        "status: {} (expect: {}; duration_ms {})",
        result.status, result.expect, result.duration_ms
    );
    let compile = match &result.compile {
        Some(compile) if compile.ok => "ok",
        Some(_) => "failed",
        None => "not compiled",
    };
    let run = match &result.run {
        Some(run) => {
            let code = run
                .exit_code
                .map(|code| format!(", exit code {code}"))
                .unwrap_or_default();
            format!("{}{code}", if run.ok { "ok" } else { "failed" })
        }
        None => "not run".into(),
    };
    let _ = writeln!(out, "compile: {compile}; run: {run}");
    let stderr = result
        .run
        .as_ref()
        .and_then(|run| run.stderr_b64.as_deref())
        .and_then(|text| base64::engine::general_purpose::STANDARD.decode(text).ok())
        .filter(|bytes| with_stderr && !bytes.is_empty());
    if let Some(bytes) = stderr {
        out.push_str(&program_stderr(&bytes, None));
    }
    Some(out)
}

/// One problem of a manifest, as listed: `CODE: message (at /tests/0/world)`.
pub fn problem_line(problem: &ManifestProblem) -> String {
    let mut line = match problem.code {
        Some(code) => format!("{code}: {}", problem.message),
        None => problem.message.clone(),
    };
    if !problem.pointer.is_empty() {
        let _ = write!(line, " (at {})", problem.pointer);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::{AssertBytes, BytesPrefix};

    fn failed_bytes(expected: &[u8], expected_len: u64, got: &[u8], got_len: u64) -> String {
        details(&X07TestFailure::Status(Box::new(TestOutcome {
            expect: "pass".into(),
            status: "fail".into(),
            failure_code: Some(1003),
            assert_bytes: Some(AssertBytes {
                got: BytesPrefix {
                    len: got_len,
                    prefix: got.to_vec(),
                },
                expected: BytesPrefix {
                    len: expected_len,
                    prefix: expected.to_vec(),
                },
            }),
            ..TestOutcome::default()
        })))
    }

    #[test]
    fn binary_bytes_get_the_hex_view_and_cut_prefixes_are_named() {
        let text = failed_bytes(&[0, 1, 2], 3, &[0, 1, 0xff], 3);
        assert!(text.contains("binary output differs at offset 2"), "{text}");
        let text = failed_bytes(&[b'a'; 64], 200, &[b'b'; 64], 64);
        assert!(
            text.contains("  … expected: only the first 64 of 200 bytes are in the report\n"),
            "{text}"
        );
        assert!(!text.contains("got: only"), "{text}");
    }

    #[test]
    fn the_statistics_line_is_shown_in_short_and_a_repeated_trap_not_at_all() {
        let stats = br#"{"fuel_used":35,"heap_used":22,"mem_stats":{}}
"#;
        assert_eq!(
            program_stderr(stats, None),
            "program stderr (run.stderr_b64): the runner's statistics line (fuel_used 35, heap_used 22)\n"
        );
        assert_eq!(
            program_stderr(b"fuel exhausted\n", Some("fuel exhausted")),
            ""
        );
        assert_eq!(
            program_stderr(b"X07T_CONTRACT_V1 {}\n", None),
            "program stderr (run.stderr_b64):\n  X07T_CONTRACT_V1 {}\n"
        );
    }

    #[test]
    fn problems_read_code_message_pointer() {
        let problem = ManifestProblem {
            code: Some("ETEST_ID_EMPTY"),
            pointer: "/tests/6/id".into(),
            message: "id must be non-empty".into(),
        };
        assert_eq!(
            problem_line(&problem),
            "ETEST_ID_EMPTY: id must be non-empty (at /tests/6/id)"
        );
        assert_eq!(assertion_name(1004), Some("std.test.assert_view_eq"));
        assert_eq!(assertion_name(77), None);
    }
}
