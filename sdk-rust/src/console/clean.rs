//! Turns raw console bytes into log text: ANSI escape sequences removed, backspace edits
//! applied, carriage returns dropped.

/// Incremental cleaner: keeps an unfinished escape sequence across chunks.
#[derive(Debug, Default)]
pub(crate) struct Cleaner {
    state: State,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Text,
    Escape,
    Csi,
    Osc,
    OscEscape,
}

impl Cleaner {
    /// Cleans `input` and appends the text to `line`; each finished line is passed to `emit`.
    pub(crate) fn feed(&mut self, input: &[u8], line: &mut Vec<u8>, mut emit: impl FnMut(&[u8])) {
        for &byte in input {
            self.state = match (self.state, byte) {
                (State::Text, 0x1b) => State::Escape,
                (State::Text, b'\n') => {
                    emit(line);
                    line.clear();
                    State::Text
                }
                (State::Text, 0x08 | 0x7f) => {
                    line.pop();
                    State::Text
                }
                (State::Text, b'\r' | 0x07 | 0x00) => State::Text,
                (State::Text, b) => {
                    line.push(b);
                    State::Text
                }
                (State::Escape, b'[') => State::Csi,
                (State::Escape, b']') => State::Osc,
                (State::Escape, _) => State::Text,
                (State::Csi, 0x40..=0x7e) => State::Text,
                (State::Csi, _) => State::Csi,
                (State::Osc, 0x07) => State::Text,
                (State::Osc, 0x1b) => State::OscEscape,
                (State::Osc, _) => State::Osc,
                (State::OscEscape, _) => State::Text,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(chunks: &[&[u8]]) -> Vec<String> {
        let mut cleaner = Cleaner::default();
        let mut line = Vec::new();
        let mut lines = Vec::new();
        for chunk in chunks {
            cleaner.feed(chunk, &mut line, |l| lines.push(String::from_utf8_lossy(l).into_owned()));
        }
        lines
    }

    #[test]
    fn escapes_backspaces_and_carriage_returns_are_cleaned_across_chunks() {
        let lines = clean(&[
            b"\x1b[?2004hroot@b:~# lss\x08 -l\r\n\x1b[0",
            b"1;32mok\x1b[0m\r\n\x1b]0;title\x07done\n",
        ]);
        assert_eq!(lines, ["root@b:~# ls -l", "ok", "done"]);
    }
}
