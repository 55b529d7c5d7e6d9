//! relcon's own files (the operation journal, the audit log and its head, the snapshot and
//! config cache, the log file) are the user's alone: directories 0700 and files 0600, created
//! with those modes (never created looser and chmod-ed after, which leaves a window), and
//! existing looser ones (written by an older relcon under a 022 umask) tightened when opened.
//!
//! A directory with the sticky bit (`/tmp`, given as `--state-dir`) is shared by design and is
//! never tightened. On platforms without Unix modes these are the plain `std::fs` calls.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Directories: the owner only.
pub const DIR_MODE: u32 = 0o700;
/// Files: the owner reads and writes.
pub const FILE_MODE: u32 = 0o600;

/// Create `dir` and any missing parents (each new one 0700), and tighten `dir` itself when it
/// already exists with group or other permissions.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    create_missing_dirs(dir)?;
    tighten(dir, DIR_MODE)
}

/// Create `dir` and any missing parents, each new one 0700; existing ones are left as they
/// are (a directory the user named, not one of relcon's).
pub fn create_missing_dirs(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir)
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// Options that create a file 0600 (add `read`/`write`/`append`/`create`... as needed).
pub fn open_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut o = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(FILE_MODE);
    }
    o
}

/// Open with `options` (made by [`open_options`]) and tighten the file if it already existed
/// looser (the mode only applies when the file is created).
pub fn open(path: &Path, options: &OpenOptions) -> io::Result<File> {
    let file = options.open(path)?;
    tighten_open(&file, FILE_MODE)?;
    Ok(file)
}

/// Write `body` to `path` (created 0600, or truncated and tightened) and fsync it.
pub fn write_synced(path: &Path, body: &[u8]) -> io::Result<()> {
    write_parts_synced(path, &[body])
}

/// [`write_synced`] of the parts one after the other, without joining them first.
fn write_parts_synced(path: &Path, parts: &[&[u8]]) -> io::Result<()> {
    let mut f = open(path, open_options().write(true).create(true).truncate(true))?;
    for part in parts {
        f.write_all(part)?;
    }
    f.sync_all()
}

/// Write `body` to `path` atomically: a 0600 temporary file beside it, fsynced, renamed over
/// `path`, then the directory fsynced so the rename survives a crash. Missing directories are
/// created 0700; an existing one is not changed (see [`create_dir_all`] for relcon's own).
pub fn write_atomic(path: &Path, body: &[u8]) -> io::Result<()> {
    write_atomic_parts(path, &[body])
}

/// [`write_atomic`] of a body in parts (a header, then a large compressed body), written one
/// after the other rather than copied into one buffer first.
pub fn write_atomic_parts(path: &Path, parts: &[&[u8]]) -> io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        create_missing_dirs(dir)?;
    }
    // Two writers (two relcon processes, or two refreshes of one) never share a temporary.
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(path.file_name().unwrap_or_default());
    tmp_name.push(format!(
        ".{}.{}.tmp",
        std::process::id(),
        SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let tmp = path.with_file_name(tmp_name);
    let written = write_parts_synced(&tmp, parts).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return written;
    }
    if let Some(dir) = dir
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Remove group and other permissions from an existing file or directory at `path`.
pub fn tighten(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path)?;
        let current = meta.permissions().mode();
        if current & 0o077 != 0 && current & 0o1000 == 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

fn tighten_open(file: &File, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let current = file.metadata()?.permissions().mode();
        if current & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (file, mode);
    Ok(())
}

/// The permission bits of `path` (tests and `doctor`).
#[cfg(unix)]
pub fn mode(path: &Path) -> io::Result<u32> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::metadata(path)?.permissions().mode() & 0o7777)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn new_directories_and_files_are_the_owners_alone() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("relcon/demo/ops");
        create_dir_all(&dir).unwrap();
        for d in ["relcon", "relcon/demo", "relcon/demo/ops"] {
            assert_eq!(mode(&root.path().join(d)).unwrap(), 0o700, "{d}");
        }
        let file = dir.join("op.json");
        write_atomic(&file, b"{}").unwrap();
        assert_eq!(mode(&file).unwrap(), 0o600);
        assert_eq!(std::fs::read(&file).unwrap(), b"{}");
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(
            left,
            [std::ffi::OsString::from("op.json")],
            "no temporary is left behind"
        );
    }

    #[test]
    fn looser_existing_ones_are_tightened_when_opened() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("state");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let file = dir.join("audit.jsonl");
        std::fs::write(&file, b"x\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        create_dir_all(&dir).unwrap();
        assert_eq!(mode(&dir).unwrap(), 0o700);
        let f = open(&file, open_options().append(true)).unwrap();
        drop(f);
        assert_eq!(mode(&file).unwrap(), 0o600);
        // The file written over a looser one is the owner's alone.
        let head = dir.join("audit.head");
        std::fs::write(&head, b"old").unwrap();
        std::fs::set_permissions(&head, std::fs::Permissions::from_mode(0o666)).unwrap();
        write_atomic(&dir.join("audit.head"), b"new").unwrap();
        assert_eq!(mode(&dir.join("audit.head")).unwrap(), 0o600);
    }

    #[test]
    fn the_cache_is_written_the_users_alone() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("cache/relcon");
        // An older relcon's cache directory, made under a 022 umask.
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let cache = crate::service::cache::Cache::new(Some(dir.clone()));
        cache
            .store_configs("simulator", &std::collections::HashMap::new())
            .unwrap();
        assert_eq!(mode(&dir).unwrap(), 0o700);
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        assert_eq!(mode(&files[0]).unwrap(), 0o600);
    }

    #[test]
    fn a_shared_sticky_directory_is_left_alone() {
        let root = tempfile::tempdir().unwrap();
        let shared = root.path().join("tmp");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        create_dir_all(&shared).unwrap();
        assert_eq!(mode(&shared).unwrap(), 0o1777);
    }
}
