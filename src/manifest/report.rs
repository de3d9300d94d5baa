//! The report `x07 test` prints: `x07.x07test@0.4.0` (x07-test notes §3.1–3.3), as serde
//! types. Only what cargo-x07 reads is typed; unknown keys are ignored (x07 adds keys
//! for sandboxed runs and evidence checks), and optional keys default.

use serde::Deserialize;
use serde_json::Value;

/// The report family cargo-x07 reads (`x07.x07test@0.4.x`).
pub const REPORT_FAMILY: &str = "x07.x07test@0.4.";

/// One `x07 test` report.
#[derive(Debug, Clone, Deserialize)]
pub struct X07TestReport {
    /// `x07.x07test@0.4.0`.
    pub schema_version: String,
    /// Counts of the whole call.
    pub summary: Summary,
    /// One result per selected test, sorted by id.
    pub tests: Vec<TestResult>,
}

/// The report's `summary`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Summary {
    /// Tests that passed.
    #[serde(default)]
    pub passed: u64,
    /// Tests that failed.
    #[serde(default)]
    pub failed: u64,
    /// Tests skipped.
    #[serde(default)]
    pub skipped: u64,
    /// Tests in error — or, with no tests, the number of manifest problems.
    #[serde(default)]
    pub errors: u64,
    /// Tests whose `compile.ok` is false.
    #[serde(default)]
    pub compile_failures: u64,
    /// Tests whose `run.ok` is false.
    #[serde(default)]
    pub run_failures: u64,
}

/// How a test ended (`status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// It passed.
    Pass,
    /// An assertion (or the status record) failed.
    Fail,
    /// Not run (`expect: skip`, fail-fast) or the test reported skip.
    Skip,
    /// It could not compile or run (trap, fuel, timeout, contract, bad status bytes, …).
    Error,
    /// `expect: fail` but it passed.
    XfailPass,
    /// `expect: fail` and it failed as expected.
    XfailFail,
    /// A status this version of cargo-x07 does not know.
    Other(String),
}

impl Status {
    /// Reads a `status` value.
    pub fn parse(text: &str) -> Status {
        match text {
            "pass" => Status::Pass,
            "fail" => Status::Fail,
            "skip" => Status::Skip,
            "error" => Status::Error,
            "xfail_pass" => Status::XfailPass,
            "xfail_fail" => Status::XfailFail,
            other => Status::Other(other.to_string()),
        }
    }
}

/// One element of `tests`.
#[derive(Debug, Clone, Deserialize)]
pub struct TestResult {
    /// The test id.
    pub id: String,
    /// Its world.
    #[serde(default)]
    pub world: String,
    /// Its `expect` (`pass` / `fail` / `skip`).
    #[serde(default)]
    pub expect: String,
    /// `pass fail skip error xfail_pass xfail_fail`.
    pub status: String,
    /// Compile + run time of this test.
    #[serde(default)]
    pub duration_ms: u64,
    /// `contract_violation`, `runtime_attestation_missing`, …
    #[serde(default)]
    pub failure_kind: Option<String>,
    /// Where x07 wrote the contract violation's repro (relative to its working directory).
    #[serde(default)]
    pub contract_repro_path: Option<String>,
    /// The entry function.
    #[serde(default)]
    pub entry: String,
    /// The compile step; absent when the test never compiled.
    #[serde(default)]
    pub compile: Option<Compile>,
    /// The run; absent when it never ran.
    #[serde(default)]
    pub run: Option<Run>,
    /// What x07 says about it.
    #[serde(default)]
    pub diags: Vec<Diag>,
}

/// `compile` of a test.
#[derive(Debug, Clone, Deserialize)]
pub struct Compile {
    /// Whether it compiled.
    pub ok: bool,
}

/// `run` of a test.
#[derive(Debug, Clone, Deserialize)]
pub struct Run {
    /// Whether the run finished (false for a trap, fuel, a limit, a contract, a denial).
    pub ok: bool,
    /// The runner's exit code (0; 132 trap/fuel; 137 killed).
    #[serde(default)]
    pub exit_code: Option<i64>,
    /// The program's stderr, base64 (a statistics line, or the trap text).
    #[serde(default)]
    pub stderr_b64: Option<String>,
    /// The assertion or status code of a failed test (0 when it passed).
    #[serde(default)]
    pub failure_code_u32: Option<u32>,
}

/// One diagnostic of a test.
#[derive(Debug, Clone, Deserialize)]
pub struct Diag {
    /// `X07T_ASSERT_BYTES_EQ`, `X07T_RUN_TRAP`, `ETEST_COMPILE`, …
    pub code: String,
    /// Its message.
    #[serde(default)]
    pub message: String,
    /// Structured details, when any.
    #[serde(default)]
    pub details: Option<Value>,
}

impl X07TestReport {
    /// Reads a report from parsed JSON.
    pub fn from_value(value: &Value) -> Result<X07TestReport, serde_json::Error> {
        X07TestReport::deserialize(value)
    }
}
