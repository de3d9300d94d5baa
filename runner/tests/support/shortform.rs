//! The short form the language notes write programs in, converted to x07AST JSON text.
//!
//! * `(f a b)` is the list `["f","a","b"]`;
//! * an identifier (`x`, `input`, `+`, `<<u`, `main.f`) is a JSON string;
//! * a number (a token starting with a digit, or `-` and a digit) is copied **verbatim** into
//!   the JSON text, so `-0`, `1e3`, `00` and `14695981039346656037` reach the compiler exactly
//!   as written (the literal rules depend on the JSON number class);
//! * `"text"` (JSON string syntax, escapes included) is `["bytes.lit","text"]`, except as the
//!   text argument of `bytes.lit` / `bytes.view_lit`, where it stays a plain string;
//! * `#"text"` is a plain JSON string whatever it looks like (an identifier spelled `5` or
//!   `0x10`);
//! * `push` / `into` in head position are `vec_u8.push` / `vec_u8.into_bytes`;
//! * `(defn main.f ((x i32) (b bytes)) i32 BODY)` is a `defn` declaration.
//!
//! The converter renders JSON text (not a `serde_json::Value`) because a `Value` would
//! normalise the numbers this test data is about.

/// One parsed short-form item.
#[derive(Debug, Clone, PartialEq)]
pub enum Form {
    /// `( … )`
    List(Vec<Form>),
    /// An identifier or head.
    Ident(String),
    /// A number token, kept as written.
    Num(String),
    /// A `"…"` string (bytes literal text).
    Text(String),
    /// A `#"…"` string: a JSON string atom.
    Atom(String),
}

/// Parses exactly one form from `src`.
pub fn parse(src: &str) -> Result<Form, String> {
    let mut forms = parse_all(src)?;
    match forms.len() {
        1 => Ok(forms.remove(0)),
        0 => Err("empty short form".to_string()),
        n => Err(format!("expected one form, found {n}: {src}")),
    }
}

/// Parses every top-level form of `src`.
pub fn parse_all(src: &str) -> Result<Vec<Form>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut pos = 0;
    let mut stack: Vec<Vec<Form>> = vec![Vec::new()];
    while pos < chars.len() {
        let c = chars[pos];
        if c.is_whitespace() {
            pos += 1;
        } else if c == '(' {
            stack.push(Vec::new());
            pos += 1;
        } else if c == ')' {
            if stack.len() < 2 {
                return Err(format!("unbalanced ')' at char {pos}: {src}"));
            }
            let items = stack.pop().unwrap();
            stack.last_mut().unwrap().push(Form::List(items));
            pos += 1;
        } else if c == '"' || (c == '#' && chars.get(pos + 1) == Some(&'"')) {
            let start = if c == '#' { pos + 1 } else { pos };
            let end = string_end(&chars, start)
                .ok_or_else(|| format!("unterminated string at char {start}: {src}"))?;
            let raw: String = chars[start..=end].iter().collect();
            let text: String = serde_json::from_str(&raw)
                .map_err(|e| format!("bad string {raw}: {e} in {src}"))?;
            stack.last_mut().unwrap().push(if c == '#' {
                Form::Atom(text)
            } else {
                Form::Text(text)
            });
            pos = end + 1;
        } else {
            let start = pos;
            while pos < chars.len()
                && !chars[pos].is_whitespace()
                && chars[pos] != '('
                && chars[pos] != ')'
                && chars[pos] != '"'
            {
                pos += 1;
            }
            let token: String = chars[start..pos].iter().collect();
            stack.last_mut().unwrap().push(atom(token));
        }
    }
    if stack.len() != 1 {
        return Err(format!("{} unclosed '(' in {src}", stack.len() - 1));
    }
    Ok(stack.pop().unwrap())
}

/// The index of the closing quote of the JSON string starting at `start`.
fn string_end(chars: &[char], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

fn atom(token: String) -> Form {
    let mut chars = token.chars();
    let first = chars.next().unwrap_or(' ');
    let second = chars.next();
    let numeric =
        first.is_ascii_digit() || (first == '-' && second.is_some_and(|c| c.is_ascii_digit()));
    if numeric {
        Form::Num(token)
    } else {
        Form::Ident(token)
    }
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialise")
}

/// Renders an expression form as x07AST JSON text.
pub fn render(form: &Form) -> String {
    match form {
        Form::Ident(name) | Form::Atom(name) => json_string(name),
        Form::Num(raw) => raw.clone(),
        Form::Text(text) => format!("[\"bytes.lit\",{}]", json_string(text)),
        Form::List(items) => {
            let head = match items.first() {
                Some(Form::Ident(h)) => Some(h.as_str()),
                _ => None,
            };
            let text_head = matches!(head, Some("bytes.lit" | "bytes.view_lit"));
            let parts: Vec<String> = items
                .iter()
                .enumerate()
                .map(|(i, item)| match (i, item) {
                    (0, Form::Ident(h)) if h == "push" => json_string("vec_u8.push"),
                    (0, Form::Ident(h)) if h == "into" => json_string("vec_u8.into_bytes"),
                    (1, Form::Text(t)) if text_head => json_string(t),
                    _ => render(item),
                })
                .collect();
            format!("[{}]", parts.join(","))
        }
    }
}

/// Converts one short-form expression to x07AST JSON text.
pub fn expr_json(src: &str) -> Result<String, String> {
    Ok(render(&parse(src)?))
}

/// Converts `(defn NAME ((p ty) …) RESULT BODY)` to a `defn` declaration (JSON text).
pub fn defn_json(src: &str) -> Result<String, String> {
    let bad = || format!("expected (defn NAME ((p ty) ...) RESULT BODY), got {src}");
    let Form::List(items) = parse(src)? else {
        return Err(bad());
    };
    let [Form::Ident(kw), Form::Ident(name), Form::List(params), Form::Ident(result), body] =
        items.as_slice()
    else {
        return Err(bad());
    };
    if kw != "defn" {
        return Err(bad());
    }
    let mut rendered = Vec::new();
    for param in params {
        let Form::List(pair) = param else {
            return Err(bad());
        };
        let [Form::Ident(p), Form::Ident(ty)] = pair.as_slice() else {
            return Err(bad());
        };
        rendered.push(format!(
            "{{\"name\":{},\"ty\":{}}}",
            json_string(p),
            json_string(ty)
        ));
    }
    Ok(format!(
        "{{\"kind\":\"defn\",\"name\":{},\"params\":[{}],\"result\":{},\"body\":{}}}",
        json_string(name),
        rendered.join(","),
        json_string(result),
        render(body)
    ))
}

/// A whole entry file (schema 0.8.0) as JSON text: fixed key order, no whitespace, so
/// positions in it (a JSON syntax error's column) are stable.
pub fn entry_json(imports: &[String], defns: &[String], solve: &str) -> Result<String, String> {
    let imports: Vec<String> = imports.iter().map(|i| json_string(i)).collect();
    let decls = defns
        .iter()
        .map(|d| defn_json(d))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(format!(
        "{{\"schema_version\":\"x07.x07ast@0.8.0\",\"kind\":\"entry\",\"module_id\":\"main\",\"imports\":[{}],\"decls\":[{}],\"solve\":{}}}",
        imports.join(","),
        decls.join(","),
        expr_json(solve)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(src: &str) -> String {
        expr_json(src).unwrap()
    }

    #[test]
    fn lists_identifiers_and_numbers() {
        assert_eq!(j("(+ 1 x)"), r#"["+",1,"x"]"#);
        assert_eq!(j("input"), r#""input""#);
        assert_eq!(j("(<<u -1 31)"), r#"["<<u",-1,31]"#);
        assert_eq!(j("(- 0 x)"), r#"["-",0,"x"]"#, "a lone - is an identifier");
        assert_eq!(j("(f)"), r#"["f"]"#);
        assert_eq!(j("  ( f\n\t(g  h) )  "), r#"["f",["g","h"]]"#);
    }

    #[test]
    fn numbers_are_copied_verbatim() {
        for n in [
            "-0",
            "1e3",
            "00",
            "1.5",
            "2.0",
            "-2147483648",
            "14695981039346656037",
            "18446744073709551616",
        ] {
            assert_eq!(j(&format!("(f {n})")), format!(r#"["f",{n}]"#));
        }
    }

    #[test]
    fn strings_are_bytes_literals_except_in_text_position() {
        assert_eq!(j(r#""hi""#), r#"["bytes.lit","hi"]"#);
        assert_eq!(j(r#"(bytes.lit "hi")"#), r#"["bytes.lit","hi"]"#);
        assert_eq!(
            j(r#"(bytes.view_lit "a b")"#),
            r#"["bytes.view_lit","a b"]"#
        );
        assert_eq!(
            j(r#"(bytes.concat "a" "b")"#),
            r#"["bytes.concat",["bytes.lit","a"],["bytes.lit","b"]]"#
        );
        assert_eq!(j(r#""a\"b\\c\n""#), r#"["bytes.lit","a\"b\\c\n"]"#);
        assert_eq!(j(r#""(not a list)""#), r#"["bytes.lit","(not a list)"]"#);
        assert_eq!(j(r#""é\u0000""#), r#"["bytes.lit","é\u0000"]"#);
    }

    #[test]
    fn raw_atoms_are_plain_strings() {
        assert_eq!(j(r##"(f #"5" #"0x10")"##), r#"["f","5","0x10"]"#);
    }

    #[test]
    fn push_and_into_are_shorthands_in_head_position_only() {
        assert_eq!(
            j("(set o (push o 65))"),
            r#"["set","o",["vec_u8.push","o",65]]"#
        );
        assert_eq!(j("(into o)"), r#"["vec_u8.into_bytes","o"]"#);
        assert_eq!(j("(f push into)"), r#"["f","push","into"]"#);
    }

    #[test]
    fn defns_and_entries() {
        assert_eq!(
            defn_json("(defn main.id ((x i32)) i32 x)").unwrap(),
            r#"{"kind":"defn","name":"main.id","params":[{"name":"x","ty":"i32"}],"result":"i32","body":"x"}"#
        );
        assert_eq!(
            defn_json("(defn main.k () bytes \"k\")").unwrap(),
            r#"{"kind":"defn","name":"main.k","params":[],"result":"bytes","body":["bytes.lit","k"]}"#
        );
        let entry = entry_json(
            &["std.bytes".to_string()],
            &["(defn main.id ((x i32)) i32 x)".to_string()],
            "(fmt.s32_to_dec (main.id 1))",
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&entry).unwrap();
        assert_eq!(v["imports"][0], "std.bytes");
        assert_eq!(v["decls"][0]["name"], "main.id");
        assert_eq!(
            v["solve"],
            serde_json::json!(["fmt.s32_to_dec", ["main.id", 1]])
        );
        assert!(entry.starts_with(r#"{"schema_version":"x07.x07ast@0.8.0","kind":"entry","#));
    }

    #[test]
    fn malformed_short_forms_are_errors() {
        assert!(parse("(f").is_err());
        assert!(parse("f)").is_err());
        assert!(parse("\"open").is_err());
        assert!(parse("").is_err());
        assert!(parse("a b").is_err());
        assert!(defn_json("(defn main.f (x i32) i32 x)").is_err());
        assert!(defn_json("(fn main.f () i32 1)").is_err());
    }
}
