//! The tests X07 projects already have: every entry of an `x07 test` manifest
//! (`tests/tests.json`, `x07.tests_manifest@0.1.0` / `@0.2.0`) becomes one test case,
//! run by the real toolchain's `x07 test` and checked from its `x07.x07test@0.4.0` report.
//!
//! The stages, as for every other case kind:
//! * discovery ([`crate::discover`]) finds `tests/tests.json` next to each project
//!   fixture's `x07.json`, plus the files the `test_manifests` configuration key names;
//! * [`plan`] reads the manifest ([`mod@format`]) and what its entries name on disk
//!   ([`project`]), and plans one case per entry, named by [`name`]; a broken manifest
//!   or entry is a case that fails before anything runs;
//! * [`command`] runs one entry per `x07 test` call on a fresh copy of the project, from
//!   a scratch working directory;
//! * [`check`] reads the report ([`report`]) and compares the test's status with its
//!   `expect`; [`crate::message`] words the failures.
//!
//! The embedded runner does not implement `x07 test`: with it these cases are reported
//! as ignored with the reason [`NEEDS_REAL_X07`] (see [`crate::backend::Backend::cannot_run`]).

pub mod check;
pub mod command;
pub mod format;
pub mod name;
pub mod plan;
pub mod project;
pub mod report;

use std::path::PathBuf;

use serde_json::{Map, Value};

pub use format::Expect;

/// Where a project keeps its test manifest, relative to its root (x07's default `--manifest`).
pub const PROJECT_MANIFEST: &str = "tests/tests.json";

/// Why a manifest case is ignored when the embedded runner runs the cases.
pub const NEEDS_REAL_X07: &str = "needs the real x07 toolchain: x07 test";

/// Why an `expect: "skip"` entry is ignored by every runner.
pub const SKIPPED_BY_MANIFEST: &str =
    "the manifest says expect: skip (x07 test never compiles or runs it)";

/// One entry of a test manifest, as a case runs it.
#[derive(Debug, Clone)]
pub struct ManifestTest {
    /// The manifest file (absolute).
    pub manifest: PathBuf,
    /// The directory copied for each run: the project around the manifest, or the
    /// manifest's own directory.
    pub copy_root: PathBuf,
    /// The manifest's path inside [`ManifestTest::copy_root`].
    pub manifest_in_copy: PathBuf,
    /// The manifest's `schema_version`.
    pub schema_version: String,
    /// The test id (empty for a case standing for a broken manifest or entry).
    pub id: String,
    /// The entry exactly as written; each run gets a manifest holding only this entry.
    pub entry: Map<String, Value>,
    /// What the test expects of itself.
    pub expect: Expect,
}
