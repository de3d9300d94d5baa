//! The lab every attack runs in, the compact program forms, and the checks every attack
//! gets for free.
//!
//! A [`Lab`] is a temporary directory with a project (the run's directory: `data.txt`,
//! `sub/nested.txt`, `.hidden.txt`, `out/`) and, next to it, `outside/`, where the
//! canaries live. [`Lab::run`] runs a program through the real `x07-lite` binary under
//! the lab's policy and then, before handing the result back, asserts that
//! * no canary was read: no canary text (raw, or hex-encoded) appears in the CLI's
//!   stdout or stderr, in any decoded base64 field of the report, or in any file of the
//!   project;
//! * no canary was written: every canary file has its content, size, inode and mtime,
//!   and `outside/` has exactly the entries it had before;
//! * the report validates against the report schema.
//!
//! Programs are x07AST JSON built from small forms ([`read_input`], [`write_input`],
//! [`run_capture_input`] ...), so an attack reads as the few lines that matter.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::harness::{runner_report, schema_errors};

// ------------------------------------------------------------------------------------
// Programs

/// An entry module around a `solve` expression.
pub fn entry(solve: Value) -> String {
    json!({
        "schema_version": "x07.x07ast@0.8.0",
        "kind": "entry",
        "module_id": "main",
        "imports": [],
        "decls": [],
        "solve": solve,
    })
    .to_string()
}

/// The whole input as bytes.
pub fn input() -> Value {
    json!(["view.to_bytes", "input"])
}

/// A literal.
pub fn lit(text: &str) -> Value {
    json!(["bytes.lit", text])
}

/// `n` zero bytes.
pub fn zeros(n: u32) -> Value {
    json!([
        "vec_u8.into_bytes",
        ["vec_u8.extend_zeroes", ["vec_u8.with_capacity", 0], n]
    ])
}

/// An i32 as decimal text.
pub fn dec(value: Value) -> Value {
    json!(["fmt.s32_to_dec", value])
}

/// Reads the file named by the input.
pub fn read_input() -> Value {
    json!(["os.fs.read_file", input()])
}

/// Writes `data` to the file named by the input; the output is the errno as text.
pub fn write_input(data: Value) -> Value {
    dec(json!(["os.fs.write_file", input(), data]))
}

/// The process request of the input (after the 17 bytes of caps).
pub fn req_from_input() -> Value {
    json!([
        "view.to_bytes",
        ["view.slice", "input", 17, ["-", ["view.len", "input"], 17]]
    ])
}

/// The caps of the input (its first 17 bytes).
pub fn caps_from_input() -> Value {
    json!(["view.to_bytes", ["view.slice", "input", 0, 17]])
}

/// `run_capture_v1` of the request in the input; the output is the result document.
pub fn run_capture_input() -> Value {
    json!([
        "os.process.run_capture_v1",
        req_from_input(),
        caps_from_input()
    ])
}

/// `spawn_capture_v1` of the request in the input, bound to `h`, then `then`.
pub fn spawn_then(then: Value) -> Value {
    json!([
        "begin",
        [
            "let",
            "h",
            [
                "os.process.spawn_capture_v1",
                req_from_input(),
                caps_from_input()
            ]
        ],
        then
    ])
}

/// A loop that never ends (the limits end it). Each iteration fills a 1 MiB buffer for
/// a few fuel units, so the default fuel (50,000,000 units) lasts minutes and the wall-clock
/// or CPU limit under test ends the run, not `fuel exhausted`.
pub fn forever() -> Value {
    json!([
        "begin",
        ["let", "v", ["vec_u8.with_capacity", 0]],
        [
            "while",
            1,
            [
                "set",
                "v",
                ["vec_u8.clear", ["vec_u8.extend_zeroes", "v", 1048576]]
            ]
        ],
        lit("never")
    ])
}

pub use crate::proc_req::req;

/// `ProcCapsV1` (17 bytes).
pub fn caps(stdout: u32, stderr: u32, timeout_ms: u32, total: u32) -> Vec<u8> {
    let mut out = vec![1];
    for value in [stdout, stderr, timeout_ms, total] {
        out.extend_from_slice(&value.to_le_bytes());
    }
    out
}

/// Caps + request: the input of [`run_capture_input`] / [`spawn_then`].
pub fn proc_input(argv: &[&str], env: &[(&str, &str)], cwd: &str) -> Vec<u8> {
    let mut out = caps(1 << 20, 1 << 20, 10_000, 0);
    out.extend(req(argv, env, cwd, ""));
    out
}

/// A result document as `OK exit=N out=.. err=..` or `ERR n`.
pub fn render_doc(doc: &[u8]) -> String {
    let u32_at = |at: usize| u32::from_le_bytes([doc[at], doc[at + 1], doc[at + 2], doc[at + 3]]);
    match doc {
        [1, 1, ..] if doc.len() >= 14 => {
            let out_len = u32_at(10) as usize;
            let err_len = u32_at(14 + out_len) as usize;
            format!(
                "OK exit={} out={:?} err={:?}",
                u32_at(2) as i32,
                String::from_utf8_lossy(&doc[14..14 + out_len]),
                String::from_utf8_lossy(&doc[18 + out_len..18 + out_len + err_len])
            )
        }
        [0, ..] if doc.len() == 9 => format!("ERR {}", u32_at(1)),
        _ => format!("BAD {doc:?}"),
    }
}

// ------------------------------------------------------------------------------------
// The lab

/// The runner under attack: this crate's `x07-lite`, or the binary named by
/// `X07_LITE_ESCAPE_RUNNER` (to measure another build of it against the same attacks).
pub fn runner_binary() -> PathBuf {
    std::env::var_os("X07_LITE_ESCAPE_RUNNER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_x07-lite")))
}

/// A unique marker (for canaries and for processes the attacks leave behind).
pub fn unique(tag: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{tag}-{}-{n}-{nanos:x}", std::process::id())
}

/// A number `sleep` accepts that no other process on the machine uses (`4000.123456`).
pub fn sleep_marker() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(1);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}.{:03}{:06}", 4000 + n, n, std::process::id() % 1_000_000)
}

#[derive(Debug, Clone, PartialEq)]
struct FileState {
    content: Vec<u8>,
    inode: u64,
    mtime_ns: i128,
}

fn state_of(path: &Path) -> Option<FileState> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    Some(FileState {
        content: std::fs::read(path).unwrap_or_default(),
        inode: meta.ino(),
        mtime_ns: meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
    })
}

fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            out.push(path.strip_prefix(dir).unwrap().display().to_string());
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The project, the canaries outside it, the policy, and the runs.
pub struct Lab {
    _temp: tempfile::TempDir,
    /// The lab's directory.
    pub top: PathBuf,
    /// The run's directory (read root `.`, write root `out`).
    pub project: PathBuf,
    /// Where canaries live (outside every root).
    pub outside: PathBuf,
    /// The policy of the next run.
    pub policy: Value,
    canaries: BTreeMap<PathBuf, FileState>,
    secrets: Vec<String>,
    env: Vec<(String, String)>,
    outside_listing: Vec<String>,
}

/// The policy every lab starts with: fs read `.`, write `out`, hidden files denied,
/// symlinks not allowed; env and processes off; time on; generous limits.
pub fn base_policy() -> Value {
    json!({
        "schema_version": "x07.run-os-policy@0.1.0",
        "policy_id": "escape.base",
        "limits": {"cpu_ms": 10000, "wall_ms": 20000, "mem_bytes": 1073741824, "fds": 64, "procs": 16},
        "fs": {"enabled": true, "read_roots": ["."], "write_roots": ["out"], "deny_hidden": true, "allow_symlinks": false},
        "net": {"enabled": false, "allow_dns": false, "allow_tcp": false, "allow_udp": false, "allow_hosts": []},
        "env": {"enabled": false, "allow_keys": [], "deny_keys": []},
        "time": {"enabled": true, "allow_monotonic": true, "allow_wall_clock": true, "allow_sleep": true, "max_sleep_ms": 1000, "allow_local_tzid": false},
        "process": {"enabled": false, "allow_spawn": false, "max_live": 0, "max_spawns": 0, "allow_exec": false, "allow_exit": true}
    })
}

/// Turns processes on in `policy`, allowing `execs`.
pub fn allow_processes(policy: &mut Value, execs: &[&str]) {
    policy["process"] = json!({
        "enabled": true, "allow_spawn": true, "max_live": 8, "max_spawns": 16,
        "allow_exec": true, "allow_exit": true, "allow_execs": execs,
        "max_runtime_ms": 10000
    });
}

impl Default for Lab {
    fn default() -> Self {
        Self::new()
    }
}

impl Lab {
    /// A fresh lab.
    pub fn new() -> Lab {
        let temp = tempfile::tempdir().unwrap();
        let top = temp.path().canonicalize().unwrap();
        let project = top.join("project");
        let outside = top.join("outside");
        for dir in [project.join("sub"), project.join("out"), outside.clone()] {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(project.join("data.txt"), "DATA").unwrap();
        std::fs::write(project.join("sub/nested.txt"), "NESTED").unwrap();
        let mut lab = Lab {
            _temp: temp,
            top,
            project,
            outside,
            policy: base_policy(),
            canaries: BTreeMap::new(),
            secrets: Vec::new(),
            env: Vec::new(),
            outside_listing: Vec::new(),
        };
        // A hidden file inside the root is a canary too: deny_hidden must hold.
        let hidden = lab.project.join(".hidden.txt");
        let text = unique("CANARY-HIDDEN");
        std::fs::write(&hidden, &text).unwrap();
        lab.secrets.push(text);
        lab.canaries
            .insert(hidden.clone(), state_of(&hidden).unwrap());
        lab.snapshot_outside();
        lab
    }

    fn snapshot_outside(&mut self) {
        self.outside_listing = listing(&self.outside);
    }

    /// Creates the canary file `outside/<rel>` with unique content; its path.
    pub fn canary(&mut self, rel: &str) -> PathBuf {
        let path = self.outside.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text = unique("CANARY");
        std::fs::write(&path, &text).unwrap();
        self.secrets.push(text);
        self.canaries.insert(path.clone(), state_of(&path).unwrap());
        self.snapshot_outside();
        path
    }

    /// Registers a file (anywhere) whose content must never show and which must not
    /// change (e.g. a big file inside a root that is over a cap).
    pub fn guard_file(&mut self, path: &Path, secret: &str) {
        self.secrets.push(secret.to_string());
        self.canaries
            .insert(path.to_path_buf(), state_of(path).unwrap());
        self.snapshot_outside();
    }

    /// Sets an environment variable of the runner whose value must never show.
    pub fn secret_env(&mut self, key: &str) -> String {
        let value = unique("CANARY-ENV");
        self.env.push((key.to_string(), value.clone()));
        self.secrets.push(value.clone());
        value
    }

    /// A file in the project.
    pub fn file(&self, rel: &str, content: &[u8]) -> PathBuf {
        let path = self.project.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }

    /// A symlink in the project (`rel` → `target`, taken as written).
    pub fn symlink(&self, rel: &str, target: impl AsRef<Path>) {
        let path = self.project.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, path).unwrap();
    }

    /// A hard link in the project to `target`.
    pub fn hard_link(&mut self, rel: &str, target: &Path) {
        std::fs::hard_link(target, self.project.join(rel)).unwrap();
        // The link count of the canary changed on purpose; its content must not.
        if let Some(state) = state_of(target) {
            self.canaries.insert(target.to_path_buf(), state);
        }
    }

    /// A FIFO in the project.
    pub fn fifo(&self, rel: &str) {
        rustix::fs::mknodat(
            rustix::fs::CWD,
            self.project.join(rel),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o666),
            0,
        )
        .unwrap();
    }

    /// Edits the policy of the next runs.
    pub fn policy(&mut self, edit: impl FnOnce(&mut Value)) -> &mut Lab {
        edit(&mut self.policy);
        self
    }

    /// Writes the lab's policy and returns the flags of a sandboxed run under it.
    fn sandbox_args(&self) -> Vec<String> {
        let policy_path = self.top.join("policy.json");
        std::fs::write(&policy_path, self.policy.to_string()).unwrap();
        [
            "--world",
            "run-os-sandboxed",
            "--policy",
            &policy_path.display().to_string(),
            "--sandbox-backend",
            "os",
            "--i-accept-weaker-isolation",
        ]
        .map(str::to_string)
        .to_vec()
    }

    /// Runs `solve` sandboxed with `input`.
    pub fn run(&self, solve: Value, input: &[u8]) -> Run {
        self.run_with(solve, input, &[], &[])
    }

    /// Runs `solve` sandboxed with `input`, extra CLI flags and extra environment.
    pub fn run_with(
        &self,
        solve: Value,
        input: &[u8],
        flags: &[&str],
        env: &[(&str, &str)],
    ) -> Run {
        let mut args = self.sandbox_args();
        args.extend(flags.iter().map(|flag| flag.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run_raw(solve, input, &args, env)
    }

    /// Runs `solve` in `run-os` (no policy).
    pub fn run_os(&self, solve: Value, input: &[u8], env: &[(&str, &str)]) -> Run {
        self.run_raw(solve, input, &[], env)
    }

    /// Runs `solve` in `run-os` with extra CLI flags.
    pub fn run_os_with(&self, solve: Value, input: &[u8], flags: &[&str]) -> Run {
        self.run_raw(solve, input, flags, &[])
    }

    fn command(&self, solve: Value, input: &[u8], args: &[&str], env: &[(&str, &str)]) -> Command {
        std::fs::write(self.project.join("main.x07.json"), entry(solve)).unwrap();
        let input_path = self.top.join("input.bin");
        std::fs::write(&input_path, input).unwrap();
        let mut command = Command::new(runner_binary());
        command
            .args([
                "run",
                "--program",
                "main.x07.json",
                "--module-root",
                ".",
                "--repair=off",
            ])
            .arg("--input")
            .arg(&input_path)
            .args(args)
            .current_dir(&self.project)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, _) in std::env::vars() {
            if key.starts_with("X07_") {
                command.env_remove(key);
            }
        }
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command.envs(env.iter().copied());
        command
    }

    fn run_raw(&self, solve: Value, input: &[u8], args: &[&str], env: &[(&str, &str)]) -> Run {
        let started = Instant::now();
        let output = self.command(solve, input, args, env).output().unwrap();
        let run = Run::new(output, started.elapsed());
        self.check(&run);
        run
    }

    /// Runs `solve` sandboxed with `input`, the runner started through
    /// `/bin/sh -c '<prelude>; exec <runner> ...'`: the prelude shapes what the runner
    /// inherits from its caller (open descriptors, signal dispositions, limits).
    pub fn run_after_shell_prelude(&self, solve: Value, input: &[u8], prelude: &str) -> Run {
        let args = self.sandbox_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let direct = self.command(solve, input, &args, &[]);
        let mut command = Command::new("/bin/sh");
        command
            .arg("-c")
            .arg(format!("{prelude}\nexec \"$@\""))
            .arg("sh")
            .arg(direct.get_program())
            .args(direct.get_args())
            .current_dir(&self.project)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in direct.get_envs() {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        let started = Instant::now();
        let output = command.output().unwrap();
        let run = Run::new(output, started.elapsed());
        self.check(&run);
        run
    }

    /// Starts the run without waiting (for attacks that kill the runner).
    pub fn spawn(&self, solve: Value, input: &[u8]) -> std::process::Child {
        let args = self.sandbox_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut command = self.command(solve, input, &args, &[]);
        command.stdout(Stdio::null()).stderr(Stdio::null());
        command.spawn().unwrap()
    }

    /// The checks every run gets: nothing read, nothing written outside the roots.
    pub fn check(&self, run: &Run) {
        let mut haystacks: Vec<(String, Vec<u8>)> = vec![
            ("stdout".into(), run.output.stdout.clone()),
            ("stderr".into(), run.output.stderr.clone()),
        ];
        if let Some(report) = &run.report {
            collect_b64(report, "report", &mut haystacks);
            let errors = schema_errors(report);
            assert!(errors.is_empty(), "report fails the schema: {errors:?}");
        }
        // Files of the project: a program that copied a canary into a root read it.
        // Planted hard links to canaries (same inode) are the canaries themselves.
        let canary_inodes: Vec<u64> = self.canaries.values().map(|state| state.inode).collect();
        for rel in listing(&self.project) {
            let path = self.project.join(&rel);
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            // (Sparse giant files planted by limit attacks are not read back.)
            if meta.is_file() && meta.len() < (64 << 20) && !canary_inodes.contains(&meta.ino()) {
                haystacks.push((
                    format!("project file {rel}"),
                    std::fs::read(&path).unwrap_or_default(),
                ));
            }
        }
        for secret in &self.secrets {
            let hex_lower: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
            let hex_upper = hex_lower.to_uppercase();
            for (name, hay) in &haystacks {
                for needle in [secret.as_str(), hex_lower.as_str(), hex_upper.as_str()] {
                    assert!(
                        !contains(hay, needle.as_bytes()),
                        "canary {secret} leaked into {name}: {}",
                        String::from_utf8_lossy(hay)
                    );
                }
            }
        }
        for (path, before) in &self.canaries {
            assert_eq!(
                state_of(path).as_ref(),
                Some(before),
                "canary {} was changed or removed",
                path.display()
            );
        }
        assert_eq!(
            listing(&self.outside),
            self.outside_listing,
            "something was created or removed outside the roots"
        );
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

fn collect_b64(value: &Value, path: &str, out: &mut Vec<(String, Vec<u8>)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_path = format!("{path}.{key}");
                if key.ends_with("_b64") {
                    if let Some(bytes) = child.as_str().and_then(|t| B64.decode(t).ok()) {
                        out.push((child_path.clone(), bytes));
                    }
                }
                collect_b64(child, &child_path, out);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                collect_b64(child, &format!("{path}[{index}]"), out);
            }
        }
        _ => {}
    }
}

/// What a run did.
pub struct Run {
    /// The CLI's exit status and streams.
    pub output: Output,
    /// The runner report, when stdout has one.
    pub report: Option<Value>,
    /// Wall time of the whole run.
    pub elapsed: Duration,
}

impl Run {
    fn new(output: Output, elapsed: Duration) -> Run {
        let report = runner_report(&output.stdout);
        Run {
            output,
            report,
            elapsed,
        }
    }

    /// The CLI's exit code.
    pub fn rc(&self) -> Option<i32> {
        self.output.status.code()
    }

    /// The CLI's stderr.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).to_string()
    }

    fn report(&self) -> &Value {
        self.report
            .as_ref()
            .unwrap_or_else(|| panic!("no report: rc {:?}, stderr {}", self.rc(), self.stderr()))
    }

    /// `solve.trap`.
    pub fn trap(&self) -> Option<String> {
        self.report()["solve"]["trap"].as_str().map(str::to_string)
    }

    /// The decoded output.
    pub fn output(&self) -> Vec<u8> {
        self.report()["solve"]["solve_output_b64"]
            .as_str()
            .map(|text| B64.decode(text).unwrap())
            .unwrap_or_default()
    }

    /// The output as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.output()).to_string()
    }

    /// The output as a process result document.
    pub fn doc(&self) -> String {
        render_doc(&self.output())
    }

    /// `solve.exit_status`.
    pub fn exit_status(&self) -> i64 {
        self.report()["solve"]["exit_status"].as_i64().unwrap_or(-1)
    }

    /// Asserts the run trapped with a text starting with `prefix`.
    pub fn assert_trap(&self, prefix: &str) -> &Run {
        let trap = self.trap();
        assert!(
            trap.as_deref().is_some_and(|t| t.starts_with(prefix)),
            "expected a trap starting with {prefix:?}, got {trap:?} (output {:?})",
            self.text()
        );
        assert_eq!(self.report()["solve"]["ok"], false);
        self
    }

    /// Asserts the run succeeded with `expected` as output.
    pub fn assert_output(&self, expected: &[u8]) -> &Run {
        assert_eq!(self.trap(), None, "unexpected trap");
        assert_eq!(
            String::from_utf8_lossy(&self.output()),
            String::from_utf8_lossy(expected)
        );
        self
    }

    /// Asserts a usage error: rc 2, no report, `message` in stderr.
    pub fn assert_usage_error(&self, message: &str) -> &Run {
        assert_eq!(self.rc(), Some(2), "stderr: {}", self.stderr());
        assert!(self.output.stdout.is_empty());
        assert!(
            self.stderr().contains(message),
            "stderr {:?} lacks {message:?}",
            self.stderr()
        );
        self
    }

    /// Whether the solver reported that Landlock is missing (then the checks alone hold
    /// and attacks that only Landlock can stop are skipped).
    pub fn landlock_missing(&self) -> bool {
        self.stderr().contains("Landlock is not available")
    }
}

// ------------------------------------------------------------------------------------
// Processes left behind

/// Whether a process whose command line holds `marker` is running. Every thread is
/// looked at, not only the thread-group leader: a process whose main thread has left
/// (`Z` in its own `stat`, empty `cmdline`) lives on in its other threads.
pub fn running_with(marker: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|entry| {
        let Ok(tasks) = std::fs::read_dir(entry.path().join("task")) else {
            return false;
        };
        tasks.flatten().any(|task| {
            let Ok(cmd) = std::fs::read(task.path().join("cmdline")) else {
                return false;
            };
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if !cmd.contains(marker) {
                return false;
            }
            // Zombies have an empty cmdline already; check the state to be sure.
            std::fs::read_to_string(task.path().join("stat"))
                .ok()
                .and_then(|stat| {
                    stat.rsplit_once(')')
                        .map(|(_, rest)| rest.trim_start().starts_with('Z'))
                })
                .is_some_and(|zombie| !zombie)
        })
    })
}

/// A thread that repeats one step until it is dropped: the other side of a race against
/// the runner (files swapped while the program reads or writes them).
pub struct Repeating {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Repeating {
    /// Starts repeating `step` on its own thread.
    pub fn start(mut step: impl FnMut() + Send + 'static) -> Repeating {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                step();
            }
        });
        Repeating {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Repeating {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Whether a process holding `marker` is still there after a short grace for SIGKILLed
/// processes to disappear.
pub fn survives(marker: &str) -> bool {
    let started = Instant::now();
    while running_with(marker) && started.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(20));
    }
    running_with(marker)
}

/// Asserts that no process holding `marker` survives (after a short grace for SIGKILLed
/// processes to disappear).
pub fn assert_no_survivor(marker: &str) {
    assert!(
        !survives(marker),
        "a process with {marker} outlived the run"
    );
}

/// Kills leftovers of a failed attack so they do not disturb other tests (any process
/// one of whose threads has `marker` in its command line).
pub fn kill_marker(marker: &str) {
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(tasks) = std::fs::read_dir(entry.path().join("task")) else {
            continue;
        };
        let marked = tasks.flatten().any(|task| {
            std::fs::read(task.path().join("cmdline"))
                .is_ok_and(|cmd| String::from_utf8_lossy(&cmd).contains(marker))
        });
        if marked {
            if let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|p| p.parse::<i32>().ok())
                .and_then(rustix::process::Pid::from_raw)
            {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
    }
}

/// Kernel version (major, minor).
pub fn kernel_version() -> (u32, u32) {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse::<u32>().ok());
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}
