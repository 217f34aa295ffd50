//! `vitro lab ...` (the program `vitro-lab`): look at the lab and run it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use serde::Serialize;

use crate::admin;
use crate::error::LabError;
use crate::holder::Holder;
use crate::store::Store;
use vitro_sdk::protocol::names::printable_lines;

/// The lab's boards, queue and history, and its admin.
#[derive(Debug, Parser)]
#[command(name = "vitro lab", version, about)]
struct Cli {
    /// The lab's store: postgres://USER@HOST/DB or sqlite://PATH (default: VITRO_LAB_DB, else an
    /// SQLite file in your data directory).
    #[arg(long, global = true, env = "VITRO_LAB_DB", hide_env_values = true)]
    lab_db: Option<String>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Aligned text.
    Text,
    /// One JSON document.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Every board: state, holder, lease end, health.
    Boards,
    /// Who waits for what, first first.
    Queue,
    /// A board's ended leases, newest first.
    History {
        board: String,
        /// At most this many (1 or more).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i64).range(1..))]
        limit: i64,
    },
    /// Free a board now, whoever holds it (the holder is told at its next renewal).
    Release {
        board: String,
        /// Required: this takes the board from a job that may still be running.
        #[arg(long)]
        force: bool,
        /// Free only the lease of this ticket (`vitro lab boards` shows it); without it, the lease
        /// the board has when the command looks. Either way one lease is freed, once.
        #[arg(long)]
        ticket: Option<i64>,
    },
    /// Take a board out of service.
    Quarantine {
        board: String,
        /// Why (shown by `boards`).
        #[arg(long)]
        reason: String,
    },
    /// Put a board back in service, its failure count cleared.
    Unquarantine { board: String },
    /// Add or update the boards of a Python Vitro inventory file (board name -> entry).
    Import { file: PathBuf },
}

/// Runs the command line; errors go to stderr with status 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", printable_lines(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), LabError> {
    let store = Store::open(cli.lab_db.as_deref()).await?;
    let doing = format!("vitro lab {}", cli.command.name());
    store.within(crate::store::DEADLINE, &doing, command(&store, cli.format, cli.command)).await
}

impl Command {
    /// The subcommand's name, for messages.
    fn name(&self) -> &'static str {
        match self {
            Self::Boards => "boards",
            Self::Queue => "queue",
            Self::History { .. } => "history",
            Self::Release { .. } => "release",
            Self::Quarantine { .. } => "quarantine",
            Self::Unquarantine { .. } => "unquarantine",
            Self::Import { .. } => "import",
        }
    }
}

async fn command(store: &Store, format: Format, command: Command) -> Result<(), LabError> {
    match command {
        Command::Boards => {
            let boards = admin::boards(store).await?;
            print(format, &boards, || {
                table(
                    &["BOARD", "STATE", "HOLDER", "LEASE END", "FAILURES", "LAST", "REASON"],
                    boards.iter().map(|b| {
                        vec![
                            b.name.clone(),
                            b.state.to_owned(),
                            b.holder.as_ref().map(ToString::to_string).unwrap_or_default(),
                            b.lease_end.clone().unwrap_or_default(),
                            b.failures.to_string(),
                            b.last_outcome.clone().unwrap_or_default(),
                            b.quarantine_reason.clone().unwrap_or_default(),
                        ]
                    }),
                )
            });
        }
        Command::Queue => {
            let queue = admin::queue(store).await?;
            print(format, &queue, || {
                table(
                    &["#", "WANTS", "PRIORITY", "WAITER", "SINCE"],
                    queue.iter().map(|q| {
                        vec![
                            q.position.to_string(),
                            q.wants.clone(),
                            q.priority.to_string(),
                            q.holder.to_string(),
                            q.since.clone(),
                        ]
                    }),
                )
            });
        }
        Command::History { board, limit } => {
            let history = admin::history(store, &board, limit).await?;
            print(format, &history, || {
                table(
                    &["ACQUIRED", "ENDED", "OUTCOME", "HOLDER", "ERROR"],
                    history.iter().map(|h| {
                        vec![
                            h.acquired_at.clone(),
                            h.ended_at.clone(),
                            h.outcome.clone(),
                            h.holder.to_string(),
                            h.error.clone().unwrap_or_default(),
                        ]
                    }),
                )
            });
        }
        Command::Release { board, force, ticket } => {
            if !force {
                return Err(LabError::Config(format!(
                    "only its holder releases board {board} (at the end of its job, or one lease length after \
                     it died); `vitro lab release {board} --force` takes it from a holder that is still running"
                )));
            }
            let forced = admin::force_release(store, &board, ticket, &Holder::current()).await?;
            print(format, &forced, || {
                format!("board {board} released from {} (ticket {})\n", forced.released_from, forced.ticket)
            });
        }
        Command::Quarantine { board, reason } => {
            admin::quarantine(store, &board, &reason).await?;
            let done = serde_json::json!({"board": board, "quarantined": reason});
            print(format, &done, || format!("board {board} quarantined: {reason}\n"));
        }
        Command::Unquarantine { board } => {
            admin::unquarantine(store, &board).await?;
            let done = serde_json::json!({"board": board, "quarantined": null});
            print(format, &done, || format!("board {board} is back in service\n"));
        }
        Command::Import { file } => {
            let imported = admin::import(store, &file).await?;
            print(format, &imported, || {
                format!(
                    "{}: {} boards added, {} updated in {}\n",
                    file.display(),
                    imported.added.len(),
                    imported.updated.len(),
                    store.display_url()
                )
            });
        }
    }
    Ok(())
}

/// Prints `value` as JSON, or the text that `text` makes.
fn print<T: Serialize>(format: Format, value: &T, text: impl FnOnce() -> String) {
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(value).unwrap_or_default()),
        Format::Text => print!("{}", printable_lines(&text())),
    }
}

/// Columns padded to their widest cell, each cell [printable](vitro_sdk::protocol::names::printable).
fn table(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let printable = |row: Vec<String>| -> Vec<String> {
        row.iter().map(|cell| vitro_sdk::protocol::names::printable(cell).into_owned()).collect()
    };
    let rows: Vec<Vec<String>> = std::iter::once(header.iter().map(|h| (*h).to_owned()).collect())
        .chain(rows.map(printable))
        .collect();
    let widths: Vec<usize> =
        (0..header.len()).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}
