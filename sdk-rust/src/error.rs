//! The error a driver returns from its hooks and methods.

use vitro_protocol::{ErrorKind, RpcError};

/// A driver's failure, sent to the host as a JSON-RPC error (kind `device-error` unless set).
///
/// Anything that converts into `Box<dyn Error>` converts into it with `?`, keeping its source
/// chain as the error's `causes`.
#[derive(Debug, Clone, PartialEq)]
pub struct DriverError(pub RpcError);

/// Result of a driver hook or method.
pub type DriverResult<T> = Result<T, DriverError>;

impl DriverError {
    /// An error of a given kind.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(RpcError::new(kind, message))
    }

    /// A `device-error` with this message.
    pub fn device(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::DeviceError, message)
    }

    /// The machine-readable kind.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind()
    }
}

impl std::fmt::Display for DriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.chain())
    }
}

impl<E: Into<Box<dyn std::error::Error + Send + Sync>>> From<E> for DriverError {
    fn from(err: E) -> Self {
        let err: Box<dyn std::error::Error + Send + Sync> = err.into();
        Self(RpcError::from_error(ErrorKind::DeviceError, err.as_ref()))
    }
}

impl From<DriverError> for RpcError {
    fn from(err: DriverError) -> Self {
        err.0
    }
}
