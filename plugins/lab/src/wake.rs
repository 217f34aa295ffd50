//! How a waiter learns that a board may be free: PostgreSQL's `LISTEN/NOTIFY`, or a poll of the
//! SQLite file.

use std::time::Duration;

use sqlx::postgres::PgListener;

use crate::error::LabError;
use crate::store::{ticket_channel, Store, CHANNEL};

/// How often a waiter on SQLite looks again.
const POLL: Duration = Duration::from_millis(50);

/// Why a waiter woke.
pub(crate) enum Wake {
    /// A board went to the ticket this waiter watches.
    Granted,
    /// The lab changed: look at all of it again.
    Changed,
    /// The time asked for passed (or a poll interval).
    Elapsed,
}

/// A waiter's alarm.
pub(crate) enum Waker {
    /// Listening on the lab's channel and on the channel of the ticket being waited for.
    Listen {
        listener: Box<PgListener>,
        ticket: Option<i64>,
    },
    Poll,
}

impl Waker {
    /// Listens on PostgreSQL; polls on SQLite.
    pub(crate) async fn new(store: &Store) -> Result<Self, LabError> {
        if store.polls() {
            return Ok(Self::Poll);
        }
        let mut listener = PgListener::connect(store.url()).await.map_err(|e| store.error(e))?;
        listener.listen(CHANNEL).await.map_err(|e| store.error(e))?;
        Ok(Self::Listen { listener: Box::new(listener), ticket: None })
    }

    /// Listens for the grant of `ticket` too. A grant committed before this is not heard: look
    /// for it once after.
    pub(crate) async fn watch(&mut self, store: &Store, ticket: i64) -> Result<(), LabError> {
        if let Self::Listen { listener, ticket: watched } = self {
            if let Some(old) = watched.replace(ticket) {
                listener.unlisten(&ticket_channel(old)).await.map_err(|e| store.error(e))?;
            }
            listener.listen(&ticket_channel(ticket)).await.map_err(|e| store.error(e))?;
        }
        Ok(())
    }

    /// Returns on a notification, or after `at_most` (polling: after one poll interval at most).
    pub(crate) async fn wait(&mut self, at_most: Duration) -> Wake {
        match self {
            Self::Listen { listener, .. } => match tokio::time::timeout(at_most, listener.recv()).await {
                Err(_) => Wake::Elapsed,
                Ok(Ok(notification)) if notification.channel() == CHANNEL => Wake::Changed,
                Ok(Ok(_)) => Wake::Granted,
                // The connection was lost (and `recv` reconnects next time): a notification may
                // have been missed, so look at everything.
                Ok(Err(_)) => Wake::Changed,
            },
            Self::Poll => {
                tokio::time::sleep(at_most.min(POLL)).await;
                Wake::Elapsed
            }
        }
    }
}
