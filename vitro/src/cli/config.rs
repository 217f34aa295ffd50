//! `vitro config`: the merged device list, as Python Vitro computes it.

use std::process::ExitCode;

use serde_json::Value;

use super::args::ConfigArgs;
use super::{out, Error};
use crate::config::{board_inventory, merge_devices, ClientTypes, JsonFile};

/// Prints the merged devices, secret-looking values masked unless `--show-secrets`.
pub(super) async fn print_config(args: &ConfigArgs) -> Result<ExitCode, Error> {
    let merged = async {
        let inventory = JsonFile::load(&args.inventory_config).await?;
        let env = JsonFile::load(&args.env_config).await?;
        let board = board_inventory(&inventory, &args.board_name)?;
        merge_devices(&board, &inventory, &env, &ClientTypes::default())
    }
    .await;
    let devices = Value::Array(merged.map_err(|e| Error::Failed(e.to_string()))?);
    let shown = if args.show_secrets { devices } else { vitro_protocol::secrets::masked(&devices) };
    out(&serde_json::to_string_pretty(&shown).unwrap_or_default());
    Ok(ExitCode::SUCCESS)
}
