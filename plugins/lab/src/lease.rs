//! Leases: a fair queue of requests, boards handed over in one serialized transaction, renewed
//! while their holder lives, and freed on release or one TTL after the holder is gone.
//!
//! Fairness: waiters are served by priority (higher first), then in arrival order. Whoever
//! frees or looks at the lab first hands every free board to the first waiter that wants it
//! ([`assign`], in the same transaction), so a board goes to the right waiter at the moment it
//! is free, and that waiter finds its lease on its next look. A waiter ahead that wants only busy
//! boards does not hold back those behind it.

use std::time::Duration;

use serde_json::Value;
use sqlx::{Any, Row, Transaction};

use crate::error::LabError;
use crate::filter::{all_match, Filter};
use crate::holder::Holder;
use crate::store::Store;
use crate::wake::{Wake, Waker};

/// On a store without notifications, how often a waiter looks at the whole lab (it checks for
/// its own grant every poll).
const FULL_LOOK_WHEN_POLLING: Duration = Duration::from_secs(1);

/// What a job asks for.
#[derive(Debug, Clone)]
pub struct Request {
    /// A board by name; `None` takes any board that passes `filters`.
    pub board: Option<String>,
    /// Conditions on the board's inventory.
    pub filters: Vec<Filter>,
    /// Higher is served first.
    pub priority: i64,
    /// How long the lease (and the place in the queue) lasts without renewal.
    pub ttl: Duration,
    /// How long to wait for a board before giving up.
    pub wait: Duration,
}

impl Request {
    fn wants(&self, name: &str, inventory: &Value) -> bool {
        self.board.as_deref().is_none_or(|board| board == name) && all_match(&self.filters, name, inventory)
    }

    /// The request in words, for messages.
    pub fn describe(&self) -> String {
        match (&self.board, self.filters.is_empty()) {
            (Some(board), _) => format!("board {board}"),
            (None, true) => "any board".to_owned(),
            (None, false) => format!("a board with {}", self.filters_text()),
        }
    }

    /// The filters as given: `model=virt,rack=r2`.
    fn filters_text(&self) -> String {
        self.filters.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
    }
}

/// A board held by this process.
#[derive(Debug, Clone)]
pub struct Lease {
    /// The queue ticket the lease was granted to; only its holder renews or releases with it.
    pub ticket: i64,
    /// The board.
    pub board: String,
    /// Its inventory entry.
    pub inventory: Value,
    /// When it was granted (store clock, ms).
    pub acquired_at: i64,
}

/// A board that a waiter wants and someone else holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The board.
    pub board: String,
    /// Its holder.
    pub holder: Holder,
    /// Granted at (ms).
    pub since: i64,
    /// Lease end unless renewed (ms).
    pub until: i64,
}

/// Where a waiter stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitStatus {
    /// 1 for the first in the queue.
    pub position: usize,
    /// How many wait in all.
    pub waiting: usize,
    /// The wanted boards and who holds them.
    pub held: Vec<Held>,
}

/// One attempt's outcome.
enum Step {
    Taken(Lease),
    Wait { status: WaitStatus, next_expiry: Option<i64>, now: i64 },
}

/// What a waiter hears while it waits.
pub enum Progress<'a> {
    /// It has this place in the queue (once, when it joins).
    Queued(i64),
    /// Its place or the holders of the boards it wants changed.
    Waiting(&'a WaitStatus),
    /// The store failed (a restart, a cut connection); it tries again and keeps its place.
    StoreTrouble(&'a LabError),
}

/// The least time a look at the lab gets, however little of the wait is left.
const SHORTEST_LOOK: Duration = Duration::from_secs(2);

/// How long a waiter waits before it tries a failed store again, at most.
const RETRY_AT_MOST: Duration = Duration::from_secs(2);

/// Takes a board for `request`, waiting in the queue as long as `request.wait` allows (every
/// store operation within it too); `on` hears where the waiter stands. A store that fails while
/// the waiter waits is tried again until the wait ends, the place kept.
pub async fn acquire(
    store: &Store,
    request: &Request,
    holder: &Holder,
    mut on: impl FnMut(Progress<'_>),
) -> Result<Lease, LabError> {
    // A wait too long for the clock has no end.
    let deadline = tokio::time::Instant::now().checked_add(request.wait);
    let left =
        || deadline.map_or(Duration::MAX, |d| d.saturating_duration_since(tokio::time::Instant::now()));
    // Each store operation within the wait, but never cut so short that a look at the very end
    // fails (a look cut off in a transaction holds the store's lock until it is rolled back).
    let bounded = |left: Duration| left.max(SHORTEST_LOOK).min(crate::store::DEADLINE);
    // Listen before the first look, so no change between the two is missed.
    let mut slot = store.waker.lock().await;
    let waker = match slot.as_mut() {
        Some(waker) => waker,
        None => slot.insert(store.within(bounded(left()), "listening", Waker::new(store)).await?),
    };
    let mut last: Option<WaitStatus> = None;
    let mut place: Option<i64> = None;
    let mut retry = Duration::from_millis(100);
    loop {
        let looked =
            store.within(bounded(left()), "looking at the lab", look(store, place, request, holder)).await;
        let (ticket, step) = match looked {
            Ok(looked) => looked,
            Err(e @ LabError::Store(_)) if !left().is_zero() => {
                on(Progress::StoreTrouble(&e));
                tokio::time::sleep(retry.min(left())).await;
                retry = (retry * 2).min(RETRY_AT_MOST);
                continue;
            }
            Err(e) => {
                if let Some(ticket) = place {
                    let _ = store
                        .within(crate::store::DEADLINE, "leaving the queue", dequeue(store, ticket))
                        .await;
                }
                return Err(e);
            }
        };
        retry = Duration::from_millis(100);
        let (status, next_expiry, now) = match step {
            Step::Taken(lease) => return Ok(lease),
            Step::Wait { status, next_expiry, now } => (status, next_expiry, now),
        };
        if place.replace(ticket).is_none() {
            on(Progress::Queued(ticket));
            // A grant between the look and the watch was not heard. Should the store fail here,
            // the next full look finds the grant instead.
            let watched = async {
                waker.watch(store, ticket).await?;
                granted_lease(store, ticket).await
            };
            if let Ok(Some(lease)) = store.within(bounded(left()), "listening", watched).await {
                return Ok(lease);
            }
        }
        if last.as_ref() != Some(&status) {
            on(Progress::Waiting(&status));
        }
        let left_now = left();
        if left_now.is_zero() {
            let left_queue = async {
                dequeue(store, ticket).await?;
                granted_lease(store, ticket).await
            };
            // Granted meanwhile: the board is taken after all.
            if let Some(lease) = store.within(crate::store::DEADLINE, "leaving the queue", left_queue).await?
            {
                return Ok(lease);
            }
            return Err(LabError::Timeout(format!(
                "no {} came free within --lab-wait {}: {}",
                request.describe(),
                humantime::format_duration(request.wait),
                describe_wait(&status)
            )));
        }
        // Between two full looks, only this waiter's grant matters: a notification names its
        // ticket (PostgreSQL), or a cheap read finds its lease (polling). The next full look
        // comes at the next lease that may lapse, the queue place's renewal, a change of the
        // lab, or the deadline, whichever is first.
        let until_expiry = next_expiry.map(|at| Duration::from_millis((at - now).max(0) as u64 + 5));
        let mut nap = [left_now, request.ttl / 3].into_iter().chain(until_expiry).min().unwrap_or(left_now);
        if store.polls() {
            nap = nap.min(FULL_LOOK_WHEN_POLLING);
        }
        let look_again = tokio::time::Instant::now() + nap;
        loop {
            let left = look_again.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                break;
            }
            match waker.wait(left).await {
                Wake::Changed => break,
                Wake::Granted | Wake::Elapsed => {
                    // A failed read is only a missed chance: the next full look retries.
                    match store.within(bounded(left), "reading the lease", granted_lease(store, ticket)).await
                    {
                        Ok(Some(lease)) => return Ok(lease),
                        Ok(None) => {}
                        Err(_) => break,
                    }
                }
            }
        }
        last = Some(status);
    }
}

/// The lease granted to `ticket`, if any: a read without the write lock (the lease is this
/// waiter's alone).
async fn granted_lease(store: &Store, ticket: i64) -> Result<Option<Lease>, LabError> {
    let row = sqlx::query(
        "SELECT l.board, b.inventory, l.acquired_at FROM lab_leases l JOIN lab_boards b ON b.name = l.board \
         WHERE l.ticket = $1",
    )
    .bind(ticket)
    .fetch_optional(store.pool())
    .await
    .map_err(|e| store.error(e))?;
    let Some(row) = row else { return Ok(None) };
    let error = |e| store.error(e);
    Ok(Some(Lease {
        ticket,
        board: row.try_get(0).map_err(error)?,
        inventory: serde_json::from_str(&row.try_get::<String, _>(1).map_err(error)?).unwrap_or(Value::Null),
        acquired_at: row.try_get(2).map_err(error)?,
    }))
}

/// The status in words: who holds what, and the place in the queue.
pub fn describe_wait(status: &WaitStatus) -> String {
    let held: Vec<String> = status
        .held
        .iter()
        .map(|h| {
            format!(
                "{} is held by {} since {} until {}",
                h.board,
                h.holder,
                crate::time::format(h.since),
                crate::time::format(h.until)
            )
        })
        .collect();
    let place = format!("place {} of {} in the queue", status.position, status.waiting);
    if held.is_empty() {
        place
    } else {
        format!("{}; {place}", held.join("; "))
    }
}

/// Gives up the place of `ticket` for good, a waiter that ends before it took a board (its
/// job was interrupted): its queue entry goes, and a board granted to it in the meantime goes
/// on to the next waiter (the history says so).
pub async fn abandon(store: &Store, ticket: i64, holder: &Holder) -> Result<(), LabError> {
    store
        .within(crate::store::DEADLINE, "leaving the queue", async {
            let mut tx = store.write().await?;
            let now = store.now(&mut tx).await?;
            sqlx::query("DELETE FROM lab_queue WHERE ticket = $1")
                .bind(ticket)
                .execute(&mut *tx)
                .await
                .map_err(|e| store.error(e))?;
            let granted = sqlx::query("DELETE FROM lab_leases WHERE ticket = $1 RETURNING board, acquired_at")
                .bind(ticket)
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| store.error(e))?;
            if let Some(row) = granted {
                let name: String = row.try_get(0).map_err(|e| store.error(e))?;
                sqlx::query(
                    "INSERT INTO lab_history (board, holder, acquired_at, ended_at, outcome, error) \
                     VALUES ($1, $2, $3, $4, 'interrupted', 'the job ended before it took the board it was granted')",
                )
                .bind(&name)
                .bind(json_text(holder))
                .bind(row.try_get::<i64, _>(1).map_err(|e| store.error(e))?)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| store.error(e))?;
                assign_free(store, &mut tx, now).await?;
            }
            tx.commit().await.map_err(|e| store.error(e))
        })
        .await
}

/// Leaves the queue.
pub async fn dequeue(store: &Store, ticket: i64) -> Result<(), LabError> {
    sqlx::query("DELETE FROM lab_queue WHERE ticket = $1")
        .bind(ticket)
        .execute(store.pool())
        .await
        .map_err(|e| store.error(e))?;
    Ok(())
}

/// One look at the lab, in one transaction: join the queue (no `ticket` yet) or keep the place,
/// hand out what is free, and see whether this ticket got a board. Answers the ticket too.
async fn look(
    store: &Store,
    ticket: Option<i64>,
    request: &Request,
    holder: &Holder,
) -> Result<(i64, Step), LabError> {
    let mut tx = store.write().await?;
    let now = store.now(&mut tx).await?;
    expire(store, &mut tx, now).await?;
    let leases = load_leases(store, &mut tx).await?;
    let boards = load_boards(store, &mut tx).await?;
    if let Some(lease) = ticket.and_then(|t| leases.iter().find(|l| l.ticket == t)) {
        let lease = lease_of(lease, &boards);
        tx.commit().await.map_err(|e| store.error(e))?;
        return Ok((lease.ticket, Step::Taken(lease)));
    }
    check_satisfiable(store, request, &boards)?;
    // A new place, or the renewal of this one; a place that lapsed (this process stalled longer
    // than a TTL) comes back at its ticket.
    let sql = match ticket {
        None => {
            "INSERT INTO lab_queue (board, filters, priority, holder, ttl_ms, since, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ticket"
        }
        Some(_) => {
            "INSERT INTO lab_queue (board, filters, priority, holder, ttl_ms, since, expires_at, ticket) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (ticket) DO UPDATE SET expires_at = excluded.expires_at RETURNING ticket"
        }
    };
    let mut insert = sqlx::query_scalar(sql)
        .bind(request.board.clone())
        .bind(json_text(&request.filters))
        .bind(request.priority)
        .bind(json_text(holder))
        .bind(millis(request.ttl))
        .bind(now)
        .bind(now + millis(request.ttl));
    if let Some(ticket) = ticket {
        insert = insert.bind(ticket);
    }
    let ticket: i64 = insert.fetch_one(&mut *tx).await.map_err(|e| store.error(e))?;
    let queue = load_queue(store, &mut tx).await?;
    let granted = assign(store, &mut tx, now, &boards, &leases, &queue).await?;
    tx.commit().await.map_err(|e| store.error(e))?;
    if let Some((_, board)) = granted.iter().find(|(t, _)| *t == ticket) {
        let board = boards.iter().find(|b| &b.name == board);
        let lease = Lease {
            ticket,
            board: board.map(|b| b.name.clone()).unwrap_or_default(),
            inventory: board.map_or(Value::Null, |b| b.inventory.clone()),
            acquired_at: now,
        };
        return Ok((ticket, Step::Taken(lease)));
    }
    let wanted = |name: &str| boards.iter().any(|b| b.name == name && request.wants(&b.name, &b.inventory));
    let held: Vec<Held> = leases
        .iter()
        .filter(|l| wanted(&l.board))
        .map(|l| Held {
            board: l.board.clone(),
            holder: l.holder.clone(),
            since: l.acquired_at,
            until: l.expires_at,
        })
        .collect();
    let next_expiry = held.iter().map(|h| h.until).min();
    let waiting: Vec<i64> =
        queue.iter().map(|e| e.ticket).filter(|t| !granted.iter().any(|(g, _)| g == t)).collect();
    let position = waiting.iter().position(|&t| t == ticket).map_or(waiting.len(), |i| i + 1);
    let status = WaitStatus { position, waiting: waiting.len(), held };
    Ok((ticket, Step::Wait { status, next_expiry, now }))
}

fn lease_of(row: &LeaseRow, boards: &[BoardRow]) -> Lease {
    let inventory = boards.iter().find(|b| b.name == row.board).map_or(Value::Null, |b| b.inventory.clone());
    Lease { ticket: row.ticket, board: row.board.clone(), inventory, acquired_at: row.acquired_at }
}

/// [`assign`] on the lab as it is now.
pub(crate) async fn assign_free(
    store: &Store,
    tx: &mut Transaction<'static, Any>,
    now: i64,
) -> Result<(), LabError> {
    let boards = load_boards(store, tx).await?;
    let leases = load_leases(store, tx).await?;
    let queue = load_queue(store, tx).await?;
    assign(store, tx, now, &boards, &leases, &queue).await.map(drop)
}

/// Hands each free board in service to the first waiter (by priority, then arrival) that wants
/// it: the lease is the waiter's from now, its place in the queue gone, and it is told. Answers
/// the grants (ticket, board).
async fn assign(
    store: &Store,
    tx: &mut Transaction<'static, Any>,
    now: i64,
    boards: &[BoardRow],
    leases: &[LeaseRow],
    queue: &[QueueRow],
) -> Result<Vec<(i64, String)>, LabError> {
    let mut granted = Vec::new();
    let mut free: Vec<&BoardRow> = boards
        .iter()
        .filter(|b| b.quarantine_reason.is_none() && !leases.iter().any(|l| l.board == b.name))
        .collect();
    // The least recently used first, so work spreads over equal boards.
    free.sort_by(|a, b| (a.last_used, &a.name).cmp(&(b.last_used, &b.name)));
    for entry in queue {
        if free.is_empty() {
            break;
        }
        let Some(index) = free.iter().position(|b| entry.request.wants(&b.name, &b.inventory)) else {
            continue;
        };
        let board = free.remove(index);
        sqlx::query(
            "INSERT INTO lab_leases (board, ticket, holder, acquired_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&board.name)
        .bind(entry.ticket)
        .bind(&entry.holder)
        .bind(now)
        .bind(now + entry.ttl_ms)
        .execute(&mut **tx)
        .await
        .map_err(|e| store.error(e))?;
        sqlx::query("DELETE FROM lab_queue WHERE ticket = $1")
            .bind(entry.ticket)
            .execute(&mut **tx)
            .await
            .map_err(|e| store.error(e))?;
        sqlx::query("UPDATE lab_boards SET last_used = $1 WHERE name = $2")
            .bind(now)
            .bind(&board.name)
            .execute(&mut **tx)
            .await
            .map_err(|e| store.error(e))?;
        store.notify_granted(tx, entry.ticket).await?;
        granted.push((entry.ticket, board.name.clone()));
    }
    Ok(granted)
}

/// Refuses at once what can never be met: an unknown board, a quarantined one, a filter that no
/// board in service passes.
fn check_satisfiable(store: &Store, request: &Request, boards: &[BoardRow]) -> Result<(), LabError> {
    if let Some(name) = &request.board {
        let Some(board) = boards.iter().find(|b| &b.name == name) else {
            let names: Vec<&str> = boards.iter().map(|b| b.name.as_str()).collect();
            return Err(LabError::Refused(format!(
                "board {name} is not in the lab ({}; it has: {}); `vitro lab import FILE` adds boards",
                store.display_url(),
                if names.is_empty() { "none".to_owned() } else { names.join(", ") }
            )));
        };
        if let Some(reason) = &board.quarantine_reason {
            return Err(LabError::Refused(format!(
                "board {name} is quarantined: {reason}; `vitro lab unquarantine {name}` puts it back in service"
            )));
        }
        if !request.wants(&board.name, &board.inventory) {
            return Err(LabError::Refused(format!("board {name} does not pass --lab-match")));
        }
        return Ok(());
    }
    if !boards.iter().any(|b| b.quarantine_reason.is_none() && request.wants(&b.name, &b.inventory)) {
        let quarantined =
            boards.iter().filter(|b| b.quarantine_reason.is_some() && request.wants(&b.name, &b.inventory));
        let quarantined: Vec<&str> = quarantined.map(|b| b.name.as_str()).collect();
        let wanted = if request.filters.is_empty() {
            String::new()
        } else {
            format!(" matches {}", request.filters_text())
        };
        let quarantined = if quarantined.is_empty() {
            String::new()
        } else {
            format!(" (quarantined: {})", quarantined.join(", "))
        };
        return Err(LabError::Refused(format!(
            "no board in service in the lab ({}){wanted}{quarantined}; `vitro lab boards` lists them",
            store.display_url(),
        )));
    }
    Ok(())
}

/// Frees leases whose holder stopped renewing them, and queue places likewise; each lapsed
/// lease goes into the history, and its board to the next waiter.
pub(crate) async fn expire(
    store: &Store,
    tx: &mut Transaction<'static, Any>,
    now: i64,
) -> Result<(), LabError> {
    let lapsed = sqlx::query("SELECT board, holder, acquired_at FROM lab_leases WHERE expires_at < $1")
        .bind(now)
        .fetch_all(&mut **tx)
        .await
        .map_err(|e| store.error(e))?;
    for row in &lapsed {
        let board: String = row.try_get(0).map_err(|e| store.error(e))?;
        sqlx::query(
            "INSERT INTO lab_history (board, holder, acquired_at, ended_at, outcome, error) \
             VALUES ($1, $2, $3, $4, 'expired', 'the holder stopped renewing its lease (killed, cut off or hung)')",
        )
        .bind(&board)
        .bind(row.try_get::<String, _>(1).map_err(|e| store.error(e))?)
        .bind(row.try_get::<i64, _>(2).map_err(|e| store.error(e))?)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(|e| store.error(e))?;
        sqlx::query("DELETE FROM lab_leases WHERE board = $1")
            .bind(&board)
            .execute(&mut **tx)
            .await
            .map_err(|e| store.error(e))?;
    }
    sqlx::query("DELETE FROM lab_queue WHERE expires_at < $1")
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(|e| store.error(e))?;
    if !lapsed.is_empty() {
        assign_free(store, tx, now).await?;
    }
    Ok(())
}

/// Extends the lease by `ttl` from now; `false` when it is no longer this holder's (it lapsed
/// and went to another, or an admin forced it free).
pub async fn renew(store: &Store, lease: &Lease, ttl: Duration) -> Result<bool, LabError> {
    let mut tx = store.write().await?;
    let now = store.now(&mut tx).await?;
    let done = sqlx::query("UPDATE lab_leases SET expires_at = $1 WHERE board = $2 AND ticket = $3")
        .bind(now + millis(ttl))
        .bind(&lease.board)
        .bind(lease.ticket)
        .execute(&mut *tx)
        .await
        .map_err(|e| store.error(e))?;
    tx.commit().await.map_err(|e| store.error(e))?;
    Ok(done.rows_affected() == 1)
}

/// How a deployment on a leased board ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every phase passed: the board's failure count restarts.
    Success,
    /// A phase failed: one more failure in a row.
    Failed,
    /// Stopped by a signal: says nothing of the board.
    Interrupted,
}

impl Outcome {
    /// The word kept in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        }
    }
}

/// Frees the board at once, records the deployment's outcome and the board's health, and
/// quarantines it after `quarantine_after` failures in a row (0: never). Answers the quarantine
/// reason when this release quarantined it.
pub async fn release(
    store: &Store,
    lease: &Lease,
    holder: &Holder,
    outcome: Outcome,
    error: Option<&str>,
    quarantine_after: u32,
) -> Result<Option<String>, LabError> {
    let mut tx = store.write().await?;
    let now = store.now(&mut tx).await?;
    let freed = sqlx::query("DELETE FROM lab_leases WHERE board = $1 AND ticket = $2")
        .bind(&lease.board)
        .bind(lease.ticket)
        .execute(&mut *tx)
        .await
        .map_err(|e| store.error(e))?;
    if freed.rows_affected() == 0 {
        // The history already says how it ended (`expired` or `forced`); the board may be
        // another job's now, so this outcome says nothing of it.
        return Err(LabError::Refused(format!(
            "the lease on board {} was gone before the release (it lapsed or was forced free); \
             this deployment's outcome is not recorded for the board",
            lease.board
        )));
    }
    sqlx::query(
        "INSERT INTO lab_history (board, holder, acquired_at, ended_at, outcome, error) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&lease.board)
    .bind(json_text(holder))
    .bind(lease.acquired_at)
    .bind(now)
    .bind(outcome.as_str())
    .bind(error.map(str::to_owned))
    .execute(&mut *tx)
    .await
    .map_err(|e| store.error(e))?;
    let failures_sql = match outcome {
        Outcome::Success => "0",
        Outcome::Failed => "failures + 1",
        Outcome::Interrupted => "failures",
    };
    let failures: i64 = sqlx::query_scalar(&format!(
        "UPDATE lab_boards SET failures = {failures_sql}, last_outcome = $1, \
         last_error = COALESCE($2, last_error) WHERE name = $3 RETURNING failures"
    ))
    .bind(outcome.as_str())
    .bind(error.map(str::to_owned))
    .bind(&lease.board)
    .fetch_optional(&mut *tx)
    .await
    .map_err(|e| store.error(e))?
    .unwrap_or(0);
    let mut quarantined = None;
    if outcome == Outcome::Failed && quarantine_after > 0 && failures >= i64::from(quarantine_after) {
        let reason = format!(
            "{failures} failed deployments in a row; the last: {}",
            error.unwrap_or("no error was given")
        );
        let done = sqlx::query(
            "UPDATE lab_boards SET quarantine_reason = $1, quarantined_at = $2 WHERE name = $3 AND quarantine_reason IS NULL",
        )
        .bind(&reason)
        .bind(now)
        .bind(&lease.board)
        .execute(&mut *tx)
        .await
        .map_err(|e| store.error(e))?;
        if done.rows_affected() == 1 {
            quarantined = Some(reason);
        }
    }
    assign_free(store, &mut tx, now).await?;
    tx.commit().await.map_err(|e| store.error(e))?;
    Ok(quarantined)
}

/// A board as the scheduler sees it.
pub(crate) struct BoardRow {
    pub name: String,
    pub inventory: Value,
    pub quarantine_reason: Option<String>,
    pub last_used: Option<i64>,
}

/// A lease as the scheduler sees it.
pub(crate) struct LeaseRow {
    pub board: String,
    pub ticket: i64,
    pub holder: Holder,
    pub acquired_at: i64,
    pub expires_at: i64,
}

/// A queue place as the scheduler sees it.
pub(crate) struct QueueRow {
    pub ticket: i64,
    pub request: Request,
    /// As stored (JSON), to become the lease's.
    pub holder: String,
    pub ttl_ms: i64,
    /// When it joined the queue (ms).
    pub since: i64,
}

pub(crate) async fn load_boards(
    store: &Store,
    tx: &mut Transaction<'static, Any>,
) -> Result<Vec<BoardRow>, LabError> {
    let rows =
        sqlx::query("SELECT name, inventory, quarantine_reason, last_used FROM lab_boards ORDER BY name")
            .fetch_all(&mut **tx)
            .await
            .map_err(|e| store.error(e))?;
    rows.iter()
        .map(|row| {
            Ok(BoardRow {
                name: row.try_get(0)?,
                inventory: serde_json::from_str(&row.try_get::<String, _>(1)?).unwrap_or(Value::Null),
                quarantine_reason: row.try_get(2)?,
                last_used: row.try_get(3)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(|e| store.error(e))
}

pub(crate) async fn load_leases(
    store: &Store,
    tx: &mut Transaction<'static, Any>,
) -> Result<Vec<LeaseRow>, LabError> {
    let rows =
        sqlx::query("SELECT board, ticket, holder, acquired_at, expires_at FROM lab_leases ORDER BY board")
            .fetch_all(&mut **tx)
            .await
            .map_err(|e| store.error(e))?;
    rows.iter()
        .map(|row| {
            Ok(LeaseRow {
                board: row.try_get(0)?,
                ticket: row.try_get(1)?,
                holder: parse_holder(&row.try_get::<String, _>(2)?),
                acquired_at: row.try_get(3)?,
                expires_at: row.try_get(4)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(|e| store.error(e))
}

/// The queue's places in serving order.
const QUEUE_SQL: &str =
    "SELECT ticket, board, filters, priority, holder, ttl_ms, since, expires_at FROM lab_queue ORDER BY priority DESC, ticket";

pub(crate) async fn load_queue(
    store: &Store,
    tx: &mut Transaction<'static, Any>,
) -> Result<Vec<QueueRow>, LabError> {
    let rows = sqlx::query(QUEUE_SQL).fetch_all(&mut **tx).await.map_err(|e| store.error(e))?;
    queue_rows(store, &rows)
}

/// The places that have not lapsed at `now`, read without the write lock (for viewers).
pub(crate) async fn read_queue(store: &Store, now: i64) -> Result<Vec<QueueRow>, LabError> {
    let rows = sqlx::query(QUEUE_SQL).fetch_all(store.pool()).await.map_err(|e| store.error(e))?;
    let live = rows.into_iter().filter(|row| row.try_get::<i64, _>(7).is_ok_and(|expires| expires >= now));
    queue_rows(store, &live.collect::<Vec<_>>())
}

fn queue_rows(store: &Store, rows: &[sqlx::any::AnyRow]) -> Result<Vec<QueueRow>, LabError> {
    rows.iter()
        .map(|row| {
            Ok(QueueRow {
                ticket: row.try_get(0)?,
                request: Request {
                    board: row.try_get(1)?,
                    filters: serde_json::from_str(&row.try_get::<String, _>(2)?).unwrap_or_default(),
                    priority: row.try_get(3)?,
                    ttl: Duration::ZERO,
                    wait: Duration::ZERO,
                },
                holder: row.try_get(4)?,
                ttl_ms: row.try_get(5)?,
                since: row.try_get(6)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(|e| store.error(e))
}

/// A holder as stored; an unreadable one (written by a newer version) still shows.
pub(crate) fn parse_holder(text: &str) -> Holder {
    serde_json::from_str(text).unwrap_or_else(|_| Holder {
        user: text.to_owned(),
        host: String::new(),
        pid: 0,
        ci_job: None,
    })
}

pub(crate) fn json_text(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

pub(crate) fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX / 4)
}
