//! A plugin for the tests, built on the Rust SDK, that can misbehave on request.
//!
//! Flags: `--mode normal|hang-initialize|ignore-sigterm`, `--versions 1.0,2.3` (claimed protocol
//! versions), `--tag TEXT` (ignored; lets tests find the process by its command line).
//! Device type `fixture` (role `device`, every hook) with methods that echo, sleep, block, panic,
//! exit, kill themselves, flood notifications, send huge answers, print to stdout, look up other
//! devices through the host and spawn a grandchild process.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{json, Value};
use vitro_sdk::protocol::types::{DeviceQuery, Hook, Role};
use vitro_sdk::protocol::ProtocolVersion;
use vitro_sdk::{async_trait, Context, Device, DeviceType, DriverError, DriverResult, Plugin};

struct Fixture {
    config: Value,
}

/// How many `sleep` calls ended without finishing (their future was dropped by a cancel).
static SLEEPS_CANCELLED: AtomicU64 = AtomicU64::new(0);

/// Counts a sleep as cancelled unless it finished.
struct SleepGuard(bool);

impl Drop for SleepGuard {
    fn drop(&mut self) {
        if !self.0 {
            SLEEPS_CANCELLED.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn ms(params: &Value) -> Duration {
    Duration::from_millis(params["ms"].as_u64().unwrap_or(0))
}

#[async_trait]
impl Device for Fixture {
    async fn boot(&self, ctx: &Context) -> DriverResult<()> {
        if self.config["fail_boot"].as_bool() == Some(true) {
            return Err(DriverError::device(format!("{} refuses to boot", ctx.device)));
        }
        Ok(())
    }

    async fn call(&self, ctx: &Context, method: &str, params: Value) -> DriverResult<Value> {
        match method {
            "echo" => Ok(params),
            "config" => Ok(self.config.clone()),
            "sleep" => {
                let mut guard = SleepGuard(false);
                tokio::time::sleep(ms(&params)).await;
                guard.0 = true;
                Ok(json!("slept"))
            }
            "sleeps_cancelled" => Ok(json!(SLEEPS_CANCELLED.load(Ordering::SeqCst))),
            "block" => {
                std::thread::sleep(ms(&params));
                Ok(json!("blocked"))
            }
            "panic" => panic!("fixture panics on purpose"),
            "exit" => {
                eprintln!("fixture exits with {} on purpose", params["code"]);
                std::process::exit(params["code"].as_i64().unwrap_or(1) as i32)
            }
            "kill" => {
                // SAFETY: raising a signal on ourselves.
                unsafe { libc::raise(libc::SIGKILL) };
                Ok(Value::Null)
            }
            "flood" => {
                let n = params["n"].as_u64().unwrap_or(0);
                for i in 0..n {
                    ctx.host.progress(&ctx.device, format!("step {i}"), None).await;
                }
                Ok(json!(n))
            }
            "log" => {
                tracing::warn!(device = %ctx.device, answer = 42, "a warning from the fixture");
                tracing::debug!(device = %ctx.device, "a debug line the host did not ask for");
                Ok(Value::Null)
            }
            "huge" => Ok(json!("x".repeat(params["bytes"].as_u64().unwrap_or(0) as usize))),
            "print" => {
                println!("stray output that must not reach the protocol stream");
                Ok(json!("printed"))
            }
            "lookup" => {
                let query: DeviceQuery =
                    serde_json::from_value(params).map_err(|e| DriverError::device(e.to_string()))?;
                let devices = ctx.host.devices(query).await.map_err(|e| DriverError(e.into_rpc()))?;
                Ok(serde_json::to_value(devices).unwrap_or_default())
            }
            "spawn_child" => {
                let child = std::process::Command::new("sleep").arg("600").spawn()?;
                Ok(json!(child.id()))
            }
            other => Err(DriverError::device(format!("fixture has no method `{other}`"))),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let mode = flag("--mode").unwrap_or_else(|| "normal".into());
    let mut plugin = Plugin::new(&flag("--name").unwrap_or_else(|| "fixture".into()), "0.1.0").device_type(
        DeviceType::new("fixture", Role::Device, |spec| Ok(Fixture { config: spec.config })).hooks(&[
            Hook::Validate,
            Hook::Boot,
            Hook::Configure,
            Hook::Shutdown,
        ]),
    );
    if let Some(versions) = flag("--versions") {
        let parsed = versions
            .split(',')
            .filter_map(|v| v.split_once('.'))
            .filter_map(|(major, minor)| Some(ProtocolVersion::new(major.parse().ok()?, minor.parse().ok()?)))
            .collect();
        plugin = plugin.protocol_versions(parsed);
    }
    match mode.as_str() {
        "hang-initialize" => loop {
            std::thread::sleep(Duration::from_secs(3600));
        },
        "ignore-sigterm" => {
            // SAFETY: setting a signal disposition.
            unsafe { libc::signal(libc::SIGTERM, libc::SIG_IGN) };
            plugin.run();
            eprintln!("fixture ignores exit, EOF and SIGTERM on purpose");
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        _ => plugin.run(),
    }
}
