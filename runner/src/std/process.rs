//! Process request/caps builders and result-document readers (subset §9.7, §9.8, §11.1).

use super::docs::u32le;
use crate::value::{Buf, Value, VecU8};
use std::rc::Rc;

/// Wraps builder output as a `vec_u8` whose capacity equals its length.
pub fn vec_value(data: Vec<u8>) -> Value {
    let cap = data.len() as u64;
    Value::Vec(VecU8 {
        buf: Rc::new(Buf::with_accounted(data, cap)),
        cap,
    })
}

fn put_u32(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

/// Section offsets of a (possibly partial) request: end of argv, env, cwd, stdin, and the env count.
struct Layout {
    argv_end: usize,
    env_end: Option<usize>,
    env_count: u32,
    cwd_end: Option<usize>,
}

fn read_len(d: &[u8], at: usize) -> Option<usize> {
    (at + 4 <= d.len()).then(|| u32le(d, at) as usize)
}

fn layout(d: &[u8]) -> Option<Layout> {
    let argc = read_len(d, 2)?;
    let mut at = 6;
    for _ in 0..argc {
        let l = read_len(d, at)?;
        at += 4 + l;
    }
    let argv_end = at.min(d.len());
    let mut env_end = None;
    let mut env_count = 0;
    let mut cwd_end = None;
    if at < d.len() {
        let n = read_len(d, at)?;
        env_count = n as u32;
        let mut p = at + 4;
        for _ in 0..n {
            let k = read_len(d, p)?;
            p += 4 + k;
            let v = read_len(d, p)?;
            p += 4 + v;
        }
        env_end = Some(p.min(d.len()));
        if p < d.len() {
            let c = read_len(d, p)?;
            cwd_end = Some((p + 4 + c).min(d.len()));
        }
    }
    Some(Layout {
        argv_end,
        env_end,
        env_count,
        cwd_end,
    })
}

/// `req_v1.new(exe)`.
pub fn req_new(exe: &[u8]) -> Vec<u8> {
    let mut out = vec![1, 0];
    put_u32(&mut out, 1);
    put_u32(&mut out, exe.len());
    out.extend_from_slice(exe);
    out
}

/// `req_v1.arg(req, arg)`: appended to argv, before any later section.
pub fn req_arg(req: &[u8], arg: &[u8]) -> Vec<u8> {
    let Some(l) = layout(req) else {
        return req.to_vec();
    };
    let mut out = req[..l.argv_end].to_vec();
    let argc = u32le(&out, 2) + 1;
    out[2..6].copy_from_slice(&argc.to_le_bytes());
    put_u32(&mut out, arg.len());
    out.extend_from_slice(arg);
    out.extend_from_slice(&req[l.argv_end..]);
    out
}

/// `req_v1.env(req, key, val)`: appended to the env section (created when missing).
pub fn req_env(req: &[u8], key: &[u8], val: &[u8]) -> Vec<u8> {
    let Some(l) = layout(req) else {
        return req.to_vec();
    };
    let mut out = req[..l.argv_end].to_vec();
    put_u32(&mut out, l.env_count as usize + 1);
    let env_end = l.env_end.unwrap_or(l.argv_end);
    if l.env_end.is_some() {
        out.extend_from_slice(&req[l.argv_end + 4..env_end]);
    }
    put_u32(&mut out, key.len());
    out.extend_from_slice(key);
    put_u32(&mut out, val.len());
    out.extend_from_slice(val);
    out.extend_from_slice(&req[env_end..]);
    out
}

/// `req_v1.cwd` (section 2) / `req_v1.stdin` (section 3): replaces that section, creating
/// earlier sections with zero counts when missing.
pub fn req_set_tail(req: &[u8], value: &[u8], section: u8) -> Vec<u8> {
    let Some(l) = layout(req) else {
        return req.to_vec();
    };
    let mut out = req.to_vec();
    let env_end = match l.env_end {
        Some(e) => e,
        None => {
            out.truncate(l.argv_end);
            put_u32(&mut out, 0);
            out.len()
        }
    };
    if section == 2 {
        let rest = l.cwd_end.map(|c| req[c..].to_vec()).unwrap_or_default();
        out.truncate(env_end);
        put_u32(&mut out, value.len());
        out.extend_from_slice(value);
        out.extend_from_slice(&rest);
    } else {
        let cwd_end = match l.cwd_end {
            Some(c) => c,
            None => {
                out.truncate(env_end);
                put_u32(&mut out, 0);
                out.len()
            }
        };
        out.truncate(cwd_end);
        put_u32(&mut out, value.len());
        out.extend_from_slice(value);
    }
    out
}

/// `req_v1.finish`: completes missing sections with zero counts/lengths.
pub fn req_finish(req: &[u8]) -> Vec<u8> {
    let Some(l) = layout(req) else {
        return req.to_vec();
    };
    let mut out = req.to_vec();
    if l.env_end.is_none() {
        put_u32(&mut out, 0);
    }
    if l.cwd_end.is_none() {
        put_u32(&mut out, 0);
    }
    let stdin_present = l.cwd_end.is_some_and(|c| c < req.len());
    if !stdin_present {
        put_u32(&mut out, 0);
    }
    out
}

/// Whether a finished request is well formed (subset §11.2).
pub fn req_valid(d: &[u8]) -> bool {
    let take = |at: &mut usize| -> Option<usize> {
        let n = read_len(d, *at)?;
        *at += 4;
        Some(n)
    };
    let check = || -> Option<()> {
        if d.len() < 6 || d[0] != 1 || d[1] != 0 {
            return None;
        }
        let mut at = 2;
        let argc = take(&mut at)?;
        if argc == 0 || argc > 128 {
            return None;
        }
        for i in 0..argc {
            let l = take(&mut at)?;
            if i == 0 && l == 0 {
                return None;
            }
            at = at.checked_add(l).filter(|&e| e <= d.len())?;
        }
        let envc = take(&mut at)?;
        if envc > 256 {
            return None;
        }
        for _ in 0..envc {
            let k = take(&mut at)?;
            if k == 0 {
                return None;
            }
            at = at.checked_add(k).filter(|&e| e <= d.len())?;
            let v = take(&mut at)?;
            at = at.checked_add(v).filter(|&e| e <= d.len())?;
        }
        for _ in 0..2 {
            let l = take(&mut at)?;
            at = at.checked_add(l).filter(|&e| e <= d.len())?;
        }
        Some(())
    };
    check().is_some()
}

/// `caps_v1.finish`: `[1]` and four u32le fields, negatives as 0.
pub fn caps_finish(fields: [i32; 4]) -> Vec<u8> {
    let mut out = vec![1u8];
    for f in fields {
        out.extend_from_slice(&(f.max(0) as u32).to_le_bytes());
    }
    out
}

/// `caps_v1.validate_v1`: 17 bytes, tag 1, all fields non-negative as i32.
pub fn caps_valid(d: &[u8]) -> bool {
    d.len() == 17 && d[0] == 1 && (0..4).all(|i| (u32le(d, 1 + i * 4) as i32) >= 0)
}

/// `is_err`: empty or `doc[0] == 0`.
pub fn is_err(d: &[u8]) -> bool {
    d.first().is_none_or(|&t| t == 0)
}

/// An ok document (`doc[0] == 1`).
pub fn is_ok_doc(d: &[u8]) -> bool {
    d.first() == Some(&1)
}

/// `err_code`: u32le at 1 of an error doc with len ≥ 5, else 0.
pub fn err_code(d: &[u8]) -> i32 {
    if is_err(d) && d.len() >= 5 {
        u32le(d, 1) as i32
    } else {
        0
    }
}

/// `resp_ver` (offset 1, one byte) / `resp_exit_code` (2) / `resp_flags` (6) of an ok doc.
pub fn resp_field(d: &[u8], off: usize) -> i32 {
    if !is_ok_doc(d) {
        return 0;
    }
    if off == 1 {
        return d.get(1).map_or(0, |&v| v as i32);
    }
    if d.len() < off + 4 {
        return 0;
    }
    u32le(d, off) as i32
}

/// Captured stdout (`which` 0) or stderr (1) of an ok doc, empty otherwise.
pub fn resp_stream(d: &[u8], which: usize) -> Vec<u8> {
    if !is_ok_doc(d) {
        return Vec::new();
    }
    let mut at = 10;
    for i in 0..=which {
        let Some(n) = read_len(d, at) else {
            return Vec::new();
        };
        let start = at + 4;
        let Some(end) = start.checked_add(n).filter(|&e| e <= d.len()) else {
            return Vec::new();
        };
        if i == which {
            return d[start..end].to_vec();
        }
        at = end;
    }
    Vec::new()
}
