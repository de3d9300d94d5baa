//! Shared helpers of the probe tests: copy a probe folder, run its commands through
//! the real `x07-lite` binary (as `x07`), and render results the way the recorded
//! `OBSERVED.txt` rows are written (Python reprs, machine paths as `<path>`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::Value;

/// The probes folder inside the crate.
pub fn probes_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
        .join("probes")
}

/// The recorded reports folder inside the crate.
pub fn reports_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
        .join("reports")
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A writable copy of `probes/<name>` in a fresh temporary directory.
pub struct ProbeCopy {
    _temp: tempfile::TempDir,
    /// The copy (canonical path).
    pub dir: PathBuf,
}

/// Copies `probes/<name>`.
pub fn copy_probe(name: &str) -> ProbeCopy {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().canonicalize().unwrap().join(name);
    copy_tree(&probes_dir().join(name), &dir);
    ProbeCopy { _temp: temp, dir }
}

/// Runs one shell command line of a `CMD` file in `dir`, with `x07` meaning x07-lite
/// and no `X07_*` variables inherited.
pub fn run_line(dir: &Path, line: &str) -> Output {
    let exe = env!("CARGO_BIN_EXE_x07-lite");
    let script = format!("x07() {{ '{exe}' \"$@\"; }}\n{line}\n");
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("X07_") {
            command.env_remove(key);
        }
    }
    command.output().unwrap()
}

/// `(tag, command)` pairs of a `CMD` file (the single-case files have one untagged line).
pub fn parse_cmd(text: &str) -> Vec<(String, String)> {
    let mut cases = Vec::new();
    let mut tag: Option<String> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            let rest = rest.trim();
            if !rest.is_empty() && !rest.contains(' ') && !rest.starts_with('<') {
                tag = Some(rest.to_string());
            }
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        cases.push((tag.take().unwrap_or_default(), line.to_string()));
    }
    cases
}

/// The rows of an `OBSERVED.txt`: tag → tab-separated fields after the tag.
pub fn parse_observed(text: &str) -> Vec<(String, Vec<String>)> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let mut parts = line.split('\t').map(str::to_string);
            let tag = parts.next().unwrap_or_default();
            (tag, parts.collect())
        })
        .collect()
}

/// Replaces every path under `dir` (up to a space, quote or backtick) with `<path>`.
pub fn normalize_paths(text: &str, dir: &Path) -> String {
    // The temp root is what all paths share (the probe copies live one level below it).
    let root = dir.parent().unwrap_or(dir).to_string_lossy().to_string();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&root) {
        out.push_str(&rest[..at]);
        out.push_str("<path>");
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '`' | '\'' | '"' | '\\'))
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn repr_body(chars: impl Iterator<Item = u32>, quote: char, bytes: bool) -> String {
    let mut out = String::new();
    for c in chars {
        match c {
            0x5c => out.push_str("\\\\"),
            0x0a => out.push_str("\\n"),
            0x0d => out.push_str("\\r"),
            0x09 => out.push_str("\\t"),
            c if c == quote as u32 => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(char::from_u32(c).unwrap()),
            c if c < 0x100 && (bytes || c < 0xa0) => out.push_str(&format!("\\x{c:02x}")),
            c if bytes => out.push_str(&format!("\\x{:02x}", c & 0xff)),
            c => out.push(char::from_u32(c).unwrap_or('?')),
        }
    }
    out
}

fn pick_quote(has_single: bool, has_double: bool) -> char {
    if has_single && !has_double {
        '"'
    } else {
        '\''
    }
}

/// Python's `repr(bytes)`.
pub fn py_bytes(data: &[u8]) -> String {
    let quote = pick_quote(data.contains(&b'\''), data.contains(&b'"'));
    format!(
        "b{quote}{}{quote}",
        repr_body(data.iter().map(|&b| b as u32), quote, true)
    )
}

/// Python's `repr(str)`.
pub fn py_str(text: &str) -> String {
    let quote = pick_quote(text.contains('\''), text.contains('"'));
    format!(
        "{quote}{}{quote}",
        repr_body(text.chars().map(|c| c as u32), quote, false)
    )
}

/// Python's `repr` of an optional string (`None` when absent).
pub fn py_opt_str(text: Option<&str>) -> String {
    text.map(py_str).unwrap_or_else(|| "None".to_string())
}

/// Decodes a Python bytes literal `b'...'`.
pub fn parse_py_bytes(literal: &str) -> Vec<u8> {
    let inner = &literal[2..literal.len() - 1];
    let bytes = inner.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            let c = bytes[i + 1];
            match c {
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'\\' => out.push(b'\\'),
                b'\'' => out.push(b'\''),
                b'"' => out.push(b'"'),
                b'x' => {
                    let hex = std::str::from_utf8(&bytes[i + 2..i + 4]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 2;
                }
                other => {
                    out.push(b'\\');
                    out.push(other);
                }
            }
            i += 2;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// The runner report in `stdout` (the inner report of a wrapped one), if any.
pub fn runner_report(stdout: &[u8]) -> Option<Value> {
    let value: Value = serde_json::from_slice(stdout).ok()?;
    match value.get("report") {
        Some(inner) if value.get("schema_version") == Some(&"x07.run.report@0.3.0".into()) => {
            Some(inner.clone())
        }
        _ => Some(value),
    }
}

/// Decoded `solve.solve_output_b64`.
pub fn solve_output(report: &Value) -> Vec<u8> {
    report["solve"]["solve_output_b64"]
        .as_str()
        .map(|text| B64.decode(text).unwrap())
        .unwrap_or_default()
}

fn py_bool(value: &Value) -> String {
    match value {
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

fn py_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "None".into(),
        other => py_bool(other),
    }
}

/// The `report exit_code=... out=...` summary of a probe-set row.
pub fn report_summary(report: &Value, dir: &Path) -> String {
    let solve = &report["solve"];
    let cerr = report["compile"]["compile_error"].as_str().unwrap_or("");
    let cerr: String = normalize_paths(cerr, dir).chars().take(80).collect();
    format!(
        "report exit_code={} mode={} world={} ok={} trap={} cerr={} out={}",
        py_value(&report["exit_code"]),
        py_value(&report["mode"]),
        py_value(&report["world"]),
        py_bool(&solve["ok"]),
        py_opt_str(solve["trap"].as_str()),
        py_str(&cerr),
        py_bytes(&solve_output(report)),
    )
}

/// Validates a runner report against `schemas/x07-os-runner.report.schema.json`.
pub fn schema_errors(report: &Value) -> Vec<String> {
    use std::sync::OnceLock;
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("schemas")
            .join("x07-os-runner.report.schema.json");
        let schema: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        jsonschema::validator_for(&schema).unwrap()
    });
    validator
        .iter_errors(report)
        .map(|err| format!("{} at {}", err, err.instance_path()))
        .collect()
}

/// One row of a probe set as run by x07-lite.
pub struct Row<'a> {
    /// The tag.
    pub tag: &'a str,
    /// The recorded fields after the tag.
    pub observed: &'a [String],
    /// What x07-lite did.
    pub output: &'a Output,
    /// The probe copy the commands ran in.
    pub dir: &'a Path,
}

/// How a row is checked.
pub enum Check {
    /// The generic comparison with the recorded row.
    Generic,
    /// Not run, with the reason (outside what x07-lite does).
    Skip(&'static str),
    /// Run, and checked by this function instead (returns the problems).
    Custom(fn(&Row<'_>) -> Vec<String>),
}

fn field<'a>(observed: &'a [String], name: &str) -> Option<&'a str> {
    observed
        .iter()
        .find_map(|f| f.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
}

/// The rc recorded for the row.
pub fn observed_rc(row: &Row<'_>) -> Option<i32> {
    field(row.observed, "rc").and_then(|rc| rc.parse().ok())
}

/// The normalized stderr as a Python repr.
pub fn stderr_repr(row: &Row<'_>) -> String {
    py_bytes(normalize_paths(&String::from_utf8_lossy(&row.output.stderr), row.dir).as_bytes())
}

/// The rc check.
pub fn check_rc(row: &Row<'_>) -> Vec<String> {
    let got = row.output.status.code();
    match observed_rc(row) {
        Some(rc) if Some(rc) != got => vec![format!("{}: rc {rc} expected, got {got:?}", row.tag)],
        _ => Vec::new(),
    }
}

/// The generic row comparison: rc, the report summary or stdout, and stderr.
pub fn generic_check(row: &Row<'_>) -> Vec<String> {
    let mut problems = check_rc(row);
    let tag = row.tag;
    let first = row.observed.get(1).map(String::as_str).unwrap_or("");
    if first.starts_with("report ") {
        match runner_report(&row.output.stdout) {
            Some(report) => {
                let got = report_summary(&report, row.dir);
                if got != first {
                    problems.push(format!("{tag}:\n  expected {first}\n  got      {got}"));
                }
                if report.get("mode").is_some() {
                    for error in schema_errors(&report) {
                        problems.push(format!("{tag}: schema: {error}"));
                    }
                }
            }
            None => problems.push(format!(
                "{tag}: no report; stdout {:?} stderr {:?}",
                String::from_utf8_lossy(&row.output.stdout),
                String::from_utf8_lossy(&row.output.stderr)
            )),
        }
    } else if first.starts_with("stdout=") {
        let expected = field(row.observed, "full_stdout")
            .map(parse_py_bytes)
            .unwrap_or_default();
        let got = normalize_paths(&String::from_utf8_lossy(&row.output.stdout), row.dir);
        let got = got.as_bytes();
        let truncated = expected.len() >= 300 && got.starts_with(&expected);
        if got != expected.as_slice() && !truncated {
            problems.push(format!(
                "{tag}: stdout\n  expected {}\n  got      {}",
                py_bytes(&expected),
                py_bytes(got)
            ));
        }
    }
    if let Some(expected) = field(row.observed, "stderr") {
        let got = stderr_repr(row);
        if got != expected {
            problems.push(format!(
                "{tag}: stderr\n  expected {expected}\n  got      {got}"
            ));
        }
    }
    problems
}

/// Runs every `CMD` row of `probes/<set>` in order (in one copy of the folder) and
/// checks each against `OBSERVED.txt`; `how` picks the check per tag.
pub fn check_probe_set(set: &str, how: &dyn Fn(&str) -> Check) -> (usize, Vec<String>) {
    let copy = copy_probe(set);
    let cmd = std::fs::read_to_string(copy.dir.join("CMD")).unwrap();
    let observed_text = std::fs::read_to_string(copy.dir.join("OBSERVED.txt")).unwrap();
    let observed = parse_observed(&observed_text);
    let mut problems = Vec::new();
    let mut checked = 0;
    for (tag, line) in parse_cmd(&cmd) {
        let check = how(&tag);
        if let Check::Skip(_) = check {
            continue;
        }
        let Some((_, fields)) = observed.iter().find(|(t, _)| *t == tag) else {
            problems.push(format!("{tag}: no OBSERVED row"));
            continue;
        };
        let output = run_line(&copy.dir, &line);
        let row = Row {
            tag: &tag,
            observed: fields,
            output: &output,
            dir: &copy.dir,
        };
        checked += 1;
        problems.extend(match check {
            Check::Custom(custom) => custom(&row),
            _ => generic_check(&row),
        });
    }
    (checked, problems)
}
