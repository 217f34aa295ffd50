//! What `vitro lab ...` shows and changes: boards, the queue, history, forced release,
//! quarantine, import.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;
use sqlx::Row;

use crate::error::LabError;
use crate::holder::Holder;
use crate::lease::{self, json_text, load_boards, load_leases, load_queue, parse_holder};
use crate::store::Store;
use crate::time::format;

/// A board's state, holder and health.
#[derive(Debug, Clone, Serialize)]
pub struct BoardView {
    pub name: String,
    /// `free`, `held` or `quarantined`.
    pub state: &'static str,
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

/// Every board, lapsed leases freed first.
pub async fn boards(store: &Store) -> Result<Vec<BoardView>, LabError> {
    let mut tx = store.write().await?;
    let now = store.now(&mut tx).await?;
    lease::expire(store, &mut tx, now).await?;
    let leases = load_leases(store, &mut tx).await?;
    let rows = sqlx::query(
        "SELECT name, failures, last_outcome, last_error, quarantine_reason FROM lab_boards ORDER BY name",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(|e| store.error(e))?;
    tx.commit().await.map_err(|e| store.error(e))?;
    rows.iter()
        .map(|row| {
            let name: String = row.try_get(0)?;
            let lease = leases.iter().find(|l| l.board == name);
            let quarantine_reason: Option<String> = row.try_get(4)?;
            Ok(BoardView {
                state: match (&quarantine_reason, lease) {
                    (Some(_), _) => "quarantined",
                    (None, Some(_)) => "held",
                    (None, None) => "free",
                },
                holder: lease.map(|l| l.holder.clone()),
                since: lease.map(|l| format(l.acquired_at)),
                lease_end: lease.map(|l| format(l.expires_at)),
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

/// The waiters, first first.
pub async fn queue(store: &Store) -> Result<Vec<QueueView>, LabError> {
    let mut tx = store.write().await?;
    let now = store.now(&mut tx).await?;
    lease::expire(store, &mut tx, now).await?;
    let queue = load_queue(store, &mut tx).await?;
    tx.commit().await.map_err(|e| store.error(e))?;
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

/// Takes a board from its holder at once (the holder's next renewal finds it gone); answers the
/// holder it had.
pub async fn force_release(store: &Store, board: &str, by: &Holder) -> Result<Holder, LabError> {
    known_board(store, board).await?;
    let mut tx = store.write().await?;
    let now = store.now(&mut tx).await?;
    let Some(lease) = load_leases(store, &mut tx).await?.into_iter().find(|l| l.board == board) else {
        return Err(LabError::Refused(format!("board {board} is not held; nothing to release")));
    };
    sqlx::query("DELETE FROM lab_leases WHERE board = $1")
        .bind(board)
        .execute(&mut *tx)
        .await
        .map_err(|e| store.error(e))?;
    sqlx::query(
        "INSERT INTO lab_history (board, holder, acquired_at, ended_at, outcome, error) VALUES ($1, $2, $3, $4, 'forced', $5)",
    )
    .bind(board)
    .bind(json_text(&lease.holder))
    .bind(lease.acquired_at)
    .bind(now)
    .bind(format!("released with --force by {by}"))
    .execute(&mut *tx)
    .await
    .map_err(|e| store.error(e))?;
    lease::assign_free(store, &mut tx, now).await?;
    tx.commit().await.map_err(|e| store.error(e))?;
    Ok(lease.holder)
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
    if let Some((name, _)) = boards.iter().find(|(_, entry)| !entry.is_object()) {
        return Err(LabError::Config(format!(
            "{}: board {name:?}: its entry must be an object ({{\"devices\": [...]}})",
            path.display()
        )));
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
