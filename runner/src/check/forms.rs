//! Core forms (subset §6; semantics R1–R11, R15–R19), i32 operators (§7), literals and
//! the propagation forms (§8.6).

use super::scope::{is_view_ty, Src};
use super::{Ctx, FnCk, Use};
use crate::ast::{Expr, ExprKind};
use crate::parse::CompileError;
use crate::tir::{BinOp, ErrWrap, TExpr, TKind};
use crate::types::Ty;

/// Renders an expression as an s-expression, as the compiler quotes operands.
pub(super) fn sexpr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(v) => v.to_string(),
        ExprKind::Ident(n) => n.clone(),
        ExprKind::Text(t) => format!("{:?}", String::from_utf8_lossy(t)),
        ExprKind::List { head, args } => {
            let mut parts = vec![head.clone()];
            parts.extend(args.iter().map(sexpr));
            format!("({})", parts.join(" "))
        }
    }
}

/// The type of a value-position `if` whose branches have types `a` and `b`.
fn unify(a: Ty, b: Ty) -> Option<Ty> {
    match (a, b) {
        (Ty::Never, t) | (t, Ty::Never) => Some(t),
        (Ty::Any, t) | (t, Ty::Any) => Some(t),
        (x, y) if x == y => Some(x),
        _ => None,
    }
}

type Checked = Result<(TExpr, Src), CompileError>;

/// Whether `e` is found by type inference, so that it comes before the code generator's
/// errors (value-position owned `let`/`set`) and the move and borrow errors of the branches
/// of an `if` being typed. Those others are the emitter's: moves, borrows, borrow sources.
fn is_inference_error(e: &CompileError) -> bool {
    const EMITTER: [&str; 9] = [
        "Unsupported: set expression cannot produce an owned value",
        "Unsupported: let expression cannot produce an owned value",
        "Typing: use after move:",
        "Typing: move while borrowed:",
        "Typing: set while borrowed:",
        "Typing: bytes.set_u8 while borrowed:",
        "Typing: cannot infer borrow source",
        "Typing: BytesView must have a single borrow source",
        "Typing: bytes_view must have a single borrow source",
    ];
    !EMITTER.iter().any(|p| e.message.starts_with(p))
        && !e
            .message
            .contains("returns bytes_view borrowed from local owned buffer")
}

impl FnCk<'_, '_> {
    fn arity(&self, args: &[Expr], n: usize, form_msg: &str) -> Result<(), CompileError> {
        if args.len() != n {
            return Err(self.err("Parse", form_msg));
        }
        Ok(())
    }

    fn name_arg<'e>(&self, e: &'e Expr, form_msg: &str) -> Result<&'e str, CompileError> {
        match &e.kind {
            ExprKind::Ident(n) => Ok(n),
            _ => Err(self.err("Parse", form_msg)),
        }
    }

    /// An operand that must be i32 (`return` and other `Never` values are rejected,
    /// semantics R19).
    pub(super) fn i32_operand(&mut self, e: &Expr, msg: &str) -> Result<TExpr, CompileError> {
        let (t, _) = self.expr(e, Ctx::Value(Use::Borrow))?;
        if !matches!(t.ty, Ty::I32 | Ty::Any) {
            return Err(self.err("Typing", msg));
        }
        Ok(t)
    }

    /// Checks a core form; `Ok(None)` when `head` is not one.
    pub(super) fn form(
        &mut self,
        head: &str,
        args: &[Expr],
        ctx: Ctx,
    ) -> Result<Option<(TExpr, Src)>, CompileError> {
        let checked = match head {
            "begin" => self.begin(args, ctx)?,
            "let" => self.let_form(args, ctx)?,
            "set" | "set0" => self.set_form(head, args, ctx)?,
            "if" => self.if_form(args, ctx)?,
            "for" => self.for_form(args, ctx)?,
            "while" => self.while_form(args, ctx)?,
            "return" => self.return_form(args, ctx)?,
            "try" => {
                if args.len() != 1 {
                    return Err(self.err("Parse", "try expects 1 args"));
                }
                let (value, _) = self.expr(&args[0], Ctx::Value(Use::Move))?;
                let (kind, out) = match value.ty {
                    Ty::ResultI32 => ("result_i32", Ty::I32),
                    Ty::ResultBytes => ("result_bytes", Ty::Bytes),
                    _ => return Err(self.err("Typing", "try expects result_i32 or result_bytes")),
                };
                let wrap = match self.result {
                    Ty::ResultI32 if !self.is_solve => ErrWrap::ResI32,
                    Ty::ResultBytes if !self.is_solve => ErrWrap::ResBytes,
                    _ => {
                        return Err(self.err(
                            "Typing",
                            format!(
                            "try({kind}) requires function return type result_i32 or result_bytes"
                        ),
                        ))
                    }
                };
                let node = TKind::Try {
                    value: Box::new(value),
                    wrap,
                };
                (TExpr::new(node, out, true), Src::none())
            }
            "try_doc" => {
                if args.len() != 1 {
                    return Err(self.err("Parse", "try_doc expects 1 args"));
                }
                let (value, _) = self.expr(&args[0], Ctx::Value(Use::Move))?;
                if !matches!(value.ty, Ty::Bytes | Ty::Any) {
                    return Err(self.err("Typing", "try_doc expects bytes"));
                }
                if self.result != Ty::Bytes {
                    return Err(self.err("Typing", "try_doc requires function return type bytes"));
                }
                let node = TKind::TryDoc(Box::new(value));
                (TExpr::new(node, Ty::Bytes, true), Src::none())
            }
            "bytes.lit" | "bytes.view_lit" => {
                if args.len() != 1 {
                    return Err(self.err("Parse", format!("{head} expects 1 args")));
                }
                let ExprKind::Text(text) = &args[0].kind else {
                    return Err(self.err("Parse", format!("{head} expects a text string")));
                };
                let id = self.ck.intern_literal(text);
                if head == "bytes.lit" {
                    (
                        TExpr::new(TKind::BytesLit(id), Ty::Bytes, true),
                        Src::none(),
                    )
                } else {
                    (
                        TExpr::new(TKind::ViewLit(id), Ty::BytesView, true),
                        Src::none(),
                    )
                }
            }
            "&&" | "||" => {
                if args.len() != 2 {
                    return Err(self.err("Parse", format!("{head} expects 2 args")));
                }
                let msg = format!("{head} expects i32 args");
                let a = self.i32_operand(&args[0], &msg)?;
                // The right operand runs only sometimes: its moves merge like an `if`'s.
                let before = self.snapshot();
                let d0 = self.diverged;
                let b = self.i32_operand(&args[1], &msg)?;
                let after = self.snapshot();
                let db = self.diverged && !d0;
                self.merge_paths(&before, (&after, db), (&before, false))?;
                self.diverged = d0;
                let node = if head == "&&" {
                    TKind::And(Box::new(a), Box::new(b))
                } else {
                    TKind::Or(Box::new(a), Box::new(b))
                };
                (TExpr::new(node, Ty::I32, true), Src::none())
            }
            h => {
                let Some(op) = BinOp::from_head(h) else {
                    return Ok(None);
                };
                if args.len() != 2 {
                    return Err(self.err("Parse", format!("{h} expects 2 args")));
                }
                if matches!(op, BinOp::LtU | BinOp::GeU) && matches!(args[1].kind, ExprKind::Int(0))
                {
                    let shown = sexpr(&args[0]);
                    let msg = if op == BinOp::LtU {
                        format!("Typing: semantic error: `(<u {shown} 0)` is always false (unsigned comparison). Use a signed comparison like `(< {shown} 0)` when checking for negatives, or guard before decrementing.")
                    } else {
                        format!("Typing: semantic error: `(>=u {shown} 0)` is always true (unsigned comparison). Use a signed comparison like `(>= {shown} 0)` when checking for negatives, or remove the check.")
                    };
                    return Err(CompileError::new(msg));
                }
                let msg = format!("{h} expects i32 args");
                let a = self.i32_operand(&args[0], &msg)?;
                let b = self.i32_operand(&args[1], &msg)?;
                let node = TKind::Bin(op, Box::new(a), Box::new(b));
                (TExpr::new(node, Ty::I32, true), Src::none())
            }
        };
        Ok(Some(checked))
    }

    fn begin(&mut self, args: &[Expr], ctx: Ctx) -> Checked {
        if args.is_empty() {
            return Err(self.err("Parse", "(begin ...) requires at least 1 expression"));
        }
        self.push_scope();
        let last = args.len() - 1;
        let mut items = Vec::with_capacity(args.len());
        for a in &args[..last] {
            let (t, _) = self.expr(a, Ctx::Stmt)?;
            if t.ty == Ty::Never {
                self.diverged = true;
            }
            items.push(t);
        }
        let (t, src) = self.expr(&args[last], ctx)?;
        let ty = t.ty;
        items.push(t);
        let scope = self.pop_scope();
        let node = TKind::Begin { items, scope };
        Ok((
            TExpr::new(node, ty, crate::fuel::form_ticks(ctx.is_value())),
            src,
        ))
    }

    fn let_form(&mut self, args: &[Expr], ctx: Ctx) -> Checked {
        const FORM: &str = "let form: (let <name> <expr>)";
        self.arity(args, 2, FORM)?;
        let name = self.name_arg(&args[0], FORM)?.to_string();
        // `(let x <owned variable>)` as a statement moves the variable by name, without
        // evaluating an expression: no fuel, no pointer in errors (R21).
        let plain_owned = match &args[1].kind {
            ExprKind::Ident(n) if n != "input" && !ctx.is_value() => self
                .lookup(n)
                .filter(|&v| self.vars[v as usize].ty.is_owned()),
            _ => None,
        };
        let (value, src) = match plain_owned {
            Some(v) => self.var_use(v, &args[1].ptr, true, None, crate::fuel::LET_MOVE_TICKS)?,
            None => self.expr(&args[1], Ctx::Value(Use::Move))?,
        };
        if ctx.is_value() {
            if value.ty.is_owned() {
                let error = self.err(
                    "Unsupported",
                    "let expression cannot produce an owned value; use (begin (let ...) <var>)",
                );
                self.emission_error(error)?;
            }
            if value.ty == Ty::BytesView {
                return Err(self.err(
                    "Typing",
                    "cannot infer borrow source for bytes_view expression",
                ));
            }
        }
        if self.declared_here(&name) {
            return Err(self.err(
                "Typing",
                format!("duplicate let binding in same scope: {name:?}"),
            ));
        }
        let ty = match value.ty {
            Ty::Never => Ty::I32,
            t => t,
        };
        let var = self.declare(&name, ty, src.clone(), &args[1].ptr);
        let node = TKind::Let {
            var,
            value: Box::new(value),
        };
        Ok((
            TExpr::new(node, ty, crate::fuel::form_ticks(ctx.is_value())),
            src,
        ))
    }

    fn set_form(&mut self, head: &str, args: &[Expr], ctx: Ctx) -> Checked {
        let form = format!("{head} form: ({head} <name> <expr>)");
        self.arity(args, 2, &form)?;
        let name = self.name_arg(&args[0], &form)?.to_string();
        let Some(v) = self.lookup(&name) else {
            return Err(self.err("Typing", format!("set of unknown variable: {name:?}")));
        };
        if let Some((by, ptr)) = self.borrower_of(v) {
            // The idiom `(set b (bytes.set_u8 b i x))` on a borrowed `b` reports the
            // in-place write itself (subset §5: `bytes.set_u8 while borrowed`).
            if let ExprKind::List { head, args: inner } = &args[1].kind {
                if head == "bytes.set_u8"
                    && matches!(inner.first().map(|e| &e.kind), Some(ExprKind::Ident(n)) if *n == name)
                {
                    return Err(
                        self.err("Typing", format!("bytes.set_u8 while borrowed: {name:?}"))
                    );
                }
            }
            let by = by.unwrap_or_else(|| "<temporary>".to_string());
            return Err(self.err(
                "Typing",
                format!("set while borrowed: {name:?} borrowed_by={by:?} borrowed_ptr={ptr}"),
            ));
        }
        let (value, src) = self.expr(&args[1], Ctx::Value(Use::Move))?;
        let ty = self.vars[v as usize].ty;
        if !value.ty.fits(ty) {
            return Err(self.err(
                "Typing",
                format!("type mismatch in set for variable {name:?}"),
            ));
        }
        let zero = head == "set0";
        if ctx.is_value() && !zero {
            if ty.is_owned() {
                let error = self.err(
                    "Unsupported",
                    "set expression cannot produce an owned value; use (begin (set ...) <var>)",
                );
                self.emission_error(error)?;
            }
            if ty == Ty::BytesView {
                return Err(self.err(
                    "Typing",
                    "cannot infer borrow source for bytes_view expression",
                ));
            }
        }
        let var = &mut self.vars[v as usize];
        var.state = super::scope::MoveState::Live;
        if is_view_ty(ty) {
            var.src = src.clone();
            var.borrow_ptr = args[1].ptr.clone();
        }
        let node = TKind::Set {
            var: v,
            value: Box::new(value),
            zero,
        };
        let out = if zero { Ty::I32 } else { ty };
        Ok((
            TExpr::new(node, out, crate::fuel::form_ticks(ctx.is_value())),
            src,
        ))
    }

    fn if_form(&mut self, args: &[Expr], ctx: Ctx) -> Checked {
        self.arity(args, 3, "if form: (if <cond:i32> <then:any> <else:any>)")?;
        let cond = self.i32_operand(&args[0], "if condition must be i32")?;
        if matches!(ctx, Ctx::Stmt) {
            return self.if_branches(args, cond, ctx);
        }
        // The branch types must agree: they are inferred before the branches are emitted,
        // so the code generator's errors in the branches wait for that (R2, R4, R5).
        let outer = self.deferred.replace(Vec::new());
        let checked = self.if_branches(args, cond, ctx);
        let mut pending = std::mem::replace(&mut self.deferred, outer).unwrap_or_default();
        match checked {
            Err(e) if !pending.is_empty() && !is_inference_error(&e) => Err(pending.remove(0)),
            Err(e) => Err(e),
            Ok(done) => {
                if !pending.is_empty() {
                    match &mut self.deferred {
                        Some(outer) => outer.append(&mut pending),
                        None => return Err(pending.remove(0)),
                    }
                }
                Ok(done)
            }
        }
    }

    /// The branches of an `if` whose condition is checked.
    fn if_branches(&mut self, args: &[Expr], cond: TExpr, ctx: Ctx) -> Checked {
        // A statement `if`'s branches are evaluated as statements but typed as values (R2).
        let branch_ctx = match ctx {
            Ctx::Value(u) => Ctx::Value(u),
            Ctx::Stmt | Ctx::StmtTyped => Ctx::StmtTyped,
        };
        let before = self.snapshot();
        let d0 = self.diverged;
        self.push_scope();
        let (then, src_a) = self.expr(&args[1], branch_ctx)?;
        let then_scope = self.pop_scope();
        let after_a = self.snapshot();
        let da = self.diverged && !d0;
        self.restore(&before);
        self.diverged = d0;
        self.push_scope();
        let (els, src_b) = self.expr(&args[2], branch_ctx)?;
        let else_scope = self.pop_scope();
        let after_b = self.snapshot();
        let db = self.diverged && !d0;
        self.merge_paths(&before, (&after_a, da), (&after_b, db))?;
        self.diverged = d0 || (da && db);
        let ty = match ctx {
            Ctx::Value(_) | Ctx::StmtTyped => match unify(then.ty, els.ty) {
                Some(t) => t,
                None => {
                    return Err(self.err(
                        "Typing",
                        format!(
                            "if branches must have same type (then={:?}, else={:?}); if a branch is a statement assignment, use [\"set0\",name,expr] (yields i32) or end the branch with 0",
                            then.ty, els.ty
                        ),
                    ))
                }
            },
            Ctx::Stmt => unify(then.ty, els.ty).unwrap_or(Ty::I32),
        };
        let src = if ctx.is_value() && is_view_ty(ty) {
            match Src::merge(&src_a, &src_b) {
                Some(s) => s,
                None => {
                    return Err(self.err(
                        "Typing",
                        "bytes_view must have a single borrow source across branches",
                    ))
                }
            }
        } else {
            src_a.union(&src_b)
        };
        let node = TKind::If {
            cond: Box::new(cond),
            then: Box::new(then),
            els: Box::new(els),
            then_scope,
            else_scope,
        };
        Ok((
            TExpr::new(node, ty, crate::fuel::form_ticks(ctx.is_value())),
            src,
        ))
    }

    fn for_form(&mut self, args: &[Expr], ctx: Ctx) -> Checked {
        const FORM: &str = "for form: (for <i> <start:i32> <end:i32> <body:any>)";
        self.arity(args, 4, FORM)?;
        let name = self.name_arg(&args[0], FORM)?.to_string();
        let existing = self.lookup(&name);
        if let Some(v) = existing {
            if self.vars[v as usize].ty != Ty::I32 {
                return Err(self.err("Typing", format!("for variable must be i32: {name:?}")));
            }
        }
        // The bounds belong to the enclosing scope: a `let` there stays visible (R11).
        let start = self.i32_operand(&args[1], "for start must be i32")?;
        let end = self.i32_operand(&args[2], "for end must be i32")?;
        self.push_scope();
        let var = match existing {
            Some(v) => v,
            None => self.declare(&name, Ty::I32, Src::none(), ""),
        };
        let before = self.snapshot();
        let d0 = self.diverged;
        self.push_scope();
        let (body, _) = self.expr(&args[3], Ctx::Stmt)?;
        let body_scope = self.pop_scope();
        // Moves inside the body are allowed; later iterations see the empty value and
        // the variable counts as moved after the loop (R15). A body that always returns
        // leaves the state as it was.
        if self.diverged && !d0 {
            self.restore(&before);
        }
        self.diverged = d0;
        self.pop_scope();
        let node = TKind::For {
            var,
            start: Box::new(start),
            end: Box::new(end),
            body: Box::new(body),
            body_scope,
        };
        Ok((
            TExpr::new(node, Ty::I32, crate::fuel::form_ticks(ctx.is_value())),
            Src::none(),
        ))
    }

    fn while_form(&mut self, args: &[Expr], ctx: Ctx) -> Checked {
        self.arity(args, 2, "while form: (while <cond:i32> <body:any>)")?;
        // A `let` in the condition is local to the loop (R11).
        self.push_scope();
        let (cond, _) = self.expr(&args[0], Ctx::Value(Use::Borrow))?;
        if !matches!(cond.ty, Ty::I32 | Ty::Never | Ty::Any) {
            return Err(self.err("Typing", "while condition must be i32"));
        }
        let before = self.snapshot();
        let d0 = self.diverged;
        self.push_scope();
        let (body, _) = self.expr(&args[1], Ctx::Stmt)?;
        let body_scope = self.pop_scope();
        if self.diverged && !d0 {
            self.restore(&before);
        }
        self.diverged = d0;
        let cond_scope = self.pop_scope();
        let node = TKind::While {
            cond: Box::new(cond),
            body: Box::new(body),
            cond_scope,
            body_scope,
        };
        Ok((
            TExpr::new(node, Ty::I32, crate::fuel::form_ticks(ctx.is_value())),
            Src::none(),
        ))
    }

    fn return_form(&mut self, args: &[Expr], ctx: Ctx) -> Checked {
        self.arity(args, 1, "return form: (return <expr>)")?;
        let (value, src) = self.expr(&args[0], Ctx::Value(Use::Move))?;
        if !value.ty.fits(self.result) {
            let message = format!(
                "Typing: return expression must evaluate to {} (fn={})",
                self.result.ty_info(),
                self.fname
            );
            return Err(super::unify_error(
                message,
                value.ty,
                self.result,
                &args[0].ptr,
            ));
        }
        self.check_view_return(&src)?;
        self.diverged = true;
        let node = TKind::Return(Box::new(value));
        Ok((
            TExpr::new(node, Ty::Never, crate::fuel::form_ticks(ctx.is_value())),
            Src::none(),
        ))
    }
}
