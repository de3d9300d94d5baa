//! Compile-time checks and lowering (subset §3.2, §3.4, §5, §6, §8.6, §12).
//!
//! Starting from `solve`, every reachable function body is type-checked, move/borrow
//! checked and lowered to the stack code of [`crate::eval::code`] in one pass; callees are
//! queued when first called, so unreachable functions are never checked. `forms` handles
//! the core forms, `calls` the builtin, std and user calls, `sigs` holds the builtin table.

mod calls;
mod forms;
pub mod sigs;

use std::collections::{HashMap, HashSet};

use serde_json::json;

use crate::ast::{Expr, SourceFile};
use crate::eval::code::{CompiledFn, Op, Program, PtrId};
use crate::parse::CompileError;
use crate::types::Ty;

/// Checks and lowers a loaded program (`files[0]` is the entry).
pub(crate) fn check_program(
    files: Vec<SourceFile>,
    native_modules: Vec<String>,
) -> Result<Program, CompileError> {
    let mut loaded: HashSet<String> = files.iter().map(|f| f.module_id.clone()).collect();
    loaded.extend(native_modules);
    let mut ck = Checker {
        files,
        loaded,
        fn_slots: HashMap::new(),
        order: Vec::new(),
        literals: Vec::new(),
        ptrs: Vec::new(),
        ext_fs: Vec::new(),
        archive: Vec::new(),
    };
    let solve_expr = ck.files[0]
        .solve
        .clone()
        .ok_or_else(|| CompileError::new("Parse: main: missing solve expression"))?;
    let solve = ck.compile_body(0, None, &solve_expr)?;
    let mut functions = Vec::new();
    let mut i = 0;
    while i < ck.order.len() {
        let (fi, di) = ck.order[i];
        let body = ck.files[fi].functions[di].body.clone();
        functions.push(ck.compile_body(fi, Some(di), &body)?);
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
    Ok(Program {
        solve,
        functions,
        literals: ck.literals,
        ptrs: ck.ptrs,
    })
}

/// Program-wide state of the checker.
struct Checker {
    files: Vec<SourceFile>,
    /// Every module id in the program (files and native std modules).
    loaded: HashSet<String>,
    /// Lowered index of each reached function.
    fn_slots: HashMap<(usize, usize), u32>,
    /// Reached functions in discovery order.
    order: Vec<(usize, usize)>,
    literals: Vec<Vec<u8>>,
    ptrs: Vec<String>,
    /// ext-fs heads used by reachable code.
    ext_fs: Vec<String>,
    /// Archive heads used by reachable code.
    archive: Vec<String>,
}

impl Checker {
    fn intern_ptr(&mut self, ptr: &str) -> PtrId {
        self.ptrs.push(ptr.to_string());
        (self.ptrs.len() - 1) as PtrId
    }

    /// The lowered index of a function, queueing it for checking on first use.
    fn fn_slot(&mut self, key: (usize, usize)) -> u32 {
        if let Some(&s) = self.fn_slots.get(&key) {
            return s;
        }
        let s = self.order.len() as u32;
        self.order.push(key);
        self.fn_slots.insert(key, s);
        s
    }

    /// Checks and lowers `solve` (`decl: None`) or a function body.
    fn compile_body(
        &mut self,
        file: usize,
        decl: Option<usize>,
        body: &Expr,
    ) -> Result<CompiledFn, CompileError> {
        let (name, params, result) = match decl {
            None => ("solve".to_string(), Vec::new(), Ty::Bytes),
            Some(di) => {
                let f = &self.files[file].functions[di];
                (f.name.clone(), f.params.clone(), f.result)
            }
        };
        let mut cx = FnCx {
            ck: self,
            file,
            fname: name.clone(),
            result,
            is_solve: decl.is_none(),
            code: Vec::new(),
            vars: Vec::new(),
            scopes: vec![Vec::new()],
            state: Vec::new(),
            diverged: false,
            nslots: 0,
        };
        for p in &params {
            cx.declare(&p.name, p.ty, Vec::new(), String::new());
        }
        let info = cx.expr(body, Mode::Move)?;
        if !info.ty.fits(result) {
            let message = if decl.is_none() {
                format!(
                    "Typing: solve expression must evaluate to bytes (or return), got {} (fn=solve)",
                    info.ty.ty_info()
                )
            } else {
                format!(
                    "Typing: function {name:?} must evaluate to {result:?} (or return), got {} (fn={name})",
                    info.ty.ty_info()
                )
            };
            return Err(unify_error(message, info.ty, result, &body.ptr));
        }
        cx.check_view_return(&info.owners)?;
        cx.code.push(Op::Return);
        Ok(CompiledFn {
            name,
            nparams: params.len() as u32,
            nslots: cx.nslots,
            code: cx.code,
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

/// How an expression's value is used, which decides whether a variable is moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Consumed (let/set value, owned parameter, result).
    Move,
    /// Borrowed (view parameter, `*.len`, conditions).
    Borrow,
    /// Discarded (non-final `begin` item, loop body).
    Discard,
}

/// Move state of a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
enum MoveState {
    Live,
    /// Moved at a pointer, or on only some paths (`None` → `<unknown>`).
    Moved(Option<String>),
}

/// A local variable of the function being checked.
#[derive(Debug, Clone)]
struct Var {
    name: String,
    ty: Ty,
    slot: u32,
    /// For views: the owned variables they borrow.
    owners: Vec<usize>,
    /// Pointer of the expression that created the borrow.
    borrow_ptr: String,
}

/// Type and borrow owners of a checked expression.
#[derive(Debug, Clone)]
struct Info {
    ty: Ty,
    owners: Vec<usize>,
}

impl Info {
    fn of(ty: Ty) -> Info {
        Info {
            ty,
            owners: Vec::new(),
        }
    }
}

/// Per-function checking and lowering state.
struct FnCx<'c> {
    ck: &'c mut Checker,
    file: usize,
    fname: String,
    result: Ty,
    is_solve: bool,
    code: Vec<Op>,
    vars: Vec<Var>,
    scopes: Vec<Vec<usize>>,
    state: Vec<MoveState>,
    diverged: bool,
    nslots: u32,
}

impl FnCx<'_> {
    fn err(&self, kind: &str, msg: impl std::fmt::Display) -> CompileError {
        CompileError::new(format!("{kind}: {msg} (fn={})", self.fname))
    }

    fn new_slot(&mut self) -> u32 {
        self.nslots += 1;
        self.nslots - 1
    }

    fn declare(&mut self, name: &str, ty: Ty, owners: Vec<usize>, borrow_ptr: String) -> usize {
        let slot = self.new_slot();
        self.vars.push(Var {
            name: name.to_string(),
            ty,
            slot,
            owners,
            borrow_ptr,
        });
        self.state.push(MoveState::Live);
        let id = self.vars.len() - 1;
        if let Some(scope) = self.scopes.last_mut() {
            scope.push(id);
        }
        id
    }

    fn lookup(&self, name: &str) -> Option<usize> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .copied()
            .find(|&v| self.vars[v].name == name)
    }

    fn push_scope(&mut self) {
        self.scopes.push(Vec::new());
    }

    fn pop_scope(&mut self) {
        if let Some(scope) = self.scopes.pop() {
            for v in scope {
                if self.vars[v].ty != Ty::I32 {
                    self.code.push(Op::Clear(self.vars[v].slot));
                }
            }
        }
    }

    /// A live view variable borrowing `owner`, if any.
    fn borrower_of(&self, owner: usize) -> Option<usize> {
        self.scopes
            .iter()
            .flat_map(|s| s.iter())
            .copied()
            .find(|&v| self.vars[v].owners.contains(&owner))
    }

    fn use_after_move(&self, name: &str, moved: &Option<String>, ptr: &str) -> CompileError {
        let moved_ptr = moved.clone().unwrap_or_else(|| "<unknown>".to_string());
        CompileError::new(format!(
            "Typing: use after move: {name:?} moved_ptr={moved_ptr} (fn={} ptr={ptr})",
            self.fname
        ))
    }

    /// Rejects returning a view that borrows a local owned buffer.
    fn check_view_return(&self, owners: &[usize]) -> Result<(), CompileError> {
        if self.is_solve
            || !matches!(
                self.result,
                Ty::BytesView | Ty::OptionBytesView | Ty::ResultBytesView
            )
        {
            return Ok(());
        }
        if let Some(&o) = owners.first() {
            return Err(CompileError::new(format!(
                "Typing: function {:?} returns bytes_view borrowed from local owned buffer {:?} (bytes_view return analysis: {:?})",
                self.fname, self.vars[o].name, self.fname
            )));
        }
        Ok(())
    }

    /// Merges the move states of two control-flow paths.
    fn merge(a: &[MoveState], b: &[MoveState]) -> Vec<MoveState> {
        let n = a.len().max(b.len());
        (0..n)
            .map(|i| match (a.get(i), b.get(i)) {
                (Some(x), Some(y)) if x == y => x.clone(),
                (Some(x), None) => x.clone(),
                (None, Some(y)) => y.clone(),
                _ => MoveState::Moved(None),
            })
            .collect()
    }

    /// Checks and lowers one expression; it leaves exactly one value on the stack.
    fn expr(&mut self, e: &Expr, mode: Mode) -> Result<Info, CompileError> {
        use crate::ast::ExprKind;
        match &e.kind {
            ExprKind::Int(v) => {
                self.code.push(Op::I32(*v));
                Ok(Info::of(Ty::I32))
            }
            ExprKind::Text(_) => Err(self.err("Parse", "text is only allowed in bytes.lit")),
            ExprKind::Ident(name) => self.ident(name, &e.ptr, mode),
            ExprKind::List { head, args } => self.list(head, args, e, mode),
        }
    }

    fn ident(&mut self, name: &str, ptr: &str, mode: Mode) -> Result<Info, CompileError> {
        let Some(v) = self.lookup(name) else {
            if name == "input" {
                self.code.push(Op::Input);
                return Ok(Info::of(Ty::BytesView));
            }
            return Err(self.err("Typing", format!("unknown identifier: {name:?}")));
        };
        if let MoveState::Moved(p) = &self.state[v] {
            return Err(self.use_after_move(name, p, ptr));
        }
        let var = &self.vars[v];
        let (ty, slot) = (var.ty, var.slot);
        if ty.is_owned() {
            match mode {
                Mode::Move => {
                    if self.borrower_of(v).is_some() {
                        return Err(CompileError::new(format!(
                            "Typing: move while borrowed: {name:?} (fn={} ptr={ptr})",
                            self.fname
                        )));
                    }
                    self.code.push(Op::Take(slot));
                    self.state[v] = MoveState::Moved(Some(ptr.to_string()));
                    Ok(Info::of(ty))
                }
                Mode::Borrow => {
                    self.code.push(Op::Load(slot));
                    Ok(Info {
                        ty,
                        owners: vec![v],
                    })
                }
                Mode::Discard => {
                    self.code.push(Op::Load(slot));
                    Ok(Info::of(ty))
                }
            }
        } else {
            self.code.push(Op::Load(slot));
            Ok(Info {
                ty,
                owners: self.vars[v].owners.clone(),
            })
        }
    }

    fn list(
        &mut self,
        head: &str,
        args: &[Expr],
        e: &Expr,
        mode: Mode,
    ) -> Result<Info, CompileError> {
        if let Some(info) = self.form(head, args, e, mode)? {
            return Ok(info);
        }
        self.call(head, args, e, mode)
    }
}
