//! JSON → tree: reads x07AST files, enforces the file-shape rules of subset §3–§4 and §12,
//! and loads every imported module (subset §3.3). [`load_program`] then hands the files to
//! `check`, which type-checks the reachable code and lowers it for `eval`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::ast::{Expr, ExprKind, FnDecl, Param, SourceFile};
use crate::types::{Ty, TYPE_TOKENS};

pub use crate::eval::Program;

/// A program the real toolchain would refuse to compile, with the exact report fields.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct CompileError {
    /// Exact text of `compile.compile_error`.
    pub message: String,
    /// x07diag objects for type unification errors; `None` otherwise.
    pub diagnostics: Option<serde_json::Value>,
    /// `compile.native_requires.requires` entries (ext-fs / archive backends).
    pub native_requires: Vec<serde_json::Value>,
}

impl CompileError {
    /// An error with only a message.
    pub fn new(message: impl Into<String>) -> Self {
        CompileError {
            message: message.into(),
            diagnostics: None,
            native_requires: Vec::new(),
        }
    }
}

/// Schema versions accepted in `schema_version`.
const SCHEMA_VERSIONS: &[&str] = &[
    "x07.x07ast@0.3.0",
    "x07.x07ast@0.4.0",
    "x07.x07ast@0.5.0",
    "x07.x07ast@0.6.0",
    "x07.x07ast@0.7.0",
    "x07.x07ast@0.8.0",
    "x07.x07ast@0.9.0",
];

/// Loads and checks the entry program plus every module it imports.
///
/// Module roots are searched in order; built-in std modules are native and win over files.
/// Only code reachable from `solve` is type/move/head-checked.
///
/// Parsing and checking recurse over the expression tree (at most 128 JSON levels deep), so
/// they run on a helper thread with a generous stack; callers may use any thread.
pub fn load_program(entry_file: &Path, module_roots: &[PathBuf]) -> Result<Program, CompileError> {
    let entry = entry_file.to_path_buf();
    let roots = module_roots.to_vec();
    let worker = std::thread::Builder::new()
        .name("x07-lite-compile".to_string())
        .stack_size(COMPILE_STACK_BYTES)
        .spawn(move || load_program_here(&entry, &roots));
    match worker {
        Ok(handle) => handle.join().unwrap_or_else(|_| {
            Err(CompileError::new(
                "x07-lite internal error: the compiler panicked",
            ))
        }),
        Err(_) => load_program_here(entry_file, module_roots),
    }
}

/// Stack of the compile thread.
const COMPILE_STACK_BYTES: usize = 64 * 1024 * 1024;

/// [`load_program`] on the calling thread, which must have a stack for the deepest
/// nesting (as [`load_program`]'s helper thread has: 64 MiB); the solver calls it on its
/// main thread with `RLIMIT_STACK` raised that far, so no thread is started.
pub fn load_program_on_this_thread(
    entry_file: &Path,
    module_roots: &[PathBuf],
) -> Result<Program, CompileError> {
    load_program_here(entry_file, module_roots)
}

fn load_program_here(entry_file: &Path, module_roots: &[PathBuf]) -> Result<Program, CompileError> {
    let text = crate::project::read_source_file(entry_file).map_err(|e| {
        CompileError::new(format!(
            "Parse: main: cannot read {}: {e} at ",
            entry_file.display()
        ))
    })?;
    let entry = parse_file(&text, &FileRole::Entry)?;
    let mut loader = ModuleLoader {
        roots: module_roots,
        files: vec![entry],
        native: Vec::new(),
        loaded: HashSet::new(),
        stack: Vec::new(),
    };
    loader.loaded.insert("main".to_string());
    let imports = loader.files[0].imports.clone();
    for id in &imports {
        loader.load(id)?;
    }
    let tree = crate::check::check_program(loader.files, loader.native)?;
    Ok(Program::new(tree))
}

/// Which kind of file is being parsed.
enum FileRole {
    Entry,
    Module(String),
}

impl FileRole {
    fn label(&self) -> String {
        match self {
            FileRole::Entry => "main".to_string(),
            FileRole::Module(id) => format!("{id:?}"),
        }
    }
}

/// Recursive module resolution with cycle detection.
struct ModuleLoader<'r> {
    roots: &'r [PathBuf],
    files: Vec<SourceFile>,
    native: Vec<String>,
    loaded: HashSet<String>,
    stack: Vec<String>,
}

impl ModuleLoader<'_> {
    fn load(&mut self, id: &str) -> Result<(), CompileError> {
        if self.stack.iter().any(|s| s == id) {
            return Err(CompileError::new(format!(
                "Parse: cyclic import detected at module {id:?}"
            )));
        }
        if self.loaded.contains(id) {
            return Ok(());
        }
        if is_builtin_std(id) && !id.starts_with("std.world.") {
            self.loaded.insert(id.to_string());
            self.native.push(id.to_string());
            return Ok(());
        }
        let rel = id.replace('.', "/");
        let mut found: Vec<PathBuf> = Vec::new();
        for root in self.roots {
            let json = root.join(format!("{rel}.x07.json"));
            let text = root.join(format!("{rel}.x07t"));
            if json.is_file() {
                found.push(json);
            } else if text.is_file() {
                found.push(text);
            }
        }
        if found.len() > 1 {
            return Err(CompileError::new(format!(
                "Parse: module {id:?} is ambiguous across roots"
            )));
        }
        let Some(path) = found.pop() else {
            if is_os_root_module(id) {
                self.loaded.insert(id.to_string());
                self.native.push(id.to_string());
                return Ok(());
            }
            return Err(unknown_module(id));
        };
        if path.extension().is_some_and(|e| e == "x07t") {
            return Err(CompileError::new(format!(
                "Unsupported: x07text module files are not supported by x07-lite: {id:?}"
            )));
        }
        let bytes = crate::project::read_source_file(&path).map_err(|e| {
            CompileError::new(format!("Parse: {id:?}: cannot read module file: {e} at "))
        })?;
        let file = parse_file(&bytes, &FileRole::Module(id.to_string()))?;
        self.loaded.insert(id.to_string());
        self.stack.push(id.to_string());
        let imports = file.imports.clone();
        self.files.push(file);
        for dep in &imports {
            self.load(dep)?;
        }
        self.stack.pop();
        Ok(())
    }
}

fn unknown_module(id: &str) -> CompileError {
    let rel = id.replace('.', "/");
    let hint = if id == "std.os.fs" || id.starts_with("std.os.fs.") {
        "hint: x07 pkg add ext-fs@0.1.6 --sync".to_string()
    } else {
        format!("hint: x07 pkg provides {id}")
    };
    CompileError::new(format!(
        "Parse: unknown module: {id:?} (searched: {rel}.x07.json or {rel}.x07t)\n\n{hint}"
    ))
}

/// Modules compiled into the toolchain (std-core 0.1.4 and std 0.1.3), subset §3.3.
pub(crate) fn is_builtin_std(id: &str) -> bool {
    const EXACT: &[&str] = &[
        "std.vec",
        "std.slice",
        "std.bytes",
        "std.codec",
        "std.parse",
        "std.fmt",
        "std.bit",
        "std.json",
        "std.map",
        "std.set",
        "std.u32",
        "std.small_map",
        "std.small_set",
        "std.bitset",
        "std.slab",
        "std.lru_cache",
        "std.result",
        "std.option",
        "std.view",
        "std.vec_value",
        "std.doc",
        "std.prng",
        "std.str",
        "std.test",
        "std.regex-lite",
        "std.csv",
        "std.fs",
        "std.rr",
        "std.kv",
        "std.path",
        "std.process",
        "std.http.envelope",
    ];
    const PREFIXES: &[&str] = &[
        "std.hash",
        "std.btree_",
        "std.deque",
        "std.heap",
        "std.text.",
        "std.io",
        "std.pbt.",
    ];
    EXACT.contains(&id) || PREFIXES.iter().any(|p| id.starts_with(p))
}

/// Modules of the OS stdlib root (`stdlib/os/0.2.0/modules`), appended after the user roots.
pub(crate) fn is_os_root_module(id: &str) -> bool {
    const OS: &[&str] = &[
        "std.os.env",
        "std.os.time",
        "std.os.process",
        "std.os.process.req_v1",
        "std.os.process.caps_v1",
        "std.os.process_pool",
        "std.os.net",
        "std.world.env",
        "std.world.fs",
        "std.world.net",
        "std.world.process",
        "std.world.time",
    ];
    OS.contains(&id)
}

fn file_err(role: &FileRole, msg: impl std::fmt::Display, ptr: &str) -> CompileError {
    CompileError::new(format!("Parse: {}: {msg} at {ptr}", role.label()))
}

/// Whether a module id is well formed: dot-separated `[A-Za-z_][A-Za-z0-9_-]*` segments.
fn valid_module_id(id: &str) -> bool {
    !id.is_empty()
        && id.split('.').all(|seg| {
            let mut chars = seg.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
}

fn check_module_id(role: &FileRole, id: &str, ptr: &str) -> Result<(), CompileError> {
    if id.contains('/') || id.contains('\\') {
        return Err(file_err(
            role,
            format!("invalid module_id (path separators are not allowed): {id:?}"),
            ptr,
        ));
    }
    if !valid_module_id(id) {
        return Err(file_err(role, format!("invalid module_id: {id:?}"), ptr));
    }
    Ok(())
}

fn parse_file(text: &[u8], role: &FileRole) -> Result<SourceFile, CompileError> {
    // serde_json stops at 128 levels of nesting, so no later pass can recurse deeper.
    let doc: Json = serde_json::from_slice(text).map_err(|e| file_err(role, e, ""))?;
    let Json::Object(obj) = &doc else {
        return Err(file_err(role, "expected a JSON object", ""));
    };
    let field = |name: &str| -> Result<&Json, CompileError> {
        obj.get(name)
            .ok_or_else(|| file_err(role, format!("missing required field: {name}"), ""))
    };
    let schema = field("schema_version")?;
    let schema_str = schema.as_str().unwrap_or("");
    if !SCHEMA_VERSIONS.contains(&schema_str) {
        return Err(file_err(
            role,
            format!(
                "unsupported schema_version: got {:?} (supported: {}) (hint: set schema_version to {})",
                schema_str,
                SCHEMA_VERSIONS.join(", "),
                SCHEMA_VERSIONS[SCHEMA_VERSIONS.len() - 1]
            ),
            "/schema_version",
        ));
    }
    let kind = field("kind")?.as_str().unwrap_or("");
    let is_entry_kind = match kind {
        "entry" => true,
        "module" => false,
        other => {
            return Err(file_err(
                role,
                format!("invalid kind: expected \"entry\" or \"module\" got {other:?}"),
                "/kind",
            ))
        }
    };
    let module_id = field("module_id")?.as_str().unwrap_or("").to_string();
    match role {
        FileRole::Entry => {
            if !is_entry_kind {
                return Err(CompileError::new(
                    "Parse: main: expected kind=\"entry\" got Module",
                ));
            }
            if module_id != "main" {
                return Err(CompileError::new(format!(
                    "Parse: main: entry module_id must be \"main\" got {module_id:?}"
                )));
            }
        }
        FileRole::Module(expected) => {
            if is_entry_kind {
                return Err(CompileError::new(format!(
                    "Parse: module {expected:?}: expected kind=\"module\" got Entry"
                )));
            }
            if &module_id != expected {
                return Err(CompileError::new(format!(
                    "Parse: module {expected:?}: module_id mismatch in file: got {module_id:?}"
                )));
            }
        }
    }
    let Json::Array(import_list) = field("imports")? else {
        return Err(file_err(role, "imports must be an array", "/imports"));
    };
    let mut imports: Vec<String> = Vec::new();
    for item in import_list {
        let id = item
            .as_str()
            .ok_or_else(|| file_err(role, "import must be a string", "/imports"))?;
        check_module_id(role, id, "/imports")?;
        if !imports.iter().any(|i| i == id) {
            imports.push(id.to_string());
        }
    }
    let Json::Array(decls) = field("decls")? else {
        return Err(file_err(role, "decls must be an array", "/decls"));
    };
    let mut functions: Vec<FnDecl> = Vec::new();
    let mut exports: Vec<String> = Vec::new();
    let mut export_seen = false;
    let prefix = format!("{module_id}.");
    for (i, decl) in decls.iter().enumerate() {
        let dptr = format!("/decls/{i}");
        let Json::Object(d) = decl else {
            return Err(file_err(role, "decl must be an object", &dptr));
        };
        let dkind = d
            .get("kind")
            .and_then(Json::as_str)
            .ok_or_else(|| file_err(role, "missing required field: kind", &dptr))?;
        match dkind {
            "defn" => {
                let name = d
                    .get("name")
                    .and_then(Json::as_str)
                    .ok_or_else(|| file_err(role, "missing required field: name", &dptr))?;
                if !name.starts_with(&prefix) {
                    return Err(file_err(
                        role,
                        format!("defn name must start with {prefix:?}, got {name:?}"),
                        &format!("{dptr}/name"),
                    ));
                }
                if functions.iter().any(|f| f.name == name) {
                    return Err(file_err(
                        role,
                        format!("duplicate function name: {name:?}"),
                        &format!("{dptr}/name"),
                    ));
                }
                let Some(Json::Array(params_json)) = d.get("params") else {
                    return Err(file_err(role, "missing required field: params", &dptr));
                };
                let mut params = Vec::new();
                for (j, p) in params_json.iter().enumerate() {
                    let pptr = format!("{dptr}/params/{j}");
                    let pname = p
                        .get("name")
                        .and_then(Json::as_str)
                        .ok_or_else(|| file_err(role, "missing required field: name", &pptr))?;
                    if pname == "input" {
                        // `input` always means the run input (semantics R12).
                        return Err(file_err(
                            role,
                            "defn arg name must not be 'input' (reserved); rename to 'data', 'payload', 'in_bytes', or 'buf'",
                            &format!("{pptr}/name"),
                        ));
                    }
                    let ty = parse_ty(role, p.get("ty"), &format!("{pptr}/ty"))?;
                    params.push(Param {
                        name: pname.to_string(),
                        ty,
                    });
                }
                let result = parse_ty(role, d.get("result"), &format!("{dptr}/result"))?;
                let body_json = d
                    .get("body")
                    .ok_or_else(|| file_err(role, "missing required field: body", &dptr))?;
                let body = parse_expr(role, body_json, format!("{dptr}/body"))?;
                functions.push(FnDecl {
                    name: name.to_string(),
                    params,
                    result,
                    body,
                    decl_index: i,
                });
            }
            "export" => {
                if export_seen {
                    return Err(file_err(role, "duplicate export declaration", &dptr));
                }
                export_seen = true;
                let Some(Json::Array(names)) = d.get("names") else {
                    return Err(file_err(role, "missing required field: names", &dptr));
                };
                for (j, n) in names.iter().enumerate() {
                    let n = n.as_str().ok_or_else(|| {
                        file_err(
                            role,
                            "export name must be a string",
                            &format!("{dptr}/names/{j}"),
                        )
                    })?;
                    exports.push(n.to_string());
                }
            }
            other => {
                return Err(file_err(
                    role,
                    format!("unsupported decl kind: {other:?}"),
                    &format!("{dptr}/kind"),
                ))
            }
        }
    }
    let solve = match role {
        FileRole::Entry => {
            let Some(s) = obj.get("solve") else {
                return Err(CompileError::new("Parse: main: missing solve expression"));
            };
            Some(parse_expr(role, s, "/solve".to_string())?)
        }
        FileRole::Module(id) => {
            if !export_seen {
                return Err(CompileError::new(format!(
                    "Parse: module {id:?} is missing an export declaration"
                )));
            }
            for name in &exports {
                if !name.starts_with(&prefix) || !functions.iter().any(|f| &f.name == name) {
                    return Err(CompileError::new(format!(
                        "Parse: export {name:?} is not defined in module {id:?}"
                    )));
                }
            }
            None
        }
    };
    Ok(SourceFile {
        module_id,
        imports,
        functions,
        exports,
        solve,
    })
}

fn parse_ty(role: &FileRole, v: Option<&Json>, ptr: &str) -> Result<Ty, CompileError> {
    let Some(v) = v else {
        return Err(file_err(role, "missing required field: ty", ptr));
    };
    let token = v.as_str().unwrap_or("");
    Ty::from_token(token).ok_or_else(|| {
        let expected: Vec<&str> = TYPE_TOKENS.iter().map(|(t, _)| *t).collect();
        file_err(
            role,
            format!("unknown type: {token:?} (expected {})", expected.join(", ")),
            ptr,
        )
    })
}

/// JSON value → expression. Recursion is bounded by serde_json's nesting limit.
fn parse_expr(role: &FileRole, v: &Json, ptr: String) -> Result<Expr, CompileError> {
    let kind = match v {
        Json::Number(n) => match n.as_i64() {
            Some(i) => match i32::try_from(i) {
                Ok(x) => ExprKind::Int(x),
                Err(_) => {
                    return Err(file_err(
                        role,
                        format!("number out of i32 range: {i}"),
                        &ptr,
                    ))
                }
            },
            // Integers in 2^63..2^64-1 print as integers, everything else as a float
            // (semantics R20).
            None => return Err(file_err(role, format!("number is not an i64: {n}"), &ptr)),
        },
        Json::String(s) => {
            if s.chars().any(char::is_whitespace) {
                return Err(file_err(role, "atom must not contain whitespace", &ptr));
            }
            ExprKind::Ident(s.clone())
        }
        Json::Array(items) => {
            let Some(first) = items.first() else {
                return Err(file_err(role, "list expression must not be empty", &ptr));
            };
            let Json::String(head) = first else {
                return Err(file_err(
                    role,
                    "list head must be an atom string",
                    &format!("{ptr}/0"),
                ));
            };
            if head.chars().any(char::is_whitespace) {
                return Err(file_err(
                    role,
                    "list head must not contain whitespace",
                    &format!("{ptr}/0"),
                ));
            }
            let is_lit = head == "bytes.lit" || head == "bytes.view_lit";
            let mut args = Vec::with_capacity(items.len() - 1);
            for (i, item) in items.iter().enumerate().skip(1) {
                let aptr = format!("{ptr}/{i}");
                if is_lit && i == 1 {
                    if let Json::String(text) = item {
                        args.push(Expr {
                            kind: ExprKind::Text(text.as_bytes().to_vec()),
                            ptr: aptr,
                        });
                        continue;
                    }
                }
                args.push(parse_expr(role, item, aptr)?);
            }
            ExprKind::List {
                head: head.clone(),
                args,
            }
        }
        other => {
            let shown = match other {
                Json::Bool(b) => format!("Bool({b})"),
                Json::Null => "Null".to_string(),
                _ => "Object".to_string(),
            };
            return Err(file_err(
                role,
                format!("unsupported JSON value in expr: {shown}"),
                &ptr,
            ));
        }
    };
    Ok(Expr { kind, ptr })
}
