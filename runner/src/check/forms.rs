//! Core forms (subset §6), i32 operators (§7), literals and the propagation forms (§8.6).

use super::{FnCx, Info, Mode, MoveState};
use crate::ast::{Expr, ExprKind};
use crate::eval::code::{BinOp, ErrWrap, Op};
use crate::parse::CompileError;
use crate::types::Ty;

/// Value of a pure i32 expression of literals (the optimizer's constant folding).
fn const_fold(e: &Expr) -> Option<i32> {
    match &e.kind {
        ExprKind::Int(v) => Some(*v),
        ExprKind::List { head, args } if args.len() == 2 => {
            let a = const_fold(&args[0])?;
            let b = const_fold(&args[1])?;
            match head.as_str() {
                "&&" => Some((a != 0 && b != 0) as i32),
                "||" => Some((a != 0 || b != 0) as i32),
                h => BinOp::from_head(h).map(|op| op.apply(a, b)),
            }
        }
        _ => None,
    }
}

/// Renders an expression as an s-expression, as the compiler quotes operands.
fn sexpr(e: &Expr) -> String {
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

/// Whether `body` assigns `name` with `set`/`set0` or loops over it with `for`.
fn assigns(body: &Expr, name: &str) -> bool {
    let ExprKind::List { head, args } = &body.kind else {
        return false;
    };
    if matches!(head.as_str(), "set" | "set0" | "for") {
        if let Some(Expr {
            kind: ExprKind::Ident(n),
            ..
        }) = args.first()
        {
            if n == name {
                return true;
            }
        }
    }
    args.iter().any(|a| assigns(a, name))
}

impl FnCx<'_> {
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

    fn expect_i32(&mut self, e: &Expr, msg: &str) -> Result<(), CompileError> {
        let info = self.expr(e, Mode::Borrow)?;
        if !info.ty.fits(Ty::I32) {
            return Err(self.err("Typing", msg));
        }
        Ok(())
    }

    /// Lowers a core form; `Ok(None)` when `head` is not one.
    pub(super) fn form(
        &mut self,
        head: &str,
        args: &[Expr],
        e: &Expr,
        mode: Mode,
    ) -> Result<Option<Info>, CompileError> {
        let info = match head {
            "begin" => self.begin(args, mode)?,
            "let" => self.let_form(args, mode)?,
            "set" | "set0" => self.set_form(head, args, mode)?,
            "if" => self.if_form(args, mode)?,
            "for" => self.for_form(args)?,
            "while" => self.while_form(args)?,
            "return" => {
                self.arity(args, 1, "return form: (return <expr>)")?;
                let info = self.expr(&args[0], Mode::Move)?;
                if !info.ty.fits(self.result) {
                    let message = format!(
                        "Typing: return expression must evaluate to {} (fn={})",
                        self.result.ty_info(),
                        self.fname
                    );
                    return Err(super::unify_error(
                        message,
                        info.ty,
                        self.result,
                        &args[0].ptr,
                    ));
                }
                self.check_view_return(&info.owners)?;
                self.code.push(Op::Return);
                self.diverged = true;
                Info::of(Ty::Never)
            }
            "try" => {
                if args.len() != 1 {
                    return Err(self.err("Parse", "try expects 1 args"));
                }
                let info = self.expr(&args[0], Mode::Move)?;
                let (kind, out) = match info.ty {
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
                self.code.push(Op::Try(wrap));
                Info::of(out)
            }
            "try_doc" => {
                if args.len() != 1 {
                    return Err(self.err("Parse", "try_doc expects 1 args"));
                }
                let info = self.expr(&args[0], Mode::Move)?;
                if !info.ty.fits(Ty::Bytes) {
                    return Err(self.err("Typing", "try_doc expects bytes"));
                }
                if self.result != Ty::Bytes {
                    return Err(self.err("Typing", "try_doc requires function return type bytes"));
                }
                self.code.push(Op::TryDoc);
                Info::of(Ty::Bytes)
            }
            "bytes.lit" | "bytes.view_lit" => {
                if args.len() != 1 {
                    return Err(self.err("Parse", format!("{head} expects 1 args")));
                }
                let ExprKind::Text(text) = &args[0].kind else {
                    return Err(self.err("Parse", format!("{head} expects a text string")));
                };
                self.ck.literals.push(text.clone());
                let idx = (self.ck.literals.len() - 1) as u32;
                if head == "bytes.lit" {
                    self.code.push(Op::BytesLit(idx));
                    Info::of(Ty::Bytes)
                } else {
                    self.code.push(Op::ViewLit(idx));
                    Info::of(Ty::BytesView)
                }
            }
            "&&" | "||" => {
                if args.len() != 2 {
                    return Err(self.err("Parse", format!("{head} expects 2 args")));
                }
                let msg = format!("{head} expects i32 args");
                self.expect_i32(&args[0], &msg)?;
                let j1 = self.code.len();
                self.code.push(Op::Jump(0));
                let s0 = self.state.clone();
                self.expect_i32(&args[1], &msg)?;
                self.state = Self::merge(&s0, &self.state);
                self.code.push(Op::ToBool);
                let j2 = self.code.len();
                self.code.push(Op::Jump(0));
                let short = self.code.len() as u32;
                self.code.push(Op::I32((head == "||") as i32));
                let end = self.code.len() as u32;
                self.code[j1] = if head == "&&" {
                    Op::JumpIfZero(short)
                } else {
                    Op::JumpIfNonZero(short)
                };
                self.code[j2] = Op::Jump(end);
                Info::of(Ty::I32)
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
                self.expect_i32(&args[0], &msg)?;
                self.expect_i32(&args[1], &msg)?;
                self.code.push(Op::Bin(op));
                Info::of(Ty::I32)
            }
        };
        let _ = e;
        Ok(Some(info))
    }

    fn begin(&mut self, args: &[Expr], mode: Mode) -> Result<Info, CompileError> {
        if args.is_empty() {
            return Err(self.err("Parse", "(begin ...) requires at least 1 expression"));
        }
        self.push_scope();
        let last = args.len() - 1;
        for a in &args[..last] {
            self.expr(a, Mode::Discard)?;
            self.code.push(Op::Pop);
        }
        let info = self.expr(&args[last], mode)?;
        self.pop_scope();
        Ok(info)
    }

    fn let_form(&mut self, args: &[Expr], mode: Mode) -> Result<Info, CompileError> {
        const FORM: &str = "let form: (let <name> <expr>)";
        self.arity(args, 2, FORM)?;
        let name = self.name_arg(&args[0], FORM)?.to_string();
        let info = self.expr(&args[1], Mode::Move)?;
        let dup = self
            .scopes
            .last()
            .is_some_and(|s| s.iter().any(|&v| self.vars[v].name == name));
        if dup {
            return Err(self.err(
                "Typing",
                format!("duplicate let binding in same scope: {name:?}"),
            ));
        }
        if mode != Mode::Discard && matches!(info.ty, Ty::Bytes | Ty::VecU8) {
            return Err(self.err(
                "Unsupported",
                "let expression cannot produce an owned value; use (begin (let ...) <var>)",
            ));
        }
        let ty = if info.ty == Ty::Never {
            Ty::I32
        } else {
            info.ty
        };
        let v = self.declare(&name, ty, info.owners.clone(), args[1].ptr.clone());
        let slot = self.vars[v].slot;
        if mode == Mode::Discard {
            self.code.push(Op::Store(slot));
            self.code.push(Op::I32(0));
        } else {
            self.code.push(Op::Dup);
            self.code.push(Op::Store(slot));
        }
        Ok(Info {
            ty,
            owners: info.owners,
        })
    }

    fn set_form(&mut self, head: &str, args: &[Expr], mode: Mode) -> Result<Info, CompileError> {
        let form = format!("{head} form: ({head} <name> <expr>)");
        self.arity(args, 2, &form)?;
        let name = self.name_arg(&args[0], &form)?.to_string();
        let Some(v) = self.lookup(&name) else {
            return Err(self.err("Typing", format!("set of unknown variable: {name:?}")));
        };
        if let Some(b) = self.borrower_of(v) {
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
            return Err(self.err(
                "Typing",
                format!(
                    "set while borrowed: {name:?} borrowed_by={:?} borrowed_ptr={}",
                    self.vars[b].name, self.vars[b].borrow_ptr
                ),
            ));
        }
        let info = self.expr(&args[1], Mode::Move)?;
        let (ty, slot) = (self.vars[v].ty, self.vars[v].slot);
        if !info.ty.fits(ty) {
            return Err(self.err(
                "Typing",
                format!("type mismatch in set for variable {name:?}"),
            ));
        }
        if matches!(
            ty,
            Ty::BytesView | Ty::OptionBytesView | Ty::ResultBytesView
        ) {
            self.vars[v].owners = info.owners.clone();
            self.vars[v].borrow_ptr = args[1].ptr.clone();
        }
        self.state[v] = MoveState::Live;
        if head == "set0" {
            self.code.push(Op::Store(slot));
            self.code.push(Op::I32(0));
            return Ok(Info::of(Ty::I32));
        }
        if mode == Mode::Discard {
            self.code.push(Op::Store(slot));
            self.code.push(Op::I32(0));
        } else {
            self.code.push(Op::Dup);
            self.code.push(Op::Store(slot));
        }
        Ok(Info {
            ty,
            owners: info.owners,
        })
    }

    fn if_form(&mut self, args: &[Expr], mode: Mode) -> Result<Info, CompileError> {
        self.arity(args, 3, "if form: (if <cond:i32> <then:any> <else:any>)")?;
        self.expect_i32(&args[0], "if condition must be i32")?;
        let jelse = self.code.len();
        self.code.push(Op::JumpIfZero(0));
        let (s0, d0) = (self.state.clone(), self.diverged);
        self.push_scope();
        let then = self.expr(&args[1], mode)?;
        self.pop_scope();
        let (s1, d1) = (std::mem::replace(&mut self.state, s0), self.diverged);
        self.diverged = d0;
        let jend = self.code.len();
        self.code.push(Op::Jump(0));
        self.code[jelse] = Op::JumpIfZero(self.code.len() as u32);
        self.push_scope();
        let other = self.expr(&args[2], mode)?;
        self.pop_scope();
        let (s2, d2) = (self.state.clone(), self.diverged);
        self.code[jend] = Op::Jump(self.code.len() as u32);
        self.state = match (d1, d2) {
            (true, false) => s2,
            (false, true) | (true, true) => s1,
            (false, false) => Self::merge(&s1, &s2),
        };
        self.diverged = d0 || (d1 && d2);
        let ty = match (then.ty, other.ty) {
            (Ty::Never, t) | (t, Ty::Never) => t,
            (Ty::Any, t) | (t, Ty::Any) => t,
            (a, b) if a == b => a,
            (a, b) => {
                return Err(self.err(
                    "Typing",
                    format!("if branches must have same type (then={a:?}, else={b:?})"),
                ))
            }
        };
        let mut owners = then.owners;
        owners.extend(other.owners);
        Ok(Info { ty, owners })
    }

    /// Checks a loop body's effect on outer variables: a move that would repeat is an error.
    fn check_loop_moves(&self, before: &[MoveState]) -> Result<(), CompileError> {
        if self.diverged {
            return Ok(());
        }
        for (i, s) in before.iter().enumerate() {
            if *s == MoveState::Live {
                if let MoveState::Moved(p) = &self.state[i] {
                    let at = p.clone().unwrap_or_else(|| "<unknown>".to_string());
                    return Err(self.use_after_move(&self.vars[i].name, p, &at));
                }
            }
        }
        Ok(())
    }

    fn for_form(&mut self, args: &[Expr]) -> Result<Info, CompileError> {
        const FORM: &str = "for form: (for <i> <start:i32> <end:i32> <body:any>)";
        self.arity(args, 4, FORM)?;
        let name = self.name_arg(&args[0], FORM)?.to_string();
        self.push_scope();
        let existing = self.lookup(&name);
        let var = match existing {
            Some(v) => {
                if self.vars[v].ty != Ty::I32 {
                    return Err(self.err("Typing", format!("for variable must be i32: {name:?}")));
                }
                v
            }
            None => self.declare(&name, Ty::I32, Vec::new(), String::new()),
        };
        let slot = self.vars[var].slot;
        self.expect_i32(&args[1], "for start must be i32")?;
        self.code.push(Op::Store(slot));
        self.expect_i32(&args[2], "for end must be i32")?;
        let end_slot = self.new_slot();
        self.code.push(Op::Store(end_slot));
        let top = self.code.len() as u32;
        self.code.push(Op::Load(slot));
        self.code.push(Op::Load(end_slot));
        self.code.push(Op::Bin(BinOp::LtU));
        let jexit = self.code.len();
        self.code.push(Op::JumpIfZero(0));
        let (s0, d0) = (self.state.clone(), self.diverged);
        self.push_scope();
        self.expr(&args[3], Mode::Discard)?;
        self.code.push(Op::Pop);
        self.pop_scope();
        self.check_loop_moves(&s0)?;
        self.state = Self::merge(&s0, &self.state);
        self.diverged = d0;
        self.code.push(Op::Load(slot));
        self.code.push(Op::I32(1));
        self.code.push(Op::Bin(BinOp::Add));
        self.code.push(Op::Store(slot));
        self.code.push(Op::Jump(top));
        self.code[jexit] = Op::JumpIfZero(self.code.len() as u32);
        // The real compiler unrolls small literal loops; a reused variable then ends at end-1.
        if existing.is_some() {
            if let (Some(start), Some(end)) = (const_fold(&args[1]), const_fold(&args[2])) {
                let span = (end as u32).saturating_sub(start as u32);
                if span <= 8 && span > 0 && !assigns(&args[3], &name) {
                    self.code.push(Op::I32(end.wrapping_sub(1)));
                    self.code.push(Op::Store(slot));
                }
            }
        }
        self.pop_scope();
        self.code.push(Op::I32(0));
        Ok(Info::of(Ty::I32))
    }

    fn while_form(&mut self, args: &[Expr]) -> Result<Info, CompileError> {
        self.arity(args, 2, "while form: (while <cond:i32> <body:any>)")?;
        let (s0, d0) = (self.state.clone(), self.diverged);
        let top = self.code.len() as u32;
        self.expect_i32(&args[0], "while condition must be i32")?;
        let jexit = self.code.len();
        self.code.push(Op::JumpIfZero(0));
        self.push_scope();
        self.expr(&args[1], Mode::Discard)?;
        self.code.push(Op::Pop);
        self.pop_scope();
        self.check_loop_moves(&s0)?;
        self.state = Self::merge(&s0, &self.state);
        self.diverged = d0;
        self.code.push(Op::Jump(top));
        self.code[jexit] = Op::JumpIfZero(self.code.len() as u32);
        self.code.push(Op::I32(0));
        Ok(Info::of(Ty::I32))
    }
}
