//! Bless: rewrite the expected `exit_code`, `output`, `trap` and
//! `compile_error` of failing cases from their actual reports.
//!
//! Safety rules: refused when the `CI` environment variable is set (nothing
//! is written); a case whose runner crashed, timed out or printed no JSON
//! report, or whose fixture files could not be read, is never blessed; every
//! file is written to a temporary file in its own directory and renamed over
//! the original, so a file is either old or new, never half-written.
//!
//! Where a value goes: when every profile of a case failed (or passed) with
//! the same actual values, at the case level (`cases[i].expect`, or the
//! top-level `expect` for a fixture without `cases`); otherwise under
//! `cases[i].by_profile.<profile>.expect`. Keys that would override the new
//! value at a more specific level are removed; a key that a less specific
//! level sets and that is now absent is written as `null` (check off).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::check::Actual;
use crate::fixture::{EXPECTATIONS_FILE, FIXTURE_SCHEMA_VERSION};
use crate::model::CaseStatus;
use crate::plan::{PlannedCase, Target};
use crate::suite::CaseOutcome;

/// Why bless did not run or could not finish.
#[derive(Debug, thiserror::Error)]
pub enum BlessError {
    /// The `CI` environment variable is set.
    #[error("refusing to bless: the CI environment variable is set (bless rewrites fixture files; run it locally)")]
    InCi,
    /// A file could not be read or written.
    #[error("failed to bless {}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// What bless did.
#[derive(Debug, Default, Clone)]
pub struct BlessSummary {
    /// Files rewritten (or created).
    pub files: Vec<PathBuf>,
    /// Test names whose expectations were rewritten.
    pub blessed: Vec<String>,
    /// Failing cases left alone, with the reason.
    pub skipped: Vec<(String, String)>,
}

/// Errors out when bless must not run here.
pub fn refuse_in_ci() -> Result<(), BlessError> {
    if std::env::var_os("CI").is_some() {
        Err(BlessError::InCi)
    } else {
        Ok(())
    }
}

/// The blessed values of one case × profile.
#[derive(Debug, Clone, PartialEq)]
struct Blessed {
    exit_code: Option<i64>,
    output: Option<Vec<u8>>,
    trap: Option<String>,
    compile_error: Option<String>,
}

impl Blessed {
    fn from_actual(actual: &Actual) -> Blessed {
        Blessed {
            exit_code: actual.exit_code,
            output: actual.output.clone(),
            trap: actual.trap.clone(),
            compile_error: actual.compile_error.clone(),
        }
    }
}

fn blessable(outcome: &CaseOutcome) -> Result<Blessed, String> {
    if outcome.case.problem.is_some() {
        return Err("its fixture files could not be read".into());
    }
    let Some(verdict) = &outcome.verdict else {
        return Err("the runner could not be started".into());
    };
    if verdict.runner_crashed {
        return Err("the runner crashed, timed out or printed no JSON report".into());
    }
    let Some(actual) = &verdict.actual else {
        return Err("there is no report".into());
    };
    if verdict.vm_fail_closed {
        return Err("the VM sandbox backend failed closed".into());
    }
    Ok(Blessed::from_actual(actual))
}

/// Blesses every failing case in `outcomes`. `planned` is every case of the
/// run (to know which profiles a case has).
pub fn bless(
    outcomes: &[CaseOutcome],
    planned: &[PlannedCase],
) -> Result<BlessSummary, BlessError> {
    refuse_in_ci()?;
    let mut summary = BlessSummary::default();
    // fixture source file -> case name -> profile -> (outcome, blessed)
    type ByProfile<'a> = BTreeMap<String, (&'a CaseOutcome, Option<Blessed>)>;
    let mut by_file: BTreeMap<PathBuf, BTreeMap<String, ByProfile>> = BTreeMap::new();
    let mut dirty: BTreeSet<(PathBuf, String)> = BTreeSet::new();
    // fixture source file -> case name -> every planned profile (one pass, no N² lookups)
    let mut planned_profiles: BTreeMap<(&Path, &str), BTreeSet<&str>> = BTreeMap::new();
    for case in planned {
        planned_profiles
            .entry((case.source_file.as_path(), case.id.case.as_str()))
            .or_default()
            .insert(case.id.profile.as_str());
    }
    for outcome in outcomes {
        let blessed = blessable(outcome);
        if outcome.result.status == CaseStatus::Failed {
            match &blessed {
                Ok(_) => {
                    dirty.insert((
                        outcome.case.source_file.clone(),
                        outcome.case.id.case.clone(),
                    ));
                }
                Err(reason) => summary
                    .skipped
                    .push((outcome.result.id.test_name(), reason.clone())),
            }
        }
        by_file
            .entry(outcome.case.source_file.clone())
            .or_default()
            .entry(outcome.case.id.case.clone())
            .or_default()
            .insert(outcome.case.id.profile.clone(), (outcome, blessed.ok()));
    }
    for (file, cases) in &by_file {
        let mut edits: Vec<Edit> = Vec::new();
        for (case_name, profiles) in cases {
            if !dirty.contains(&(file.clone(), case_name.clone())) {
                continue;
            }
            let all_profiles: BTreeSet<&str> = planned_profiles
                .get(&(file.as_path(), case_name.as_str()))
                .cloned()
                .unwrap_or_default();
            let values: Vec<&Blessed> = profiles.values().filter_map(|(_, b)| b.as_ref()).collect();
            let every_profile_ran = all_profiles.iter().all(|p| {
                profiles
                    .get(*p)
                    .is_some_and(|(_, blessed)| blessed.is_some())
            });
            let same = values.windows(2).all(|pair| pair[0] == pair[1]);
            if every_profile_ran && same && !values.is_empty() {
                let (outcome, _) = profiles.values().next().expect("non-empty");
                edits.push(Edit {
                    case: case_name.clone(),
                    profile: None,
                    profiles_covered: all_profiles.iter().map(|p| p.to_string()).collect(),
                    blessed: values[0].clone(),
                    target: outcome.case.target.clone(),
                });
                summary
                    .blessed
                    .extend(profiles.values().map(|(o, _)| o.result.id.test_name()));
            } else {
                for (profile, (outcome, blessed)) in profiles {
                    if outcome.result.status != CaseStatus::Failed {
                        continue;
                    }
                    if let Some(blessed) = blessed {
                        edits.push(Edit {
                            case: case_name.clone(),
                            profile: Some(profile.clone()),
                            profiles_covered: vec![profile.clone()],
                            blessed: blessed.clone(),
                            target: outcome.case.target.clone(),
                        });
                        summary.blessed.push(outcome.result.id.test_name());
                    }
                }
            }
        }
        if edits.is_empty() {
            continue;
        }
        let written = match &edits[0].target {
            Target::Smoke { .. } => bless_smoke(file, &edits)?,
            Target::Project { dir, .. } => bless_project(file, dir, &edits)?,
        };
        summary.files.extend(written);
    }
    summary.files.sort();
    summary.files.dedup();
    summary.blessed.sort();
    Ok(summary)
}

struct Edit {
    case: String,
    /// `None`: case level.
    profile: Option<String>,
    profiles_covered: Vec<String>,
    blessed: Blessed,
    target: Target,
}

/// Writes `bytes` to `path` atomically (temporary file in the same directory, then rename).
///
/// The file keeps the permissions it had; a new file gets the usual
/// `rw-r--r--` (a temporary file alone would be owner-only).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BlessError> {
    use std::io::Write as _;
    let error = |message: String| BlessError::File {
        path: path.to_path_buf(),
        message,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(|e| error(e.to_string()))?;
    let permissions = match std::fs::metadata(path) {
        Ok(metadata) => metadata.permissions(),
        Err(_) => new_file_permissions(temp.as_file()).map_err(|e| error(e.to_string()))?,
    };
    temp.as_file()
        .set_permissions(permissions)
        .map_err(|e| error(e.to_string()))?;
    temp.write_all(bytes).map_err(|e| error(e.to_string()))?;
    temp.as_file()
        .sync_all()
        .map_err(|e| error(e.to_string()))?;
    temp.persist(path).map_err(|e| error(e.error.to_string()))?;
    Ok(())
}

/// Permissions for a file bless creates: `rw-r--r--` on Unix.
fn new_file_permissions(file: &std::fs::File) -> std::io::Result<std::fs::Permissions> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = file;
        Ok(std::fs::Permissions::from_mode(0o644))
    }
    #[cfg(not(unix))]
    {
        Ok(file.metadata()?.permissions())
    }
}

fn pretty(value: &Value) -> Vec<u8> {
    let mut text = serde_json::to_string_pretty(value).expect("JSON values serialize");
    text.push('\n');
    text.into_bytes()
}

fn bless_smoke(file: &Path, edits: &[Edit]) -> Result<Vec<PathBuf>, BlessError> {
    let text = std::fs::read(file).map_err(|e| BlessError::File {
        path: file.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut suite: Value = serde_json::from_slice(&text).map_err(|e| BlessError::File {
        path: file.to_path_buf(),
        message: e.to_string(),
    })?;
    for edit in edits {
        let Target::Smoke { case_index, .. } = edit.target else {
            continue;
        };
        if let Some(output) = &edit.blessed.output {
            suite["cases"][case_index]["expected_b64"] =
                Value::String(base64::engine::general_purpose::STANDARD.encode(output));
        }
    }
    write_atomically(file, &pretty(&suite))?;
    Ok(vec![file.to_path_buf()])
}

fn output_value(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(text) => json!({ "text": text }),
        Err(_) => json!({ "b64": base64::engine::general_purpose::STANDARD.encode(bytes) }),
    }
}

fn object_at<'a>(value: &'a mut Value, key: &str) -> &'a mut Map<String, Value> {
    if !value.get(key).is_some_and(Value::is_object) {
        value[key] = Value::Object(Map::new());
    }
    value[key].as_object_mut().expect("just made an object")
}

fn bless_project(source: &Path, dir: &Path, edits: &[Edit]) -> Result<Vec<PathBuf>, BlessError> {
    let file = dir.join(EXPECTATIONS_FILE);
    let mut doc: Value = if source == file {
        let text = std::fs::read(&file).map_err(|e| BlessError::File {
            path: file.clone(),
            message: e.to_string(),
        })?;
        serde_json::from_slice(&text).map_err(|e| BlessError::File {
            path: file.clone(),
            message: e.to_string(),
        })?
    } else {
        json!({ "schema_version": FIXTURE_SCHEMA_VERSION })
    };
    let mut written = Vec::new();
    for edit in edits {
        // Make sure the case exists in `cases` when it must be addressed by name.
        let has_cases = doc.get("cases").is_some_and(Value::is_array);
        if !has_cases && (edit.profile.is_some() || edit.case != "default") {
            doc["cases"] = json!([{ "name": edit.case }]);
        }
        let case_index = doc
            .get("cases")
            .and_then(Value::as_array)
            .and_then(|cases| cases.iter().position(|c| c["name"] == edit.case.as_str()));
        let fixture_expect = doc.get("expect").cloned().unwrap_or(json!({}));
        let case_expect = case_index
            .map(|i| doc["cases"][i].get("expect").cloned().unwrap_or(json!({})))
            .unwrap_or(json!({}));
        // Keys the levels below the written one set.
        let lower: Vec<&Value> = match (&edit.profile, case_index) {
            (None, None) => vec![],
            (None, Some(_)) => vec![&fixture_expect],
            (Some(_), _) => vec![&fixture_expect, &case_expect],
        };
        let lower_has = |key: &str| lower.iter().any(|level| level.get(key).is_some());
        let values = blessed_values(&edit.blessed, dir, &lower_has, &mut written)?;
        let lower_keys_snapshot: Vec<(String, Option<Value>)> = values.clone();
        let level: &mut Map<String, Value> = match (&edit.profile, case_index) {
            (None, None) => object_at(&mut doc, "expect"),
            (None, Some(i)) => object_at(&mut doc["cases"][i], "expect"),
            (Some(profile), Some(i)) => {
                let by_profile = object_at(&mut doc["cases"][i], "by_profile");
                if !by_profile.get(profile).is_some_and(Value::is_object) {
                    by_profile.insert(profile.clone(), json!({}));
                }
                let entry = by_profile.get_mut(profile).expect("just inserted");
                object_at(entry, "expect")
            }
            (Some(_), None) => unreachable!("cases were created above"),
        };
        for (key, value) in &lower_keys_snapshot {
            match value {
                Some(value) => {
                    level.insert(key.clone(), value.clone());
                }
                None => {
                    level.remove(key);
                }
            }
        }
        // More specific levels must not override what was just written.
        if edit.profile.is_none() {
            if let Some(i) = case_index {
                if let Some(by_profile) = doc["cases"][i]
                    .get_mut("by_profile")
                    .and_then(Value::as_object_mut)
                {
                    for profile in &edit.profiles_covered {
                        if let Some(expect) = by_profile
                            .get_mut(profile)
                            .and_then(|p| p.get_mut("expect"))
                            .and_then(Value::as_object_mut)
                        {
                            for (key, _) in &lower_keys_snapshot {
                                expect.remove(key);
                            }
                        }
                    }
                }
            }
        }
    }
    write_atomically(&file, &pretty(&doc))?;
    written.push(file);
    Ok(written)
}

/// The keys to write at the chosen level: `Some(value)` to set, `None` to remove.
fn blessed_values(
    blessed: &Blessed,
    dir: &Path,
    lower_has: &dyn Fn(&str) -> bool,
    written: &mut Vec<PathBuf>,
) -> Result<Vec<(String, Option<Value>)>, BlessError> {
    let unset = |key: &str| {
        if lower_has(key) {
            Some(Value::Null)
        } else {
            None
        }
    };
    let mut values = Vec::new();
    let expects_failure = blessed.trap.is_some() || blessed.compile_error.is_some();
    let default_exit = if expects_failure { 1 } else { 0 };
    let exit_code = match blessed.exit_code {
        Some(code) if code != default_exit || lower_has("exit_code") => Some(json!(code)),
        _ => None,
    };
    values.push(("exit_code".to_string(), exit_code));
    let output = match &blessed.output {
        Some(bytes) => Some(output_value(bytes)),
        None => unset("output"),
    };
    let _ = (dir, &written);
    values.push(("output".to_string(), output));
    values.push((
        "trap".to_string(),
        blessed
            .trap
            .clone()
            .map(Value::String)
            .or_else(|| unset("trap")),
    ));
    values.push((
        "compile_error".to_string(),
        blessed
            .compile_error
            .clone()
            .map(Value::String)
            .or_else(|| unset("compile_error")),
    ));
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        std::fs::write(&path, "old").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn atomic_write_keeps_the_file_permissions() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let path = dir.path().join("x07test.json");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o664)).unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(mode(&path), 0o664);
        let created = dir.path().join("expected.bin");
        write_atomically(&created, b"new").unwrap();
        assert_eq!(mode(&created), 0o644);
    }

    #[test]
    fn binary_output_is_blessed_as_base64() {
        assert_eq!(output_value(b"hi"), json!({ "text": "hi" }));
        assert_eq!(output_value(&[0xff]), json!({ "b64": "/w==" }));
    }

    #[test]
    fn exit_code_is_written_only_when_it_differs_from_the_default() {
        let blessed = Blessed {
            exit_code: Some(1),
            output: None,
            trap: Some("fuel exhausted".into()),
            compile_error: None,
        };
        let values = blessed_values(&blessed, Path::new("."), &|_| false, &mut Vec::new()).unwrap();
        assert_eq!(
            values,
            vec![
                ("exit_code".to_string(), None),
                ("output".to_string(), None),
                ("trap".to_string(), Some(json!("fuel exhausted"))),
                ("compile_error".to_string(), None),
            ]
        );
        let values = blessed_values(
            &blessed,
            Path::new("."),
            &|key| key == "output",
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(values[1], ("output".to_string(), Some(Value::Null)));
    }
}
