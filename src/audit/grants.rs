//! The grants of a sandbox policy: every permission the file writes, each of which the
//! audit tries to take away on its own.
//!
//! A grant is one of:
//! * a capability flag that is on (`fs.enabled`, `time.allow_wall_clock`,
//!   `process.allow_spawn`, …) — removed by turning it off; a switch whose `false` is the
//!   permissive value (`fs.deny_hidden`, `process.kill_on_drop`, `process.kill_tree`,
//!   `db.sqlite.readonly_only`, `db.net.require_tls`, `db.net.require_verify`) counts when it
//!   is `false`;
//! * one entry of an allow list (a read or write root, an env key, an executable or
//!   prefix, a child env key, a cwd root, a sqlite path, …) — removed by deleting it. In the
//!   two lists where an empty list means "any" (`process.allow_args_regex_lite`,
//!   `process.allow_cwd_roots`), a single entry is the restriction itself, so only lists of
//!   two or more entries have grants;
//! * one `host:port` of `net.allow_hosts` (a host with one port is one grant: the host);
//! * a limit raised above the template's value (`limits.cpu_ms`, `wall_ms`, `mem_bytes`,
//!   `fds`, `procs`, and the `fs`, `time`, `process`, `threads`, `db` caps) — removed by
//!   putting the template's value back. `process.max_runtime_ms` 0 means "no limit";
//! * a derived-policy flag of the case (`run.allow_read_roots`, `allow_write_roots`,
//!   `allow_hosts` in `x07test.json`) — removed by dropping the flag.
//!
//! A key the file leaves out takes the format's default and is not a grant of the file.
//!
//! **Which template a policy comes from**: the one its `policy_id` names
//! (`sandbox.<template>.base`, also with a suffix such as the `.g<hex>` of a derived
//! policy); else the closest template: the one whose switches and allow lists differ from
//! the policy's in the fewest places, counting only the settings the policy writes
//! (booleans and lists; numbers are the limits being compared, so they do not decide), the
//! earlier in `x07 policy init`'s list on a tie (`cli` first).

use std::collections::BTreeMap;

use serde_json::Value;
use x07_lite::templates::{template_json, TEMPLATE_NAMES};

/// The part of a run a grant governs (what a program must be able to do to need it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// `os.fs.*` (and `os.archive.*`), `std.fs.*`.
    Fs,
    /// `os.env.*`, `std.os.env.*`.
    Env,
    /// `os.time.*`, `std.os.time.*`.
    Time,
    /// `os.process.*`, `std.os.process.*`.
    Process,
    /// `os.net.*`.
    Net,
    /// `os.db.*`.
    Db,
    /// `language.*` (unsafe code, FFI).
    Language,
    /// `threads.*`.
    Threads,
    /// `limits.cpu_ms`.
    CpuLimit,
    /// `limits.wall_ms`.
    WallLimit,
    /// `limits.mem_bytes`.
    MemLimit,
    /// `limits.fds`.
    FdsLimit,
    /// `limits.procs`.
    ProcsLimit,
    /// `limits.core_dumps`.
    CoreDumps,
}

/// How a policy field grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `true` grants.
    Flag,
    /// `false` grants.
    InvertedFlag,
    /// Each entry grants.
    List,
    /// Each entry grants when there are two or more (empty means "any").
    ListEmptyMeansAny,
    /// A number above the template's grants.
    Cap,
    /// Like `Cap`, but 0 means "no limit".
    CapZeroUnlimited,
    /// `net.allow_hosts`.
    Hosts,
}

/// Every field that can grant, in the order the table lists them.
const FIELDS: &[(&str, Kind, Family)] = &[
    ("fs.enabled", Kind::Flag, Family::Fs),
    ("fs.read_roots", Kind::List, Family::Fs),
    ("fs.write_roots", Kind::List, Family::Fs),
    ("fs.deny_hidden", Kind::InvertedFlag, Family::Fs),
    ("fs.allow_symlinks", Kind::Flag, Family::Fs),
    ("fs.allow_mkdir", Kind::Flag, Family::Fs),
    ("fs.allow_remove", Kind::Flag, Family::Fs),
    ("fs.allow_rename", Kind::Flag, Family::Fs),
    ("fs.allow_walk", Kind::Flag, Family::Fs),
    ("fs.allow_glob", Kind::Flag, Family::Fs),
    ("fs.max_read_bytes", Kind::Cap, Family::Fs),
    ("fs.max_write_bytes", Kind::Cap, Family::Fs),
    ("fs.max_entries", Kind::Cap, Family::Fs),
    ("fs.max_depth", Kind::Cap, Family::Fs),
    ("env.enabled", Kind::Flag, Family::Env),
    ("env.allow_keys", Kind::List, Family::Env),
    ("time.enabled", Kind::Flag, Family::Time),
    ("time.allow_monotonic", Kind::Flag, Family::Time),
    ("time.allow_wall_clock", Kind::Flag, Family::Time),
    ("time.allow_sleep", Kind::Flag, Family::Time),
    ("time.max_sleep_ms", Kind::Cap, Family::Time),
    ("time.allow_local_tzid", Kind::Flag, Family::Time),
    ("process.enabled", Kind::Flag, Family::Process),
    ("process.allow_spawn", Kind::Flag, Family::Process),
    ("process.allow_exec", Kind::Flag, Family::Process),
    ("process.allow_exit", Kind::Flag, Family::Process),
    ("process.allow_execs", Kind::List, Family::Process),
    ("process.allow_exec_prefixes", Kind::List, Family::Process),
    (
        "process.allow_args_regex_lite",
        Kind::ListEmptyMeansAny,
        Family::Process,
    ),
    ("process.allow_env_keys", Kind::List, Family::Process),
    ("process.allow_cwd", Kind::Flag, Family::Process),
    (
        "process.allow_cwd_roots",
        Kind::ListEmptyMeansAny,
        Family::Process,
    ),
    ("process.kill_on_drop", Kind::InvertedFlag, Family::Process),
    ("process.kill_tree", Kind::InvertedFlag, Family::Process),
    ("process.max_live", Kind::Cap, Family::Process),
    ("process.max_spawns", Kind::Cap, Family::Process),
    (
        "process.max_runtime_ms",
        Kind::CapZeroUnlimited,
        Family::Process,
    ),
    ("process.max_exe_bytes", Kind::Cap, Family::Process),
    ("process.max_args", Kind::Cap, Family::Process),
    ("process.max_arg_bytes", Kind::Cap, Family::Process),
    ("process.max_env", Kind::Cap, Family::Process),
    ("process.max_env_key_bytes", Kind::Cap, Family::Process),
    ("process.max_env_val_bytes", Kind::Cap, Family::Process),
    ("process.max_stdout_bytes", Kind::Cap, Family::Process),
    ("process.max_stderr_bytes", Kind::Cap, Family::Process),
    ("process.max_total_bytes", Kind::Cap, Family::Process),
    ("process.max_stdin_bytes", Kind::Cap, Family::Process),
    ("net.enabled", Kind::Flag, Family::Net),
    ("net.allow_dns", Kind::Flag, Family::Net),
    ("net.allow_tcp", Kind::Flag, Family::Net),
    ("net.allow_udp", Kind::Flag, Family::Net),
    ("net.allow_hosts", Kind::Hosts, Family::Net),
    ("db.enabled", Kind::Flag, Family::Db),
    ("db.drivers.sqlite", Kind::Flag, Family::Db),
    ("db.drivers.postgres", Kind::Flag, Family::Db),
    ("db.drivers.mysql", Kind::Flag, Family::Db),
    ("db.drivers.redis", Kind::Flag, Family::Db),
    ("db.max_live_conns", Kind::Cap, Family::Db),
    ("db.max_queries", Kind::Cap, Family::Db),
    ("db.connect_timeout_ms", Kind::Cap, Family::Db),
    ("db.query_timeout_ms", Kind::Cap, Family::Db),
    ("db.max_sql_bytes", Kind::Cap, Family::Db),
    ("db.max_rows", Kind::Cap, Family::Db),
    ("db.max_resp_bytes", Kind::Cap, Family::Db),
    ("db.sqlite.allow_paths", Kind::List, Family::Db),
    ("db.sqlite.readonly_only", Kind::InvertedFlag, Family::Db),
    ("db.sqlite.allow_create", Kind::Flag, Family::Db),
    ("db.sqlite.allow_in_memory", Kind::Flag, Family::Db),
    ("db.net.allow_dns", Kind::List, Family::Db),
    ("db.net.allow_cidrs", Kind::List, Family::Db),
    ("db.net.allow_ports", Kind::List, Family::Db),
    ("db.net.require_tls", Kind::InvertedFlag, Family::Db),
    ("db.net.require_verify", Kind::InvertedFlag, Family::Db),
    ("language.allow_unsafe", Kind::Flag, Family::Language),
    ("language.allow_ffi", Kind::Flag, Family::Language),
    ("threads.enabled", Kind::Flag, Family::Threads),
    ("threads.max_workers", Kind::Cap, Family::Threads),
    ("threads.max_blocking", Kind::Cap, Family::Threads),
    ("threads.max_queue", Kind::Cap, Family::Threads),
    ("limits.cpu_ms", Kind::Cap, Family::CpuLimit),
    ("limits.wall_ms", Kind::Cap, Family::WallLimit),
    ("limits.mem_bytes", Kind::Cap, Family::MemLimit),
    ("limits.fds", Kind::Cap, Family::FdsLimit),
    ("limits.procs", Kind::Cap, Family::ProcsLimit),
    ("limits.core_dumps", Kind::Flag, Family::CoreDumps),
];

/// A derived-policy flag of a case (`run.*` in `x07test.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RunFlag {
    /// `--allow-read-root D`.
    AllowReadRoot,
    /// `--allow-write-root D`.
    AllowWriteRoot,
    /// `--allow-host H:P`.
    AllowHost,
}

impl RunFlag {
    /// The `x07 run` flag.
    pub fn flag(self) -> &'static str {
        match self {
            RunFlag::AllowReadRoot => "--allow-read-root",
            RunFlag::AllowWriteRoot => "--allow-write-root",
            RunFlag::AllowHost => "--allow-host",
        }
    }

    /// The family it grants in.
    pub fn family(self) -> Family {
        match self {
            RunFlag::AllowReadRoot | RunFlag::AllowWriteRoot => Family::Fs,
            RunFlag::AllowHost => Family::Net,
        }
    }
}

/// How a grant is taken away.
#[derive(Debug, Clone, PartialEq)]
pub enum Removal {
    /// Set the field (a JSON pointer) to this boolean.
    SetBool {
        /// JSON pointer of the field.
        pointer: String,
        /// The value that takes the grant away.
        value: bool,
    },
    /// Delete every entry equal to `item` from the list at `pointer`.
    RemoveItem {
        /// JSON pointer of the list.
        pointer: String,
        /// The entry.
        item: Value,
    },
    /// Put the template's value back.
    SetNumber {
        /// JSON pointer of the field.
        pointer: String,
        /// The template's value.
        value: u64,
    },
    /// Delete one port of a `net.allow_hosts` entry, or the whole entry.
    RemoveHost {
        /// The host.
        host: String,
        /// The port; `None`: the whole entry.
        port: Option<u64>,
    },
    /// Drop a derived-policy flag of the case.
    DropFlag {
        /// Which flag.
        flag: RunFlag,
        /// Its value as written.
        value: String,
    },
}

/// One grant.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    /// Stable identity within the policy (`fs.read_roots["."]`, `limits.mem_bytes`,
    /// `--allow-read-root data`).
    pub key: String,
    /// The field as written in the table (`fs.read_roots "."`, `limits.mem_bytes 1073741824`).
    pub label: String,
    /// What removing it does, in words (`remove "." from fs.read_roots`, `536870912 (template cli)`).
    pub removal_text: String,
    /// What a program must do to need it.
    pub family: Family,
    /// How to take it away.
    pub removal: Removal,
}

fn pointer(dotted: &str) -> String {
    format!("/{}", dotted.replace('.', "/"))
}

fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The grants of a policy document, compared with `template` for raised limits.
pub fn policy_grants(policy: &Value, template: &Value) -> Vec<Grant> {
    let mut grants = Vec::new();
    for (field, kind, family) in FIELDS {
        let at = pointer(field);
        let Some(value) = policy.pointer(&at) else {
            continue;
        };
        let family = *family;
        match kind {
            Kind::Flag | Kind::InvertedFlag => {
                let granting = *kind == Kind::Flag;
                if value.as_bool() == Some(granting) {
                    grants.push(Grant {
                        key: field.to_string(),
                        label: format!("{field} {granting}"),
                        removal_text: format!("{field} {}", !granting),
                        family,
                        removal: Removal::SetBool {
                            pointer: at,
                            value: !granting,
                        },
                    });
                }
            }
            Kind::List | Kind::ListEmptyMeansAny => {
                let Some(items) = value.as_array() else {
                    continue;
                };
                if *kind == Kind::ListEmptyMeansAny && items.len() < 2 {
                    continue;
                }
                let mut seen: Vec<&Value> = Vec::new();
                for item in items {
                    if seen.contains(&item) {
                        continue;
                    }
                    seen.push(item);
                    let shown = compact(item);
                    grants.push(Grant {
                        key: format!("{field}[{shown}]"),
                        label: format!("{field} {shown}"),
                        removal_text: format!("remove {shown} from {field}"),
                        family,
                        removal: Removal::RemoveItem {
                            pointer: at.clone(),
                            item: item.clone(),
                        },
                    });
                }
            }
            Kind::Cap | Kind::CapZeroUnlimited => {
                let (Some(mine), Some(theirs)) = (
                    value.as_u64(),
                    template.pointer(&at).and_then(Value::as_u64),
                ) else {
                    continue;
                };
                let unlimited = |n: u64| *kind == Kind::CapZeroUnlimited && n == 0;
                let raised = match (unlimited(mine), unlimited(theirs)) {
                    (_, true) => false,
                    (true, false) => true,
                    (false, false) => mine > theirs,
                };
                if raised {
                    let template_name = template
                        .get("policy_id")
                        .and_then(Value::as_str)
                        .unwrap_or("the template");
                    grants.push(Grant {
                        key: field.to_string(),
                        label: format!("{field} {mine}"),
                        removal_text: format!("{field} {theirs} (as in {template_name})"),
                        family,
                        removal: Removal::SetNumber {
                            pointer: at,
                            value: theirs,
                        },
                    });
                }
            }
            Kind::Hosts => {
                let Some(hosts) = value.as_array() else {
                    continue;
                };
                for entry in hosts {
                    let Some(host) = entry.get("host").and_then(Value::as_str) else {
                        continue;
                    };
                    let ports: Vec<u64> = entry
                        .get("ports")
                        .and_then(Value::as_array)
                        .map(|ports| ports.iter().filter_map(Value::as_u64).collect())
                        .unwrap_or_default();
                    if ports.len() < 2 {
                        let shown = match ports.first() {
                            Some(port) => format!("{host}:{port}"),
                            None => host.to_string(),
                        };
                        grants.push(Grant {
                            key: format!("net.allow_hosts[{shown}]"),
                            label: format!("net.allow_hosts {shown}"),
                            removal_text: format!("remove {host} from net.allow_hosts"),
                            family,
                            removal: Removal::RemoveHost {
                                host: host.to_string(),
                                port: None,
                            },
                        });
                    } else {
                        for port in ports {
                            grants.push(Grant {
                                key: format!("net.allow_hosts[{host}:{port}]"),
                                label: format!("net.allow_hosts {host}:{port}"),
                                removal_text: format!(
                                    "remove port {port} of {host} from net.allow_hosts"
                                ),
                                family,
                                removal: Removal::RemoveHost {
                                    host: host.to_string(),
                                    port: Some(port),
                                },
                            });
                        }
                    }
                }
            }
        }
    }
    grants
}

/// The grant of one derived-policy flag of a case.
pub fn flag_grant(flag: RunFlag, value: &str) -> Grant {
    let name = flag.flag();
    Grant {
        key: format!("{name} {value}"),
        label: format!("{name} {value} (run option)"),
        removal_text: format!("run without {name} {value}"),
        family: flag.family(),
        removal: Removal::DropFlag {
            flag,
            value: value.to_string(),
        },
    }
}

/// The policy with one grant taken away (`DropFlag` leaves the policy as it is).
pub fn without(policy: &Value, removal: &Removal) -> Value {
    let mut derived = policy.clone();
    match removal {
        Removal::SetBool { pointer, value } => {
            if let Some(field) = derived.pointer_mut(pointer) {
                *field = Value::Bool(*value);
            }
        }
        Removal::SetNumber { pointer, value } => {
            if let Some(field) = derived.pointer_mut(pointer) {
                *field = Value::from(*value);
            }
        }
        Removal::RemoveItem { pointer, item } => {
            if let Some(Value::Array(items)) = derived.pointer_mut(pointer) {
                items.retain(|entry| entry != item);
            }
        }
        Removal::RemoveHost { host, port } => {
            if let Some(Value::Array(hosts)) = derived.pointer_mut("/net/allow_hosts") {
                match port {
                    None => hosts
                        .retain(|entry| entry.get("host").and_then(Value::as_str) != Some(host)),
                    Some(port) => {
                        for entry in hosts.iter_mut() {
                            if entry.get("host").and_then(Value::as_str) == Some(host) {
                                if let Some(Value::Array(ports)) = entry.get_mut("ports") {
                                    ports.retain(|p| p.as_u64() != Some(*port));
                                }
                            }
                        }
                    }
                }
            }
        }
        Removal::DropFlag { .. } => {}
    }
    derived
}

/// How the template of a policy was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateChoice {
    /// Its `policy_id` names it.
    ById,
    /// It differs from the policy in the fewest settings (this many).
    Closest(usize),
}

/// The template a policy comes from (see the module documentation), its document and
/// how it was chosen.
pub fn template_of(policy: &Value) -> (&'static str, Value, TemplateChoice) {
    let parse = |name: &str| -> Value {
        serde_json::from_str(template_json(name).expect("a known template"))
            .expect("templates are JSON")
    };
    if let Some(id) = policy.get("policy_id").and_then(Value::as_str) {
        for name in TEMPLATE_NAMES {
            let base = format!("sandbox.{name}.base");
            if id == base || id.starts_with(&format!("{base}.")) {
                return (name, parse(name), TemplateChoice::ById);
            }
        }
    }
    let mine = leaves(policy);
    let mut best: Option<(&'static str, Value, usize)> = None;
    for name in TEMPLATE_NAMES {
        let template = parse(name);
        let theirs = leaves(&template);
        let distance = mine
            .iter()
            .filter(|(_, value)| value.is_boolean() || value.is_array())
            .filter(|(key, value)| theirs.get(*key) != Some(*value))
            .count();
        if best.as_ref().is_none_or(|(_, _, d)| distance < *d) {
            best = Some((name, template, distance));
        }
    }
    let (name, template, distance) = best.expect("eight templates");
    (name, template, TemplateChoice::Closest(distance))
}

/// Every leaf setting of a policy (objects flattened, lists whole), without the
/// identifying fields.
fn leaves(policy: &Value) -> BTreeMap<String, Value> {
    fn walk(prefix: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&path, value, out);
                }
            }
            other => {
                out.insert(prefix.to_string(), other.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", policy, &mut out);
    for key in ["policy_id", "notes", "schema_version"] {
        out.remove(key);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cli() -> Value {
        serde_json::from_str(template_json("cli").unwrap()).unwrap()
    }

    #[test]
    fn a_template_is_chosen_by_id_else_by_distance() {
        let (name, _, choice) =
            template_of(&json!({ "policy_id": "sandbox.worker.base.g1234abcd" }));
        assert_eq!((name, choice), ("worker", TemplateChoice::ById));
        let mut fs_tool: Value = serde_json::from_str(template_json("fs-tool").unwrap()).unwrap();
        fs_tool["policy_id"] = "mine".into();
        fs_tool["limits"]["cpu_ms"] = 1000.into();
        fs_tool["fs"]["allow_remove"] = true.into();
        let (name, _, choice) = template_of(&fs_tool);
        assert_eq!((name, choice), ("fs-tool", TemplateChoice::Closest(1)));
    }

    #[test]
    fn the_cli_template_grants_its_switches_and_roots_but_no_raised_limits() {
        let keys: Vec<String> = policy_grants(&cli(), &cli())
            .into_iter()
            .map(|grant| grant.key)
            .collect();
        assert!(keys.contains(&"fs.enabled".to_string()), "{keys:?}");
        assert!(
            keys.contains(&"fs.read_roots[\".\"]".to_string()),
            "{keys:?}"
        );
        assert!(
            keys.contains(&"time.allow_wall_clock".to_string()),
            "{keys:?}"
        );
        assert!(
            !keys.iter().any(|key| key.starts_with("limits.")),
            "{keys:?}"
        );
        // deny_hidden true and kill_on_drop true are restrictions, not grants.
        assert!(!keys.contains(&"fs.deny_hidden".to_string()), "{keys:?}");
        assert!(
            !keys.contains(&"process.kill_on_drop".to_string()),
            "{keys:?}"
        );
    }

    #[test]
    fn raised_limits_go_back_to_the_template() {
        let mut policy = cli();
        policy["limits"]["mem_bytes"] = 1073741824u64.into();
        policy["limits"]["cpu_ms"] = 1000.into();
        policy["process"]["max_runtime_ms"] = 5000.into();
        let grants = policy_grants(&policy, &cli());
        let mem = grants.iter().find(|g| g.key == "limits.mem_bytes").unwrap();
        assert_eq!(
            without(&policy, &mem.removal)["limits"]["mem_bytes"],
            536870912u64
        );
        // Lowered limits and a finite runtime under an unlimited template grant nothing.
        assert!(!grants.iter().any(|g| g.key == "limits.cpu_ms"));
        assert!(!grants.iter().any(|g| g.key == "process.max_runtime_ms"));
    }

    #[test]
    fn list_entries_and_host_ports_are_removed_one_at_a_time() {
        let mut policy = cli();
        policy["net"]["allow_hosts"] = json!([{ "host": "a.example", "ports": [80, 443] }, { "host": "b.example", "ports": [443] }]);
        policy["process"]["allow_cwd_roots"] = json!(["only"]);
        let grants = policy_grants(&policy, &cli());
        let keys: Vec<&str> = grants.iter().map(|g| g.key.as_str()).collect();
        assert!(keys.contains(&"net.allow_hosts[a.example:80]"), "{keys:?}");
        assert!(keys.contains(&"net.allow_hosts[b.example:443]"), "{keys:?}");
        assert!(
            !keys
                .iter()
                .any(|k| k.starts_with("process.allow_cwd_roots")),
            "{keys:?}"
        );
        let port = grants
            .iter()
            .find(|g| g.key == "net.allow_hosts[a.example:80]")
            .unwrap();
        assert_eq!(
            without(&policy, &port.removal)["net"]["allow_hosts"],
            json!([{ "host": "a.example", "ports": [443] }, { "host": "b.example", "ports": [443] }])
        );
        let host = grants
            .iter()
            .find(|g| g.key == "net.allow_hosts[b.example:443]")
            .unwrap();
        assert_eq!(
            without(&policy, &host.removal)["net"]["allow_hosts"],
            json!([{ "host": "a.example", "ports": [80, 443] }])
        );
        let root = grants
            .iter()
            .find(|g| g.key == "fs.write_roots[\"out\"]")
            .unwrap();
        assert_eq!(
            without(&policy, &root.removal)["fs"]["write_roots"],
            json!([])
        );
    }
}
