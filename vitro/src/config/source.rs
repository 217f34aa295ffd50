//! Reading a JSON file (a path or an http(s) URL) and pointing at places in it by line:column.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

/// How long fetching a config URL may take, as in Python Vitro.
const URL_TIMEOUT: Duration = Duration::from_secs(30);

/// A config problem: the file, the place in it, what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The path or URL as the user gave it.
    pub file: String,
    /// 1-based line and column, when the problem has a place.
    pub position: Option<(usize, usize)>,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub fix: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        write!(f, ": {}", self.message)?;
        if !self.fix.is_empty() {
            write!(f, "; {}", self.fix)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// A loaded JSON document and its text, for locating errors.
#[derive(Debug, Clone)]
pub struct JsonFile {
    /// The path or URL as the user gave it.
    pub name: String,
    /// The raw text.
    pub text: String,
    /// The parsed document (object key order kept).
    pub value: Value,
}

impl JsonFile {
    /// Reads and parses `location`: a file path, or an `http://` / `https://` URL. A URL is
    /// fetched on a thread of its own, so the runtime goes on answering plugins and signals
    /// meanwhile, and dropping the future gives up on it at once.
    pub async fn load(location: &str) -> Result<Self, ConfigError> {
        let error = |message: String, fix: &str| ConfigError {
            file: location.to_owned(),
            position: None,
            message,
            fix: fix.to_owned(),
        };
        let text = if location.starts_with("http://") || location.starts_with("https://") {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let url = location.to_owned();
            std::thread::Builder::new()
                .name("config-fetch".into())
                .spawn(move || {
                    let _ = tx.send(fetch(&url));
                })
                .map_err(|e| error(format!("cannot start fetching it: {e}"), "try again"))?;
            let fetched = rx.await.unwrap_or_else(|_| Err("the fetching thread ended".into()));
            fetched.map_err(|e| {
                error(
                    format!("cannot fetch it within {} s: {e}", URL_TIMEOUT.as_secs()),
                    "check the URL and that the server answers",
                )
            })?
        } else {
            std::fs::read_to_string(location)
                .map_err(|e| error(format!("cannot read it: {e}"), "check the path"))?
        };
        Self::parse(location, text)
    }

    /// Parses `text` that came from `name`.
    pub fn parse(name: &str, text: String) -> Result<Self, ConfigError> {
        match serde_json::from_str(&text) {
            Ok(value) => Ok(Self { name: name.to_owned(), text, value }),
            Err(e) => Err(ConfigError {
                file: name.to_owned(),
                position: Some((e.line(), e.column())),
                message: format!("malformed JSON: {}", strip_position(&e.to_string())),
                fix: "fix the JSON syntax there".into(),
            }),
        }
    }

    /// The value at JSON Pointer `pointer` read through the type `T` whose JSON Schema is
    /// published (`vitro_protocol::files`), so that what the schema allows and what `vitro` reads
    /// cannot disagree. A value that does not fit is an error at its line and column.
    pub fn typed<T: serde::de::DeserializeOwned>(
        &self,
        pointer: &str,
        schema: &str,
    ) -> Result<T, ConfigError> {
        let bytes = self.text.as_bytes();
        let start = locate(&self.text, pointer).unwrap_or(0);
        let end = skip_value(bytes, start).unwrap_or(bytes.len()).min(bytes.len());
        let slice = &self.text[start..end];
        serde_json::from_str(slice).map_err(|e| {
            // serde's line and column are within the slice: make them the file's.
            let in_slice = offset_of(slice, e.line(), e.column());
            ConfigError {
                file: self.name.clone(),
                position: Some(line_column(&self.text, start + in_slice)),
                message: format!("this does not fit {schema}: {}", strip_position(&e.to_string())),
                fix: format!("make it match protocol/schema/{schema}"),
            }
        })
    }

    /// An error about the value at JSON Pointer `pointer` (`""` is the whole document).
    pub fn error_at(&self, pointer: &str, message: impl Into<String>, fix: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.name.clone(),
            position: locate(&self.text, pointer).map(|offset| line_column(&self.text, offset)),
            message: message.into(),
            fix: fix.into(),
        }
    }
}

fn strip_position(message: &str) -> &str {
    message.find(" at line ").map_or(message, |at| &message[..at])
}

fn fetch(url: &str) -> Result<String, String> {
    let agent = ureq::AgentBuilder::new().timeout(URL_TIMEOUT).build();
    let response = agent.get(url).call().map_err(|e| e.to_string())?;
    response.into_string().map_err(|e| e.to_string())
}

/// Escapes one JSON Pointer reference token (RFC 6901).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The byte offset of 1-based `line` and `column` (in characters) in `text`.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    let rest = &text[line_start.min(text.len())..];
    line_start + rest.char_indices().nth(column.saturating_sub(1)).map_or(rest.len(), |(i, _)| i)
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Byte offset of the value at `pointer` in a valid JSON `text`.
fn locate(text: &str, pointer: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut pos = skip_ws(bytes, 0);
    if pointer.is_empty() {
        return Some(pos);
    }
    for raw in pointer.strip_prefix('/')?.split('/') {
        let token = raw.replace("~1", "/").replace("~0", "~");
        pos = match bytes.get(pos)? {
            b'{' => member(bytes, pos, &token)?,
            b'[' => element(bytes, pos, token.parse().ok()?)?,
            _ => return None,
        };
    }
    Some(pos)
}

fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    while bytes.get(pos).is_some_and(|b| b.is_ascii_whitespace()) {
        pos += 1;
    }
    pos
}

/// Offset just past the JSON string starting at `pos`.
fn skip_string(bytes: &[u8], mut pos: usize) -> Option<usize> {
    pos += 1;
    loop {
        match bytes.get(pos)? {
            b'\\' => pos += 2,
            b'"' => return Some(pos + 1),
            _ => pos += 1,
        }
    }
}

/// Offset just past the JSON value starting at `pos`.
fn skip_value(bytes: &[u8], pos: usize) -> Option<usize> {
    match bytes.get(pos)? {
        b'"' => skip_string(bytes, pos),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut p = pos;
            loop {
                match bytes.get(p)? {
                    b'"' => {
                        p = skip_string(bytes, p)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(p + 1);
                        }
                    }
                    _ => {}
                }
                p += 1;
            }
        }
        _ => {
            let mut p = pos;
            while bytes.get(p).is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace()) {
                p += 1;
            }
            Some(p)
        }
    }
}

/// Offset of the value of member `key` in the object at `pos`.
fn member(bytes: &[u8], pos: usize, key: &str) -> Option<usize> {
    let mut p = skip_ws(bytes, pos + 1);
    while bytes.get(p)? == &b'"' {
        let end = skip_string(bytes, p)?;
        let name: String = serde_json::from_slice(&bytes[p..end]).ok()?;
        p = skip_ws(bytes, end);
        p = skip_ws(bytes, p + 1); // past ':'
        if name == key {
            return Some(p);
        }
        p = skip_ws(bytes, skip_value(bytes, p)?);
        if bytes.get(p)? == &b',' {
            p = skip_ws(bytes, p + 1);
        }
    }
    None
}

/// Offset of element `index` of the array at `pos`.
fn element(bytes: &[u8], pos: usize, index: usize) -> Option<usize> {
    let mut p = skip_ws(bytes, pos + 1);
    for _ in 0..index {
        if bytes.get(p)? == &b']' {
            return None;
        }
        p = skip_ws(bytes, skip_value(bytes, p)?);
        if bytes.get(p)? == &b',' {
            p = skip_ws(bytes, p + 1);
        }
    }
    (bytes.get(p)? != &b']').then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "{\n  \"a\": {\"b~/c\": [1, {\"x\": \"y,]}\"}, 3]},\n  \"z\": null\n}";

    #[test]
    fn pointers_resolve_to_line_and_column() {
        let file = JsonFile::parse("doc.json", DOC.to_owned()).unwrap();
        let at = |p: &str| file.error_at(p, "m", "f").position;
        assert_eq!(at(""), Some((1, 1)));
        assert_eq!(at("/a"), Some((2, 8)));
        assert_eq!(at("/a/b~0~1c/1"), Some((2, 21)));
        assert_eq!(at("/a/b~0~1c/2"), Some((2, 36)));
        assert_eq!(at("/z"), Some((3, 8)));
        assert_eq!(at("/missing"), None);
        assert_eq!(at("/a/b~0~1c/9"), None);
    }

    #[test]
    fn a_value_that_does_not_fit_its_type_is_an_error_at_its_place() {
        let text = "{\n  \"b\": {\"devices\": [\n    {\"name\": \"x\", \"type\": 7}\n  ]}\n}";
        let file = JsonFile::parse("inv.json", text.to_owned()).unwrap();
        let err =
            file.typed::<vitro_protocol::files::InventoryBoard>("/b", "inventory.schema.json").unwrap_err();
        assert_eq!(err.position, Some((3, 27)), "{err}");
        assert!(err.message.contains("invalid type: integer `7`, expected a string"), "{err}");
    }

    #[test]
    fn malformed_json_names_file_line_and_column() {
        let err = JsonFile::parse("env.json", "{\n  \"a\": 1,\n}".to_owned()).unwrap_err();
        assert_eq!(err.position, Some((3, 1)));
        assert!(err.to_string().starts_with("env.json:3:1: malformed JSON: trailing comma"), "{err}");
    }
}
