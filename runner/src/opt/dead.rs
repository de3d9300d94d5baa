//! Steps 4 and 8: delete unused pure-i32 `let`s (semantics R14).
//!
//! Inside a `begin`, a non-final `(let x e)` is removed when `e` is built only from
//! integer literals, the i32 operators and variables known to be i32 (bound by such lets,
//! i32 parameters, `for` variables), and `x` is not mentioned later in that `begin`
//! before a `let` of the same name rebinds it. Items are examined from the last to the
//! first, so a chain of unused lets goes at once.

use super::{as_list, as_op, mentions};
use crate::ast::{Expr, ExprKind};
use crate::types::Ty;

/// Names in scope and whether each is known to be i32.
struct Env {
    scopes: Vec<Vec<(String, bool)>>,
}

impl Env {
    fn known(&self, name: &str) -> bool {
        self.scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|(n, _)| n == name)
            .is_some_and(|(_, k)| *k)
    }

    fn bind(&mut self, name: &str, known: bool) {
        if let Some(s) = self.scopes.last_mut() {
            s.push((name.to_string(), known));
        }
    }

    /// Whether `e` is a pure i32 expression over known-i32 variables.
    fn pure_known(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Int(_) => true,
            ExprKind::Ident(n) => n != "input" && self.known(n),
            ExprKind::Text(_) => false,
            ExprKind::List { .. } => match as_op(e) {
                Some((_, a, b)) => self.pure_known(a) && self.pure_known(b),
                None => false,
            },
        }
    }
}

pub(super) fn run(body: &mut Expr, params: &[(String, Ty)]) {
    let mut env = Env {
        scopes: vec![params
            .iter()
            .map(|(n, t)| (n.clone(), *t == Ty::I32))
            .collect()],
    };
    walk(body, &mut env);
}

/// Whether `name` is mentioned in `items` before a top-level `let` rebinds it.
fn used_later(items: &[Expr], name: &str) -> bool {
    for item in items {
        if let Some(("let", args)) = as_list(item) {
            if args.len() == 2 && matches!(&args[0].kind, ExprKind::Ident(n) if n == name) {
                return mentions(&args[1], name);
            }
        }
        if mentions(item, name) {
            return true;
        }
    }
    false
}

/// Walks `e` in evaluation order, tracking scopes and known-i32 names (semantics R11).
fn walk(e: &mut Expr, env: &mut Env) {
    let ExprKind::List { head, args } = &mut e.kind else {
        return;
    };
    match head.as_str() {
        "bytes.lit" | "bytes.view_lit" => {}
        "begin" => {
            env.scopes.push(Vec::new());
            let mut deletable = vec![false; args.len()];
            let last = args.len().saturating_sub(1);
            for (i, item) in args.iter_mut().enumerate() {
                if i < last {
                    if let Some(("let", la)) = as_list(item) {
                        if la.len() == 2
                            && matches!(la[0].kind, ExprKind::Ident(_))
                            && env.pure_known(&la[1])
                        {
                            deletable[i] = true;
                        }
                    }
                }
                walk(item, env);
            }
            env.scopes.pop();
            let mut i = last;
            while i > 0 {
                i -= 1;
                if !deletable[i] {
                    continue;
                }
                let name = match as_list(&args[i]) {
                    Some((_, la)) => match &la[0].kind {
                        ExprKind::Ident(n) => n.clone(),
                        _ => continue,
                    },
                    None => continue,
                };
                if !used_later(&args[i + 1..], &name) {
                    args.remove(i);
                }
            }
        }
        "let" if args.len() == 2 => {
            walk(&mut args[1], env);
            if let ExprKind::Ident(n) = &args[0].kind {
                let known = env.pure_known(&args[1]);
                let n = n.clone();
                env.bind(&n, known);
            }
        }
        "if" if args.len() == 3 => {
            walk(&mut args[0], env);
            for branch in &mut args[1..] {
                env.scopes.push(Vec::new());
                walk(branch, env);
                env.scopes.pop();
            }
        }
        "for" if args.len() == 4 => {
            walk(&mut args[1], env);
            walk(&mut args[2], env);
            env.scopes.push(Vec::new());
            if let ExprKind::Ident(n) = &args[0].kind {
                let n = n.clone();
                env.bind(&n, true);
            }
            env.scopes.push(Vec::new());
            walk(&mut args[3], env);
            env.scopes.pop();
            env.scopes.pop();
        }
        "while" if args.len() == 2 => {
            env.scopes.push(Vec::new());
            walk(&mut args[0], env);
            env.scopes.push(Vec::new());
            walk(&mut args[1], env);
            env.scopes.pop();
            env.scopes.pop();
        }
        _ => {
            for a in args.iter_mut() {
                walk(a, env);
            }
        }
    }
}
