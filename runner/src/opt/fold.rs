//! Steps 2 and 3: constant folding with the three scope removals of semantics R13, and
//! strength reduction.

use super::{as_list, as_op, int, is_pure, list, post_order_mut, same};
use crate::ast::{Expr, ExprKind};
use crate::tir::BinOp;

fn lit(e: &Expr) -> Option<i32> {
    match e.kind {
        ExprKind::Int(v) => Some(v),
        _ => None,
    }
}

/// Folds operators on literals (bottom-up) and removes scopes: a `begin` with one item
/// becomes the item, an `if` with a literal condition becomes the taken branch, an `if`
/// with structurally identical branches becomes that branch (the condition is dropped).
pub(super) fn fold(body: &mut Expr) {
    post_order_mut(body, &mut |e| {
        let replacement = match as_list(e) {
            Some((head, args)) => match head {
                "begin" if args.len() == 1 => Some(args[0].clone()),
                "if" if args.len() == 3 => {
                    if let Some(c) = lit(&args[0]) {
                        Some(if c != 0 {
                            args[1].clone()
                        } else {
                            args[2].clone()
                        })
                    } else if same(&args[1], &args[2]) {
                        Some(args[1].clone())
                    } else {
                        None
                    }
                }
                "&&" | "||" if args.len() == 2 => match (lit(&args[0]), lit(&args[1])) {
                    (Some(a), Some(b)) => {
                        let v = if head == "&&" {
                            a != 0 && b != 0
                        } else {
                            a != 0 || b != 0
                        };
                        Some(int(v as i32, &e.ptr))
                    }
                    _ => None,
                },
                _ => match as_op(e) {
                    Some((op, a, b)) => match (lit(a), lit(b)) {
                        (Some(x), Some(y)) => Some(int(op.apply(x, y), &e.ptr)),
                        _ => None,
                    },
                    None => None,
                },
            },
            None => None,
        };
        if let Some(r) = replacement {
            *e = r;
        }
    });
}

/// `Some(k)` when `v` (as u32) is `2^k`.
fn log2(v: i32) -> Option<u32> {
    let u = v as u32;
    u.is_power_of_two().then(|| u.trailing_zeros())
}

/// Strength reduction: `*`, `/`, `%` by `2^k` become `<<u`, `>>u`, `&`; `*1` and `/1`
/// become the operand; `*0`, `%1` and `0/x` become 0 when the other operand is pure.
pub(super) fn strength(body: &mut Expr) {
    post_order_mut(body, &mut |e| {
        let Some((op, a, b)) = as_op(e) else {
            return;
        };
        let ptr = e.ptr.clone();
        let replacement = match op {
            BinOp::Mul => {
                let (x, k) = match (lit(a), lit(b)) {
                    (_, Some(kb)) => (a, kb),
                    (Some(ka), None) => (b, ka),
                    _ => return,
                };
                if k == 0 {
                    is_pure(x).then(|| int(0, &ptr))
                } else if k == 1 {
                    Some(x.clone())
                } else {
                    log2(k).map(|s| list("<<u", vec![x.clone(), int(s as i32, &ptr)], &ptr))
                }
            }
            BinOp::DivU => match (lit(a), lit(b)) {
                (_, Some(1)) => Some(a.clone()),
                (Some(0), _) if is_pure(b) => Some(int(0, &ptr)),
                (_, Some(k)) if k != 0 => {
                    log2(k).map(|s| list(">>u", vec![a.clone(), int(s as i32, &ptr)], &ptr))
                }
                _ => None,
            },
            BinOp::RemU => match lit(b) {
                Some(1) if is_pure(a) => Some(int(0, &ptr)),
                Some(k) if k != 0 && k != 1 => log2(k).map(|_| {
                    list(
                        "&",
                        vec![a.clone(), int(((k as u32) - 1) as i32, &ptr)],
                        &ptr,
                    )
                }),
                _ => None,
            },
            _ => None,
        };
        if let Some(r) = replacement {
            *e = r;
        }
    });
}
