//! `vitro-plugin-hello`: an example plugin with one device type, `hello_server`, that
//! - on `boot` checks that `/bin/sh` exists and logs the host's kernel,
//! - offers `execute_command` (runs a shell command on this machine) and `peers` (asks the host
//!   which other devices exist).

use std::process::ExitCode;

use serde_json::{json, Value};
use vitro_sdk::protocol::types::{DeviceQuery, Role};
use vitro_sdk::{Context, Device, DeviceType, DriverError, DriverResult, Plugin};

struct HelloServer {
    greeting: String,
}

#[vitro_sdk::device]
impl Device for HelloServer {
    async fn boot(&self, ctx: &Context) -> DriverResult<()> {
        if !std::path::Path::new("/bin/sh").exists() {
            return Err(DriverError::device("/bin/sh is missing; hello_server needs a POSIX shell"));
        }
        let kernel = tokio::fs::read_to_string("/proc/sys/kernel/osrelease").await?;
        ctx.host.progress(&ctx.device, "booted", Some(100.0)).await;
        tracing::info!(device = %ctx.device, kernel = kernel.trim(), "{}", self.greeting);
        Ok(())
    }

    async fn call(&self, ctx: &Context, method: &str, params: Value) -> DriverResult<Value> {
        match method {
            "execute_command" => {
                let command = params["command"]
                    .as_str()
                    .ok_or_else(|| DriverError::device("execute_command needs {\"command\": \"...\"}"))?;
                let output = tokio::process::Command::new("/bin/sh").arg("-c").arg(command).output().await?;
                Ok(json!({
                    "status": output.status.code(),
                    "stdout": String::from_utf8_lossy(&output.stdout),
                    "stderr": String::from_utf8_lossy(&output.stderr),
                }))
            }
            "peers" => {
                let devices =
                    ctx.host.devices(DeviceQuery::default()).await.map_err(|e| DriverError(e.into_rpc()))?;
                Ok(json!(devices.iter().map(|d| &d.name).collect::<Vec<_>>()))
            }
            other => Err(DriverError::device(format!("hello_server has no method `{other}`"))),
        }
    }
}

fn main() -> ExitCode {
    let hello = DeviceType::new("hello_server", Role::Server, |spec| {
        let greeting = spec.config["greeting"].as_str().unwrap_or("hello").to_owned();
        Ok(HelloServer { greeting })
    })
    .method("execute_command", "Run a shell command on this machine: {\"command\": \"uname -a\"}")
    .method("peers", "Names of every registered device");
    Plugin::new("hello", env!("CARGO_PKG_VERSION")).device_type(hello).run()
}
