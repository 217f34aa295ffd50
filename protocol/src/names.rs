//! Device names: what a name may hold, and how one becomes part of a file name or a printed line.
//!
//! A name is used as a file name (console logs), on terminals (progress lines, the menu) and in
//! Python attribute paths (`devices.board`), so it is kept to a small, safe alphabet.

/// What a device name may hold, for error messages.
pub const DEVICE_NAME_RULE: &str =
    "1 to 64 characters of ASCII letters, digits, `_`, `-` and `.`, starting with a letter or a digit";

/// Whether `name` follows [`DEVICE_NAME_RULE`].
pub fn is_valid_device_name(name: &str) -> bool {
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(safe)
}

/// `text` as one safe file-name component: every byte outside `[A-Za-z0-9_.-]` becomes `%XX`,
/// and a leading `.` too, so no text can name a parent, an absolute path or a hidden file.
pub fn file_name_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (index, byte) in text.bytes().enumerate() {
        let safe = byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-') || (byte == b'.' && index > 0);
        if safe {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    if out.is_empty() {
        out.push('%');
    }
    out
}

/// Whether `c` is an invisible character that changes how a line reads: bidirectional
/// overrides and isolates (U+202E turns the rest of a line around), zero-width characters, and
/// the Unicode line and paragraph separators.
pub fn is_format_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// `text` for a terminal line: control characters (newlines, escape sequences, NUL, CR, BS)
/// and [format controls](is_format_control) are shown as Rust escapes (`\n`, `\u{1b}`,
/// `\u{202e}`), so text from a plugin, an inventory or the store cannot forge lines, drive the
/// terminal or turn a line around.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() || is_format_control(c);
    if text.chars().any(unsafe_char) {
        text.chars()
            .map(|c| if unsafe_char(c) { c.escape_default().to_string() } else { c.to_string() })
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

/// [`printable`], keeping line breaks: for multi-line text (an error with its causes, a
/// table) whose lines are each made printable.
pub fn printable_lines(text: &str) -> String {
    text.split('\n').map(printable).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_are_kept_to_a_safe_alphabet() {
        for good in ["board", "lan-2", "wifi_5g", "cpe.1", "1st"] {
            assert!(is_valid_device_name(good), "{good}");
        }
        for bad in ["", "../../x", "/abs/evil", "a/b", ".hidden", "-flag", "new\nline", "é", &"x".repeat(65)]
        {
            assert!(!is_valid_device_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn file_name_components_cannot_leave_their_directory() {
        assert_eq!(file_name_component("board"), "board");
        assert_eq!(file_name_component("../../x"), "%2E.%2F..%2Fx");
        assert_eq!(file_name_component("/abs/evil"), "%2Fabs%2Fevil"); // the Python SDK pins the same

        assert_eq!(file_name_component(""), "%");
        assert!(!file_name_component("a\0b").contains('\0'));
    }

    #[test]
    fn control_characters_are_escaped_for_terminals() {
        assert_eq!(printable("board"), "board");
        assert_eq!(printable("x\n[ 0.00s] forged"), "x\\n[ 0.00s] forged");
        assert_eq!(printable("\u{1b}]0;title\u{7}"), "\\u{1b}]0;title\\u{7}");
        assert_eq!(printable("a\0b\rc\u{8}d"), "a\\u{0}b\\rc\\u{8}d");
        assert_eq!(printable("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(printable("café ✓"), "café ✓");
        assert_eq!(printable_lines("one\n\u{1b}[2Jtwo"), "one\n\\u{1b}[2Jtwo");
    }
}
