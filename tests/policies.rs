//! Policies: every policy in the repository and every policy a fixture uses passes
//! `policy check`; broken copies fail naming the field; the `policy init` templates match
//! the observed template settings and the runner's embedded copies; `policy init` behaves
//! like `x07 policy init`.

use std::path::{Path, PathBuf};

use cargo_x07::policy::{self, check_file, check_policy_value, InitOptions, InitStatus, Severity};
use serde_json::{json, Value};
use x07_lite::templates::{template_json, TEMPLATE_NAMES};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// Every directory under `root` (recursively) that holds an `x07.json`.
fn fixture_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if dir.join("x07.json").is_file() {
            out.push(dir.clone());
        }
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.file_name().unwrap().to_string_lossy().starts_with('.') {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

fn errors(findings: &[policy::Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect()
}

#[test]
fn every_policy_under_policies_passes_the_check() {
    let files = json_files(&workspace().join("policies"));
    assert!(
        files.len() >= 8 + 10,
        "expected the 8 templates and the fixture policies, found {}",
        files.len()
    );
    for file in files {
        let errs = errors(&check_file(&file));
        assert!(errs.is_empty(), "{}: {errs:?}", file.display());
        let notes = read_json(&file)["notes"].as_str().map(str::to_string);
        assert!(
            notes
                .as_deref()
                .is_some_and(|n| !n.is_empty() && !n.contains('\n')),
            "{}: needs a one-line notes field saying what it allows",
            file.display()
        );
    }
}

/// Every policy path a fixture refers to: the sandbox profiles' `policy` in `x07.json`,
/// `run.policy` anywhere in `x07test.json`, and `policy_json` of smoke suites.
fn fixture_policy_paths() -> Vec<PathBuf> {
    let root = workspace().join("fixtures");
    let mut paths = Vec::new();
    for dir in fixture_dirs(&root) {
        let manifest = read_json(&dir.join("x07.json"));
        for (_, profile) in manifest["profiles"].as_object().unwrap() {
            if let Some(p) = profile["policy"].as_str() {
                paths.push(dir.join(p));
            }
        }
        let expectations = dir.join("x07test.json");
        if expectations.is_file() {
            let mut stack = vec![read_json(&expectations)];
            while let Some(value) = stack.pop() {
                match value {
                    Value::Object(map) => {
                        if let Some(Value::String(p)) = map.get("run").and_then(|r| r.get("policy"))
                        {
                            paths.push(dir.join(p));
                        }
                        stack.extend(map.into_iter().map(|(_, v)| v));
                    }
                    Value::Array(items) => stack.extend(items),
                    _ => {}
                }
            }
        }
    }
    for suite in json_files(&root.join("smoke")) {
        if let Some(p) = read_json(&suite)["policy_json"].as_str() {
            paths.push(workspace().join(p));
        }
    }
    paths
}

#[test]
fn every_policy_a_fixture_uses_passes_the_check() {
    let paths = fixture_policy_paths();
    assert!(
        paths.len() >= 40,
        "found only {} fixture policies",
        paths.len()
    );
    for path in paths {
        let errs = errors(&check_file(&path));
        assert!(errs.is_empty(), "{}: {errs:?}", path.display());
    }
}

#[test]
fn every_fixture_policy_is_a_copy_of_a_repository_policy() {
    let repo: Vec<(PathBuf, Vec<u8>)> = json_files(&workspace().join("policies"))
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    for path in fixture_policy_paths() {
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            repo.iter().any(|(_, b)| *b == bytes),
            "{} is not byte-identical to any file under policies/ (keep fixture policies as copies so their notes stay true)",
            path.display()
        );
    }
}

#[test]
fn memory_below_128_mib_is_a_warning_not_an_error() {
    let findings = check_file(&workspace().join("policies/fixture-mem-64mib.policy.json"));
    assert!(errors(&findings).is_empty());
    assert!(findings.iter().any(|f| f.severity == Severity::Warning
        && f.field == "limits.mem_bytes"
        && f.message.contains("calloc failed")));
}

fn allow_policy() -> Value {
    read_json(&workspace().join("policies/fixture-allow.policy.json"))
}

/// Applies `edit` to a copy of the allow policy and returns the error fields found.
fn broken(edit: impl FnOnce(&mut Value)) -> Vec<policy::Finding> {
    let mut value = allow_policy();
    edit(&mut value);
    check_policy_value(&value)
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .collect()
}

fn assert_names(findings: &[policy::Finding], field: &str, message_part: &str) {
    assert!(
        findings
            .iter()
            .any(|f| f.field == field && f.message.contains(message_part)),
        "expected an error on {field} mentioning {message_part:?}, got {findings:?}"
    );
}

#[test]
fn broken_copies_fail_naming_the_field() {
    assert_names(
        &broken(|v| v["limits"]["cpu_ms"] = json!(0)),
        "limits.cpu_ms",
        "minimum of 1",
    );
    assert_names(
        &broken(|v| v["limits"]["wall_ms"] = json!(600_001)),
        "limits.wall_ms",
        "maximum of 600000",
    );
    assert_names(
        &broken(|v| v["limits"]["mem_bytes"] = json!(1024)),
        "limits.mem_bytes",
        "minimum of 1048576",
    );
    assert_names(
        &broken(|v| v["schema_version"] = json!("x07.run-os-policy@9.9.9")),
        "schema_version",
        "x07.run-os-policy@0.1.0",
    );
    assert_names(
        &broken(|v| v["policy_id"] = json!("bad id!")),
        "policy_id",
        "does not match",
    );
    assert_names(
        &broken(|v| {
            v.as_object_mut().unwrap().remove("env");
        }),
        "env",
        "required",
    );
    assert_names(
        &broken(|v| v["extra_key"] = json!(1)),
        "extra_key",
        "closed",
    );
    assert_names(
        &broken(|v| v["fs"]["allow_everything"] = json!(true)),
        "fs.allow_everything",
        "closed",
    );
    assert_names(
        &broken(|v| v["fs"]["enabled"] = json!("yes")),
        "fs.enabled",
        "boolean",
    );
    assert_names(
        &broken(|v| v["net"]["allow_hosts"] = json!([{ "host": "a b", "ports": [80] }])),
        "net.allow_hosts[0].host",
        "does not match",
    );
    assert_names(
        &broken(|v| v["net"]["allow_hosts"] = json!([{ "host": "example.com", "ports": [0] }])),
        "net.allow_hosts[0].ports[0]",
        "minimum of 1",
    );
    assert_names(
        &broken(|v| v["time"]["max_sleep_ms"] = json!(-1)),
        "time.max_sleep_ms",
        "minimum of 0",
    );
    assert_names(
        &broken(|v| v["process"]["max_live"] = json!(2000)),
        "process.max_live",
        "maximum of 1024",
    );
    assert_names(
        &broken(|v| {
            v["process"].as_object_mut().unwrap().remove("allow_exit");
        }),
        "process.allow_exit",
        "required",
    );
    assert_names(
        &broken(|v| v["threads"] = json!({ "enabled": true })),
        "threads.max_workers",
        "required",
    );
    assert_names(
        &broken(|v| v["fs"]["read_roots"] = json!([""])),
        "fs.read_roots[0]",
        "shorter than 1",
    );
}

#[test]
fn check_prints_file_and_field_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    let mut value = allow_policy();
    value["limits"]["cpu_ms"] = json!(0);
    std::fs::write(&bad, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
    let good = workspace().join("policies/cli.sandbox.base.policy.json");
    let missing = dir.path().join("nothere.json");
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "{ not json").unwrap();

    let mut out = Vec::new();
    let code = policy::check(
        &[good.clone(), bad.clone(), missing.clone(), garbage.clone()],
        &mut out,
    );
    let text = String::from_utf8(out).unwrap();
    assert_eq!(code, 2, "{text}");
    assert!(text.contains(&format!("{}: ok", good.display())), "{text}");
    assert!(
        text.contains(&format!("{}: error: limits.cpu_ms: ", bad.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{}: error: missing policy file",
            missing.display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{}: error: parse policy JSON: ",
            garbage.display()
        )),
        "{text}"
    );
    assert!(
        text.ends_with("checked 4 policy file(s): 3 with errors\n"),
        "{text}"
    );

    let mut out = Vec::new();
    assert_eq!(policy::check(&[workspace().join("policies")], &mut out), 0);
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("with errors") && text.contains(": 0 with errors"),
        "{text}"
    );
}

#[test]
fn template_files_are_identical_in_policies_and_runner_templates() {
    for name in TEMPLATE_NAMES {
        let file = format!("{name}.sandbox.base.policy.json");
        let ours = std::fs::read(workspace().join("policies").join(&file)).unwrap();
        let runner = std::fs::read(workspace().join("runner/templates").join(&file)).unwrap();
        assert_eq!(
            ours, runner,
            "{file}: policies/ and runner/templates/ differ"
        );
        assert_eq!(
            template_json(name).unwrap().as_bytes(),
            &ours[..],
            "{file}: embedded copy differs"
        );
    }
}

#[test]
fn templates_are_pretty_sorted_json() {
    for name in TEMPLATE_NAMES {
        let text = template_json(name).unwrap();
        let value: Value = serde_json::from_str(text).unwrap();
        let mut again = serde_json::to_string_pretty(&sort(value)).unwrap();
        again.push('\n');
        assert_eq!(
            text, again,
            "{name}: not pretty JSON with sorted keys and a trailing newline"
        );
    }
}

fn sort(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sort(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort).collect()),
        other => other,
    }
}

/// The template settings table of observed-behaviour.md §3, one row per setting.
#[test]
fn templates_have_the_observed_settings() {
    const MIB: u64 = 1024 * 1024;
    let t: Vec<Value> = TEMPLATE_NAMES
        .iter()
        .map(|n| serde_json::from_str(template_json(n).unwrap()).unwrap())
        .collect();
    let column = |ptr: &str| -> Vec<Value> {
        t.iter()
            .map(|v| v.pointer(ptr).cloned().unwrap_or(Value::Null))
            .collect()
    };
    let row = |ptr: &str, expected: Value| {
        assert_eq!(
            Value::Array(column(ptr)),
            expected,
            "{ptr} (columns: {TEMPLATE_NAMES:?})"
        );
    };
    row(
        "/limits/cpu_ms",
        json!([60000, 180000, 180000, 90000, 120000, 120000, 300000, 300000]),
    );
    row(
        "/limits/wall_ms",
        json!([120000, 300000, 600000, 180000, 300000, 300000, 300000, 300000]),
    );
    row(
        "/limits/mem_bytes",
        json!([
            512 * MIB,
            1024 * MIB,
            1024 * MIB,
            512 * MIB,
            1024 * MIB,
            1024 * MIB,
            1024 * MIB,
            1024 * MIB
        ]),
    );
    row(
        "/limits/fds",
        json!([128, 256, 512, 256, 256, 256, 64, 128]),
    );
    row("/limits/procs", json!([16, 32, 64, 16, 32, 32, 16, 1024]));
    row(
        "/fs/enabled",
        json!([true, true, true, true, true, true, false, false]),
    );
    let roots = json!(["."]);
    row(
        "/fs/read_roots",
        json!([roots, roots, roots, roots, roots, roots, [], []]),
    );
    row(
        "/fs/write_roots",
        json!([
            ["out"],
            ["out"],
            ["out"],
            ["src", "out"],
            ["out"],
            ["out"],
            [],
            []
        ]),
    );
    for key in ["allow_mkdir", "allow_rename", "allow_walk"] {
        row(
            &format!("/fs/{key}"),
            json!([true, true, true, true, true, true, false, false]),
        );
    }
    row(
        "/fs/allow_glob",
        json!([true, false, true, true, true, true, false, false]),
    );
    row(
        "/fs/max_read_bytes",
        json!([
            64 * MIB,
            64 * MIB,
            64 * MIB,
            256 * MIB,
            128 * MIB,
            64 * MIB,
            0,
            0
        ]),
    );
    row(
        "/fs/max_write_bytes",
        json!([
            64 * MIB,
            256 * MIB,
            128 * MIB,
            256 * MIB,
            256 * MIB,
            64 * MIB,
            0,
            0
        ]),
    );
    row(
        "/fs/max_entries",
        json!([50000, 20000, 50000, 200000, 100000, 50000, 0, 0]),
    );
    row("/fs/max_depth", json!([64, 32, 64, 128, 64, 64, 0, 0]));
    for key in ["enabled", "allow_dns", "allow_tcp"] {
        row(
            &format!("/net/{key}"),
            json!([false, true, true, false, false, false, false, false]),
        );
    }
    row(
        "/env/enabled",
        json!([false, false, true, false, false, false, false, false]),
    );
    let none: Value = json!([]);
    row(
        "/env/allow_keys",
        json!([
            none,
            none,
            ["PORT", "HOST", "LOG_LEVEL"],
            none,
            none,
            none,
            none,
            none
        ]),
    );
    row(
        "/time/allow_wall_clock",
        json!([true, true, true, true, true, true, false, false]),
    );
    row(
        "/time/allow_sleep",
        json!([false, true, true, false, false, false, true, true]),
    );
    row(
        "/time/max_sleep_ms",
        json!([0, 5000, 1000, 0, 0, 0, 5000, 5000]),
    );
    for key in ["allow_unsafe", "allow_ffi"] {
        row(
            &format!("/language/{key}"),
            json!([false, true, true, false, true, true, false, false]),
        );
    }
    for key in ["allow_spawn", "allow_exec"] {
        row(
            &format!("/process/{key}"),
            json!([false, false, false, false, false, false, false, true]),
        );
    }
    row("/process/max_live", json!([0, 0, 0, 0, 0, 0, 0, 16]));
    row("/process/max_spawns", json!([0, 0, 0, 0, 0, 0, 0, 64]));
    row(
        "/process/max_runtime_ms",
        json!([0, 0, 0, 0, 0, 0, 0, 60000]),
    );
    row(
        "/process/allow_exec_prefixes",
        json!([none, none, none, none, none, none, none, ["deps/x07/"]]),
    );
    row(
        "/db/enabled",
        json!([null, null, null, null, true, true, null, null]),
    );
    row(
        "/db/drivers/sqlite",
        json!([null, null, null, null, true, false, null, null]),
    );
    row(
        "/db/drivers/postgres",
        json!([null, null, null, null, false, true, null, null]),
    );
    row(
        "/db/sqlite/allow_paths",
        json!([null, null, null, null, ["out/app.sqlite"], null, null, null]),
    );
    row(
        "/db/connect_timeout_ms",
        json!([null, null, null, null, 2000, 5000, null, null]),
    );
    row(
        "/db/net/require_tls",
        json!([null, null, null, null, null, true, null, null]),
    );
    // The settings every template shares.
    let same: [(&str, Value); 26] = [
        ("/fs/deny_hidden", json!(true)),
        ("/fs/allow_symlinks", json!(false)),
        ("/fs/allow_remove", json!(false)),
        ("/net/allow_udp", json!(false)),
        ("/net/allow_hosts", json!([])),
        ("/env/deny_keys", json!([])),
        ("/time/enabled", json!(true)),
        ("/time/allow_monotonic", json!(true)),
        ("/time/allow_local_tzid", json!(false)),
        ("/limits/core_dumps", json!(false)),
        (
            "/threads",
            json!({"enabled": true, "max_workers": 0, "max_blocking": 4, "max_queue": 1024}),
        ),
        ("/process/enabled", json!(true)),
        ("/process/allow_exit", json!(true)),
        ("/process/allow_cwd", json!(false)),
        ("/process/kill_on_drop", json!(true)),
        ("/process/kill_tree", json!(true)),
        ("/process/max_args", json!(64)),
        ("/process/max_arg_bytes", json!(4096)),
        ("/process/max_env", json!(64)),
        ("/process/max_env_key_bytes", json!(256)),
        ("/process/max_env_val_bytes", json!(4096)),
        ("/process/max_exe_bytes", json!(4096)),
        ("/process/max_stdout_bytes", json!(10485760)),
        ("/process/max_stderr_bytes", json!(10485760)),
        ("/process/max_total_bytes", json!(16777216)),
        ("/process/max_stdin_bytes", json!(1048576)),
    ];
    for (ptr, value) in same {
        row(ptr, Value::Array(vec![value; 8]));
    }
    for (name, v) in TEMPLATE_NAMES.iter().zip(&t) {
        assert_eq!(v["policy_id"], json!(format!("sandbox.{name}.base")));
    }
}

/// The http-client template equals, apart from `policy_id`, `notes` and the host the
/// derivation added, the base of the derived policy the real toolchain wrote
/// (reports/derived-policy-allow-host.generated-policy.json, copied as test data).
#[test]
fn http_client_template_matches_the_real_derived_policy_base() {
    let mut real = read_json(
        &workspace()
            .join("runner/tests/data/reports/derived-policy-allow-host.generated-policy.json"),
    );
    let mut ours: Value = serde_json::from_str(template_json("http-client").unwrap()).unwrap();
    for v in [&mut real, &mut ours] {
        let map = v.as_object_mut().unwrap();
        map.remove("policy_id");
        map.remove("notes");
    }
    real["net"]["allow_hosts"] = json!([]);
    assert_eq!(ours, real);
}

fn init_opts(template: &str, cwd: &Path) -> InitOptions {
    InitOptions {
        template: template.to_string(),
        cwd: cwd.to_path_buf(),
        ..InitOptions::default()
    }
}

fn run_init(opts: &InitOptions) -> (i32, Value) {
    let mut out = Vec::new();
    let code = policy::init(opts, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.ends_with('\n') && text.lines().count() == 1,
        "one compact line: {text:?}"
    );
    (code, serde_json::from_str(&text).unwrap())
}

#[test]
fn init_statuses_and_report_line_match_x07() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir_all(project.join("sub")).unwrap();
    std::fs::write(project.join("x07.json"), "{}").unwrap();
    let root = std::path::absolute(&project).unwrap();

    let mut out = Vec::new();
    assert_eq!(
        policy::init(&init_opts("cli", &project), &mut out).unwrap(),
        0
    );
    let line = String::from_utf8(out).unwrap();
    assert_eq!(
        line,
        format!(
            "{{\"schema_version\":\"x07.policy.init.report@0.1.0\",\"template\":\"cli\",\"project_root\":\"{}\",\"out\":\".x07/policies/base/cli.sandbox.base.policy.json\",\"status\":\"created\",\"policy_id\":\"sandbox.cli.base\"}}\n",
            root.display()
        )
    );
    let written = root.join(".x07/policies/base/cli.sandbox.base.policy.json");
    assert_eq!(
        std::fs::read_to_string(&written).unwrap(),
        template_json("cli").unwrap()
    );

    let (code, report) = run_init(&init_opts("cli", &project));
    assert_eq!((code, report["status"].clone()), (0, json!("unchanged")));

    // From a subdirectory the project root is still used.
    let (code, report) = run_init(&init_opts("cli", &project.join("sub")));
    assert_eq!(
        (
            code,
            report["status"].clone(),
            report["project_root"].clone()
        ),
        (0, json!("unchanged"), json!(root.display().to_string()))
    );

    let worker = root.join(".x07/policies/base/worker.sandbox.base.policy.json");
    std::fs::create_dir_all(worker.parent().unwrap()).unwrap();
    std::fs::write(&worker, "{}\n").unwrap();
    let (code, report) = run_init(&init_opts("worker", &project));
    assert_eq!(
        (code, report["status"].clone()),
        (2, json!("exists_different"))
    );
    assert_eq!(
        std::fs::read_to_string(&worker).unwrap(),
        "{}\n",
        "exists_different leaves the file alone"
    );
    assert_eq!(InitStatus::ExistsDifferent.exit_code(), 2);

    let mut forced = init_opts("worker", &project);
    forced.force = true;
    let (code, report) = run_init(&forced);
    assert_eq!((code, report["status"].clone()), (0, json!("overwritten")));
    assert_eq!(
        std::fs::read_to_string(&worker).unwrap(),
        template_json("worker").unwrap()
    );
}

#[test]
fn init_without_project_uses_cwd_and_out_rules() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().join("noproject");
    std::fs::create_dir_all(&cwd).unwrap();
    let (code, report) = run_init(&init_opts("fs-tool", &cwd));
    assert_eq!(code, 0);
    assert_eq!(
        report["project_root"],
        json!(std::path::absolute(&cwd).unwrap().display().to_string())
    );
    assert!(cwd
        .join(".x07/policies/base/fs-tool.sandbox.base.policy.json")
        .is_file());

    let mut opts = init_opts("cli", &cwd);
    opts.out = Some(PathBuf::from("custom/p.json"));
    opts.policy_id = Some("my.id".to_string());
    let err = policy::init(&opts, &mut Vec::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "refusing to create output dir \"custom\" (pass --mkdir-out to allow)"
    );
    assert_eq!(err.exit_code(), 2);
    opts.mkdir_out = true;
    let (code, report) = run_init(&opts);
    assert_eq!(
        (code, report["out"].clone(), report["policy_id"].clone()),
        (0, json!("custom/p.json"), json!("my.id"))
    );
    let written = read_json(&cwd.join("custom/p.json"));
    assert_eq!(written["policy_id"], json!("my.id"));
    assert!(errors(&check_policy_value(&written)).is_empty());

    let mut bad = init_opts("cli", &cwd);
    bad.policy_id = Some("bad id!".to_string());
    assert_eq!(
        policy::init(&bad, &mut Vec::new()).unwrap_err().to_string(),
        "--policy-id must match ^[a-zA-Z0-9_.-]{1,64}$"
    );
    let unknown = policy::init(&init_opts("nope", &cwd), &mut Vec::new()).unwrap_err();
    assert!(unknown.to_string().contains("worker-parallel"), "{unknown}");

    let mut emit = init_opts("cli", &cwd);
    emit.emit_policy = true;
    let mut out = Vec::new();
    assert_eq!(policy::init(&emit, &mut out).unwrap(), 0);
    assert!(out.starts_with(b"{\n  \"env\": {\n    \"allow_keys\": [],\n    \"deny_keys\": [],\n    \"enabled\": false\n  },\n  \"fs\": {\n    \"allow_glob\": true,\n"));
}

fn render_policies_readme() -> String {
    let mut s = String::from(
        "# Sandbox policies (`x07.run-os-policy@0.1.0`)\n\n\
         * `<template>.sandbox.base.policy.json`: the eight templates of `x07 policy init --template T`,\n  \
         with the settings the real x07 0.2.17 writes (the same bytes as `runner/templates/`, which\n  \
         `cargo x07 policy init` and the embedded runner use).\n\
         * `fixture-*.policy.json`: the narrower policies the fixtures use; each fixture keeps a copy\n  \
         as its `policy.json`.\n\n\
         Every file validates against [`schemas/run-os-policy.schema.json`](../schemas/run-os-policy.schema.json);\n\
         check them with `cargo x07 policy check policies/`.\n\n\
         This file is generated by `tests/policies.rs`; regenerate it with\n\
         `UPDATE_FIXTURES_README=1 cargo test --test policies`.\n\n\
         | file | policy_id | what it allows |\n|---|---|---|\n",
    );
    for file in json_files(&workspace().join("policies")) {
        let value = read_json(&file);
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        s.push_str(&format!(
            "| [`{name}`]({name}) | `{}` | {} |\n",
            value["policy_id"].as_str().unwrap_or(""),
            value["notes"].as_str().unwrap_or("").replace('|', "\\|")
        ));
    }
    s
}

#[test]
fn policies_readme_lists_every_policy() {
    let expected = render_policies_readme();
    let path = workspace().join("policies/README.md");
    if std::env::var_os("UPDATE_FIXTURES_README").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "policies/README.md is out of date; run `UPDATE_FIXTURES_README=1 cargo test --test policies`"
    );
}
