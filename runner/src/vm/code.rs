//! The register machine's code.
//!
//! Each function has a frame of i32 registers ([`Reg`]) and a frame of value slots
//! ([`Slot`], for bytes, views, vectors, options and results). Operations are
//! three-address with immediates; conditions are fused compare-and-branch operations.
//! Code is cut into basic blocks; every block that costs fuel starts with one
//! [`Op::Fuel`] charging the whole block (`crate::vm::exec` falls back to per-operation
//! accounting, from [`VmFn::op_fuel`], only in a block that runs out).

use crate::std::StdSig;
use crate::tir::{BinOp, Builtin, ErrWrap, FnId, PtrId};

/// An i32 register of the current frame.
pub type Reg = u32;
/// A value slot of the current frame.
pub type Slot = u32;
/// An index into the function's code.
pub type Pc = u32;

/// An i32 operand: a register or an immediate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum I {
    /// A register.
    R(Reg),
    /// A constant.
    K(i32),
}

/// Where a `bytes`-like operand read in place comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Src {
    /// A slot of the frame (read in place, never moved).
    Slot(Slot),
    /// The run input.
    Input,
}

/// A call or builtin argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// An i32.
    I(I),
    /// A slot's value, moved out (the slot is left empty).
    Move(Slot),
    /// A copy of a slot's value (owned buffers are shared copy-on-write).
    Copy(Slot),
    /// The run input.
    Input,
    /// A view of literal `n`.
    ViewLit(u32),
}

/// Where a result goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dst {
    /// An i32 register.
    R(Reg),
    /// A slot.
    S(Slot),
    /// Dropped.
    None,
}

/// One operation.
#[derive(Debug, Clone)]
pub enum Op {
    /// Block header: charge `cost` units for the whole block.
    Fuel {
        /// Units of the block.
        cost: u32,
    },
    /// Does nothing (carries fuel of nodes that emit no code).
    Nop,
    /// `d = k`.
    Imm { d: Reg, k: i32 },
    /// `d = s`.
    Mov { d: Reg, s: Reg },
    /// `d = a + b`.
    Add { d: Reg, a: Reg, b: Reg },
    /// `d = a + k`.
    AddK { d: Reg, a: Reg, k: i32 },
    /// `d = a - b`.
    Sub { d: Reg, a: Reg, b: Reg },
    /// `d = a * b`.
    Mul { d: Reg, a: Reg, b: Reg },
    /// `d = a * k`.
    MulK { d: Reg, a: Reg, k: i32 },
    /// `d = a & k`.
    AndK { d: Reg, a: Reg, k: i32 },
    /// `d = a ^ b`.
    Xor { d: Reg, a: Reg, b: Reg },
    /// `d = a <<u k`.
    ShlK { d: Reg, a: Reg, k: i32 },
    /// `d = a >>u k`.
    ShrK { d: Reg, a: Reg, k: i32 },
    /// `d = a op b` (any operator).
    Bin { op: BinOp, d: Reg, a: I, b: I },
    /// Jump.
    Jmp { t: Pc },
    /// Jump when `c == 0`.
    Jz { c: Reg, t: Pc },
    /// Jump when `c != 0`.
    Jnz { c: Reg, t: Pc },
    /// Jump when `a op b` holds (`op` is a comparison).
    JCmp { op: BinOp, a: Reg, b: I, t: Pc },
    /// `for` back edge: `i += 1`; jump when `(u32)i < (u32)end`.
    IncLoop { i: Reg, end: I, t: Pc },
    /// Moves a slot's value to another slot (the source is left empty).
    SMove { d: Slot, s: Slot },
    /// Copies a slot's value.
    SCopy { d: Slot, s: Slot },
    /// Empties a slot (a value dies).
    SClear { s: Slot },
    /// `d = bytes.lit n` (a fresh copy).
    SLit { d: Slot, lit: u32 },
    /// `d = view of literal n`.
    SViewLit { d: Slot, lit: u32 },
    /// `d = input`.
    SInput { d: Slot },
    /// `d = view of s` (bytes, vec_u8 or view; `s` is left as it is).
    ToView { d: Slot, s: Src },
    /// `d = len(s)` of a bytes, view or vector.
    Len { d: Reg, s: Src },
    /// `d = s[i]` of a bytes or view; traps `view.get_u8 oob` (+ ptr).
    GetU8 { d: Reg, s: Src, i: I, ptr: PtrId },
    /// `d = v[i]` of a vector; traps `vec_u8.get oob`.
    VecGet { d: Reg, v: Slot, i: I },
    /// `v = vec_u8.push(v, x)` in place.
    VecPushIn { v: Slot, x: I },
    /// `v = vec_u8.set(v, i, x)` in place.
    VecSetIn { v: Slot, i: I, x: I },
    /// `v = vec_u8.extend_bytes(v, s)` in place.
    VecExtendIn { v: Slot, s: Src },
    /// `b = bytes.set_u8(b, i, x)` in place.
    SetU8In { b: Slot, i: I, x: I, ptr: PtrId },
    /// Any builtin.
    Builtin {
        id: Builtin,
        args: Box<[Arg]>,
        d: Dst,
        ptr: PtrId,
    },
    /// `option_bytes.unwrap_or(opt, var)`: empties `var` when the option is none.
    UnwrapOrVar {
        opt: Arg,
        def: Arg,
        var: Slot,
        d: Dst,
    },
    /// A std function (its body's fuel is charged here).
    Std {
        sig: &'static StdSig,
        args: Box<[Arg]>,
        d: Dst,
    },
    /// Calls a user function; `site` indexes [`VmFn::native_tail`].
    Call {
        f: FnId,
        args: Box<[Arg]>,
        d: Dst,
        site: u32,
    },
    /// Calls a user function whose value is this function's (a tail call: the callee
    /// replaces the frame and uses no native stack, semantics R24).
    TailCall { f: FnId, args: Box<[Arg]> },
    /// Returns from the function.
    Ret { v: Arg },
    /// `try`: unwrap an ok result into `d`, or return `err(code)`.
    Try { v: Arg, wrap: ErrWrap, d: Dst },
    /// `try_doc`: unwrap a `[1, payload]` document into `d`, or return it.
    TryDoc { v: Arg, d: Dst },
}

/// No trap pointer.
pub const NO_PTR: PtrId = u32::MAX;

impl Op {
    /// Whether the operation ends a basic block (control leaves or may leave it).
    pub fn ends_block(&self) -> bool {
        matches!(
            self,
            Op::Jmp { .. }
                | Op::Jz { .. }
                | Op::Jnz { .. }
                | Op::JCmp { .. }
                | Op::IncLoop { .. }
                | Op::Std { .. }
                | Op::Call { .. }
                | Op::TailCall { .. }
                | Op::Ret { .. }
                | Op::Try { .. }
                | Op::TryDoc { .. }
        )
    }

    /// The jump target, if any.
    pub fn target(&self) -> Option<Pc> {
        match self {
            Op::Jmp { t }
            | Op::Jz { t, .. }
            | Op::Jnz { t, .. }
            | Op::JCmp { t, .. }
            | Op::IncLoop { t, .. } => Some(*t),
            _ => None,
        }
    }

    /// Rewrites the jump target.
    pub fn set_target(&mut self, to: Pc) {
        match self {
            Op::Jmp { t }
            | Op::Jz { t, .. }
            | Op::Jnz { t, .. }
            | Op::JCmp { t, .. }
            | Op::IncLoop { t, .. } => *t = to,
            _ => {}
        }
    }
}

/// A lowered function.
#[derive(Debug, Clone)]
pub struct VmFn {
    /// Full name.
    pub name: String,
    /// Registers in a frame.
    pub nregs: u32,
    /// Slots in a frame.
    pub nslots: u32,
    /// Parameter storage in order: `(is_i32, index)`.
    pub params: Vec<(bool, u32)>,
    /// The code.
    pub code: Vec<Op>,
    /// Fuel of each operation (what [`Op::Fuel`] charges for its block, split per op).
    pub op_fuel: Vec<u32>,
    /// Modelled native stack frame of the compiled function, in bytes (semantics R24).
    pub frame_bytes: u32,
    /// For each call site: whether the compiled call reuses the caller's native frame
    /// (a tail call, or self recursion gcc turns into a loop).
    pub native_tail: Vec<bool>,
}
