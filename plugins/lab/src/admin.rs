//! What `vitro lab ...` shows and changes: boards, the queue, history, forced release,
//! quarantine, import.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;
use sqlx::Row;

use crate::error::LabError;
use crate::holder::Holder;
use crate::lease::{self, json_text, load_boards, parse_holder};
use crate::store::Store;
use crate::time::format;

/// A board's state, holder and health.
#[derive(Debug, Clone, Serialize)]
pub struct BoardView {
    pub name: String,
    /// `free`, `held` or `quarantined`.
    pub state: &'static str,
    /// The ticket of its lease (`vitro lab release BOARD --force --ticket N` frees that one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<Holder>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_end: Option<String>,
    /// Failed deployments in a row.
    pub failures: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_outcome: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quarantine_reason: Option<String>,
}

/// A place in the queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueueView {
    pub position: usize,
    pub ticket: i64,
    /// `board b1`, `any board`, `a board with model=virt`.
    pub wants: String,
    pub priority: i64,
    pub holder: Holder,
    pub since: String,
}

/// One ended lease.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryView {
    pub board: String,
    pub holder: Holder,
    pub acquired_at: String,
    pub ended_at: String,
    /// `success`, `failed`, `interrupted`, `expired` or `forced`.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Every board, read without writing (a viewer's read-only store does): a lease that lapsed
/// shows as free, as the next look at the lab will make it.
pub async fn boards(store: &Store) -> Result<Vec<BoardView>, LabError> {
    let now = store.read_now().await?;
    let leases = sqlx::query("SELECT board, ticket, holder, acquired_at, expires_at FROM lab_leases")
        .fetch_all(store.pool())
        .await
        .map_err(|e| store.error(e))?;
    let rows = sqlx::query(
        "SELECT name, failures, last_outcome, last_error, quarantine_reason FROM lab_boards ORDER BY name",
    )
    .fetch_all(store.pool())
    .await
    .map_err(|e| store.error(e))?;
    let lease_of = |name: &str| -> Result<Option<(i64, Holder, i64, i64)>, sqlx::Error> {
        for lease in &leases {
            if lease.try_get::<String, _>(0)? == name && lease.try_get::<i64, _>(4)? >= now {
                let holder = parse_holder(&lease.try_get::<String, _>(2)?);
                return Ok(Some((lease.try_get(1)?, holder, lease.try_get(3)?, lease.try_get(4)?)));
            }
        }
        Ok(None)
    };
    rows.iter()
        .map(|row| {
            let name: String = row.try_get(0)?;
            let lease = lease_of(&name)?;
            let quarantine_reason: Option<String> = row.try_get(4)?;
            Ok(BoardView {
                state: match (&quarantine_reason, &lease) {
                    (Some(_), _) => "quarantined",
                    (None, Some(_)) => "held",
                    (None, None) => "free",
                },
                ticket: lease.as_ref().map(|l| l.0),
                since: lease.as_ref().map(|l| format(l.2)),
                lease_end: lease.as_ref().map(|l| format(l.3)),
                holder: lease.map(|l| l.1),
                failures: row.try_get(1)?,
                last_outcome: row.try_get(2)?,
                last_error: row.try_get(3)?,
                quarantine_reason,
                name,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(|e| store.error(e))
}

/// The waiters, first first, read without writing; places that lapsed are left out.
pub async fn queue(store: &Store) -> Result<Vec<QueueView>, LabError> {
    let now = store.read_now().await?;
    let queue = lease::read_queue(store, now).await?;
    Ok(queue
        .into_iter()
        .enumerate()
        .map(|(index, entry)| QueueView {
            position: index + 1,
            ticket: entry.ticket,
            wants: entry.request.describe(),
            priority: entry.request.priority,
            holder: parse_holder(&entry.holder),
            since: format(entry.since),
        })
        .collect())
}

/// A board's ended leases, newest first.
pub async fn history(store: &Store, board: &str, limit: i64) -> Result<Vec<HistoryView>, LabError> {
    known_board(store, board).await?;
    let rows = sqlx::query(
        "SELECT board, holder, acquired_at, ended_at, outcome, error FROM lab_history \
         WHERE board = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(board)
    .bind(limit)
    .fetch_all(store.pool())
    .await
    .map_err(|e| store.error(e))?;
    rows.iter()
        .map(|row| {
            Ok(HistoryView {
                board: row.try_get(0)?,
                holder: parse_holder(&row.try_get::<String, _>(1)?),
                acquired_at: format(row.try_get(2)?),
                ended_at: format(row.try_get(3)?),
                outcome: row.try_get(4)?,
                error: row.try_get(5)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(|e| store.error(e))
}

/// What a forced release freed.
#[derive(Debug, Clone, Serialize)]
pub struct Forced {
    pub board: String,
    /// The ticket of the lease it freed.
    pub ticket: i64,
    pub released_from: Holder,
}

/// Takes a board from its holder at once (the holder's next renewal finds it gone): the lease
/// of `ticket`, or the one on the board when this looks. It frees that lease once and never a
/// lease granted after it looked, so two admins' releases (or a repeated one) free one lease.
pub async fn force_release(
    store: &Store,
    board: &str,
    ticket: Option<i64>,
    by: &Holder,
) -> Result<Forced, LabError> {
    known_board(store, board).await?;
    let lease = sqlx::query("SELECT ticket, holder, acquired_at FROM lab_leases WHERE board = $1")
        .bind(board)
        .fetch_optional(store.pool())
        .await
        .map_err(|e| store.error(e))?;
    let Some(lease) = lease else {
        return Err(LabError::Refused(format!("board {board} is not held; nothing to release")));
    };
    let held: i64 = lease.try_get(0).map_err(|e| store.error(e))?;
    let ticket = ticket.unwrap_or(held);
    if ticket != held {
        return Err(LabError::Refused(format!(
            "board {board} is held under ticket {held}, not {ticket}: the lease of ticket {ticket} has \
             already ended; `vitro lab boards` shows who holds it now"
        )));
    }
    let mut tx = store.write().await?;
    let now = store.now(&mut tx).await?;
    let freed = sqlx::query("DELETE FROM lab_leases WHERE board = $1 AND ticket = $2")
        .bind(board)
        .bind(ticket)
        .execute(&mut *tx)
        .await
        .map_err(|e| store.error(e))?;
    if freed.rows_affected() == 0 {
        return Err(LabError::Refused(format!(
            "the lease of ticket {ticket} on board {board} ended while this looked (released, lapsed or \
             forced by another); nothing was released; `vitro lab boards` shows who holds it now"
        )));
    }
    let holder = parse_holder(&lease.try_get::<String, _>(1).map_err(|e| store.error(e))?);
    sqlx::query(
        "INSERT INTO lab_history (board, holder, acquired_at, ended_at, outcome, error) VALUES ($1, $2, $3, $4, 'forced', $5)",
    )
    .bind(board)
    .bind(json_text(&holder))
    .bind(lease.try_get::<i64, _>(2).map_err(|e| store.error(e))?)
    .bind(now)
    .bind(format!("released with --force by {by}"))
    .execute(&mut *tx)
    .await
    .map_err(|e| store.error(e))?;
    lease::assign_free(store, &mut tx, now).await?;
    tx.commit().await.map_err(|e| store.error(e))?;
    Ok(Forced { board: board.to_owned(), ticket, released_from: holder })
}

/// Takes a board out of service (a holder keeps it until it releases).
pub async fn quarantine(store: &Store, board: &str, reason: &str) -> Result<(), LabError> {
    set_quarantine(store, board, Some(reason)).await
}

/// Puts a board back in service with a clean failure count.
pub async fn unquarantine(store: &Store, board: &str) -> Result<(), LabError> {
    set_quarantine(store, board, None).await
}

async fn set_quarantine(store: &Store, board: &str, reason: Option<&str>) -> Result<(), LabError> {
    known_board(store, board).await?;
    let mut tx = store.write().await?;
    let now = store.now(&mut tx).await?;
    let sql = match reason {
        Some(_) => "UPDATE lab_boards SET quarantine_reason = $1, quarantined_at = $2 WHERE name = $3",
        None => {
            "UPDATE lab_boards SET quarantine_reason = $1, quarantined_at = $2, failures = 0 WHERE name = $3"
        }
    };
    sqlx::query(sql)
        .bind(reason.map(str::to_owned))
        .bind(reason.map(|_| now))
        .bind(board)
        .execute(&mut *tx)
        .await
        .map_err(|e| store.error(e))?;
    lease::assign_free(store, &mut tx, now).await?;
    store.notify_changed(&mut tx).await?;
    tx.commit().await.map_err(|e| store.error(e))
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Imported {
    pub added: Vec<String>,
    pub updated: Vec<String>,
}

/// Adds or updates the boards of a Python Vitro inventory file (board name -> entry). Boards
/// not in the file stay.
pub async fn import(store: &Store, path: &Path) -> Result<Imported, LabError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| LabError::Config(format!("{}: cannot read the inventory: {e}", path.display())))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        LabError::Config(format!(
            "{}:{}:{}: not JSON: {e}; an inventory maps board names to their entries",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    let Value::Object(boards) = value else {
        return Err(LabError::Config(format!(
            "{}: an inventory is a JSON object of boards ({{\"board-1\": {{\"devices\": [...]}}}})",
            path.display()
        )));
    };
    // Each entry's place in the file, for the errors below (the text parsed above, so this does).
    let entries: std::collections::BTreeMap<String, &serde_json::value::RawValue> =
        serde_json::from_str(&text).unwrap_or_default();
    let place = |name: &str| {
        let offset = entries.get(name).map_or(0, |raw| raw.get().as_ptr() as usize - text.as_ptr() as usize);
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!("{}:{line}:{column}", path.display())
    };
    for (name, entry) in &boards {
        if let Err(why) = check_board_name(name) {
            return Err(LabError::Config(format!(
                "{}: board {:?}: {why}; a board name is {BOARD_NAME_RULE}; rename it in the file (nothing was imported)",
                place(name),
                vitro_sdk::protocol::names::printable(&truncated(name)),
            )));
        }
        if !entry.is_object() {
            return Err(LabError::Config(format!(
                "{}: board {name:?}: its entry must be an object ({{\"devices\": [...]}}) (nothing was imported)",
                place(name)
            )));
        }
    }
    let mut tx = store.write().await?;
    let now = store.now(&mut tx).await?;
    let known: Vec<String> = load_boards(store, &mut tx).await?.into_iter().map(|b| b.name).collect();
    let mut imported = Imported::default();
    for (name, entry) in &boards {
        sqlx::query(
            "INSERT INTO lab_boards (name, inventory) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET inventory = excluded.inventory",
        )
        .bind(name)
        .bind(json_text(entry))
        .execute(&mut *tx)
        .await
        .map_err(|e| store.error(e))?;
        if known.contains(name) {
            imported.updated.push(name.clone());
        } else {
            imported.added.push(name.clone());
        }
    }
    lease::assign_free(store, &mut tx, now).await?;
    store.notify_changed(&mut tx).await?;
    tx.commit().await.map_err(|e| store.error(e))?;
    Ok(imported)
}

/// What a board name may hold, for messages.
pub const BOARD_NAME_RULE: &str =
    "1 to 128 characters, without control characters (newlines, escapes, NUL) or spaces at either end";

/// Why `name` is no board name, if it is not: it is shown on terminals, kept in the store
/// (PostgreSQL refuses NUL) and given to jobs as `VITRO_BOARD`.
fn check_board_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("an empty name");
    }
    if name.chars().count() > 128 {
        return Err("too long");
    }
    if name.chars().any(|c| c.is_control() || vitro_sdk::protocol::names::is_format_control(c)) {
        return Err("it holds control characters");
    }
    if name.trim() != name {
        return Err("it starts or ends with a space");
    }
    Ok(())
}

/// The first 40 characters of `name`, for messages.
fn truncated(name: &str) -> String {
    match name.char_indices().nth(40) {
        Some((at, _)) => format!("{}...", &name[..at]),
        None => name.to_owned(),
    }
}

async fn known_board(store: &Store, board: &str) -> Result<(), LabError> {
    let found: Option<String> = sqlx::query_scalar("SELECT name FROM lab_boards WHERE name = $1")
        .bind(board)
        .fetch_optional(store.pool())
        .await
        .map_err(|e| store.error(e))?;
    match found {
        Some(_) => Ok(()),
        None => Err(LabError::Refused(format!(
            "board {board} is not in the lab ({}); `vitro lab boards` lists the boards",
            store.display_url()
        ))),
    }
}
