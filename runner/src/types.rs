//! The value types of the X07 core subset (subset §5) and how they are spelled.

/// A type token of an x07AST signature, plus two checker-only types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    /// 32-bit integer; also the boolean type.
    I32,
    /// Accepted token, outside the subset.
    U32,
    /// Owned byte string (moves).
    Bytes,
    /// Borrowed window into bytes (copies).
    BytesView,
    /// Growable byte buffer (moves).
    VecU8,
    /// `none | some(i32)`.
    OptionI32,
    /// `none | some(bytes)` (moves).
    OptionBytes,
    /// `none | some(bytes_view)`.
    OptionBytesView,
    /// `ok(i32) | err(i32)`.
    ResultI32,
    /// `ok(bytes) | err(i32)` (moves).
    ResultBytes,
    /// `ok(bytes_view) | err(i32)`.
    ResultBytesView,
    /// Accepted token; values only come from task APIs (outside the subset).
    ResultResultBytes,
    /// Accepted token, outside the subset.
    Iface,
    /// Raw pointer tokens, outside the subset.
    PtrConstU8,
    /// Raw pointer token.
    PtrMutU8,
    /// Raw pointer token.
    PtrConstVoid,
    /// Raw pointer token.
    PtrMutVoid,
    /// Raw pointer token.
    PtrConstI32,
    /// Raw pointer token.
    PtrMutI32,
    /// Checker only: the type of `return` / `os.process.exit`, unifies with anything.
    Never,
    /// Checker only: result of heads that are rejected after type checking (ext-fs), unifies with anything.
    Any,
}

/// Every type token accepted in `ty` / `result`, in the order error messages list them.
pub const TYPE_TOKENS: &[(&str, Ty)] = &[
    ("i32", Ty::I32),
    ("u32", Ty::U32),
    ("bytes", Ty::Bytes),
    ("bytes_view", Ty::BytesView),
    ("vec_u8", Ty::VecU8),
    ("option_i32", Ty::OptionI32),
    ("option_bytes", Ty::OptionBytes),
    ("option_bytes_view", Ty::OptionBytesView),
    ("result_i32", Ty::ResultI32),
    ("result_bytes", Ty::ResultBytes),
    ("result_bytes_view", Ty::ResultBytesView),
    ("result_result_bytes", Ty::ResultResultBytes),
    ("iface", Ty::Iface),
    ("ptr_const_u8", Ty::PtrConstU8),
    ("ptr_mut_u8", Ty::PtrMutU8),
    ("ptr_const_void", Ty::PtrConstVoid),
    ("ptr_mut_void", Ty::PtrMutVoid),
    ("ptr_const_i32", Ty::PtrConstI32),
    ("ptr_mut_i32", Ty::PtrMutI32),
];

impl Ty {
    /// Parses a signature type token.
    pub fn from_token(token: &str) -> Option<Ty> {
        TYPE_TOKENS
            .iter()
            .find(|(t, _)| *t == token)
            .map(|(_, ty)| *ty)
    }

    /// The token as written in source (`bytes_view`).
    pub fn token(self) -> &'static str {
        match self {
            Ty::Never => "never",
            Ty::Any => "any",
            other => TYPE_TOKENS
                .iter()
                .find(|(_, ty)| *ty == other)
                .map(|(t, _)| *t)
                .unwrap_or("?"),
        }
    }

    /// Whether values of this type are moved (consumed) rather than copied.
    pub fn is_owned(self) -> bool {
        matches!(
            self,
            Ty::Bytes | Ty::VecU8 | Ty::OptionBytes | Ty::ResultBytes
        )
    }

    /// Whether `self` may stand where `expected` is needed without conversion.
    pub fn fits(self, expected: Ty) -> bool {
        self == expected || matches!(self, Ty::Never | Ty::Any) || matches!(expected, Ty::Any)
    }

    /// The compiler's `TyInfo { .. }` rendering used in result-type errors.
    pub fn ty_info(self) -> String {
        format!("TyInfo {{ ty: {self:?}, brand: None, view_full: false }}")
    }
}
