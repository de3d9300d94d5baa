//! Table tests for the language rules R1–R24 and the defects of section G of the X07
//! semantics notes (what x07 0.2.17 does where the subset notes are silent), plus
//! realistic programs (`h_realistic.rows`: parsers, codecs, checksums, interpreters, text
//! processing, result/option plumbing, recursion, vec_u8 builders, OS use) checked by hand
//! against the rules they lean on, each row naming its main rule, and places where several
//! rules meet (`i_interplay.rows`: scope removals with unused-let deletion and borrows, unrolling
//! with returns and reused variables, folding and strength reduction, argument costs, `try`).
//!
//! The rows live in `tests/data/semantics/*.rows`, one file per section of the notes. They are
//! written from the recorded facts, not from an implementation, and drive the runner only
//! through its command line (`x07-lite run --program F --repair=off --input-b64 B
//! [--solve-fuel N]`), so they check any engine behind it.
//!
//! Row format (one key per line, the value is the rest of the line; `#` starts a comment
//! line; a `row` line starts a new row):
//!
//! ```text
//! row     R21.for-10                 unique id
//! rule    R21                        rule it checks (R1..R24, G)
//! src     evidence | derived         a recorded example, or a consequence of the stated rules
//! why     free text                  (repeatable) the reasoning, for derived rows
//! import  std.bytes                  (repeatable)
//! defn    (defn main.f ((x i32)) i32 x)   (repeatable, in decl order)
//! prog    (begin …)                  the solve expression, short form (see support/shortform.rs)
//! input   "abc"                      JSON string; or input_hex 00ff; default empty
//! expect  ok TEXT | ok_hex HEX | CE TEXT | CE^ PREFIX | trap TEXT
//! expect_json "…"                    the same as one JSON string (for trailing spaces)
//! fuel    N                          exact solve.fuel_used; also checks the budget boundary
//! solve_fuel N                       --solve-fuel for the run (rows without `fuel`)
//! exit_status N                      solve.exit_status
//! timeout_s N                        wall-clock bound of one run (default 120)
//! ```
//!
//! A row with `fuel N` runs twice: with `--solve-fuel N` it must succeed with
//! `solve.fuel_used == N`, and with `--solve-fuel N-1` it must trap `fuel exhausted` with
//! `fuel_used` null, exit status 132 and the `fuel limit N-1 reached` hint.

#[path = "support/cli.rs"]
mod cli;
#[path = "support/shortform.rs"]
mod shortform;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cli::{Outcome, Run};

/// What a row expects.
#[derive(Debug, Clone)]
enum Expect {
    Ok(Vec<u8>),
    CompileError(String),
    CompileErrorPrefix(String),
    Trap(String),
}

/// One table row after decoding.
#[derive(Debug, Default)]
struct Row {
    origin: String,
    id: String,
    rule: String,
    src: String,
    why: Vec<String>,
    imports: Vec<String>,
    defns: Vec<String>,
    prog: String,
    input: Vec<u8>,
    expect: Option<Expect>,
    fuel: Option<u64>,
    solve_fuel: Option<u64>,
    exit_status: Option<i64>,
    timeout_s: Option<u64>,
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/semantics")
}

fn hex_decode(text: &str) -> Result<Vec<u8>, String> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if !clean.len().is_multiple_of(2) {
        return Err(format!("odd hex length: {text}"));
    }
    (0..clean.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&clean[i..i + 2], 16).map_err(|e| format!("{text}: {e}")))
        .collect()
}

fn parse_expect(value: &str) -> Result<Expect, String> {
    let (kind, rest) = value.split_once(' ').unwrap_or((value, ""));
    Ok(match kind {
        "ok" => Expect::Ok(rest.as_bytes().to_vec()),
        "ok_hex" => Expect::Ok(hex_decode(rest)?),
        "CE" => Expect::CompileError(rest.to_string()),
        "CE^" => Expect::CompileErrorPrefix(rest.to_string()),
        "trap" => Expect::Trap(rest.to_string()),
        other => return Err(format!("unknown expectation kind {other:?}")),
    })
}

/// Parses one `.rows` file.
fn load_rows(path: &Path) -> Vec<Row> {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut rows: Vec<Row> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let origin = format!("{name}:{}", n + 1);
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (key, value) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
        let value = value.trim_start();
        if key == "row" {
            rows.push(Row {
                origin: origin.clone(),
                id: value.trim().to_string(),
                ..Row::default()
            });
            continue;
        }
        let row = rows
            .last_mut()
            .unwrap_or_else(|| panic!("{origin}: {key} before the first `row` line"));
        let num = |v: &str| -> u64 {
            v.trim()
                .parse()
                .unwrap_or_else(|e| panic!("{origin}: {key} {v:?}: {e}"))
        };
        match key {
            "rule" => row.rule = value.trim().to_string(),
            "src" => row.src = value.trim().to_string(),
            "why" => row.why.push(value.to_string()),
            "import" => row.imports.push(value.trim().to_string()),
            "defn" => row.defns.push(value.to_string()),
            "prog" => row.prog = value.to_string(),
            "input" => {
                row.input = serde_json::from_str::<String>(value)
                    .unwrap_or_else(|e| panic!("{origin}: input must be a JSON string: {e}"))
                    .into_bytes()
            }
            "input_hex" => {
                row.input = hex_decode(value).unwrap_or_else(|e| panic!("{origin}: {e}"))
            }
            "expect" => {
                row.expect = Some(parse_expect(value).unwrap_or_else(|e| panic!("{origin}: {e}")))
            }
            "expect_json" => {
                let text: String = serde_json::from_str(value)
                    .unwrap_or_else(|e| panic!("{origin}: expect_json needs a JSON string: {e}"));
                row.expect = Some(parse_expect(&text).unwrap_or_else(|e| panic!("{origin}: {e}")))
            }
            "fuel" => row.fuel = Some(num(value)),
            "solve_fuel" => row.solve_fuel = Some(num(value)),
            "exit_status" => row.exit_status = Some(num(value) as i64),
            "timeout_s" => row.timeout_s = Some(num(value)),
            other => panic!("{origin}: unknown key {other:?}"),
        }
    }
    for row in &rows {
        assert!(
            !row.rule.is_empty(),
            "{}: row {} has no rule",
            row.origin,
            row.id
        );
        assert!(
            row.src == "evidence" || row.src == "derived",
            "{}: row {} needs src evidence|derived",
            row.origin,
            row.id
        );
        assert!(
            row.src == "evidence" || !row.why.is_empty(),
            "{}: derived row {} needs a why",
            row.origin,
            row.id
        );
        assert!(
            !row.prog.is_empty(),
            "{}: row {} has no prog",
            row.origin,
            row.id
        );
        assert!(
            row.expect.is_some(),
            "{}: row {} has no expect",
            row.origin,
            row.id
        );
        assert!(
            row.fuel.is_none() || matches!(row.expect, Some(Expect::Ok(_))),
            "{}: row {}: fuel needs an ok expectation",
            row.origin,
            row.id
        );
    }
    rows
}

fn all_rows() -> Vec<Row> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .expect("tests/data/semantics")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rows"))
        .collect();
    files.sort();
    files.iter().flat_map(|f| load_rows(f)).collect()
}

fn show_bytes(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => format!("{text:?}"),
        Err(_) => format!(
            "hex {}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
    }
}

fn show_expect(expect: &Expect) -> String {
    match expect {
        Expect::Ok(bytes) => format!("ok {}", show_bytes(bytes)),
        Expect::CompileError(text) => format!("CE {text:?}"),
        Expect::CompileErrorPrefix(text) => format!("CE starting with {text:?}"),
        Expect::Trap(text) => format!("trap {text:?}"),
    }
}

fn show_outcome(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Ok(bytes) => format!("ok {}", show_bytes(bytes)),
        Outcome::CompileError(text) => format!("CE {text:?}"),
        Outcome::Trap(text) => format!("trap {text:?}"),
        Outcome::Broken(text) => format!("BROKEN {text}"),
    }
}

fn outcome_matches(expect: &Expect, got: &Outcome) -> bool {
    match (expect, got) {
        (Expect::Ok(want), Outcome::Ok(got)) => want == got,
        (Expect::CompileError(want), Outcome::CompileError(got)) => want == got,
        (Expect::CompileErrorPrefix(want), Outcome::CompileError(got)) => {
            got.starts_with(want.as_str())
        }
        (Expect::Trap(want), Outcome::Trap(got)) => want == got,
        _ => false,
    }
}

fn fuel_help(limit: u64) -> String {
    format!("fuel limit {limit} reached; raise it with --solve-fuel or scope costs with budget.scope_v1")
}

/// Checks that do not depend on the row: exit code agreement, traps have no metrics.
fn report_shape_problems(run: &Run, outcome: &Outcome) -> Vec<String> {
    let mut problems = Vec::new();
    let exit_code = run.field("/exit_code").as_i64();
    if run.rc.map(i64::from) != exit_code {
        problems.push(format!(
            "process rc {:?} but report exit_code {exit_code:?}",
            run.rc
        ));
    }
    let want_exit_code = match outcome {
        Outcome::Ok(_) => 0,
        _ => 1,
    };
    if exit_code != Some(want_exit_code) {
        problems.push(format!(
            "exit_code {exit_code:?}, expected {want_exit_code}"
        ));
    }
    match outcome {
        Outcome::Ok(_) => {
            if run.field("/solve/exit_status") != 0 {
                problems.push(format!(
                    "solve.exit_status {} on success",
                    run.field("/solve/exit_status")
                ));
            }
        }
        Outcome::Trap(_) => {
            if !run.field("/solve/fuel_used").is_null() {
                problems.push(format!(
                    "solve.fuel_used {} on a trap (must be null)",
                    run.field("/solve/fuel_used")
                ));
            }
        }
        Outcome::CompileError(_) => {
            if !run.field("/solve").is_null() {
                problems.push("solve must be null after a compile error".to_string());
            }
        }
        Outcome::Broken(_) => {}
    }
    problems
}

/// Runs one row; returns a description of every difference (empty when it passes).
fn check_row(row: &Row) -> Vec<String> {
    let program = match shortform::entry_json(&row.imports, &row.defns, &row.prog) {
        Ok(p) => p,
        Err(e) => return vec![format!("bad short form: {e}")],
    };
    let timeout = Duration::from_secs(row.timeout_s.unwrap_or(120));
    let expect = row.expect.clone().expect("checked at load");
    let fuel_flag = |n: u64| vec!["--solve-fuel".to_string(), n.to_string()];
    let first_flags = match (row.fuel, row.solve_fuel) {
        (Some(n), _) | (None, Some(n)) => fuel_flag(n),
        (None, None) => Vec::new(),
    };
    let mut problems = Vec::new();
    let run = match cli::run_program(&program, &row.input, &first_flags, timeout) {
        Ok(run) => run,
        Err(e) => return vec![e],
    };
    let got = run.outcome();
    if !outcome_matches(&expect, &got) {
        problems.push(format!(
            "expected {}\n      got      {}",
            show_expect(&expect),
            show_outcome(&got)
        ));
    }
    for marker in ["internal error", "panicked"] {
        if run.stdout.contains(marker) || run.stderr.contains(marker) {
            problems.push(format!("the runner printed {marker:?}"));
        }
    }
    problems.extend(report_shape_problems(&run, &got));
    if let Some(status) = row.exit_status {
        let got_status = run.field("/solve/exit_status");
        if got_status != status {
            problems.push(format!("solve.exit_status {got_status}, expected {status}"));
        }
    }
    if let Outcome::Trap(trap) = &got {
        if trap == "fuel exhausted" {
            let limit = row.fuel.or(row.solve_fuel).unwrap_or(50_000_000);
            let help = run.field("/solve/trap_help");
            if help != fuel_help(limit) {
                problems.push(format!("trap_help {help}, expected {:?}", fuel_help(limit)));
            }
        }
    }
    if let Some(n) = row.fuel {
        if matches!(got, Outcome::Ok(_)) && run.fuel_used() != Some(n) {
            problems.push(format!(
                "solve.fuel_used {}, expected exactly {n}",
                run.field("/solve/fuel_used")
            ));
        }
        // One unit less than the program needs: `fuel exhausted`, no fuel_used.
        let below = n.saturating_sub(1);
        match cli::run_program(&program, &row.input, &fuel_flag(below), timeout) {
            Err(e) => problems.push(format!("--solve-fuel {below}: {e}")),
            Ok(short) => {
                let outcome = short.outcome();
                if outcome != Outcome::Trap("fuel exhausted".to_string()) {
                    problems.push(format!(
                        "with --solve-fuel {below} expected trap \"fuel exhausted\", got {}",
                        show_outcome(&outcome)
                    ));
                } else {
                    problems.extend(
                        report_shape_problems(&short, &outcome)
                            .into_iter()
                            .map(|p| format!("--solve-fuel {below}: {p}")),
                    );
                    if short.field("/solve/exit_status") != 132 {
                        problems.push(format!(
                            "--solve-fuel {below}: exit_status {}, expected 132",
                            short.field("/solve/exit_status")
                        ));
                    }
                    if short.field("/solve/trap_help") != fuel_help(below) {
                        problems.push(format!(
                            "--solve-fuel {below}: trap_help {}",
                            short.field("/solve/trap_help")
                        ));
                    }
                }
            }
        }
    }
    problems
}

fn describe(row: &Row, problems: &[String]) -> String {
    let mut s = format!("{} [{}] {} ({})\n", row.id, row.rule, row.origin, row.src);
    for defn in &row.defns {
        s.push_str(&format!("    defn     {defn}\n"));
    }
    if !row.imports.is_empty() {
        s.push_str(&format!("    imports  {}\n", row.imports.join(" ")));
    }
    s.push_str(&format!("    prog     {}\n", row.prog));
    if !row.input.is_empty() {
        s.push_str(&format!("    input    {}\n", show_bytes(&row.input)));
    }
    if let Some(n) = row.fuel {
        s.push_str(&format!("    fuel     {n}\n"));
    }
    for p in problems {
        s.push_str(&format!("    - {p}\n"));
    }
    s
}

/// Runs every row of one data file and fails with all differences at once.
fn run_file(file: &str) {
    let rows = load_rows(&data_dir().join(file));
    assert!(!rows.is_empty(), "{file}: no rows");
    let results = cli::parallel_map(&rows, check_row);
    let failures: Vec<String> = rows
        .iter()
        .zip(&results)
        .filter(|(_, p)| !p.is_empty())
        .map(|(row, p)| describe(row, p))
        .collect();
    if !failures.is_empty() {
        let ids: Vec<&str> = rows
            .iter()
            .zip(&results)
            .filter(|(_, p)| !p.is_empty())
            .map(|(row, _)| row.id.as_str())
            .collect();
        panic!(
            "{} of {} rows of {file} differ from x07 0.2.17:\n\n{}\nfailing rows: {}",
            failures.len(),
            rows.len(),
            failures.join("\n"),
            ids.join(" ")
        );
    }
}

#[test]
fn a_statement_and_value_position_r1_to_r10() {
    run_file("a_statement_value.rows");
}

#[test]
fn b_scoping_and_input_r11_to_r14() {
    run_file("b_scoping.rows");
}

#[test]
fn c_moves_and_borrows_r15_to_r19() {
    run_file("c_moves_borrows.rows");
}

#[test]
fn d_integer_literals_r20() {
    run_file("d_literals.rows");
}

#[test]
fn e_fuel_r21_to_r23() {
    run_file("e_fuel.rows");
}

#[test]
fn f_recursion_depth_r24() {
    run_file("f_recursion.rows");
}

#[test]
fn g_defects() {
    run_file("g_defects.rows");
}

#[test]
fn h_realistic_programs() {
    run_file("h_realistic.rows");
}

#[test]
fn i_rule_interplay() {
    run_file("i_interplay.rows");
}

/// The table covers every rule and every defect, ids are unique, every short form converts.
#[test]
fn rows_cover_every_rule_and_are_well_formed() {
    let rows = all_rows();
    let mut ids = BTreeSet::new();
    for row in &rows {
        assert!(
            ids.insert(row.id.clone()),
            "{}: duplicate id {}",
            row.origin,
            row.id
        );
        if let Err(e) = shortform::entry_json(&row.imports, &row.defns, &row.prog) {
            panic!("{}: {e}", row.origin);
        }
    }
    let rules: BTreeSet<&str> = rows.iter().map(|r| r.rule.as_str()).collect();
    for n in 1..=24 {
        let rule = format!("R{n}");
        assert!(rules.contains(rule.as_str()), "no row for {rule}");
    }
    assert!(rules.contains("G"), "no row for the section G defects");
    for rule in &rules {
        assert!(
            *rule == "G"
                || rule
                    .strip_prefix('R')
                    .and_then(|n| n.parse::<u32>().ok())
                    .is_some_and(|n| (1..=24).contains(&n)),
            "unknown rule {rule}"
        );
    }
    // Every row of the fuel table of R21 is present (ids R21.table-*).
    let table = rows
        .iter()
        .filter(|r| r.id.starts_with("R21.table-"))
        .count();
    assert!(table >= 12, "only {table} rows of the R21 fuel table");
}
