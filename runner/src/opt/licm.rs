//! Step 7: loop-invariant `bytes.len` (semantics R21 step 7).
//!
//! `(bytes.len x)` used twice or more in a `for` body, with `x` neither assigned nor
//! bound in the body, is computed once before the loop: the loop becomes
//! `(begin (let __x07_licmN (bytes.len x)) (for … body'))`. Inner loops go first.

use super::{as_list, assigns_name, ident, list};
use crate::ast::{Expr, ExprKind};

pub(super) fn run(e: &mut Expr, counter: &mut u32) {
    if let ExprKind::List { head, args } = &mut e.kind {
        if matches!(head.as_str(), "bytes.lit" | "bytes.view_lit") {
            return;
        }
        for a in args.iter_mut() {
            run(a, counter);
        }
    }
    if let Some(("for", args)) = as_list(e) {
        if args.len() == 4 {
            hoist(e, counter);
        }
    }
}

/// The variable of a `(bytes.len x)` node.
fn len_of_var(e: &Expr) -> Option<&str> {
    match as_list(e) {
        Some(("bytes.len", [arg])) => match &arg.kind {
            ExprKind::Ident(n) => Some(n),
            _ => None,
        },
        _ => None,
    }
}

fn count_uses(e: &Expr, out: &mut Vec<(String, usize)>) {
    if let Some(x) = len_of_var(e) {
        match out.iter_mut().find(|(n, _)| n == x) {
            Some((_, c)) => *c += 1,
            None => out.push((x.to_string(), 1)),
        }
        return;
    }
    if let ExprKind::List { head, args } = &e.kind {
        if matches!(head.as_str(), "bytes.lit" | "bytes.view_lit") {
            return;
        }
        for a in args {
            count_uses(a, out);
        }
    }
}

fn replace_uses(e: &mut Expr, x: &str, name: &str) {
    if len_of_var(e) == Some(x) {
        *e = ident(name, &e.ptr);
        return;
    }
    if let ExprKind::List { head, args } = &mut e.kind {
        if matches!(head.as_str(), "bytes.lit" | "bytes.view_lit") {
            return;
        }
        for a in args.iter_mut() {
            replace_uses(a, x, name);
        }
    }
}

fn hoist(e: &mut Expr, counter: &mut u32) {
    let Some((_, args)) = as_list(e) else {
        return;
    };
    let body = &args[3];
    let mut uses = Vec::new();
    count_uses(body, &mut uses);
    let hoisted: Vec<String> = uses
        .into_iter()
        .filter(|(x, c)| *c >= 2 && !assigns_name(body, x, true))
        .map(|(x, _)| x)
        .collect();
    if hoisted.is_empty() {
        return;
    }
    let ptr = e.ptr.clone();
    let mut lets = Vec::new();
    let mut lp = e.clone();
    for x in hoisted {
        let name = format!("__x07_licm{counter}");
        *counter += 1;
        if let ExprKind::List { args, .. } = &mut lp.kind {
            replace_uses(&mut args[3], &x, &name);
        }
        let len = list("bytes.len", vec![ident(&x, &ptr)], &ptr);
        lets.push(list("let", vec![ident(&name, &ptr), len], &ptr));
    }
    lets.push(lp);
    *e = list("begin", lets, &ptr);
}
