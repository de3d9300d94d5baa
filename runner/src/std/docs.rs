//! Byte-document helpers: `std.result` / `std.option` documents, hex, btree maps and sets
//! (subset §9.3, §9.5, §9.10).

/// Little-endian u32 at `off` (caller checks the length).
pub fn u32le(d: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([d[off], d[off + 1], d[off + 2], d[off + 3]])
}

/// `len ≥ 1 && d[0] == 1`.
pub fn is_ok(d: &[u8]) -> bool {
    d.first() == Some(&1)
}

/// Lowercase hex, two characters per byte.
pub fn hex(d: &[u8]) -> Vec<u8> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(d.len() * 2);
    for &c in d {
        out.push(DIGITS[(c >> 4) as usize]);
        out.push(DIGITS[(c & 15) as usize]);
    }
    out
}

/// Sum of comma-separated signed ints as `[1, sum u32le]`, or `[0]` on any problem.
pub fn chain_sum_csv_i32(d: &[u8]) -> Vec<u8> {
    if d.is_empty() {
        return vec![0];
    }
    let mut sum: i32 = 0;
    for field in d.split(|&c| c == b',') {
        let Ok(v) = super::parse::i32_dec(field) else {
            return vec![0];
        };
        let Some(s) = sum.checked_add(v) else {
            return vec![0];
        };
        sum = s;
    }
    let mut out = vec![1];
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

fn map_search(m: &[u8], key: u32) -> Result<usize, usize> {
    let n = m.len() / 8;
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let k = u32le(m, mid * 8);
        match k.cmp(&key) {
            std::cmp::Ordering::Equal => return Ok(mid),
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
        }
    }
    Err(lo)
}

/// Inserts or replaces `key → val` in a map of sorted 8-byte records.
pub fn map_put(m: &[u8], key: u32, val: u32) -> Vec<u8> {
    let mut out = m.to_vec();
    match map_search(m, key) {
        Ok(i) => out[i * 8 + 4..i * 8 + 8].copy_from_slice(&val.to_le_bytes()),
        Err(i) => {
            let mut rec = key.to_le_bytes().to_vec();
            rec.extend_from_slice(&val.to_le_bytes());
            out.splice(i * 8..i * 8, rec);
        }
    }
    out
}

/// Looks `key` up in a map of sorted records.
pub fn map_get(m: &[u8], key: u32) -> Option<u32> {
    map_search(m, key).ok().map(|i| u32le(m, i * 8 + 4))
}

/// Inserts `key` into a sorted unique u32le array.
pub fn set_insert(s: &[u8], key: u32) -> Vec<u8> {
    let n = s.len() / 4;
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let k = u32le(s, mid * 4);
        if k == key {
            return s.to_vec();
        }
        if k < key {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let mut out = s.to_vec();
    out.splice(lo * 4..lo * 4, key.to_le_bytes());
    out
}
