//! Evaluation: runs a checked [`Program`] on an input.
//!
//! `check` lowers every reachable function to the stack code of [`code`]; [`solve`] runs
//! it in one loop with an explicit call stack, so evaluation never recurses on the Rust
//! stack, charges fuel per instruction (stack shuffles are free) and tracks heap bytes.
//!
//! # What is implemented
//! * All core forms of subset §6 (`begin let set set0 if for while return`, `input`),
//!   including the `for` quirks (unsigned test, reused variable, small-literal unrolling).
//! * The 22 i32 operators of §7 with wrapping/unsigned semantics and short-circuit `&&`/`||`.
//! * Every builtin of §8 (bytes, view, vec_u8, codec/fmt/parse/prng, option/result incl.
//!   view variants, `try`, `try_doc`) with the exact trap texts and ` ptr=` suffixes.
//! * The std functions of §9 natively (`crate::std`), with in-std trap pointers (§9.9).
//! * The OS builtins of §10 through [`crate::host::Host`]; the ext-fs and archive heads
//!   give their compile errors (with `native_requires`).
//! * Compile-time rejections of §12 and the ownership checks of §5 (use after move,
//!   move/set while borrowed, view-of-temporary, returning a view of a local).
//!
//! # What is not
//! * Heads outside the subset (`task.*`, `chan.*`, `io.*`, pointers, `defasync`, records,
//!   other std modules) give `Unsupported: unsupported head: "…"` like the real compiler.
//! * `result_result_bytes.*` and x07text (`.x07t`) modules.
//! * Exact fuel accounting: the real per-form costs are not recorded; x07-lite charges one
//!   unit per non-trivial instruction, close to the per-iteration totals of subset §1, and
//!   natively run std functions a base plus per-byte cost (`crate::std::fuel_cost`).
//! * Unbounded recursion traps `stack overflow: call depth exceeds 100000`; this text is
//!   x07-lite's own (the real toolchain's behaviour on native stack overflow is not recorded).

pub mod builtins;
pub mod code;

use crate::host::{Host, Interrupt};
use std::rc::Rc;

use crate::value::{self, bytes_value, Buf, Value, View};
pub use code::Program;
use code::{ErrWrap, Op, NO_PTR};

/// Deepest user-function nesting before `solve` traps.
pub const MAX_CALL_DEPTH: usize = 100_000;

/// Resource limits of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SolveLimits {
    /// Fuel units (one per executed non-trivial instruction); default 50,000,000.
    pub fuel: u64,
    /// Heap limit in bytes; default 64 MiB.
    pub max_memory_bytes: u64,
}

impl Default for SolveLimits {
    fn default() -> Self {
        SolveLimits {
            fuel: 50_000_000,
            max_memory_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Heap counters of a run (the report's `mem_stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemStats {
    /// Buffers allocated.
    pub alloc_calls: u64,
    /// Buffers resized.
    pub realloc_calls: u64,
    /// Buffers freed.
    pub free_calls: u64,
    /// Bytes allocated in total.
    pub bytes_alloc_total: u64,
    /// Bytes freed in total.
    pub bytes_freed_total: u64,
    /// Bytes live at the end.
    pub live_bytes: u64,
    /// Most bytes live at once.
    pub peak_live_bytes: u64,
    /// Buffers live at the end.
    pub live_allocs: u64,
    /// Most buffers live at once.
    pub peak_live_allocs: u64,
    /// Bytes copied between buffers.
    pub memcpy_bytes: u64,
}

/// Statistics of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SolveStats {
    /// Fuel units used.
    pub fuel_used: u64,
    /// Peak heap bytes plus the input size (the real runtime's `heap_used` counts both).
    pub heap_used: u64,
    /// Heap counters.
    pub mem: MemStats,
}

/// Result of [`solve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SolveOutcome {
    /// The output bytes, or why the run stopped.
    pub result: Result<Vec<u8>, Interrupt>,
    /// Counters (meaningful on success; plausible otherwise).
    pub stats: SolveStats,
}

/// Runs `solve` with `input` as the `input` view.
///
/// Never panics on checked programs, never recurses on the Rust stack, and stops within
/// the fuel.
pub fn solve(
    program: &Program,
    input: &[u8],
    host: &mut dyn Host,
    limits: &SolveLimits,
) -> SolveOutcome {
    value::reset_counters();
    let fuel_used;
    let result = {
        let mut vm = Vm {
            program,
            host,
            limits,
            input: View::whole(Rc::new(Buf::untracked(input.to_vec()))),
            stack: Vec::new(),
            locals: Vec::new(),
            frames: Vec::new(),
            fuel_used: 0,
        };
        // Checked programs never make the machine panic; should a bug do so anyway, the run
        // ends with a trap instead of unwinding into the caller.
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| vm.run()))
            .unwrap_or_else(|_| Err(trap("x07-lite internal error: interpreter panicked")));
        fuel_used = vm.fuel_used;
        r
    };
    let c = value::counters();
    SolveOutcome {
        result,
        stats: SolveStats {
            fuel_used,
            heap_used: c[6] + input.len() as u64,
            mem: MemStats {
                alloc_calls: c[0],
                realloc_calls: c[1],
                free_calls: c[2],
                bytes_alloc_total: c[3],
                bytes_freed_total: c[4],
                live_bytes: c[5],
                peak_live_bytes: c[6],
                live_allocs: c[7],
                peak_live_allocs: c[8],
                memcpy_bytes: c[9],
            },
        },
    }
}

/// A suspended caller.
struct Frame {
    /// Function index, or `None` for `solve`.
    func: Option<usize>,
    pc: usize,
    base: usize,
    stack_base: usize,
}

struct Vm<'a> {
    program: &'a Program,
    host: &'a mut dyn Host,
    limits: &'a SolveLimits,
    input: View,
    stack: Vec<Value>,
    locals: Vec<Value>,
    frames: Vec<Frame>,
    fuel_used: u64,
}

fn trap(msg: &str) -> Interrupt {
    Interrupt::Trap(msg.to_string())
}

impl Vm<'_> {
    fn pop(&mut self) -> Value {
        self.stack.pop().unwrap_or(Value::Moved)
    }

    fn pop_i32(&mut self) -> i32 {
        self.pop().i32()
    }

    fn pop_args(&mut self, argc: usize) -> Vec<Value> {
        let at = self.stack.len().saturating_sub(argc);
        self.stack.split_off(at)
    }

    fn run(&mut self) -> Result<Vec<u8>, Interrupt> {
        let program = self.program;
        let mut func: Option<usize> = None;
        let mut code: &[Op] = &program.solve.code;
        let mut pc = 0usize;
        let mut base = 0usize;
        let mut sbase = 0usize;
        self.locals
            .resize(program.solve.nslots as usize, Value::Moved);
        loop {
            let Some(op) = code.get(pc) else {
                return Err(trap("x07-lite internal error: code ran off the end"));
            };
            // Pure stack shuffles are free; everything else (operators, stores, jumps,
            // calls, builtins) costs one unit, which puts a trivial `for` iteration at
            // about 5 units and a small `while` iteration at about 8 (subset §1: ~3 / ~12).
            if !matches!(
                op,
                Op::I32(_)
                    | Op::Load(_)
                    | Op::Take(_)
                    | Op::Input
                    | Op::Dup
                    | Op::Pop
                    | Op::Clear(_)
            ) {
                self.fuel_used += 1;
                if self.fuel_used > self.limits.fuel {
                    self.fuel_used = self.limits.fuel;
                    return Err(trap("fuel exhausted"));
                }
            }
            pc += 1;
            let mut ret: Option<Value> = None;
            match op {
                Op::I32(v) => self.stack.push(Value::I32(*v)),
                Op::BytesLit(i) => self
                    .stack
                    .push(bytes_value(program.literals[*i as usize].clone())),
                // View literals live in static data in the real runtime: not on the heap.
                Op::ViewLit(i) => {
                    self.stack
                        .push(Value::View(View::whole(Rc::new(Buf::untracked(
                            program.literals[*i as usize].clone(),
                        )))))
                }
                Op::Input => self.stack.push(Value::View(self.input.clone())),
                Op::Load(s) => {
                    let v = self.locals[base + *s as usize].clone();
                    self.stack.push(v);
                }
                Op::Take(s) => {
                    let v = std::mem::replace(&mut self.locals[base + *s as usize], Value::Moved);
                    self.stack.push(v);
                }
                Op::Store(s) => {
                    let v = self.pop();
                    self.locals[base + *s as usize] = v;
                }
                Op::Clear(s) => self.locals[base + *s as usize] = Value::Moved,
                Op::Dup => {
                    let v = self.stack.last().cloned().unwrap_or(Value::Moved);
                    self.stack.push(v);
                }
                Op::Pop => {
                    self.pop();
                }
                Op::Jump(t) => pc = *t as usize,
                Op::JumpIfZero(t) => {
                    if self.pop_i32() == 0 {
                        pc = *t as usize;
                    }
                }
                Op::JumpIfNonZero(t) => {
                    if self.pop_i32() != 0 {
                        pc = *t as usize;
                    }
                }
                Op::ToBool => {
                    let v = self.pop_i32();
                    self.stack.push(Value::I32((v != 0) as i32));
                }
                Op::Bin(op) => {
                    let b = self.pop_i32();
                    let a = self.pop_i32();
                    self.stack.push(Value::I32(op.apply(a, b)));
                }
                Op::Builtin { id, argc, ptr } => {
                    let args = self.pop_args(*argc as usize);
                    let ptr = (*ptr != NO_PTR).then(|| program.ptrs[*ptr as usize].as_str());
                    let mut cx = builtins::Ctx {
                        host: &mut *self.host,
                        ptr,
                        max_memory_bytes: self.limits.max_memory_bytes,
                    };
                    let v = builtins::run(*id, args, &mut cx)?;
                    self.stack.push(v);
                    self.check_memory()?;
                }
                Op::Std { id, argc } => {
                    let args = self.pop_args(*argc as usize);
                    self.fuel_used += crate::std::fuel_cost(*id, &args);
                    if self.fuel_used > self.limits.fuel {
                        self.fuel_used = self.limits.fuel;
                        return Err(trap("fuel exhausted"));
                    }
                    let v = crate::std::call(*id, args, &mut *self.host)?;
                    self.stack.push(v);
                    self.check_memory()?;
                }
                Op::Call(f) => {
                    if self.frames.len() >= MAX_CALL_DEPTH {
                        return Err(trap("stack overflow: call depth exceeds 100000"));
                    }
                    let callee = &program.functions[*f as usize];
                    let args = self.pop_args(callee.nparams as usize);
                    self.frames.push(Frame {
                        func,
                        pc,
                        base,
                        stack_base: sbase,
                    });
                    sbase = self.stack.len();
                    base = self.locals.len();
                    self.locals.extend(args);
                    self.locals
                        .resize(base + callee.nslots as usize, Value::Moved);
                    func = Some(*f as usize);
                    code = &callee.code;
                    pc = 0;
                }
                Op::Return => ret = Some(self.pop()),
                Op::Try(wrap) => match self.pop() {
                    Value::ResI32(Ok(v)) => self.stack.push(Value::I32(v)),
                    Value::ResBytes(Ok(b)) => self.stack.push(Value::Bytes(b)),
                    Value::ResI32(Err(c)) | Value::ResBytes(Err(c)) => {
                        ret = Some(match wrap {
                            ErrWrap::ResI32 => Value::ResI32(Err(c)),
                            ErrWrap::ResBytes => Value::ResBytes(Err(c)),
                        });
                    }
                    _ => return Err(trap("x07-lite internal error: try of a non-result")),
                },
                Op::TryDoc => {
                    let d = self.pop();
                    let data = d.bytes();
                    if data.first() == Some(&1) {
                        let payload = data[1..].to_vec();
                        self.stack.push(bytes_value(payload));
                    } else {
                        ret = Some(d);
                    }
                }
                Op::ToView => {
                    let v = self.pop();
                    self.stack.push(Value::View(v.into_view()));
                }
                Op::OptBytesUnwrapOrVar(s) => {
                    let default = self.pop();
                    match self.pop() {
                        Value::OptBytes(Some(b)) => self.stack.push(Value::Bytes(b)),
                        _ => {
                            self.stack.push(default);
                            self.locals[base + *s as usize] = bytes_value(Vec::new());
                        }
                    }
                }
            }
            if let Some(v) = ret {
                match self.frames.pop() {
                    None => {
                        return Ok(match v {
                            Value::Bytes(b) => value::take_buf(b),
                            other => other.into_vec(),
                        })
                    }
                    Some(fr) => {
                        self.locals.truncate(base);
                        self.stack.truncate(sbase);
                        self.stack.push(v);
                        sbase = fr.stack_base;
                        func = fr.func;
                        pc = fr.pc;
                        base = fr.base;
                        code = match func {
                            Some(f) => &program.functions[f].code,
                            None => &program.solve.code,
                        };
                    }
                }
            }
        }
    }

    fn check_memory(&self) -> Result<(), Interrupt> {
        if value::live_bytes() > self.limits.max_memory_bytes {
            Err(trap("out of memory"))
        } else {
            Ok(())
        }
    }
}
