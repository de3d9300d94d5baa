//! What a manifest's entries name on disk, checked before anything runs: the directory
//! copied for each run (the project holding the manifest, else the manifest's directory),
//! the module roots x07 resolves entries in, the entry functions themselves, fixture
//! roots, policies and input files.
//!
//! Module roots follow x07-test notes §1.5: without an `x07.json` above the manifest, the
//! manifest's directory; with a project, its `module_roots`, the project root and the
//! manifest's directory (plus dependency roots from the lockfile — when the project has
//! dependencies an entry that is not found locally may come from one, so it is left to
//! x07). A file an entry names must also lie inside the copied directory: the run sees
//! only the copy.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::format::{is_solve_world, safe_relative, Entry, GenKind, ManifestProblem};
use crate::fixture::PROJECT_FILE;
use crate::policy::{self, Severity};

/// The project around a manifest.
#[derive(Debug, Clone)]
pub struct ProjectLayout {
    /// The directory copied for each run: the nearest ancestor of the manifest's directory
    /// (not above the workspace root) that holds `x07.json`, else the manifest's directory.
    pub copy_root: PathBuf,
    /// The manifest's directory.
    pub manifest_dir: PathBuf,
    /// Module roots x07 resolves entries in (absolute), in its order, dependencies left out.
    pub module_roots: Vec<PathBuf>,
    /// Whether the project declares dependencies (whose modules x07 adds as roots).
    pub has_dependencies: bool,
    /// Problems of the project itself (a module root outside the copied directory).
    pub problems: Vec<ManifestProblem>,
}

/// Finds the project around `manifest` (a file), looking upward no further than
/// `workspace_root`.
pub fn layout(manifest: &Path, workspace_root: &Path) -> ProjectLayout {
    let manifest_dir = manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let project_root = manifest_dir
        .ancestors()
        .take_while(|dir| dir.starts_with(workspace_root) || *dir == manifest_dir)
        .find(|dir| dir.join(PROJECT_FILE).is_file())
        .map(Path::to_path_buf);
    let Some(root) = project_root else {
        return ProjectLayout {
            copy_root: manifest_dir.clone(),
            module_roots: vec![manifest_dir.clone()],
            manifest_dir,
            has_dependencies: false,
            problems: Vec::new(),
        };
    };
    let project: Value = crate::fixture::read_regular(&root.join(PROJECT_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null);
    let mut problems = Vec::new();
    let mut module_roots = Vec::new();
    for declared in project
        .get("module_roots")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let path = root.join(declared);
        if !inside(&path, &root) {
            problems.push(ManifestProblem::uncoded(
                String::new(),
                format!(
                    "module root {declared:?} of {} lies outside the project directory, \
                     which is all that each run gets a copy of",
                    PROJECT_FILE
                ),
            ));
        }
        module_roots.push(path);
    }
    module_roots.push(root.clone());
    module_roots.push(manifest_dir.clone());
    let has_dependencies = project
        .get("dependencies")
        .and_then(Value::as_array)
        .is_some_and(|dependencies| !dependencies.is_empty());
    ProjectLayout {
        copy_root: root,
        manifest_dir,
        module_roots,
        has_dependencies,
        problems,
    }
}

/// Whether `path` resolves (symlinks followed) inside `root`; a path that does not exist
/// is judged by its text.
fn inside(path: &Path, root: &Path) -> bool {
    let original_root = root;
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    match std::fs::canonicalize(path) {
        Ok(resolved) => resolved.starts_with(&root),
        Err(_) => {
            let mut normal = PathBuf::new();
            for part in path.components() {
                match part {
                    std::path::Component::ParentDir => {
                        normal.pop();
                    }
                    std::path::Component::CurDir => {}
                    other => normal.push(other.as_os_str()),
                }
            }
            normal.starts_with(&root) || normal.starts_with(original_root)
        }
    }
}

/// The declaration an entry names, as found under the module roots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryLookup {
    /// A `defn`/`defasync` with these parameter types.
    Found {
        /// `ty` of each parameter, in order.
        params: Vec<String>,
    },
    /// Not found, and x07 would refuse it (`ETEST_ENTRY_INVALID`).
    Missing(String),
    /// Cannot be told here (a `.x07t` module, a module file that is not JSON, a
    /// dependency's module): left to x07.
    Unknown,
}

/// Looks up `entry` (`<module id>.<function>`) under `layout`'s module roots.
pub fn find_entry(entry: &str, layout: &ProjectLayout) -> EntryLookup {
    let Some((module, _)) = entry.rsplit_once('.') else {
        return EntryLookup::Unknown;
    };
    let relative = module.replace('.', "/");
    let json_name = format!("{relative}.x07.json");
    let text_name = format!("{relative}.x07t");
    let roots_text = layout
        .module_roots
        .iter()
        .map(|root| {
            let shown = root.strip_prefix(&layout.copy_root).unwrap_or(root);
            if shown.as_os_str().is_empty() {
                ".".to_string()
            } else {
                shown.display().to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    for root in &layout.module_roots {
        if root.join(&text_name).is_file() {
            return EntryLookup::Unknown;
        }
        let file = root.join(&json_name);
        if !file.is_file() {
            continue;
        }
        let Some(module_value) = crate::fixture::read_regular(&file)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        else {
            return EntryLookup::Unknown;
        };
        let declaration = module_value
            .get("decls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|decl| {
                decl.get("name").and_then(Value::as_str) == Some(entry)
                    && matches!(
                        decl.get("kind").and_then(Value::as_str),
                        Some("defn" | "defasync")
                    )
            });
        return match declaration {
            Some(decl) => EntryLookup::Found {
                params: decl
                    .get("params")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|param| {
                        param
                            .get("ty")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    })
                    .collect(),
            },
            None => EntryLookup::Missing(format!(
                "entry {entry:?} was not found: module file {json_name} (module roots: {roots_text}) \
                 has no defn or defasync named {entry}"
            )),
        };
    }
    if layout.has_dependencies {
        return EntryLookup::Unknown;
    }
    EntryLookup::Missing(format!(
        "entry {entry:?} was not found: no module file {json_name} (or {text_name}) under the \
         module roots ({roots_text}); a module's file name must match its module_id"
    ))
}

/// Everything an entry names on disk that x07 would refuse or that the copied run
/// would not see. Called only for entries whose keys are well-formed.
pub fn check_entry_files(entry: &Entry, layout: &ProjectLayout) -> Vec<ManifestProblem> {
    let index = entry.index;
    let at = |key: &str| format!("/tests/{index}/{key}");
    let dir = &layout.manifest_dir;
    let mut problems = Vec::new();
    let outside = |key: &str, path: &Path, written: &str| {
        (!inside(path, &layout.copy_root)).then(|| {
            ManifestProblem::uncoded(
                at(key),
                format!(
                    "{key} {written:?} lies outside the {} directory, which is all that \
                     each run gets a copy of",
                    if layout.copy_root == layout.manifest_dir {
                        "manifest's"
                    } else {
                        "project"
                    }
                ),
            )
        })
    };

    if let (Some(root), Some(world)) = (&entry.fixture_root, &entry.world) {
        if is_solve_world(world) && world != "solve-pure" && safe_relative(root) {
            let path = dir.join(root);
            if !path.is_dir() {
                problems.push(ManifestProblem {
                    code: Some("ETEST_FIXTURE_MISSING"),
                    pointer: at("fixture_root"),
                    message: format!("fixture_root must be an existing directory: {root}"),
                });
            } else if let Some(problem) = outside("fixture_root", &path, root) {
                problems.push(problem);
            } else if world == "solve-full" {
                if let Some(missing) = ["fs", "rr", "kv"]
                    .iter()
                    .find(|sub| !path.join(sub).is_dir())
                {
                    problems.push(ManifestProblem {
                        code: Some("ETEST_FIXTURE_MISSING"),
                        pointer: at("fixture_root"),
                        message: format!(
                            "solve-full fixture_root must contain {missing}/ directory"
                        ),
                    });
                }
            }
        }
    }
    if let Some(policy_file) = &entry.policy_json {
        let path = dir.join(policy_file);
        if !path.is_file() {
            problems.push(ManifestProblem::uncoded(
                at("policy_json"),
                format!("policy_json file {policy_file} does not exist (relative to the manifest's directory)"),
            ));
        } else if let Some(problem) = outside("policy_json", &path, policy_file) {
            problems.push(problem);
        } else {
            for finding in policy::check_file(&path) {
                if finding.severity != Severity::Error {
                    continue;
                }
                let field = if finding.field.is_empty() {
                    String::new()
                } else {
                    format!("{}: ", finding.field)
                };
                problems.push(ManifestProblem::uncoded(
                    at("policy_json"),
                    format!(
                        "invalid sandbox policy {policy_file}: {field}{}",
                        finding.message
                    ),
                ));
            }
        }
    }
    if let Some(input) = &entry.input_path {
        let path = dir.join(input);
        if !path.is_file() {
            problems.push(ManifestProblem::uncoded(
                at("input_path"),
                format!(
                    "input_path file {input} does not exist (relative to the manifest's directory)"
                ),
            ));
        } else {
            problems.extend(outside("input_path", &path, input));
        }
    }
    if let Some(name) = &entry.entry {
        match find_entry(name, layout) {
            EntryLookup::Missing(message) => problems.push(ManifestProblem {
                code: Some("ETEST_ENTRY_INVALID"),
                pointer: at("entry"),
                message,
            }),
            EntryLookup::Found { params } => {
                if let Some(pbt) = &entry.pbt {
                    if let Some(message) = pbt_mismatch(name, &pbt.params, &params) {
                        problems.push(ManifestProblem::uncoded(at("pbt/params"), message));
                    }
                }
            }
            EntryLookup::Unknown => {}
        }
    }
    problems
}

/// Why a property test's generators do not fit its entry's parameters (x07 refuses such
/// a run with exit code 2), if they do not.
fn pbt_mismatch(
    entry: &str,
    generators: &[super::format::PbtParam],
    params: &[String],
) -> Option<String> {
    if generators.is_empty() {
        return None;
    }
    if generators.len() != params.len() {
        return Some(format!(
            "PBT param mismatch for {entry:?}: the manifest has {} generator(s) but the entry takes {} parameter(s) (x07 refuses the run)",
            generators.len(),
            params.len()
        ));
    }
    for (number, (generator, ty)) in generators.iter().zip(params).enumerate() {
        let fits = match generator.kind {
            Some(GenKind::I32) => ty == "i32",
            Some(GenKind::Bytes) => ty == "bytes" || ty == "bytes_view",
            None => true,
        };
        if !fits {
            let kind = match generator.kind {
                Some(GenKind::I32) => "i32",
                _ => "bytes",
            };
            return Some(format!(
                "PBT param type mismatch for {entry:?} (arg {number}): the manifest has {kind} but the entry expects {ty} (x07 refuses the run)"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    const MODULE: &str = r#"{"schema_version":"x07.x07ast@0.8.0","kind":"module","module_id":"calc_test","imports":[],"decls":[{"kind":"defn","name":"calc_test.ok","params":[],"result":"result_i32","body":["std.test.pass"]},{"kind":"defn","name":"calc_test.prop","params":[{"name":"x","ty":"i32"}],"result":"bytes","body":["std.test.status_ok"]}]}"#;

    #[test]
    fn a_project_is_copied_whole_and_its_roots_come_first() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("p");
        write(
            &root.join("x07.json"),
            r#"{"module_roots":["src"],"dependencies":[]}"#,
        );
        write(&root.join("tests/tests.json"), "{}");
        write(&root.join("tests/calc_test.x07.json"), MODULE);
        let layout = layout(&root.join("tests/tests.json"), dir.path());
        assert_eq!(layout.copy_root, root);
        assert_eq!(
            layout.module_roots,
            [root.join("src"), root.clone(), root.join("tests")]
        );
        assert_eq!(
            find_entry("calc_test.prop", &layout),
            EntryLookup::Found {
                params: vec!["i32".into()]
            }
        );
        let EntryLookup::Missing(message) = find_entry("calc_test.nope", &layout) else {
            panic!("a missing function is reported");
        };
        assert!(
            message.contains("no defn or defasync named calc_test.nope"),
            "{message}"
        );
        let EntryLookup::Missing(message) = find_entry("other.f", &layout) else {
            panic!("a missing module is reported");
        };
        assert!(
            message.contains("no module file other.x07.json (or other.x07t) under the module roots (src, ., tests)"),
            "{message}"
        );
    }

    #[test]
    fn without_a_project_only_the_manifest_directory_counts() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("m/tests.json"), "{}");
        let layout = layout(&dir.path().join("m/tests.json"), dir.path());
        assert_eq!(layout.copy_root, dir.path().join("m"));
        assert_eq!(layout.module_roots, [dir.path().join("m")]);
    }

    #[test]
    fn dependencies_leave_unknown_modules_to_x07() {
        let dir = tempfile::tempdir().unwrap();
        write(
            &dir.path().join("x07.json"),
            r#"{"module_roots":["../elsewhere"],"dependencies":[{"name":"ext-url-rs"}]}"#,
        );
        let layout = layout(&dir.path().join("tests/tests.json"), dir.path());
        assert!(layout.has_dependencies);
        assert_eq!(find_entry("ext.url.parse", &layout), EntryLookup::Unknown);
        assert_eq!(layout.problems.len(), 1, "{:?}", layout.problems);
    }

    #[test]
    fn pbt_generators_must_fit_the_parameters() {
        use super::super::format::PbtParam;
        let bytes = PbtParam {
            name: "b".into(),
            kind: Some(GenKind::Bytes),
        };
        assert!(pbt_mismatch("e", std::slice::from_ref(&bytes), &["bytes_view".into()]).is_none());
        let message = pbt_mismatch("e", &[bytes], &["i32".into()]).unwrap();
        assert!(message.contains("(arg 0): the manifest has bytes but the entry expects i32"));
        assert!(pbt_mismatch("e", &[], &[]).is_none());
    }
}
