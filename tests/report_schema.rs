//! Every real report recorded from x07 0.2.17 (`tests/data/reports/`, copied
//! from the toolchain notes) validates against
//! `schemas/x07-os-runner.report.schema.json`, and the schema still rejects
//! what it should.

use std::path::Path;

use cargo_x07::check::report_schema_problems;
use serde_json::{json, Value};

fn reports() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/reports");
    let mut reports: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            (name, value)
        })
        .collect();
    reports.sort_by(|a, b| a.0.cmp(&b.0));
    reports
}

#[test]
fn every_recorded_report_validates() {
    let reports = reports();
    assert!(reports.len() >= 25, "only {} reports", reports.len());
    for (name, report) in &reports {
        let problems = report_schema_problems(report);
        assert!(problems.is_empty(), "{name}:\n{}", problems.join("\n"));
    }
    // All three shapes are covered.
    let modes: std::collections::BTreeSet<&str> = reports
        .iter()
        .filter_map(|(_, r)| r["mode"].as_str())
        .collect();
    assert_eq!(
        modes.into_iter().collect::<Vec<_>>(),
        ["compile-run", "project-compile-run", "run-os"]
    );
}

#[test]
fn sandbox_backend_none_is_accepted_as_observed() {
    let (_, mut report) = reports()
        .into_iter()
        .find(|(name, _)| name == "ok-sandbox-project.json")
        .unwrap();
    report["sandbox_backend"] = json!("none");
    assert!(report_schema_problems(&report).is_empty());
    report["sandbox_backend"] = json!("docker");
    assert!(!report_schema_problems(&report).is_empty());
}

#[test]
fn closed_objects_and_required_fields_are_enforced() {
    let (_, report) = reports()
        .into_iter()
        .find(|(name, _)| name == "trap-fuel.json")
        .unwrap();
    let mut extra = report.clone();
    extra["compile"]["surprise"] = json!(true);
    assert!(!report_schema_problems(&extra).is_empty());
    let mut missing = report.clone();
    missing["solve"]
        .as_object_mut()
        .unwrap()
        .remove("fuel_used");
    assert!(!report_schema_problems(&missing).is_empty());
    let mut wrong_version = report.clone();
    wrong_version["schema_version"] = json!("x07-os-runner.report@0.4.0");
    assert!(!report_schema_problems(&wrong_version).is_empty());
    let mut negative = report;
    negative["exit_code"] = json!(-1);
    assert!(!report_schema_problems(&negative).is_empty());
}
