//! The exit codes of `cargo x07 test` (documented in `docs/ci.md`), following nextest's
//! convention so that CI scripts can tell "tests failed" from "the run was misconfigured".

use super::RunTotals;

/// Every selected case passed (or was ignored).
pub const ALL_PASSED: i32 = 0;
/// At least one case failed.
pub const CASES_FAILED: i32 = 1;
/// Bad command line, bad configuration, or a fixture set that could not be discovered.
pub const USAGE_ERROR: i32 = 2;
/// No case was selected (after filters and `--partition`) and `--allow-empty` was not given.
pub const NO_CASES_SELECTED: i32 = 4;

/// How a run that got as far as selecting cases ended, and which code it exits with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// Every selected case passed or was ignored.
    Passed,
    /// At least one case failed.
    Failed,
    /// No case was selected and empty runs are not allowed.
    NoCasesSelected,
}

impl RunOutcome {
    /// The outcome of a run with these totals; `allow_empty` turns an empty run into a pass.
    pub fn from_totals(totals: &RunTotals, allow_empty: bool) -> RunOutcome {
        if totals.failed > 0 {
            RunOutcome::Failed
        } else if totals.total() == 0 && !allow_empty {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(passed: usize, failed: usize, ignored: usize) -> RunTotals {
        RunTotals {
            passed,
            failed,
            ignored,
        }
    }

    #[test]
    fn maps_totals_to_the_documented_codes() {
        assert_eq!(
            RunOutcome::from_totals(&totals(3, 0, 1), false).exit_code(),
            0
        );
        assert_eq!(
            RunOutcome::from_totals(&totals(3, 1, 0), false).exit_code(),
            1
        );
        assert_eq!(
            RunOutcome::from_totals(&totals(0, 0, 0), false).exit_code(),
            4
        );
        assert_eq!(
            RunOutcome::from_totals(&totals(0, 0, 0), true).exit_code(),
            0
        );
        // Ignored cases were selected: the run is not empty.
        assert_eq!(
            RunOutcome::from_totals(&totals(0, 0, 2), false).exit_code(),
            0
        );
        assert_eq!(USAGE_ERROR, 2);
    }
}
