//! Checking: parse the runner's stdout as a report, validate it against
//! `schemas/x07-os-runner.report.schema.json`, then compare it with the
//! expectations in the documented order, collecting **every** mismatch.

use std::sync::OnceLock;

use base64::Engine as _;
use serde_json::Value;

use crate::fixture::schema_problems;
use crate::plan::{Expected, NullableTextCheck, PlannedCase, SchemaVersionCheck, TextMatch};
use crate::run::RunOutput;

/// The report JSON Schema, as shipped in `schemas/`.
pub const REPORT_SCHEMA_TEXT: &str = include_str!("../schemas/x07-os-runner.report.schema.json");

/// The report schema versions cargo-x07 accepts by default.
pub const SUPPORTED_REPORT_FAMILY: &str = "x07-os-runner.report@0.5.x";

fn report_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(REPORT_SCHEMA_TEXT).expect("bundled report schema is JSON");
        jsonschema::validator_for(&schema).expect("bundled report schema compiles")
    })
}

/// Lists the report's schema violations (empty when it validates).
pub fn report_schema_problems(report: &Value) -> Vec<String> {
    schema_problems(report_validator(), report)
}

/// One failed check.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// The check's name (`exit_code`, `output`, …).
    pub check: &'static str,
    /// One line: `exit_code: expected 0, got 1`.
    pub summary: String,
    /// Extra lines (schema violations), already indented.
    pub details: Vec<String>,
}

/// The values read from a report, for messages and bless.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Actual {
    /// Report `schema_version`.
    pub schema_version: Option<String>,
    /// Report `mode`.
    pub mode: Option<String>,
    /// Report `world`.
    pub world: Option<String>,
    /// Report `exit_code`.
    pub exit_code: Option<i64>,
    /// `compile.ok`.
    pub compile_ok: Option<bool>,
    /// `solve.ok` (`None` when `solve` is null).
    pub solve_ok: Option<bool>,
    /// `solve.exit_status`.
    pub exit_status: Option<i64>,
    /// Decoded `solve.solve_output_b64`.
    pub output: Option<Vec<u8>>,
    /// `solve.trap`.
    pub trap: Option<String>,
    /// `compile.compile_error`.
    pub compile_error: Option<String>,
    /// Decoded `solve.stderr_b64`.
    pub solve_stderr: Option<Vec<u8>>,
    /// Whether `solve` was present (not null).
    pub solved: bool,
}

/// The outcome of checking one case.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    /// Every failed check, in check order.
    pub mismatches: Vec<Mismatch>,
    /// The parsed report, when stdout was JSON.
    pub report: Option<Value>,
    /// The values read from the report.
    pub actual: Option<Actual>,
    /// The report is the VM backend's fail-closed report.
    pub vm_fail_closed: bool,
    /// The runner timed out, was killed, or printed no JSON report: never bless from this.
    pub runner_crashed: bool,
}

impl Verdict {
    /// Whether every check held.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

fn mismatch(check: &'static str, summary: String) -> Mismatch {
    Mismatch {
        check,
        summary,
        details: Vec::new(),
    }
}

fn b64(value: Option<&Value>) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(value?.as_str()?)
        .ok()
}

/// Reads the checked fields out of a report of any of the three shapes.
pub fn read_actual(report: &Value) -> Actual {
    let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_string);
    let mode = text(report.get("mode"));
    let flat = mode.as_deref() == Some("run-os");
    let compile = report.get("compile").filter(|value| value.is_object());
    let solve = if flat {
        Some(report)
    } else {
        report.get("solve").filter(|value| value.is_object())
    };
    Actual {
        schema_version: text(report.get("schema_version")),
        mode,
        world: text(report.get("world")),
        exit_code: report.get("exit_code").and_then(Value::as_i64),
        compile_ok: compile.and_then(|c| c.get("ok")).and_then(Value::as_bool),
        solve_ok: solve.and_then(|s| s.get("ok")).and_then(Value::as_bool),
        exit_status: solve
            .and_then(|s| s.get("exit_status"))
            .and_then(Value::as_i64),
        output: solve.and_then(|s| b64(s.get("solve_output_b64"))),
        trap: solve.and_then(|s| text(s.get("trap"))),
        compile_error: compile.and_then(|c| text(c.get("compile_error"))),
        solve_stderr: solve.and_then(|s| b64(s.get("stderr_b64"))),
        solved: solve.is_some(),
    }
}

fn show<T: std::fmt::Debug>(value: &Option<T>) -> String {
    match value {
        Some(value) => format!("{value:?}"),
        None => "nothing (field missing or null)".into(),
    }
}

/// Checks one run of `case`.
pub fn check(case: &PlannedCase, output: &RunOutput) -> Verdict {
    let mut verdict = Verdict::default();
    if output.timed_out {
        verdict.runner_crashed = true;
        verdict.mismatches.push(mismatch(
            "timeout",
            format!(
                "timeout: the runner did not finish within {} ms; its process group was killed",
                case.timeout.as_millis()
            ),
        ));
        return verdict;
    }
    let report: Value = match serde_json::from_slice(&output.stdout) {
        Ok(report) => report,
        Err(error) => {
            verdict.runner_crashed = true;
            let how = match (output.exit_code, output.signal) {
                (Some(code), _) => format!("exit code {code}"),
                (None, Some(signal)) => format!("killed by signal {signal}"),
                (None, None) => "no exit code".into(),
            };
            let what = if output.stdout.is_empty() {
                "printed nothing on stdout".to_string()
            } else {
                format!("printed stdout that is not JSON ({error})")
            };
            verdict.mismatches.push(mismatch(
                "report",
                format!("report: the runner {what}; {how}"),
            ));
            return verdict;
        }
    };
    if output.exit_code.is_none() {
        verdict.runner_crashed = true;
    }
    let actual = read_actual(&report);
    verdict.vm_fail_closed = report
        .pointer("/compile/trap")
        .and_then(Value::as_str)
        .is_some_and(|trap| trap.starts_with("vm backend failure"));
    verdict.mismatches = compare(&case.expect, &report, &actual, output);
    verdict.actual = Some(actual);
    verdict.report = Some(report);
    verdict
}

fn compare(
    expect: &Expected,
    report: &Value,
    actual: &Actual,
    output: &RunOutput,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let problems = report_schema_problems(report);
    if !problems.is_empty() {
        out.push(Mismatch {
            check: "schema",
            summary: format!(
                "schema: the report does not follow schemas/x07-os-runner.report.schema.json ({} problem{})",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            ),
            details: problems.into_iter().take(20).collect(),
        });
    }
    match &expect.schema_version {
        SchemaVersionCheck::Off => {}
        SchemaVersionCheck::SupportedFamily => {
            let ok = actual.schema_version.as_deref().is_some_and(|version| {
                version
                    .strip_prefix("x07-os-runner.report@0.5.")
                    .is_some_and(|patch| {
                        !patch.is_empty() && patch.bytes().all(|b| b.is_ascii_digit())
                    })
            });
            if !ok {
                out.push(mismatch(
                    "schema_version",
                    format!(
                        "schema_version: expected {SUPPORTED_REPORT_FAMILY}, got {}",
                        show(&actual.schema_version)
                    ),
                ));
            }
        }
        SchemaVersionCheck::Exact(version) => {
            if actual.schema_version.as_deref() != Some(version.as_str()) {
                out.push(mismatch(
                    "schema_version",
                    format!(
                        "schema_version: expected {version:?}, got {}",
                        show(&actual.schema_version)
                    ),
                ));
            }
        }
    }
    for (check, expected, got) in [
        ("mode", &expect.mode, &actual.mode),
        ("world", &expect.world, &actual.world),
    ] {
        if let Some(expected) = expected {
            if got.as_deref() != Some(expected.as_str()) {
                out.push(mismatch(
                    check,
                    format!("{check}: expected {expected:?}, got {}", show(got)),
                ));
            }
        }
    }
    if let Some(expected) = expect.exit_code {
        if actual.exit_code != Some(expected) {
            out.push(mismatch(
                "exit_code",
                format!(
                    "exit_code: expected {expected}, got {}",
                    show(&actual.exit_code)
                ),
            ));
        } else if output.exit_code.map(i64::from) != Some(expected) {
            out.push(mismatch(
                "exit_code",
                format!(
                    "exit_code: the report says {expected} but the runner process exited with {}",
                    show(&output.exit_code)
                ),
            ));
        }
    }
    if let Some(expected) = expect.compile_ok {
        if actual.compile_ok != Some(expected) {
            out.push(mismatch(
                "compile_ok",
                format!(
                    "compile_ok: expected {expected}, got {}",
                    show(&actual.compile_ok)
                ),
            ));
        }
    }
    if let Some(expected) = expect.solve_ok {
        if actual.solve_ok != Some(expected) {
            let got = if actual.solved {
                show(&actual.solve_ok)
            } else {
                "no solve result (solve is null)".into()
            };
            out.push(mismatch(
                "solve_ok",
                format!("solve_ok: expected {expected}, got {got}"),
            ));
        }
    }
    if let Some(expected) = expect.exit_status {
        if actual.exit_status != Some(expected) {
            out.push(mismatch(
                "exit_status",
                format!(
                    "exit_status: expected {expected}, got {}",
                    show(&actual.exit_status)
                ),
            ));
        }
    }
    if let Some(expected) = &expect.output {
        if actual.output.as_deref() != Some(expected.bytes.as_slice()) {
            let got = match &actual.output {
                Some(bytes) => format!(
                    "{} bytes; {}",
                    bytes.len(),
                    where_outputs_differ(&expected.bytes, bytes)
                ),
                None => "no output (solve is null or solve_output_b64 is missing)".into(),
            };
            out.push(mismatch(
                "output",
                format!(
                    "output: expected {} bytes (from {}), got {got}",
                    expected.bytes.len(),
                    expected.origin
                ),
            ));
        }
    }
    for (check, expected, got) in [
        ("trap", &expect.trap, &actual.trap),
        (
            "compile_error",
            &expect.compile_error,
            &actual.compile_error,
        ),
    ] {
        match expected {
            NullableTextCheck::Off => {}
            NullableTextCheck::MustBeNull => {
                if let Some(got) = got {
                    out.push(mismatch(
                        check,
                        format!("{check}: expected none, got {got:?}"),
                    ));
                }
            }
            NullableTextCheck::Matches(matcher) => {
                if !got.as_deref().is_some_and(|got| matcher.matches(got)) {
                    out.push(mismatch(
                        check,
                        format!(
                            "{check}: expected {}, got {}",
                            matcher.describe(),
                            show(got)
                        ),
                    ));
                }
            }
        }
    }
    let text_check = |check: &'static str,
                      matcher: &Option<TextMatch>,
                      got: Option<&[u8]>,
                      out: &mut Vec<Mismatch>| {
        if let Some(matcher) = matcher {
            let got = got.map(|bytes| String::from_utf8_lossy(bytes).into_owned());
            if !got.as_deref().is_some_and(|got| matcher.matches(got)) {
                out.push(mismatch(
                    check,
                    format!(
                        "{check}: expected {}, got {}",
                        matcher.describe(),
                        show(&got)
                    ),
                ));
            }
        }
    };
    text_check("stderr", &expect.stderr, Some(&output.stderr), &mut out);
    text_check(
        "solve_stderr",
        &expect.solve_stderr,
        actual.solve_stderr.as_deref(),
        &mut out,
    );
    out
}

/// Where two different outputs first part: the byte offset (and, for text,
/// the line and column) of the first difference, or which side is a prefix.
pub fn where_outputs_differ(expected: &[u8], actual: &[u8]) -> String {
    let common = expected.len().min(actual.len());
    let first = expected
        .iter()
        .zip(actual)
        .position(|(e, a)| e != a)
        .unwrap_or(common);
    let before = &expected[..first];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |at| at + 1);
    // Characters, not bytes: count the bytes that start a UTF-8 sequence.
    let column = before[line_start..]
        .iter()
        .filter(|&&b| b & 0xc0 != 0x80)
        .count()
        + 1;
    let position = if std::str::from_utf8(expected).is_ok() && std::str::from_utf8(actual).is_ok() {
        format!("offset {first} (line {line}, column {column})")
    } else {
        format!("offset {first} (0x{first:x})")
    };
    if first == common && expected.len() > actual.len() {
        format!("actual ends at {position}, expected continues")
    } else if first == common {
        format!("expected ends at {position}, actual continues")
    } else {
        format!("first difference at {position}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::resolve_expected;
    use serde_json::json;
    use std::path::Path;

    const OK_REPORT: &str = include_str!("../tests/data/reports/ok-sandbox-project.json");
    const TRAP_REPORT: &str = include_str!("../tests/data/reports/trap-fuel.json");

    fn expected(map: Value, world: &str, mode: &str) -> Expected {
        resolve_expected(map.as_object().unwrap(), world, mode, Path::new(".")).unwrap()
    }

    fn output(stdout: &str, code: i32) -> RunOutput {
        RunOutput {
            exit_code: Some(code),
            stdout: stdout.as_bytes().to_vec(),
            ..RunOutput::default()
        }
    }

    fn checks(expect: &Expected, stdout: &str, code: i32) -> Vec<&'static str> {
        let report: Value = serde_json::from_str(stdout).unwrap();
        compare(
            expect,
            &report,
            &read_actual(&report),
            &output(stdout, code),
        )
        .into_iter()
        .map(|m| m.check)
        .collect()
    }

    #[test]
    fn output_mismatch_names_the_first_differing_offset() {
        let expect = expected(
            json!({ "output": { "text": "DATA-IN-RooT" } }),
            "run-os-sandboxed",
            "project-compile-run",
        );
        let report: Value = serde_json::from_str(OK_REPORT).unwrap();
        let mismatches = compare(
            &expect,
            &report,
            &read_actual(&report),
            &output(OK_REPORT, 0),
        );
        assert_eq!(
            mismatches[0].summary,
            "output: expected 12 bytes (from text), got 12 bytes; \
             first difference at offset 9 (line 1, column 10)"
        );
    }

    #[test]
    fn where_outputs_differ_covers_lines_prefixes_and_binary() {
        assert_eq!(
            where_outputs_differ(b"a\nbc\n", b"a\nbd\n"),
            "first difference at offset 3 (line 2, column 2)"
        );
        assert_eq!(
            where_outputs_differ(b"abc", b"ab"),
            "actual ends at offset 2 (line 1, column 3), expected continues"
        );
        assert_eq!(
            where_outputs_differ(b"", b"x"),
            "expected ends at offset 0 (line 1, column 1), actual continues"
        );
        assert_eq!(
            where_outputs_differ("xé-1".as_bytes(), "xé-2".as_bytes()),
            "first difference at offset 4 (line 1, column 4)"
        );
        assert_eq!(
            where_outputs_differ(&[0, 1, 0xff, 3], &[0, 1, 0xfe, 3]),
            "first difference at offset 2 (0x2)"
        );
    }

    #[test]
    fn a_matching_report_passes() {
        let expect = expected(
            json!({ "output": { "text": "DATA-IN-ROOT" } }),
            "run-os-sandboxed",
            "project-compile-run",
        );
        assert!(checks(&expect, OK_REPORT, 0).is_empty());
    }

    #[test]
    fn every_mismatch_is_reported_in_order() {
        let expect = expected(
            json!({
                "schema_version": "x07-os-runner.report@0.4.0",
                "exit_code": 3,
                "exit_status": 9,
                "output": { "text": "nope" },
                "stderr": { "contains": "zzz" },
                "solve_stderr": { "regex": "^nothing$" }
            }),
            "run-os",
            "compile-run",
        );
        assert_eq!(
            checks(&expect, OK_REPORT, 0),
            [
                "schema_version",
                "mode",
                "world",
                "exit_code",
                "exit_status",
                "output",
                "stderr",
                "solve_stderr"
            ]
        );
    }

    #[test]
    fn trap_and_compile_error_checks() {
        let expect = expected(json!({ "trap": "fuel exhausted" }), "run-os", "compile-run");
        assert!(checks(&expect, TRAP_REPORT, 1).is_empty());
        let expect = expected(
            json!({ "trap": { "regex": "^out of" } }),
            "run-os",
            "compile-run",
        );
        assert_eq!(checks(&expect, TRAP_REPORT, 1), ["trap"]);
        // An unexpected trap: solve_ok, exit_code and the must-be-null trap all fail.
        let expect = expected(json!({}), "run-os", "compile-run");
        assert_eq!(
            checks(&expect, TRAP_REPORT, 1),
            ["exit_code", "solve_ok", "trap"]
        );
        let compile_error = include_str!("../tests/data/reports/compile-error-unknown-module.json");
        let expect = expected(
            json!({ "compile_error": { "contains": "unknown module" } }),
            "run-os",
            "compile-run",
        );
        assert!(checks(&expect, compile_error, 1).is_empty());
    }

    #[test]
    fn compile_checks_fail_on_a_report_that_compiled() {
        let expect = expected(
            json!({ "compile_error": { "regex": "^Parse: " } }),
            "run-os-sandboxed",
            "project-compile-run",
        );
        assert_eq!(
            checks(&expect, OK_REPORT, 0),
            ["exit_code", "compile_ok", "compile_error"]
        );
        let compile_error = include_str!("../tests/data/reports/compile-error-type.json");
        let expect = expected(json!({}), "run-os", "compile-run");
        assert_eq!(
            checks(&expect, compile_error, 1),
            ["exit_code", "compile_ok", "solve_ok", "compile_error"]
        );
    }

    #[test]
    fn process_exit_code_must_agree_with_the_report() {
        let expect = expected(json!({}), "run-os-sandboxed", "project-compile-run");
        assert_eq!(checks(&expect, OK_REPORT, 3), ["exit_code"]);
    }

    #[test]
    fn schema_violations_are_a_failed_check() {
        let mut report: Value = serde_json::from_str(OK_REPORT).unwrap();
        report["solve"]["unexpected"] = json!(1);
        let text = report.to_string();
        let expect = expected(json!({}), "run-os-sandboxed", "project-compile-run");
        assert_eq!(checks(&expect, &text, 0), ["schema"]);
    }

    #[test]
    fn garbage_and_timeouts_fail_without_a_report() {
        let case_expect = expected(json!({}), "run-os", "project-compile-run");
        let case = crate::plan::PlannedCase {
            id: crate::model::CaseId {
                fixture: "f".into(),
                case: "c".into(),
                profile: "os".into(),
            },
            target: crate::plan::Target::Project {
                dir: ".".into(),
                profile: None,
            },
            world: "run-os".into(),
            input: None,
            run: Default::default(),
            expect: case_expect,
            timeout: std::time::Duration::from_millis(100),
            ignore: None,
            source_file: "x07.json".into(),
            fixture_dir: ".".into(),
            description: None,
            problem: None,
            sandbox_backend: Default::default(),
        };
        let verdict = check(&case, &output("garbage", 1));
        assert!(verdict.runner_crashed);
        assert!(
            verdict.mismatches[0].summary.contains("not JSON"),
            "{:?}",
            verdict.mismatches
        );
        let timed_out = RunOutput {
            timed_out: true,
            ..RunOutput::default()
        };
        let verdict = check(&case, &timed_out);
        assert!(verdict.runner_crashed);
        assert!(verdict.mismatches[0].summary.contains("100 ms"));
    }

    #[test]
    fn vm_fail_closed_is_recognised() {
        let report = include_str!("../tests/data/reports/sandbox-failclosed-vm.json");
        let expect = expected(json!({}), "run-os-sandboxed", "project-compile-run");
        let case = crate::plan::PlannedCase {
            id: crate::model::CaseId {
                fixture: "f".into(),
                case: "c".into(),
                profile: "sandbox".into(),
            },
            target: crate::plan::Target::Project {
                dir: ".".into(),
                profile: None,
            },
            world: "run-os-sandboxed".into(),
            input: None,
            run: Default::default(),
            expect,
            timeout: std::time::Duration::from_millis(100),
            ignore: None,
            source_file: "x07.json".into(),
            fixture_dir: ".".into(),
            description: None,
            problem: None,
            sandbox_backend: crate::config::SandboxBackend::Vm,
        };
        let verdict = check(&case, &output(report, 1));
        assert!(verdict.vm_fail_closed);
        assert!(!verdict.passed());
    }
}
