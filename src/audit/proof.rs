//! The rules that let the audit skip a run: when a case provably cannot exercise a grant
//! (see `docs/audit.md`). Each rule returns the proof, which the table prints as the
//! grant's evidence; `None` means the case may exercise it and must run.

use serde_json::Value;

use super::grants::{Family, Grant, Removal};
use super::reach::{self, Reach};

/// The default arena of the runtime (`--max-memory-bytes`), inside the address-space limit.
pub(crate) const DEFAULT_ARENA_BYTES: u64 = 64 * 1024 * 1024;
/// What the runtime needs besides its arena, with room to spare: 64 MiB with a 16 MiB
/// arena and 128 MiB with the default 64 MiB one were both observed to work.
pub(crate) const RUNTIME_MARGIN_BYTES: u64 = 64 * 1024 * 1024;

/// What the audit knows about a case's program.
#[derive(Debug, Clone)]
pub(crate) struct ProgramFacts {
    /// What its program can reach.
    pub(crate) reach: Reach,
    /// The arena its runtime reserves (bytes).
    pub(crate) arena: u64,
    /// Its own run reported a compile error: the program never ran.
    pub(crate) compile_failed: bool,
}

/// The families whose grants a program may see through the `X07_OS_*` variables that
/// encode the policy, when `os.env.get` may read them; `None`: possibly every grant.
fn visible_through_env(policy: &Value) -> Option<Vec<Family>> {
    let strings = |pointer: &str| -> Vec<&str> {
        policy
            .pointer(pointer)
            .and_then(Value::as_array)
            .map(|keys| keys.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    };
    if policy.pointer("/env/enabled").and_then(Value::as_bool) != Some(true) {
        return Some(Vec::new());
    }
    let denied = strings("/env/deny_keys");
    let mut visible = Vec::new();
    for key in strings("/env/allow_keys") {
        if !key.starts_with("X07_OS_") || denied.contains(&key) {
            continue;
        }
        let family = [
            ("X07_OS_FS_", Family::Fs),
            ("X07_OS_DENY_HIDDEN", Family::Fs),
            ("X07_OS_NET_", Family::Net),
            ("X07_OS_ENV_", Family::Env),
            ("X07_OS_TIME_", Family::Time),
            ("X07_OS_PROC", Family::Process),
            ("X07_OS_DB_", Family::Db),
        ]
        .iter()
        .find(|(prefix, _)| key.starts_with(prefix))
        .map(|(_, family)| *family)?;
        visible.push(family);
    }
    Some(visible)
}

/// Why `case` provably cannot exercise `grant`, or `None` when it may.
pub(crate) fn unreachable_because(
    audited: &ProgramFacts,
    grant: &Grant,
    policy: &Value,
) -> Option<String> {
    if audited.compile_failed
        && !matches!(
            grant.family,
            Family::Language | Family::CpuLimit | Family::WallLimit | Family::MemLimit
        )
    {
        return Some(
            "its program does not compile (its own run reports a compile error), so it never runs"
                .to_string(),
        );
    }
    let families = audited.reach.families.as_ref()?;
    let source = &audited.reach.source;
    let mut reached = families.clone();
    if reached.contains(&Family::Env) {
        // The policy is handed to the program as X07_OS_* variables: one it may read
        // shows it the grants encoded there.
        reached.extend(visible_through_env(policy)?);
    }
    if reached.contains(&Family::Process) {
        // Child processes are other programs: they may touch files and the network.
        reached.insert(Family::Fs);
        reached.insert(Family::Net);
    }
    let io = [Family::Fs, Family::Process, Family::Net, Family::Db]
        .iter()
        .any(|family| reached.contains(family));
    match grant.family {
        family @ (Family::Fs
        | Family::Env
        | Family::Time
        | Family::Process
        | Family::Net
        | Family::Db) => (!reached.contains(&family)).then(|| {
            format!("no {} call in {source}", reach::family_calls(family))
        }),
        Family::FdsLimit => (!io).then(|| {
            format!("opens no file, process, socket or database: no os.fs/os.process/os.net/os.db call in {source}")
        }),
        Family::ProcsLimit => (!reached.contains(&Family::Process)).then(|| {
            format!("starts no process: no {} call in {source}", reach::family_calls(Family::Process))
        }),
        Family::MemLimit => {
            let Removal::SetNumber { value, .. } = &grant.removal else {
                return None;
            };
            let fits = audited.arena.saturating_add(RUNTIME_MARGIN_BYTES) <= *value;
            (!io && fits).then(|| {
                format!(
                    "no os.fs/os.process/os.net/os.db call in {source}: it needs its {} MiB arena plus the runtime's own (< {} MiB), within {} MiB",
                    audited.arena / (1024 * 1024),
                    RUNTIME_MARGIN_BYTES / (1024 * 1024),
                    value / (1024 * 1024)
                )
            })
        }
        Family::Language
        | Family::Threads
        | Family::CpuLimit
        | Family::WallLimit
        | Family::CoreDumps => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::audit::grants::{policy_grants, template_of};

    const MIB: u64 = 1024 * 1024;

    fn facts(families: &[Family]) -> ProgramFacts {
        ProgramFacts {
            reach: Reach {
                families: Some(families.iter().copied().collect::<BTreeSet<_>>()),
                source: "main.x07.json".into(),
            },
            arena: DEFAULT_ARENA_BYTES,
            compile_failed: false,
        }
    }

    fn fixture_policy(allow_keys: &[&str]) -> Value {
        let mut policy: Value =
            serde_json::from_str(include_str!("../../policies/fixture-allow.policy.json")).unwrap();
        policy["env"]["allow_keys"] = serde_json::json!(allow_keys);
        policy
    }

    /// The grant `key` of `policy` (compared with its template).
    fn grant(policy: &Value, key: &str) -> Grant {
        let (_, template, _) = template_of(policy);
        policy_grants(policy, &template)
            .into_iter()
            .find(|grant| grant.key == key)
            .unwrap_or_else(|| panic!("no grant {key}"))
    }

    #[test]
    fn a_family_the_program_never_names_is_unreachable() {
        let policy = fixture_policy(&["FIXTURE_VAR"]);
        let pure = facts(&[]);
        let proof = unreachable_because(&pure, &grant(&policy, "fs.enabled"), &policy).unwrap();
        assert_eq!(
            proof,
            "no os.fs.* / os.archive.* / std.fs.* call in main.x07.json"
        );
        assert!(unreachable_because(&pure, &grant(&policy, "limits.procs"), &policy).is_some());
        assert!(unreachable_because(&pure, &grant(&policy, "limits.fds"), &policy).is_some());
        // 1 GiB back to 512 MiB: the 64 MiB arena and the runtime fit.
        let mem = grant(&policy, "limits.mem_bytes");
        assert!(unreachable_because(&pure, &mem, &policy).is_some());
        let big_arena = ProgramFacts {
            arena: 500 * MIB,
            ..pure.clone()
        };
        assert!(unreachable_because(&big_arena, &mem, &policy).is_none());
        let reader = facts(&[Family::Fs]);
        assert!(unreachable_because(&reader, &grant(&policy, "fs.enabled"), &policy).is_none());
        assert!(unreachable_because(&reader, &grant(&policy, "limits.fds"), &policy).is_none());
        assert!(unreachable_because(&reader, &mem, &policy).is_none());
    }

    #[test]
    fn children_reach_files_and_the_environment_shows_the_policy() {
        let policy = fixture_policy(&["FIXTURE_VAR"]);
        let spawner = facts(&[Family::Process]);
        assert!(
            unreachable_because(&spawner, &grant(&policy, "fs.read_roots[\".\"]"), &policy)
                .is_none()
        );
        assert!(unreachable_because(&spawner, &grant(&policy, "env.enabled"), &policy).is_some());
        // A readable X07_OS_FS_* variable shows the fs grants, one of another section the
        // grants of that section, an unknown X07_OS_* variable everything.
        let env_reader = facts(&[Family::Env]);
        let fs_visible = fixture_policy(&["X07_OS_FS_READ_ROOTS"]);
        assert!(unreachable_because(
            &env_reader,
            &grant(&fs_visible, "fs.read_roots[\".\"]"),
            &fs_visible
        )
        .is_none());
        assert!(unreachable_because(
            &env_reader,
            &grant(&fs_visible, "process.enabled"),
            &fs_visible
        )
        .is_some());
        let all_visible = fixture_policy(&["X07_OS_SANDBOXED"]);
        assert!(unreachable_because(
            &env_reader,
            &grant(&all_visible, "process.enabled"),
            &all_visible
        )
        .is_none());
    }

    #[test]
    fn a_program_that_does_not_compile_needs_no_run_time_grant() {
        let policy = fixture_policy(&["FIXTURE_VAR"]);
        let broken = ProgramFacts {
            compile_failed: true,
            ..facts(&[Family::Fs])
        };
        assert!(unreachable_because(&broken, &grant(&policy, "fs.enabled"), &policy).is_some());
        assert!(
            unreachable_because(&broken, &grant(&policy, "limits.mem_bytes"), &policy).is_none()
        );
        let unknown = ProgramFacts {
            reach: Reach {
                families: None,
                source: "?".into(),
            },
            ..facts(&[])
        };
        assert!(unreachable_because(&unknown, &grant(&policy, "env.enabled"), &policy).is_none());
    }
}
