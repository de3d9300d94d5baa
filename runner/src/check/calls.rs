//! Calls: builtin heads (via `sigs`), ext-fs/archive heads, std functions and user
//! functions, with module visibility (subset §3.4), argument passing rules (§5, §9) and
//! the by-name owner arguments of semantics R18/R21.

use super::scope::{is_view_ty, Src};
use super::sigs::{self, BuiltinSig, P};
use super::{Ctx, FnCk, Use};
use crate::ast::{Expr, ExprKind};
use crate::parse::CompileError;
use crate::std::{StdSig, NATIVE_MODULES};
use crate::tir::{Builtin, TExpr, TKind};
use crate::types::Ty;

/// What a call head resolves to.
enum Callee {
    User { key: (usize, usize) },
    Std(&'static StdSig),
}

type Checked = Result<(TExpr, Src), CompileError>;

/// Builtins that update their first argument in place: a plain-variable owner is
/// consumed at the call, after the other arguments are evaluated (semantics R18).
fn consumes_owner_at_call(id: Builtin) -> bool {
    use Builtin as B;
    matches!(
        id,
        B::BytesSetU8
            | B::VecPush
            | B::VecSet
            | B::VecExtendBytes
            | B::VecExtendBytesRange
            | B::VecExtendZeroes
            | B::VecReserveExact
            | B::VecClear
    )
}

impl FnCk<'_, '_> {
    pub(super) fn call(&mut self, head: &str, args: &[Expr], e: &Expr) -> Checked {
        let alias = match head {
            "std.os.process.join_capture_v1" => Some("os.process.join_capture_v1"),
            "std.os.process.join_exit_v1" => Some("os.process.join_exit_v1"),
            _ => None,
        };
        if let Some(sig) = sigs::builtin(alias.unwrap_or(head)) {
            return self.builtin_call(sig, args, e);
        }
        if sigs::EXT_FS_HEADS.contains(&head) || sigs::ARCHIVE_HEADS.contains(&head) {
            for a in args {
                self.expr(a, Ctx::Value(Use::Borrow))?;
            }
            let list = if sigs::EXT_FS_HEADS.contains(&head) {
                &mut self.ck.ext_fs
            } else {
                &mut self.ck.archive
            };
            if !list.iter().any(|h| h == head) {
                list.push(head.to_string());
            }
            return Ok((TExpr::new(TKind::Int(0), Ty::Any, true), Src::none()));
        }
        match self.resolve(head)? {
            Some(Callee::User { key }) => {
                let f = &self.ck.files[key.0].functions[key.1];
                let params: Vec<Ty> = f.params.iter().map(|p| p.ty).collect();
                let result = f.result;
                let (targs, src) = self.call_args(head, &params, args)?;
                let func = self.ck.call_target(key);
                let node = TKind::Call { func, args: targs };
                let src = if is_view_ty(result) { src } else { Src::none() };
                Ok((TExpr::new(node, result, true), src))
            }
            Some(Callee::Std(sig)) => {
                let (targs, src) = self.call_args(head, sig.params, args)?;
                let node = TKind::Std { sig, args: targs };
                let src = if is_view_ty(sig.result) {
                    src
                } else {
                    Src::none()
                };
                Ok((TExpr::new(node, sig.result, true), src))
            }
            None => Err(self.err("Unsupported", format!("unsupported head: {head:?}"))),
        }
    }

    /// Resolves a non-builtin head to a user or std function (subset §3.4).
    fn resolve(&mut self, head: &str) -> Result<Option<Callee>, CompileError> {
        let files = self.ck.files;
        let file = &files[self.file];
        if let Some(di) = file.functions.iter().position(|f| f.name == head) {
            return Ok(Some(Callee::User {
                key: (self.file, di),
            }));
        }
        // A function `a.b.f` belongs to module `a.b` (everything before the last dot).
        let module = match head.rfind('.') {
            Some(dot) if dot > 0 => head[..dot].to_string(),
            _ => return Ok(None),
        };
        if !self.ck.loaded.contains(&module) || module == file.module_id {
            return Ok(None);
        }
        if !file.imports.contains(&module) {
            return Err(CompileError::new(format!(
                "Parse: call to {head:?} requires (import {module}) in module {:?}",
                file.module_id
            )));
        }
        if let Some(fi) = files.iter().position(|f| f.module_id == module) {
            let target = &files[fi];
            if target.exports.iter().any(|n| n == head) {
                if let Some(di) = target.functions.iter().position(|f| f.name == head) {
                    return Ok(Some(Callee::User { key: (fi, di) }));
                }
            }
            return Err(CompileError::new(format!(
                "Parse: function {head:?} is not exported by module {module:?}"
            )));
        }
        if let Some(sig) = crate::std::lookup(head) {
            return Ok(Some(Callee::Std(sig)));
        }
        if NATIVE_MODULES.contains(&module.as_str()) {
            return Err(CompileError::new(format!(
                "Parse: function {head:?} is not exported by module {module:?}"
            )));
        }
        Ok(None)
    }

    /// Checks the arguments of a user/std call, left to right: owned parameters move
    /// their argument when it is evaluated, `bytes_view` parameters borrow `bytes` and
    /// `vec_u8` (free of fuel when the argument is a plain variable, R21). Returns the
    /// arguments and what a view result may borrow.
    fn call_args(
        &mut self,
        head: &str,
        params: &[Ty],
        args: &[Expr],
    ) -> Result<(Vec<TExpr>, Src), CompileError> {
        if args.len() != params.len() {
            return Err(self.err(
                "Parse",
                format!("call {head:?} expects {} args", params.len()),
            ));
        }
        let mut src = Src::none();
        let mut out = Vec::with_capacity(args.len());
        for (i, (a, &pty)) in args.iter().zip(params).enumerate() {
            let use_ = if pty.is_owned() {
                Use::Move
            } else {
                Use::Borrow
            };
            let (mut t, s) = self.expr(a, Ctx::Value(use_))?;
            let ok = if pty == Ty::BytesView {
                matches!(t.ty, Ty::BytesView | Ty::Bytes | Ty::VecU8 | Ty::Any)
            } else {
                t.ty == pty || t.ty == Ty::Any
            };
            if !ok {
                return Err(self.err("Typing", format!("call {head:?} arg {i} expects {pty:?}")));
            }
            if pty == Ty::BytesView && matches!(t.ty, Ty::Bytes | Ty::VecU8) {
                if matches!(t.kind, TKind::Var(_)) {
                    t.tick = !crate::fuel::view_arg_is_free();
                }
                t = TExpr::new(TKind::ToView(Box::new(t)), Ty::BytesView, false);
            }
            src = src.union(&s);
            out.push(t);
        }
        Ok((out, src))
    }

    /// A plain variable read by name as a builtin's owner argument.
    ///
    /// A `use after move` found here names the bad use (`ptr=`) only when the owner is
    /// borrowed (`vec_u8.len`, `result_bytes.err_code`, the owner of `bytes.view`, …): a
    /// consumed owner (`vec_u8.push`, `vec_u8.into_bytes`, `bytes.set_u8`, …) is taken by
    /// name and the compiler prints no pointer for it (semantics R9's recorded
    /// `(set buf (push buf 66))` text), as for `(let x <owned variable>)` (R15).
    fn owner_var(&mut self, a: &Expr, moves: bool) -> Result<Option<(TExpr, Src)>, CompileError> {
        let ExprKind::Ident(name) = &a.kind else {
            return Ok(None);
        };
        if name == "input" {
            return Ok(None);
        }
        let Some(v) = self.lookup(name) else {
            return Err(self.err("Typing", format!("unknown identifier: {name:?}")));
        };
        // Owner arguments read by name are free (R21, `crate::fuel::owner_arg_is_free`).
        let err_ptr = (!moves).then_some(a.ptr.as_str());
        self.var_use(v, &a.ptr, moves, err_ptr, false).map(Some)
    }

    fn builtin_call(&mut self, sig: &'static BuiltinSig, args: &[Expr], e: &Expr) -> Checked {
        use Builtin as B;
        if matches!(sig.id, B::ProcJoinCapture | B::ProcJoinExit) && !self.is_solve {
            return Err(self.err(
                "Unsupported",
                format!("{} is only allowed in solve or defasync", sig.name),
            ));
        }
        if args.len() != sig.params.len() {
            return Err(self.err(
                "Parse",
                format!("{} expects {} args", sig.name, sig.params.len()),
            ));
        }
        let ptr = if sig.ptr {
            Some(self.ck.intern_ptr(&e.ptr))
        } else {
            None
        };
        let done = |args: Vec<TExpr>, src: Src, owner_last: bool| {
            let node = TKind::Builtin {
                id: sig.id,
                args,
                ptr,
                owner_last,
            };
            (TExpr::new(node, sig.result, true), src)
        };

        // bytes.view / bytes.subview / vec_u8.as_view: the owner must be a variable.
        if matches!(sig.id, B::BytesView | B::BytesSubview | B::VecAsView) {
            let Some((owner, _)) = self.owner_var(&args[0], false)? else {
                if matches!(&args[0].kind, ExprKind::Ident(n) if n == "input") {
                    return Err(self.builtin_type_error(sig, 0));
                }
                return Err(self.err(
                    "Typing",
                    format!(
                        "{} requires an identifier owner (bind the value to a local with let first)",
                        sig.name
                    ),
                ));
            };
            if !sig.params[0].accepts(owner.ty) {
                return Err(self.builtin_type_error(sig, 0));
            }
            let TKind::Var(v) = owner.kind else {
                return Err(self.builtin_type_error(sig, 0));
            };
            let mut targs = vec![owner];
            for (i, a) in args.iter().enumerate().skip(1) {
                targs.push(self.builtin_arg(sig, i, a)?.0);
            }
            return Ok(done(targs, Src::of(v), false));
        }

        if sig.id == B::BytesSetU8 {
            if let ExprKind::Ident(name) = &args[0].kind {
                if let Some(v) = self.lookup(name) {
                    if self.borrower_of(v).is_some() {
                        return Err(
                            self.err("Typing", format!("bytes.set_u8 while borrowed: {name:?}"))
                        );
                    }
                }
            }
        }

        // option_bytes.unwrap_or(opt, var): the variable is not consumed but is emptied
        // at run time when the option is none (subset §8.5).
        if sig.id == B::OptBytesUnwrapOr {
            if let ExprKind::Ident(name) = &args[1].kind {
                if let Some(v) = self.lookup(name).filter(|_| name != "input") {
                    let (opt, _) = self.builtin_arg(sig, 0, &args[0])?;
                    let (default, _) = self.expr(&args[1], Ctx::Value(Use::Borrow))?;
                    if !P::BytesOwn.accepts(default.ty) {
                        return Err(self.builtin_type_error(sig, 1));
                    }
                    let node = TKind::UnwrapOrVar {
                        opt: Box::new(opt),
                        default: Box::new(default),
                        var: v,
                    };
                    return Ok((TExpr::new(node, Ty::Bytes, true), Src::none()));
                }
            }
        }

        let mut targs = Vec::with_capacity(args.len());
        let mut srcs = Vec::with_capacity(args.len());
        let mut owner_last = false;
        if crate::fuel::owner_arg_is_free(sig.id) {
            let moves = sig.params[0].moves();
            if consumes_owner_at_call(sig.id)
                && matches!(&args[0].kind, ExprKind::Ident(n) if n != "input")
            {
                // R18: the other arguments may still read the variable.
                let mut rest = Vec::with_capacity(args.len());
                for (i, a) in args.iter().enumerate().skip(1) {
                    rest.push(self.builtin_arg(sig, i, a)?);
                }
                let Some((owner, s)) = self.owner_var(&args[0], moves)? else {
                    return Err(self.builtin_type_error(sig, 0));
                };
                if !sig.params[0].accepts(owner.ty) {
                    return Err(self.builtin_type_error(sig, 0));
                }
                owner_last = true;
                targs.push(owner);
                srcs.push(s);
                for (t, s) in rest {
                    targs.push(t);
                    srcs.push(s);
                }
            } else if let Some((owner, s)) = self.owner_var(&args[0], moves)? {
                if !sig.params[0].accepts(owner.ty) {
                    return Err(self.builtin_type_error(sig, 0));
                }
                targs.push(owner);
                srcs.push(s);
            }
        }
        for (i, a) in args.iter().enumerate().skip(targs.len()) {
            let (t, s) = self.builtin_arg(sig, i, a)?;
            targs.push(t);
            srcs.push(s);
        }
        if sig.result == Ty::Never {
            self.diverged = true;
        }
        let src = match sig.id {
            B::ViewSlice | B::OptViewSome | B::ResViewOk => srcs[0].clone(),
            B::OptViewUnwrapOr | B::ResViewUnwrapOr => srcs[0].clone().union(&srcs[1]),
            _ => Src::none(),
        };
        Ok(done(targs, src, owner_last))
    }

    /// One builtin argument evaluated in order.
    fn builtin_arg(
        &mut self,
        sig: &'static BuiltinSig,
        i: usize,
        a: &Expr,
    ) -> Result<(TExpr, Src), CompileError> {
        let p = sig.params[i];
        let use_ = if p.moves() { Use::Move } else { Use::Borrow };
        let (mut t, s) = self.expr(a, Ctx::Value(use_))?;
        if !p.accepts(t.ty) {
            return Err(self.builtin_type_error(sig, i));
        }
        // A plain bytes variable where a view is expected is borrowed for free (R21).
        if p == P::BV && t.ty == Ty::Bytes && matches!(t.kind, TKind::Var(_)) {
            t.tick = !crate::fuel::view_arg_is_free();
        }
        Ok((t, s))
    }

    fn builtin_type_error(&self, sig: &BuiltinSig, i: usize) -> CompileError {
        if let Some(name) = sig.param_names.and_then(|names| names.get(i)) {
            return self.err(
                "Typing",
                format!("{} expects {} {name}", sig.name, sig.params[i].name()),
            );
        }
        let list: Vec<&str> = sig.params.iter().map(|p| p.name()).collect();
        if list.len() == 1 {
            self.err("Typing", format!("{} expects {}", sig.name, list[0]))
        } else {
            self.err(
                "Typing",
                format!("{} expects ({})", sig.name, list.join(", ")),
            )
        }
    }
}
