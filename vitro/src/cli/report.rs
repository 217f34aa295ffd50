//! Deployment reports on disk: `--report FILE` (HTML for `.html`/`.htm`, JSON otherwise) and
//! `vitro report FILE.json -o FILE.html`, which renders an earlier JSON report.

use std::path::Path;
use std::process::ExitCode;

use super::Error;
use crate::lifecycle::html;
use crate::lifecycle::report::Report;

/// The text of `report` for `path`: HTML when its name ends in `.html` or `.htm`, else JSON.
pub(super) fn text(report: &Report, path: &Path) -> Result<String, String> {
    if is_html(path) {
        Ok(html::render(report))
    } else {
        Ok(serde_json::to_string_pretty(report).map_err(|e| e.to_string())? + "\n")
    }
}

/// Fails, before anything is deployed, when `path` cannot take a report: its directory is
/// missing or not writable, or it is a directory.
pub(super) fn check_writable(path: &Path) -> Result<(), String> {
    let dir = directory_of(path);
    if path.is_dir() {
        return Err(format!("--report {}: is a directory; give a file name in it", path.display()));
    }
    if !dir.is_dir() {
        return Err(format!(
            "--report {}: the directory {} does not exist; create it first (mkdir -p {})",
            path.display(),
            dir.display(),
            dir.display()
        ));
    }
    if is_special(path) {
        return Ok(());
    }
    temp_beside(path)
        .map(drop)
        .map_err(|e| format!("--report {}: cannot write in {}: {e}", path.display(), dir.display()))
}

/// Writes `text` to `path` whole or not at all: into a file beside it, renamed over it when
/// complete (a process killed meanwhile leaves the old file, never half a report). A FIFO or a
/// device (`/dev/stdout`) is written in place.
pub(super) fn write_whole(path: &Path, text: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if is_special(path) {
        return std::fs::write(path, text);
    }
    let mut file = temp_beside(path)?;
    file.write_all(text)?;
    file.as_file().sync_data()?;
    file.persist(path).map(drop).map_err(|e| e.error)
}

/// A new file in `path`'s directory, removed when dropped unless persisted: where a report is
/// written before it is renamed over `path` (and how its directory is found writable).
fn temp_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new().prefix(".vitro-report-").tempfile_in(directory_of(path))
}

/// The directory `path` is in (`.` for a bare name).
fn directory_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Whether `path` exists as something other than a regular file (a FIFO, a device).
pub(super) fn is_special(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file())
}

fn is_html(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
}

/// Whether `a` and `b` are one file (a link or another spelling of the same path included).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// `vitro report FILE.json [-o FILE.html]`: the page of an earlier JSON report (on stdout
/// without `-o`).
pub(super) fn render(input: &Path, output: Option<&Path>) -> Result<ExitCode, Error> {
    let text = std::fs::read_to_string(input)
        .map_err(|e| Error::Failed(format!("cannot read the report {}: {e}", input.display())))?;
    let report: Report = serde_json::from_str(&text).map_err(|e| {
        Error::Failed(format!(
            "{}:{}:{}: not a vitro report: {e}; give the JSON file that `vitro --report FILE.json` wrote",
            input.display(),
            e.line(),
            e.column()
        ))
    })?;
    let page = html::render(&report);
    match output {
        Some(path) => {
            if same_file(input, path) {
                return Err(Error::Usage(format!(
                    "-o {} is the report being read; give another file, e.g. -o {}",
                    path.display(),
                    input.with_extension("html").display()
                )));
            }
            write_whole(path, page.as_bytes())
                .map_err(|e| Error::Failed(format!("cannot write {}: {e}", path.display())))?;
            Ok(ExitCode::SUCCESS)
        }
        None => super::print_all(page.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_picks_html() {
        for (name, html) in [("r.html", true), ("r.HTM", true), ("r.json", false), ("report", false)] {
            assert_eq!(is_html(Path::new(name)), html, "{name}");
        }
    }
}
