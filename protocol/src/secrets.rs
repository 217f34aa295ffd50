//! Which config values are secret, and how they are hidden wherever `vitro` prints a config:
//! errors, progress lines, reports, `-v` logs and `vitro config` (unless `--show-secrets`).

use serde_json::Value;

/// What a hidden value is replaced with.
pub const MASK: &str = "********";

/// Words that make a key secret wherever they stand among the key's words (`ssh_password`,
/// `wifiPassphrase`, `AUTH_TOKEN`), case-insensitively.
const SECRET_WORDS: [&str; 10] = [
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "token",
    "psk",
    "credential",
    "credentials",
    "apikey",
];

/// Words that make a key secret only as its last word: a credential (`key`, `api-key`,
/// `private_key`, `auth`), not a setting about one (`host_key_check`, `key_type`, `auth_method`).
const SECRET_LAST_WORDS: [&str; 2] = ["key", "auth"];

/// Whether values under `key` look secret.
pub fn is_secret_key(key: &str) -> bool {
    let words = words(key);
    words.iter().any(|word| SECRET_WORDS.contains(&word.as_str()))
        || words.last().is_some_and(|last| SECRET_LAST_WORDS.contains(&last.as_str()))
        || SECRET_WORDS[..4].iter().any(|word| key.to_ascii_lowercase().contains(word))
}

/// Splits `key` into lower-case words at non-alphanumerics and lower-to-upper case changes.
fn words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in key.chars() {
        if !c.is_alphanumeric() {
            words.push(std::mem::take(&mut word));
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower {
            words.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_lowercase());
    }
    words.push(word);
    words.retain(|w| !w.is_empty());
    words
}

/// `value` with every value under a secret-looking key (at any depth) replaced by [`MASK`].
pub fn masked(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, child)| {
                    let shown = if is_secret_key(key) && !child.is_null() {
                        Value::String(MASK.into())
                    } else {
                        masked(child)
                    };
                    (key.clone(), shown)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(masked).collect()),
        other => other.clone(),
    }
}

/// The values under secret-looking keys of some configs, to hide in free text that may quote
/// them (errors, console lines). Its `Debug` shows only how many there are.
#[derive(Clone, Default)]
pub struct Secrets(Vec<String>);

impl Secrets {
    /// Every value under a secret-looking key, at any depth, of each of `configs`.
    pub fn of<'a>(configs: impl IntoIterator<Item = &'a Value>) -> Self {
        fn collect(value: &Value, under_secret: bool, out: &mut Vec<String>) {
            match value {
                Value::Object(map) => {
                    for (key, child) in map {
                        collect(child, under_secret || is_secret_key(key), out);
                    }
                }
                Value::Array(items) => items.iter().for_each(|item| collect(item, under_secret, out)),
                Value::String(text) if under_secret && !text.is_empty() => out.push(text.clone()),
                Value::Number(number) if under_secret => out.push(number.to_string()),
                _ => {}
            }
        }
        let mut values = Vec::new();
        for config in configs {
            collect(config, false, &mut values);
        }
        // Longest first, so a secret that contains another is hidden whole.
        values.sort_by_key(|s| std::cmp::Reverse(s.len()));
        values.dedup();
        Self(values)
    }

    /// `text` with every occurrence of each secret replaced by [`MASK`].
    pub fn scrub(&self, text: &str) -> String {
        self.0.iter().fold(text.to_owned(), |text, secret| text.replace(secret.as_str(), MASK))
    }

    /// `value` with each secret hidden in every string in it (a config may quote a secret
    /// under a key that does not look secret).
    pub fn scrub_value(&self, value: &Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.scrub(text)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.scrub_value(v)).collect()),
            Value::Object(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), self.scrub_value(v))).collect())
            }
            other => other.clone(),
        }
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} values)", self.0.len())
    }
}

/// Whether a JSON Pointer ends at (or passes through) a secret-looking key.
pub fn pointer_is_secret(pointer: &str) -> bool {
    pointer.split('/').any(|token| is_secret_key(&token.replace("~1", "/").replace("~0", "~")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_scrubbed_from_text_that_quotes_them() {
        let config =
            json!({"name": "b", "ssh": {"password": "hunter2", "port": 22}, "wifiPsk": ["abc", "hunter22"]});
        let secrets = Secrets::of([&config]);
        assert_eq!(format!("{secrets:?}"), "Secrets(3 values)");
        let text = "login hunter22 failed on b, then hunter2 and abc";
        assert_eq!(secrets.scrub(text), "login ******** failed on b, then ******** and ********");
    }

    #[test]
    fn secret_looking_keys_are_found_in_any_spelling() {
        for key in [
            "password",
            "ssh_password",
            "wifiPassphrase",
            "api-key",
            "AUTH_TOKEN",
            "psk",
            "Secret",
            "passwd1",
            "key",
            "private_key",
            "sshKey",
            "auth",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in [
            "name",
            "username",
            "keyboard_layout",
            "monkey",
            "ipaddr",
            "conn_cmd",
            "authority",
            "host_key_check",
            "key_type",
            "auth_method",
        ] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn masking_hides_secrets_at_any_depth_and_keeps_the_rest() {
        let config = json!({"name": "lan", "password": "hunter2", "wifi": [{"passphrase": "p", "band": "5"}], "token": null});
        assert_eq!(
            masked(&config),
            json!({"name": "lan", "password": MASK, "wifi": [{"passphrase": MASK, "band": "5"}], "token": null})
        );
        assert!(pointer_is_secret("/environment_def/wan/password"));
        assert!(!pointer_is_secret("/environment_def/wan/model"));
    }
}
