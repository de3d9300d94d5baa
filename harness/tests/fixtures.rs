//! `cargo test -p x07-harness --test fixtures`: every fixture of this
//! workspace (`fixtures/`) × case × profile as one libtest test case, with the
//! same names `cargo x07 test` prints. Works under `cargo nextest run` too.

fn main() {
    x07_harness::main()
}
