//! Matching a test's `env_req` against the environment, with pytest-vitro 0.5's exact rules
//! (`is_env_matching`), implemented once here so every language gets the same answers:
//! a recursive subset check where `null` is a wildcard, a list offers options, and a list of
//! one-key objects checks a string with `contains_exact`, `not_contains_exact`,
//! `contains_regex` or `not_contains_regex`.

use serde_json::Value;

/// Whether `env` satisfies `request`; an error for a malformed contains-check list.
pub fn is_env_matching(request: &Value, env: &Value) -> Result<bool, String> {
    let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    let matched = match (request, env) {
        (Value::Null, _) => true,
        (Value::Object(req), Value::Object(env)) => {
            let mut all = true;
            for (key, value) in req {
                if !is_env_matching(value, env.get(key).unwrap_or(&Value::Null))? {
                    all = false;
                    break;
                }
            }
            all
        }
        _ => false,
    };
    if matched {
        return Ok(true);
    }
    let matched = match (request, env) {
        (Value::Array(options), env) if scalar(env) => options.iter().any(|o| py_eq(o, env)),
        (req, Value::Array(items)) if scalar(req) => items.iter().any(|i| py_eq(req, i)),
        (Value::Object(_), Value::Array(items)) => any(items, |item| is_env_matching(request, item))?,
        (Value::Array(reqs), Value::Array(_)) => all(reqs, |item| is_env_matching(item, env))?,
        (Value::Array(reqs), Value::Object(_)) => any(reqs, |item| is_env_matching(item, env))?,
        _ => false,
    } || py_eq(request, env);
    if matched {
        return Ok(true);
    }
    match (request, env) {
        (Value::Array(checks), Value::String(text))
            if checks.iter().all(|c| c.as_object().is_some_and(|o| o.len() == 1)) =>
        {
            contains_checks(checks, text)
        }
        _ => Ok(false),
    }
}

fn any(items: &[Value], mut f: impl FnMut(&Value) -> Result<bool, String>) -> Result<bool, String> {
    for item in items {
        if f(item)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn all(items: &[Value], mut f: impl FnMut(&Value) -> Result<bool, String>) -> Result<bool, String> {
    for item in items {
        if !f(item)? {
            return Ok(false);
        }
    }
    Ok(true)
}

const CHECKS: [&str; 4] = ["contains_exact", "not_contains_exact", "contains_regex", "not_contains_regex"];

fn contains_checks(checks: &[Value], text: &str) -> Result<bool, String> {
    let mut invalid: Vec<&str> = checks
        .iter()
        .filter_map(|c| c.as_object()?.keys().next().map(String::as_str))
        .filter(|name| !CHECKS.contains(name))
        .collect();
    if !invalid.is_empty() {
        invalid.sort_unstable();
        invalid.dedup();
        return Err(format!("Invalid contains checks: {invalid:?}, please check your env_req marker"));
    }
    for check in checks {
        let Some((name, value)) = check.as_object().and_then(|o| o.iter().next()) else { continue };
        let Some(value) = value.as_str() else {
            return Err(format!("{name} needs a string, got {value}"));
        };
        let regex = || regex::Regex::new(value).map_err(|e| format!("{name}: bad regex {value:?}: {e}"));
        let passed = match name.as_str() {
            "contains_exact" => text.contains(value),
            "not_contains_exact" => !text.contains(value),
            "contains_regex" => regex()?.is_match(text),
            _ => !regex()?.is_match(text),
        };
        if !passed {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Python's `==` on JSON values: numbers by value (1 == 1.0), and `true == 1`, `false == 0`.
fn py_eq(a: &Value, b: &Value) -> bool {
    let number = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    };
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
        }
        _ => match (number(a), number(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cases whose `expected` pytest-vitro 0.5.1's own `is_env_matching` produced
    /// (`scripts/regen-config-fixtures`).
    #[test]
    fn matches_pytest_vitros_answers_on_every_recorded_case() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/env_req/cases.json");
        let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert!(cases.len() >= 30);
        for case in &cases {
            let ours = is_env_matching(&case["env_req"], &case["env"]);
            match &case["expected"] {
                Value::Bool(expected) => assert_eq!(ours, Ok(*expected), "{case}"),
                _ => assert!(
                    ours.is_err(),
                    "pytest-vitro raised ({}), we said {ours:?}: {case}",
                    case["error"]
                ),
            }
        }
    }
}
