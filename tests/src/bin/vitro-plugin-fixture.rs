//! A plugin for the tests, built on the Rust SDK, that can misbehave on request.
//!
//! Flags: `--mode normal|hang-initialize|ignore-sigterm`, `--versions 1.0,2.3` (claimed protocol
//! versions), `--tag TEXT` (ignored; lets tests find the process by its command line),
//! `--name NAME`, `--types PREFIX` (type names, default `fixture`), `--trace FILE` (plugin hooks
//! append what they did), `--reserve FILE` (reservation returns that file's JSON), `--patch JSON`
//! (config parsing returns that RFC 6902 patch), `--cli-arg NAME` (declares `--NAME VALUE`),
//! `--max-concurrency N`, `--setup-sleep-ms N` (env setup sleeps that long), `--config-schema JSON` (every type publishes it).
//!
//! Device types `PREFIX` (device), `PREFIX_server`, `PREFIX_attached` and `PREFIX_lan` (attached,
//! a LAN client) implement every hook. A device's config steers its hooks: `hook_ms` (each hook
//! sleeps that long), `sleep_ms` (`{"boot": 500}`: only that hook sleeps), `until_file`
//! (`{"boot": PATH}`: that hook waits until PATH exists), `fail` (the hook of that name fails,
//! with `fail_message` if given; `create`: the device is refused), `crash` (the process exits with 3 in
//! that hook), `trace` (a file each hook appends `<device> <hook>` to). Its methods echo, sleep,
//! block, panic, exit, kill themselves (each call is traced as `<device> call <method>`), flood notifications (`flood`: progress, `log_flood`: logs), send huge answers, print to stdout,
//! look up other devices through the host and spawn a grandchild process.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use vitro_sdk::console::ConnectOptions;
use vitro_sdk::protocol::types::{
    Capability, CliArg, ClientKind, DeviceQuery, ParseConfigParams, ParseConfigResult, ReleaseParams,
    ReserveParams, ReserveResult, Role, SetupParams,
};
use vitro_sdk::protocol::ProtocolVersion;
use vitro_sdk::{
    async_trait, Context, Device, DeviceType, DriverError, DriverResult, Host, Plugin, PluginHooks,
};

struct Fixture {
    config: Value,
    log_dir: Option<PathBuf>,
}

/// How many `sleep` calls ended without finishing (their future was dropped by a cancel).
static SLEEPS_CANCELLED: AtomicU64 = AtomicU64::new(0);
/// `sleep` calls that have begun (a test waits on it to know a call is in flight).
static SLEEPS_STARTED: AtomicU64 = AtomicU64::new(0);

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

/// Appends `line` in one write, so hooks tracing at the same time never interleave.
fn append(path: &str, line: &str) {
    use std::io::Write;
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = file.write_all(format!("{line}\n").as_bytes());
    }
}

impl Fixture {
    async fn hook(&self, ctx: &Context, hook: &str) -> DriverResult<()> {
        if let Some(trace) = self.config["trace"].as_str() {
            append(trace, &format!("{} {hook}", ctx.device));
        }
        if self.config["crash"] == hook {
            eprintln!("{} crashes in {hook} on purpose", ctx.device);
            std::process::exit(3);
        }
        let ms = self.config["sleep_ms"][hook].as_u64().or_else(|| self.config["hook_ms"].as_u64());
        if let Some(ms) = ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if let Some(path) = self.config["until_file"][hook].as_str() {
            while !std::path::Path::new(path).exists() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        if (hook == "boot" || hook == "skip-boot") && self.config.get("connection_type").is_some() {
            let options = ConnectOptions { log_dir: self.log_dir.clone(), ..ConnectOptions::default() };
            let console = vitro_sdk::console::connect(&self.config, &options).await?;
            ctx.add_console("console", Arc::new(console));
        }
        if self.config["fail"] == hook {
            let message = self.config["fail_message"].as_str().map(str::to_owned);
            return Err(DriverError::device(
                message.unwrap_or_else(|| format!("{} refuses to {hook}", ctx.device)),
            ));
        }
        Ok(())
    }
}

#[vitro_sdk::device]
impl Device for Fixture {
    async fn validate(&self, ctx: &Context) -> DriverResult<()> {
        self.hook(ctx, "validate").await
    }
    async fn boot(&self, ctx: &Context) -> DriverResult<()> {
        self.hook(ctx, "boot").await
    }
    async fn configure(&self, ctx: &Context) -> DriverResult<()> {
        self.hook(ctx, "configure").await
    }
    async fn skip_boot(&self, ctx: &Context) -> DriverResult<()> {
        self.hook(ctx, "skip-boot").await
    }
    async fn contingency_check(&self, ctx: &Context, _env_req: &Value) -> DriverResult<()> {
        self.hook(ctx, "contingency-check").await
    }
    async fn shutdown(&self, ctx: &Context) -> DriverResult<()> {
        self.hook(ctx, "shutdown").await
    }

    async fn call(&self, ctx: &Context, method: &str, params: Value) -> DriverResult<Value> {
        if let Some(trace) = self.config["trace"].as_str() {
            append(trace, &format!("{} call {method}", ctx.device));
        }
        match method {
            "echo" => Ok(params),
            "config" => Ok(self.config.clone()),
            "sleep" => {
                SLEEPS_STARTED.fetch_add(1, Ordering::SeqCst);
                let mut guard = SleepGuard(false);
                tokio::time::sleep(ms(&params)).await;
                guard.0 = true;
                Ok(json!("slept"))
            }
            "sleeps_cancelled" => Ok(json!(SLEEPS_CANCELLED.load(Ordering::SeqCst))),
            "sleeps_started" => Ok(json!(SLEEPS_STARTED.load(Ordering::SeqCst))),
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
            "log_flood" => {
                let n = params["n"].as_u64().unwrap_or(0);
                for i in 0..n {
                    tracing::info!(device = %ctx.device, "flood line {i} of the fixture's log flood");
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

/// Plugin-level hooks, switched on by flags.
struct Hooks {
    trace: Option<String>,
    setup_sleep_ms: u64,
    reserve: Option<String>,
    patch: Option<String>,
}

impl Hooks {
    fn trace(&self, line: String) {
        if let Some(path) = &self.trace {
            append(path, &line);
        }
    }
}

#[async_trait]
impl PluginHooks for Hooks {
    async fn reserve(&self, _host: &Host, params: ReserveParams) -> DriverResult<ReserveResult> {
        self.trace(format!("plugin reserve {}", params.board_name));
        let path = self.reserve.as_deref().unwrap_or_default();
        let inventory = serde_json::from_str(&std::fs::read_to_string(path)?)?;
        Ok(ReserveResult { inventory, board_name: None })
    }
    async fn parse_config(&self, _host: &Host, params: ParseConfigParams) -> DriverResult<ParseConfigResult> {
        self.trace(format!("plugin parseConfig {}", params.devices.len()));
        let patch = serde_json::from_str(self.patch.as_deref().unwrap_or("[]"))?;
        Ok(ParseConfigResult { patch })
    }
    async fn setup_env(&self, _host: &Host, params: SetupParams) -> DriverResult<()> {
        self.trace(format!("plugin setupEnv {}", serde_json::to_string(&params.options)?));
        tokio::time::sleep(Duration::from_millis(self.setup_sleep_ms)).await;
        Ok(())
    }
    async fn post_setup(&self, _host: &Host, _params: SetupParams) -> DriverResult<()> {
        self.trace("plugin postSetup".into());
        Ok(())
    }
    async fn release(&self, _host: &Host, params: ReleaseParams) -> DriverResult<()> {
        self.trace(format!("plugin release {}", serde_json::to_string(&params.status)?));
        Ok(())
    }
}

fn fixture_type(name: &str, role: Role) -> DeviceType {
    DeviceType::new(name, role, |spec| {
        if spec.config["fail"] == "create" {
            return Err(DriverError::device(format!("{} refuses to be created", spec.name)));
        }
        Ok(Fixture { config: spec.config, log_dir: spec.console_log_dir })
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let mode = flag("--mode").unwrap_or_else(|| "normal".into());
    let prefix = flag("--types").unwrap_or_else(|| "fixture".into());
    let schema: Option<Value> = flag("--config-schema").and_then(|text| serde_json::from_str(&text).ok());
    let implements = flag("--implements");
    let typed = |name: String, role: Role| {
        let mut device_type = fixture_type(&name, role);
        if let Some(template) = &implements {
            device_type = device_type.implements(template);
        }
        match &schema {
            Some(schema) => device_type.config_schema(schema.clone()),
            None => device_type,
        }
    };
    let mut plugin = Plugin::new(&flag("--name").unwrap_or_else(|| "fixture".into()), "0.1.0")
        .device_type(typed(prefix.clone(), Role::Device))
        .device_type(typed(format!("{prefix}_server"), Role::Server))
        .device_type(typed(format!("{prefix}_attached"), Role::Attached))
        .device_type(typed(format!("{prefix}_lan"), Role::Attached).client(ClientKind::Lan));
    let hooks = Hooks {
        trace: flag("--trace"),
        setup_sleep_ms: flag("--setup-sleep-ms").and_then(|ms| ms.parse().ok()).unwrap_or(0),
        reserve: flag("--reserve"),
        patch: flag("--patch"),
    };
    let mut capabilities = vec![Capability::EnvSetup, Capability::PostSetup, Capability::Release];
    if hooks.reserve.is_some() {
        capabilities.push(Capability::Reservation);
    }
    if hooks.patch.is_some() {
        capabilities.push(Capability::ConfigParsing);
    }
    plugin = plugin.hooks(hooks, &capabilities);
    if let Some(name) = flag("--cli-arg") {
        plugin = plugin.cli_arg(CliArg {
            help: format!("{name} for the fixture"),
            name,
            takes_value: true,
            default: None,
        });
    }
    if let Some(n) = flag("--max-concurrency").and_then(|n| n.parse().ok()) {
        plugin = plugin.max_concurrency(n);
    }
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
