//! Step 5: unroll `for` loops with literal bounds (semantics R21 step 5, subset §6.1).
//!
//! `(for i s e body)` with integer-literal bounds, a span `(u32)e − (u32)s` (saturating)
//! of at most 8, and no `set`/`set0`/nested `for` of `i` in the body becomes
//! `(begin (let|set i s) (begin body 0) (set i (+ i 1)) … (begin body 0) 0)`: `let` when
//! `i` is a new variable, `set` when the loop reuses a visible one (which therefore ends
//! at `e − 1`, conformance example C11). A span of 0 leaves just `0`.

use std::collections::HashSet;

use super::{as_list, assigns_name, int, list};
use crate::ast::{Expr, ExprKind};

/// Visible variable names, by scope, and how many more nodes unrolling may add.
struct Env {
    scopes: Vec<HashSet<String>>,
    budget: usize,
}

impl Env {
    fn visible(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s.contains(name))
    }

    fn bind(&mut self, name: &str) {
        if let Some(s) = self.scopes.last_mut() {
            s.insert(name.to_string());
        }
    }
}

/// Most nodes a function body may grow to by unrolling; past it, loops stay loops (only
/// absurd programs, such as ten nested literal loops of 8, get there).
const MAX_BODY_NODES: usize = 250_000;

pub(super) fn run(body: &mut Expr, params: &[String]) {
    let mut env = Env {
        scopes: vec![params.iter().cloned().collect()],
        budget: MAX_BODY_NODES.saturating_sub(super::node_count(body)),
    };
    walk(body, &mut env);
}

fn lit(e: &Expr) -> Option<i32> {
    match e.kind {
        ExprKind::Int(v) => Some(v),
        _ => None,
    }
}

/// The unrolled replacement of a `for` node, if it qualifies.
fn unrolled(e: &Expr, env: &mut Env) -> Option<Expr> {
    let (_, args) = as_list(e)?;
    let ExprKind::Ident(name) = &args[0].kind else {
        return None;
    };
    let (s, end) = (lit(&args[1])?, lit(&args[2])?);
    let span = (end as u32).saturating_sub(s as u32);
    if span > 8 || assigns_name(&args[3], name, false) {
        return None;
    }
    let ptr = &e.ptr;
    if span == 0 {
        return Some(int(0, ptr));
    }
    // Nested loops are unrolled from the outside in: this copy's body may still grow.
    let body_nodes = super::node_count(&args[3]);
    let added = (body_nodes + 8) * span as usize;
    if added > env.budget {
        return None;
    }
    let var = super::ident(name, ptr);
    let first = if env.visible(name) { "set" } else { "let" };
    let mut items = vec![list(first, vec![var.clone(), int(s, ptr)], ptr)];
    for k in 0..span {
        if k > 0 {
            let step = list("+", vec![var.clone(), int(1, ptr)], ptr);
            items.push(list("set", vec![var.clone(), step], ptr));
        }
        items.push(list("begin", vec![args[3].clone(), int(0, ptr)], ptr));
    }
    items.push(int(0, ptr));
    env.budget -= added;
    Some(list("begin", items, ptr))
}

fn walk(e: &mut Expr, env: &mut Env) {
    if let Some(("for", args)) = as_list(e) {
        if args.len() == 4 {
            if let Some(r) = unrolled(e, env) {
                *e = r;
                walk(e, env);
                return;
            }
        }
    }
    let ExprKind::List { head, args } = &mut e.kind else {
        return;
    };
    match head.as_str() {
        "bytes.lit" | "bytes.view_lit" => {}
        "begin" => {
            env.scopes.push(HashSet::new());
            for a in args.iter_mut() {
                walk(a, env);
            }
            env.scopes.pop();
        }
        "let" if args.len() == 2 => {
            walk(&mut args[1], env);
            if let ExprKind::Ident(n) = &args[0].kind {
                let n = n.clone();
                env.bind(&n);
            }
        }
        "if" if args.len() == 3 => {
            walk(&mut args[0], env);
            for branch in &mut args[1..] {
                env.scopes.push(HashSet::new());
                walk(branch, env);
                env.scopes.pop();
            }
        }
        "for" if args.len() == 4 => {
            walk(&mut args[1], env);
            walk(&mut args[2], env);
            env.scopes.push(HashSet::new());
            if let ExprKind::Ident(n) = &args[0].kind {
                let n = n.clone();
                env.bind(&n);
            }
            env.scopes.push(HashSet::new());
            walk(&mut args[3], env);
            env.scopes.pop();
            env.scopes.pop();
        }
        "while" if args.len() == 2 => {
            env.scopes.push(HashSet::new());
            walk(&mut args[0], env);
            env.scopes.push(HashSet::new());
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
