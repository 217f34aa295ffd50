//! Durations given as a number of seconds (`vitro_timeouts`, `--handshake-timeout`, a session
//! call's `timeout`): one rule for what is accepted, so no input can overflow a `Duration`.

use std::time::Duration;

/// The longest deadline accepted: 30 days. Longer ones are almost surely a mistake.
pub const MAX_SECONDS: f64 = 30.0 * 24.0 * 3600.0;

/// `seconds` as a `Duration` when it is a finite number above 0 and at most [`MAX_SECONDS`];
/// otherwise a sentence saying what is accepted.
pub fn seconds(seconds: f64) -> Result<Duration, String> {
    if seconds.is_finite() && seconds > 0.0 && seconds <= MAX_SECONDS {
        Duration::try_from_secs_f64(seconds).map_err(|e| e.to_string())
    } else {
        let shown = if seconds.abs() < 1e9 { seconds.to_string() } else { format!("{seconds:e}") };
        Err(format!("{shown} is not a number of seconds above 0 and at most {MAX_SECONDS} (30 days)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_positive_finite_seconds_up_to_the_maximum_are_accepted() {
        assert_eq!(seconds(1.5), Ok(Duration::from_millis(1500)));
        assert_eq!(seconds(MAX_SECONDS), Ok(Duration::from_secs(30 * 24 * 3600)));
        assert!(seconds(1e20).unwrap_err().starts_with("1e20 is not"));
        for bad in [0.0, -1.0, 1e20, 1e300, f64::INFINITY, f64::NAN, MAX_SECONDS + 1.0] {
            assert!(seconds(bad).is_err(), "{bad} was accepted");
        }
    }
}
