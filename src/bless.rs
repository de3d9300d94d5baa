//! Bless: rewrite the expected `exit_code`, `output`, `trap` and `compile_error` of
//! failing cases from their actual reports.
//!
//! Safety rules: refused when the `CI` environment variable is set (nothing is written);
//! a case whose runner crashed, timed out or printed no readable report, or whose fixture
//! files could not be read, is never blessed; bless writes only inside the fixture's own
//! directory (an expected-output file elsewhere leaves its case alone); every file is
//! written to a temporary file in its own directory and renamed over the original, so a
//! file is either old or new, never half-written.
//!
//! What is written, judged on each case's *effective* expectations (the levels merged as
//! the planner merges them, [`crate::plan::merge_expect`]):
//! * where: at the case level when every profile of the case agrees (the top-level
//!   `expect` for a fixture without `cases`), else under `by_profile.<profile>`; keys
//!   that a more specific level would put over the new value are removed there;
//! * an `output` whose expectation is a sidecar file (`{"file": …}`) is rewritten in that
//!   file, bytes in place, and the expectations file keeps naming it;
//! * a `trap` / `compile_error` given as `{"regex": …}` or `{"contains": …}` that still
//!   matches the new value is kept;
//! * a value the new report does not have is removed (written as `null` only when a less
//!   specific level would otherwise still check it);
//! * after per-profile values are written, case-level keys that no profile sees any more
//!   (every profile overrides them) are removed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::check::Actual;
use crate::engine::CaseOutcome;
use crate::fixture::{EXPECTATIONS_FILE, FIXTURE_SCHEMA_VERSION};
use crate::model::CaseStatus;
use crate::plan::{merge_expect, PlannedCase, Target, OUTCOME_KEYS};

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

    /// The `exit_code` the expectations imply when none is written.
    fn default_exit_code(&self) -> i64 {
        if self.trap.is_some() || self.compile_error.is_some() {
            1
        } else {
            0
        }
    }
}

fn blessable(outcome: &CaseOutcome) -> Result<Blessed, String> {
    if matches!(outcome.case.target, Target::TestManifest(_)) {
        return Err(
            "it is an x07 test manifest entry: its verdict is the test's own assertions, \
             there are no expectations to rewrite"
                .into(),
        );
    }
    if !outcome.case.problems.is_empty() {
        return Err("its fixture files could not be read".into());
    }
    let Some(verdict) = &outcome.verdict else {
        return Err("the runner could not be started".into());
    };
    if verdict.runner_crashed {
        return Err("the runner crashed, timed out or printed no readable report".into());
    }
    let Some(actual) = &verdict.actual else {
        return Err("there is no report".into());
    };
    if verdict.vm_fail_closed {
        return Err("the VM sandbox backend failed closed".into());
    }
    if outcome
        .failures
        .iter()
        .any(|failure| matches!(failure, crate::failure::Failure::Differential(_)))
    {
        return Err(
            "the profile differential failed: the report already meets the expectations; change the case by hand"
                .into(),
        );
    }
    Ok(Blessed::from_actual(actual))
}

/// One rewrite of a case's expectations: at the case level (`profile: None`, covering
/// every profile in `profiles`) or for one profile.
struct Edit {
    case: String,
    profile: Option<String>,
    profiles: Vec<String>,
    blessed: Blessed,
    target: Target,
    names: Vec<String>,
}

/// Blesses every failing case in `outcomes`. `planned` is every case of the run (to know
/// which profiles a case has).
pub fn bless(
    outcomes: &[CaseOutcome],
    planned: &[PlannedCase],
) -> Result<BlessSummary, BlessError> {
    refuse_in_ci()?;
    let mut summary = BlessSummary::default();
    // source file -> case name -> profile -> (outcome, blessed)
    type ByProfile<'a> = BTreeMap<String, (&'a CaseOutcome, Option<Blessed>)>;
    let mut by_file: BTreeMap<PathBuf, BTreeMap<String, ByProfile>> = BTreeMap::new();
    let mut dirty: BTreeSet<(PathBuf, String)> = BTreeSet::new();
    let mut planned_profiles: BTreeMap<(&Path, &str), BTreeSet<&str>> = BTreeMap::new();
    for case in planned {
        planned_profiles
            .entry((case.source_file.as_path(), case.id.case.as_str()))
            .or_default()
            .insert(case.id.profile.as_str());
    }
    for outcome in outcomes {
        let blessed = blessable(outcome);
        let case = &outcome.case;
        if outcome.status == CaseStatus::Failed {
            match &blessed {
                Ok(_) => {
                    dirty.insert((case.source_file.clone(), case.id.case.clone()));
                }
                Err(reason) => summary.skipped.push((case.id.test_name(), reason.clone())),
            }
        }
        by_file
            .entry(case.source_file.clone())
            .or_default()
            .entry(case.id.case.clone())
            .or_default()
            .insert(case.id.profile.clone(), (outcome, blessed.ok()));
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
                    profiles: all_profiles.iter().map(|p| p.to_string()).collect(),
                    blessed: values[0].clone(),
                    target: outcome.case.target.clone(),
                    names: profiles.values().map(|(o, _)| o.id().test_name()).collect(),
                });
            } else {
                for (profile, (outcome, blessed)) in profiles {
                    if outcome.status != CaseStatus::Failed {
                        continue;
                    }
                    if let Some(blessed) = blessed {
                        edits.push(Edit {
                            case: case_name.clone(),
                            profile: Some(profile.clone()),
                            profiles: vec![profile.clone()],
                            blessed: blessed.clone(),
                            target: outcome.case.target.clone(),
                            names: vec![outcome.id().test_name()],
                        });
                    }
                }
            }
        }
        if edits.is_empty() {
            continue;
        }
        let written = match &edits[0].target {
            Target::Smoke { .. } => {
                for edit in &edits {
                    summary.blessed.extend(edit.names.iter().cloned());
                }
                bless_smoke(file, &edits)?
            }
            Target::Project { dir, .. } => {
                let all: BTreeMap<String, Vec<String>> = planned_profiles
                    .iter()
                    .filter(|((source, _), _)| *source == file.as_path())
                    .map(|((_, case), profiles)| {
                        (
                            case.to_string(),
                            profiles.iter().map(|p| p.to_string()).collect(),
                        )
                    })
                    .collect();
                let project = bless_project(file, dir, &edits, &all)?;
                for edit in &edits {
                    match project.left_alone.get(&edit.case) {
                        Some(reason) => summary
                            .skipped
                            .extend(edit.names.iter().map(|name| (name.clone(), reason.clone()))),
                        None => summary.blessed.extend(edit.names.iter().cloned()),
                    }
                }
                project.written
            }
            // Never blessable (see `blessable`), so never an edit.
            Target::TestManifest(_) => continue,
        };
        summary.files.extend(written);
    }
    summary.files.sort();
    summary.files.dedup();
    summary.blessed.sort();
    summary.skipped.sort();
    summary.skipped.dedup();
    Ok(summary)
}

/// Writes `bytes` to `path` atomically (temporary file in the same directory, then rename).
///
/// The file keeps the permissions it had; a new file gets the usual
/// `rw-r--r--` (a temporary file alone would be owner-only).
///
/// A symlink stays a link: the file it points to is rewritten, when that file is in the
/// link's own directory (or below it); a link leading anywhere else is refused, so bless
/// never writes outside the fixture's directory and never turns a shared file's link into
/// a stale private copy.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BlessError> {
    use std::io::Write as _;
    let error = |message: String| BlessError::File {
        path: path.to_path_buf(),
        message,
    };
    if std::fs::symlink_metadata(path).is_ok_and(|meta| meta.is_symlink()) {
        let dir = path.parent().unwrap_or(Path::new("."));
        let dir = std::fs::canonicalize(dir).map_err(|e| error(e.to_string()))?;
        let target = std::fs::canonicalize(path)
            .map_err(|e| error(format!("it is a symlink that cannot be followed ({e})")))?;
        if !target.starts_with(&dir) {
            return Err(error(format!(
                "it is a symlink to {}, outside its directory; bless writes only inside the fixture's directory (update the file it points to by hand)",
                target.display()
            )));
        }
        return write_atomically(&target, bytes);
    }
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

fn read_doc(file: &Path) -> Result<Value, BlessError> {
    let text = std::fs::read(file).map_err(|e| BlessError::File {
        path: file.to_path_buf(),
        message: e.to_string(),
    })?;
    serde_json::from_slice(&text).map_err(|e| BlessError::File {
        path: file.to_path_buf(),
        message: e.to_string(),
    })
}

fn bless_smoke(file: &Path, edits: &[Edit]) -> Result<Vec<PathBuf>, BlessError> {
    let mut suite = read_doc(file)?;
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

fn expect_of(value: Option<&Value>) -> Map<String, Value> {
    value
        .and_then(|value| value.get("expect"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// The three expectation levels of `case_index` × `profile` in `doc`.
fn levels(doc: &Value, case_index: Option<usize>, profile: &str) -> [Map<String, Value>; 3] {
    let case = case_index.and_then(|i| doc.get("cases").and_then(|cases| cases.get(i)));
    let by_profile = case
        .and_then(|case| case.get("by_profile"))
        .and_then(|by_profile| by_profile.get(profile));
    [expect_of(Some(doc)), expect_of(case), expect_of(by_profile)]
}

/// The merged expectations of `case_index` × `profile` in `doc`.
fn effective(doc: &Value, case_index: Option<usize>, profile: &str) -> Map<String, Value> {
    let [fixture, case, by_profile] = levels(doc, case_index, profile);
    merge_expect(&[&fixture, &case, &by_profile])
}

/// Whether a `trap` / `compile_error` expectation is a pattern that matches `actual`.
fn pattern_matches(expectation: Option<&Value>, actual: &str) -> bool {
    let Some(Value::Object(object)) = expectation else {
        return false;
    };
    if let Some(Value::String(pattern)) = object.get("regex") {
        regex::Regex::new(pattern).is_ok_and(|regex| regex.is_match(actual))
    } else if let Some(Value::String(text)) = object.get("contains") {
        actual.contains(text.as_str())
    } else {
        false
    }
}

/// What an edit wants of one key of the effective expectations.
#[derive(Debug, Clone, PartialEq)]
enum Want {
    /// Exactly this value.
    Set(Value),
    /// Whatever the expectations say now (a still-matching pattern, a sidecar file).
    Keep,
    /// Not checked: absent (or null).
    Unset,
    /// Absent (the default applies) or exactly this value.
    Default(Value),
}

fn holds(want: &Want, effective: Option<&Value>) -> bool {
    match want {
        Want::Set(value) => effective == Some(value),
        Want::Keep => true,
        Want::Unset => effective.is_none_or(Value::is_null),
        Want::Default(value) => effective.is_none() || effective == Some(value),
    }
}

struct ProjectBless {
    written: Vec<PathBuf>,
    /// Case name -> why it was not blessed.
    left_alone: BTreeMap<String, String>,
}

fn case_index_of(doc: &Value, case: &str) -> Option<usize> {
    doc.get("cases")
        .and_then(Value::as_array)
        .and_then(|cases| cases.iter().position(|c| c["name"] == case))
}

/// A sidecar file an edit wants rewritten.
struct SidecarClaim {
    /// The file as written in the expectations, joined to the fixture directory.
    path: PathBuf,
    /// The new bytes.
    bytes: Vec<u8>,
    /// The case × profile pairs the edit covers.
    covers: Vec<(String, String)>,
    /// The file name as written.
    name: String,
}

fn bless_project(
    source: &Path,
    dir: &Path,
    edits: &[Edit],
    all_profiles: &BTreeMap<String, Vec<String>>,
) -> Result<ProjectBless, BlessError> {
    let file = dir.join(EXPECTATIONS_FILE);
    let mut doc: Value = if source == file {
        read_doc(&file)?
    } else {
        json!({ "schema_version": FIXTURE_SCHEMA_VERSION })
    };
    let original = doc.clone();
    let fixture_dir = std::fs::canonicalize(dir).unwrap_or(dir.to_path_buf());
    let mut left_alone: BTreeMap<String, String> = BTreeMap::new();

    // Decide what each edit wants, before anything is written.
    let mut planned: Vec<(&Edit, Vec<(&'static str, Want)>)> = Vec::new();
    let mut claims: BTreeMap<PathBuf, Vec<SidecarClaim>> = BTreeMap::new();
    for edit in edits {
        let case_index = case_index_of(&doc, &edit.case);
        let before: Vec<Map<String, Value>> = edit
            .profiles
            .iter()
            .map(|profile| effective(&doc, case_index, profile))
            .collect();
        let agreed = |key: &str| -> Option<Value> {
            let first = before.first()?.get(key).cloned();
            before
                .iter()
                .all(|map| map.get(key).cloned() == first)
                .then_some(first)
                .flatten()
        };
        let blessed = &edit.blessed;
        let mut wants: Vec<(&'static str, Want)> = Vec::new();
        let default_exit = blessed.default_exit_code();
        wants.push((
            "exit_code",
            match blessed.exit_code {
                Some(code) if code != default_exit => Want::Set(json!(code)),
                Some(code) => Want::Default(json!(code)),
                None => Want::Unset,
            },
        ));
        // A program that trapped or did not compile has no output to check.
        let ended_early = blessed.trap.is_some() || blessed.compile_error.is_some();
        let output = match &blessed.output {
            None => Want::Unset,
            Some(_) if ended_early => Want::Unset,
            Some(bytes) => match agreed("output").as_ref().and_then(|v| v.get("file")) {
                Some(Value::String(sidecar)) => {
                    let path = dir.join(sidecar);
                    let resolved = std::fs::canonicalize(&path).unwrap_or(path.clone());
                    if !resolved.starts_with(&fixture_dir) {
                        left_alone.insert(
                            edit.case.clone(),
                            format!(
                                "its expected output file {sidecar} is outside the fixture directory (bless writes only inside it)"
                            ),
                        );
                        continue;
                    }
                    claims.entry(resolved).or_default().push(SidecarClaim {
                        path,
                        bytes: bytes.clone(),
                        covers: edit
                            .profiles
                            .iter()
                            .map(|profile| (edit.case.clone(), profile.clone()))
                            .collect(),
                        name: sidecar.clone(),
                    });
                    Want::Keep
                }
                _ => Want::Set(output_value(bytes)),
            },
        };
        wants.push(("output", output));
        for (key, actual) in [
            ("trap", &blessed.trap),
            ("compile_error", &blessed.compile_error),
        ] {
            wants.push((
                key,
                match actual {
                    None => Want::Unset,
                    Some(text) if pattern_matches(agreed(key).as_ref(), text) => Want::Keep,
                    Some(text) => Want::Set(Value::String(text.clone())),
                },
            ));
        }
        planned.push((edit, wants));
    }

    // A sidecar file is rewritten only when every case × profile that expects it is being
    // blessed to the same bytes; otherwise its cases are left alone.
    for (resolved, claims) in &claims {
        let covered: BTreeSet<&(String, String)> =
            claims.iter().flat_map(|claim| &claim.covers).collect();
        let same_bytes = claims.windows(2).all(|pair| pair[0].bytes == pair[1].bytes);
        let other_user = all_profiles.iter().find_map(|(case, profiles)| {
            let case_index = case_index_of(&original, case);
            profiles.iter().find_map(|profile| {
                let expected = effective(&original, case_index, profile);
                let uses = expected
                    .get("output")
                    .and_then(|output| output.get("file"))
                    .and_then(Value::as_str)
                    .map(|file| std::fs::canonicalize(dir.join(file)).unwrap_or(dir.join(file)))
                    .is_some_and(|path| &path == resolved);
                let pair = (case.clone(), profile.clone());
                (uses && !covered.contains(&pair)).then(|| format!("{case}::{profile}"))
            })
        });
        let reason = if !same_bytes {
            Some("cases that now print different bytes".to_string())
        } else {
            other_user.map(|user| format!("the case {user}, which is not being blessed"))
        };
        if let Some(reason) = reason {
            for claim in claims {
                left_alone.insert(
                    claim.covers[0].0.clone(),
                    format!(
                        "its expected output file {} is shared with {reason}",
                        claim.name
                    ),
                );
            }
        }
    }

    // Write.
    let mut split_cases: BTreeSet<String> = BTreeSet::new();
    for (edit, wants) in &planned {
        if left_alone.contains_key(&edit.case) {
            continue;
        }
        // The case must exist in `cases` when it is addressed by name.
        let has_cases = doc.get("cases").is_some_and(Value::is_array);
        if !has_cases && (edit.profile.is_some() || edit.case != "default") {
            doc["cases"] = json!([{ "name": edit.case }]);
        }
        let case_index = case_index_of(&doc, &edit.case);
        apply(&mut doc, case_index, edit, wants);
        if edit.profile.is_some() {
            split_cases.insert(edit.case.clone());
        }
    }
    // Case-level keys no profile sees any more.
    for case in &split_cases {
        let (Some(index), Some(profiles)) = (case_index_of(&doc, case), all_profiles.get(case))
        else {
            continue;
        };
        for key in OUTCOME_KEYS {
            let present = doc["cases"][index]
                .get("expect")
                .is_some_and(|expect| expect.get(key).is_some());
            if !present {
                continue;
            }
            let mut without = doc.clone();
            if let Some(expect) = without["cases"][index]
                .get_mut("expect")
                .and_then(Value::as_object_mut)
            {
                expect.remove(key);
            }
            let unchanged = profiles.iter().all(|profile| {
                effective(&doc, Some(index), profile) == effective(&without, Some(index), profile)
            });
            if unchanged {
                doc = without;
            }
        }
        if let Some(expect) = doc["cases"][index].get("expect").and_then(Value::as_object) {
            if expect.is_empty() {
                doc["cases"][index]
                    .as_object_mut()
                    .expect("a case is an object")
                    .remove("expect");
            }
        }
    }
    let mut written = Vec::new();
    for claims in claims.values() {
        let Some(first) = claims.first() else {
            continue;
        };
        if left_alone.contains_key(&first.covers[0].0) {
            continue;
        }
        write_atomically(&first.path, &first.bytes)?;
        written.push(first.path.clone());
    }
    if doc != original
        || (source != file
            && planned
                .iter()
                .any(|(e, _)| !left_alone.contains_key(&e.case)))
    {
        write_atomically(&file, &pretty(&doc))?;
        written.push(file);
    }
    Ok(ProjectBless {
        written,
        left_alone,
    })
}

/// Writes an edit's wants at its level and checks them against the effective
/// expectations of every profile it covers.
fn apply(doc: &mut Value, case_index: Option<usize>, edit: &Edit, wants: &[(&str, Want)]) {
    for (key, want) in wants {
        let level = level_mut(doc, case_index, edit);
        match want {
            Want::Set(value) => {
                level.insert(key.to_string(), value.clone());
            }
            Want::Keep => {}
            Want::Unset | Want::Default(_) => {
                level.remove(*key);
            }
        }
        // A case-level value must not be overridden by the profiles it covers.
        if edit.profile.is_none() && *want != Want::Keep {
            if let Some(i) = case_index {
                if let Some(by_profile) = doc["cases"][i]
                    .get_mut("by_profile")
                    .and_then(Value::as_object_mut)
                {
                    for profile in &edit.profiles {
                        if let Some(expect) = by_profile
                            .get_mut(profile)
                            .and_then(|p| p.get_mut("expect"))
                            .and_then(Value::as_object_mut)
                        {
                            expect.remove(*key);
                        }
                    }
                }
            }
        }
    }
    // What a less specific level still says over a removed key.
    for (key, want) in wants {
        let still_wrong = edit
            .profiles
            .iter()
            .any(|profile| !holds(want, effective(doc, case_index, profile).get(*key)));
        if still_wrong {
            let level = level_mut(doc, case_index, edit);
            match want {
                Want::Unset => {
                    level.insert(key.to_string(), Value::Null);
                }
                Want::Default(value) => {
                    level.insert(key.to_string(), value.clone());
                }
                Want::Set(_) | Want::Keep => {}
            }
        }
    }
}

fn level_mut<'a>(
    doc: &'a mut Value,
    case_index: Option<usize>,
    edit: &Edit,
) -> &'a mut Map<String, Value> {
    match (&edit.profile, case_index) {
        (None, None) => object_at(doc, "expect"),
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
    }
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

    fn edit(profile: Option<&str>, profiles: &[&str], blessed: Blessed) -> Edit {
        Edit {
            case: "c".into(),
            profile: profile.map(str::to_string),
            profiles: profiles.iter().map(|p| p.to_string()).collect(),
            blessed,
            target: Target::Project {
                dir: ".".into(),
                profile: None,
            },
            names: Vec::new(),
        }
    }

    #[test]
    fn exit_code_is_written_only_when_it_differs_from_the_default() {
        let mut doc = json!({ "cases": [{ "name": "c", "expect": { "exit_code": 3 } }] });
        let blessed = Blessed {
            exit_code: Some(1),
            output: None,
            trap: Some("fuel exhausted".into()),
            compile_error: None,
        };
        let wants = vec![
            ("exit_code", Want::Default(json!(1))),
            ("trap", Want::Set(json!("fuel exhausted"))),
        ];
        apply(&mut doc, Some(0), &edit(None, &["os"], blessed), &wants);
        assert_eq!(
            doc["cases"][0]["expect"],
            json!({ "trap": "fuel exhausted" })
        );
    }

    #[test]
    fn an_unset_key_a_lower_level_still_checks_is_written_as_null() {
        let mut doc = json!({ "expect": { "stderr": "x", "exit_code": 0 },
                              "cases": [{ "name": "c" }] });
        let blessed = Blessed {
            exit_code: Some(3),
            output: None,
            trap: None,
            compile_error: None,
        };
        let wants = vec![("exit_code", Want::Set(json!(3))), ("stderr", Want::Unset)];
        apply(&mut doc, Some(0), &edit(None, &["os"], blessed), &wants);
        assert_eq!(
            doc["cases"][0]["expect"],
            json!({ "exit_code": 3, "stderr": null })
        );
    }
}
