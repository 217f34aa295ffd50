//! Turns raw console bytes into log text: escape sequences removed (parsed by `vte`, the terminal
//! parser of Alacritty, so every ECMA-48 form goes, `ESC ( B` included), backspace edits applied,
//! carriage returns and other control characters dropped.

/// Incremental cleaner: keeps an unfinished escape sequence or UTF-8 character across chunks.
/// Console logs use it; so does anything that wants a console's output as plain lines.
#[derive(Default)]
pub struct Cleaner {
    parser: vte::Parser,
}

impl std::fmt::Debug for Cleaner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cleaner")
    }
}

impl Cleaner {
    /// Cleans `input` and appends the text to `line`; each finished line is passed to `emit`.
    pub fn feed(&mut self, input: &[u8], line: &mut Vec<u8>, emit: impl FnMut(&[u8])) {
        self.parser.advance(&mut Text { line, emit }, input);
    }
}

/// What the parser's text and control characters do to the line being built.
struct Text<'a, F> {
    line: &'a mut Vec<u8>,
    emit: F,
}

impl<F: FnMut(&[u8])> vte::Perform for Text<'_, F> {
    fn print(&mut self, c: char) {
        if c == '\u{7f}' {
            return;
        }
        let mut buf = [0; 4];
        self.line.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }

    fn execute(&mut self, byte: u8) {
        match byte {
            b'\n' => {
                (self.emit)(self.line);
                self.line.clear();
            }
            b'\t' => self.line.push(b'\t'),
            0x08 => {
                // Remove one whole character: its continuation bytes, then its first byte.
                while self.line.last().is_some_and(|b| b & 0xc0 == 0x80) {
                    self.line.pop();
                }
                self.line.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cases both SDKs replay: `tests/fixtures/console/clean.json`.
    #[test]
    fn the_shared_cleaning_cases_pass() {
        for case in crate::shared_cases("clean") {
            let mut cleaner = Cleaner::default();
            let mut line = Vec::new();
            let mut lines = Vec::new();
            for chunk in case["chunks"].as_array().unwrap() {
                let bytes = chunk.as_str().unwrap().as_bytes();
                cleaner.feed(bytes, &mut line, |l| lines.push(String::from_utf8_lossy(l).into_owned()));
            }
            assert_eq!(lines, case["lines"].as_array().unwrap().clone(), "{}", case["case"]);
        }
    }
}
