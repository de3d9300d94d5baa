//! Step 1: inline small pure i32 functions called exactly once (semantics R21 step 1).
//!
//! A reachable function with only i32 parameters, an i32 result and a body of at most
//! 12 nodes built from literals, its parameters and the 20 i32 operators, called from
//! exactly one place in reachable code, is replaced at that call by
//! `(begin (let p1 a1) … (let pn an) body)`. That costs exactly what the call costs
//! (1 + the arguments + the body), so it is fuel-neutral until step 4 deletes unused
//! parameter lets. The parameters get fresh names so arguments cannot be captured.

use super::{is_pure, list, node_count};
use crate::ast::{Expr, ExprKind, SourceFile};
use crate::check::Reach;
use crate::types::Ty;

/// Most nodes of an inlined body.
const MAX_BODY_NODES: usize = 12;

struct Candidate {
    name: String,
    params: Vec<String>,
    body: Expr,
}

pub(super) fn run(files: &mut [SourceFile], reach: &Reach) {
    let mut candidates = Vec::new();
    for &(fi, di) in &reach.functions {
        if reach.call_sites.get(&(fi, di)).copied() != Some(1) {
            continue;
        }
        let f = &files[fi].functions[di];
        if f.result != Ty::I32
            || f.params.iter().any(|p| p.ty != Ty::I32)
            || !is_pure(&f.body)
            || node_count(&f.body) > MAX_BODY_NODES
            || !only_names(
                &f.body,
                &f.params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            )
        {
            continue;
        }
        candidates.push(Candidate {
            name: f.name.clone(),
            params: f.params.iter().map(|p| p.name.clone()).collect(),
            body: f.body.clone(),
        });
    }
    if candidates.is_empty() {
        return;
    }
    let mut counter = 0u32;
    let mut bodies: Vec<(usize, Option<usize>)> = vec![(0, None)];
    bodies.extend(reach.functions.iter().map(|&(f, d)| (f, Some(d))));
    for (fi, di) in bodies {
        let body = match di {
            Some(d) => &mut files[fi].functions[d].body,
            None => match files[fi].solve.as_mut() {
                Some(s) => s,
                None => continue,
            },
        };
        inline_in(body, &candidates, &mut counter);
    }
}

/// Whether every identifier of `e` is one of `names`.
fn only_names(e: &Expr, names: &[&str]) -> bool {
    match &e.kind {
        ExprKind::Ident(n) => names.contains(&n.as_str()),
        ExprKind::List { args, .. } => args.iter().all(|a| only_names(a, names)),
        _ => true,
    }
}

fn rename(e: &mut Expr, from: &str, to: &str) {
    match &mut e.kind {
        ExprKind::Ident(n) if n == from => *n = to.to_string(),
        ExprKind::List { args, .. } => args.iter_mut().for_each(|a| rename(a, from, to)),
        _ => {}
    }
}

fn inline_in(e: &mut Expr, candidates: &[Candidate], counter: &mut u32) {
    if let ExprKind::List { head, args } = &mut e.kind {
        if matches!(head.as_str(), "bytes.lit" | "bytes.view_lit") {
            return;
        }
        for a in args.iter_mut() {
            inline_in(a, candidates, counter);
        }
        let Some(c) = candidates.iter().find(|c| c.name == *head) else {
            return;
        };
        if args.len() != c.params.len() {
            return;
        }
        let ptr = e.ptr.clone();
        let n = *counter;
        *counter += 1;
        let mut body = c.body.clone();
        let mut items = Vec::new();
        for (p, a) in c.params.iter().zip(std::mem::take(args)) {
            let fresh = format!("__x07_inl{n}_{p}");
            rename(&mut body, p, &fresh);
            items.push(list("let", vec![super::ident(&fresh, &ptr), a], &ptr));
        }
        items.push(body);
        *e = list("begin", items, &ptr);
    }
}
