//! The config loader and merger on any inventory and environment (the input split at the first
//! NUL byte): parsing, pointing at places, board selection, merging, client pairing, and the
//! checks of names and deadlines. Every failure is a `ConfigError`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vitro::config::checks::check_device;
use vitro::config::{board_inventory, check_unique_names, merge_devices, ClientTypes, JsonFile};

fuzz_target!(|input: &[u8]| {
    let text = String::from_utf8_lossy(input);
    let (inventory, env) = text.split_once('\0').unwrap_or((&text, "{\"environment_def\": {}}"));
    let (Ok(inventory), Ok(env)) =
        (JsonFile::parse("inventory.json", inventory.to_owned()), JsonFile::parse("env.json", env.to_owned()))
    else {
        return;
    };
    let boards: Vec<String> =
        inventory.value.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    for board in boards.iter().map(String::as_str).chain(["missing"]) {
        let Ok(devices) = board_inventory(&inventory, board) else { continue };
        let _ = check_unique_names(&devices, &inventory);
        if let Ok(merged) = merge_devices(&devices, &inventory, &env, &ClientTypes::default()) {
            for device in &merged.devices {
                let _ = check_device(device);
            }
        }
    }
});
