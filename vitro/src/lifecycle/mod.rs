//! The deployment: reserve -> parse config -> register -> setup env -> phases -> post-setup, then
//! release, always. Phases are barriers; within a phase every device runs at once.

mod hooks;
pub mod html;
pub mod phases;
mod remote;
pub mod report;
mod setup;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use vitro_protocol::methods::DeviceConsoles;
use vitro_protocol::secrets::Secrets;
use vitro_protocol::types::{Capability, DeploymentStatus, DeviceDescription, DeviceRef, Hook, Role};

use crate::config::ConfigError;
use crate::plugin::PluginProcess;
use crate::progress::Progress;
use crate::registry::Registry;
use crate::session::SessionState;
use phases::PLUGIN_HOOK_TIMEOUT;
use remote::Plugin;
use report::{ConsoleTail, DeviceReport, HookOutcome, HookRun, Outcome, PhaseTotal, PluginReport, Report};

/// How long a failed device's plugin may take to name its consoles, for the report.
const CONSOLE_LIST_TIMEOUT: Duration = Duration::from_secs(5);

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
    /// `--skip-contingency-checks` (told to plugins that ask for `vitro`'s flags).
    pub skip_contingency_checks: bool,
    /// `--ignore-devices`, split at commas.
    pub ignore_devices: Vec<String>,
    /// `--save-console-logs`.
    pub console_log_dir: Option<String>,
    /// Where console logs go when the report wants a failed device's last console lines and
    /// `--save-console-logs` keeps none: a private directory, removed after the run.
    pub report_log_dir: Option<String>,
    /// Values of plugin-declared flags, by flag name.
    pub flag_values: BTreeMap<String, Value>,
    /// `--plugin-hook-timeout`: deadline of each plugin-level hook and `device/create`
    /// ([`PLUGIN_HOOK_TIMEOUT`] when `None`).
    pub plugin_hook_timeout: Option<Duration>,
    /// Why each plugin that could not start failed; named when a device's type is missing.
    pub broken_plugins: Vec<String>,
    /// How plugins started on exporters are started and watched (as the local ones).
    pub plugin_options: crate::plugin::PluginOptions,
    /// Where plugins started on exporters send their events.
    pub events: Option<crate::plugin::EventSink>,
}

impl DeployOptions {
    /// Where console logs are written: the user's directory, else the report's private one.
    pub fn log_dir(&self) -> Option<&String> {
        self.console_log_dir.as_ref().or(self.report_log_dir.as_ref())
    }
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
    /// Hooks of the current phase that ended, by device index (recorded in the reports when the
    /// phase ends, or when an interruption cuts it short).
    finished: Vec<(usize, HookRun)>,
}

/// A registered device.
struct Device {
    description: DeviceDescription,
    plugin: usize,
    hooks: Vec<Hook>,
    report: DeviceReport,
}

/// One deployment over started plugins.
pub struct Deployment<'a> {
    /// The started plugins (first, in their order), then those started on exporters.
    plugins: Vec<Plugin<'a>>,
    registry: Arc<Registry>,
    options: DeployOptions,
    progress: Progress,
    devices: Vec<Device>,
    merged: Vec<Value>,
    /// What the config merge left out ([`crate::config::Merged::left_out`]), for the report.
    left_out: Vec<String>,
    /// The secrets of the merged configs, masked wherever text may quote them.
    secrets: Secrets,
    env: Value,
    inventory: Value,
    /// The board in use: `--board-name`, or the one a reservation plugin chose.
    board: Option<String>,
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
            plugins: plugins.iter().map(Plugin::Local).collect(),
            registry,
            board: options.board_name.clone(),
            options,
            progress,
            devices: Vec::new(),
            merged: Vec::new(),
            left_out: Vec::new(),
            secrets: Secrets::default(),
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
        self.progress.stage(stage, 0);
        let mut tracker = self.tracker();
        tracker.stage = stage;
        tracker.stage_started = Some(Instant::now());
    }

    /// The failure of an interrupted setup: the stage it was in, and every hook it cut short
    /// recorded in its device's report.
    fn interrupted(&mut self) -> Failure {
        let tracker = self.tracker.get_mut().unwrap_or_else(|p| p.into_inner());
        let stage = if tracker.stage.is_empty() { "configuration" } else { tracker.stage };
        let origin = self.progress.started();
        for (index, run) in tracker.finished.drain(..) {
            self.devices[index].report.record(run);
        }
        let error = format!("interrupted by a signal during {stage}");
        for (index, started) in tracker.running.drain() {
            let run = HookRun::new(stage, origin, started, HookOutcome::Interrupted, Some(&error));
            self.devices[index].report.record(run);
        }
        if let Some(started) = tracker.stage_started {
            tracker.totals.push(PhaseTotal::new(stage, origin, started));
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
            board: self.board.clone(),
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
    /// the caller's job, and so are reading the console logs the report names once they have
    /// ended ([`Report::read_console_logs`]) and then hiding the secrets returned in the report
    /// ([`Report::hide`]): the report comes back as the plugins said it.
    pub async fn run<H, F>(mut self, cancel: &CancellationToken, hold: H) -> (Report, Secrets)
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
        self.progress.finish(result.is_ok());
        if result.is_ok() {
            tokio::select! {
                () = hold(Arc::new(self.session_state())) => {}
                () = cancel.cancelled() => {}
            }
            if let Some(death) = self.plugin_death() {
                result = Err(death);
            } else if cancel.is_cancelled() {
                // A signal ended the held bed: the release hears `interrupted`, not `success`.
                let mut interrupted =
                    Failure::new("session", "interrupted by a signal while the test bed was held");
                interrupted.interrupted = true;
                result = Err(interrupted);
            }
        }
        let (outcome, status) = match &result {
            Ok(()) => (Outcome::Success, DeploymentStatus::Success),
            Err(f) if f.interrupted => (Outcome::Interrupted, DeploymentStatus::Interrupted),
            Err(_) => (Outcome::Failed, DeploymentStatus::Failed),
        };
        let error = result.as_ref().err().map(|f| f.message.clone());
        let consoles = self.consoles_of_failed().await;
        let released = Instant::now();
        self.release(status, error.clone()).await;
        self.stop_remote().await;
        self.registry.console_logs.finish();
        for (index, consoles) in consoles {
            self.devices[index].report.consoles = consoles;
        }
        let report = Report {
            vitro_version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: report::rfc3339(std::time::SystemTime::now() - self.progress.started().elapsed()),
            result: outcome,
            error,
            failed_phase: result.err().map(|f| f.phase),
            board: self.board.clone(),
            left_out: std::mem::take(&mut self.left_out),
            devices: self.devices.iter().map(|d| d.report.clone()).collect(),
            plugins: PluginReport::of_all(self.plugins.iter().map(|p| (p.name(), &**p))),
            durations: BTreeMap::from([
                ("setup".to_owned(), setup_time.as_secs_f64()),
                ("release".to_owned(), released.elapsed().as_secs_f64()),
            ]),
            phases: std::mem::take(&mut self.tracker().totals),
        };
        (report, self.secrets.clone())
    }

    /// The consoles of each device that failed, by device index, when consoles are logged
    /// ([`DeployOptions::log_dir`]); their last lines are read once the plugins have ended.
    async fn consoles_of_failed(&self) -> Vec<(usize, Vec<ConsoleTail>)> {
        if self.options.log_dir().is_none() {
            return Vec::new();
        }
        let failed = self.devices.iter().enumerate().filter(|(_, d)| d.report.error.is_some());
        let asks = failed.map(|(index, device)| async move {
            let params = DeviceRef { device: device.description.name.clone() };
            let asked = self.plugins[device.plugin]
                .request::<DeviceConsoles>(&params, Some(CONSOLE_LIST_TIMEOUT))
                .await;
            let consoles = asked.map(|list| list.consoles).unwrap_or_default();
            (index, consoles.into_iter().map(|console| ConsoleTail { console, lines: Vec::new() }).collect())
        });
        join_all(asks).await
    }

    /// A plugin that ended while the bed was live (the host stops none before the release).
    fn plugin_death(&self) -> Option<Failure> {
        self.plugins.iter().find_map(|plugin| {
            let reason = plugin.peer().closed_reason()?;
            Some(Failure::new(
                "session",
                format!("plugin {} ended while the test bed was live: {}", plugin.name(), reason.chain()),
            ))
        })
    }

    fn plugin_hook_timeout(&self) -> Duration {
        self.options.plugin_hook_timeout.unwrap_or(PLUGIN_HOOK_TIMEOUT)
    }

    fn plugin_name(&self, index: usize) -> &str {
        self.plugins[index].name()
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
            .filter(|&i| {
                !self.plugins[i].is_remote() && self.plugins[i].info().capabilities.contains(&capability)
            })
            .collect()
    }
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
