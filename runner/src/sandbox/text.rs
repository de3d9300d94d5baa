//! Report integrity: text that comes from the program or the file system (paths, keys)
//! is escaped before it goes into a trap message, so it can never add a line to the
//! solver's stderr (the trap is the last line there) or otherwise forge the report.

/// Most bytes of program-chosen text shown in one trap message.
pub const MAX_SHOWN_BYTES: usize = 1024;

/// `bytes` as one line of text: printable characters (UTF-8 included) as they are,
/// `\` as `\\`, `\n` `\r` `\t` as those escapes, every other control character or byte
/// that is not UTF-8 as `\xNN`. More than [`MAX_SHOWN_BYTES`] input bytes are cut and
/// end in `...`. Ordinary paths come out unchanged.
pub fn shown(bytes: &[u8]) -> String {
    let (cut, truncated) = if bytes.len() > MAX_SHOWN_BYTES {
        (&bytes[..MAX_SHOWN_BYTES], true)
    } else {
        (bytes, false)
    };
    let mut out = String::with_capacity(cut.len());
    for chunk in cut.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        out.push_str(&format!("\\x{b:02x}"));
                    }
                }
                // Line and paragraph separators end a line for some readers.
                '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    if truncated {
        out.push_str("...");
    }
    out
}

/// A whole trap text made safe to print as the single last line of stderr: every line
/// break or other control character in it is escaped (see [`shown`]).
pub fn one_line(text: &str) -> String {
    if text
        .chars()
        .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
    {
        let mut out = String::with_capacity(text.len() + 8);
        for c in text.chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                    out.push_str(&format!("\\u{{{:04x}}}", c as u32))
                }
                c => out.push(c),
            }
        }
        out
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_paths_are_unchanged() {
        assert_eq!(shown(b"./data.txt"), "./data.txt");
        assert_eq!(
            shown("sub/d\u{e9}j\u{e0}.txt".as_bytes()),
            "sub/d\u{e9}j\u{e0}.txt"
        );
    }

    #[test]
    fn line_breaks_and_bytes_are_escaped() {
        assert_eq!(
            shown(b"a\nos.fs.read_file forged\r\t\\\x00\xff"),
            "a\\nos.fs.read_file forged\\r\\t\\\\\\x00\\xff"
        );
        assert_eq!(shown("x\u{2028}y".as_bytes()), "x\\u{2028}y");
        let long = vec![b'a'; MAX_SHOWN_BYTES + 10];
        let text = shown(&long);
        assert!(text.ends_with("..."));
        assert_eq!(text.len(), MAX_SHOWN_BYTES + 3);
    }

    #[test]
    fn one_line_keeps_plain_text() {
        assert_eq!(
            one_line("os.fs disabled by policy"),
            "os.fs disabled by policy"
        );
        assert_eq!(one_line("a\nb"), "a\\nb");
        assert!(!one_line("a\u{85}b\u{2029}").contains(['\u{85}', '\u{2029}']));
    }
}
