//! How a waiter learns that a board may be free: PostgreSQL's `LISTEN/NOTIFY`, or a poll of the
//! SQLite file.

use std::time::Duration;

use sqlx::postgres::PgListener;

use crate::error::LabError;
use crate::store::{Backend, Store, CHANNEL};

/// How often a waiter on SQLite looks again.
const POLL: Duration = Duration::from_millis(50);

/// A waiter's alarm.
pub(crate) enum Waker {
    Listen(Box<PgListener>),
    Poll,
}

impl Waker {
    /// Listens on PostgreSQL; polls on SQLite.
    pub(crate) async fn new(store: &Store) -> Result<Self, LabError> {
        match store.backend() {
            Backend::Postgres => {
                let mut listener = PgListener::connect(store.url()).await.map_err(|e| store.error(e))?;
                listener.listen(CHANNEL).await.map_err(|e| store.error(e))?;
                Ok(Self::Listen(Box::new(listener)))
            }
            Backend::Sqlite => Ok(Self::Poll),
        }
    }

    /// Returns on a notification, or after `at_most`.
    pub(crate) async fn wait(&mut self, at_most: Duration) {
        match self {
            Self::Listen(listener) => {
                // A lost connection reconnects inside `recv`; either way the caller looks again.
                let _ = tokio::time::timeout(at_most, listener.recv()).await;
            }
            Self::Poll => tokio::time::sleep(at_most.min(POLL)).await,
        }
    }
}
