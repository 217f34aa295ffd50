//! `vitro config`: the merged device list, as Python Vitro computes it.

use std::process::ExitCode;
use std::sync::Arc;

use serde_json::Value;

use super::args::{ConfigArgs, PluginSource};
use super::plugins::{plugin_commands, start_plugins, stop_all};
use super::{out, Error};
use crate::config::{board_inventory, merge_devices, ClientTypes, JsonFile};
use crate::registry::Registry;

/// Prints the merged devices, secret-looking values masked unless `--show-secrets`. The plugins
/// are started (and stopped again) only to learn which device types are LAN and Wi-Fi clients.
pub(super) async fn print_config(args: &ConfigArgs) -> Result<ExitCode, Error> {
    let client_types = client_types(&args.source).await?;
    let merged = async {
        let inventory = JsonFile::load(&args.inventory_config).await?;
        let env = JsonFile::load(&args.env_config).await?;
        let board = board_inventory(&inventory, &args.board_name)?;
        merge_devices(&board, &inventory, &env, &client_types)
    }
    .await;
    let merged = merged.map_err(|e| Error::Failed(e.to_string()))?;
    for note in &merged.left_out {
        eprintln!("warning: {}", vitro_protocol::names::printable_lines(note));
    }
    let devices = Value::Array(merged.devices);
    let shown = if args.show_secrets { devices } else { vitro_protocol::secrets::masked(&devices) };
    out(&serde_json::to_string_pretty(&shown).unwrap_or_default());
    Ok(ExitCode::SUCCESS)
}

/// The client types the plugins declare (with Python Vitro's own), saying which plugins were asked.
async fn client_types(source: &PluginSource) -> Result<ClientTypes, Error> {
    let commands = plugin_commands(source).map_err(Error::Usage)?;
    if commands.is_empty() {
        return Ok(ClientTypes::default());
    }
    let mut plugins = Vec::new();
    for started in start_plugins(&commands, &Arc::new(Registry::default()), None, source).await {
        match started {
            Ok(plugin) => plugins.push(plugin),
            Err(e) => eprintln!("warning: {}; its client types are not known", e.chain()),
        }
    }
    let names: Vec<String> = plugins.iter().map(|p| p.info().plugin.name.clone()).collect();
    if !names.is_empty() {
        eprintln!("vitro config: LAN and Wi-Fi client types as declared by the plugins {}", names.join(", "));
    }
    let types = ClientTypes::with_declared(plugins.iter().flat_map(|p| &p.info().device_types)).asked(names);
    stop_all(&mut plugins).await;
    Ok(types)
}
