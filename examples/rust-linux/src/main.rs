//! `vitro-plugin-linux`: drivers for Linux hosts reached over SSH.
//!
//! - `linux_server` (role `server`, like Python Vitro's WAN or DHCP servers): `boot` connects,
//!   checks the tools it needs (`required_tools`) and records the kernel and addresses;
//!   `configure` writes `files` (path -> content) and runs `commands`, each of which must succeed.
//! - `lan_client` (role `attached`, a LAN client): the same, and during `boot` it finds the board
//!   through the host's device lookup and checks that it reaches the board's SSH port.
//!
//! Both offer `get_kernel` and `get_addresses`, and implement templates (see `contract.rs`):
//! `linux_server` is a `wan@1`, `lan_client` a `lan@1`, both `linux_host@1` (`execute_command`,
//! `ping`...). The SSH console is the device's console `ssh` (attach to it from `vitro`'s menu);
//! `shutdown` closes it.
//! Config: `ipaddr`, `port`, `username`, `password` and/or `key`, `host_key_check`, `prompt`
//! (see `vitro_sdk::console::connect`; `connection_type` defaults to `authenticated_ssh`).

mod contract;

use std::process::ExitCode;
use std::sync::Arc;

use parking_lot::Mutex;
use std::time::Duration;

use serde_json::{json, Value};
use vitro_sdk::console::{connect, ConnectOptions, Console};
use vitro_sdk::protocol::types::{ClientKind, Role};
use vitro_sdk::{templates, Context, Device, DeviceSpec, DeviceType, DriverError, DriverResult, Plugin};

const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// Tools a host needs unless its config says otherwise.
const DEFAULT_TOOLS: &[&str] = &["sh", "uname", "cat"];

/// What `boot` learnt about the host.
#[derive(Default)]
struct Facts {
    kernel: String,
    addresses: Vec<String>,
}

struct LinuxHost {
    name: String,
    config: Value,
    log_dir: Option<std::path::PathBuf>,
    /// A LAN client also checks that it reaches the board.
    client: bool,
    console: Mutex<Option<Arc<Console>>>,
    facts: Mutex<Facts>,
}

impl LinuxHost {
    fn new(spec: DeviceSpec, client: bool) -> Self {
        Self {
            name: spec.name,
            config: spec.config,
            log_dir: spec.console_log_dir,
            client,
            console: Mutex::new(None),
            facts: Mutex::new(Facts::default()),
        }
    }

    fn console(&self) -> DriverResult<Arc<Console>> {
        self.console.lock().clone().ok_or_else(|| {
            DriverError::new(
                vitro_sdk::protocol::ErrorKind::InvalidState,
                format!("{} has no console: it was not booted", self.name),
            )
        })
    }

    /// Runs `command`; fails with its output when its exit status is not 0.
    async fn run_checked(&self, command: &str) -> DriverResult<String> {
        let output = self
            .console()?
            .check_output(&format!("{command}; echo vitro-status=$?"), COMMAND_TIMEOUT)
            .await?;
        let (body, status) = output.rsplit_once("vitro-status=").unwrap_or((&output, "?"));
        if status.trim() != "0" {
            return Err(DriverError::device(format!(
                "{}: `{command}` failed with status {}: {}",
                self.name,
                status.trim(),
                body.trim()
            )));
        }
        Ok(body.trim_end().to_owned())
    }

    async fn connect(&self, ctx: &Context) -> DriverResult<()> {
        let mut config = self.config.clone();
        if config.get("connection_type").is_none() {
            config["connection_type"] = json!("authenticated_ssh");
        }
        let options =
            ConnectOptions { log_dir: self.log_dir.clone(), console: "ssh".into(), ..Default::default() };
        let console = Arc::new(connect(&config, &options).await?);
        ctx.add_console("ssh", console.clone());
        console.expect_prompt(COMMAND_TIMEOUT).await?;
        *self.console.lock() = Some(console);
        Ok(())
    }

    async fn check_tools(&self) -> DriverResult<()> {
        let tools: Vec<String> = match self.config.get("required_tools").and_then(Value::as_array) {
            Some(list) => list.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            None => DEFAULT_TOOLS.iter().map(|t| (*t).to_owned()).collect(),
        };
        let probe = tools
            .iter()
            .map(|t| format!("command -v {t} >/dev/null || echo missing:{t}"))
            .collect::<Vec<_>>();
        let output = self.run_checked(&format!("{}; true", probe.join("; "))).await?;
        let missing: Vec<&str> = output.lines().filter_map(|l| l.trim().strip_prefix("missing:")).collect();
        if !missing.is_empty() {
            return Err(DriverError::device(format!(
                "{}: the host lacks {}; install {} or remove {} from required_tools",
                self.name,
                missing.join(", "),
                if missing.len() == 1 { "it" } else { "them" },
                if missing.len() == 1 { "it" } else { "them" },
            )));
        }
        Ok(())
    }

    async fn record_facts(&self) -> DriverResult<()> {
        let kernel = self.run_checked("uname -sr").await?;
        let addresses = self
            .run_checked("(hostname -I 2>/dev/null || hostname -i 2>/dev/null) | tr -s ' ' '\\n'")
            .await?
            .lines()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect();
        *self.facts.lock() = Facts { kernel, addresses };
        Ok(())
    }

    /// Finds the board through the host and checks that this client reaches its SSH port.
    async fn reach_board(&self, ctx: &Context) -> DriverResult<String> {
        let boards = ctx.host.devices_with_role(Role::Device).await.map_err(|e| DriverError(e.into_rpc()))?;
        let board = boards
            .first()
            .ok_or_else(|| DriverError::device(format!("{}: the bed has no board", self.name)))?;
        let host = board.config["ipaddr"].as_str().unwrap_or("127.0.0.1").to_owned();
        let port = board.config["ssh_port"].as_u64().ok_or_else(|| {
            DriverError::device(format!(
                "{}: board {} has no `ssh_port` in its config",
                self.name, board.name
            ))
        })?;
        let probe = format!("timeout 5 bash -c '</dev/tcp/{host}/{port}'");
        self.run_checked(&probe).await.map_err(|e| {
            DriverError::device(format!(
                "{}: cannot reach board {} at {host}:{port}: {e}",
                self.name, board.name
            ))
        })?;
        Ok(format!("{} at {host}:{port}", board.name))
    }
}

#[vitro_sdk::device]
impl Device for LinuxHost {
    async fn boot(&self, ctx: &Context) -> DriverResult<()> {
        self.connect(ctx).await?;
        self.check_tools().await?;
        self.record_facts().await?;
        let facts = {
            let facts = self.facts.lock();
            format!("kernel {}, addresses {}", facts.kernel, facts.addresses.join(" "))
        };
        ctx.host.progress(&ctx.device, &facts, None).await;
        if self.client {
            let board = self.reach_board(ctx).await?;
            ctx.host.progress(&ctx.device, &format!("reaches board {board}"), None).await;
        }
        Ok(())
    }

    async fn skip_boot(&self, ctx: &Context) -> DriverResult<()> {
        self.connect(ctx).await?;
        self.record_facts().await
    }

    async fn configure(&self, ctx: &Context) -> DriverResult<()> {
        if let Some(files) = self.config.get("files").and_then(Value::as_object) {
            for (path, content) in files {
                let content = content.as_str().map_or_else(|| content.to_string(), str::to_owned);
                let command = format!("printf '{}\\n' > '{path}'", printf_escaped(&content));
                self.run_checked(&command).await?;
            }
        }
        for command in self.config.get("commands").and_then(Value::as_array).into_iter().flatten() {
            let command =
                command.as_str().ok_or_else(|| DriverError::device("`commands` must be strings"))?;
            self.run_checked(command).await?;
        }
        ctx.host.progress(&ctx.device, "configured", None).await;
        Ok(())
    }

    async fn shutdown(&self, _ctx: &Context) -> DriverResult<()> {
        let console = self.console.lock().take();
        if let Some(console) = console {
            console.close().await;
        }
        Ok(())
    }

    async fn call(&self, ctx: &Context, method: &str, params: Value) -> DriverResult<Value> {
        // A LAN client answers lan@1 (and linux_host@1), a server wan@1 (and linux_host@1).
        let routed = if self.client {
            templates::lan_v1::route(self, ctx, method, &params).await
        } else {
            templates::wan_v1::route(self, ctx, method, &params).await
        };
        if let Some(result) = routed {
            return result;
        }
        match method {
            "get_kernel" => Ok(json!(self.facts.lock().kernel)),
            "get_addresses" => Ok(json!(self.facts.lock().addresses)),
            other => Err(DriverError::new(
                vitro_sdk::protocol::ErrorKind::MethodNotFound,
                format!("{} has no method `{other}`", self.name),
            )),
        }
    }
}

/// `text` for a single-quoted printf format on one line: octal escapes for everything but plain
/// characters, so newlines, quotes, `%` and `\` survive the shell and the console.
fn printf_escaped(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b' ' | b'.' | b'-' | b'_' | b'/' | b':' | b',' => {
                (b as char).to_string()
            }
            _ => format!("\\{b:03o}"),
        })
        .collect()
}

fn linux_type(name: &str, role: Role, client: bool) -> DeviceType {
    DeviceType::new(name, role, move |spec| Ok(LinuxHost::new(spec, client)))
        .template(contract::declaration(client))
        .method("get_date", "The host's date and time (date -Iseconds)")
        .method("get_interface_macaddr", "The MAC address of an interface")
        .method("get_kernel", "The kernel `uname -sr` reported at boot")
        .method("get_addresses", "The host's addresses found at boot")
}

fn main() -> ExitCode {
    Plugin::new("linux", env!("CARGO_PKG_VERSION"))
        .device_type(linux_type("linux_server", Role::Server, false))
        .device_type(linux_type("lan_client", Role::Attached, true).client(ClientKind::Lan))
        .run()
}

#[cfg(test)]
mod tests {
    #[test]
    fn printf_escaped_keeps_plain_text_and_escapes_the_rest() {
        assert_eq!(super::printf_escaped("a b/c"), "a b/c");
        assert_eq!(super::printf_escaped("it's\n100%\\"), "it\\047s\\012100\\045\\134");
    }
}
