//! What went wrong with one case, as data: the problems found while planning (before any
//! run) and the failed checks of a run. [`crate::message`] is the only place that turns
//! these into text, for every output (libtest lines, JSON events, JUnit, GitHub).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::fixture::FixtureError;
use crate::plan::{ExpectedOutput, SchemaVersionCheck, TextMatch};

/// One reason a case failed.
#[derive(Debug, Clone)]
pub enum Failure {
    /// The case could not be planned: a fixture file is broken, or a file it names is
    /// missing or outside the workspace. Found before any run; nothing ran.
    Fixture(FixtureProblem),
    /// The runner could not be run (the fixture copy or the spawn failed).
    Runner(RunnerFailure),
    /// The runner did not finish in time; its process group was killed.
    Timeout {
        /// The case's timeout.
        limit: Duration,
    },
    /// The runner's stdout is not a JSON report.
    NoReport {
        /// The JSON parse error, or `None` when stdout was empty.
        parse_error: Option<String>,
        /// How the runner process ended.
        exit: ProcessExit,
    },
    /// The report does not validate against the report schema.
    ReportSchema {
        /// One `<json pointer>: <message>` per violation.
        problems: Vec<String>,
    },
    /// The report is JSON but its fields do not have the report's types.
    ReportShape {
        /// What serde found wrong.
        error: String,
    },
    /// `schema_version` is not the expected one.
    SchemaVersion {
        /// What was expected.
        expected: SchemaVersionCheck,
        /// What the report says.
        actual: Option<String>,
    },
    /// `mode` or `world` differs.
    Label {
        /// Which field.
        field: LabelField,
        /// The expected value.
        expected: String,
        /// The report's value.
        actual: Option<String>,
    },
    /// The report's `exit_code` differs.
    ExitCode {
        /// The expected code.
        expected: i64,
        /// The report's code.
        actual: Option<i64>,
    },
    /// The report's `exit_code` is right but the runner process exited otherwise.
    ProcessExitDiffers {
        /// The report's (expected) code.
        report: i64,
        /// The runner process's exit code.
        process: Option<i32>,
    },
    /// `compile.ok` or `solve.ok` differs.
    Flag {
        /// Which flag.
        field: FlagField,
        /// The expected value.
        expected: bool,
        /// The report's value.
        actual: Option<bool>,
        /// Whether the report has a `solve` object at all.
        solved: bool,
    },
    /// `solve.exit_status` differs.
    ExitStatus {
        /// The expected status.
        expected: i64,
        /// The report's status.
        actual: Option<i64>,
    },
    /// The program's output differs.
    Output {
        /// The expected bytes and where they were written.
        expected: ExpectedOutput,
        /// The decoded `solve_output_b64`, when the report has one.
        actual: Option<Vec<u8>>,
    },
    /// A text field (`trap`, `compile_error`, runner stderr, program stderr) does not match.
    Text {
        /// Which field.
        field: TextField,
        /// What was expected of it.
        expected: TextExpectation,
        /// Its value.
        actual: Option<String>,
    },
    /// An `x07 test` call for one manifest entry did not report what the entry expects
    /// (see [`crate::manifest`]).
    X07Test(X07TestFailure),
    /// `--differential`: the same case under the `os` profile says the sandbox run's
    /// outcome is not the policy's doing (see [`crate::differential`]).
    Differential(DifferentialFailure),
}

/// What went wrong with one `x07 test` call (a manifest case).
#[derive(Debug, Clone)]
pub enum X07TestFailure {
    /// Stdout is JSON but not an x07test report.
    ReportShape {
        /// What serde found wrong.
        error: String,
    },
    /// The report is not an `x07.x07test@0.4.x` report.
    ReportVersion {
        /// Its `schema_version`.
        actual: String,
    },
    /// x07 refused the manifest: no test ran, `summary.errors` problems (its stderr
    /// lists them as `CODE: message (pointer)`).
    ManifestRefused {
        /// `summary.errors`.
        errors: u64,
    },
    /// The report has no result for the test.
    TestMissing {
        /// The test id.
        id: String,
        /// The ids it has results for.
        reported: Vec<String>,
    },
    /// The test's status is not what its `expect` asks for.
    Status(Box<TestOutcome>),
    /// x07's exit code disagrees with its report (x07-test notes §2.2).
    ExitCode {
        /// The code the report implies: 0 all as expected, 11 a compile failure, 12 a run
        /// failure, else 10.
        expected: i32,
        /// The code x07 exited with.
        actual: Option<i32>,
    },
}

/// The result of one manifest test, as its report describes it.
#[derive(Debug, Clone, Default)]
pub struct TestOutcome {
    /// What the entry expects (`pass`, `fail`, `skip`).
    pub expect: String,
    /// The status x07 reported (`pass fail skip error xfail_pass xfail_fail`).
    pub status: String,
    /// `run.failure_code_u32` when not 0: the assertion's code (1001–1004 for std.test's
    /// assertions), the `std.test.fail` code or the status record's code.
    pub failure_code: Option<u32>,
    /// The got/expected bytes of a failed `assert_bytes_eq` (`X07T_ASSERT_BYTES_EQ`).
    pub assert_bytes: Option<AssertBytes>,
    /// The trap (`X07T_RUN_TRAP`).
    pub trap: Option<String>,
    /// The compile error (`ETEST_COMPILE`).
    pub compile_error: Option<String>,
    /// A property test's counterexample (`X07T_EPBT_FAIL`).
    pub counterexample: Option<Counterexample>,
    /// Every diagnostic: code and message.
    pub diags: Vec<(String, String)>,
    /// `failure_kind` (`contract_violation`, …).
    pub failure_kind: Option<String>,
    /// `contract_repro_path`.
    pub contract_repro_path: Option<String>,
    /// `compile.ok`, when it compiled or failed to.
    pub compile_ok: Option<bool>,
    /// `run.ok`, when it ran.
    pub run_ok: Option<bool>,
    /// `run.exit_code`.
    pub run_exit_code: Option<i64>,
    /// The program's stderr, decoded from `run.stderr_b64`.
    pub program_stderr: Option<Vec<u8>>,
}

/// Both sides of a failed `std.test.assert_bytes_eq`, as far as the report shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertBytes {
    /// What the test got.
    pub got: BytesPrefix,
    /// What it expected.
    pub expected: BytesPrefix,
}

/// The first bytes of a value and its whole length (x07 shows at most 64 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BytesPrefix {
    /// The whole length.
    pub len: u64,
    /// The first bytes.
    pub prefix: Vec<u8>,
}

/// The smallest failing input a property test found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counterexample {
    /// Each parameter's value.
    pub params: Vec<CounterexampleParam>,
    /// The assertion code of the failure.
    pub assert_code: Option<u32>,
    /// Cases run before it failed.
    pub cases_attempted: Option<u64>,
    /// How shrinking ended (`minimal_found`, …).
    pub shrinking: Option<String>,
}

/// One parameter of a counterexample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterexampleParam {
    /// Its name.
    pub name: String,
    /// Its type (`i32`, `bytes`).
    pub ty: String,
    /// Its value: a number, or bytes.
    pub value: ParamValue,
}

/// A counterexample parameter's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    /// An integer.
    Int(i64),
    /// Bytes.
    Bytes(Vec<u8>),
    /// Something else, as JSON text.
    Other(String),
}

/// What the profile differential found wrong with a sandbox case that passed its own checks.
#[derive(Debug, Clone)]
pub enum DifferentialFailure {
    /// The case expects a denial, but under `os` (no policy) it ends the same way: the
    /// denial is not evidence of the policy.
    NotEvidence {
        /// The `os` profile the case ran under.
        os_profile: String,
        /// How the `os` run ended.
        os: RunEnding,
        /// The `x07 run …` line of the `os` run.
        reproduce: String,
    },
    /// The fixture has no expectations file, yet its `os` and sandbox runs end differently.
    OutcomesDiffer {
        /// The `os` profile the case ran under.
        os_profile: String,
        /// How the `os` run ended.
        os: RunEnding,
        /// How the sandbox run ended.
        sandbox: RunEnding,
        /// The `x07 run …` line of the `os` run.
        reproduce: String,
    },
    /// `x07.json` declares no `run-os` profile to run the case under.
    NoOsProfile {
        /// The project manifest.
        manifest: PathBuf,
    },
    /// The `os` run gave nothing to compare (the runner could not run, crashed or
    /// printed no report); its first failure says why.
    OsRunFailed {
        /// The `os` profile.
        os_profile: String,
        /// Why the `os` run gave no report.
        failure: Box<Failure>,
    },
}

/// How a run ended, as far as the differential compares runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunEnding {
    /// The report's `exit_code`.
    pub exit_code: Option<i64>,
    /// `solve.exit_status`.
    pub exit_status: Option<i64>,
    /// `solve.trap`.
    pub trap: Option<String>,
    /// `compile.compile_error`.
    pub compile_error: Option<String>,
    /// The decoded output.
    pub output: Option<Vec<u8>>,
}

/// `mode` or `world`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelField {
    /// The report's `mode`.
    Mode,
    /// The report's `world`.
    World,
}

/// `compile.ok` or `solve.ok`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagField {
    /// `compile.ok`.
    CompileOk,
    /// `solve.ok`.
    SolveOk,
}

/// A text field that is matched against an expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    /// `solve.trap`.
    Trap,
    /// `compile.compile_error`.
    CompileError,
    /// The runner process's stderr.
    Stderr,
    /// The decoded `solve.stderr_b64`.
    SolveStderr,
}

/// What a text field was expected to be.
#[derive(Debug, Clone)]
pub enum TextExpectation {
    /// Absent or null.
    Null,
    /// A string that matches.
    Matches(TextMatch),
}

/// How a runner process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProcessExit {
    /// Its exit code, when it exited.
    pub code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
}

/// Why the runner could not be run.
#[derive(Debug, Clone)]
pub enum RunnerFailure {
    /// A file or directory of the fixture could not be copied to the temporary copy.
    Copy {
        /// The file that could not be copied.
        path: PathBuf,
        /// Why.
        reason: CopyFailure,
    },
    /// The runner process could not be started.
    Spawn {
        /// The runner program.
        program: PathBuf,
        /// The operating system's error.
        error: Arc<std::io::Error>,
    },
    /// Waiting for the runner or reading its output failed.
    Io(Arc<std::io::Error>),
}

/// Why a file could not be copied.
#[derive(Debug, Clone)]
pub enum CopyFailure {
    /// It is a FIFO, socket or device: copying it could block or copy a device's bytes.
    NotAFile,
    /// The operating system's error.
    Io(Arc<std::io::Error>),
}

/// A problem found while planning a case, before anything ran.
#[derive(Debug, Clone)]
pub enum FixtureProblem {
    /// A fixture file (`x07.json`, `x07test.json`, a smoke suite) cannot be read, is not
    /// JSON, or does not follow its format.
    File(FixtureError),
    /// A directory under a fixture root cannot be read.
    UnreadableDirectory {
        /// The directory.
        path: PathBuf,
        /// The operating system's error.
        error: Arc<std::io::Error>,
    },
    /// A package's `[package.metadata.x07]` could not be read; its fixtures were not
    /// looked for.
    InvalidSettings {
        /// The configuration error as it reads on its own (names the manifest and key).
        message: std::sync::Arc<str>,
    },
    /// A file the fixture names does not exist (or is not a file).
    MissingFile {
        /// The file, resolved against the directory it is relative to.
        path: PathBuf,
        /// What the fixture uses it for.
        role: FileRole,
        /// Where it is named.
        named_by: NamedBy,
    },
    /// A file the fixture names exists but cannot be used as one: a directory where a
    /// file is wanted (or the other way round), a symlink loop, a dangling link.
    UnusableFile {
        /// The file, resolved against the directory it is relative to.
        path: PathBuf,
        /// What the fixture uses it for.
        role: FileRole,
        /// Where it is named.
        named_by: NamedBy,
        /// What is wrong with it (`it is a directory`, the resolution error).
        reason: String,
    },
    /// A file the fixture names resolves (symlinks followed) outside the root it must
    /// stay in: nothing is read from it.
    OutsideRoot {
        /// The path as written (joined to the directory it is relative to).
        path: PathBuf,
        /// Where it resolves.
        resolved: PathBuf,
        /// What the fixture uses it for.
        role: FileRole,
        /// The root it must stay in.
        root: ContainmentRoot,
        /// Where it is named.
        named_by: NamedBy,
    },
    /// A sandbox policy breaks the policy format or the runner's rules for it.
    InvalidPolicy {
        /// The policy file.
        path: PathBuf,
        /// Each error: the field (dotted path, empty for the whole file) and the problem.
        errors: Vec<(String, String)>,
    },
    /// A value in an expectations or smoke-suite file cannot be used (bad base64, a
    /// regex that does not compile, a non-string `env` value, …).
    InvalidValue {
        /// The file holding it.
        file: PathBuf,
        /// Where in the file (`cases[2].input.b64`, `expect.trap.regex`, …).
        at: String,
        /// What is wrong.
        message: String,
    },
    /// An `x07 test` manifest, or one of its entries, is broken: x07 would refuse it (or
    /// the copied run could not see a file it names).
    TestManifest {
        /// The manifest file.
        file: PathBuf,
        /// Each problem, with x07's code and the JSON pointer.
        problems: Vec<crate::manifest::format::ManifestProblem>,
    },
    /// A profile listed in `x07test.json` is not declared in `x07.json`.
    UndeclaredProfile {
        /// The profile.
        profile: String,
        /// The expectations file listing it.
        expectations: PathBuf,
        /// The project manifest.
        manifest: PathBuf,
    },
}

/// What a fixture uses a file for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    /// A sandbox policy (`--policy`).
    Policy,
    /// The program input (`--input`).
    Input,
    /// The expected output (`expect.output.file`).
    ExpectedOutput,
    /// The smoke suite's entry program.
    SmokeProgram,
    /// A `--module-root` of a smoke suite.
    ModuleRoot,
    /// The fixture's own `x07.json` / `x07test.json`.
    FixtureFile,
}

/// The root a named file must stay in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainmentRoot {
    /// The cargo workspace root.
    Workspace(PathBuf),
    /// The configured `smoke_root`.
    SmokeRoot(PathBuf),
}

/// Where a file is named: the key and the file holding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedBy {
    /// The key (`run.policy`, `profiles.sandbox.policy`, `program_x07json`, …).
    pub key: String,
    /// The file holding the key.
    pub file: PathBuf,
}

impl Failure {
    /// Whether this failure was found before any run (nothing to reproduce).
    pub fn is_before_run(&self) -> bool {
        matches!(self, Failure::Fixture(_))
    }
}
