//! The exit codes of `cargo x07 test` and of a harness test target — decided here, once,
//! for both (documented in `docs/ci.md`). They follow nextest's convention, so that CI
//! scripts can tell "tests failed" from "the run was misconfigured".
//!
//! | code | when |
//! |---|---|
//! | 0 | every selected case passed or was ignored; also when a test-name filter (FILTER, `--skip`, `--exact`, `--ignored`) selects nothing, as libtest does (so `cargo test <filter>` across a workspace is not failed by this target) |
//! | 1 | a case failed |
//! | 2 | usage or configuration error (nothing ran), or every case passed but an output (JUnit file, step summary) could not be written |
//! | 4 | no case was selected without a test-name filter (no fixtures at all, an empty `--partition` shard, a `--profile` nobody has), unless `--allow-empty` |

use super::RunSummary;

/// Every selected case passed (or was ignored).
pub const ALL_PASSED: i32 = 0;
/// At least one case failed.
pub const CASES_FAILED: i32 = 1;
/// Bad command line, bad configuration, or an output that could not be written.
pub const USAGE_ERROR: i32 = 2;
/// No case was selected and `--allow-empty` was not given.
pub const NO_CASES_SELECTED: i32 = 4;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// Every selected case passed or was ignored.
    Passed,
    /// At least one case failed.
    Failed,
    /// No case was selected (without a test-name filter) and empty runs are not allowed.
    NoCasesSelected,
}

impl RunOutcome {
    /// The outcome of a run: `failed` cases of `selected`; `name_filtered` when a
    /// test-name filter was given; `allow_empty` turns an empty run into a pass.
    pub fn decide(failed: usize, selected: usize, name_filtered: bool, allow_empty: bool) -> Self {
        if failed > 0 {
            RunOutcome::Failed
        } else if selected == 0 && !name_filtered && !allow_empty {
            RunOutcome::NoCasesSelected
        } else {
            RunOutcome::Passed
        }
    }

    /// The process exit code for this outcome.
    pub fn exit_code(self) -> i32 {
        match self {
            RunOutcome::Passed => ALL_PASSED,
            RunOutcome::Failed => CASES_FAILED,
            RunOutcome::NoCasesSelected => NO_CASES_SELECTED,
        }
    }
}

/// The process exit code of a finished run: its outcome's code, except that a run whose
/// cases all passed exits 2 when an output could not be written.
pub fn process_exit_code(summary: &RunSummary, output_errors: usize) -> i32 {
    match summary.outcome {
        RunOutcome::Passed if output_errors > 0 => USAGE_ERROR,
        outcome => outcome.exit_code(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_runs_to_the_documented_codes() {
        let code = |failed, selected, filtered, allow| {
            RunOutcome::decide(failed, selected, filtered, allow).exit_code()
        };
        assert_eq!(code(0, 3, false, false), 0);
        assert_eq!(code(1, 3, false, false), 1);
        assert_eq!(code(0, 0, false, false), 4);
        assert_eq!(code(0, 0, false, true), 0);
        // A test-name filter that selects nothing: like libtest.
        assert_eq!(code(0, 0, true, false), 0);
        assert_eq!(USAGE_ERROR, 2);
    }
}
