//! Project manifests (`x07.json`): discovery, profiles, module roots and the lockfile,
//! resolved the way `x07 run` resolves them (`observed-behaviour.md` §1.3, §1.5, §1.7).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The manifest file name.
pub const MANIFEST_FILE: &str = "x07.json";

/// The lockfile `x07 run` writes when a project has none (a project without dependencies).
pub const EMPTY_LOCKFILE: &str = r#"{
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

/// One `profiles.<name>` entry.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Profile {
    /// World of the profile.
    #[serde(default)]
    pub world: Option<String>,
    /// Policy file, relative to the project root.
    #[serde(default)]
    pub policy: Option<String>,
    /// Input file, relative to the project root.
    #[serde(default)]
    pub input: Option<String>,
    /// Default `--solve-fuel`.
    #[serde(default)]
    pub solve_fuel: Option<u64>,
    /// Default `--max-memory-bytes`.
    #[serde(default)]
    pub max_memory_bytes: Option<u64>,
    /// Default `--max-output-bytes`.
    #[serde(default)]
    pub max_output_bytes: Option<u64>,
    /// Default `--cpu-time-limit-seconds`.
    #[serde(default)]
    pub cpu_time_limit_seconds: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct ManifestFile {
    #[serde(default)]
    world: Option<String>,
    #[serde(default)]
    entry: Option<String>,
    #[serde(default)]
    module_roots: Option<Vec<String>>,
    #[serde(default)]
    lockfile: Option<String>,
    #[serde(default)]
    default_profile: Option<String>,
    #[serde(default)]
    profiles: Option<BTreeMap<String, Profile>>,
}

/// A loaded `x07.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The manifest path as it was found (may be relative to the cwd).
    pub path: PathBuf,
    /// The directory holding the manifest, as found (`""` means the cwd).
    pub dir: PathBuf,
    /// The absolute project root.
    pub root: PathBuf,
    /// `world` (default `run-os`).
    pub world: String,
    /// `entry`, relative to the root.
    pub entry: String,
    /// `module_roots`, relative to the root.
    pub module_roots: Vec<String>,
    /// `lockfile`, relative to the root.
    pub lockfile: String,
    /// `default_profile`.
    pub default_profile: Option<String>,
    /// `profiles` (sorted by name), if the manifest has them.
    pub profiles: Option<BTreeMap<String, Profile>>,
}

/// Absolute form of `path` against the process cwd (no symlink resolution).
pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return normalize(path);
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    normalize(&cwd.join(path))
}

/// Removes `.` segments and resolves `..` lexically.
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

impl Manifest {
    /// Reads the manifest at `path`.
    pub fn load(path: &Path) -> Result<Manifest, String> {
        let text = read_source_file(path)
            .map_err(|err| format!("read project manifest: {}: {err}", path.display()))?;
        let file: ManifestFile = serde_json::from_slice(&text)
            .map_err(|err| format!("parse project manifest: {}: {err}", path.display()))?;
        // serde also reads a struct from an array; a manifest is an object.
        if text.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(format!(
                "parse project manifest: {}: expected a JSON object",
                path.display()
            ));
        }
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let root = absolute(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &dir
        });
        Ok(Manifest {
            path: path.to_path_buf(),
            dir,
            root,
            world: file.world.unwrap_or_else(|| "run-os".to_string()),
            entry: file.entry.unwrap_or_else(|| "main.x07.json".to_string()),
            module_roots: file.module_roots.unwrap_or_else(|| vec![".".to_string()]),
            lockfile: file.lockfile.unwrap_or_else(|| "x07.lock.json".to_string()),
            default_profile: file.default_profile,
            profiles: file.profiles,
        })
    }

    /// Finds the manifest by walking up from `start` (a directory; `""` is the cwd).
    /// The walk follows the path as given: a relative start never leaves it.
    pub fn find_upwards(start: &Path) -> Option<PathBuf> {
        start.ancestors().find_map(|dir| {
            let candidate = if dir.as_os_str().is_empty() {
                PathBuf::from(MANIFEST_FILE)
            } else {
                dir.join(MANIFEST_FILE)
            };
            candidate.is_file().then_some(candidate)
        })
    }

    /// The named profile: `--profile`, else `default_profile`, else `dev`, else `os`.
    /// `Ok(None)` when the manifest has no profiles and none was asked for.
    pub fn select_profile(&self, flag: Option<&str>) -> Result<Option<(String, Profile)>, String> {
        let Some(profiles) = &self.profiles else {
            return match flag {
                Some(_) => Err("--profile requires x07.json.profiles".to_string()),
                None => Ok(None),
            };
        };
        let name = match flag.map(str::to_string).or_else(|| self.default_profile.clone()) {
            Some(name) => name,
            None if profiles.contains_key("dev") => "dev".to_string(),
            None if profiles.contains_key("os") => "os".to_string(),
            None => {
                return Err("profiles present but default_profile missing; set default_profile or pass --profile".to_string())
            }
        };
        match profiles.get(&name) {
            Some(profile) => Ok(Some((name, profile.clone()))),
            None => Err(format!(
                "unknown profile {name:?} (available: {})",
                profiles.keys().cloned().collect::<Vec<_>>().join(", ")
            )),
        }
    }

    /// A path of the manifest resolved against the directory it was found in, keeping
    /// it relative when the manifest was found relatively.
    pub fn resolve(&self, relative: &str) -> PathBuf {
        let path = Path::new(relative);
        if path.is_absolute() || self.dir.as_os_str().is_empty() {
            path.to_path_buf()
        } else {
            self.dir.join(path)
        }
    }

    /// Creates the lockfile when it is missing; returns whether it was written. A
    /// symlink in its place (even one to nowhere) counts as present: the runner never
    /// writes through a link the project planted.
    pub fn ensure_lockfile(&self) -> std::io::Result<bool> {
        use std::io::Write;
        let lockfile = self.root.join(&self.lockfile);
        if std::fs::symlink_metadata(&lockfile).is_ok() {
            return Ok(false);
        }
        // `create_new` is O_CREAT | O_EXCL, which never follows a symlink.
        let mut file = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lockfile)
        {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
            Err(err) => return Err(err),
        };
        file.write_all(EMPTY_LOCKFILE.as_bytes())?;
        Ok(true)
    }
}

/// Most bytes the runner reads of a program, module, manifest or policy file.
pub const MAX_SOURCE_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Reads a program, module, manifest or policy file: at most [`MAX_SOURCE_FILE_BYTES`],
/// and never from a device (`/dev/null` reads as empty). A project can name any path (a symlink to `/dev/zero`, to
/// a FIFO), and the runner reads these files outside any sandbox (a harness reads them
/// in its own process): such a file fails that one run with an error instead of
/// reading without end.
pub fn read_source_file(path: &Path) -> std::io::Result<Vec<u8>> {
    read_bounded(path, MAX_SOURCE_FILE_BYTES)
}

/// Most bytes the runner reads of an input file (`--input`, a profile's `input`).
pub const MAX_INPUT_FILE_BYTES: u64 = 1024 * 1024 * 1024;

/// Reads an input file: at most [`MAX_INPUT_FILE_BYTES`], never from a device (a FIFO,
/// such as a shell's process substitution, is read to its end). A profile's `input`
/// symlinked to `/dev/zero` fails the run instead of exhausting memory.
pub fn read_input_file(path: &Path) -> std::io::Result<Vec<u8>> {
    read_bounded(path, MAX_INPUT_FILE_BYTES)
}

fn read_bounded(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    use std::os::unix::fs::MetadataExt;
    /// `/dev/null`'s device number (character device 1:3 on Linux): it reads as empty, as
    /// a file would, and never blocks or runs on.
    const NULL_DEVICE: u64 = (1 << 8) | 3;
    let file = std::fs::File::open(path)?;
    let metadata = file.metadata()?;
    let kind = metadata.file_type();
    if kind.is_char_device() && metadata.rdev() == NULL_DEVICE {
        return Ok(Vec::new());
    }
    if kind.is_char_device() || kind.is_block_device() {
        return Err(std::io::Error::other("a device, not a file"));
    }
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(std::io::Error::other(format!("larger than {max} bytes")));
    }
    Ok(bytes)
}

/// Writes `bytes` to `<root>/<dirs...>/<name>`, creating the directories, without ever
/// following a symlink: each directory is opened with `O_NOFOLLOW` below the one
/// before, the file is opened with `O_NOFOLLOW`, and a file with more than one hard link
/// is refused before it is truncated. For the files the runner itself keeps inside a
/// project (`.x07/policies/_generated/`, `.x07/repair/`), so that links a project
/// planted there cannot make the runner write outside it. Returns the file's path.
pub fn write_below(
    root: &Path,
    dirs: &[&str],
    name: &std::ffi::OsStr,
    bytes: &[u8],
) -> std::io::Result<PathBuf> {
    use rustix::fs::{Mode, OFlags};
    let io = |errno: rustix::io::Errno| std::io::Error::from_raw_os_error(errno.raw_os_error());
    let directory = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    // The root itself is the caller's choice and may be reached through a link.
    let mut dir =
        rustix::fs::open(root, directory - OFlags::NOFOLLOW, Mode::empty()).map_err(io)?;
    let mut path = root.to_path_buf();
    for part in dirs {
        match rustix::fs::mkdirat(&dir, *part, Mode::from_raw_mode(0o777)) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(errno) => return Err(io(errno)),
        }
        dir = rustix::fs::openat(&dir, *part, directory, Mode::empty()).map_err(io)?;
        path.push(part);
    }
    let file = rustix::fs::openat(
        &dir,
        name,
        OFlags::WRONLY | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o666),
    )
    .map_err(io)?;
    let stat = rustix::fs::fstat(&file).map_err(io)?;
    if rustix::fs::FileType::from_raw_mode(stat.st_mode) != rustix::fs::FileType::RegularFile
        || stat.st_nlink > 1
    {
        return Err(std::io::Error::other(format!(
            "{}: not a regular file of its own",
            path.join(name).display()
        )));
    }
    rustix::fs::ftruncate(&file, 0).map_err(io)?;
    let mut file = std::fs::File::from(file);
    std::io::Write::write_all(&mut file, bytes)?;
    path.push(name);
    Ok(path)
}

/// Checks a world name; `Err` carries the reason (`unknown world: bogus`).
pub fn check_world(world: &str) -> Result<(), String> {
    match world {
        "run-os" | "run-os-sandboxed" => Ok(()),
        "solve-pure" | "solve-fs" | "solve-rr" | "solve-kv" | "solve-full" => Err(format!(
            "world {world} needs the host runner, which x07-lite does not provide"
        )),
        other => Err(format!("unknown world: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest_with(profiles: &[(&str, Profile)], default_profile: Option<&str>) -> Manifest {
        Manifest {
            path: PathBuf::from("x07.json"),
            dir: PathBuf::new(),
            root: PathBuf::from("/p"),
            world: "run-os".into(),
            entry: "main.x07.json".into(),
            module_roots: vec![".".into()],
            lockfile: "x07.lock.json".into(),
            default_profile: default_profile.map(str::to_string),
            profiles: Some(
                profiles
                    .iter()
                    .map(|(n, p)| (n.to_string(), p.clone()))
                    .collect(),
            ),
        }
    }

    #[test]
    fn profile_choice_order() {
        let p = Profile::default();
        let m = manifest_with(&[("os", p.clone()), ("dev", p.clone())], None);
        assert_eq!(m.select_profile(None).unwrap().unwrap().0, "dev");
        let m = manifest_with(&[("os", p.clone()), ("x", p.clone())], None);
        assert_eq!(m.select_profile(None).unwrap().unwrap().0, "os");
        let m = manifest_with(&[("a", p.clone())], None);
        assert_eq!(
            m.select_profile(None).unwrap_err(),
            "profiles present but default_profile missing; set default_profile or pass --profile"
        );
        let m = manifest_with(&[("sb", p.clone()), ("os", p.clone())], Some("sb"));
        assert_eq!(
            m.select_profile(Some("nope")).unwrap_err(),
            "unknown profile \"nope\" (available: os, sb)"
        );
        let mut m = m;
        m.profiles = None;
        assert_eq!(
            m.select_profile(Some("os")).unwrap_err(),
            "--profile requires x07.json.profiles"
        );
    }

    #[test]
    fn a_manifest_that_is_not_an_object_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MANIFEST_FILE);
        for text in ["[]", " [ ] "] {
            std::fs::write(&path, text).unwrap();
            let err = Manifest::load(&path).unwrap_err();
            assert!(err.starts_with("parse project manifest: "), "{text}: {err}");
            assert!(err.ends_with(": expected a JSON object"), "{text}: {err}");
        }
        for text in ["\"x\"", "3", "null"] {
            std::fs::write(&path, text).unwrap();
            let err = Manifest::load(&path).unwrap_err();
            assert!(err.starts_with("parse project manifest: "), "{text}: {err}");
            assert!(err.contains("invalid type"), "{text}: {err}");
        }
        std::fs::write(&path, "{\"entry\": 5}").unwrap();
        let err = Manifest::load(&path).unwrap_err();
        assert!(
            err.contains("invalid type: integer `5`, expected a string at line 1 column 11"),
            "{err}"
        );
    }

    #[test]
    fn normalize_paths() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(check_world("bogus").unwrap_err(), "unknown world: bogus");
    }
}
