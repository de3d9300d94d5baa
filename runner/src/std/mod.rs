//! Native implementations of the std functions of subset §9.
//!
//! The project ships no X07 std files, so every function is implemented here. Each entry
//! of [`STD_FUNCTIONS`] gives the signature the checker uses and how it runs: either as a
//! builtin (thin wrappers, with the in-std trap pointers of subset §9.9) or natively.

mod bytes;
mod docs;
mod parse;
mod process;

use crate::host::{Host, Interrupt};
use crate::tir::Builtin;
use crate::types::Ty;
use crate::value::{bytes_value, Value};

/// Natively implemented std functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum StdFn {
    FindU8,
    FindSub,
    CountU8,
    MaxU8,
    SumU8,
    StartsWith,
    EndsWith,
    StripPrefixView,
    StripSuffixView,
    TrimAsciiView,
    Reverse,
    Concat,
    Take,
    Drop,
    Copy,
    SliceClamp,
    ViewSliceClamp,
    CmpBytes,
    HexEncode,
    ParseU32Dec,
    ParseI32Dec,
    U32StatusLeAt,
    I32StatusLeAt,
    U32StatusLe,
    I32StatusLe,
    DocOkI32Le,
    DocOkBytes,
    DocErr0,
    DocIsOk,
    DocPayload,
    DocUnwrapI32Le,
    ChainSumCsvI32,
    FsRead,
    Const(i32),
    ProcIsErr,
    ProcErrCode,
    ProcRespVer,
    ProcRespExitCode,
    ProcRespFlags,
    ProcRespStdout,
    ProcRespStderr,
    ProcGetView,
    ProcGetBytes,
    ReqNew,
    ReqArg,
    ReqEnv,
    ReqCwd,
    ReqStdin,
    ReqFinish,
    ReqValidate,
    CapsFinish,
    CapsValidate,
    MapEmpty,
    MapPut,
    MapGet,
    MapEmit,
    SetInsert,
    SetLen,
}

/// How a std function runs.
#[derive(Debug, Clone, Copy)]
pub enum StdImpl {
    /// As a builtin, with the trap pointer into the std file when it has one.
    Builtin(Builtin, Option<&'static str>),
    /// Natively.
    Native(StdFn),
}

/// Signature and implementation of one std function.
#[derive(Debug)]
pub struct StdSig {
    /// Full name (`std.bytes.find_u8`).
    pub name: &'static str,
    /// Parameter types (`bytes_view` parameters also accept `bytes` and `vec_u8`).
    pub params: &'static [Ty],
    /// Result type.
    pub result: Ty,
    /// How it runs.
    pub imp: StdImpl,
}

use Ty::{Bytes as B, BytesView as V, VecU8 as VEC, I32};

const fn n(name: &'static str, params: &'static [Ty], result: Ty, f: StdFn) -> StdSig {
    StdSig {
        name,
        params,
        result,
        imp: StdImpl::Native(f),
    }
}

const fn b(name: &'static str, params: &'static [Ty], result: Ty, f: Builtin) -> StdSig {
    StdSig {
        name,
        params,
        result,
        imp: StdImpl::Builtin(f, None),
    }
}

const fn bp(
    name: &'static str,
    params: &'static [Ty],
    result: Ty,
    f: Builtin,
    ptr: &'static str,
) -> StdSig {
    StdSig {
        name,
        params,
        result,
        imp: StdImpl::Builtin(f, Some(ptr)),
    }
}

/// Every std function of subset §9 (107 entries).
pub static STD_FUNCTIONS: &[StdSig] = &[
    // std.bytes (std-core 0.1.4)
    b("std.bytes.len", &[V], I32, Builtin::BytesLen),
    bp(
        "std.bytes.get_u8",
        &[V, I32],
        I32,
        Builtin::BytesGetU8,
        "/decls/12/body",
    ),
    bp(
        "std.bytes.set_u8",
        &[B, I32, I32],
        B,
        Builtin::BytesSetU8,
        "/decls/16/body",
    ),
    b("std.bytes.alloc", &[I32], B, Builtin::BytesAlloc),
    b("std.bytes.eq", &[V, V], I32, Builtin::BytesEq),
    b(
        "std.bytes.cmp_range",
        &[V, I32, I32, V, I32, I32],
        I32,
        Builtin::BytesCmpRange,
    ),
    n("std.bytes.find_u8", &[V, I32], I32, StdFn::FindU8),
    n("std.bytes.find_sub", &[V, V], I32, StdFn::FindSub),
    n("std.bytes.count_u8", &[V, I32], I32, StdFn::CountU8),
    n("std.bytes.max_u8", &[V], I32, StdFn::MaxU8),
    n("std.bytes.sum_u8", &[V], I32, StdFn::SumU8),
    n("std.bytes.starts_with", &[V, V], I32, StdFn::StartsWith),
    n("std.bytes.ends_with", &[V, V], I32, StdFn::EndsWith),
    n(
        "std.bytes.strip_prefix_view",
        &[V, V],
        V,
        StdFn::StripPrefixView,
    ),
    n(
        "std.bytes.strip_suffix_view",
        &[V, V],
        V,
        StdFn::StripSuffixView,
    ),
    n("std.bytes.trim_ascii_view", &[V], V, StdFn::TrimAsciiView),
    n("std.bytes.reverse", &[V], B, StdFn::Reverse),
    n("std.bytes.concat", &[V, V], B, StdFn::Concat),
    n("std.bytes.take", &[V, I32], B, StdFn::Take),
    n("std.bytes.drop", &[V, I32], B, StdFn::Drop),
    n("std.bytes.copy", &[V], B, StdFn::Copy),
    n("std.bytes.slice", &[V, I32, I32], B, StdFn::SliceClamp),
    n("std.bytes.slice_v1", &[V, I32, I32], B, StdFn::SliceClamp),
    // std.vec
    b(
        "std.vec.with_capacity",
        &[I32],
        VEC,
        Builtin::VecWithCapacity,
    ),
    b("std.vec.push", &[VEC, I32], VEC, Builtin::VecPush),
    b(
        "std.vec.extend_bytes",
        &[VEC, V],
        VEC,
        Builtin::VecExtendBytes,
    ),
    b(
        "std.vec.reserve_exact",
        &[VEC, I32],
        VEC,
        Builtin::VecReserveExact,
    ),
    b("std.vec.as_bytes", &[VEC], B, Builtin::VecIntoBytes),
    b("std.vec.len", &[VEC], I32, Builtin::VecLen),
    b("std.vec.get", &[VEC, I32], I32, Builtin::VecGet),
    // std.fmt, std.codec, std.view, std.slice
    b("std.fmt.u32_to_dec", &[I32], B, Builtin::FmtU32ToDec),
    b("std.fmt.s32_to_dec", &[I32], B, Builtin::FmtS32ToDec),
    b(
        "std.codec.read_u32_le",
        &[V, I32],
        I32,
        Builtin::CodecReadU32Le,
    ),
    b(
        "std.codec.write_u32_le",
        &[I32],
        B,
        Builtin::CodecWriteU32Le,
    ),
    n("std.codec.hex_encode_v1", &[V], B, StdFn::HexEncode),
    n(
        "std.view.slice_v1",
        &[V, I32, I32],
        V,
        StdFn::ViewSliceClamp,
    ),
    n("std.slice.clamp", &[B, I32, I32], B, StdFn::SliceClamp),
    n("std.slice.cmp_bytes", &[B, B], I32, StdFn::CmpBytes),
    // std.parse
    n("std.parse.u32_dec", &[V], Ty::ResultI32, StdFn::ParseU32Dec),
    n("std.parse.i32_dec", &[V], Ty::ResultI32, StdFn::ParseI32Dec),
    n(
        "std.parse.u32_status_le_at",
        &[V, I32],
        B,
        StdFn::U32StatusLeAt,
    ),
    n(
        "std.parse.i32_status_le_at",
        &[V, I32],
        B,
        StdFn::I32StatusLeAt,
    ),
    n("std.parse.u32_status_le", &[V], B, StdFn::U32StatusLe),
    n("std.parse.i32_status_le", &[V], B, StdFn::I32StatusLe),
    b(
        "std.parse.u32_dec_at",
        &[V, I32],
        I32,
        Builtin::ParseU32DecAt,
    ),
    // std.result / std.option (byte documents)
    n("std.result.ok_i32_le", &[I32], B, StdFn::DocOkI32Le),
    n("std.result.ok_bytes", &[V], B, StdFn::DocOkBytes),
    n("std.result.err0", &[], B, StdFn::DocErr0),
    n("std.result.is_ok", &[V], I32, StdFn::DocIsOk),
    n("std.result.payload", &[V], B, StdFn::DocPayload),
    n(
        "std.result.unwrap_i32_le",
        &[V, I32],
        I32,
        StdFn::DocUnwrapI32Le,
    ),
    n(
        "std.result.chain_sum_csv_i32",
        &[V],
        B,
        StdFn::ChainSumCsvI32,
    ),
    n("std.option.some_i32_le", &[I32], B, StdFn::DocOkI32Le),
    n("std.option.some_bytes", &[V], B, StdFn::DocOkBytes),
    n("std.option.none", &[], B, StdFn::DocErr0),
    n("std.option.is_some", &[V], I32, StdFn::DocIsOk),
    n("std.option.payload", &[V], B, StdFn::DocPayload),
    n(
        "std.option.unwrap_i32_le",
        &[V, I32],
        I32,
        StdFn::DocUnwrapI32Le,
    ),
    // OS wrappers
    n("std.fs.read", &[V], B, StdFn::FsRead),
    n("std.fs.read_async", &[V], B, StdFn::FsRead),
    b("std.os.env.get", &[B], B, Builtin::EnvGet),
    b("std.os.time.now_unix_ms", &[], I32, Builtin::TimeNowUnixMs),
    // std.os.process
    n(
        "std.os.process.code_policy_denied",
        &[],
        I32,
        StdFn::Const(1),
    ),
    n(
        "std.os.process.code_invalid_request",
        &[],
        I32,
        StdFn::Const(2),
    ),
    n(
        "std.os.process.code_spawn_failed",
        &[],
        I32,
        StdFn::Const(3),
    ),
    n("std.os.process.code_timeout", &[], I32, StdFn::Const(4)),
    n(
        "std.os.process.code_output_limit",
        &[],
        I32,
        StdFn::Const(5),
    ),
    b(
        "std.os.process.run_capture_v1",
        &[B, B],
        B,
        Builtin::ProcRunCapture,
    ),
    b(
        "std.os.process.spawn_capture_v1",
        &[B, B],
        I32,
        Builtin::ProcSpawnCapture,
    ),
    b(
        "std.os.process.spawn_piped_v1",
        &[B, B],
        I32,
        Builtin::ProcSpawnPiped,
    ),
    b(
        "std.os.process.try_join_capture_v1",
        &[I32],
        Ty::OptionBytes,
        Builtin::ProcTryJoinCapture,
    ),
    b(
        "std.os.process.stdout_read_v1",
        &[I32, I32],
        B,
        Builtin::ProcStdoutRead,
    ),
    b(
        "std.os.process.stderr_read_v1",
        &[I32, I32],
        B,
        Builtin::ProcStderrRead,
    ),
    b(
        "std.os.process.stdin_write_v1",
        &[I32, B],
        I32,
        Builtin::ProcStdinWrite,
    ),
    b(
        "std.os.process.stdin_close_v1",
        &[I32],
        I32,
        Builtin::ProcStdinClose,
    ),
    b(
        "std.os.process.try_wait_v1",
        &[I32],
        I32,
        Builtin::ProcTryWait,
    ),
    b(
        "std.os.process.take_exit_v1",
        &[I32],
        I32,
        Builtin::ProcTakeExit,
    ),
    b(
        "std.os.process.kill_v1",
        &[I32, I32],
        I32,
        Builtin::ProcKill,
    ),
    b("std.os.process.drop_v1", &[I32], I32, Builtin::ProcDrop),
    b("std.os.process.exit", &[I32], I32, Builtin::ProcessExit),
    n("std.os.process.is_err", &[V], I32, StdFn::ProcIsErr),
    n("std.os.process.err_code", &[V], I32, StdFn::ProcErrCode),
    n("std.os.process.resp_ver", &[V], I32, StdFn::ProcRespVer),
    n(
        "std.os.process.resp_exit_code",
        &[V],
        I32,
        StdFn::ProcRespExitCode,
    ),
    n("std.os.process.resp_flags", &[V], I32, StdFn::ProcRespFlags),
    n("std.os.process.resp_stdout", &[V], B, StdFn::ProcRespStdout),
    n("std.os.process.resp_stderr", &[V], B, StdFn::ProcRespStderr),
    n("std.os.process.get_view", &[V], V, StdFn::ProcGetView),
    n("std.os.process.get_bytes", &[V], B, StdFn::ProcGetBytes),
    // request and caps builders
    n("std.os.process.req_v1.new", &[B], VEC, StdFn::ReqNew),
    n("std.os.process.req_v1.arg", &[VEC, B], VEC, StdFn::ReqArg),
    n(
        "std.os.process.req_v1.env",
        &[VEC, B, B],
        VEC,
        StdFn::ReqEnv,
    ),
    n("std.os.process.req_v1.cwd", &[VEC, B], VEC, StdFn::ReqCwd),
    n(
        "std.os.process.req_v1.stdin",
        &[VEC, B],
        VEC,
        StdFn::ReqStdin,
    ),
    n("std.os.process.req_v1.finish", &[VEC], B, StdFn::ReqFinish),
    n(
        "std.os.process.req_v1.validate_v1",
        &[V],
        Ty::ResultI32,
        StdFn::ReqValidate,
    ),
    n(
        "std.os.process.caps_v1.finish",
        &[I32, I32, I32, I32],
        B,
        StdFn::CapsFinish,
    ),
    n(
        "std.os.process.caps_v1.validate_v1",
        &[V],
        Ty::ResultI32,
        StdFn::CapsValidate,
    ),
    // btree (u32 variants)
    n("std.btree_map.empty_u32_u32", &[], B, StdFn::MapEmpty),
    n(
        "std.btree_map.put_u32_u32",
        &[B, I32, I32],
        B,
        StdFn::MapPut,
    ),
    n(
        "std.btree_map.get_u32_u32_or",
        &[V, I32, I32],
        I32,
        StdFn::MapGet,
    ),
    n("std.btree_map.emit_kv_u32le_u32le", &[B], B, StdFn::MapEmit),
    n("std.btree_set.empty_u32", &[], B, StdFn::MapEmpty),
    n("std.btree_set.insert_u32", &[B, I32], B, StdFn::SetInsert),
    n("std.btree_set.len_u32", &[V], I32, StdFn::SetLen),
];

/// Modules whose whole function list is implemented here; a missing name in one of these
/// is "not exported", in other built-in std modules it is an unsupported head.
pub const NATIVE_MODULES: &[&str] = &[
    "std.bytes",
    "std.vec",
    "std.fmt",
    "std.codec",
    "std.view",
    "std.slice",
    "std.parse",
    "std.result",
    "std.option",
    "std.fs",
    "std.os.env",
    "std.os.time",
    "std.os.process",
    "std.os.process.req_v1",
    "std.os.process.caps_v1",
];

/// Looks a std function up by full name.
pub fn lookup(name: &str) -> Option<&'static StdSig> {
    STD_FUNCTIONS.iter().find(|s| s.name == name)
}

/// Runs any std function (builtin-backed or native) on its arguments.
pub fn run(
    sig: &StdSig,
    args: Vec<Value>,
    host: &mut dyn Host,
    max_memory_bytes: u64,
) -> Result<Value, Interrupt> {
    match sig.imp {
        StdImpl::Builtin(id, ptr) => {
            let mut cx = crate::eval::builtins::Ctx {
                host,
                ptr,
                max_memory_bytes,
            };
            crate::eval::builtins::run(id, args, &mut cx)
        }
        StdImpl::Native(f) => call(f, args, host),
    }
}

/// Runs a native std function on its arguments.
pub fn call(id: StdFn, args: Vec<Value>, host: &mut dyn Host) -> Result<Value, Interrupt> {
    let a = |i: usize| -> &[u8] { args.get(i).map(Value::bytes).unwrap_or(&[]) };
    let x = |i: usize| -> i32 { args.get(i).map(Value::i32).unwrap_or(0) };
    Ok(match id {
        StdFn::FindU8 => Value::I32(bytes::find_u8(a(0), x(1))),
        StdFn::FindSub => Value::I32(bytes::find_sub(a(0), a(1))),
        StdFn::CountU8 => Value::I32(a(0).iter().filter(|&&c| c as i32 == x(1)).count() as i32),
        StdFn::MaxU8 => Value::I32(a(0).iter().copied().max().unwrap_or(0) as i32),
        StdFn::SumU8 => Value::I32(a(0).iter().fold(0i32, |acc, &c| acc.wrapping_add(c as i32))),
        StdFn::StartsWith => Value::I32(a(0).starts_with(a(1)) as i32),
        StdFn::EndsWith => Value::I32(a(0).ends_with(a(1)) as i32),
        StdFn::StripPrefixView | StdFn::StripSuffixView | StdFn::TrimAsciiView => {
            let (start, len) = match id {
                StdFn::StripPrefixView => bytes::strip_prefix(a(0), a(1)),
                StdFn::StripSuffixView => bytes::strip_suffix(a(0), a(1)),
                _ => bytes::trim_ascii(a(0)),
            };
            let mut args = args;
            let mut v = args.swap_remove(0).into_view();
            v.start += start;
            v.len = len;
            Value::View(v)
        }
        StdFn::Reverse => bytes_value(a(0).iter().rev().copied().collect()),
        StdFn::Concat => bytes_value([a(0), a(1)].concat()),
        StdFn::Take => {
            let s = a(0);
            let k = (x(1).max(0) as usize).min(s.len());
            bytes_value(s[..k].to_vec())
        }
        StdFn::Drop => {
            let s = a(0);
            let k = (x(1).max(0) as usize).min(s.len());
            bytes_value(s[k..].to_vec())
        }
        StdFn::Copy => bytes_value(a(0).to_vec()),
        StdFn::SliceClamp => {
            let (s, l) = bytes::clamp_range(a(0).len(), x(1), x(2));
            bytes_value(a(0)[s..s + l].to_vec())
        }
        StdFn::ViewSliceClamp => {
            let (s, l) = bytes::clamp_range(a(0).len(), x(1), x(2));
            let mut args = args;
            let mut v = args.swap_remove(0).into_view();
            v.start += s;
            v.len = l;
            Value::View(v)
        }
        StdFn::CmpBytes => Value::I32(match a(0).cmp(a(1)) {
            std::cmp::Ordering::Less => -1,
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Greater => 1,
        }),
        StdFn::HexEncode => bytes_value(docs::hex(a(0))),
        StdFn::ParseU32Dec => Value::ResI32(parse::u32_dec(a(0))),
        StdFn::ParseI32Dec => Value::ResI32(parse::i32_dec(a(0))),
        StdFn::U32StatusLeAt => bytes_value(parse::status_le_at(a(0), x(1), false)),
        StdFn::I32StatusLeAt => bytes_value(parse::status_le_at(a(0), x(1), true)),
        StdFn::U32StatusLe => bytes_value(parse::status_le(a(0), false)),
        StdFn::I32StatusLe => bytes_value(parse::status_le(a(0), true)),
        StdFn::DocOkI32Le => {
            let mut d = vec![1];
            d.extend_from_slice(&x(0).to_le_bytes());
            bytes_value(d)
        }
        StdFn::DocOkBytes => bytes_value([&[1u8][..], a(0)].concat()),
        StdFn::DocErr0 => bytes_value(vec![0]),
        StdFn::DocIsOk => Value::I32(docs::is_ok(a(0)) as i32),
        StdFn::DocPayload => bytes_value(if docs::is_ok(a(0)) {
            a(0)[1..].to_vec()
        } else {
            Vec::new()
        }),
        StdFn::DocUnwrapI32Le => {
            let d = a(0);
            Value::I32(if docs::is_ok(d) && d.len() >= 5 {
                docs::u32le(d, 1) as i32
            } else {
                x(1)
            })
        }
        StdFn::ChainSumCsvI32 => bytes_value(docs::chain_sum_csv_i32(a(0))),
        StdFn::FsRead => bytes_value(host.fs_read_file(a(0))?),
        StdFn::Const(c) => Value::I32(c),
        StdFn::ProcIsErr => Value::I32(process::is_err(a(0)) as i32),
        StdFn::ProcErrCode => Value::I32(process::err_code(a(0))),
        StdFn::ProcRespVer => Value::I32(process::resp_field(a(0), 1)),
        StdFn::ProcRespExitCode => Value::I32(process::resp_field(a(0), 2)),
        StdFn::ProcRespFlags => Value::I32(process::resp_field(a(0), 6)),
        StdFn::ProcRespStdout => bytes_value(process::resp_stream(a(0), 0)),
        StdFn::ProcRespStderr => bytes_value(process::resp_stream(a(0), 1)),
        StdFn::ProcGetView => {
            let ok = process::is_ok_doc(a(0));
            let mut args = args;
            let mut v = args.swap_remove(0).into_view();
            if ok {
                v.start += 1;
                v.len -= 1;
            } else {
                v.len = 0;
            }
            Value::View(v)
        }
        StdFn::ProcGetBytes => bytes_value(if process::is_ok_doc(a(0)) {
            a(0)[1..].to_vec()
        } else {
            Vec::new()
        }),
        StdFn::ReqNew => process::vec_value(process::req_new(a(0))),
        StdFn::ReqArg => process::vec_value(process::req_arg(a(0), a(1))),
        StdFn::ReqEnv => process::vec_value(process::req_env(a(0), a(1), a(2))),
        StdFn::ReqCwd => process::vec_value(process::req_set_tail(a(0), a(1), 2)),
        StdFn::ReqStdin => process::vec_value(process::req_set_tail(a(0), a(1), 3)),
        StdFn::ReqFinish => bytes_value(process::req_finish(a(0))),
        StdFn::ReqValidate => Value::ResI32(if process::req_valid(a(0)) {
            Ok(0)
        } else {
            Err(2)
        }),
        StdFn::CapsFinish => bytes_value(process::caps_finish([x(0), x(1), x(2), x(3)])),
        StdFn::CapsValidate => Value::ResI32(if process::caps_valid(a(0)) {
            Ok(0)
        } else {
            Err(2)
        }),
        StdFn::MapEmpty => bytes_value(Vec::new()),
        StdFn::MapPut => bytes_value(docs::map_put(a(0), x(1) as u32, x(2) as u32)),
        StdFn::MapGet => Value::I32(docs::map_get(a(0), x(1) as u32).map_or(x(2), |v| v as i32)),
        StdFn::MapEmit => bytes_value(a(0).to_vec()),
        StdFn::SetInsert => bytes_value(docs::set_insert(a(0), x(1) as u32)),
        StdFn::SetLen => Value::I32((a(0).len() / 4) as i32),
    })
}
