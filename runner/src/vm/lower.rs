//! Typed tree → register code.
//!
//! Every i32 variable gets a register and every other variable a slot for the whole
//! function; temporaries are allocated above them and released at statement boundaries.
//! Fuel ticks of the tree (`TExpr::tick`) are attached, in evaluation order, to the next
//! operation emitted, so per-operation fuel is exactly the reference evaluator's; the
//! final pass cuts the code into basic blocks and puts one [`Op::Fuel`] header, the sum,
//! in front of each block that costs anything.

use std::collections::HashMap;

use super::code::{Arg, Dst, Op, Pc, Reg, Slot, Src, VmFn, I, NO_PTR};
use crate::tir::{BinOp, Builtin, TExpr, TFn, TKind, VarId};
use crate::types::Ty;

/// Where a variable lives.
#[derive(Debug, Clone, Copy)]
enum Home {
    R(Reg),
    S(Slot),
}

/// A lowered operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum V {
    /// No value (the expression leaves the function).
    None,
    /// A constant.
    K(i32),
    /// A register; `true` when it is a variable's (it may change later).
    R(Reg, bool),
    /// A temporary slot holding a value that must be moved out or cleared.
    Temp(Slot),
    /// A variable's slot, read in place (a borrow or a copy).
    Var(Slot),
    /// A variable's slot whose value is moved out when used.
    Take(Slot),
    /// The run input.
    Input,
    /// A view of literal `n`.
    ViewLit(u32),
}

/// What the caller wants from an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Nothing: the value is discarded.
    Discard,
    /// The value, anywhere.
    Value,
    /// The value in this register.
    IntoR(Reg),
    /// The value in this slot.
    IntoS(Slot),
}

type Label = u32;

struct Lower {
    code: Vec<Op>,
    op_fuel: Vec<u32>,
    pending: u32,
    homes: Vec<Home>,
    reg_base: u32,
    slot_base: u32,
    reg_top: u32,
    slot_top: u32,
    max_reg: u32,
    max_slot: u32,
    labels: Vec<Option<Pc>>,
    /// Call nodes the C compiler turns into jumps (R24 model), by address.
    tail_calls: HashMap<*const TExpr, super::stack::CallKind>,
    native_tail: Vec<bool>,
}

/// Lowers one function (`fn_index` is `None` for `solve`).
pub(super) fn lower_fn(f: &TFn, fn_index: Option<u32>) -> VmFn {
    let mut homes = Vec::with_capacity(f.vars.len());
    let (mut nr, mut ns) = (0u32, 0u32);
    for v in &f.vars {
        if v.ty == Ty::I32 {
            homes.push(Home::R(nr));
            nr += 1;
        } else {
            homes.push(Home::S(ns));
            ns += 1;
        }
    }
    let params = (0..f.nparams as usize)
        .map(|i| match homes[i] {
            Home::R(r) => (true, r),
            Home::S(s) => (false, s),
        })
        .collect();
    let mut lw = Lower {
        code: Vec::new(),
        op_fuel: Vec::new(),
        pending: 0,
        homes,
        reg_base: nr,
        slot_base: ns,
        reg_top: nr,
        slot_top: ns,
        max_reg: nr,
        max_slot: ns,
        labels: Vec::new(),
        tail_calls: HashMap::new(),
        native_tail: Vec::new(),
    };
    if !super::stack::has_owned_vars(f) {
        super::stack::mark_tail_calls(&f.body, fn_index, &mut lw.tail_calls);
    }
    let v = lw.expr(&f.body, Want::Value);
    let arg = lw.arg(v);
    lw.emit(Op::Ret { v: arg });
    let (code, op_fuel) = finish_blocks(lw.code, lw.op_fuel, &lw.labels);
    VmFn {
        name: f.name.clone(),
        nregs: lw.max_reg,
        nslots: lw.max_slot,
        params,
        code,
        op_fuel,
        frame_bytes: super::stack::frame_bytes(f),
        native_tail: lw.native_tail,
    }
}

/// Resolves labels and inserts a [`Op::Fuel`] header in front of every basic block that
/// costs fuel.
fn finish_blocks(code: Vec<Op>, op_fuel: Vec<u32>, labels: &[Option<Pc>]) -> (Vec<Op>, Vec<u32>) {
    let n = code.len();
    let resolve = |l: Pc| labels[l as usize].unwrap_or(n as Pc);
    let mut leader = vec![false; n + 1];
    leader[0] = true;
    for (i, op) in code.iter().enumerate() {
        if let Some(t) = op.target() {
            leader[resolve(t) as usize] = true;
        }
        if op.ends_block() {
            leader[i + 1] = true;
        }
    }
    // Block costs, then the new positions.
    let mut new_pos = vec![0 as Pc; n + 1];
    let mut out = Vec::with_capacity(n + n / 4);
    let mut out_fuel = Vec::with_capacity(n + n / 4);
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && !leader[j] {
            j += 1;
        }
        let cost: u32 = op_fuel[i..j].iter().sum();
        new_pos[i] = out.len() as Pc;
        if cost > 0 {
            out.push(Op::Fuel { cost });
            out_fuel.push(0);
        }
        for k in i..j {
            if k > i {
                new_pos[k] = out.len() as Pc;
            }
            out.push(code[k].clone());
            out_fuel.push(op_fuel[k]);
        }
        i = j;
    }
    new_pos[n] = out.len() as Pc;
    for op in &mut out {
        if let Some(t) = op.target() {
            op.set_target(new_pos[resolve(t) as usize]);
        }
    }
    (out, out_fuel)
}

/// The comparison with its operands swapped (`a op b` = `b op' a`).
fn mirrored(op: BinOp) -> BinOp {
    match op {
        BinOp::Lt => BinOp::Gt,
        BinOp::Gt => BinOp::Lt,
        BinOp::Le => BinOp::Ge,
        BinOp::Ge => BinOp::Le,
        BinOp::LtU => BinOp::GtU,
        BinOp::GtU => BinOp::LtU,
        BinOp::LeU => BinOp::GeU,
        BinOp::GeU => BinOp::LeU,
        other => other,
    }
}

impl Lower {
    fn emit(&mut self, op: Op) {
        self.code.push(op);
        self.op_fuel.push(std::mem::take(&mut self.pending));
    }

    fn label(&mut self) -> Label {
        self.labels.push(None);
        (self.labels.len() - 1) as Label
    }

    fn bind(&mut self, l: Label) {
        if self.pending > 0 {
            self.emit(Op::Nop);
        }
        self.labels[l as usize] = Some(self.code.len() as Pc);
    }

    fn temp_reg(&mut self) -> Reg {
        let r = self.reg_top;
        self.reg_top += 1;
        self.max_reg = self.max_reg.max(self.reg_top);
        r
    }

    fn temp_slot(&mut self) -> Slot {
        let s = self.slot_top;
        self.slot_top += 1;
        self.max_slot = self.max_slot.max(self.slot_top);
        s
    }

    fn mark(&self) -> (u32, u32) {
        (self.reg_top, self.slot_top)
    }

    fn reset(&mut self, m: (u32, u32)) {
        self.reg_top = m.0.max(self.reg_base);
        self.slot_top = m.1.max(self.slot_base);
    }

    fn home(&self, v: VarId) -> Home {
        self.homes[v as usize]
    }

    fn var_reg(&self, v: VarId) -> Reg {
        match self.home(v) {
            Home::R(r) => r,
            Home::S(_) => 0,
        }
    }

    fn var_slot(&self, v: VarId) -> Slot {
        match self.home(v) {
            Home::S(s) => s,
            Home::R(_) => 0,
        }
    }

    /// The register to compute an i32 result in.
    fn dst_reg(&mut self, want: Want) -> Reg {
        match want {
            Want::IntoR(r) => r,
            _ => self.temp_reg(),
        }
    }

    /// The slot to compute a value result in.
    fn dst_slot(&mut self, want: Want) -> Slot {
        match want {
            Want::IntoS(s) => s,
            _ => self.temp_slot(),
        }
    }

    /// The operand of a result computed in `d` for `want`.
    fn result_r(want: Want, d: Reg) -> V {
        match want {
            Want::IntoR(_) => V::R(d, true),
            _ => V::R(d, false),
        }
    }

    fn result_s(want: Want, d: Slot) -> V {
        match want {
            Want::IntoS(_) => V::Var(d),
            _ => V::Temp(d),
        }
    }

    /// The destination of a builtin/call result.
    fn dst_for(&mut self, want: Want, ty: Ty) -> (Dst, V) {
        match want {
            Want::Discard => (Dst::None, V::None),
            Want::IntoR(r) => (Dst::R(r), V::R(r, true)),
            Want::IntoS(s) => (Dst::S(s), V::Var(s)),
            Want::Value => {
                if ty == Ty::Never {
                    (Dst::None, V::None)
                } else if ty == Ty::I32 {
                    let r = self.temp_reg();
                    (Dst::R(r), V::R(r, false))
                } else {
                    let s = self.temp_slot();
                    (Dst::S(s), V::Temp(s))
                }
            }
        }
    }

    /// Puts operand `v` where `want` asks.
    fn finish(&mut self, v: V, want: Want) -> V {
        match want {
            Want::Value => v,
            Want::Discard => {
                match v {
                    V::Temp(s) => self.emit(Op::SClear { s }),
                    V::Take(s) => self.emit(Op::SClear { s }),
                    _ => {}
                }
                V::None
            }
            Want::IntoR(d) => {
                match v {
                    V::K(k) => self.emit(Op::Imm { d, k }),
                    V::R(r, _) if r != d => self.emit(Op::Mov { d, s: r }),
                    _ => {}
                }
                V::R(d, true)
            }
            Want::IntoS(d) => {
                match v {
                    V::Temp(s) | V::Take(s) if s != d => self.emit(Op::SMove { d, s }),
                    V::Var(s) if s != d => self.emit(Op::SCopy { d, s }),
                    V::Input => self.emit(Op::SInput { d }),
                    V::ViewLit(lit) => self.emit(Op::SViewLit { d, lit }),
                    _ => {}
                }
                V::Var(d)
            }
        }
    }

    /// Copies an operand that reads a variable into a temporary (a later operand may
    /// change the variable).
    fn settle(&mut self, v: V) -> V {
        match v {
            V::R(r, true) => {
                let d = self.temp_reg();
                self.emit(Op::Mov { d, s: r });
                V::R(d, false)
            }
            V::Var(s) => {
                let d = self.temp_slot();
                self.emit(Op::SCopy { d, s });
                V::Temp(d)
            }
            V::Take(s) => {
                let d = self.temp_slot();
                self.emit(Op::SMove { d, s });
                V::Temp(d)
            }
            other => other,
        }
    }

    fn i(&mut self, v: V) -> I {
        match v {
            V::K(k) => I::K(k),
            V::R(r, _) => I::R(r),
            _ => I::K(0),
        }
    }

    /// The operand in a register.
    fn reg(&mut self, v: V) -> Reg {
        match v {
            V::R(r, _) => r,
            V::K(k) => {
                let d = self.temp_reg();
                self.emit(Op::Imm { d, k });
                d
            }
            _ => {
                let d = self.temp_reg();
                self.emit(Op::Imm { d, k: 0 });
                d
            }
        }
    }

    fn arg(&mut self, v: V) -> Arg {
        match v {
            V::None => Arg::I(I::K(0)),
            V::K(k) => Arg::I(I::K(k)),
            V::R(r, _) => Arg::I(I::R(r)),
            V::Temp(s) | V::Take(s) => Arg::Move(s),
            V::Var(s) => Arg::Copy(s),
            V::Input => Arg::Input,
            V::ViewLit(l) => Arg::ViewLit(l),
        }
    }

    /// A bytes-like operand read in place; the slot to clear afterwards, if any.
    fn src(&mut self, v: V) -> (Src, Option<Slot>) {
        match v {
            V::Input => (Src::Input, None),
            V::Var(s) => (Src::Slot(s), None),
            V::Temp(s) | V::Take(s) => (Src::Slot(s), Some(s)),
            V::ViewLit(lit) => {
                let d = self.temp_slot();
                self.emit(Op::SViewLit { d, lit });
                (Src::Slot(d), Some(d))
            }
            _ => {
                let d = self.temp_slot();
                (Src::Slot(d), Some(d))
            }
        }
    }

    fn clear_after(&mut self, s: Option<Slot>) {
        if let Some(s) = s {
            self.emit(Op::SClear { s });
        }
    }

    /// Lowers the operands of a node, left to right; an operand reading a variable is
    /// copied when a later operand may change that variable.
    fn operands(&mut self, args: &[&TExpr]) -> Vec<V> {
        let mut later = vec![false; args.len()];
        for i in (0..args.len().saturating_sub(1)).rev() {
            later[i] = later[i + 1] || args[i + 1].assigns();
        }
        let mut out = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            let v = self.expr(a, Want::Value);
            out.push(if later[i] { self.settle(v) } else { v });
        }
        out
    }

    fn clear_scope(&mut self, scope: &[VarId]) {
        for &v in scope {
            if let Home::S(s) = self.home(v) {
                self.emit(Op::SClear { s });
            }
        }
    }

    /// Moves a result that reads a variable of `scope` out of it before the scope ends.
    fn survive(&mut self, v: V, scope: &[VarId]) -> V {
        let in_scope = |s: Slot| {
            scope
                .iter()
                .any(|&x| matches!(self.home(x), Home::S(y) if y == s))
        };
        match v {
            V::Var(s) | V::Take(s) if in_scope(s) => self.settle(v),
            other => other,
        }
    }

    /// Lowers `e`; its tick is charged first.
    fn expr(&mut self, e: &TExpr, want: Want) -> V {
        if e.tick {
            self.pending += 1;
        }
        self.expr_body(e, want)
    }

    fn expr_body(&mut self, e: &TExpr, want: Want) -> V {
        match &e.kind {
            TKind::Int(k) => self.finish(V::K(*k), want),
            TKind::Input => self.finish(V::Input, want),
            TKind::Var(v) => {
                let op = match self.home(*v) {
                    Home::R(r) => V::R(r, true),
                    Home::S(s) => V::Var(s),
                };
                self.finish(op, want)
            }
            TKind::Take(v) => {
                let s = self.var_slot(*v);
                self.finish(V::Take(s), want)
            }
            TKind::BytesLit(lit) => {
                if want == Want::Discard {
                    // A literal used as a statement is still made and dropped, which
                    // counts against the heap limit like any allocation.
                    let d = self.temp_slot();
                    self.emit(Op::SLit { d, lit: *lit });
                    self.emit(Op::SClear { s: d });
                    return V::None;
                }
                let d = self.dst_slot(want);
                self.emit(Op::SLit { d, lit: *lit });
                Self::result_s(want, d)
            }
            TKind::ViewLit(lit) => self.finish(V::ViewLit(*lit), want),
            TKind::Begin { items, scope } => {
                let last = items.len() - 1;
                for it in &items[..last] {
                    let m = self.mark();
                    self.expr(it, Want::Discard);
                    self.reset(m);
                }
                let v = self.expr(&items[last], want);
                let v = self.survive(v, scope);
                self.clear_scope(scope);
                v
            }
            TKind::Let { var, value } | TKind::Set { var, value, .. } => {
                let into = match self.home(*var) {
                    Home::R(r) => Want::IntoR(r),
                    Home::S(s) => Want::IntoS(s),
                };
                let v = self.expr(value, into);
                let zero = matches!(e.kind, TKind::Set { zero: true, .. });
                if v == V::None {
                    return V::None;
                }
                if zero {
                    return self.finish(V::K(0), want);
                }
                let own = match self.home(*var) {
                    Home::R(r) => V::R(r, true),
                    Home::S(s) => V::Var(s),
                };
                match want {
                    Want::Discard => V::None,
                    _ => self.finish(own, want),
                }
            }
            TKind::If {
                cond,
                then,
                els,
                then_scope,
                else_scope,
            } => {
                let l_else = self.label();
                let l_end = self.label();
                self.branch(cond, false, l_else);
                let (inner, out) = match want {
                    Want::Discard => (Want::Discard, V::None),
                    Want::IntoR(r) => (want, V::R(r, true)),
                    Want::IntoS(s) => (want, V::Var(s)),
                    Want::Value => {
                        if e.ty == Ty::I32 {
                            let r = self.temp_reg();
                            (Want::IntoR(r), V::R(r, false))
                        } else if e.ty == Ty::Never || e.ty == Ty::Any {
                            (Want::Discard, V::None)
                        } else {
                            let s = self.temp_slot();
                            (Want::IntoS(s), V::Temp(s))
                        }
                    }
                };
                let m = self.mark();
                let v = self.expr(then, inner);
                let _ = self.survive(v, then_scope);
                self.clear_scope(then_scope);
                self.reset(m);
                self.emit(Op::Jmp { t: l_end });
                self.bind(l_else);
                let v = self.expr(els, inner);
                let _ = self.survive(v, else_scope);
                self.clear_scope(else_scope);
                self.reset(m);
                self.bind(l_end);
                out
            }
            TKind::For {
                var,
                start,
                end,
                body,
                body_scope,
            } => {
                let i = self.var_reg(*var);
                self.expr(start, Want::IntoR(i));
                let endv = self.expr(end, Want::Value);
                let end_i = match endv {
                    V::K(k) => I::K(k),
                    V::R(r, false) => I::R(r),
                    V::R(r, true) => {
                        // The bound is read once: keep it out of reach of the body.
                        let d = self.temp_reg();
                        self.emit(Op::Mov { d, s: r });
                        I::R(d)
                    }
                    _ => I::K(0),
                };
                let l_body = self.label();
                let l_exit = self.label();
                self.emit(Op::JCmp {
                    op: BinOp::GeU,
                    a: i,
                    b: end_i,
                    t: l_exit,
                });
                if body.is_free_moves() {
                    // Up to 2^32 iterations that cost nothing and repeat the first one's
                    // effect: run it once and end where the loop would.
                    let m = self.mark();
                    self.expr(body, Want::Discard);
                    self.clear_scope(body_scope);
                    self.reset(m);
                    match end_i {
                        I::K(k) => self.emit(Op::Imm { d: i, k }),
                        I::R(r) => self.emit(Op::Mov { d: i, s: r }),
                    }
                    self.bind(l_exit);
                    return self.finish(V::K(0), want);
                }
                self.bind(l_body);
                let m = self.mark();
                self.expr(body, Want::Discard);
                self.clear_scope(body_scope);
                self.reset(m);
                self.emit(Op::IncLoop {
                    i,
                    end: end_i,
                    t: l_body,
                });
                self.bind(l_exit);
                self.finish(V::K(0), want)
            }
            TKind::While {
                cond,
                body,
                cond_scope,
                body_scope,
            } => {
                let l_body = self.label();
                let l_exit = self.label();
                let m = self.mark();
                self.branch(cond, false, l_exit);
                self.reset(m);
                self.bind(l_body);
                self.expr(body, Want::Discard);
                self.clear_scope(body_scope);
                self.reset(m);
                self.branch(cond, true, l_body);
                self.reset(m);
                self.bind(l_exit);
                self.clear_scope(cond_scope);
                self.finish(V::K(0), want)
            }
            TKind::Return(v) => {
                let val = self.expr(v, Want::Value);
                let a = self.arg(val);
                self.emit(Op::Ret { v: a });
                V::None
            }
            TKind::And(..) | TKind::Or(..) => {
                if want == Want::Discard {
                    let l_end = self.label();
                    // Evaluate for the effects: jump past b when a decides.
                    if let TKind::And(a, b) = &e.kind {
                        self.branch(a, false, l_end);
                        let m = self.mark();
                        self.expr(b, Want::Discard);
                        self.reset(m);
                    } else if let TKind::Or(a, b) = &e.kind {
                        self.branch(a, true, l_end);
                        let m = self.mark();
                        self.expr(b, Want::Discard);
                        self.reset(m);
                    }
                    self.bind(l_end);
                    return V::None;
                }
                let d = self.dst_reg(want);
                let l_false = self.label();
                let l_end = self.label();
                // The node's own tick was charged by `expr`; `branch` charges the operands.
                self.branch_body(e, false, l_false);
                self.emit(Op::Imm { d, k: 1 });
                self.emit(Op::Jmp { t: l_end });
                self.bind(l_false);
                self.emit(Op::Imm { d, k: 0 });
                self.bind(l_end);
                Self::result_r(want, d)
            }
            TKind::Bin(op, a, b) => {
                let ops = self.operands(&[a, b]);
                if want == Want::Discard {
                    return V::None;
                }
                let d = self.dst_reg(want);
                self.bin(*op, d, ops[0], ops[1]);
                Self::result_r(want, d)
            }
            TKind::Builtin {
                id,
                args,
                ptr,
                owner_last,
            } => self.builtin(e, *id, args, *ptr, *owner_last, want),
            TKind::UnwrapOrVar { opt, default, var } => {
                let ops = self.operands(&[opt, default]);
                let (o, d) = (self.arg(ops[0]), self.arg(ops[1]));
                let (dst, out) = self.dst_for(want, Ty::Bytes);
                let var = self.var_slot(*var);
                self.emit(Op::UnwrapOrVar {
                    opt: o,
                    def: d,
                    var,
                    d: dst,
                });
                out
            }
            TKind::Std { sig, args } => {
                let refs: Vec<&TExpr> = args.iter().collect();
                let ops = self.operands(&refs);
                let args: Box<[Arg]> = ops.into_iter().map(|v| self.arg(v)).collect();
                let (d, out) = self.dst_for(want, e.ty);
                self.emit(Op::Std { sig, args, d });
                out
            }
            TKind::Call { func, args } => {
                let refs: Vec<&TExpr> = args.iter().collect();
                let ops = self.operands(&refs);
                let args: Box<[Arg]> = ops.into_iter().map(|v| self.arg(v)).collect();
                let kind = self.tail_calls.get(&(e as *const TExpr)).copied();
                if kind == Some(super::stack::CallKind::Tail) {
                    // Its value is the function's: the callee takes over the frame.
                    self.emit(Op::TailCall { f: *func, args });
                    return V::None;
                }
                let (d, out) = self.dst_for(want, e.ty);
                let site = self.native_tail.len() as u32;
                self.native_tail.push(kind.is_some());
                self.emit(Op::Call {
                    f: *func,
                    args,
                    d,
                    site,
                });
                out
            }
            TKind::Try { value, wrap } => {
                let v = self.expr(value, Want::Value);
                let a = self.arg(v);
                let (d, out) = self.dst_for(want, e.ty);
                self.emit(Op::Try {
                    v: a,
                    wrap: *wrap,
                    d,
                });
                out
            }
            TKind::TryDoc(value) => {
                let v = self.expr(value, Want::Value);
                let a = self.arg(v);
                let (d, out) = self.dst_for(want, Ty::Bytes);
                self.emit(Op::TryDoc { v: a, d });
                out
            }
            TKind::ToView(inner) => {
                let v = self.expr(inner, Want::Value);
                if want == Want::Discard {
                    return self.finish(v, Want::Discard);
                }
                let (s, clear) = self.src(v);
                let d = self.dst_slot(want);
                self.emit(Op::ToView { d, s });
                if clear != Some(d) {
                    self.clear_after(clear);
                }
                Self::result_s(want, d)
            }
        }
    }

    /// `d = a op b`, with immediate and specialised forms.
    fn bin(&mut self, op: BinOp, d: Reg, a: V, b: V) {
        let (ia, ib) = (self.i(a), self.i(b));
        match (op, ia, ib) {
            (BinOp::Add, I::R(x), I::R(y)) => self.emit(Op::Add { d, a: x, b: y }),
            (BinOp::Add, I::R(x), I::K(k)) | (BinOp::Add, I::K(k), I::R(x)) => {
                self.emit(Op::AddK { d, a: x, k })
            }
            (BinOp::Sub, I::R(x), I::R(y)) => self.emit(Op::Sub { d, a: x, b: y }),
            (BinOp::Sub, I::R(x), I::K(k)) => self.emit(Op::AddK {
                d,
                a: x,
                k: k.wrapping_neg(),
            }),
            (BinOp::Mul, I::R(x), I::R(y)) => self.emit(Op::Mul { d, a: x, b: y }),
            (BinOp::Mul, I::R(x), I::K(k)) | (BinOp::Mul, I::K(k), I::R(x)) => {
                self.emit(Op::MulK { d, a: x, k })
            }
            (BinOp::And, I::R(x), I::K(k)) | (BinOp::And, I::K(k), I::R(x)) => {
                self.emit(Op::AndK { d, a: x, k })
            }
            (BinOp::Xor, I::R(x), I::R(y)) => self.emit(Op::Xor { d, a: x, b: y }),
            (BinOp::Shl, I::R(x), I::K(k)) => self.emit(Op::ShlK { d, a: x, k }),
            (BinOp::ShrU, I::R(x), I::K(k)) => self.emit(Op::ShrK { d, a: x, k }),
            (op, a, b) => self.emit(Op::Bin { op, d, a, b }),
        }
    }

    /// Jumps to `target` when `c`'s truth is `when`, charging `c`'s tick first.
    fn branch(&mut self, c: &TExpr, when: bool, target: Label) {
        if c.tick {
            self.pending += 1;
        }
        self.branch_body(c, when, target);
    }

    fn branch_body(&mut self, c: &TExpr, when: bool, target: Label) {
        match &c.kind {
            TKind::Bin(op, a, b) if op.is_comparison() => {
                let ops = self.operands(&[a, b]);
                let (mut op, mut x, mut y) = (*op, ops[0], ops[1]);
                if matches!(x, V::K(_)) && !matches!(y, V::K(_)) {
                    std::mem::swap(&mut x, &mut y);
                    op = mirrored(op);
                }
                let op = if when { op } else { op.negated().unwrap_or(op) };
                let a = self.reg(x);
                let b = self.i(y);
                self.emit(Op::JCmp {
                    op,
                    a,
                    b,
                    t: target,
                });
            }
            TKind::And(a, b) => {
                if when {
                    let skip = self.label();
                    self.branch(a, false, skip);
                    self.branch(b, true, target);
                    self.bind(skip);
                } else {
                    self.branch(a, false, target);
                    self.branch(b, false, target);
                }
            }
            TKind::Or(a, b) => {
                if when {
                    self.branch(a, true, target);
                    self.branch(b, true, target);
                } else {
                    let skip = self.label();
                    self.branch(a, true, skip);
                    self.branch(b, false, target);
                    self.bind(skip);
                }
            }
            TKind::Int(k) => {
                if (*k != 0) == when {
                    self.emit(Op::Jmp { t: target });
                } else if self.pending > 0 {
                    self.emit(Op::Nop);
                }
            }
            _ => {
                let v = self.expr_body(c, Want::Value);
                let r = self.reg(v);
                if when {
                    self.emit(Op::Jnz { c: r, t: target });
                } else {
                    self.emit(Op::Jz { c: r, t: target });
                }
            }
        }
    }

    fn builtin(
        &mut self,
        e: &TExpr,
        id: Builtin,
        args: &[TExpr],
        ptr: Option<u32>,
        owner_last: bool,
        want: Want,
    ) -> V {
        use Builtin as B;
        let ptr = ptr.unwrap_or(NO_PTR);
        // In-place updates: `(set v (vec_u8.push v x))` and friends.
        if owner_last {
            if let (TKind::Take(owner), Want::IntoS(d)) = (&args[0].kind, want) {
                let s = self.var_slot(*owner);
                if s == d {
                    if args[0].tick {
                        self.pending += 1;
                    }
                    let rest: Vec<&TExpr> = args[1..].iter().collect();
                    let ops = self.operands(&rest);
                    match id {
                        B::VecPush => {
                            let x = self.i(ops[0]);
                            self.emit(Op::VecPushIn { v: s, x });
                            return V::Var(s);
                        }
                        B::VecSet => {
                            let (i, x) = (self.i(ops[0]), self.i(ops[1]));
                            self.emit(Op::VecSetIn { v: s, i, x });
                            return V::Var(s);
                        }
                        B::BytesSetU8 => {
                            let (i, x) = (self.i(ops[0]), self.i(ops[1]));
                            self.emit(Op::SetU8In { b: s, i, x, ptr });
                            return V::Var(s);
                        }
                        B::VecExtendBytes => {
                            let (src, clear) = self.src(ops[0]);
                            self.emit(Op::VecExtendIn { v: s, s: src });
                            self.clear_after(clear);
                            return V::Var(s);
                        }
                        _ => {
                            let mut all = vec![Arg::Move(s)];
                            for v in ops {
                                let a = self.arg(v);
                                all.push(a);
                            }
                            self.emit(Op::Builtin {
                                id,
                                args: all.into_boxed_slice(),
                                d: Dst::S(s),
                                ptr,
                            });
                            return V::Var(s);
                        }
                    }
                }
            }
        }
        // Reads in place.
        match id {
            B::BytesLen | B::VecLen if args.len() == 1 => {
                let v = self.expr(&args[0], Want::Value);
                if want == Want::Discard {
                    return self.finish(v, Want::Discard);
                }
                let (s, clear) = self.src(v);
                let d = self.dst_reg(want);
                self.emit(Op::Len { d, s });
                self.clear_after(clear);
                return Self::result_r(want, d);
            }
            B::BytesGetU8 | B::VecGet if args.len() == 2 => {
                let ops = self.operands(&[&args[0], &args[1]]);
                let i = self.i(ops[1]);
                let (s, clear) = self.src(ops[0]);
                let d = match want {
                    Want::IntoR(r) => r,
                    _ => self.temp_reg(),
                };
                match (id, s) {
                    (B::VecGet, Src::Slot(v)) => self.emit(Op::VecGet { d, v, i }),
                    _ => self.emit(Op::GetU8 { d, s, i, ptr }),
                }
                self.clear_after(clear);
                return if want == Want::Discard {
                    V::None
                } else {
                    Self::result_r(want, d)
                };
            }
            _ => {}
        }
        // The generic path.
        let order: Vec<usize> = if owner_last {
            (1..args.len()).chain(std::iter::once(0)).collect()
        } else {
            (0..args.len()).collect()
        };
        let refs: Vec<&TExpr> = order.iter().map(|&i| &args[i]).collect();
        let ops = self.operands(&refs);
        let mut vals = vec![Arg::I(I::K(0)); args.len()];
        for (k, &i) in order.iter().enumerate() {
            vals[i] = self.arg(ops[k]);
        }
        let (d, out) = self.dst_for(want, e.ty);
        self.emit(Op::Builtin {
            id,
            args: vals.into_boxed_slice(),
            d,
            ptr,
        });
        out
    }
}
