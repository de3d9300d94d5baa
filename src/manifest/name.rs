//! Test names of manifest cases: `<manifest>::<test id>::<world>`.
//!
//! A test id may hold any printable ASCII character (0x20–0x7E), so it may contain `/`,
//! spaces and `::`. In the case part of a test name every `%` is written `%25` and every
//! `:` is written `%3A`; nothing else changes (`/`, spaces, brackets stay as they are).
//! The encoding is injective and [`decode_id`] reverses it, so a name printed by
//! `--list` can be pasted into `--exact`, and [`crate::model::CaseId::parse_test_name`]
//! splits it back (an encoded id contains no `:`, so no `::`).
//!
//! Entries that cannot be named by their id — no usable id, or an id an earlier entry
//! already has — are named `tests:<index>` (index into the manifest's `tests` array), and
//! a manifest that cannot be read at all is one case `manifest:invalid`. An encoded id
//! never contains `:`, so these names never collide with the name of a real test. The
//! profile part is the entry's world, or [`NO_WORLD`] when it has no valid world (and for
//! `manifest:invalid`).

/// The profile part of a case that has no valid world (a broken manifest or entry).
pub const NO_WORLD: &str = "x07-test";

/// The case part of the one case of a manifest that cannot be read or is refused as a whole.
pub const WHOLE_MANIFEST_CASE: &str = "manifest:invalid";

/// The case part of a test id: `%` → `%25`, `:` → `%3A`.
pub fn encode_id(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for character in id.chars() {
        match character {
            '%' => out.push_str("%25"),
            ':' => out.push_str("%3A"),
            other => out.push(other),
        }
    }
    out
}

/// The test id of a case part written by [`encode_id`]; `None` when `case` is not such an
/// encoding (a raw `:`, or a `%` not followed by `25` / `3A`).
pub fn decode_id(case: &str) -> Option<String> {
    let mut out = String::with_capacity(case.len());
    let mut rest = case;
    while let Some(at) = rest.find(['%', ':']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("%25") {
            out.push('%');
            rest = after;
        } else if let Some(after) = tail
            .strip_prefix("%3A")
            .or_else(|| tail.strip_prefix("%3a"))
        {
            out.push(':');
            rest = after;
        } else {
            return None;
        }
    }
    out.push_str(rest);
    Some(out)
}

/// The case part of the entry at `index` of the `tests` array when it has no usable id.
pub fn entry_case(index: usize) -> String {
    format!("tests:{index}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CaseId;

    #[test]
    fn ids_round_trip_through_test_names() {
        let ids = [
            "a/pass",
            "with space",
            "ns::inner::leaf",
            "::leading",
            "trailing::",
            ":",
            "%",
            "%3A literally",
            "100%:done",
            "tests:3",
            "manifest:invalid",
            " ~!\"#$&'()*+,-./;<=>?@[\\]^_`{|}",
        ];
        for id in ids {
            let case = encode_id(id);
            assert!(!case.contains(':'), "{case}");
            assert_eq!(decode_id(&case).as_deref(), Some(id), "{case}");
            let name = CaseId {
                fixture: "fixtures/m/tests/tests.json".into(),
                case: case.clone(),
                profile: "solve-pure".into(),
            }
            .test_name();
            let parsed = CaseId::parse_test_name(&name).expect("parses");
            assert_eq!(parsed.fixture, "fixtures/m/tests/tests.json");
            assert_eq!(parsed.case, case);
            assert_eq!(parsed.profile, "solve-pure");
            assert_eq!(decode_id(&parsed.case).as_deref(), Some(id));
        }
    }

    #[test]
    fn plain_ids_are_unchanged() {
        assert_eq!(encode_id("unit/double pure"), "unit/double pure");
        assert_eq!(encode_id("a::b"), "a%3A%3Ab");
        assert_eq!(encode_id("50%"), "50%25");
    }

    #[test]
    fn fallback_names_are_not_encodings_of_any_id() {
        assert_eq!(decode_id(&entry_case(3)), None);
        assert_eq!(decode_id(WHOLE_MANIFEST_CASE), None);
        assert_eq!(decode_id("%zz"), None);
        assert_eq!(
            CaseId::parse_test_name(&format!("m.json::{}::{NO_WORLD}", entry_case(12)))
                .map(|id| id.case),
            Some("tests:12".to_string())
        );
    }
}
