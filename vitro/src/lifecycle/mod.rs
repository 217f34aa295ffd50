//! The deployment: reserve -> parse config -> register -> setup env -> phases -> post-setup, then
//! release, always. Phases are barriers; within a phase every device runs at once.

pub mod phases;
pub mod report;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{json, Value};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use vitro_protocol::methods::{
    DeviceCreate, DeviceHook, PluginParseConfig, PluginPostSetup, PluginRelease, PluginReserve,
    PluginSetupEnv,
};
use vitro_protocol::types::{
    Capability, ClientKind, DeploymentStatus, DeviceCreateParams, DeviceDescription, DeviceHookParams,
    DeviceTypeInfo, Hook, ParseConfigParams, ReleaseParams, ReserveParams, Role, SetupParams,
};
use vitro_protocol::ErrorKind;
use vitro_rpc::CallError;

use crate::config::{
    board_inventory, check_unique_names, merge_devices, BoardInventory, ClientTypes, ConfigError, JsonFile,
};
use crate::plugin::PluginProcess;
use crate::registry::Registry;
use crate::session::SessionState;
use phases::{timeout_for, Phase, PLUGIN_HOOK_TIMEOUT};
use report::{DeviceReport, Outcome, PhaseTotal, PluginReport, Report};

/// What the command line asks of a deployment.
#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    /// `--board-name`.
    pub board_name: Option<String>,
    /// `--env-config` (path or URL).
    pub env_config: String,
    /// `--inventory-config` (path or URL); not needed when a plugin reserves boards.
    pub inventory_config: Option<String>,
    /// `--skip-boot`.
    pub skip_boot: bool,
    /// `--ignore-devices`, split at commas.
    pub ignore_devices: Vec<String>,
    /// `--save-console-logs`.
    pub console_log_dir: Option<String>,
    /// Values of plugin-declared flags, by flag name.
    pub flag_values: BTreeMap<String, Value>,
    /// `--plugin-hook-timeout`: deadline of each plugin-level hook and `device/create`
    /// ([`PLUGIN_HOOK_TIMEOUT`] when `None`).
    pub plugin_hook_timeout: Option<Duration>,
    /// Why each plugin that could not start failed; named when a device's type is missing.
    pub broken_plugins: Vec<String>,
}

/// Why the deployment stopped.
#[derive(Debug, Clone)]
struct Failure {
    phase: String,
    message: String,
    interrupted: bool,
}

impl Failure {
    fn new(phase: &str, message: impl Into<String>) -> Self {
        Self { phase: phase.to_owned(), message: message.into(), interrupted: false }
    }
}

impl From<ConfigError> for Failure {
    fn from(err: ConfigError) -> Self {
        Failure::new("configuration", err.to_string())
    }
}

/// Where setup is, kept outside the setup future so that an interruption, which drops that
/// future, can still name the stage and record the hooks it cut short.
#[derive(Default)]
struct Tracker {
    stage: &'static str,
    stage_started: Option<Instant>,
    /// Wall time of each finished phase, in order.
    totals: Vec<PhaseTotal>,
    /// Hooks in flight: device index and when its hook started.
    running: HashMap<usize, Instant>,
}

/// A registered device.
struct Device {
    description: DeviceDescription,
    plugin: usize,
    hooks: Vec<Hook>,
    report: DeviceReport,
}

/// Prints one progress line per event to stderr, with the time since the start.
#[derive(Clone, Copy)]
pub struct Progress {
    start: Instant,
}

impl Progress {
    /// Starts the clock.
    pub fn new() -> Self {
        Self { start: Instant::now() }
    }

    /// Prints `[   1.23s] device  phase  message`.
    pub fn line(&self, device: &str, phase: &str, message: &str) {
        use std::io::Write;
        // One write per line: `eprintln!` would make one system call per formatted piece.
        let line = format_line(self.start.elapsed(), device, phase, message);
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

/// One progress line. Plugins choose device names and messages, so control characters in them
/// are escaped: no line can be forged and no escape sequence reaches the terminal.
fn format_line(elapsed: Duration, device: &str, phase: &str, message: &str) -> String {
    use vitro_protocol::names::printable;
    let (device, message) = (printable(device), printable(message));
    format!("[{:>8.2}s] {device:<16} {phase:<18} {message}\n", elapsed.as_secs_f64())
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

/// One deployment over started plugins.
pub struct Deployment<'a> {
    plugins: &'a [PluginProcess],
    registry: Arc<Registry>,
    options: DeployOptions,
    progress: Progress,
    devices: Vec<Device>,
    merged: Vec<Value>,
    env: Value,
    inventory: Value,
    tracker: std::sync::Mutex<Tracker>,
}

impl<'a> Deployment<'a> {
    /// A deployment over `plugins`, whose device lookups are answered from `registry`.
    pub fn new(
        plugins: &'a [PluginProcess],
        registry: Arc<Registry>,
        options: DeployOptions,
        progress: Progress,
    ) -> Self {
        Self {
            plugins,
            registry,
            options,
            progress,
            devices: Vec::new(),
            merged: Vec::new(),
            env: Value::Null,
            inventory: Value::Null,
            tracker: std::sync::Mutex::new(Tracker::default()),
        }
    }

    fn tracker(&self) -> std::sync::MutexGuard<'_, Tracker> {
        self.tracker.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Setup moves on to `stage`.
    fn enter(&self, stage: &'static str) {
        let mut tracker = self.tracker();
        tracker.stage = stage;
        tracker.stage_started = Some(Instant::now());
    }

    /// The failure of an interrupted setup: the stage it was in, and every hook it cut short
    /// recorded in its device's report.
    fn interrupted(&mut self) -> Failure {
        let mut tracker = self.tracker.lock().unwrap_or_else(|p| p.into_inner());
        let stage = if tracker.stage.is_empty() { "configuration" } else { tracker.stage };
        for (index, started) in tracker.running.drain() {
            let report = &mut self.devices[index].report;
            report.phases.insert(stage.to_owned(), started.elapsed().as_secs_f64());
            report.error = Some(format!("interrupted by a signal during {stage}"));
        }
        if let Some(started) = tracker.stage_started {
            tracker
                .totals
                .push(PhaseTotal { phase: stage.to_owned(), seconds: started.elapsed().as_secs_f64() });
        }
        Failure {
            phase: stage.into(),
            message: format!("interrupted by a signal during {stage}"),
            interrupted: true,
        }
    }

    /// What a live session serves about this deployment.
    fn session_state(&self) -> SessionState {
        SessionState {
            devices: self
                .devices
                .iter()
                .map(|d| (d.description.clone(), self.plugins[d.plugin].peer().clone()))
                .collect(),
            merged: self.merged.clone(),
            env: self.env.clone(),
            inventory: self.inventory.clone(),
            release: CancellationToken::new(),
            plugins: self.plugins.iter().map(|p| p.peer().clone()).collect(),
            consoles: Arc::new(crate::consoles::ConsoleHub::new(self.registry.clone())),
            contingency: self
                .devices
                .iter()
                .filter(|d| d.hooks.contains(&Hook::ContingencyCheck))
                .map(|d| d.description.name.clone())
                .collect(),
        }
    }

    /// Sets everything up, holds the bed with `hold` when setup succeeded (until its future ends
    /// or `cancel` fires), then releases it whatever happened. Stopping the plugin processes is
    /// the caller's job.
    pub async fn run<H, F>(mut self, cancel: &CancellationToken, hold: H) -> Report
    where
        H: FnOnce(Arc<SessionState>) -> F,
        F: std::future::Future<Output = ()>,
    {
        let started = Instant::now();
        let setup = tokio::select! {
            result = self.setup() => Some(result),
            () = cancel.cancelled() => None,
        };
        let mut result = setup.unwrap_or_else(|| Err(self.interrupted()));
        let setup_time = started.elapsed();
        if result.is_ok() {
            tokio::select! {
                () = hold(Arc::new(self.session_state())) => {}
                () = cancel.cancelled() => {}
            }
            if let Some(death) = self.plugin_death() {
                result = Err(death);
            }
        }
        let (outcome, status) = match &result {
            Ok(()) => (Outcome::Success, DeploymentStatus::Success),
            Err(f) if f.interrupted => (Outcome::Interrupted, DeploymentStatus::Interrupted),
            Err(_) => (Outcome::Failed, DeploymentStatus::Failed),
        };
        let error = result.as_ref().err().map(|f| f.message.clone());
        let released = Instant::now();
        self.release(status, error.clone()).await;
        Report {
            result: outcome,
            error,
            failed_phase: result.err().map(|f| f.phase),
            board: self.options.board_name.clone(),
            devices: self.devices.iter().map(|d| d.report.clone()).collect(),
            plugins: PluginReport::of_all(self.plugins),
            durations: BTreeMap::from([
                ("setup".to_owned(), setup_time.as_secs_f64()),
                ("release".to_owned(), released.elapsed().as_secs_f64()),
            ]),
            phases: std::mem::take(&mut self.tracker().totals),
        }
    }

    /// A plugin that ended while the bed was live (the host stops none before the release).
    fn plugin_death(&self) -> Option<Failure> {
        self.plugins.iter().find_map(|plugin| {
            let reason = plugin.peer().closed_reason()?;
            Some(Failure::new(
                "session",
                format!(
                    "plugin {} ended while the test bed was live: {}",
                    plugin.info().plugin.name,
                    reason.chain()
                ),
            ))
        })
    }

    fn plugin_hook_timeout(&self) -> Duration {
        self.options.plugin_hook_timeout.unwrap_or(PLUGIN_HOOK_TIMEOUT)
    }

    fn plugin_name(&self, index: usize) -> &str {
        &self.plugins[index].info().plugin.name
    }

    fn options_for(&self, plugin: usize) -> BTreeMap<String, Value> {
        let declared = &self.plugins[plugin].info().cli_args;
        self.options
            .flag_values
            .iter()
            .filter(|(name, _)| declared.iter().any(|a| &a.name == *name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn with_capability(&self, capability: Capability) -> Vec<usize> {
        (0..self.plugins.len())
            .filter(|&i| self.plugins[i].info().capabilities.contains(&capability))
            .collect()
    }

    async fn setup(&mut self) -> Result<(), Failure> {
        self.enter("configuration");
        let types = self.type_map()?;
        let env = JsonFile::load(&self.options.env_config).await?;
        let (inventory, inventory_file) = self.inventory().await?;
        check_unique_names(&inventory, &inventory_file)?;
        let client_types = self.client_types(&types);
        let merged = merge_devices(&inventory, &inventory_file, &env, &client_types)?;
        self.enter("config parsing");
        let merged = self.parse_config(merged).await?;
        check_patched(&merged)?;
        self.env = env.value;
        self.inventory = inventory_file.value.get(&inventory.board).cloned().unwrap_or_default();
        self.merged = merged.clone();
        let mut wanted = Vec::new();
        for config in merged {
            let name = config["name"].as_str().unwrap_or_default().to_owned();
            if self.options.ignore_devices.contains(&name) {
                tracing::warn!("ignoring device {name} (--ignore-devices)");
                self.progress.line(&name, "registration", "ignored (--ignore-devices)");
                continue;
            }
            let type_name = config["type"].as_str().unwrap_or_default().to_owned();
            let Some((plugin, info)) = types.get(&type_name) else {
                return Err(unknown_type(&name, &type_name, &types, &inventory, &inventory_file, self).into());
            };
            wanted.push((name, type_name, *plugin, info.clone(), config));
        }
        self.enter("registration");
        self.register(wanted).await?;
        self.enter("env setup");
        self.plugin_hooks::<PluginSetupEnv>(Capability::EnvSetup, "env setup").await?;
        let phases: &[Phase] = if self.options.skip_boot { &phases::SKIP_BOOT } else { &phases::BOOT };
        for phase in phases {
            self.run_phase(phase).await?;
        }
        self.enter("post setup");
        self.plugin_hooks::<PluginPostSetup>(Capability::PostSetup, "post setup").await?;
        Ok(())
    }

    fn type_map(&self) -> Result<HashMap<String, (usize, DeviceTypeInfo)>, Failure> {
        let mut types: HashMap<String, (usize, DeviceTypeInfo)> = HashMap::new();
        for (index, plugin) in self.plugins.iter().enumerate() {
            for info in &plugin.info().device_types {
                if let Some((other, _)) = types.get(&info.type_name) {
                    return Err(Failure::new(
                        "registration",
                        format!(
                            "device type {} is provided by both plugin {} and plugin {}; keep only one of them",
                            info.type_name,
                            self.plugin_name(*other),
                            plugin.info().plugin.name
                        ),
                    ));
                }
                types.insert(info.type_name.clone(), (index, info.clone()));
            }
        }
        Ok(types)
    }

    fn client_types(&self, types: &HashMap<String, (usize, DeviceTypeInfo)>) -> ClientTypes {
        let mut clients = ClientTypes::default();
        for (name, (_, info)) in types {
            match info.client {
                Some(ClientKind::Lan) => clients.lan.push(name.clone()),
                Some(ClientKind::Wifi) => clients.wifi.push(name.clone()),
                _ => {}
            }
        }
        clients
    }

    async fn inventory(&self) -> Result<(BoardInventory, JsonFile), Failure> {
        if let Some(&index) = self.with_capability(Capability::Reservation).first() {
            self.enter("reservation");
            let board = self.options.board_name.clone().unwrap_or_default();
            let plugin = &self.plugins[index];
            let params = ReserveParams { board_name: board.clone(), options: self.options_for(index) };
            let reserved =
                plugin.request::<PluginReserve>(&params, Some(self.plugin_hook_timeout())).await.map_err(
                    |e| Failure::new("reservation", format!("plugin {}: {e}", self.plugin_name(index))),
                )?;
            let text = serde_json::to_string_pretty(&json!({ board.clone(): reserved.inventory }))
                .map_err(|e| Failure::new("reservation", e.to_string()))?;
            let file =
                JsonFile::parse(&format!("inventory reserved by plugin {}", self.plugin_name(index)), text)?;
            return Ok((board_inventory(&file, &board)?, file));
        }
        let (Some(path), Some(board)) = (&self.options.inventory_config, &self.options.board_name) else {
            return Err(Failure::new(
                "configuration",
                "no plugin reserves boards, so --inventory-config and --board-name are needed; give both",
            ));
        };
        let file = JsonFile::load(path).await?;
        Ok((board_inventory(&file, board)?, file))
    }

    async fn parse_config(&self, mut devices: Vec<Value>) -> Result<Vec<Value>, Failure> {
        for index in self.with_capability(Capability::ConfigParsing) {
            let name = self.plugin_name(index);
            let params = ParseConfigParams { devices: devices.clone(), options: self.options_for(index) };
            let result = self.plugins[index]
                .request::<PluginParseConfig>(&params, Some(self.plugin_hook_timeout()))
                .await
                .map_err(|e| Failure::new("config parsing", format!("plugin {name}: {e}")))?;
            if result.patch.is_empty() {
                continue;
            }
            let patch: json_patch::Patch =
                serde_json::to_value(&result.patch).and_then(serde_json::from_value).map_err(|e| {
                    Failure::new(
                        "config parsing",
                        format!("plugin {name} returned an invalid JSON Patch: {e}"),
                    )
                })?;
            let mut document = Value::Array(devices);
            json_patch::patch(&mut document, &patch).map_err(|e| {
                Failure::new("config parsing", format!("plugin {name}'s JSON Patch does not apply: {e}"))
            })?;
            devices = match document {
                Value::Array(list) if list.iter().all(|d| d["name"].is_string() && d["type"].is_string()) => list,
                _ => {
                    return Err(Failure::new(
                        "config parsing",
                        format!("plugin {name}'s JSON Patch left something that is not a list of devices with `name` and `type`"),
                    ))
                }
            };
        }
        Ok(devices)
    }

    async fn register(
        &mut self,
        wanted: Vec<(String, String, usize, DeviceTypeInfo, Value)>,
    ) -> Result<(), Failure> {
        let plugins = self.plugins;
        let timeout = self.plugin_hook_timeout();
        let creations = wanted.iter().map(|(name, type_name, plugin, _, config)| {
            let params = DeviceCreateParams {
                name: name.clone(),
                type_name: type_name.clone(),
                config: config.clone(),
                console_log_dir: self.options.console_log_dir.clone(),
            };
            async move { plugins[*plugin].request::<DeviceCreate>(&params, Some(timeout)).await }
        });
        let results = join_all(creations).await;
        let mut failure = None;
        for ((name, type_name, plugin, info, config), result) in wanted.into_iter().zip(results) {
            let plugin_name = self.plugin_name(plugin).to_owned();
            match result {
                Ok(_) => {
                    let description = DeviceDescription {
                        name: name.clone(),
                        type_name: type_name.clone(),
                        role: info.role,
                        plugin: plugin_name.clone(),
                        config,
                    };
                    self.registry.insert(description.clone());
                    self.devices.push(Device {
                        description,
                        plugin,
                        hooks: info.hooks,
                        report: DeviceReport {
                            name,
                            type_name,
                            plugin: plugin_name,
                            phases: BTreeMap::new(),
                            error: None,
                        },
                    });
                }
                Err(e) => {
                    failure.get_or_insert_with(|| {
                        Failure::new("registration", format!("{name} (plugin {plugin_name}): {e}"))
                    });
                }
            }
        }
        failure.map_or(Ok(()), Err)
    }

    async fn plugin_hooks<M>(&self, capability: Capability, phase: &str) -> Result<(), Failure>
    where
        M: vitro_protocol::RequestMethod<Params = SetupParams>,
    {
        let calls = self.with_capability(capability).into_iter().map(|index| async move {
            let params = SetupParams {
                options: self.options_for(index),
                console_log_dir: self.options.console_log_dir.clone(),
            };
            (index, self.plugins[index].request::<M>(&params, Some(self.plugin_hook_timeout())).await)
        });
        for (index, result) in join_all(calls).await {
            if let Err(e) = result {
                let hint =
                    if e.kind() == ErrorKind::Timeout { " (--plugin-hook-timeout changes that)" } else { "" };
                return Err(Failure::new(phase, format!("plugin {}: {e}{hint}", self.plugin_name(index))));
            }
        }
        Ok(())
    }

    fn semaphores(&self) -> Vec<Option<Arc<Semaphore>>> {
        self.plugins
            .iter()
            .map(|p| p.info().max_concurrency.map(|n| Arc::new(Semaphore::new(n.max(1) as usize))))
            .collect()
    }

    /// Runs `phase` on every device that implements its hook, all at once, and waits for all.
    async fn run_phase(&mut self, phase: &Phase) -> Result<(), Failure> {
        self.enter(phase.name);
        let started = Instant::now();
        let outcomes = self.call_hooks(phase, true).await;
        let seconds = started.elapsed().as_secs_f64();
        if !outcomes.is_empty() {
            self.tracker().totals.push(PhaseTotal { phase: phase.name.to_owned(), seconds });
        }
        let mut failures = Vec::new();
        for (index, elapsed, result) in outcomes {
            let device = &mut self.devices[index];
            device.report.phases.insert(phase.name.to_owned(), elapsed.as_secs_f64());
            if let Err(message) = result {
                device.report.error = Some(message.clone());
                failures.push(format!(
                    "{} (plugin {}): {message}",
                    device.description.name, device.report.plugin
                ));
            }
        }
        match failures.len() {
            0 => Ok(()),
            1 => Err(Failure::new(phase.name, format!("{} failed: {}", phase.name, failures[0]))),
            n => Err(Failure::new(
                phase.name,
                format!("{} failed: {} (and {} more)", phase.name, failures[0], n - 1),
            )),
        }
    }

    async fn call_hooks(&self, phase: &Phase, show: bool) -> Vec<(usize, Duration, Result<(), String>)> {
        let semaphores = self.semaphores();
        let calls = self
            .devices
            .iter()
            .enumerate()
            .filter(|(_, d)| d.hooks.contains(&phase.hook) && phase.roles.contains(&d.description.role))
            .map(|(index, device)| {
                let semaphore = semaphores[device.plugin].clone();
                async move {
                    let _permit = match &semaphore {
                        Some(s) => s.acquire().await.ok(),
                        None => None,
                    };
                    let name = &device.description.name;
                    let started = Instant::now();
                    if show {
                        self.progress.line(name, phase.name, "started");
                        self.tracker().running.insert(index, started);
                    }
                    let timeout = timeout_for(phase, &device.description.config);
                    let params = DeviceHookParams { device: name.clone(), hook: phase.hook, env_req: None };
                    let result = self.plugins[device.plugin]
                        .request::<DeviceHook>(&params, Some(timeout))
                        .await
                        .map(|_| ())
                        .map_err(|e| describe_hook_error(phase, timeout, &e));
                    let elapsed = started.elapsed();
                    if show {
                        self.tracker().running.remove(&index);
                    }
                    let done = match &result {
                        Ok(()) => format!("done in {:.2}s", elapsed.as_secs_f64()),
                        Err(message) => format!("FAILED after {:.2}s: {message}", elapsed.as_secs_f64()),
                    };
                    if show || result.is_err() {
                        self.progress.line(name, phase.name, &done);
                    }
                    (index, elapsed, result)
                }
            });
        join_all(calls).await
    }

    /// Shuts every registered device down, then tells every plugin how it went.
    async fn release(&self, status: DeploymentStatus, error: Option<String>) {
        for (index, _, result) in self.call_hooks(&phases::SHUTDOWN, false).await {
            if let Err(message) = result {
                tracing::warn!("shutting down {} failed: {message}", self.devices[index].description.name);
            }
        }
        let params = ReleaseParams { status, error };
        let calls = self.with_capability(Capability::Release).into_iter().map(|index| {
            let params = &params;
            async move {
                (
                    index,
                    self.plugins[index]
                        .request::<PluginRelease>(params, Some(self.plugin_hook_timeout()))
                        .await,
                )
            }
        });
        for (index, result) in join_all(calls).await {
            if let Err(e) = result {
                tracing::warn!("plugin {} failed to release: {e}", self.plugin_name(index));
            }
        }
    }
}

/// Checks the device list that config-parsing plugins left: names, deadlines, no name twice.
fn check_patched(devices: &[Value]) -> Result<(), Failure> {
    for device in devices {
        if let Err(problem) = crate::config::checks::check_device(device, true) {
            let message = format!("after config parsing: {} (at {})", problem.message, problem.pointer);
            return Err(Failure::new("config parsing", format!("{message}; {}", problem.fix)));
        }
    }
    match crate::config::checks::duplicate_name(devices) {
        Some((name, _, _)) => Err(Failure::new(
            "config parsing",
            format!(
                "after config parsing, two devices are named {name:?}; every device needs a name of its own"
            ),
        )),
        None => Ok(()),
    }
}

fn describe_hook_error(phase: &Phase, timeout: Duration, error: &CallError) -> String {
    match error {
        CallError::Local(e) if e.kind() == ErrorKind::Timeout => {
            format!(
                "{} did not finish within {:?} (set vitro_timeouts in its config to change that)",
                phase.name, timeout
            )
        }
        other => other.to_string(),
    }
}

fn unknown_type(
    name: &str,
    type_name: &str,
    types: &HashMap<String, (usize, DeviceTypeInfo)>,
    inventory: &BoardInventory,
    inventory_file: &JsonFile,
    deployment: &Deployment<'_>,
) -> ConfigError {
    let mut known: Vec<String> =
        types.iter().map(|(t, (p, _))| format!("{t} (plugin {})", deployment.plugin_name(*p))).collect();
    known.sort();
    let origin = inventory
        .devices
        .iter()
        .zip(&inventory.origins)
        .find(|(d, _)| d["name"] == name)
        .map(|(_, origin)| format!("{origin}/type"))
        .unwrap_or_default();
    let broken = &deployment.options.broken_plugins;
    let fix = if !broken.is_empty() {
        format!("these plugins failed to start and may provide it; fix them: {}", broken.join("; "))
    } else if known.is_empty() {
        "no plugin is installed: put vitro-plugin-<name> executables on PATH or pass --plugin COMMAND"
            .to_owned()
    } else {
        format!("install the plugin that provides it, or use a known type: {}", known.join(", "))
    };
    inventory_file.error_at(
        &origin,
        format!("device {name:?} has type {type_name:?}, which no plugin provides"),
        fix,
    )
}

/// Role of a device type, for messages.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Server => "server",
        Role::Device => "device",
        Role::Attached => "attached",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_escape_what_plugins_send() {
        let line =
            format_line(Duration::from_millis(1500), "x\n[    0.00s] forged", "boot", "\u{1b}]0;pwned\u{7}");
        assert_eq!(line.matches('\n').count(), 1, "{line}");
        assert!(!line.contains('\u{1b}'), "{line}");
        assert!(line.starts_with("[    1.50s] x\\n[    0.00s] forged boot"), "{line}");
    }
}
