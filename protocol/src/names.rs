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

/// `text` for a terminal line: control characters (newlines, escape sequences) are shown as
/// Rust escapes (`\n`, `\u{1b}`), so a name cannot forge lines or drive the terminal.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(char::is_control) {
        text.chars()
            .map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() })
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
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
    }
}
