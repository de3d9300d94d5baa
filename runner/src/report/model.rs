//! The runner report (`x07-os-runner.report@0.5.x`) as serde types: the one description
//! of the report that the runner prints from and cargo-x07 reads back.
//!
//! The field names, types and nullability follow the report schema (see
//! `schemas/x07-os-runner.report.schema.json` in cargo-x07); the runner prints the
//! value of a [`RunnerReport`] with its keys sorted (see
//! [`crate::report::RunnerReport::to_value`]).
//!
//! A report has one of three shapes: `compile-run` and `project-compile-run` carry a
//! `compile` object and a `solve` object (or null); `run-os` carries the solve fields at
//! the top level. [`RunnerReport::from_value`] reads all three into [`RunnerReport`]
//! (`compile` is `None` for the flat shape). Unknown keys are ignored when reading, so a
//! newer patch version of the schema still reads.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `mode` of the flat report shape.
pub const FLAT_MODE: &str = "run-os";

/// A whole runner report. Fields are declared in sorted order, as printed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunnerReport {
    /// What the compiler did (`None` only in the flat `run-os` shape).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compile: Option<CompileResult>,
    /// 0 only when compile and solve both succeeded.
    pub exit_code: i64,
    /// `compile-run`, `project-compile-run` or `run-os`.
    pub mode: String,
    /// `os`, `vm` (or the observed `none`) for sandboxed runs; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox_backend: Option<String>,
    /// `x07-os-runner.report@0.5.<patch>`.
    pub schema_version: String,
    /// What the solver did; null when compilation failed.
    pub solve: Option<SolveResult>,
    /// The world the program ran in.
    pub world: String,
}

/// The `compile` object (`compiler_result` in the schema).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompileResult {
    /// Size of the generated C source (0 without a C backend).
    pub c_source_size: u64,
    /// The compile error text, when compilation failed.
    pub compile_error: Option<String>,
    /// Path of the compiled executable, if one was kept.
    pub compiled_exe: Option<String>,
    /// Its size in bytes.
    pub compiled_exe_size: Option<u64>,
    /// Structured diagnostics (only some errors have them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<Value>,
    /// 0 on success, 1 on a compile error.
    pub exit_status: i64,
    /// Fuel the compiler used (always null so far).
    pub fuel_used: Option<u64>,
    /// `x07-core@0.2.0`, or empty for the VM fail-closed report.
    pub lang_id: String,
    /// Native backends the program needs.
    pub native_requires: NativeRequires,
    /// Whether the program compiled.
    pub ok: bool,
    /// The compiler's stderr, base64.
    pub stderr_b64: String,
    /// The compiler's stdout, base64.
    pub stdout_b64: String,
    /// A compile-time trap (the VM backend's fail-closed message).
    pub trap: Option<String>,
}

/// `compile.native_requires`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NativeRequires {
    /// One object per native backend.
    pub requires: Vec<Value>,
    /// `x07.native-requires@0.1.0`.
    pub schema_version: String,
    /// The world compiled for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub world: Option<String>,
}

/// The `solve` object (`runner_result` in the schema), also the top level of the flat
/// shape. The metric fields hold the stats line's values as printed (null when absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolveResult {
    /// Debug counters.
    #[serde(default)]
    pub debug_stats: Value,
    /// Process exit code, or 128 + signal.
    pub exit_status: i64,
    /// Metric from the stats line.
    #[serde(default)]
    pub fs_list_dir_calls: Value,
    /// Metric from the stats line.
    #[serde(default)]
    pub fs_read_file_calls: Value,
    /// Metric from the stats line.
    #[serde(default)]
    pub fuel_used: Value,
    /// Metric from the stats line.
    #[serde(default)]
    pub heap_used: Value,
    /// Metric from the stats line.
    #[serde(default)]
    pub kv_get_calls: Value,
    /// Metric from the stats line.
    #[serde(default)]
    pub kv_set_calls: Value,
    /// Metric from the stats line.
    #[serde(default)]
    pub mem_stats: Value,
    /// Exit status 0 and no trap.
    pub ok: bool,
    /// Metric from the stats line.
    #[serde(default)]
    pub rr_append_calls: Value,
    /// Metric from the stats line.
    #[serde(default)]
    pub rr_close_calls: Value,
    /// Metric from the stats line.
    #[serde(default)]
    pub rr_next_calls: Value,
    /// Metric from the stats line.
    #[serde(default)]
    pub rr_next_miss_calls: Value,
    /// Metric from the stats line.
    #[serde(default)]
    pub rr_open_calls: Value,
    /// Metric from the stats line.
    #[serde(default)]
    pub rr_stats_calls: Value,
    /// Metric from the stats line.
    #[serde(default)]
    pub sched_stats: Value,
    /// The payload of the output frame, base64.
    pub solve_output_b64: String,
    /// The solver's stderr (stats line or trap text), base64.
    pub stderr_b64: String,
    /// The solver's raw (framed) stdout, base64.
    pub stdout_b64: String,
    /// The trap text, when the program trapped.
    pub trap: Option<String>,
    /// A hint for the trap.
    #[serde(default)]
    pub trap_help: Option<String>,
}

/// The flat `run-os` shape: the solve fields next to the report's own.
#[derive(Deserialize)]
struct FlatReport {
    exit_code: i64,
    mode: String,
    #[serde(default)]
    sandbox_backend: Option<String>,
    schema_version: String,
    world: String,
    #[serde(flatten)]
    solve: SolveResult,
}

impl RunnerReport {
    /// Reads a report of any of the three shapes.
    pub fn from_value(value: &Value) -> Result<RunnerReport, serde_json::Error> {
        if value.get("mode").and_then(Value::as_str) == Some(FLAT_MODE) {
            let flat = FlatReport::deserialize(value)?;
            return Ok(RunnerReport {
                compile: None,
                exit_code: flat.exit_code,
                mode: flat.mode,
                sandbox_backend: flat.sandbox_backend,
                schema_version: flat.schema_version,
                solve: Some(flat.solve),
                world: flat.world,
            });
        }
        RunnerReport::deserialize(value)
    }

    /// The decoded `solve_output_b64` (`None` without a solve or with bad base64).
    pub fn output(&self) -> Option<Vec<u8>> {
        decode(&self.solve.as_ref()?.solve_output_b64)
    }

    /// The decoded `solve.stderr_b64` (the program's stderr).
    pub fn solve_stderr(&self) -> Option<Vec<u8>> {
        decode(&self.solve.as_ref()?.stderr_b64)
    }

    /// The VM backend's fail-closed report (`compile.trap` starts with `vm backend failure`).
    pub fn is_vm_fail_closed(&self) -> bool {
        self.compile
            .as_ref()
            .and_then(|compile| compile.trap.as_deref())
            .is_some_and(|trap| trap.starts_with("vm backend failure"))
    }
}

/// Standard base64 to bytes; `None` when the text is not base64.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    B64.decode(text).ok()
}

/// Bytes to standard base64.
pub fn encode(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_flat_shape() {
        let value = serde_json::json!({
            "schema_version": "x07-os-runner.report@0.5.0", "mode": "run-os", "world": "run-os",
            "ok": true, "exit_code": 0, "exit_status": 0, "solve_output_b64": "QVJU",
            "stdout_b64": "", "stderr_b64": "", "trap": null, "fuel_used": 2
        });
        let report = RunnerReport::from_value(&value).unwrap();
        assert!(report.compile.is_none());
        assert_eq!(report.output().unwrap(), b"ART");
        assert_eq!(report.solve.unwrap().fuel_used, serde_json::json!(2));
    }

    #[test]
    fn a_wrong_type_is_an_error() {
        let value = serde_json::json!({
            "schema_version": "x07-os-runner.report@0.5.0", "mode": "compile-run", "world": "run-os",
            "exit_code": "zero", "compile": null, "solve": null
        });
        let error = RunnerReport::from_value(&value).unwrap_err().to_string();
        assert!(error.contains("invalid type"), "{error}");
    }
}
