//! Steps 4 and 8: delete unused pure-i32 `let`s (semantics R14).
//!
//! Inside a `begin`, a non-final `(let x e)` is removed when `e` is built only from
//! integer literals, the i32 operators and variables known to be i32 (bound by such lets,
//! i32 parameters, `for` variables), and `x` is not mentioned later in that `begin`
//! before a `let` of the same name rebinds it. Items are examined from the last to the
//! first, so a chain of unused lets goes at once.

use std::collections::{HashMap, HashSet};

use super::{as_list, as_op};
use crate::ast::{Expr, ExprKind};
use crate::types::Ty;

/// Names in scope and whether each (its latest binding) is known to be i32.
struct Env {
    scopes: Vec<HashMap<String, bool>>,
}

impl Env {
    fn known(&self, name: &str) -> bool {
        self.scopes
            .iter()
            .rev()
            .find_map(|s| s.get(name))
            .is_some_and(|k| *k)
    }

    fn bind(&mut self, name: &str, known: bool) {
        if let Some(s) = self.scopes.last_mut() {
            s.insert(name.to_string(), known);
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

/// Adds every name mentioned in `e` (read, assigned, bound or looped over; the text of
/// `bytes.lit` is not a name) to `out`.
fn add_names(e: &Expr, out: &mut HashSet<String>) {
    match &e.kind {
        ExprKind::Ident(n) => {
            out.insert(n.clone());
        }
        ExprKind::Int(_) | ExprKind::Text(_) => {}
        ExprKind::List { head, args } => {
            if !matches!(head.as_str(), "bytes.lit" | "bytes.view_lit") {
                for a in args {
                    add_names(a, out);
                }
            }
        }
    }
}

/// The name and value of a top-level `(let name value)` item.
fn as_let(item: &Expr) -> Option<(&str, &Expr)> {
    match as_list(item) {
        Some(("let", [name, value])) => match &name.kind {
            ExprKind::Ident(n) => Some((n, value)),
            _ => None,
        },
        _ => None,
    }
}

/// Walks `e` in evaluation order, tracking scopes and known-i32 names (semantics R11).
fn walk(e: &mut Expr, env: &mut Env) {
    let ExprKind::List { head, args } = &mut e.kind else {
        return;
    };
    match head.as_str() {
        "bytes.lit" | "bytes.view_lit" => {}
        "begin" => {
            env.scopes.push(HashMap::new());
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
            // From the last item to the first, `later` holds the names mentioned after
            // the current item and before a top-level `let` rebinds them (a rebinding
            // let's own value counts); a deletable let whose name is not there goes, and
            // so do the mentions it made, so a chain of unused lets goes at once.
            let mut later: HashSet<String> = HashSet::new();
            let mut keep = vec![true; args.len()];
            for i in (0..args.len()).rev() {
                match as_let(&args[i]) {
                    Some((name, value)) => {
                        if deletable[i] && !later.contains(name) {
                            keep[i] = false;
                            continue;
                        }
                        later.remove(name);
                        add_names(value, &mut later);
                    }
                    None => add_names(&args[i], &mut later),
                }
            }
            if keep.contains(&false) {
                let mut flags = keep.into_iter();
                args.retain(|_| flags.next().unwrap_or(true));
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
                env.scopes.push(HashMap::new());
                walk(branch, env);
                env.scopes.pop();
            }
        }
        "for" if args.len() == 4 => {
            walk(&mut args[1], env);
            walk(&mut args[2], env);
            env.scopes.push(HashMap::new());
            if let ExprKind::Ident(n) = &args[0].kind {
                let n = n.clone();
                env.bind(&n, true);
            }
            env.scopes.push(HashMap::new());
            walk(&mut args[3], env);
            env.scopes.pop();
            env.scopes.pop();
        }
        "while" if args.len() == 2 => {
            env.scopes.push(HashMap::new());
            walk(&mut args[0], env);
            env.scopes.push(HashMap::new());
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
