//! Where live sessions put their socket (and a report its console logs when the user keeps
//! none): a fresh private directory per use, made by `tempfile` (mode 0700, a name nobody can
//! guess) under `$XDG_RUNTIME_DIR`, else the temp directory. It holds `pid` (the `vitro` that
//! owns it) and `session.sock` or the console logs. Directories of runs that died
//! without cleaning up (their `vitro` is gone) are removed when the next session starts; nothing
//! else is ever deleted.

use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::plugin::reaper::Held;

/// Prefix of every session directory's name.
pub const PREFIX: &str = "vitro-session-";

/// The directory session directories go in.
pub fn base() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute() && dir.is_dir())
        .unwrap_or_else(std::env::temp_dir)
}

/// A fresh private directory of this run, held by the reaper (which removes it if `vitro` is
/// killed); removed, and let go, when dropped.
pub struct PrivateDir {
    path: PathBuf,
}

impl PrivateDir {
    /// Removes dead runs' directories under [`base`], then makes a fresh one for this run.
    pub fn create() -> io::Result<Self> {
        let base = base();
        remove_stale(&base);
        let path = make_temp_dir(&base)?;
        std::fs::write(path.join("pid"), std::process::id().to_string())?;
        crate::plugin::reaper::hold(&Held::Dir(path.clone()));
        Ok(Self { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
        crate::plugin::reaper::release(&Held::Dir(self.path.clone()));
    }
}

/// A new directory under `base`, mode 0700 (only its owner may enter), named `PREFIX` and six
/// random characters.
fn make_temp_dir(base: &Path) -> io::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new()
        .prefix(PREFIX)
        .rand_bytes(6)
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir_in(base)?;
    Ok(dir.keep())
}

/// Removes session directories under `base` that belong to this user and whose `vitro` is gone.
pub fn remove_stale(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else { return };
    // SAFETY: getuid cannot fail.
    let me = unsafe { libc::getuid() };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(suffix) = name.as_bytes().strip_prefix(PREFIX.as_bytes()) else { continue };
        let Ok(meta) = entry.path().symlink_metadata() else { continue };
        if !meta.is_dir() || meta.uid() != me {
            continue;
        }
        // Runs before this layout named the directory after their pid and wrote no `pid` file.
        let pid = std::fs::read_to_string(entry.path().join("pid"))
            .ok()
            .or_else(|| std::str::from_utf8(suffix).ok().map(str::to_owned))
            .and_then(|text| text.trim().parse::<i32>().ok());
        if pid.is_some_and(|pid| pid > 0 && !alive(pid)) {
            tracing::debug!("removing the session directory of a dead run: {}", entry.path().display());
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let exists = unsafe { libc::kill(pid, 0) } == 0;
    exists || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_private_directory_each_time_and_only_dead_runs_are_removed() {
        use std::os::unix::fs::PermissionsExt;
        let base = std::env::temp_dir().join(format!("vitro-session-dir-test-{}", std::process::id()));
        std::fs::create_dir_all(&base).unwrap();
        let a = make_temp_dir(&base).unwrap();
        let b = make_temp_dir(&base).unwrap();
        assert_ne!(a, b);
        assert_eq!(std::fs::metadata(&a).unwrap().permissions().mode() & 0o777, 0o700);
        std::fs::write(a.join("pid"), std::process::id().to_string()).unwrap();
        // A pid that cannot exist (above the kernel's limit) stands for a dead run.
        std::fs::write(b.join("pid"), "2147483646").unwrap();
        let other = base.join("not-a-session");
        std::fs::create_dir(&other).unwrap();
        remove_stale(&base);
        assert!(a.exists(), "a live run's directory is kept");
        assert!(!b.exists(), "a dead run's directory is removed");
        assert!(other.exists(), "other directories are never touched");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
