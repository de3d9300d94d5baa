//! Running the cases for `--message-format json`, where stdout carries only JSON events.
//!
//! libtest-mimic always prints its own lines on stdout, so in JSON mode the test command
//! runs the cases itself, selecting them exactly as libtest would (filters, `--skip`,
//! `--exact`, `--ignored`, `--include-ignored`), and every finished case reaches the
//! reporters through the [`Collector`]'s callback.

use libtest_mimic::{Arguments, Trial};
use rayon::prelude::*;

use crate::plan::PlannedCase;
use crate::run::Runner;
use crate::suite::{self, Collector};

/// A probe trial carrying only what libtest's selection looks at.
fn probe(case: &PlannedCase) -> Trial {
    Trial::test(case.id.test_name(), || Ok(())).with_ignored_flag(case.ignore.is_some())
}

/// Whether libtest's filters keep `case` (it is then either run or reported ignored).
pub fn is_selected(args: &Arguments, case: &PlannedCase) -> bool {
    !args.is_filtered_out(&probe(case))
}

/// How many cases the filters keep: the number a run reports on.
pub fn selected_count(args: &Arguments, cases: &[PlannedCase]) -> usize {
    cases.iter().filter(|case| is_selected(args, case)).count()
}

/// Runs every selected, non-ignored case on `pool` and records an ignored result for each
/// selected ignored case; every outcome goes to `collector` as soon as it is known.
pub fn run_selected(
    args: &Arguments,
    cases: &[PlannedCase],
    runner: &Runner,
    pool: &rayon::ThreadPool,
    collector: &Collector,
) {
    let selected: Vec<(&PlannedCase, bool)> = cases
        .iter()
        .map(|case| (case, probe(case)))
        .filter(|(_, trial)| !args.is_filtered_out(trial))
        .map(|(case, trial)| (case, args.is_ignored(&trial)))
        .collect();
    pool.install(|| {
        selected.par_iter().for_each(|(case, ignored)| {
            let outcome = if *ignored {
                suite::CaseOutcome {
                    case: (*case).clone(),
                    result: suite::ignored_result(case),
                    verdict: None,
                    output: None,
                }
            } else {
                suite::execute_case(case, runner)
            };
            collector.push(outcome);
        });
    });
}
