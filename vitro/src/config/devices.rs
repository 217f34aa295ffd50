//! The merged device list, with the exact semantics of Python Vitro 0.8.1's
//! `get_inventory_config` and `parse_vitro_config`.

use serde_json::{Map, Value};
use vitro_protocol::files::{EnvironmentFile, InventoryBoard, InventoryLocation};
use vitro_protocol::types::{ClientKind, DeviceTypeInfo};

use super::checks::{check_device, check_timeouts, duplicate_name};
use super::merge::merge;
use super::source::{escape_token, ConfigError, JsonFile};

/// Device types paired with the environment's `lan_clients`.
pub const LAN_TYPES: [&str; 2] = ["bf_lan", "debian_lan"];
/// Device types matched to the environment's `wifi_clients`.
pub const WIFI_TYPES: [&str; 2] = ["bf_wlan", "debian_wifi"];

/// One board's inventory: its devices, each with the JSON Pointer it came from.
#[derive(Debug, Clone)]
pub struct BoardInventory {
    /// The board name (`--board-name`).
    pub board: String,
    /// Devices, the location's appended after the board's own.
    pub devices: Vec<Value>,
    /// Where each device is in the inventory file.
    pub origins: Vec<String>,
}

impl BoardInventory {
    /// The JSON Pointer of the device called `name` in the inventory file.
    pub fn origin_of(&self, name: &str) -> Option<&str> {
        self.devices.iter().zip(&self.origins).find(|(d, _)| d["name"] == name).map(|(_, o)| o.as_str())
    }
}

/// Picks `board` from an inventory file and appends its location's devices.
pub fn board_inventory(inventory: &JsonFile, board: &str) -> Result<BoardInventory, ConfigError> {
    let Some(root) = inventory.value.as_object() else {
        return Err(inventory.error_at(
            "",
            "an inventory must be a JSON object of boards",
            "wrap the boards in {...}",
        ));
    };
    let Some(entry) = root.get(board) else {
        let boards: Vec<&str> = root.keys().filter(|k| *k != "locations").map(String::as_str).collect();
        return Err(inventory.error_at(
            "",
            format!("board {board:?} is not in the inventory"),
            format!("pass one of its boards with --board-name: {}", boards.join(", ")),
        ));
    };
    let at = format!("/{}", escape_token(board));
    let Some(entry) = entry.as_object() else {
        return Err(inventory.error_at(
            &at,
            format!("board {board:?} must be an object"),
            "give it a `devices` list",
        ));
    };
    let mut devices = Vec::new();
    let mut origins = Vec::new();
    let own = device_list(inventory, entry, &at)?;
    for (index, device) in own.iter().enumerate() {
        devices.push(device.clone());
        origins.push(format!("{at}/devices/{index}"));
    }
    if let Some(location) = entry.get("location") {
        let locations = root.get("locations").and_then(Value::as_object).filter(|l| !l.is_empty());
        let name = location.as_str().unwrap_or_default();
        let Some(place) = locations.and_then(|l| l.get(name)) else {
            let known: Vec<&str> =
                locations.map(|l| l.keys().map(String::as_str).collect()).unwrap_or_default();
            let fix = if known.is_empty() {
                "add a top-level `locations` object with it, or drop `location`".to_owned()
            } else {
                format!("use one of the inventory's locations: {}", known.join(", "))
            };
            return Err(inventory.error_at(
                &format!("{at}/location"),
                format!("unknown location {location}"),
                fix,
            ));
        };
        let place_at = format!("/locations/{}", escape_token(name));
        inventory.typed::<InventoryLocation>(&place_at, "inventory.schema.json")?;
        let extra = match place.as_object().filter(|p| p.contains_key("devices")) {
            None => Vec::new(),
            Some(place) => device_list(inventory, place, &place_at)?.clone(),
        };
        for (index, device) in extra.iter().enumerate() {
            devices.push(device.clone());
            origins.push(format!("{place_at}/devices/{index}"));
        }
    }
    // What the published schema's types read must read this board too.
    inventory.typed::<InventoryBoard>(&at, "inventory.schema.json")?;
    if let Some(device) = devices.iter_mut().find(|d| d["name"] == "board") {
        device["resource_name"] = Value::String(board.to_owned());
    }
    Ok(BoardInventory { board: board.to_owned(), devices, origins })
}

/// Fails when two devices of the board (with its location's) share a name. Python Vitro's config
/// parsing keeps both (so `vitro config` does too); a deployment cannot register them.
pub fn check_unique_names(inventory: &BoardInventory, file: &JsonFile) -> Result<(), ConfigError> {
    let Some((name, first, second)) = duplicate_name(&inventory.devices) else { return Ok(()) };
    let origins = &inventory.origins;
    let place = file.error_at(&origins[first], "", "").position;
    let first = place.map_or(origins[first].clone(), |(l, c)| format!("line {l}, column {c}"));
    Err(file.error_at(
        &origins[second],
        format!("device name {name:?} is used twice (first at {first})"),
        "give every device of the board and its location a name of its own",
    ))
}

fn device_list<'a>(
    file: &JsonFile,
    owner: &'a Map<String, Value>,
    at: &str,
) -> Result<&'a Vec<Value>, ConfigError> {
    let Some(list) = owner.get("devices").and_then(Value::as_array) else {
        return Err(file.error_at(
            at,
            "no `devices` list",
            "add \"devices\": [{\"name\": ..., \"type\": ...}]",
        ));
    };
    for (index, device) in list.iter().enumerate() {
        let ok = device.get("name").is_some_and(Value::is_string)
            && device.get("type").is_some_and(Value::is_string);
        if !ok {
            return Err(file.error_at(
                &format!("{at}/devices/{index}"),
                "a device needs a string `name` and a string `type`",
                "add them to this device",
            ));
        }
        if let Err(problem) = check_device(device) {
            return Err(file.error_at(
                &format!("{at}/devices/{index}{}", problem.pointer),
                problem.message,
                problem.fix,
            ));
        }
    }
    Ok(list)
}

/// Which device types pair with `lan_clients` and `wifi_clients`, and where that was learnt.
#[derive(Debug, Clone)]
pub struct ClientTypes {
    /// LAN client types.
    pub lan: Vec<String>,
    /// Wi-Fi client types.
    pub wifi: Vec<String>,
    /// The plugins asked, by name.
    pub plugins: Vec<String>,
    /// Every device type those plugins provide.
    pub known: Vec<String>,
}

impl ClientTypes {
    /// Python Vitro's client types, and the types plugins declare as LAN or Wi-Fi clients.
    pub fn with_declared<'a>(types: impl IntoIterator<Item = &'a DeviceTypeInfo>) -> Self {
        let mut clients = Self::default();
        for info in types {
            clients.known.push(info.type_name.clone());
            match info.client {
                Some(ClientKind::Lan) => clients.lan.push(info.type_name.clone()),
                Some(ClientKind::Wifi) => clients.wifi.push(info.type_name.clone()),
                _ => {}
            }
        }
        clients
    }

    /// With the names of the plugins that were asked.
    pub fn asked(mut self, plugins: Vec<String>) -> Self {
        self.plugins = plugins;
        self
    }

    /// Why the inventory may hold client devices that were not counted: the plugins asked, and
    /// the inventory's types none of them provides.
    fn unknown_types(&self, inventory: &BoardInventory) -> String {
        let builtin = |t: &str| LAN_TYPES.contains(&t) || WIFI_TYPES.contains(&t);
        let mut unknown: Vec<&str> = inventory
            .devices
            .iter()
            .filter_map(|d| d["type"].as_str())
            .filter(|t| !builtin(t) && !self.known.iter().any(|k| k == t))
            .collect();
        unknown.sort_unstable();
        unknown.dedup();
        if unknown.is_empty() {
            return String::new();
        }
        let asked = if self.plugins.is_empty() {
            "no plugin was asked".to_owned()
        } else {
            format!("the plugins asked ({}) do not provide them", self.plugins.join(", "))
        };
        format!(
            "; the inventory's types {} may be clients too, but {asked}: put their plugins on PATH or give --plugin",
            unknown.join(", ")
        )
    }
}

impl Default for ClientTypes {
    fn default() -> Self {
        Self {
            lan: LAN_TYPES.map(String::from).to_vec(),
            wifi: WIFI_TYPES.map(String::from).to_vec(),
            plugins: Vec::new(),
            known: Vec::new(),
        }
    }
}

/// The devices a merge deploys, and what it left out: Python Vitro drops LAN and Wi-Fi client
/// devices that the environment does not ask for, and environment entries that name no
/// deployed device, without a word; `vitro` keeps its result and says so.
#[derive(Debug, Clone, Default)]
pub struct Merged {
    /// The devices, merged.
    pub devices: Vec<Value>,
    /// One sentence for each thing left out.
    pub left_out: Vec<String>,
}

/// Merges the environment into the board's devices: other devices (merged with their
/// `environment_def` entry), then LAN devices paired with `lan_clients`, then Wi-Fi devices
/// matched to `wifi_clients` by band.
pub fn merge_devices(
    inventory: &BoardInventory,
    inventory_file: &JsonFile,
    env: &JsonFile,
    types: &ClientTypes,
) -> Result<Merged, ConfigError> {
    let Some(environment_def) = env.value.get("environment_def") else {
        return Err(env.error_at(
            "",
            "`environment_def` is missing",
            "add \"environment_def\": {\"board\": {...}} at the top level",
        ));
    };
    // What the published schema's types read must read this environment too.
    env.typed::<EnvironmentFile>("", "environment.schema.json")?;
    let type_of = |d: &Value| d["type"].as_str().unwrap_or_default().to_owned();
    let mut merged = Vec::new();
    let mut lan = Vec::new();
    let mut wifi = Vec::new();
    for (device, origin) in inventory.devices.iter().zip(&inventory.origins) {
        let kind = type_of(device);
        if types.lan.contains(&kind) {
            lan.push(device);
            continue;
        }
        if types.wifi.contains(&kind) {
            wifi.push(device);
            continue;
        }
        let name = device["name"].as_str().unwrap_or_default();
        let entry = environment_def.get(name);
        if let Some(timeouts) = entry.and_then(|e| e.get("vitro_timeouts")) {
            if let Err(problem) = check_timeouts(name, timeouts) {
                let at = format!("/environment_def/{}{}", escape_token(name), problem.pointer);
                return Err(env.error_at(&at, problem.message, problem.fix));
            }
        }
        match entry {
            None => merged.push(device.clone()),
            Some(entry) => merged.push(merge(device, entry).map_err(|e| {
                let env_at = format!("/environment_def/{}{}", escape_token(name), e.pointer);
                let inv = inventory_file.error_at(&format!("{origin}{}", e.pointer), "", "");
                let inv_place = inv.position.map(|(l, c)| format!("{}:{l}:{c}", inv.file)).unwrap_or(inv.file);
                env.error_at(
                    &env_at,
                    format!(
                        "device {name:?}: the environment gives an object at {} but the inventory ({inv_place}) has {}; \
                         Python Vitro fails here too (jsonmerge: \"Base is not an object: #{}\")",
                        e.pointer, describe(&e.base, &e.pointer), e.pointer
                    ),
                    "make both an object, or give a non-object value in the environment",
                )
            })?),
        }
    }
    let mut left_out = Vec::new();
    let unknown = types.unknown_types(inventory);
    let lan_pairing = Pairing { kind: "LAN", key: "lan_clients", types: &types.lan, unknown: &unknown };
    let wifi_pairing = Pairing { kind: "Wi-Fi", key: "wifi_clients", types: &types.wifi, unknown: &unknown };
    merged.extend(pair_lan(&lan, env, &lan_pairing, &mut left_out)?);
    merged.extend(match_wifi(&wifi, env, &wifi_pairing, &mut left_out)?);
    let deployed = |name: &str| merged.iter().any(|d| d["name"] == name);
    let clients: Vec<&str> = lan.iter().chain(&wifi).filter_map(|d| d["name"].as_str()).collect();
    for name in environment_def.as_object().into_iter().flatten().map(|(name, _)| name.as_str()) {
        if matches!(name, "lan_clients" | "wifi_clients") || deployed(name) && !clients.contains(&name) {
            continue;
        }
        let place = place(env, &format!("/environment_def/{}", escape_token(name)));
        left_out.push(if clients.contains(&name) {
            format!(
                "the environment's entry for {name:?} ({place}) is not merged: {name} is a LAN or Wi-Fi client, \
                 whose config comes from lan_clients / wifi_clients"
            )
        } else {
            format!("the environment's entry for {name:?} ({place}) matches no device of board {}", inventory.board)
        });
    }
    Ok(Merged { devices: merged, left_out })
}

/// `FILE:LINE:COL` of the value at `pointer` in `file`.
fn place(file: &JsonFile, pointer: &str) -> String {
    let error = file.error_at(pointer, "", "");
    error.position.map_or(error.file.clone(), |(line, column)| format!("{}:{line}:{column}", error.file))
}

/// The names of `devices`, for messages: `lanB, lanC`.
fn names(devices: &[&Value]) -> String {
    devices.iter().filter_map(|d| d["name"].as_str()).collect::<Vec<_>>().join(", ")
}

/// What the inventory holds at `pointer`, for an error; a secret-looking value is not shown.
fn describe(value: &Value, pointer: &str) -> String {
    if vitro_protocol::secrets::pointer_is_secret(pointer) && !value.is_null() {
        return "a value (not shown: its key looks secret)".into();
    }
    match value {
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Number(n) => format!("the number {n}"),
        Value::Bool(b) => format!("{b}"),
        Value::Null => "null".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// The first value of `key` at any depth, depth-first in document order, skipping `null`s
/// found below the top (Python Vitro's `get_value_from_dict`). Returns the pointer too.
fn find_key<'a>(value: &'a Value, key: &str, at: &str) -> Option<(&'a Value, String)> {
    let object = value.as_object()?;
    for (name, child) in object {
        let child_at = format!("{at}/{}", escape_token(name));
        if name == key {
            return (!child.is_null()).then_some((child, child_at));
        }
        if child.is_object() {
            if let Some(found) = find_key(child, key, &child_at) {
                return Some(found);
            }
        }
    }
    None
}

fn clients<'a>(env: &'a JsonFile, key: &str) -> Result<Option<(&'a Vec<Value>, String)>, ConfigError> {
    match find_key(&env.value, key, "") {
        None => Ok(None),
        Some((Value::Array(list), at)) => {
            if let Some(index) = list.iter().position(|c| !c.is_object()) {
                return Err(env.error_at(
                    &format!("{at}/{index}"),
                    format!("a `{key}` entry must be an object"),
                    "make it {...}",
                ));
            }
            Ok(Some((list, at)))
        }
        Some((_, at)) => Err(env.error_at(&at, format!("`{key}` must be a list"), "make it [ {...}, ... ]")),
    }
}

fn shallow_merge(device: &Value, client: &Value) -> Value {
    let mut merged = device.as_object().cloned().unwrap_or_default();
    for (key, value) in client.as_object().into_iter().flatten() {
        merged.insert(key.clone(), value.clone());
    }
    Value::Object(merged)
}

/// Fails when the environment's client list at `at` asks for more `what` devices (of `types`)
/// than the inventory has; `unknown` says which types could not be counted.
fn enough(
    env: &JsonFile,
    at: &str,
    what: &str,
    (types, unknown): (&[String], &str),
    clients: usize,
    devices: usize,
) -> Result<(), ConfigError> {
    if devices >= clients {
        return Ok(());
    }
    Err(env.error_at(
        at,
        format!("the environment asks for {clients} {what} clients but the inventory has {devices}{unknown}"),
        format!("add {what} devices (types {}) to the inventory or ask for fewer", types.join(", ")),
    ))
}

/// Says which client `devices` of `kind` (`LAN`, `Wi-Fi`) the environment's `key` left out.
fn not_asked_for(
    env: &JsonFile,
    kind: &str,
    key: &str,
    asked: Option<(usize, &str)>,
    devices: &[&Value],
) -> String {
    let plural = if devices.len() == 1 { "is" } else { "are" };
    match asked {
        None => format!(
            "the environment has no {key}, so the inventory's {kind} clients {} {plural} not deployed; \
             add a {key} entry for each one to deploy it",
            names(devices)
        ),
        Some((count, at)) => format!(
            "the environment asks for {count} {kind} client{} ({key} at {}); {} {plural} not deployed",
            if count == 1 { "" } else { "s" },
            place(env, at),
            names(devices)
        ),
    }
}

/// How one kind of client device pairs with the environment's list: `LAN` with `lan_clients`.
struct Pairing<'a> {
    kind: &'static str,
    key: &'static str,
    types: &'a [String],
    /// Why some devices may not have been counted ([`ClientTypes::unknown_types`]).
    unknown: &'a str,
}

impl Pairing<'_> {
    /// The environment's list for this kind, checked to ask for no more than `devices`; `None`
    /// when it has none (then no device of this kind is deployed, and `left_out` says so).
    fn asked<'e>(
        &self,
        env: &'e JsonFile,
        devices: &[&Value],
        left_out: &mut Vec<String>,
    ) -> Result<Option<(&'e Vec<Value>, String)>, ConfigError> {
        let Some((clients, at)) = clients(env, self.key)? else {
            if !devices.is_empty() {
                left_out.push(not_asked_for(env, self.kind, self.key, None, devices));
            }
            return Ok(None);
        };
        enough(env, &at, self.kind, (self.types, self.unknown), clients.len(), devices.len())?;
        Ok(Some((clients, at)))
    }
}

fn pair_lan(
    devices: &[&Value],
    env: &JsonFile,
    pairing: &Pairing<'_>,
    left_out: &mut Vec<String>,
) -> Result<Vec<Value>, ConfigError> {
    let Some((clients, at)) = pairing.asked(env, devices, left_out)? else { return Ok(Vec::new()) };
    if devices.len() > clients.len() {
        let rest = &devices[clients.len()..];
        left_out.push(not_asked_for(env, pairing.kind, pairing.key, Some((clients.len(), &at)), rest));
    }
    Ok(devices.iter().zip(clients).map(|(device, client)| shallow_merge(device, client)).collect())
}

fn band(value: &Value) -> Option<&Value> {
    value.get("band")
}

fn band_key(value: &Value) -> String {
    match band(value) {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn match_wifi(
    devices: &[&Value],
    env: &JsonFile,
    pairing: &Pairing<'_>,
    left_out: &mut Vec<String>,
) -> Result<Vec<Value>, ConfigError> {
    let Some((clients, at)) = pairing.asked(env, devices, left_out)? else { return Ok(Vec::new()) };
    let clients_len = clients.len();
    let mut clients: Vec<&Value> = clients.iter().collect();
    clients.sort_by_key(|c| band_key(c));
    let mut free: Vec<&Value> = devices.to_vec();
    free.sort_by_key(|d| band_key(d));
    let dual = Value::String("dual".into());
    let mut merged = Vec::new();
    for client in clients {
        let wanted = band(client);
        let Some(index) = free.iter().position(|d| band(d) == wanted || band(d) == Some(&dual)) else {
            return Err(env.error_at(
                &at,
                format!(
                    "no Wi-Fi device of band {} (or \"dual\") is left in the inventory for the client {client}",
                    wanted.map_or("(none)".to_owned(), Value::to_string),
                    client = vitro_protocol::secrets::masked(client)
                ),
                "add a Wi-Fi device of that band to the inventory",
            ));
        };
        merged.push(shallow_merge(free.remove(index), client));
    }
    if !free.is_empty() {
        // Back in inventory order for the message.
        free.sort_by_key(|d| devices.iter().position(|x| std::ptr::eq(*x, *d)));
        left_out.push(not_asked_for(env, pairing.kind, pairing.key, Some((clients_len, &at)), &free));
    }
    Ok(merged)
}
