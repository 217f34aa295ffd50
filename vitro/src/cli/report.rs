//! Deployment reports on disk: `--report FILE` (HTML for `.html`/`.htm`, JSON otherwise) and
//! `vitro report FILE.json -o FILE.html`, which renders an earlier JSON report.

use std::path::Path;
use std::process::ExitCode;

use super::Error;
use crate::lifecycle::html;
use crate::lifecycle::report::Report;

/// Writes `report` to `path`, as HTML when its name ends in `.html` or `.htm`, else as JSON.
pub(super) fn write(report: &Report, path: &Path) -> Result<(), String> {
    let text = if is_html(path) {
        html::render(report)
    } else {
        serde_json::to_string_pretty(report).map_err(|e| e.to_string())? + "\n"
    };
    std::fs::write(path, text).map_err(|e| e.to_string())
}

fn is_html(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
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
            std::fs::write(path, page)
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
