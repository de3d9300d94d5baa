//! Every user-visible failure text, in one place so wording stays consistent:
//! failed checks, expected-vs-actual output (a text diff, or a hex dump
//! around the first differing byte), decoded trap / compile error / stderr,
//! hints, and the command that reproduces the case with the real `x07`.

use std::fmt::Write as _;

use crate::check::Verdict;
use crate::config::SandboxBackend;
use crate::plan::{PlannedCase, Target, SANDBOX_WORLD};
use crate::run::{RunError, RunOutput};

/// At most this many bytes of stderr are quoted in a message.
const STDERR_LIMIT: usize = 4000;

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("  {line}\n"))
        .collect::<String>()
}

fn header(case: &PlannedCase) -> String {
    format!(
        "{} failed\n  fixture file: {}\n",
        case.id.test_name(),
        crate::run::path_from_cwd(&case.source_file).display()
    )
}

fn footer(out: &mut String, reproduce: &str) {
    let _ = write!(out, "reproduce with the real x07:\n  {reproduce}\n");
}

/// `text` with every path under the current directory written relative to it,
/// like the fixture file and the reproduce line (no machine paths in CI logs).
pub fn paths_from_cwd(text: &str) -> String {
    let Ok(cwd) = std::env::current_dir() else {
        return text.to_string();
    };
    let prefix = format!("{}{}", cwd.display(), std::path::MAIN_SEPARATOR);
    if prefix.len() <= 1 {
        return text.to_string();
    }
    text.replace(&prefix, "")
}

/// The message of a case that could not be planned (broken fixture, missing file).
pub fn problem_message(case: &PlannedCase, problem: &str, reproduce: &str) -> String {
    let mut out = header(case);
    let _ = write!(
        out,
        "the case could not be run:\n{}",
        indent(&paths_from_cwd(problem))
    );
    footer(&mut out, reproduce);
    out
}

/// The message of a case whose runner could not be started or copied.
pub fn run_error_message(case: &PlannedCase, error: &RunError, reproduce: &str) -> String {
    let mut out = header(case);
    let _ = writeln!(
        out,
        "the runner could not be run: {}",
        paths_from_cwd(&error.to_string())
    );
    footer(&mut out, reproduce);
    out
}

/// One-line summary for a problem (used as the failed-check line).
pub fn problem_summary(problem: &str) -> String {
    let problem = paths_from_cwd(problem);
    format!("fixture: {}", problem.lines().next().unwrap_or(&problem))
}

/// The hint for a VM backend that failed closed.
pub fn vm_hint() -> &'static str {
    "hint: the sandbox VM backend failed closed (no VM runtime on this machine). Run with \
     `--sandbox-backend os` (cargo x07 test --sandbox-backend os), or set \
     `sandbox_backend = \"os\"` under [workspace.metadata.x07], to use the OS sandbox \
     (x07's --sandbox-backend os --i-accept-weaker-isolation)."
}

fn lossy_limited(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(STDERR_LIMIT)]).into_owned();
    if bytes.len() > STDERR_LIMIT {
        format!("{text}\n… ({} more bytes)", bytes.len() - STDERR_LIMIT)
    } else {
        text
    }
}

/// `text` from the runner with the temporary fixture copy it ran in written
/// as the fixture's own path (the copy is gone by the time anyone reads this).
fn copy_as_fixture(text: &str, case: &PlannedCase, output: &RunOutput) -> String {
    match (&output.project_copy, &case.target) {
        (Some(copy), Target::Project { dir, .. }) => text.replace(
            &copy.display().to_string(),
            &crate::run::path_from_cwd(dir).display().to_string(),
        ),
        _ => text.to_string(),
    }
}

/// The full failure text of a case that ran.
pub fn failure_message(
    case: &PlannedCase,
    output: &RunOutput,
    verdict: &Verdict,
    reproduce: &str,
) -> String {
    let mut out = header(case);
    let _ = writeln!(out, "failed checks:");
    for mismatch in &verdict.mismatches {
        let _ = writeln!(out, "  - {}", mismatch.summary);
        for detail in &mismatch.details {
            let _ = writeln!(out, "    {}", detail.trim_start());
        }
    }
    if let (Some(expected), Some(actual)) = (&case.expect.output, &verdict.actual) {
        if let Some(actual_output) = &actual.output {
            if actual_output != &expected.bytes {
                let _ = write!(
                    out,
                    "output (- expected, + actual):\n{}",
                    output_diff(&expected.bytes, actual_output)
                );
            }
        }
    }
    if let Some(actual) = &verdict.actual {
        if let Some(trap) = &actual.trap {
            let _ = writeln!(out, "trap: {trap}");
        }
        if let Some(error) = &actual.compile_error {
            let error = copy_as_fixture(error, case, output);
            let _ = write!(out, "compile error:\n{}", indent(&error));
        }
        if let Some(bytes) = &actual.solve_stderr {
            if !bytes.is_empty() && actual.trap.is_some() {
                let _ = write!(
                    out,
                    "program stderr (solve.stderr_b64):\n{}",
                    indent(&lossy_limited(bytes))
                );
            }
        }
    }
    if verdict.report.is_none() {
        let code = match (output.exit_code, output.signal) {
            (Some(code), _) => code.to_string(),
            (None, Some(signal)) => format!("none (signal {signal})"),
            _ => "none".into(),
        };
        let _ = writeln!(out, "runner exit code: {code}");
        if !output.stdout.is_empty() {
            let stdout = copy_as_fixture(&lossy_limited(&output.stdout), case, output);
            let _ = write!(out, "runner stdout:\n{}", indent(&stdout));
        }
    }
    if !output.stderr.is_empty() {
        let stderr = copy_as_fixture(&lossy_limited(&output.stderr), case, output);
        let _ = write!(out, "runner stderr:\n{}", indent(&stderr));
    } else if verdict.report.is_none() {
        let _ = writeln!(out, "runner stderr: (empty)");
    }
    if verdict.vm_fail_closed
        || (case.world == SANDBOX_WORLD
            && case.sandbox_backend == SandboxBackend::Vm
            && verdict.report.is_none())
    {
        let _ = writeln!(out, "{}", vm_hint());
    }
    footer(&mut out, reproduce);
    out
}

/// Expected vs actual bytes: a unified text diff when both are UTF-8,
/// else a hex dump around the first differing offset.
pub fn output_diff(expected: &[u8], actual: &[u8]) -> String {
    match (std::str::from_utf8(expected), std::str::from_utf8(actual)) {
        (Ok(expected), Ok(actual)) => text_diff(expected, actual),
        _ => hex_diff(expected, actual),
    }
}

/// At most this many diff lines are shown.
const DIFF_LINE_LIMIT: usize = 200;
/// Longer diff lines are cut to this many characters.
const DIFF_LINE_WIDTH: usize = 1000;

fn text_diff(expected: &str, actual: &str) -> String {
    let diff = similar::TextDiff::from_lines(expected, actual);
    let newline_differs = expected.ends_with('\n') != actual.ends_with('\n');
    let mut out = String::new();
    let mut shown = 0;
    let mut hidden = 0;
    let groups = diff.grouped_ops(3);
    let several = groups.len() > 1;
    for group in &groups {
        if several && shown < DIFF_LINE_LIMIT {
            if let Some(first) = group.first() {
                let _ = writeln!(
                    out,
                    "  @@ expected line {}, actual line {} @@",
                    first.old_range().start + 1,
                    first.new_range().start + 1
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
                let cut: String = line.chars().take(DIFF_LINE_WIDTH).collect();
                let _ = write!(out, "  {sign}{cut}");
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
    if hidden > 0 {
        let _ = writeln!(out, "  … ({hidden} more diff lines)");
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
    let first = expected
        .iter()
        .zip(actual)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(actual.len()));
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_paths_are_relative_to_the_current_directory() {
        let cwd = std::env::current_dir().unwrap();
        let file = cwd.join("fixtures").join("a").join("x07test.json");
        let problem = format!("malformed JSON in {}: EOF", file.display());
        let relative = std::path::Path::new("fixtures")
            .join("a")
            .join("x07test.json");
        assert_eq!(
            problem_summary(&problem),
            format!("fixture: malformed JSON in {}: EOF", relative.display())
        );
        assert_eq!(
            paths_from_cwd("/elsewhere/x07test.json"),
            "/elsewhere/x07test.json"
        );
    }

    #[test]
    fn text_diff_marks_changed_lines() {
        let diff = output_diff(b"a\nDATA\nc\n", b"a\nDATB\nc\n");
        assert_eq!(diff, "   a\n  -DATA\n  +DATB\n   c\n");
    }

    #[test]
    fn long_outputs_show_only_the_changed_region() {
        let expected: String = (0..1000).map(|n| format!("line {n}\n")).collect();
        let actual = expected.replace("line 500\n", "line five hundred\n");
        let diff = output_diff(expected.as_bytes(), actual.as_bytes());
        assert!(
            diff.contains("  -line 500\n  +line five hundred\n"),
            "{diff}"
        );
        assert!(!diff.contains("line 400"), "{diff}");
        assert!(diff.lines().count() < 10, "{diff}");
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
}
