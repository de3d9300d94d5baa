//! Every user-visible text about a case, in one place so wording stays consistent and
//! every output (libtest lines, JSON events, JUnit, GitHub annotations and step summary,
//! `cargo x07 run`) says the same thing: the one-line summary of each [`Failure`], the
//! problems found before a run, the full failure message (failed checks, expected-vs-actual
//! output as a bounded text diff or a hex view, decoded trap / compile error / stderr,
//! hints) and the lines that reproduce the case with the runner that ran it.
//!
//! Paths are shown relative to the current directory (no machine paths in CI logs); text
//! that comes from programs has its control characters escaped.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::backend::RunnerKind;
use crate::check::{first_difference, DifferenceKind, SUPPORTED_REPORT_FAMILY};
use crate::config::SandboxBackend;
use crate::engine::CaseOutcome;
use crate::failure::{
    ContainmentRoot, CopyFailure, DifferentialFailure, Failure, FileRole, FixtureProblem,
    FlagField, LabelField, ProcessExit, RunEnding, RunnerFailure, TextExpectation, TextField,
};
use crate::fixture::FixtureError;
use crate::model::CaseStatus;
use crate::plan::{OutputOrigin, PlannedCase, SchemaVersionCheck, Target, SANDBOX_WORLD};
use crate::run::{path_from_cwd, EnvClear, Reproduce, RunOutput, RunnerEnv};

mod x07test;
pub use x07test::assertion_name;

/// At most this many bytes of stderr/stdout are quoted in a message.
const QUOTE_LIMIT: usize = 4000;
/// At most this many schema problems are listed.
const PROBLEM_LIMIT: usize = 20;

fn rel(path: &Path) -> String {
    path_from_cwd(path).display().to_string()
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("  {line}\n"))
        .collect::<String>()
}

fn show<T: std::fmt::Debug>(value: &Option<T>) -> String {
    match value {
        Some(value) => format!("{value:?}"),
        None => "nothing (field missing or null)".into(),
    }
}

/// The short name of the check a failure belongs to (`exit_code`, `output`, …).
pub fn check_name(failure: &Failure) -> &'static str {
    match failure {
        Failure::Fixture(_) => "fixture",
        Failure::Runner(_) => "runner",
        Failure::Timeout { .. } => "timeout",
        Failure::NoReport { .. } | Failure::ReportShape { .. } => "report",
        Failure::ReportSchema { .. } => "schema",
        Failure::SchemaVersion { .. } => "schema_version",
        Failure::Label { field, .. } => match field {
            LabelField::Mode => "mode",
            LabelField::World => "world",
        },
        Failure::ExitCode { .. } | Failure::ProcessExitDiffers { .. } => "exit_code",
        Failure::Flag { field, .. } => match field {
            FlagField::CompileOk => "compile_ok",
            FlagField::SolveOk => "solve_ok",
        },
        Failure::ExitStatus { .. } => "exit_status",
        Failure::Output { .. } => "output",
        Failure::Text { field, .. } => text_field_name(*field),
        Failure::X07Test(failure) => x07test::check_name(failure),
        Failure::Differential(_) => "differential",
    }
}

fn text_field_name(field: TextField) -> &'static str {
    match field {
        TextField::Trap => "trap",
        TextField::CompileError => "compile_error",
        TextField::Stderr => "stderr",
        TextField::SolveStderr => "solve_stderr",
    }
}

fn process_exit(exit: &ProcessExit) -> String {
    match (exit.code, exit.signal) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => "no exit code".into(),
    }
}

fn origin(origin: &OutputOrigin) -> String {
    match origin {
        OutputOrigin::Text => "text".into(),
        OutputOrigin::Base64 => "b64".into(),
        OutputOrigin::File(file) => format!("file {file}"),
        OutputOrigin::Named(name) => name.clone(),
    }
}

/// Where two different outputs first part, e.g. `first difference at offset 9 (line 1,
/// column 10)`; lines and columns only when both sides are UTF-8.
pub fn where_outputs_differ(expected: &[u8], actual: &[u8]) -> String {
    let first = first_difference(expected, actual);
    let offset = first.offset;
    let position = if std::str::from_utf8(expected).is_ok() && std::str::from_utf8(actual).is_ok() {
        format!(
            "offset {offset} (line {}, column {})",
            first.line, first.column
        )
    } else {
        format!("offset {offset} (0x{offset:x})")
    };
    match first.kind {
        DifferenceKind::Byte => format!("first difference at {position}"),
        DifferenceKind::ActualEnds => format!("actual ends at {position}, expected continues"),
        DifferenceKind::ExpectedEnds => format!("expected ends at {position}, actual continues"),
    }
}

/// The one-line summary of a failure (the `failed checks` lines, JSON `failed_checks`,
/// JUnit `message`, GitHub annotations).
pub fn failure_summary(failure: &Failure) -> String {
    let name = check_name(failure);
    match failure {
        Failure::Fixture(problem) => {
            let text = fixture_problem(problem);
            format!("fixture: {}", text.lines().next().unwrap_or(&text))
        }
        Failure::Runner(failure) => format!("runner: {}", runner_failure(failure)),
        Failure::Timeout { limit } => format!(
            "timeout: the runner did not finish within {} ms; its process group was killed",
            limit.as_millis()
        ),
        Failure::NoReport { parse_error, exit } => {
            let what = match parse_error {
                None => "printed nothing on stdout".to_string(),
                Some(error) => format!("printed stdout that is not JSON ({error})"),
            };
            format!("report: the runner {what}; {}", process_exit(exit))
        }
        Failure::ReportShape { error } => {
            format!("report: its fields do not have the types of x07-os-runner.report: {error}")
        }
        Failure::ReportSchema { problems } => format!(
            "schema: the report does not follow the x07-os-runner.report@0.5 schema ({} problem{})",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        ),
        Failure::SchemaVersion { expected, actual } => {
            let expected = match expected {
                SchemaVersionCheck::Exact(version) => format!("{version:?}"),
                _ => SUPPORTED_REPORT_FAMILY.to_string(),
            };
            format!("schema_version: expected {expected}, got {}", show(actual))
        }
        Failure::Label {
            expected, actual, ..
        } => format!("{name}: expected {expected:?}, got {}", show(actual)),
        Failure::ExitCode { expected, actual } => {
            format!("exit_code: expected {expected}, got {}", show(actual))
        }
        Failure::ProcessExitDiffers { report, process } => format!(
            "exit_code: the report says {report} but the runner process exited with {}",
            show(process)
        ),
        Failure::Flag {
            field,
            expected,
            actual,
            solved,
        } => {
            let got = if *field == FlagField::SolveOk && !solved {
                "no solve result (solve is null)".to_string()
            } else {
                show(actual)
            };
            format!("{name}: expected {expected}, got {got}")
        }
        Failure::ExitStatus { expected, actual } => {
            format!("exit_status: expected {expected}, got {}", show(actual))
        }
        Failure::Output { expected, actual } => {
            let got = match actual {
                Some(bytes) => format!(
                    "{} bytes; {}",
                    bytes.len(),
                    where_outputs_differ(&expected.bytes, bytes)
                ),
                None => "no output (solve is null or solve_output_b64 is missing)".into(),
            };
            format!(
                "output: expected {} bytes (from {}), got {got}",
                expected.bytes.len(),
                origin(&expected.origin)
            )
        }
        Failure::Text {
            expected, actual, ..
        } => match expected {
            TextExpectation::Null => format!("{name}: expected none, got {}", show(actual)),
            TextExpectation::Matches(matcher) => format!(
                "{name}: expected {}, got {}",
                matcher.describe(),
                show(actual)
            ),
        },
        Failure::X07Test(failure) => x07test::summary(failure),
        Failure::Differential(failure) => format!("{name}: {}", differential_summary(failure)),
    }
}

/// How a run ended, in a few words: `exit_code 1, trap "…"` or `exit_code 0, output "…"`.
pub fn run_ending(ending: &RunEnding) -> String {
    let code = match ending.exit_code {
        Some(code) => format!("exit_code {code}"),
        None => "no exit_code".to_string(),
    };
    if let Some(error) = &ending.compile_error {
        let first = error.lines().next().unwrap_or("");
        return format!("{code}, compile error {:?}", display_text(first.as_bytes()));
    }
    if let Some(trap) = &ending.trap {
        let status = ending
            .exit_status
            .map(|status| format!(", exit status {status}"))
            .unwrap_or_default();
        return format!("{code}, trap {:?}{status}", display_text(trap.as_bytes()));
    }
    match &ending.output {
        None => format!("{code}, no output"),
        Some(bytes) => match printable_text(bytes) {
            Some(text) if text.chars().count() <= 200 => format!("{code}, output {text:?}"),
            _ => {
                let hex: String = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
                let more = if bytes.len() > 16 { "…" } else { "" };
                format!("{code}, output of {} bytes ({hex}{more})", bytes.len())
            }
        },
    }
}

fn differential_summary(failure: &DifferentialFailure) -> String {
    match failure {
        DifferentialFailure::NotEvidence { os_profile, os, .. } => format!(
            "the denial is not evidence of the policy: under profile `{os_profile}` (no policy) the case ends the same way ({})",
            run_ending(os)
        ),
        DifferentialFailure::OutcomesDiffer {
            os_profile,
            os,
            sandbox,
            ..
        } => format!(
            "the sandbox run ends differently from the run under profile `{os_profile}`, and the fixture has no x07test.json that expects it: {os_profile}: {}; sandbox: {}",
            run_ending(os),
            run_ending(sandbox)
        ),
        DifferentialFailure::NoOsProfile { manifest } => format!(
            "cannot run the case without its policy: {} declares no profile with world run-os",
            rel(manifest)
        ),
        DifferentialFailure::OsRunFailed {
            os_profile,
            failure,
        } => format!(
            "the run under profile `{os_profile}` gave no outcome to compare: {}",
            failure_summary(failure)
        ),
    }
}

/// Extra lines under a failure's summary (schema violations, policy errors).
fn failure_details(failure: &Failure) -> Vec<String> {
    match failure {
        Failure::ReportSchema { problems } => {
            let mut lines: Vec<String> = problems.iter().take(PROBLEM_LIMIT).cloned().collect();
            if problems.len() > PROBLEM_LIMIT {
                lines.push(format!("… {} more", problems.len() - PROBLEM_LIMIT));
            }
            lines
        }
        Failure::Differential(DifferentialFailure::NotEvidence { reproduce, .. }) => vec![
            format!("the run without the policy: {reproduce}"),
            "a failure the program also has without the policy proves nothing about the policy: \
             expect it for every profile if it is the program's own, or change the case so that \
             only the policy can cause it"
                .to_string(),
        ],
        Failure::Differential(DifferentialFailure::OutcomesDiffer { reproduce, .. }) => vec![
            format!("the run without the policy: {reproduce}"),
            "add an x07test.json whose by_profile expectations say how the profiles differ"
                .to_string(),
        ],
        _ => Vec::new(),
    }
}

fn runner_failure(failure: &RunnerFailure) -> String {
    match failure {
        RunnerFailure::Copy { path, reason } => match reason {
            CopyFailure::NotAFile => format!(
                "cannot copy {}: not a regular file, directory or symlink",
                rel(path)
            ),
            CopyFailure::Io(error) => format!("cannot copy {}: {error}", rel(path)),
        },
        RunnerFailure::Spawn { program, error } => {
            format!("failed to start the runner {}: {error}", rel(program))
        }
        RunnerFailure::Io(error) => format!("failed to run the runner: {error}"),
    }
}

fn role(role: FileRole) -> &'static str {
    match role {
        FileRole::Policy => "policy file",
        FileRole::Input => "input file",
        FileRole::ExpectedOutput => "expected output file",
        FileRole::SmokeProgram => "program",
        FileRole::ModuleRoot => "module root directory",
        FileRole::FixtureFile => "fixture file",
    }
}

/// The text of a problem found before any run; the first line names the file and the
/// problem, further lines list details.
pub fn fixture_problem(problem: &FixtureProblem) -> String {
    match problem {
        FixtureProblem::File(error) => fixture_error(error),
        FixtureProblem::UnreadableDirectory { path, error } => {
            format!("cannot read directory {}: {error}", rel(path))
        }
        FixtureProblem::MissingFile {
            path,
            role: file_role,
            named_by,
        } => format!(
            "missing {} {} (named by {} in {})",
            role(*file_role),
            rel(path),
            named_by.key,
            rel(&named_by.file)
        ),
        FixtureProblem::InvalidSettings { message } => format!(
            "{message}; the package's fixtures were not looked for (its settings are unknown)"
        ),
        FixtureProblem::UnusableFile {
            path,
            role: file_role,
            named_by,
            reason,
        } => format!(
            "{} {} cannot be used: {reason} (named by {} in {})",
            role(*file_role),
            rel(path),
            named_by.key,
            rel(&named_by.file)
        ),
        FixtureProblem::OutsideRoot {
            path,
            resolved,
            role: file_role,
            root,
            named_by,
        } => {
            let root = match root {
                ContainmentRoot::Workspace(root) => format!("outside the workspace {}", rel(root)),
                ContainmentRoot::SmokeRoot(root) => format!("outside the smoke root {}", rel(root)),
            };
            format!(
                "{} {} resolves to {}, {root}; it is not used (named by {} in {})",
                role(*file_role),
                rel(path),
                resolved.display(),
                named_by.key,
                rel(&named_by.file)
            )
        }
        FixtureProblem::InvalidPolicy { path, errors } => {
            let items: Vec<String> = errors
                .iter()
                .map(|(field, message)| {
                    if field.is_empty() {
                        message.clone()
                    } else {
                        format!("{field}: {message}")
                    }
                })
                .collect();
            first_and_rest(
                &format!("invalid sandbox policy {}", rel(path)),
                &items,
                "errors",
            )
        }
        FixtureProblem::InvalidValue { file, at, message } if at.is_empty() => {
            format!("{}: {message}", rel(file))
        }
        FixtureProblem::InvalidValue { file, at, message } => {
            format!("{}: {at}: {message}", rel(file))
        }
        FixtureProblem::TestManifest { file, problems } => {
            let items: Vec<String> = problems.iter().map(x07test::problem_line).collect();
            first_and_rest(
                &format!("x07 test manifest {}", rel(file)),
                &items,
                "problems",
            )
        }
        FixtureProblem::UndeclaredProfile {
            profile,
            expectations,
            manifest,
        } => format!(
            "profile `{profile}` is listed in {} but not declared in {}",
            rel(expectations),
            rel(manifest)
        ),
    }
}

fn fixture_error(error: &FixtureError) -> String {
    match error {
        FixtureError::Read { path, source } => format!("cannot read {}: {source}", rel(path)),
        FixtureError::Json { path, source } => format!("malformed JSON in {}: {source}", rel(path)),
        FixtureError::ByteOrderMark { path } => format!(
            "{} starts with a UTF-8 byte-order mark (EF BB BF), which JSON does not allow; save it without one",
            rel(path)
        ),
        FixtureError::Schema {
            path,
            format,
            problems,
        } => {
            let items: Vec<String> = problems
                .iter()
                .map(|problem| format!("at {}: {}", problem.pointer, problem.message))
                .collect();
            first_and_rest(
                &format!("{} is not a valid {format} file", rel(path)),
                &items,
                "problems",
            )
        }
    }
}

/// `<head>: <first item>`, and when there are more, `(N <noun> in all)` and every item
/// on its own indented line.
fn first_and_rest(head: &str, items: &[String], noun: &str) -> String {
    let mut text = match items.first() {
        Some(first) => format!("{head}: {first}"),
        None => head.to_string(),
    };
    if items.len() > 1 {
        let _ = write!(text, " ({} {noun} in all)", items.len());
        for item in items.iter().take(PROBLEM_LIMIT) {
            let _ = write!(text, "\n  - {item}");
        }
        if items.len() > PROBLEM_LIMIT {
            let _ = write!(text, "\n  … {} more", items.len() - PROBLEM_LIMIT);
        }
    }
    text
}

/// The hint for a VM backend that failed closed.
pub fn vm_hint() -> &'static str {
    "hint: the sandbox VM backend failed closed (no VM runtime on this machine). Run with \
     `--sandbox-backend os` (cargo x07 test --sandbox-backend os), or set \
     `sandbox_backend = \"os\"` under [workspace.metadata.x07], to use the OS sandbox \
     (x07's --sandbox-backend os --i-accept-weaker-isolation)."
}

/// Program or runner text as shown: at most `QUOTE_LIMIT` bytes, invalid UTF-8
/// replaced, control characters other than newline and tab escaped (`\u{1b}`), so
/// that a program cannot move the cursor, clear the screen or rewrite a line.
pub fn display_text(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(QUOTE_LIMIT)];
    let mut text = String::with_capacity(cut.len());
    for character in String::from_utf8_lossy(cut).chars() {
        if character.is_control() && character != '\n' && character != '\t' {
            let _ = write!(text, "{}", character.escape_default());
        } else {
            text.push(character);
        }
    }
    if bytes.len() > QUOTE_LIMIT {
        let _ = write!(text, "\n… ({} more bytes)", bytes.len() - QUOTE_LIMIT);
    }
    text
}

/// `text` from the runner with the temporary fixture copy it ran in written
/// as the fixture's own path (the copy is gone by the time anyone reads this).
fn copy_as_fixture(text: &str, case: &PlannedCase, output: &RunOutput) -> String {
    match (&output.project_copy, &case.target) {
        (Some(copy), Target::Project { dir, .. }) => {
            text.replace(&copy.display().to_string(), &rel(dir))
        }
        (Some(copy), Target::TestManifest(test)) => {
            text.replace(&copy.display().to_string(), &rel(&test.copy_root))
        }
        _ => text.to_string(),
    }
}

/// The lines that reproduce a case, for the runner that ran it.
pub fn reproduce_footer(reproduce: &Reproduce) -> String {
    match (&reproduce.cargo_x07, reproduce.runner) {
        (Some(cargo_x07), _) => format!(
            "reproduce with:\n  {cargo_x07}\nor with the real x07 toolchain:\n  {}\n",
            reproduce.x07
        ),
        (None, RunnerKind::Embedded) | (None, RunnerKind::X07) => {
            format!("reproduce with:\n  {}\n", reproduce.x07)
        }
    }
}

/// The failed check that says most about how a failing case ended, in one line: a trap,
/// an output, a compile error, a missing report (with the first line of the runner's
/// stderr), else the first failed check.
pub fn telling_check(outcome: &CaseOutcome) -> String {
    let rank = |failure: &Failure| match failure {
        Failure::Text {
            field: TextField::Trap,
            ..
        } => 0,
        Failure::Output { .. } => 1,
        Failure::Text {
            field: TextField::CompileError,
            ..
        } => 2,
        Failure::NoReport { .. } | Failure::Timeout { .. } | Failure::Runner(_) => 3,
        _ => 4,
    };
    let Some(failure) = outcome.failures.iter().min_by_key(|failure| rank(failure)) else {
        return "case failed".to_string();
    };
    let mut text = failure_summary(failure);
    if let (Failure::NoReport { .. }, Some(output)) = (failure, &outcome.output) {
        let stderr = display_text(&output.stderr);
        if let Some(line) = stderr.lines().find(|line| !line.trim().is_empty()) {
            let _ = write!(text, " (runner stderr: {})", line.trim());
        }
    }
    text
}

/// The one-line summaries of every failure of a case.
pub fn failed_checks(outcome: &CaseOutcome) -> Vec<String> {
    outcome.failures.iter().map(failure_summary).collect()
}

/// A failing case's checks on one line, joined with `separator` (JUnit `message`, the
/// step summary's table).
pub fn failed_checks_line(outcome: &CaseOutcome, separator: &str) -> String {
    let checks = failed_checks(outcome);
    if checks.is_empty() {
        "case failed".to_string()
    } else {
        checks.join(separator)
    }
}

/// The text of a failing case's GitHub annotation: its failed checks, one per line, then
/// the reproduce line.
pub fn annotation_text(outcome: &CaseOutcome) -> String {
    let mut text = failed_checks_line(outcome, "\n");
    if let Some(reproduce) = &outcome.reproduce {
        let _ = write!(text, "\nreproduce: {}", reproduce.primary());
    }
    text
}

/// Why an ignored case is ignored, as shown after `ignored, `.
pub fn ignore_reason(outcome: &CaseOutcome) -> Option<&str> {
    outcome.ignore_reason.as_deref()
}

/// The runner's stderr of a case that ran (what `--show-output` / `--nocapture` print
/// for a passing case), or `None` when it was empty or the case did not run.
pub fn runner_stderr(outcome: &CaseOutcome) -> Option<String> {
    let output = outcome.output.as_ref()?;
    if output.stderr.is_empty() {
        return None;
    }
    Some(copy_as_fixture(
        &display_text(&output.stderr),
        &outcome.case,
        output,
    ))
}

/// Why the case could not be run, when its fixture has problems: a heading and each
/// problem, indented.
fn fixture_problems(outcome: &CaseOutcome) -> Option<String> {
    let mut problems = outcome.failures.iter().filter_map(|failure| match failure {
        Failure::Fixture(problem) => Some(problem),
        _ => None,
    });
    let first = problems.next()?;
    let mut out = String::from("the case could not be run:\n");
    for problem in std::iter::once(first).chain(problems) {
        out.push_str(&indent(&fixture_problem(problem)));
    }
    Some(out)
}

/// The line saying why the runner could not be run, when it could not.
fn runner_failure_line(outcome: &CaseOutcome) -> Option<String> {
    outcome.failures.iter().find_map(|failure| match failure {
        Failure::Runner(failure) => Some(format!(
            "the runner could not be run: {}\n",
            runner_failure(failure)
        )),
        _ => None,
    })
}

/// The full failure message of a case: what every human-readable output shows.
pub fn failure_message(outcome: &CaseOutcome) -> String {
    let case = &outcome.case;
    let mut out = format!(
        "{} failed\n  fixture file: {}\n",
        case.id.test_name(),
        rel(&case.source_file)
    );
    if let Some(problems) = fixture_problems(outcome) {
        out.push_str(&problems);
        return out;
    }
    if let Some(failure) = runner_failure_line(outcome) {
        out.push_str(&failure);
        if let Some(reproduce) = &outcome.reproduce {
            out.push_str(&reproduce_footer(reproduce));
        }
        return out;
    }
    checks_and_diff(outcome, &mut out);
    let verdict = outcome.verdict.as_ref();
    let output = outcome.output.as_ref();
    if let (Some(actual), Some(output)) = (verdict.and_then(|v| v.actual.as_ref()), output) {
        if let Some(trap) = &actual.trap {
            let _ = writeln!(out, "trap: {}", display_text(trap.as_bytes()));
        }
        if let Some(error) = &actual.compile_error {
            let error = copy_as_fixture(&display_text(error.as_bytes()), case, output);
            let _ = write!(out, "compile error:\n{}", indent(&error));
        }
        if let Some(bytes) = &actual.solve_stderr {
            if !bytes.is_empty() && actual.trap.is_some() {
                let _ = write!(
                    out,
                    "program stderr (solve.stderr_b64):\n{}",
                    indent(&display_text(bytes))
                );
            }
        }
    }
    let manifest_case = matches!(case.target, Target::TestManifest(_));
    let has_report = verdict.is_some_and(|v| {
        v.actual.is_some() || (manifest_case && !v.runner_crashed && v.report.is_some())
    });
    let has_json = verdict.is_some_and(|v| v.report.is_some())
        || output.is_some_and(|output| output.report.is_some());
    if let Some(output) = output {
        if !has_json {
            let code = match (output.exit_code, output.signal) {
                (Some(code), _) => code.to_string(),
                (None, Some(signal)) => format!("none (signal {signal})"),
                _ => "none".into(),
            };
            let _ = writeln!(out, "runner exit code: {code}");
            if !output.stdout.is_empty() {
                let stdout = copy_as_fixture(&display_text(&output.stdout), case, output);
                let _ = write!(out, "runner stdout:\n{}", indent(&stdout));
            }
        }
        if !output.stderr.is_empty() {
            let stderr = copy_as_fixture(&display_text(&output.stderr), case, output);
            let _ = write!(out, "runner stderr:\n{}", indent(&stderr));
        } else if !has_json {
            let _ = writeln!(out, "runner stderr: (empty)");
        }
    }
    let vm_failed = verdict.is_some_and(|v| v.vm_fail_closed);
    if vm_failed
        || (case.world == SANDBOX_WORLD
            && case.sandbox_backend == SandboxBackend::Vm
            && !has_report)
    {
        let _ = writeln!(out, "{}", vm_hint());
    }
    if let Some(reproduce) = &outcome.reproduce {
        out.push_str(&reproduce_footer(reproduce));
    }
    out
}

/// The failed checks of a case that ran, with their details, then the output diff.
fn checks_and_diff(outcome: &CaseOutcome, out: &mut String) {
    let _ = writeln!(out, "failed checks:");
    for failure in &outcome.failures {
        let _ = writeln!(out, "  - {}", failure_summary(failure));
        for detail in failure_details(failure) {
            let _ = writeln!(out, "    {detail}");
        }
    }
    for failure in &outcome.failures {
        if let Failure::X07Test(failure) = failure {
            out.push_str(&x07test::details(failure));
        }
    }
    for failure in &outcome.failures {
        if let Failure::Output {
            expected,
            actual: Some(actual),
        } = failure
        {
            let _ = write!(
                out,
                "output (- expected, + actual):\n{}",
                output_diff(&expected.bytes, actual)
            );
        }
    }
}

/// Bytes of a binary output shown in `cargo x07 run`'s hex line.
const RUN_HEX_LIMIT: usize = 64;

/// A program's output as `cargo x07 run` shows it: the text when it is printable (see
/// [`printable_text`]), else hex bytes.
fn output_preview(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "output: (empty)\n".into();
    }
    match printable_text(bytes) {
        Some(text) if !text.contains('\n') => {
            format!(
                "output ({} bytes, text): {}\n",
                bytes.len(),
                display_text(bytes)
            )
        }
        Some(_) => format!(
            "output ({} bytes, text):\n{}",
            bytes.len(),
            indent(&display_text(bytes))
        ),
        None => {
            let shown = &bytes[..bytes.len().min(RUN_HEX_LIMIT)];
            let hex: Vec<String> = shown.iter().map(|byte| format!("{byte:02x}")).collect();
            let more = if bytes.len() > RUN_HEX_LIMIT {
                format!(" … ({} more bytes)", bytes.len() - RUN_HEX_LIMIT)
            } else {
                String::new()
            };
            format!(
                "output ({} bytes, hex): {}{more}\n",
                bytes.len(),
                hex.join(" ")
            )
        }
    }
}

/// What `cargo x07 run` prints for one case: the command that ran, the exit code, the
/// program's output decoded (text, or hex when it is not printable), the trap or compile
/// error, the runner's stderr when there was any, and the verdict — for a failing case
/// followed by its failed checks and the output diff.
pub fn run_summary(outcome: &CaseOutcome) -> String {
    let case = &outcome.case;
    let mut out = format!("== {}\n", case.id.test_name());
    if let Some(reproduce) = &outcome.reproduce {
        let _ = writeln!(out, "command: {}", reproduce.x07);
    }
    if let Some(problems) = fixture_problems(outcome) {
        let _ = writeln!(out, "fixture file: {}", rel(&case.source_file));
        out.push_str(&problems);
        out.push_str("verdict: FAIL\n");
        return out;
    }
    if let Some(failure) = runner_failure_line(outcome) {
        out.push_str(&failure);
        out.push_str("verdict: FAIL\n");
        return out;
    }
    let actual = outcome.verdict.as_ref().and_then(|v| v.actual.as_ref());
    // An `x07 test` call: its report's words for the test instead of `x07 run`'s.
    let x07test = match (&case.target, &outcome.output) {
        (Target::TestManifest(test), Some(output)) => outcome
            .verdict
            .as_ref()
            .and_then(|verdict| verdict.report.as_ref())
            .and_then(|report| {
                let with_stderr = outcome.status != CaseStatus::Failed;
                x07test::call_summary(report, &test.id, output.exit_code, with_stderr)
            }),
        _ => None,
    };
    if let Some(output) = &outcome.output {
        match (&x07test, actual) {
            (Some(lines), _) => out.push_str(lines),
            (None, Some(actual)) => {
                if let Some(code) = actual.exit_code {
                    let _ = writeln!(out, "exit code: {code}");
                }
                match &actual.output {
                    Some(bytes) => out.push_str(&output_preview(bytes)),
                    None if !actual.solved => {
                        out.push_str("output: none (the program did not run)\n")
                    }
                    None => out.push_str("output: none\n"),
                }
                if let Some(trap) = &actual.trap {
                    let _ = writeln!(out, "trap: {}", display_text(trap.as_bytes()));
                    // The program's stderr, when it says more than the trap line.
                    let more = |bytes: &&Vec<u8>| {
                        !bytes.is_empty()
                            && String::from_utf8_lossy(bytes).trim_end() != trap.trim_end()
                    };
                    if let Some(bytes) = actual.solve_stderr.as_ref().filter(more) {
                        let _ = write!(out, "program stderr:\n{}", indent(&display_text(bytes)));
                    }
                }
                if let Some(error) = &actual.compile_error {
                    let error = copy_as_fixture(&display_text(error.as_bytes()), case, output);
                    let _ = write!(out, "compile error:\n{}", indent(&error));
                }
            }
            (None, None) => {
                let code = match (output.exit_code, output.signal) {
                    (Some(code), _) => code.to_string(),
                    (None, Some(signal)) => format!("none (signal {signal})"),
                    _ => "none".into(),
                };
                let _ = writeln!(
                    out,
                    "exit code: {code} (the runner printed no readable report)"
                );
                if !output.stdout.is_empty() {
                    let stdout = copy_as_fixture(&display_text(&output.stdout), case, output);
                    let _ = write!(out, "runner stdout:\n{}", indent(&stdout));
                }
            }
        }
        if !output.stderr.is_empty() {
            let stderr = copy_as_fixture(&display_text(&output.stderr), case, output);
            let _ = write!(out, "runner stderr:\n{}", indent(&stderr));
        }
    }
    match outcome.status {
        CaseStatus::Passed => {
            let _ = writeln!(out, "verdict: pass ({} ms)", outcome.duration.as_millis());
        }
        CaseStatus::Ignored => {
            let _ = writeln!(
                out,
                "verdict: ignored ({})",
                outcome.ignore_reason.as_deref().unwrap_or("ignored")
            );
        }
        CaseStatus::Failed => {
            let _ = writeln!(out, "verdict: FAIL ({} ms)", outcome.duration.as_millis());
            let _ = writeln!(out, "fixture file: {}", rel(&case.source_file));
            checks_and_diff(outcome, &mut out);
            let vm_failed = outcome.verdict.as_ref().is_some_and(|v| v.vm_fail_closed);
            if vm_failed {
                let _ = writeln!(out, "{}", vm_hint());
            }
        }
    }
    out
}

/// `Some(text)` when `bytes` are printable text: UTF-8 without control characters other
/// than newline, tab and carriage return.
pub fn printable_text(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    text.chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\t' | '\r'))
        .then_some(text)
}

/// Expected vs actual bytes: a text diff when both sides are printable text (see
/// [`printable_text`]), else a hex view around the first differing byte. Both are bounded.
pub fn output_diff(expected: &[u8], actual: &[u8]) -> String {
    match (printable_text(expected), printable_text(actual)) {
        (Some(expected), Some(actual)) => text_diff(expected, actual),
        _ => hex_diff(expected, actual),
    }
}

/// Lines of each side compared, starting a little before the first differing line.
const DIFF_WINDOW_LINES: usize = 40;
/// Equal lines shown before a change.
const DIFF_CONTEXT_LINES: usize = 3;
/// At most this many diff lines are printed.
const DIFF_LINE_LIMIT: usize = 100;
/// Longer diff lines are cut to this many characters.
const DIFF_LINE_WIDTH: usize = 1000;
/// The diff algorithm gives up refining after this long (then shows a coarser diff).
const DIFF_DEADLINE: Duration = Duration::from_millis(100);

fn text_diff(expected: &str, actual: &str) -> String {
    let expected_lines: Vec<&str> = expected.split_inclusive('\n').collect();
    let actual_lines: Vec<&str> = actual.split_inclusive('\n').collect();
    let equal_prefix = expected_lines
        .iter()
        .zip(&actual_lines)
        .take_while(|(e, a)| e == a)
        .count();
    let start = equal_prefix.saturating_sub(DIFF_CONTEXT_LINES);
    let expected_end = (start + DIFF_WINDOW_LINES).min(expected_lines.len());
    let actual_end = (start + DIFF_WINDOW_LINES).min(actual_lines.len());
    let whole = expected_end == expected_lines.len() && actual_end == actual_lines.len();
    let old: String = expected_lines[start..expected_end].concat();
    let new: String = actual_lines[start..actual_end].concat();
    let diff = similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Myers)
        .deadline(Instant::now() + DIFF_DEADLINE)
        .diff_lines(&old, &new);
    let newline_differs = whole && expected.ends_with('\n') != actual.ends_with('\n');
    let mut out = String::new();
    let mut shown = 0;
    let mut hidden = 0;
    let groups = diff.grouped_ops(DIFF_CONTEXT_LINES);
    let headers = groups.len() > 1 || start > 0;
    for group in &groups {
        if headers && shown < DIFF_LINE_LIMIT {
            if let Some(first) = group.first() {
                let _ = writeln!(
                    out,
                    "  @@ expected line {}, actual line {} @@",
                    start + first.old_range().start + 1,
                    start + first.new_range().start + 1
                );
            }
        }
        for op in group {
            for change in diff.iter_changes(op) {
                if shown >= DIFF_LINE_LIMIT {
                    hidden += 1;
                    continue;
                }
                shown += 1;
                let sign = match change.tag() {
                    similar::ChangeTag::Delete => '-',
                    similar::ChangeTag::Insert => '+',
                    similar::ChangeTag::Equal => ' ',
                };
                let value = change.value();
                let line = value.strip_suffix('\n').unwrap_or(value);
                let line = line.strip_suffix('\r').unwrap_or(line);
                let cut: String = line.chars().take(DIFF_LINE_WIDTH).collect();
                let _ = write!(out, "  {sign}{}", cut.replace('\r', "\\r"));
                let rest = line.chars().count().saturating_sub(DIFF_LINE_WIDTH);
                if rest > 0 {
                    let _ = write!(out, "… ({rest} more characters)");
                }
                if newline_differs && change.missing_newline() {
                    out.push_str("⏎ (no newline at end)");
                }
                out.push('\n');
            }
        }
    }
    let mut not_shown = Vec::new();
    if hidden > 0 {
        not_shown.push(format!("{hidden} more diff lines"));
    }
    if !whole {
        let range = |end: usize, len: usize| {
            if end < len {
                format!("lines {}-{len}", end + 1)
            } else {
                "nothing".to_string()
            }
        };
        not_shown.push(format!(
            "expected {} and actual {} (past the first difference; not compared)",
            range(expected_end, expected_lines.len()),
            range(actual_end, actual_lines.len())
        ));
    }
    if !not_shown.is_empty() {
        let _ = writeln!(out, "  … not shown: {}", not_shown.join("; "));
    }
    out
}

fn hex_rows(bytes: &[u8], from: usize, to: usize, mark: usize, out: &mut String) {
    let mut offset = from;
    while offset < to.min(bytes.len()) {
        let end = (offset + 16).min(bytes.len());
        let mut hex = String::new();
        let mut ascii = String::new();
        for (index, byte) in bytes[offset..end].iter().enumerate() {
            let at = offset + index;
            let _ = write!(hex, "{}{byte:02x}", if at == mark { '>' } else { ' ' });
            ascii.push(if byte.is_ascii_graphic() || *byte == b' ' {
                *byte as char
            } else {
                '.'
            });
        }
        let _ = writeln!(out, "    {offset:08x} {hex:<48}  |{ascii}|");
        offset = end;
    }
}

fn hex_diff(expected: &[u8], actual: &[u8]) -> String {
    let first = first_difference(expected, actual).offset;
    let from = (first / 16).saturating_sub(2) * 16;
    let to = (first / 16 + 3) * 16;
    let mut out = format!(
        "  binary output differs at offset {first} (0x{first:x}); expected {} bytes, actual {} bytes; `>` marks the first difference\n",
        expected.len(),
        actual.len()
    );
    out.push_str("  expected:\n");
    hex_rows(expected, from, to, first, &mut out);
    out.push_str("  actual:\n");
    hex_rows(actual, from, to, first, &mut out);
    let shown_end = to.min(expected.len().max(actual.len()));
    if from > 0 || shown_end < expected.len().max(actual.len()) {
        let _ = writeln!(
            out,
            "  … not shown: bytes outside 0x{from:x}-0x{shown_end:x}"
        );
    }
    out
}

/// What the first output line adds about the runner's environment: which inherited `X07_*`
/// variables reach the runner and which are removed (names only, never values); `None`
/// when none was inherited.
pub fn environment_note(env: &RunnerEnv) -> Option<String> {
    let passed = env.passed();
    let removed = env.removed();
    if passed.is_empty() && removed.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    if !passed.is_empty() {
        parts.push(format!("passed {}", passed.join(", ")));
    }
    if !removed.is_empty() {
        let why = match env.clear {
            EnvClear::RunShaping => "run-shaping",
            EnvClear::All => "clean env",
        };
        parts.push(format!("removed {} ({why})", removed.join(", ")));
    }
    Some(format!("inherited X07_*: {}", parts.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_diff_marks_changed_lines() {
        let diff = output_diff(b"a\nDATA\nc\n", b"a\nDATB\nc\n");
        assert_eq!(diff, "   a\n  -DATA\n  +DATB\n   c\n");
    }

    #[test]
    fn long_outputs_show_a_window_around_the_first_difference() {
        let expected: String = (0..1000).map(|n| format!("line {n}\n")).collect();
        let actual = expected.replace("line 500\n", "line five hundred\n");
        let diff = output_diff(expected.as_bytes(), actual.as_bytes());
        assert!(
            diff.starts_with("  @@ expected line 498, actual line 498 @@\n"),
            "{diff}"
        );
        assert!(
            diff.contains("  -line 500\n  +line five hundred\n"),
            "{diff}"
        );
        assert!(!diff.contains("line 400"), "{diff}");
        assert!(diff.lines().count() < 12, "{diff}");
        assert!(
            diff.ends_with("  … not shown: expected lines 538-1000 and actual lines 538-1000 (past the first difference; not compared)\n"),
            "{diff}"
        );
        let wide = "x".repeat(5000);
        let diff = output_diff(wide.as_bytes(), b"y");
        assert!(diff.contains("(4000 more characters)"), "{diff}");
    }

    #[test]
    fn text_diff_shows_a_missing_newline() {
        let diff = output_diff(b"DATA\n", b"DATA");
        assert!(diff.contains("no newline at end"), "{diff}");
    }

    #[test]
    fn control_characters_make_it_a_hex_view() {
        assert!(printable_text(b"a\tb\r\n").is_some());
        assert!(printable_text(b"a\x00").is_none());
        assert!(printable_text("a\u{1b}[2J".as_bytes()).is_none());
        assert!(printable_text(&[0xff]).is_none());
        let diff = output_diff(b"x\x01\n", b"x\x00\n");
        assert!(diff.contains("binary output differs at offset 1"), "{diff}");
    }

    #[test]
    fn binary_diff_is_a_hex_dump_at_the_first_difference() {
        let expected: Vec<u8> = (0u8..64).collect();
        let mut actual = expected.clone();
        actual[40] = 0xff;
        let diff = output_diff(&expected, &actual);
        assert!(diff.contains("differs at offset 40 (0x28)"), "{diff}");
        assert!(diff.contains(">28"), "{diff}");
        assert!(diff.contains(">ff"), "{diff}");
        assert!(diff.contains("00000020"), "{diff}");
    }

    #[test]
    fn binary_diff_of_a_prefix() {
        let diff = output_diff(&[0xff, 0], &[0xff]);
        assert!(diff.contains("differs at offset 1"), "{diff}");
    }

    #[test]
    fn where_outputs_differ_covers_lines_prefixes_and_binary() {
        assert_eq!(
            where_outputs_differ(b"a\nbc\n", b"a\nbd\n"),
            "first difference at offset 3 (line 2, column 2)"
        );
        assert_eq!(
            where_outputs_differ(b"abc", b"ab"),
            "actual ends at offset 2 (line 1, column 3), expected continues"
        );
        assert_eq!(
            where_outputs_differ(b"", b"x"),
            "expected ends at offset 0 (line 1, column 1), actual continues"
        );
        assert_eq!(
            where_outputs_differ(&[0, 1, 0xff, 3], &[0, 1, 0xfe, 3]),
            "first difference at offset 2 (0x2)"
        );
    }

    #[test]
    fn program_text_cannot_drive_the_terminal() {
        assert_eq!(display_text(b"ok\n\x1b[2Jgone\r"), "ok\n\\u{1b}[2Jgone\\r");
    }
}
