//! Programs generated from the grammar and the language rules, run through the CLI.
//!
//! The generator builds x07AST entry files the way the rules of the semantics notes slice
//! the language: statement vs value positions (statement `if`s with branches of different
//! types, `let`/`set` in value position), `let`s nested in operands, call arguments, loop
//! bounds and conditions, moves of owned variables in branches and loop bodies, views and
//! borrows (views as statements, views of locals, view parameters), user functions with
//! owned and view parameters (recursion included), `return` in allowed and disallowed
//! places, loops with literal bounds around the unrolling threshold and with run-time
//! bounds, and `let`s in both branches of an `if` read inside call arguments (the compiler
//! panic of the notes' section G). Many programs are rejected by the compiler; that is fine.
//!
//! For every program the runner must print a report that validates against
//! `schemas/x07-os-runner.report.schema.json`, exit with the report's `exit_code` (0 or 1),
//! never print `internal error`, `panicked` or a `differential mismatch` (the test build
//! checks every run against the reference evaluator), and finish within a wall-clock bound.
//!
//! `cargo test` runs a fixed seed and a small count. Longer runs:
//! `X07_GRAMMAR_FUZZ_ITERS=20000 X07_GRAMMAR_FUZZ_SEED=7 cargo test -p x07-lite --test grammar_fuzz`.

#[path = "support/cli.rs"]
mod cli;

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

/// SplitMix64: small, deterministic, good enough to drive a generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The value types of the subset the generator uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    I32,
    Bytes,
    View,
    Vec,
    OptI32,
    OptBytes,
    ResI32,
    ResBytes,
}

const ALL_TYPES: [Ty; 8] = [
    Ty::I32,
    Ty::Bytes,
    Ty::View,
    Ty::Vec,
    Ty::OptI32,
    Ty::OptBytes,
    Ty::ResI32,
    Ty::ResBytes,
];

impl Ty {
    fn token(self) -> &'static str {
        match self {
            Ty::I32 => "i32",
            Ty::Bytes => "bytes",
            Ty::View => "bytes_view",
            Ty::Vec => "vec_u8",
            Ty::OptI32 => "option_i32",
            Ty::OptBytes => "option_bytes",
            Ty::ResI32 => "result_i32",
            Ty::ResBytes => "result_bytes",
        }
    }
}

/// A user function the generated code may call.
#[derive(Clone)]
struct FnSig {
    name: String,
    params: Vec<(String, Ty)>,
    result: Ty,
}

/// Generator state: visible variables by scope, callable functions, the enclosing result type.
struct Gen<'r> {
    rng: &'r mut Rng,
    scopes: Vec<Vec<(String, Ty)>>,
    fns: Vec<FnSig>,
    ret: Ty,
    names: usize,
    budget: i64,
    std: bool,
}

fn lit(text: &str) -> Value {
    json!(["bytes.lit", text])
}

impl Gen<'_> {
    fn fresh(&mut self) -> String {
        // Mostly new names; sometimes an existing one (shadowing, duplicates, reuse as a
        // loop variable); rarely `input` (reserved).
        if self.rng.chance(12) {
            if let Some((name, _)) = self.any_var() {
                return name;
            }
        }
        if self.rng.chance(2) {
            return "input".to_string();
        }
        self.names += 1;
        format!("v{}", self.names)
    }

    fn bind(&mut self, name: &str, ty: Ty) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.push((name.to_string(), ty));
        }
    }

    fn any_var(&mut self) -> Option<(String, Ty)> {
        let all: Vec<(String, Ty)> = self.scopes.iter().flatten().cloned().collect();
        if all.is_empty() {
            None
        } else {
            Some(self.rng.pick(&all).clone())
        }
    }

    /// A visible variable of `ty`, preferring the innermost scopes (recent locals).
    fn var_of(&mut self, ty: Ty) -> Option<String> {
        for scope in self.scopes.iter().rev() {
            let here: Vec<&String> = scope
                .iter()
                .filter(|(_, t)| *t == ty)
                .map(|(n, _)| n)
                .collect();
            if !here.is_empty() && self.rng.chance(70) {
                return Some(here[self.rng.below(here.len())].clone());
            }
        }
        let all: Vec<String> = self
            .scopes
            .iter()
            .flatten()
            .filter(|(_, t)| *t == ty)
            .map(|(n, _)| n.clone())
            .collect();
        if all.is_empty() {
            None
        } else {
            Some(self.rng.pick(&all).clone())
        }
    }

    fn scoped<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        self.scopes.push(Vec::new());
        let out = f(self);
        self.scopes.pop();
        out
    }

    fn int(&mut self) -> Value {
        let edges = [
            0,
            1,
            2,
            3,
            7,
            8,
            9,
            65,
            97,
            255,
            256,
            -1,
            -2,
            100,
            1000,
            2147483647,
            -2147483648,
        ];
        if self.rng.chance(70) {
            json!(self.rng.below(12) as i64)
        } else {
            json!(*self.rng.pick(&edges))
        }
    }

    fn text(&mut self) -> String {
        let texts = ["", "a", "xy", "hello", "(()", "0", "12", " \t", "é"];
        self.rng.pick(&texts).to_string()
    }

    /// A leaf of type `ty`: literal, variable or constructor (no recursion).
    fn leaf(&mut self, ty: Ty) -> Value {
        if self.rng.chance(55) {
            if let Some(v) = self.var_of(ty) {
                return json!(v);
            }
        }
        match ty {
            Ty::I32 => self.int(),
            Ty::Bytes => {
                let t = self.text();
                lit(&t)
            }
            Ty::View => {
                if self.rng.chance(50) {
                    json!("input")
                } else {
                    let t = self.text();
                    json!(["bytes.view_lit", t])
                }
            }
            Ty::Vec => json!(["vec_u8.with_capacity", self.rng.below(4)]),
            Ty::OptI32 => json!(["option_i32.some", self.int()]),
            Ty::OptBytes => json!(["option_bytes.none"]),
            Ty::ResI32 => json!(["result_i32.err", self.rng.below(4)]),
            Ty::ResBytes => json!(["result_bytes.err", self.rng.below(4)]),
        }
    }

    fn cond(&mut self, depth: u32) -> Value {
        match self.rng.below(6) {
            0 => json!(["view.len", "input"]),
            1 => json!(*self.rng.pick(&[0, 1])),
            2 => json!(["<", self.expr(Ty::I32, depth), self.int()]),
            3 => json!(["=", self.expr(Ty::I32, depth), self.int()]),
            4 => {
                // A let in an if condition binds in the enclosing scope (R11).
                let name = self.fresh();
                let e = self.expr(Ty::I32, depth);
                self.bind(&name, Ty::I32);
                json!(["let", name, e])
            }
            _ => self.expr(Ty::I32, depth),
        }
    }

    /// A call of a generated function whose result is `ty`, if there is one.
    fn call(&mut self, ty: Ty, depth: u32) -> Option<Value> {
        let candidates: Vec<FnSig> = self
            .fns
            .iter()
            .filter(|f| f.result == ty || self.rng.chance(3))
            .cloned()
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let f = self.rng.pick(&candidates).clone();
        let mut call = vec![json!(f.name)];
        for (_, pty) in &f.params {
            // A view parameter accepts bytes, views and vec_u8 alike.
            let arg_ty = if *pty == Ty::View && self.rng.chance(40) {
                *self.rng.pick(&[Ty::Bytes, Ty::Vec, Ty::View])
            } else {
                *pty
            };
            call.push(self.expr(arg_ty, depth));
        }
        if self.rng.chance(3) {
            call.pop(); // wrong arity
        }
        Some(Value::Array(call))
    }

    /// A value-position expression of type `ty`.
    fn expr(&mut self, ty: Ty, depth: u32) -> Value {
        self.budget -= 1;
        if depth == 0 || self.budget <= 0 {
            return self.leaf(ty);
        }
        let d = depth - 1;
        // Forms that fit any type.
        match self.rng.below(100) {
            0..=6 => {
                let c = self.cond(d);
                let a = self.scoped(|g| g.expr(ty, d));
                let b = if self.rng.chance(8) {
                    // Identical branches: the optimizer drops the condition (R13).
                    a.clone()
                } else {
                    self.scoped(|g| g.expr(ty, d))
                };
                return json!(["if", c, a, b]);
            }
            7..=11 => return self.scoped(|g| g.block(ty, d)),
            12..=16 => {
                if let Some(call) = self.call(ty, d) {
                    return call;
                }
            }
            17..=18 => {
                // A value-position let (R5/R6 reject owned and view results).
                let name = self.fresh();
                let e = self.expr(ty, d);
                self.bind(&name, ty);
                return json!(["let", name, e]);
            }
            19..=20 => {
                if let Some(v) = self.var_of(ty) {
                    let e = self.expr(ty, d);
                    return json!(["set", v, e]);
                }
            }
            21 => {
                let r = self.ret;
                let e = self.expr(r, d);
                return json!(["return", e]);
            }
            22 => {
                let other = *self.rng.pick(&ALL_TYPES);
                return self.expr(other, d); // a type error, often
            }
            23 if ty == Ty::I32 || ty == Ty::Bytes => {
                let src = *self.rng.pick(&[Ty::ResI32, Ty::ResBytes]);
                let e = self.expr(src, d);
                return json!(["try", e]);
            }
            _ => {}
        }
        match ty {
            Ty::I32 => self.i32_expr(d),
            Ty::Bytes => self.bytes_expr(d),
            Ty::View => self.view_expr(d),
            Ty::Vec => self.vec_expr(d),
            Ty::OptI32 => match self.rng.below(3) {
                0 => json!(["option_i32.none"]),
                _ => json!(["option_i32.some", self.expr(Ty::I32, d)]),
            },
            Ty::OptBytes => match self.rng.below(3) {
                0 => json!(["option_bytes.none"]),
                _ => json!(["option_bytes.some", self.expr(Ty::Bytes, d)]),
            },
            Ty::ResI32 => match self.rng.below(4) {
                0 => json!(["result_i32.err", self.int()]),
                1 if self.std => json!(["std.parse.i32_dec", self.expr(Ty::View, d)]),
                _ => json!(["result_i32.ok", self.expr(Ty::I32, d)]),
            },
            Ty::ResBytes => match self.rng.below(3) {
                0 => json!(["result_bytes.err", self.int()]),
                _ => json!(["result_bytes.ok", self.expr(Ty::Bytes, d)]),
            },
        }
    }

    fn i32_expr(&mut self, d: u32) -> Value {
        let ops = [
            "+", "-", "*", "/", "%", "&", "|", "^", "<<u", ">>u", "=", "!=", "<", "<=", ">", ">=",
            "<u", "<=u", ">u", ">=u", "&&", "||",
        ];
        match self.rng.below(20) {
            0..=5 => {
                let op = *self.rng.pick(&ops);
                json!([op, self.expr(Ty::I32, d), self.expr(Ty::I32, d)])
            }
            6 => {
                // A let nested in an operand, read by the other operand (R11).
                let name = self.fresh();
                let e = self.expr(Ty::I32, d);
                self.bind(&name, Ty::I32);
                json!(["+", ["let", name, e], name])
            }
            7 => json!(["view.len", self.expr(Ty::View, d)]),
            8 => {
                let src = *self.rng.pick(&[Ty::Bytes, Ty::View]);
                json!(["bytes.len", self.expr(src, d)])
            }
            9 => {
                let src = *self.rng.pick(&[Ty::Bytes, Ty::View]);
                json!(["bytes.get_u8", self.expr(src, d), self.expr(Ty::I32, d)])
            }
            10 => json!(["view.get_u8", self.expr(Ty::View, d), self.expr(Ty::I32, d)]),
            11 => json!(["vec_u8.len", self.expr(Ty::Vec, d)]),
            12 => json!(["option_i32.unwrap_or", self.expr(Ty::OptI32, d), self.int()]),
            13 => json!(["result_i32.unwrap_or", self.expr(Ty::ResI32, d), self.int()]),
            14 => self.loop_form(d),
            15 => {
                if let Some((name, _)) = self.any_var() {
                    let ty = self
                        .scopes
                        .iter()
                        .flatten()
                        .find(|(n, _)| *n == name)
                        .map(|(_, t)| *t)
                        .unwrap_or(Ty::I32);
                    json!(["set0", name, self.expr(ty, d)])
                } else {
                    self.int()
                }
            }
            16 => json!(["option_bytes.is_some", self.expr(Ty::OptBytes, d)]),
            17 => json!(["result_bytes.err_code", self.expr(Ty::ResBytes, d)]),
            18 if self.std => json!(["std.bytes.find_u8", self.expr(Ty::View, d), self.int()]),
            _ => self.leaf(Ty::I32),
        }
    }

    fn bytes_expr(&mut self, d: u32) -> Value {
        match self.rng.below(14) {
            0 => json!(["fmt.s32_to_dec", self.expr(Ty::I32, d)]),
            1 => json!(["view.to_bytes", self.expr(Ty::View, d)]),
            2 | 3 => json!([
                "bytes.concat",
                self.expr(Ty::Bytes, d),
                self.expr(Ty::Bytes, d)
            ]),
            4 => {
                let src = *self.rng.pick(&[Ty::Bytes, Ty::View]);
                json!([
                    "bytes.slice",
                    self.expr(src, d),
                    self.rng.below(3),
                    self.rng.below(3)
                ])
            }
            5 => json!(["vec_u8.into_bytes", self.expr(Ty::Vec, d)]),
            6 => json!(["bytes.alloc", self.rng.below(5)]),
            7 => {
                // The histogram idiom: the owner is read again in a later argument (R18).
                if let Some(b) = self.var_of(Ty::Bytes) {
                    json!(["bytes.set_u8", b, 0, ["+", ["bytes.get_u8", b, 0], 1]])
                } else {
                    json!(["bytes.alloc", 2])
                }
            }
            8 => json!([
                "option_bytes.unwrap_or",
                self.expr(Ty::OptBytes, d),
                self.expr(Ty::Bytes, d)
            ]),
            9 => json!([
                "result_bytes.unwrap_or",
                self.expr(Ty::ResBytes, d),
                self.expr(Ty::Bytes, d)
            ]),
            10 if self.std => json!([
                "std.bytes.concat",
                self.expr(Ty::View, d),
                self.expr(Ty::View, d)
            ]),
            11 => json!([
                "bytes.copy",
                self.expr(Ty::Bytes, d),
                self.expr(Ty::Bytes, d)
            ]),
            _ => self.leaf(Ty::Bytes),
        }
    }

    fn view_expr(&mut self, d: u32) -> Value {
        match self.rng.below(8) {
            0 | 1 => match self.var_of(Ty::Bytes) {
                Some(b) => json!(["bytes.view", b]),
                None => json!(["bytes.view", self.expr(Ty::Bytes, d)]), // not a variable: rejected
            },
            2 => match self.var_of(Ty::Bytes) {
                Some(b) => json!(["bytes.subview", b, self.rng.below(2), self.rng.below(3)]),
                None => json!("input"),
            },
            3 => match self.var_of(Ty::Vec) {
                Some(v) => json!(["vec_u8.as_view", v]),
                None => json!(["bytes.view_lit", "v"]),
            },
            4 => json!([
                "view.slice",
                self.expr(Ty::View, d),
                self.rng.below(2),
                self.rng.below(3)
            ]),
            5 if self.std => json!(["std.bytes.trim_ascii_view", self.expr(Ty::View, d)]),
            _ => self.leaf(Ty::View),
        }
    }

    fn vec_expr(&mut self, d: u32) -> Value {
        let owner = match self.var_of(Ty::Vec) {
            Some(v) if self.rng.chance(75) => json!(v),
            _ => self.expr(Ty::Vec, d),
        };
        let owner_name = owner.as_str().map(str::to_string);
        match self.rng.below(8) {
            0 => {
                // Reads the owner in a later argument (R18).
                let x = match &owner_name {
                    Some(n) => json!(["+", 65, ["vec_u8.len", n]]),
                    None => self.expr(Ty::I32, d),
                };
                json!(["vec_u8.push", owner, x])
            }
            1 => {
                let src = *self.rng.pick(&[Ty::Bytes, Ty::View]);
                json!(["vec_u8.extend_bytes", owner, self.expr(src, d)])
            }
            2 => match &owner_name {
                Some(n) => json!(["vec_u8.extend_bytes", owner, ["vec_u8.as_view", n]]),
                None => json!(["vec_u8.clear", owner]),
            },
            3 => json!(["vec_u8.set", owner, 0, self.expr(Ty::I32, d)]),
            4 => json!(["vec_u8.reserve_exact", owner, self.rng.below(5)]),
            5 => json!(["vec_u8.extend_zeroes", owner, self.rng.below(3)]),
            6 => json!(["vec_u8.clear", owner]),
            _ => self.leaf(Ty::Vec),
        }
    }

    /// A for or while loop (value 0).
    fn loop_form(&mut self, d: u32) -> Value {
        if self.rng.chance(65) {
            let var = if self.rng.chance(20) {
                self.var_of(Ty::I32).unwrap_or_else(|| "i".to_string())
            } else {
                self.names += 1;
                format!("i{}", self.names)
            };
            let (start, end) = match self.rng.below(5) {
                // Literal bounds around the unrolling threshold (span <= 8).
                0 | 1 => {
                    let s = self.rng.below(4) as i64;
                    (json!(s), json!(s + self.rng.below(11) as i64))
                }
                2 => (json!(0), json!(["view.len", "input"])),
                3 => {
                    let name = self.fresh();
                    let start = self.int();
                    self.bind(&name, Ty::I32);
                    (json!(["let", name, start]), json!(self.rng.below(6)))
                }
                _ => (self.expr(Ty::I32, d), json!(self.rng.below(12))),
            };
            let body = self.scoped(|g| {
                g.bind(&var, Ty::I32);
                if g.rng.chance(50) {
                    g.stmt_block(d)
                } else {
                    g.stmt(d)
                }
            });
            json!(["for", var, start, end, body])
        } else {
            // A counter keeps most whiles short; fuel ends the others.
            let counter = self.var_of(Ty::I32).unwrap_or_else(|| "k".to_string());
            let limit = self.rng.below(6);
            let body = self.scoped(|g| {
                let mut items = vec![json!("begin")];
                for _ in 0..=g.rng.below(2) {
                    items.push(g.stmt(d));
                }
                items.push(json!(["set", counter, ["+", counter, 1]]));
                Value::Array(items)
            });
            let cond = if self.rng.chance(15) {
                let r = self.ret;
                json!(["if", ["<", counter, limit], 1, ["return", self.leaf(r)]])
            } else {
                json!(["<", counter, limit])
            };
            json!(["while", cond, body])
        }
    }

    /// A statement-position form.
    fn stmt(&mut self, depth: u32) -> Value {
        self.budget -= 1;
        let d = depth.saturating_sub(1);
        if depth == 0 || self.budget <= 0 {
            let ty = *self.rng.pick(&ALL_TYPES);
            return self.leaf(ty);
        }
        match self.rng.below(100) {
            0..=24 => {
                let ty = *self.rng.pick(&ALL_TYPES);
                let name = self.fresh();
                let e = self.expr(ty, d);
                self.bind(&name, ty);
                json!(["let", name, e])
            }
            25..=37 => {
                let ty = *self.rng.pick(&ALL_TYPES);
                match self.var_of(ty) {
                    Some(v) => {
                        let e = self.expr(ty, d);
                        json!([if self.rng.chance(80) { "set" } else { "set0" }, v, e])
                    }
                    None => self.expr(ty, d),
                }
            }
            38..=52 => {
                // Statement if: branches of any (different) types, often begins with lets
                // whose locals are read inside call arguments.
                let c = self.cond(d);
                let a = self.scoped(|g| g.branch(d));
                let b = if self.rng.chance(8) {
                    a.clone()
                } else {
                    self.scoped(|g| g.branch(d))
                };
                json!(["if", c, a, b])
            }
            53..=64 => self.loop_form(d),
            65..=74 => {
                // Any expression as a statement: owned values are dropped, owned identifiers
                // moved, views keep their owner borrowed (R9, R10).
                let ty = *self.rng.pick(&ALL_TYPES);
                self.expr(ty, d)
            }
            75..=79 => self.scoped(|g| g.stmt_block(d)),
            80..=82 => {
                let r = self.ret;
                let e = self.expr(r, d);
                json!(["return", e])
            }
            83..=86 => {
                // Moves an outer owned variable (in a branch or loop body this is R15/R16).
                let ty = *self
                    .rng
                    .pick(&[Ty::Bytes, Ty::Vec, Ty::OptBytes, Ty::ResBytes]);
                match self.var_of(ty) {
                    Some(v) => {
                        let name = self.fresh();
                        self.bind(&name, ty);
                        json!(["let", name, v])
                    }
                    None => self.leaf(ty),
                }
            }
            87..=90 => {
                // A view kept in a local while its owner is used.
                match self.var_of(Ty::Bytes) {
                    Some(b) => {
                        let name = self.fresh();
                        self.bind(&name, Ty::View);
                        json!(["let", name, ["bytes.view", b]])
                    }
                    None => self.leaf(Ty::View),
                }
            }
            _ => {
                let ty = *self.rng.pick(&ALL_TYPES);
                self.leaf(ty)
            }
        }
    }

    /// A branch of a statement if: a statement, an expression of any type, or a begin with
    /// a let whose local is read inside a call argument (the section G pattern).
    fn branch(&mut self, d: u32) -> Value {
        match self.rng.below(4) {
            0 => self.stmt(d),
            1 => {
                let ty = *self.rng.pick(&ALL_TYPES);
                self.expr(ty, d)
            }
            2 => {
                let name = self.fresh();
                let init = self.int();
                self.bind(&name, Ty::I32);
                let use_it = match self.var_of(Ty::Vec) {
                    Some(o) => json!([
                        "set",
                        o,
                        ["vec_u8.extend_bytes", o, ["fmt.s32_to_dec", name]]
                    ]),
                    None => json!(["fmt.s32_to_dec", name]),
                };
                json!(["begin", ["let", name, init], use_it, 0])
            }
            _ => self.stmt_block(d),
        }
    }

    /// `(begin stmt… 0)` or `(begin stmt… stmt)` in statement position.
    fn stmt_block(&mut self, d: u32) -> Value {
        let mut items = vec![json!("begin")];
        for _ in 0..=self.rng.below(3) {
            items.push(self.stmt(d));
        }
        if self.rng.chance(50) {
            items.push(json!(0));
        }
        Value::Array(items)
    }

    /// `(begin stmt… tail)` whose value has type `ty`.
    fn block(&mut self, ty: Ty, d: u32) -> Value {
        let mut items = vec![json!("begin")];
        for _ in 0..self.rng.below(4) {
            items.push(self.stmt(d));
        }
        items.push(self.expr(ty, d));
        Value::Array(items)
    }
}

/// One generated program: entry JSON and the input to run it with.
fn generate(seed: u64) -> (Value, Vec<u8>) {
    let mut rng = Rng(seed);
    let std = rng.chance(30);
    let mut fns = Vec::new();
    for i in 0..rng.below(4) {
        let params = (0..rng.below(4))
            .map(|p| {
                let ty = *rng.pick(&[Ty::I32, Ty::I32, Ty::Bytes, Ty::View, Ty::Vec, Ty::OptI32]);
                (format!("p{p}"), ty)
            })
            .collect();
        let result = *rng.pick(&[
            Ty::I32,
            Ty::I32,
            Ty::Bytes,
            Ty::View,
            Ty::Vec,
            Ty::ResI32,
            Ty::ResBytes,
        ]);
        fns.push(FnSig {
            name: format!("main.f{i}"),
            params,
            result,
        });
    }
    let mut decls = Vec::new();
    for f in &fns {
        let mut g = Gen {
            rng: &mut rng,
            scopes: vec![f.params.clone()],
            fns: fns.clone(),
            ret: f.result,
            names: 0,
            budget: 40,
            std,
        };
        let body = if g.rng.chance(60) {
            g.block(f.result, 3)
        } else {
            g.expr(f.result, 3)
        };
        let params: Vec<Value> = f
            .params
            .iter()
            .map(|(n, t)| json!({"name": n, "ty": t.token()}))
            .collect();
        decls.push(json!({
            "kind": "defn",
            "name": f.name,
            "params": params,
            "result": f.result.token(),
            "body": body,
        }));
    }
    let mut g = Gen {
        rng: &mut rng,
        scopes: vec![Vec::new()],
        fns,
        ret: Ty::Bytes,
        names: 100,
        budget: 90,
        std,
    };
    let solve = g.block(Ty::Bytes, 4);
    let imports = if std {
        json!(["std.bytes", "std.parse"])
    } else {
        json!([])
    };
    let inputs: [&[u8]; 6] = [b"", b"abc", b"(())", b"12", b"\x00\xff", b"a,b,c,d,e"];
    let input = rng.pick(&inputs).to_vec();
    let program = json!({
        "schema_version": "x07.x07ast@0.8.0",
        "kind": "entry",
        "module_id": "main",
        "imports": imports,
        "decls": decls,
        "solve": solve,
    });
    (program, input)
}

fn schema_validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("schemas")
        .join("x07-os-runner.report.schema.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    jsonschema::validator_for(&schema).unwrap()
}

/// What kind of result a run produced (for the statistics line).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ok,
    CompileError,
    Trap,
}

fn check(validator: &jsonschema::Validator, run: &cli::Run) -> Result<Kind, String> {
    for marker in ["internal error", "panicked", "differential mismatch"] {
        if run.stdout.contains(marker) || run.stderr.contains(marker) {
            return Err(format!(
                "printed {marker:?}: stdout {} stderr {}",
                run.stdout.chars().take(800).collect::<String>(),
                run.stderr.chars().take(800).collect::<String>()
            ));
        }
    }
    let Some(report) = &run.report else {
        return Err(format!(
            "no JSON report (rc {:?}): {} / {}",
            run.rc,
            run.stdout.chars().take(400).collect::<String>(),
            run.stderr.chars().take(400).collect::<String>()
        ));
    };
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    if !errors.is_empty() {
        return Err(format!("report fails the schema: {}", errors.join("; ")));
    }
    let exit_code = report["exit_code"].as_i64();
    if run.rc.map(i64::from) != exit_code || !matches!(exit_code, Some(0 | 1)) {
        return Err(format!("rc {:?}, report exit_code {exit_code:?}", run.rc));
    }
    if report["compile"]["compile_error"].is_string() {
        if !report["solve"].is_null() {
            return Err("compile error with a solve section".to_string());
        }
        return Ok(Kind::CompileError);
    }
    if report["solve"]["ok"] == Value::Bool(true) {
        Ok(Kind::Ok)
    } else {
        Ok(Kind::Trap)
    }
}

fn env_u64(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

#[test]
fn generated_programs_never_panic_hang_or_break_the_report() {
    let seed = env_u64("X07_GRAMMAR_FUZZ_SEED", 0x075E_ED0F_0A11);
    let iterations = env_u64("X07_GRAMMAR_FUZZ_ITERS", 160);
    let validator = schema_validator();
    let jobs: Vec<u64> = (0..iterations).collect();
    // Each program gets its own seed, so one failing program can be regenerated alone.
    let program_seed = |i: u64| seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i;
    // Every fourth program gets a heap so small that it usually runs out of memory
    // somewhere (the machine and the reference evaluator must agree on where).
    let flags = |i: u64| -> Vec<String> {
        let heap = if i % 4 == 3 { "64" } else { "16777216" };
        [
            "--solve-fuel",
            "20000",
            "--max-memory-bytes",
            heap,
            "--cpu-time-limit-seconds",
            "10",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let results = cli::parallel_map(&jobs, |&i| {
        let (program, input) = generate(program_seed(i));
        let text = program.to_string();
        let outcome = cli::run_program(&text, &input, &flags(i), Duration::from_secs(60))
            .and_then(|run| check(&validator, &run));
        (i, text, input, outcome)
    });
    let mut failures = Vec::new();
    let (mut ok, mut ce, mut trap) = (0, 0, 0);
    for (i, text, input, outcome) in &results {
        match outcome {
            Ok(Kind::Ok) => ok += 1,
            Ok(Kind::CompileError) => ce += 1,
            Ok(Kind::Trap) => trap += 1,
            Err(problem) => failures.push(format!(
                "program #{i} (X07_GRAMMAR_FUZZ_SEED={seed}), input {:?}:\n  {problem}\n  {text}",
                String::from_utf8_lossy(input)
            )),
        }
    }
    eprintln!(
        "grammar fuzz: {iterations} programs (seed {seed}): {ok} ran ok, {trap} trapped, {ce} compile errors, {} failures",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {iterations} generated programs broke the runner:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // The generator must reach the evaluator, not only the compiler's error paths.
    assert!(
        (ok + trap) * 10 >= iterations,
        "only {} of {iterations} programs compiled",
        ok + trap
    );
}

#[test]
fn generation_is_deterministic_and_varied() {
    let (a, _) = generate(42);
    let (b, _) = generate(42);
    assert_eq!(a, b);
    let distinct: std::collections::BTreeSet<String> =
        (0..50).map(|s| generate(s).0.to_string()).collect();
    assert!(distinct.len() >= 48, "{} distinct programs", distinct.len());
    // The forms the rules are about all show up.
    let all: String = (0..400).map(|s| generate(s).0.to_string()).collect();
    for needle in [
        "\"for\"",
        "\"while\"",
        "\"set0\"",
        "\"return\"",
        "\"bytes.view\"",
        "\"vec_u8.as_view\"",
        "\"try\"",
        "\"main.f0\"",
        "\"bytes_view\"",
        "[\"+\",[\"let\"",
    ] {
        assert!(
            all.contains(needle),
            "no generated program contains {needle}"
        );
    }
}
