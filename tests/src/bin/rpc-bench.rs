//! Benchmark of the plugin protocol against a real Rust plugin process (the test fixture):
//! spawn + handshake, sequential round trips, and pipelined throughput. Prints its figures.
//!
//! With `VITRO_BENCH_PYTHON=<python with vitro-sdk>`, also spawn + handshake of the Python example.
//! Run through `scripts/bench-rpc`, which builds in release mode and runs it pinned to one core
//! (`taskset -c 0`, the plugin inherits the pinning) and unpinned.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use vitro::plugin::{PluginCommand, PluginOptions, PluginProcess};
use vitro::registry::Registry;
use vitro_protocol::methods::{DeviceCall, DeviceCreate};
use vitro_protocol::types::{DeviceCallParams, DeviceCreateParams};

fn fixture() -> PluginCommand {
    let exe = std::env::current_exe().expect("current exe");
    PluginCommand::executable(&exe.with_file_name("vitro-plugin-fixture"))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

async fn start() -> PluginProcess {
    PluginProcess::start(fixture(), Arc::new(Registry::default()), None, PluginOptions::default())
        .await
        .expect("fixture starts")
}

fn echo(i: u64) -> DeviceCallParams {
    DeviceCallParams { device: "d".into(), method: "echo".into(), params: json!(i), kwargs: None }
}

async fn spawn_and_handshake(label: &str, command: PluginCommand, runs: usize) {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let mut plugin = PluginProcess::start(
            command.clone(),
            Arc::new(Registry::default()),
            None,
            PluginOptions::default(),
        )
        .await
        .expect("plugin starts");
        times.push(started.elapsed());
        plugin.shutdown().await;
    }
    times.sort();
    println!(
        "spawn + handshake, {label} ({runs} runs): p50 {}  p99 {}",
        micros(percentile(&times, 0.5)),
        micros(percentile(&times, 0.99))
    );
}

async fn round_trips(plugin: &PluginProcess, runs: usize) {
    let mut times = Vec::with_capacity(runs);
    for i in 0..runs as u64 {
        let started = Instant::now();
        plugin.request::<DeviceCall>(&echo(i), None).await.expect("echo");
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "sequential round trip, device/call echo ({runs} calls): p50 {}  p99 {}",
        micros(percentile(&times, 0.5)),
        micros(percentile(&times, 0.99))
    );
}

async fn pipelined(plugin: &Arc<PluginProcess>, in_flight: usize, total: usize) {
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..in_flight {
        let plugin = plugin.clone();
        let share = total / in_flight;
        workers.spawn(async move {
            for i in 0..share {
                plugin.request::<DeviceCall>(&echo((w * share + i) as u64), None).await.expect("echo");
            }
        });
    }
    workers.join_all().await;
    let rate = total as f64 / started.elapsed().as_secs_f64();
    println!("pipelined, {in_flight} in flight ({total} calls): {rate:.0} requests/s");
}

fn main() {
    // The same runtime as the `vitro` binary.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        spawn_and_handshake("Rust plugin", fixture(), 200).await;
        if let Some(python) = std::env::var_os("VITRO_BENCH_PYTHON") {
            let script = std::env::current_dir().unwrap().join("examples/python-hello/vitro-plugin-pyhello");
            let command = PluginCommand {
                name: "pyhello".into(),
                program: python.to_string_lossy().into_owned(),
                args: vec![script.display().to_string()],
            };
            spawn_and_handshake("Python plugin", command, 50).await;
        }
        let plugin = start().await;
        let create = DeviceCreateParams {
            name: "d".into(),
            type_name: "fixture".into(),
            config: json!({}),
            console_log_dir: None,
            console_log_stream: false,
        };
        plugin.request::<DeviceCreate>(&create, None).await.expect("create");
        round_trips(&plugin, 1000).await;
        round_trips(&plugin, 20_000).await;
        let plugin = Arc::new(plugin);
        pipelined(&plugin, 16, 200_000).await;
        pipelined(&plugin, 256, 512_000).await;
        let mut plugin = Arc::into_inner(plugin).expect("sole owner");
        plugin.shutdown().await;
    });
}
