//! The x07AST tree: what `parse` builds from a JSON file and `check` walks.

use crate::types::Ty;

/// One expression with the RFC-6901 pointer of its JSON value inside its file.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// JSON pointer (`/solve/2/2`, `/decls/0/body`).
    pub ptr: String,
}

/// The four shapes an expression can take.
#[derive(Debug, Clone)]
pub enum ExprKind {
    /// An i32 literal.
    Int(i32),
    /// An identifier: variable, `input`, or a head in call position.
    Ident(String),
    /// The text argument of `bytes.lit` / `bytes.view_lit` (UTF-8 bytes).
    Text(Vec<u8>),
    /// `[head, args...]`.
    List {
        /// The head atom.
        head: String,
        /// The arguments after the head.
        args: Vec<Expr>,
    },
}

/// A parameter of a `defn`.
#[derive(Debug, Clone)]
pub struct Param {
    /// Parameter name.
    pub name: String,
    /// Declared type.
    pub ty: Ty,
}

/// A `defn` declaration.
#[derive(Debug, Clone)]
pub struct FnDecl {
    /// Full name, `<module_id>.<local>`.
    pub name: String,
    /// Parameters in order.
    pub params: Vec<Param>,
    /// Declared result type.
    pub result: Ty,
    /// The body expression.
    pub body: Expr,
    /// Index of the decl in the file's `decls` array (for `/decls/<i>/body` pointers).
    pub decl_index: usize,
}

/// A parsed entry or module file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// `main` for the entry, else the module id.
    pub module_id: String,
    /// Imported module ids, duplicates removed, in order.
    pub imports: Vec<String>,
    /// Functions defined in the file.
    pub functions: Vec<FnDecl>,
    /// Names listed in the `export` decl (modules only).
    pub exports: Vec<String>,
    /// The `solve` expression (entry only).
    pub solve: Option<Expr>,
}
