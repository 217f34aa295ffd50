//! Device templates on the host's side: the check of each plugin's `implements` declarations at
//! start (every required method of a declared template is among the type's methods), and the live
//! contract check of a held bed (`vitro templates check`, `session/checkTemplates`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use vitro_protocol::methods::DeviceCall;
use vitro_protocol::session::{CheckOutcome, TemplateCheckResult};
use vitro_protocol::templates::{TemplateRef, Templates};
use vitro_protocol::types::{DeviceCallParams, DeviceDescription, InitializeResult};
use vitro_protocol::{ErrorKind, RequestMethod, RpcError};
use vitro_rpc::{CallError, PeerHandle};

/// Deadline of one checked call.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// One broken declaration: which plugin, type and template, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclarationError {
    /// Plugin name.
    pub plugin: String,
    /// Device type.
    pub type_name: String,
    /// The declaration as written (`lan@1`).
    pub template: String,
    /// What is wrong.
    pub problem: String,
}

impl std::fmt::Display for DeclarationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "plugin {}: device type {} declares template {}, but {}",
            self.plugin, self.type_name, self.template, self.problem
        )
    }
}

/// Every broken declaration of `plugin`: unknown templates and missing required methods, one
/// error per method, in the templates' order.
pub fn check_declarations(templates: &Templates, plugin: &InitializeResult) -> Vec<DeclarationError> {
    let mut errors = Vec::new();
    for device_type in &plugin.device_types {
        for (index, declared) in device_type.implements.iter().enumerate() {
            let error = |problem: String| DeclarationError {
                plugin: plugin.plugin.name.clone(),
                type_name: device_type.type_name.clone(),
                template: declared.clone(),
                problem,
            };
            if device_type.implements[..index].contains(declared) {
                errors.push(error("is declared twice; declare each template once".to_owned()));
                continue;
            }
            let methods = TemplateRef::parse(declared).and_then(|reference| templates.methods(&reference));
            let methods = match methods {
                Ok(methods) => methods,
                Err(why) => {
                    errors.push(error(why));
                    continue;
                }
            };
            for (name, (defined_in, method)) in methods {
                if method.required && !device_type.methods.iter().any(|m| m.name == name) {
                    let from = if defined_in.to_string() == *declared {
                        String::new()
                    } else {
                        format!(" (from {defined_in}, which it extends)")
                    };
                    errors.push(error(format!(
                        "lacks its required method {name}{from}; add it to the type's methods"
                    )));
                }
            }
        }
    }
    errors
}

/// One template method as the live check calls it: its side-effect-free examples' params and
/// its compiled result schema.
struct Checked {
    method: String,
    examples: Vec<Value>,
    validator: Result<jsonschema::Validator, String>,
}

/// The checked methods of the template `declared`, inherited ones included (`None` for one that
/// does not resolve: it was refused at start, so a held bed does not have it).
fn checked_methods(templates: &Templates, declared: &str) -> Option<Vec<Checked>> {
    let methods = TemplateRef::parse(declared).and_then(|r| templates.methods(&r)).ok()?;
    let checked = methods
        .into_iter()
        .map(|(method, (_, m))| Checked {
            examples: m.examples.iter().filter(|e| e.side_effect_free).map(|e| e.params.clone()).collect(),
            validator: jsonschema::options()
                .should_validate_formats(true)
                .build(&m.result)
                .map_err(|e| format!("the template's result schema does not compile: {e}")),
            method,
        })
        .filter(|c| !c.examples.is_empty())
        .collect();
    Some(checked)
}

/// Calls each side-effect-free example of each template method (that the device offers) on each
/// device in `devices` that declares the template (through the device's plugin at `peer`), and
/// checks every result against the method's result schema. Devices are checked one after
/// another, their calls in order; each template is resolved and its schemas compiled once.
pub async fn live_check(
    templates: &Templates,
    devices: &[(DeviceDescription, PeerHandle)],
) -> Vec<TemplateCheckResult> {
    let mut resolved: BTreeMap<&str, Option<Vec<Checked>>> = BTreeMap::new();
    let mut results = Vec::new();
    for (device, peer) in devices {
        // After a call that timed out, the device's other calls would only wait as long again.
        let mut silent: Option<String> = None;
        // A method that two declared templates share (lan@1 and the linux_host@1 it extends)
        // is checked once.
        let mut done: Vec<String> = Vec::new();
        for declared in &device.implements {
            let checked = resolved.entry(declared).or_insert_with(|| checked_methods(templates, declared));
            // An optional method the device does not offer is not called.
            let offered = |c: &&Checked| device.methods.iter().any(|m| m.name == c.method);
            for check in checked.iter().flatten().filter(offered) {
                if done.contains(&check.method) {
                    continue;
                }
                done.push(check.method.clone());
                for params in &check.examples {
                    let call = DeviceCallParams {
                        device: device.name.clone(),
                        method: check.method.clone(),
                        params: params.clone(),
                        kwargs: None,
                    };
                    let answer = match &silent {
                        Some(first) => Err(format!("not called: {first}")),
                        None => {
                            let answer =
                                peer.request_raw(DeviceCall::METHOD, &call, Some(CALL_TIMEOUT)).await;
                            if let Err(CallError::Local(e)) = &answer {
                                if e.kind() == ErrorKind::Timeout {
                                    silent = Some(format!(
                                        "plugin {} did not answer `{}` within {}s, so the device's other calls were skipped",
                                        device.plugin,
                                        check.method,
                                        CALL_TIMEOUT.as_secs()
                                    ));
                                }
                            }
                            answer.map_err(|e| e.to_string()).and_then(|raw| {
                                serde_json::from_str::<Value>(raw.get())
                                    .map_err(|e| format!("unreadable result: {e}"))
                            })
                        }
                    };
                    let mut result = TemplateCheckResult {
                        device: device.name.clone(),
                        template: declared.clone(),
                        method: check.method.clone(),
                        params: params.clone(),
                        outcome: CheckOutcome::Passed,
                        message: None,
                        schema_path: None,
                        instance_path: None,
                        value: None,
                    };
                    judge(&mut result, answer, &check.validator);
                    results.push(result);
                }
            }
        }
    }
    results
}

/// Refuses a call of a template method whose params do not fit the template's params schema
/// (`invalid-params`, naming the method, the template and the schema path), before it reaches
/// the driver. Positional params take the schema's properties in order; a method no template
/// of the device defines passes unchecked.
pub fn check_call_params(device: &DeviceDescription, call: &DeviceCallParams) -> Result<(), RpcError> {
    let templates = Templates::builtin();
    for declared in &device.implements {
        let Some((template, validator, names)) = params_validator(templates, declared, &call.method) else {
            continue;
        };
        let mut given = serde_json::Map::new();
        match &call.params {
            Value::Null => {}
            Value::Object(map) => given.extend(map.clone()),
            Value::Array(items) if items.len() <= names.len() => {
                given.extend(names.iter().cloned().zip(items.iter().cloned()));
            }
            Value::Array(items) => {
                let why = format!("{} positional params, but it takes {} at most", items.len(), names.len());
                return Err(invalid(call, &template, why));
            }
            // Another shape (one bare value) is the driver's to read.
            _ => continue,
        }
        given.extend(call.kwargs.iter().flatten().map(|(k, v)| (k.clone(), v.clone())));
        let given = Value::Object(given);
        if let Some(error) = validator.iter_errors(&given).next() {
            let at = error.instance_path().to_string();
            let at = if at.is_empty() { String::new() } else { format!(" at {at}") };
            return Err(invalid(
                call,
                &template,
                format!("{error}{at} (schema path {})", error.schema_path()),
            ));
        }
        return Ok(());
    }
    Ok(())
}

fn invalid(call: &DeviceCallParams, template: &str, why: String) -> RpcError {
    RpcError::new(
        ErrorKind::InvalidParams,
        format!("{}.{}: the params do not fit template {template}: {why}", call.device, call.method),
    )
}

/// The compiled params schema of `method` in template `declared` (inherited methods included),
/// with the template that defines it and its params' names in order; `None` when the template
/// has no such method. Compiled once per template method.
fn params_validator(
    templates: &Templates,
    declared: &str,
    method: &str,
) -> Option<(String, std::sync::Arc<jsonschema::Validator>, Vec<String>)> {
    type Cache = std::collections::HashMap<
        (String, String),
        Option<(String, std::sync::Arc<jsonschema::Validator>, Vec<String>)>,
    >;
    static CACHE: std::sync::OnceLock<parking_lot::Mutex<Cache>> = std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (declared.to_owned(), method.to_owned());
    if let Some(found) = cache.lock().get(&key) {
        return found.clone();
    }
    let compiled = TemplateRef::parse(declared)
        .and_then(|r| templates.methods(&r))
        .ok()
        .and_then(|methods| methods.get(method).cloned())
        .and_then(|(from, m)| {
            let validator = jsonschema::validator_for(&m.params).ok()?;
            let names =
                m.params["properties"].as_object().map(|p| p.keys().cloned().collect()).unwrap_or_default();
            let template = if from.to_string() == declared {
                from.to_string()
            } else {
                format!("{declared} (from {from})")
            };
            Some((template, std::sync::Arc::new(validator), names))
        });
    cache.lock().insert(key, compiled.clone());
    compiled
}

fn error(result: &mut TemplateCheckResult, message: String) {
    result.outcome = CheckOutcome::Error;
    result.message = Some(message);
}

/// Records in `result` how `answer` fits the result schema.
fn judge(
    result: &mut TemplateCheckResult,
    answer: Result<Value, String>,
    validator: &Result<jsonschema::Validator, String>,
) {
    let (value, validator) = match (answer, validator) {
        (Ok(value), Ok(validator)) => (value, validator),
        (Err(message), _) => return error(result, message),
        (Ok(_), Err(message)) => return error(result, message.clone()),
    };
    let first = validator.iter_errors(&value).next();
    if let Some(error) = first {
        result.outcome = CheckOutcome::Failed;
        result.message = Some(error.to_string());
        result.schema_path = Some(error.schema_path().to_string());
        result.instance_path = Some(error.instance_path().to_string());
        result.value = Some(error.instance().clone().into_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitro_protocol::types::{DeviceTypeInfo, MemberKind, MethodInfo, PluginInfo, Role};
    use vitro_protocol::ProtocolVersion;

    fn plugin(implements: &[&str], methods: &[&str]) -> InitializeResult {
        InitializeResult {
            protocol_version: ProtocolVersion::new(1, 2),
            plugin: PluginInfo { name: "p".into(), version: "1".into(), sdk: "none".into() },
            device_types: vec![DeviceTypeInfo {
                type_name: "client".into(),
                role: Role::Attached,
                hooks: Vec::new(),
                methods: methods
                    .iter()
                    .map(|m| MethodInfo {
                        name: (*m).into(),
                        description: String::new(),
                        kind: MemberKind::Method,
                    })
                    .collect(),
                config_schema: None,
                client: None,
                classes: Vec::new(),
                implements: implements.iter().map(|t| (*t).into()).collect(),
            }],
            capabilities: Vec::new(),
            cli_args: Vec::new(),
            max_concurrency: None,
        }
    }

    #[test]
    fn a_missing_required_method_is_named_with_plugin_type_and_template() {
        let templates = Templates::builtin();
        let lan =
            ["execute_command", "get_hostname", "get_interface_ipv4addr", "ping", "get_default_gateway"];
        let errors = check_declarations(templates, &plugin(&["lan@1"], &lan));
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "plugin p: device type client declares template lan@1, but lacks its required method http_get; add it to the type's methods",
                "plugin p: device type client declares template lan@1, but lacks its required method release_dhcp; add it to the type's methods",
                "plugin p: device type client declares template lan@1, but lacks its required method renew_dhcp; add it to the type's methods",
            ]
        );
        let errors =
            check_declarations(templates, &plugin(&["lan@1"], &["http_get", "release_dhcp", "renew_dhcp"]));
        assert!(errors[0]
            .to_string()
            .contains("lacks its required method execute_command (from linux_host@1, which it extends)"));
    }

    #[test]
    fn a_template_is_declared_once_in_one_spelling() {
        let templates = Templates::builtin();
        let power = ["power_on", "power_off", "power_cycle"];
        let twice = check_declarations(templates, &plugin(&["power@1", "power@1"], &power));
        assert_eq!(twice.len(), 1, "{twice:?}");
        assert!(twice[0].problem.contains("is declared twice"), "{}", twice[0].problem);
        let padded = check_declarations(templates, &plugin(&["power@1", "power@01"], &power));
        assert_eq!(padded.len(), 1, "{padded:?}");
        assert!(padded[0].problem.contains("without leading zeros"), "{}", padded[0].problem);
    }

    #[test]
    fn unknown_or_misspelt_templates_are_errors() {
        let templates = Templates::builtin();
        assert!(check_declarations(templates, &plugin(&["lan@9"], &[]))[0]
            .problem
            .contains("no template lan@9"));
        assert!(check_declarations(templates, &plugin(&["lan"], &[]))[0].problem.contains("name@major"));
        assert!(check_declarations(
            templates,
            &plugin(&["power@1"], &["power_on", "power_off", "power_cycle"])
        )
        .is_empty());
    }
}
