//! The verdict of one `x07 test` call: the test's result is read from the report
//! (`x07.x07test@0.4.x`), not only from the exit code, and compared with the entry's
//! `expect` (x07-test notes §6): as expected are `pass` under `expect: pass`,
//! `xfail_fail` under `expect: fail` and `skip` under `expect: skip`; every other status
//! fails the case. The exit code is a cross-check (§2.2): 0 when the test went as
//! expected, else 11 for a compile failure, 12 for a run failure, 10 otherwise.

use base64::Engine as _;
use serde_json::Value;

use super::report::{Diag, Status, TestResult, X07TestReport, REPORT_FAMILY};
use super::{Expect, ManifestTest};
use crate::check::Verdict;
use crate::failure::{
    AssertBytes, BytesPrefix, Counterexample, CounterexampleParam, Failure, ParamValue,
    ProcessExit, TestOutcome, X07TestFailure,
};
use crate::plan::PlannedCase;
use crate::run::RunOutput;

/// Exit code of a call whose tests all went as expected.
pub const EXIT_OK: i32 = 0;
/// Exit code when a status differs from `expect` without a compile or run failure.
pub const EXIT_UNEXPECTED: i32 = 10;
/// Exit code when a test failed to compile.
pub const EXIT_COMPILE_FAILURE: i32 = 11;
/// Exit code when a test's run failed (trap, fuel, limit, contract, denial).
pub const EXIT_RUN_FAILURE: i32 = 12;

/// Checks one `x07 test` call of `test`.
pub fn check(case: &PlannedCase, test: &ManifestTest, output: &RunOutput) -> Verdict {
    let mut verdict = Verdict::default();
    if output.timed_out {
        verdict.runner_crashed = true;
        verdict.failures.push(Failure::Timeout {
            limit: case.timeout,
        });
        return verdict;
    }
    if let Some(failure) = crate::check::cut_report(output) {
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
                exit: ProcessExit {
                    code: output.exit_code,
                    signal: output.signal,
                },
            });
            return verdict;
        }
    };
    let failures = judge(test, &value, output.exit_code);
    verdict.runner_crashed = failures.iter().any(|failure| {
        matches!(
            failure,
            Failure::X07Test(X07TestFailure::ReportShape { .. })
                | Failure::X07Test(X07TestFailure::ReportVersion { .. })
        )
    });
    verdict.vm_fail_closed = failures.iter().any(|failure| match failure {
        Failure::X07Test(X07TestFailure::Status(outcome)) => outcome
            .compile_error
            .as_deref()
            .is_some_and(|error| error.contains("firecracker")),
        _ => false,
    });
    verdict.failures = failures;
    verdict.report = Some(value);
    verdict
}

fn judge(test: &ManifestTest, value: &Value, exit_code: Option<i32>) -> Vec<Failure> {
    let fail = |failure: X07TestFailure| vec![Failure::X07Test(failure)];
    let report = match X07TestReport::from_value(value) {
        Ok(report) => report,
        Err(error) => {
            return fail(X07TestFailure::ReportShape {
                error: error.to_string(),
            })
        }
    };
    if !report.schema_version.starts_with(REPORT_FAMILY) {
        return fail(X07TestFailure::ReportVersion {
            actual: report.schema_version,
        });
    }
    let Some(result) = report.tests.iter().find(|result| result.id == test.id) else {
        if report.tests.is_empty() && report.summary.errors > 0 {
            return fail(X07TestFailure::ManifestRefused {
                errors: report.summary.errors,
            });
        }
        return fail(X07TestFailure::TestMissing {
            id: test.id.clone(),
            reported: report.tests.iter().map(|t| t.id.clone()).collect(),
        });
    };
    let status = Status::parse(&result.status);
    let as_expected = matches!(
        (test.expect, &status),
        (Expect::Pass, Status::Pass)
            | (Expect::Fail, Status::XfailFail)
            | (Expect::Skip, Status::Skip)
    );
    let mut failures = Vec::new();
    if !as_expected {
        failures.push(Failure::X07Test(X07TestFailure::Status(Box::new(outcome(
            test, result,
        )))));
    }
    let implied = implied_exit_code(as_expected, result);
    if exit_code != Some(implied) {
        failures.push(Failure::X07Test(X07TestFailure::ExitCode {
            expected: implied,
            actual: exit_code,
        }));
    }
    failures
}

/// The exit code x07 gives a call whose one test ended like `result` (§2.2).
pub fn implied_exit_code(as_expected: bool, result: &TestResult) -> i32 {
    if result.compile.as_ref().is_some_and(|compile| !compile.ok) {
        EXIT_COMPILE_FAILURE
    } else if result.run.as_ref().is_some_and(|run| !run.ok) {
        EXIT_RUN_FAILURE
    } else if as_expected {
        EXIT_OK
    } else {
        EXIT_UNEXPECTED
    }
}

fn outcome(test: &ManifestTest, result: &TestResult) -> TestOutcome {
    let diag = |code: &str| result.diags.iter().find(|diag| diag.code == code);
    let engine = base64::engine::general_purpose::STANDARD;
    TestOutcome {
        expect: test.expect.as_str().to_string(),
        status: result.status.clone(),
        failure_code: result
            .run
            .as_ref()
            .and_then(|run| run.failure_code_u32)
            .filter(|code| *code != 0),
        assert_bytes: diag("X07T_ASSERT_BYTES_EQ").and_then(assert_bytes),
        trap: diag("X07T_RUN_TRAP").and_then(|diag| {
            diag.details
                .as_ref()
                .and_then(|details| details.get("trap"))
                .and_then(Value::as_str)
                .map(str::to_string)
        }),
        compile_error: diag("ETEST_COMPILE").map(|diag| diag.message.clone()),
        counterexample: diag("X07T_EPBT_FAIL").and_then(counterexample),
        diags: result
            .diags
            .iter()
            .map(|diag| (diag.code.clone(), diag.message.clone()))
            .collect(),
        failure_kind: result.failure_kind.clone(),
        contract_repro_path: result.contract_repro_path.clone(),
        compile_ok: result.compile.as_ref().map(|compile| compile.ok),
        run_ok: result.run.as_ref().map(|run| run.ok),
        run_exit_code: result.run.as_ref().and_then(|run| run.exit_code),
        program_stderr: result
            .run
            .as_ref()
            .and_then(|run| run.stderr_b64.as_deref())
            .and_then(|b64| engine.decode(b64).ok())
            .filter(|bytes| !bytes.is_empty()),
    }
}

fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

fn prefix(side: &Value) -> Option<BytesPrefix> {
    Some(BytesPrefix {
        len: side.get("len")?.as_u64()?,
        prefix: hex_bytes(side.get("prefix_hex")?.as_str()?)?,
    })
}

fn assert_bytes(diag: &Diag) -> Option<AssertBytes> {
    let details = diag.details.as_ref()?;
    Some(AssertBytes {
        got: prefix(details.get("got")?)?,
        expected: prefix(details.get("expected")?)?,
    })
}

fn counterexample(diag: &Diag) -> Option<Counterexample> {
    let details = diag.details.as_ref()?;
    let engine = base64::engine::general_purpose::STANDARD;
    let params = details
        .pointer("/counterexample/params")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|param| {
            let text = |key: &str| {
                param
                    .get(key)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let value = if let Some(number) = param.get("value").and_then(Value::as_i64) {
                ParamValue::Int(number)
            } else if let Some(bytes) = param
                .get("b64")
                .and_then(Value::as_str)
                .and_then(|b64| engine.decode(b64).ok())
            {
                ParamValue::Bytes(bytes)
            } else {
                ParamValue::Other(param.get("value").map(Value::to_string).unwrap_or_default())
            };
            CounterexampleParam {
                name: text("name"),
                ty: text("ty"),
                value,
            }
        })
        .collect();
    Some(Counterexample {
        params,
        assert_code: details
            .pointer("/failure/assert_code_u32")
            .and_then(Value::as_u64)
            .and_then(|code| u32::try_from(code).ok()),
        cases_attempted: details.pointer("/cases/attempted").and_then(Value::as_u64),
        shrinking: details
            .pointer("/shrinking/result")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::PathBuf;

    fn test(id: &str, expect: Expect) -> ManifestTest {
        ManifestTest {
            manifest: PathBuf::from("/ws/m/tests/tests.json"),
            copy_root: PathBuf::from("/ws/m"),
            manifest_in_copy: PathBuf::from("tests/tests.json"),
            schema_version: "x07.tests_manifest@0.2.0".into(),
            id: id.into(),
            entry: Default::default(),
            expect,
        }
    }

    fn report(tests: Value, errors: u64) -> Value {
        json!({
            "schema_version": "x07.x07test@0.4.0",
            "summary": { "passed": 0, "failed": 0, "skipped": 0, "errors": errors, "xfail_passed": 0,
                         "xfail_failed": 0, "duration_ms": 0, "compile_failures": 0, "run_failures": 0 },
            "tests": tests
        })
    }

    fn names(failures: &[Failure]) -> Vec<&'static str> {
        failures
            .iter()
            .map(|failure| match failure {
                Failure::X07Test(X07TestFailure::Status(_)) => "status",
                Failure::X07Test(X07TestFailure::ExitCode { .. }) => "exit_code",
                Failure::X07Test(X07TestFailure::ManifestRefused { .. }) => "refused",
                Failure::X07Test(X07TestFailure::TestMissing { .. }) => "missing",
                Failure::X07Test(X07TestFailure::ReportVersion { .. }) => "version",
                Failure::X07Test(X07TestFailure::ReportShape { .. }) => "shape",
                _ => "other",
            })
            .collect()
    }

    #[test]
    fn statuses_against_expect() {
        let one = |status: &str, run_ok: bool| {
            report(
                json!([{ "id": "t", "status": status, "compile": { "ok": true }, "run": { "ok": run_ok } }]),
                0,
            )
        };
        let judge_of =
            |expect, value: Value, code| names(&judge(&test("t", expect), &value, Some(code)));
        assert!(judge_of(Expect::Pass, one("pass", true), 0).is_empty());
        assert!(judge_of(Expect::Fail, one("xfail_fail", true), 0).is_empty());
        assert_eq!(judge_of(Expect::Pass, one("fail", true), 10), ["status"]);
        assert_eq!(
            judge_of(Expect::Fail, one("xfail_pass", true), 10),
            ["status"]
        );
        assert_eq!(judge_of(Expect::Pass, one("skip", true), 10), ["status"]);
        assert_eq!(judge_of(Expect::Fail, one("error", false), 12), ["status"]);
        // The exit code is a cross-check.
        assert_eq!(judge_of(Expect::Pass, one("pass", true), 10), ["exit_code"]);
        assert_eq!(
            judge_of(Expect::Pass, one("error", false), 10),
            ["status", "exit_code"]
        );
    }

    #[test]
    fn refused_manifests_missing_tests_and_foreign_reports() {
        let judge_of = |value: Value| names(&judge(&test("t", Expect::Pass), &value, Some(12)));
        assert_eq!(judge_of(report(json!([]), 2)), ["refused"]);
        assert_eq!(
            judge_of(report(json!([{ "id": "other", "status": "pass" }]), 0)),
            ["missing"]
        );
        let mut foreign = report(json!([]), 0);
        foreign["schema_version"] = "x07-os-runner.report@0.5.0".into();
        assert_eq!(judge_of(foreign), ["version"]);
        assert_eq!(judge_of(json!({ "tests": 3 })), ["shape"]);
    }

    #[test]
    fn bytes_and_counterexamples_are_read_from_the_diagnostics() {
        let diag = Diag {
            code: "X07T_ASSERT_BYTES_EQ".into(),
            message: "assert_bytes_eq failed".into(),
            details: Some(json!({
                "expected": { "len": 11, "prefix_hex": "68656c6c6f207468657265", "prefix_utf8_lossy": "hello there" },
                "got": { "len": 11, "prefix_hex": "68656c6c6f20776f726c64", "prefix_utf8_lossy": "hello world" },
                "prefix_max_bytes": 64
            })),
        };
        let bytes = assert_bytes(&diag).unwrap();
        assert_eq!(bytes.got.prefix, b"hello world");
        assert_eq!(bytes.expected.prefix, b"hello there");
        let pbt = Diag {
            code: "X07T_EPBT_FAIL".into(),
            message: "property failed".into(),
            details: Some(json!({
                "cases": { "attempted": 3, "configured": 100 },
                "counterexample": { "params": [ { "b64": "AAAA", "len": 3, "name": "b", "ty": "bytes" }, { "name": "x", "ty": "i32", "value": 101 } ] },
                "failure": { "assert_code_u32": 7, "kind": "assert" },
                "shrinking": { "result": "minimal_found" }
            })),
        };
        let found = counterexample(&pbt).unwrap();
        assert_eq!(found.params[0].value, ParamValue::Bytes(vec![0, 0, 0]));
        assert_eq!(found.params[1].value, ParamValue::Int(101));
        assert_eq!(found.assert_code, Some(7));
        assert_eq!(hex_bytes("0g"), None);
    }
}
