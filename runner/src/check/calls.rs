//! Calls: builtin heads (via `sigs`), ext-fs/archive heads, std functions and user
//! functions, with module visibility (subset §3.4) and argument passing rules (§5, §9).

use super::sigs::{self, BuiltinSig, P};
use super::{FnCx, Info, Mode};
use crate::ast::{Expr, ExprKind};
use crate::eval::code::{Builtin, Op, NO_PTR};
use crate::parse::CompileError;
use crate::std::{StdImpl, StdSig, NATIVE_MODULES};
use crate::types::Ty;

/// What a call head resolves to.
enum Callee {
    User { key: (usize, usize) },
    Std(&'static StdSig),
}

fn is_view_ty(ty: Ty) -> bool {
    matches!(
        ty,
        Ty::BytesView | Ty::OptionBytesView | Ty::ResultBytesView
    )
}

impl FnCx<'_> {
    pub(super) fn call(
        &mut self,
        head: &str,
        args: &[Expr],
        e: &Expr,
        _mode: Mode,
    ) -> Result<Info, CompileError> {
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
                self.expr(a, Mode::Borrow)?;
            }
            self.code.push(Op::I32(0));
            let list = if sigs::EXT_FS_HEADS.contains(&head) {
                &mut self.ck.ext_fs
            } else {
                &mut self.ck.archive
            };
            if !list.iter().any(|h| h == head) {
                list.push(head.to_string());
            }
            return Ok(Info::of(Ty::Any));
        }
        match self.resolve(head)? {
            Some(Callee::User { key }) => {
                let f = &self.ck.files[key.0].functions[key.1];
                let params: Vec<Ty> = f.params.iter().map(|p| p.ty).collect();
                let result = f.result;
                let owners = self.call_args(head, &params, args)?;
                let slot = self.ck.fn_slot(key);
                self.code.push(Op::Call(slot));
                Ok(self.result_info(result, owners))
            }
            Some(Callee::Std(sig)) => {
                let owners = self.call_args(head, sig.params, args)?;
                match sig.imp {
                    StdImpl::Builtin(id, ptr) => {
                        let ptr = match ptr {
                            Some(p) => self.ck.intern_ptr(p),
                            None => NO_PTR,
                        };
                        self.code.push(Op::Builtin {
                            id,
                            argc: args.len() as u8,
                            ptr,
                        });
                    }
                    StdImpl::Native(id) => self.code.push(Op::Std {
                        id,
                        argc: args.len() as u8,
                    }),
                }
                let ty = if matches!(sig.imp, StdImpl::Builtin(Builtin::ProcessExit, _)) {
                    Ty::I32
                } else {
                    sig.result
                };
                Ok(self.result_info(ty, owners))
            }
            None => Err(self.err("Unsupported", format!("unsupported head: {head:?}"))),
        }
    }

    fn result_info(&self, ty: Ty, owners: Vec<usize>) -> Info {
        if is_view_ty(ty) {
            Info { ty, owners }
        } else {
            Info::of(ty)
        }
    }

    /// Resolves a non-builtin head to a user or std function (subset §3.4).
    fn resolve(&mut self, head: &str) -> Result<Option<Callee>, CompileError> {
        let file = &self.ck.files[self.file];
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
        if !self.ck.loaded.contains(&module) {
            return Ok(None);
        }
        if module == file.module_id {
            return Ok(None);
        }
        if !file.imports.contains(&module) && file.module_id != module {
            return Err(CompileError::new(format!(
                "Parse: call to {head:?} requires (import {module}) in module {:?}",
                file.module_id
            )));
        }
        if let Some(fi) = self.ck.files.iter().position(|f| f.module_id == module) {
            let target = &self.ck.files[fi];
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
            let owner = &head[..head.rfind('.').unwrap_or(0)];
            if owner == module {
                return Ok(Some(Callee::Std(sig)));
            }
        }
        if NATIVE_MODULES.contains(&module.as_str()) {
            return Err(CompileError::new(format!(
                "Parse: function {head:?} is not exported by module {module:?}"
            )));
        }
        Ok(None)
    }

    /// Checks and lowers the arguments of a user/std call; returns the borrow owners of
    /// view arguments (a view result borrows from them).
    fn call_args(
        &mut self,
        head: &str,
        params: &[Ty],
        args: &[Expr],
    ) -> Result<Vec<usize>, CompileError> {
        if args.len() != params.len() {
            return Err(self.err(
                "Parse",
                format!("call {head:?} expects {} args", params.len()),
            ));
        }
        let mut owners = Vec::new();
        for (i, (a, &pty)) in args.iter().zip(params).enumerate() {
            let mode = if pty.is_owned() {
                Mode::Move
            } else {
                Mode::Borrow
            };
            let info = self.expr(a, mode)?;
            let ok = if pty == Ty::BytesView {
                matches!(
                    info.ty,
                    Ty::BytesView | Ty::Bytes | Ty::VecU8 | Ty::Never | Ty::Any
                )
            } else {
                info.ty.fits(pty)
            };
            if !ok {
                return Err(self.err("Typing", format!("call {head:?} arg {i} expects {pty:?}")));
            }
            if pty == Ty::BytesView && matches!(info.ty, Ty::Bytes | Ty::VecU8) {
                self.code.push(Op::ToView);
            }
            owners.extend(info.owners);
        }
        Ok(owners)
    }

    fn builtin_call(
        &mut self,
        sig: &'static BuiltinSig,
        args: &[Expr],
        e: &Expr,
    ) -> Result<Info, CompileError> {
        if matches!(sig.id, Builtin::ProcJoinCapture | Builtin::ProcJoinExit) && !self.is_solve {
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
        let takes_owner = matches!(
            sig.id,
            Builtin::BytesView | Builtin::BytesSubview | Builtin::VecAsView
        );
        let mut owners = Vec::new();
        if takes_owner {
            let ExprKind::Ident(name) = &args[0].kind else {
                return Err(self.err(
                    "Typing",
                    format!(
                        "{} requires an identifier owner (bind the value to a local with let first)",
                        sig.name
                    ),
                ));
            };
            if let Some(v) = self.lookup(name) {
                owners.push(v);
            }
        }
        if sig.id == Builtin::BytesSetU8 {
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
        if sig.id == Builtin::OptBytesUnwrapOr {
            if let ExprKind::Ident(name) = &args[1].kind {
                if let Some(v) = self.lookup(name) {
                    self.builtin_arg(sig, 0, &args[0])?;
                    let info = self.expr(&args[1], Mode::Borrow)?;
                    if !P::BytesOwn.accepts(info.ty) {
                        return Err(self.builtin_type_error(sig, 1));
                    }
                    self.code.push(Op::OptBytesUnwrapOrVar(self.vars[v].slot));
                    return Ok(Info::of(Ty::Bytes));
                }
            }
        }
        for (i, a) in args.iter().enumerate() {
            let arg_owners = self.builtin_arg(sig, i, a)?;
            if !takes_owner {
                owners.extend(arg_owners);
            }
        }
        let ptr = if sig.ptr {
            self.ck.intern_ptr(&e.ptr)
        } else {
            NO_PTR
        };
        self.code.push(Op::Builtin {
            id: sig.id,
            argc: args.len() as u8,
            ptr,
        });
        if sig.result == Ty::Never {
            self.diverged = true;
        }
        Ok(self.result_info(sig.result, owners))
    }

    fn builtin_arg(
        &mut self,
        sig: &'static BuiltinSig,
        i: usize,
        a: &Expr,
    ) -> Result<Vec<usize>, CompileError> {
        let p = sig.params[i];
        let mode = if p.moves() { Mode::Move } else { Mode::Borrow };
        let info = self.expr(a, mode)?;
        if !p.accepts(info.ty) {
            return Err(self.builtin_type_error(sig, i));
        }
        Ok(info.owners)
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
