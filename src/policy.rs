//! `cargo x07 policy init|check`: sandbox policy files (`x07.run-os-policy@0.1.0`).
//!
//! * [`init`] writes one of the eight `x07 policy init` templates (embedded in the
//!   runner crate, [`x07_lite::templates`]) the way `x07 policy init --template T` does:
//!   same default location (`<root>/.x07/policies/base/<T>.sandbox.base.policy.json`, where
//!   `<root>` is the nearest directory with an `x07.json`, else the working directory),
//!   same statuses (`created`, `unchanged`, `exists_different` with exit code 2,
//!   `overwritten` with `--force`) and the same one-line JSON report.
//! * [`check`] validates policy files against `schemas/run-os-policy.schema.json` and the
//!   rules the real runner applies when it loads a policy, printing one line per
//!   violation that names the file and the field, and returns exit code 2 on any.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Serialize;
use serde_json::Value;
use x07_lite::templates::{template_file_name, template_json, template_policy_id, TEMPLATE_NAMES};

/// The JSON Schema of `x07.run-os-policy@0.1.0` that [`check`] validates against.
pub const POLICY_SCHEMA_JSON: &str = include_str!("../schemas/run-os-policy.schema.json");

/// The `schema_version` of the report line [`init`] prints.
pub const INIT_REPORT_SCHEMA_VERSION: &str = "x07.policy.init.report@0.1.0";

/// Below this address-space limit the real runtime cannot reserve its default 64 MiB arena
/// and every sandboxed run fails with `calloc failed` (observed with 64 MiB; 128 MiB works).
pub const MIN_WORKING_MEM_BYTES: u64 = 128 * 1024 * 1024;

/// Options of `policy init` (the flags of `x07 policy init`).
#[derive(Debug, Clone, Default)]
pub struct InitOptions {
    /// `--template T`: one of [`TEMPLATE_NAMES`].
    pub template: String,
    /// `--out P`: where to write the policy, relative to `cwd` unless absolute.
    /// Default: `<root>/.x07/policies/base/<T>.sandbox.base.policy.json`.
    pub out: Option<PathBuf>,
    /// `--force`: overwrite an existing file whose bytes differ.
    pub force: bool,
    /// `--mkdir-out`: create the missing parent directory of `--out`.
    pub mkdir_out: bool,
    /// `--policy-id ID`: replace the template's `policy_id` (must match `^[a-zA-Z0-9_.-]{1,64}$`).
    pub policy_id: Option<String>,
    /// `--emit policy`: print the policy itself instead of writing it and printing a report.
    pub emit_policy: bool,
    /// The directory the command runs in; the project root is searched upwards from it.
    pub cwd: PathBuf,
}

/// What `policy init` did with the output file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InitStatus {
    /// The file did not exist and was written (exit code 0).
    Created,
    /// The file already held exactly these bytes (exit code 0).
    Unchanged,
    /// The file exists with other bytes and `--force` was not given; it was not touched (exit code 2).
    ExistsDifferent,
    /// The file existed with other bytes and was replaced because of `--force` (exit code 0).
    Overwritten,
}

impl InitStatus {
    /// The process exit code `x07 policy init` uses for this status.
    pub fn exit_code(self) -> i32 {
        match self {
            InitStatus::ExistsDifferent => 2,
            _ => 0,
        }
    }
}

/// The one-line JSON report of `policy init` (`x07.policy.init.report@0.1.0`), keys in
/// the order the real command prints them.
#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    /// Always [`INIT_REPORT_SCHEMA_VERSION`].
    pub schema_version: &'static str,
    /// The template name.
    pub template: String,
    /// Absolute path of the project root (or the working directory when there is no project).
    pub project_root: String,
    /// The output file, relative to `project_root` when it lies inside it, else absolute.
    pub out: String,
    /// What happened to the file.
    pub status: InitStatus,
    /// The `policy_id` written.
    pub policy_id: String,
}

/// Why `policy init` could not run; every variant exits with code 2 and no report.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// `--template` names no known template.
    #[error("unknown template {name:?} (expected one of: {})", TEMPLATE_NAMES.join(", "))]
    UnknownTemplate {
        /// The name given.
        name: String,
    },
    /// `--policy-id` does not match the id pattern.
    #[error("--policy-id must match ^[a-zA-Z0-9_.-]{{1,64}}$")]
    BadPolicyId,
    /// The parent directory of `--out` is missing and `--mkdir-out` was not given.
    #[error("refusing to create output dir {dir:?} (pass --mkdir-out to allow)")]
    RefuseMkdir {
        /// The missing directory, as given.
        dir: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl PolicyError {
    /// The exit code for this error (always 2, like the real command's usage errors).
    pub fn exit_code(&self) -> i32 {
        2
    }
}

/// Runs `policy init`: writes the template (or prints it with `--emit policy`), prints the
/// report line to `out`, and returns the exit code (0, or 2 for `exists_different`).
pub fn init(opts: &InitOptions, out: &mut dyn Write) -> Result<i32, PolicyError> {
    let template_text =
        template_json(&opts.template).ok_or_else(|| PolicyError::UnknownTemplate {
            name: opts.template.clone(),
        })?;
    let (policy_text, policy_id) = match &opts.policy_id {
        None => (
            template_text.to_string(),
            template_policy_id(&opts.template),
        ),
        Some(id) => {
            if !x07_lite::policy::is_valid_policy_id(id) {
                return Err(PolicyError::BadPolicyId);
            }
            (with_policy_id(template_text, id), id.clone())
        }
    };
    if opts.emit_policy {
        write_out(out, policy_text.as_bytes())?;
        return Ok(0);
    }
    let root = project_root(&opts.cwd);
    let target = match &opts.out {
        Some(path) => {
            let target = opts.cwd.join(path);
            if let Some(parent) = target.parent() {
                if !parent.as_os_str().is_empty() && !parent.is_dir() {
                    if !opts.mkdir_out {
                        let dir = path.parent().unwrap_or(Path::new("")).display().to_string();
                        return Err(PolicyError::RefuseMkdir { dir });
                    }
                    create_dir_all(parent)?;
                }
            }
            target
        }
        None => {
            let dir = root.join(".x07").join("policies").join("base");
            create_dir_all(&dir)?;
            dir.join(template_file_name(&opts.template))
        }
    };
    let status = match std::fs::read(&target) {
        Ok(existing) if existing == policy_text.as_bytes() => InitStatus::Unchanged,
        Ok(_) if !opts.force => InitStatus::ExistsDifferent,
        Ok(_) => {
            write_file(&target, policy_text.as_bytes())?;
            InitStatus::Overwritten
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            write_file(&target, policy_text.as_bytes())?;
            InitStatus::Created
        }
        Err(source) => {
            return Err(PolicyError::Io {
                path: target,
                source,
            })
        }
    };
    let report = InitReport {
        schema_version: INIT_REPORT_SCHEMA_VERSION,
        template: opts.template.clone(),
        project_root: root.display().to_string(),
        out: display_relative(&target, &root),
        status,
        policy_id,
    };
    let mut line = serde_json::to_vec(&report).expect("the report serialises");
    line.push(b'\n');
    write_out(out, &line)?;
    Ok(status.exit_code())
}

/// The nearest directory holding an `x07.json`, walking up from `cwd`; `cwd` itself when none does.
pub fn project_root(cwd: &Path) -> PathBuf {
    let cwd = std::path::absolute(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    cwd.ancestors()
        .find(|dir| dir.join("x07.json").is_file())
        .unwrap_or(&cwd)
        .to_path_buf()
}

fn with_policy_id(template_text: &str, id: &str) -> String {
    let mut value: Value = serde_json::from_str(template_text).expect("templates are valid JSON");
    value["policy_id"] = Value::String(id.to_string());
    let mut text = serde_json::to_string_pretty(&sorted(value)).expect("serialises");
    text.push('\n');
    text
}

/// Rebuilds every object with its keys in sorted order (the templates are sorted-key JSON).
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

fn display_relative(path: &Path, root: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match abs.strip_prefix(root) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => abs.display().to_string(),
    }
}

fn create_dir_all(dir: &Path) -> Result<(), PolicyError> {
    std::fs::create_dir_all(dir).map_err(|source| PolicyError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), PolicyError> {
    std::fs::write(path, bytes).map_err(|source| PolicyError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn write_out(out: &mut dyn Write, bytes: &[u8]) -> Result<(), PolicyError> {
    out.write_all(bytes).map_err(|source| PolicyError::Io {
        path: PathBuf::from("<stdout>"),
        source,
    })
}

/// How serious a finding of [`check_policy_value`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The runner rejects the file (or the schema check fails): `policy check` exits 2.
    Error,
    /// The runner accepts the file, but runs under it will not work as intended.
    Warning,
}

/// One problem found in a policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// Dotted path of the field (`limits.cpu_ms`, `net.allow_hosts[0].host`); empty for
    /// the document as a whole.
    pub field: String,
    /// What is wrong, in lowercase prose.
    pub message: String,
}

fn schema_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(POLICY_SCHEMA_JSON).expect("the policy schema is valid JSON");
        jsonschema::validator_for(&schema).expect("the policy schema compiles")
    })
}

/// Checks a parsed policy document: every schema violation and every runner rule
/// (as errors), then practical problems (as warnings). Findings are sorted by field.
pub fn check_policy_value(value: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    for error in schema_validator().iter_errors(value) {
        let base = pointer_to_field(error.instance_path().as_str());
        match error.kind() {
            jsonschema::error::ValidationErrorKind::Required { property } => {
                let key = property
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| property.to_string());
                findings.push(Finding {
                    severity: Severity::Error,
                    field: join_field(&base, &key),
                    message: "is required but missing".to_string(),
                });
            }
            jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                for key in unexpected {
                    findings.push(Finding {
                        severity: Severity::Error,
                        field: join_field(&base, key),
                        message: "is not a field of x07.run-os-policy@0.1.0 (objects are closed)"
                            .to_string(),
                    });
                }
            }
            _ => findings.push(Finding {
                severity: Severity::Error,
                field: base,
                message: lowercase_first(&error.to_string()),
            }),
        }
    }
    if findings.is_empty() {
        // The schema agrees; cross-check with the rules the runner applies when it loads a policy.
        if let Err(err) = x07_lite::policy::parse_policy(value.to_string().as_bytes()) {
            findings.push(Finding {
                severity: Severity::Error,
                field: String::new(),
                message: err.to_string(),
            });
        }
    }
    findings.extend(practical_warnings(value));
    findings.sort_by(|a, b| a.field.cmp(&b.field).then(a.message.cmp(&b.message)));
    findings
}

fn practical_warnings(value: &Value) -> Vec<Finding> {
    let mut warnings = Vec::new();
    if let Some(mem) = value.pointer("/limits/mem_bytes").and_then(Value::as_u64) {
        if mem < MIN_WORKING_MEM_BYTES {
            warnings.push(Finding {
                severity: Severity::Warning,
                field: "limits.mem_bytes".to_string(),
                message: format!(
                    "{mem} is below 128 MiB: the runtime reserves a 64 MiB arena up front, so every sandboxed run fails with `calloc failed` unless --max-memory-bytes is lowered"
                ),
            });
        }
    }
    if let Some(execs) = value
        .pointer("/process/allow_execs")
        .and_then(Value::as_array)
    {
        for (index, exe) in execs.iter().enumerate() {
            if let Some(exe) = exe.as_str() {
                if !exe.starts_with('/') {
                    warnings.push(Finding {
                        severity: Severity::Warning,
                        field: format!("process.allow_execs[{index}]"),
                        message: format!("{exe:?} is not an absolute path: processes are started without a PATH search, so a relative executable never runs"),
                    });
                }
            }
        }
    }
    warnings
}

/// `/net/allow_hosts/0/host` → `net.allow_hosts[0].host`.
fn pointer_to_field(pointer: &str) -> String {
    let mut field = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            field.push_str(&format!("[{segment}]"));
        } else {
            field = join_field(&field, &segment);
        }
    }
    field
}

fn join_field(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_string()
    } else {
        format!("{base}.{key}")
    }
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first)
            if first.is_uppercase() && !chars.clone().next().is_some_and(char::is_uppercase) =>
        {
            first.to_lowercase().chain(chars).collect()
        }
        _ => text.to_string(),
    }
}

/// Checks one policy file: it must exist, parse as JSON and pass [`check_policy_value`].
pub fn check_file(path: &Path) -> Vec<Finding> {
    let error = |message: String| {
        vec![Finding {
            severity: Severity::Error,
            field: String::new(),
            message,
        }]
    };
    let bytes = match crate::fixture::read_regular(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return error("missing policy file".to_string())
        }
        Err(err) => return error(format!("cannot read the file: {err}")),
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(value) => check_policy_value(&value),
        Err(err) => error(format!("parse policy JSON: {err}")),
    }
}

/// Runs `policy check` over files (a directory stands for the `*.json` files directly in
/// it): prints `<file>: ok`, or one `<file>: <field>: <message>` line per finding, then a
/// summary line, and returns 2 when any file has an error, else 0.
pub fn check(paths: &[PathBuf], out: &mut dyn Write) -> i32 {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut in_dir: Vec<PathBuf> = std::fs::read_dir(path)
                .map(|entries| {
                    entries
                        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                        .filter(|p| p.is_file() && p.extension().is_some_and(|ext| ext == "json"))
                        .collect()
                })
                .unwrap_or_default();
            in_dir.sort();
            files.extend(in_dir);
        } else {
            files.push(path.clone());
        }
    }
    let mut failed = 0usize;
    let mut lines = String::new();
    if files.is_empty() {
        lines.push_str("error: no policy files given\n");
        failed = 1;
    }
    for file in &files {
        let findings = check_file(file);
        let name = file.display();
        if findings.iter().any(|f| f.severity == Severity::Error) {
            failed += 1;
        }
        if findings.is_empty() {
            lines.push_str(&format!("{name}: ok\n"));
        }
        for finding in findings {
            let level = match finding.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            if finding.field.is_empty() {
                lines.push_str(&format!("{name}: {level}: {}\n", finding.message));
            } else {
                lines.push_str(&format!(
                    "{name}: {level}: {}: {}\n",
                    finding.field, finding.message
                ));
            }
        }
    }
    lines.push_str(&format!(
        "checked {} policy file(s): {} with errors\n",
        files.len(),
        if files.is_empty() { 0 } else { failed }
    ));
    let _ = out.write_all(lines.as_bytes());
    if failed > 0 {
        2
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_become_dotted_fields() {
        assert_eq!(pointer_to_field(""), "");
        assert_eq!(pointer_to_field("/limits/cpu_ms"), "limits.cpu_ms");
        assert_eq!(
            pointer_to_field("/net/allow_hosts/0/host"),
            "net.allow_hosts[0].host"
        );
    }

    #[test]
    fn every_template_passes_the_check() {
        for name in TEMPLATE_NAMES {
            let value: Value = serde_json::from_str(template_json(name).unwrap()).unwrap();
            assert_eq!(check_policy_value(&value), vec![], "{name}");
        }
    }
}
