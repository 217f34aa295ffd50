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
    /// The phase's own hook (protocol 1.1): a type that declares it takes part whatever its
    /// role, and is sent this hook instead of `hook`.
    pub own: Option<Hook>,
    /// Default deadline of one device's hook.
    pub timeout: Duration,
}

const ALL: &[Role] = &[Role::Server, Role::Device, Role::Attached];
const MINUTE: Duration = Duration::from_secs(60);

/// Validate, then boot and configure servers, devices and attached devices.
pub const BOOT: [Phase; 7] = [
    Phase { name: "validate", hook: Hook::Validate, roles: ALL, own: None, timeout: MINUTE },
    Phase {
        name: "server boot",
        hook: Hook::Boot,
        roles: &[Role::Server],
        own: Some(Hook::ServerBoot),
        timeout: Duration::from_secs(600),
    },
    Phase {
        name: "server configure",
        hook: Hook::Configure,
        roles: &[Role::Server],
        own: Some(Hook::ServerConfigure),
        timeout: Duration::from_secs(300),
    },
    Phase {
        name: "device boot",
        hook: Hook::Boot,
        roles: &[Role::Device],
        own: Some(Hook::DeviceBoot),
        timeout: Duration::from_secs(600),
    },
    Phase {
        name: "device configure",
        hook: Hook::Configure,
        roles: &[Role::Device],
        own: Some(Hook::DeviceConfigure),
        timeout: Duration::from_secs(300),
    },
    Phase {
        name: "attached boot",
        hook: Hook::Boot,
        roles: &[Role::Attached],
        own: Some(Hook::AttachedBoot),
        timeout: Duration::from_secs(600),
    },
    Phase {
        name: "attached configure",
        hook: Hook::Configure,
        roles: &[Role::Attached],
        own: Some(Hook::AttachedConfigure),
        timeout: Duration::from_secs(300),
    },
];

/// `--skip-boot`: only the skip-boot hook, as Python Vitro (its `vitro_setup_env` runs
/// `vitro_skip_boot` alone, not `validate_device_requirements`).
pub const SKIP_BOOT: [Phase; 1] = [Phase {
    name: "skip boot",
    hook: Hook::SkipBoot,
    roles: ALL,
    own: None,
    timeout: Duration::from_secs(300),
}];

/// Device shutdown during release.
pub const SHUTDOWN: Phase =
    Phase { name: "shutdown", hook: Hook::Shutdown, roles: ALL, own: None, timeout: MINUTE };

/// Deadline of plugin-level hooks (reservation, config parsing, setup, release).
pub const PLUGIN_HOOK_TIMEOUT: Duration = Duration::from_secs(300);

impl Phase {
    /// The hook a device of `role` whose type declares `hooks` is sent in this phase, if it
    /// takes part: the phase's own hook when declared, else the role's hook.
    pub fn hook_for(&self, role: Role, hooks: &[Hook]) -> Option<Hook> {
        match self.own {
            Some(own) if hooks.contains(&own) => Some(own),
            _ => (hooks.contains(&self.hook) && self.roles.contains(&role)).then_some(self.hook),
        }
    }
}

/// The deadline of `hook` (sent in `phase`) for a device: `vitro_timeouts.<hook>` (seconds) in
/// its config, else `vitro_timeouts.<the phase's hook>` (`boot` for `server-boot`), else the
/// phase's default. Configs are checked before any phase runs (`config::checks`); a value that
/// slipped through still cannot overflow: it falls back to the default.
pub fn timeout_for(phase: &Phase, hook: Hook, config: &serde_json::Value) -> Duration {
    [hook, phase.hook]
        .iter()
        .find_map(|key| {
            config["vitro_timeouts"][key.name().as_str()]
                .as_f64()
                .and_then(|s| vitro_protocol::seconds::seconds(s).ok())
        })
        .unwrap_or(phase.timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phase_takes_a_type_by_its_own_hook_or_by_role() {
        let server_boot = &BOOT[1];
        assert_eq!(server_boot.hook_for(Role::Server, &[Hook::Boot]), Some(Hook::Boot));
        assert_eq!(server_boot.hook_for(Role::Device, &[Hook::Boot]), None);
        assert_eq!(server_boot.hook_for(Role::Device, &[Hook::ServerBoot]), Some(Hook::ServerBoot));
        assert_eq!(
            server_boot.hook_for(Role::Server, &[Hook::Boot, Hook::ServerBoot]),
            Some(Hook::ServerBoot)
        );
        assert_eq!(BOOT[0].hook_for(Role::Attached, &[Hook::Validate]), Some(Hook::Validate));
    }

    #[test]
    fn the_own_hook_deadline_comes_first_then_the_phase_hook() {
        let config = serde_json::json!({"vitro_timeouts": {"boot": 7, "server-boot": 3}});
        assert_eq!(timeout_for(&BOOT[1], Hook::ServerBoot, &config), Duration::from_secs(3));
        assert_eq!(timeout_for(&BOOT[3], Hook::Boot, &config), Duration::from_secs(7));
        assert_eq!(timeout_for(&BOOT[2], Hook::Configure, &config), BOOT[2].timeout);
    }
}
