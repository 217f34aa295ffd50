//! What happened, for `--report FILE.json` (or `.html`: [`super::html`]) and the closing summary.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The outcome of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Every phase passed.
    Success,
    /// Something failed.
    Failed,
    /// SIGINT or SIGTERM stopped it.
    Interrupted,
}

/// How one hook ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HookOutcome {
    /// It returned.
    Passed,
    /// It failed (an error, its deadline, its plugin's death).
    Failed,
    /// A signal cut it short.
    Interrupted,
}

/// One hook of one device: when it ran and how it ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HookRun {
    /// The phase (`device boot`, `shutdown`...).
    pub phase: String,
    /// Seconds from `vitro`'s start to the hook's start.
    pub start: f64,
    /// Seconds it took.
    pub seconds: f64,
    /// How it ended.
    pub outcome: HookOutcome,
    /// Its error, if it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl HookRun {
    /// A hook of `phase` that started at `started` and ends now; `origin` is `vitro`'s start.
    pub fn new(
        phase: &str,
        origin: Instant,
        started: Instant,
        outcome: HookOutcome,
        error: Option<&str>,
    ) -> Self {
        Self {
            phase: phase.to_owned(),
            start: started.saturating_duration_since(origin).as_secs_f64(),
            seconds: started.elapsed().as_secs_f64(),
            outcome,
            error: error.map(str::to_owned),
        }
    }
}

/// The last lines of one console of a device, from its log (`--save-console-logs`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsoleTail {
    /// The console's name.
    pub console: String,
    /// Its last lines, oldest first.
    pub lines: Vec<String>,
}

/// One device in the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceReport {
    /// Device name.
    pub name: String,
    /// Device type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Owning plugin.
    pub plugin: String,
    /// Seconds each phase took for it, by phase name.
    pub phases: BTreeMap<String, f64>,
    /// The error of its failed hook, if one failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Every hook it ran, in order.
    #[serde(default)]
    pub hooks: Vec<HookRun>,
    /// Its merged config, secrets masked.
    #[serde(default)]
    pub config: Value,
    /// The consoles of a device that failed, with their last lines when they were logged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consoles: Vec<ConsoleTail>,
}

impl DeviceReport {
    /// Records a hook of setup: the time of its phase, its error if it did not pass, and itself.
    pub fn record(&mut self, run: HookRun) {
        self.phases.insert(run.phase.clone(), run.seconds);
        if run.outcome != HookOutcome::Passed {
            self.error = run.error.clone();
        }
        self.hooks.push(run);
    }
}

/// One plugin in the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PluginReport {
    /// Plugin name.
    pub name: String,
    /// Plugin version.
    pub version: String,
    /// How its process ended.
    pub exit: String,
}

impl PluginReport {
    /// The report of every plugin (its name, for one on an exporter `name@host`, and its
    /// process), in order, with how each process ended so far.
    pub fn of_all<'a>(
        plugins: impl IntoIterator<Item = (&'a str, &'a crate::plugin::PluginProcess)>,
    ) -> Vec<PluginReport> {
        plugins
            .into_iter()
            .map(|(name, p)| PluginReport {
                name: name.to_owned(),
                version: p.info().plugin.version.clone(),
                exit: p.exit_info().map_or_else(|| "running".into(), |e| e.summary),
            })
            .collect()
    }
}

/// How long one phase took, from its first hook's start to its last hook's end.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseTotal {
    /// Phase name.
    pub phase: String,
    /// Seconds from `vitro`'s start to the phase's start.
    #[serde(default)]
    pub start: f64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl PhaseTotal {
    /// `phase`, which started at `started` and ends now; `origin` is `vitro`'s start.
    pub fn new(phase: &str, origin: Instant, started: Instant) -> Self {
        Self {
            phase: phase.to_owned(),
            start: started.saturating_duration_since(origin).as_secs_f64(),
            seconds: started.elapsed().as_secs_f64(),
        }
    }
}

/// The whole report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// The `vitro` that wrote it.
    #[serde(default)]
    pub vitro_version: String,
    /// When `vitro` started (RFC 3339, UTC).
    #[serde(default)]
    pub started_at: String,
    /// Success, failed or interrupted.
    pub result: Outcome,
    /// The one-line cause when it did not succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The phase that failed, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_phase: Option<String>,
    /// `--board-name`.
    pub board: Option<String>,
    /// Inventory devices the config merge did not deploy and environment entries it merged into
    /// none, each with why (Python Vitro drops them without a word).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
    /// Registered devices, in deployment order.
    pub devices: Vec<DeviceReport>,
    /// Plugins, in start order.
    pub plugins: Vec<PluginReport>,
    /// Seconds spent starting the plugins, setting up and releasing.
    pub durations: BTreeMap<String, f64>,
    /// Wall-clock seconds of each phase that ran (or was cut short), in order.
    pub phases: Vec<PhaseTotal>,
}

/// Lines of a failed device's console log the report keeps.
const CONSOLE_TAIL_LINES: usize = 30;
/// Bytes read from the end of a console log to find them.
const CONSOLE_TAIL_BYTES: u64 = 64 * 1024;

/// The last lines of the console log at `path` (`None` when there is none).
fn console_tail(path: &std::path::Path) -> Option<Vec<String>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    let length = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(length.saturating_sub(CONSOLE_TAIL_BYTES))).ok()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    // A cut first line is only part of a line.
    let whole = if length > CONSOLE_TAIL_BYTES { &lines[1.min(lines.len())..] } else { &lines[..] };
    Some(whole[whole.len().saturating_sub(CONSOLE_TAIL_LINES)..].iter().map(|l| l.to_string()).collect())
}

/// `time` as RFC 3339 in UTC, to the millisecond.
pub fn rfc3339(time: std::time::SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

impl Report {
    /// Reads the last lines of each console the report names from its log under `dir` (where
    /// the run's console logs went), once the plugins that wrote them have ended.
    pub fn read_console_logs(&mut self, dir: &std::path::Path) {
        for device in &mut self.devices {
            for console in &mut device.consoles {
                let path = vitro_console_log::log::log_path(dir, &device.name, &console.console);
                console.lines = console_tail(&path).unwrap_or_default();
            }
            device.consoles.retain(|c| !c.lines.is_empty());
        }
    }

    /// Hides each of `secrets` wherever the report quotes text it did not make itself: errors,
    /// console lines, how plugins ended, and strings in configs (masked by key already) that
    /// quote one.
    pub fn hide(&mut self, secrets: &vitro_protocol::secrets::Secrets) {
        let scrub_all = |texts: &mut dyn Iterator<Item = &mut String>| {
            for text in texts {
                *text = secrets.scrub(text);
            }
        };
        scrub_all(&mut self.error.iter_mut());
        for device in &mut self.devices {
            device.config = secrets.scrub_value(&device.config);
            scrub_all(&mut device.error.iter_mut());
            scrub_all(&mut device.hooks.iter_mut().filter_map(|h| h.error.as_mut()));
            scrub_all(&mut device.consoles.iter_mut().flat_map(|c| c.lines.iter_mut()));
        }
        scrub_all(&mut self.plugins.iter_mut().map(|p| &mut p.exit));
    }

    /// The phases that ran on some device, in phase order.
    pub fn phase_names(&self) -> Vec<&'static str> {
        let mut phases: Vec<&'static str> = Vec::new();
        for phase in super::phases::BOOT.iter().chain(&super::phases::SKIP_BOOT) {
            if !phases.contains(&phase.name) && self.devices.iter().any(|d| d.phases.contains_key(phase.name))
            {
                phases.push(phase.name);
            }
        }
        phases
    }

    /// Wall-clock seconds of `phase`, if it ran.
    pub fn phase_seconds(&self, phase: &str) -> Option<f64> {
        self.phases.iter().find(|t| t.phase == phase).map(|t| t.seconds)
    }

    /// The devices, slowest first (by the seconds of all their phases).
    pub fn slowest_first(&self) -> Vec<&DeviceReport> {
        let mut devices: Vec<&DeviceReport> = self.devices.iter().collect();
        let total = |d: &DeviceReport| d.phases.values().sum::<f64>();
        devices.sort_by(|a, b| total(b).total_cmp(&total(a)));
        devices
    }

    /// Seconds per device and phase, one line per device (slowest first), in phase order, and
    /// each phase's wall time; empty without devices.
    pub fn durations_table(&self) -> String {
        let phases = self.phase_names();
        if self.devices.is_empty() {
            return String::new();
        }
        let width = self.devices.iter().map(|d| d.name.len()).max().unwrap_or(0).max(7);
        let mut table = format!("{:<width$}", "device");
        for phase in &phases {
            table.push_str(&format!("  {phase:>18}"));
        }
        table.push('\n');
        for device in self.slowest_first() {
            table.push_str(&format!("{:<width$}", device.name));
            for phase in &phases {
                let cell = device.phases.get(*phase).map_or("-".to_owned(), |s| format!("{s:.2}s"));
                table.push_str(&format!("  {cell:>18}"));
            }
            table.push('\n');
        }
        table.push_str(&format!("{:<width$}", "(phase)"));
        for phase in &phases {
            let cell = self.phase_seconds(phase).map_or("-".to_owned(), |s| format!("{s:.2}s"));
            table.push_str(&format!("  {cell:>18}"));
        }
        table.push('\n');
        table
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A failed deployment of two devices: `wan` passed, `board` failed in device boot.
    pub(in super::super) fn failed_report() -> Report {
        let hook = |phase: &str, start: f64, seconds: f64, error: Option<&str>| HookRun {
            phase: phase.into(),
            start,
            seconds,
            outcome: if error.is_some() { HookOutcome::Failed } else { HookOutcome::Passed },
            error: error.map(str::to_owned),
        };
        let device = |name: &str, hooks: Vec<HookRun>, error: Option<&str>| DeviceReport {
            name: name.into(),
            type_name: "t".into(),
            plugin: "p".into(),
            phases: hooks.iter().map(|h| (h.phase.clone(), h.seconds)).collect(),
            error: error.map(str::to_owned),
            hooks,
            config: serde_json::json!({"name": name, "password": "********"}),
            consoles: Vec::new(),
        };
        Report {
            vitro_version: "0.1.0".into(),
            started_at: "2026-12-02T10:00:00.000Z".into(),
            result: Outcome::Failed,
            error: Some("device boot failed: board (plugin p): no login prompt".into()),
            failed_phase: Some("device boot".into()),
            board: Some("bench".into()),
            left_out: vec![
                "the environment has no lan_clients, so the inventory's LAN clients lan2 is not deployed"
                    .into(),
            ],
            devices: vec![
                device(
                    "wan",
                    vec![hook("validate", 0.1, 0.5, None), hook("server boot", 0.6, 1.25, None)],
                    None,
                ),
                device(
                    "board",
                    vec![
                        hook("validate", 0.1, 0.1, None),
                        hook("device boot", 1.9, 2.0, Some("no login prompt")),
                    ],
                    Some("no login prompt"),
                ),
            ],
            plugins: vec![PluginReport {
                name: "p".into(),
                version: "1.0".into(),
                exit: "exited with status 0".into(),
            }],
            durations: BTreeMap::from([("setup".into(), 3.9)]),
            phases: vec![
                PhaseTotal { phase: "validate".into(), start: 0.1, seconds: 0.5 },
                PhaseTotal { phase: "server boot".into(), start: 0.6, seconds: 1.25 },
                PhaseTotal { phase: "device boot".into(), start: 1.9, seconds: 2.5 },
            ],
        }
    }

    #[test]
    fn the_durations_table_has_a_column_per_phase_that_ran_and_the_slowest_device_first() {
        let table = failed_report().durations_table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[3].starts_with("(phase)") && lines[3].ends_with("2.50s"), "{table}");
        assert!(lines[0].starts_with("device") && lines[0].ends_with("device boot"), "{table}");
        assert!(lines[1].starts_with("board") && lines[1].ends_with("2.00s"), "{table}");
        assert!(
            lines[2].starts_with("wan") && lines[2].contains("1.25s") && lines[2].ends_with('-'),
            "{table}"
        );
    }

    #[test]
    fn a_report_of_an_older_vitro_still_reads() {
        let old = r#"{"result": "failed", "board": "b", "devices": [{"name": "d", "type": "t",
            "plugin": "p", "phases": {"validate": 0.5}}], "plugins": [], "durations": {},
            "phases": [{"phase": "validate", "seconds": 0.5}]}"#;
        let report: Report = serde_json::from_str(old).expect("reads");
        assert_eq!(report.devices[0].hooks.len(), 0);
        assert_eq!(report.phases[0].start, 0.0);
    }
}
