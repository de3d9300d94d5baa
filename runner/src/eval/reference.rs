//! The reference evaluator: walks the typed tree recursively and charges fuel literally,
//! one unit per ticking node in evaluation order (`crate::fuel`). It is the oracle the
//! execution engine (`crate::vm`) is compared with; it is slow and recurses on the Rust
//! stack, so it gives up on programs deeper than [`MAX_DEPTH`] calls.

use std::rc::Rc;

use super::builtins;
use crate::host::{Host, Interrupt};
use crate::tir::{ErrWrap, TExpr, TFn, TKind, TProgram, VarId};
use crate::value::{self, bytes_value, Buf, Value, View};

/// Deepest user-function nesting the reference evaluator follows.
pub const MAX_DEPTH: usize = 2_000;

/// Text of the trap the reference evaluator gives when a program recurses deeper than it
/// follows (not a toolchain behaviour: such runs are not compared).
pub const TOO_DEEP: &str = "x07-lite reference evaluator: recursion too deep";

/// Why evaluation left the normal path.
enum Flow {
    /// `return` (or a failed `try`) with the function's value.
    Ret(Value),
    /// A trap or exit.
    Stop(Interrupt),
}

impl From<Interrupt> for Flow {
    fn from(i: Interrupt) -> Flow {
        Flow::Stop(i)
    }
}

type R = Result<Value, Flow>;

/// Outcome of one reference run: the result and the fuel charged.
pub struct RefOutcome {
    /// Output or why the run stopped.
    pub result: Result<Vec<u8>, Interrupt>,
    /// Units charged (equal to the limit plus one is never reported: a fuel trap stops
    /// at the limit).
    pub fuel_used: u64,
}

/// Runs `solve` of a checked program with the reference evaluator.
pub fn run(
    program: &TProgram,
    input: &[u8],
    host: &mut dyn Host,
    fuel: u64,
    max_memory_bytes: u64,
) -> RefOutcome {
    let mut ev = RefEval {
        program,
        host,
        fuel,
        max_memory_bytes,
        fuel_used: 0,
        depth: 0,
        input: View::whole(Rc::new(Buf::untracked(input.to_vec()))),
    };
    let result = match ev.call_fn(&program.solve, Vec::new()) {
        Ok(v) => Ok(v.into_vec()),
        Err(i) => Err(i),
    };
    RefOutcome {
        result,
        fuel_used: ev.fuel_used,
    }
}

struct RefEval<'a> {
    program: &'a TProgram,
    host: &'a mut dyn Host,
    fuel: u64,
    max_memory_bytes: u64,
    fuel_used: u64,
    depth: usize,
    input: View,
}

fn trap(msg: &str) -> Flow {
    Flow::Stop(Interrupt::Trap(msg.to_string()))
}

impl RefEval<'_> {
    fn charge(&mut self, units: u64) -> Result<(), Flow> {
        self.fuel_used += units;
        if self.fuel_used > self.fuel {
            self.fuel_used = self.fuel;
            return Err(trap("fuel exhausted"));
        }
        Ok(())
    }

    fn check_memory(&self) -> Result<(), Flow> {
        if value::live_bytes() > self.max_memory_bytes {
            Err(trap("out of memory"))
        } else {
            Ok(())
        }
    }

    fn call_fn(&mut self, f: &TFn, args: Vec<Value>) -> Result<Value, Interrupt> {
        if self.depth >= MAX_DEPTH {
            return Err(Interrupt::Trap(TOO_DEEP.to_string()));
        }
        self.depth += 1;
        let mut locals = args;
        locals.resize(f.vars.len(), Value::Moved);
        let r = self.eval(&f.body, &mut locals);
        self.depth -= 1;
        match r {
            Ok(v) | Err(Flow::Ret(v)) => Ok(v),
            Err(Flow::Stop(i)) => Err(i),
        }
    }

    fn clear(locals: &mut [Value], scope: &[VarId]) {
        for &v in scope {
            locals[v as usize] = Value::Moved;
        }
    }

    fn eval_args(&mut self, args: &[TExpr], locals: &mut Vec<Value>) -> Result<Vec<Value>, Flow> {
        let mut out = Vec::with_capacity(args.len());
        for a in args {
            out.push(self.eval(a, locals)?);
        }
        Ok(out)
    }

    fn eval(&mut self, e: &TExpr, locals: &mut Vec<Value>) -> R {
        if e.tick {
            self.charge(1)?;
        }
        let program = self.program;
        Ok(match &e.kind {
            TKind::Int(v) => Value::I32(*v),
            TKind::Input => Value::View(self.input.clone()),
            TKind::Var(v) => locals[*v as usize].clone(),
            TKind::Take(v) => std::mem::replace(&mut locals[*v as usize], Value::Moved),
            TKind::BytesLit(i) => {
                let v = value::literal_value(&program.literals[*i as usize]);
                self.check_memory()?;
                v
            }
            TKind::ViewLit(i) => Value::View(View::whole(Rc::new(Buf::untracked(
                program.literals[*i as usize].clone(),
            )))),
            TKind::Begin { items, scope } => {
                let Some((last, init)) = items.split_last() else {
                    return Ok(Value::I32(0));
                };
                // A statement's value is dropped before the next item runs (a `let`'s
                // value shares the bound buffer; kept alive, it would make the next
                // in-place update copy the buffer and count it twice on the heap).
                for it in init {
                    drop(self.eval(it, locals)?);
                }
                let value = self.eval(last, locals)?;
                Self::clear(locals, scope);
                value
            }
            TKind::Let { var, value } => {
                let v = self.eval(value, locals)?;
                locals[*var as usize] = v.clone();
                v
            }
            TKind::Set { var, value, zero } => {
                let v = self.eval(value, locals)?;
                locals[*var as usize] = v.clone();
                if *zero {
                    Value::I32(0)
                } else {
                    v
                }
            }
            TKind::If {
                cond,
                then,
                els,
                then_scope,
                else_scope,
            } => {
                if self.eval(cond, locals)?.i32() != 0 {
                    let v = self.eval(then, locals)?;
                    Self::clear(locals, then_scope);
                    v
                } else {
                    let v = self.eval(els, locals)?;
                    Self::clear(locals, else_scope);
                    v
                }
            }
            TKind::For {
                var,
                start,
                end,
                body,
                body_scope,
            } => {
                let s = self.eval(start, locals)?.i32();
                locals[*var as usize] = Value::I32(s);
                let end = self.eval(end, locals)?.i32() as u32;
                if body.is_free_moves() {
                    // Up to 2^32 iterations that cost nothing and repeat the first one's
                    // effect: run it once.
                    if (s as u32) < end {
                        self.eval(body, locals)?;
                        Self::clear(locals, body_scope);
                        locals[*var as usize] = Value::I32(end as i32);
                    }
                    return Ok(Value::I32(0));
                }
                loop {
                    let i = locals[*var as usize].i32();
                    if (i as u32) >= end {
                        break;
                    }
                    self.eval(body, locals)?;
                    Self::clear(locals, body_scope);
                    let i = locals[*var as usize].i32();
                    locals[*var as usize] = Value::I32(i.wrapping_add(1));
                }
                Value::I32(0)
            }
            TKind::While {
                cond,
                body,
                cond_scope,
                body_scope,
            } => {
                while self.eval(cond, locals)?.i32() != 0 {
                    self.eval(body, locals)?;
                    Self::clear(locals, body_scope);
                }
                Self::clear(locals, cond_scope);
                Value::I32(0)
            }
            TKind::Return(v) => {
                let v = self.eval(v, locals)?;
                return Err(Flow::Ret(v));
            }
            TKind::And(a, b) => {
                if self.eval(a, locals)?.i32() == 0 {
                    Value::I32(0)
                } else {
                    Value::I32((self.eval(b, locals)?.i32() != 0) as i32)
                }
            }
            TKind::Or(a, b) => {
                if self.eval(a, locals)?.i32() != 0 {
                    Value::I32(1)
                } else {
                    Value::I32((self.eval(b, locals)?.i32() != 0) as i32)
                }
            }
            TKind::Bin(op, a, b) => {
                let x = self.eval(a, locals)?.i32();
                let y = self.eval(b, locals)?.i32();
                Value::I32(op.apply(x, y))
            }
            TKind::Builtin {
                id,
                args,
                ptr,
                owner_last,
            } => {
                let vals = if *owner_last {
                    let mut rest = self.eval_args(&args[1..], locals)?;
                    let owner = self.eval(&args[0], locals)?;
                    rest.insert(0, owner);
                    rest
                } else {
                    self.eval_args(args, locals)?
                };
                let ptr = ptr.map(|p| program.ptrs[p as usize].as_str());
                let mut cx = builtins::Ctx {
                    host: &mut *self.host,
                    ptr,
                    max_memory_bytes: self.max_memory_bytes,
                };
                let v = builtins::run(*id, vals, &mut cx)?;
                self.check_memory()?;
                v
            }
            TKind::UnwrapOrVar { opt, default, var } => {
                let o = self.eval(opt, locals)?;
                let d = self.eval(default, locals)?;
                match o {
                    Value::OptBytes(Some(b)) => Value::Bytes(b),
                    _ => {
                        locals[*var as usize] = Value::Moved;
                        d
                    }
                }
            }
            TKind::Std { sig, args } => {
                let vals = self.eval_args(args, locals)?;
                self.charge(crate::fuel::std_body_cost(sig, &vals))?;
                let v = crate::std::run(sig, vals, &mut *self.host, self.max_memory_bytes)?;
                self.check_memory()?;
                v
            }
            TKind::Call { func, args } => {
                let vals = self.eval_args(args, locals)?;
                let f = &program.functions[*func as usize];
                self.call_fn(f, vals)?
            }
            TKind::Try { value, wrap } => match self.eval(value, locals)? {
                Value::ResI32(Ok(v)) => Value::I32(v),
                Value::ResBytes(Ok(b)) => Value::Bytes(b),
                other => {
                    let code = match other {
                        Value::ResI32(Err(c)) | Value::ResBytes(Err(c)) => c,
                        _ => 0,
                    };
                    return Err(Flow::Ret(match wrap {
                        ErrWrap::ResI32 => Value::ResI32(Err(code)),
                        ErrWrap::ResBytes => Value::ResBytes(Err(code)),
                    }));
                }
            },
            TKind::TryDoc(value) => {
                let d = self.eval(value, locals)?;
                let data = d.bytes();
                if data.first() == Some(&1) {
                    value::note_memcpy(data.len() - 1);
                    let payload = bytes_value(data[1..].to_vec());
                    self.check_memory()?;
                    payload
                } else {
                    return Err(Flow::Ret(d));
                }
            }
            TKind::ToView(inner) => Value::View(self.eval(inner, locals)?.into_view()),
        })
    }
}
