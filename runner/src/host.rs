//! The boundary between the language core (`eval`, `std`) and the OS world (`os`).
//!
//! The interpreter knows nothing about files, environment, time or processes:
//! every `os.*` builtin is a call on a [`Host`]. The `os` module implements
//! it for `run-os` and `run-os-sandboxed` (policy gate included); tests can
//! implement it with fakes.
//!
//! Argument and result types follow `subset.md` §10: `bytes` arguments are
//! passed as byte slices (the interpreter has already consumed the owned
//! value), `i32` as `i32`, `option_bytes` results as `Option<Vec<u8>>`.

/// Why evaluation stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interrupt {
    /// A runtime trap; the text is exactly what the real runtime prints
    /// (e.g. `os.fs.read_file hidden path denied`).
    Trap(String),
    /// `os.process.exit(code)`: the run ends at once with this status.
    Exit(i32),
    /// The compiled program would have been killed by this signal (a native stack
    /// overflow gives 11, semantics R24): the solver dies by it, printing nothing.
    Signal(i32),
}

/// Result of a host call.
pub type HostResult<T> = Result<T, Interrupt>;

/// The OS builtins of `subset.md` §10, as seen by the interpreter.
pub trait Host {
    /// `os.fs.read_file(path) -> bytes`.
    fn fs_read_file(&mut self, path: &[u8]) -> HostResult<Vec<u8>>;
    /// `os.fs.write_file(path, data) -> i32` (0 or errno).
    fn fs_write_file(&mut self, path: &[u8], data: &[u8]) -> HostResult<i32>;
    /// `os.env.get(key) -> bytes` (empty when unset).
    fn env_get(&mut self, key: &[u8]) -> HostResult<Vec<u8>>;
    /// `os.time.now_unix_ms() -> i32` (low 32 bits).
    fn time_now_unix_ms(&mut self) -> HostResult<i32>;
    /// `os.time.now_instant_v1() -> bytes`.
    fn time_now_instant_v1(&mut self) -> HostResult<Vec<u8>>;
    /// `os.time.sleep_ms_v1(ms) -> i32`.
    fn time_sleep_ms_v1(&mut self, ms: i32) -> HostResult<i32>;
    /// `os.time.local_tzid_v1() -> bytes`.
    fn time_local_tzid_v1(&mut self) -> HostResult<Vec<u8>>;
    /// `os.process.exit(code)`: returns the interrupt to raise
    /// (`Exit(code)`, or a policy trap).
    fn process_exit(&mut self, code: i32) -> Interrupt;
    /// `os.process.run_capture_v1(req, caps) -> bytes` (result document).
    fn process_run_capture_v1(&mut self, req: &[u8], caps: &[u8]) -> HostResult<Vec<u8>>;
    /// `os.process.spawn_capture_v1(req, caps) -> i32` handle.
    fn process_spawn_capture_v1(&mut self, req: &[u8], caps: &[u8]) -> HostResult<i32>;
    /// `os.process.spawn_piped_v1(req, caps) -> i32` handle.
    fn process_spawn_piped_v1(&mut self, req: &[u8], caps: &[u8]) -> HostResult<i32>;
    /// `os.process.try_join_capture_v1(h) -> option_bytes`.
    fn process_try_join_capture_v1(&mut self, handle: i32) -> HostResult<Option<Vec<u8>>>;
    /// `os.process.join_capture_v1(h) -> bytes`.
    fn process_join_capture_v1(&mut self, handle: i32) -> HostResult<Vec<u8>>;
    /// `os.process.join_exit_v1(h) -> i32`.
    fn process_join_exit_v1(&mut self, handle: i32) -> HostResult<i32>;
    /// `os.process.try_wait_v1(h) -> i32`.
    fn process_try_wait_v1(&mut self, handle: i32) -> HostResult<i32>;
    /// `os.process.take_exit_v1(h) -> i32`.
    fn process_take_exit_v1(&mut self, handle: i32) -> HostResult<i32>;
    /// `os.process.stdout_read_v1(h, max) -> bytes`.
    fn process_stdout_read_v1(&mut self, handle: i32, max: i32) -> HostResult<Vec<u8>>;
    /// `os.process.stderr_read_v1(h, max) -> bytes`.
    fn process_stderr_read_v1(&mut self, handle: i32, max: i32) -> HostResult<Vec<u8>>;
    /// `os.process.stdin_write_v1(h, chunk) -> i32`.
    fn process_stdin_write_v1(&mut self, handle: i32, chunk: &[u8]) -> HostResult<i32>;
    /// `os.process.stdin_close_v1(h) -> i32`.
    fn process_stdin_close_v1(&mut self, handle: i32) -> HostResult<i32>;
    /// `os.process.kill_v1(h, sig) -> i32`.
    fn process_kill_v1(&mut self, handle: i32, sig: i32) -> HostResult<i32>;
    /// `os.process.drop_v1(h) -> i32`.
    fn process_drop_v1(&mut self, handle: i32) -> HostResult<i32>;
    /// `os.net.http_request(req) -> bytes` (always traps in this toolchain).
    fn net_http_request(&mut self, req: &[u8]) -> HostResult<Vec<u8>>;
}
