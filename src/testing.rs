//! Real case outcomes for tests of the reporters and messages: a fixture written to a
//! directory, planned by the planner, executed by the engine with a [`Recorded`] backend
//! that plays back a recorded runner output, and checked by the checker. The messages in
//! these outcomes are the ones a real run prints.
//!
//! Not part of the tool's interface; used by this crate's unit tests and by its
//! integration tests (`tests/`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::backend::{Backend, RunnerInfo, RunnerKind};
use crate::config::{PackageConfig, Settings, WorkspaceConfig};
use crate::discover::{FixtureKind, FixtureLocation};
use crate::engine::{self, CaseOutcome};
use crate::failure::RunnerFailure;
use crate::plan::PlannedCase;
use crate::run::RunOutput;

/// What a [`Recorded`] backend answers a case with.
type Play = Box<dyn Fn(&PlannedCase) -> Result<RunOutput, RunnerFailure> + Send + Sync>;

/// A backend that does not run anything: every case gets the output `play` makes for it.
pub struct Recorded {
    info: RunnerInfo,
    play: Play,
}

impl Recorded {
    /// A backend posing as `kind` that answers every case with `play(case)`.
    pub fn new(
        kind: RunnerKind,
        play: impl Fn(&PlannedCase) -> Result<RunOutput, RunnerFailure> + Send + Sync + 'static,
    ) -> Recorded {
        let cargo_x07_flags = Vec::new();
        Recorded {
            info: RunnerInfo {
                kind,
                description: format!("runner: recorded ({kind:?})"),
                program_word: "x07".into(),
                cargo_x07_flags,
            },
            play: Box::new(play),
        }
    }

    /// A backend whose runner printed `stdout` and exited with `code` after `millis`.
    pub fn printing(kind: RunnerKind, stdout: &str, code: i32, millis: u64) -> Recorded {
        let stdout = stdout.as_bytes().to_vec();
        Recorded::new(kind, move |_| {
            Ok(RunOutput {
                exit_code: Some(code),
                stdout: stdout.clone(),
                duration: Duration::from_millis(millis),
                ..RunOutput::default()
            })
        })
    }
}

impl Backend for Recorded {
    fn info(&self) -> &RunnerInfo {
        &self.info
    }

    fn execute(&self, case: &PlannedCase) -> Result<RunOutput, RunnerFailure> {
        (self.play)(case)
    }
}

/// A workspace rooted at `root` whose one package has the default settings with these
/// `profiles`.
pub fn workspace(root: &Path, profiles: &[&str]) -> WorkspaceConfig {
    let settings = Settings {
        fixtures: vec!["fixtures".into()],
        fixtures_configured: false,
        profiles: profiles.iter().map(|p| p.to_string()).collect(),
        x07: None,
        sandbox_backend: Default::default(),
        timeout_ms: 60_000,
        jobs: None,
        smoke_root: root.to_path_buf(),
        smoke_module_roots: Vec::new(),
        env: Default::default(),
        env_clear: Default::default(),
        native_cache_dir: None,
        test_manifests: Vec::new(),
        differential: false,
    };
    WorkspaceConfig {
        root: root.to_path_buf(),
        target_dir: root.join("target"),
        workspace_settings: settings.clone(),
        packages: vec![PackageConfig {
            name: "ws".into(),
            root: root.to_path_buf(),
            settings,
            settings_error: None,
        }],
    }
}

/// An `x07.json` with an `os` profile and a `sandbox` profile using `policy.json`.
pub const PROJECT_MANIFEST: &str = r#"{"schema_version":"x07.project@0.5.0","compat":"0.5","world":"run-os","entry":"main.x07.json","module_roots":["."],"dependencies":[],"lockfile":"x07.lock.json","default_profile":"os","profiles":{"os":{"world":"run-os"},"sandbox":{"world":"run-os-sandboxed","policy":"policy.json"}}}"#;

/// Writes a fixture `fixtures/<name>` under `root`: [`PROJECT_MANIFEST`], a valid
/// sandbox policy, an entry program and `files` (name, contents) on top.
pub fn write_fixture(root: &Path, name: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let dir = root.join("fixtures").join(name);
    std::fs::create_dir_all(&dir).expect("fixture directory");
    let defaults: [(&str, &[u8]); 3] = [
        ("x07.json", PROJECT_MANIFEST.as_bytes()),
        (
            "policy.json",
            x07_lite::templates::template_json("cli")
                .expect("the cli template")
                .as_bytes(),
        ),
        ("main.x07.json", b"{}"),
    ];
    for (file, bytes) in defaults.iter().chain(files) {
        let path = dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("fixture subdirectory");
        }
        std::fs::write(path, bytes).expect("fixture file");
    }
    dir
}

/// A schema-valid project report for `world` (`run-os` / `run-os-sandboxed`) with this
/// output, or with this trap (exit code 1, status 132, no output).
pub fn report(world: &str, output: &[u8], trap: Option<&str>) -> String {
    use base64::Engine as _;
    let mut report: serde_json::Value = serde_json::from_str(include_str!(
        "../tests/data/reports/ok-sandbox-project.json"
    ))
    .expect("the recorded report is JSON");
    let engine = base64::engine::general_purpose::STANDARD;
    report["world"] = world.into();
    report["compile"]["native_requires"]["world"] = world.into();
    if world == "run-os" {
        if let Some(object) = report.as_object_mut() {
            object.remove("sandbox_backend");
        }
    }
    let mut frame = (output.len() as u32).to_le_bytes().to_vec();
    frame.extend_from_slice(output);
    report["solve"]["solve_output_b64"] = engine.encode(output).into();
    report["solve"]["stdout_b64"] = engine.encode(&frame).into();
    if let Some(trap) = trap {
        report["exit_code"] = 1.into();
        report["solve"]["ok"] = false.into();
        report["solve"]["exit_status"] = 132.into();
        report["solve"]["trap"] = trap.into();
        report["solve"]["solve_output_b64"] = "".into();
        report["solve"]["stdout_b64"] = "".into();
        report["solve"]["stderr_b64"] = engine.encode(format!("{trap}\n")).into();
    }
    let mut text = serde_json::to_string_pretty(&report).expect("a JSON value prints");
    text.push('\n');
    text
}

/// The world of a bundled profile name.
pub fn world_of(profile: &str) -> &'static str {
    if profile == "sandbox" {
        "run-os-sandboxed"
    } else {
        "run-os"
    }
}

/// Plans every case of `fixtures/<name>` under the workspace `root`.
pub fn plan(root: &Path, name: &str, profiles: &[&str]) -> Vec<PlannedCase> {
    let workspace = workspace(root, profiles);
    let location = FixtureLocation {
        path: root.join("fixtures").join(name),
        name: format!("fixtures/{name}"),
        kind: FixtureKind::Project,
        package: 0,
    };
    crate::plan::plan_fixture(&workspace, &location)
}

/// Plans `fixtures/<name>` and executes each of its cases with `backend`.
pub fn outcomes(
    root: &Path,
    name: &str,
    profiles: &[&str],
    backend: &dyn Backend,
) -> Vec<CaseOutcome> {
    plan(root, name, profiles)
        .iter()
        .map(|case| engine::execute_case(case, backend))
        .collect()
}
