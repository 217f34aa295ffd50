//! What happened, for `--report FILE.json` and the closing summary.

use std::collections::BTreeMap;

use serde::Serialize;

/// The outcome of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Every phase passed.
    Success,
    /// Something failed.
    Failed,
    /// SIGINT or SIGTERM stopped it.
    Interrupted,
}

/// One device in the report.
#[derive(Debug, Clone, Serialize)]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One plugin in the report.
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
pub struct PhaseTotal {
    /// Phase name.
    pub phase: String,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Success, failed or interrupted.
    pub result: Outcome,
    /// The one-line cause when it did not succeed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The phase that failed, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_phase: Option<String>,
    /// `--board-name`.
    pub board: Option<String>,
    /// Registered devices, in deployment order.
    pub devices: Vec<DeviceReport>,
    /// Plugins, in start order.
    pub plugins: Vec<PluginReport>,
    /// Seconds spent starting the plugins, setting up and releasing.
    pub durations: BTreeMap<String, f64>,
    /// Wall-clock seconds of each phase that ran (or was cut short), in order.
    pub phases: Vec<PhaseTotal>,
}

impl Report {
    /// Seconds per device and phase, one line per device, in phase order; empty without devices.
    pub fn durations_table(&self) -> String {
        let mut phases: Vec<&str> = Vec::new();
        for phase in super::phases::BOOT.iter().chain(&super::phases::SKIP_BOOT) {
            if !phases.contains(&phase.name) && self.devices.iter().any(|d| d.phases.contains_key(phase.name))
            {
                phases.push(phase.name);
            }
        }
        if self.devices.is_empty() {
            return String::new();
        }
        let width = self.devices.iter().map(|d| d.name.len()).max().unwrap_or(0).max(7);
        let mut table = format!("{:<width$}", "device");
        for phase in &phases {
            table.push_str(&format!("  {phase:>18}"));
        }
        table.push('\n');
        for device in &self.devices {
            table.push_str(&format!("{:<width$}", device.name));
            for phase in &phases {
                let cell = device.phases.get(*phase).map_or("-".to_owned(), |s| format!("{s:.2}s"));
                table.push_str(&format!("  {cell:>18}"));
            }
            table.push('\n');
        }
        table.push_str(&format!("{:<width$}", "(phase)"));
        for phase in &phases {
            let total = self.phases.iter().find(|t| t.phase == *phase);
            let cell = total.map_or("-".to_owned(), |t| format!("{:.2}s", t.seconds));
            table.push_str(&format!("  {cell:>18}"));
        }
        table.push('\n');
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_durations_table_has_a_column_per_phase_that_ran() {
        let device = |name: &str, phases: &[(&str, f64)]| DeviceReport {
            name: name.into(),
            type_name: "t".into(),
            plugin: "p".into(),
            phases: phases.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            error: None,
        };
        let report = Report {
            result: Outcome::Success,
            error: None,
            failed_phase: None,
            board: None,
            devices: vec![
                device("wan", &[("validate", 0.5), ("server boot", 1.25)]),
                device("board", &[("validate", 0.1), ("device boot", 2.0)]),
            ],
            plugins: Vec::new(),
            durations: BTreeMap::new(),
            phases: vec![PhaseTotal { phase: "device boot".into(), seconds: 2.5 }],
        };
        let table = report.durations_table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[3].starts_with("(phase)") && lines[3].ends_with("2.50s"), "{table}");
        assert!(lines[0].starts_with("device") && lines[0].ends_with("device boot"), "{table}");
        assert!(lines[1].contains("1.25s") && lines[1].trim_end().ends_with('-'), "{table}");
        assert!(lines[2].trim_end().ends_with("2.00s"), "{table}");
    }
}
