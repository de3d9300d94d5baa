//! The optimizer's rewrites (semantics R13, R14, R21), applied to the x07AST after the
//! first check and before the second, in the real compiler's order:
//!
//! 1. inline a function called exactly once whose params and result are i32 and whose
//!    body is ≤ 12 nodes of pure i32 operators (`inline`);
//! 2. constant-fold operators on literals and remove three kinds of scope: a one-item
//!    `begin`, an `if` with a literal condition, an `if` with identical branches (whose
//!    condition is then never evaluated) (`fold`);
//! 3. strength reduction (`fold::strength`);
//! 4. delete unused pure-i32 `let`s (`dead`);
//! 5. unroll `for` loops with literal bounds and a span of at most 8 (`unroll`);
//! 6. common subexpressions of pure i32 expressions to `__x07_cseN` lets (`cse`);
//! 7. hoist `(bytes.len x)` used twice or more in a loop body (`licm`);
//! 8. delete unused pure-i32 `let`s again.
//!
//! Pointers of the original nodes are kept (traps and errors in rewritten code point to
//! the source); new nodes take the pointer of the node they replace.

mod cse;
mod dead;
mod fold;
mod inline;
mod licm;
mod unroll;

use crate::ast::{Expr, ExprKind, SourceFile};
use crate::check::Reach;
use crate::tir::BinOp;
use crate::types::Ty;

/// Rewrites the reachable code of `files` in the real compiler's order.
pub fn optimize(mut files: Vec<SourceFile>, reach: &Reach) -> Vec<SourceFile> {
    inline::run(&mut files, reach);
    let mut bodies: Vec<(usize, Option<usize>)> = vec![(0, None)];
    bodies.extend(reach.functions.iter().map(|&(f, d)| (f, Some(d))));
    for (fi, di) in bodies {
        let params: Vec<(String, Ty)> = match di {
            Some(d) => files[fi].functions[d]
                .params
                .iter()
                .map(|p| (p.name.clone(), p.ty))
                .collect(),
            None => Vec::new(),
        };
        let body = match di {
            Some(d) => &mut files[fi].functions[d].body,
            None => match files[fi].solve.as_mut() {
                Some(s) => s,
                None => continue,
            },
        };
        optimize_body(body, &params);
    }
    files
}

/// Steps 2–8 on one function body.
fn optimize_body(body: &mut Expr, params: &[(String, Ty)]) {
    fold::fold(body);
    fold::strength(body);
    dead::run(body, params);
    let visible: Vec<String> = params.iter().map(|(n, _)| n.clone()).collect();
    unroll::run(body, &visible);
    let mut counter = 0;
    cse::run(body, &mut counter);
    licm::run(body, &mut 0);
    dead::run(body, params);
}

/// A list node.
pub(crate) fn list(head: &str, args: Vec<Expr>, ptr: &str) -> Expr {
    Expr {
        kind: ExprKind::List {
            head: head.to_string(),
            args,
        },
        ptr: ptr.to_string(),
    }
}

/// An identifier node.
pub(crate) fn ident(name: &str, ptr: &str) -> Expr {
    Expr {
        kind: ExprKind::Ident(name.to_string()),
        ptr: ptr.to_string(),
    }
}

/// An integer literal node.
pub(crate) fn int(v: i32, ptr: &str) -> Expr {
    Expr {
        kind: ExprKind::Int(v),
        ptr: ptr.to_string(),
    }
}

/// The head and arguments of a list node.
pub(crate) fn as_list(e: &Expr) -> Option<(&str, &[Expr])> {
    match &e.kind {
        ExprKind::List { head, args } => Some((head.as_str(), args.as_slice())),
        _ => None,
    }
}

/// One of the 20 i32 operators with two operands.
pub(crate) fn as_op(e: &Expr) -> Option<(BinOp, &Expr, &Expr)> {
    let (head, args) = as_list(e)?;
    let op = BinOp::from_head(head)?;
    (args.len() == 2).then(|| (op, &args[0], &args[1]))
}

/// Whether `e` is built only from integer literals, identifiers and the 20 i32
/// operators: evaluating it has no effect and cannot trap.
pub(crate) fn is_pure(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Int(_) | ExprKind::Ident(_) => true,
        ExprKind::Text(_) => false,
        ExprKind::List { .. } => match as_op(e) {
            Some((_, a, b)) => is_pure(a) && is_pure(b),
            None => false,
        },
    }
}

/// Number of nodes (lists and leaves).
pub(crate) fn node_count(e: &Expr) -> usize {
    match &e.kind {
        ExprKind::List { args, .. } => 1 + args.iter().map(node_count).sum::<usize>(),
        _ => 1,
    }
}

/// Structural equality, ignoring pointers.
pub(crate) fn same(a: &Expr, b: &Expr) -> bool {
    match (&a.kind, &b.kind) {
        (ExprKind::Int(x), ExprKind::Int(y)) => x == y,
        (ExprKind::Ident(x), ExprKind::Ident(y)) => x == y,
        (ExprKind::Text(x), ExprKind::Text(y)) => x == y,
        (ExprKind::List { head: h1, args: a1 }, ExprKind::List { head: h2, args: a2 }) => {
            h1 == h2 && a1.len() == a2.len() && a1.iter().zip(a2).all(|(x, y)| same(x, y))
        }
        _ => false,
    }
}

/// Whether `e` contains `(set name ..)`, `(set0 name ..)`, `(let name ..)` or
/// `(for name ..)` (`binds` adds `let`).
pub(crate) fn assigns_name(e: &Expr, name: &str, binds: bool) -> bool {
    let Some((head, args)) = as_list(e) else {
        return false;
    };
    let targets = match head {
        "set" | "set0" | "for" => true,
        "let" => binds,
        _ => false,
    };
    if targets && matches!(args.first().map(|a| &a.kind), Some(ExprKind::Ident(n)) if n == name) {
        return true;
    }
    args.iter().any(|a| assigns_name(a, name, binds))
}

/// Calls `f` on every node of `e` after its children (post-order), with mutable access.
pub(crate) fn post_order_mut(e: &mut Expr, f: &mut dyn FnMut(&mut Expr)) {
    if let ExprKind::List { head, args } = &mut e.kind {
        if !matches!(head.as_str(), "bytes.lit" | "bytes.view_lit") {
            for a in args.iter_mut() {
                post_order_mut(a, f);
            }
        }
    }
    f(e);
}
