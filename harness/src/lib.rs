//! Turns cargo-x07 cases into `libtest_mimic::Trial`s for a `harness = false` test target.
#![forbid(unsafe_code)]
