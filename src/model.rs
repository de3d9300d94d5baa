//! Plain data that flows between the pipeline stages
//! (discover → plan → run → check → report).
//!
//! Nothing here does I/O; every stage takes and returns these types.

/// The identity of one test case: one fixture × one case × one profile.
///
/// Its [`CaseId::test_name`] is the stable, user-visible test name
/// `<fixture path>::<case>::<profile>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseId {
    /// Path of the fixture directory (or smoke-suite file), relative to the
    /// workspace root, with `/` separators on every platform.
    pub fixture: String,
    /// Name of the case inside the fixture (`default` when the fixture has none).
    pub case: String,
    /// Profile name from `x07.json` (`os`, `sandbox`, …), or the world name
    /// (`run-os`, `run-os-sandboxed`) for smoke-suite cases.
    pub profile: String,
}

impl CaseId {
    /// The test name shown by `--list` and used by filters: `<fixture>::<case>::<profile>`.
    pub fn test_name(&self) -> String {
        format!("{}::{}::{}", self.fixture, self.case, self.profile)
    }

    /// Splits a test name back into its parts; `None` when it has fewer than three `::` parts.
    ///
    /// The fixture part may itself not contain `::`; case and profile never do.
    pub fn parse_test_name(name: &str) -> Option<CaseId> {
        let mut parts = name.rsplitn(3, "::");
        let profile = parts.next()?;
        let case = parts.next()?;
        let fixture = parts.next()?;
        if fixture.is_empty() || case.is_empty() || profile.is_empty() {
            return None;
        }
        Some(CaseId {
            fixture: fixture.to_string(),
            case: case.to_string(),
            profile: profile.to_string(),
        })
    }
}

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseStatus {
    /// Every check held.
    Passed,
    /// At least one check failed, or the case could not be run at all.
    Failed,
    /// The case is marked `ignore` and was not run.
    Ignored,
}
