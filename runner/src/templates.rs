//! The eight sandbox policy templates that `x07 policy init --template T` writes.
//!
//! The files live in `runner/templates/` (the same bytes as `policies/` at the workspace
//! root) and are embedded with `include_str!`, so the runner needs no files at run time.
//! Their settings follow the observed output of `x07 policy init` 0.2.17; each file is
//! pretty JSON with sorted keys and a trailing newline, named
//! `<template>.sandbox.base.policy.json`.

/// The template names accepted by `policy init --template`, in the order x07 documents them.
pub const TEMPLATE_NAMES: [&str; 8] = [
    "cli",
    "http-client",
    "web-service",
    "fs-tool",
    "sqlite-app",
    "postgres-client",
    "worker",
    "worker-parallel",
];

/// The policy file contents of the template `name`, or `None` for an unknown template.
pub fn template_json(name: &str) -> Option<&'static str> {
    let text = match name {
        "cli" => include_str!("../templates/cli.sandbox.base.policy.json"),
        "http-client" => include_str!("../templates/http-client.sandbox.base.policy.json"),
        "web-service" => include_str!("../templates/web-service.sandbox.base.policy.json"),
        "fs-tool" => include_str!("../templates/fs-tool.sandbox.base.policy.json"),
        "sqlite-app" => include_str!("../templates/sqlite-app.sandbox.base.policy.json"),
        "postgres-client" => include_str!("../templates/postgres-client.sandbox.base.policy.json"),
        "worker" => include_str!("../templates/worker.sandbox.base.policy.json"),
        "worker-parallel" => include_str!("../templates/worker-parallel.sandbox.base.policy.json"),
        _ => return None,
    };
    Some(text)
}

/// The file name `policy init` gives the template `name`: `<name>.sandbox.base.policy.json`.
pub fn template_file_name(name: &str) -> String {
    format!("{name}.sandbox.base.policy.json")
}

/// The `policy_id` of the template `name`: `sandbox.<name>.base`.
pub fn template_policy_id(name: &str) -> String {
    format!("sandbox.{name}.base")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_is_pretty_sorted_json_with_its_policy_id() {
        for name in TEMPLATE_NAMES {
            let text = template_json(name).expect("known template");
            assert!(text.ends_with("}\n"), "{name}: trailing newline");
            let value: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
            assert_eq!(value["policy_id"], template_policy_id(name).as_str());
            assert_eq!(value["schema_version"], "x07.run-os-policy@0.1.0");
            let mem = value["limits"]["mem_bytes"].as_u64().expect("mem_bytes");
            assert!(
                mem >= 512 * 1024 * 1024,
                "{name}: mem_bytes {mem} is below 512 MiB"
            );
        }
        assert_eq!(template_json("nope"), None);
    }
}
