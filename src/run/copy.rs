//! The fresh temporary copy of a fixture that each case runs on.
//!
//! Directories are copied recursively; symlinks are copied **as symlinks** (their target
//! text unchanged, never followed, so a link to `..` is just a link); regular files are
//! copied. Anything else (a FIFO, socket or device) fails the case naming the file:
//! opening a FIFO would block, and a device's bytes are not fixture content. `.x07/`
//! leftovers of a real toolchain run are skipped.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::failure::{CopyFailure, RunnerFailure};

/// Copies the fixture directory `from` to `to` (which must not exist yet).
pub fn copy_fixture(from: &Path, to: &Path) -> Result<(), RunnerFailure> {
    copy_dir(from, to).map_err(|(path, reason)| RunnerFailure::Copy { path, reason })
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> (PathBuf, CopyFailure) + '_ {
    move |error| (path.to_path_buf(), CopyFailure::Io(Arc::new(error)))
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), (PathBuf, CopyFailure)> {
    std::fs::create_dir_all(to).map_err(io(from))?;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let name = entry.file_name();
        if name == ".x07" {
            continue;
        }
        let source = entry.path();
        // `file_type` does not follow symlinks.
        let kind = entry.file_type().map_err(io(&source))?;
        let target = to.join(&name);
        if kind.is_dir() {
            copy_dir(&source, &target)?;
        } else if kind.is_symlink() {
            copy_symlink(&source, &target)?;
        } else if kind.is_file() {
            std::fs::copy(&source, &target).map_err(io(&source))?;
        } else {
            return Err((source, CopyFailure::NotAFile));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn copy_symlink(source: &Path, target: &Path) -> Result<(), (PathBuf, CopyFailure)> {
    let link = std::fs::read_link(source).map_err(io(source))?;
    std::os::unix::fs::symlink(link, target).map_err(io(source))
}

#[cfg(not(unix))]
fn copy_symlink(source: &Path, target: &Path) -> Result<(), (PathBuf, CopyFailure)> {
    // Creating symlinks needs extra privileges on Windows: copy a link to a file as the
    // file; a link to a directory is left out rather than followed.
    if std::fs::metadata(source).is_ok_and(|meta| meta.is_file()) {
        std::fs::copy(source, target).map_err(io(source))?;
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn links_stay_links_and_loops_are_harmless() {
        let dir = tempfile::tempdir().unwrap();
        let fixture = dir.path().join("f");
        std::fs::create_dir_all(fixture.join("sub")).unwrap();
        std::fs::write(fixture.join("sub/a.txt"), "A").unwrap();
        std::fs::create_dir_all(fixture.join(".x07")).unwrap();
        std::os::unix::fs::symlink("..", fixture.join("up")).unwrap();
        std::os::unix::fs::symlink("sub/a.txt", fixture.join("a.link")).unwrap();
        let copy = dir.path().join("copy");
        copy_fixture(&fixture, &copy).unwrap();
        assert_eq!(
            std::fs::read_link(copy.join("up")).unwrap(),
            Path::new("..")
        );
        assert_eq!(std::fs::read_to_string(copy.join("a.link")).unwrap(), "A");
        assert!(!copy.join(".x07").exists());
    }
}
