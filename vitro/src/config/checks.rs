//! Checks of the device entries `vitro` itself reads: names (used in file names and on
//! terminals) and `vitro_timeouts` (deadlines). Each problem carries the JSON Pointer of its place
//! relative to the device, so callers can point into the file it came from.

use serde_json::Value;
use vitro_protocol::names::{is_valid_device_name, DEVICE_NAME_RULE};
use vitro_protocol::seconds::seconds;
use vitro_protocol::types::Hook;

/// A problem with one device entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceProblem {
    /// JSON Pointer of the place, relative to the device (`/name`, `/vitro_timeouts/boot`).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub fix: String,
}

/// Checks a device's `name` and its `vitro_timeouts`.
pub fn check_device(device: &Value) -> Result<(), DeviceProblem> {
    let name = device["name"].as_str().unwrap_or_default();
    if !is_valid_device_name(name) {
        return Err(DeviceProblem {
            pointer: "/name".into(),
            message: format!("device name {name:?} is not allowed"),
            fix: format!("rename it: a device name has {DEVICE_NAME_RULE}"),
        });
    }
    device.get("vitro_timeouts").map_or(Ok(()), |timeouts| check_timeouts(name, timeouts))
}

/// Checks the `vitro_timeouts` of device `shown` (from its inventory entry or its environment
/// entry); pointers are relative to the entry.
pub fn check_timeouts(shown: &str, timeouts: &Value) -> Result<(), DeviceProblem> {
    let Some(timeouts) = timeouts.as_object() else {
        return Err(DeviceProblem {
            pointer: "/vitro_timeouts".into(),
            message: format!("device {shown:?}: `vitro_timeouts` must be an object"),
            fix: "give seconds per hook, e.g. {\"boot\": 900}".into(),
        });
    };
    for (hook, value) in timeouts {
        let pointer = format!("/vitro_timeouts/{}", super::source::escape_token(hook));
        if !Hook::ALL.iter().any(|known| known.name() == *hook) {
            return Err(DeviceProblem {
                pointer,
                message: format!("device {shown:?}: `vitro_timeouts` names no hook {hook:?}"),
                fix: format!("use one of {}", Hook::ALL.map(Hook::name).join(", ")),
            });
        }
        let checked = value.as_f64().ok_or_else(|| format!("{value} is not a number")).and_then(seconds);
        if let Err(why) = checked {
            return Err(DeviceProblem {
                pointer,
                message: format!("device {shown:?}: `vitro_timeouts.{hook}`: {why}"),
                fix: "give the deadline in seconds, e.g. 900".into(),
            });
        }
    }
    Ok(())
}

/// The first name used by two devices, with both positions in `devices`.
pub fn duplicate_name(devices: &[Value]) -> Option<(String, usize, usize)> {
    let mut seen = std::collections::HashMap::new();
    for (index, device) in devices.iter().enumerate() {
        let name = device["name"].as_str().unwrap_or_default();
        if let Some(first) = seen.insert(name, index) {
            return Some((name.to_owned(), first, index));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_timeouts_are_checked() {
        assert_eq!(check_device(&json!({"name": "board", "vitro_timeouts": {"boot": 900}})), Ok(()));
        let bad = |device: Value| check_device(&device).unwrap_err();
        assert_eq!(bad(json!({"name": "../../x"})).pointer, "/name");
        assert!(bad(json!({"name": "a\nb"})).message.contains("a\\nb"));
        let huge = bad(json!({"name": "b", "vitro_timeouts": {"boot": 1e20}}));
        assert_eq!(huge.pointer, "/vitro_timeouts/boot");
        assert!(huge.message.contains("at most"), "{}", huge.message);
        assert_eq!(
            bad(json!({"name": "b", "vitro_timeouts": {"boot": "9"}})).pointer,
            "/vitro_timeouts/boot"
        );
        assert_eq!(bad(json!({"name": "b", "vitro_timeouts": {"boto": 9}})).pointer, "/vitro_timeouts/boto");
        assert_eq!(bad(json!({"name": "b", "vitro_timeouts": 9})).pointer, "/vitro_timeouts");
        assert!(check_timeouts("x/y", &json!({"boot": 1})).is_ok());
    }

    #[test]
    fn a_name_used_twice_is_found() {
        let devices = [json!({"name": "a"}), json!({"name": "b"}), json!({"name": "a"})];
        assert_eq!(duplicate_name(&devices), Some(("a".into(), 0, 2)));
        assert_eq!(duplicate_name(&devices[..2]), None);
    }
}
