//! The environment of every runner process — the one place that says which inherited
//! `X07_*` variables reach `x07` and which do not.
//!
//! The toolchain reads two kinds of `X07_*` variables (`docs/configuration.md`,
//! "Environment"):
//!
//! * **run-shaping** ones change the world, profile, policy or sandbox a run gets. An
//!   inherited `X07_OS_SANDBOXED=1` turns an `os` run into a deny-all sandbox, so these are
//!   always removed ([`is_run_shaping`]: the prefix [`RUN_SHAPING_PREFIXES`] and the names
//!   [`RUN_SHAPING_NAMES`]);
//! * **toolchain set-up** ones (`X07_CC`, `X07_NATIVE_CACHE_DIR`, `X07_OFFLINE`,
//!   `X07_PKG_HOME`, the `X07_VM_*` locations, …) say where the user's compiler, caches and
//!   packages are; they pass through, and so does any other `X07_*` name.
//!
//! [`EnvClear::All`] (`env_clear = "all"`, `--clean-env`) removes every inherited `X07_*`
//! variable instead. Unless the caller set `X07_NATIVE_CACHE_DIR`, it points at the
//! configured native cache (`<cargo target dir>/x07-native-cache` by default), so the cases
//! and profiles of a run share compiled programs and a CI cache of `target/` keeps them.
//! Variables a fixture or the configuration sets (`env`) are applied last and always win.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

/// Run-shaping variable name prefixes: every `X07_OS_*` policy setting.
pub const RUN_SHAPING_PREFIXES: &[&str] = &["X07_OS_"];

/// Run-shaping variables by exact name (x07 0.2.17).
pub const RUN_SHAPING_NAMES: &[&str] = &[
    "X07_WORLD",
    "X07_SANDBOX_BACKEND",
    "X07_I_ACCEPT_WEAKER_ISOLATION",
    "X07_VM_BACKEND",
    "X07_INTERNAL_AUTO_DEPS",
    "X07_TOOL_API_CHILD",
    "X07_COMPAT",
    "X07_PROFILE",
];

/// Where the toolchain caches compiled programs.
pub const NATIVE_CACHE_VARIABLE: &str = "X07_NATIVE_CACHE_DIR";

/// Set-up variables that hold a directory or file path. The runner runs inside a temporary
/// copy of the fixture, so a relative value inherited from the caller is made absolute
/// against the directory `cargo x07` runs in (else it would point into the copy).
pub const PATH_VARIABLES: &[&str] = &[
    NATIVE_CACHE_VARIABLE,
    "X07_PKG_HOME",
    "X07_WORKSPACE_ROOT",
    "X07_REPO_ROOT",
    "X07_VM_GUEST_IMAGE",
    "X07_VM_STATE_DIR",
];

/// Whether `name` is a run-shaping variable (always removed from inherited environments).
pub fn is_run_shaping(name: &str) -> bool {
    RUN_SHAPING_PREFIXES
        .iter()
        .any(|prefix| name.starts_with(prefix))
        || RUN_SHAPING_NAMES.contains(&name)
}

/// Whether `name` is an `X07_*` variable.
fn is_x07_variable(name: &OsStr) -> bool {
    name.as_encoded_bytes().starts_with(b"X07_")
}

/// Which inherited `X07_*` variables are removed (`env_clear` in `[*.metadata.x07]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvClear {
    /// Only the run-shaping ones (the default); set-up ones pass through.
    #[default]
    RunShaping,
    /// Every inherited `X07_*` variable (`--clean-env`); the default native cache is not
    /// set either, only what the configuration and the fixture set explicitly.
    All,
}

/// What happened to one inherited `X07_*` variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inherited {
    /// It reaches the runner (a relative path made absolute).
    Passed,
    /// It is run-shaping and was removed.
    RemovedRunShaping,
    /// It was removed because every inherited `X07_*` variable is (`--clean-env`).
    RemovedAll,
}

/// The environment every runner process of a run gets, decided once per run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunnerEnv {
    /// Every inherited `X07_*` variable by name, and what happens to it.
    pub inherited: BTreeMap<OsString, Inherited>,
    /// Variables set on every runner before the explicit ones: the default native cache,
    /// inherited relative paths made absolute.
    pub set: BTreeMap<OsString, OsString>,
    /// The clearing rule in force.
    pub clear: EnvClear,
}

impl RunnerEnv {
    /// The environment for runners started by this process: its inherited variables under
    /// `clear`, with `native_cache` as `X07_NATIVE_CACHE_DIR` unless the caller set that.
    pub fn from_process(clear: EnvClear, native_cache: Option<&Path>) -> RunnerEnv {
        let cwd = std::env::current_dir().unwrap_or_default();
        RunnerEnv::from_inherited(std::env::vars_os(), clear, native_cache, &cwd)
    }

    /// The environment given the `inherited` variables of the caller, relative paths
    /// resolved against `cwd`.
    pub fn from_inherited(
        inherited: impl IntoIterator<Item = (OsString, OsString)>,
        clear: EnvClear,
        native_cache: Option<&Path>,
        cwd: &Path,
    ) -> RunnerEnv {
        let mut env = RunnerEnv {
            clear,
            ..RunnerEnv::default()
        };
        let mut caller_cache = false;
        for (name, value) in inherited {
            if !is_x07_variable(&name) {
                continue;
            }
            let text = name.to_string_lossy();
            let fate = if clear == EnvClear::All {
                Inherited::RemovedAll
            } else if is_run_shaping(&text) {
                Inherited::RemovedRunShaping
            } else {
                Inherited::Passed
            };
            if fate == Inherited::Passed {
                caller_cache |= text == NATIVE_CACHE_VARIABLE;
                let relative_path = PATH_VARIABLES.contains(&text.as_ref())
                    && !value.is_empty()
                    && Path::new(&value).is_relative();
                if relative_path {
                    env.set
                        .insert(name.clone(), cwd.join(&value).into_os_string());
                }
            }
            env.inherited.insert(name, fate);
        }
        if let (Some(dir), false) = (native_cache, caller_cache) {
            env.set
                .insert(NATIVE_CACHE_VARIABLE.into(), dir.as_os_str().to_os_string());
        }
        env
    }

    /// The native cache directory this environment sets on its own (not the caller's).
    pub fn default_native_cache(&self) -> Option<PathBuf> {
        let set_by_us = !self
            .inherited
            .get(OsStr::new(NATIVE_CACHE_VARIABLE))
            .is_some_and(|fate| *fate == Inherited::Passed);
        self.set
            .get(OsStr::new(NATIVE_CACHE_VARIABLE))
            .filter(|_| set_by_us)
            .map(PathBuf::from)
    }

    /// Names of the inherited `X07_*` variables that reach the runner, sorted.
    pub fn passed(&self) -> Vec<String> {
        self.names(|fate| fate == Inherited::Passed)
    }

    /// Names of the inherited `X07_*` variables that are removed, sorted.
    pub fn removed(&self) -> Vec<String> {
        self.names(|fate| fate != Inherited::Passed)
    }

    fn names(&self, keep: impl Fn(Inherited) -> bool) -> Vec<String> {
        self.inherited
            .iter()
            .filter(|(_, fate)| keep(**fate))
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect()
    }

    /// Sets up `command`'s environment: removes what is removed, sets [`RunnerEnv::set`],
    /// then the `explicit` variables (configuration `env` and the fixture's `run.env`).
    pub fn apply(&self, command: &mut Command, explicit: &BTreeMap<String, String>) {
        for (name, fate) in &self.inherited {
            if *fate != Inherited::Passed {
                command.env_remove(name);
            }
        }
        command.envs(&self.set);
        command.envs(explicit);
    }
}

impl RunnerEnv {
    /// The whole environment a runner started by this process gets (what
    /// [`RunnerEnv::apply`] leaves a command with): this process's variables without the
    /// removed ones, then [`RunnerEnv::set`], then the `explicit` ones. The embedded
    /// runner, which plans in-process, runs in this environment.
    pub fn environment(&self, explicit: &BTreeMap<String, String>) -> Vec<(OsString, OsString)> {
        let mut environment: BTreeMap<OsString, OsString> = std::env::vars_os()
            .filter(|(name, _)| {
                self.inherited
                    .get(name)
                    .is_none_or(|fate| *fate == Inherited::Passed)
            })
            .collect();
        environment.extend(self.set.clone());
        environment.extend(
            explicit
                .iter()
                .map(|(name, value)| (OsString::from(name), OsString::from(value))),
        );
        environment.into_iter().collect()
    }
}

/// Sets up `command`'s environment with the default rule (inherited run-shaping variables
/// removed, set-up ones passed) and no native cache default, then the `explicit` variables.
/// The runner backends use the run's [`RunnerEnv`] instead.
pub fn clean_env(command: &mut Command, explicit: &BTreeMap<String, String>) {
    RunnerEnv::from_process(EnvClear::RunShaping, None).apply(command, explicit);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(name, value)| (OsString::from(name), OsString::from(value)))
            .collect()
    }

    #[test]
    fn run_shaping_names_are_removed_and_set_up_names_pass() {
        let inherited = vars(&[
            ("X07_OS_SANDBOXED", "1"),
            ("X07_OS_FS_READ_ROOTS", "."),
            ("X07_WORLD", "run-os-sandboxed"),
            ("X07_PROFILE", "1"),
            ("X07_CC", "clang"),
            ("X07_OFFLINE", "1"),
            ("X07_VM_STATE_DIR", "/var/x07"),
            ("X07_SOMETHING_NEW", "x"),
            ("PATH", "/bin"),
            ("X07", "/opt/x07"),
        ]);
        let env = RunnerEnv::from_inherited(
            inherited,
            EnvClear::RunShaping,
            Some(Path::new("/ws/target/x07-native-cache")),
            Path::new("/ws"),
        );
        assert_eq!(
            env.passed(),
            [
                "X07_CC",
                "X07_OFFLINE",
                "X07_SOMETHING_NEW",
                "X07_VM_STATE_DIR"
            ]
        );
        assert_eq!(
            env.removed(),
            [
                "X07_OS_FS_READ_ROOTS",
                "X07_OS_SANDBOXED",
                "X07_PROFILE",
                "X07_WORLD"
            ]
        );
        assert_eq!(
            env.set,
            BTreeMap::from([(
                OsString::from("X07_NATIVE_CACHE_DIR"),
                OsString::from("/ws/target/x07-native-cache")
            )])
        );
        assert_eq!(
            env.default_native_cache(),
            Some(PathBuf::from("/ws/target/x07-native-cache"))
        );
    }

    #[test]
    fn the_callers_native_cache_wins_and_relative_paths_become_absolute() {
        let env = RunnerEnv::from_inherited(
            vars(&[("X07_NATIVE_CACHE_DIR", "nc"), ("X07_PKG_HOME", "/abs")]),
            EnvClear::RunShaping,
            Some(Path::new("/ws/target/x07-native-cache")),
            Path::new("/home/me"),
        );
        assert_eq!(
            env.set,
            BTreeMap::from([(
                OsString::from("X07_NATIVE_CACHE_DIR"),
                OsString::from("/home/me/nc")
            )])
        );
        assert_eq!(env.default_native_cache(), None);
    }

    #[test]
    fn clear_all_removes_every_x07_variable_and_sets_no_cache() {
        let env = RunnerEnv::from_inherited(
            vars(&[("X07_CC", "cc"), ("X07_OS_SANDBOXED", "1")]),
            EnvClear::All,
            None,
            Path::new("/"),
        );
        assert!(env.passed().is_empty());
        assert_eq!(env.removed(), ["X07_CC", "X07_OS_SANDBOXED"]);
        assert!(env.set.is_empty());
    }

    #[test]
    fn every_documented_run_shaping_variable_is_recognised() {
        for name in [
            "X07_OS_SANDBOXED",
            "X07_OS_NET_ALLOW_HOSTS",
            "X07_OS_DENY_HIDDEN",
            "X07_WORLD",
            "X07_SANDBOX_BACKEND",
            "X07_I_ACCEPT_WEAKER_ISOLATION",
            "X07_VM_BACKEND",
            "X07_INTERNAL_AUTO_DEPS",
            "X07_TOOL_API_CHILD",
            "X07_COMPAT",
            "X07_PROFILE",
        ] {
            assert!(is_run_shaping(name), "{name}");
        }
        for name in [
            "X07_CC",
            "X07_CC_ARGS",
            "X07_NATIVE_CACHE_DIR",
            "X07_KEEP_C",
            "X07_OFFLINE",
            "X07_PKG_HOME",
            "X07_PKG_INDEX_URL",
            "X07_WORKSPACE_ROOT",
            "X07_REPO_ROOT",
            "X07_VM_GUEST_IMAGE",
            "X07_VM_STATE_DIR",
            "X07_VM_FIRECRACKER_CTR_BIN",
            "X07_MAX_C_BYTES",
            "X07_MAX_AST_NODES",
            "X07_MAX_LOCALS",
        ] {
            assert!(!is_run_shaping(name), "{name}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn apply_removes_sets_and_lets_explicit_values_win() {
        let env = RunnerEnv::from_inherited(
            vars(&[("X07_OS_SANDBOXED", "1"), ("X07_CC", "cc")]),
            EnvClear::RunShaping,
            Some(Path::new("/cache")),
            Path::new("/"),
        );
        let mut command = Command::new("/bin/sh");
        command
            .args(["-c", "env | grep '^X07' | sort"])
            .env("X07_OS_SANDBOXED", "1")
            .env("X07_CC", "cc");
        env.apply(
            &mut command,
            &BTreeMap::from([("X07_KEEP".to_string(), "yes".to_string())]),
        );
        let output = command.output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "X07_CC=cc\nX07_KEEP=yes\nX07_NATIVE_CACHE_DIR=/cache\n"
        );
    }

    #[test]
    fn the_embedded_environment_is_what_apply_leaves_a_command_with() {
        use std::os::unix::ffi::OsStrExt;
        let env = RunnerEnv::from_process(EnvClear::RunShaping, Some(Path::new("/cache")));
        let explicit = BTreeMap::from([
            ("X07_KEEP".to_string(), "yes".to_string()),
            ("FIXTURE_VAR".to_string(), "v".to_string()),
        ]);
        let mut command = Command::new("/usr/bin/env");
        command.arg("-0");
        env.apply(&mut command, &explicit);
        let printed = command.output().unwrap().stdout;
        let applied: BTreeMap<OsString, OsString> = printed
            .split(|&b| b == 0)
            .filter(|pair| !pair.is_empty())
            .filter_map(|pair| {
                let at = pair.iter().position(|&b| b == b'=')?;
                Some((
                    OsStr::from_bytes(&pair[..at]).to_os_string(),
                    OsStr::from_bytes(&pair[at + 1..]).to_os_string(),
                ))
            })
            .collect();
        let embedded: BTreeMap<OsString, OsString> =
            env.environment(&explicit).into_iter().collect();
        assert_eq!(applied, embedded);
    }
}
