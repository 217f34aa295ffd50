//! `vitro X ...` for a subcommand `vitro` does not have runs `vitro-X ...` from PATH, as git and
//! cargo do, so that tools ship their own commands (`vitro lab ...` is `vitro-lab`).

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::CommandFactory;

use super::{Cli, EXIT_FAILURE};

/// The program `argv` asks for when its first word names no subcommand of `vitro` but a
/// `vitro-<word>` on PATH (plugins, `vitro-plugin-*`, are not commands).
pub fn external_command(argv: &[String], path: &OsStr) -> Option<PathBuf> {
    let word = argv.get(1)?;
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if word.starts_with('-') || word.starts_with("plugin-") || !word.chars().all(plain) {
        return None;
    }
    let command = Cli::command();
    let known =
        command.get_subcommands().any(|s| s.get_name() == word || s.get_all_aliases().any(|a| a == word));
    if known || word == "help" {
        return None;
    }
    std::env::split_paths(path).map(|dir| dir.join(format!("vitro-{word}"))).find(|candidate| {
        std::fs::metadata(candidate).is_ok_and(|m| {
            m.is_file() && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
        })
    })
}

/// Replaces this process with `program` and the rest of `argv`; returns only when that fails.
pub fn exec(program: &std::path::Path, argv: &[String]) -> ExitCode {
    let error = crate::plugin::spawn::exec_program(program, &argv[2..]);
    eprintln!("error: cannot run {}: {error}", program.display());
    ExitCode::from(EXIT_FAILURE)
}
