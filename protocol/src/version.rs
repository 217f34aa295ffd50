//! Protocol versions (`major.minor`, independent of crate versions) and their negotiation.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A protocol version. A peer that speaks `1.3` also speaks `1.0`..=`1.2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
pub struct ProtocolVersion {
    /// Incompatible changes bump the major.
    pub major: u32,
    /// Compatible additions bump the minor.
    pub minor: u32,
}

impl ProtocolVersion {
    /// Builds a version.
    pub const fn new(major: u32, minor: u32) -> Self {
        Self { major, minor }
    }
}

/// The newest protocol version this crate describes.
pub const PROTOCOL_VERSION: ProtocolVersion = ProtocolVersion::new(1, 3);

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Two peers share no protocol major version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "no common protocol version: the host speaks {}, the plugin speaks {}; {}",
    list(.host), list(.plugin), self.advice()
)]
pub struct VersionMismatch {
    /// What the host offered.
    pub host: Vec<ProtocolVersion>,
    /// What the plugin speaks.
    pub plugin: Vec<ProtocolVersion>,
}

impl VersionMismatch {
    /// Which side to upgrade, in words.
    pub fn advice(&self) -> String {
        let host_max = self.host.iter().map(|v| v.major).max().unwrap_or(0);
        let plugin_max = self.plugin.iter().map(|v| v.major).max().unwrap_or(0);
        if host_max > plugin_max {
            format!("upgrade the plugin (its SDK) to one that speaks protocol {host_max}.x")
        } else {
            format!("upgrade vitro to a release that speaks protocol {plugin_max}.x")
        }
    }
}

fn list(versions: &[ProtocolVersion]) -> String {
    if versions.is_empty() {
        return "nothing".into();
    }
    versions.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// Picks the version both sides speak: the highest common major, and within it the smaller of the
/// two minors.
pub fn negotiate(
    host: &[ProtocolVersion],
    plugin: &[ProtocolVersion],
) -> Result<ProtocolVersion, VersionMismatch> {
    host.iter()
        .filter_map(|h| {
            plugin
                .iter()
                .filter(|p| p.major == h.major)
                .map(|p| p.minor)
                .max()
                .map(|minor| ProtocolVersion::new(h.major, minor.min(h.minor)))
        })
        .max()
        .ok_or_else(|| VersionMismatch { host: host.to_vec(), plugin: plugin.to_vec() })
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn v(major: u32, minor: u32) -> ProtocolVersion {
        ProtocolVersion::new(major, minor)
    }

    #[test]
    fn highest_common_major_wins_and_minor_is_the_minimum() {
        assert_eq!(negotiate(&[v(1, 3), v(2, 1)], &[v(1, 5), v(2, 4)]), Ok(v(2, 1)));
        assert_eq!(negotiate(&[v(1, 3)], &[v(1, 1)]), Ok(v(1, 1)));
        assert_eq!(negotiate(&[v(1, 0), v(2, 0)], &[v(1, 7)]), Ok(v(1, 0)));
    }

    #[test]
    fn no_overlap_names_both_sides_and_the_side_to_upgrade() {
        let err = negotiate(&[v(2, 0)], &[v(1, 4)]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("host speaks 2.0"), "{text}");
        assert!(text.contains("plugin speaks 1.4"), "{text}");
        assert!(text.contains("upgrade the plugin"), "{text}");
        let err = negotiate(&[v(1, 0)], &[v(3, 0)]).unwrap_err();
        assert!(err.to_string().contains("upgrade vitro"), "{err}");
    }
}
