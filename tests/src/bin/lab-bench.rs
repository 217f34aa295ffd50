//! Benchmark of the lab's leases: 50 clients (one store connection pool each, as 50 `vitro`
//! processes would have) take turns on 10 boards until N acquisitions are done. Prints the
//! acquire+release throughput and the handover latency (from a holder's release call to the
//! moment the next waiter holds the board), and checks that no lease was doubled or lost: no
//! board ever had two holders at once, the history has exactly N successful leases, nothing is
//! left held or queued.
//!
//! `lab-bench postgres|sqlite N [--poll] [--hold-ms MS]`: on a throwaway PostgreSQL cluster
//! (stopped at the end) or an SQLite file in a temp dir; `--poll` makes waiters poll on
//! PostgreSQL too (the baseline); `--hold-ms` is how long each client keeps its board (0: it
//! releases at once, which saturates the store).
//! Run through `scripts/bench-lab`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use vitro_e2e::postgres::Cluster;
use vitro_plugin_lab::holder::Holder;
use vitro_plugin_lab::lease::{self, Outcome, Request};
use vitro_plugin_lab::{admin, Store};

const CLIENTS: usize = 50;
const BOARDS: usize = 10;

#[derive(Default)]
struct Shared {
    /// Board -> the client holding it, as the clients themselves see it.
    holders: Mutex<HashMap<String, usize>>,
    /// Board -> when its last holder called release.
    released: Mutex<HashMap<String, Instant>>,
    handovers: Mutex<Vec<Duration>>,
    doubled: AtomicUsize,
    started: AtomicUsize,
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(backend), Some(total)) = (args.get(1), args.get(2).and_then(|n| n.parse::<usize>().ok()))
    else {
        eprintln!("usage: lab-bench postgres|sqlite N [--poll]");
        std::process::exit(2);
    };
    let dir = vitro_e2e::TempDir::new("lab-bench");
    let url = &match backend.as_str() {
        "postgres" => {
            Cluster::shared().and_then(|c| c.database("bench")).unwrap_or_else(|e| panic!("{}", e.0))
        }
        _ => format!("sqlite://{}?mode=rwc", dir.path().join("lab.db").display()),
    };
    let poll = args.iter().any(|a| a == "--poll");
    let hold = args
        .iter()
        .position(|a| a == "--hold-ms")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_millis);
    let open = || async {
        let store = Store::open(Some(url)).await.unwrap_or_else(|e| panic!("{e}"));
        if poll {
            store.polling()
        } else {
            store
        }
    };
    let store = open().await;
    let inventory = dir.path().join("inventory.json");
    let boards: serde_json::Map<String, serde_json::Value> =
        (0..BOARDS).map(|i| (format!("board-{i}"), serde_json::json!({"devices": []}))).collect();
    std::fs::write(&inventory, serde_json::to_string(&boards).unwrap()).unwrap();
    admin::import(&store, &inventory).await.unwrap();

    let shared = Arc::new(Shared::default());
    let mut stores = Vec::new();
    for _ in 0..CLIENTS {
        stores.push(open().await);
    }
    let began = Instant::now();
    let clients: Vec<_> = stores
        .into_iter()
        .enumerate()
        .map(|(client, store)| tokio::spawn(run_client(client, store, shared.clone(), total, hold)))
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    let elapsed = began.elapsed();

    let mut handovers = shared.handovers.lock().unwrap().clone();
    handovers.sort();
    let pct = |p: f64| handovers[((handovers.len() as f64 - 1.0) * p).round() as usize];
    let history: usize = {
        let mut n = 0;
        for i in 0..BOARDS {
            let rows = admin::history(&store, &format!("board-{i}"), i64::MAX).await.unwrap();
            assert!(rows.iter().all(|r| r.outcome == "success"), "a lease ended otherwise than by release");
            n += rows.len();
        }
        n
    };
    let held = admin::boards(&store).await.unwrap().iter().filter(|b| b.state != "free").count();
    let queued = admin::queue(&store).await.unwrap().len();
    let doubled = shared.doubled.load(Ordering::Relaxed);
    println!(
        "{:<40} {total} acquisitions in {:.2} s: {:.0}/s; handover p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms ({} handovers)",
        format!(
            "{}{}, hold {} ms",
            backend_name(url),
            if poll { " polling (baseline)" } else { "" },
            hold.as_millis()
        ),
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.9).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        handovers.len(),
    );
    println!(
        "{:<40} doubled leases: {doubled}; in the history: {history} of {total}; left held: {held}; left queued: {queued}",
        ""
    );
    if doubled != 0 || history != total || held != 0 || queued != 0 {
        panic!("lab-bench: a lease was doubled or lost");
    }
}

async fn run_client(client: usize, store: Store, shared: Arc<Shared>, total: usize, hold: Duration) {
    let holder = Holder { user: format!("bench-{client}"), host: "bench".to_owned(), pid: 0, ci_job: None };
    let request = Request {
        board: None,
        filters: Vec::new(),
        priority: 0,
        ttl: Duration::from_secs(60),
        wait: Duration::from_secs(3600),
    };
    while shared.started.fetch_add(1, Ordering::Relaxed) < total {
        let lease = lease::acquire(&store, &request, &holder, |_| {}).await.unwrap_or_else(|e| panic!("{e}"));
        let got = Instant::now();
        if shared.holders.lock().unwrap().insert(lease.board.clone(), client).is_some() {
            shared.doubled.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(released) = shared.released.lock().unwrap().remove(&lease.board) {
            shared.handovers.lock().unwrap().push(got - released);
        }
        if !hold.is_zero() {
            tokio::time::sleep(hold).await;
        }
        shared.holders.lock().unwrap().remove(&lease.board);
        // Recorded before the call: the next holder may have the board before the call returns.
        shared.released.lock().unwrap().insert(lease.board.clone(), Instant::now());
        lease::release(&store, &lease, &holder, Outcome::Success, None, 0)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

fn backend_name(url: &str) -> &'static str {
    if url.starts_with("sqlite") {
        "SQLite"
    } else {
        "PostgreSQL"
    }
}
