//! Which parts of the OS a case's program can reach — the proof behind every rerun the
//! audit skips.
//!
//! A program reaches the OS only through calls whose head names an OS builtin (`os.fs.*`,
//! `os.env.*`, `os.time.*`, `os.process.*`, `os.net.*`, `os.db.*`, `os.archive.*`) or a
//! std module that wraps them (`std.fs`, `std.os.env`, `std.os.time`, `std.os.process`,
//! `std.os.net`/`std.net`, `std.os.db`/`std.db`), and the toolchain loads nothing but the
//! entry file and the modules it imports (from the module roots, or the toolchain's own
//! std). So the audit reads the entry file and every module it imports, transitively, and
//! collects **every string** in them (heads, arguments, literals, keys — a string that
//! merely looks like a call still counts, so the result can only over-approximate). A
//! family none of those strings names is unreachable.
//!
//! Anything the reading cannot account for makes the whole program "unknown" (every grant
//! reachable): a string naming another `os.*` / `std.os.*` function, an imported std module
//! that is not one of the pure ones of the X07 subset (`std.bytes`, `std.vec`, `std.fmt`,
//! `std.codec`, `std.view`, `std.slice`, `std.parse`, `std.result`, `std.option`,
//! `std.btree_map`, `std.btree_set`), an import no module root holds as a `.x07.json`
//! file, a file that cannot be read or parsed, a project with dependencies, and a
//! `--program` inside a project (whose roots x07 would use).

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::grants::Family;
use crate::fixture::PROJECT_FILE;
use crate::run::path_from_cwd;

/// The std modules of the X07 subset that compute only (no OS access).
const PURE_STD_MODULES: [&str; 11] = [
    "std.bytes",
    "std.vec",
    "std.fmt",
    "std.codec",
    "std.view",
    "std.slice",
    "std.parse",
    "std.result",
    "std.option",
    "std.btree_map",
    "std.btree_set",
];

/// String prefixes that reach a family.
const FAMILY_PREFIXES: [(&str, Family); 15] = [
    ("os.fs.", Family::Fs),
    ("os.archive.", Family::Fs),
    ("std.fs", Family::Fs),
    ("os.env.", Family::Env),
    ("std.os.env", Family::Env),
    ("os.time.", Family::Time),
    ("std.os.time", Family::Time),
    ("os.process.", Family::Process),
    ("std.os.process", Family::Process),
    ("os.net.", Family::Net),
    ("std.os.net", Family::Net),
    ("std.net", Family::Net),
    ("os.db.", Family::Db),
    ("std.os.db", Family::Db),
    ("std.db", Family::Db),
];

/// What a case's program can reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    /// The families it names; `None` when the reading could not account for everything.
    pub families: Option<BTreeSet<Family>>,
    /// What was read (`fixtures/a/main.x07.json and 2 modules`), or why the result is
    /// unknown.
    pub source: String,
}

impl Reach {
    fn unknown(why: String) -> Reach {
        Reach {
            families: None,
            source: why,
        }
    }

    /// Whether the program may reach `family` (always, when unknown).
    pub fn reaches(&self, family: Family) -> bool {
        self.families
            .as_ref()
            .is_none_or(|families| families.contains(&family))
    }
}

/// The calls that reach a family, for proofs: `os.env.* / std.os.env.*`.
pub fn family_calls(family: Family) -> String {
    let names: Vec<String> = FAMILY_PREFIXES
        .iter()
        .filter(|(_, f)| *f == family)
        .map(|(prefix, _)| {
            if prefix.ends_with('.') {
                format!("{prefix}*")
            } else {
                format!("{prefix}.*")
            }
        })
        .collect();
    names.join(" / ")
}

/// The reach of a project fixture: `x07.json`'s `entry` and the modules it imports from
/// the project's `module_roots`.
pub fn project(dir: &Path) -> Reach {
    let manifest_path = dir.join(PROJECT_FILE);
    let manifest = match crate::fixture::read_json(&manifest_path) {
        Ok(manifest) => manifest,
        Err(_) => return Reach::unknown(format!("{} cannot be read", shown(&manifest_path))),
    };
    if manifest
        .get("dependencies")
        .and_then(Value::as_array)
        .is_some_and(|deps| !deps.is_empty())
    {
        return Reach::unknown(format!(
            "{} has dependencies, whose modules are not read",
            shown(&manifest_path)
        ));
    }
    let Some(entry) = manifest.get("entry").and_then(Value::as_str) else {
        return Reach::unknown(format!("{} names no entry", shown(&manifest_path)));
    };
    let roots: Vec<PathBuf> = match manifest.get("module_roots").and_then(Value::as_array) {
        Some(roots) => roots
            .iter()
            .filter_map(Value::as_str)
            .map(|root| dir.join(root))
            .collect(),
        None => vec![dir.to_path_buf()],
    };
    read_program(&dir.join(entry), &roots)
}

/// The reach of a smoke-suite program run with `--program` (module roots: its own
/// directory and the configured ones).
pub fn program(entry: &Path, module_roots: &[PathBuf]) -> Reach {
    if let Some(project) = entry
        .ancestors()
        .skip(1)
        .find(|dir| dir.join(PROJECT_FILE).is_file())
    {
        return Reach::unknown(format!(
            "the program lies inside the project {}, whose module roots x07 uses",
            shown(project)
        ));
    }
    let mut roots = vec![entry.parent().unwrap_or(Path::new(".")).to_path_buf()];
    roots.extend(module_roots.iter().cloned());
    read_program(entry, &roots)
}

fn shown(path: &Path) -> String {
    path_from_cwd(path).display().to_string()
}

fn read_program(entry: &Path, roots: &[PathBuf]) -> Reach {
    let mut families = BTreeSet::new();
    let mut pending: Vec<PathBuf> = vec![entry.to_path_buf()];
    let mut read: HashSet<PathBuf> = HashSet::new();
    while let Some(file) = pending.pop() {
        if !read.insert(file.clone()) {
            continue;
        }
        let value = match std::fs::read(&file)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        {
            Some(value) => value,
            None => return Reach::unknown(format!("{} cannot be read as JSON", shown(&file))),
        };
        let mut strings = Vec::new();
        collect_strings(&value, &mut strings);
        for text in &strings {
            match classify(text) {
                Some(Some(family)) => {
                    families.insert(family);
                }
                Some(None) => {
                    return Reach::unknown(format!(
                        "{} names {text:?}, which the audit does not know",
                        shown(&file)
                    ))
                }
                None => {}
            }
        }
        let imports: Vec<&str> = value
            .get("imports")
            .and_then(Value::as_array)
            .map(|imports| imports.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for import in imports {
            let relative = format!("{}.x07.json", import.replace('.', "/"));
            let local = roots
                .iter()
                .map(|root| root.join(&relative))
                .find(|path| path.is_file());
            if import.starts_with("std.") {
                let known = PURE_STD_MODULES.contains(&import) || classify(import).is_some();
                if !known {
                    return Reach::unknown(format!(
                        "{} imports {import}, a std module the audit does not know",
                        shown(&file)
                    ));
                }
                // A module root's own file of that name is read too, in case it is the
                // one the toolchain loads.
                pending.extend(local);
                continue;
            }
            match local {
                Some(module) => pending.push(module),
                None => {
                    return Reach::unknown(format!(
                        "{} imports {import}, which no module root holds as {relative}",
                        shown(&file)
                    ))
                }
            }
        }
    }
    let modules = read.len() - 1;
    let source = match modules {
        0 => shown(entry),
        1 => format!("{} and the module it imports", shown(entry)),
        n => format!("{} and the {n} modules it imports", shown(entry)),
    };
    Reach {
        families: Some(families),
        source,
    }
}

fn collect_strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(text) => out.push(text),
        Value::Array(items) => items.iter().for_each(|item| collect_strings(item, out)),
        Value::Object(map) => {
            for (key, value) in map {
                out.push(key);
                collect_strings(value, out);
            }
        }
        _ => {}
    }
}

/// `Some(Some(f))`: the string names family `f`; `Some(None)`: it names an OS function
/// of no known family; `None`: not an OS name.
fn classify(text: &str) -> Option<Option<Family>> {
    if let Some((_, family)) = FAMILY_PREFIXES
        .iter()
        .find(|(prefix, _)| text.starts_with(prefix))
    {
        return Some(Some(*family));
    }
    (text.starts_with("os.") || text.starts_with("std.os.")).then_some(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    const MANIFEST: &str =
        r#"{"entry":"src/main.x07.json","module_roots":["src"],"dependencies":[]}"#;

    #[test]
    fn families_come_from_the_entry_and_its_imports() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("x07.json"), MANIFEST);
        write(
            &dir.path().join("src/main.x07.json"),
            r#"{"imports":["app.util","std.bytes"],"solve":["app.util.f",["bytes.lit","x"]]}"#,
        );
        write(
            &dir.path().join("src/app/util.x07.json"),
            r#"{"imports":["std.os.env"],"decls":[["defn","app.util.f",[],"bytes",["os.time.now_unix_ms"]]]}"#,
        );
        // A file nobody imports does not count.
        write(
            &dir.path().join("src/other.x07.json"),
            r#"["os.fs.read_file"]"#,
        );
        let reach = project(dir.path());
        assert_eq!(
            reach.families,
            Some(BTreeSet::from([Family::Env, Family::Time]))
        );
        assert!(
            reach.source.ends_with("and the module it imports"),
            "{}",
            reach.source
        );
    }

    #[test]
    fn what_cannot_be_accounted_for_is_unknown() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("x07.json"), MANIFEST);
        let main = dir.path().join("src/main.x07.json");
        for (program, why) in [
            (r#"{"solve":["os.gpu.run"]}"#, "does not know"),
            (r#"{"imports":["std.io"],"solve":[]}"#, "std module"),
            (
                r#"{"imports":["app.missing"],"solve":[]}"#,
                "no module root",
            ),
            ("not json", "cannot be read"),
        ] {
            write(&main, program);
            let reach = project(dir.path());
            assert_eq!(reach.families, None, "{program}");
            assert!(reach.source.contains(why), "{program}: {}", reach.source);
            assert!(reach.reaches(Family::Fs));
        }
        write(&main, r#"{"solve":["bytes.lit","hello"]}"#);
        assert_eq!(project(dir.path()).families, Some(BTreeSet::new()));
        // A module root's own file named like a pure std module is read too.
        write(
            &main,
            r#"{"imports":["std.bytes"],"solve":["bytes.lit","hello"]}"#,
        );
        write(
            &dir.path().join("src/std/bytes.x07.json"),
            r#"{"decls":[["defn","std.bytes.len",[],"i32",["os.fs.read_file"]]]}"#,
        );
        assert_eq!(
            project(dir.path()).families,
            Some(BTreeSet::from([Family::Fs]))
        );
    }
}
