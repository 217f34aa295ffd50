//! Device templates: shared, versioned contracts a device type may implement (`"implements":
//! ["lan@1"]`). One JSON file per template and major version under `protocol/templates/`, checked
//! against `protocol/schema/template.schema.json` (generated from [`Template`]); each names its
//! methods with a JSON Schema for their params and result.
//!
//! Versioning: a minor change may add optional methods, add optional params, and widen what a
//! method accepts; it keeps the file's major (`lan.v1.json`). Anything else (a new required
//! method, a removed method, a narrower result) is a new major: a new file, `lan.v2.json`.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One template file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// The meta-schema, for editors (`../schema/template.schema.json`).
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Name, lower case with underscores: `lan`, `linux_host`.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]*$"))]
    pub name: String,
    /// Major version; the file is `<name>.v<version>.json`.
    #[schemars(range(min = 1))]
    pub version: u32,
    /// What a device of this template is.
    pub description: String,
    /// The template this one extends (`linux_host@1`): its methods are this one's too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]*@[1-9][0-9]*$"))]
    pub extends: Option<String>,
    /// Its methods, by name.
    pub methods: BTreeMap<String, TemplateMethod>,
}

/// One method of a template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateMethod {
    /// What it does, for documentation and generated code.
    pub description: String,
    /// Whether every implementation must have it.
    pub required: bool,
    /// JSON Schema of its params: an object of named arguments.
    pub params: Value,
    /// JSON Schema of its result.
    pub result: Value,
    /// Example calls.
    #[serde(default)]
    pub examples: Vec<Example>,
}

/// An example call of a template method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Example {
    /// The params.
    pub params: Value,
    /// What a device might answer (illustration; checks validate against the result schema).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Whether the call changes nothing on the device and works on any bed, so that
    /// `vitro templates check` may make it.
    #[serde(default)]
    pub side_effect_free: bool,
}

/// A reference to a template and major version, `lan@1`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TemplateRef {
    /// Template name.
    pub name: String,
    /// Major version.
    pub version: u32,
}

impl TemplateRef {
    /// Reads `name@major`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (name, version) = text
            .split_once('@')
            .ok_or_else(|| format!("{text:?} is not a template reference: write name@major, e.g. lan@1"))?;
        // One spelling per version: `lan@01` would be a second declaration of `lan@1`.
        let canonical = !version.starts_with('0') && version.chars().all(|c| c.is_ascii_digit());
        let version: u32 = version.parse().ok().filter(|v| *v > 0 && canonical).ok_or_else(|| {
            format!(
                "{text:?}: the major version after @ is a number from 1 without leading zeros, e.g. lan@1"
            )
        })?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(format!("{text:?}: a template name is lower case letters, digits and _"));
        }
        Ok(Self { name: name.to_owned(), version })
    }
}

impl fmt::Display for TemplateRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}

/// The templates shipped with this protocol version (`protocol/templates/`).
const BUILTIN: &[(&str, &str)] = &[
    ("linux_host.v1.json", include_str!("../templates/linux_host.v1.json")),
    ("lan.v1.json", include_str!("../templates/lan.v1.json")),
    ("wan.v1.json", include_str!("../templates/wan.v1.json")),
    ("cpe.v1.json", include_str!("../templates/cpe.v1.json")),
    ("power.v1.json", include_str!("../templates/power.v1.json")),
];

/// A set of templates, with `extends` resolved on lookup.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    by_ref: BTreeMap<TemplateRef, Template>,
}

impl Templates {
    /// The templates that come with this protocol version, read once per process. They are
    /// checked by this crate's tests, so reading them cannot fail in a release.
    pub fn builtin() -> &'static Self {
        static BUILTIN_SET: std::sync::OnceLock<Templates> = std::sync::OnceLock::new();
        BUILTIN_SET.get_or_init(|| {
            let mut set = Self::default();
            for (file, text) in BUILTIN {
                match serde_json::from_str::<Template>(text) {
                    Ok(template) => set.insert(template),
                    Err(e) => debug_assert!(false, "protocol/templates/{file}: {e}"),
                }
            }
            set
        })
    }

    /// The file names and texts of the shipped templates.
    pub fn builtin_files() -> &'static [(&'static str, &'static str)] {
        BUILTIN
    }

    /// Adds (or replaces) a template.
    pub fn insert(&mut self, template: Template) {
        self.by_ref.insert(TemplateRef { name: template.name.clone(), version: template.version }, template);
    }

    /// Every template, by name then version.
    pub fn all(&self) -> impl Iterator<Item = &Template> {
        self.by_ref.values()
    }

    /// One template by reference.
    pub fn get(&self, reference: &TemplateRef) -> Option<&Template> {
        self.by_ref.get(reference)
    }

    /// The newest version of the template called `name`.
    pub fn newest(&self, name: &str) -> Option<&Template> {
        self.by_ref.iter().filter(|(r, _)| r.name == name).map(|(_, t)| t).next_back()
    }

    /// Every method of `reference`, inherited ones included (a template's own override its
    /// parent's), each with the template that defines it; an error for an unknown template or
    /// an `extends` cycle.
    pub fn methods(
        &self,
        reference: &TemplateRef,
    ) -> Result<BTreeMap<String, (TemplateRef, TemplateMethod)>, String> {
        let mut chain = Vec::new();
        let mut next = Some(reference.clone());
        while let Some(current) = next {
            if chain.contains(&current) {
                return Err(format!("template {reference} extends itself through {current}"));
            }
            let template = self.get(&current).ok_or_else(|| match current == *reference {
                true => format!("no template {current} is known (known: {})", self.names()),
                false => format!(
                    "template {} extends {current}, which is not known",
                    chain.last().map_or_else(String::new, ToString::to_string)
                ),
            })?;
            next = template.extends.as_deref().map(TemplateRef::parse).transpose()?;
            chain.push(current);
        }
        let mut methods = BTreeMap::new();
        for current in chain.iter().rev() {
            for (name, method) in &self.by_ref[current].methods {
                methods.insert(name.clone(), (current.clone(), method.clone()));
            }
        }
        Ok(methods)
    }

    /// `declared` and every template it extends, nearest first (`lan@1`, `linux_host@1`): a
    /// device that implements a template implements its bases too. An unknown or unreadable
    /// reference answers itself alone.
    pub fn with_bases(&self, declared: &str) -> Vec<String> {
        let mut found = vec![declared.to_owned()];
        let mut next =
            TemplateRef::parse(declared).ok().and_then(|r| self.get(&r)).and_then(|t| t.extends.clone());
        while let Some(base) = next.filter(|b| !found.contains(b)) {
            next = TemplateRef::parse(&base).ok().and_then(|r| self.get(&r)).and_then(|t| t.extends.clone());
            found.push(base);
        }
        found
    }

    /// `name@version` of every template, comma-separated.
    pub fn names(&self) -> String {
        self.by_ref.keys().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_read_name_and_major() {
        assert_eq!(TemplateRef::parse("lan@1"), Ok(TemplateRef { name: "lan".into(), version: 1 }));
        for bad in ["lan", "lan@0", "lan@x", "@1", "Lan@1"] {
            assert!(TemplateRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lan_has_its_own_methods_and_linux_hosts() {
        let templates = Templates::builtin();
        let methods = templates.methods(&TemplateRef::parse("lan@1").unwrap()).unwrap();
        assert_eq!(methods["ping"].0.to_string(), "linux_host@1");
        assert_eq!(methods["get_default_gateway"].0.to_string(), "lan@1");
        assert!(templates
            .methods(&TemplateRef::parse("nope@1").unwrap())
            .unwrap_err()
            .contains("no template nope@1"));
    }
}
