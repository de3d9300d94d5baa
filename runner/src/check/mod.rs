//! Compile-time checks (subset §3.2, §3.4, §5, §6, §8.6, §12; semantics R1–R19) and the
//! typed tree they produce.
//!
//! The real compiler checks the program as written, rewrites it (`crate::opt`), then
//! checks the rewritten program again while compiling it. `check_program` does the
//! same: pass 1 reports the errors of the program as written, pass 2 those the rewrites
//! expose (semantics R13, R15) and builds the [`TProgram`] that runs.
//!
//! Starting from `solve`, every reachable function body is checked; callees are queued
//! when first called, so unreachable functions are never checked. `forms` handles the
//! core forms, `calls` the builtin, std and user calls, `scope` the variables, moves and
//! borrows, `sigs` holds the builtin table.

mod calls;
mod forms;
mod scope;
pub mod sigs;

use std::collections::{HashMap, HashSet};

use serde_json::json;

use crate::ast::{Expr, ExprKind, SourceFile};
use crate::parse::CompileError;
use crate::tir::{FnId, PtrId, TExpr, TFn, TKind, TProgram, TVar};
use crate::types::Ty;
use scope::{is_view_ty, Scope, Src, VarInfo};

/// Reachable functions of a checked program and how often each is called (what the
/// optimizer's inlining needs).
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// `(file index, function index)` of every reachable user function, in discovery order.
    pub functions: Vec<(usize, usize)>,
    /// Number of call sites of each reachable function in reachable code.
    pub call_sites: HashMap<(usize, usize), u32>,
}

/// Checks a loaded program (`files[0]` is the entry), optimizes it and checks the result.
pub(crate) fn check_program(
    files: Vec<SourceFile>,
    native_modules: Vec<String>,
) -> Result<TProgram, CompileError> {
    let mut loaded: HashSet<String> = files.iter().map(|f| f.module_id.clone()).collect();
    loaded.extend(native_modules);
    let (_, reach) = check_files(&files, &loaded)?;
    let optimized = crate::opt::optimize(files, &reach);
    let (program, _) = check_files(&optimized, &loaded)?;
    Ok(program)
}

/// One checking pass over the reachable code of `files`.
pub(crate) fn check_files(
    files: &[SourceFile],
    loaded: &HashSet<String>,
) -> Result<(TProgram, Reach), CompileError> {
    let mut ck = Checker {
        files,
        loaded,
        fn_ids: HashMap::new(),
        reach: Reach::default(),
        literals: Vec::new(),
        ptrs: Vec::new(),
        ext_fs: Vec::new(),
        archive: Vec::new(),
    };
    let solve_expr = files[0]
        .solve
        .as_ref()
        .ok_or_else(|| CompileError::new("Parse: main: missing solve expression"))?;
    let solve = ck.check_body(0, None, solve_expr)?;
    let mut functions = Vec::new();
    let mut i = 0;
    while i < ck.reach.functions.len() {
        let (fi, di) = ck.reach.functions[i];
        let body = &files[fi].functions[di].body;
        functions.push(ck.check_body(fi, Some(di), body)?);
        i += 1;
    }
    if !ck.ext_fs.is_empty() {
        let mut err = CompileError::new(
            "native ext-fs backend missing (build + stage with ./scripts/build_ext_fs.sh)",
        );
        err.native_requires = vec![json!({
            "abi_major": 1,
            "backend_id": "x07.ext.fs",
            "features": ck.ext_fs,
        })];
        return Err(err);
    }
    if !ck.archive.is_empty() {
        let mut err = CompileError::new(
            "native backend file missing: backend_id=x07.ext.archive path=<toolchain root>/deps/x07/libx07_ext_archive.a",
        );
        err.native_requires = vec![json!({
            "abi_major": 1,
            "backend_id": "x07.ext.archive",
            "features": ck.archive,
        })];
        return Err(err);
    }
    Ok((
        TProgram {
            solve,
            functions,
            literals: ck.literals,
            ptrs: ck.ptrs,
        },
        ck.reach,
    ))
}

/// Program-wide state of one pass.
struct Checker<'f> {
    files: &'f [SourceFile],
    /// Every module id in the program (files and native std modules).
    loaded: &'f HashSet<String>,
    /// Id of each reached function.
    fn_ids: HashMap<(usize, usize), FnId>,
    reach: Reach,
    literals: Vec<Vec<u8>>,
    ptrs: Vec<String>,
    /// ext-fs heads used by reachable code.
    ext_fs: Vec<String>,
    /// Archive heads used by reachable code.
    archive: Vec<String>,
}

impl Checker<'_> {
    fn intern_ptr(&mut self, ptr: &str) -> PtrId {
        if let Some(i) = self.ptrs.iter().rposition(|p| p == ptr) {
            return i as PtrId;
        }
        self.ptrs.push(ptr.to_string());
        (self.ptrs.len() - 1) as PtrId
    }

    fn intern_literal(&mut self, text: &[u8]) -> u32 {
        if let Some(i) = self.literals.iter().position(|l| l == text) {
            return i as u32;
        }
        self.literals.push(text.to_vec());
        (self.literals.len() - 1) as u32
    }

    /// The id of a called function, queueing it for checking on first use.
    fn call_target(&mut self, key: (usize, usize)) -> FnId {
        *self.reach.call_sites.entry(key).or_insert(0) += 1;
        if let Some(&id) = self.fn_ids.get(&key) {
            return id;
        }
        let id = self.reach.functions.len() as FnId;
        self.reach.functions.push(key);
        self.fn_ids.insert(key, id);
        id
    }

    /// Checks `solve` (`decl: None`) or a function body.
    fn check_body(
        &mut self,
        file: usize,
        decl: Option<usize>,
        body: &Expr,
    ) -> Result<TFn, CompileError> {
        let files = self.files;
        let (name, params, result) = match decl {
            None => ("solve".to_string(), Vec::new(), Ty::Bytes),
            Some(di) => {
                let f = &files[file].functions[di];
                (f.name.clone(), f.params.clone(), f.result)
            }
        };
        let mut cx = FnCk {
            ck: self,
            file,
            fname: name.clone(),
            result,
            is_solve: decl.is_none(),
            vars: Vec::new(),
            tracked: Vec::new(),
            scopes: vec![Scope::default()],
            diverged: false,
            deferred: None,
        };
        for p in &params {
            cx.declare(&p.name, p.ty, Src::none(), "");
        }
        let (body_t, src) = cx.expr(body, Ctx::Value(Use::Move))?;
        if !body_t.ty.fits(result) {
            let message = if decl.is_none() {
                format!(
                    "Typing: solve expression must evaluate to bytes (or return), got {} (fn=solve)",
                    body_t.ty.ty_info()
                )
            } else {
                format!(
                    "Typing: function {name:?} must evaluate to {result:?} (or return), got {} (fn={name})",
                    body_t.ty.ty_info()
                )
            };
            return Err(unify_error(message, body_t.ty, result, &body.ptr));
        }
        cx.check_view_return(&src)?;
        let vars = cx
            .vars
            .iter()
            .map(|v| TVar {
                name: v.name.clone(),
                ty: v.ty,
            })
            .collect();
        Ok(TFn {
            name,
            nparams: params.len() as u32,
            vars,
            result,
            body: body_t,
        })
    }
}

/// A type unification error with its x07diag object (observed-behaviour.md §5.2).
fn unify_error(message: String, got: Ty, expected: Ty, ptr: &str) -> CompileError {
    let mut err = CompileError::new(message);
    err.diagnostics = Some(json!([{
        "code": "X07-TYPE-UNIFY-0001",
        "data": {"lhs": got.token(), "reason": "named_mismatch", "rhs": expected.token()},
        "loc": {"kind": "x07ast", "ptr": ptr},
        "message": format!("type mismatch: expected `{}`, got `{}`", expected.token(), got.token()),
        "severity": "error",
        "stage": "type",
    }]));
    err
}

/// How a value-position result is used, which decides whether an owned variable moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// Consumed (let/set value, owned parameter, function result).
    Move,
    /// Read in place (view parameters, `*.len`, conditions, operands).
    Borrow,
}

/// Where an expression stands (semantics R1, R2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// Value position.
    Value(Use),
    /// Statement position: the value is discarded (owned values are dropped).
    Stmt,
    /// Statement position for evaluation, but typed as a value: the branches of a
    /// statement-position `if` and what they end in (semantics R2).
    StmtTyped,
}

impl Ctx {
    fn is_value(self) -> bool {
        matches!(self, Ctx::Value(_))
    }
}

/// Per-function checking state.
struct FnCk<'c, 'f> {
    ck: &'c mut Checker<'f>,
    file: usize,
    fname: String,
    result: Ty,
    is_solve: bool,
    vars: Vec<VarInfo>,
    /// The owned and view variables (the only ones with move states and borrow
    /// sources), in declaration order.
    tracked: Vec<crate::tir::VarId>,
    scopes: Vec<Scope>,
    /// Whether the code checked so far on the current path always leaves the function.
    diverged: bool,
    /// Inside the branches of an `if` whose branch types are compared: the value-position
    /// `let`/`set` errors of owned values (R4, R5) found so far, reported only once the
    /// branch types agree (see [`FnCk::emission_error`]).
    deferred: Option<Vec<CompileError>>,
}

impl FnCk<'_, '_> {
    fn err(&self, kind: &str, msg: impl std::fmt::Display) -> CompileError {
        CompileError::new(format!("{kind}: {msg} (fn={})", self.fname))
    }

    /// Reports an error of the code generator rather than of type inference: a `let` or
    /// `set` in value position that would produce an owned value (semantics R4, R5).
    ///
    /// The real compiler infers the type of an `if` whose branch types must agree (a value
    /// `if`, or an `if` inside a statement `if`'s branch, R2) before it emits the branches,
    /// and inference gives such a `set` its variable's type without complaint (the R2
    /// evidence: `(if 0 0 (set o (push o 66)))` there is reported as `if branches must have
    /// same type (then=I32, else=VecU8)`). So inside such an `if` these errors wait: a
    /// type error found later in its branches, or the branch-type mismatch itself, is
    /// reported instead; otherwise the first of them is (see `check::forms::if_form`).
    fn emission_error(&mut self, error: CompileError) -> Result<(), CompileError> {
        match &mut self.deferred {
            Some(pending) => {
                pending.push(error);
                Ok(())
            }
            None => Err(error),
        }
    }

    /// Rejects returning a view that borrows an owned buffer of the function.
    fn check_view_return(&self, src: &Src) -> Result<(), CompileError> {
        if self.is_solve || !is_view_ty(self.result) {
            return Ok(());
        }
        if let Some(&o) = src.owners.first() {
            return Err(CompileError::new(format!(
                "Typing: function {:?} returns bytes_view borrowed from local owned buffer {:?} (bytes_view return analysis: {:?})",
                self.fname, self.vars[o as usize].name, self.fname
            )));
        }
        Ok(())
    }

    /// Checks one expression.
    fn expr(&mut self, e: &Expr, ctx: Ctx) -> Result<(TExpr, Src), CompileError> {
        match &e.kind {
            ExprKind::Int(v) => Ok((TExpr::new(TKind::Int(*v), Ty::I32, true), Src::none())),
            ExprKind::Text(_) => Err(self.err("Parse", "text is only allowed in bytes.lit")),
            ExprKind::Ident(name) => {
                let (t, src) = self.ident(name, &e.ptr, ctx)?;
                self.statement_view(&t, &src, ctx);
                Ok((t, src))
            }
            ExprKind::List { head, args } => {
                if let Some(r) = self.form(head, args, ctx)? {
                    return Ok(r);
                }
                let (t, src) = self.call(head, args, e)?;
                self.statement_view(&t, &src, ctx);
                Ok((t, src))
            }
        }
    }

    /// A view expression used as a statement keeps its owner borrowed until the scope
    /// ends (semantics R10).
    fn statement_view(&mut self, t: &TExpr, src: &Src, ctx: Ctx) {
        if !ctx.is_value() && is_view_ty(t.ty) {
            self.hold_temp_borrow(src);
        }
    }

    /// An identifier in expression position.
    fn ident(&mut self, name: &str, ptr: &str, ctx: Ctx) -> Result<(TExpr, Src), CompileError> {
        // `input` always means the run input, even after `(let input ..)` (R12).
        if name == "input" {
            return Ok((TExpr::new(TKind::Input, Ty::BytesView, true), Src::none()));
        }
        let Some(v) = self.lookup(name) else {
            return Err(self.err("Typing", format!("unknown identifier: {name:?}")));
        };
        let moves = matches!(ctx, Ctx::Value(Use::Move) | Ctx::Stmt | Ctx::StmtTyped);
        self.var_use(v, ptr, moves, Some(ptr), true)
    }

    /// Reads variable `v`: moves it when `moves` and it is owned. `err_ptr` is the pointer
    /// shown in a `use after move` error (none on the compiler's by-name paths).
    fn var_use(
        &mut self,
        v: crate::tir::VarId,
        ptr: &str,
        moves: bool,
        err_ptr: Option<&str>,
        tick: bool,
    ) -> Result<(TExpr, Src), CompileError> {
        let var = &self.vars[v as usize];
        if let scope::MoveState::Moved(p) = &var.state {
            return Err(self.use_after_move(v, p, err_ptr));
        }
        let ty = var.ty;
        if ty.is_owned() {
            if moves {
                self.check_move_allowed(v, ptr)?;
                self.vars[v as usize].state = scope::MoveState::Moved(Some(ptr.to_string()));
                return Ok((TExpr::new(TKind::Take(v), ty, tick), Src::none()));
            }
            return Ok((TExpr::new(TKind::Var(v), ty, tick), Src::of(v)));
        }
        let src = if is_view_ty(ty) {
            var.src.clone()
        } else {
            Src::none()
        };
        Ok((TExpr::new(TKind::Var(v), ty, tick), src))
    }
}
