//! Runtime values and heap accounting.
//!
//! Owned buffers (`bytes`, `vec_u8`) live in reference-counted [`Buf`]s with copy-on-write:
//! a moved value has one reference and is mutated in place, a borrowed one is shared, so
//! value semantics hold even where the checker is more lenient than the real compiler.
//! Every `Buf` reports its size to per-thread counters, which give `out of memory` traps
//! and the `mem_stats` of a run.

use std::cell::Cell;
use std::rc::Rc;

/// Per-thread heap counters of the current run (see [`crate::eval::MemStats`]).
#[derive(Default)]
struct MemCounters {
    alloc_calls: Cell<u64>,
    realloc_calls: Cell<u64>,
    free_calls: Cell<u64>,
    bytes_alloc_total: Cell<u64>,
    bytes_freed_total: Cell<u64>,
    live_bytes: Cell<u64>,
    peak_live_bytes: Cell<u64>,
    live_allocs: Cell<u64>,
    peak_live_allocs: Cell<u64>,
    memcpy_bytes: Cell<u64>,
}

thread_local! {
    static MEM: MemCounters = MemCounters::default();
}

fn bump(c: &Cell<u64>, n: u64) {
    c.set(c.get().saturating_add(n));
}

/// Records an allocation; empty buffers never touch the heap and are not counted.
fn note_alloc(n: u64) {
    if n == 0 {
        return;
    }
    MEM.with(|m| {
        bump(&m.alloc_calls, 1);
        bump(&m.bytes_alloc_total, n);
        bump(&m.live_bytes, n);
        bump(&m.live_allocs, 1);
        m.peak_live_bytes
            .set(m.peak_live_bytes.get().max(m.live_bytes.get()));
        m.peak_live_allocs
            .set(m.peak_live_allocs.get().max(m.live_allocs.get()));
    });
}

fn note_free(n: u64) {
    if n == 0 {
        return;
    }
    MEM.with(|m| {
        bump(&m.free_calls, 1);
        bump(&m.bytes_freed_total, n);
        m.live_bytes.set(m.live_bytes.get().saturating_sub(n));
        m.live_allocs.set(m.live_allocs.get().saturating_sub(1));
    });
}

/// Live heap bytes of the current thread's run.
pub fn live_bytes() -> u64 {
    MEM.with(|m| m.live_bytes.get())
}

/// Records bytes copied between buffers.
pub fn note_memcpy(n: usize) {
    MEM.with(|m| bump(&m.memcpy_bytes, n as u64));
}

/// Records the NUL-terminated copy the real runtime makes of a path or key before it
/// calls the OS (`os.fs.read_file`, `os.fs.write_file`, `os.env.get`): `copied` bytes
/// copied into an allocation of `text_len + 1` bytes that is never freed. Fitted
/// exactly to the recorded stats of those builtins (reports `ok-sandbox-project`,
/// `project-repair-memory-cwd`; `x07 test` reports `os/read_data`, `os/write_marker`,
/// `os/env_probe`): e.g. reading `data.txt` in `run-os` adds one live allocation of 9
/// bytes and 8 copied bytes; under read root `.` the joined `./data.txt` adds 11 and 9
/// (the root and the path; the separator is written, not copied).
pub fn note_c_string(text_len: usize, copied: usize) {
    note_alloc(text_len as u64 + 1);
    note_memcpy(copied);
}

/// A `bytes.lit` value: the literal's bytes are copied into a new buffer, which the real
/// runtime counts in `memcpy_bytes` (recorded: `os/read_data` copies its two literals).
pub fn literal_value(text: &[u8]) -> Value {
    note_memcpy(text.len());
    bytes_value(text.to_vec())
}

/// Resets the counters at the start of a run.
pub fn reset_counters() {
    MEM.with(|m| {
        for c in [
            &m.alloc_calls,
            &m.realloc_calls,
            &m.free_calls,
            &m.bytes_alloc_total,
            &m.bytes_freed_total,
            &m.live_bytes,
            &m.peak_live_bytes,
            &m.live_allocs,
            &m.peak_live_allocs,
            &m.memcpy_bytes,
        ] {
            c.set(0);
        }
    });
}

/// Snapshot of the counters as `[alloc, realloc, free, alloc_total, freed_total, live, peak_live, live_allocs, peak_allocs, memcpy]`.
pub fn counters() -> [u64; 10] {
    MEM.with(|m| {
        [
            m.alloc_calls.get(),
            m.realloc_calls.get(),
            m.free_calls.get(),
            m.bytes_alloc_total.get(),
            m.bytes_freed_total.get(),
            m.live_bytes.get(),
            m.peak_live_bytes.get(),
            m.live_allocs.get(),
            m.peak_live_allocs.get(),
            m.memcpy_bytes.get(),
        ]
    })
}

/// A heap buffer whose accounted size is reported to the run's counters.
#[derive(Debug)]
pub struct Buf {
    /// The bytes (for a `vec_u8`, exactly its `len` bytes).
    pub data: Vec<u8>,
    accounted: u64,
    /// Whether the buffer is on the program heap (the run's input is not).
    tracked: bool,
}

impl Buf {
    /// A buffer accounted at its length.
    pub fn new(data: Vec<u8>) -> Buf {
        let n = data.len() as u64;
        Buf::with_accounted(data, n)
    }

    /// A buffer accounted at `accounted` bytes (a vector's capacity).
    pub fn with_accounted(data: Vec<u8>, accounted: u64) -> Buf {
        note_alloc(accounted);
        Buf {
            data,
            accounted,
            tracked: true,
        }
    }

    /// A buffer outside the program heap (the run's input), not counted in `mem_stats`.
    pub fn untracked(data: Vec<u8>) -> Buf {
        Buf {
            data,
            accounted: 0,
            tracked: false,
        }
    }

    /// Changes the accounted size (a vector growing).
    pub fn set_accounted(&mut self, accounted: u64) {
        if accounted != self.accounted && self.tracked {
            if self.accounted == 0 {
                note_alloc(accounted);
                self.accounted = accounted;
                return;
            }
            MEM.with(|m| {
                bump(&m.realloc_calls, 1);
                if accounted > self.accounted {
                    let d = accounted - self.accounted;
                    bump(&m.bytes_alloc_total, d);
                    bump(&m.live_bytes, d);
                    m.peak_live_bytes
                        .set(m.peak_live_bytes.get().max(m.live_bytes.get()));
                } else {
                    let d = self.accounted - accounted;
                    bump(&m.bytes_freed_total, d);
                    m.live_bytes.set(m.live_bytes.get().saturating_sub(d));
                }
            });
            self.accounted = accounted;
        }
    }
}

impl Clone for Buf {
    fn clone(&self) -> Buf {
        note_memcpy(self.data.len());
        Buf::with_accounted(self.data.clone(), self.accounted)
    }
}

impl Drop for Buf {
    fn drop(&mut self) {
        if self.tracked {
            note_free(self.accounted);
        }
    }
}

/// Shared handle to a buffer.
pub type BufRef = Rc<Buf>;

/// Makes an owned `bytes` value.
pub fn new_bytes(data: Vec<u8>) -> BufRef {
    Rc::new(Buf::new(data))
}

/// A `bytes_view`: a window into a buffer.
#[derive(Debug, Clone)]
pub struct View {
    /// The viewed buffer.
    pub buf: BufRef,
    /// Start offset.
    pub start: usize,
    /// Length.
    pub len: usize,
}

impl View {
    /// A view of a whole buffer.
    pub fn whole(buf: BufRef) -> View {
        let len = buf.data.len();
        View { buf, start: 0, len }
    }

    /// The viewed bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf.data[self.start..self.start + self.len]
    }
}

/// A `vec_u8`: contents plus the observable capacity.
#[derive(Debug, Clone)]
pub struct VecU8 {
    /// The contents (`len` bytes).
    pub buf: BufRef,
    /// Observable capacity (`vec_u8.cap`).
    pub cap: u64,
}

/// A runtime value.
#[derive(Debug, Clone)]
pub enum Value {
    /// `i32`.
    I32(i32),
    /// `bytes`.
    Bytes(BufRef),
    /// `bytes_view`.
    View(View),
    /// `vec_u8`.
    Vec(VecU8),
    /// `option_i32`.
    OptI32(Option<i32>),
    /// `option_bytes`.
    OptBytes(Option<BufRef>),
    /// `option_bytes_view`.
    OptView(Option<View>),
    /// `result_i32`.
    ResI32(Result<i32, i32>),
    /// `result_bytes`.
    ResBytes(Result<BufRef, i32>),
    /// `result_bytes_view`.
    ResView(Result<View, i32>),
    /// A consumed variable slot (never read by checked code).
    Moved,
}

impl Value {
    /// The i32 payload (0 for anything else, which checked code never produces).
    pub fn i32(&self) -> i32 {
        match self {
            Value::I32(x) => *x,
            _ => 0,
        }
    }

    /// The bytes of a `bytes`, `bytes_view` or `vec_u8` value.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Value::Bytes(b) => &b.data,
            Value::View(v) => v.as_slice(),
            Value::Vec(v) => &v.buf.data,
            _ => &[],
        }
    }

    /// Converts `bytes` / `vec_u8` / `bytes_view` to a view sharing the buffer.
    pub fn into_view(self) -> View {
        match self {
            Value::Bytes(b) => View::whole(b),
            Value::Vec(v) => View::whole(v.buf),
            Value::View(v) => v,
            _ => View::whole(new_bytes(Vec::new())),
        }
    }

    /// Takes an owned byte buffer out of a `bytes` value (copying if shared).
    pub fn into_vec(self) -> Vec<u8> {
        match self {
            Value::Bytes(b) => take_buf(b),
            Value::Vec(v) => take_buf(v.buf),
            Value::View(v) => {
                note_memcpy(v.len);
                v.as_slice().to_vec()
            }
            _ => Vec::new(),
        }
    }
}

/// The data of a buffer, without copying when it is not shared.
pub fn take_buf(b: BufRef) -> Vec<u8> {
    match Rc::try_unwrap(b) {
        Ok(mut buf) => std::mem::take(&mut buf.data),
        Err(shared) => {
            note_memcpy(shared.data.len());
            shared.data.clone()
        }
    }
}

/// Makes a `bytes` value from data.
pub fn bytes_value(data: Vec<u8>) -> Value {
    Value::Bytes(new_bytes(data))
}
