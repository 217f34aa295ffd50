//! Errors on the wire: JSON-RPC error objects whose `data` carries a machine-readable `kind`.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

/// Declares every error kind once: its variant, wire name, code constant, code and meaning. The
/// enum, [`codes`], [`ErrorKind::ALL`], the code and name mappings and the README's table all come
/// from this one list.
macro_rules! error_kinds {
    ($($(#[doc = $doc:literal])* $kind:ident = $name:literal, $const:ident = $code:literal, $meaning:literal;)*) => {
        /// Every error code this protocol uses: JSON-RPC's own, then Vitro's (`-32000..=-32099`
        /// and LSP's `-32800` for cancellation).
        pub mod codes {
            $($(#[doc = $doc])* pub const $const: i64 = $code;)*
        }

        /// What went wrong, for machines: callers match on this, never on message text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
        #[non_exhaustive]
        pub enum ErrorKind {
            $($(#[doc = $doc])* #[serde(rename = $name)] $kind,)*
            /// A kind this version does not know (sent by a newer peer).
            #[serde(other, rename = "unknown")]
            Unknown,
        }

        impl ErrorKind {
            /// Every known kind, in table order.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$kind),*];

            /// The JSON-RPC code that goes with this kind.
            pub fn code(self) -> i64 {
                match self {
                    $(ErrorKind::$kind => codes::$const,)*
                    ErrorKind::Unknown => codes::INTERNAL_ERROR,
                }
            }

            /// The kebab-case wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorKind::$kind => $name,)*
                    ErrorKind::Unknown => "unknown",
                }
            }

            /// One line for the protocol page's table: when a peer answers with this kind.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(ErrorKind::$kind => $meaning,)*
                    ErrorKind::Unknown => "a kind this version does not know",
                }
            }
        }
    };
}

error_kinds! {
    /// Invalid JSON was received.
    ParseError = "parse-error", PARSE_ERROR = -32700, "invalid JSON was received";
    /// The JSON is not a valid JSON-RPC message.
    InvalidRequest = "invalid-request", INVALID_REQUEST = -32600,
        "JSON, but not a valid JSON-RPC message (or an answer that does not match its schema)";
    /// The method is not offered by the peer.
    MethodNotFound = "method-not-found", METHOD_NOT_FOUND = -32601,
        "the method, hook or device method is not offered";
    /// The parameters do not match the method's schema.
    InvalidParams = "invalid-params", INVALID_PARAMS = -32602, "the params do not match the method's schema";
    /// Internal error of the answering peer.
    Internal = "internal", INTERNAL_ERROR = -32603, "an internal error of the answering side";
    /// A driver hook or device method failed (the plugin said no).
    DeviceError = "device-error", DEVICE_ERROR = -32000,
        "a driver hook or device method failed: the plugin said no";
    /// The request was not answered within its deadline.
    Timeout = "timeout", TIMEOUT = -32001, "no answer within the deadline (the request was cancelled)";
    /// The peer went away (exited, was killed, closed its stream, missed a ping).
    PeerGone = "peer-gone", PEER_GONE = -32002,
        "the other side exited, was killed, closed its stream or missed a ping";
    /// The request came too early (before `initialize`), twice, or after `shutdown`.
    InvalidState = "invalid-state", INVALID_STATE = -32003,
        "too early (before `initialize`), twice, or after `shutdown`";
    /// The peers share no protocol version.
    VersionMismatch = "version-mismatch", VERSION_MISMATCH = -32004, "no common protocol version";
    /// A message exceeded the negotiated size limit.
    MessageTooLarge = "message-too-large", MESSAGE_TOO_LARGE = -32005, "a message exceeded `max_message_size`";
    /// No device of that name.
    UnknownDevice = "unknown-device", UNKNOWN_DEVICE = -32006, "no device of that name";
    /// No device type of that name.
    UnknownDeviceType = "unknown-device-type", UNKNOWN_DEVICE_TYPE = -32007,
        "the plugin does not provide that type";
    /// The handler panicked or raised an unexpected exception.
    Panic = "panic", PANIC = -32008, "the handler panicked or raised an unexpected exception";
    /// The live session stopped serving: the test bed is being released.
    Released = "released", RELEASED = -32009,
        "the live session's test bed is being released: no more calls are served";
    /// The request was cancelled with `$/cancelRequest`.
    Cancelled = "cancelled", CANCELLED = -32800, "cancelled by `$/cancelRequest`";
}

impl ErrorKind {
    /// The kind a bare code stands for, when a foreign peer sent no `data.kind`.
    pub fn from_code(code: i64) -> ErrorKind {
        ErrorKind::ALL.iter().copied().find(|k| k.code() == code).unwrap_or(ErrorKind::Unknown)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `data` member of a Vitro error object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorData {
    /// Machine-readable kind.
    pub kind: ErrorKind,
    /// Causes, outermost first (the error's source chain), as text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<String>,
    /// Kind-specific details (for `peer-gone`: `exit`, `signal`, `stderr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// A JSON-RPC error object as Vitro sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, thiserror::Error)]
#[error("{message}")]
pub struct RpcError {
    /// JSON-RPC error code (see [`codes`]).
    pub code: i64,
    /// Human-readable, one line.
    pub message: String,
    /// Machine-readable part; absent or foreign-shaped `data` from other peers reads as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_data")]
    pub data: Option<Box<ErrorData>>,
}

fn lenient_data<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Box<ErrorData>>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(de)?;
    Ok(value.and_then(|v| serde_json::from_value(v).ok()))
}

impl RpcError {
    /// An error of `kind` with its standard code.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            code: kind.code(),
            message: message.into(),
            data: Some(Box::new(ErrorData { kind, causes: Vec::new(), details: None })),
        }
    }

    /// Builds an error of `kind` from a Rust error, keeping its source chain as `causes`.
    pub fn from_error(kind: ErrorKind, err: &(dyn std::error::Error + 'static)) -> Self {
        let mut causes = Vec::new();
        let mut source = err.source();
        while let Some(cause) = source {
            causes.push(cause.to_string());
            source = cause.source();
        }
        Self::new(kind, err.to_string()).with_causes(causes)
    }

    /// Replaces the cause chain.
    pub fn with_causes(mut self, causes: Vec<String>) -> Self {
        self.data_mut().causes = causes;
        self
    }

    /// Attaches kind-specific details.
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.data_mut().details = Some(details);
        self
    }

    fn data_mut(&mut self) -> &mut ErrorData {
        let kind = ErrorKind::from_code(self.code);
        self.data.get_or_insert_with(|| Box::new(ErrorData { kind, causes: Vec::new(), details: None }))
    }

    /// The machine-readable kind (from `data.kind`, else from the code).
    pub fn kind(&self) -> ErrorKind {
        self.data.as_ref().map_or_else(|| ErrorKind::from_code(self.code), |d| d.kind)
    }

    /// Message and causes on one line, `a: b: c`.
    pub fn chain(&self) -> String {
        let mut text = self.message.clone();
        for cause in self.data.iter().flat_map(|d| &d.causes) {
            text.push_str(": ");
            text.push_str(cause);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_round_trips_with_kind_and_causes() {
        let err = RpcError::new(ErrorKind::DeviceError, "boot failed")
            .with_causes(vec!["login prompt not seen in 30 s".into()]);
        let json = serde_json::to_string(&err).unwrap();
        assert_eq!(
            json,
            r#"{"code":-32000,"message":"boot failed","data":{"kind":"device-error","causes":["login prompt not seen in 30 s"]}}"#
        );
        let back: RpcError = serde_json::from_str(&json).unwrap();
        assert_eq!(back, err);
        assert_eq!(back.chain(), "boot failed: login prompt not seen in 30 s");
    }

    #[test]
    fn foreign_errors_are_understood_by_code() {
        let err: RpcError =
            serde_json::from_str(r#"{"code":-32601,"message":"nope","data":"free text"}"#).unwrap();
        assert_eq!(err.kind(), ErrorKind::MethodNotFound);
        let err: RpcError = serde_json::from_str(
            r#"{"code":-32000,"message":"x","data":{"kind":"from-the-future","extra":1}}"#,
        )
        .unwrap();
        assert_eq!(err.kind(), ErrorKind::Unknown);
    }

    #[test]
    fn every_kind_has_a_distinct_code() {
        for &kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_code(kind.code()), kind);
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }
}
