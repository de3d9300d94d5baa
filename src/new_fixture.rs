//! `cargo x07 new <dir> [--template T]`: a first fixture that passes at once, with the
//! embedded runner and with the real toolchain:
//!
//! ```text
//! <dir>/x07.json                                   os and sandbox profiles, src/ layout
//! <dir>/x07.lock.json                              no dependencies (x07 would create it)
//! <dir>/policies/<T>.sandbox.base.policy.json      the `x07 policy init --template T` policy
//! <dir>/src/main.x07.json                          greets its input
//! <dir>/x07test.json                               one case: input "x07", output "hello, x07"
//! ```
//!
//! It never overwrites: an existing `<dir>` that is not an empty directory is an error.
//! Afterwards it prints the next steps, and says how to make the fixture part of every
//! `cargo x07 test` when it is not under the package's fixture roots.

use std::path::{Path, PathBuf};

use x07_lite::templates::{template_file_name, template_json, TEMPLATE_NAMES};

use crate::config::{self, Selection};
use crate::discover;
use crate::fixture::{EXPECTATIONS_FILE, PROJECT_FILE};
use crate::run::path_from_cwd;

/// The template used when `--template` is not given.
pub const DEFAULT_TEMPLATE: &str = "cli";

/// The entry program: `hello, ` followed by the input bytes (canonical x07AST: one line,
/// keys sorted, trailing newline — what `x07`'s repair would write).
pub const MAIN_PROGRAM: &str = "{\"decls\":[],\"imports\":[],\"kind\":\"entry\",\"module_id\":\"main\",\"schema_version\":\"x07.x07ast@0.8.0\",\"solve\":[\"bytes.concat\",[\"bytes.lit\",\"hello, \"],[\"view.to_bytes\",\"input\"]]}\n";

/// The lockfile of a project without dependencies, as x07 0.2.17 writes it; with it,
/// `x07 run` does not hydrate (and say so on stderr) on every run.
pub const LOCKFILE: &str = r#"{
  "schema_version": "x07.lock@0.4.0",
  "toolchain": {
    "x07_version": "0.2.17",
    "x07c_version": "0.2.17",
    "lang_id": "x07-core@0.2.0",
    "compat": "0.5"
  },
  "registry": {
    "index_url": "sparse+https://registry.x07.io/index/"
  },
  "dependencies": []
}
"#;

/// Why no fixture was created (exit code 2; nothing was written).
#[derive(Debug, thiserror::Error)]
pub enum NewError {
    /// `--template` names no known template.
    #[error("unknown template {0:?} (expected one of: {list})", list = TEMPLATE_NAMES.join(", "))]
    UnknownTemplate(String),
    /// The directory exists and is not empty.
    #[error("{} already exists and is not an empty directory; nothing was written (cargo x07 new never overwrites)", .0.display())]
    Exists(PathBuf),
    /// Writing failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The files of a new fixture, relative to its directory, with their contents.
pub fn fixture_files(template: &str) -> Result<Vec<(PathBuf, String)>, NewError> {
    let policy =
        template_json(template).ok_or_else(|| NewError::UnknownTemplate(template.to_string()))?;
    let policy_path = format!("policies/{}", template_file_name(template));
    let manifest = serde_json::json!({
        "schema_version": "x07.project@0.5.0",
        "compat": "0.5",
        "world": "run-os",
        "entry": "src/main.x07.json",
        "module_roots": ["src"],
        "dependencies": [],
        "lockfile": "x07.lock.json",
        "default_profile": "os",
        "profiles": {
            "os": { "world": "run-os" },
            "sandbox": { "world": "run-os-sandboxed", "policy": policy_path }
        }
    });
    let expectations = serde_json::json!({
        "schema_version": "cargo-x07.fixture@0.1.0",
        "description": "greets its input (created by cargo x07 new; edit me)",
        "profiles": ["os", "sandbox"],
        "cases": [
            {
                "name": "greet",
                "input": { "text": "x07" },
                "expect": { "output": { "text": "hello, x07" } }
            }
        ]
    });
    let pretty = |value: &serde_json::Value| {
        serde_json::to_string_pretty(value).expect("JSON values serialize") + "\n"
    };
    Ok(vec![
        (PathBuf::from(PROJECT_FILE), pretty(&manifest)),
        (PathBuf::from("x07.lock.json"), LOCKFILE.to_string()),
        (PathBuf::from(policy_path), policy.to_string()),
        (PathBuf::from("src/main.x07.json"), MAIN_PROGRAM.to_string()),
        (PathBuf::from(EXPECTATIONS_FILE), pretty(&expectations)),
    ])
}

/// Writes a new fixture into `dir` (created; it must not exist or be an empty directory).
/// Returns the files written, relative to `dir`.
pub fn create(dir: &Path, template: &str) -> Result<Vec<PathBuf>, NewError> {
    let files = fixture_files(template)?;
    let occupied = match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_some(),
        Err(_) => dir.exists() || std::fs::symlink_metadata(dir).is_ok(),
    };
    if occupied {
        return Err(NewError::Exists(dir.to_path_buf()));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| NewError::Io { path, source }
    };
    let mut written = Vec::new();
    for (relative, text) in files {
        let path = dir.join(&relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        // create_new: never replace a file that appeared meanwhile.
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut file| std::io::Write::write_all(&mut file, text.as_bytes()))
            .map_err(io(&path))?;
        written.push(relative);
    }
    Ok(written)
}

/// Whether the fixture at `dir` (canonical) is found by a plain `cargo x07 test` of its
/// workspace, and if not, what to tell the user.
fn discoverability(dir: &Path, shown: &str) -> Option<String> {
    let manifest = dir.ancestors().find_map(|ancestor| {
        let manifest = ancestor.join("Cargo.toml");
        manifest.is_file().then_some(manifest)
    });
    let Some(manifest) = manifest else {
        return Some(format!(
            "note: no Cargo.toml above {shown}: cargo x07 runs inside a cargo workspace \
             (`cargo init` makes one), where `cargo x07 test {shown}` then runs it"
        ));
    };
    let selection = Selection {
        manifest_path: Some(manifest),
        packages: Vec::new(),
        workspace: true,
    };
    let mut workspace = config::load(&selection).ok()?;
    let found = discover::discover(&workspace)
        .ok()?
        .iter()
        .any(|location| location.path.canonicalize().is_ok_and(|path| path == dir));
    if found {
        return None;
    }
    let package = workspace.package_for_path(dir);
    let package = &workspace.packages[package];
    let relative = dir
        .strip_prefix(&package.root)
        .map(|relative| relative.to_string_lossy().replace('\\', "/"))
        .unwrap_or_else(|_| dir.display().to_string());
    // The roots in force, plus the new one; a default root that does not exist is left out
    // (a configured root must exist).
    let mut roots: Vec<String> = package
        .settings
        .fixtures
        .iter()
        .filter(|root| package.settings.fixtures_configured || package.root.join(root).exists())
        .cloned()
        .collect();
    roots.push(relative);
    let roots: Vec<String> = roots.iter().map(|root| format!("{root:?}")).collect();
    let (table, file) = if package.name == "(workspace)" {
        (
            "a member package's [package.metadata.x07]".to_string(),
            "its Cargo.toml".to_string(),
        )
    } else {
        (
            "[package.metadata.x07]".to_string(),
            path_from_cwd(&package.root.join("Cargo.toml"))
                .display()
                .to_string(),
        )
    };
    Some(format!(
        "note: {shown} is not under the fixture roots ({}), so a plain `cargo x07 test` \
         does not run it (`cargo x07 test {shown}` does). To include it, set in {table} \
         of {file}:\n  fixtures = [{}]",
        package.settings.fixtures.join(", "),
        roots.join(", ")
    ))
}

/// `cargo x07 new <dir> [--template T]`: creates the fixture and prints what was written
/// and the next steps; returns the exit code (0, or 2 when nothing was written).
pub fn run(dir: &Path, template: Option<&str>) -> i32 {
    let template = template.unwrap_or(DEFAULT_TEMPLATE);
    let written = match create(dir, template) {
        Ok(written) => written,
        Err(error) => {
            eprintln!("error: {error}");
            return crate::engine::exit::USAGE_ERROR;
        }
    };
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let absolute = absolute.canonicalize().unwrap_or(absolute);
    // As the user typed it: the next steps are commands to type from here.
    let shown = dir.display().to_string();
    let mut text = format!("created fixture {shown} (sandbox policy template {template}):\n");
    for file in &written {
        text.push_str(&format!("  {}\n", Path::new(&shown).join(file).display()));
    }
    text.push_str(&format!(
        "\nnext steps:\n\
         \x20 1. edit {shown}/src/main.x07.json (the program) and {shown}/x07test.json (its cases:\n\
         \x20    input and expected output; format: docs/fixture-format.md of cargo-x07)\n\
         \x20 2. cargo x07 test {shown}     runs every case under the os and sandbox profiles\n\
         \x20 3. cargo x07 bless {shown}    after a change, writes the actual results into x07test.json\n\
         \x20    (review the diff)\n"
    ));
    if let Some(note) = discoverability(&absolute, &shown) {
        text.push('\n');
        text.push_str(&note);
        text.push('\n');
    }
    print!("{text}");
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_gives_a_valid_fixture() {
        for template in TEMPLATE_NAMES {
            let files = fixture_files(template).unwrap();
            let names: Vec<String> = files
                .iter()
                .map(|(path, _)| path.display().to_string())
                .collect();
            assert_eq!(
                names,
                [
                    "x07.json".to_string(),
                    "x07.lock.json".into(),
                    format!("policies/{template}.sandbox.base.policy.json"),
                    "src/main.x07.json".into(),
                    "x07test.json".into(),
                ]
            );
            for (path, text) in &files {
                let value: serde_json::Value = serde_json::from_str(text)
                    .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
                assert!(value.is_object());
            }
        }
        assert!(matches!(
            fixture_files("nope"),
            Err(NewError::UnknownTemplate(_))
        ));
    }

    #[test]
    fn never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("demo");
        std::fs::create_dir_all(&target).unwrap();
        // An empty directory is fine.
        create(&target, "cli").unwrap();
        let before = std::fs::read_to_string(target.join("x07test.json")).unwrap();
        let error = create(&target, "worker").unwrap_err();
        assert!(matches!(error, NewError::Exists(_)), "{error}");
        assert_eq!(
            std::fs::read_to_string(target.join("x07test.json")).unwrap(),
            before
        );
        assert!(!target
            .join("policies/worker.sandbox.base.policy.json")
            .exists());
        // A file in the way is refused too.
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert!(matches!(create(&file, "cli"), Err(NewError::Exists(_))));
    }
}
