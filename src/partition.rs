//! Sharding: which cases one of N CI jobs runs (`--partition hash:K/N` or `slice:K/N`).
//!
//! * `hash:K/N` puts a case in shard `stable_hash(test name) mod N + 1`. A case's shard
//!   depends only on its own test name, so adding or removing fixtures never moves the
//!   other cases between shards. The hash is [`stable_name_hash`]: 64-bit FNV-1a over the
//!   UTF-8 bytes of the name followed by the MurmurHash3 `fmix64` finaliser; it is part of
//!   the documented behaviour (`docs/ci.md`) and never changes between releases or platforms.
//! * `slice:K/N` sorts the cases by test name and gives shard K the K-th of N contiguous
//!   runs whose sizes differ by at most one. Adding a case may move others to a
//!   neighbouring shard, but shards are as even as possible.
//!
//! In both schemes every case lands in exactly one of the N shards.

use std::fmt;
use std::str::FromStr;

use crate::model::CaseId;

/// How cases are assigned to shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartitionScheme {
    /// By a stable hash of the test name (`hash:K/N`).
    Hash,
    /// By position in the sorted list of test names (`slice:K/N`).
    Slice,
}

/// One shard of a partitioned run: shard `shard` of `total_shards` under `scheme`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Partition {
    /// How cases are assigned to shards.
    pub scheme: PartitionScheme,
    /// The selected shard, 1-based (`1..=total_shards`).
    pub shard: u64,
    /// How many shards the cases are split into (at least 1).
    pub total_shards: u64,
}

/// Why a `--partition` value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartitionError {
    /// The value is not `<scheme>:<K>/<N>`.
    #[error("invalid partition `{0}`: expected `hash:K/N` or `slice:K/N`")]
    Syntax(String),
    /// The scheme is neither `hash` nor `slice`.
    #[error("unknown partition scheme `{0}`: expected `hash` or `slice`")]
    UnknownScheme(String),
    /// K or N is not a positive integer, or K > N.
    #[error("invalid shard `{shard}/{total}`: need 1 <= K <= N")]
    ShardOutOfRange {
        /// The K part as written.
        shard: String,
        /// The N part as written.
        total: String,
    },
}

impl FromStr for Partition {
    type Err = PartitionError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let (scheme_text, shard_spec) = value
            .split_once(':')
            .ok_or_else(|| PartitionError::Syntax(value.to_string()))?;
        let scheme = match scheme_text {
            "hash" => PartitionScheme::Hash,
            "slice" => PartitionScheme::Slice,
            other => return Err(PartitionError::UnknownScheme(other.to_string())),
        };
        let (shard_text, total_text) = shard_spec
            .split_once('/')
            .ok_or_else(|| PartitionError::Syntax(value.to_string()))?;
        let out_of_range = || PartitionError::ShardOutOfRange {
            shard: shard_text.to_string(),
            total: total_text.to_string(),
        };
        let shard: u64 = shard_text.trim().parse().map_err(|_| out_of_range())?;
        let total_shards: u64 = total_text.trim().parse().map_err(|_| out_of_range())?;
        if shard == 0 || total_shards == 0 || shard > total_shards {
            return Err(out_of_range());
        }
        Ok(Partition {
            scheme,
            shard,
            total_shards,
        })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            PartitionScheme::Hash => "hash",
            PartitionScheme::Slice => "slice",
        };
        write!(f, "{scheme}:{}/{}", self.shard, self.total_shards)
    }
}

/// The stable 64-bit hash `hash:K/N` shards by: FNV-1a 64 over the bytes, then `fmix64`.
///
/// FNV-1a alone mixes the last bytes poorly into the low bits, and test names often differ
/// only in their last bytes (`…::os` vs `…::sandbox`); the finaliser spreads every input bit
/// over the whole word so that `hash mod N` is even for small N.
pub fn stable_name_hash(name: &str) -> u64 {
    let mut hash = fnv1a64(name.as_bytes());
    // MurmurHash3 fmix64.
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^= hash >> 33;
    hash
}

/// 64-bit FNV-1a.
fn fnv1a64(bytes: &[u8]) -> u64 {
    const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = FNV_OFFSET_BASIS;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

impl Partition {
    /// The 1-based shard that `hash:_/total_shards` puts the test name `test_name` in.
    pub fn hash_shard_of(test_name: &str, total_shards: u64) -> u64 {
        stable_name_hash(test_name) % total_shards.max(1) + 1
    }

    /// Indices (into `cases`, ascending) of the cases this shard runs.
    ///
    /// `cases` may be in any order and may hold duplicates; the result for `slice` is
    /// computed on the list sorted by test name, so it does not depend on the input order.
    pub fn select_indices(&self, cases: &[CaseId]) -> Vec<usize> {
        let names: Vec<String> = cases.iter().map(CaseId::test_name).collect();
        self.select_indices_by_name(&names)
    }

    /// Like [`Partition::select_indices`], for callers that already hold the test names.
    pub fn select_indices_by_name<S: AsRef<str>>(&self, test_names: &[S]) -> Vec<usize> {
        match self.scheme {
            PartitionScheme::Hash => test_names
                .iter()
                .enumerate()
                .filter(|(_, name)| {
                    Self::hash_shard_of(name.as_ref(), self.total_shards) == self.shard
                })
                .map(|(index, _)| index)
                .collect(),
            PartitionScheme::Slice => {
                let mut order: Vec<usize> = (0..test_names.len()).collect();
                order.sort_by(|&a, &b| {
                    test_names[a]
                        .as_ref()
                        .cmp(test_names[b].as_ref())
                        .then(a.cmp(&b))
                });
                let len = order.len() as u64;
                let start = (len * (self.shard - 1) / self.total_shards) as usize;
                let end = (len * self.shard / self.total_shards) as usize;
                let mut selected = order[start..end].to_vec();
                selected.sort_unstable();
                selected
            }
        }
    }

    /// The cases this shard runs, in input order.
    pub fn select(&self, cases: &[CaseId]) -> Vec<CaseId> {
        self.select_indices(cases)
            .into_iter()
            .map(|index| cases[index].clone())
            .collect()
    }

    /// Keeps only the items of this shard, in their order; `case_id` says which case an item is.
    pub fn retain<T>(&self, items: &mut Vec<T>, case_id: impl Fn(&T) -> &CaseId) {
        let names: Vec<String> = items.iter().map(|item| case_id(item).test_name()).collect();
        let keep = self.select_indices_by_name(&names);
        let mut keep_iter = keep.into_iter().peekable();
        let mut index = 0;
        items.retain(|_| {
            let kept = keep_iter.peek() == Some(&index);
            if kept {
                keep_iter.next();
            }
            index += 1;
            kept
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(fixture: &str, case: &str, profile: &str) -> CaseId {
        CaseId {
            fixture: fixture.to_string(),
            case: case.to_string(),
            profile: profile.to_string(),
        }
    }

    fn corpus(count: usize) -> Vec<CaseId> {
        let mut cases = Vec::new();
        for index in 0..count {
            for profile in ["os", "sandbox"] {
                cases.push(case(
                    &format!("fixtures/group{}/f{index}", index % 7),
                    "default",
                    profile,
                ));
            }
        }
        cases
    }

    #[test]
    fn parses_and_displays_both_schemes() {
        let hash: Partition = "hash:2/3".parse().unwrap();
        assert_eq!(
            hash,
            Partition {
                scheme: PartitionScheme::Hash,
                shard: 2,
                total_shards: 3
            }
        );
        assert_eq!(hash.to_string(), "hash:2/3");
        let slice: Partition = "slice:1/1".parse().unwrap();
        assert_eq!(slice.scheme, PartitionScheme::Slice);
        assert_eq!(slice.to_string(), "slice:1/1");
    }

    #[test]
    fn rejects_malformed_values() {
        assert!(matches!(
            "hash".parse::<Partition>(),
            Err(PartitionError::Syntax(_))
        ));
        assert!(matches!(
            "hash:1".parse::<Partition>(),
            Err(PartitionError::Syntax(_))
        ));
        assert!(matches!(
            "count:1/2".parse::<Partition>(),
            Err(PartitionError::UnknownScheme(_))
        ));
        for bad in [
            "hash:0/2",
            "hash:3/2",
            "slice:1/0",
            "slice:a/2",
            "hash:-1/2",
        ] {
            assert!(
                matches!(
                    bad.parse::<Partition>(),
                    Err(PartitionError::ShardOutOfRange { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            "hash:3/2".parse::<Partition>().unwrap_err().to_string(),
            "invalid shard `3/2`: need 1 <= K <= N"
        );
    }

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    /// Computed independently (Python) from the documented algorithm.
    const PINNED_HELLO_OS: u64 = 0x5ed3_9079_94ba_6fe2;

    #[test]
    fn shard_assignment_is_pinned() {
        // The documented algorithm must never change between releases: these are the contract.
        assert_eq!(
            stable_name_hash("fixtures/core/hello::default::os"),
            PINNED_HELLO_OS
        );
        assert_eq!(
            Partition::hash_shard_of("fixtures/core/hello::default::os", 2),
            PINNED_HELLO_OS % 2 + 1
        );
    }

    #[test]
    fn every_case_lands_in_exactly_one_shard() {
        let cases = corpus(101);
        for scheme in ["hash", "slice"] {
            for total in 1..=8u64 {
                let mut seen = vec![0u32; cases.len()];
                for shard in 1..=total {
                    let partition: Partition = format!("{scheme}:{shard}/{total}").parse().unwrap();
                    for index in partition.select_indices(&cases) {
                        seen[index] += 1;
                    }
                }
                assert!(seen.iter().all(|&count| count == 1), "{scheme} N={total}");
            }
        }
    }

    #[test]
    fn slice_shards_are_even_and_order_independent() {
        let cases = corpus(50);
        let mut reversed = cases.clone();
        reversed.reverse();
        for total in 1..=8u64 {
            for shard in 1..=total {
                let partition = Partition {
                    scheme: PartitionScheme::Slice,
                    shard,
                    total_shards: total,
                };
                let size = partition.select_indices(&cases).len() as u64;
                let even = cases.len() as u64 / total;
                assert!(
                    size == even || size == even + 1,
                    "shard {shard}/{total}: {size}"
                );
                let mut forward = partition.select(&cases);
                let mut backward = partition.select(&reversed);
                forward.sort();
                backward.sort();
                assert_eq!(forward, backward);
            }
        }
    }

    #[test]
    fn hash_shards_do_not_move_when_cases_are_added() {
        let small = corpus(40);
        let large = corpus(400);
        for total in 1..=8u64 {
            for shard in 1..=total {
                let partition = Partition {
                    scheme: PartitionScheme::Hash,
                    shard,
                    total_shards: total,
                };
                let before = partition.select(&small);
                let after = partition.select(&large);
                for kept in &before {
                    assert!(after.contains(kept), "{} moved", kept.test_name());
                }
                for case in &small {
                    if after.contains(case) {
                        assert!(before.contains(case), "{} moved in", case.test_name());
                    }
                }
            }
        }
    }

    #[test]
    fn hash_shards_are_roughly_even() {
        let cases = corpus(500);
        for total in 2..=8u64 {
            let expected = cases.len() as f64 / total as f64;
            for shard in 1..=total {
                let partition = Partition {
                    scheme: PartitionScheme::Hash,
                    shard,
                    total_shards: total,
                };
                let size = partition.select_indices(&cases).len() as f64;
                assert!(
                    (size - expected).abs() < expected * 0.25,
                    "shard {shard}/{total} has {size}, expected about {expected}"
                );
            }
        }
    }

    #[test]
    fn retain_keeps_order_and_matches_select() {
        let cases = corpus(30);
        for scheme in ["hash:2/3", "slice:2/3"] {
            let partition: Partition = scheme.parse().unwrap();
            let mut items: Vec<(usize, CaseId)> = cases.iter().cloned().enumerate().collect();
            partition.retain(&mut items, |item| &item.1);
            let expected: Vec<usize> = partition.select_indices(&cases);
            assert_eq!(
                items.iter().map(|item| item.0).collect::<Vec<_>>(),
                expected
            );
        }
    }
}
