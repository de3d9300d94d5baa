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
