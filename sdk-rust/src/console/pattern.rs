//! What `expect` waits for, and what it found.

use super::ConsoleError;

/// What `expect` waits for.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// A regular expression over the raw bytes.
    Regex(regex::bytes::Regex),
    /// An exact byte string.
    Exact(Vec<u8>),
}

impl Pattern {
    /// A regular expression; a bad one is an error naming it.
    pub fn regex(pattern: &str) -> Result<Self, ConsoleError> {
        regex::bytes::Regex::new(pattern)
            .map(Pattern::Regex)
            .map_err(|e| ConsoleError::BadPattern(format!("{pattern:?}: {e}")))
    }

    /// An exact string.
    pub fn exact(text: &str) -> Self {
        Pattern::Exact(text.as_bytes().to_vec())
    }

    pub(crate) fn find(&self, haystack: &[u8], from: usize) -> Option<(usize, usize)> {
        match self {
            Pattern::Regex(re) => re.find_at(haystack, from).map(|m| (m.start(), m.end())),
            Pattern::Exact(needle) if needle.is_empty() => Some((from, from)),
            Pattern::Exact(needle) => haystack[from..]
                .windows(needle.len())
                .position(|w| w == needle.as_slice())
                .map(|i| (from + i, from + i + needle.len())),
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Pattern::Regex(re) => format!("/{}/", re.as_str()),
            Pattern::Exact(bytes) => format!("{:?}", String::from_utf8_lossy(bytes)),
        }
    }
}

/// What `expect` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Which of the patterns matched (the one matching earliest; the first listed on a tie).
    pub index: usize,
    /// The output before the match.
    pub before: String,
    /// The matched text.
    pub matched: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_match_wins_and_ties_go_to_the_first_pattern() {
        let hay = b"abc login: password:";
        let login = Pattern::regex("login:").unwrap();
        let pass = Pattern::exact("password:");
        assert_eq!(login.find(hay, 0), Some((4, 10)));
        assert_eq!(pass.find(hay, 0), Some((11, 20)));
        assert!(Pattern::regex("(").is_err());
    }
}
