//! Generates the committed JSON Schemas under `protocol/schema/`.

use std::collections::BTreeMap;

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::{ErrorData, RpcError};
use crate::message::RequestId;
use crate::methods::{self, MethodDescriptor};
use crate::version::PROTOCOL_VERSION;

/// Shape of a request on the wire (documentation only; decoding uses [`crate::decode`]).
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct RequestEnvelope {
    /// Always `"2.0"`.
    pub jsonrpc: String,
    /// Unique among the sender's requests in flight.
    pub id: RequestId,
    /// Method name (see `methods.json`).
    pub method: String,
    /// The method's params object.
    pub params: Value,
}

/// Shape of a notification on the wire.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct NotificationEnvelope {
    /// Always `"2.0"`.
    pub jsonrpc: String,
    /// Method name (see `methods.json`).
    pub method: String,
    /// The method's params object.
    pub params: Value,
}

/// Shape of a response on the wire: exactly one of `result` and `error`.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct ResponseEnvelope {
    /// Always `"2.0"`.
    pub jsonrpc: String,
    /// Id of the request answered; `null` only for unparseable requests.
    pub id: Option<RequestId>,
    /// The method's result, on success.
    #[serde(default)]
    pub result: Option<Value>,
    /// The error, on failure.
    #[serde(default)]
    pub error: Option<RpcError>,
}

/// Every type of the plugin protocol, by name (the `$defs` of `protocol.schema.json`).
pub fn protocol_definitions() -> serde_json::Map<String, Value> {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    generator.subschema_for::<RequestEnvelope>();
    generator.subschema_for::<NotificationEnvelope>();
    generator.subschema_for::<ResponseEnvelope>();
    generator.subschema_for::<ErrorData>();
    methods::add_request_schemas(&mut generator);
    methods::add_notification_schemas(&mut generator);
    generator.take_definitions(true)
}

/// The committed files, by name under `protocol/schema/`, with their exact content: the plugin
/// protocol (`protocol.schema.json`, `methods.json`) and the user's config files
/// (`inventory.schema.json`, `environment.schema.json`).
pub fn committed_files() -> BTreeMap<String, String> {
    let defs = protocol_definitions();
    let protocol = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("Vitro plugin protocol {PROTOCOL_VERSION}"),
        "description": "Every type of the Vitro plugin protocol, under $defs. methods.json names the params and result type of each method.",
        "$defs": defs,
    });
    let methods: Vec<MethodDescriptor> = methods::all();
    let error_kinds: Vec<Value> = crate::ErrorKind::ALL
        .iter()
        .map(|k| json!({ "kind": k.as_str(), "code": k.code(), "meaning": k.meaning() }))
        .collect();
    let environment: Vec<Value> =
        crate::env::ALL.iter().map(|(name, value)| json!({ "name": name, "value": value })).collect();
    // Every variant of an enum, in order, as the schema lists them (not the `unknown` fallback).
    // Hooks newer than 1.0, with the version they came with.
    let hooks_since = || -> serde_json::Map<String, Value> {
        crate::types::Hook::ALL
            .iter()
            .filter(|h| h.since() > crate::ProtocolVersion::new(1, 0))
            .map(|h| (h.name(), json!(h.since())))
            .collect()
    };
    let variants = |name: &str| -> Vec<String> {
        defs[name]["oneOf"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["const"].as_str().filter(|c| *c != "unknown").map(str::to_owned))
            .collect()
    };
    let capabilities: Vec<Value> = variants("Capability")
        .into_iter()
        .map(|name| {
            let method =
                serde_json::from_value::<crate::types::Capability>(json!(name)).ok().and_then(|c| c.method());
            json!({ "capability": name, "method": method })
        })
        .collect();
    let listing = json!({
        "protocol_version": PROTOCOL_VERSION,
        "schema": "protocol.schema.json",
        "methods": methods,
        "error_kinds": error_kinds,
        "environment": environment,
        "hooks": variants("Hook"),
        "hooks_since": hooks_since(),
        "capabilities": capabilities,
        "log_levels": variants("LogLevel"),
    });
    let mut session_generator = SchemaSettings::draft2020_12().into_generator();
    crate::session::add_schemas(&mut session_generator);
    let session_methods: Vec<Value> = crate::session::descriptors()
        .into_iter()
        .map(|m| {
            json!({ "name": m.name, "kind": "request", "params": m.params, "result": m.result, "since": m.since.to_string(), "description": m.description })
        })
        .collect();
    let session = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("Vitro live session {PROTOCOL_VERSION}"),
        "description": "Requests a client sends to the Unix socket named by VITRO_SESSION (same framing as the plugin protocol); types under $defs.",
        "methods": session_methods,
        "$defs": session_generator.take_definitions(true),
    });
    let settings = SchemaSettings::draft2020_12();
    let inventory = settings.clone().into_generator().into_root_schema_for::<crate::files::InventoryFile>();
    let environment =
        settings.clone().into_generator().into_root_schema_for::<crate::files::EnvironmentFile>();
    let template = settings.into_generator().into_root_schema_for::<crate::templates::Template>();
    BTreeMap::from([
        ("protocol.schema.json".to_owned(), pretty(&protocol)),
        ("methods.json".to_owned(), pretty(&listing)),
        ("session.schema.json".to_owned(), pretty(&session)),
        ("inventory.schema.json".to_owned(), pretty(&serde_json::to_value(inventory).unwrap_or_default())),
        (
            "environment.schema.json".to_owned(),
            pretty(&serde_json::to_value(environment).unwrap_or_default()),
        ),
        ("template.schema.json".to_owned(), pretty(&serde_json::to_value(template).unwrap_or_default())),
    ])
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("a Value always serializes");
    text.push('\n');
    text
}
