//! Checking: parse the runner's stdout as a report, validate it against
//! `schemas/x07-os-runner.report.schema.json`, read it as the shared report type
//! ([`x07_lite::report::model::RunnerReport`]), then compare it with the expectations in
//! the documented order, collecting **every** failed check as a [`Failure`]. A manifest
//! case's `x07 test` report is checked by [`crate::manifest::check`].

use std::sync::OnceLock;

use serde_json::Value;
use x07_lite::report::model::RunnerReport;

use crate::failure::{Failure, FlagField, LabelField, ProcessExit, TextExpectation, TextField};
use crate::fixture::schema_problems;
use crate::plan::{Expected, NullableTextCheck, PlannedCase, SchemaVersionCheck, TextMatch};
use crate::run::RunOutput;

/// The report JSON Schema, as shipped in `schemas/`.
pub const REPORT_SCHEMA_TEXT: &str = include_str!("../schemas/x07-os-runner.report.schema.json");

/// The report schema versions cargo-x07 accepts by default.
pub const SUPPORTED_REPORT_FAMILY: &str = "x07-os-runner.report@0.5.x";

/// The report schema's three shapes, by `mode`, and the `$defs` entry of each.
const REPORT_SHAPES: [(&str, &str); 3] = [
    ("run-os", "run_os_report"),
    ("compile-run", "compile_run_report"),
    ("project-compile-run", "project_compile_run_report"),
];

/// Validators for the whole report schema (index 0, `oneOf` the shapes) and for each
/// shape alone (indices 1..=3, as in [`REPORT_SHAPES`]): a report is checked against the
/// shape its `mode` names, so a violation is reported where it is (`/solve: …`) rather
/// than as "not valid under any of the schemas listed in oneOf" with the whole report.
fn report_validators() -> &'static [jsonschema::Validator; 4] {
    static VALIDATORS: OnceLock<[jsonschema::Validator; 4]> = OnceLock::new();
    VALIDATORS.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(REPORT_SCHEMA_TEXT).expect("bundled report schema is JSON");
        let compile = |schema: &Value| {
            jsonschema::validator_for(schema).expect("bundled report schema compiles")
        };
        let shape = |definition: &str| {
            let mut one = schema.clone();
            if let Some(object) = one.as_object_mut() {
                object.remove("oneOf");
                object.insert(
                    "$ref".into(),
                    Value::String(format!("#/$defs/{definition}")),
                );
            }
            compile(&one)
        };
        [
            compile(&schema),
            shape(REPORT_SHAPES[0].1),
            shape(REPORT_SHAPES[1].1),
            shape(REPORT_SHAPES[2].1),
        ]
    })
}

/// At most this many characters of a schema violation are kept (a violation of a
/// whole object quotes the object).
const SCHEMA_PROBLEM_WIDTH: usize = 300;

/// Lists the report's schema violations as `<json pointer>: <message>` (empty when it
/// validates), against the shape its `mode` names when it names one.
pub fn report_schema_problems(report: &Value) -> Vec<String> {
    let validators = report_validators();
    let mode = report.get("mode").and_then(Value::as_str);
    let validator = REPORT_SHAPES
        .iter()
        .position(|(shape_mode, _)| Some(*shape_mode) == mode)
        .map_or(&validators[0], |index| &validators[index + 1]);
    schema_problems(validator, report)
        .into_iter()
        .map(|problem| {
            let line = format!("{}: {}", problem.pointer, problem.message);
            if line.chars().count() > SCHEMA_PROBLEM_WIDTH {
                let cut: String = line.chars().take(SCHEMA_PROBLEM_WIDTH).collect();
                format!("{cut}…")
            } else {
                line
            }
        })
        .collect()
}

/// The values read from a report, for checks, messages and bless.
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

impl Actual {
    /// The checked values of the embedded runner's report, handed over in-process: the
    /// output and the program's stderr are bytes already (nothing to decode).
    pub fn of_embedded(report: &x07_lite::report::RunnerReport) -> Actual {
        let solve = report.solve.as_ref();
        Actual {
            schema_version: Some(x07_lite::report::RUNNER_REPORT_SCHEMA_VERSION.to_string()),
            mode: Some(report.mode.as_str().to_string()),
            world: Some(report.world.clone()),
            exit_code: Some(i64::from(report.exit_code())),
            compile_ok: Some(report.compile.ok),
            solve_ok: solve.map(|solve| solve.ok),
            exit_status: solve.map(|solve| i64::from(solve.exit_status)),
            output: solve.map(|solve| solve.solve_output().to_vec()),
            trap: solve.and_then(|solve| solve.trap.clone()),
            compile_error: report.compile.compile_error.clone(),
            solve_stderr: solve.map(|solve| solve.stderr.clone()),
            solved: solve.is_some(),
        }
    }

    /// The checked values of a report.
    pub fn of(report: &RunnerReport) -> Actual {
        let solve = report.solve.as_ref();
        let compile = report.compile.as_ref();
        Actual {
            schema_version: Some(report.schema_version.clone()),
            mode: Some(report.mode.clone()),
            world: Some(report.world.clone()),
            exit_code: Some(report.exit_code),
            compile_ok: compile.map(|compile| compile.ok),
            solve_ok: solve.map(|solve| solve.ok),
            exit_status: solve.map(|solve| solve.exit_status),
            output: report.output(),
            trap: solve.and_then(|solve| solve.trap.clone()),
            compile_error: compile.and_then(|compile| compile.compile_error.clone()),
            solve_stderr: report.solve_stderr(),
            solved: solve.is_some(),
        }
    }
}

/// The outcome of checking one run.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    /// Every failed check, in check order.
    pub failures: Vec<Failure>,
    /// The report as printed, when stdout was JSON.
    pub report: Option<Value>,
    /// The values read from the report, when it could be read as a report.
    pub actual: Option<Actual>,
    /// The report is the VM backend's fail-closed report.
    pub vm_fail_closed: bool,
    /// The runner timed out, was killed, or printed no readable report: never bless from this.
    pub runner_crashed: bool,
}

impl Verdict {
    /// Whether every check held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The failure of a runner whose stdout went past its capture limit
/// ([`crate::run::CaptureLimits`]): more than any report can need, so no report is read.
pub fn cut_report(output: &RunOutput) -> Option<Failure> {
    (output.stdout_dropped > 0).then(|| Failure::NoReport {
        parse_error: Some(format!(
            "more than any report can need: cut after {} bytes, {} more bytes not kept",
            output.stdout.len(),
            output.stdout_dropped
        )),
        exit: ProcessExit {
            code: output.exit_code,
            signal: output.signal,
        },
    })
}

/// Checks one run of `case`.
pub fn check(case: &PlannedCase, output: &RunOutput) -> Verdict {
    if let crate::plan::Target::TestManifest(test) = &case.target {
        return crate::manifest::check::check(case, test, output);
    }
    let mut verdict = Verdict::default();
    if output.timed_out {
        verdict.runner_crashed = true;
        verdict.failures.push(Failure::Timeout {
            limit: case.timeout,
        });
        return verdict;
    }
    let exit = ProcessExit {
        code: output.exit_code,
        signal: output.signal,
    };
    if let Some(report) = &output.report {
        // The embedded runner's report, as data: built by x07-lite's report code (whose
        // every kind of report the runner's tests validate against the schema), so it
        // is not printed, parsed and validated again here.
        let actual = Actual::of_embedded(report);
        verdict.vm_fail_closed = report
            .compile
            .trap
            .as_deref()
            .is_some_and(|trap| trap.starts_with("vm backend failure"));
        verdict
            .failures
            .extend(compare(&case.expect, &actual, output));
        verdict.actual = Some(actual);
        return verdict;
    }
    if let Some(failure) = cut_report(output) {
        verdict.runner_crashed = true;
        verdict.failures.push(failure);
        return verdict;
    }
    let value: Value = match serde_json::from_slice(&output.stdout) {
        Ok(value) => value,
        Err(error) => {
            verdict.runner_crashed = true;
            verdict.failures.push(Failure::NoReport {
                parse_error: (!output.stdout.is_empty()).then(|| error.to_string()),
                exit,
            });
            return verdict;
        }
    };
    if output.exit_code.is_none() {
        verdict.runner_crashed = true;
    }
    let problems = report_schema_problems(&value);
    if !problems.is_empty() {
        verdict.failures.push(Failure::ReportSchema { problems });
    }
    match RunnerReport::from_value(&value) {
        Ok(report) => {
            let actual = Actual::of(&report);
            verdict.vm_fail_closed = report.is_vm_fail_closed();
            verdict
                .failures
                .extend(compare(&case.expect, &actual, output));
            verdict.actual = Some(actual);
        }
        Err(error) => {
            verdict.runner_crashed = true;
            verdict.failures.push(Failure::ReportShape {
                error: error.to_string(),
            });
        }
    }
    verdict.report = Some(value);
    verdict
}

/// The schema version check alone.
fn schema_version_holds(check: &SchemaVersionCheck, actual: Option<&str>) -> bool {
    match check {
        SchemaVersionCheck::Off => true,
        SchemaVersionCheck::SupportedFamily => actual.is_some_and(|version| {
            version
                .strip_prefix("x07-os-runner.report@0.5.")
                .is_some_and(|patch| !patch.is_empty() && patch.bytes().all(|b| b.is_ascii_digit()))
        }),
        SchemaVersionCheck::Exact(version) => actual == Some(version.as_str()),
    }
}

fn compare(expect: &Expected, actual: &Actual, output: &RunOutput) -> Vec<Failure> {
    let mut out = Vec::new();
    if !schema_version_holds(&expect.schema_version, actual.schema_version.as_deref()) {
        out.push(Failure::SchemaVersion {
            expected: expect.schema_version.clone(),
            actual: actual.schema_version.clone(),
        });
    }
    for (field, expected, got) in [
        (LabelField::Mode, &expect.mode, &actual.mode),
        (LabelField::World, &expect.world, &actual.world),
    ] {
        if let Some(expected) = expected {
            if got.as_deref() != Some(expected.as_str()) {
                out.push(Failure::Label {
                    field,
                    expected: expected.clone(),
                    actual: got.clone(),
                });
            }
        }
    }
    if let Some(expected) = expect.exit_code {
        if actual.exit_code != Some(expected) {
            out.push(Failure::ExitCode {
                expected,
                actual: actual.exit_code,
            });
        } else if output.exit_code.map(i64::from) != Some(expected) {
            out.push(Failure::ProcessExitDiffers {
                report: expected,
                process: output.exit_code,
            });
        }
    }
    for (field, expected, got) in [
        (FlagField::CompileOk, expect.compile_ok, actual.compile_ok),
        (FlagField::SolveOk, expect.solve_ok, actual.solve_ok),
    ] {
        if let Some(expected) = expected {
            if got != Some(expected) {
                out.push(Failure::Flag {
                    field,
                    expected,
                    actual: got,
                    solved: actual.solved,
                });
            }
        }
    }
    if let Some(expected) = expect.exit_status {
        if actual.exit_status != Some(expected) {
            out.push(Failure::ExitStatus {
                expected,
                actual: actual.exit_status,
            });
        }
    }
    if let Some(expected) = &expect.output {
        if actual.output.as_deref() != Some(expected.bytes.as_slice()) {
            out.push(Failure::Output {
                expected: expected.clone(),
                actual: actual.output.clone(),
            });
        }
    }
    for (field, expected, got) in [
        (TextField::Trap, &expect.trap, &actual.trap),
        (
            TextField::CompileError,
            &expect.compile_error,
            &actual.compile_error,
        ),
    ] {
        match expected {
            NullableTextCheck::Off => {}
            NullableTextCheck::MustBeNull => {
                if got.is_some() {
                    out.push(Failure::Text {
                        field,
                        expected: TextExpectation::Null,
                        actual: got.clone(),
                    });
                }
            }
            NullableTextCheck::Matches(matcher) => {
                if !got.as_deref().is_some_and(|got| matcher.matches(got)) {
                    out.push(Failure::Text {
                        field,
                        expected: TextExpectation::Matches(matcher.clone()),
                        actual: got.clone(),
                    });
                }
            }
        }
    }
    let mut text_check = |field: TextField, matcher: &Option<TextMatch>, got: Option<&[u8]>| {
        if let Some(matcher) = matcher {
            let got = got.map(|bytes| String::from_utf8_lossy(bytes).into_owned());
            if !got.as_deref().is_some_and(|got| matcher.matches(got)) {
                out.push(Failure::Text {
                    field,
                    expected: TextExpectation::Matches(matcher.clone()),
                    actual: got,
                });
            }
        }
    };
    text_check(TextField::Stderr, &expect.stderr, Some(&output.stderr));
    text_check(
        TextField::SolveStderr,
        &expect.solve_stderr,
        actual.solve_stderr.as_deref(),
    );
    out
}

/// Where two different outputs first part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstDifference {
    /// Byte offset of the first differing byte (or of the end of the shorter side).
    pub offset: usize,
    /// 1-based line of that offset in the expected bytes.
    pub line: usize,
    /// 1-based column (in characters) on that line.
    pub column: usize,
    /// How the two sides part.
    pub kind: DifferenceKind,
}

/// How two outputs part at their first difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DifferenceKind {
    /// A byte differs.
    Byte,
    /// The actual output ends there; the expected one continues.
    ActualEnds,
    /// The expected output ends there; the actual one continues.
    ExpectedEnds,
}

/// Where `expected` and `actual` first differ.
pub fn first_difference(expected: &[u8], actual: &[u8]) -> FirstDifference {
    let common = expected.len().min(actual.len());
    let offset = expected
        .iter()
        .zip(actual)
        .position(|(e, a)| e != a)
        .unwrap_or(common);
    let before = &expected[..offset];
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
    let kind = if offset < common {
        DifferenceKind::Byte
    } else if expected.len() > actual.len() {
        DifferenceKind::ActualEnds
    } else {
        DifferenceKind::ExpectedEnds
    };
    FirstDifference {
        offset,
        line,
        column,
        kind,
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

    fn actual_of(stdout: &str) -> Actual {
        let report: Value = serde_json::from_str(stdout).unwrap();
        Actual::of(&RunnerReport::from_value(&report).unwrap())
    }

    fn case_with(expect: &Expected) -> crate::plan::PlannedCase {
        let target = crate::plan::Target::Project {
            dir: ".".into(),
            profile: None,
        };
        crate::plan::PlannedCase {
            expect: expect.clone(),
            timeout: std::time::Duration::from_millis(100),
            ..crate::plan::PlannedCase::for_test("run-os", "os", target)
        }
    }

    fn checks(expect: &Expected, stdout: &str, code: i32) -> Vec<&'static str> {
        check(&case_with(expect), &output(stdout, code))
            .failures
            .iter()
            .map(crate::message::check_name)
            .collect()
    }

    #[test]
    fn output_mismatch_names_the_first_differing_offset() {
        let expect = expected(
            json!({ "output": { "text": "DATA-IN-RooT" } }),
            "run-os-sandboxed",
            "project-compile-run",
        );
        let failures = compare(&expect, &actual_of(OK_REPORT), &output(OK_REPORT, 0));
        assert_eq!(
            crate::message::failure_summary(&failures[0]),
            "output: expected 12 bytes (from text), got 12 bytes; \
             first difference at offset 9 (line 1, column 10)"
        );
    }

    #[test]
    fn first_difference_covers_lines_prefixes_and_characters() {
        let at = |e: &[u8], a: &[u8]| {
            let first = first_difference(e, a);
            (first.offset, first.line, first.column, first.kind)
        };
        assert_eq!(at(b"a\nbc\n", b"a\nbd\n"), (3, 2, 2, DifferenceKind::Byte));
        assert_eq!(at(b"abc", b"ab"), (2, 1, 3, DifferenceKind::ActualEnds));
        assert_eq!(at(b"", b"x"), (0, 1, 1, DifferenceKind::ExpectedEnds));
        assert_eq!(
            at("xé-1".as_bytes(), "xé-2".as_bytes()),
            (4, 1, 4, DifferenceKind::Byte)
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
        let case = case_with(&case_expect);
        let verdict = check(&case, &output("garbage", 1));
        assert!(verdict.runner_crashed);
        assert!(
            crate::message::failure_summary(&verdict.failures[0]).contains("not JSON"),
            "{:?}",
            verdict.failures
        );
        let timed_out = RunOutput {
            timed_out: true,
            ..RunOutput::default()
        };
        let verdict = check(&case, &timed_out);
        assert!(verdict.runner_crashed);
        assert!(crate::message::failure_summary(&verdict.failures[0]).contains("100 ms"));
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
            problems: Vec::new(),
            sandbox_backend: crate::config::SandboxBackend::Vm,
        };
        let verdict = check(&case, &output(report, 1));
        assert!(verdict.vm_fail_closed);
        assert!(!verdict.passed());
    }

    /// The embedded runner's report read as data gives the same values as its printed
    /// JSON read back, for every shape of report.
    #[test]
    fn embedded_reports_read_as_their_printed_json() {
        use x07_lite::report::{CompileSection, RunMode, RunnerReport as Lite, SolveSection};
        let solve = |ok: bool, status: i32, stdout: &[u8], stderr: &[u8], trap: Option<&str>| {
            SolveSection {
                ok,
                exit_status: status,
                stdout: stdout.to_vec(),
                stderr: stderr.to_vec(),
                metrics: Some(json!({"fuel_used": 3})),
                trap: trap.map(str::to_string),
                trap_help: None,
            }
        };
        let reports = [
            Lite {
                mode: RunMode::ProjectCompileRun,
                world: "run-os".into(),
                sandbox_backend: None,
                compile: CompileSection::success("run-os"),
                solve: Some(solve(true, 0, b"\x02\x00\x00\x00hi", b"{}\n", None)),
            },
            Lite {
                mode: RunMode::CompileRun,
                world: "run-os-sandboxed".into(),
                sandbox_backend: Some("os".into()),
                compile: CompileSection::success("run-os-sandboxed"),
                solve: Some(solve(
                    false,
                    132,
                    b"",
                    b"err\nfuel exhausted\n",
                    Some("fuel exhausted"),
                )),
            },
            Lite {
                mode: RunMode::ProjectCompileRun,
                world: "run-os".into(),
                sandbox_backend: None,
                compile: CompileSection::failure("run-os", "Parse: bad".into(), None, Vec::new()),
                solve: None,
            },
            Lite {
                mode: RunMode::ProjectCompileRun,
                world: "run-os-sandboxed".into(),
                sandbox_backend: None,
                compile: CompileSection::vm_failure("run-os-sandboxed", "no vm"),
                solve: None,
            },
        ];
        for report in &reports {
            let printed = Actual::of(&RunnerReport::from_value(&report.to_value()).unwrap());
            assert_eq!(Actual::of_embedded(report), printed, "{report:?}");
        }
    }
}
