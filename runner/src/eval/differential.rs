//! The differential check (feature `reference`, on in this crate's own tests): after the
//! register machine has run a program, the reference evaluator runs it again and both
//! must agree on the output or trap and, on success, on `fuel_used`.
//!
//! The machine's OS calls go through a [`Recorder`]; the reference gets a [`Replay`] of
//! them, so the OS is touched once and both runs see the same answers (a different
//! sequence of OS calls is itself a mismatch). The reference runs on its own thread with
//! a large stack (it recurses on the Rust stack); runs it cannot follow (deeper than its
//! call limit, past [`FUEL_CAP`] units, native stack overflows) are not compared.

use std::collections::VecDeque;

use super::reference;
use crate::host::{Host, HostResult, Interrupt};
use crate::tir::TProgram;

/// Runs that used more fuel than this are not replayed (the reference is slow).
pub const FUEL_CAP: u64 = 3_000_000;

/// Whether runs are checked: yes, unless `X07_LITE_DIFFERENTIAL=0` (the benchmark
/// turns it off so it measures the machine alone).
pub fn enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("X07_LITE_DIFFERENTIAL").is_none_or(|v| v != "0"))
}

/// Stack of the reference evaluator's thread.
const REFERENCE_STACK_BYTES: usize = 256 * 1024 * 1024;

/// One recorded OS call: what was asked and what came back.
#[derive(Debug, Clone)]
struct Call {
    what: String,
    answer: Answer,
}

#[derive(Debug, Clone)]
enum Answer {
    Bytes(HostResult<Vec<u8>>),
    I32(HostResult<i32>),
    OptBytes(HostResult<Option<Vec<u8>>>),
    Exit(Interrupt),
}

/// A host that forwards to another and records every call.
pub struct Recorder<'h> {
    inner: &'h mut dyn Host,
    calls: Vec<Call>,
}

impl<'h> Recorder<'h> {
    /// Records the calls made to `inner`.
    pub fn new(inner: &'h mut dyn Host) -> Recorder<'h> {
        Recorder {
            inner,
            calls: Vec::new(),
        }
    }
}

/// A host that answers from a recording.
pub struct Replay {
    calls: VecDeque<Call>,
    /// The first call that differed from the recording.
    pub diverged: Option<String>,
}

fn mismatch<T>(r: &mut Replay, what: String) -> HostResult<T> {
    if r.diverged.is_none() {
        r.diverged = Some(what);
    }
    Err(Interrupt::Trap(
        "x07-lite differential: OS call mismatch".into(),
    ))
}

macro_rules! host_calls {
    ($( $name:ident ( $($arg:ident : $ty:ty),* ) -> $kind:ident $ret:ty; )*) => {
        impl Host for Recorder<'_> {
            $(fn $name(&mut self, $($arg: $ty),*) -> $ret {
                let r = self.inner.$name($($arg),*);
                self.calls.push(Call {
                    what: format!("{}{:?}", stringify!($name), ($($arg,)*)),
                    answer: Answer::$kind(r.clone()),
                });
                r
            })*

            fn process_exit(&mut self, code: i32) -> Interrupt {
                let r = self.inner.process_exit(code);
                self.calls.push(Call {
                    what: format!("process_exit({code})"),
                    answer: Answer::Exit(r.clone()),
                });
                r
            }
        }

        impl Host for Replay {
            $(fn $name(&mut self, $($arg: $ty),*) -> $ret {
                let what = format!("{}{:?}", stringify!($name), ($($arg,)*));
                match self.calls.pop_front() {
                    Some(Call { what: w, answer: Answer::$kind(r) }) if w == what => r,
                    _ => mismatch(self, what),
                }
            })*

            fn process_exit(&mut self, code: i32) -> Interrupt {
                let what = format!("process_exit({code})");
                match self.calls.pop_front() {
                    Some(Call { what: w, answer: Answer::Exit(r) }) if w == what => r,
                    _ => {
                        if self.diverged.is_none() {
                            self.diverged = Some(what);
                        }
                        Interrupt::Trap("x07-lite differential: OS call mismatch".into())
                    }
                }
            }
        }
    };
}

host_calls! {
    fs_read_file(path: &[u8]) -> Bytes HostResult<Vec<u8>>;
    fs_write_file(path: &[u8], data: &[u8]) -> I32 HostResult<i32>;
    env_get(key: &[u8]) -> Bytes HostResult<Vec<u8>>;
    time_now_unix_ms() -> I32 HostResult<i32>;
    time_now_instant_v1() -> Bytes HostResult<Vec<u8>>;
    time_sleep_ms_v1(ms: i32) -> I32 HostResult<i32>;
    time_local_tzid_v1() -> Bytes HostResult<Vec<u8>>;
    process_run_capture_v1(req: &[u8], caps: &[u8]) -> Bytes HostResult<Vec<u8>>;
    process_spawn_capture_v1(req: &[u8], caps: &[u8]) -> I32 HostResult<i32>;
    process_spawn_piped_v1(req: &[u8], caps: &[u8]) -> I32 HostResult<i32>;
    process_try_join_capture_v1(handle: i32) -> OptBytes HostResult<Option<Vec<u8>>>;
    process_join_capture_v1(handle: i32) -> Bytes HostResult<Vec<u8>>;
    process_join_exit_v1(handle: i32) -> I32 HostResult<i32>;
    process_try_wait_v1(handle: i32) -> I32 HostResult<i32>;
    process_take_exit_v1(handle: i32) -> I32 HostResult<i32>;
    process_stdout_read_v1(handle: i32, max: i32) -> Bytes HostResult<Vec<u8>>;
    process_stderr_read_v1(handle: i32, max: i32) -> Bytes HostResult<Vec<u8>>;
    process_stdin_write_v1(handle: i32, chunk: &[u8]) -> I32 HostResult<i32>;
    process_stdin_close_v1(handle: i32) -> I32 HostResult<i32>;
    process_kill_v1(handle: i32, sig: i32) -> I32 HostResult<i32>;
    process_drop_v1(handle: i32) -> I32 HostResult<i32>;
    net_http_request(req: &[u8]) -> Bytes HostResult<Vec<u8>>;
}

impl Recorder<'_> {
    /// The recording, for a replay.
    pub fn replay(self) -> Replay {
        Replay {
            calls: self.calls.into(),
            diverged: None,
        }
    }
}

/// Runs the reference evaluator on a replay of the machine's OS calls and compares it
/// with what the machine did; `Err` describes the first difference.
pub fn compare(
    tree: &TProgram,
    input: &[u8],
    replay: Replay,
    fuel: u64,
    max_memory_bytes: u64,
    vm: &Result<Vec<u8>, Interrupt>,
    vm_fuel: u64,
) -> Result<(), String> {
    if vm_fuel > FUEL_CAP || matches!(vm, Err(Interrupt::Signal(_))) {
        return Ok(());
    }
    let mut replay = replay;
    let outcome = std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("x07-lite-reference".into())
            .stack_size(REFERENCE_STACK_BYTES)
            .spawn_scoped(scope, || {
                let r = reference::run(tree, input, &mut replay, fuel, max_memory_bytes);
                (r.result, r.fuel_used)
            });
        worker.ok().map(|w| w.join())
    });
    let Some(Ok((result, ref_fuel))) = outcome else {
        // No thread (a tight address-space limit) or a panic: nothing to compare with.
        return Ok(());
    };
    if let Some(call) = replay.diverged {
        return Err(format!("the reference made another OS call: {call}"));
    }
    if matches!(&result, Err(Interrupt::Trap(t)) if t == reference::TOO_DEEP) {
        return Ok(());
    }
    if &result != vm {
        return Err(format!(
            "vm {} vs reference {}",
            describe(vm),
            describe(&result)
        ));
    }
    if vm.is_ok() && ref_fuel != vm_fuel {
        return Err(format!("fuel: vm {vm_fuel} vs reference {ref_fuel}"));
    }
    Ok(())
}

/// A short description of a run's result (outputs can be megabytes long).
fn describe(r: &Result<Vec<u8>, Interrupt>) -> String {
    match r {
        Ok(out) if out.len() > 48 => format!(
            "Ok({} bytes, starting {:?})",
            out.len(),
            String::from_utf8_lossy(&out[..48])
        ),
        Ok(out) => format!("Ok({:?})", String::from_utf8_lossy(out)),
        Err(e) => format!("Err({e:?})"),
    }
}
