//! Path resolution that cannot be fooled: the one way the sandbox turns a policy root
//! plus a relative path into an open file or directory. Every `os.fs.*` builtin and the
//! process `cwd` check go through [`Resolver::locate`].
//!
//! How:
//! * a root is opened once (an `O_PATH` directory descriptor) and everything below it
//!   is resolved relative to that descriptor, never by joining strings;
//! * with `fs.allow_symlinks` false (the default) the kernel does the work where it can:
//!   `openat2` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS`, so
//!   a symlink anywhere on the path (or a `..` leaving the root) fails; kernels without
//!   `openat2` get an `O_NOFOLLOW` walk, one component at a time;
//! * with `fs.allow_symlinks` true the walk follows a symlink only when its target,
//!   taken lexically, lies under a root granted for the same kind of access; the rest
//!   of the path is then walked again from that root (so `deny_hidden` applies to every
//!   component of the target too, and `/proc/self/...` magic links never work: the
//!   kernel is never asked to follow a link);
//! * the final entry is looked at through an `O_PATH | O_NOFOLLOW` descriptor first and
//!   opened for reading or writing relative to its directory descriptor with
//!   `O_NOFOLLOW`; the opened descriptor is checked again (same inode, regular file,
//!   one link, not on a pseudo file system such as procfs) and is the only thing read
//!   or written, so swapping a path component between the check and the use gains
//!   nothing.
//!
//! Roots themselves: an absolute root, or one that leaves the run's directory with
//! `..`, is the policy author's explicit choice and is opened as written. A relative
//! root is resolved below the run's directory with the same rules as any other path.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rustix::fs::{self as rfs, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// Why the sandbox refuses a path (a policy denial: the builtin traps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// A symlink on the path while `fs.allow_symlinks` is false, or one whose target
    /// leaves the granted roots (or a loop of them).
    Symlink,
    /// A hidden component (`.name`) reached through a symlink target under
    /// `fs.deny_hidden` (hidden components of the path itself are refused earlier).
    Hidden,
    /// A component the sandbox never touches (`.x07_*`) reached through a symlink.
    Unsafe,
    /// A FIFO, socket, device, or a file of a pseudo file system (procfs, sysfs, ...).
    NotRegular,
    /// A regular file with more than one hard link: its other names may lie anywhere.
    HardLink,
}

/// Why [`Resolver::locate`] or a read/write failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The sandbox refuses the path.
    Denied(Denial),
    /// The operating system refused (`errno`), e.g. 2 for a missing file.
    Os(i32),
    /// The file is larger than the limit given (its size, or the limit + 1 when it grew).
    TooLarge(u64),
    /// The path names a directory.
    Directory,
}

impl From<Errno> for Failure {
    fn from(errno: Errno) -> Failure {
        Failure::Os(errno.raw_os_error())
    }
}

const ENOENT: i32 = 2;
const MAX_SYMLINK_HOPS: u32 = 40;
/// How many times a write looks again at a name that changed under it before refusing.
const MAX_WRITE_ATTEMPTS: u32 = 8;

/// Magic numbers (`statfs.f_type`) of pseudo file systems whose "regular files" are
/// views of the kernel or of processes (`/proc/self/environ`, `/proc/self/mem`, sysfs
/// attributes, cgroup controls ...): never read or written by a sandboxed program.
const PSEUDO_FS_MAGIC: &[u64] = &[
    0x9fa0,      // proc
    0x6265_6572, // sysfs
    0x0027_e0eb, // cgroup
    0x6367_7270, // cgroup2
    0x6462_6720, // debugfs
    0x7472_6163, // tracefs
    0x7363_6673, // securityfs
    0xcafe_4a11, // bpf
    0xde5e_81e4, // efivarfs
    0x6265_6570, // configfs
    0x6573_5543, // fusectl
    0x6165_676c, // pstore
    0xf97c_ff8c, // selinuxfs
    0x4249_4e4d, // binfmt_misc
    0x1cd1,      // devpts
];

/// Whether the kernel has `openat2` (Linux 5.6+) and lets this process use it.
pub fn openat2_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        if crate::sandbox::TestSwitches::current().openat2_off {
            return false;
        }
        rfs::openat2(
            rfs::CWD,
            ".",
            OFlags::PATH | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::BENEATH,
        )
        .is_ok()
    })
}

/// One granted root: the policy's text and the directory it names, opened once.
#[derive(Debug)]
pub struct Root {
    written: String,
    dir: Option<OwnedFd>,
    canonical: Option<Vec<Vec<u8>>>,
}

/// The components of `path` (split on `/`, without empty and `.` segments); `None`
/// when a `..` segment is left over at the start (the path leaves where it starts).
fn lexical_components(path: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for part in path.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                out.pop()?;
            }
            name => out.push(name.to_vec()),
        }
    }
    Some(out)
}

/// `base` (absolute components) followed by `target` (a symlink's text), taken lexically:
/// `..` never goes above `/`.
fn lexical_join(base: &[Vec<u8>], target: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = if target.starts_with(b"/") {
        Vec::new()
    } else {
        base.to_vec()
    };
    for part in target.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                out.pop();
            }
            name => out.push(name.to_vec()),
        }
    }
    out
}

fn join_components(components: &[Vec<u8>]) -> Vec<u8> {
    components.join(&b'/')
}

fn canonical_components(path: &Path) -> Option<Vec<Vec<u8>>> {
    let canonical = std::fs::canonicalize(path).ok()?;
    lexical_components(canonical.as_os_str().as_bytes())
}

fn open_dir_as_written(path: &Path) -> Option<OwnedFd> {
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let fd = if openat2_available() {
        rfs::openat2(
            rfs::CWD,
            path,
            flags,
            Mode::empty(),
            ResolveFlags::NO_MAGICLINKS,
        )
    } else {
        rfs::openat(rfs::CWD, path, flags, Mode::empty())
    };
    fd.ok()
}

impl Root {
    /// Opens the root `written` (a policy entry) for a run whose directory is `cwd`.
    /// A root that does not exist (or cannot be reached under the rules) grants nothing.
    pub fn open(written: &str, cwd: &Path, rules: Rules) -> Root {
        let bytes = written.as_bytes();
        let relative_below_cwd =
            !bytes.starts_with(b"/") && !bytes.split(|&b| b == b'/').any(|s| s == b"..");
        let full = cwd.join(written);
        let dir = if relative_below_cwd {
            let components = lexical_components(bytes).unwrap_or_default();
            let here = Root {
                written: ".".into(),
                dir: open_dir_as_written(cwd),
                canonical: canonical_components(cwd),
            };
            let rules = Rules {
                deny_hidden: false,
                ..rules
            };
            match Resolver::new(rules).locate(std::slice::from_ref(&here), 0, components) {
                Ok(Located {
                    existing: Some((fd, stat)),
                    ..
                }) if FileType::from_raw_mode(stat.st_mode) == FileType::Directory => Some(fd),
                _ => None,
            }
        } else {
            open_dir_as_written(&full)
        };
        let canonical = dir.as_ref().and_then(|_| canonical_components(&full));
        Root {
            written: written.to_string(),
            dir,
            canonical,
        }
    }

    /// The policy entry as written.
    pub fn written(&self) -> &str {
        &self.written
    }

    /// The opened directory, when the root exists.
    pub fn dir(&self) -> Option<BorrowedFd<'_>> {
        self.dir.as_ref().map(|fd| fd.as_fd())
    }

    /// The root with a trailing `/`, as it prefixes paths in messages (`./`, `sub/`, `/`).
    fn prefix(&self) -> String {
        let trimmed = self.written.trim_end_matches('/');
        match (trimmed.is_empty(), self.written.starts_with('/')) {
            (true, true) => "/".to_string(),
            (true, false) => "./".to_string(),
            (false, _) => format!("{trimmed}/"),
        }
    }

    /// `path` relative to this root: a leading `<root>/` is stripped, as x07 does
    /// (root `sub` and path `sub/nested.txt` name `sub/nested.txt`, not `sub/sub/...`).
    pub fn relative<'a>(&self, path: &'a [u8]) -> &'a [u8] {
        let prefix = self.prefix();
        if prefix == "/" || prefix == "./" {
            return path;
        }
        path.strip_prefix(prefix.as_bytes()).unwrap_or(path)
    }

    /// How `path` under this root is shown in messages (`./data.txt`, `sub/nested.txt`).
    pub fn shown(&self, path: &[u8]) -> Vec<u8> {
        let mut out = self.prefix().into_bytes();
        out.extend_from_slice(self.relative(path));
        out
    }

    /// Whether absolute lexical components `path` lie under this root; the rest if so.
    fn below<'a>(&self, path: &'a [Vec<u8>]) -> Option<&'a [Vec<u8>]> {
        let canonical = self.canonical.as_ref()?;
        path.strip_prefix(canonical.as_slice())
    }
}

/// The policy switches that shape resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// `fs.allow_symlinks`.
    pub allow_symlinks: bool,
    /// `fs.deny_hidden` (applied to components reached through symlink targets).
    pub deny_hidden: bool,
}

/// Where a path ends: the directory that holds the final entry, and the entry.
#[derive(Debug)]
pub struct Located {
    /// The directory holding the final entry (`O_PATH`).
    dir: OwnedFd,
    /// The final entry's name; empty when the path names `dir` itself.
    name: Vec<u8>,
    /// The final entry (`O_PATH | O_NOFOLLOW`, never a symlink) and its status, when
    /// it exists.
    pub existing: Option<(OwnedFd, rfs::Stat)>,
}

impl Located {
    /// Whether the path names a directory.
    pub fn is_dir(&self) -> bool {
        self.existing
            .as_ref()
            .is_some_and(|(_, stat)| FileType::from_raw_mode(stat.st_mode) == FileType::Directory)
    }
}

/// Resolves paths under roots with the policy's rules.
#[derive(Debug, Clone, Copy)]
pub struct Resolver {
    rules: Rules,
    use_openat2: bool,
}

fn is_pseudo_fs(fd: BorrowedFd<'_>) -> bool {
    match rfs::fstatfs(fd) {
        #[allow(clippy::unnecessary_cast)]
        Ok(stat) => PSEUDO_FS_MAGIC.contains(&(stat.f_type as u64)),
        Err(_) => true,
    }
}

fn same_file(a: &rfs::Stat, b: &rfs::Stat) -> bool {
    a.st_dev == b.st_dev && a.st_ino == b.st_ino
}

/// Refuses anything but a single-link regular file, judged on `stat` alone.
fn check_regular_stat(stat: &rfs::Stat) -> Result<(), Failure> {
    match FileType::from_raw_mode(stat.st_mode) {
        FileType::RegularFile => {}
        FileType::Directory => return Err(Failure::Directory),
        FileType::Symlink => return Err(Failure::Denied(Denial::Symlink)),
        _ => return Err(Failure::Denied(Denial::NotRegular)),
    }
    #[allow(clippy::unnecessary_cast)]
    if stat.st_nlink as u64 > 1 {
        return Err(Failure::Denied(Denial::HardLink));
    }
    Ok(())
}

/// Refuses anything but a single-link regular file on a real file system.
fn check_regular(fd: BorrowedFd<'_>, stat: &rfs::Stat) -> Result<(), Failure> {
    check_regular_stat(stat)?;
    if is_pseudo_fs(fd) {
        return Err(Failure::Denied(Denial::NotRegular));
    }
    Ok(())
}

impl Resolver {
    /// A resolver with `rules`, using `openat2` where the kernel has it.
    pub fn new(rules: Rules) -> Resolver {
        Resolver {
            rules,
            use_openat2: openat2_available(),
        }
    }

    /// The same resolver, forced to the `O_NOFOLLOW` walk (what kernels without
    /// `openat2` get); for tests.
    pub fn walk_only(self) -> Resolver {
        Resolver {
            use_openat2: false,
            ..self
        }
    }

    /// Finds `components` (already checked: no empty, `.` or `..` segments) below
    /// `roots[start]`. A symlink target (when symlinks are allowed) may land in any of
    /// `roots`; the walk then continues there.
    pub fn locate(
        &self,
        roots: &[Root],
        start: usize,
        components: Vec<Vec<u8>>,
    ) -> Result<Located, Failure> {
        let root = roots
            .get(start)
            .and_then(Root::dir)
            .ok_or(Failure::Os(ENOENT))?;
        if self.use_openat2 && !self.rules.allow_symlinks {
            return Self::locate_openat2(root, components);
        }
        self.locate_walk(roots, start, components)
    }

    fn locate_openat2(
        root: BorrowedFd<'_>,
        mut components: Vec<Vec<u8>>,
    ) -> Result<Located, Failure> {
        let Some(name) = components.pop() else {
            let dir = root.try_clone_to_owned().map_err(io_failure)?;
            let stat = rfs::fstat(&dir)?;
            let existing = Some((dir.try_clone().map_err(io_failure)?, stat));
            return Ok(Located {
                dir,
                name: Vec::new(),
                existing,
            });
        };
        let dir = if components.is_empty() {
            root.try_clone_to_owned().map_err(io_failure)?
        } else {
            rfs::openat2(
                root,
                join_components(&components),
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
                ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
            )
            .map_err(|errno| match errno {
                Errno::LOOP | Errno::XDEV => Failure::Denied(Denial::Symlink),
                other => other.into(),
            })?
        };
        let existing = match rfs::openat(
            &dir,
            name.as_slice(),
            OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => {
                let stat = rfs::fstat(&fd)?;
                if FileType::from_raw_mode(stat.st_mode) == FileType::Symlink {
                    return Err(Failure::Denied(Denial::Symlink));
                }
                Some((fd, stat))
            }
            Err(Errno::NOENT) => None,
            Err(errno) => return Err(errno.into()),
        };
        Ok(Located {
            dir,
            name,
            existing,
        })
    }

    fn locate_walk(
        &self,
        roots: &[Root],
        start: usize,
        components: Vec<Vec<u8>>,
    ) -> Result<Located, Failure> {
        let mut root_index = start;
        let mut queue: VecDeque<Vec<u8>> = components.into();
        // Directories entered below the current root, with their names.
        let mut stack: Vec<(OwnedFd, Vec<u8>)> = Vec::new();
        let mut hops = 0;
        loop {
            let root_dir = roots[root_index].dir().ok_or(Failure::Os(ENOENT))?;
            let current: BorrowedFd<'_> =
                stack.last().map(|(fd, _)| fd.as_fd()).unwrap_or(root_dir);
            let Some(name) = queue.pop_front() else {
                let dir = current.try_clone_to_owned().map_err(io_failure)?;
                let stat = rfs::fstat(&dir)?;
                let existing = Some((dir.try_clone().map_err(io_failure)?, stat));
                return Ok(Located {
                    dir,
                    name: Vec::new(),
                    existing,
                });
            };
            if self.rules.deny_hidden && name.starts_with(b".") {
                return Err(Failure::Denied(Denial::Hidden));
            }
            if name.starts_with(b".x07_") {
                return Err(Failure::Denied(Denial::Unsafe));
            }
            let is_last = queue.is_empty();
            let entry = match rfs::openat(
                current,
                name.as_slice(),
                OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            ) {
                Ok(fd) => fd,
                Err(Errno::NOENT) if is_last => {
                    return Ok(Located {
                        dir: current.try_clone_to_owned().map_err(io_failure)?,
                        name,
                        existing: None,
                    })
                }
                Err(errno) => return Err(errno.into()),
            };
            let stat = rfs::fstat(&entry)?;
            match FileType::from_raw_mode(stat.st_mode) {
                FileType::Symlink => {
                    if !self.rules.allow_symlinks {
                        return Err(Failure::Denied(Denial::Symlink));
                    }
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Err(Failure::Denied(Denial::Symlink));
                    }
                    let target = rfs::readlinkat(&entry, "", Vec::new())?;
                    let mut base = roots[root_index]
                        .canonical
                        .clone()
                        .ok_or(Failure::Denied(Denial::Symlink))?;
                    base.extend(stack.iter().map(|(_, name)| name.clone()));
                    let absolute = lexical_join(&base, target.as_bytes());
                    let landing = roots
                        .iter()
                        .enumerate()
                        .filter_map(|(index, root)| root.below(&absolute).map(|rest| (index, rest)))
                        .max_by_key(|(index, rest)| {
                            (absolute.len() - rest.len(), usize::MAX - index)
                        });
                    let Some((index, rest)) = landing else {
                        return Err(Failure::Denied(Denial::Symlink));
                    };
                    root_index = index;
                    stack.clear();
                    let mut next: VecDeque<Vec<u8>> = rest.iter().cloned().collect();
                    next.extend(queue.drain(..));
                    queue = next;
                }
                FileType::Directory if !is_last => stack.push((entry, name)),
                _ if !is_last => return Err(Failure::Os(Errno::NOTDIR.raw_os_error())),
                _ => {
                    return Ok(Located {
                        dir: current.try_clone_to_owned().map_err(io_failure)?,
                        name,
                        existing: Some((entry, stat)),
                    })
                }
            }
        }
    }
}

fn io_failure(err: std::io::Error) -> Failure {
    Failure::Os(err.raw_os_error().unwrap_or(5))
}

/// Reads the regular file at `located` through the descriptor that was checked, at
/// most `limit` bytes (more is [`Failure::TooLarge`]).
pub fn read_regular(located: &Located, limit: u64) -> Result<Vec<u8>, Failure> {
    let Some((entry, stat)) = &located.existing else {
        return Err(Failure::Os(ENOENT));
    };
    check_regular(entry.as_fd(), stat)?;
    #[allow(clippy::unnecessary_cast)]
    let size = stat.st_size.max(0) as u64;
    if size > limit {
        return Err(Failure::TooLarge(size));
    }
    let fd = rfs::openat(
        &located.dir,
        located.name.as_slice(),
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|errno| match errno {
        Errno::LOOP => Failure::Denied(Denial::Symlink),
        other => other.into(),
    })?;
    let opened = rfs::fstat(&fd)?;
    if !same_file(stat, &opened) {
        // The entry was swapped since it was checked: refuse rather than guess.
        return Err(Failure::Denied(Denial::Symlink));
    }
    check_regular(fd.as_fd(), &opened)?;
    let mut data = Vec::with_capacity(size.min(limit) as usize);
    let file = std::fs::File::from(fd);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(io_failure)?;
    if data.len() as u64 > limit {
        return Err(Failure::TooLarge(limit.saturating_add(1)));
    }
    Ok(data)
}

/// Creates or truncates the regular file at `located` and writes `data` through the
/// descriptor that was checked (`O_NOFOLLOW`, one link, not a pseudo file system).
///
/// The link count is judged on a status taken *through the name* right before the file
/// is opened (so the name in the root is one of the links counted), and the file opened
/// must be that one: a hard link to an outside file that appears in the root and goes
/// again would otherwise pass as a single-link file when its status is read through a
/// descriptor after the name went. A file that did not exist is created with `O_EXCL`,
/// so a link planted after the status is never opened.
pub fn write_regular(located: &Located, data: &[u8]) -> Result<(), Failure> {
    if located.name.is_empty() || located.is_dir() {
        return Err(Failure::Directory);
    }
    let name = located.name.as_slice();
    let flags =
        OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let open_failure = |errno: Errno| match errno {
        Errno::LOOP => Failure::Denied(Denial::Symlink),
        other => other.into(),
    };
    let mut attempts = 0;
    // The file opened, and the status it must match when it existed before the open.
    let (fd, checked) = loop {
        let checked = match rfs::statat(&located.dir, name, rfs::AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Some(stat),
            Err(Errno::NOENT) => None,
            Err(errno) => return Err(errno.into()),
        };
        let opened = match &checked {
            None => rfs::openat(
                &located.dir,
                name,
                flags | OFlags::CREATE | OFlags::EXCL,
                Mode::from_raw_mode(0o666),
            ),
            Some(stat) => {
                check_regular_stat(stat)?;
                rfs::openat(&located.dir, name, flags, Mode::empty())
            }
        };
        match (opened, &checked) {
            (Ok(fd), _) => break (fd, checked),
            // Something appeared at the name since its status was read (the create
            // found it) or went away (the open missed it): look again; a name that
            // keeps changing is refused.
            (Err(Errno::EXIST), None) | (Err(Errno::NOENT), Some(_)) => {}
            (Err(errno), _) => return Err(open_failure(errno)),
        }
        attempts += 1;
        if attempts == MAX_WRITE_ATTEMPTS {
            return Err(Failure::Denied(Denial::Symlink));
        }
    };
    let opened = rfs::fstat(&fd)?;
    if checked.is_some_and(|stat| !same_file(&stat, &opened)) {
        // Swapped between the status and the open: refuse.
        return Err(Failure::Denied(Denial::Symlink));
    }
    check_regular(fd.as_fd(), &opened)?;
    rfs::ftruncate(&fd, 0)?;
    let mut file = std::fs::File::from(fd);
    file.write_all(data).map_err(io_failure)?;
    Ok(())
}

/// The absolute path of a directory that [`Resolver::locate`] found below `root` (for
/// handing a child process its working directory): the root's canonical path followed
/// by the components walked. `None` when the root has no canonical path.
pub fn absolute_path(root: &Root, components: &[Vec<u8>]) -> Option<PathBuf> {
    let mut all = root.canonical.clone()?;
    all.extend(components.iter().cloned());
    let mut bytes = b"/".to_vec();
    bytes.extend(join_components(&all));
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn comps(path: &str) -> Vec<Vec<u8>> {
        lexical_components(path.as_bytes()).unwrap()
    }

    struct Fixture {
        _temp: tempfile::TempDir,
        base: PathBuf,
        outside: PathBuf,
    }

    fn fixture() -> Fixture {
        let temp = tempfile::tempdir().unwrap();
        let base = temp.path().canonicalize().unwrap().join("project");
        let outside = temp.path().canonicalize().unwrap().join("outside");
        std::fs::create_dir_all(base.join("sub/deeper")).unwrap();
        std::fs::create_dir_all(base.join("out")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(base.join("data.txt"), "DATA").unwrap();
        std::fs::write(base.join("sub/nested.txt"), "NESTED").unwrap();
        std::fs::write(base.join(".hidden.txt"), "HIDDEN").unwrap();
        std::fs::write(outside.join("canary.txt"), "CANARY").unwrap();
        symlink(outside.join("canary.txt"), base.join("to-canary")).unwrap();
        symlink(&outside, base.join("to-outside")).unwrap();
        symlink("data.txt", base.join("to-data")).unwrap();
        symlink(".hidden.txt", base.join("to-hidden")).unwrap();
        symlink("sub/../../outside/canary.txt", base.join("dotdot-link")).unwrap();
        symlink("/proc/self/root/etc/hostname", base.join("proc-root")).unwrap();
        symlink("loop-b", base.join("loop-a")).unwrap();
        symlink("loop-a", base.join("loop-b")).unwrap();
        std::fs::write(outside.join("linked.txt"), "LINKED").unwrap();
        std::fs::hard_link(outside.join("linked.txt"), base.join("hard.txt")).unwrap();
        Fixture {
            _temp: temp,
            base,
            outside,
        }
    }

    fn read(resolver: Resolver, roots: &[Root], path: &str) -> Result<Vec<u8>, Failure> {
        let located = resolver.locate(roots, 0, comps(path))?;
        read_regular(&located, 1 << 20)
    }

    fn both(rules: Rules) -> [Resolver; 2] {
        let resolver = Resolver::new(rules);
        [resolver, resolver.walk_only()]
    }

    const STRICT: Rules = Rules {
        allow_symlinks: false,
        deny_hidden: true,
    };
    const LINKS: Rules = Rules {
        allow_symlinks: true,
        deny_hidden: true,
    };

    #[test]
    fn plain_reads_and_missing_files() {
        let f = fixture();
        let roots = [Root::open(".", &f.base, STRICT)];
        for resolver in both(STRICT) {
            assert_eq!(read(resolver, &roots, "data.txt").unwrap(), b"DATA");
            assert_eq!(read(resolver, &roots, "sub/nested.txt").unwrap(), b"NESTED");
            assert_eq!(read(resolver, &roots, "nothere"), Err(Failure::Os(2)));
            assert_eq!(read(resolver, &roots, "sub"), Err(Failure::Directory));
            assert_eq!(read(resolver, &roots, "data.txt/x"), Err(Failure::Os(20)));
        }
    }

    #[test]
    fn symlinks_are_refused_without_allow_symlinks() {
        let f = fixture();
        let roots = [Root::open(".", &f.base, STRICT)];
        for resolver in both(STRICT) {
            for path in [
                "to-canary",
                "to-outside/canary.txt",
                "to-data",
                "to-hidden",
                "dotdot-link",
                "proc-root",
                "loop-a",
            ] {
                assert_eq!(
                    read(resolver, &roots, path),
                    Err(Failure::Denied(Denial::Symlink)),
                    "{path}"
                );
            }
            assert_eq!(
                read(resolver, &roots, "hard.txt"),
                Err(Failure::Denied(Denial::HardLink))
            );
        }
    }

    #[test]
    fn allowed_symlinks_must_stay_inside_a_root() {
        let f = fixture();
        let roots = [Root::open(".", &f.base, LINKS)];
        let resolver = Resolver::new(LINKS);
        assert_eq!(read(resolver, &roots, "to-data").unwrap(), b"DATA");
        for path in [
            "to-canary",
            "to-outside/canary.txt",
            "dotdot-link",
            "proc-root",
            "loop-a",
        ] {
            assert_eq!(
                read(resolver, &roots, path),
                Err(Failure::Denied(Denial::Symlink)),
                "{path}"
            );
        }
        assert_eq!(
            read(resolver, &roots, "to-hidden"),
            Err(Failure::Denied(Denial::Hidden))
        );
        // A second root makes the outside target reachable.
        let roots = [
            Root::open(".", &f.base, LINKS),
            Root::open(f.outside.to_str().unwrap(), &f.base, LINKS),
        ];
        assert_eq!(read(resolver, &roots, "to-canary").unwrap(), b"CANARY");
    }

    #[test]
    fn special_files_are_refused() {
        let f = fixture();
        rfs::mknodat(
            rfs::CWD,
            f.base.join("fifo"),
            FileType::Fifo,
            Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        let roots = [
            Root::open(".", &f.base, STRICT),
            Root::open("/", &f.base, STRICT),
        ];
        for resolver in both(STRICT) {
            assert_eq!(
                read(resolver, &roots, "fifo"),
                Err(Failure::Denied(Denial::NotRegular))
            );
            let environ = format!("proc/{}/environ", std::process::id());
            let located = resolver.locate(&roots, 1, comps(&environ)).unwrap();
            assert_eq!(
                read_regular(&located, 1 << 20),
                Err(Failure::Denied(Denial::NotRegular))
            );
            let located = resolver.locate(&roots, 1, comps("dev/zero")).unwrap();
            assert_eq!(
                read_regular(&located, 1 << 20),
                Err(Failure::Denied(Denial::NotRegular))
            );
        }
    }

    #[test]
    fn writes_do_not_follow_links() {
        let f = fixture();
        std::fs::create_dir_all(f.base.join("out")).unwrap();
        symlink(f.outside.join("new.txt"), f.base.join("out/new-link")).unwrap();
        symlink(f.outside.join("canary.txt"), f.base.join("out/old-link")).unwrap();
        std::fs::hard_link(f.outside.join("canary.txt"), f.base.join("out/hard.txt")).unwrap();
        let roots = [Root::open("out", &f.base, STRICT)];
        for resolver in both(STRICT) {
            let write = |path: &str| {
                let located = resolver.locate(&roots, 0, comps(path))?;
                write_regular(&located, b"X")
            };
            assert_eq!(write("w.txt"), Ok(()));
            assert_eq!(std::fs::read(f.base.join("out/w.txt")).unwrap(), b"X");
            assert_eq!(write("new-link"), Err(Failure::Denied(Denial::Symlink)));
            assert_eq!(write("old-link"), Err(Failure::Denied(Denial::Symlink)));
            assert_eq!(write("hard.txt"), Err(Failure::Denied(Denial::HardLink)));
            assert_eq!(write("missing/x"), Err(Failure::Os(2)));
        }
        assert!(!f.outside.join("new.txt").exists());
        assert_eq!(
            std::fs::read(f.outside.join("canary.txt")).unwrap(),
            b"CANARY"
        );
    }

    #[test]
    fn a_symlinked_relative_root_grants_nothing() {
        let f = fixture();
        let root = Root::open("to-outside", &f.base, STRICT);
        assert!(root.dir().is_none());
        let root = Root::open("sub/", &f.base, STRICT);
        assert!(root.dir().is_some());
        assert_eq!(root.shown(b"nested.txt"), b"sub/nested.txt");
        assert_eq!(root.shown(b"sub/nested.txt"), b"sub/nested.txt");
        let root = Root::open("/", &f.base, STRICT);
        assert_eq!(root.shown(b"etc/hostname"), b"/etc/hostname");
        let root = Root::open(".", &f.base, STRICT);
        assert_eq!(root.shown(b"data.txt"), b"./data.txt");
    }

    #[test]
    fn lexical_helpers() {
        assert_eq!(lexical_components(b"a/./b//c/"), Some(comps("a/b/c")));
        assert_eq!(lexical_components(b"a/../.."), None);
        let base = comps("/r/sub");
        assert_eq!(lexical_join(&base, b"../x"), comps("/r/x"));
        assert_eq!(lexical_join(&base, b"/etc/../../y"), comps("/y"));
    }
}
