//! `--partition` on the bundled corpus: for N = 1..8, under both schemes, the N shards
//! together hold every planned case exactly once.

use std::collections::BTreeMap;
use std::path::PathBuf;

use cargo_x07::config::{self, Selection};
use cargo_x07::discover::discover;
use cargo_x07::model::CaseId;
use cargo_x07::partition::Partition;
use cargo_x07::plan::plan_all;

fn bundled_cases() -> Vec<CaseId> {
    let selection = Selection {
        manifest_path: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")),
        ..Selection::default()
    };
    let workspace = config::load(&selection).expect("the repository's workspace loads");
    let fixtures = discover(&workspace).expect("the bundled fixtures are discovered");
    plan_all(&workspace, &fixtures)
        .into_iter()
        .map(|case| case.id)
        .collect()
}

#[test]
fn every_bundled_case_lands_in_exactly_one_shard() {
    let cases = bundled_cases();
    assert!(cases.len() > 100, "the corpus has {} cases", cases.len());
    for scheme in ["hash", "slice"] {
        for total in 1..=8u64 {
            let mut shard_of: BTreeMap<usize, u64> = BTreeMap::new();
            let mut sizes = Vec::new();
            for shard in 1..=total {
                let partition: Partition = format!("{scheme}:{shard}/{total}").parse().unwrap();
                let selected = partition.select_indices(&cases);
                sizes.push(selected.len());
                for index in selected {
                    if let Some(other) = shard_of.insert(index, shard) {
                        panic!(
                            "{} is in shards {other} and {shard} of {scheme}:_/{total}",
                            cases[index].test_name()
                        );
                    }
                }
            }
            assert_eq!(shard_of.len(), cases.len(), "{scheme}:_/{total} lost cases");
            assert!(
                sizes.iter().all(|&size| size > 0),
                "{scheme}:_/{total}: {sizes:?}"
            );
        }
    }
}

/// `cargo x07 list [--partition …]` in this repository, one test name per line.
fn listed(args: &[&str]) -> Vec<String> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-x07"))
        .args(["x07", "list"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo-x07 starts");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| line.split("  ").next().unwrap().to_string())
        .collect()
}

#[test]
fn list_partition_shards_add_up_to_the_whole_corpus() {
    let mut whole = listed(&[]);
    whole.sort();
    for scheme in ["hash", "slice"] {
        let mut together: Vec<String> = (1..=3)
            .flat_map(|shard| listed(&["--partition", &format!("{scheme}:{shard}/3")]))
            .collect();
        together.sort();
        let missing: Vec<&String> = whole
            .iter()
            .filter(|name| !together.contains(name))
            .collect();
        let extra: Vec<&String> = together
            .iter()
            .filter(|name| !whole.contains(name))
            .collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{scheme}: missing {missing:?}, extra {extra:?}"
        );
        assert_eq!(
            together.len(),
            whole.len(),
            "{scheme}: a case is in two shards"
        );
    }
}

/// The test names in a JUnit file.
fn junit_names(path: &std::path::Path) -> Vec<String> {
    let xml = std::fs::read_to_string(path).unwrap();
    let document = roxmltree::Document::parse(&xml).expect("JUnit parses");
    document
        .descendants()
        .filter(|node| node.has_tag_name("testcase"))
        .map(|case| case.attribute("name").unwrap().to_string())
        .collect()
}

#[test]
fn bundled_corpus_in_three_shards_gives_junit_files_holding_every_case_once() {
    let folder = tempfile::tempdir().unwrap();
    let mut together = Vec::new();
    for shard in 1..=3 {
        let junit = folder.path().join(format!("shard-{shard}.xml"));
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-x07"))
            .args(["x07", "test", "--slowest", "0", "--partition"])
            .arg(format!("hash:{shard}/3"))
            .arg("--junit")
            .arg(&junit)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("X07")
            .env_remove("CI")
            .env_remove("GITHUB_ACTIONS")
            .output()
            .expect("cargo-x07 starts");
        // Whether every bundled case passes is the corpus tests' business; here only
        // the shards matter, so a failing case (exit 1) is fine, a usage error is not.
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "shard {shard}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        together.extend(junit_names(&junit));
    }
    together.sort();
    let mut whole = listed(&[]);
    whole.sort();
    assert_eq!(
        together.len(),
        whole.len(),
        "a case ran twice or not at all"
    );
    assert!(
        together == whole,
        "the shards' JUnit files differ from `cargo x07 list`"
    );
}
