//! Signatures of the builtin heads (subset §8, §10): parameter kinds, result type,
//! which runtime builtin runs them, and whether their traps carry ` ptr=`.

use crate::tir::Builtin;
use crate::types::Ty;

/// How a builtin parameter is passed and what it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum P {
    /// `i32`.
    I32,
    /// `bytes` or `bytes_view`, borrowed (`B|V`).
    BV,
    /// `bytes_view` only.
    V,
    /// `bytes`, consumed.
    BytesOwn,
    /// `bytes` variable, borrowed (owner of a new view).
    BytesRef,
    /// `vec_u8`, consumed.
    VecOwn,
    /// `vec_u8`, borrowed.
    VecRef,
    /// `option_i32`.
    OptI32,
    /// `option_bytes`, consumed.
    OptBytesOwn,
    /// `option_bytes`, borrowed.
    OptBytesRef,
    /// `option_bytes_view`.
    OptView,
    /// `result_i32`.
    ResI32,
    /// `result_bytes`, consumed.
    ResBytesOwn,
    /// `result_bytes`, borrowed.
    ResBytesRef,
    /// `result_bytes_view`.
    ResView,
}

impl P {
    /// Whether a variable passed here is consumed.
    pub fn moves(self) -> bool {
        matches!(
            self,
            P::BytesOwn | P::VecOwn | P::OptBytesOwn | P::ResBytesOwn
        )
    }

    /// Whether a value of type `ty` is accepted. `return` (type `Never`) is not an
    /// argument (semantics R19).
    pub fn accepts(self, ty: Ty) -> bool {
        if ty == Ty::Any {
            return true;
        }
        match self {
            P::I32 => ty == Ty::I32,
            P::BV => matches!(ty, Ty::Bytes | Ty::BytesView),
            P::V => ty == Ty::BytesView,
            P::BytesOwn | P::BytesRef => ty == Ty::Bytes,
            P::VecOwn | P::VecRef => ty == Ty::VecU8,
            P::OptI32 => ty == Ty::OptionI32,
            P::OptBytesOwn | P::OptBytesRef => ty == Ty::OptionBytes,
            P::OptView => ty == Ty::OptionBytesView,
            P::ResI32 => ty == Ty::ResultI32,
            P::ResBytesOwn | P::ResBytesRef => ty == Ty::ResultBytes,
            P::ResView => ty == Ty::ResultBytesView,
        }
    }

    /// The type name used in `expects (...)` messages.
    pub fn name(self) -> &'static str {
        match self {
            P::I32 => "i32",
            P::BV | P::V => "bytes_view",
            P::BytesOwn | P::BytesRef => "bytes",
            P::VecOwn | P::VecRef => "vec_u8",
            P::OptI32 => "option_i32",
            P::OptBytesOwn | P::OptBytesRef => "option_bytes",
            P::OptView => "option_bytes_view",
            P::ResI32 => "result_i32",
            P::ResBytesOwn | P::ResBytesRef => "result_bytes",
            P::ResView => "result_bytes_view",
        }
    }
}

/// One builtin head.
#[derive(Debug)]
pub struct BuiltinSig {
    /// The head.
    pub name: &'static str,
    /// Parameters.
    pub params: &'static [P],
    /// OS heads: parameter names for `expects bytes path` messages.
    pub param_names: Option<&'static [&'static str]>,
    /// Result type (`Never` for `os.process.exit`).
    pub result: Ty,
    /// Runtime implementation.
    pub id: Builtin,
    /// Whether traps end with ` ptr=<pointer of the call>`.
    pub ptr: bool,
}

const fn s(name: &'static str, params: &'static [P], result: Ty, id: Builtin) -> BuiltinSig {
    BuiltinSig {
        name,
        params,
        param_names: None,
        result,
        id,
        ptr: false,
    }
}

const fn sp(name: &'static str, params: &'static [P], result: Ty, id: Builtin) -> BuiltinSig {
    BuiltinSig {
        name,
        params,
        param_names: None,
        result,
        id,
        ptr: true,
    }
}

const fn os(
    name: &'static str,
    params: &'static [P],
    names: &'static [&'static str],
    result: Ty,
    id: Builtin,
) -> BuiltinSig {
    BuiltinSig {
        name,
        params,
        param_names: Some(names),
        result,
        id,
        ptr: false,
    }
}

use Builtin as B;
use Ty::{Bytes, BytesView, I32 as TI32};

/// Every builtin head of the subset.
pub static BUILTINS: &[BuiltinSig] = &[
    s("bytes.empty", &[], Bytes, B::BytesEmpty),
    s("bytes1", &[P::I32], Bytes, B::Bytes1),
    s("bytes.alloc", &[P::I32], Bytes, B::BytesAlloc),
    s("bytes.len", &[P::BV], TI32, B::BytesLen),
    sp("bytes.get_u8", &[P::BV, P::I32], TI32, B::BytesGetU8),
    sp(
        "bytes.set_u8",
        &[P::BytesOwn, P::I32, P::I32],
        Bytes,
        B::BytesSetU8,
    ),
    sp(
        "bytes.slice",
        &[P::BV, P::I32, P::I32],
        Bytes,
        B::BytesSlice,
    ),
    s(
        "bytes.copy",
        &[P::BytesOwn, P::BytesOwn],
        Bytes,
        B::BytesCopy,
    ),
    s(
        "bytes.concat",
        &[P::BytesOwn, P::BytesOwn],
        Bytes,
        B::BytesConcat,
    ),
    s("bytes.eq", &[P::BV, P::BV], TI32, B::BytesEq),
    s(
        "bytes.cmp_range",
        &[P::BV, P::I32, P::I32, P::BV, P::I32, P::I32],
        TI32,
        B::BytesCmpRange,
    ),
    s("bytes.view", &[P::BytesRef], BytesView, B::BytesView),
    sp(
        "bytes.subview",
        &[P::BytesRef, P::I32, P::I32],
        BytesView,
        B::BytesSubview,
    ),
    s("view.len", &[P::V], TI32, B::BytesLen),
    sp("view.get_u8", &[P::V, P::I32], TI32, B::BytesGetU8),
    sp(
        "view.slice",
        &[P::V, P::I32, P::I32],
        BytesView,
        B::ViewSlice,
    ),
    s("view.to_bytes", &[P::V], Bytes, B::ViewToBytes),
    s("view.eq", &[P::V, P::V], TI32, B::BytesEq),
    s(
        "view.cmp_range",
        &[P::V, P::I32, P::I32, P::V, P::I32, P::I32],
        TI32,
        B::BytesCmpRange,
    ),
    s(
        "vec_u8.with_capacity",
        &[P::I32],
        Ty::VecU8,
        B::VecWithCapacity,
    ),
    s("vec_u8.len", &[P::VecRef], TI32, B::VecLen),
    s("vec_u8.cap", &[P::VecRef], TI32, B::VecCap),
    s("vec_u8.get", &[P::VecRef, P::I32], TI32, B::VecGet),
    s(
        "vec_u8.set",
        &[P::VecOwn, P::I32, P::I32],
        Ty::VecU8,
        B::VecSet,
    ),
    s("vec_u8.push", &[P::VecOwn, P::I32], Ty::VecU8, B::VecPush),
    s(
        "vec_u8.reserve_exact",
        &[P::VecOwn, P::I32],
        Ty::VecU8,
        B::VecReserveExact,
    ),
    s(
        "vec_u8.extend_zeroes",
        &[P::VecOwn, P::I32],
        Ty::VecU8,
        B::VecExtendZeroes,
    ),
    s(
        "vec_u8.extend_bytes",
        &[P::VecOwn, P::BV],
        Ty::VecU8,
        B::VecExtendBytes,
    ),
    s(
        "vec_u8.extend_bytes_range",
        &[P::VecOwn, P::BV, P::I32, P::I32],
        Ty::VecU8,
        B::VecExtendBytesRange,
    ),
    s("vec_u8.clear", &[P::VecOwn], Ty::VecU8, B::VecClear),
    s("vec_u8.into_bytes", &[P::VecOwn], Bytes, B::VecIntoBytes),
    s("vec_u8.as_view", &[P::VecRef], BytesView, B::VecAsView),
    s(
        "codec.read_u32_le",
        &[P::BV, P::I32],
        TI32,
        B::CodecReadU32Le,
    ),
    s("codec.write_u32_le", &[P::I32], Bytes, B::CodecWriteU32Le),
    s("fmt.u32_to_dec", &[P::I32], Bytes, B::FmtU32ToDec),
    s("fmt.s32_to_dec", &[P::I32], Bytes, B::FmtS32ToDec),
    s("parse.u32_dec", &[P::V], TI32, B::ParseU32Dec),
    s("parse.u32_dec_at", &[P::V, P::I32], TI32, B::ParseU32DecAt),
    s("prng.lcg_next_u32", &[P::I32], TI32, B::PrngLcgNextU32),
    s("option_i32.none", &[], Ty::OptionI32, B::OptI32None),
    s("option_i32.some", &[P::I32], Ty::OptionI32, B::OptI32Some),
    s("option_i32.is_some", &[P::OptI32], TI32, B::OptI32IsSome),
    s(
        "option_i32.unwrap_or",
        &[P::OptI32, P::I32],
        TI32,
        B::OptI32UnwrapOr,
    ),
    s("option_bytes.none", &[], Ty::OptionBytes, B::OptBytesNone),
    s(
        "option_bytes.some",
        &[P::BytesOwn],
        Ty::OptionBytes,
        B::OptBytesSome,
    ),
    s(
        "option_bytes.is_some",
        &[P::OptBytesRef],
        TI32,
        B::OptBytesIsSome,
    ),
    s(
        "option_bytes.unwrap_or",
        &[P::OptBytesOwn, P::BytesOwn],
        Bytes,
        B::OptBytesUnwrapOr,
    ),
    s(
        "option_bytes_view.none",
        &[],
        Ty::OptionBytesView,
        B::OptViewNone,
    ),
    s(
        "option_bytes_view.some",
        &[P::V],
        Ty::OptionBytesView,
        B::OptViewSome,
    ),
    s(
        "option_bytes_view.is_some",
        &[P::OptView],
        TI32,
        B::OptViewIsSome,
    ),
    s(
        "option_bytes_view.unwrap_or",
        &[P::OptView, P::V],
        BytesView,
        B::OptViewUnwrapOr,
    ),
    s("result_i32.ok", &[P::I32], Ty::ResultI32, B::ResI32Ok),
    s("result_i32.err", &[P::I32], Ty::ResultI32, B::ResI32Err),
    s("result_i32.is_ok", &[P::ResI32], TI32, B::ResI32IsOk),
    s("result_i32.err_code", &[P::ResI32], TI32, B::ResI32ErrCode),
    s(
        "result_i32.unwrap_or",
        &[P::ResI32, P::I32],
        TI32,
        B::ResI32UnwrapOr,
    ),
    s(
        "result_bytes.ok",
        &[P::BytesOwn],
        Ty::ResultBytes,
        B::ResBytesOk,
    ),
    s(
        "result_bytes.err",
        &[P::I32],
        Ty::ResultBytes,
        B::ResBytesErr,
    ),
    s(
        "result_bytes.is_ok",
        &[P::ResBytesRef],
        TI32,
        B::ResBytesIsOk,
    ),
    s(
        "result_bytes.err_code",
        &[P::ResBytesRef],
        TI32,
        B::ResBytesErrCode,
    ),
    s(
        "result_bytes.unwrap_or",
        &[P::ResBytesOwn, P::BytesOwn],
        Bytes,
        B::ResBytesUnwrapOr,
    ),
    s(
        "result_bytes_view.ok",
        &[P::V],
        Ty::ResultBytesView,
        B::ResViewOk,
    ),
    s(
        "result_bytes_view.err",
        &[P::I32],
        Ty::ResultBytesView,
        B::ResViewErr,
    ),
    s(
        "result_bytes_view.is_ok",
        &[P::ResView],
        TI32,
        B::ResViewIsOk,
    ),
    s(
        "result_bytes_view.err_code",
        &[P::ResView],
        TI32,
        B::ResViewErrCode,
    ),
    s(
        "result_bytes_view.unwrap_or",
        &[P::ResView, P::V],
        BytesView,
        B::ResViewUnwrapOr,
    ),
    os(
        "os.fs.read_file",
        &[P::BytesOwn],
        &["path"],
        Bytes,
        B::FsReadFile,
    ),
    os(
        "os.fs.write_file",
        &[P::BytesOwn, P::BytesOwn],
        &["path", "data"],
        TI32,
        B::FsWriteFile,
    ),
    os("os.env.get", &[P::BytesOwn], &["key"], Bytes, B::EnvGet),
    os("os.time.now_unix_ms", &[], &[], TI32, B::TimeNowUnixMs),
    os("os.time.now_instant_v1", &[], &[], Bytes, B::TimeNowInstant),
    os(
        "os.time.sleep_ms_v1",
        &[P::I32],
        &["ms"],
        TI32,
        B::TimeSleepMs,
    ),
    os("os.time.local_tzid_v1", &[], &[], Bytes, B::TimeLocalTzid),
    os(
        "os.process.exit",
        &[P::I32],
        &["code"],
        Ty::Never,
        B::ProcessExit,
    ),
    os(
        "os.process.run_capture_v1",
        &[P::BytesOwn, P::BytesOwn],
        &["req", "caps"],
        Bytes,
        B::ProcRunCapture,
    ),
    os(
        "os.process.spawn_capture_v1",
        &[P::BytesOwn, P::BytesOwn],
        &["req", "caps"],
        TI32,
        B::ProcSpawnCapture,
    ),
    os(
        "os.process.spawn_piped_v1",
        &[P::BytesOwn, P::BytesOwn],
        &["req", "caps"],
        TI32,
        B::ProcSpawnPiped,
    ),
    os(
        "os.process.try_join_capture_v1",
        &[P::I32],
        &["handle"],
        Ty::OptionBytes,
        B::ProcTryJoinCapture,
    ),
    os(
        "os.process.join_capture_v1",
        &[P::I32],
        &["handle"],
        Bytes,
        B::ProcJoinCapture,
    ),
    os(
        "os.process.join_exit_v1",
        &[P::I32],
        &["handle"],
        TI32,
        B::ProcJoinExit,
    ),
    os(
        "os.process.try_wait_v1",
        &[P::I32],
        &["handle"],
        TI32,
        B::ProcTryWait,
    ),
    os(
        "os.process.take_exit_v1",
        &[P::I32],
        &["handle"],
        TI32,
        B::ProcTakeExit,
    ),
    os(
        "os.process.stdout_read_v1",
        &[P::I32, P::I32],
        &["handle", "max"],
        Bytes,
        B::ProcStdoutRead,
    ),
    os(
        "os.process.stderr_read_v1",
        &[P::I32, P::I32],
        &["handle", "max"],
        Bytes,
        B::ProcStderrRead,
    ),
    os(
        "os.process.stdin_write_v1",
        &[P::I32, P::BytesOwn],
        &["handle", "chunk"],
        TI32,
        B::ProcStdinWrite,
    ),
    os(
        "os.process.stdin_close_v1",
        &[P::I32],
        &["handle"],
        TI32,
        B::ProcStdinClose,
    ),
    os(
        "os.process.kill_v1",
        &[P::I32, P::I32],
        &["handle", "sig"],
        TI32,
        B::ProcKill,
    ),
    os(
        "os.process.drop_v1",
        &[P::I32],
        &["handle"],
        TI32,
        B::ProcDrop,
    ),
    os(
        "os.net.http_request",
        &[P::BytesOwn],
        &["req"],
        Bytes,
        B::NetHttpRequest,
    ),
];

/// Looks a builtin head up.
pub fn builtin(name: &str) -> Option<&'static BuiltinSig> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// OS heads that need the ext-fs native backend (a compile error in this toolchain build).
pub const EXT_FS_HEADS: &[&str] = &[
    "os.fs.read_all_v1",
    "os.fs.write_all_v1",
    "os.fs.append_all_v1",
    "os.fs.mkdirs_v1",
    "os.fs.remove_file_v1",
    "os.fs.remove_dir_all_v1",
    "os.fs.rename_v1",
    "os.fs.list_dir_sorted_text_v1",
    "os.fs.walk_glob_sorted_text_v1",
    "os.fs.stat_v1",
    "os.fs.stream_open_write_v1",
    "os.fs.stream_write_all_v1",
    "os.fs.stream_close_v1",
    "os.fs.stream_drop_v1",
    "os.fs.stream_open_read_v1",
    "os.fs.stream_read_some_v1",
    "os.fs.stream_close_read_v1",
    "os.fs.stream_drop_read_v1",
];

/// Archive heads (native backend file missing).
pub const ARCHIVE_HEADS: &[&str] = &[
    "os.archive.tar_extract_to_fs_v1",
    "os.archive.tgz_extract_to_fs_v1",
    "os.archive.zip_extract_to_fs_v1",
];
