//! Selection: which planned cases a run reports on, exactly as libtest selects tests
//! (FILTER, `--exact`, `--skip`, `--ignored`, `--include-ignored`), after `--profile` and
//! before `--partition` (so `slice` splits what the filters keep). `--last-failed` is one
//! more filter (applied with the others, before the partition); `--failed-first` only
//! reorders what is selected.

use std::collections::BTreeSet;

use libtest_mimic::{Arguments, Trial};

use crate::engine::{RunPlan, SelectedCase};
use crate::partition::Partition;
use crate::plan::PlannedCase;

/// What selects the cases of a run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `--profile`: only these profiles (all when empty).
    pub profiles: Vec<String>,
    /// `--partition`: only this shard.
    pub partition: Option<Partition>,
    /// libtest's test-name filters and ignore flags.
    pub libtest: Arguments,
    /// `--last-failed`: only the cases with these test names (the last run's failures).
    pub only: Option<BTreeSet<String>>,
    /// `--failed-first`: the cases with these test names run before the others.
    pub first: Option<BTreeSet<String>>,
}

/// A probe trial carrying only what libtest's selection looks at.
fn probe(case: &PlannedCase) -> Trial {
    Trial::test(case.id.test_name(), || Ok(())).with_ignored_flag(case.ignore.is_some())
}

impl Selection {
    /// Whether a test-name filter is given (FILTER, `--skip`, `--ignored`, `--last-failed`).
    pub fn name_filtered(&self) -> bool {
        self.libtest.filter.is_some()
            || !self.libtest.skip.is_empty()
            || self.libtest.ignored
            || self.only.is_some()
    }

    /// The name `--exact` selects, when there is one (only that fixture needs planning).
    pub fn exact_name(&self) -> Option<&str> {
        if self.libtest.exact {
            self.libtest.filter.as_deref()
        } else {
            None
        }
    }

    /// Whether `--profile` keeps cases of `profile`.
    pub fn selects_profile(&self, profile: &str) -> bool {
        self.profiles.is_empty() || self.profiles.iter().any(|selected| selected == profile)
    }

    /// Whether the test-name filters keep `case` (it is then run or reported ignored).
    pub fn selects_name(&self, case: &PlannedCase) -> bool {
        !self.libtest.is_filtered_out(&probe(case))
    }

    /// The run plan for `cases`; `total_cases` is how many cases the workspace has (more
    /// than `cases.len()` when `--exact` planned only one fixture).
    pub fn plan(&self, mut cases: Vec<PlannedCase>, total_cases: usize) -> RunPlan {
        cases.retain(|case| self.selects_profile(&case.id.profile) && self.selects_name(case));
        if let Some(only) = &self.only {
            cases.retain(|case| only.contains(&case.id.test_name()));
        }
        if let Some(partition) = &self.partition {
            partition.retain(&mut cases, |case| &case.id);
        }
        if let Some(first) = &self.first {
            // A stable sort: each group keeps the plan's order.
            cases.sort_by_key(|case| !first.contains(&case.id.test_name()));
        }
        let selected: Vec<SelectedCase> = cases
            .into_iter()
            .map(|case| {
                let ignored = if self.libtest.is_ignored(&probe(&case)) {
                    Some(case.ignore.clone().unwrap_or_else(|| "ignored".into()))
                } else {
                    None
                };
                SelectedCase { case, ignored }
            })
            .collect();
        RunPlan {
            filtered_out: total_cases.saturating_sub(selected.len()),
            cases: selected,
            name_filtered: self.name_filtered(),
            partition: self.partition,
            ..RunPlan::default()
        }
    }
}
