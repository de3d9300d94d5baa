//! Builtin heads (subset §8 and §10): bytes, view, vec_u8, codec/fmt/parse/prng,
//! option/result, and the OS heads that call the [`Host`].

use std::rc::Rc;

use crate::host::{Host, Interrupt};
use crate::tir::Builtin;
use crate::value::{bytes_value, live_bytes, new_bytes, note_memcpy, Buf, Value, VecU8, View};

/// Runtime context a builtin may need.
pub struct Ctx<'a> {
    /// The OS.
    pub host: &'a mut dyn Host,
    /// Trap pointer of the call (`None` when the trap has no ` ptr=` suffix).
    pub ptr: Option<&'a str>,
    /// Heap limit in bytes.
    pub max_memory_bytes: u64,
}

fn trap(msg: &str) -> Interrupt {
    Interrupt::Trap(msg.to_string())
}

pub(crate) fn trap_ptr(msg: &str, ptr: Option<&str>) -> Interrupt {
    match ptr {
        Some(p) => Interrupt::Trap(format!("{msg} ptr={p}")),
        None => trap(msg),
    }
}

/// Traps `out of memory` when `extra` more bytes would exceed the heap limit.
pub fn ensure_room(extra: u64, max: u64) -> Result<(), Interrupt> {
    if live_bytes().saturating_add(extra) > max {
        Err(trap("out of memory"))
    } else {
        Ok(())
    }
}

/// Whether `start..start+len` (unsigned) lies within `total`.
fn in_range(total: usize, start: i32, len: i32) -> Option<(usize, usize)> {
    let (s, l) = (start as u32 as usize, len as u32 as usize);
    (s <= total && l <= total - s).then_some((s, l))
}

fn cmp_range(args: &[Value]) -> Result<i32, Interrupt> {
    let a = args[0].bytes();
    let b = args[3].bytes();
    let (Some((ao, al)), Some((bo, bl))) = (
        in_range(a.len(), args[1].i32(), args[2].i32()),
        in_range(b.len(), args[4].i32(), args[5].i32()),
    ) else {
        return Err(trap("view.cmp_range oob"));
    };
    Ok(match a[ao..ao + al].cmp(&b[bo..bo + bl]) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    })
}

/// `parse.u32_dec` on a whole view.
fn parse_u32_dec(d: &[u8]) -> Result<i32, Interrupt> {
    if d.is_empty() {
        return Err(trap("parse.u32_dec empty"));
    }
    let mut acc: u64 = 0;
    for &c in d {
        if !c.is_ascii_digit() {
            return Err(trap("parse.u32_dec non-digit"));
        }
        acc = acc * 10 + u64::from(c - b'0');
        if acc > u64::from(u32::MAX) {
            return Err(trap("parse.u32_dec overflow"));
        }
    }
    Ok(acc as u32 as i32)
}

/// Grows a vector's observable capacity to hold `needed` bytes by doubling from max(cap, 1).
fn grow_doubling(cap: u64, needed: u64) -> u64 {
    if needed <= cap {
        return cap;
    }
    let mut c = cap.max(1);
    while c < needed {
        c *= 2;
    }
    c
}

/// Sets a vector's capacity, checking the heap limit first.
fn set_cap(v: &mut VecU8, new_cap: u64, max: u64) -> Result<(), Interrupt> {
    if new_cap > v.cap {
        ensure_room(new_cap - v.cap, max)?;
        v.cap = new_cap;
        Rc::make_mut(&mut v.buf).set_accounted(new_cap);
    }
    Ok(())
}

fn take_vec(v: Value) -> VecU8 {
    match v {
        Value::Vec(v) => v,
        _ => VecU8 {
            buf: Rc::new(Buf::new(Vec::new())),
            cap: 0,
        },
    }
}

fn take_bytes(v: Value) -> Rc<Buf> {
    match v {
        Value::Bytes(b) => b,
        other => new_bytes(other.into_vec()),
    }
}

/// Whether `src` holds (a window into) the buffer of vector `dst`.
pub fn aliases(src: &Value, dst: &VecU8) -> bool {
    match src {
        Value::View(w) => Rc::ptr_eq(&w.buf, &dst.buf),
        Value::Bytes(b) => Rc::ptr_eq(b, &dst.buf),
        Value::Vec(x) => Rc::ptr_eq(&x.buf, &dst.buf),
        _ => false,
    }
}

/// The source of `vec_u8.extend_bytes(_range)`, released from the vector it extends: a
/// view of the vector itself (`(vec_u8.extend_bytes v (vec_u8.as_view v))`, semantics
/// R18) is copied to a scratch buffer outside the program heap and dropped, so the vector
/// grows in place, as the native runtime's single buffer does, instead of being cloned
/// (which would count its bytes twice against the heap limit).
pub fn unalias(src: Value, dst: &VecU8) -> Value {
    if aliases(&src, dst) {
        let data = src.bytes().to_vec();
        Value::View(View::whole(Rc::new(Buf::untracked(data))))
    } else {
        src
    }
}

fn extend_vec(mut v: VecU8, data: &[u8], max: u64) -> Result<Value, Interrupt> {
    vec_extend(&mut v, data, max)?;
    Ok(Value::Vec(v))
}

/// `vec_u8.extend_bytes` in place.
pub fn vec_extend(v: &mut VecU8, data: &[u8], max: u64) -> Result<(), Interrupt> {
    let needed = v.buf.data.len() as u64 + data.len() as u64;
    let new_cap = grow_doubling(v.cap, needed);
    set_cap(v, new_cap, max)?;
    note_memcpy(data.len());
    Rc::make_mut(&mut v.buf).data.extend_from_slice(data);
    Ok(())
}

/// `vec_u8.push` in place.
pub fn vec_push(v: &mut VecU8, x: u8, max: u64) -> Result<(), Interrupt> {
    let len = v.buf.data.len() as u64;
    if len >= v.cap {
        let new_cap = if v.cap == 0 { 1 } else { v.cap * 2 };
        set_cap(v, new_cap.max(len + 1), max)?;
    }
    Rc::make_mut(&mut v.buf).data.push(x);
    Ok(())
}

/// `vec_u8.set` in place.
pub fn vec_set(v: &mut VecU8, i: i32, x: u8) -> Result<(), Interrupt> {
    let i = i as u32 as usize;
    if i >= v.buf.data.len() {
        return Err(trap("vec_u8.set oob"));
    }
    Rc::make_mut(&mut v.buf).data[i] = x;
    Ok(())
}

/// `bytes.set_u8` in place.
pub fn bytes_set_u8(b: &mut Rc<Buf>, i: i32, x: u8, ptr: Option<&str>) -> Result<(), Interrupt> {
    let i = i as u32 as usize;
    if i >= b.data.len() {
        return Err(trap_ptr("bytes.set_u8 oob", ptr));
    }
    Rc::make_mut(b).data[i] = x;
    Ok(())
}

/// The vector in a value (an empty one for a moved-from variable).
pub fn as_vec(v: &mut Value) -> &mut VecU8 {
    if !matches!(v, Value::Vec(_)) {
        *v = Value::Vec(VecU8 {
            buf: Rc::new(Buf::new(Vec::new())),
            cap: 0,
        });
    }
    match v {
        Value::Vec(vec) => vec,
        _ => unreachable!("just made a vector"),
    }
}

/// The bytes buffer in a value (an empty one for a moved-from variable).
pub fn as_bytes(v: &mut Value) -> &mut Rc<Buf> {
    if !matches!(v, Value::Bytes(_)) {
        let data = std::mem::replace(v, Value::Moved).into_vec();
        *v = Value::Bytes(new_bytes(data));
    }
    match v {
        Value::Bytes(b) => b,
        _ => unreachable!("just made bytes"),
    }
}

fn dec_u32(x: u32) -> Value {
    bytes_value(x.to_string().into_bytes())
}

/// Runs one builtin on its arguments.
pub fn run(id: Builtin, args: Vec<Value>, cx: &mut Ctx<'_>) -> Result<Value, Interrupt> {
    use Builtin as B;
    let max = cx.max_memory_bytes;
    let mut args = args;
    let x = |args: &[Value], i: usize| args.get(i).map_or(0, Value::i32);
    Ok(match id {
        B::BytesEmpty => bytes_value(Vec::new()),
        B::Bytes1 => bytes_value(vec![x(&args, 0) as u8]),
        B::BytesAlloc => {
            let n = x(&args, 0) as u32 as u64;
            ensure_room(n, max)?;
            bytes_value(vec![0; n as usize])
        }
        B::BytesLen => Value::I32(args[0].bytes().len() as i32),
        B::BytesGetU8 => {
            let d = args[0].bytes();
            let i = x(&args, 1) as u32 as usize;
            match d.get(i) {
                Some(&c) => Value::I32(c as i32),
                None => return Err(trap_ptr("view.get_u8 oob", cx.ptr)),
            }
        }
        B::BytesSetU8 => {
            let mut b = take_bytes(std::mem::replace(&mut args[0], Value::Moved));
            bytes_set_u8(&mut b, x(&args, 1), x(&args, 2) as u8, cx.ptr)?;
            Value::Bytes(b)
        }
        B::BytesSlice => {
            let d = args[0].bytes();
            let Some((s, l)) = in_range(d.len(), x(&args, 1), x(&args, 2)) else {
                return Err(trap_ptr("view.slice oob", cx.ptr));
            };
            note_memcpy(l);
            bytes_value(d[s..s + l].to_vec())
        }
        B::BytesCopy => {
            let src = args[0].bytes().to_vec();
            let mut dst = take_bytes(std::mem::replace(&mut args[1], Value::Moved));
            if src.len() > dst.data.len() {
                return Err(trap("bytes.copy dst too small"));
            }
            note_memcpy(src.len());
            Rc::make_mut(&mut dst).data[..src.len()].copy_from_slice(&src);
            Value::Bytes(dst)
        }
        B::BytesConcat => {
            let b = std::mem::replace(&mut args[1], Value::Moved);
            let mut a = std::mem::replace(&mut args[0], Value::Moved).into_vec();
            note_memcpy(b.bytes().len());
            a.extend_from_slice(b.bytes());
            bytes_value(a)
        }
        B::BytesEq => Value::I32((args[0].bytes() == args[1].bytes()) as i32),
        B::BytesCmpRange => Value::I32(cmp_range(&args)?),
        B::BytesView | B::VecAsView => {
            Value::View(std::mem::replace(&mut args[0], Value::Moved).into_view())
        }
        B::BytesSubview | B::ViewSlice => {
            let total = args[0].bytes().len();
            let Some((s, l)) = in_range(total, x(&args, 1), x(&args, 2)) else {
                let msg = if id == B::BytesSubview {
                    "bytes.subview oob"
                } else {
                    "view.slice oob"
                };
                return Err(trap_ptr(msg, cx.ptr));
            };
            let mut v = std::mem::replace(&mut args[0], Value::Moved).into_view();
            v.start += s;
            v.len = l;
            Value::View(v)
        }
        B::ViewToBytes => {
            note_memcpy(args[0].bytes().len());
            bytes_value(args[0].bytes().to_vec())
        }
        B::VecWithCapacity => {
            let cap = x(&args, 0) as u32 as u64;
            ensure_room(cap, max)?;
            Value::Vec(VecU8 {
                buf: Rc::new(Buf::with_accounted(Vec::new(), cap)),
                cap,
            })
        }
        B::VecLen => Value::I32(args[0].bytes().len() as i32),
        B::VecCap => match &args[0] {
            Value::Vec(v) => Value::I32(v.cap as u32 as i32),
            _ => Value::I32(0),
        },
        B::VecGet => {
            let i = x(&args, 1) as u32 as usize;
            match args[0].bytes().get(i) {
                Some(&c) => Value::I32(c as i32),
                None => return Err(trap("vec_u8.get oob")),
            }
        }
        B::VecSet => {
            let mut v = take_vec(std::mem::replace(&mut args[0], Value::Moved));
            vec_set(&mut v, x(&args, 1), x(&args, 2) as u8)?;
            Value::Vec(v)
        }
        B::VecPush => {
            let mut v = take_vec(std::mem::replace(&mut args[0], Value::Moved));
            vec_push(&mut v, x(&args, 1) as u8, max)?;
            Value::Vec(v)
        }
        B::VecReserveExact => {
            let add = x(&args, 1) as u32 as u64;
            let mut v = take_vec(std::mem::replace(&mut args[0], Value::Moved));
            let needed = v.buf.data.len() as u64 + add;
            if needed > u64::from(u32::MAX) {
                return Err(trap("vec_u8.reserve_exact overflow"));
            }
            if needed > v.cap {
                set_cap(&mut v, needed, max)?;
            }
            Value::Vec(v)
        }
        B::VecExtendZeroes => {
            let n = x(&args, 1) as u32 as u64;
            let mut v = take_vec(std::mem::replace(&mut args[0], Value::Moved));
            let needed = v.buf.data.len() as u64 + n;
            let new_cap = grow_doubling(v.cap, needed);
            set_cap(&mut v, new_cap, max)?;
            Rc::make_mut(&mut v.buf).data.resize(needed as usize, 0);
            Value::Vec(v)
        }
        B::VecExtendBytes => {
            let v = take_vec(std::mem::replace(&mut args[0], Value::Moved));
            let src = unalias(std::mem::replace(&mut args[1], Value::Moved), &v);
            extend_vec(v, src.bytes(), max)?
        }
        B::VecExtendBytesRange => {
            let v = take_vec(std::mem::replace(&mut args[0], Value::Moved));
            let src = unalias(std::mem::replace(&mut args[1], Value::Moved), &v);
            let d = src.bytes();
            let Some((s, l)) = in_range(d.len(), x(&args, 2), x(&args, 3)) else {
                return Err(trap("vec_u8.extend_bytes_range oob"));
            };
            extend_vec(v, &d[s..s + l], max)?
        }
        B::VecClear => {
            let mut v = take_vec(std::mem::replace(&mut args[0], Value::Moved));
            Rc::make_mut(&mut v.buf).data.clear();
            Value::Vec(v)
        }
        B::VecIntoBytes => {
            let v = take_vec(std::mem::replace(&mut args[0], Value::Moved));
            bytes_value(crate::value::take_buf(v.buf))
        }
        B::CodecReadU32Le => {
            let d = args[0].bytes();
            let off = x(&args, 1) as u32 as usize;
            if off.checked_add(4).is_none_or(|end| end > d.len()) {
                return Err(trap("codec.read_u32_le oob"));
            }
            Value::I32(i32::from_le_bytes([
                d[off],
                d[off + 1],
                d[off + 2],
                d[off + 3],
            ]))
        }
        B::CodecWriteU32Le => bytes_value(x(&args, 0).to_le_bytes().to_vec()),
        B::FmtU32ToDec => dec_u32(x(&args, 0) as u32),
        B::FmtS32ToDec => bytes_value(x(&args, 0).to_string().into_bytes()),
        B::ParseU32Dec => Value::I32(parse_u32_dec(args[0].bytes())?),
        B::ParseU32DecAt => {
            let d = args[0].bytes();
            let off = x(&args, 1) as u32 as usize;
            if off > d.len() {
                return Err(trap("parse.u32_dec_at oob"));
            }
            Value::I32(parse_u32_dec(&d[off..])?)
        }
        B::PrngLcgNextU32 => {
            Value::I32(x(&args, 0).wrapping_mul(1_103_515_245).wrapping_add(12345))
        }
        B::OptI32None => Value::OptI32(None),
        B::OptI32Some => Value::OptI32(Some(x(&args, 0))),
        B::OptI32IsSome => Value::I32(matches!(args[0], Value::OptI32(Some(_))) as i32),
        B::OptI32UnwrapOr => match args[0] {
            Value::OptI32(Some(v)) => Value::I32(v),
            _ => Value::I32(x(&args, 1)),
        },
        B::OptBytesNone => Value::OptBytes(None),
        B::OptBytesSome => Value::OptBytes(Some(take_bytes(std::mem::replace(
            &mut args[0],
            Value::Moved,
        )))),
        B::OptBytesIsSome => Value::I32(matches!(args[0], Value::OptBytes(Some(_))) as i32),
        B::OptBytesUnwrapOr => match std::mem::replace(&mut args[0], Value::Moved) {
            Value::OptBytes(Some(b)) => Value::Bytes(b),
            _ => Value::Bytes(take_bytes(std::mem::replace(&mut args[1], Value::Moved))),
        },
        B::OptViewNone => Value::OptView(None),
        B::OptViewSome => Value::OptView(Some(
            std::mem::replace(&mut args[0], Value::Moved).into_view(),
        )),
        B::OptViewIsSome => Value::I32(matches!(args[0], Value::OptView(Some(_))) as i32),
        B::OptViewUnwrapOr => match std::mem::replace(&mut args[0], Value::Moved) {
            Value::OptView(Some(v)) => Value::View(v),
            _ => Value::View(std::mem::replace(&mut args[1], Value::Moved).into_view()),
        },
        B::ResI32Ok => Value::ResI32(Ok(x(&args, 0))),
        B::ResI32Err => Value::ResI32(Err(x(&args, 0))),
        B::ResI32IsOk => Value::I32(matches!(args[0], Value::ResI32(Ok(_))) as i32),
        B::ResI32ErrCode => match args[0] {
            Value::ResI32(Err(c)) => Value::I32(c),
            _ => Value::I32(0),
        },
        B::ResI32UnwrapOr => match args[0] {
            Value::ResI32(Ok(v)) => Value::I32(v),
            _ => Value::I32(x(&args, 1)),
        },
        B::ResBytesOk => Value::ResBytes(Ok(take_bytes(std::mem::replace(
            &mut args[0],
            Value::Moved,
        )))),
        B::ResBytesErr => Value::ResBytes(Err(x(&args, 0))),
        B::ResBytesIsOk => Value::I32(matches!(args[0], Value::ResBytes(Ok(_))) as i32),
        B::ResBytesErrCode => match args[0] {
            Value::ResBytes(Err(c)) => Value::I32(c),
            _ => Value::I32(0),
        },
        B::ResBytesUnwrapOr => match std::mem::replace(&mut args[0], Value::Moved) {
            Value::ResBytes(Ok(b)) => Value::Bytes(b),
            _ => Value::Bytes(take_bytes(std::mem::replace(&mut args[1], Value::Moved))),
        },
        B::ResViewOk => {
            Value::ResView(Ok(std::mem::replace(&mut args[0], Value::Moved).into_view()))
        }
        B::ResViewErr => Value::ResView(Err(x(&args, 0))),
        B::ResViewIsOk => Value::I32(matches!(args[0], Value::ResView(Ok(_))) as i32),
        B::ResViewErrCode => match args[0] {
            Value::ResView(Err(c)) => Value::I32(c),
            _ => Value::I32(0),
        },
        B::ResViewUnwrapOr => match std::mem::replace(&mut args[0], Value::Moved) {
            Value::ResView(Ok(v)) => Value::View(v),
            _ => Value::View(std::mem::replace(&mut args[1], Value::Moved).into_view()),
        },
        B::FsReadFile => bytes_value(cx.host.fs_read_file(args[0].bytes())?),
        B::FsWriteFile => Value::I32(cx.host.fs_write_file(args[0].bytes(), args[1].bytes())?),
        B::EnvGet => bytes_value(cx.host.env_get(args[0].bytes())?),
        B::TimeNowUnixMs => Value::I32(cx.host.time_now_unix_ms()?),
        B::TimeNowInstant => bytes_value(cx.host.time_now_instant_v1()?),
        B::TimeSleepMs => Value::I32(cx.host.time_sleep_ms_v1(x(&args, 0))?),
        B::TimeLocalTzid => bytes_value(cx.host.time_local_tzid_v1()?),
        B::ProcessExit => return Err(cx.host.process_exit(x(&args, 0))),
        B::ProcRunCapture => bytes_value(
            cx.host
                .process_run_capture_v1(args[0].bytes(), args[1].bytes())?,
        ),
        B::ProcSpawnCapture => Value::I32(
            cx.host
                .process_spawn_capture_v1(args[0].bytes(), args[1].bytes())?,
        ),
        B::ProcSpawnPiped => Value::I32(
            cx.host
                .process_spawn_piped_v1(args[0].bytes(), args[1].bytes())?,
        ),
        B::ProcTryJoinCapture => Value::OptBytes(
            cx.host
                .process_try_join_capture_v1(x(&args, 0))?
                .map(new_bytes),
        ),
        B::ProcJoinCapture => bytes_value(cx.host.process_join_capture_v1(x(&args, 0))?),
        B::ProcJoinExit => Value::I32(cx.host.process_join_exit_v1(x(&args, 0))?),
        B::ProcTryWait => Value::I32(cx.host.process_try_wait_v1(x(&args, 0))?),
        B::ProcTakeExit => Value::I32(cx.host.process_take_exit_v1(x(&args, 0))?),
        B::ProcStdoutRead => bytes_value(cx.host.process_stdout_read_v1(x(&args, 0), x(&args, 1))?),
        B::ProcStderrRead => bytes_value(cx.host.process_stderr_read_v1(x(&args, 0), x(&args, 1))?),
        B::ProcStdinWrite => Value::I32(
            cx.host
                .process_stdin_write_v1(x(&args, 0), args[1].bytes())?,
        ),
        B::ProcStdinClose => Value::I32(cx.host.process_stdin_close_v1(x(&args, 0))?),
        B::ProcKill => Value::I32(cx.host.process_kill_v1(x(&args, 0), x(&args, 1))?),
        B::ProcDrop => Value::I32(cx.host.process_drop_v1(x(&args, 0))?),
        B::NetHttpRequest => bytes_value(cx.host.net_http_request(args[0].bytes())?),
    })
}

/// A whole-buffer view (used for `input` and literals).
pub fn view_of(data: Vec<u8>) -> View {
    View::whole(new_bytes(data))
}
