//! The process gate's path and argument rules: which executable a request may start,
//! with which arguments, in which working directory.
//!
//! * Executable paths are matched in normal form: policy entries are normalised
//!   (`//` and `.` segments dropped), and a request whose executable is not already in
//!   normal form (`/bin/./sh`, `tools//x`, `./tools/x`, any `..`) is refused, as x07's
//!   exact comparison refuses it. `allow_execs` entries match exactly. An `allow_exec_prefixes` entry names a directory: it
//!   allows what lies below it (component by component, so `/opt/tools` does not allow
//!   `/opt/tools-evil/x`), and the executable's real path (symlinks resolved) must lie
//!   below the prefix's real path too, so a symlink inside the prefix cannot lead out.
//!   Relative executables are taken relative to the run's directory, never to the
//!   request's `cwd`.
//! * A script (`#!` on its first line) starts its interpreter: the interpreter must be
//!   allowed by the same rules (an absolute path, allowed exactly or by a prefix; a
//!   relative interpreter is refused, the kernel would take it from the child's working
//!   directory), and so must the interpreter's own interpreter, up to the kernel's four
//!   levels. Otherwise a policy that allows one script would start whatever program
//!   the script's first line names.
//! * `allow_args_regex_lite` (when not empty): every argument after the executable
//!   must match one of the patterns as a whole (`^(?:pattern)$`). The dialect is the
//!   `regex-lite` crate's: literals, `.`, classes `[a-z]` / `[^...]` and `\d \w \s`,
//!   groups `(...)`, alternation `|`, repetition `* + ? {n,m}`, anchors. Arguments that
//!   are not UTF-8 match nothing. If any pattern is invalid, every request is denied.
//! * The working directory is normalised the same way and must lie below one of
//!   `allow_cwd_roots` (component by component); it is then resolved below that root
//!   with the sandbox's path rules (no symlink out, hidden components refused under
//!   `deny_hidden`) and must be a directory.

use std::path::{Path, PathBuf};

use crate::sandbox::path::{absolute_path, Failure, Resolver, Root};

/// `path` with `//` and `.` segments dropped, a leading `/` kept; `None` when it has a
/// `..` segment or is empty.
pub fn normalize(path: &[u8]) -> Option<Vec<u8>> {
    if path.is_empty() {
        return None;
    }
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in path.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return None,
            name => parts.push(name),
        }
    }
    let mut out = if path.starts_with(b"/") {
        b"/".to_vec()
    } else {
        Vec::new()
    };
    out.extend(parts.join(&b'/'));
    Some(out)
}

/// Whether normalised `path` lies strictly below normalised directory `dir`.
fn strictly_below(path: &[u8], dir: &[u8]) -> bool {
    if dir.is_empty() {
        // "." as a prefix: every relative path.
        return !path.is_empty() && !path.starts_with(b"/");
    }
    if dir == b"/" {
        return path.len() > 1 && path.starts_with(b"/");
    }
    path.len() > dir.len() && path.starts_with(dir) && path[dir.len()] == b'/'
}

fn bytes_path(bytes: &[u8]) -> &Path {
    use std::os::unix::ffi::OsStrExt;
    Path::new(std::ffi::OsStr::from_bytes(bytes))
}

fn path_below(path: &Path, dir: &Path) -> bool {
    path != dir && path.starts_with(dir)
}

/// What the gate decided about an executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecDecision {
    /// Start this path (absolute).
    Run(PathBuf),
    /// Policy denial.
    Denied,
}

/// Most `#!` levels the kernel follows (a script whose interpreter is a script ...).
const MAX_INTERPRETER_DEPTH: usize = 4;
/// Bytes of a file the kernel reads to find a `#!` line (`BINPRM_BUF_SIZE`).
const SCRIPT_HEAD_BYTES: u64 = 256;

/// The interpreter a `#!` script at `path` names: `None` for anything that is not such a
/// script (or cannot be read: then starting it fails on its own), `Some(empty)` for a
/// `#!` line without an interpreter (the kernel refuses to start it).
pub fn script_interpreter(path: &Path) -> Option<Vec<u8>> {
    use rustix::fs::{FileType, Mode, OFlags};
    use std::io::Read;
    // Non-blocking, and only a regular file is read: an allowed "executable" that is a
    // FIFO must not hang the gate (starting it fails on its own).
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let stat = rustix::fs::fstat(&fd).ok()?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
        return None;
    }
    let file = std::fs::File::from(fd);
    let mut head = Vec::new();
    file.take(SCRIPT_HEAD_BYTES).read_to_end(&mut head).ok()?;
    let line = head.strip_prefix(b"#!")?;
    let line = line.split(|&b| b == b'\n').next().unwrap_or_default();
    let interpreter: Vec<u8> = line
        .iter()
        .copied()
        .skip_while(|b| *b == b' ' || *b == b'\t')
        .take_while(|b| !matches!(b, b' ' | b'\t' | b'\0' | b'\r'))
        .collect();
    Some(interpreter)
}

/// Checks `exe` against `allow_execs` / `allow_exec_prefixes`; relative paths are taken
/// relative to `cwd` (the run's directory). A `#!` script is allowed only when its
/// interpreter (and that one's, if it is a script too) is allowed as well.
pub fn check_exec(
    exe: &[u8],
    allow_execs: &[String],
    allow_exec_prefixes: &[String],
    cwd: &Path,
) -> ExecDecision {
    let decision = match_exec(exe, allow_execs, allow_exec_prefixes, cwd);
    let ExecDecision::Run(path) = &decision else {
        return decision;
    };
    let mut current = path.clone();
    for _ in 0..MAX_INTERPRETER_DEPTH {
        let Some(interpreter) = script_interpreter(&current) else {
            return decision;
        };
        if interpreter.is_empty() {
            return decision;
        }
        if !interpreter.starts_with(b"/") {
            return ExecDecision::Denied;
        }
        // An absolute interpreter inside the run's directory may be allowed by a relative
        // entry of the policy.
        let run_dir = cwd.as_os_str().as_encoded_bytes();
        let relative = interpreter
            .strip_prefix(run_dir)
            .and_then(|rest| rest.strip_prefix(b"/"));
        let allowed = [Some(interpreter.as_slice()), relative]
            .into_iter()
            .flatten()
            .find_map(
                |name| match match_exec(name, allow_execs, allow_exec_prefixes, cwd) {
                    ExecDecision::Run(next) => Some(next),
                    ExecDecision::Denied => None,
                },
            );
        match allowed {
            Some(next) => current = next,
            None => return ExecDecision::Denied,
        }
    }
    // Deeper than the kernel goes: it refuses to start it anyway.
    ExecDecision::Denied
}

/// [`check_exec`] without the look at `#!` lines.
fn match_exec(
    exe: &[u8],
    allow_execs: &[String],
    allow_exec_prefixes: &[String],
    cwd: &Path,
) -> ExecDecision {
    let Some(normal) = normalize(exe) else {
        return ExecDecision::Denied;
    };
    if normal != exe {
        return ExecDecision::Denied;
    }
    let full = cwd.join(bytes_path(&normal));
    if allow_execs
        .iter()
        .any(|entry| normalize(entry.as_bytes()).as_deref() == Some(normal.as_slice()))
    {
        return ExecDecision::Run(full);
    }
    for prefix in allow_exec_prefixes {
        let Some(prefix_normal) = normalize(prefix.as_bytes()) else {
            continue;
        };
        if !strictly_below(&normal, &prefix_normal) {
            continue;
        }
        let prefix_full = cwd.join(bytes_path(&prefix_normal));
        let Ok(prefix_real) = std::fs::canonicalize(&prefix_full) else {
            continue;
        };
        return match std::fs::canonicalize(&full) {
            Ok(real) if path_below(&real, &prefix_real) => ExecDecision::Run(real),
            // A symlink below the prefix that leads out of it.
            Ok(_) => ExecDecision::Denied,
            // Missing: starting it fails (error 3), as for any missing executable.
            Err(_) => ExecDecision::Run(full),
        };
    }
    ExecDecision::Denied
}

/// `allow_args_regex_lite`, compiled.
#[derive(Debug, Clone)]
pub enum ArgsRule {
    /// No patterns: any arguments.
    Any,
    /// Every argument must match one of these (anchored) patterns.
    Patterns(Vec<regex_lite::Regex>),
    /// A pattern does not compile: every request is denied.
    Invalid,
}

impl ArgsRule {
    /// Compiles the policy's patterns.
    pub fn compile(patterns: &[String]) -> ArgsRule {
        if patterns.is_empty() {
            return ArgsRule::Any;
        }
        let mut compiled = Vec::with_capacity(patterns.len());
        for pattern in patterns {
            // The pattern must be valid on its own (`a)(b` must not become valid by
            // being wrapped).
            if regex_lite::Regex::new(pattern).is_err() {
                return ArgsRule::Invalid;
            }
            match regex_lite::Regex::new(&format!("^(?:{pattern})$")) {
                Ok(regex) => compiled.push(regex),
                Err(_) => return ArgsRule::Invalid,
            }
        }
        ArgsRule::Patterns(compiled)
    }

    /// Whether every one of `args` is allowed.
    pub fn allows(&self, args: &[Vec<u8>]) -> bool {
        match self {
            ArgsRule::Any => true,
            ArgsRule::Invalid => false,
            ArgsRule::Patterns(patterns) => args.iter().all(|arg| {
                std::str::from_utf8(arg)
                    .is_ok_and(|text| patterns.iter().any(|regex| regex.is_match(text)))
            }),
        }
    }
}

/// Checks a request's working directory against the cwd roots (opened as `roots`, in
/// the order of the policy); the absolute directory to start the child in, if allowed.
pub fn check_cwd(
    cwd: &[u8],
    roots: &[Root],
    resolver: &Resolver,
    deny_hidden: bool,
) -> Option<PathBuf> {
    let normal = normalize(cwd)?;
    for (index, root) in roots.iter().enumerate() {
        let Some(root_normal) = normalize(root.written().as_bytes()) else {
            continue;
        };
        let rest: &[u8] = if normal == root_normal {
            b""
        } else if strictly_below(&normal, &root_normal) {
            let skip = if root_normal.is_empty() {
                0
            } else if root_normal == b"/" {
                1
            } else {
                root_normal.len() + 1
            };
            &normal[skip..]
        } else {
            continue;
        };
        let components: Vec<Vec<u8>> = rest
            .split(|&b| b == b'/')
            .filter(|part| !part.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        if deny_hidden && components.iter().any(|part| part.starts_with(b".")) {
            return None;
        }
        if components.iter().any(|part| part.starts_with(b".x07_")) {
            return None;
        }
        return match resolver.locate(roots, index, components.clone()) {
            Ok(located) if located.is_dir() => absolute_path(root, &components),
            Ok(_) | Err(Failure::Os(_)) | Err(_) => None,
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::path::Rules;

    #[test]
    fn normalisation() {
        assert_eq!(normalize(b"/bin//./sh").unwrap(), b"/bin/sh");
        assert_eq!(normalize(b"tools/./x").unwrap(), b"tools/x");
        assert_eq!(normalize(b"tools/../../bin/sh"), None);
        assert_eq!(normalize(b""), None);
        assert_eq!(normalize(b"./").unwrap(), b"");
    }

    #[test]
    fn exec_rules() {
        let temp = tempfile::tempdir().unwrap();
        let base = temp.path().canonicalize().unwrap();
        std::fs::create_dir_all(base.join("tools")).unwrap();
        std::fs::create_dir_all(base.join("tools-evil")).unwrap();
        std::fs::write(base.join("tools/run"), "#! /bin/echo -n\nexit 0\n").unwrap();
        std::fs::write(base.join("tools-evil/run"), "#!/bin/echo\n").unwrap();
        std::fs::write(base.join("tools/shell"), "#!/bin/sh\necho hi\n").unwrap();
        std::fs::write(base.join("tools/relative"), "#!bin/echo\n").unwrap();
        std::fs::write(base.join("tools/chained"), "#!tools/run\n").unwrap();
        let chained = format!("#!{}\n", base.join("tools/run").display());
        std::fs::write(base.join("tools/chained-abs"), chained).unwrap();
        let loop_script = format!("#!{}\n", base.join("tools/loop").display());
        std::fs::write(base.join("tools/loop"), loop_script).unwrap();
        std::fs::write(base.join("tools/plain"), "echo no interpreter line\n").unwrap();
        std::os::unix::fs::symlink("/bin/sh", base.join("tools/sh")).unwrap();
        let execs = vec!["/bin/echo".to_string()];
        let prefixes = vec!["tools".to_string()];
        let check = |exe: &str| check_exec(exe.as_bytes(), &execs, &prefixes, &base);
        assert_eq!(check("/bin/echo"), ExecDecision::Run("/bin/echo".into()));
        assert_eq!(check("//bin/./echo"), ExecDecision::Denied);
        assert_eq!(check("/bin/../bin/echo"), ExecDecision::Denied);
        assert_eq!(check("/bin/echoo"), ExecDecision::Denied);
        assert_eq!(
            check("tools/run"),
            ExecDecision::Run(base.join("tools/run"))
        );
        assert_eq!(check("./tools/run"), ExecDecision::Denied);
        assert_eq!(check("tools//run"), ExecDecision::Denied);
        assert_eq!(check("tools/../tools-evil/run"), ExecDecision::Denied);
        assert_eq!(check("tools-evil/run"), ExecDecision::Denied);
        assert_eq!(check("tools/sh"), ExecDecision::Denied);
        assert_eq!(check("tools"), ExecDecision::Denied);
        assert_eq!(
            check("tools/missing"),
            ExecDecision::Run(base.join("tools/missing"))
        );
        // Scripts: the interpreter must be allowed too.
        assert_eq!(check("tools/shell"), ExecDecision::Denied);
        assert_eq!(check("tools/relative"), ExecDecision::Denied);
        assert_eq!(check("tools/chained"), ExecDecision::Denied);
        assert_eq!(
            check("tools/chained-abs"),
            ExecDecision::Run(base.join("tools/chained-abs"))
        );
        assert_eq!(check("tools/loop"), ExecDecision::Denied);
        assert_eq!(
            check("tools/plain"),
            ExecDecision::Run(base.join("tools/plain"))
        );
        assert_eq!(
            script_interpreter(&base.join("tools/run")).unwrap(),
            b"/bin/echo"
        );
        assert_eq!(script_interpreter(&base.join("tools/plain")), None);
    }

    #[test]
    fn args_rules() {
        let args = |list: &[&str]| -> Vec<Vec<u8>> {
            list.iter().map(|a| a.as_bytes().to_vec()).collect()
        };
        let rule = ArgsRule::compile(&["[a-z]+".to_string(), "-n".to_string()]);
        assert!(rule.allows(&args(&["hello", "-n"])));
        assert!(!rule.allows(&args(&["hello", "-e"])));
        assert!(!rule.allows(&args(&["hello world"])));
        assert!(!rule.allows(&[b"\xff".to_vec()]));
        assert!(rule.allows(&[]));
        assert!(ArgsRule::compile(&[]).allows(&args(&["anything"])));
        let invalid = ArgsRule::compile(&["a)(b".to_string(), ".*".to_string()]);
        assert!(!invalid.allows(&args(&["x"])));
        assert!(!invalid.allows(&[]));
        // The whole argument must match, not a part of it.
        let rule = ArgsRule::compile(&["ab|cd".to_string()]);
        assert!(rule.allows(&args(&["ab", "cd"])));
        assert!(!rule.allows(&args(&["abcd"])));
    }

    #[test]
    fn cwd_rules() {
        let temp = tempfile::tempdir().unwrap();
        let base = temp.path().canonicalize().unwrap();
        std::fs::create_dir_all(base.join("out/sub")).unwrap();
        std::fs::create_dir_all(base.join("out/.git")).unwrap();
        std::fs::create_dir_all(base.join("elsewhere")).unwrap();
        std::os::unix::fs::symlink(base.join("elsewhere"), base.join("out/link")).unwrap();
        std::fs::write(base.join("out/file"), "x").unwrap();
        let rules = Rules {
            allow_symlinks: false,
            deny_hidden: true,
        };
        let roots = [Root::open("out", &base, rules)];
        let resolver = Resolver::new(rules);
        let check = |cwd: &str| check_cwd(cwd.as_bytes(), &roots, &resolver, true);
        assert_eq!(check("out"), Some(base.join("out")));
        assert_eq!(check("out/sub"), Some(base.join("out/sub")));
        assert_eq!(check("./out//sub/"), Some(base.join("out/sub")));
        assert_eq!(check("out/../elsewhere"), None);
        assert_eq!(check("out/../../etc"), None);
        assert_eq!(check("outside"), None);
        assert_eq!(check("out/link"), None);
        assert_eq!(check("out/.git"), None);
        assert_eq!(check("out/file"), None);
        assert_eq!(check("out/missing"), None);
        assert_eq!(check("/tmp"), None);
    }
}
