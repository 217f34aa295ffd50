//! Finds plugins: executables named `vitro-plugin-<name>` on PATH, first one wins.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// File-name prefix of plugin executables.
pub const PREFIX: &str = "vitro-plugin-";

/// A plugin found on PATH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// `<name>` of `vitro-plugin-<name>`.
    pub name: String,
    /// The executable that wins.
    pub path: PathBuf,
    /// Executables of the same name later on PATH, which are ignored.
    pub shadowed: Vec<PathBuf>,
}

/// What a PATH scan found.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Plugins by name.
    pub plugins: Vec<Found>,
    /// Files named like plugins that are not executable.
    pub not_executable: Vec<PathBuf>,
}

impl Discovery {
    /// One line per thing the user should know: shadowed duplicates and non-executable files.
    pub fn warnings(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for found in &self.plugins {
            for path in &found.shadowed {
                lines.push(format!(
                    "{} is shadowed by {} (earlier on PATH) and is not used",
                    path.display(),
                    found.path.display()
                ));
            }
        }
        for path in &self.not_executable {
            lines.push(format!("{} is not executable and is not used; `chmod +x` it", path.display()));
        }
        lines
    }
}

/// Scans every directory of `path_var` (a PATH value) in order.
pub fn discover(path_var: &OsStr) -> Discovery {
    let mut by_name: BTreeMap<String, Found> = BTreeMap::new();
    let mut discovery = Discovery::default();
    for dir in std::env::split_paths(path_var) {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut files: Vec<_> = entries.flatten().collect();
        files.sort_by_key(|e| e.file_name());
        for entry in files {
            let file_name = entry.file_name();
            let Some(name) = file_name.to_str().and_then(|n| n.strip_prefix(PREFIX)) else { continue };
            // Cargo writes `<bin>.d` dependency files beside the binaries it builds.
            if name.is_empty() || name.ends_with(".d") {
                continue;
            }
            let path = entry.path();
            let Ok(meta) = std::fs::metadata(&path) else { continue };
            if !meta.is_file() {
                continue;
            }
            if meta.permissions().mode() & 0o111 == 0 {
                discovery.not_executable.push(path);
                continue;
            }
            match by_name.get_mut(name) {
                Some(found) => found.shadowed.push(path),
                None => {
                    by_name
                        .insert(name.to_owned(), Found { name: name.to_owned(), path, shadowed: Vec::new() });
                }
            }
        }
    }
    discovery.plugins = by_name.into_values().collect();
    discovery
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn file(path: &std::path::Path, mode: u32) {
        std::fs::write(path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn first_on_path_wins_and_the_rest_is_reported() {
        let root = std::env::temp_dir().join(format!("vitro-discover-{}", std::process::id()));
        let (a, b) = (root.join("a"), root.join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        file(&a.join("vitro-plugin-x"), 0o755);
        file(&b.join("vitro-plugin-x"), 0o755);
        file(&b.join("vitro-plugin-y"), 0o644);
        file(&b.join("vitro-plugin-z"), 0o755);
        file(&b.join("unrelated"), 0o755);
        let path = std::env::join_paths([&a, &b, &root.join("missing")]).unwrap();
        let found = discover(&path);
        let names: Vec<_> = found.plugins.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["x", "z"]);
        assert_eq!(found.plugins[0].path, a.join("vitro-plugin-x"));
        assert_eq!(found.plugins[0].shadowed, [b.join("vitro-plugin-x")]);
        assert_eq!(found.not_executable, [b.join("vitro-plugin-y")]);
        let warnings = found.warnings();
        assert!(warnings[0].contains("is shadowed by"), "{warnings:?}");
        assert!(warnings[1].contains("chmod +x"), "{warnings:?}");
        std::fs::remove_dir_all(root).unwrap();
    }
}
