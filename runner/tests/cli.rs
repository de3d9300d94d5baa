//! The CLI contract of `x07 run`, table-driven from the recorded probe sets
//! `cli-contract`, `profiles` and `project-layout`: every row in scope is run through
//! the real `x07-lite` binary and compared with what x07 0.2.17 did (exit code, report
//! summary or stdout, stderr).

#[path = "data/probes/harness.rs"]
mod harness;

use harness::*;

fn assert_set(set: &str, how: &dyn Fn(&str) -> Check, at_least: usize) {
    let (checked, problems) = check_probe_set(set, how);
    assert!(problems.is_empty(), "{set}:\n{}", problems.join("\n"));
    assert!(checked >= at_least, "{set}: only {checked} rows checked");
}

#[test]
fn cli_contract_rows() {
    assert_set(
        "cli-contract",
        &|tag| {
            match tag {
            "temp-input-file-location-target" | "temp-input-file-location-tmp" => {
                Check::Skip("x07-lite hands the input to its solver over a pipe, not a temp file (and the row needs strace)")
            }
            "native-cache-default" | "native-cache-override" => {
                Check::Skip("there is no native executable cache")
            }
            // The listing also shows OBSERVED.txt (copied with the probe) and no native cache dir.
            "leftover-files" => Check::Custom(|row| {
                let mut problems = check_rc(row);
                let got = String::from_utf8_lossy(&row.output.stdout).to_string();
                let expected = "CMD\nOBSERVED.txt\necho.json\necho.x07.json\nin.bin\nmain.x07.json\nmalformed.x07.json\noob.x07.json\npolicy.json\nrep\nstdout.json\n";
                if got != expected {
                    problems.push(format!("leftover-files: {got:?}"));
                }
                problems
            }),
            _ => Check::Generic,
        }
        },
        30,
    );
}

#[test]
fn profiles_rows() {
    assert_set("profiles", &|_| Check::Generic, 20);
}

#[test]
fn project_layout_rows() {
    assert_set(
        "project-layout",
        &|tag| match tag {
            // The wrapped report lists x07's OS stdlib root last; x07-lite has its std
            // built in, so only the project roots are listed.
            "modroots-src-program-in-project" => Check::Custom(|row| {
                let mut problems = check_rc(row);
                let got = String::from_utf8_lossy(&row.output.stdout).to_string();
                if !got.starts_with("    \"resolved_module_roots\": [\n      \"src\"\n    ]") {
                    problems.push(format!("modroots-src-program-in-project: {got:?}"));
                }
                problems
            }),
            "repair-write-rewrites-file" => Check::Custom(|row| {
                // x07-lite never rewrites sources: the file stays as it was.
                let mut problems = check_rc(row);
                let got = String::from_utf8_lossy(&row.output.stdout).to_string();
                if !got.starts_with("{ \"solve\" : [\"bytes.lit\",   \"hi\"],") {
                    problems.push(format!("repair-write-rewrites-file: {got:?}"));
                }
                problems
            }),
            "auto-deps-default-repair" => {
                Check::Skip("x07-lite never adds dependencies or rewrites x07.json")
            }
            "auto-deps-repair-off" => {
                Check::Skip("the `x07 pkg add` hint comes from the package index")
            }
            "contract-violation-artifacts" => Check::Skip("contracts are outside the subset"),
            _ => Check::Generic,
        },
        17,
    );
}
