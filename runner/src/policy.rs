//! The sandbox policy (`x07.run-os-policy@0.1.0`): typed model, loading and validation.
//!
//! Loading ([`load_policy`]) follows what `x07 run` does: the file must exist and parse
//! into the typed model (unknown extra keys are accepted), `schema_version` must match
//! exactly, and the `limits` must be in range. The full schema check
//! ([`validate_value`]: closed objects, every range and pattern) is a separate step the
//! real runner only applies when a derived-policy flag is given; `cargo x07 policy check`
//! reuses it.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The only accepted `schema_version` of a policy file.
pub const POLICY_SCHEMA_VERSION: &str = "x07.run-os-policy@0.1.0";

/// A sandbox policy file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Always [`POLICY_SCHEMA_VERSION`] after loading.
    pub schema_version: String,
    /// Identifier, `^[a-zA-Z0-9_.-]{1,64}$`.
    pub policy_id: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Process resource limits.
    pub limits: Limits,
    /// File system access.
    pub fs: FsPolicy,
    /// Network access.
    pub net: NetPolicy,
    /// Database access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db: Option<DbPolicy>,
    /// Environment variable access.
    pub env: EnvPolicy,
    /// Clocks and sleeping.
    pub time: TimePolicy,
    /// Unsafe code and FFI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<LanguagePolicy>,
    /// Worker threads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<ThreadsPolicy>,
    /// Child processes and `os.process.exit`.
    pub process: ProcessPolicy,
}

/// `limits`: applied to the solver process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// CPU time in milliseconds (1..=600000); enforced as `RLIMIT_CPU` in whole seconds.
    pub cpu_ms: u64,
    /// Wall-clock time in milliseconds (1..=600000).
    pub wall_ms: u64,
    /// Address-space limit in bytes (1 MiB..=16 GiB).
    pub mem_bytes: u64,
    /// Open file descriptors (0..=1024).
    pub fds: u64,
    /// Processes (0..=1024).
    pub procs: u64,
    /// Whether core dumps are allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core_dumps: Option<bool>,
}

/// `fs`: file access roots and switches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FsPolicy {
    /// Master switch for every `os.fs.*` builtin.
    pub enabled: bool,
    /// Roots relative paths are read under.
    pub read_roots: Vec<String>,
    /// Roots writes are re-rooted into (the first one for `os.fs.write_file`).
    pub write_roots: Vec<String>,
    /// Deny any path segment that starts with `.`.
    pub deny_hidden: bool,
    /// Follow symlinks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_symlinks: Option<bool>,
    /// Create directories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_mkdir: Option<bool>,
    /// Remove files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_remove: Option<bool>,
    /// Rename files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_rename: Option<bool>,
    /// Walk directories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_walk: Option<bool>,
    /// Glob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_glob: Option<bool>,
    /// Largest file read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_read_bytes: Option<u64>,
    /// Largest file written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_write_bytes: Option<u64>,
    /// Most directory entries listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_entries: Option<u64>,
    /// Deepest directory walk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_depth: Option<u64>,
}

/// `net`: network switches and the host allow list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetPolicy {
    /// Master switch for `os.net.*`.
    pub enabled: bool,
    /// Name resolution.
    pub allow_dns: bool,
    /// TCP connections.
    pub allow_tcp: bool,
    /// UDP sockets.
    pub allow_udp: bool,
    /// Allowed destinations.
    pub allow_hosts: Vec<AllowHost>,
}

/// One `net.allow_hosts` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowHost {
    /// Host name or IP address (lower case).
    pub host: String,
    /// Allowed ports (1..=65535).
    pub ports: Vec<u64>,
}

/// `db`: database access (kept for completeness; the subset has no db builtins).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbPolicy {
    /// Master switch.
    pub enabled: bool,
    /// Which drivers may be used.
    pub drivers: DbDrivers,
    /// Open connections at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_live_conns: Option<u64>,
    /// Queries per run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_queries: Option<u64>,
    /// Connect timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout_ms: Option<u64>,
    /// Query timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_timeout_ms: Option<u64>,
    /// Largest SQL text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_sql_bytes: Option<u64>,
    /// Most rows returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rows: Option<u64>,
    /// Largest response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_resp_bytes: Option<u64>,
    /// SQLite settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sqlite: Option<DbSqlite>,
    /// Network settings of network databases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net: Option<DbNet>,
}

/// `db.drivers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbDrivers {
    /// SQLite.
    pub sqlite: bool,
    /// PostgreSQL.
    pub postgres: bool,
    /// MySQL.
    pub mysql: bool,
    /// Redis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<bool>,
}

/// `db.sqlite`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbSqlite {
    /// Database files that may be opened.
    #[serde(default)]
    pub allow_paths: Vec<String>,
    /// Only read-only connections.
    #[serde(default)]
    pub readonly_only: bool,
    /// Creating database files.
    #[serde(default)]
    pub allow_create: bool,
    /// `:memory:` databases.
    #[serde(default)]
    pub allow_in_memory: bool,
}

/// `db.net`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbNet {
    /// Resolvable names.
    #[serde(default)]
    pub allow_dns: Vec<String>,
    /// Reachable networks.
    #[serde(default)]
    pub allow_cidrs: Vec<String>,
    /// Reachable ports.
    #[serde(default)]
    pub allow_ports: Vec<u64>,
    /// TLS required.
    #[serde(default = "default_true")]
    pub require_tls: bool,
    /// Certificate verification required.
    #[serde(default = "default_true")]
    pub require_verify: bool,
}

/// `env`: which variables `os.env.get` may read (deny wins over allow).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvPolicy {
    /// Master switch.
    pub enabled: bool,
    /// Keys that may be read.
    pub allow_keys: Vec<String>,
    /// Keys that may never be read.
    pub deny_keys: Vec<String>,
}

/// `time`: clocks and sleeping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimePolicy {
    /// Master switch.
    pub enabled: bool,
    /// Monotonic clock.
    pub allow_monotonic: bool,
    /// Wall clock (`now_unix_ms`, `now_instant_v1`).
    pub allow_wall_clock: bool,
    /// `sleep_ms_v1`.
    pub allow_sleep: bool,
    /// Longest allowed sleep.
    pub max_sleep_ms: u64,
    /// `local_tzid_v1`.
    pub allow_local_tzid: bool,
}

/// `language`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LanguagePolicy {
    /// Unsafe blocks.
    #[serde(default)]
    pub allow_unsafe: bool,
    /// Foreign functions.
    #[serde(default)]
    pub allow_ffi: bool,
}

/// `threads`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadsPolicy {
    /// Master switch.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Worker threads.
    #[serde(default)]
    pub max_workers: u64,
    /// Blocking threads.
    #[serde(default = "default_max_blocking")]
    pub max_blocking: u64,
    /// Queue length.
    #[serde(default = "default_max_queue")]
    pub max_queue: u64,
}

/// `process`: child processes and `os.process.exit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessPolicy {
    /// Master switch for run/spawn.
    pub enabled: bool,
    /// Starting children at all.
    pub allow_spawn: bool,
    /// Children alive at once.
    pub max_live: u64,
    /// Children started per run.
    pub max_spawns: u64,
    /// Executables that may be started (exact paths).
    #[serde(default)]
    pub allow_execs: Vec<String>,
    /// Executable path prefixes that may be started.
    #[serde(default)]
    pub allow_exec_prefixes: Vec<String>,
    /// Argument patterns.
    #[serde(default)]
    pub allow_args_regex_lite: Vec<String>,
    /// Environment keys a request may set.
    #[serde(default)]
    pub allow_env_keys: Vec<String>,
    /// `exec` (does not gate `run_capture_v1`).
    pub allow_exec: bool,
    /// `os.process.exit`.
    pub allow_exit: bool,
    /// Longest executable path.
    #[serde(default = "default_4096")]
    pub max_exe_bytes: u64,
    /// Most arguments.
    #[serde(default = "default_64")]
    pub max_args: u64,
    /// Longest argument.
    #[serde(default = "default_4096")]
    pub max_arg_bytes: u64,
    /// Most environment pairs.
    #[serde(default = "default_64")]
    pub max_env: u64,
    /// Longest environment key.
    #[serde(default = "default_256")]
    pub max_env_key_bytes: u64,
    /// Longest environment value.
    #[serde(default = "default_4096")]
    pub max_env_val_bytes: u64,
    /// Longest child run (0 = no limit).
    #[serde(default)]
    pub max_runtime_ms: u64,
    /// Most captured stdout bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_stdout_bytes: Option<u64>,
    /// Most captured stderr bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_stderr_bytes: Option<u64>,
    /// Most captured bytes in total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_total_bytes: Option<u64>,
    /// Largest stdin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_stdin_bytes: Option<u64>,
    /// Kill a running child when its handle is dropped.
    #[serde(default = "default_true")]
    pub kill_on_drop: bool,
    /// Kill the child's whole process group.
    #[serde(default = "default_true")]
    pub kill_tree: bool,
    /// Requests may set a working directory.
    #[serde(default)]
    pub allow_cwd: bool,
    /// Directories a request's cwd must lie under (empty = any).
    #[serde(default)]
    pub allow_cwd_roots: Vec<String>,
}

fn default_true() -> bool {
    true
}
fn default_max_blocking() -> u64 {
    4
}
fn default_max_queue() -> u64 {
    1024
}
fn default_4096() -> u64 {
    4096
}
fn default_64() -> u64 {
    64
}
fn default_256() -> u64 {
    256
}

impl Policy {
    /// The policy a sandboxed solver falls back to when it has no policy file
    /// (`X07_OS_SANDBOXED=1` in the caller's environment): everything off.
    pub fn deny_all() -> Policy {
        Policy {
            schema_version: POLICY_SCHEMA_VERSION.to_string(),
            policy_id: "deny-all".to_string(),
            notes: None,
            limits: Limits {
                cpu_ms: 600_000,
                wall_ms: 600_000,
                mem_bytes: 17_179_869_184,
                fds: 1024,
                procs: 1024,
                core_dumps: None,
            },
            fs: FsPolicy {
                enabled: false,
                read_roots: Vec::new(),
                write_roots: Vec::new(),
                deny_hidden: true,
                allow_symlinks: None,
                allow_mkdir: None,
                allow_remove: None,
                allow_rename: None,
                allow_walk: None,
                allow_glob: None,
                max_read_bytes: None,
                max_write_bytes: None,
                max_entries: None,
                max_depth: None,
            },
            net: NetPolicy {
                enabled: false,
                allow_dns: false,
                allow_tcp: false,
                allow_udp: false,
                allow_hosts: Vec::new(),
            },
            db: None,
            env: EnvPolicy {
                enabled: false,
                allow_keys: Vec::new(),
                deny_keys: Vec::new(),
            },
            time: TimePolicy {
                enabled: false,
                allow_monotonic: false,
                allow_wall_clock: false,
                allow_sleep: false,
                max_sleep_ms: 0,
                allow_local_tzid: false,
            },
            language: None,
            threads: None,
            process: ProcessPolicy {
                enabled: false,
                allow_spawn: false,
                max_live: 0,
                max_spawns: 0,
                allow_execs: Vec::new(),
                allow_exec_prefixes: Vec::new(),
                allow_args_regex_lite: Vec::new(),
                allow_env_keys: Vec::new(),
                allow_exec: false,
                allow_exit: false,
                max_exe_bytes: 4096,
                max_args: 64,
                max_arg_bytes: 4096,
                max_env: 64,
                max_env_key_bytes: 256,
                max_env_val_bytes: 4096,
                max_runtime_ms: 0,
                max_stdout_bytes: None,
                max_stderr_bytes: None,
                max_total_bytes: None,
                max_stdin_bytes: None,
                kill_on_drop: true,
                kill_tree: true,
                allow_cwd: false,
                allow_cwd_roots: Vec::new(),
            },
        }
    }
}

/// Why a policy file could not be used; the messages are the ones `x07 run` prints (rc 2).
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file does not exist.
    #[error("missing policy file: {}", .path.display())]
    Missing {
        /// Absolute path that was looked up.
        path: PathBuf,
    },
    /// The file exists but could not be read.
    #[error("read policy file: {}: {source}", .path.display())]
    Read {
        /// Absolute path of the file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not JSON, or not the shape of a policy (a missing required field, a wrong type).
    #[error("parse policy JSON: {} {source}", .path.display())]
    Parse {
        /// Absolute path of the file.
        path: PathBuf,
        /// The serde error, with line and column.
        source: serde_json::Error,
    },
    /// `schema_version` is not [`POLICY_SCHEMA_VERSION`].
    #[error("invalid policy: policy.schema_version mismatch: expected {POLICY_SCHEMA_VERSION} got {found:?}")]
    SchemaVersion {
        /// The version found in the file.
        found: String,
    },
    /// A semantic rule failed, e.g. `limits.cpu_ms must be 1..600000 (got 0)`.
    #[error("invalid policy: policy.{0}")]
    Invalid(String),
}

/// Reads, parses and checks a policy file the way `x07 run` does before a sandboxed run.
pub fn load_policy(path: &Path) -> Result<Policy, PolicyError> {
    let bytes = match crate::project::read_source_file(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(PolicyError::Missing {
                path: path.to_path_buf(),
            })
        }
        Err(source) => {
            return Err(PolicyError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    parse_policy(&bytes).map_err(|err| match err {
        PolicyError::Parse { source, .. } => PolicyError::Parse {
            path: path.to_path_buf(),
            source,
        },
        other => other,
    })
}

/// Parses and checks policy bytes (see [`load_policy`]); a parse error carries an empty path.
pub fn parse_policy(bytes: &[u8]) -> Result<Policy, PolicyError> {
    let policy: Policy = serde_json::from_slice(bytes).map_err(|source| PolicyError::Parse {
        path: PathBuf::new(),
        source,
    })?;
    if policy.schema_version != POLICY_SCHEMA_VERSION {
        return Err(PolicyError::SchemaVersion {
            found: policy.schema_version,
        });
    }
    check_limits(&policy.limits)?;
    check_lists(&policy)?;
    check_process(&policy.process)?;
    Ok(policy)
}

/// List entries are handed to the runtime joined with `;` (`X07_OS_FS_READ_ROOTS=.;out`),
/// so an entry containing `;` would smuggle in more entries: x07 refuses such a policy,
/// and so does x07-lite, for every list of strings the policy has (roots, keys, execs,
/// prefixes, argument patterns, cwd roots, database paths and names). A NUL cannot be
/// handed over in an environment variable at all (x07 cannot start the program with
/// such a policy), so an entry with one is refused too, rather than given a meaning. Hosts may not contain whitespace either (the schema's
/// `^[^;\s]+$`).
fn check_lists(policy: &Policy) -> Result<(), PolicyError> {
    let lists: [(&str, &[String]); 8] = [
        ("fs.read_roots", &policy.fs.read_roots),
        ("fs.write_roots", &policy.fs.write_roots),
        ("env.allow_keys", &policy.env.allow_keys),
        ("env.deny_keys", &policy.env.deny_keys),
        ("process.allow_execs", &policy.process.allow_execs),
        (
            "process.allow_exec_prefixes",
            &policy.process.allow_exec_prefixes,
        ),
        ("process.allow_env_keys", &policy.process.allow_env_keys),
        ("process.allow_cwd_roots", &policy.process.allow_cwd_roots),
    ];
    let empty: &[String] = &[];
    let sqlite = policy.db.as_ref().and_then(|db| db.sqlite.as_ref());
    let db_net = policy.db.as_ref().and_then(|db| db.net.as_ref());
    let more: [(&str, &[String]); 4] = [
        (
            "process.allow_args_regex_lite",
            &policy.process.allow_args_regex_lite,
        ),
        (
            "db.sqlite.allow_paths",
            sqlite.map_or(empty, |s| s.allow_paths.as_slice()),
        ),
        (
            "db.net.allow_dns",
            db_net.map_or(empty, |n| n.allow_dns.as_slice()),
        ),
        (
            "db.net.allow_cidrs",
            db_net.map_or(empty, |n| n.allow_cidrs.as_slice()),
        ),
    ];
    for (name, entries) in lists.into_iter().chain(more) {
        for (index, entry) in entries.iter().enumerate() {
            if entry.contains(';') {
                return Err(PolicyError::Invalid(format!(
                    "{name}[{index}] must not contain ';' (got {entry:?})"
                )));
            }
            if entry.contains('\0') {
                return Err(PolicyError::Invalid(format!(
                    "{name}[{index}] must not contain NUL (got {entry:?})"
                )));
            }
        }
    }
    for (index, host) in policy.net.allow_hosts.iter().enumerate() {
        if host.host.is_empty()
            || host
                .host
                .chars()
                .any(|c| c == ';' || c == '\0' || c.is_whitespace())
        {
            return Err(PolicyError::Invalid(format!(
                "net.allow_hosts[{index}].host must match ^[^;\\s]+$ (got {:?})",
                host.host
            )));
        }
    }
    Ok(())
}

/// The process rules x07 refuses on load: spawning without a runtime limit, and a
/// working directory allowed with no root to hold it.
fn check_process(process: &ProcessPolicy) -> Result<(), PolicyError> {
    if process.allow_spawn && process.max_runtime_ms == 0 {
        return Err(PolicyError::Invalid(
            "process.max_runtime_ms must be 1..600000 when process.allow_spawn is true (got 0)"
                .to_string(),
        ));
    }
    if process.allow_cwd && process.allow_cwd_roots.is_empty() {
        return Err(PolicyError::Invalid(
            "process.allow_cwd_roots must not be empty when process.allow_cwd is true".to_string(),
        ));
    }
    Ok(())
}

fn check_limits(limits: &Limits) -> Result<(), PolicyError> {
    let checks: [(&str, u64, u64, u64); 5] = [
        ("cpu_ms", limits.cpu_ms, 1, 600_000),
        ("wall_ms", limits.wall_ms, 1, 600_000),
        ("mem_bytes", limits.mem_bytes, 1_048_576, 17_179_869_184),
        ("fds", limits.fds, 0, 1024),
        ("procs", limits.procs, 0, 1024),
    ];
    for (name, got, min, max) in checks {
        if got < min || got > max {
            return Err(PolicyError::Invalid(format!(
                "limits.{name} must be {min}..{max} (got {got})"
            )));
        }
    }
    Ok(())
}

/// One place where a policy document breaks the policy schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyViolation {
    /// Dotted path of the offending field (`limits.cpu_ms`, `net.allow_hosts[0].host`);
    /// for a missing or unexpected key, the path of the key itself.
    pub path: String,
    /// What is wrong.
    pub kind: ViolationKind,
    /// The schema checker's wording of the problem, without its location
    /// (`0 is less than the minimum of 1`, `"a b" does not match "^[^;\s]+$"`).
    pub schema_text: String,
    /// JSON pointer of the value concerned (for a missing or unexpected key: of the
    /// object that holds it), as the schema checker reports it.
    pub pointer: String,
}

/// The kinds of schema violations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViolationKind {
    /// A required key is missing.
    Missing,
    /// A key that the (closed) object does not define.
    Unexpected,
    /// The value has the wrong JSON type.
    WrongType {
        /// The expected type name.
        expected: &'static str,
    },
    /// An integer outside its inclusive range.
    OutOfRange {
        /// Lower bound.
        min: u64,
        /// Upper bound.
        max: u64,
        /// The value found (as written).
        got: String,
    },
    /// A string that is too short, too long, or does not match its pattern.
    BadString {
        /// The rule, e.g. `must match ^[a-zA-Z0-9_.-]{1,64}$`.
        rule: String,
    },
    /// An array with too many items.
    TooManyItems {
        /// The maximum.
        max: usize,
    },
    /// A constant that has another value.
    NotConst {
        /// The only allowed value.
        expected: &'static str,
    },
}

impl PolicyViolation {
    /// The message of the `X07-POLICY-SCHEMA-0001` diagnostic, in the wording of the
    /// schema checker x07 uses followed by the JSON pointer of the value concerned in
    /// parentheses: `"env" is a required property ()`,
    /// `Additional properties are not allowed ('extra_key' was unexpected) ()`,
    /// `0 is less than the minimum of 1 (/limits/cpu_ms)`.
    pub fn schema_message(&self) -> String {
        format!("{} ({})", self.schema_text, self.pointer)
    }
}

fn dotted_to_pointer(path: &str) -> String {
    if path.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    for part in path.split('.') {
        let mut rest = part;
        let name_end = rest.find('[').unwrap_or(rest.len());
        out.push('/');
        out.push_str(&rest[..name_end]);
        rest = &rest[name_end..];
        while let Some(close) = rest.find(']') {
            out.push('/');
            out.push_str(&rest[1..close]);
            rest = &rest[close + 1..];
        }
    }
    out
}

impl fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "policy"
        } else {
            &self.path
        };
        match &self.kind {
            ViolationKind::Missing => write!(f, "{path} is required"),
            ViolationKind::Unexpected => write!(f, "{path} is not a known field"),
            ViolationKind::WrongType { expected } => write!(f, "{path} must be {expected}"),
            ViolationKind::OutOfRange { min, max, got } => {
                write!(f, "{path} must be {min}..{max} (got {got})")
            }
            ViolationKind::BadString { rule } => write!(f, "{path} {rule}"),
            ViolationKind::TooManyItems { max } => {
                write!(f, "{path} must have at most {max} items")
            }
            ViolationKind::NotConst { expected } => write!(f, "{path} must be {expected:?}"),
        }
    }
}

/// The shape of one value in the policy schema.
enum Shape {
    Bool,
    Int(u64, u64),
    Str(usize, usize, StrRule),
    Const(&'static str),
    Array(usize, &'static Shape),
    Object(&'static [Field]),
}

#[derive(Clone, Copy)]
enum StrRule {
    Any,
    PolicyId,
    NoSemicolonOrSpace,
}

struct Field {
    name: &'static str,
    required: bool,
    shape: Shape,
}

const fn req(name: &'static str, shape: Shape) -> Field {
    Field {
        name,
        required: true,
        shape,
    }
}

const fn opt(name: &'static str, shape: Shape) -> Field {
    Field {
        name,
        required: false,
        shape,
    }
}

const U32_MAX: u64 = 4_294_967_295;
const PATH_STR: Shape = Shape::Str(1, 4096, StrRule::Any);
const PATHS_128: Shape = Shape::Array(128, &PATH_STR);
const PATHS_256: Shape = Shape::Array(256, &PATH_STR);
const KEY_STR: Shape = Shape::Str(1, 256, StrRule::Any);
const KEYS_256: Shape = Shape::Array(256, &KEY_STR);
const NAME_STR: Shape = Shape::Str(1, 255, StrRule::Any);
const PORT: Shape = Shape::Int(1, 65535);

const LIMITS: &[Field] = &[
    req("cpu_ms", Shape::Int(1, 600_000)),
    req("wall_ms", Shape::Int(1, 600_000)),
    req("mem_bytes", Shape::Int(1_048_576, 17_179_869_184)),
    req("fds", Shape::Int(0, 1024)),
    req("procs", Shape::Int(0, 1024)),
    opt("core_dumps", Shape::Bool),
];

const FS: &[Field] = &[
    req("enabled", Shape::Bool),
    req("read_roots", PATHS_128),
    req("write_roots", PATHS_128),
    req("deny_hidden", Shape::Bool),
    opt("allow_symlinks", Shape::Bool),
    opt("allow_mkdir", Shape::Bool),
    opt("allow_remove", Shape::Bool),
    opt("allow_rename", Shape::Bool),
    opt("allow_walk", Shape::Bool),
    opt("allow_glob", Shape::Bool),
    opt("max_read_bytes", Shape::Int(0, U32_MAX)),
    opt("max_write_bytes", Shape::Int(0, U32_MAX)),
    opt("max_entries", Shape::Int(0, U32_MAX)),
    opt("max_depth", Shape::Int(0, U32_MAX)),
];

const ALLOW_HOST: &[Field] = &[
    req("host", Shape::Str(1, 255, StrRule::NoSemicolonOrSpace)),
    req("ports", Shape::Array(64, &PORT)),
];
const ALLOW_HOST_SHAPE: Shape = Shape::Object(ALLOW_HOST);

const NET: &[Field] = &[
    req("enabled", Shape::Bool),
    req("allow_dns", Shape::Bool),
    req("allow_tcp", Shape::Bool),
    req("allow_udp", Shape::Bool),
    req("allow_hosts", Shape::Array(256, &ALLOW_HOST_SHAPE)),
];

const DB_DRIVERS: &[Field] = &[
    req("sqlite", Shape::Bool),
    req("postgres", Shape::Bool),
    req("mysql", Shape::Bool),
    opt("redis", Shape::Bool),
];

const DB_SQLITE: &[Field] = &[
    opt("allow_paths", PATHS_256),
    opt("readonly_only", Shape::Bool),
    opt("allow_create", Shape::Bool),
    opt("allow_in_memory", Shape::Bool),
];

const DB_NET: &[Field] = &[
    opt("allow_dns", Shape::Array(256, &NAME_STR)),
    opt("allow_cidrs", Shape::Array(256, &NAME_STR)),
    opt("allow_ports", Shape::Array(256, &PORT)),
    opt("require_tls", Shape::Bool),
    opt("require_verify", Shape::Bool),
];

const DB: &[Field] = &[
    req("enabled", Shape::Bool),
    req("drivers", Shape::Object(DB_DRIVERS)),
    opt("max_live_conns", Shape::Int(0, 1024)),
    opt("max_queries", Shape::Int(0, 1_000_000)),
    opt("connect_timeout_ms", Shape::Int(0, 600_000)),
    opt("query_timeout_ms", Shape::Int(0, 600_000)),
    opt("max_sql_bytes", Shape::Int(0, 10_485_760)),
    opt("max_rows", Shape::Int(0, 1_000_000)),
    opt("max_resp_bytes", Shape::Int(0, 134_217_728)),
    opt("sqlite", Shape::Object(DB_SQLITE)),
    opt("net", Shape::Object(DB_NET)),
];

const ENV: &[Field] = &[
    req("enabled", Shape::Bool),
    req("allow_keys", KEYS_256),
    req("deny_keys", KEYS_256),
];

const TIME: &[Field] = &[
    req("enabled", Shape::Bool),
    req("allow_monotonic", Shape::Bool),
    req("allow_wall_clock", Shape::Bool),
    req("allow_sleep", Shape::Bool),
    req("max_sleep_ms", Shape::Int(0, 86_400_000)),
    req("allow_local_tzid", Shape::Bool),
];

const LANGUAGE: &[Field] = &[
    req("allow_unsafe", Shape::Bool),
    req("allow_ffi", Shape::Bool),
];

const THREADS: &[Field] = &[
    req("enabled", Shape::Bool),
    req("max_workers", Shape::Int(0, 256)),
    req("max_blocking", Shape::Int(0, 4096)),
    req("max_queue", Shape::Int(0, 1_000_000)),
];

const PROCESS: &[Field] = &[
    req("enabled", Shape::Bool),
    req("allow_spawn", Shape::Bool),
    req("max_live", Shape::Int(0, 1024)),
    req("max_spawns", Shape::Int(0, 1024)),
    opt("allow_execs", PATHS_256),
    opt("allow_exec_prefixes", PATHS_256),
    opt("allow_args_regex_lite", Shape::Array(128, &KEY_STR)),
    opt("allow_env_keys", KEYS_256),
    req("allow_exec", Shape::Bool),
    req("allow_exit", Shape::Bool),
    opt("max_exe_bytes", Shape::Int(0, 1_048_576)),
    opt("max_args", Shape::Int(0, 1024)),
    opt("max_arg_bytes", Shape::Int(0, 1_048_576)),
    opt("max_env", Shape::Int(0, 1024)),
    opt("max_env_key_bytes", Shape::Int(0, 4096)),
    opt("max_env_val_bytes", Shape::Int(0, 1_048_576)),
    opt("max_runtime_ms", Shape::Int(0, 600_000)),
    opt("max_stdout_bytes", Shape::Int(0, 268_435_456)),
    opt("max_stderr_bytes", Shape::Int(0, 268_435_456)),
    opt("max_total_bytes", Shape::Int(0, 536_870_912)),
    opt("max_stdin_bytes", Shape::Int(0, 268_435_456)),
    opt("kill_on_drop", Shape::Bool),
    opt("kill_tree", Shape::Bool),
    opt("allow_cwd", Shape::Bool),
    opt("allow_cwd_roots", PATHS_128),
];

const TOP: &[Field] = &[
    req("schema_version", Shape::Const(POLICY_SCHEMA_VERSION)),
    // The schema gives `policy_id` only its pattern (which bounds the length).
    req("policy_id", Shape::Str(0, usize::MAX, StrRule::PolicyId)),
    opt("notes", Shape::Str(0, 4096, StrRule::Any)),
    req("limits", Shape::Object(LIMITS)),
    req("fs", Shape::Object(FS)),
    req("net", Shape::Object(NET)),
    opt("db", Shape::Object(DB)),
    req("env", Shape::Object(ENV)),
    req("time", Shape::Object(TIME)),
    opt("language", Shape::Object(LANGUAGE)),
    opt("threads", Shape::Object(THREADS)),
    req("process", Shape::Object(PROCESS)),
];

/// Checks a policy document against the policy schema: closed objects, required keys,
/// types, ranges, lengths and patterns. An empty result means the document is valid.
/// Violations come in document order (missing keys of an object before its unknown keys).
pub fn validate_value(value: &Value) -> Vec<PolicyViolation> {
    let mut out = Vec::new();
    check_shape(value, &Shape::Object(TOP), "", &mut out);
    out
}

/// Whether `id` is a valid `policy_id` (`^[a-zA-Z0-9_.-]{1,64}$`).
pub fn is_valid_policy_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

fn join_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// The number of an integer field as the schema checker sees it: JSON integers, and
/// floats without a fractional part (`1000.0` is an integer to draft 2020-12).
/// `None` for anything that is not an integer.
fn schema_integer(value: &Value) -> Option<f64> {
    let number = value.as_number()?;
    if number.is_u64() || number.is_i64() {
        return number.as_f64();
    }
    number.as_f64().filter(|n| n.fract() == 0.0)
}

/// `s` when `count` is not 1 (the schema checker's plural).
fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}

fn check_shape(value: &Value, shape: &Shape, path: &str, out: &mut Vec<PolicyViolation>) {
    let pointer = dotted_to_pointer(path);
    let mut push = |kind: ViolationKind, schema_text: String| {
        out.push(PolicyViolation {
            path: path.to_string(),
            kind,
            schema_text,
            pointer: pointer.clone(),
        })
    };
    let wrong_type = |expected: &'static str, json_type: &str| {
        (
            ViolationKind::WrongType { expected },
            format!("{value} is not of type \"{json_type}\""),
        )
    };
    match shape {
        Shape::Bool => {
            if !value.is_boolean() {
                let (kind, text) = wrong_type("a boolean", "boolean");
                push(kind, text);
            }
        }
        Shape::Int(min, max) => match schema_integer(value) {
            Some(n) if n >= *min as f64 && n <= *max as f64 => {}
            Some(n) => {
                let text = if n < *min as f64 {
                    format!("{value} is less than the minimum of {min}")
                } else {
                    format!("{value} is greater than the maximum of {max}")
                };
                push(
                    ViolationKind::OutOfRange {
                        min: *min,
                        max: *max,
                        got: value.to_string(),
                    },
                    text,
                );
            }
            None => {
                let (kind, text) = wrong_type("an integer", "integer");
                push(kind, text);
            }
        },
        Shape::Str(min, max, rule) => match value.as_str() {
            Some(text) => {
                let chars = text.chars().count();
                if chars < *min {
                    push(
                        ViolationKind::BadString {
                            rule: format!("must be at least {min} characters long"),
                        },
                        format!("{value} is shorter than {min} character{}", plural(*min)),
                    );
                } else if chars > *max {
                    push(
                        ViolationKind::BadString {
                            rule: format!("must be at most {max} characters long"),
                        },
                        format!("{value} is longer than {max} character{}", plural(*max)),
                    );
                } else {
                    let pattern = match rule {
                        StrRule::Any => None,
                        StrRule::PolicyId => {
                            (!is_valid_policy_id(text)).then_some("^[a-zA-Z0-9_.-]{1,64}$")
                        }
                        StrRule::NoSemicolonOrSpace => text
                            .chars()
                            .any(|c| c == ';' || c.is_whitespace())
                            .then_some("^[^;\\s]+$"),
                    };
                    if let Some(pattern) = pattern {
                        push(
                            ViolationKind::BadString {
                                rule: format!("must match {pattern}"),
                            },
                            format!("{value} does not match \"{pattern}\""),
                        );
                    }
                }
            }
            None => {
                let (kind, text) = wrong_type("a string", "string");
                push(kind, text);
            }
        },
        Shape::Const(expected) => {
            if value.as_str() != Some(expected) {
                push(
                    ViolationKind::NotConst { expected },
                    format!("{} was expected", Value::from(*expected)),
                );
            }
        }
        Shape::Array(max_items, item) => match value.as_array() {
            Some(items) => {
                if items.len() > *max_items {
                    push(
                        ViolationKind::TooManyItems { max: *max_items },
                        format!(
                            "{value} has more than {max_items} item{}",
                            plural(*max_items)
                        ),
                    );
                }
                for (index, element) in items.iter().enumerate() {
                    check_shape(element, item, &format!("{path}[{index}]"), out);
                }
            }
            None => {
                let (kind, text) = wrong_type("an array", "array");
                push(kind, text);
            }
        },
        Shape::Object(fields) => match value.as_object() {
            Some(map) => {
                for field in fields.iter() {
                    if field.required && !map.contains_key(field.name) {
                        out.push(PolicyViolation {
                            path: join_path(path, field.name),
                            kind: ViolationKind::Missing,
                            schema_text: format!(
                                "{} is a required property",
                                Value::from(field.name)
                            ),
                            pointer: pointer.clone(),
                        });
                    }
                }
                // One schema error names every unexpected key of the object.
                let unexpected: Vec<&String> = map
                    .keys()
                    .filter(|key| !fields.iter().any(|field| field.name == key.as_str()))
                    .collect();
                let listed: Vec<String> = unexpected.iter().map(|key| format!("'{key}'")).collect();
                let unexpected_text = format!(
                    "Additional properties are not allowed ({} {} unexpected)",
                    listed.join(", "),
                    if unexpected.len() == 1 { "was" } else { "were" }
                );
                for (key, child) in map {
                    match fields.iter().find(|field| field.name == key) {
                        Some(field) => check_shape(child, &field.shape, &join_path(path, key), out),
                        None => out.push(PolicyViolation {
                            path: join_path(path, key),
                            kind: ViolationKind::Unexpected,
                            schema_text: unexpected_text.clone(),
                            pointer: pointer.clone(),
                        }),
                    }
                }
            }
            None => {
                let (kind, text) = wrong_type("an object", "object");
                push(kind, text);
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(name: &str) -> Value {
        serde_json::from_str(crate::templates::template_json(name).unwrap()).unwrap()
    }

    #[test]
    fn every_template_validates_and_loads() {
        for name in crate::templates::TEMPLATE_NAMES {
            let value = template(name);
            assert_eq!(validate_value(&value), Vec::new(), "{name}");
            let policy = parse_policy(crate::templates::template_json(name).unwrap().as_bytes())
                .unwrap_or_else(|err| panic!("{name}: {err}"));
            assert_eq!(policy.policy_id, format!("sandbox.{name}.base"));
        }
    }

    #[test]
    fn cpu_ms_zero_is_rejected_on_load_and_by_the_schema() {
        let mut value = template("cli");
        value["limits"]["cpu_ms"] = 0.into();
        let err = parse_policy(value.to_string().as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid policy: policy.limits.cpu_ms must be 1..600000 (got 0)"
        );
        let violations = validate_value(&value);
        assert_eq!(violations.len(), 1);
        assert_eq!(
            violations[0].to_string(),
            "limits.cpu_ms must be 1..600000 (got 0)"
        );
    }

    #[test]
    fn wrong_schema_version_message() {
        let mut value = template("cli");
        value["schema_version"] = "x07.run-os-policy@9.9.9".into();
        let err = parse_policy(value.to_string().as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), "invalid policy: policy.schema_version mismatch: expected x07.run-os-policy@0.1.0 got \"x07.run-os-policy@9.9.9\"");
    }

    #[test]
    fn extra_key_loads_but_fails_the_schema() {
        let mut value = template("cli");
        value["extra_key"] = true.into();
        assert!(parse_policy(value.to_string().as_bytes()).is_ok());
        let violations = validate_value(&value);
        assert_eq!(violations.len(), 1);
        assert_eq!(
            violations[0].schema_message(),
            "Additional properties are not allowed ('extra_key' was unexpected) ()"
        );
    }

    #[test]
    fn missing_section_is_a_parse_error_and_a_required_property() {
        let mut value = template("cli");
        value.as_object_mut().unwrap().shift_remove("env");
        let err = parse_policy(value.to_string().as_bytes()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("parse policy JSON:  missing field `env`"),
            "{err}"
        );
        let violations = validate_value(&value);
        assert_eq!(
            violations[0].schema_message(),
            "\"env\" is a required property ()"
        );
    }

    #[test]
    fn nested_paths_are_named() {
        let mut value = template("http-client");
        value["net"]["allow_hosts"] = serde_json::json!([{"host": "a b", "ports": [0]}]);
        let messages: Vec<String> = validate_value(&value)
            .iter()
            .map(|v| v.to_string())
            .collect();
        assert_eq!(
            messages,
            vec![
                "net.allow_hosts[0].host must match ^[^;\\s]+$".to_string(),
                "net.allow_hosts[0].ports[0] must be 1..65535 (got 0)".to_string(),
            ]
        );
    }

    #[test]
    fn semicolons_in_list_entries_are_refused_on_load() {
        let cases: [(&str, &str, Value); 6] = [
            ("fs", "read_roots", serde_json::json!([".", "a;/"])),
            ("fs", "write_roots", serde_json::json!(["out;/tmp"])),
            ("env", "allow_keys", serde_json::json!(["A;B"])),
            ("env", "deny_keys", serde_json::json!(["A;B"])),
            (
                "process",
                "allow_execs",
                serde_json::json!(["/bin/echo;/bin/sh"]),
            ),
            ("process", "allow_cwd_roots", serde_json::json!(["out;/"])),
        ];
        for (section, key, list) in cases {
            let mut value = template("worker-parallel");
            value[section][key] = list;
            if key == "allow_cwd_roots" {
                value["process"]["allow_cwd"] = true.into();
            }
            let err = parse_policy(value.to_string().as_bytes())
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("invalid policy: policy.{section}.{key}["))
                    && err.contains("must not contain ';'"),
                "{err}"
            );
        }
        let mut value = template("http-client");
        value["net"]["allow_hosts"] = serde_json::json!([{"host": "a;b", "ports": [443]}]);
        assert_eq!(
            parse_policy(value.to_string().as_bytes())
                .unwrap_err()
                .to_string(),
            "invalid policy: policy.net.allow_hosts[0].host must match ^[^;\\s]+$ (got \"a;b\")"
        );
    }

    #[test]
    fn process_rules_on_load() {
        let mut value = template("worker-parallel");
        value["process"]["max_runtime_ms"] = 0.into();
        assert_eq!(
            parse_policy(value.to_string().as_bytes()).unwrap_err().to_string(),
            "invalid policy: policy.process.max_runtime_ms must be 1..600000 when process.allow_spawn is true (got 0)"
        );
        let mut value = template("worker-parallel");
        value["process"]["allow_cwd"] = true.into();
        assert_eq!(
            parse_policy(value.to_string().as_bytes()).unwrap_err().to_string(),
            "invalid policy: policy.process.allow_cwd_roots must not be empty when process.allow_cwd is true"
        );
        value["process"]["allow_cwd_roots"] = serde_json::json!(["out"]);
        assert!(parse_policy(value.to_string().as_bytes()).is_ok());
    }

    #[test]
    fn policy_ids() {
        assert!(is_valid_policy_id("sandbox.cli.base"));
        assert!(!is_valid_policy_id("bad id!"));
        assert!(!is_valid_policy_id(""));
    }
}
