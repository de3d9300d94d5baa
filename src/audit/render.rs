//! The audit's output: a table per policy file for people, or one JSON document
//! (`cargo-x07.audit@0.1.0`) for tools.

use std::fmt::Write as _;

use serde::Serialize;

use super::grants::TemplateChoice;
use super::{AuditReport, GrantAudit, GrantVerdict, PolicyAudit};
use crate::run::path_from_cwd;

/// The `schema_version` of the JSON document.
pub const AUDIT_SCHEMA_VERSION: &str = "cargo-x07.audit@0.1.0";

/// At most this many cases are named per grant in the table.
const CASES_SHOWN: usize = 3;

fn shown(path: &std::path::Path) -> String {
    path_from_cwd(path).display().to_string()
}

fn verdict_word(verdict: GrantVerdict) -> &'static str {
    match verdict {
        GrantVerdict::Needed => "needed",
        GrantVerdict::Unneeded => "unneeded",
        GrantVerdict::NotJudged => "not judged",
    }
}

fn template_text(policy: &PolicyAudit) -> String {
    match policy.template_choice {
        TemplateChoice::ById => format!("template {} (named by its policy_id)", policy.template),
        TemplateChoice::Closest(distance) => format!(
            "template {} (the closest: {} differ)",
            policy.template,
            plural(distance, "switch or list", "switches or lists")
        ),
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// The evidence column of a grant.
fn evidence(grant: &GrantAudit) -> String {
    if let Some(rule) = &grant.required_by_rule {
        return format!("the policy is invalid without it ({rule})");
    }
    if !grant.needed_by.is_empty() {
        let total = grant.needed_by.len() + grant.passed_without.len() + grant.unreachable.len();
        let mut text = if total == 1 {
            String::new()
        } else {
            format!(
                "{} of {total} cases fail without it: ",
                grant.needed_by.len()
            )
        };
        let items: Vec<String> = grant
            .needed_by
            .iter()
            .take(CASES_SHOWN)
            .map(|(case, checks)| {
                let first = checks.first().map(String::as_str).unwrap_or("case failed");
                if total == 1 {
                    format!("{case} fails without it: {first}")
                } else {
                    format!("{case} ({first})")
                }
            })
            .collect();
        text.push_str(&items.join("; "));
        if grant.needed_by.len() > CASES_SHOWN {
            let _ = write!(text, "; and {} more", grant.needed_by.len() - CASES_SHOWN);
        }
        return text;
    }
    let mut parts = Vec::new();
    if !grant.passed_without.is_empty() {
        let count = grant.passed_without.len();
        parts.push(format!(
            "{} without it",
            plural(count, "case passes", "cases pass")
        ));
    }
    if let Some((_, proof)) = grant.unreachable.first() {
        let count = grant.unreachable.len();
        let who = if grant.passed_without.is_empty() {
            if count == 1 {
                "its case cannot reach it".to_string()
            } else {
                format!("none of its {count} cases can reach it")
            }
        } else {
            format!("{} cannot reach it", plural(count, "case", "cases"))
        };
        let mut proofs: Vec<&str> = grant.unreachable.iter().map(|(_, p)| p.as_str()).collect();
        proofs.sort_unstable();
        proofs.dedup();
        let more = match proofs.len() {
            1 => String::new(),
            n => format!(
                " (and {} other proof{})",
                n - 1,
                if n == 2 { "" } else { "s" }
            ),
        };
        parts.push(format!("{who}: {proof}{more}"));
    }
    if parts.is_empty() {
        return "no case using the policy passes under it".to_string();
    }
    parts.join("; ")
}

/// The table of every audited policy, then the totals.
pub fn human(report: &AuditReport) -> String {
    let mut out = String::new();
    for policy in &report.policies {
        let _ = writeln!(
            out,
            "\n{}  policy_id {}; limits compared with {}",
            shown(&policy.file),
            if policy.policy_id.is_empty() {
                "(none)"
            } else {
                &policy.policy_id
            },
            template_text(policy)
        );
        let _ = writeln!(
            out,
            "  judged over {}: {}",
            plural(policy.cases.len(), "case", "cases"),
            if policy.cases.is_empty() {
                "none".to_string()
            } else {
                policy.cases.join(", ")
            }
        );
        for (case, reason) in &policy.not_audited {
            let _ = writeln!(out, "  not used: {case}: {reason}");
        }
        if policy.grants.is_empty() {
            let _ = writeln!(out, "  (the policy grants nothing)");
        }
        let width = policy
            .grants
            .iter()
            .map(|grant| grant.grant.label.chars().count())
            .max()
            .unwrap_or(0)
            .min(48);
        for grant in &policy.grants {
            let _ = writeln!(
                out,
                "  {:<10} {:<width$}  {}",
                verdict_word(grant.verdict),
                grant.grant.label,
                evidence(grant)
            );
        }
    }
    let grants: usize = report.policies.iter().map(|p| p.grants.len()).sum();
    let _ = writeln!(
        out,
        "\naudit result: {} in {}: {} needed, {} unneeded, {} not judged",
        plural(grants, "grant", "grants"),
        plural(report.policies.len(), "policy file", "policy files"),
        report.count(GrantVerdict::Needed),
        report.count(GrantVerdict::Unneeded),
        report.count(GrantVerdict::NotJudged),
    );
    let _ = writeln!(
        out,
        "  runs: {} under the policies themselves, {} without one grant, {} skipped (provably unreachable); finished in {:.2}s",
        report.baseline_runs,
        report.runs,
        report.skipped,
        report.duration.as_secs_f64()
    );
    out
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema_version: &'static str,
    runner: &'a str,
    policies: Vec<JsonPolicy<'a>>,
    summary: JsonSummary,
}

#[derive(Serialize)]
struct JsonPolicy<'a> {
    file: String,
    policy_id: &'a str,
    template: &'a str,
    template_by: &'static str,
    cases: &'a [String],
    not_used: Vec<JsonCaseNote<'a>>,
    grants: Vec<JsonGrant<'a>>,
}

#[derive(Serialize)]
struct JsonCaseNote<'a> {
    case: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct JsonNeed<'a> {
    case: &'a str,
    failed_checks: &'a [String],
}

#[derive(Serialize)]
struct JsonGrant<'a> {
    grant: &'a str,
    key: &'a str,
    removal: &'a str,
    verdict: &'static str,
    needed_by: Vec<JsonNeed<'a>>,
    passed_without: &'a [String],
    unreachable: Vec<JsonCaseNote<'a>>,
    required_by_rule: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonSummary {
    policies: usize,
    grants: usize,
    needed: usize,
    unneeded: usize,
    not_judged: usize,
    case_runs: usize,
    runs: usize,
    skipped: usize,
    duration_ms: u64,
}

/// The audit as one JSON document (with a trailing newline).
pub fn json(report: &AuditReport) -> String {
    let document = JsonReport {
        schema_version: AUDIT_SCHEMA_VERSION,
        runner: &report.runner,
        policies: report
            .policies
            .iter()
            .map(|policy| JsonPolicy {
                file: shown(&policy.file),
                policy_id: &policy.policy_id,
                template: policy.template,
                template_by: match policy.template_choice {
                    TemplateChoice::ById => "policy_id",
                    TemplateChoice::Closest(_) => "closest",
                },
                cases: &policy.cases,
                not_used: policy
                    .not_audited
                    .iter()
                    .map(|(case, reason)| JsonCaseNote { case, reason })
                    .collect(),
                grants: policy
                    .grants
                    .iter()
                    .map(|grant| JsonGrant {
                        grant: &grant.grant.label,
                        key: &grant.grant.key,
                        removal: &grant.grant.removal_text,
                        verdict: match grant.verdict {
                            GrantVerdict::Needed => "needed",
                            GrantVerdict::Unneeded => "unneeded",
                            GrantVerdict::NotJudged => "not_judged",
                        },
                        needed_by: grant
                            .needed_by
                            .iter()
                            .map(|(case, failed_checks)| JsonNeed {
                                case,
                                failed_checks,
                            })
                            .collect(),
                        passed_without: &grant.passed_without,
                        unreachable: grant
                            .unreachable
                            .iter()
                            .map(|(case, reason)| JsonCaseNote { case, reason })
                            .collect(),
                        required_by_rule: grant.required_by_rule.as_deref(),
                    })
                    .collect(),
            })
            .collect(),
        summary: JsonSummary {
            policies: report.policies.len(),
            grants: report.policies.iter().map(|p| p.grants.len()).sum(),
            needed: report.count(GrantVerdict::Needed),
            unneeded: report.count(GrantVerdict::Unneeded),
            not_judged: report.count(GrantVerdict::NotJudged),
            case_runs: report.baseline_runs,
            runs: report.runs,
            skipped: report.skipped,
            duration_ms: u64::try_from(report.duration.as_millis()).unwrap_or(u64::MAX),
        },
    };
    let mut text = serde_json::to_string_pretty(&document).expect("the audit serialises");
    text.push('\n');
    text
}
