//! The last run's verdicts, for `--failed-first` / `--last-failed` and for the
//! "since the last run" lines of the summary.
//!
//! Every `cargo x07 test` (and harness) run that executes cases writes
//! `<cargo target dir>/cargo-x07/last-run.json` at its end: the status of each case that
//! finished, merged over what the file said before, so a run of one shard, one profile or
//! one filter updates only its own cases (entries of cases the workspace no longer has are
//! dropped when the whole workspace was planned). The file is small JSON
//! (`cargo-x07.last-run@0.1.0`: `{"schema_version", "cases": {"<test name>": "passed" |
//! "failed" | "ignored"}}`), written atomically (a temporary file renamed over it), so a
//! reader never sees half a file; two runs finishing at the same moment keep the later
//! one's view.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::CaseOutcome;
use crate::model::{CaseId, CaseStatus};

/// The `schema_version` of the state file.
pub const LAST_RUN_SCHEMA_VERSION: &str = "cargo-x07.last-run@0.1.0";

/// The state file, relative to cargo's target directory.
pub const LAST_RUN_FILE: &str = "cargo-x07/last-run.json";

/// A case's status as the state file records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordedStatus {
    /// Every check held.
    Passed,
    /// A check failed or the case could not run.
    Failed,
    /// Reported as ignored.
    Ignored,
}

impl From<CaseStatus> for RecordedStatus {
    fn from(status: CaseStatus) -> Self {
        match status {
            CaseStatus::Passed => RecordedStatus::Passed,
            CaseStatus::Failed => RecordedStatus::Failed,
            CaseStatus::Ignored => RecordedStatus::Ignored,
        }
    }
}

/// The contents of the state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastRun {
    /// Always [`LAST_RUN_SCHEMA_VERSION`].
    pub schema_version: String,
    /// Test name → status, sorted by name.
    pub cases: BTreeMap<String, RecordedStatus>,
}

impl Default for LastRun {
    fn default() -> Self {
        LastRun {
            schema_version: LAST_RUN_SCHEMA_VERSION.to_string(),
            cases: BTreeMap::new(),
        }
    }
}

/// Why the state file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// It could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// It is not a state file of this version.
    #[error("{} is not a {LAST_RUN_SCHEMA_VERSION} file: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// It could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl LastRun {
    /// Where the state file of a workspace whose cargo target directory is `target_dir` lives.
    pub fn path(target_dir: &Path) -> PathBuf {
        target_dir.join(LAST_RUN_FILE)
    }

    /// Reads the state file; `Ok(None)` when there is none yet.
    pub fn load(path: &Path) -> Result<Option<LastRun>, HistoryError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(HistoryError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let format = |message: String| HistoryError::Format {
            path: path.to_path_buf(),
            message,
        };
        let state: LastRun =
            serde_json::from_slice(&bytes).map_err(|error| format(error.to_string()))?;
        if state.schema_version != LAST_RUN_SCHEMA_VERSION {
            return Err(format(format!(
                "schema_version is {:?}",
                state.schema_version
            )));
        }
        Ok(Some(state))
    }

    /// The names of the cases that failed when they last ran.
    pub fn failed(&self) -> BTreeSet<String> {
        self.cases
            .iter()
            .filter(|(_, status)| **status == RecordedStatus::Failed)
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// This state updated with the cases of a run that finished. When `planned` is given
    /// (every test name of the planned fixtures, when the run planned them all), entries
    /// of those fixtures with other names (removed or renamed cases) are dropped, and so
    /// are entries whose fixture no longer exists under `workspace_root`.
    pub fn updated(
        &self,
        outcomes: &[CaseOutcome],
        planned: Option<&HashSet<String>>,
        workspace_root: &Path,
    ) -> LastRun {
        let mut next = self.clone();
        next.schema_version = LAST_RUN_SCHEMA_VERSION.to_string();
        for outcome in outcomes {
            next.cases
                .insert(outcome.id().test_name(), outcome.status.into());
        }
        if let Some(planned) = planned {
            let fixtures: HashSet<String> = planned
                .iter()
                .filter_map(|name| CaseId::parse_test_name(name).map(|id| id.fixture))
                .collect();
            next.cases.retain(|name, _| {
                if planned.contains(name) {
                    return true;
                }
                match CaseId::parse_test_name(name) {
                    Some(id) => {
                        !fixtures.contains(&id.fixture) && workspace_root.join(&id.fixture).exists()
                    }
                    None => false,
                }
            });
        }
        next
    }

    /// Writes the state file atomically, creating its directory.
    pub fn save(&self, path: &Path) -> Result<(), HistoryError> {
        let write = |source: std::io::Error| HistoryError::Write {
            path: path.to_path_buf(),
            source,
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(write)?;
        let mut text = serde_json::to_string_pretty(self).expect("the state serialises");
        text.push('\n');
        let mut file = tempfile::NamedTempFile::new_in(dir).map_err(write)?;
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(write)?;
        file.persist(path).map_err(|error| write(error.error))?;
        Ok(())
    }
}

/// What changed since the last run, among the cases of this run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinceLastRun {
    /// Cases that fail now and passed (or were not recorded) last time, by name.
    pub newly_failed: Vec<String>,
    /// Cases that pass now and failed last time, by name.
    pub fixed: Vec<String>,
}

impl SinceLastRun {
    /// Compares the outcomes of a run with the recorded statuses.
    pub fn compare(previous: &LastRun, outcomes: &[CaseOutcome]) -> SinceLastRun {
        let mut since = SinceLastRun::default();
        for outcome in outcomes {
            let name = outcome.id().test_name();
            let before = previous.cases.get(&name).copied();
            match outcome.status {
                CaseStatus::Failed if before != Some(RecordedStatus::Failed) => {
                    since.newly_failed.push(name)
                }
                CaseStatus::Passed if before == Some(RecordedStatus::Failed) => {
                    since.fixed.push(name)
                }
                _ => {}
            }
        }
        since.newly_failed.sort();
        since.fixed.sort();
        since
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.newly_failed.is_empty() && self.fixed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_file_round_trips_and_a_missing_file_is_no_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = LastRun::path(dir.path());
        assert!(LastRun::load(&path).unwrap().is_none());
        let mut state = LastRun::default();
        state
            .cases
            .insert("a::c::os".into(), RecordedStatus::Failed);
        state
            .cases
            .insert("b::c::os".into(), RecordedStatus::Passed);
        state.save(&path).unwrap();
        assert_eq!(LastRun::load(&path).unwrap(), Some(state.clone()));
        assert_eq!(state.failed(), BTreeSet::from(["a::c::os".to_string()]));
        std::fs::write(&path, "{\"schema_version\":\"other\",\"cases\":{}}").unwrap();
        let error = LastRun::load(&path).unwrap_err().to_string();
        assert!(
            error.contains("is not a cargo-x07.last-run@0.1.0 file"),
            "{error}"
        );
    }
}
