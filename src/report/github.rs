//! GitHub Actions output: `::error` annotations and the `$GITHUB_STEP_SUMMARY` Markdown.
//!
//! On for `--github` or when `GITHUB_ACTIONS=true`. For every failing case, sorted by test
//! name, the run prints
//!
//! ```text
//! ::error file=<expectations file>,title=<test name>::<failed checks and reproduce command>
//! ::group::<test name>
//! ::stop-commands::<token>
//! <the full failure message>
//! ::<token>::
//! ::endgroup::
//! ```
//!
//! The failure text is printed between `stop-commands` markers so that a line like `::error`
//! in a program's own output cannot become a workflow command. Values are escaped as the
//! runner expects: in the message `%`, `\r`, `\n` become `%25`, `%0D`, `%0A`; in property
//! values (`file`, `title`) `:` and `,` also become `%3A`, `%2C`.

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::Path;

use super::slowest::{format_seconds, slowest_cases};
use super::{display_path, totals_by_profile, ReportError, ReportOptions, RunSummary};
use crate::model::{CaseResult, CaseStatus};

/// At most this many rows are written to the step summary's failure table.
pub const MAX_SUMMARY_FAILURES: usize = 100;

/// Whether the run is inside GitHub Actions (`GITHUB_ACTIONS=true`).
pub fn running_in_github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|value| value == "true")
}

/// Escapes the message part of a workflow command.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (`file=`, `title=`) of a workflow command.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// The text of a failing case's annotation: its failed checks, one per line, then the
/// reproduce command.
pub fn annotation_message(result: &CaseResult) -> String {
    let mut message = super::failed_checks_text(result, "\n");
    if !result.reproduce.is_empty() {
        message.push_str("\nreproduce: ");
        message.push_str(&result.reproduce);
    }
    message
}

/// The `file=` of an annotation. GitHub resolves it against the checkout
/// (`$GITHUB_WORKSPACE`), which is not the cargo workspace when that lives in
/// a subdirectory of the repository; files outside the checkout (or without
/// one) are shown relative to the cargo workspace root.
pub fn annotation_file(path: &Path, workspace_root: &Path, checkout: Option<&Path>) -> String {
    match checkout {
        Some(checkout) if !checkout.as_os_str().is_empty() && path.starts_with(checkout) => {
            display_path(path, checkout)
        }
        _ => display_path(path, workspace_root),
    }
}

/// The `::error` line (with its newline) for one failing case.
pub fn error_annotation(result: &CaseResult, workspace_root: &Path) -> String {
    // Canonical like the cargo workspace root (macOS: /var is /private/var).
    let checkout = std::env::var_os("GITHUB_WORKSPACE")
        .map(std::path::PathBuf::from)
        .map(|checkout| std::fs::canonicalize(&checkout).unwrap_or(checkout));
    format!(
        "::error file={},title={}::{}\n",
        escape_property(&annotation_file(
            &result.source_file,
            workspace_root,
            checkout.as_deref()
        )),
        escape_property(&result.id.test_name()),
        escape_data(&annotation_message(result))
    )
}

/// A token for `::stop-commands::` that the programs under test cannot predict.
fn stop_commands_token() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let seed = format!("{}:{nanos}", std::process::id());
    format!(
        "cargo-x07-{:016x}",
        crate::partition::stable_name_hash(&seed)
    )
}

/// The annotations and folded failure output for every failing case in `results`, sorted
/// by test name; empty when nothing failed.
pub fn annotations(results: &[CaseResult], workspace_root: &Path) -> String {
    let mut failed: Vec<&CaseResult> = results
        .iter()
        .filter(|result| result.status == CaseStatus::Failed)
        .collect();
    failed.sort_by(|a, b| a.id.cmp(&b.id));
    let mut text = String::new();
    if failed.is_empty() {
        return text;
    }
    let token = stop_commands_token();
    for result in failed {
        text.push_str(&error_annotation(result, workspace_root));
        let _ = writeln!(text, "::group::{}", escape_data(&result.id.test_name()));
        let _ = writeln!(text, "::stop-commands::{token}");
        text.push_str(&super::junit::failure_body(result));
        let _ = writeln!(text, "::{token}::");
        text.push_str("::endgroup::\n");
    }
    text
}

/// Escapes text for a Markdown table cell (as HTML, so backticks and pipes are harmless);
/// newlines become `<br>`.
pub fn table_cell(text: &str) -> String {
    let mut cell = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => cell.push_str("&amp;"),
            '<' => cell.push_str("&lt;"),
            '>' => cell.push_str("&gt;"),
            '"' => cell.push_str("&quot;"),
            '|' => cell.push_str("&#124;"),
            '`' => cell.push_str("&#96;"),
            '\\' => cell.push_str("&#92;"),
            '\n' => cell.push_str("<br>"),
            '\r' => {}
            other => cell.push(other),
        }
    }
    cell
}

fn code_cell(text: &str) -> String {
    format!("<code>{}</code>", table_cell(text))
}

fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(max_chars).collect();
        short.push('…');
        short
    }
}

/// The Markdown step summary of a run: a headline, totals per profile, a table of failures
/// with their reproduce commands, and the slowest cases.
pub fn step_summary(
    results: &[CaseResult],
    summary: &RunSummary,
    options: &ReportOptions,
) -> String {
    let totals = summary.totals;
    let mut markdown = String::new();
    let verdict = if totals.failed > 0 {
        format!("❌ {} failed", totals.failed)
    } else if totals.total() == 0 {
        "⚠️ no cases selected".to_string()
    } else {
        "✅ all passed".to_string()
    };
    let shard = options
        .partition
        .map(|partition| format!(" — shard `{partition}`"))
        .unwrap_or_default();
    let _ = writeln!(markdown, "### cargo x07 test: {verdict}{shard}\n");
    let _ = writeln!(
        markdown,
        "{} passed, {} failed, {} ignored in {}\n",
        totals.passed,
        totals.failed,
        totals.ignored,
        format_seconds(summary.wall_time)
    );

    markdown.push_str("| profile | passed | failed | ignored | runner time |\n");
    markdown.push_str("|---|---:|---:|---:|---:|\n");
    for (profile, (profile_totals, time)) in totals_by_profile(results) {
        let _ = writeln!(
            markdown,
            "| {} | {} | {} | {} | {} |",
            table_cell(profile),
            profile_totals.passed,
            profile_totals.failed,
            profile_totals.ignored,
            format_seconds(time)
        );
    }
    markdown.push('\n');

    let mut failed: Vec<&CaseResult> = results
        .iter()
        .filter(|result| result.status == CaseStatus::Failed)
        .collect();
    failed.sort_by(|a, b| a.id.cmp(&b.id));
    if !failed.is_empty() {
        markdown.push_str("#### Failures\n\n");
        markdown.push_str("| case | failed checks | file | reproduce |\n");
        markdown.push_str("|---|---|---|---|\n");
        for result in failed.iter().take(MAX_SUMMARY_FAILURES) {
            let checks = if result.failed_checks.is_empty() {
                super::junit::failure_message(result)
            } else {
                result.failed_checks.join("\n")
            };
            let _ = writeln!(
                markdown,
                "| {} | {} | {} | {} |",
                code_cell(&result.id.test_name()),
                table_cell(&shorten(&checks, 500)),
                code_cell(&display_path(&result.source_file, &options.workspace_root)),
                code_cell(&result.reproduce)
            );
        }
        if failed.len() > MAX_SUMMARY_FAILURES {
            let _ = writeln!(
                markdown,
                "\n… and {} more failures (see the job log or the JUnit file).",
                failed.len() - MAX_SUMMARY_FAILURES
            );
        }
        markdown.push('\n');
    }

    let slowest = slowest_cases(results, options.slowest);
    if !slowest.is_empty() {
        markdown.push_str("#### Slowest cases\n\n| case | time |\n|---|---:|\n");
        for result in slowest {
            let _ = writeln!(
                markdown,
                "| {} | {} |",
                code_cell(&result.id.test_name()),
                format_seconds(result.duration)
            );
        }
        markdown.push('\n');
    }
    markdown
}

/// Appends `markdown` to the step summary file at `path` (creating it if needed).
pub fn append_step_summary(path: &Path, markdown: &str) -> Result<(), ReportError> {
    let error = |source| ReportError::StepSummary {
        path: path.to_path_buf(),
        source,
    };
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(error)?;
    file.write_all(markdown.as_bytes()).map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::exit::RunOutcome;
    use crate::report::test_support::{result, result_in};
    use crate::report::RunTotals;
    use std::time::Duration;

    #[test]
    fn annotation_files_are_relative_to_the_checkout() {
        let file = Path::new("/repo/rust/fixtures/a/x07test.json");
        let workspace = Path::new("/repo/rust");
        assert_eq!(
            annotation_file(file, workspace, Some(Path::new("/repo"))),
            "rust/fixtures/a/x07test.json"
        );
        assert_eq!(
            annotation_file(file, workspace, None),
            "fixtures/a/x07test.json"
        );
        assert_eq!(
            annotation_file(file, workspace, Some(Path::new("/elsewhere"))),
            "fixtures/a/x07test.json"
        );
        assert_eq!(
            annotation_file(file, workspace, Some(Path::new(""))),
            "fixtures/a/x07test.json"
        );
    }

    #[test]
    fn escapes_data_and_properties() {
        assert_eq!(
            escape_data("100% done\r\nnext: a,b"),
            "100%25 done%0D%0Anext: a,b"
        );
        assert_eq!(
            escape_property("fixtures/a::case,1%\n"),
            "fixtures/a%3A%3Acase%2C1%25%0A"
        );
    }

    #[test]
    fn error_annotation_names_the_file_and_case() {
        let failed = result("fixtures/io/read", CaseStatus::Failed, 3);
        assert_eq!(
            error_annotation(&failed, Path::new("/ws")),
            "::error file=fixtures/io/read/x07test.json,title=fixtures/io/read%3A%3Adefault%3A%3Aos::output: bytes differ%0Areproduce: x07 run --project fixtures/io/read/x07.json --profile os --repair=off\n"
        );
    }

    #[test]
    fn failure_output_is_folded_and_cannot_inject_commands() {
        let mut failed = result("fixtures/evil", CaseStatus::Failed, 3);
        failed.message = "stderr:\n::error::injected\n".to_string();
        let passed = result("fixtures/fine", CaseStatus::Passed, 3);
        let text = annotations(&[passed, failed], Path::new("/ws"));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("::error file=fixtures/evil/x07test.json,"));
        assert_eq!(lines[1], "::group::fixtures/evil::default::os");
        let token = lines[2].strip_prefix("::stop-commands::").unwrap();
        assert!(token.starts_with("cargo-x07-"));
        assert_eq!(lines[3], "stderr:");
        assert_eq!(lines[4], "::error::injected");
        assert!(lines.contains(&format!("::{token}::").as_str()));
        assert_eq!(*lines.last().unwrap(), "::endgroup::");
        assert_eq!(
            annotations(&[result("ok", CaseStatus::Passed, 1)], Path::new("/ws")),
            ""
        );
    }

    #[test]
    fn step_summary_has_totals_failures_and_slowest() {
        let mut broken = result_in("fixtures/x|y", "default", "sandbox", CaseStatus::Failed, 40);
        broken.failed_checks = vec![
            "trap: expected `a`, got <b>".to_string(),
            "exit_code: expected 0, got 1".to_string(),
        ];
        let results = vec![
            result_in("fixtures/a", "default", "os", CaseStatus::Passed, 700),
            result_in("fixtures/a", "default", "sandbox", CaseStatus::Ignored, 0),
            broken,
        ];
        let summary = RunSummary {
            totals: RunTotals::count(&results),
            outcome: RunOutcome::Failed,
            wall_time: Duration::from_millis(800),
        };
        let mut options = ReportOptions::new("/ws");
        options.partition = Some("hash:2/2".parse().unwrap());
        options.slowest = 1;
        let markdown = step_summary(&results, &summary, &options);
        assert!(markdown.starts_with("### cargo x07 test: ❌ 1 failed — shard `hash:2/2`\n\n1 passed, 1 failed, 1 ignored in 0.800s\n"), "{markdown}");
        assert!(
            markdown.contains("| os | 1 | 0 | 0 | 0.700s |\n| sandbox | 0 | 1 | 1 | 0.040s |\n"),
            "{markdown}"
        );
        assert!(markdown.contains(
            "| <code>fixtures/x&#124;y::default::sandbox</code> | trap: expected &#96;a&#96;, got &lt;b&gt;<br>exit_code: expected 0, got 1 | <code>fixtures/x&#124;y/x07test.json</code> | <code>x07 run --project fixtures/x&#124;y/x07.json --profile sandbox --repair=off</code> |\n"
        ), "{markdown}");
        assert!(markdown.contains("#### Slowest cases\n\n| case | time |\n|---|---:|\n| <code>fixtures/a::default::os</code> | 0.700s |\n"), "{markdown}");
    }

    #[test]
    fn appends_to_the_summary_file() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("summary.md");
        std::fs::write(&path, "earlier step\n").unwrap();
        append_step_summary(&path, "### mine\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "earlier step\n### mine\n"
        );
    }
}
