//! Finding fixtures: walk each selected package's fixture roots (directories
//! or globs), collect fixture directories (those holding `x07.json`),
//! smoke-suite files (`*.smoke.json`) and the `x07 test` manifests of those projects
//! (`tests/tests.json`, plus the files the `test_manifests` key names), in a
//! deterministic order.
//!
//! Discovery only looks at names on disk; it reads no fixture file, so
//! [`locate`] (used by `--exact`) costs the same for 10 or 10,000 fixtures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{PackageConfig, WorkspaceConfig};
use crate::fixture::{PROJECT_FILE, SMOKE_SUFFIX};
use crate::manifest::PROJECT_MANIFEST;
use crate::model::CaseId;

/// What kind of fixture was found.
#[derive(Debug, Clone)]
pub enum FixtureKind {
    /// A directory holding `x07.json` (and maybe `x07test.json`).
    Project,
    /// A `*.smoke.json` file.
    SmokeSuite,
    /// An `x07 test` manifest: a project's `tests/tests.json`, or a file named by the
    /// `test_manifests` configuration key (see [`crate::manifest`]).
    TestManifest,
    /// A directory under a fixture root that could not be read: it may hold fixtures,
    /// so it becomes one failing case per profile instead of stopping the run.
    Unreadable(Arc<std::io::Error>),
    /// A package's `Cargo.toml` whose `[package.metadata.x07]` could not be read (with
    /// other packages selected): one failing case with the message, instead of stopping
    /// the run (see [`crate::config::PackageConfig::settings_error`]).
    BrokenSettings(Arc<str>),
}

impl FixtureKind {
    /// Whether this is a smoke-suite file.
    pub fn is_smoke_suite(&self) -> bool {
        matches!(self, FixtureKind::SmokeSuite)
    }
}

/// One discovered fixture.
#[derive(Debug, Clone)]
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
}

/// The name of a fixture path: relative to the workspace root with `/`, else absolute.
/// A control character in a directory name (a newline, a carriage return, an escape) is
/// written escaped (`\n`, `\u{1b}`): test names travel in line-based protocols (libtest
/// lines, `--list` for nextest, annotations), where a raw newline would split one test
/// into two lines or forge a line of its own.
pub fn fixture_name(workspace_root: &Path, path: &Path) -> String {
    escape_controls(&plain_fixture_name(workspace_root, path))
}

/// `name` with each control character escaped (`\n`, `\u{1b}`), for the parts of a test
/// name that come from files (see [`fixture_name`]).
pub(crate) fn escape_controls(name: &str) -> String {
    if !name.chars().any(char::is_control) {
        return name.to_string();
    }
    name.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn plain_fixture_name(workspace_root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(workspace_root).unwrap_or(path);
    // The root component is "/" itself: joining it with "/" would start the name with
    // "//" (a name `--exact` with the path as the user writes it never matches).
    let parts: Vec<String> = relative
        .components()
        .filter(|part| !matches!(part, std::path::Component::RootDir))
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .collect();
    let name = parts.join("/");
    if relative.is_absolute() {
        format!("/{name}")
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
        if let Some(error) = &package.settings_error {
            let manifest = package.root.join("Cargo.toml");
            let name = fixture_name(&workspace.root, &manifest);
            found.insert(
                name.clone(),
                FixtureLocation {
                    name,
                    path: manifest,
                    kind: FixtureKind::BrokenSettings(Arc::clone(error)),
                    package: index,
                },
            );
        }
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
                    // A project's manifest is selected with its project.
                    let selected = match kind {
                        FixtureKind::TestManifest => project_of_manifest(path),
                        _ => path,
                    };
                    let relative = selected.strip_prefix(&package.root).unwrap_or(selected);
                    // An unreadable directory may hold matching fixtures: keep it when the
                    // glob could match below it.
                    let could_match = matches!(kind, FixtureKind::Unreadable(_))
                        && glob_could_match_below(pattern, relative);
                    if !matcher.is_match(relative) && !could_match {
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
            });
        }
        for manifest in &package.settings.test_manifests {
            let name = fixture_name(&workspace.root, manifest);
            found.entry(name.clone()).or_insert(FixtureLocation {
                path: manifest.clone(),
                name,
                kind: FixtureKind::TestManifest,
                package: index,
            });
        }
    }
    Ok(found.into_values().collect())
}

/// The project directory of a project's manifest (`<project>/tests/tests.json`).
fn project_of_manifest(manifest: &Path) -> &Path {
    manifest.parent().and_then(Path::parent).unwrap_or(manifest)
}

/// Whether `path` is a project's test manifest: `<dir>/tests/tests.json` with
/// `<dir>/x07.json` beside `tests/`.
pub fn is_project_manifest(path: &Path) -> bool {
    path.ends_with(PROJECT_MANIFEST)
        && path.is_file()
        && project_of_manifest(path).join(PROJECT_FILE).is_file()
}

/// Whether a glob could match a path below `dir` (its literal prefix agrees so far).
fn glob_could_match_below(pattern: &str, dir: &Path) -> bool {
    let base = Path::new(glob_base(pattern));
    base.starts_with(dir) || dir.starts_with(base)
}

/// Walks one root: a directory holding an entry named `x07.json` (of any kind: a
/// directory or a broken link there fails the fixture instead of hiding it) is a
/// fixture and is not descended into; hidden entries and `target/` are skipped;
/// symlinked directories are not followed, while a symlink named `*.smoke.json` is a
/// suite (the plan checks where it leads). Entries are visited in byte order of their names. A directory that
/// cannot be read is reported as [`FixtureKind::Unreadable`].
///
/// A plain `read_dir` recursion rather than a walker crate: it needs one
/// `read_dir` per directory and no `stat` per entry (the entry list already
/// says whether `x07.json` is there), which keeps 10,000 fixtures well under
/// the discovery budget.
fn walk_root(root: &Path, mut on_fixture: impl FnMut(&Path, FixtureKind)) {
    if root.is_file() {
        if root.to_string_lossy().ends_with(SMOKE_SUFFIX) {
            on_fixture(root, FixtureKind::SmokeSuite);
        }
        return;
    }
    walk_dir(root, &mut on_fixture)
}

fn read_entries(dir: &Path) -> std::io::Result<Vec<(std::ffi::OsString, std::fs::FileType)>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        entries.push((entry.file_name(), entry.file_type()?));
    }
    Ok(entries)
}

fn walk_dir(dir: &Path, on_fixture: &mut impl FnMut(&Path, FixtureKind)) {
    let mut entries = match read_entries(dir) {
        Ok(entries) => entries,
        Err(error) => {
            on_fixture(dir, FixtureKind::Unreadable(Arc::new(error)));
            return;
        }
    };
    let is_fixture = entries.iter().any(|(name, _)| name == PROJECT_FILE);
    if is_fixture {
        on_fixture(dir, FixtureKind::Project);
        let has_tests_dir = entries
            .iter()
            .any(|(name, kind)| name == "tests" && kind.is_dir());
        let manifest = dir.join(PROJECT_MANIFEST);
        // Any entry of that name counts (a directory or a broken link there fails its
        // case rather than hiding the project's tests).
        if has_tests_dir && std::fs::symlink_metadata(&manifest).is_ok() {
            on_fixture(&manifest, FixtureKind::TestManifest);
        }
        return;
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
                walk_dir(&path, on_fixture);
            }
        } else if (kind.is_file() || kind.is_symlink()) && text.ends_with(SMOKE_SUFFIX) {
            on_fixture(&path, FixtureKind::SmokeSuite);
        }
    }
}

/// Why [`discover_path`] found nothing.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    /// The path does not exist.
    #[error("{} does not exist", .0.display())]
    Missing(PathBuf),
    /// The path exists but holds no fixture.
    #[error("{} holds no fixture (no directory with {PROJECT_FILE}, no *{SMOKE_SUFFIX} file, no x07 test manifest)", .0.display())]
    NoFixture(PathBuf),
}

/// The fixtures at or below `given` (relative to the current directory): a fixture
/// directory, its `x07.json`, a `*.smoke.json` file, an `x07 test` manifest (a project's
/// `tests/tests.json` or one named by `test_manifests`), or any directory holding
/// fixtures — whether or not it lies under the configured fixture roots (`cargo x07 test
/// <dir>`, `cargo x07 run <dir>`). The walk is the one of [`discover`], plus the
/// configured manifests at or below the path; each fixture gets the settings of the
/// package holding it ([`WorkspaceConfig::package_for_path`]), a configured manifest those
/// of the package that names it.
pub fn discover_path(
    workspace: &mut WorkspaceConfig,
    given: &Path,
) -> Result<Vec<FixtureLocation>, PathError> {
    let absolute = std::path::absolute(given).unwrap_or_else(|_| given.to_path_buf());
    let absolute = if absolute
        .file_name()
        .is_some_and(|name| name == PROJECT_FILE)
    {
        absolute.parent().map(Path::to_path_buf).unwrap_or(absolute)
    } else {
        absolute
    };
    let Ok(canonical) = absolute.canonicalize() else {
        return Err(PathError::Missing(given.to_path_buf()));
    };
    // Named the way discovery names fixtures: below the workspace root as written there.
    let root = workspace
        .root
        .canonicalize()
        .unwrap_or_else(|_| workspace.root.clone());
    let base = match canonical.strip_prefix(&root) {
        Ok(relative) => workspace.root.join(relative),
        Err(_) => canonical,
    };
    let mut found: Vec<(PathBuf, FixtureKind)> = Vec::new();
    if is_project_manifest(&base) {
        // A project's own `tests/tests.json`: its `x07 test` cases, not the project's.
        found.push((base.clone(), FixtureKind::TestManifest));
    }
    walk_root(&base, |path, kind| found.push((path.to_path_buf(), kind)));
    for package in &workspace.packages {
        for manifest in &package.settings.test_manifests {
            if manifest.starts_with(&base) && !found.iter().any(|(path, _)| path == manifest) {
                found.push((manifest.clone(), FixtureKind::TestManifest));
            }
        }
    }
    if found.is_empty() {
        return Err(PathError::NoFixture(given.to_path_buf()));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found
        .into_iter()
        .map(|(path, kind)| {
            let configured = match kind {
                FixtureKind::TestManifest => configured_manifest(workspace, &path),
                _ => None,
            };
            FixtureLocation {
                name: fixture_name(&workspace.root, &path),
                package: configured.unwrap_or_else(|| workspace.package_for_path(&path)),
                path,
                kind,
            }
        })
        .collect())
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
    } else if is_project_manifest(&path) || configured_manifest(workspace, &path).is_some() {
        FixtureKind::TestManifest
    } else {
        return None;
    };
    let package = workspace
        .packages
        .iter()
        .position(|package| under_fixture_roots(package, &path))
        .or_else(|| configured_manifest(workspace, &path))?;
    Some(FixtureLocation {
        name: fixture_name(&workspace.root, &path),
        path,
        kind,
        package,
    })
}

/// The package whose `test_manifests` names `path`, if one does.
fn configured_manifest(workspace: &WorkspaceConfig, path: &Path) -> Option<usize> {
    workspace
        .packages
        .iter()
        .position(|package| package.settings.test_manifests.iter().any(|m| m == path))
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
            env_clear: Default::default(),
            native_cache_dir: None,
            test_manifests: vec![],
            differential: false,
        };
        WorkspaceConfig {
            root: root.to_path_buf(),
            target_dir: root.join("target"),
            workspace_settings: settings.clone(),
            packages: vec![PackageConfig {
                name: "p".into(),
                root: root.to_path_buf(),
                settings,
                settings_error: None,
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
        assert!(found[2].kind.is_smoke_suite());
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
    fn a_directory_that_cannot_be_read_is_reported_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        // The same error path as a permission error: read_dir fails for this directory.
        let gone = dir.path().join("removed-while-walking");
        let mut found = Vec::new();
        walk_dir(&gone, &mut |path: &Path, kind| {
            found.push((path.to_path_buf(), kind))
        });
        assert_eq!(found.len(), 1);
        assert!(
            matches!(found[0].1, FixtureKind::Unreadable(_)),
            "{found:?}"
        );
        assert_eq!(found[0].0, gone);
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
    fn a_path_selects_the_fixtures_below_it_even_outside_the_roots() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("demo/x07.json"));
        touch(&root.join("more/a/x07.json"));
        touch(&root.join("more/b/s.smoke.json"));
        std::fs::create_dir_all(root.join("empty")).unwrap();
        let mut ws = workspace(root, &["fixtures"]);
        let names = |found: Vec<FixtureLocation>| -> Vec<String> {
            found.into_iter().map(|f| f.name).collect()
        };
        let found = discover_path(&mut ws, &root.join("demo")).unwrap();
        assert_eq!(found[0].package, 0);
        assert_eq!(names(found), ["demo"]);
        assert_eq!(
            names(discover_path(&mut ws, &root.join("demo/x07.json")).unwrap()),
            ["demo"]
        );
        assert_eq!(
            names(discover_path(&mut ws, &root.join("more")).unwrap()),
            ["more/a", "more/b/s.smoke.json"]
        );
        let missing = discover_path(&mut ws, &root.join("nope")).unwrap_err();
        assert!(matches!(missing, PathError::Missing(_)), "{missing}");
        let empty = discover_path(&mut ws, &root.join("empty")).unwrap_err();
        assert!(
            empty
                .to_string()
                .ends_with("holds no fixture (no directory with x07.json, no *.smoke.json file, no x07 test manifest)"),
            "{empty}"
        );
    }

    #[test]
    fn a_fixture_outside_every_package_gets_the_workspace_settings() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("demo/x07.json"));
        let mut ws = workspace(root, &["fixtures"]);
        ws.packages[0].root = root.join("member");
        ws.workspace_settings.profiles = vec!["sandbox".into()];
        let found = discover_path(&mut ws, &root.join("demo")).unwrap();
        assert_eq!(found[0].package, 1);
        assert_eq!(ws.packages[1].settings.profiles, ["sandbox"]);
        // Asked again, the same entry.
        assert_eq!(
            discover_path(&mut ws, &root.join("demo")).unwrap()[0].package,
            1
        );
    }

    #[test]
    fn a_path_selects_test_manifests_too() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("p/x07.json"));
        touch(&root.join("p/tests/tests.json"));
        touch(&root.join("p/tests/other.json"));
        touch(&root.join("extra/suite.json"));
        let mut ws = workspace(root, &["fixtures"]);
        // The package lives in member/: p/ is outside it (workspace settings, entry 1).
        ws.packages[0].root = root.join("member");
        ws.packages[0].settings.test_manifests = vec![root.join("extra/suite.json")];
        let found = |ws: &mut WorkspaceConfig, path: &str| -> Vec<(String, bool, usize)> {
            discover_path(ws, &root.join(path))
                .unwrap()
                .into_iter()
                .map(|f| {
                    let manifest = matches!(f.kind, FixtureKind::TestManifest);
                    (f.name, manifest, f.package)
                })
                .collect()
        };
        // A project: its x07 run cases and its manifest, as discovery finds them.
        assert_eq!(
            found(&mut ws, "p"),
            [
                ("p".to_string(), false, 1),
                ("p/tests/tests.json".to_string(), true, 1)
            ]
        );
        // A project's manifest: only its x07 test cases.
        assert_eq!(
            found(&mut ws, "p/tests/tests.json"),
            [("p/tests/tests.json".to_string(), true, 1)]
        );
        // A configured manifest, named or below the path: the naming package's settings.
        assert_eq!(
            found(&mut ws, "extra/suite.json"),
            [("extra/suite.json".to_string(), true, 0)]
        );
        assert_eq!(
            found(&mut ws, "extra"),
            [("extra/suite.json".to_string(), true, 0)]
        );
        // Any other JSON file is no fixture.
        let other = discover_path(&mut ws, &root.join("p/tests/other.json")).unwrap_err();
        assert!(matches!(other, PathError::NoFixture(_)), "{other}");
    }

    #[test]
    fn project_manifests_and_configured_manifests_are_found_and_located() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("fixtures/p/x07.json"));
        touch(&root.join("fixtures/p/tests/tests.json"));
        touch(&root.join("fixtures/q/x07.json"));
        touch(&root.join("fixtures/q/tests/other.json"));
        touch(&root.join("fixtures/loose/tests/tests.json"));
        touch(&root.join("extra/suite.json"));
        let mut ws = workspace(root, &["fixtures"]);
        ws.packages[0].settings.test_manifests = vec![root.join("extra/suite.json")];
        let found = discover(&ws).unwrap();
        let names: Vec<(&str, bool)> = found
            .iter()
            .map(|f| (f.name.as_str(), matches!(f.kind, FixtureKind::TestManifest)))
            .collect();
        assert_eq!(
            names,
            [
                ("extra/suite.json", true),
                ("fixtures/p", false),
                ("fixtures/p/tests/tests.json", true),
                ("fixtures/q", false)
            ]
        );
        let located = locate(&ws, "fixtures/p/tests/tests.json::a%3A%3Ab::solve-pure").unwrap();
        assert!(matches!(located.kind, FixtureKind::TestManifest));
        assert!(locate(&ws, "extra/suite.json::t::run-os").is_some());
        assert!(locate(&ws, "fixtures/loose/tests/tests.json::t::run-os").is_none());
        // A glob selects a project's manifest with the project.
        let globbed = discover(&workspace(root, &["fixtures/p*"])).unwrap();
        assert_eq!(globbed.len(), 2, "{globbed:?}");
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
