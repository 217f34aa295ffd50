//! Generates `vitro_sdk::templates` from the template files of `vitro-protocol`: per template a
//! module with a trait of its methods (typed params and results), the declaration a device type
//! makes, and the router from `device/call` to the trait.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;
use vitro_protocol::templates::{Template, TemplateMethod, TemplateRef, Templates};

fn main() {
    println!("cargo:rerun-if-changed=../protocol/templates");
    println!("cargo:rerun-if-changed=build.rs");
    let templates = Templates::builtin();
    let mut out = String::new();
    for template in templates.all() {
        module(templates, template, &mut out);
    }
    let path =
        std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("templates.rs");
    std::fs::write(path, out).expect("OUT_DIR is writable");
}

fn camel(name: &str) -> String {
    name.split('_')
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
        })
        .collect()
}

fn module_name(reference: &TemplateRef) -> String {
    format!("{}_v{}", reference.name, reference.version)
}

/// Rust types of JSON Schemas (the subset templates use); nested objects become structs.
struct Types<'a> {
    structs: &'a mut String,
}

impl Types<'_> {
    fn of(&mut self, schema: &Value, name: &str, serialize: bool) -> String {
        if let Some(options) = schema["anyOf"].as_array() {
            let non_null: Vec<&Value> = options.iter().filter(|s| s["type"] != "null").collect();
            if non_null.len() == 1 && non_null.len() < options.len() {
                return format!("Option<{}>", self.of(non_null[0], name, serialize));
            }
            return "serde_json::Value".into();
        }
        if schema.get("enum").is_some() {
            return "String".into();
        }
        match schema["type"].as_str() {
            Some("string") => "String".into(),
            Some("integer") => "i64".into(),
            Some("number") => "f64".into(),
            Some("boolean") => "bool".into(),
            Some("null") => "()".into(),
            Some("array") => format!("Vec<{}>", self.of(&schema["items"], &format!("{name}Item"), serialize)),
            Some("object") if schema["properties"].as_object().is_some_and(|p| !p.is_empty()) => {
                self.structure(schema, name, serialize);
                name.to_owned()
            }
            _ => "serde_json::Value".into(),
        }
    }

    fn structure(&mut self, schema: &Value, name: &str, serialize: bool) {
        let required: Vec<&str> =
            schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let mut fields = String::new();
        for (field, sub) in schema["properties"].as_object().into_iter().flatten() {
            let mut rust = self.of(sub, &format!("{name}{}", camel(field)), serialize);
            if !required.contains(&field.as_str()) && !rust.starts_with("Option<") {
                rust = format!("Option<{rust}>");
            }
            let doc = sub["description"].as_str().unwrap_or("See the template.");
            let skip = if rust.starts_with("Option<") {
                "    #[serde(default, skip_serializing_if = \"Option::is_none\")]\n"
            } else {
                ""
            };
            let _ = write!(fields, "    /// {doc}\n{skip}    pub {field}: {rust},\n");
        }
        let deny = if serialize { "" } else { "#[serde(deny_unknown_fields)]\n" };
        let _ = write!(
            self.structs,
            "/// `{name}`.\n#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]\n{deny}pub struct {name} {{\n{fields}}}\n\n"
        );
    }
}

fn has_params(method: &TemplateMethod) -> bool {
    method.params["properties"].as_object().is_some_and(|p| !p.is_empty())
}

fn module(templates: &Templates, template: &Template, out: &mut String) {
    let reference = TemplateRef { name: template.name.clone(), version: template.version };
    let trait_name = camel(&template.name);
    let mut structs = String::new();
    let mut methods = String::new();
    let mut routes = String::new();
    let mut own: Vec<String> = Vec::new();
    for (name, method) in &template.methods {
        let mut types = Types { structs: &mut structs };
        let result = types.of(&method.result, &format!("{}Result", camel(name)), true);
        let params = has_params(method).then(|| {
            let params_type = format!("{}Params", camel(name));
            types.structure(&method.params, &params_type, false);
            params_type
        });
        let args = params.as_ref().map_or(String::new(), |p| format!(", params: {p}"));
        let doc = method.description.replace('\n', " ");
        let body = if method.required {
            ";".to_owned()
        } else {
            format!(
                " {{\n        let _ = ctx;{}\n        Err(not_offered(\"{name}\"))\n    }}",
                if params.is_some() { " let _ = params;" } else { "" }
            )
        };
        let optional =
            if method.required { "" } else { " (optional: the default answers `method-not-found`)" };
        let _ = writeln!(
            methods,
            "    /// {doc}{optional}\n    async fn {name}(&self, ctx: &Context{args}) -> DriverResult<{result}>{body}"
        );
        let names: Vec<String> = method.params["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| format!("{k:?}"))
            .collect();
        let call = match &params {
            Some(p) => format!(
                "device.{name}(ctx, parse::<{p}>(\"{name}\", &[{}], params)?).await?",
                names.join(", ")
            ),
            None => format!("{{ parse::<NoParams>(\"{name}\", &[], params)?; device.{name}(ctx).await? }}"),
        };
        let _ = writeln!(routes, "                \"{name}\" => answer({call}),");
        own.push(format!("{name:?}"));
    }
    let parent = template.extends.as_deref().and_then(|r| TemplateRef::parse(r).ok());
    let supertrait = parent
        .as_ref()
        .and_then(|p| templates.get(p).map(|t| format!("super::{}::{} + ", module_name(p), camel(&t.name))))
        .unwrap_or_default();
    let fallback = parent.as_ref().map_or("return None".to_owned(), |p| {
        format!("return super::{}::route(device, ctx, method, params).await", module_name(p))
    });
    let mut declared: BTreeMap<String, (bool, String)> = BTreeMap::new();
    for (name, (_, method)) in templates.methods(&reference).unwrap_or_default() {
        declared.insert(name, (method.required, method.description.replace('"', "'")));
    }
    let declared: Vec<String> = declared
        .iter()
        .map(|(n, (req, d))| format!("        (\"{n}\", {req}, \"{}\"),", d.replace('\\', "")))
        .collect();
    let description = template.description.replace('\n', " ");
    let _ = write!(
        out,
        r#"/// {description} (template `{reference}`)
pub mod {module} {{
    use super::*;

    /// The template's reference.
    pub const TEMPLATE: &str = "{reference}";

    /// What a device type that implements `{reference}` declares: the template, and every method
    /// (inherited ones included) with whether it is required and its description.
    const DECLARATION: Declaration = Declaration {{
        template: TEMPLATE,
        methods: &[
{declared}
        ],
    }};

    /// The declaration of a device type whose devices are `T`s: only a type that implements
    /// [`{trait_name}`] can declare `{reference}` (with [`crate::DeviceType::template`]).
    pub fn declaration<T: {trait_name} + ?Sized>() -> &'static Declaration {{
        &DECLARATION
    }}

{structs}    /// The methods of `{reference}`; a device type that declares the template implements this.
    #[async_trait]
    pub trait {trait_name}: {supertrait}Send + Sync {{
{methods}    }}

    /// Runs `method` of the template (or of a template it extends) on `device`; `None` when it is
    /// none of theirs.
    pub async fn route<T: {trait_name} + ?Sized>(
        device: &T,
        ctx: &Context,
        method: &str,
        params: &serde_json::Value,
    ) -> Option<DriverResult<serde_json::Value>> {{
        if ![{own}].contains(&method) {{
            {fallback};
        }}
        let result: DriverResult<serde_json::Value> = async {{
            match method {{
{routes}                other => Err(not_offered(other)),
            }}
        }}
        .await;
        Some(result)
    }}
}}

"#,
        module = module_name(&reference),
        declared = declared.join("\n"),
        own = own.join(", "),
    );
}
