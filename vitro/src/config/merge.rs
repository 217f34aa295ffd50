//! Merging an environment entry into an inventory device with jsonmerge's default semantics
//! (what Python Vitro uses): objects merge recursively, everything else in the head replaces the
//! base, and `null` is kept as a value. This differs from RFC 7396 (json-patch's `merge`), which
//! deletes keys on `null`.

use serde_json::{Map, Value};

use super::source::escape_token;

/// The head holds an object where the base holds something else (jsonmerge: "Base is not an object").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAnObject {
    /// JSON Pointer of the place, relative to the merged values.
    pub pointer: String,
    /// What the base holds there.
    pub base: Value,
}

/// Merges `head` into `base`.
pub fn merge(base: &Value, head: &Value) -> Result<Value, NotAnObject> {
    merge_at(Some(base), head, &mut String::new())
}

fn merge_at(base: Option<&Value>, head: &Value, pointer: &mut String) -> Result<Value, NotAnObject> {
    let Value::Object(head) = head else { return Ok(head.clone()) };
    let mut merged = match base {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(base)) => base.clone(),
        Some(other) => return Err(NotAnObject { pointer: pointer.clone(), base: other.clone() }),
    };
    for (key, value) in head {
        let len = pointer.len();
        pointer.push('/');
        pointer.push_str(&escape_token(key));
        let next = merge_at(merged.get(key), value, pointer)?;
        pointer.truncate(len);
        merged.insert(key.clone(), next);
    }
    Ok(Value::Object(merged))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_like_jsonmerge() {
        let merged =
            merge(&json!({"a": 1, "o": {"x": 1, "y": 2}}), &json!({"o": {"y": null, "z": [1]}, "b": null}));
        assert_eq!(merged.unwrap(), json!({"a": 1, "o": {"x": 1, "y": null, "z": [1]}, "b": null}));
        assert_eq!(merge(&json!({"a": null}), &json!({"a": {"x": 1}})).unwrap(), json!({"a": {"x": 1}}));
        assert_eq!(merge(&json!({"a": {"x": 1}}), &json!({"a": [5]})).unwrap(), json!({"a": [5]}));
        assert_eq!(merge(&json!({"a": 1}), &json!("s")).unwrap(), json!("s"));
    }

    #[test]
    fn an_object_over_a_non_object_is_an_error_at_its_pointer() {
        let err = merge(&json!({"o": {"w": "s"}}), &json!({"o": {"w": {"deep": 1}}})).unwrap_err();
        assert_eq!(err.pointer, "/o/w");
        assert_eq!(err.base, json!("s"));
    }

    #[test]
    fn merged_keys_keep_the_base_order_then_the_head_order() {
        let merged = merge(&json!({"b": 1, "a": 2}), &json!({"c": 3, "a": 4})).unwrap();
        assert_eq!(serde_json::to_string(&merged).unwrap(), r#"{"b":1,"a":4,"c":3}"#);
    }
}
