//! The typed tree: what `check` produces from the (optimized) x07AST and what the
//! execution engine (`vm`) and the reference evaluator walk.
//!
//! Every node knows its type and whether evaluating it charges a fuel unit (`tick`,
//! decided by the fuel formula of `crate::fuel` from the node's position); every variable
//! use says whether it copies/borrows ([`TKind::Var`]) or moves ([`TKind::Take`]); every
//! scope lists the variables that die at its end.

use crate::std::StdSig;
use crate::types::Ty;

/// Index of a local variable inside its function ([`TFn::vars`]).
pub type VarId = u32;
/// Index of a reachable user function ([`TProgram::functions`]).
pub type FnId = u32;
/// Index into [`TProgram::literals`].
pub type LitId = u32;
/// Index into [`TProgram::ptrs`].
pub type PtrId = u32;

/// i32 binary operators (subset §7); `&&`/`||` are separate nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    DivU,
    RemU,
    And,
    Or,
    Xor,
    Shl,
    ShrU,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    LtU,
    LeU,
    GtU,
    GeU,
}

impl BinOp {
    /// Applies the operator with the toolchain's wrapping/unsigned rules.
    #[inline(always)]
    pub fn apply(self, a: i32, b: i32) -> i32 {
        let (ua, ub) = (a as u32, b as u32);
        match self {
            BinOp::Add => a.wrapping_add(b),
            BinOp::Sub => a.wrapping_sub(b),
            BinOp::Mul => a.wrapping_mul(b),
            BinOp::DivU => ua.checked_div(ub).map_or(0, |q| q as i32),
            BinOp::RemU => ua.checked_rem(ub).map_or(a, |r| r as i32),
            BinOp::And => a & b,
            BinOp::Or => a | b,
            BinOp::Xor => a ^ b,
            BinOp::Shl => (ua << (ub & 31)) as i32,
            BinOp::ShrU => (ua >> (ub & 31)) as i32,
            BinOp::Eq => (a == b) as i32,
            BinOp::Ne => (a != b) as i32,
            BinOp::Lt => (a < b) as i32,
            BinOp::Le => (a <= b) as i32,
            BinOp::Gt => (a > b) as i32,
            BinOp::Ge => (a >= b) as i32,
            BinOp::LtU => (ua < ub) as i32,
            BinOp::LeU => (ua <= ub) as i32,
            BinOp::GtU => (ua > ub) as i32,
            BinOp::GeU => (ua >= ub) as i32,
        }
    }

    /// The operator for a head, if it is one of the 20 non-short-circuit operators.
    pub fn from_head(head: &str) -> Option<BinOp> {
        Some(match head {
            "+" => BinOp::Add,
            "-" => BinOp::Sub,
            "*" => BinOp::Mul,
            "/" => BinOp::DivU,
            "%" => BinOp::RemU,
            "&" => BinOp::And,
            "|" => BinOp::Or,
            "^" => BinOp::Xor,
            "<<u" => BinOp::Shl,
            ">>u" => BinOp::ShrU,
            "=" => BinOp::Eq,
            "!=" => BinOp::Ne,
            "<" => BinOp::Lt,
            "<=" => BinOp::Le,
            ">" => BinOp::Gt,
            ">=" => BinOp::Ge,
            "<u" => BinOp::LtU,
            "<=u" => BinOp::LeU,
            ">u" => BinOp::GtU,
            ">=u" => BinOp::GeU,
            _ => return None,
        })
    }

    /// Whether the operator yields 0/1 from a comparison.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq
                | BinOp::Ne
                | BinOp::Lt
                | BinOp::Le
                | BinOp::Gt
                | BinOp::Ge
                | BinOp::LtU
                | BinOp::LeU
                | BinOp::GtU
                | BinOp::GeU
        )
    }

    /// The comparison that is true exactly when `self` is false.
    pub fn negated(self) -> Option<BinOp> {
        Some(match self {
            BinOp::Eq => BinOp::Ne,
            BinOp::Ne => BinOp::Eq,
            BinOp::Lt => BinOp::Ge,
            BinOp::Le => BinOp::Gt,
            BinOp::Gt => BinOp::Le,
            BinOp::Ge => BinOp::Lt,
            BinOp::LtU => BinOp::GeU,
            BinOp::LeU => BinOp::GtU,
            BinOp::GtU => BinOp::LeU,
            BinOp::GeU => BinOp::LtU,
            _ => return None,
        })
    }
}

/// Builtins of subset §8 and §10 (no import needed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Builtin {
    BytesEmpty,
    Bytes1,
    BytesAlloc,
    BytesLen,
    BytesGetU8,
    BytesSetU8,
    BytesSlice,
    BytesCopy,
    BytesConcat,
    BytesEq,
    BytesCmpRange,
    BytesView,
    BytesSubview,
    ViewSlice,
    ViewToBytes,
    VecWithCapacity,
    VecLen,
    VecCap,
    VecGet,
    VecSet,
    VecPush,
    VecReserveExact,
    VecExtendZeroes,
    VecExtendBytes,
    VecExtendBytesRange,
    VecClear,
    VecIntoBytes,
    VecAsView,
    CodecReadU32Le,
    CodecWriteU32Le,
    FmtU32ToDec,
    FmtS32ToDec,
    ParseU32Dec,
    ParseU32DecAt,
    PrngLcgNextU32,
    OptI32None,
    OptI32Some,
    OptI32IsSome,
    OptI32UnwrapOr,
    OptBytesNone,
    OptBytesSome,
    OptBytesIsSome,
    OptBytesUnwrapOr,
    OptViewNone,
    OptViewSome,
    OptViewIsSome,
    OptViewUnwrapOr,
    ResI32Ok,
    ResI32Err,
    ResI32IsOk,
    ResI32ErrCode,
    ResI32UnwrapOr,
    ResBytesOk,
    ResBytesErr,
    ResBytesIsOk,
    ResBytesErrCode,
    ResBytesUnwrapOr,
    ResViewOk,
    ResViewErr,
    ResViewIsOk,
    ResViewErrCode,
    ResViewUnwrapOr,
    FsReadFile,
    FsWriteFile,
    EnvGet,
    TimeNowUnixMs,
    TimeNowInstant,
    TimeSleepMs,
    TimeLocalTzid,
    ProcessExit,
    ProcRunCapture,
    ProcSpawnCapture,
    ProcSpawnPiped,
    ProcTryJoinCapture,
    ProcJoinCapture,
    ProcJoinExit,
    ProcTryWait,
    ProcTakeExit,
    ProcStdoutRead,
    ProcStderrRead,
    ProcStdinWrite,
    ProcStdinClose,
    ProcKill,
    ProcDrop,
    NetHttpRequest,
}

/// What the `try` family returns on failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrWrap {
    /// `result_i32.err(code)`.
    ResI32,
    /// `result_bytes.err(code)`.
    ResBytes,
}

/// One node of the typed tree.
#[derive(Debug, Clone)]
pub struct TExpr {
    /// What the node does.
    pub kind: TKind,
    /// Its type (`Never` when it always leaves the function).
    pub ty: Ty,
    /// Whether evaluating it charges one fuel unit (`crate::fuel`), charged before its
    /// operands are evaluated.
    pub tick: bool,
}

/// The node kinds.
#[derive(Debug, Clone)]
pub enum TKind {
    /// An i32 literal.
    Int(i32),
    /// The run input (`bytes_view`).
    Input,
    /// Reads a variable: a copy, or a borrow of an owned one (the variable stays).
    Var(VarId),
    /// Moves an owned variable out; it reads as the empty value afterwards.
    Take(VarId),
    /// `bytes.lit`: a fresh copy of a literal.
    BytesLit(LitId),
    /// `bytes.view_lit`: a view of a literal.
    ViewLit(LitId),
    /// `begin`; `scope` lists the variables declared directly in it (they die at its end).
    Begin {
        /// The items; the value is the last one's.
        items: Vec<TExpr>,
        /// Variables that die at the end.
        scope: Vec<VarId>,
    },
    /// `let`: binds `var` (its value is the bound value).
    Let {
        /// The new variable.
        var: VarId,
        /// Its initial value.
        value: Box<TExpr>,
    },
    /// `set` (value: the new value) or `set0` (value: 0).
    Set {
        /// The assigned variable.
        var: VarId,
        /// The new value.
        value: Box<TExpr>,
        /// `set0`.
        zero: bool,
    },
    /// `if`; each branch is a scope.
    If {
        /// The condition (i32).
        cond: Box<TExpr>,
        /// Taken when the condition is not 0.
        then: Box<TExpr>,
        /// Taken when it is 0.
        els: Box<TExpr>,
        /// Variables declared in the then branch.
        then_scope: Vec<VarId>,
        /// Variables declared in the else branch.
        else_scope: Vec<VarId>,
    },
    /// `for`: `var := start`, `end` once, then `body` while `(u32)var < (u32)end`, `var += 1`.
    For {
        /// The loop variable (new, or a reused outer i32).
        var: VarId,
        /// Start bound.
        start: Box<TExpr>,
        /// End bound (evaluated once).
        end: Box<TExpr>,
        /// The body (a scope, fresh each iteration).
        body: Box<TExpr>,
        /// Variables declared in the body.
        body_scope: Vec<VarId>,
    },
    /// `while`.
    While {
        /// Condition, evaluated before every iteration.
        cond: Box<TExpr>,
        /// The body.
        body: Box<TExpr>,
        /// Variables declared in the condition (they live until the loop ends).
        cond_scope: Vec<VarId>,
        /// Variables declared in the body.
        body_scope: Vec<VarId>,
    },
    /// `return`.
    Return(Box<TExpr>),
    /// `&&`.
    And(Box<TExpr>, Box<TExpr>),
    /// `||`.
    Or(Box<TExpr>, Box<TExpr>),
    /// One of the 20 i32 operators.
    Bin(BinOp, Box<TExpr>, Box<TExpr>),
    /// A builtin call.
    Builtin {
        /// Which builtin.
        id: Builtin,
        /// Arguments in source order.
        args: Vec<TExpr>,
        /// Trap pointer (` ptr=` suffix), if the builtin's traps carry one.
        ptr: Option<PtrId>,
        /// The first argument is a plain owner variable consumed at the call, after the
        /// other arguments (semantics R18).
        owner_last: bool,
    },
    /// `option_bytes.unwrap_or(opt, var)`: the default variable is emptied when the
    /// option is none (subset §8.5).
    UnwrapOrVar {
        /// The option.
        opt: Box<TExpr>,
        /// The default: a read of `var`.
        default: Box<TExpr>,
        /// The default variable.
        var: VarId,
    },
    /// A std function (native).
    Std {
        /// Its signature and implementation.
        sig: &'static StdSig,
        /// Arguments.
        args: Vec<TExpr>,
    },
    /// A user function call.
    Call {
        /// The callee.
        func: FnId,
        /// Arguments.
        args: Vec<TExpr>,
    },
    /// `try`.
    Try {
        /// The result operand.
        value: Box<TExpr>,
        /// What an error returns.
        wrap: ErrWrap,
    },
    /// `try_doc`.
    TryDoc(Box<TExpr>),
    /// `bytes`/`vec_u8` passed where a `bytes_view` is expected (auto-borrow).
    ToView(Box<TExpr>),
}

/// A local variable.
#[derive(Debug, Clone)]
pub struct TVar {
    /// Source name.
    pub name: String,
    /// Type.
    pub ty: Ty,
}

/// A checked function (or `solve`).
#[derive(Debug, Clone)]
pub struct TFn {
    /// Full name (`main.f`, or `solve`).
    pub name: String,
    /// Number of parameters: variables `0..nparams` in order.
    pub nparams: u32,
    /// Every variable of the function.
    pub vars: Vec<TVar>,
    /// Declared result type.
    pub result: Ty,
    /// The body.
    pub body: TExpr,
}

/// A checked program, ready to run.
#[derive(Debug, Clone)]
pub struct TProgram {
    /// `solve`.
    pub solve: TFn,
    /// Reachable user functions, indexed by [`FnId`].
    pub functions: Vec<TFn>,
    /// Literal texts.
    pub literals: Vec<Vec<u8>>,
    /// Trap pointers.
    pub ptrs: Vec<String>,
}

impl TExpr {
    /// A node.
    pub fn new(kind: TKind, ty: Ty, tick: bool) -> TExpr {
        TExpr { kind, ty, tick }
    }

    /// Calls `f` on every direct child, in evaluation order.
    pub fn for_each_child(&self, mut f: impl FnMut(&TExpr)) {
        match &self.kind {
            TKind::Int(_)
            | TKind::Input
            | TKind::Var(_)
            | TKind::Take(_)
            | TKind::BytesLit(_)
            | TKind::ViewLit(_) => {}
            TKind::Begin { items, .. } => items.iter().for_each(f),
            TKind::Let { value, .. } | TKind::Set { value, .. } => f(value),
            TKind::If {
                cond, then, els, ..
            } => {
                f(cond);
                f(then);
                f(els);
            }
            TKind::For {
                start, end, body, ..
            } => {
                f(start);
                f(end);
                f(body);
            }
            TKind::While { cond, body, .. } => {
                f(cond);
                f(body);
            }
            TKind::Return(e) | TKind::TryDoc(e) | TKind::ToView(e) => f(e),
            TKind::Try { value, .. } => f(value),
            TKind::And(a, b) | TKind::Or(a, b) | TKind::Bin(_, a, b) => {
                f(a);
                f(b);
            }
            TKind::Builtin { args, .. } | TKind::Std { args, .. } | TKind::Call { args, .. } => {
                args.iter().for_each(f)
            }
            TKind::UnwrapOrVar { opt, default, .. } => {
                f(opt);
                f(default);
            }
        }
    }

    /// Whether the node costs no fuel and does nothing but bind and move variables (the
    /// only loop bodies that cost nothing are made of `let x <owned variable>`).
    /// Running such a body once or many times leaves the same state: the first run
    /// moves the values, later runs move empty ones.
    pub fn is_free_moves(&self) -> bool {
        if self.tick {
            return false;
        }
        match &self.kind {
            TKind::Begin { items, .. } => items.iter().all(TExpr::is_free_moves),
            TKind::Let { value, .. } => value.is_free_moves(),
            TKind::Take(_) | TKind::Var(_) => true,
            _ => false,
        }
    }

    /// Whether evaluating the node may change an existing variable (`set`, `set0`, a move,
    /// a `for` over a reused variable, the `unwrap_or` default emptying).
    pub fn assigns(&self) -> bool {
        match &self.kind {
            TKind::Set { .. } | TKind::Take(_) | TKind::For { .. } | TKind::UnwrapOrVar { .. } => {
                true
            }
            TKind::Builtin {
                owner_last: true, ..
            } => true,
            _ => {
                let mut any = false;
                self.for_each_child(|c| any = any || c.assigns());
                any
            }
        }
    }
}
