//! The lowered program: a small stack-machine code per function, produced by `check`
//! and run by `eval`. Control flow is explicit jumps, so running a program never
//! recurses on the Rust stack.

use crate::std::StdFn;

/// Index into [`Program::ptrs`]; [`NO_PTR`] when a trap carries no pointer.
pub type PtrId = u32;
/// No pointer suffix.
pub const NO_PTR: PtrId = u32::MAX;

/// i32 binary operators (subset §7); `&&`/`||` are lowered to jumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

/// Builtins of subset §8 and §10 (no import needed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// One instruction. Every expression leaves exactly one value on the stack.
#[derive(Debug, Clone)]
pub enum Op {
    /// Push an i32.
    I32(i32),
    /// Push a fresh `bytes` copy of literal `n`.
    BytesLit(u32),
    /// Push a view of literal `n`.
    ViewLit(u32),
    /// Push the `input` view.
    Input,
    /// Push a copy of a local (owned buffers are shared, copy-on-write).
    Load(u32),
    /// Move a local out, leaving it consumed.
    Take(u32),
    /// Pop into a local.
    Store(u32),
    /// Drop a local's value at the end of its scope.
    Clear(u32),
    /// Duplicate the top value.
    Dup,
    /// Drop the top value.
    Pop,
    /// Unconditional jump.
    Jump(u32),
    /// Pop an i32; jump when it is 0.
    JumpIfZero(u32),
    /// Pop an i32; jump when it is not 0.
    JumpIfNonZero(u32),
    /// Pop an i32, push 0/1.
    ToBool,
    /// Pop b, a; push `a op b`.
    Bin(BinOp),
    /// Call a builtin with `argc` arguments; `ptr` is for ` ptr=` trap suffixes.
    Builtin {
        /// Which builtin.
        id: Builtin,
        /// Number of arguments on the stack.
        argc: u8,
        /// Trap pointer.
        ptr: PtrId,
    },
    /// Call a natively implemented std function.
    Std {
        /// Which function.
        id: StdFn,
        /// Number of arguments on the stack.
        argc: u8,
    },
    /// Call user function `n` (arguments on the stack).
    Call(u32),
    /// Return the top value from the current function (or `solve`).
    Return,
    /// `try`: unwrap an ok result or return `err(code)` wrapped for the function.
    Try(ErrWrap),
    /// `try_doc`: unwrap a `[1, payload]` doc or return the doc.
    TryDoc,
    /// Turn `bytes`/`vec_u8` on the stack into a view (auto-borrow).
    ToView,
    /// `option_bytes.unwrap_or(opt, var)`: on none the variable is emptied (toolchain quirk).
    OptBytesUnwrapOrVar(u32),
}

/// A lowered function body.
#[derive(Debug, Clone)]
pub struct CompiledFn {
    /// Full name (`main.f`, or `solve`).
    pub name: String,
    /// Number of parameters (stored in the first local slots).
    pub nparams: u32,
    /// Number of local slots.
    pub nslots: u32,
    /// The code.
    pub code: Vec<Op>,
}

/// A loaded and checked program, ready for [`crate::eval::solve`].
#[derive(Debug, Clone)]
pub struct Program {
    /// The `solve` body.
    pub solve: CompiledFn,
    /// Reachable user functions, indexed by [`Op::Call`].
    pub functions: Vec<CompiledFn>,
    /// Literal texts of `bytes.lit` / `bytes.view_lit`.
    pub literals: Vec<Vec<u8>>,
    /// JSON pointers for trap texts.
    pub ptrs: Vec<String>,
}
