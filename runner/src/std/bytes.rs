//! `std.bytes` / `std.view` / `std.slice` helpers (subset §9.1, §9.3).

/// First index whose byte equals `target` (no masking), else −1.
pub fn find_u8(hay: &[u8], target: i32) -> i32 {
    hay.iter()
        .position(|&c| c as i32 == target)
        .map_or(-1, |i| i as i32)
}

/// First index of `needle`; an empty needle is found at 0.
pub fn find_sub(hay: &[u8], needle: &[u8]) -> i32 {
    if needle.is_empty() {
        return 0;
    }
    hay.windows(needle.len())
        .position(|w| w == needle)
        .map_or(-1, |i| i as i32)
}

/// `(start, len)` of `a` without `prefix` when present.
pub fn strip_prefix(a: &[u8], prefix: &[u8]) -> (usize, usize) {
    if a.starts_with(prefix) {
        (prefix.len(), a.len() - prefix.len())
    } else {
        (0, a.len())
    }
}

/// `(start, len)` of `a` without `suffix` when present.
pub fn strip_suffix(a: &[u8], suffix: &[u8]) -> (usize, usize) {
    if a.ends_with(suffix) {
        (0, a.len() - suffix.len())
    } else {
        (0, a.len())
    }
}

/// `(start, len)` after dropping bytes 32, 9, 10, 13 at both ends.
pub fn trim_ascii(a: &[u8]) -> (usize, usize) {
    let ws = |c: &u8| matches!(*c, b' ' | b'\t' | b'\n' | b'\r');
    let start = a.iter().position(|c| !ws(c)).unwrap_or(a.len());
    let end = a.iter().rposition(|c| !ws(c)).map_or(start, |i| i + 1);
    (start, end.saturating_sub(start))
}

/// Clamped `(start, len)` of `std.bytes.slice`: negatives become 0, both clamp to the data.
pub fn clamp_range(total: usize, start: i32, len: i32) -> (usize, usize) {
    let s = (start.max(0) as usize).min(total);
    let l = (len.max(0) as usize).min(total - s);
    (s, l)
}
