//! `vitro-plugin-lab`: the `reservation` and `release` capabilities on the lab's store.
//! Reservation waits in the queue and takes a lease, which a task renews every TTL/3 while this
//! process lives; release frees it and records the deployment's outcome.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Mutex;
use vitro_sdk::protocol::types::{
    Capability, CliArg, DeploymentStatus, ReleaseParams, ReserveParams, ReserveResult,
};
use vitro_sdk::{async_trait, DriverError, DriverResult, Host, Plugin, PluginHooks};

use crate::error::LabError;
use crate::filter::Filter;
use crate::holder::Holder;
use crate::lease::{self, Lease, Outcome, Progress, Request};
use crate::store::Store;

/// The plugin's flags, each with its default.
const FLAGS: &[(&str, Option<&str>, &str)] = &[
    ("lab-db", None, "the lab's store: postgres://USER@HOST/DB for a shared lab, sqlite://PATH for one machine (default: VITRO_LAB_DB, else an SQLite file in your data directory)"),
    ("lab-match", None, "with --board-name any (or none): take the first free board whose inventory has KEY=VALUE[,KEY=VALUE] (dotted keys)"),
    ("lab-wait", Some("30m"), "give up when no board came free within this long (e.g. 90s, 10m)"),
    ("lab-priority", Some("0"), "queue priority: higher is served first; equal priorities are served in arrival order"),
    ("lab-ttl", Some("2m"), "lease length: renewed every third of it while vitro runs, so a dead job frees its board within it"),
    ("lab-quarantine-after", Some("3"), "quarantine a board after this many failed deployments in a row (0: never)"),
];

/// The longest `--lab-wait` or `--lab-ttl`: a year.
const LONGEST: Duration = Duration::from_secs(365 * 24 * 3600);

/// The plugin, ready to run.
pub fn plugin() -> Plugin {
    let mut plugin = Plugin::new("lab", env!("CARGO_PKG_VERSION"))
        .hooks(LabHooks::default(), &[Capability::Reservation, Capability::Release]);
    for (name, default, help) in FLAGS {
        plugin = plugin.cli_arg(CliArg {
            name: (*name).to_owned(),
            help: (*help).to_owned(),
            takes_value: true,
            default: default.map(str::to_owned),
        });
    }
    plugin
}

/// The lease this process holds, with what its release needs.
struct Holding {
    store: Store,
    lease: Lease,
    holder: Holder,
    quarantine_after: u32,
    renewer: tokio::task::JoinHandle<()>,
}

/// A place in the queue this process waits in.
struct Waiting {
    store: Store,
    ticket: Option<i64>,
    holder: Holder,
}

#[derive(Default)]
struct LabHooks {
    holding: Mutex<Option<Holding>>,
    /// Set while `reserve` waits; the release of a job interrupted meanwhile gives the place up.
    waiting: parking_lot::Mutex<Option<Waiting>>,
    /// Ends a wait that `release` came to (the job was interrupted while it waited).
    stop: tokio_util::sync::CancellationToken,
}

#[async_trait]
impl PluginHooks for LabHooks {
    async fn reserve(&self, host: &Host, params: ReserveParams) -> DriverResult<ReserveResult> {
        let options = Options::parse(&params.options).map_err(to_driver)?;
        let board = Some(params.board_name).filter(|b| !b.is_empty() && b != "any");
        let request = Request {
            board,
            filters: options.filters,
            priority: options.priority,
            ttl: options.ttl,
            wait: options.wait,
        };
        let store = Store::open(options.db.as_deref()).await.map_err(to_driver)?;
        let holder = Holder::current();
        tracing::info!("lab {}: asking for {}", store.display_url(), request.describe());
        *self.waiting.lock() = Some(Waiting { store: store.clone(), ticket: None, holder: holder.clone() });
        // The wait's news goes to `vitro`'s screen as the plugin's progress.
        let acquired = {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let acquiring = lease::acquire(&store, &request, &holder, |progress| match progress {
                Progress::Queued(ticket) => {
                    if let Some(waiting) = self.waiting.lock().as_mut() {
                        waiting.ticket = Some(ticket);
                    }
                }
                Progress::Waiting(status) => {
                    let _ = tx.send(format!(
                        "waiting for {}: {}",
                        request.describe(),
                        lease::describe_wait(status)
                    ));
                }
                Progress::StoreTrouble(e) => {
                    let _ = tx.send(format!("{e}; trying again, keeping the place in the queue"));
                }
            });
            tokio::pin!(acquiring);
            loop {
                tokio::select! {
                    lease = &mut acquiring => break Some(lease),
                    Some(message) = rx.recv() => host.plugin_progress(message).await,
                    () = self.stop.cancelled() => break None,
                }
            }
        };
        store.stop_listening().await;
        let interrupted = || DriverError::device("the job was interrupted while it waited for a board");
        let Some(acquired) = acquired else { return Err(interrupted()) };
        // The same lock as `release` takes first: either the lease is held before the release
        // looks, or the release came first and the lease is given up here.
        let mut holding = self.holding.lock().await;
        self.waiting.lock().take();
        let lease = acquired.map_err(to_driver)?;
        if self.stop.is_cancelled() {
            lease::abandon(&store, lease.ticket, &holder).await.map_err(to_driver)?;
            return Err(interrupted());
        }
        host.plugin_progress(format!("leased board {} from {}", lease.board, store.display_url())).await;
        let renewer = tokio::spawn(renew(store.clone(), lease.clone(), options.ttl));
        let result =
            ReserveResult { inventory: lease.inventory.clone(), board_name: Some(lease.board.clone()) };
        *holding =
            Some(Holding { store, lease, holder, quarantine_after: options.quarantine_after, renewer });
        Ok(result)
    }

    async fn release(&self, _host: &Host, params: ReleaseParams) -> DriverResult<()> {
        self.stop.cancel();
        let mut holding = self.holding.lock().await;
        let waiting = self.waiting.lock().take();
        if let Some(Waiting { store, ticket: Some(ticket), holder }) = waiting {
            // Interrupted while it waited: its place goes, so no board is granted to a job
            // that is gone (it would sit idle until the lease lapsed).
            lease::abandon(&store, ticket, &holder).await.map_err(to_driver)?;
            return Ok(());
        }
        let Some(holding) = holding.take() else { return Ok(()) };
        holding.renewer.abort();
        let outcome = match params.status {
            DeploymentStatus::Success => Outcome::Success,
            DeploymentStatus::Failed => Outcome::Failed,
            _ => Outcome::Interrupted,
        };
        let quarantined = lease::release(
            &holding.store,
            &holding.lease,
            &holding.holder,
            outcome,
            params.error.as_deref(),
            holding.quarantine_after,
        )
        .await
        .map_err(to_driver)?;
        if let Some(reason) = quarantined {
            tracing::warn!(
                "board {} is quarantined: {reason}; `vitro lab unquarantine {}` puts it back in service",
                holding.lease.board,
                holding.lease.board
            );
        }
        Ok(())
    }
}

/// Keeps the lease alive every TTL/3 until aborted; says so loudly if it was lost.
async fn renew(store: Store, lease: Lease, ttl: Duration) {
    let mut ticker = tokio::time::interval(ttl / 3);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        match lease::renew(&store, &lease, ttl).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::error!(
                    "the lease on board {} is gone (forced free, or it lapsed while this process stalled): \
                     another job may be using the board now",
                    lease.board
                );
                return;
            }
            // The store may come back within the TTL; the next tick tries again.
            Err(e) => tracing::warn!("cannot renew the lease on board {}: {e}", lease.board),
        }
    }
}

/// The flags' values.
struct Options {
    db: Option<String>,
    filters: Vec<Filter>,
    wait: Duration,
    priority: i64,
    ttl: Duration,
    quarantine_after: u32,
}

impl Options {
    fn parse(values: &BTreeMap<String, Value>) -> Result<Self, LabError> {
        let text = |name: &str| -> Option<String> {
            let given = values.get(name).and_then(Value::as_str).filter(|v| !v.is_empty());
            given
                .map(str::to_owned)
                .or_else(|| FLAGS.iter().find(|f| f.0 == name).and_then(|f| f.1).map(str::to_owned))
        };
        let duration = |name: &str| -> Result<Duration, LabError> {
            let value = text(name).unwrap_or_default();
            let parsed = humantime::parse_duration(&value).map_err(|e| {
                LabError::Config(format!("--{name} {value:?}: {e}; give a duration such as 90s or 10m"))
            })?;
            if parsed > LONGEST {
                return Err(LabError::Config(format!(
                    "--{name} {value:?}: longer than a lab keeps anything; give at most {}",
                    humantime::format_duration(LONGEST)
                )));
            }
            Ok(parsed)
        };
        let number = |name: &str| -> Result<i64, LabError> {
            let value = text(name).unwrap_or_default();
            value.parse().map_err(|_| LabError::Config(format!("--{name} {value:?}: give a whole number")))
        };
        let ttl = duration("lab-ttl")?;
        if ttl < Duration::from_millis(300) {
            return Err(LabError::Config(format!(
                "--lab-ttl {}: too short to renew in time; give 1s or more",
                humantime::format_duration(ttl)
            )));
        }
        Ok(Self {
            db: text("lab-db"),
            filters: text("lab-match").map(|m| Filter::parse_list(&m)).transpose()?.unwrap_or_default(),
            wait: duration("lab-wait")?,
            priority: number("lab-priority")?,
            ttl,
            quarantine_after: u32::try_from(number("lab-quarantine-after")?).map_err(|_| {
                LabError::Config("--lab-quarantine-after: give 0 (never) or a positive number".to_owned())
            })?,
        })
    }
}

fn to_driver(e: LabError) -> DriverError {
    DriverError::device(e.to_string())
}
