//! Tables of `protocol/README.md` that are generated from this crate, so the page cannot drift
//! from the code. Each sits between `<!-- generated: NAME -->` and `<!-- end: NAME -->`; the
//! schema test checks them and rewrites them with `VITRO_UPDATE_SCHEMAS=1`.

use crate::ErrorKind;

/// The error table: kind, code and meaning of every [`ErrorKind`].
pub fn error_table() -> String {
    let mut table = String::from("| kind | code | meaning |\n| --- | --- | --- |\n");
    for kind in ErrorKind::ALL {
        table.push_str(&format!("| `{}` | {} | {} |\n", kind.as_str(), kind.code(), kind.meaning()));
    }
    table
}

/// The environment table: every variable of [`crate::env::ALL`].
pub fn environment_table() -> String {
    let mut table = String::from("| variable | value |\n| --- | --- |\n");
    for (name, value) in crate::env::ALL {
        table.push_str(&format!("| `{name}` | {value} |\n"));
    }
    table
}

/// The methods table: name, direction, kind, params (and result) with their fields, and what it
/// does, from [`crate::methods::all`] and the protocol schema's types.
pub fn methods_table() -> String {
    let defs = crate::schema::protocol_definitions();
    let shape = |name: &str| -> String {
        let Some(def) = defs.get(name) else { return format!("`{name}`") };
        let required: Vec<&str> =
            def["required"].as_array().into_iter().flatten().filter_map(serde_json::Value::as_str).collect();
        let fields: Vec<String> = def["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(field, _)| {
                format!("`{field}`{}", if required.contains(&field.as_str()) { "" } else { "?" })
            })
            .collect();
        if fields.is_empty() {
            format!("`{name}`")
        } else {
            format!("`{name}` ({})", fields.join(", "))
        }
    };
    let mut table = String::from(
        "| method | direction | kind | params -> result | what it does |\n| --- | --- | --- | --- | --- |\n",
    );
    for method in crate::methods::all() {
        let direction = match method.direction {
            crate::Direction::HostToPlugin => "host -> plugin",
            crate::Direction::PluginToHost => "plugin -> host",
            crate::Direction::Both => "both",
        };
        let (kind, types) = match &method.result {
            Some(result) => ("request", format!("{} -> {}", shape(&method.params), shape(result))),
            None => ("notification", shape(&method.params)),
        };
        table.push_str(&format!(
            "| `{}` | {direction} | {kind} | {types} | {} |\n",
            method.name, method.description
        ));
    }
    table
}

/// Every generated section: its name and content.
pub fn sections() -> Vec<(&'static str, String)> {
    vec![("error-kinds", error_table()), ("environment", environment_table()), ("methods", methods_table())]
}

/// `page` with the section `name` replaced by `content`; `None` when the page lacks its markers.
pub fn replace_section(page: &str, name: &str, content: &str) -> Option<String> {
    let begin = format!("<!-- generated: {name} -->\n");
    let end = format!("<!-- end: {name} -->");
    let start = page.find(&begin)? + begin.len();
    let stop = start + page[start..].find(&end)?;
    Some(format!("{}{content}{}", &page[..start], &page[stop..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_replaced_between_their_markers() {
        let page = "a\n<!-- generated: t -->\nold\n<!-- end: t -->\nb\n";
        assert_eq!(
            replace_section(page, "t", "new\n").as_deref(),
            Some("a\n<!-- generated: t -->\nnew\n<!-- end: t -->\nb\n")
        );
        assert_eq!(replace_section(page, "other", "x"), None);
    }
}
