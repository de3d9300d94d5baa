//! Step 6: common subexpressions (semantics R21 step 6).
//!
//! Inside one maximal pure i32 expression (an operator tree of literals, identifiers and
//! the 20 operators whose parent is not such an operator), every operator subexpression
//! of at least 3 nodes that occurs twice or more is bound to a `__x07_cseN` let, in order
//! of first occurrence (post-order), each let keeping its original expression. The
//! expression itself has its occurrences replaced, largest first, and becomes
//! `(begin (let __x07_cse0 s0) … e')`. The worked example of semantics R21
//! (`(+ (* (+ k 1) k) (* (+ k 1) k))`, 12 units) is reproduced exactly this way.

use super::{as_op, ident, is_pure, list, node_count, same};
use crate::ast::{Expr, ExprKind};

pub(super) fn run(e: &mut Expr, counter: &mut u32) {
    if as_op(e).is_some() && is_pure(e) {
        rewrite(e, counter);
        return;
    }
    if let ExprKind::List { head, args } = &mut e.kind {
        if matches!(head.as_str(), "bytes.lit" | "bytes.view_lit") {
            return;
        }
        for a in args.iter_mut() {
            run(a, counter);
        }
    }
}

/// Collects the operator subexpressions of `e` in post-order.
fn collect<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    if let Some((_, a, b)) = as_op(e) {
        collect(a, out);
        collect(b, out);
        out.push(e);
    }
}

fn replace(e: &mut Expr, target: &Expr, name: &str) {
    if same(e, target) {
        *e = ident(name, &e.ptr);
        return;
    }
    if let ExprKind::List { args, .. } = &mut e.kind {
        for a in args.iter_mut() {
            replace(a, target, name);
        }
    }
}

fn rewrite(e: &mut Expr, counter: &mut u32) {
    let mut subs = Vec::new();
    collect(e, &mut subs);
    // Repeated subexpressions of ≥ 3 nodes, first occurrence first.
    let mut repeated: Vec<Expr> = Vec::new();
    for (i, s) in subs.iter().enumerate() {
        if node_count(s) < 3 || repeated.iter().any(|r| same(r, s)) {
            continue;
        }
        if subs[i + 1..].iter().any(|t| same(t, s)) {
            repeated.push((*s).clone());
        }
    }
    if repeated.is_empty() {
        return;
    }
    let ptr = e.ptr.clone();
    let named: Vec<(String, Expr)> = repeated
        .into_iter()
        .map(|s| {
            let name = format!("__x07_cse{counter}");
            *counter += 1;
            (name, s)
        })
        .collect();
    let mut order: Vec<usize> = (0..named.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(node_count(&named[i].1)));
    let mut body = e.clone();
    for i in order {
        replace(&mut body, &named[i].1, &named[i].0);
    }
    let mut items: Vec<Expr> = named
        .into_iter()
        .map(|(name, s)| list("let", vec![ident(&name, &ptr), s], &ptr))
        .collect();
    items.push(body);
    *e = list("begin", items, &ptr);
}
