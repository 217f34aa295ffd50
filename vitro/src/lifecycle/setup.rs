//! Setup before the phases: the plugins' device types, the config (files or a reservation
//! plugin, then config-parsing plugins), and registering every device in its plugin.

use std::collections::{BTreeMap, HashMap};

use futures_util::future::join_all;
use serde_json::{json, Value};
use vitro_protocol::methods::{
    DeviceCreate, PluginConfigure, PluginParseConfig, PluginPostSetup, PluginReserve, PluginSetupEnv,
};
use vitro_protocol::session::SessionConfig;
use vitro_protocol::types::{
    Capability, ConfigureParams, DeviceCreateParams, DeviceDescription, DeviceTypeInfo, HostArgs,
    ParseConfigParams, ReserveParams,
};

use super::phases::{self, Phase};
use super::remote;
use super::report::DeviceReport;
use super::{Deployment, Device, Failure};
use crate::config::{
    board_inventory, check_unique_names, merge_devices, BoardInventory, ClientTypes, ConfigError, JsonFile,
    Merged,
};
use vitro_protocol::secrets::Secrets;

impl<'a> Deployment<'a> {
    /// Everything before the live session: config, registration, env setup, the phases and
    /// post-setup; the first failure ends it.
    pub(super) async fn setup(&mut self) -> Result<(), Failure> {
        self.enter("configuration");
        let types = self.type_map()?;
        self.configure_plugins().await?;
        let env = JsonFile::load(&self.options.env_config).await?;
        let (inventory, inventory_file) = self.inventory().await?;
        check_unique_names(&inventory, &inventory_file)?;
        let names = self.plugins.iter().map(|p| p.name().to_owned()).collect();
        let client_types = ClientTypes::with_declared(types.values().map(|(_, info)| info)).asked(names);
        let Merged { devices: merged, left_out } =
            merge_devices(&inventory, &inventory_file, &env, &client_types)?;
        for note in &left_out {
            tracing::warn!("{note}");
        }
        self.left_out = left_out;
        self.env = env.value.clone();
        self.inventory = inventory_file.value.get(&inventory.board).cloned().unwrap_or_default();
        self.enter("config parsing");
        let merged = self.parse_config(merged).await?;
        check_patched(&merged)?;
        self.secrets = Secrets::of(&merged);
        self.progress.hide(self.secrets.clone());
        self.merged = merged.clone();
        self.registry.set_config(SessionConfig {
            devices: merged.clone(),
            env: self.env.clone(),
            inventory: self.inventory.clone(),
        });
        let mut wanted = Vec::new();
        for config in merged {
            let name = config["name"].as_str().unwrap_or_default().to_owned();
            if self.options.ignore_devices.contains(&name) {
                tracing::warn!("ignoring device {name} (--ignore-devices)");
                self.progress.note(Some(&name), "registration", "ignored (--ignore-devices)");
                continue;
            }
            let type_name = config["type"].as_str().unwrap_or_default().to_owned();
            let Some((plugin, info)) = types.get(&type_name) else {
                return Err(unknown_type(&name, &type_name, &types, &inventory, &inventory_file, self).into());
            };
            let plugin = match remote::host_of(&config) {
                Ok(Some(host)) => self.remote_plugin(&host, *plugin, &type_name).await?,
                Ok(None) => *plugin,
                Err(e) => return Err(Failure::new("configuration", format!("device {name}: {e}"))),
            };
            wanted.push((name, type_name, plugin, info.clone(), config));
        }
        self.check_config_schemas(&wanted, &inventory, &inventory_file, &env)?;
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

    pub(super) fn type_map(&self) -> Result<HashMap<String, (usize, DeviceTypeInfo)>, Failure> {
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

    /// `plugin/configure`: `vitro`'s own flags, to the plugins that ask for them.
    async fn configure_plugins(&self) -> Result<(), Failure> {
        let options = &self.options;
        let args = HostArgs {
            board_name: options.board_name.clone(),
            env_config: Some(options.env_config.clone()),
            inventory_config: options.inventory_config.clone(),
            skip_boot: options.skip_boot,
            skip_contingency_checks: options.skip_contingency_checks,
            save_console_logs: options.console_log_dir.clone(),
            ignore_devices: options.ignore_devices.clone(),
        };
        let calls = self.with_capability(Capability::Configure).into_iter().map(|index| {
            let params = ConfigureParams { args: args.clone(), options: self.options_for(index) };
            async move {
                let result = self.plugins[index]
                    .request::<PluginConfigure>(&params, Some(self.plugin_hook_timeout()))
                    .await;
                (index, result)
            }
        });
        for (index, result) in join_all(calls).await {
            if let Err(e) = result {
                return Err(Failure::new(
                    "configuration",
                    format!("plugin {}: {e}", self.plugin_name(index)),
                ));
            }
        }
        Ok(())
    }

    pub(super) async fn inventory(&mut self) -> Result<(BoardInventory, JsonFile), Failure> {
        if let Some(&index) = self.with_capability(Capability::Reservation).first() {
            self.enter("reservation");
            let asked = self.options.board_name.clone().unwrap_or_default();
            let plugin = &self.plugins[index];
            let params = ReserveParams { board_name: asked.clone(), options: self.options_for(index) };
            // Waiting for a board is the plugin's job, with a limit of its own; pings still watch
            // it. Only an explicit --plugin-hook-timeout bounds it here.
            let reserved =
                plugin.request::<PluginReserve>(&params, self.options.plugin_hook_timeout).await.map_err(
                    |e| Failure::new("reservation", format!("plugin {}: {e}", self.plugin_name(index))),
                )?;
            let board = reserved.board_name.clone().unwrap_or(asked);
            self.board = Some(board.clone());
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

    pub(super) async fn parse_config(&self, mut devices: Vec<Value>) -> Result<Vec<Value>, Failure> {
        for index in self.with_capability(Capability::ConfigParsing) {
            let name = self.plugin_name(index);
            let params = ParseConfigParams {
                devices: devices.clone(),
                options: self.options_for(index),
                env: Some(self.env.clone()),
                inventory: Some(self.inventory.clone()),
            };
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

    pub(super) async fn register(
        &mut self,
        wanted: Vec<(String, String, usize, DeviceTypeInfo, Value)>,
    ) -> Result<(), Failure> {
        let plugins = &self.plugins;
        let timeout = self.plugin_hook_timeout();
        let log_dir = self.options.log_dir().cloned();
        let creations = wanted.iter().map(|(name, type_name, plugin, _, config)| {
            // A plugin on an exporter streams its consoles here, and the logs are written here.
            let stream = plugins[*plugin].is_remote() && log_dir.is_some();
            if let (true, Some(dir)) = (stream, &log_dir) {
                self.registry.console_logs.keep(name, dir.into());
            }
            let params = DeviceCreateParams {
                name: name.clone(),
                type_name: type_name.clone(),
                config: config.clone(),
                console_log_dir: if stream { None } else { log_dir.clone() },
                console_log_stream: stream,
            };
            async move { plugins[*plugin].request::<DeviceCreate>(&params, Some(timeout)).await }
        });
        let results = join_all(creations).await;
        let mut failure = None;
        for ((name, type_name, plugin, info, config), result) in wanted.into_iter().zip(results) {
            let plugin_name = self.plugin_name(plugin).to_owned();
            match result {
                Ok(created) => {
                    let description = DeviceDescription {
                        name: name.clone(),
                        type_name: type_name.clone(),
                        role: info.role,
                        plugin: plugin_name.clone(),
                        config,
                        classes: info.classes,
                        implements: info.implements,
                        methods: created.methods.unwrap_or(info.methods),
                    };
                    self.registry.insert(description.clone(), Some(plugins[plugin].peer().clone()));
                    self.progress.device(&name, &type_name, &plugin_name);
                    let config = vitro_protocol::secrets::masked(&description.config);
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
                            hooks: Vec::new(),
                            config,
                            consoles: Vec::new(),
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

    /// Checks each device's merged config against the `config_schema` its type publishes, before
    /// any device is created; an error points at the value in the inventory or the environment.
    fn check_config_schemas(
        &self,
        wanted: &[(String, String, usize, DeviceTypeInfo, Value)],
        inventory: &BoardInventory,
        inventory_file: &JsonFile,
        env: &JsonFile,
    ) -> Result<(), ConfigError> {
        let mut validators: HashMap<&str, jsonschema::Validator> = HashMap::new();
        for (name, type_name, plugin, info, config) in wanted {
            let Some(schema) = &info.config_schema else { continue };
            if !validators.contains_key(type_name.as_str()) {
                let validator = jsonschema::validator_for(schema).map_err(|e| ConfigError {
                    file: format!("plugin {}", self.plugin_name(*plugin)),
                    position: None,
                    message: format!(
                        "the config_schema of device type {type_name} is not a valid JSON Schema: {e}"
                    ),
                    fix: "fix the plugin's config_schema".into(),
                })?;
                validators.insert(type_name, validator);
            }
            let Some(error) = validators[type_name.as_str()].iter_errors(config).next() else { continue };
            let at = error.instance_path().to_string();
            let message = format!(
                "device {name:?} does not fit the config_schema of type {type_name} (plugin {}): {error}{}",
                self.plugin_name(*plugin),
                if at.is_empty() { String::new() } else { format!(" (at {at})") }
            );
            let fix = "change the device's config to what its type asks, or see `vitro plugins list`";
            let origin = inventory.origin_of(name).unwrap_or_default();
            let in_inventory = inventory_file.error_at(&format!("{origin}{at}"), message.clone(), fix);
            if in_inventory.position.is_some() {
                return Err(in_inventory);
            }
            let in_env = env.error_at(
                &format!("/environment_def/{}{at}", crate::config::source::escape_token(name)),
                message.clone(),
                fix,
            );
            if in_env.position.is_some() {
                return Err(in_env);
            }
            return Err(inventory_file.error_at(origin, message, fix));
        }
        Ok(())
    }
}

/// Checks the device list that config-parsing plugins left: names, deadlines, no name twice.
fn check_patched(devices: &[Value]) -> Result<(), Failure> {
    for device in devices {
        if let Err(problem) = crate::config::checks::check_device(device) {
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
    let origin = inventory.origin_of(name).map_or(String::new(), |origin| format!("{origin}/type"));
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
