//! Console benchmark: expect throughput over a local PTY and over SSH (`cat` of a large file),
//! and the round-trip latency of `execute_command` on a local shell. Prints its figures; run
//! through `scripts/bench-console`, which runs pexpect on the same tasks in the same run.
//!
//! Usage: `console-bench FILE SSH_PORT SSH_KEY SSH_USER`.

use std::time::{Duration, Instant};

use serde_json::json;
use vitro_sdk::console::{connect, ConnectOptions, Console, Pattern};

const T: Duration = Duration::from_secs(120);

async fn ready(config: serde_json::Value) -> Console {
    let console = connect(&config, &ConnectOptions::default()).await.expect("console");
    console.sendline("export PS1='B''$ '").await.unwrap();
    console.expect(&[Pattern::regex(r"(?m)B\$ $").unwrap()], T).await.unwrap();
    console
}

async fn throughput(console: &Console, file: &str, label: &str) {
    let size = std::fs::metadata(file).expect("bench file").len() as f64;
    let started = Instant::now();
    console.sendline(&format!("cat {file}; echo END''MARK")).await.unwrap();
    console.expect(&[Pattern::exact("ENDMARK")], T).await.unwrap();
    let seconds = started.elapsed().as_secs_f64();
    println!("vitro   {label:<28} {:>8.1} MB/s", size / seconds / 1e6);
}

async fn latency(console: &Console) {
    let mut times = Vec::new();
    for _ in 0..1000 {
        let started = Instant::now();
        console.execute_command("true", T).await.unwrap();
        times.push(started.elapsed());
    }
    times.sort();
    println!("vitro   {:<28} {:>8.1} µs p50", "execute_command round trip", times[500].as_secs_f64() * 1e6);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, file, port, key, user] = &args[..] else {
        eprintln!("usage: console-bench FILE SSH_PORT SSH_KEY SSH_USER");
        std::process::exit(2);
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let local = ready(json!({"name": "local", "connection_type": "local_cmd", "conn_cmd": "env TERM=dumb bash --norc --noprofile -i", "prompt": r"B\$ $"})).await;
        throughput(&local, file, "expect throughput, local PTY").await;
        latency(&local).await;
        local.close().await;
        let ssh = ready(json!({"name": "ssh", "connection_type": "authenticated_ssh", "port": port.parse::<u16>().unwrap(), "username": user, "key": key, "prompt": r"B\$ $"})).await;
        throughput(&ssh, file, "expect throughput, SSH").await;
        ssh.close().await;
    });
}
