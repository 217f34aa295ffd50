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
pub const PLUGIN_ENV_MARKER: &str = "VITRO_PLUGIN";
