//! The interpreter loop of the register machine.
//!
//! One loop, an explicit call stack on the heap (no Rust recursion), i32 registers and
//! value slots in two growable files shared by all frames. Fuel is charged once per basic
//! block by its [`Op::Fuel`] header; when a block costs more than what is left, its
//! operations run one by one with their own costs until the one that cannot be paid,
//! and the run traps `fuel exhausted` exactly where the reference evaluator does.

use std::rc::Rc;

use super::code::{Arg, Dst, Op, Src, VmFn, I, NO_PTR};
use super::stack::{MAX_FRAMES, NATIVE_STACK_BUDGET, STACK_OVERFLOW_SIGNAL};
use super::VmProgram;
use crate::eval::builtins::{self, as_bytes, as_vec, trap_ptr};
use crate::host::{Host, Interrupt};
use crate::tir::{ErrWrap, FnId};
use crate::value::{self, bytes_value, Buf, Value, View};

/// The cheap operations, shared by the main loop (one dispatch with the control
/// operations) and [`Machine::step`] (the per-operation path of a block that runs out of
/// fuel). Every arm evaluates to `()`; `$arms` are spliced into the same `match`.
macro_rules! cheap_ops {
    ($m:ident, $prog:ident, $op:expr, $rb:ident, $sb:ident, { $($arms:tt)* }) => {
        match $op {
            Op::Imm { d, k } => $m.regs[$rb + *d as usize] = *k,
            Op::Mov { d, s } => $m.regs[$rb + *d as usize] = $m.regs[$rb + *s as usize],
            Op::Add { d, a, b } => {
                $m.regs[$rb + *d as usize] =
                    $m.regs[$rb + *a as usize].wrapping_add($m.regs[$rb + *b as usize])
            }
            Op::AddK { d, a, k } => {
                $m.regs[$rb + *d as usize] = $m.regs[$rb + *a as usize].wrapping_add(*k)
            }
            Op::Sub { d, a, b } => {
                $m.regs[$rb + *d as usize] =
                    $m.regs[$rb + *a as usize].wrapping_sub($m.regs[$rb + *b as usize])
            }
            Op::Mul { d, a, b } => {
                $m.regs[$rb + *d as usize] =
                    $m.regs[$rb + *a as usize].wrapping_mul($m.regs[$rb + *b as usize])
            }
            Op::MulK { d, a, k } => {
                $m.regs[$rb + *d as usize] = $m.regs[$rb + *a as usize].wrapping_mul(*k)
            }
            Op::AndK { d, a, k } => $m.regs[$rb + *d as usize] = $m.regs[$rb + *a as usize] & *k,
            Op::Xor { d, a, b } => {
                $m.regs[$rb + *d as usize] =
                    $m.regs[$rb + *a as usize] ^ $m.regs[$rb + *b as usize]
            }
            Op::ShlK { d, a, k } => {
                $m.regs[$rb + *d as usize] =
                    (($m.regs[$rb + *a as usize] as u32) << (*k as u32 & 31)) as i32
            }
            Op::ShrK { d, a, k } => {
                $m.regs[$rb + *d as usize] =
                    (($m.regs[$rb + *a as usize] as u32) >> (*k as u32 & 31)) as i32
            }
            Op::Bin { op, d, a, b } => {
                $m.regs[$rb + *d as usize] = op.apply($m.i(*a, $rb), $m.i(*b, $rb))
            }
            Op::SMove { d, s } => {
                let v = std::mem::replace(&mut $m.slots[$sb + *s as usize], Value::Moved);
                $m.slots[$sb + *d as usize] = v;
            }
            Op::SCopy { d, s } => {
                let v = $m.slots[$sb + *s as usize].clone();
                $m.slots[$sb + *d as usize] = v;
            }
            Op::SClear { s } => $m.slots[$sb + *s as usize] = Value::Moved,
            Op::SLit { d, lit } => {
                // Counted while the slot's old value is still alive, as `set` evaluates
                // its value before it replaces the old one.
                let v = value::literal_value(&$prog.literals[*lit as usize]);
                $m.check_memory()?;
                $m.slots[$sb + *d as usize] = v;
            }
            Op::SViewLit { d, lit } => {
                $m.slots[$sb + *d as usize] = Value::View($m.lits[*lit as usize].clone())
            }
            Op::SInput { d } => $m.slots[$sb + *d as usize] = Value::View($m.input.clone()),
            Op::ToView { d, s } => {
                let v = match s {
                    Src::Input => $m.input.clone(),
                    Src::Slot(x) => $m.slots[$sb + *x as usize].clone().into_view(),
                };
                $m.slots[$sb + *d as usize] = Value::View(v);
            }
            Op::Len { d, s } => {
                let n = $m.src_bytes(*s, $sb).len() as i32;
                $m.regs[$rb + *d as usize] = n;
            }
            Op::GetU8 { d, s, i, ptr } => {
                let i = $m.i(*i, $rb) as u32 as usize;
                match $m.src_bytes(*s, $sb).get(i) {
                    Some(&c) => $m.regs[$rb + *d as usize] = c as i32,
                    None => return Err(trap_ptr("view.get_u8 oob", ptr_of($prog, *ptr))),
                }
            }
            $($arms)*
        }
    };
}

/// Index of `solve` in [`Frame::func`].
const SOLVE: FnId = FnId::MAX;

/// A suspended caller.
#[derive(Debug, Clone, Copy)]
struct Frame {
    func: FnId,
    ret_pc: u32,
    rb: u32,
    sb: u32,
    d: Dst,
    native: u32,
}

/// What running stopped with.
pub(super) struct Stopped {
    /// The output or the interrupt.
    pub result: Result<Vec<u8>, Interrupt>,
    /// Units left.
    pub fuel_left: u64,
}

pub(super) struct Machine<'a> {
    prog: &'a VmProgram,
    host: &'a mut dyn Host,
    max_memory: u64,
    fuel_left: u64,
    regs: Vec<i32>,
    slots: Vec<Value>,
    frames: Vec<Frame>,
    input: View,
    lits: Vec<View>,
    native_used: u64,
}

fn trap(msg: &str) -> Interrupt {
    Interrupt::Trap(msg.to_string())
}

fn ptr_of(prog: &VmProgram, ptr: u32) -> Option<&str> {
    (ptr != NO_PTR).then(|| prog.ptrs[ptr as usize].as_str())
}

/// What control does after a non-jump operation.
enum Flow {
    Next,
    Return(Value),
}

impl<'a> Machine<'a> {
    pub(super) fn new(
        prog: &'a VmProgram,
        host: &'a mut dyn Host,
        input: &[u8],
        fuel: u64,
        max_memory: u64,
    ) -> Machine<'a> {
        let lits = prog
            .literals
            .iter()
            .map(|l| View::whole(Rc::new(Buf::untracked(l.clone()))))
            .collect();
        Machine {
            prog,
            host,
            max_memory,
            fuel_left: fuel,
            regs: Vec::new(),
            slots: Vec::new(),
            frames: Vec::new(),
            input: View::whole(Rc::new(Buf::untracked(input.to_vec()))),
            lits,
            native_used: 0,
        }
    }

    pub(super) fn run(mut self) -> Stopped {
        let result = self.run_loop();
        // Values die before the counters are read.
        self.slots.clear();
        Stopped {
            result,
            fuel_left: self.fuel_left,
        }
    }

    #[inline(always)]
    fn i(&self, x: I, rb: usize) -> i32 {
        match x {
            I::R(r) => self.regs[rb + r as usize],
            I::K(k) => k,
        }
    }

    fn src_bytes(&self, s: Src, sb: usize) -> &[u8] {
        match s {
            Src::Slot(x) => self.slots[sb + x as usize].bytes(),
            Src::Input => self.input.as_slice(),
        }
    }

    fn arg_value(&mut self, a: Arg, rb: usize, sb: usize) -> Value {
        match a {
            Arg::I(x) => Value::I32(self.i(x, rb)),
            Arg::Move(s) => std::mem::replace(&mut self.slots[sb + s as usize], Value::Moved),
            Arg::Copy(s) => self.slots[sb + s as usize].clone(),
            Arg::Input => Value::View(self.input.clone()),
            Arg::ViewLit(l) => Value::View(self.lits[l as usize].clone()),
        }
    }

    fn args(&mut self, args: &[Arg], rb: usize, sb: usize) -> Vec<Value> {
        args.iter().map(|&a| self.arg_value(a, rb, sb)).collect()
    }

    fn put(&mut self, d: Dst, v: Value, rb: usize, sb: usize) {
        match d {
            Dst::R(r) => self.regs[rb + r as usize] = v.i32(),
            Dst::S(s) => self.slots[sb + s as usize] = v,
            Dst::None => {}
        }
    }

    fn check_memory(&self) -> Result<(), Interrupt> {
        if value::live_bytes() > self.max_memory {
            Err(trap("out of memory"))
        } else {
            Ok(())
        }
    }

    fn func(&self, f: FnId) -> &'a VmFn {
        let prog: &'a VmProgram = self.prog;
        if f == SOLVE {
            &prog.solve
        } else {
            &prog.functions[f as usize]
        }
    }

    /// Runs one operation that is not a jump, call or return. Also used, one by one, for
    /// the operations of a block that runs out of fuel.
    fn step(&mut self, op: &Op, rb: usize, sb: usize) -> Result<Flow, Interrupt> {
        let prog = self.prog;
        cheap_ops!(self, prog, op, rb, sb, {
            Op::Fuel { .. } | Op::Nop => {}
            Op::VecGet { d, v, i } => {
                let i = self.i(*i, rb) as u32 as usize;
                match self.slots[sb + *v as usize].bytes().get(i) {
                    Some(&c) => self.regs[rb + *d as usize] = c as i32,
                    None => return Err(trap("vec_u8.get oob")),
                }
            }
            Op::VecPushIn { v, x } => {
                let x = self.i(*x, rb) as u8;
                builtins::vec_push(as_vec(&mut self.slots[sb + *v as usize]), x, self.max_memory)?;
            }
            Op::VecSetIn { v, i, x } => {
                let (i, x) = (self.i(*i, rb), self.i(*x, rb) as u8);
                builtins::vec_set(as_vec(&mut self.slots[sb + *v as usize]), i, x)?;
            }
            Op::SetU8In { b, i, x, ptr } => {
                let (i, x) = (self.i(*i, rb), self.i(*x, rb) as u8);
                let ptr = ptr_of(prog, *ptr);
                builtins::bytes_set_u8(as_bytes(&mut self.slots[sb + *b as usize]), i, x, ptr)?;
            }
            Op::VecExtendIn { v, s } => {
                let max = self.max_memory;
                match *s {
                    Src::Input => {
                        let input = self.input.clone();
                        let vec = as_vec(&mut self.slots[sb + *v as usize]);
                        builtins::vec_extend(vec, input.as_slice(), max)?;
                    }
                    Src::Slot(x) if x == *v => {
                        let data = self.slots[sb + x as usize].bytes().to_vec();
                        builtins::vec_extend(as_vec(&mut self.slots[sb + *v as usize]), &data, max)?;
                    }
                    Src::Slot(x) => {
                        let (a, b) = (sb + *v as usize, sb + x as usize);
                        let (target, source) = if a < b {
                            let (lo, hi) = self.slots.split_at_mut(b);
                            (&mut lo[a], &mut hi[0])
                        } else {
                            let (lo, hi) = self.slots.split_at_mut(a);
                            (&mut hi[0], &mut lo[b])
                        };
                        let target = as_vec(target);
                        // Only a temporary (cleared right after) can view the vector
                        // being extended (the checker refuses a set while borrowed):
                        // take it, so the vector grows in place.
                        let data = if builtins::aliases(source, target) {
                            builtins::unalias(std::mem::replace(source, Value::Moved), target)
                        } else {
                            source.clone()
                        };
                        builtins::vec_extend(target, data.bytes(), max)?;
                    }
                }
            }
            Op::Builtin { id, args, d, ptr } => {
                let vals = self.args(args, rb, sb);
                let mut cx = builtins::Ctx {
                    host: &mut *self.host,
                    ptr: ptr_of(prog, *ptr),
                    max_memory_bytes: self.max_memory,
                };
                let v = builtins::run(*id, vals, &mut cx)?;
                self.check_memory()?;
                self.put(*d, v, rb, sb);
            }
            Op::UnwrapOrVar { opt, def, var, d } => {
                let o = self.arg_value(*opt, rb, sb);
                let dv = self.arg_value(*def, rb, sb);
                let v = match o {
                    Value::OptBytes(Some(b)) => Value::Bytes(b),
                    _ => {
                        self.slots[sb + *var as usize] = Value::Moved;
                        dv
                    }
                };
                self.put(*d, v, rb, sb);
            }
            Op::Std { sig, args, d } => {
                let vals = self.args(args, rb, sb);
                let cost = crate::fuel::std_body_cost(sig, &vals);
                if cost > self.fuel_left {
                    self.fuel_left = 0;
                    return Err(trap("fuel exhausted"));
                }
                self.fuel_left -= cost;
                let v = crate::std::run(sig, vals, &mut *self.host, self.max_memory)?;
                self.check_memory()?;
                self.put(*d, v, rb, sb);
            }
            Op::Try { v, wrap, d } => match self.arg_value(*v, rb, sb) {
                Value::ResI32(Ok(x)) => self.regs_put(*d, x, rb),
                Value::ResBytes(Ok(b)) => self.put(*d, Value::Bytes(b), rb, sb),
                other => {
                    let code = match other {
                        Value::ResI32(Err(c)) | Value::ResBytes(Err(c)) => c,
                        _ => 0,
                    };
                    return Ok(Flow::Return(match wrap {
                        ErrWrap::ResI32 => Value::ResI32(Err(code)),
                        ErrWrap::ResBytes => Value::ResBytes(Err(code)),
                    }));
                }
            },
            Op::TryDoc { v, d } => {
                let doc = self.arg_value(*v, rb, sb);
                let data = doc.bytes();
                if data.first() == Some(&1) {
                    value::note_memcpy(data.len() - 1);
                    let payload = bytes_value(data[1..].to_vec());
                    self.check_memory()?;
                    self.put(*d, payload, rb, sb);
                } else {
                    return Ok(Flow::Return(doc));
                }
            }
            Op::Ret { v } => return Ok(Flow::Return(self.arg_value(*v, rb, sb))),
            Op::Jmp { .. }
            | Op::Jz { .. }
            | Op::Jnz { .. }
            | Op::JCmp { .. }
            | Op::IncLoop { .. }
            | Op::Call { .. }
            | Op::TailCall { .. } => {
                return Err(trap("x07-lite internal error: control operation stepped"));
            }
        });
        Ok(Flow::Next)
    }

    fn regs_put(&mut self, d: Dst, x: i32, rb: usize) {
        if let Dst::R(r) = d {
            self.regs[rb + r as usize] = x;
        }
    }

    /// A block whose header costs more than what is left: runs its operations while
    /// their own costs can be paid, then traps.
    fn exhaust(&mut self, f: &VmFn, start: usize, rb: usize, sb: usize) -> Interrupt {
        let mut k = start;
        loop {
            let cost = u64::from(f.op_fuel[k]);
            if cost > self.fuel_left {
                self.fuel_left = 0;
                return trap("fuel exhausted");
            }
            self.fuel_left -= cost;
            // The header said the block costs more than is left, so some operation
            // of it cannot be paid; control never reaches its end.
            match self.step(&f.code[k], rb, sb) {
                Ok(Flow::Next) => k += 1,
                Ok(Flow::Return(_)) => {
                    return trap("x07-lite internal error: fuel header mismatch");
                }
                Err(i) => return i,
            }
        }
    }

    fn run_loop(&mut self) -> Result<Vec<u8>, Interrupt> {
        let prog = self.prog;
        let mut func: FnId = SOLVE;
        let mut f: &VmFn = &prog.solve;
        let mut code: &[Op] = &f.code;
        let mut pc = 0usize;
        let mut rb = 0usize;
        let mut sb = 0usize;
        self.regs.resize(f.nregs as usize, 0);
        self.slots.resize_with(f.nslots as usize, || Value::Moved);
        loop {
            let op = &code[pc];
            pc += 1;
            let mut ret: Option<Value> = None;
            cheap_ops!(self, prog, op, rb, sb, {
                Op::Fuel { cost } => {
                    let cost = u64::from(*cost);
                    if self.fuel_left >= cost {
                        self.fuel_left -= cost;
                        continue;
                    }
                    return Err(self.exhaust(f, pc, rb, sb));
                }
                Op::Jmp { t } => {
                    pc = *t as usize;
                    continue;
                }
                Op::Jz { c, t } => {
                    if self.regs[rb + *c as usize] == 0 {
                        pc = *t as usize;
                    }
                    continue;
                }
                Op::Jnz { c, t } => {
                    if self.regs[rb + *c as usize] != 0 {
                        pc = *t as usize;
                    }
                    continue;
                }
                Op::JCmp { op, a, b, t } => {
                    let x = self.regs[rb + *a as usize];
                    let y = self.i(*b, rb);
                    if op.apply(x, y) != 0 {
                        pc = *t as usize;
                    }
                    continue;
                }
                Op::IncLoop { i, end, t } => {
                    let slot = rb + *i as usize;
                    let n = self.regs[slot].wrapping_add(1);
                    self.regs[slot] = n;
                    if (n as u32) < (self.i(*end, rb) as u32) {
                        pc = *t as usize;
                    }
                    continue;
                }
                Op::Call { f: callee, args, d, site } => {
                    let cf = &prog.functions[*callee as usize];
                    let charge = if f.native_tail[*site as usize] {
                        0
                    } else {
                        cf.frame_bytes
                    };
                    self.native_used += u64::from(charge);
                    // Past the native stack, or when the machine's own stack cannot grow
                    // (a memory limit), the run ends as the compiled program's would.
                    if self.native_used > NATIVE_STACK_BUDGET
                        || self.frames.len() >= MAX_FRAMES
                        || self.frames.try_reserve(1).is_err()
                        || self.regs.try_reserve(cf.nregs as usize).is_err()
                        || self.slots.try_reserve(cf.nslots as usize).is_err()
                    {
                        return Err(Interrupt::Signal(STACK_OVERFLOW_SIGNAL));
                    }
                    let nrb = self.regs.len();
                    let nsb = self.slots.len();
                    self.regs.resize(nrb + cf.nregs as usize, 0);
                    self.slots
                        .resize_with(nsb + cf.nslots as usize, || Value::Moved);
                    for (a, &(is_i32, idx)) in args.iter().zip(&cf.params) {
                        if is_i32 {
                            let x = match a {
                                Arg::I(x) => self.i(*x, rb),
                                _ => 0,
                            };
                            self.regs[nrb + idx as usize] = x;
                        } else {
                            let v = self.arg_value(*a, rb, sb);
                            self.slots[nsb + idx as usize] = v;
                        }
                    }
                    self.frames.push(Frame {
                        func,
                        ret_pc: pc as u32,
                        rb: rb as u32,
                        sb: sb as u32,
                        d: *d,
                        native: charge,
                    });
                    func = *callee;
                    f = cf;
                    code = &cf.code;
                    pc = 0;
                    rb = nrb;
                    sb = nsb;
                    continue;
                }
                Op::TailCall { f: callee, args } => {
                    let cf = &prog.functions[*callee as usize];
                    let vals: Vec<Value> = args
                        .iter()
                        .map(|&a| self.arg_value(a, rb, sb))
                        .collect();
                    self.regs.truncate(rb);
                    self.slots.truncate(sb);
                    self.regs.resize(rb + cf.nregs as usize, 0);
                    self.slots.resize_with(sb + cf.nslots as usize, || Value::Moved);
                    for (v, &(is_i32, idx)) in vals.into_iter().zip(&cf.params) {
                        if is_i32 {
                            self.regs[rb + idx as usize] = v.i32();
                        } else {
                            self.slots[sb + idx as usize] = v;
                        }
                    }
                    func = *callee;
                    f = cf;
                    code = &cf.code;
                    pc = 0;
                    continue;
                }
                other => {
                    if let Flow::Return(v) = self.step(other, rb, sb)? {
                        ret = Some(v);
                    }
                }
            });
            let Some(v) = ret else {
                continue;
            };
            match self.frames.pop() {
                None => return Ok(v.into_vec()),
                Some(fr) => {
                    self.regs.truncate(rb);
                    self.slots.truncate(sb);
                    self.native_used -= u64::from(fr.native);
                    func = fr.func;
                    f = self.func(func);
                    code = &f.code;
                    pc = fr.ret_pc as usize;
                    rb = fr.rb as usize;
                    sb = fr.sb as usize;
                    self.put(fr.d, v, rb, sb);
                }
            }
        }
    }
}
