//! Empty: this package only carries the `[package.metadata.x07]` table of its Cargo.toml.
