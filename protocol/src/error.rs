//! Errors on the wire: JSON-RPC error objects whose `data` carries a machine-readable `kind`.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

/// Every error code this protocol uses: JSON-RPC's own, then Vitro's (`-32000..=-32099` and
/// LSP's `-32800` for cancellation). The table in `protocol/README.md` is generated from [`ErrorKind::ALL`].
pub mod codes {
    /// Invalid JSON was received.
    pub const PARSE_ERROR: i64 = -32700;
    /// The JSON is not a valid request object.
    pub const INVALID_REQUEST: i64 = -32600;
    /// The method does not exist or is not offered.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Invalid method parameters.
    pub const INVALID_PARAMS: i64 = -32602;
    /// Internal error of the answering peer.
    pub const INTERNAL_ERROR: i64 = -32603;
    /// A driver hook or device method failed (the plugin said no).
    pub const DEVICE_ERROR: i64 = -32000;
    /// The request was not answered within its deadline.
    pub const TIMEOUT: i64 = -32001;
    /// The peer went away (exited, was killed, closed its stream, missed a ping).
    pub const PEER_GONE: i64 = -32002;
    /// A request arrived before `initialize` (or after `shutdown`).
    pub const INVALID_STATE: i64 = -32003;
    /// The peers share no protocol version.
    pub const VERSION_MISMATCH: i64 = -32004;
    /// A message exceeded the negotiated size limit.
    pub const MESSAGE_TOO_LARGE: i64 = -32005;
    /// The named device does not exist.
    pub const UNKNOWN_DEVICE: i64 = -32006;
    /// The device type is not provided by the plugin.
    pub const UNKNOWN_DEVICE_TYPE: i64 = -32007;
    /// The handler panicked or raised an unexpected exception.
    pub const PANIC: i64 = -32008;
    /// The request was cancelled with `$/cancelRequest`.
    pub const CANCELLED: i64 = -32800;
}

/// What went wrong, for machines: callers match on this, never on message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// Invalid JSON was received.
    ParseError,
    /// The JSON is not a valid JSON-RPC message.
    InvalidRequest,
    /// The method is not offered by the peer.
    MethodNotFound,
    /// The parameters do not match the method's schema.
    InvalidParams,
    /// Internal error of the answering peer.
    Internal,
    /// A driver hook or device method failed.
    DeviceError,
    /// The request was not answered within its deadline.
    Timeout,
    /// The peer went away before answering.
    PeerGone,
    /// The request came too early, too late or twice.
    InvalidState,
    /// No common protocol version.
    VersionMismatch,
    /// A message exceeded the size limit.
    MessageTooLarge,
    /// No device of that name.
    UnknownDevice,
    /// No device type of that name.
    UnknownDeviceType,
    /// The handler panicked.
    Panic,
    /// The request was cancelled.
    Cancelled,
    /// A kind this version does not know (sent by a newer peer).
    #[serde(other)]
    Unknown,
}

impl ErrorKind {
    /// Every known kind, in table order.
    pub const ALL: [ErrorKind; 15] = [
        ErrorKind::ParseError,
        ErrorKind::InvalidRequest,
        ErrorKind::MethodNotFound,
        ErrorKind::InvalidParams,
        ErrorKind::Internal,
        ErrorKind::DeviceError,
        ErrorKind::Timeout,
        ErrorKind::PeerGone,
        ErrorKind::InvalidState,
        ErrorKind::VersionMismatch,
        ErrorKind::MessageTooLarge,
        ErrorKind::UnknownDevice,
        ErrorKind::UnknownDeviceType,
        ErrorKind::Panic,
        ErrorKind::Cancelled,
    ];

    /// The JSON-RPC code that goes with this kind.
    pub fn code(self) -> i64 {
        match self {
            ErrorKind::ParseError => codes::PARSE_ERROR,
            ErrorKind::InvalidRequest => codes::INVALID_REQUEST,
            ErrorKind::MethodNotFound => codes::METHOD_NOT_FOUND,
            ErrorKind::InvalidParams => codes::INVALID_PARAMS,
            ErrorKind::Internal | ErrorKind::Unknown => codes::INTERNAL_ERROR,
            ErrorKind::DeviceError => codes::DEVICE_ERROR,
            ErrorKind::Timeout => codes::TIMEOUT,
            ErrorKind::PeerGone => codes::PEER_GONE,
            ErrorKind::InvalidState => codes::INVALID_STATE,
            ErrorKind::VersionMismatch => codes::VERSION_MISMATCH,
            ErrorKind::MessageTooLarge => codes::MESSAGE_TOO_LARGE,
            ErrorKind::UnknownDevice => codes::UNKNOWN_DEVICE,
            ErrorKind::UnknownDeviceType => codes::UNKNOWN_DEVICE_TYPE,
            ErrorKind::Panic => codes::PANIC,
            ErrorKind::Cancelled => codes::CANCELLED,
        }
    }

    /// The kind a bare code stands for, when a foreign peer sent no `data.kind`.
    pub fn from_code(code: i64) -> ErrorKind {
        ErrorKind::ALL.into_iter().find(|k| k.code() == code).unwrap_or(ErrorKind::Unknown)
    }

    /// The kebab-case wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::ParseError => "parse-error",
            ErrorKind::InvalidRequest => "invalid-request",
            ErrorKind::MethodNotFound => "method-not-found",
            ErrorKind::InvalidParams => "invalid-params",
            ErrorKind::Internal => "internal",
            ErrorKind::DeviceError => "device-error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::PeerGone => "peer-gone",
            ErrorKind::InvalidState => "invalid-state",
            ErrorKind::VersionMismatch => "version-mismatch",
            ErrorKind::MessageTooLarge => "message-too-large",
            ErrorKind::UnknownDevice => "unknown-device",
            ErrorKind::UnknownDeviceType => "unknown-device-type",
            ErrorKind::Panic => "panic",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Unknown => "unknown",
        }
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
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_code(kind.code()), kind);
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }
}
