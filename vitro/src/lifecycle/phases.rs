//! The boot phases, in Python Vitro's order, and their default timeouts.

use std::time::Duration;

use vitro_protocol::types::{Hook, Role};

/// One barrier of the deployment: a hook run on every device of some roles at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phase {
    /// Name shown in progress lines and reports, e.g. `server boot`.
    pub name: &'static str,
    /// The hook called.
    pub hook: Hook,
    /// Devices of these roles take part.
    pub roles: &'static [Role],
    /// Default deadline of one device's hook.
    pub timeout: Duration,
}

const ALL: &[Role] = &[Role::Server, Role::Device, Role::Attached];
const MINUTE: Duration = Duration::from_secs(60);

/// Validate, then boot and configure servers, devices and attached devices.
pub const BOOT: [Phase; 7] = [
    Phase { name: "validate", hook: Hook::Validate, roles: ALL, timeout: MINUTE },
    Phase {
        name: "server boot",
        hook: Hook::Boot,
        roles: &[Role::Server],
        timeout: Duration::from_secs(600),
    },
    Phase {
        name: "server configure",
        hook: Hook::Configure,
        roles: &[Role::Server],
        timeout: Duration::from_secs(300),
    },
    Phase {
        name: "device boot",
        hook: Hook::Boot,
        roles: &[Role::Device],
        timeout: Duration::from_secs(600),
    },
    Phase {
        name: "device configure",
        hook: Hook::Configure,
        roles: &[Role::Device],
        timeout: Duration::from_secs(300),
    },
    Phase {
        name: "attached boot",
        hook: Hook::Boot,
        roles: &[Role::Attached],
        timeout: Duration::from_secs(600),
    },
    Phase {
        name: "attached configure",
        hook: Hook::Configure,
        roles: &[Role::Attached],
        timeout: Duration::from_secs(300),
    },
];

/// `--skip-boot`: only the skip-boot hook, as Python Vitro (its `vitro_setup_env` runs
/// `vitro_skip_boot` alone, not `validate_device_requirements`).
pub const SKIP_BOOT: [Phase; 1] =
    [Phase { name: "skip boot", hook: Hook::SkipBoot, roles: ALL, timeout: Duration::from_secs(300) }];

/// Device shutdown during release.
pub const SHUTDOWN: Phase = Phase { name: "shutdown", hook: Hook::Shutdown, roles: ALL, timeout: MINUTE };

/// Deadline of plugin-level hooks (reservation, config parsing, setup, release).
pub const PLUGIN_HOOK_TIMEOUT: Duration = Duration::from_secs(300);

/// The deadline of `hook` for a device: `vitro_timeouts.<hook>` (seconds) in its config, else the
/// phase's default. Configs are checked before any phase runs (`config::checks`); a value that
/// slipped through still cannot overflow: it falls back to the default.
pub fn timeout_for(phase: &Phase, config: &serde_json::Value) -> Duration {
    let key = phase.hook.name();
    config["vitro_timeouts"][key.as_str()]
        .as_f64()
        .and_then(|s| vitro_protocol::seconds::seconds(s).ok())
        .unwrap_or(phase.timeout)
}
