//! Step 6: common subexpressions (semantics R21 step 6).
//!
//! Inside one maximal pure i32 expression (an operator tree of literals, identifiers and
//! the 20 operators whose parent is not such an operator), every operator subexpression
//! of at least 3 nodes that occurs twice or more is bound to a `__x07_cseN` let, in order
//! of first occurrence (post-order), each let keeping its original expression. The
//! expression itself has its occurrences replaced, largest first, and becomes
//! `(begin (let __x07_cse0 s0) … e')`. The worked example of semantics R21
//! (`(+ (* (+ k 1) k) (* (+ k 1) k))`, 12 units) is reproduced exactly this way.
//!
//! Subexpressions are compared through a structural fingerprint first, so a huge
//! expression costs about linear time, not quadratic.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

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

/// A structural fingerprint (pointers ignored): equal expressions have equal ones.
fn fingerprint(e: &Expr) -> u64 {
    let mut h = DefaultHasher::new();
    match &e.kind {
        ExprKind::Int(v) => (0u8, v).hash(&mut h),
        ExprKind::Ident(n) => (1u8, n).hash(&mut h),
        ExprKind::Text(t) => (2u8, t).hash(&mut h),
        ExprKind::List { head, args } => {
            (3u8, head, args.len()).hash(&mut h);
            for a in args {
                fingerprint(a).hash(&mut h);
            }
        }
    }
    h.finish()
}

/// One operator subexpression: the node, its fingerprint and its size.
struct Sub<'e> {
    expr: &'e Expr,
    print: u64,
    nodes: usize,
}

/// Collects the operator subexpressions of `e` in post-order.
fn collect<'e>(e: &'e Expr, out: &mut Vec<Sub<'e>>) {
    if let Some((_, a, b)) = as_op(e) {
        collect(a, out);
        collect(b, out);
        out.push(Sub {
            expr: e,
            print: fingerprint(e),
            nodes: node_count(e),
        });
    }
}

/// Replaces, top-down, every node equal to one of `named` (outermost first, which is the
/// same as replacing the largest expressions first).
fn replace(e: &mut Expr, named: &HashMap<u64, Vec<(Expr, String)>>) {
    if as_op(e).is_some() {
        if let Some(candidates) = named.get(&fingerprint(e)) {
            if let Some((_, name)) = candidates.iter().find(|(x, _)| same(x, e)) {
                *e = ident(name, &e.ptr);
                return;
            }
        }
    }
    if let ExprKind::List { args, .. } = &mut e.kind {
        for a in args.iter_mut() {
            replace(a, named);
        }
    }
}

fn rewrite(e: &mut Expr, counter: &mut u32) {
    let mut subs = Vec::new();
    collect(e, &mut subs);
    // Occurrences by fingerprint, in post-order.
    let mut by_print: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, s) in subs.iter().enumerate() {
        by_print.entry(s.print).or_default().push(i);
    }
    // Repeated subexpressions of ≥ 3 nodes, first occurrence first.
    let mut repeated: Vec<(u64, Expr)> = Vec::new();
    for (i, s) in subs.iter().enumerate() {
        if s.nodes < 3
            || repeated
                .iter()
                .any(|(p, r)| *p == s.print && same(r, s.expr))
        {
            continue;
        }
        let later = by_print[&s.print]
            .iter()
            .any(|&j| j > i && same(subs[j].expr, s.expr));
        if later {
            repeated.push((s.print, s.expr.clone()));
        }
    }
    if repeated.is_empty() {
        return;
    }
    let ptr = e.ptr.clone();
    let mut named: HashMap<u64, Vec<(Expr, String)>> = HashMap::new();
    let mut items = Vec::with_capacity(repeated.len() + 1);
    for (print, s) in repeated {
        let name = format!("__x07_cse{counter}");
        *counter += 1;
        items.push(list("let", vec![ident(&name, &ptr), s.clone()], &ptr));
        named.entry(print).or_default().push((s, name));
    }
    let mut body = e.clone();
    replace(&mut body, &named);
    items.push(body);
    *e = list("begin", items, &ptr);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn expr(v: &Value) -> Expr {
        let kind = match v {
            Value::Number(n) => ExprKind::Int(n.as_i64().unwrap() as i32),
            Value::String(s) => ExprKind::Ident(s.clone()),
            Value::Array(items) => ExprKind::List {
                head: items[0].as_str().unwrap().to_string(),
                args: items[1..].iter().map(expr).collect(),
            },
            _ => unreachable!(),
        };
        Expr {
            kind,
            ptr: String::new(),
        }
    }

    fn show(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Int(v) => v.to_string(),
            ExprKind::Ident(n) => n.clone(),
            ExprKind::Text(t) => format!("{t:?}"),
            ExprKind::List { head, args } => {
                let mut parts = vec![head.clone()];
                parts.extend(args.iter().map(show));
                format!("({})", parts.join(" "))
            }
        }
    }

    fn cse(v: Value) -> String {
        let mut e = expr(&v);
        run(&mut e, &mut 0);
        show(&e)
    }

    #[test]
    fn repeated_subexpressions_are_bound_first_occurrence_first_and_replaced_largest_first() {
        // The worked example of R21: each let keeps its original expression.
        assert_eq!(
            cse(json!(["+", ["*", ["+", "k", 1], "k"], ["*", ["+", "k", 1], "k"]])),
            "(begin (let __x07_cse0 (+ k 1)) (let __x07_cse1 (* (+ k 1) k)) (+ __x07_cse1 __x07_cse1))"
        );
        // A smaller repeat outside the larger ones is replaced where it stands alone.
        assert_eq!(
            cse(json!(["+", ["*", ["+", "k", 1], "k"], ["+", ["*", ["+", "k", 1], "k"], ["+", "k", 1]]])),
            "(begin (let __x07_cse0 (+ k 1)) (let __x07_cse1 (* (+ k 1) k)) (+ __x07_cse1 (+ __x07_cse1 __x07_cse0)))"
        );
        // Two-node operands and single occurrences stay.
        assert_eq!(
            cse(json!(["+", ["-", "a", "b"], ["-", "b", "a"]])),
            "(+ (- a b) (- b a))"
        );
    }
}
