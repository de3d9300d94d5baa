//! Planning the cases of one test manifest: one case per entry, in x07's order (plain
//! string order of the ids), named `<manifest>::<encoded id>::<world>` (see
//! [`super::name`]). Entries with problems still become cases — failing ones, naming the
//! manifest and each problem with its JSON pointer — so one bad entry never blocks the
//! others; a manifest that cannot be used at all is one failing case.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use super::format::{self, Entry, Expect, ManifestProblem, SANDBOXED_WORLD};
use super::name::{encode_id, entry_case, NO_WORLD, WHOLE_MANIFEST_CASE};
use super::project::{self, ProjectLayout};
use super::{ManifestTest, SKIPPED_BY_MANIFEST};
use crate::config::Settings;
use crate::discover::FixtureLocation;
use crate::failure::FixtureProblem;
use crate::model::CaseId;
use crate::plan::{resolve_expected, Expected, PlannedCase, RunOptions, Target};

/// Added to x07's own time bound of a test when the entry asks for more time than the
/// configured per-case timeout allows: compile time (≈0.3 s, more with dependencies)
/// and process start-up.
const COMPILE_MARGIN: Duration = Duration::from_secs(30);
/// x07's per-case budget of a property test (`case_budget.timeout_ms` default, 250 ms).
const PBT_CASE_BUDGET: Duration = Duration::from_millis(250);
/// x07's default number of property-test cases.
const PBT_DEFAULT_CASES: u64 = 100;

/// Plans every case of the manifest at `location`.
pub fn plan_manifest(
    location: &FixtureLocation,
    settings: &Settings,
    workspace_root: &Path,
) -> Vec<PlannedCase> {
    let layout = project::layout(&location.path, workspace_root);
    let manifest = match format::read(&location.path) {
        Ok(manifest) => manifest,
        Err(problems) => {
            return vec![broken_case(
                location,
                settings,
                &layout,
                WHOLE_MANIFEST_CASE.into(),
                NO_WORLD.into(),
                String::new(),
                problems,
            )]
        }
    };
    let mut named: Vec<(String, PlannedCase)> = Vec::new();
    let mut unnamed: Vec<PlannedCase> = Vec::new();
    for entry in &manifest.entries {
        let mut problems = entry.problems.clone();
        if problems.is_empty() {
            problems.extend(layout.problems.iter().cloned());
            problems.extend(project::check_entry_files(entry, &layout));
            problems.sort_by(|a, b| a.pointer.cmp(&b.pointer));
        }
        let case = match &entry.id {
            Some(id) => encode_id(id),
            None => entry_case(entry.index),
        };
        let world = entry.world.clone().unwrap_or_else(|| NO_WORLD.into());
        let planned = if problems.is_empty() {
            test_case(location, settings, &layout, &manifest.schema_version, entry)
        } else {
            broken_case(
                location,
                settings,
                &layout,
                case,
                world,
                entry.id.clone().unwrap_or_default(),
                problems,
            )
        };
        match &entry.id {
            Some(id) => named.push((id.clone(), planned)),
            None => unnamed.push(planned),
        }
    }
    named.sort_by(|a, b| a.0.cmp(&b.0));
    named
        .into_iter()
        .map(|(_, case)| case)
        .chain(unnamed)
        .collect()
}

/// How many cases [`plan_manifest`] makes of the manifest at `path` (for libtest's
/// filtered-out count): one per entry, or one for an unusable manifest.
pub fn count_cases(path: &Path) -> usize {
    format::read(path).map_or(1, |manifest| manifest.entries.len())
}

fn manifest_test(
    location: &FixtureLocation,
    layout: &ProjectLayout,
    schema_version: &str,
    id: String,
    entry: Map<String, Value>,
    expect: Expect,
) -> ManifestTest {
    let manifest_in_copy = location
        .path
        .strip_prefix(&layout.copy_root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| PathBuf::from(location.path.file_name().unwrap_or_default()));
    ManifestTest {
        manifest: location.path.clone(),
        copy_root: layout.copy_root.clone(),
        manifest_in_copy,
        schema_version: schema_version.to_string(),
        id,
        entry,
        expect,
    }
}

fn expected(world: &str) -> Expected {
    resolve_expected(&Map::new(), world, "x07-test", Path::new("."))
        .expect("default expectations resolve")
}

fn base_case(
    location: &FixtureLocation,
    settings: &Settings,
    layout: &ProjectLayout,
    case: String,
    world: String,
    test: ManifestTest,
) -> PlannedCase {
    PlannedCase {
        id: CaseId {
            fixture: location.name.clone(),
            case,
            profile: world.clone(),
        },
        target: Target::TestManifest(Arc::new(test)),
        expect: expected(&world),
        world,
        input: None,
        run: RunOptions {
            env: settings.env.clone(),
            ..RunOptions::default()
        },
        timeout: Duration::from_millis(settings.timeout_ms),
        ignore: None,
        source_file: location.path.clone(),
        fixture_dir: layout.manifest_dir.clone(),
        description: None,
        problems: Vec::new(),
        sandbox_backend: settings.sandbox_backend,
    }
}

fn broken_case(
    location: &FixtureLocation,
    settings: &Settings,
    layout: &ProjectLayout,
    case: String,
    world: String,
    id: String,
    problems: Vec<ManifestProblem>,
) -> PlannedCase {
    let test = manifest_test(location, layout, "", id, Map::new(), Expect::Pass);
    let mut planned = base_case(location, settings, layout, case, world, test);
    planned.problems = vec![FixtureProblem::TestManifest {
        file: location.path.clone(),
        problems,
    }];
    planned
}

fn test_case(
    location: &FixtureLocation,
    settings: &Settings,
    layout: &ProjectLayout,
    schema_version: &str,
    entry: &Entry,
) -> PlannedCase {
    let id = entry.id.clone().unwrap_or_default();
    let world = entry.world.clone().unwrap_or_else(|| NO_WORLD.into());
    let test = manifest_test(
        location,
        layout,
        schema_version,
        id.clone(),
        entry.raw.clone(),
        entry.expect,
    );
    let mut planned = base_case(location, settings, layout, encode_id(&id), world, test);
    planned.description = Some(format!(
        "x07 test: {} (expect {}{})",
        entry.entry.as_deref().unwrap_or_default(),
        entry.expect.as_str(),
        if entry.pbt.is_some() {
            ", property test"
        } else {
            ""
        }
    ));
    if entry.expect == Expect::Skip {
        planned.ignore = Some(SKIPPED_BY_MANIFEST.into());
    }
    if let Some(needed) = time_needed(entry, layout) {
        planned.timeout = planned.timeout.max(needed);
    }
    planned
}

/// The time x07 itself may take for an entry that asks for more than its default bound
/// (`timeout_ms`, a property test, a sandbox policy's wall limit), plus
/// [`COMPILE_MARGIN`]; `None` for an entry within the defaults.
fn time_needed(entry: &Entry, layout: &ProjectLayout) -> Option<Duration> {
    let mut needed: Option<Duration> = None;
    let mut at_least = |duration: Duration| {
        needed = Some(needed.map_or(duration, |current| current.max(duration)));
    };
    if entry.world.as_deref() == Some(SANDBOXED_WORLD) {
        let wall = entry
            .policy_json
            .as_ref()
            .and_then(|policy| crate::fixture::read_regular(&layout.manifest_dir.join(policy)).ok())
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .and_then(|policy| policy.pointer("/limits/wall_ms").and_then(Value::as_u64));
        if let Some(wall) = wall {
            at_least(Duration::from_millis(wall) + COMPILE_MARGIN);
        }
    } else if let Some(timeout) = entry.timeout_ms {
        // CPU = ⌈timeout_ms⌉ seconds, wall = CPU + 1 s.
        at_least(Duration::from_secs(timeout.div_ceil(1000) + 1) + COMPILE_MARGIN);
    }
    if let Some(pbt) = &entry.pbt {
        let cases = pbt.cases.unwrap_or(PBT_DEFAULT_CASES) as u32;
        at_least(PBT_CASE_BUDGET * cases + COMPILE_MARGIN);
    }
    needed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::FixtureKind;

    fn plan_text(manifest: &str) -> (tempfile::TempDir, Vec<PlannedCase>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tests.json"), manifest).unwrap();
        std::fs::write(
            dir.path().join("m.x07.json"),
            r#"{"module_id":"m","decls":[{"kind":"defn","name":"m.ok","params":[]},{"kind":"defn","name":"m.prop","params":[{"name":"x","ty":"i32"}]}]}"#,
        )
        .unwrap();
        let workspace = crate::testing::workspace(dir.path(), &["os"]);
        let location = FixtureLocation {
            path: dir.path().join("tests.json"),
            name: "m/tests.json".into(),
            kind: FixtureKind::TestManifest,
            package: 0,
        };
        let cases = plan_manifest(&location, &workspace.packages[0].settings, dir.path());
        (dir, cases)
    }

    #[test]
    fn cases_come_in_id_order_with_broken_entries_last() {
        let (_dir, cases) = plan_text(
            r#"{"schema_version":"x07.tests_manifest@0.2.0","tests":[
                {"id":"b","world":"solve-pure","entry":"m.ok"},
                {"id":"a::x","world":"run-os","entry":"m.ok"},
                {"world":"solve-pure","entry":"m.ok"},
                {"id":"b","world":"solve-pure","entry":"m.ok"},
                {"id":"s","world":"solve-pure","entry":"m.ok","expect":"skip"}
            ]}"#,
        );
        let names: Vec<String> = cases.iter().map(|case| case.id.test_name()).collect();
        assert_eq!(
            names,
            [
                "m/tests.json::a%3A%3Ax::run-os",
                "m/tests.json::b::solve-pure",
                "m/tests.json::s::solve-pure",
                "m/tests.json::tests:2::solve-pure",
                "m/tests.json::tests:3::solve-pure",
            ]
        );
        assert!(cases[0].problems.is_empty() && cases[1].problems.is_empty());
        assert_eq!(cases[2].ignore.as_deref(), Some(SKIPPED_BY_MANIFEST));
        assert_eq!(cases[3].problems.len(), 1);
        assert_eq!(cases[4].problems.len(), 1, "the duplicate of b");
        let Target::TestManifest(test) = &cases[0].target else {
            panic!("a manifest case");
        };
        assert_eq!(test.id, "a::x");
        assert_eq!(test.manifest_in_copy, Path::new("tests.json"));
    }

    #[test]
    fn an_unusable_manifest_is_one_case() {
        let (_dir, cases) =
            plan_text(r#"{"schema_version":"x07.tests_manifest@0.2.0","tests":[]}"#);
        assert_eq!(cases.len(), 1);
        assert_eq!(
            cases[0].id.test_name(),
            "m/tests.json::manifest:invalid::x07-test"
        );
    }

    #[test]
    fn entries_that_ask_for_more_time_raise_the_case_timeout() {
        let (_dir, cases) = plan_text(
            r#"{"schema_version":"x07.tests_manifest@0.2.0","tests":[
                {"id":"plain","world":"solve-pure","entry":"m.ok"},
                {"id":"long","world":"solve-pure","entry":"m.ok","timeout_ms":120500},
                {"id":"short","world":"solve-pure","entry":"m.ok","timeout_ms":1000},
                {"id":"prop","world":"solve-pure","entry":"m.prop","pbt":{"cases":1000,"params":[{"name":"x","gen":{"kind":"i32"}}]}}
            ]}"#,
        );
        let timeout = |id: &str| {
            cases
                .iter()
                .find(|case| case.id.case == id)
                .unwrap()
                .timeout
        };
        assert_eq!(timeout("plain"), Duration::from_secs(60));
        assert_eq!(timeout("short"), Duration::from_secs(60));
        assert_eq!(timeout("long"), Duration::from_secs(122 + 30));
        assert_eq!(timeout("prop"), Duration::from_secs(250 + 30));
    }
}
