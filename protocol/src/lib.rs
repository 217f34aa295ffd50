//! The Vitro plugin protocol: JSON-RPC 2.0 over newline-delimited stdio between the `vitro` host
//! and a plugin process. Types, method names, versions, error codes and framing; no I/O.
//!
//! `protocol/README.md` is the specification for authors in other languages; the schemas under
//! `protocol/schema/` are generated from these types by `cargo test -p vitro-protocol` with
//! `VITRO_UPDATE_SCHEMAS=1`.

pub mod docs;
pub mod error;
pub mod files;
pub mod message;
pub mod methods;
pub mod names;
pub mod schema;
pub mod seconds;
pub mod secrets;
pub mod session;
pub mod templates;
pub mod types;
pub mod version;

pub use error::{codes, ErrorData, ErrorKind, RpcError};
pub use message::{
    decode, encode_notification, encode_request, encode_response, DecodeError, Message, Notification,
    Request, RequestId, Response,
};
pub use methods::{Direction, MethodDescriptor, MethodKind, NotificationMethod, RequestMethod};
pub use version::{negotiate, ProtocolVersion, VersionMismatch, PROTOCOL_VERSION};

/// Environment variable the host sets for every plugin it spawns (`VITRO_PLUGIN=1`). A plugin
/// started without it was started by hand: it explains itself and exits with status 2.
pub const PLUGIN_ENV_MARKER: &str = env::PLUGIN;

/// The environment variables of the protocol: what a spawned plugin gets, and the session's.
pub mod env {
    /// `1` in every plugin the host spawns.
    pub const PLUGIN: &str = "VITRO_PLUGIN";
    /// The newest protocol version the host speaks, e.g. `1.0`.
    pub const PROTOCOL: &str = "VITRO_PROTOCOL";
    /// The `vitro` version.
    pub const HOST_VERSION: &str = "VITRO_HOST_VERSION";
    /// The name the host knows the plugin by.
    pub const PLUGIN_NAME: &str = "VITRO_PLUGIN_NAME";
    /// The live session's socket, for the command of `vitro run` and session clients.
    pub const SESSION: &str = crate::session::SESSION_ENV;
    /// The board of the test bed, for the command of `vitro run` (since 1.3).
    pub const BOARD: &str = "VITRO_BOARD";

    /// Every variable with what it holds, in table order.
    pub const ALL: [(&str, &str); 6] = [
        (PLUGIN, "`1`: started by a host. A plugin started without it was started by hand: it says what it is on stderr and exits with status 2."),
        (PROTOCOL, "the newest protocol version the host speaks, e.g. `1.0`"),
        (HOST_VERSION, "the `vitro` version"),
        (PLUGIN_NAME, "the name the host knows the plugin by"),
        (SESSION, "the live session's socket, set for `vitro run -- CMD` and the menu's commands (not for plugins)"),
        (BOARD, "the board of the test bed (`--board-name`, or the one a reservation plugin chose), beside `VITRO_SESSION`"),
    ];
}
