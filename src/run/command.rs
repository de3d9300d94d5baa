//! The `x07 run …` command line of a case, exactly as the real toolchain expects it,
//! and the lines that reproduce a case for a person.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::backend::RunnerKind;
use crate::config::SandboxBackend;
use crate::fixture::{Input, PROJECT_FILE};
use crate::plan::{PlannedCase, PolicyArg, Target, SANDBOX_WORLD};

/// One argument of a runner command line, before paths are fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// Literal text.
    Text(String),
    /// A path inside the project: joined to the temporary copy when run,
    /// to the fixture's own directory in the reproduce line.
    InProject(String),
    /// An absolute path outside the project.
    Path(PathBuf),
}

/// The arguments after the program name: `run --project … --repair=off …`.
pub fn command_args(case: &PlannedCase) -> Vec<Arg> {
    let text = |value: &str| Arg::Text(value.to_string());
    if let Target::TestManifest(test) = &case.target {
        return crate::manifest::command::command_args(test);
    }
    let mut args = vec![text("run")];
    match &case.target {
        Target::Project { profile, .. } => {
            args.push(text("--project"));
            args.push(Arg::InProject(PROJECT_FILE.into()));
            if let Some(profile) = profile {
                args.push(text("--profile"));
                args.push(text(profile));
            }
            args.push(text("--repair=off"));
            match &case.run.policy {
                Some(PolicyArg::InFixture(path)) => {
                    args.push(text("--policy"));
                    args.push(Arg::InProject(path.clone()));
                }
                Some(PolicyArg::Outside(path)) => {
                    args.push(text("--policy"));
                    args.push(Arg::Path(path.clone()));
                }
                None => {}
            }
        }
        Target::Smoke {
            program,
            policy,
            module_roots,
            ..
        } => {
            args.push(text("--program"));
            args.push(Arg::Path(program.clone()));
            args.push(text("--repair=off"));
            if case.world == SANDBOX_WORLD {
                args.push(text("--world"));
                args.push(text(SANDBOX_WORLD));
            }
            if let Some(policy) = policy {
                args.push(text("--policy"));
                args.push(Arg::Path(policy.clone()));
            }
            for root in module_roots {
                args.push(text("--module-root"));
                args.push(Arg::Path(root.clone()));
            }
        }
        Target::TestManifest(_) => {}
    }
    if case.world == SANDBOX_WORLD && case.sandbox_backend == SandboxBackend::Os {
        args.push(text("--sandbox-backend"));
        args.push(text("os"));
        args.push(text("--i-accept-weaker-isolation"));
    }
    let run = &case.run;
    for (flag, values) in [
        ("--allow-host", &run.allow_hosts),
        ("--deny-host", &run.deny_hosts),
        ("--allow-read-root", &run.allow_read_roots),
        ("--allow-write-root", &run.allow_write_roots),
    ] {
        for value in values {
            args.push(text(flag));
            args.push(text(value));
        }
    }
    for (flag, value) in [
        ("--solve-fuel", run.solve_fuel),
        ("--max-memory-bytes", run.max_memory_bytes),
        ("--max-output-bytes", run.max_output_bytes),
        ("--cpu-time-limit-seconds", run.cpu_time_limit_seconds),
    ] {
        if let Some(value) = value {
            args.push(text(flag));
            args.push(Arg::Text(value.to_string()));
        }
    }
    // At most one input flag: x07 rejects any two together (rc 2).
    match &case.input {
        None => {}
        Some(Input::Bytes(bytes)) => {
            args.push(text("--input-b64"));
            args.push(Arg::Text(
                base64::engine::general_purpose::STANDARD.encode(bytes),
            ));
        }
        Some(Input::File(file)) => {
            args.push(text("--input"));
            if escapes(file) {
                args.push(Arg::Path(case.fixture_dir.join(file)));
            } else {
                args.push(Arg::InProject(file.clone()));
            }
        }
        Some(Input::Argv(argv)) => {
            args.push(text("--"));
            args.extend(argv.iter().map(|arg| text(arg)));
        }
    }
    args
}

/// Whether a relative path leaves its base directory (or is absolute).
pub(crate) fn escapes(path: &str) -> bool {
    let path = Path::new(path);
    path.is_absolute()
        || path
            .components()
            .any(|part| matches!(part, std::path::Component::ParentDir))
}

/// Fixes the paths in `args` against `project_dir`.
pub fn render_args(args: &[Arg], project_dir: &Path) -> Vec<OsString> {
    args.iter()
        .map(|arg| match arg {
            Arg::Text(text) => OsString::from(text),
            Arg::InProject(relative) => project_dir.join(relative).into_os_string(),
            Arg::Path(path) => path.clone().into_os_string(),
        })
        .collect()
}

/// The command lines that reproduce a case, for the runner that ran it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reproduce {
    /// Which runner ran the case.
    pub runner: RunnerKind,
    /// For the embedded runner: `cargo x07 run <fixture> --case C --profile P …`, which
    /// works as printed from the directory `cargo x07` ran in.
    pub cargo_x07: Option<String>,
    /// The `x07 run …` line: the command that ran, for the real toolchain; the command
    /// to run with the real toolchain, for the embedded runner.
    pub x07: String,
}

impl Reproduce {
    /// The line for the runner that ran the case (the first one a message shows).
    pub fn primary(&self) -> &str {
        self.cargo_x07.as_deref().unwrap_or(&self.x07)
    }
}

/// The lines that reproduce `case` on the fixture itself, relative to the current
/// directory. `program` is how the `x07 run` line names the real toolchain (`x07`, or the
/// path it was given as); `cargo_x07_flags` are flags the `cargo x07 run` line repeats
/// (`--backend embedded`, `--sandbox-backend vm`, `--manifest-path …`).
pub fn reproduce(
    case: &PlannedCase,
    runner: RunnerKind,
    program: &str,
    cargo_x07_flags: &[String],
) -> Reproduce {
    if let Target::TestManifest(test) = &case.target {
        return crate::manifest::command::reproduce(case, test, runner, program);
    }
    let project_dir = match &case.target {
        Target::Project { dir, .. } => dir.clone(),
        Target::Smoke { .. } | Target::TestManifest(_) => case.fixture_dir.clone(),
    };
    let mut words: Vec<String> = case
        .run
        .env
        .iter()
        .map(|(key, value)| format!("{key}={}", shell_quote(value)))
        .collect();
    words.push(shell_quote(program));
    let args = command_args(case)
        .into_iter()
        .map(|arg| match arg {
            Arg::Path(path) => Arg::Path(path_from_cwd(&path)),
            other => other,
        })
        .collect::<Vec<_>>();
    words.extend(
        render_args(&args, &path_from_cwd(&project_dir))
            .iter()
            .map(|arg| shell_quote(&arg.to_string_lossy())),
    );
    let x07 = words.join(" ");
    let cargo_x07 = (runner == RunnerKind::Embedded).then(|| {
        let fixture = match &case.target {
            Target::Project { dir, .. } => dir.clone(),
            Target::Smoke { .. } | Target::TestManifest(_) => case.source_file.clone(),
        };
        let mut words = vec![
            "cargo".to_string(),
            "x07".into(),
            "run".into(),
            shell_quote(&path_from_cwd(&fixture).to_string_lossy()),
            "--case".into(),
            shell_quote(&case.id.case),
            "--profile".into(),
            shell_quote(&case.id.profile),
        ];
        words.extend(cargo_x07_flags.iter().map(|flag| shell_quote(flag)));
        words.join(" ")
    });
    Reproduce {
        runner,
        cargo_x07,
        x07,
    }
}

/// `path` as a person would type it from the current directory: relative
/// when it lies below it (so reproduce lines and messages carry no machine
/// paths in CI, where the cwd is the checkout), else unchanged.
pub fn path_from_cwd(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .filter(|relative| !relative.as_os_str().is_empty())
        .unwrap_or_else(|| path.to_path_buf())
}

/// Quotes a word for a POSIX shell (only when needed).
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::Input;
    use crate::plan::RunOptions;
    use std::collections::BTreeMap;

    fn case(
        world: &str,
        profile: Option<&str>,
        input: Option<Input>,
        run: RunOptions,
    ) -> PlannedCase {
        let target = Target::Project {
            dir: PathBuf::from("/ws/fixtures/a"),
            profile: profile.map(str::to_string),
        };
        PlannedCase {
            input,
            run,
            ..PlannedCase::for_test(world, profile.unwrap_or(world), target)
        }
    }

    fn rendered(case: &PlannedCase) -> Vec<String> {
        render_args(&command_args(case), Path::new("/tmp/copy"))
            .into_iter()
            .map(|arg| arg.into_string().unwrap())
            .collect()
    }

    #[test]
    fn os_case_with_text_input() {
        let case = case(
            "run-os",
            Some("os"),
            Some(Input::Bytes(b"hi".to_vec())),
            RunOptions::default(),
        );
        assert_eq!(
            rendered(&case),
            [
                "run",
                "--project",
                "/tmp/copy/x07.json",
                "--profile",
                "os",
                "--repair=off",
                "--input-b64",
                "aGk="
            ]
        );
    }

    #[test]
    fn sandbox_case_with_policy_derived_flags_limits_and_argv() {
        let run = RunOptions {
            policy: Some(PolicyArg::InFixture("pol.json".into())),
            allow_hosts: vec!["example.com:443".into()],
            deny_hosts: vec!["example.com:*".into()],
            allow_read_roots: vec!["data".into()],
            allow_write_roots: vec!["out".into()],
            solve_fuel: Some(1000),
            max_memory_bytes: Some(2),
            max_output_bytes: Some(3),
            cpu_time_limit_seconds: Some(4),
            env: BTreeMap::new(),
        };
        let case = case(
            "run-os-sandboxed",
            Some("sandbox"),
            Some(Input::Argv(vec!["a".into(), "".into(), "d e".into()])),
            run,
        );
        assert_eq!(
            rendered(&case),
            [
                "run",
                "--project",
                "/tmp/copy/x07.json",
                "--profile",
                "sandbox",
                "--repair=off",
                "--policy",
                "/tmp/copy/pol.json",
                "--sandbox-backend",
                "os",
                "--i-accept-weaker-isolation",
                "--allow-host",
                "example.com:443",
                "--deny-host",
                "example.com:*",
                "--allow-read-root",
                "data",
                "--allow-write-root",
                "out",
                "--solve-fuel",
                "1000",
                "--max-memory-bytes",
                "2",
                "--max-output-bytes",
                "3",
                "--cpu-time-limit-seconds",
                "4",
                "--",
                "a",
                "",
                "d e"
            ]
        );
        assert_eq!(
            reproduce(&case, RunnerKind::X07, "x07", &[]).x07,
            "x07 run --project /ws/fixtures/a/x07.json --profile sandbox --repair=off --policy /ws/fixtures/a/pol.json \
             --sandbox-backend os --i-accept-weaker-isolation --allow-host example.com:443 --deny-host 'example.com:*' \
             --allow-read-root data --allow-write-root out --solve-fuel 1000 --max-memory-bytes 2 \
             --max-output-bytes 3 --cpu-time-limit-seconds 4 -- a '' 'd e'"
        );
    }

    #[test]
    fn vm_backend_adds_no_backend_flags_and_empty_argv_is_a_bare_ddash() {
        let mut case = case(
            "run-os-sandboxed",
            Some("sandbox"),
            Some(Input::Argv(vec![])),
            RunOptions::default(),
        );
        case.sandbox_backend = SandboxBackend::Vm;
        assert_eq!(
            rendered(&case),
            [
                "run",
                "--project",
                "/tmp/copy/x07.json",
                "--profile",
                "sandbox",
                "--repair=off",
                "--"
            ]
        );
    }

    #[test]
    fn file_input_inside_the_fixture_uses_the_copy_outside_stays_absolute() {
        let inside = case(
            "run-os",
            Some("os"),
            Some(Input::File("in.bin".into())),
            RunOptions::default(),
        );
        assert_eq!(rendered(&inside)[6..], ["--input", "/tmp/copy/in.bin"]);
        let outside = case(
            "run-os",
            Some("os"),
            Some(Input::File("../shared/in.bin".into())),
            RunOptions::default(),
        );
        assert_eq!(
            rendered(&outside)[6..],
            ["--input", "/ws/fixtures/a/../shared/in.bin"]
        );
    }

    #[test]
    fn no_profiles_means_no_profile_flag_and_env_shows_in_reproduce() {
        let run = RunOptions {
            env: BTreeMap::from([("X07_OS_THING".to_string(), "a b".to_string())]),
            ..RunOptions::default()
        };
        let case = case("run-os", None, None, run);
        assert_eq!(
            reproduce(&case, RunnerKind::X07, "x07", &[]).x07,
            "X07_OS_THING='a b' x07 run --project /ws/fixtures/a/x07.json --repair=off"
        );
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("plain-word_1.json"), "plain-word_1.json");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}

#[cfg(test)]
mod reproduce_tests {
    use super::*;

    #[test]
    fn the_embedded_runner_gets_a_cargo_x07_run_line() {
        let target = Target::Project {
            dir: PathBuf::from("/ws/fixtures/a"),
            profile: Some("os".into()),
        };
        let mut case = PlannedCase::for_test("run-os", "os", target);
        case.id.case = "c d".into();
        let embedded = reproduce(
            &case,
            RunnerKind::Embedded,
            "x07",
            &["--backend".into(), "embedded".into()],
        );
        assert_eq!(
            embedded.primary(),
            "cargo x07 run /ws/fixtures/a --case 'c d' --profile os --backend embedded"
        );
        assert_eq!(
            embedded.x07,
            "x07 run --project /ws/fixtures/a/x07.json --profile os --repair=off"
        );
        let real = reproduce(&case, RunnerKind::X07, "/opt/x07 dir/x07", &[]);
        assert_eq!(real.cargo_x07, None);
        assert!(real
            .primary()
            .starts_with("'/opt/x07 dir/x07' run --project"));
    }
}
