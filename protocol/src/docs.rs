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

/// Every generated section: its name and content.
pub fn sections() -> Vec<(&'static str, String)> {
    vec![("error-kinds", error_table()), ("environment", environment_table())]
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
