//! Variables, scopes, move states and borrows of the function being checked
//! (subset §5; semantics R10, R11, R15–R17).

use std::collections::HashMap;

use super::FnCk;
use crate::parse::CompileError;
use crate::tir::VarId;
use crate::types::Ty;

/// Move state of a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum MoveState {
    /// Holds a value.
    Live,
    /// Consumed at a pointer, or on only some paths (`None` prints `<unknown>`).
    Moved(Option<String>),
}

/// Where a view value borrows from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Src {
    /// Owned variables the view points into; empty for `input`, literals and views that
    /// came from outside the function (semantics R17: those mix freely).
    pub owners: Vec<VarId>,
}

impl Src {
    /// No owner.
    pub fn none() -> Src {
        Src::default()
    }

    /// A view of one owned variable.
    pub fn of(v: VarId) -> Src {
        Src { owners: vec![v] }
    }

    /// Both sources (a value that may come from either).
    pub fn union(mut self, other: &Src) -> Src {
        for &o in &other.owners {
            if !self.owners.contains(&o) {
                self.owners.push(o);
            }
        }
        self
    }

    /// Whether the view borrows `v`.
    pub fn contains(&self, v: VarId) -> bool {
        self.owners.contains(&v)
    }

    /// Merges the sources of two paths; `None` when both borrow different owners
    /// (semantics R17).
    pub fn merge(a: &Src, b: &Src) -> Option<Src> {
        if a.owners.is_empty() {
            return Some(b.clone());
        }
        if b.owners.is_empty() {
            return Some(a.clone());
        }
        let mut x = a.owners.clone();
        let mut y = b.owners.clone();
        x.sort_unstable();
        y.sort_unstable();
        (x == y).then(|| a.clone())
    }
}

/// Whether values of the type borrow from an owner.
pub(super) fn is_view_ty(ty: Ty) -> bool {
    matches!(
        ty,
        Ty::BytesView | Ty::OptionBytesView | Ty::ResultBytesView
    )
}

/// A local variable while its function is checked.
#[derive(Debug, Clone)]
pub(super) struct VarInfo {
    pub name: String,
    pub ty: Ty,
    pub state: MoveState,
    /// For view variables: what they borrow.
    pub src: Src,
    /// Pointer of the expression that created the current borrow.
    pub borrow_ptr: String,
}

/// One lexical scope: its variables and the borrows held by view expressions used as
/// statements (semantics R10), which last until the scope ends.
#[derive(Debug, Default)]
pub(super) struct Scope {
    pub vars: Vec<VarId>,
    /// The latest variable of each name declared here.
    pub names: HashMap<String, VarId>,
    /// The view variables declared here, in order (what can borrow an owner).
    pub views: Vec<VarId>,
    pub temp_borrows: Vec<VarId>,
}

/// The state of the tracked variables (`FnCk::tracked`, by position) saved before a
/// branch or loop.
#[derive(Debug, Clone)]
pub(super) struct Snapshot {
    pub states: Vec<MoveState>,
    pub srcs: Vec<Src>,
}

impl FnCk<'_, '_> {
    /// Declares a variable in the innermost scope.
    pub(super) fn declare(&mut self, name: &str, ty: Ty, src: Src, borrow_ptr: &str) -> VarId {
        let id = self.vars.len() as VarId;
        self.vars.push(VarInfo {
            name: name.to_string(),
            ty,
            state: MoveState::Live,
            src,
            borrow_ptr: borrow_ptr.to_string(),
        });
        if ty.is_owned() || is_view_ty(ty) {
            self.tracked.push(id);
        }
        if let Some(scope) = self.scopes.last_mut() {
            scope.vars.push(id);
            scope.names.insert(name.to_string(), id);
            if is_view_ty(ty) {
                scope.views.push(id);
            }
        }
        id
    }

    /// Whether `name` is already declared in the innermost scope.
    pub(super) fn declared_here(&self, name: &str) -> bool {
        self.scopes
            .last()
            .is_some_and(|s| s.names.contains_key(name))
    }

    /// The visible variable called `name`.
    pub(super) fn lookup(&self, name: &str) -> Option<VarId> {
        self.scopes
            .iter()
            .rev()
            .find_map(|s| s.names.get(name).copied())
    }

    pub(super) fn push_scope(&mut self) {
        self.scopes.push(Scope::default());
    }

    /// Ends the innermost scope; returns its non-i32 variables (they die here).
    pub(super) fn pop_scope(&mut self) -> Vec<VarId> {
        let scope = self.scopes.pop().unwrap_or_default();
        scope
            .vars
            .into_iter()
            .filter(|&v| self.vars[v as usize].ty != Ty::I32)
            .collect()
    }

    /// Records that a view expression used as a statement borrows `src` until the
    /// innermost scope ends (semantics R10).
    pub(super) fn hold_temp_borrow(&mut self, src: &Src) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.temp_borrows.extend(src.owners.iter().copied());
        }
    }

    /// A live borrow of `owner`: the borrowing view variable's name and borrow pointer,
    /// or `None` for a statement view (R10) / no borrow at all.
    pub(super) fn borrower_of(&self, owner: VarId) -> Option<(Option<String>, String)> {
        for scope in &self.scopes {
            for &v in &scope.views {
                let var = &self.vars[v as usize];
                if v != owner && var.src.contains(owner) {
                    return Some((Some(var.name.clone()), var.borrow_ptr.clone()));
                }
            }
            if scope.temp_borrows.contains(&owner) {
                return Some((None, String::new()));
            }
        }
        None
    }

    /// Rejects consuming `v` while it is borrowed.
    pub(super) fn check_move_allowed(&self, v: VarId, ptr: &str) -> Result<(), CompileError> {
        if self.borrower_of(v).is_some() {
            return Err(CompileError::new(format!(
                "Typing: move while borrowed: {:?} (fn={} ptr={ptr})",
                self.vars[v as usize].name, self.fname
            )));
        }
        Ok(())
    }

    /// The `use after move` error; `ptr` is the bad use, omitted on the paths where the
    /// compiler takes a plain variable by name (`let x <var>`, consumed builtin owners).
    pub(super) fn use_after_move(
        &self,
        v: VarId,
        moved: &Option<String>,
        ptr: Option<&str>,
    ) -> CompileError {
        let moved_ptr = moved.clone().unwrap_or_else(|| "<unknown>".to_string());
        let name = &self.vars[v as usize].name;
        match ptr {
            Some(p) => CompileError::new(format!(
                "Typing: use after move: {name:?} moved_ptr={moved_ptr} (fn={} ptr={p})",
                self.fname
            )),
            None => CompileError::new(format!(
                "Typing: use after move: {name:?} moved_ptr={moved_ptr} (fn={})",
                self.fname
            )),
        }
    }

    /// The move states and borrow sources of the variables that have them (owned and
    /// view variables; the others never change), in declaration order.
    pub(super) fn snapshot(&self) -> Snapshot {
        Snapshot {
            states: self
                .tracked
                .iter()
                .map(|&v| self.vars[v as usize].state.clone())
                .collect(),
            srcs: self
                .tracked
                .iter()
                .map(|&v| self.vars[v as usize].src.clone())
                .collect(),
        }
    }

    /// Puts the saved states back (variables declared since then keep theirs; they are
    /// out of scope anyway).
    pub(super) fn restore(&mut self, snap: &Snapshot) {
        for (k, (state, src)) in snap.states.iter().zip(&snap.srcs).enumerate() {
            let i = self.tracked[k] as usize;
            self.vars[i].state = state.clone();
            self.vars[i].src = src.clone();
        }
    }

    /// The state after an `if` (or a short-circuit operand) whose two paths ended in
    /// `a` and `b`; `before` is the state at the fork (semantics R16, R17).
    pub(super) fn merge_paths(
        &mut self,
        before: &Snapshot,
        a: (&Snapshot, bool),
        b: (&Snapshot, bool),
    ) -> Result<(), CompileError> {
        let ((sa, da), (sb, db)) = (a, b);
        for k in 0..before.states.len() {
            let i = self.tracked[k] as usize;
            let (state, src) = match (da, db) {
                (true, false) => (sb.states[k].clone(), sb.srcs[k].clone()),
                (false, true) | (true, true) => (sa.states[k].clone(), sa.srcs[k].clone()),
                (false, false) => {
                    let state = merge_state(&before.states[k], &sa.states[k], &sb.states[k]);
                    let src = if is_view_ty(self.vars[i].ty) {
                        match Src::merge(&sa.srcs[k], &sb.srcs[k]) {
                            Some(s) => s,
                            None => {
                                return Err(CompileError::new(format!(
                                    "Typing: BytesView must have a single borrow source across branches (fn={})",
                                    self.fname
                                )))
                            }
                        }
                    } else {
                        sa.srcs[k].clone()
                    };
                    (state, src)
                }
            };
            self.vars[i].state = state;
            self.vars[i].src = src;
        }
        Ok(())
    }
}

/// One variable's state after two paths (semantics R16): moved on either path means
/// moved at an unknown place, except that a variable moved before the fork and re-set
/// on only one path keeps its original move.
fn merge_state(before: &MoveState, a: &MoveState, b: &MoveState) -> MoveState {
    match (a, b) {
        (MoveState::Live, MoveState::Live) => MoveState::Live,
        (x, y) if x == y => x.clone(),
        _ => {
            if let MoveState::Moved(Some(p)) = before {
                let keeps = |s: &MoveState| match s {
                    MoveState::Live => true,
                    MoveState::Moved(q) => q.as_deref() == Some(p.as_str()),
                };
                if keeps(a) && keeps(b) {
                    return before.clone();
                }
            }
            MoveState::Moved(None)
        }
    }
}
