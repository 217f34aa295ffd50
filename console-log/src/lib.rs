//! Console logs of Vitro devices, written the same wherever they are written: by a plugin for
//! its own consoles, or by `vitro` for consoles a plugin on an exporter streams to it.

pub mod clean;
pub mod log;

/// The console cases both SDKs replay, from `tests/fixtures/console/<name>.json`.
#[cfg(test)]
pub(crate) fn shared_cases(name: &str) -> Vec<serde_json::Value> {
    let path = format!("{}/../tests/fixtures/console/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("the shared cases")).expect("JSON");
    assert!(!cases.is_empty(), "{path} has no cases");
    cases
}
