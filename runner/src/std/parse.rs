//! `std.parse` (subset §9.4): whitespace here is only space and tab.

fn is_ws(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn trim(d: &[u8]) -> &[u8] {
    let start = d.iter().position(|&c| !is_ws(c)).unwrap_or(d.len());
    let end = d.iter().rposition(|&c| !is_ws(c)).map_or(start, |i| i + 1);
    &d[start..end]
}

/// `std.parse.u32_dec`: err 1 empty, err 2 non-digit (signs included), err 3 overflow.
pub fn u32_dec(d: &[u8]) -> Result<i32, i32> {
    let t = trim(d);
    if t.is_empty() {
        return Err(1);
    }
    let mut acc: u64 = 0;
    for &c in t {
        if !c.is_ascii_digit() {
            return Err(2);
        }
        acc = acc * 10 + u64::from(c - b'0');
        if acc > u64::from(u32::MAX) {
            return Err(3);
        }
    }
    Ok(acc as u32 as i32)
}

/// `std.parse.i32_dec`: optional sign, i32 range.
pub fn i32_dec(d: &[u8]) -> Result<i32, i32> {
    let t = trim(d);
    if t.is_empty() {
        return Err(1);
    }
    let (neg, digits) = match t[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() {
        return Err(2);
    }
    let limit: i64 = if neg { 2_147_483_648 } else { 2_147_483_647 };
    let mut acc: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(2);
        }
        acc = acc * 10 + i64::from(c - b'0');
        if acc > limit {
            return Err(3);
        }
    }
    Ok(if neg { (-acc) as i32 } else { acc as i32 })
}

/// `u32_status_le_at` / `i32_status_le_at`: `[1, value, next_off]` or `[0]`.
pub fn status_le_at(d: &[u8], off: i32, signed: bool) -> Vec<u8> {
    let fail = vec![0u8];
    let mut i = off as u32 as usize;
    if i >= d.len() {
        return fail;
    }
    while i < d.len() && is_ws(d[i]) {
        i += 1;
    }
    let mut neg = false;
    if signed && i < d.len() && (d[i] == b'-' || d[i] == b'+') {
        neg = d[i] == b'-';
        i += 1;
    }
    let digits_start = i;
    let limit: i64 = match (signed, neg) {
        (false, _) => i64::from(u32::MAX),
        (true, true) => 2_147_483_648,
        (true, false) => 2_147_483_647,
    };
    let mut acc: i64 = 0;
    while i < d.len() && d[i].is_ascii_digit() {
        acc = acc * 10 + i64::from(d[i] - b'0');
        if acc > limit {
            return fail;
        }
        i += 1;
    }
    if i == digits_start {
        return fail;
    }
    while i < d.len() && is_ws(d[i]) {
        i += 1;
    }
    let value = if neg { -acc } else { acc } as i32;
    let mut out = vec![1u8];
    out.extend_from_slice(&value.to_le_bytes());
    out.extend_from_slice(&(i as u32).to_le_bytes());
    out
}

/// `u32_status_le` / `i32_status_le`: the whole input must be consumed; `[1, value]` or `[0]`.
pub fn status_le(d: &[u8], signed: bool) -> Vec<u8> {
    let r = status_le_at(d, 0, signed);
    if r.len() == 9 && super::docs::u32le(&r, 5) as usize == d.len() {
        r[..5].to_vec()
    } else {
        vec![0]
    }
}
