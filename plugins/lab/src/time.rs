//! Store times (ms since the epoch, UTC) in words.

use std::time::{Duration, UNIX_EPOCH};

/// RFC 3339 to the millisecond: `2026-12-02T07:16:51.250Z`.
pub fn format(ms: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_millis(at).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_read_as_utc() {
        assert_eq!(super::format(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(super::format(1_796_195_811_250), "2026-12-02T07:16:51.250Z");
    }
}
