//! The runner report (`x07-os-runner.report@0.5.0`) and the wrapped report
//! (`x07.run.report@0.3.0`), printed exactly as `x07 run` prints them: pretty JSON with a
//! two-space indent, keys sorted, and a trailing newline.
//!
//! The report's shape is described once, as serde types in [`model`]; the builders here
//! fill those types and print them.

pub mod model;

use serde_json::{json, Map, Value};

/// `schema_version` of the runner report.
pub const RUNNER_REPORT_SCHEMA_VERSION: &str = "x07-os-runner.report@0.5.0";
/// `schema_version` of the wrapped report.
pub const WRAPPED_REPORT_SCHEMA_VERSION: &str = "x07.run.report@0.3.0";
/// The language id reported by the real compiler.
pub const LANG_ID: &str = "x07-core@0.2.0";
/// `schema_version` of `compile.native_requires`.
pub const NATIVE_REQUIRES_SCHEMA_VERSION: &str = "x07.native-requires@0.1.0";

/// The `mode` of a compile-and-run report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// `--program` (or a project run with `--repair=memory`).
    CompileRun,
    /// A project target.
    ProjectCompileRun,
}

impl RunMode {
    /// The report spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RunMode::CompileRun => "compile-run",
            RunMode::ProjectCompileRun => "project-compile-run",
        }
    }
}

/// The `compile` object.
#[derive(Debug, Clone, PartialEq)]
pub struct CompileSection {
    /// Whether the program compiled.
    pub ok: bool,
    /// 0 on success, 1 on a compile error.
    pub exit_status: i32,
    /// `x07-core@0.2.0`, or empty for the VM-failure report.
    pub lang_id: String,
    /// World recorded in `native_requires.world`.
    pub world: String,
    /// `native_requires.requires` entries.
    pub native_requires: Vec<Value>,
    /// The compile error text.
    pub compile_error: Option<String>,
    /// Structured diagnostics (only some errors have them).
    pub diagnostics: Option<Value>,
    /// `compile.stderr_b64` bytes.
    pub stderr: Vec<u8>,
    /// `compile.trap`.
    pub trap: Option<String>,
    /// `compile.fuel_used`: the compiler's fuel, set when the program compiled
    /// (see [`crate::compile_fuel`]).
    pub fuel_used: Option<u64>,
}

impl CompileSection {
    /// A successful compile.
    pub fn success(world: &str) -> CompileSection {
        CompileSection {
            ok: true,
            exit_status: 0,
            lang_id: LANG_ID.to_string(),
            world: world.to_string(),
            native_requires: Vec::new(),
            compile_error: None,
            diagnostics: None,
            stderr: Vec::new(),
            trap: None,
            fuel_used: None,
        }
    }

    /// A failed compile with the compiler's message.
    pub fn failure(
        world: &str,
        message: String,
        diagnostics: Option<Value>,
        native_requires: Vec<Value>,
    ) -> CompileSection {
        CompileSection {
            ok: false,
            exit_status: 1,
            lang_id: LANG_ID.to_string(),
            world: world.to_string(),
            native_requires,
            compile_error: Some(message),
            diagnostics,
            stderr: Vec::new(),
            trap: None,
            fuel_used: None,
        }
    }

    /// The synthetic compile object of the VM fail-closed report.
    pub fn vm_failure(world: &str, message: &str) -> CompileSection {
        CompileSection {
            ok: false,
            exit_status: 1,
            lang_id: String::new(),
            world: world.to_string(),
            native_requires: Vec::new(),
            compile_error: Some(message.to_string()),
            diagnostics: None,
            stderr: message.as_bytes().to_vec(),
            trap: Some(format!("vm backend failure: {message}")),
            fuel_used: None,
        }
    }

    /// The `compile` object as the shared report type.
    pub fn to_model(&self) -> model::CompileResult {
        // x07-lite has no C compiler: the values of the C build are 0 / null, but
        // well-typed; the compiler's fuel is modelled.
        model::CompileResult {
            c_source_size: 0,
            compile_error: self.compile_error.clone(),
            compiled_exe: None,
            compiled_exe_size: None,
            diagnostics: self.diagnostics.clone(),
            exit_status: i64::from(self.exit_status),
            fuel_used: self.fuel_used,
            lang_id: self.lang_id.clone(),
            native_requires: model::NativeRequires {
                requires: self.native_requires.clone(),
                schema_version: NATIVE_REQUIRES_SCHEMA_VERSION.to_string(),
                world: Some(self.world.clone()),
            },
            ok: self.ok,
            stderr_b64: model::encode(&self.stderr),
            stdout_b64: String::new(),
            trap: self.trap.clone(),
        }
    }
}

/// The `solve` object: what the solver process did, after the framing rules.
#[derive(Debug, Clone, PartialEq)]
pub struct SolveSection {
    /// Exit status 0 and no trap.
    pub ok: bool,
    /// Process exit code, or 128 + signal.
    pub exit_status: i32,
    /// Raw (framed, possibly cut) stdout of the solver. When the solve is `ok` it is
    /// exactly the frame, so the output is not kept twice: see
    /// [`SolveSection::solve_output`].
    pub stdout: Vec<u8>,
    /// Raw stderr of the solver (stats line or trap text).
    pub stderr: Vec<u8>,
    /// The stats line, when metrics are reported.
    pub metrics: Option<Value>,
    /// The trap text.
    pub trap: Option<String>,
    /// A hint for the trap (only for fuel exhaustion).
    pub trap_help: Option<String>,
}

impl SolveSection {
    /// The payload of the output frame: the solver's stdout after the length prefix when
    /// the solve is `ok` (the framing rules held), else empty.
    pub fn solve_output(&self) -> &[u8] {
        if self.ok {
            self.stdout.get(4..).unwrap_or_default()
        } else {
            &[]
        }
    }

    /// The `solve` object as the shared report type.
    pub fn to_model(&self) -> model::SolveResult {
        let metric = |key: &str| {
            self.metrics
                .as_ref()
                .and_then(|metrics| metrics.get(key))
                .cloned()
                .unwrap_or(Value::Null)
        };
        model::SolveResult {
            debug_stats: Value::Null,
            exit_status: i64::from(self.exit_status),
            fs_list_dir_calls: metric("fs_list_dir_calls"),
            fs_read_file_calls: metric("fs_read_file_calls"),
            fuel_used: metric("fuel_used"),
            heap_used: metric("heap_used"),
            kv_get_calls: metric("kv_get_calls"),
            kv_set_calls: metric("kv_set_calls"),
            mem_stats: metric("mem_stats"),
            ok: self.ok,
            rr_append_calls: metric("rr_append_calls"),
            rr_close_calls: metric("rr_close_calls"),
            rr_next_calls: metric("rr_next_calls"),
            rr_next_miss_calls: metric("rr_next_miss_calls"),
            rr_open_calls: metric("rr_open_calls"),
            rr_stats_calls: metric("rr_stats_calls"),
            sched_stats: metric("sched_stats"),
            solve_output_b64: model::encode(self.solve_output()),
            stderr_b64: model::encode(&self.stderr),
            stdout_b64: model::encode(&self.stdout),
            trap: self.trap.clone(),
            trap_help: self.trap_help.clone(),
        }
    }
}

/// A whole runner report.
#[derive(Debug, Clone, PartialEq)]
pub struct RunnerReport {
    /// `compile-run` or `project-compile-run`.
    pub mode: RunMode,
    /// `run-os` or `run-os-sandboxed`.
    pub world: String,
    /// `os` / `none` for sandboxed runs; absent for run-os and the VM failure.
    pub sandbox_backend: Option<String>,
    /// The compile object.
    pub compile: CompileSection,
    /// The solve object (`null` when compile failed).
    pub solve: Option<SolveSection>,
}

impl RunnerReport {
    /// Top-level `exit_code`: 0 only when compile and solve both succeeded.
    pub fn exit_code(&self) -> i32 {
        match &self.solve {
            Some(solve) if self.compile.ok && solve.ok && solve.exit_status == 0 => 0,
            _ => 1,
        }
    }

    /// The report as the shared report type.
    pub fn to_model(&self) -> model::RunnerReport {
        model::RunnerReport {
            compile: Some(self.compile.to_model()),
            exit_code: i64::from(self.exit_code()),
            mode: self.mode.as_str().to_string(),
            sandbox_backend: self.sandbox_backend.clone(),
            schema_version: RUNNER_REPORT_SCHEMA_VERSION.to_string(),
            solve: self.solve.as_ref().map(SolveSection::to_model),
            world: self.world.clone(),
        }
    }

    /// The report as a JSON value (keys sorted).
    pub fn to_value(&self) -> Value {
        // Serialising these types cannot fail: their maps have string keys.
        let mut object = serde_json::to_value(self.to_model()).unwrap_or(Value::Null);
        sort_keys(&mut object);
        object
    }

    /// The report text exactly as `x07 run` prints it.
    pub fn to_text(&self) -> String {
        pretty_text(&self.to_value())
    }
}

/// Pretty JSON with a trailing newline (keys kept in the order of `value`).
pub fn pretty_text(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_string());
    text.push('\n');
    text
}

/// Sorts the keys of every object in `value`, recursively.
pub fn sort_keys(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            for (key, mut child) in entries {
                sort_keys(&mut child);
                map.insert(key, child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

/// `target` of the wrapped report.
#[derive(Debug, Clone, PartialEq)]
pub struct WrappedTarget {
    /// `project` or `program`.
    pub kind: &'static str,
    /// The target path (absolute for a discovered project, as typed for `--program`).
    pub path: String,
    /// Absolute project root, if any.
    pub project_root: Option<String>,
    /// Absolute lockfile path, if any.
    pub lockfile: Option<String>,
    /// Module roots used for the compile.
    pub resolved_module_roots: Vec<String>,
}

/// The `--report wrapped` text: the fixed-order header, then the runner report text
/// embedded as it was printed (the real tool does not re-indent it).
pub fn wrapped_text(
    world: &str,
    target: &WrappedTarget,
    repair_mode: Option<&str>,
    runner_text: &str,
) -> String {
    let mut header = Map::new();
    header.insert(
        "schema_version".into(),
        WRAPPED_REPORT_SCHEMA_VERSION.into(),
    );
    header.insert("runner".into(), "os".into());
    header.insert("world".into(), world.into());
    let mut target_object = Map::new();
    target_object.insert("kind".into(), target.kind.into());
    target_object.insert("path".into(), target.path.clone().into());
    target_object.insert("project_root".into(), json!(target.project_root));
    target_object.insert("lockfile".into(), json!(target.lockfile));
    target_object.insert(
        "resolved_module_roots".into(),
        json!(target.resolved_module_roots),
    );
    header.insert("target".into(), Value::Object(target_object));
    if let Some(mode) = repair_mode {
        header.insert(
            "repair".into(),
            json!({"mode": mode, "iterations": 1, "applied_ops_count": 0, "last_lint_ok": true}),
        );
    }
    let header_text =
        serde_json::to_string_pretty(&Value::Object(header)).unwrap_or_else(|_| "{}".into());
    // Drop the closing brace of the header object and append the report member.
    let open = header_text.trim_end().trim_end_matches('}').trim_end();
    let mut text = String::with_capacity(open.len() + runner_text.len() + 32);
    text.push_str(open);
    text.push_str(",\n  \"report\": ");
    text.push_str(runner_text);
    if !runner_text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("}\n");
    text
}

/// The `x07.policy.init.report@0.1.0` line (compact, fixed key order).
pub fn policy_init_line(
    template: &str,
    project_root: &str,
    out: &str,
    status: &str,
    policy_id: &str,
) -> String {
    let mut object = Map::new();
    object.insert(
        "schema_version".into(),
        "x07.policy.init.report@0.1.0".into(),
    );
    object.insert("template".into(), template.into());
    object.insert("project_root".into(), project_root.into());
    object.insert("out".into(), out.into());
    object.insert("status".into(), status.into());
    object.insert("policy_id".into(), policy_id.into());
    let mut line = Value::Object(object).to_string();
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn success_solve() -> SolveSection {
        SolveSection {
            ok: true,
            exit_status: 0,
            stdout: b"\x02\x00\x00\x00hi".to_vec(),
            stderr: b"{}\n".to_vec(),
            metrics: Some(json!({"fuel_used": 2, "mem_stats": {"alloc_calls": 1}})),
            trap: None,
            trap_help: None,
        }
    }

    #[test]
    fn keys_are_sorted_and_solve_has_22_keys() {
        let report = RunnerReport {
            mode: RunMode::CompileRun,
            world: "run-os".into(),
            sandbox_backend: None,
            compile: CompileSection::success("run-os"),
            solve: Some(success_solve()),
        };
        let value = report.to_value();
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "compile",
                "exit_code",
                "mode",
                "schema_version",
                "solve",
                "world"
            ]
        );
        assert_eq!(value["solve"].as_object().unwrap().len(), 22);
        assert_eq!(value["solve"]["stdout_b64"], "AgAAAGhp");
        assert_eq!(value["exit_code"], 0);
        let text = report.to_text();
        assert!(text.starts_with("{\n  \"compile\": {\n    \"c_source_size\": 0,"));
        assert!(text.ends_with("\n}\n"));
    }

    #[test]
    fn wrapped_embeds_the_runner_text() {
        let target = WrappedTarget {
            kind: "program",
            path: "echo.x07.json".into(),
            project_root: None,
            lockfile: None,
            resolved_module_roots: vec![".".into()],
        };
        let text = wrapped_text("run-os", &target, None, "{\n  \"a\": 1\n}\n");
        assert!(text.starts_with(
            "{\n  \"schema_version\": \"x07.run.report@0.3.0\",\n  \"runner\": \"os\",\n"
        ));
        assert!(
            text.ends_with("  \"report\": {\n  \"a\": 1\n}\n}\n"),
            "{text}"
        );
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["target"]["project_root"], Value::Null);
    }

    #[test]
    fn policy_init_line_order() {
        assert_eq!(
            policy_init_line("cli", "/p", ".x07/policies/base/cli.sandbox.base.policy.json", "created", "sandbox.cli.base"),
            "{\"schema_version\":\"x07.policy.init.report@0.1.0\",\"template\":\"cli\",\"project_root\":\"/p\",\"out\":\".x07/policies/base/cli.sandbox.base.policy.json\",\"status\":\"created\",\"policy_id\":\"sandbox.cli.base\"}\n"
        );
    }
}
