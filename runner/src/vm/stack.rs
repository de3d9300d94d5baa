//! A model of the native stack the real toolchain's compiled program recurses on
//! (semantics R24).
//!
//! The real compiler emits C: every X07 call is a C call, so the depth limit is the 8 MiB
//! native stack divided by the frame size, after gcc's optimisations. Overflow kills the
//! program with signal 11. This machine keeps its call stack on the heap and charges each
//! active call the frame size the model gives; past the budget it stops the run with
//! `terminated by signal 11` like the real one.
//!
//! The model, fitted to the recorded runs of R24:
//! * a frame costs 40 bytes plus 8 per i32 variable, 16 per view-like variable and 40 per
//!   owned variable (parameters and `let`s): a two-call i32 function (1 parameter: 48
//!   bytes) runs at depth 150,000 and fails at 200,000; a bytes-threading function (a
//!   bytes and an i32 parameter: 88 bytes) runs at 70,000 and fails at 100,000; a loop
//!   with a view, an i32 parameter and three i32 locals (88 bytes) runs at 60,000 and
//!   fails at 120,000;
//! * gcc turns some calls into jumps, which use no new frame: a call in tail position,
//!   and a self call that is an operand of `+ * & | ^` in tail position (its accumulator
//!   form, as in `(+ 1 (down (- n 1)))`, which ran at depth 1,000,000), provided the
//!   function owns no buffer (those need freeing after the call);
//! * the budget is 8 MiB less 64 KiB for the runtime and `solve`.

use std::collections::HashMap;

use crate::tir::{BinOp, TExpr, TFn, TKind};
use crate::types::Ty;

/// Native stack available to user function frames, in bytes.
pub const NATIVE_STACK_BUDGET: u64 = 8 * 1024 * 1024 - 64 * 1024;

/// Most frames the machine keeps (memory guard); beyond, the run ends as a native stack
/// overflow would.
pub const MAX_FRAMES: usize = 12_000_000;

/// The signal a native stack overflow kills the program with.
pub const STACK_OVERFLOW_SIGNAL: i32 = 11;

fn owned(ty: Ty) -> bool {
    ty.is_owned()
}

/// Whether the function has a variable of an owned type (bytes, vec_u8, option_bytes,
/// result_bytes): its compiled form frees it after calls, so no call is a tail call.
pub fn has_owned_vars(f: &TFn) -> bool {
    f.vars.iter().any(|v| owned(v.ty))
}

/// Modelled frame size of the compiled function.
pub fn frame_bytes(f: &TFn) -> u32 {
    let mut bytes = 40u32;
    for v in &f.vars {
        bytes += match v.ty {
            Ty::I32 => 8,
            t if owned(t) => 40,
            _ => 16,
        };
    }
    bytes
}

/// How the C compiler treats a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// Its value is the function's result: a jump (and the machine reuses the frame).
    Tail,
    /// A self call whose value is accumulated (`(+ 1 (f ..))` in tail position): gcc
    /// turns the recursion into a loop, so no native frame, but the machine still needs
    /// one to finish the operation.
    Accumulated,
}

/// Collects the call nodes of `body` that the C compiler turns into jumps, by address.
pub fn mark_tail_calls(
    body: &TExpr,
    self_index: Option<u32>,
    out: &mut HashMap<*const TExpr, CallKind>,
) {
    mark(body, Some(CallKind::Tail), self_index, out);
}

fn is_self_call(e: &TExpr, self_index: Option<u32>) -> bool {
    matches!(&e.kind, TKind::Call { func, .. } if Some(*func) == self_index)
}

fn has_call(e: &TExpr) -> bool {
    if matches!(e.kind, TKind::Call { .. } | TKind::Std { .. }) {
        return true;
    }
    let mut any = false;
    e.for_each_child(|c| any = any || has_call(c));
    any
}

fn mark(
    e: &TExpr,
    tail: Option<CallKind>,
    me: Option<u32>,
    out: &mut HashMap<*const TExpr, CallKind>,
) {
    match &e.kind {
        TKind::Call { args, .. } => {
            if let Some(kind) = tail {
                out.insert(e as *const TExpr, kind);
            }
            for a in args {
                mark(a, None, me, out);
            }
        }
        TKind::Begin { items, .. } => {
            let last = items.len().saturating_sub(1);
            for (i, it) in items.iter().enumerate() {
                mark(it, if i == last { tail } else { None }, me, out);
            }
        }
        TKind::If {
            cond, then, els, ..
        } => {
            mark(cond, None, me, out);
            mark(then, tail, me, out);
            mark(els, tail, me, out);
        }
        TKind::Return(v) => mark(v, Some(CallKind::Tail), me, out),
        TKind::Bin(op, a, b)
            if tail.is_some()
                && matches!(
                    op,
                    BinOp::Add | BinOp::Mul | BinOp::And | BinOp::Or | BinOp::Xor
                ) =>
        {
            let a_acc = is_self_call(a, me) && !has_call(b);
            let b_acc = is_self_call(b, me) && !has_call(a) && !a_acc;
            let acc = |yes: bool| yes.then_some(CallKind::Accumulated);
            mark(a, acc(a_acc), me, out);
            mark(b, acc(b_acc), me, out);
        }
        _ => e.for_each_child(|c| mark(c, None, me, out)),
    }
}
