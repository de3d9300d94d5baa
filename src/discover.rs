//! Finding fixtures: walk each selected package's fixture roots (directories
//! or globs), collect fixture directories (those holding `x07.json`) and
//! smoke-suite files (`*.smoke.json`), in a deterministic order.
//!
//! Discovery only looks at names on disk; it reads no fixture file, so
//! [`locate`] (used by `--exact`) costs the same for 10 or 10,000 fixtures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::{PackageConfig, WorkspaceConfig};
use crate::fixture::{PROJECT_FILE, SMOKE_SUFFIX};
use crate::model::CaseId;

/// What kind of fixture was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FixtureKind {
    /// A directory holding `x07.json` (and maybe `x07test.json`).
    Project,
    /// A `*.smoke.json` file.
    SmokeSuite,
}

/// One discovered fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureLocation {
    /// The fixture directory or smoke-suite file (absolute).
    pub path: PathBuf,
    /// `path` relative to the workspace root, `/`-separated: the first part of test names.
    pub name: String,
    /// Project or smoke suite.
    pub kind: FixtureKind,
    /// Index of the owning package in [`WorkspaceConfig::packages`].
    pub package: usize,
}

/// Why discovery failed.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// A configured fixture root does not exist.
    #[error("fixture root {} (configured for package `{package}`) does not exist", path.display())]
    MissingRoot {
        /// The root.
        path: PathBuf,
        /// The package whose configuration names it.
        package: String,
    },
    /// A configured glob does not parse.
    #[error("invalid fixture glob {pattern:?} in package `{package}`: {source}")]
    Glob {
        /// The pattern.
        pattern: String,
        /// The package.
        package: String,
        /// The parse error.
        source: globset::Error,
    },
    /// Walking a root failed (permissions, loops).
    #[error("cannot walk fixture root {}: {message}", path.display())]
    Walk {
        /// The root.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// The name of a fixture path: relative to the workspace root with `/`, else absolute.
pub fn fixture_name(workspace_root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(workspace_root).unwrap_or(path);
    let parts: Vec<String> = relative
        .components()
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .collect();
    let name = parts.join("/");
    if relative.is_absolute() && !name.starts_with('/') {
        format!("/{}", name.trim_start_matches('/'))
    } else {
        name
    }
}

fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '[', '{'])
}

/// The directory a glob pattern starts walking from: its longest literal prefix.
fn glob_base(pattern: &str) -> &str {
    let first_meta = pattern.find(['*', '?', '[', '{']).unwrap_or(pattern.len());
    match pattern[..first_meta].rfind('/') {
        Some(slash) => &pattern[..slash],
        None => "",
    }
}

/// Walks every selected package's fixture roots. Sorted by name, deduplicated.
pub fn discover(workspace: &WorkspaceConfig) -> Result<Vec<FixtureLocation>, DiscoverError> {
    let mut found: BTreeMap<String, FixtureLocation> = BTreeMap::new();
    for (index, package) in workspace.packages.iter().enumerate() {
        for pattern in &package.settings.fixtures {
            let (base, matcher) = if is_glob(pattern) {
                let glob = globset::GlobBuilder::new(pattern)
                    .literal_separator(true)
                    .build()
                    .map_err(|source| DiscoverError::Glob {
                        pattern: pattern.clone(),
                        package: package.name.clone(),
                        source,
                    })?;
                (
                    package.root.join(glob_base(pattern)),
                    Some(glob.compile_matcher()),
                )
            } else {
                (package.root.join(pattern), None)
            };
            if !base.exists() {
                if package.settings.fixtures_configured && matcher.is_none() {
                    return Err(DiscoverError::MissingRoot {
                        path: base,
                        package: package.name.clone(),
                    });
                }
                continue;
            }
            walk_root(&base, |path, kind| {
                if let Some(matcher) = &matcher {
                    let relative = path.strip_prefix(&package.root).unwrap_or(path);
                    if !matcher.is_match(relative) {
                        return;
                    }
                }
                let name = fixture_name(&workspace.root, path);
                found.entry(name.clone()).or_insert(FixtureLocation {
                    path: path.to_path_buf(),
                    name,
                    kind,
                    package: index,
                });
            })?;
        }
    }
    Ok(found.into_values().collect())
}

/// Walks one root: a directory holding `x07.json` is a fixture and is not
/// descended into; hidden entries and `target/` are skipped; symlinks are not
/// followed. Entries are visited in byte order of their names.
///
/// A plain `read_dir` recursion rather than a walker crate: it needs one
/// `read_dir` per directory and no `stat` per entry (the entry list already
/// says whether `x07.json` is there), which keeps 10,000 fixtures well under
/// the discovery budget.
fn walk_root(
    root: &Path,
    mut on_fixture: impl FnMut(&Path, FixtureKind),
) -> Result<(), DiscoverError> {
    if root.is_file() {
        if root.to_string_lossy().ends_with(SMOKE_SUFFIX) {
            on_fixture(root, FixtureKind::SmokeSuite);
        }
        return Ok(());
    }
    walk_dir(root, root, &mut on_fixture)
}

fn walk_dir(
    root: &Path,
    dir: &Path,
    on_fixture: &mut impl FnMut(&Path, FixtureKind),
) -> Result<(), DiscoverError> {
    let walk_error = |error: std::io::Error| DiscoverError::Walk {
        path: root.to_path_buf(),
        message: format!("{}: {error}", dir.display()),
    };
    let mut entries: Vec<(std::ffi::OsString, std::fs::FileType)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(walk_error)? {
        let entry = entry.map_err(walk_error)?;
        let kind = entry.file_type().map_err(walk_error)?;
        entries.push((entry.file_name(), kind));
    }
    let is_fixture = entries
        .iter()
        .any(|(name, kind)| name == PROJECT_FILE && !kind.is_dir());
    if is_fixture {
        on_fixture(dir, FixtureKind::Project);
        return Ok(());
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, kind) in entries {
        let text = name.to_string_lossy();
        if text.starts_with('.') {
            continue;
        }
        let path = dir.join(&name);
        if kind.is_dir() {
            if text != "target" {
                walk_dir(root, &path, on_fixture)?;
            }
        } else if kind.is_file() && text.ends_with(SMOKE_SUFFIX) {
            on_fixture(&path, FixtureKind::SmokeSuite);
        }
    }
    Ok(())
}

/// Finds the one fixture a test name points at, without walking anything.
///
/// Used by `--exact <name>`; returns `None` when the name does not point at a
/// fixture under a selected package's fixture roots.
pub fn locate(workspace: &WorkspaceConfig, test_name: &str) -> Option<FixtureLocation> {
    let id = CaseId::parse_test_name(test_name)?;
    let path = if Path::new(&id.fixture).is_absolute() {
        PathBuf::from(&id.fixture)
    } else {
        workspace.root.join(&id.fixture)
    };
    let kind = if path.join(PROJECT_FILE).is_file() {
        FixtureKind::Project
    } else if path.is_file() && id.fixture.ends_with(SMOKE_SUFFIX) {
        FixtureKind::SmokeSuite
    } else {
        return None;
    };
    let package = workspace
        .packages
        .iter()
        .position(|package| under_fixture_roots(package, &path))?;
    Some(FixtureLocation {
        name: fixture_name(&workspace.root, &path),
        path,
        kind,
        package,
    })
}

fn under_fixture_roots(package: &PackageConfig, path: &Path) -> bool {
    package.settings.fixtures.iter().any(|pattern| {
        if is_glob(pattern) {
            let Ok(glob) = globset::GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
            else {
                return false;
            };
            let matcher = glob.compile_matcher();
            let relative = path.strip_prefix(&package.root).unwrap_or(path);
            relative
                .ancestors()
                .any(|ancestor| matcher.is_match(ancestor))
        } else {
            let root = package.root.join(pattern);
            let hidden_or_target = path
                .strip_prefix(&root)
                .map(|rest| {
                    rest.components().any(|part| {
                        let part = part.as_os_str().to_string_lossy();
                        part.starts_with('.') || part == "target"
                    })
                })
                .unwrap_or(true);
            !hidden_or_target
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn workspace(root: &Path, fixtures: &[&str]) -> WorkspaceConfig {
        let settings = Settings {
            fixtures: fixtures.iter().map(|s| s.to_string()).collect(),
            fixtures_configured: true,
            profiles: vec!["os".into()],
            x07: None,
            sandbox_backend: Default::default(),
            timeout_ms: 1000,
            jobs: None,
            smoke_root: root.to_path_buf(),
            smoke_module_roots: vec![],
            env: Default::default(),
        };
        WorkspaceConfig {
            root: root.to_path_buf(),
            workspace_settings: settings.clone(),
            packages: vec![PackageConfig {
                name: "p".into(),
                root: root.to_path_buf(),
                settings,
            }],
        }
    }

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "{}").unwrap();
    }

    #[test]
    fn finds_projects_and_smoke_suites_sorted_and_prunes_inside_fixtures() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("fixtures/b/x07.json"));
        touch(&root.join("fixtures/b/inner/x07.json"));
        touch(&root.join("fixtures/a/deep/x07.json"));
        touch(&root.join("fixtures/.hidden/x07.json"));
        touch(&root.join("fixtures/target/x07.json"));
        touch(&root.join("fixtures/suites/s.smoke.json"));
        touch(&root.join("fixtures/notes.json"));
        let found = discover(&workspace(root, &["fixtures"])).unwrap();
        let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "fixtures/a/deep",
                "fixtures/b",
                "fixtures/suites/s.smoke.json"
            ]
        );
        assert_eq!(found[2].kind, FixtureKind::SmokeSuite);
    }

    #[test]
    fn globs_select_fixture_directories() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("x/one/x07.json"));
        touch(&root.join("x/two/x07.json"));
        touch(&root.join("y/three/x07.json"));
        let found = discover(&workspace(root, &["*/t*"])).unwrap();
        let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["x/two", "y/three"]);
    }

    #[test]
    fn a_configured_missing_root_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let error = discover(&workspace(dir.path(), &["nope"]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("does not exist"), "{error}");
    }

    #[test]
    fn locate_finds_one_fixture_by_test_name() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("fixtures/a/x07.json"));
        let ws = workspace(root, &["fixtures"]);
        let found = locate(&ws, "fixtures/a::default::os").unwrap();
        assert_eq!(found.name, "fixtures/a");
        assert!(locate(&ws, "fixtures/b::default::os").is_none());
        assert!(locate(&ws, "elsewhere::default::os").is_none());
        assert!(locate(&ws, "fixtures/a").is_none());
    }
}
