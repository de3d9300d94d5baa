//! Settings: the cargo workspace (found with `cargo metadata`), the packages
//! selected the way cargo selects them (`--manifest-path`, `-p`, `--workspace`)
//! and the `[workspace.metadata.x07]` / `[package.metadata.x07]` tables.
//!
//! Package settings override workspace settings key by key (`env` is merged
//! per variable). Paths in a table are relative to the directory of the
//! manifest that holds it. The keys are documented in `docs/configuration.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::run::EnvClear;

/// Default per-case timeout when neither the fixture nor the configuration sets one.
pub const DEFAULT_TIMEOUT_MS: u64 = 60_000;

/// The default native cache, below the cargo target directory.
pub const DEFAULT_NATIVE_CACHE_DIR: &str = "x07-native-cache";

/// Which sandbox backend sandboxed cases ask the runner for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SandboxBackend {
    /// `--sandbox-backend os --i-accept-weaker-isolation` (the default: works everywhere).
    #[default]
    Os,
    /// The toolchain's VM boundary; fails closed where no VM runtime exists.
    Vm,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `cargo metadata` failed (no workspace here, bad manifest, …).
    #[error("failed to read the cargo workspace: {0}")]
    Metadata(#[from] cargo_metadata::Error),
    /// A `metadata.x07` table has an unknown key or a wrong type.
    #[error("invalid [{table}] in {}: {message}", manifest.display())]
    Table {
        /// `workspace.metadata.x07` or `package.metadata.x07`.
        table: &'static str,
        /// The manifest holding the table.
        manifest: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// `-p NAME` named no workspace member.
    #[error("package `{0}` is not a member of this workspace")]
    UnknownPackage(String),
}

/// One `metadata.x07` table as written; every key optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    /// Fixture roots or globs, relative to each package root.
    pub fixtures: Option<Vec<String>>,
    /// Profiles to run.
    pub profiles: Option<Vec<String>>,
    /// Path of the `x07` binary to use.
    pub x07: Option<PathBuf>,
    /// Sandbox backend for sandboxed cases.
    pub sandbox_backend: Option<SandboxBackend>,
    /// Default per-case timeout.
    pub timeout_ms: Option<u64>,
    /// Default number of parallel cases.
    pub jobs: Option<usize>,
    /// Directory that smoke-suite paths are relative to.
    pub smoke_root: Option<PathBuf>,
    /// `--module-root` values for smoke-suite cases (relative ones against `smoke_root`).
    pub smoke_module_roots: Option<Vec<PathBuf>>,
    /// Extra environment variables for every runner process.
    pub env: Option<BTreeMap<String, String>>,
    /// Which inherited `X07_*` variables are removed: `run-shaping` (default) or `all`.
    pub env_clear: Option<EnvClear>,
    /// `X07_NATIVE_CACHE_DIR` for the runners unless the caller set it; `""` leaves it
    /// unset (the toolchain's own default).
    pub native_cache_dir: Option<PathBuf>,
    /// `x07 test` manifests to run besides each project fixture's `tests/tests.json`.
    pub test_manifests: Option<Vec<PathBuf>>,
    /// Run `cargo x07 test` as if `--differential` were given.
    pub differential: Option<bool>,
}

impl RawSettings {
    fn from_metadata(
        metadata: &serde_json::Value,
        table: &'static str,
        manifest: &Path,
    ) -> Result<RawSettings, ConfigError> {
        match metadata.get("x07") {
            None | Some(serde_json::Value::Null) => Ok(RawSettings::default()),
            Some(value) => {
                let invalid = |message: String| ConfigError::Table {
                    table,
                    manifest: manifest.to_path_buf(),
                    message,
                };
                if !value.is_object() {
                    return Err(invalid(format!("expected a table, got {value}")));
                }
                let raw: RawSettings =
                    serde_path_to_error::deserialize(value.clone()).map_err(|error| match error
                        .path()
                        .to_string()
                        .as_str()
                    {
                        "." => invalid(error.inner().to_string()),
                        key => invalid(format!("{key}: {}", error.inner())),
                    })?;
                // 0 would time every case out at once, or run none of them: a usage
                // error, as `--test-threads 0` is for libtest.
                if raw.timeout_ms == Some(0) {
                    return Err(invalid(
                        "timeout_ms: must be at least 1 (milliseconds)".into(),
                    ));
                }
                if raw.jobs == Some(0) {
                    return Err(invalid("jobs: must be at least 1".into()));
                }
                Ok(raw)
            }
        }
    }

    /// Makes every path absolute against `base`.
    fn anchored(mut self, base: &Path) -> RawSettings {
        self.x07 = self.x07.map(|path| anchor_program(base, path));
        self.smoke_root = self.smoke_root.map(|path| base.join(path));
        // smoke_module_roots stay as written: relative ones resolve against the effective
        // smoke_root (Settings::from_raw), as the X07 repository's own scripts pass them.
        self.native_cache_dir = self.native_cache_dir.map(|path| {
            if path.as_os_str().is_empty() {
                path
            } else {
                base.join(path)
            }
        });
        self.test_manifests = self.test_manifests.map(|manifests| {
            manifests
                .into_iter()
                .map(|manifest| lexically_normal(&base.join(manifest)))
                .collect()
        });
        self
    }

    /// `self` with `over`'s keys on top.
    fn overlaid(self, over: RawSettings) -> RawSettings {
        let env = match (self.env, over.env) {
            (Some(mut base), Some(top)) => {
                base.extend(top);
                Some(base)
            }
            (base, top) => top.or(base),
        };
        RawSettings {
            fixtures: over.fixtures.or(self.fixtures),
            profiles: over.profiles.or(self.profiles),
            x07: over.x07.or(self.x07),
            sandbox_backend: over.sandbox_backend.or(self.sandbox_backend),
            timeout_ms: over.timeout_ms.or(self.timeout_ms),
            jobs: over.jobs.or(self.jobs),
            smoke_root: over.smoke_root.or(self.smoke_root),
            smoke_module_roots: over.smoke_module_roots.or(self.smoke_module_roots),
            env,
            env_clear: over.env_clear.or(self.env_clear),
            native_cache_dir: over.native_cache_dir.or(self.native_cache_dir),
            test_manifests: over.test_manifests.or(self.test_manifests),
            differential: over.differential.or(self.differential),
        }
    }
}

/// `path` without `.` and `..` parts (resolved by text, not on disk), so that a manifest
/// named `../x/tests.json` gets the same test name however it is written.
fn lexically_normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// A bare program name (`x07`) stays a name to look up on PATH; a path is anchored.
fn anchor_program(base: &Path, path: PathBuf) -> PathBuf {
    if path.components().count() == 1 && !path.is_absolute() {
        path
    } else {
        base.join(path)
    }
}

/// The effective settings of one package, defaults applied, paths absolute.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Fixture roots or globs, relative to the package root.
    pub fixtures: Vec<String>,
    /// Whether `fixtures` was configured (a configured root that is missing is an error).
    pub fixtures_configured: bool,
    /// Profiles to run (default `os`, `sandbox`).
    pub profiles: Vec<String>,
    /// The `x07` binary from the configuration, if any.
    pub x07: Option<PathBuf>,
    /// Sandbox backend for sandboxed cases.
    pub sandbox_backend: SandboxBackend,
    /// Default per-case timeout in milliseconds.
    pub timeout_ms: u64,
    /// Default number of parallel cases.
    pub jobs: Option<usize>,
    /// Directory that smoke-suite paths are relative to (default: workspace root).
    pub smoke_root: PathBuf,
    /// `--module-root` values for smoke-suite cases (absolute; relative ones were resolved
    /// against `smoke_root`).
    pub smoke_module_roots: Vec<PathBuf>,
    /// Extra environment variables for every runner process.
    pub env: BTreeMap<String, String>,
    /// Which inherited `X07_*` variables are removed from the runners' environment.
    pub env_clear: EnvClear,
    /// The native cache given to the runners unless the caller set `X07_NATIVE_CACHE_DIR`
    /// (default `<cargo target dir>/x07-native-cache`; `None`: left to the toolchain).
    pub native_cache_dir: Option<PathBuf>,
    /// `x07 test` manifests named by `test_manifests` (absolute), run besides each
    /// project fixture's `tests/tests.json`.
    pub test_manifests: Vec<PathBuf>,
    /// Whether `cargo x07 test` runs the profile differential by default.
    pub differential: bool,
}

impl Settings {
    fn from_raw(raw: RawSettings, workspace_root: &Path, target_dir: &Path) -> Settings {
        let smoke_root = raw
            .smoke_root
            .unwrap_or_else(|| workspace_root.to_path_buf());
        let native_cache_dir = match raw.native_cache_dir {
            None => Some(target_dir.join(DEFAULT_NATIVE_CACHE_DIR)),
            Some(path) if path.as_os_str().is_empty() => None,
            Some(path) => Some(path),
        };
        Settings {
            fixtures_configured: raw.fixtures.is_some(),
            fixtures: raw.fixtures.unwrap_or_else(|| vec!["fixtures".to_string()]),
            profiles: raw
                .profiles
                .unwrap_or_else(|| vec!["os".to_string(), "sandbox".to_string()]),
            x07: raw.x07,
            sandbox_backend: raw.sandbox_backend.unwrap_or_default(),
            timeout_ms: raw.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS),
            jobs: raw.jobs,
            smoke_module_roots: raw
                .smoke_module_roots
                .unwrap_or_default()
                .into_iter()
                .map(|root| smoke_root.join(root))
                .collect(),
            smoke_root,
            env: raw.env.unwrap_or_default(),
            env_clear: raw.env_clear.unwrap_or_default(),
            native_cache_dir,
            test_manifests: raw.test_manifests.unwrap_or_default(),
            differential: raw.differential.unwrap_or(false),
        }
    }
}

/// One selected package and its settings.
#[derive(Debug, Clone)]
pub struct PackageConfig {
    /// Package name.
    pub name: String,
    /// Directory holding its `Cargo.toml`.
    pub root: PathBuf,
    /// Its effective settings.
    pub settings: Settings,
    /// Its `[package.metadata.x07]` could not be read while other packages were selected
    /// too: the package runs no fixture (its settings are unknown) and becomes one failing
    /// case with this message, so the other packages' cases still run. (A lone selected
    /// package with a broken table, or a broken workspace table, stops the run instead.)
    pub settings_error: Option<std::sync::Arc<str>>,
}

/// The workspace and the packages selected for this run.
#[derive(Debug, Clone)]
pub struct WorkspaceConfig {
    /// The workspace root directory; test names are relative to it.
    pub root: PathBuf,
    /// Cargo's target directory for this workspace (`cargo metadata`'s
    /// `target_directory`); cargo-x07 keeps its state files under it.
    pub target_dir: PathBuf,
    /// Settings from `[workspace.metadata.x07]` alone (for runner choice and jobs).
    pub workspace_settings: Settings,
    /// Selected packages, in workspace member order.
    pub packages: Vec<PackageConfig>,
}

impl WorkspaceConfig {
    /// The `x07` binary the configuration names: the first selected package's
    /// setting, else the workspace's.
    pub fn configured_x07(&self) -> Option<PathBuf> {
        self.packages
            .first()
            .and_then(|package| package.settings.x07.clone())
            .or_else(|| self.workspace_settings.x07.clone())
    }

    /// The `differential` setting: on when any selected package (or the workspace) turns
    /// it on.
    pub fn configured_differential(&self) -> bool {
        self.workspace_settings.differential
            || self
                .packages
                .iter()
                .any(|package| package.settings.differential)
    }

    /// The `jobs` setting: the first selected package's, else the workspace's.
    pub fn configured_jobs(&self) -> Option<usize> {
        self.packages
            .first()
            .and_then(|package| package.settings.jobs)
            .or(self.workspace_settings.jobs)
    }

    /// The index in [`WorkspaceConfig::packages`] of the package whose settings apply to
    /// `path` (absolute): the selected package with the deepest root holding it; a fixture
    /// outside every selected package (the root of a virtual workspace, say) gets the
    /// `[workspace.metadata.x07]` settings, as an entry added for the workspace root.
    pub fn package_for_path(&mut self, path: &Path) -> usize {
        let owner = self
            .packages
            .iter()
            .enumerate()
            .filter(|(_, package)| path.starts_with(&package.root))
            .max_by_key(|(_, package)| package.root.components().count())
            .map(|(index, _)| index);
        owner.unwrap_or_else(|| {
            self.packages.push(PackageConfig {
                name: "(workspace)".into(),
                root: self.root.clone(),
                settings: self.workspace_settings.clone(),
                settings_error: None,
            });
            self.packages.len() - 1
        })
    }

    /// The settings that hold for the whole run (runner, environment): the first selected
    /// package's, else the workspace's.
    pub fn run_settings(&self) -> &Settings {
        self.packages
            .first()
            .map(|package| &package.settings)
            .unwrap_or(&self.workspace_settings)
    }
}

/// Which packages to use, as cargo's selectors say.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `--manifest-path`: the manifest to start from (default: the nearest `Cargo.toml` above the cwd).
    pub manifest_path: Option<PathBuf>,
    /// `-p/--package`: these packages.
    pub packages: Vec<String>,
    /// `--workspace`: every member.
    pub workspace: bool,
}

/// Loads the workspace and the selected packages' settings.
///
/// Without `-p`/`--workspace`, like cargo: the package whose manifest is the
/// starting manifest, or the default members when it is a virtual manifest.
pub fn load(selection: &Selection) -> Result<WorkspaceConfig, ConfigError> {
    let mut command = cargo_metadata::MetadataCommand::new();
    command.no_deps();
    if let Some(path) = &selection.manifest_path {
        command.manifest_path(path);
    }
    let metadata = command.exec()?;
    let root = metadata.workspace_root.clone().into_std_path_buf();
    let target_dir = metadata.target_directory.clone().into_std_path_buf();
    let workspace_raw = RawSettings::from_metadata(
        &metadata.workspace_metadata,
        "workspace.metadata.x07",
        &root.join("Cargo.toml"),
    )?
    .anchored(&root);

    let members: Vec<&cargo_metadata::Package> = metadata.workspace_packages();
    let chosen: Vec<&cargo_metadata::Package> = if selection.workspace {
        members.clone()
    } else if !selection.packages.is_empty() {
        let mut chosen = Vec::new();
        for name in &selection.packages {
            let package = members
                .iter()
                .find(|package| package.name.as_str() == name.as_str())
                .ok_or_else(|| ConfigError::UnknownPackage(name.clone()))?;
            chosen.push(*package);
        }
        chosen
    } else {
        let start = match &selection.manifest_path {
            Some(path) => std::path::absolute(path).ok(),
            None => std::env::current_dir()
                .ok()
                .and_then(|dir| nearest_manifest(&dir)),
        };
        let own = start.and_then(|start| {
            let start = start.canonicalize().unwrap_or(start);
            members.iter().copied().find(|package| {
                let manifest = package.manifest_path.as_std_path();
                manifest.canonicalize().ok().as_deref() == Some(start.as_path())
            })
        });
        match own {
            Some(package) => vec![package],
            None if metadata.workspace_default_members.is_available() => members
                .iter()
                .copied()
                .filter(|package| metadata.workspace_default_members.contains(&package.id))
                .collect(),
            None => members.clone(),
        }
    };

    let mut packages = Vec::new();
    let several = chosen.len() > 1;
    for package in chosen {
        let manifest = package.manifest_path.as_std_path();
        let package_root = manifest.parent().unwrap_or(&root).to_path_buf();
        let (package_raw, settings_error) =
            match RawSettings::from_metadata(&package.metadata, "package.metadata.x07", manifest) {
                Ok(raw) => (raw.anchored(&package_root), None),
                Err(error) if several => (
                    RawSettings {
                        fixtures: Some(Vec::new()),
                        ..RawSettings::default()
                    },
                    Some(std::sync::Arc::from(error.to_string())),
                ),
                Err(error) => return Err(error),
            };
        packages.push(PackageConfig {
            name: package.name.to_string(),
            root: package_root,
            settings: Settings::from_raw(
                workspace_raw.clone().overlaid(package_raw),
                &root,
                &target_dir,
            ),
            settings_error,
        });
    }
    Ok(WorkspaceConfig {
        workspace_settings: Settings::from_raw(workspace_raw, &root, &target_dir),
        target_dir,
        root,
        packages,
    })
}

fn nearest_manifest(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|ancestor| ancestor.join("Cargo.toml"))
        .find(|manifest| manifest.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_keys_override_workspace_keys_and_env_merges() {
        let workspace: RawSettings = serde_json::from_value(serde_json::json!({
            "profiles": ["os"], "timeout_ms": 5, "env": {"A": "1", "B": "2"}, "x07": "bin/x07"
        }))
        .unwrap();
        let package: RawSettings =
            serde_json::from_value(serde_json::json!({ "timeout_ms": 9, "env": {"B": "3"} }))
                .unwrap();
        let settings = Settings::from_raw(
            workspace
                .anchored(Path::new("/ws"))
                .overlaid(package.anchored(Path::new("/ws/p"))),
            Path::new("/ws"),
            Path::new("/ws/target"),
        );
        assert_eq!(settings.profiles, ["os"]);
        assert_eq!(settings.timeout_ms, 9);
        assert_eq!(settings.env["A"], "1");
        assert_eq!(settings.env["B"], "3");
        assert_eq!(settings.x07, Some(PathBuf::from("/ws/bin/x07")));
        assert_eq!(settings.fixtures, ["fixtures"]);
        assert_eq!(settings.smoke_root, PathBuf::from("/ws"));
    }

    #[test]
    fn runner_and_jobs_come_from_the_first_package_else_the_workspace() {
        let raw = |json| -> RawSettings { serde_json::from_value(json).unwrap() };
        let ws_settings = Settings::from_raw(
            raw(serde_json::json!({ "x07": "tools/x07", "jobs": 3 })).anchored(Path::new("/ws")),
            Path::new("/ws"),
            Path::new("/ws/target"),
        );
        let package = |json| PackageConfig {
            name: "p".into(),
            root: "/ws/p".into(),
            settings: Settings::from_raw(
                raw(json).anchored(Path::new("/ws/p")),
                Path::new("/ws/p"),
                Path::new("/ws/target"),
            ),
            settings_error: None,
        };
        let mut workspace = WorkspaceConfig {
            root: "/ws".into(),
            target_dir: "/ws/target".into(),
            workspace_settings: ws_settings,
            packages: vec![package(serde_json::json!({}))],
        };
        assert_eq!(
            workspace.configured_x07(),
            Some(PathBuf::from("/ws/tools/x07"))
        );
        assert_eq!(workspace.configured_jobs(), Some(3));
        workspace.packages = vec![package(serde_json::json!({ "x07": "own/x07", "jobs": 1 }))];
        assert_eq!(
            workspace.configured_x07(),
            Some(PathBuf::from("/ws/p/own/x07"))
        );
        assert_eq!(workspace.configured_jobs(), Some(1));
    }

    #[test]
    fn defaults_when_nothing_is_configured() {
        let settings = Settings::from_raw(
            RawSettings::default(),
            Path::new("/ws"),
            Path::new("/ws/target"),
        );
        assert_eq!(settings.profiles, ["os", "sandbox"]);
        assert_eq!(settings.sandbox_backend, SandboxBackend::Os);
        assert_eq!(settings.timeout_ms, DEFAULT_TIMEOUT_MS);
        assert!(!settings.fixtures_configured);
        assert_eq!(settings.env_clear, EnvClear::RunShaping);
        assert_eq!(
            settings.native_cache_dir,
            Some(PathBuf::from("/ws/target/x07-native-cache"))
        );
    }

    #[test]
    fn environment_keys_parse_anchor_and_override() {
        let raw = |json| -> RawSettings { serde_json::from_value(json).unwrap() };
        let workspace = raw(serde_json::json!({ "env_clear": "all", "native_cache_dir": "cache" }))
            .anchored(Path::new("/ws"));
        let settings =
            Settings::from_raw(workspace.clone(), Path::new("/ws"), Path::new("/ws/target"));
        assert_eq!(settings.env_clear, EnvClear::All);
        assert_eq!(settings.native_cache_dir, Some(PathBuf::from("/ws/cache")));
        let package =
            raw(serde_json::json!({ "env_clear": "run-shaping", "native_cache_dir": "" }))
                .anchored(Path::new("/ws/p"));
        let settings = Settings::from_raw(
            workspace.overlaid(package),
            Path::new("/ws"),
            Path::new("/ws/target"),
        );
        assert_eq!(settings.env_clear, EnvClear::RunShaping);
        assert_eq!(
            settings.native_cache_dir, None,
            "\"\" leaves it to the toolchain"
        );
        let error = RawSettings::from_metadata(
            &serde_json::json!({ "x07": { "env_clear": "some" } }),
            "workspace.metadata.x07",
            Path::new("Cargo.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("unknown variant `some`"), "{error}");
    }

    #[test]
    fn relative_smoke_module_roots_resolve_against_smoke_root() {
        let raw = |json| -> RawSettings { serde_json::from_value(json).unwrap() };
        let workspace = raw(serde_json::json!({
            "smoke_root": "../x07",
            "smoke_module_roots": ["packages/ext/a/modules", "/abs/modules"]
        }))
        .anchored(Path::new("/ws"));
        let settings = Settings::from_raw(workspace, Path::new("/ws"), Path::new("/ws/target"));
        assert_eq!(settings.smoke_root, PathBuf::from("/ws/../x07"));
        assert_eq!(
            settings.smoke_module_roots,
            [
                PathBuf::from("/ws/../x07/packages/ext/a/modules"),
                PathBuf::from("/abs/modules")
            ]
        );
        // A package's roots resolve against the smoke_root in force for it.
        let package =
            raw(serde_json::json!({ "smoke_module_roots": ["m"] })).anchored(Path::new("/ws/p"));
        let workspace =
            raw(serde_json::json!({ "smoke_root": "suites" })).anchored(Path::new("/ws"));
        let settings = Settings::from_raw(
            workspace.overlaid(package),
            Path::new("/ws"),
            Path::new("/ws/target"),
        );
        assert_eq!(settings.smoke_module_roots, [PathBuf::from("/ws/suites/m")]);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let error = RawSettings::from_metadata(
            &serde_json::json!({ "x07": { "fixture": ["x"] } }),
            "workspace.metadata.x07",
            Path::new("Cargo.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("unknown field `fixture`"), "{error}");
    }

    #[test]
    fn a_bare_x07_name_stays_a_path_lookup() {
        assert_eq!(
            anchor_program(Path::new("/ws"), PathBuf::from("x07")),
            PathBuf::from("x07")
        );
    }
}
