//! Policy files and derived-policy flags, table-driven from `tests/data/policy/rows.tsv`:
//! each row is a policy variant (a template with edits) and flags, run end to end through
//! `x07-lite run --profile sandbox`, with the exit code and stderr x07 0.2.17 gives
//! (`observed-behaviour.md` §1.1 and §2, `policy-format.md`). The file's header explains
//! the columns.

#[path = "data/probes/harness.rs"]
mod harness;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// One row of the table.
struct PolicyRow {
    tag: String,
    template: String,
    edits: Value,
    flags: Vec<String>,
    rc: i32,
    stderr: String,
}

fn rows() -> Vec<PolicyRow> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/policy/rows.tsv");
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 7, "row with {} columns: {line}", cols.len());
            assert!(
                ["recorded", "rule", "kept"].contains(&cols[6]),
                "{}: unknown source {}",
                cols[0],
                cols[6]
            );
            PolicyRow {
                tag: cols[0].to_string(),
                template: cols[1].to_string(),
                edits: serde_json::from_str(cols[2])
                    .unwrap_or_else(|e| panic!("{}: edits: {e}", cols[0])),
                flags: serde_json::from_str(cols[3])
                    .unwrap_or_else(|e| panic!("{}: flags: {e}", cols[0])),
                rc: cols[4].parse().unwrap(),
                stderr: cols[5].to_string(),
            }
        })
        .collect()
}

/// The policy file text of a row: the template with the row's edits applied.
fn policy_text(row: &PolicyRow) -> String {
    let template = x07_lite::templates::template_json(&row.template)
        .unwrap_or_else(|| panic!("{}: no template {}", row.tag, row.template));
    if let Some(raw) = row.edits.get("$raw") {
        return raw.as_str().unwrap().to_string();
    }
    let mut value: Value = serde_json::from_str(template).unwrap();
    if let Some(tail) = row.edits.get("$tail") {
        let compact = value.to_string();
        return format!(
            "{}{}",
            &compact[..compact.len() - 1],
            tail.as_str().unwrap()
        );
    }
    for (pointer, new) in row.edits.as_object().unwrap() {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let holder = value
            .pointer_mut(parent)
            .unwrap_or_else(|| panic!("{}: no {parent}", row.tag))
            .as_object_mut()
            .unwrap();
        if new == "$delete" {
            holder.shift_remove(key);
        } else {
            holder.insert(key.to_string(), new.clone());
        }
    }
    serde_json::to_string_pretty(&value).unwrap()
}

fn run(dir: &Path, policy: &Path, flags: &[String]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_x07-lite"));
    command.current_dir(dir).args([
        "run",
        "--profile",
        "sandbox",
        "--sandbox-backend",
        "os",
        "--i-accept-weaker-isolation",
        "--repair=off",
        "--policy",
    ]);
    command.arg(policy);
    command.args(flags);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("X07_") {
            command.env_remove(key);
        }
    }
    command.output().unwrap()
}

/// What is wrong with one row's outcome, if anything.
fn check_row(dir: &Path, row: &PolicyRow) -> Option<String> {
    let policy = match row.edits.get("$path") {
        Some(path) => Path::new(path.as_str().unwrap()).to_path_buf(),
        None => {
            let policy = dir.join("pol.json");
            std::fs::write(&policy, policy_text(row)).unwrap();
            policy
        }
    };
    let output = run(dir, &policy, &row.flags);
    let rc = output.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let derived_line = "x07 run: using derived policy ";
    let rest: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.starts_with(derived_line))
        .collect();
    if rc != row.rc {
        return Some(format!(
            "{}: rc {rc} (wanted {}): {stderr}",
            row.tag, row.rc
        ));
    }
    if rc == 0 {
        let report: Value = match serde_json::from_slice(&output.stdout) {
            Ok(report) => report,
            Err(err) => return Some(format!("{}: no report: {err}", row.tag)),
        };
        if report["exit_code"] != 0 || report["world"] != "run-os-sandboxed" {
            return Some(format!("{}: report {report}", row.tag));
        }
        let derived = stderr.lines().any(|line| line.starts_with(derived_line));
        if derived == row.flags.is_empty() {
            return Some(format!("{}: derived policy line: {stderr:?}", row.tag));
        }
    } else if !output.stdout.is_empty() {
        return Some(format!("{}: stdout on a refusal", row.tag));
    }
    if row.stderr == "-" {
        return (!rest.is_empty()).then(|| format!("{}: stderr {stderr:?}", row.tag));
    }
    let wanted = match row.stderr.strip_prefix("diag:") {
        Some(message) => serde_json::json!({
            "schema_version": "x07.x07diag@0.1.0",
            "ok": false,
            "diagnostics": [{
                "code": "X07-POLICY-SCHEMA-0001",
                "severity": "error",
                "stage": "parse",
                "message": message,
            }],
        })
        .to_string(),
        None => row
            .stderr
            .replace("<policy>", &policy.display().to_string()),
    };
    let first = rest.first().copied().unwrap_or_default();
    let matches = match wanted.strip_suffix('…') {
        Some(prefix) => first.starts_with(prefix),
        None => first == wanted,
    };
    (!matches).then(|| format!("{}:\n  got    {first}\n  wanted {wanted}", row.tag))
}

#[test]
fn policy_variants_and_flags_rows() {
    let copy = harness::copy_probe("policy-overrides");
    let dir = &copy.dir;
    // The profile's base policy (the probe creates it with `policy init`).
    let base = dir.join(".x07/policies/base");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::write(
        base.join("http-client.sandbox.base.policy.json"),
        x07_lite::templates::template_json("http-client").unwrap(),
    )
    .unwrap();
    let rows = rows();
    assert!(rows.len() >= 100, "only {} rows", rows.len());
    let problems: Vec<String> = rows.iter().filter_map(|row| check_row(dir, row)).collect();
    assert!(
        problems.is_empty(),
        "{} of {} rows differ:\n{}",
        problems.len(),
        rows.len(),
        problems.join("\n")
    );
}
