//! `--lab-match KEY=VALUE`: which boards a request may take, by their inventory entries.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::LabError;

/// One `KEY=VALUE`: the board's inventory value at KEY (a dotted path; `name` is the board's
/// name) equals VALUE (a string, or a number or boolean written as text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// The dotted path into the board's inventory entry.
    pub key: String,
    /// The value it must have.
    pub value: String,
}

impl std::fmt::Display for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

impl Filter {
    /// Parses `KEY=VALUE[,KEY=VALUE...]`.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, LabError> {
        text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Self::parse).collect()
    }

    fn parse(text: &str) -> Result<Self, LabError> {
        match text.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                Ok(Self { key: key.trim().to_owned(), value: value.trim().to_owned() })
            }
            _ => Err(LabError::Config(format!(
                "--lab-match {text:?}: expected KEY=VALUE (e.g. model=virt), several separated by commas"
            ))),
        }
    }

    /// Whether board `name` with `inventory` passes.
    pub fn matches(&self, name: &str, inventory: &Value) -> bool {
        if self.key == "name" {
            return name == self.value;
        }
        let found = self.key.split('.').try_fold(inventory, |value, part| match value {
            Value::Object(map) => map.get(part),
            Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        });
        match found {
            Some(Value::String(s)) => *s == self.value,
            Some(Value::Number(n)) => n.to_string() == self.value,
            Some(Value::Bool(b)) => b.to_string() == self.value,
            _ => false,
        }
    }
}

/// Whether board `name` passes every filter.
pub fn all_match(filters: &[Filter], name: &str, inventory: &Value) -> bool {
    filters.iter().all(|f| f.matches(name, inventory))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_match_dotted_paths_numbers_and_the_name() {
        let inventory =
            json!({"model": "virt", "ram": 512, "location": {"rack": "r2"}, "devices": [{"type": "qemu"}]});
        let pass = |text: &str| all_match(&Filter::parse_list(text).unwrap(), "b1", &inventory);
        assert!(pass("model=virt"));
        assert!(pass("model=virt, ram=512,location.rack=r2"));
        assert!(pass("devices.0.type=qemu"));
        assert!(pass("name=b1"));
        assert!(!pass("model=rpi"));
        assert!(!pass("location=r2"));
        assert!(!pass("missing=x"));
        assert!(Filter::parse_list("model").unwrap_err().to_string().contains("KEY=VALUE"));
    }
}
