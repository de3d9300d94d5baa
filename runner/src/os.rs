//! The OS world behind [`Host`]: `run-os` (no policy) and `run-os-sandboxed` (every call
//! goes through the policy gate first; a denied call never touches the OS).
//!
//! Which denials trap and with which text, which return error values, how paths are
//! re-rooted, and the process request / caps / result documents follow
//! `observed-behaviour.md` §4 and `subset.md` §10–11. The sandbox's mechanisms (path
//! resolution, exec/cwd/argument rules, the process tree) live in [`crate::sandbox`];
//! where they are stricter than x07 0.2.17 the runner README says so, with the reason.
//!
//! Trap texts that carry a path show it escaped ([`crate::sandbox::text::shown`]), so a
//! program cannot add lines to the report through a file name.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::host::{Host, HostResult, Interrupt};
use crate::policy::Policy;
use crate::sandbox::exec::{check_cwd, check_exec, ArgsRule, ExecDecision};
use crate::sandbox::path::{read_regular, write_regular, Denial, Failure, Resolver};
use crate::sandbox::text::shown;
use crate::sandbox::{tree, Roots};

/// Process error codes of the result document (`std.os.process.code_*`).
mod code {
    pub const POLICY_DENIED: u32 = 1;
    pub const INVALID_REQUEST: u32 = 2;
    pub const SPAWN_FAILED: u32 = 3;
    pub const TIMEOUT: u32 = 4;
    pub const OUTPUT_LIMIT: u32 = 5;
}

/// The document `now_instant_v1` / `local_tzid_v1` return when the policy denies them.
const TIME_DENIED_DOC: [u8; 9] = [0, 0x2c, 0x01, 0, 0, 0, 0, 0, 0];

/// `errno` values `os.fs.write_file` returns without touching the OS.
const EACCES: i32 = 13;
const EISDIR: i32 = 21;

fn trap<T>(text: impl Into<String>) -> HostResult<T> {
    Err(Interrupt::Trap(text.into()))
}

/// The sandbox state of a `run-os-sandboxed` host: the policy and its opened roots.
struct Sandbox {
    policy: Policy,
    roots: Roots,
    resolver: Resolver,
    args: ArgsRule,
    /// The run's directory (relative executables and roots are taken from here).
    cwd: PathBuf,
}

/// The OS world: `run-os` when there is no policy, `run-os-sandboxed` otherwise.
pub struct OsHost {
    sandbox: Option<Sandbox>,
    processes: ProcessTable,
    /// The interpreter's heap limit: no file larger than this is read into memory.
    heap_limit: u64,
}

impl OsHost {
    /// The unrestricted `run-os` world.
    pub fn run_os() -> OsHost {
        OsHost {
            sandbox: None,
            processes: ProcessTable::default(),
            heap_limit: u64::MAX,
        }
    }

    /// The `run-os-sandboxed` world under `policy`, for a run in the current directory
    /// (the policy's roots are opened now).
    pub fn sandboxed(policy: Policy) -> OsHost {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let roots = Roots::open(&policy, &cwd);
        let resolver = Resolver::new(roots.rules);
        let args = ArgsRule::compile(&policy.process.allow_args_regex_lite);
        OsHost {
            sandbox: Some(Sandbox {
                policy,
                roots,
                resolver,
                args,
                cwd,
            }),
            processes: ProcessTable::default(),
            heap_limit: u64::MAX,
        }
    }

    /// The same host with the interpreter's heap limit: a file read larger than it traps
    /// `out of memory` before it is read.
    pub fn with_heap_limit(mut self, bytes: u64) -> OsHost {
        self.heap_limit = bytes;
        self
    }

    /// Whether a policy is enforced.
    pub fn is_sandboxed(&self) -> bool {
        self.sandbox.is_some()
    }

    /// The policy and opened roots of a sandboxed host (Landlock is built from them).
    pub fn policy_and_roots(&self) -> Option<(&Policy, &Roots)> {
        self.sandbox
            .as_ref()
            .map(|sandbox| (&sandbox.policy, &sandbox.roots))
    }

    fn policy(&self) -> Option<&Policy> {
        self.sandbox.as_ref().map(|sandbox| &sandbox.policy)
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The sandbox's path rule: relative, no empty / `.` / `..` / `.x07_*` segments, no `\`.
fn is_unsafe_path(path: &[u8]) -> bool {
    if path.is_empty() || path[0] == b'/' || path.contains(&b'\\') {
        return true;
    }
    path.split(|&b| b == b'/').any(|segment| {
        segment.is_empty() || segment == b"." || segment == b".." || segment.starts_with(b".x07_")
    })
}

fn is_hidden_path(path: &[u8]) -> bool {
    path.split(|&b| b == b'/')
        .any(|segment| segment.starts_with(b"."))
}

fn components(path: &[u8]) -> Vec<Vec<u8>> {
    path.split(|&b| b == b'/')
        .filter(|part| !part.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// `run-os`: reads `path` as the OS resolves it, at most `limit` bytes.
fn read_file_unconfined(path: &[u8], limit: u64) -> Result<Vec<u8>, &'static str> {
    let os_path = Path::new(OsStr::from_bytes(path));
    let file = std::fs::File::open(os_path).map_err(|_| "open failed")?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err("file too large");
    }
    let mut data = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|_| "short read")?;
    if data.len() as u64 > limit {
        return Err("out of memory");
    }
    Ok(data)
}

/// The trap text of a failed `run-os` read: only `open failed` names the path (subset.md
/// §10.1: a directory gives `os.fs.read_file file too large`).
fn read_failure(why: &str, path: &[u8]) -> String {
    match why {
        "open failed" => format!("os.fs.read_file open failed path={}", shown(path)),
        "out of memory" => why.to_string(),
        _ => format!("os.fs.read_file {why}"),
    }
}

/// `run-os`: creates or truncates `path` as the OS resolves it.
fn write_file_unconfined(path: &[u8], data: &[u8]) -> i32 {
    let os_path = Path::new(OsStr::from_bytes(path));
    match std::fs::File::create(os_path).and_then(|mut file| file.write_all(data)) {
        Ok(()) => 0,
        Err(err) => err.raw_os_error().unwrap_or(5),
    }
}

/// The heap use of a sandboxed path joined to its root (`./data.txt`): a
/// NUL-terminated copy of the root and the path with the separator between them
/// (see [`crate::value::note_c_string`]).
fn note_joined_path(shown_path: &[u8]) {
    crate::value::note_c_string(shown_path.len(), shown_path.len().saturating_sub(1));
}

/// The trap text of a sandbox denial of builtin `op` (`os.fs.read_file`) on `shown_path`.
fn denial_text(op: &str, denial: Denial, shown_path: &[u8]) -> String {
    let path = shown(shown_path);
    match denial {
        Denial::Symlink => format!("{op} symlink denied path={path}"),
        Denial::Hidden => format!("{op} hidden path denied"),
        Denial::Unsafe => format!("{op} unsafe path"),
        Denial::NotRegular => format!("{op} not a regular file path={path}"),
        Denial::HardLink => format!("{op} hard link denied path={path}"),
    }
}

impl Sandbox {
    /// `os.fs.read_file` under the policy (path already checked: safe, not hidden).
    fn read_file(&self, path: &[u8], heap_limit: u64) -> HostResult<Vec<u8>> {
        let policy_cap = self.policy.fs.max_read_bytes;
        let limit = policy_cap.unwrap_or(u64::MAX).min(heap_limit);
        let mut first_failure: Option<(Vec<u8>, &'static str)> = None;
        for (index, root) in self.roots.read.iter().enumerate() {
            let shown_path = root.shown(path);
            note_joined_path(&shown_path);
            let result = self
                .resolver
                .locate(&self.roots.read, index, components(root.relative(path)))
                .and_then(|located| read_regular(&located, limit));
            let why = match result {
                Ok(data) => return Ok(data),
                Err(Failure::Os(_)) => "open failed",
                Err(Failure::Directory) => "file too large",
                Err(Failure::Denied(denial)) => {
                    return trap(denial_text("os.fs.read_file", denial, &shown_path))
                }
                Err(Failure::TooLarge(size)) => {
                    return match policy_cap {
                        Some(cap) if size > cap => trap(format!(
                            "os.fs.read_file file too large (max_read_bytes={cap})"
                        )),
                        _ => trap("out of memory"),
                    }
                }
            };
            if first_failure.is_none() {
                first_failure = Some((shown_path, why));
            }
        }
        let (shown_path, why) = first_failure.unwrap_or((path.to_vec(), "open failed"));
        trap(read_failure(why, &shown_path))
    }

    /// `os.fs.write_file` under the policy (path already checked: safe, not hidden).
    fn write_file(&self, path: &[u8], data: &[u8]) -> HostResult<i32> {
        if let Some(cap) = self.policy.fs.max_write_bytes {
            if data.len() as u64 > cap {
                return trap(format!(
                    "os.fs.write_file file too large (max_write_bytes={cap})"
                ));
            }
        }
        let roots = &self.roots.write;
        let prefixed = roots.iter().position(|root| {
            let written = root.written().trim_end_matches('/');
            !written.is_empty()
                && path.len() > written.len() + 1
                && path.starts_with(written.as_bytes())
                && path[written.len()] == b'/'
        });
        let Some(index) = prefixed.or(if roots.is_empty() { None } else { Some(0) }) else {
            // No write root at all: nothing may be written (EACCES), the OS is not touched.
            return Ok(EACCES);
        };
        let root = &roots[index];
        let shown_path = root.shown(path);
        note_joined_path(&shown_path);
        let result = self
            .resolver
            .locate(roots, index, components(root.relative(path)))
            .and_then(|located| write_regular(&located, data));
        match result {
            Ok(()) => Ok(0),
            Err(Failure::Os(errno)) => Ok(errno),
            Err(Failure::Directory) => Ok(EISDIR),
            Err(Failure::Denied(denial)) => {
                trap(denial_text("os.fs.write_file", denial, &shown_path))
            }
            Err(Failure::TooLarge(_)) => Ok(EACCES),
        }
    }
}

impl Host for OsHost {
    fn fs_read_file(&mut self, path: &[u8]) -> HostResult<Vec<u8>> {
        if let Some(policy) = self.policy() {
            if !policy.fs.enabled {
                return trap("os.fs disabled by policy");
            }
        }
        if path.contains(&0) {
            return trap("os.fs.read_file path contains NUL");
        }
        let Some(sandbox) = &self.sandbox else {
            crate::value::note_c_string(path.len(), path.len());
            return match read_file_unconfined(path, self.heap_limit) {
                Ok(data) => Ok(data),
                Err(why) => trap(read_failure(why, path)),
            };
        };
        if is_unsafe_path(path) {
            return trap("os.fs.read_file unsafe path");
        }
        if sandbox.policy.fs.deny_hidden && is_hidden_path(path) {
            return trap("os.fs.read_file hidden path denied");
        }
        sandbox.read_file(path, self.heap_limit)
    }

    fn fs_write_file(&mut self, path: &[u8], data: &[u8]) -> HostResult<i32> {
        if let Some(policy) = self.policy() {
            if !policy.fs.enabled {
                return trap("os.fs disabled by policy");
            }
        }
        if path.contains(&0) {
            return trap("os.fs.write_file path contains NUL");
        }
        let Some(sandbox) = &self.sandbox else {
            crate::value::note_c_string(path.len(), path.len());
            return Ok(write_file_unconfined(path, data));
        };
        if is_unsafe_path(path) {
            return trap("os.fs.write_file unsafe path");
        }
        if sandbox.policy.fs.deny_hidden && is_hidden_path(path) {
            return trap("os.fs.write_file hidden path denied");
        }
        sandbox.write_file(path, data)
    }

    fn env_get(&mut self, key: &[u8]) -> HostResult<Vec<u8>> {
        if let Some(policy) = self.policy() {
            if !policy.env.enabled {
                return trap("os.env disabled by policy");
            }
        }
        if key.contains(&0) {
            return trap("os.env.get key contains NUL");
        }
        if let Some(policy) = self.policy() {
            let key_text = lossy(key);
            if policy.env.deny_keys.contains(&key_text) {
                return trap("os.env.get key denied");
            }
            if !policy.env.allow_keys.contains(&key_text) {
                return trap("os.env.get key not allowed");
            }
        }
        crate::value::note_c_string(key.len(), key.len());
        if key.is_empty() || key.contains(&b'=') {
            return Ok(Vec::new());
        }
        let value = std::env::var_os(OsStr::from_bytes(key))
            .map(|value| value.as_bytes().to_vec())
            .unwrap_or_default();
        // The value is copied out of the environment (recorded: `os/env_probe` with the
        // variable set copies its 3 bytes more than with it unset).
        crate::value::note_memcpy(value.len());
        Ok(value)
    }

    fn time_now_unix_ms(&mut self) -> HostResult<i32> {
        if let Some(policy) = self.policy() {
            if !policy.time.enabled {
                return trap("os.time disabled by policy");
            }
            if !policy.time.allow_wall_clock {
                return trap("os.time.now_unix_ms disabled by policy");
            }
        }
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        Ok(millis as u32 as i32)
    }

    fn time_now_instant_v1(&mut self) -> HostResult<Vec<u8>> {
        if let Some(policy) = self.policy() {
            if !policy.time.enabled || !policy.time.allow_wall_clock {
                return Ok(TIME_DENIED_DOC.to_vec());
            }
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let secs = now.as_secs();
        let mut doc = vec![1, 1];
        doc.extend_from_slice(&(secs as u32).to_le_bytes());
        doc.extend_from_slice(&((secs >> 32) as u32).to_le_bytes());
        doc.extend_from_slice(&now.subsec_nanos().to_le_bytes());
        Ok(doc)
    }

    fn time_sleep_ms_v1(&mut self, ms: i32) -> HostResult<i32> {
        if ms < 0 {
            return Ok(0);
        }
        if let Some(policy) = self.policy() {
            let time = &policy.time;
            if !time.enabled || !time.allow_sleep || ms as u64 > time.max_sleep_ms {
                return Ok(0);
            }
        }
        thread::sleep(Duration::from_millis(ms as u64));
        Ok(1)
    }

    fn time_local_tzid_v1(&mut self) -> HostResult<Vec<u8>> {
        if let Some(policy) = self.policy() {
            if !policy.time.enabled || !policy.time.allow_local_tzid {
                return Ok(TIME_DENIED_DOC.to_vec());
            }
        }
        Ok(vec![1, 1, 0, 0, 0, 0])
    }

    fn process_exit(&mut self, code: i32) -> Interrupt {
        if let Some(policy) = self.policy() {
            // `process.enabled` is the master switch of the whole section, exit included.
            if !policy.process.enabled || !policy.process.allow_exit {
                return Interrupt::Trap("os.process.exit disabled by policy".into());
            }
        }
        Interrupt::Exit(code)
    }

    fn process_run_capture_v1(&mut self, req: &[u8], caps: &[u8]) -> HostResult<Vec<u8>> {
        let handle = self.spawn(req, caps, Mode::Capture, "os.process.spawn_capture_v1")?;
        let doc = self.processes.join_capture(handle)?;
        self.processes.drop_handle(handle)?;
        Ok(doc)
    }

    fn process_spawn_capture_v1(&mut self, req: &[u8], caps: &[u8]) -> HostResult<i32> {
        self.spawn(req, caps, Mode::Capture, "os.process.spawn_capture_v1")
    }

    fn process_spawn_piped_v1(&mut self, req: &[u8], caps: &[u8]) -> HostResult<i32> {
        self.spawn(req, caps, Mode::Piped, "os.process.spawn_piped_v1")
    }

    fn process_try_join_capture_v1(&mut self, handle: i32) -> HostResult<Option<Vec<u8>>> {
        let entry = self.processes.entry(handle)?;
        if entry.mode != Mode::Capture {
            return trap("os.process.try_join_capture_v1 invalid proc mode");
        }
        if entry.doc_taken {
            return trap("os.process join already taken");
        }
        if !entry.is_done() {
            return Ok(None);
        }
        entry.doc_taken = true;
        Ok(Some(entry.result_doc()))
    }

    fn process_join_capture_v1(&mut self, handle: i32) -> HostResult<Vec<u8>> {
        self.processes.join_capture(handle)
    }

    fn process_join_exit_v1(&mut self, handle: i32) -> HostResult<i32> {
        let entry = self.processes.entry(handle)?;
        entry.wait_done();
        Ok(1)
    }

    fn process_try_wait_v1(&mut self, handle: i32) -> HostResult<i32> {
        let entry = self.processes.entry(handle)?;
        Ok(entry.is_done() as i32)
    }

    fn process_take_exit_v1(&mut self, handle: i32) -> HostResult<i32> {
        let entry = self.processes.entry(handle)?;
        let Some(outcome) = entry.outcome() else {
            return trap("os.process.take_exit_v1 before exit");
        };
        if entry.exit_taken {
            return trap("os.process.take_exit_v1 already taken");
        }
        entry.exit_taken = true;
        Ok(match outcome {
            Outcome::Exited(code) => code,
            Outcome::Failed(err) => -(err as i32),
        })
    }

    fn process_stdout_read_v1(&mut self, handle: i32, max: i32) -> HostResult<Vec<u8>> {
        let entry = self.processes.entry(handle)?;
        if entry.mode != Mode::Piped {
            return trap("os.process.stdout_read_v1 invalid proc mode");
        }
        Ok(entry.drain(true, max))
    }

    fn process_stderr_read_v1(&mut self, handle: i32, max: i32) -> HostResult<Vec<u8>> {
        let entry = self.processes.entry(handle)?;
        if entry.mode != Mode::Piped {
            return trap("os.process.stderr_read_v1 invalid proc mode");
        }
        Ok(entry.drain(false, max))
    }

    fn process_stdin_write_v1(&mut self, handle: i32, chunk: &[u8]) -> HostResult<i32> {
        let entry = self.processes.entry(handle)?;
        if entry.mode != Mode::Piped {
            return trap("os.process.stdin_write_v1 invalid proc mode");
        }
        if entry.is_done() {
            return Ok(0);
        }
        match &entry.stdin {
            Some(sender) => Ok(sender.send(chunk.to_vec()).is_ok() as i32),
            None => Ok(0),
        }
    }

    fn process_stdin_close_v1(&mut self, handle: i32) -> HostResult<i32> {
        let entry = self.processes.entry(handle)?;
        if entry.mode != Mode::Piped {
            return trap("os.process.stdin_close_v1 invalid proc mode");
        }
        Ok(entry.stdin.take().is_some() as i32)
    }

    fn process_kill_v1(&mut self, handle: i32, sig: i32) -> HostResult<i32> {
        let entry = self.processes.entry(handle)?;
        Ok(match entry.signallable_pid() {
            Some(pid) => signal_group(pid, sig) as i32,
            None => 0,
        })
    }

    fn process_drop_v1(&mut self, handle: i32) -> HostResult<i32> {
        self.processes.drop_handle(handle)?;
        Ok(1)
    }

    fn net_http_request(&mut self, _req: &[u8]) -> HostResult<Vec<u8>> {
        if let Some(policy) = self.policy() {
            if !policy.net.enabled {
                return trap("os.net disabled by policy");
            }
        }
        trap("os.net.http_request not implemented")
    }
}

/// Sends `sig` to the process group led by `pid`; whether it was delivered.
fn signal_group(pid: u32, sig: i32) -> bool {
    use nix::sys::signal::{killpg, Signal};
    use nix::unistd::Pid;
    let signal = match sig {
        0 => None,
        _ => match Signal::try_from(sig) {
            Ok(signal) => Some(signal),
            Err(_) => return false,
        },
    };
    killpg(Pid::from_raw(pid as i32), signal).is_ok()
}

// ------------------------------------------------------------------------------------
// Process documents

/// A parsed `ProcReqV1`.
#[derive(Debug, Clone, PartialEq)]
struct ProcRequest {
    argv: Vec<Vec<u8>>,
    env: Vec<(Vec<u8>, Vec<u8>)>,
    cwd: Option<Vec<u8>>,
    stdin: Vec<u8>,
}

/// A parsed `ProcCapsV1`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ProcCaps {
    max_stdout: u64,
    max_stderr: u64,
    timeout_ms: u64,
    max_total: u64,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Option<u8> {
        let byte = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(byte)
    }
    fn u32(&mut self) -> Option<u32> {
        let slice = self.bytes.get(self.at..self.at + 4)?;
        self.at += 4;
        Some(u32::from_le_bytes([slice[0], slice[1], slice[2], slice[3]]))
    }
    fn chunk(&mut self) -> Option<&'a [u8]> {
        let len = self.u32()? as usize;
        let end = self.at.checked_add(len)?;
        let slice = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(slice)
    }
}

fn parse_request(bytes: &[u8]) -> Option<ProcRequest> {
    if bytes.len() < 6 {
        return None;
    }
    let mut reader = Reader { bytes, at: 0 };
    if reader.u8()? != 1 || reader.u8()? != 0 {
        return None;
    }
    let argc = reader.u32()?;
    if argc == 0 || argc > 128 {
        return None;
    }
    let mut argv = Vec::with_capacity(argc as usize);
    for _ in 0..argc {
        argv.push(reader.chunk()?.to_vec());
    }
    if argv[0].is_empty() {
        return None;
    }
    let env_count = reader.u32()?;
    if env_count > 256 {
        return None;
    }
    let mut env = Vec::with_capacity(env_count as usize);
    for _ in 0..env_count {
        let key = reader.chunk()?.to_vec();
        let value = reader.chunk()?.to_vec();
        if key.is_empty() {
            return None;
        }
        env.push((key, value));
    }
    let cwd = reader.chunk()?;
    let stdin = reader.chunk()?.to_vec();
    Some(ProcRequest {
        argv,
        env,
        cwd: (!cwd.is_empty()).then(|| cwd.to_vec()),
        stdin,
    })
}

fn parse_caps(bytes: &[u8]) -> Option<ProcCaps> {
    if bytes.len() < 17 || bytes[0] != 1 {
        return None;
    }
    let mut reader = Reader { bytes, at: 1 };
    let max_stdout = reader.u32()? as u64;
    let max_stderr = reader.u32()? as u64;
    let timeout_ms = reader.u32()? as u64;
    let mut max_total = reader.u32()? as u64;
    if max_total == 0 {
        max_total = max_stdout + max_stderr;
    }
    Some(ProcCaps {
        max_stdout,
        max_stderr,
        timeout_ms,
        max_total,
    })
}

fn error_doc(code: u32) -> Vec<u8> {
    let mut doc = vec![0];
    doc.extend_from_slice(&code.to_le_bytes());
    doc.extend_from_slice(&0u32.to_le_bytes());
    doc
}

/// The success document; `None` when the memory for it cannot be had.
fn ok_doc(exit_code: i32, stdout: &[u8], stderr: &[u8]) -> Option<Vec<u8>> {
    let mut doc = Vec::new();
    doc.try_reserve_exact(18 + stdout.len() + stderr.len())
        .ok()?;
    doc.extend_from_slice(&[1, 1]);
    doc.extend_from_slice(&(exit_code as u32).to_le_bytes());
    doc.extend_from_slice(&0u32.to_le_bytes());
    doc.extend_from_slice(&(stdout.len() as u32).to_le_bytes());
    doc.extend_from_slice(stdout);
    doc.extend_from_slice(&(stderr.len() as u32).to_le_bytes());
    doc.extend_from_slice(stderr);
    Some(doc)
}

/// What the process gate allows a request to do.
#[derive(Debug, Clone, PartialEq)]
struct Allowed {
    /// The caps, clamped by the policy.
    caps: ProcCaps,
    /// The executable to start (absolute; `argv[0]` is still what the request says).
    exe: PathBuf,
    /// The working directory to start it in, when the request names one.
    cwd: Option<PathBuf>,
}

/// The policy gate for run/spawn; what to start when allowed, `None` when denied
/// (error document 1).
fn gate_spawn(
    sandbox: &Sandbox,
    request: &ProcRequest,
    caps: ProcCaps,
    live: usize,
    spawned: u64,
) -> Option<Allowed> {
    let policy = &sandbox.policy;
    let process = &policy.process;
    if !process.enabled || !process.allow_spawn {
        return None;
    }
    if request.argv[0].len() as u64 > process.max_exe_bytes {
        return None;
    }
    let exe = match check_exec(
        &request.argv[0],
        &process.allow_execs,
        &process.allow_exec_prefixes,
        &sandbox.cwd,
    ) {
        ExecDecision::Run(exe) => exe,
        ExecDecision::Denied => return None,
    };
    // `max_args` counts argv[0], as x07 does.
    if request.argv.len() as u64 > process.max_args
        || request.argv[1..]
            .iter()
            .any(|arg| arg.len() as u64 > process.max_arg_bytes)
        || !sandbox.args.allows(&request.argv[1..])
    {
        return None;
    }
    if request.env.len() as u64 > process.max_env {
        return None;
    }
    for (key, value) in &request.env {
        let key_text = lossy(key);
        if !process.allow_env_keys.contains(&key_text)
            || key.len() as u64 > process.max_env_key_bytes
            || value.len() as u64 > process.max_env_val_bytes
        {
            return None;
        }
    }
    let cwd = match &request.cwd {
        Some(cwd) => {
            if !process.allow_cwd {
                return None;
            }
            Some(check_cwd(
                cwd,
                &sandbox.roots.cwd,
                &sandbox.resolver,
                policy.fs.deny_hidden,
            )?)
        }
        None => None,
    };
    if let Some(max_stdin) = process.max_stdin_bytes {
        if request.stdin.len() as u64 > max_stdin {
            return None;
        }
    }
    if live as u64 >= process.max_live || spawned >= process.max_spawns {
        return None;
    }
    // `limits.procs`: live processes below the solver, whoever started them.
    if tree::live_descendants() as u64 >= policy.limits.procs {
        return None;
    }
    let clamp = |value: u64, limit: Option<u64>| limit.map_or(value, |limit| value.min(limit));
    let timeout_ms = match (caps.timeout_ms, process.max_runtime_ms) {
        (requested, 0) => requested,
        (0, limit) => limit,
        (requested, limit) => requested.min(limit),
    };
    Some(Allowed {
        caps: ProcCaps {
            max_stdout: clamp(caps.max_stdout, process.max_stdout_bytes),
            max_stderr: clamp(caps.max_stderr, process.max_stderr_bytes),
            timeout_ms,
            max_total: clamp(caps.max_total, process.max_total_bytes),
        },
        exe,
        cwd,
    })
}

// ------------------------------------------------------------------------------------
// Process table

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Capture,
    Piped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Exit code, or 128 + signal.
    Exited(i32),
    /// Error document code.
    Failed(u32),
}

#[derive(Default)]
struct Streams {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// Read positions of the piped-mode reads.
    stdout_read: usize,
    stderr_read: usize,
    overflow: bool,
    /// The child has been reaped: its pid may belong to another process now, so it is
    /// never signalled again.
    reaped: bool,
    outcome: Option<Outcome>,
}

type SharedStreams = Arc<(Mutex<Streams>, Condvar)>;

struct ProcEntry {
    mode: Mode,
    pid: Option<u32>,
    shared: SharedStreams,
    stdin: Option<Sender<Vec<u8>>>,
    doc_taken: bool,
    exit_taken: bool,
    kill_on_drop: bool,
}

impl ProcEntry {
    fn finished(mode: Mode, outcome: Outcome) -> ProcEntry {
        let streams = Streams {
            outcome: Some(outcome),
            ..Streams::default()
        };
        ProcEntry {
            mode,
            pid: None,
            shared: Arc::new((Mutex::new(streams), Condvar::new())),
            stdin: None,
            doc_taken: false,
            exit_taken: false,
            kill_on_drop: true,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Streams> {
        self.shared.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn outcome(&self) -> Option<Outcome> {
        self.lock().outcome
    }

    fn is_done(&self) -> bool {
        self.outcome().is_some()
    }

    /// Whether the child can still be signalled (started, not reaped yet).
    fn signallable_pid(&self) -> Option<u32> {
        let streams = self.lock();
        if streams.reaped || streams.outcome.is_some() {
            return None;
        }
        self.pid
    }

    fn wait_done(&self) -> Outcome {
        let (lock, condvar) = &*self.shared;
        let mut streams = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(outcome) = streams.outcome {
                return outcome;
            }
            streams = condvar.wait(streams).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn result_doc(&self) -> Vec<u8> {
        let streams = self.lock();
        match streams.outcome {
            Some(Outcome::Exited(code)) => ok_doc(code, &streams.stdout, &streams.stderr)
                .unwrap_or_else(|| error_doc(code::OUTPUT_LIMIT)),
            Some(Outcome::Failed(err)) => error_doc(err),
            None => error_doc(code::SPAWN_FAILED),
        }
    }

    fn drain(&self, stdout: bool, max: i32) -> Vec<u8> {
        if max <= 0 {
            return Vec::new();
        }
        let mut streams = self.lock();
        let streams = &mut *streams;
        let (buffer, position) = if stdout {
            (&streams.stdout, &mut streams.stdout_read)
        } else {
            (&streams.stderr, &mut streams.stderr_read)
        };
        let end = (*position + max as usize).min(buffer.len());
        let chunk = buffer[*position..end].to_vec();
        *position = end;
        chunk
    }
}

struct Slot {
    generation: u32,
    entry: Option<ProcEntry>,
}

#[derive(Default)]
struct ProcessTable {
    slots: Vec<Slot>,
    spawned: u64,
}

impl ProcessTable {
    fn live(&self) -> usize {
        self.slots
            .iter()
            .filter_map(|slot| slot.entry.as_ref())
            .filter(|entry| !entry.is_done())
            .count()
    }

    fn insert(&mut self, entry: ProcEntry) -> i32 {
        let index = match self.slots.iter().position(|slot| slot.entry.is_none()) {
            Some(index) => index,
            None => {
                self.slots.push(Slot {
                    generation: 1,
                    entry: None,
                });
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[index];
        slot.entry = Some(entry);
        ((slot.generation << 16) | (index as u32 + 1)) as i32
    }

    fn entry(&mut self, handle: i32) -> HostResult<&mut ProcEntry> {
        let handle = handle as u32;
        let index = (handle & 0xffff) as usize;
        let generation = handle >> 16;
        if index == 0 {
            return trap("os.process invalid handle");
        }
        match self.slots.get_mut(index - 1) {
            Some(slot) if slot.generation == generation => match slot.entry.as_mut() {
                Some(entry) => Ok(entry),
                None => trap("os.process invalid handle"),
            },
            _ => trap("os.process invalid handle"),
        }
    }

    fn join_capture(&mut self, handle: i32) -> HostResult<Vec<u8>> {
        let entry = self.entry(handle)?;
        if entry.mode != Mode::Capture {
            return trap("os.process.join_capture_v1 invalid proc mode");
        }
        if entry.doc_taken {
            return trap("os.process join already taken");
        }
        entry.wait_done();
        entry.doc_taken = true;
        Ok(entry.result_doc())
    }

    fn drop_handle(&mut self, handle: i32) -> HostResult<()> {
        let entry = self.entry(handle)?;
        if entry.kill_on_drop {
            if let Some(pid) = entry.signallable_pid() {
                signal_group(pid, 9);
            }
        }
        entry.stdin = None;
        let index = ((handle as u32) & 0xffff) as usize - 1;
        let slot = &mut self.slots[index];
        slot.entry = None;
        slot.generation = slot.generation.wrapping_add(1) & 0xffff;
        Ok(())
    }
}

impl Drop for ProcessTable {
    /// Children still running when the run ends are killed with their process groups,
    /// whatever `kill_on_drop` says (x07 kills every child when the run ends; the solver
    /// then kills the rest of its process tree too).
    fn drop(&mut self) {
        for slot in &self.slots {
            if let Some(pid) = slot.entry.as_ref().and_then(ProcEntry::signallable_pid) {
                signal_group(pid, 9);
            }
        }
    }
}

impl OsHost {
    fn spawn(&mut self, req: &[u8], caps: &[u8], mode: Mode, name: &str) -> HostResult<i32> {
        let request = parse_request(req);
        if let Some(request) = &request {
            if request.argv.iter().any(|arg| arg.contains(&0)) {
                return trap(format!("{name} argv contains NUL"));
            }
            if request
                .env
                .iter()
                .any(|(k, v)| k.contains(&0) || v.contains(&0))
            {
                return trap(format!("{name} env contains NUL"));
            }
            if request.cwd.as_ref().is_some_and(|cwd| cwd.contains(&0)) {
                return trap(format!("{name} cwd contains NUL"));
            }
        }
        let (Some(request), Some(caps)) = (request, parse_caps(caps)) else {
            let entry = ProcEntry::finished(mode, Outcome::Failed(code::INVALID_REQUEST));
            return Ok(self.processes.insert(entry));
        };
        let launch = match &self.sandbox {
            Some(sandbox) => {
                match gate_spawn(
                    sandbox,
                    &request,
                    caps,
                    self.processes.live(),
                    self.processes.spawned,
                ) {
                    Some(allowed) => Launch {
                        exe: allowed.exe.into_os_string(),
                        cwd: allowed.cwd.map(PathBuf::into_os_string),
                        caps: allowed.caps,
                    },
                    None => {
                        let entry = ProcEntry::finished(mode, Outcome::Failed(code::POLICY_DENIED));
                        return Ok(self.processes.insert(entry));
                    }
                }
            }
            None => Launch {
                exe: OsStr::from_bytes(&request.argv[0]).to_os_string(),
                cwd: request
                    .cwd
                    .as_ref()
                    .map(|cwd| OsStr::from_bytes(cwd).to_os_string()),
                caps,
            },
        };
        let kill_on_drop = self
            .policy()
            .is_none_or(|policy| policy.process.kill_on_drop);
        // The result document lands on the program's heap: a child never gets to pile up
        // more output than the heap could hold (past it, the output limit is reached).
        let mut launch = launch;
        launch.caps.max_total = launch.caps.max_total.min(self.heap_limit);
        let mut entry = start_child(&request, &launch, mode);
        entry.kill_on_drop = kill_on_drop;
        if entry.pid.is_some() {
            self.processes.spawned += 1;
        }
        Ok(self.processes.insert(entry))
    }
}

/// How a request that passed the gate is started.
struct Launch {
    /// The executable (the request's `argv[0]` in run-os; the checked path in a sandbox).
    exe: std::ffi::OsString,
    /// The working directory, when given.
    cwd: Option<std::ffi::OsString>,
    /// The caps (clamped by the policy in a sandbox).
    caps: ProcCaps,
}

fn start_child(request: &ProcRequest, launch: &Launch, mode: Mode) -> ProcEntry {
    let caps = launch.caps;
    let exe = &request.argv[0];
    // There is no PATH search: a name without a slash never starts.
    if !exe.contains(&b'/') {
        return ProcEntry::finished(mode, Outcome::Failed(code::SPAWN_FAILED));
    }
    let mut command = Command::new(&launch.exe);
    command
        .arg0(OsStr::from_bytes(exe))
        .args(request.argv[1..].iter().map(|arg| OsStr::from_bytes(arg)))
        .env_clear()
        .envs(
            request
                .env
                .iter()
                .map(|(k, v)| (OsStr::from_bytes(k), OsStr::from_bytes(v))),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if let Some(cwd) = &launch.cwd {
        command.current_dir(cwd);
    }
    // The child is recorded as managed before the watchdog can see it, so only its own
    // supervisor reaps it.
    let mut managed = tree::managed();
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(_) => return ProcEntry::finished(mode, Outcome::Failed(code::SPAWN_FAILED)),
    };
    let pid = child.id();
    managed.push(pid);
    drop(managed);
    tree::note_child_started();
    let shared: SharedStreams = Arc::new((Mutex::new(Streams::default()), Condvar::new()));

    let stdin_sender = {
        let (sender, receiver) = mpsc::channel::<Vec<u8>>();
        if let Some(mut pipe) = child.stdin.take() {
            thread::spawn(move || {
                for chunk in receiver {
                    if pipe.write_all(&chunk).is_err() {
                        break;
                    }
                }
            });
        }
        if !request.stdin.is_empty() {
            let _ = sender.send(request.stdin.clone());
        }
        sender
    };
    let stdin = match mode {
        Mode::Capture => {
            drop(stdin_sender);
            None
        }
        Mode::Piped => Some(stdin_sender),
    };

    let readers: Vec<thread::JoinHandle<()>> = [
        child
            .stdout
            .take()
            .map(|p| (Box::new(p) as Box<dyn Read + Send>, true)),
        child
            .stderr
            .take()
            .map(|p| (Box::new(p) as Box<dyn Read + Send>, false)),
    ]
    .into_iter()
    .flatten()
    .map(|(pipe, is_stdout)| {
        let shared = Arc::clone(&shared);
        thread::spawn(move || collect_stream(pipe, is_stdout, caps, pid, &shared))
    })
    .collect();

    {
        let shared = Arc::clone(&shared);
        thread::spawn(move || supervise(child, pid, caps, readers, &shared));
    }
    ProcEntry {
        mode,
        pid: Some(pid),
        shared,
        stdin,
        doc_taken: false,
        exit_taken: false,
        kill_on_drop: true,
    }
}

/// Reads one child stream into the shared buffer; reaching a cap (and then seeing more
/// output or the end of the stream) is an output-limit failure and kills the child.
fn collect_stream(
    mut pipe: Box<dyn Read + Send>,
    is_stdout: bool,
    caps: ProcCaps,
    pid: u32,
    shared: &SharedStreams,
) {
    let cap = if is_stdout {
        caps.max_stdout
    } else {
        caps.max_stderr
    };
    let mut buffer = [0u8; 8192];
    loop {
        let read = match pipe.read(&mut buffer) {
            Ok(n) => n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => 0,
        };
        let mut guard = shared.0.lock().unwrap_or_else(|e| e.into_inner());
        let streams = &mut *guard;
        let total = (streams.stdout.len() + streams.stderr.len()) as u64;
        let own = if is_stdout {
            &mut streams.stdout
        } else {
            &mut streams.stderr
        };
        let room = cap
            .saturating_sub(own.len() as u64)
            .min(caps.max_total.saturating_sub(total)) as usize;
        let take = read.min(room);
        // Memory the address-space limit does not grant is an output limit too, never
        // an abort of the solver.
        if own.try_reserve(take).is_err() {
            streams.overflow = true;
            drop(guard);
            signal_group(pid, 9);
            return;
        }
        own.extend_from_slice(&buffer[..take]);
        let own_len = own.len() as u64;
        let total_after = (streams.stdout.len() + streams.stderr.len()) as u64;
        if own_len >= cap || total_after >= caps.max_total {
            streams.overflow = true;
            drop(guard);
            signal_group(pid, 9);
            return;
        }
        if read == 0 {
            return;
        }
    }
}

/// Waits for the child (with the timeout), then records its outcome.
fn supervise(
    mut child: Child,
    pid: u32,
    caps: ProcCaps,
    readers: Vec<thread::JoinHandle<()>>,
    shared: &SharedStreams,
) {
    let started = Instant::now();
    let deadline = (caps.timeout_ms > 0).then(|| started + Duration::from_millis(caps.timeout_ms));
    let mut timed_out = false;
    let mut pause = Duration::from_micros(200);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(_) => break None,
        }
        if let Some(deadline) = deadline {
            if Instant::now() >= deadline {
                timed_out = true;
                signal_group(pid, 9);
                break child.wait().ok();
            }
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    };
    shared.0.lock().unwrap_or_else(|e| e.into_inner()).reaped = true;
    tree::managed().retain(|&managed| managed != pid);
    // Whatever the child left behind in its group goes too, so the pipes close (the
    // group id stays reserved while any member lives, so this reaches only them).
    signal_group(pid, 9);
    // A process that left the group (`setsid`) may still hold the pipes: the timeout
    // covers reading them to the end too. Past it the request has timed out, and the
    // readers are left to that process (which dies with the run's tree at the latest).
    for reader in readers {
        while !reader.is_finished() {
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                timed_out = true;
                break;
            }
            thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        }
        if reader.is_finished() {
            let _ = reader.join();
        }
    }
    let (lock, condvar) = &**shared;
    let mut streams = lock.lock().unwrap_or_else(|e| e.into_inner());
    let outcome = if streams.overflow {
        Outcome::Failed(code::OUTPUT_LIMIT)
    } else if timed_out {
        Outcome::Failed(code::TIMEOUT)
    } else {
        match status {
            Some(status) => match (status.code(), status.signal()) {
                (Some(code), _) => Outcome::Exited(code),
                (None, Some(signal)) => Outcome::Exited(128 + signal),
                _ => Outcome::Failed(code::SPAWN_FAILED),
            },
            None => Outcome::Failed(code::SPAWN_FAILED),
        }
    };
    streams.outcome = Some(outcome);
    condvar.notify_all();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(argv: &[&str], env: &[(&str, &str)], cwd: &str, stdin: &str) -> Vec<u8> {
        let mut out = vec![1, 0];
        out.extend_from_slice(&(argv.len() as u32).to_le_bytes());
        for arg in argv {
            out.extend_from_slice(&(arg.len() as u32).to_le_bytes());
            out.extend_from_slice(arg.as_bytes());
        }
        out.extend_from_slice(&(env.len() as u32).to_le_bytes());
        for (k, v) in env {
            out.extend_from_slice(&(k.len() as u32).to_le_bytes());
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(&(v.len() as u32).to_le_bytes());
            out.extend_from_slice(v.as_bytes());
        }
        for part in [cwd, stdin] {
            out.extend_from_slice(&(part.len() as u32).to_le_bytes());
            out.extend_from_slice(part.as_bytes());
        }
        out
    }

    fn caps(stdout: u32, stderr: u32, timeout: u32, total: u32) -> Vec<u8> {
        let mut out = vec![1];
        for v in [stdout, stderr, timeout, total] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    fn allow_policy() -> Policy {
        let text = include_str!("../tests/data/probes/os-builtins-matrix/pol-allow.json");
        crate::policy::parse_policy(text.as_bytes()).unwrap()
    }

    #[test]
    fn run_capture_echo_and_exit_codes() {
        let mut host = OsHost::run_os();
        let doc = host
            .process_run_capture_v1(
                &req(&["/bin/echo", "hello", "world"], &[], "", ""),
                &caps(65536, 65536, 5000, 0),
            )
            .unwrap();
        assert_eq!(doc, ok_doc(0, b"hello world\n", b"").unwrap());
        let doc = host
            .process_run_capture_v1(
                &req(
                    &["/bin/sh", "-c", "echo out; echo err >&2; exit 3"],
                    &[],
                    "",
                    "",
                ),
                &caps(65536, 65536, 5000, 0),
            )
            .unwrap();
        assert_eq!(doc, ok_doc(3, b"out\n", b"err\n").unwrap());
    }

    #[test]
    fn no_path_search_env_cleared_cwd_and_stdin() {
        let mut host = OsHost::run_os();
        let c = caps(65536, 65536, 5000, 0);
        assert_eq!(
            host.process_run_capture_v1(&req(&["echo", "hi"], &[], "", ""), &c)
                .unwrap(),
            error_doc(3)
        );
        assert_eq!(
            host.process_run_capture_v1(&req(&["/nonexistent/bin"], &[], "", ""), &c)
                .unwrap(),
            error_doc(3)
        );
        assert_eq!(
            host.process_run_capture_v1(
                &req(&["/usr/bin/env"], &[("FOO", "childfoo")], "", ""),
                &c
            )
            .unwrap(),
            ok_doc(0, b"FOO=childfoo\n", b"").unwrap()
        );
        assert_eq!(
            host.process_run_capture_v1(&req(&["/bin/pwd"], &[], "/", ""), &c)
                .unwrap(),
            ok_doc(0, b"/\n", b"").unwrap()
        );
        assert_eq!(
            host.process_run_capture_v1(&req(&["/bin/cat"], &[], "", "piped-in"), &c)
                .unwrap(),
            ok_doc(0, b"piped-in", b"").unwrap()
        );
    }

    #[test]
    fn timeout_and_output_limit() {
        let mut host = OsHost::run_os();
        let started = Instant::now();
        assert_eq!(
            host.process_run_capture_v1(
                &req(&["/bin/sleep", "5"], &[], "", ""),
                &caps(65536, 65536, 300, 0)
            )
            .unwrap(),
            error_doc(4)
        );
        assert!(started.elapsed() < Duration::from_secs(3));
        assert_eq!(
            host.process_run_capture_v1(
                &req(&["/bin/echo", "0123456789abcdef"], &[], "", ""),
                &caps(4, 65536, 5000, 0)
            )
            .unwrap(),
            error_doc(5)
        );
        // Exactly the cap already fails; one more byte of room passes.
        assert_eq!(
            host.process_run_capture_v1(
                &req(&["/bin/echo", "hello"], &[], "", ""),
                &caps(6, 65536, 5000, 0)
            )
            .unwrap(),
            error_doc(5)
        );
        assert_eq!(
            host.process_run_capture_v1(
                &req(&["/bin/echo", "hello"], &[], "", ""),
                &caps(7, 65536, 5000, 0)
            )
            .unwrap(),
            ok_doc(0, b"hello\n", b"").unwrap()
        );
    }

    #[test]
    fn invalid_request_and_handles() {
        let mut host = OsHost::run_os();
        let c = caps(65536, 65536, 5000, 0);
        assert_eq!(
            host.process_run_capture_v1(b"junk", &c).unwrap(),
            error_doc(2)
        );
        assert_eq!(
            host.process_run_capture_v1(&req(&["/bin/echo"], &[], "", ""), &c[..16])
                .unwrap(),
            error_doc(2)
        );
        let h = host
            .process_spawn_capture_v1(&req(&["/bin/echo", "spawned"], &[], "", ""), &c)
            .unwrap();
        // Two run_capture calls above used and dropped slot 0 twice.
        assert_eq!(h, (3 << 16) | 1);
        assert_eq!(
            host.process_join_capture_v1(h).unwrap(),
            ok_doc(0, b"spawned\n", b"").unwrap()
        );
        assert_eq!(
            host.process_join_capture_v1(h),
            Err(Interrupt::Trap("os.process join already taken".into()))
        );
        assert_eq!(host.process_take_exit_v1(h).unwrap(), 0);
        assert_eq!(host.process_drop_v1(h).unwrap(), 1);
        assert_eq!(
            host.process_try_wait_v1(h),
            Err(Interrupt::Trap("os.process invalid handle".into()))
        );
        let fresh = OsHost::run_os()
            .process_spawn_capture_v1(&req(&["/bin/true"], &[], "", ""), &c)
            .unwrap();
        assert_eq!(fresh, 65537);
    }

    #[test]
    fn piped_mode_round_trip() {
        let mut host = OsHost::run_os();
        let h = host
            .process_spawn_piped_v1(
                &req(&["/bin/cat"], &[], "", ""),
                &caps(65536, 65536, 5000, 0),
            )
            .unwrap();
        assert_eq!(host.process_stdin_write_v1(h, b"abc").unwrap(), 1);
        assert_eq!(host.process_stdin_close_v1(h).unwrap(), 1);
        assert_eq!(host.process_stdin_close_v1(h).unwrap(), 0);
        assert_eq!(host.process_join_exit_v1(h).unwrap(), 1);
        assert_eq!(host.process_stdout_read_v1(h, 2).unwrap(), b"ab");
        assert_eq!(host.process_stdout_read_v1(h, 10).unwrap(), b"c");
        assert_eq!(host.process_take_exit_v1(h).unwrap(), 0);
        assert_eq!(
            host.process_join_capture_v1(h),
            Err(Interrupt::Trap(
                "os.process.join_capture_v1 invalid proc mode".into()
            ))
        );
    }

    #[test]
    fn sandbox_process_gate() {
        let mut host = OsHost::sandboxed(allow_policy());
        let c = caps(65536, 65536, 5000, 0);
        assert_eq!(
            host.process_run_capture_v1(&req(&["/bin/echo", "hello"], &[], "", ""), &c)
                .unwrap(),
            ok_doc(0, b"hello\n", b"").unwrap()
        );
        assert_eq!(
            host.process_run_capture_v1(&req(&["/bin/sh", "-c", "echo x"], &[], "", ""), &c)
                .unwrap(),
            error_doc(1)
        );
        assert_eq!(
            host.process_run_capture_v1(&req(&["/bin/echo"], &[("FOO", "x")], "", ""), &c)
                .unwrap(),
            error_doc(1)
        );
        assert_eq!(
            host.process_run_capture_v1(&req(&["/bin/echo"], &[], "sub", ""), &c)
                .unwrap(),
            error_doc(1)
        );
        assert_eq!(
            host.process_exit(7),
            Interrupt::Exit(7),
            "pol-allow allows exit"
        );
    }

    #[test]
    fn sandbox_env_time_net() {
        let mut host = OsHost::sandboxed(allow_policy());
        std::env::set_var("PROBE_SET", "hello");
        assert_eq!(host.env_get(b"PROBE_SET").unwrap(), b"hello");
        assert_eq!(host.env_get(b"PROBE_UNSET").unwrap(), b"");
        assert_eq!(
            host.env_get(b"PROBE_DENY"),
            Err(Interrupt::Trap("os.env.get key denied".into()))
        );
        assert_eq!(
            host.env_get(b"X07_WORLD"),
            Err(Interrupt::Trap("os.env.get key not allowed".into()))
        );
        assert_eq!(host.time_sleep_ms_v1(2000).unwrap(), 0);
        assert_eq!(host.time_sleep_ms_v1(-1).unwrap(), 0);
        assert_eq!(host.time_now_instant_v1().unwrap().len(), 14);
        assert_eq!(
            host.net_http_request(b"GET /"),
            Err(Interrupt::Trap("os.net disabled by policy".into()))
        );
        let mut deny = OsHost::sandboxed(Policy::deny_all());
        assert_eq!(
            deny.env_get(b"PROBE_SET"),
            Err(Interrupt::Trap("os.env disabled by policy".into()))
        );
        assert_eq!(
            deny.time_now_instant_v1().unwrap(),
            TIME_DENIED_DOC.to_vec()
        );
        assert_eq!(
            deny.time_now_unix_ms(),
            Err(Interrupt::Trap("os.time disabled by policy".into()))
        );
        assert_eq!(
            deny.process_exit(0),
            Interrupt::Trap("os.process.exit disabled by policy".into())
        );
    }

    #[test]
    fn running_children_are_killed_when_the_host_goes() {
        let mut host = OsHost::run_os();
        let h = host
            .process_spawn_piped_v1(
                &req(&["/bin/sleep", "30"], &[], "", ""),
                &caps(65536, 65536, 0, 0),
            )
            .unwrap();
        let pid = host.processes.entry(h).unwrap().pid.unwrap();
        drop(host);
        let started = Instant::now();
        // The group is gone once the kill is delivered and the child reaped by its supervisor.
        while signal_group(pid, 0) && started.elapsed() < Duration::from_secs(5) {
            thread::sleep(Duration::from_millis(10));
        }
        assert!(!signal_group(pid, 0), "child {pid} survived its host");
    }

    #[test]
    fn sandbox_paths() {
        assert!(is_unsafe_path(b"/etc/hostname"));
        assert!(is_unsafe_path(b"../x.txt"));
        assert!(is_unsafe_path(b"./data.txt"));
        assert!(is_unsafe_path(b"a//b"));
        assert!(is_unsafe_path(b"a\\b"));
        assert!(is_unsafe_path(b"a/.x07_state"));
        assert!(!is_unsafe_path(b"sub/nested.txt"));
        assert!(is_hidden_path(b"out/.h.txt"));
    }

    #[test]
    fn sandbox_fs_gate_traps_before_touching_the_os() {
        let mut host = OsHost::sandboxed(allow_policy());
        assert_eq!(
            host.fs_read_file(b"/etc/hostname"),
            Err(Interrupt::Trap("os.fs.read_file unsafe path".into()))
        );
        assert_eq!(
            host.fs_read_file(b".hidden.txt"),
            Err(Interrupt::Trap("os.fs.read_file hidden path denied".into()))
        );
        assert_eq!(
            host.fs_write_file(b"/tmp/w.txt", b"x"),
            Err(Interrupt::Trap("os.fs.write_file unsafe path".into()))
        );
        assert_eq!(
            host.fs_read_file(b"nothere-x07-lite.txt"),
            Err(Interrupt::Trap(
                "os.fs.read_file open failed path=./nothere-x07-lite.txt".into()
            ))
        );
    }
}
