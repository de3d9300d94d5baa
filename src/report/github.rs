//! GitHub Actions output: `::error` annotations, the failures folded in the log, and the
//! `$GITHUB_STEP_SUMMARY` Markdown.
//!
//! On for `--github` or when `GITHUB_ACTIONS=true`. For every failing case, sorted by test
//! name, the run prints
//!
//! ```text
//! ::error file=<expectations file>,title=<test name>::<failed checks and reproduce line>
//! ::group::<test name>
//! ::stop-commands::<token>
//! <the full failure message>
//! ::<token>::
//! ::endgroup::
//! ```
//!
//! **No text from a program, a report or a fixture file can become a workflow command.**
//! GitHub reads a line as a command when it starts (after blanks) with `::`, and as a
//! legacy command when it holds `##[` anywhere. In GitHub mode every line cargo-x07
//! prints that carries such text goes through [`neutralise_line`], which breaks both
//! with an invisible zero-width space (U+200B): the log reads the same, the runner
//! sees no command. That covers the libtest lines and `failures:` section
//! ([`NeutralisingWriter`]), the folded messages (also between `stop-commands`
//! markers with an unpredictable token), the annotations' text (escaped as the runner
//! expects: `%`, CR, LF as `%25`, `%0D`, `%0A`; in property values also `:` and `,`),
//! and the JSON events (where `#` in `##[` is written as the JSON escape `\u0023`).

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::slowest::{format_seconds, slowest_cases};
use super::{display_path, totals_by_profile, ReportOptions};
use crate::engine::{CaseOutcome, Event, EventSink, RunSummary, SinkError};
use crate::message;
use crate::model::CaseStatus;

/// At most this many rows are written to the step summary's failure table.
pub const MAX_SUMMARY_FAILURES: usize = 100;

/// The invisible character that breaks `::` and `##[`.
const BREAK: char = '\u{200b}';

/// Whether the run is inside GitHub Actions (`GITHUB_ACTIONS=true`).
pub fn running_in_github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|value| value == "true")
}

/// One line of text made harmless for GitHub's command parser: a leading `::` (after
/// blanks) and every `##[` get a zero-width space between their characters.
pub fn neutralise_line(line: &str) -> String {
    let mut text = line.replace("##[", &format!("#{BREAK}#["));
    let blanks = text.len() - text.trim_start().len();
    if text[blanks..].starts_with("::") {
        text.insert(blanks + 1, BREAK);
    }
    text
}

/// Text of any number of lines made harmless, line by line.
pub fn neutralise(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| match line.strip_suffix('\n') {
            Some(line) => format!("{}\n", neutralise_line(line)),
            None => neutralise_line(line),
        })
        .collect()
}

/// A JSON line made harmless: `##[` inside strings becomes `\u0023#[` (the same text once
/// parsed). A JSON line never starts with `::`.
pub fn neutralise_json_line(line: &str) -> String {
    line.replace("##[", "\\u0023#[")
}

/// A writer that passes on whole lines only, each neutralised ([`neutralise_line`]);
/// a partial line is held until its newline (or until the writer is dropped).
pub struct NeutralisingWriter<W: Write> {
    inner: W,
    partial: Vec<u8>,
}

impl<W: Write> NeutralisingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        NeutralisingWriter {
            inner,
            partial: Vec::new(),
        }
    }
}

impl<W: Write> Write for NeutralisingWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.partial.extend_from_slice(bytes);
        if let Some(end) = self.partial.iter().rposition(|&b| b == b'\n') {
            let lines: Vec<u8> = self.partial.drain(..=end).collect();
            let text = neutralise(&String::from_utf8_lossy(&lines));
            self.inner.write_all(text.as_bytes())?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Drop for NeutralisingWriter<W> {
    fn drop(&mut self) {
        if !self.partial.is_empty() {
            let text = neutralise_line(&String::from_utf8_lossy(&self.partial));
            let _ = self.inner.write_all(text.as_bytes());
            let _ = self.inner.flush();
        }
    }
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
pub fn error_annotation(outcome: &CaseOutcome, workspace_root: &Path) -> String {
    // Canonical like the cargo workspace root (macOS: /var is /private/var).
    let checkout = std::env::var_os("GITHUB_WORKSPACE")
        .map(PathBuf::from)
        .map(|checkout| std::fs::canonicalize(&checkout).unwrap_or(checkout));
    let file = annotation_file(
        &outcome.case.source_file,
        workspace_root,
        checkout.as_deref(),
    );
    format!(
        "::error file={},title={}::{}\n",
        neutralise_line(&escape_property(&file)),
        neutralise_line(&escape_property(&outcome.id().test_name())),
        neutralise_line(&escape_data(&message::annotation_text(outcome)))
    )
}

/// A token for `::stop-commands::` that the programs under test cannot predict: 64 bits
/// from the standard library's per-process random hash keys, mixed with the time.
fn stop_commands_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    format!("cargo-x07-{:016x}", hasher.finish())
}

/// The annotations and folded failure output for every failing case in `outcomes`,
/// sorted by test name; empty when nothing failed.
pub fn annotations(outcomes: &[CaseOutcome], workspace_root: &Path) -> String {
    let mut failed: Vec<&CaseOutcome> = outcomes
        .iter()
        .filter(|outcome| outcome.status == CaseStatus::Failed)
        .collect();
    failed.sort_by(|a, b| a.id().cmp(b.id()));
    let mut text = String::new();
    if failed.is_empty() {
        return text;
    }
    let token = stop_commands_token();
    for outcome in failed {
        text.push_str(&error_annotation(outcome, workspace_root));
        let _ = writeln!(
            text,
            "::group::{}",
            neutralise_line(&escape_data(&outcome.id().test_name()))
        );
        let _ = writeln!(text, "::stop-commands::{token}");
        let body = message::failure_message(outcome);
        text.push_str(&neutralise(&body));
        if !body.ends_with('\n') {
            text.push('\n');
        }
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
/// with their reproduce lines, and the slowest cases.
pub fn step_summary(
    outcomes: &[CaseOutcome],
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
    for (profile, (profile_totals, time)) in totals_by_profile(outcomes) {
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

    let mut failed: Vec<&CaseOutcome> = outcomes
        .iter()
        .filter(|outcome| outcome.status == CaseStatus::Failed)
        .collect();
    failed.sort_by(|a, b| a.id().cmp(b.id()));
    if !failed.is_empty() {
        markdown.push_str("#### Failures\n\n");
        markdown.push_str("| case | failed checks | file | reproduce |\n");
        markdown.push_str("|---|---|---|---|\n");
        for outcome in failed.iter().take(MAX_SUMMARY_FAILURES) {
            let checks = message::failed_checks_line(outcome, "\n");
            let reproduce = outcome
                .reproduce
                .as_ref()
                .map(|reproduce| code_cell(reproduce.primary()))
                .unwrap_or_default();
            let _ = writeln!(
                markdown,
                "| {} | {} | {} | {} |",
                code_cell(&outcome.id().test_name()),
                table_cell(&shorten(&checks, 500)),
                code_cell(&display_path(
                    &outcome.case.source_file,
                    &options.workspace_root
                )),
                reproduce
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

    let slowest = slowest_cases(outcomes, options.slowest);
    if !slowest.is_empty() {
        markdown.push_str("#### Slowest cases\n\n| case | time |\n|---|---:|\n");
        for outcome in slowest {
            let _ = writeln!(
                markdown,
                "| {} | {} |",
                code_cell(&outcome.id().test_name()),
                format_seconds(outcome.duration)
            );
        }
        markdown.push('\n');
    }
    markdown
}

/// Appends `markdown` to the step summary file at `path`.
pub fn append_step_summary(path: &Path, markdown: &str) -> Result<(), SinkError> {
    let error = |source: std::io::Error| {
        SinkError::Failed(format!(
            "cannot append to the step summary `{}`: {source}",
            path.display()
        ))
    };
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(error)?;
    file.write_all(markdown.as_bytes()).map_err(error)
}

/// Prints the annotations at the end of a run and appends the step summary.
pub struct GithubSink {
    options: ReportOptions,
    out: Box<dyn Write + Send>,
}

impl GithubSink {
    /// A sink printing annotations to `out`.
    pub fn new(options: &ReportOptions, out: Box<dyn Write + Send>) -> GithubSink {
        GithubSink {
            options: options.clone(),
            out,
        }
    }
}

impl EventSink for GithubSink {
    fn handle(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        let Event::RunFinished { summary, outcomes } = event else {
            return Ok(());
        };
        let text = annotations(outcomes, &self.options.workspace_root);
        let printed = if text.is_empty() {
            Ok(())
        } else {
            super::write_all(self.out.as_mut(), &text, "the GitHub annotations")
        };
        if let Some(path) = &self.options.step_summary_path {
            append_step_summary(path, &step_summary(outcomes, summary, &self.options))?;
        }
        printed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn neutralised_lines_are_no_commands() {
        for line in [
            "::error::x",
            "   ::warning file=a::x",
            "\t::add-mask::x",
            "text ##[error]x",
            "##[group]x ##[endgroup]",
        ] {
            let safe = neutralise_line(line);
            assert!(!safe.trim_start().starts_with("::"), "{safe:?}");
            assert!(!safe.contains("##["), "{safe:?}");
            assert_eq!(safe.replace(BREAK, ""), line);
        }
        assert_eq!(neutralise_line("a :: b"), "a :: b");
        assert_eq!(
            neutralise("::a\nb\n::c"),
            format!(":{BREAK}:a\nb\n:{BREAK}:c")
        );
        let json = neutralise_json_line(r#"{"message":"x ##[error]y"}"#);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["message"], "x ##[error]y");
        assert!(!json.contains("##["));
    }

    #[test]
    fn the_neutralising_writer_holds_partial_lines() {
        let mut writer = NeutralisingWriter::new(Vec::new());
        writer.write_all(b"test x ... ").unwrap();
        assert!(writer.inner.is_empty());
        writer.write_all(b"ok\n::error::y\n#").unwrap();
        assert_eq!(
            String::from_utf8(writer.inner.clone()).unwrap(),
            format!("test x ... ok\n:{BREAK}:error::y\n")
        );
        writer.write_all(b"#[z]\n").unwrap();
        assert!(String::from_utf8(writer.inner.clone())
            .unwrap()
            .ends_with(&format!("#{BREAK}#[z]\n")));
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
