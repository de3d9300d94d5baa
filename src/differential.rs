//! The profile differential (`cargo x07 test --differential`, or `differential = true`
//! in `[workspace.metadata.x07]`): a sandbox case that expects a denial is run a second
//! time under the fixture's `os` profile — the same case, input and run options, without
//! the policy — and must not end the same way there. A denial that the program also
//! produces without the policy is not evidence of the policy.
//!
//! Which sandbox cases expect a denial: those whose expected ending (trap, exit code,
//! `solve_ok`, exit status, output, compile error) differs from what their `os` sibling
//! (same fixture and case) expects, when the sandbox one expects a failure (a trap or a
//! non-zero exit) or an output of its own (a denial returned as an error value); without
//! an `os` sibling, any expected trap or failing exit. A fixture whose cases expect the
//! same ending under every profile says that the policy makes no difference, and is not
//! checked.
//!
//! A fixture without `x07test.json` expects nothing but exit code 0; for it the
//! differential compares the two runs and flags a sandbox run that ends differently from
//! the `os` run (another output, a trap), since no expectation says the profiles differ.
//!
//! The `os` run gets the sandbox run's wall time twice over plus two seconds (at most the
//! case's timeout): an `os` run still going by then did not end the way the sandbox run
//! did (a wall or CPU limit of the policy stopped that one). The check runs only after the
//! sandbox case passed its own checks, on the same worker and backend (so in the run's
//! environment, [`crate::run::RunnerEnv`]); its result is a [`Failure::Differential`] on
//! the sandbox case.
//!
//! Only `x07 run` cases of project fixtures are compared. Sandboxed `x07 test` manifest
//! entries are not ([`MANIFEST_NOT_COMPARED`]): their world and policy are fixed by the
//! manifest entry, not chosen by a profile, so there is no `os` sibling to run; they run
//! and are checked as usual, and the run says how many were left out.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::backend::Backend;
use crate::check::Actual;
use crate::engine::{self, CaseOutcome, SelectedCase};
use crate::failure::{DifferentialFailure, Failure, RunEnding};
use crate::fixture::{EXPECTATIONS_FILE, PROJECT_FILE};
use crate::model::{CaseId, CaseStatus};
use crate::plan::{Expected, NullableTextCheck, PlannedCase, Target, SANDBOX_WORLD};
use crate::run;

/// The world of the profile a sandbox case is compared with.
pub const OS_WORLD: &str = "run-os";

/// Why a sandboxed `x07 test` manifest case has no `os` companion run.
pub const MANIFEST_NOT_COMPARED: &str =
    "an x07 test manifest entry's world and policy_json are fixed by the manifest, so it has no os profile to compare with";

/// How many of the selected cases are sandboxed `x07 test` manifest entries, which the
/// differential leaves out (see [`MANIFEST_NOT_COMPARED`]).
pub fn manifest_cases_not_compared(selected: &[SelectedCase]) -> usize {
    selected
        .iter()
        .filter(|selected| {
            selected.case.world == SANDBOX_WORLD
                && matches!(selected.case.target, Target::TestManifest(_))
        })
        .count()
}

/// What the differential does after a sandbox case passed.
#[derive(Debug, Clone)]
pub enum Companion {
    /// The case expects a denial: `os_case` (the case under `os`, expecting the sandbox
    /// case's ending) must not pass.
    Denial {
        /// The case under the `os` profile.
        os_case: PlannedCase,
    },
    /// The fixture has no expectations file: the `os` run must end like the sandbox run.
    SameOutcome {
        /// The case under the `os` profile.
        os_case: PlannedCase,
    },
    /// The case cannot be run without its policy.
    Unavailable(DifferentialFailure),
}

/// The companions of the selected sandbox cases that need one, by case. `all` is every
/// planned case of the workspace (the `os` siblings need not be selected).
pub fn companions(
    selected: &[SelectedCase],
    all: &[PlannedCase],
) -> HashMap<CaseId, Arc<Companion>> {
    let mut siblings: HashMap<(&str, &str), &PlannedCase> = HashMap::new();
    for case in all {
        if case.world == OS_WORLD && matches!(case.target, Target::Project { .. }) {
            siblings
                .entry((case.id.fixture.as_str(), case.id.case.as_str()))
                .or_insert(case);
        }
    }
    let mut out = HashMap::new();
    for selected in selected {
        let case = &selected.case;
        if selected.ignored.is_some()
            || case.ignore.is_some()
            || !case.problems.is_empty()
            || case.world != SANDBOX_WORLD
        {
            continue;
        }
        let Target::Project { dir, .. } = &case.target else {
            continue;
        };
        let sibling = siblings
            .get(&(case.id.fixture.as_str(), case.id.case.as_str()))
            .copied();
        let has_expectations = case
            .source_file
            .file_name()
            .is_some_and(|name| name == EXPECTATIONS_FILE);
        let denial = has_expectations && expects_denial(&case.expect, sibling.map(|s| &s.expect));
        if has_expectations && !denial {
            continue;
        }
        let companion = match os_profile(sibling, dir) {
            None => Companion::Unavailable(DifferentialFailure::NoOsProfile {
                manifest: dir.join(PROJECT_FILE),
            }),
            Some(profile) => {
                let os_case = os_case(case, &profile, denial);
                if denial {
                    Companion::Denial { os_case }
                } else {
                    Companion::SameOutcome { os_case }
                }
            }
        };
        out.insert(case.id.clone(), Arc::new(companion));
    }
    out
}

/// Whether a sandbox case's expectations claim a denial (see the module documentation).
pub fn expects_denial(sandbox: &Expected, os_sibling: Option<&Expected>) -> bool {
    let fails = matches!(sandbox.trap, NullableTextCheck::Matches(_))
        || sandbox.exit_code.is_some_and(|code| code != 0)
        || sandbox.solve_ok == Some(false);
    match os_sibling {
        Some(os) => {
            let output_of_its_own = sandbox
                .output
                .as_ref()
                .is_some_and(|output| os.output.as_ref().map(|o| &o.bytes) != Some(&output.bytes));
            ending_signature(sandbox) != ending_signature(os) && (fails || output_of_its_own)
        }
        None => fails && sandbox.compile_ok != Some(false),
    }
}

/// The ending keys of an expectation, as one comparable string.
fn ending_signature(expect: &Expected) -> String {
    let text = |check: &NullableTextCheck| match check {
        NullableTextCheck::Off => "off".to_string(),
        NullableTextCheck::MustBeNull => "null".to_string(),
        NullableTextCheck::Matches(matcher) => matcher.describe(),
    };
    format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{}|{}",
        expect.exit_code,
        expect.compile_ok,
        expect.solve_ok,
        expect.exit_status,
        expect.output.as_ref().map(|output| &output.bytes),
        text(&expect.trap),
        text(&expect.compile_error)
    )
}

/// The `os` profile to run a case under: its `os` sibling's, else the first profile of
/// `x07.json` whose world is `run-os` (one named `os` first).
fn os_profile(sibling: Option<&PlannedCase>, dir: &Path) -> Option<String> {
    if let Some(Target::Project {
        profile: Some(profile),
        ..
    }) = sibling.map(|s| &s.target)
    {
        return Some(profile.clone());
    }
    let manifest = crate::fixture::read_json(&dir.join(PROJECT_FILE)).ok()?;
    let profiles = manifest.get("profiles")?.as_object()?;
    let is_os = |name: &str| {
        profiles
            .get(name)
            .and_then(|decl| decl.get("world"))
            .and_then(|world| world.as_str())
            == Some(OS_WORLD)
    };
    if is_os("os") {
        return Some("os".to_string());
    }
    profiles.keys().find(|name| is_os(name)).cloned()
}

/// The sandbox case under the `os` profile: same input and run options, without the
/// policy and the derived-policy flags (x07 refuses those outside the sandbox).
fn os_case(case: &PlannedCase, profile: &str, denial: bool) -> PlannedCase {
    let mut os = case.clone();
    os.id.profile = profile.to_string();
    os.world = OS_WORLD.to_string();
    if let Target::Project { profile: flag, .. } = &mut os.target {
        *flag = Some(profile.to_string());
    }
    os.run.policy = None;
    os.run.allow_hosts.clear();
    os.run.deny_hosts.clear();
    os.run.allow_read_roots.clear();
    os.run.allow_write_roots.clear();
    if denial {
        // Only how the run ends is compared.
        os.expect.world = Some(OS_WORLD.to_string());
        os.expect.stderr = None;
        os.expect.solve_stderr = None;
    }
    os.ignore = None;
    os
}

/// How a report says a run ended.
pub fn run_ending(actual: &Actual) -> RunEnding {
    RunEnding {
        exit_code: actual.exit_code,
        exit_status: actual.exit_status,
        trap: actual.trap.clone(),
        compile_error: actual.compile_error.clone(),
        output: actual.output.clone(),
    }
}

/// Runs the differential for a finished sandbox case (only when it passed its own
/// checks); a finding fails the case with a [`Failure::Differential`].
pub fn apply(companion: &Companion, outcome: &mut CaseOutcome, backend: &dyn Backend) {
    if outcome.status != CaseStatus::Passed {
        return;
    }
    if let Some(finding) = judge(companion, outcome, backend) {
        outcome.failures.push(Failure::Differential(finding));
        outcome.status = CaseStatus::Failed;
    }
}

fn judge(
    companion: &Companion,
    outcome: &CaseOutcome,
    backend: &dyn Backend,
) -> Option<DifferentialFailure> {
    let os_case = match companion {
        Companion::Unavailable(finding) => return Some(finding.clone()),
        Companion::Denial { os_case } | Companion::SameOutcome { os_case } => os_case,
    };
    let mut os_case = os_case.clone();
    os_case.timeout = os_case
        .timeout
        .min(outcome.duration * 2 + Duration::from_secs(2));
    let os_outcome = engine::execute_case(&os_case, backend);
    let os_profile = os_case.id.profile.clone();
    let info = backend.info();
    let reproduce = run::reproduce(
        &os_case,
        info.kind,
        &info.program_word,
        &info.cargo_x07_flags,
    )
    .x07;
    if os_outcome
        .failures
        .iter()
        .any(|failure| matches!(failure, Failure::Timeout { .. }))
    {
        // Still running long after the sandbox run ended: not the same ending.
        return None;
    }
    let Some(os_actual) = os_outcome.verdict.as_ref().and_then(|v| v.actual.as_ref()) else {
        let failure = os_outcome.failures.first().cloned()?;
        return Some(DifferentialFailure::OsRunFailed {
            os_profile,
            failure: Box::new(failure),
        });
    };
    let os = run_ending(os_actual);
    match companion {
        Companion::Denial { .. } => {
            os_outcome
                .failures
                .is_empty()
                .then_some(DifferentialFailure::NotEvidence {
                    os_profile,
                    os,
                    reproduce,
                })
        }
        Companion::SameOutcome { .. } => {
            let sandbox = run_ending(outcome.verdict.as_ref()?.actual.as_ref()?);
            (sandbox != os).then_some(DifferentialFailure::OutcomesDiffer {
                os_profile,
                os,
                sandbox,
                reproduce,
            })
        }
        Companion::Unavailable(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::resolve_expected;
    use serde_json::json;

    fn expect(value: serde_json::Value, world: &str) -> Expected {
        resolve_expected(
            value.as_object().unwrap(),
            world,
            "project-compile-run",
            Path::new("."),
        )
        .unwrap()
    }

    #[test]
    fn a_trap_only_the_sandbox_expects_is_a_denial() {
        let os = expect(json!({ "output": { "text": "SECRET" } }), "run-os");
        let sandbox = expect(
            json!({ "trap": "os.fs.read_file hidden path denied" }),
            SANDBOX_WORLD,
        );
        assert!(expects_denial(&sandbox, Some(&os)));
    }

    #[test]
    fn the_same_trap_under_every_profile_is_the_programs_own() {
        let os = expect(json!({ "trap": "fuel exhausted" }), "run-os");
        let sandbox = expect(json!({ "trap": "fuel exhausted" }), SANDBOX_WORLD);
        assert!(!expects_denial(&sandbox, Some(&os)));
    }

    #[test]
    fn an_error_value_of_the_sandbox_is_a_denial_a_looser_expectation_is_not() {
        let os = expect(json!({ "output": { "b64": "AQE=" } }), "run-os");
        let error_doc = expect(
            json!({ "output": { "b64": "ACwBAAAAAAAA" } }),
            SANDBOX_WORLD,
        );
        assert!(expects_denial(&error_doc, Some(&os)));
        let unchecked = expect(json!({}), SANDBOX_WORLD);
        assert!(!expects_denial(&unchecked, Some(&os)));
    }

    #[test]
    fn without_an_os_sibling_any_expected_trap_counts_but_not_a_compile_error() {
        let trap = expect(json!({ "trap": { "contains": "denied" } }), SANDBOX_WORLD);
        assert!(expects_denial(&trap, None));
        let compile = expect(
            json!({ "compile_error": { "contains": "x" } }),
            SANDBOX_WORLD,
        );
        assert!(!expects_denial(&compile, None));
        assert!(!expects_denial(&expect(json!({}), SANDBOX_WORLD), None));
    }
}
