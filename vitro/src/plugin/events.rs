//! What plugins tell the host unasked (`$/log`, `$/progress`, console output) and what they ask of
//! it (`host/devices`, `host/config`, `host/call`): the handler of a plugin's connection, and the bounded event queue.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::value::RawValue;
use tokio::sync::mpsc;
use vitro_protocol::methods::{ConsoleOutput, DeviceCall, HostCall, HostConfig, HostDevices, Log, Progress};
use vitro_protocol::types::{DeviceList, LogLevel, LogParams, ProgressParams};
use vitro_protocol::{ErrorKind, NotificationMethod, RequestMethod, RpcError};
use vitro_rpc::{to_raw, BoxFuture, CallError, Handler, IncomingRequest, PeerHandle};

use crate::registry::Registry;

/// Something a plugin told the host without being asked.
#[derive(Debug, Clone)]
pub enum PluginEvent {
    /// A `$/log` record (also written to `tracing`).
    Log {
        /// Plugin name.
        plugin: String,
        /// The record.
        record: LogParams,
    },
    /// A `$/progress` report.
    Progress {
        /// Plugin name.
        plugin: String,
        /// The report.
        progress: ProgressParams,
    },
}

/// Where plugins' events go: a bounded queue that never blocks a protocol reader. An event that
/// finds the queue full is dropped and counted, so no flood can grow `vitro`'s memory.
/// Log records always go to `tracing` as well (filtered by its level at no cost).
#[derive(Debug, Clone)]
pub struct EventSink {
    tx: mpsc::Sender<PluginEvent>,
    dropped: Arc<AtomicU64>,
    logs: bool,
}

impl EventSink {
    /// A sink holding at most `capacity` undelivered events, and the receiving end.
    pub fn channel(capacity: usize) -> (Self, mpsc::Receiver<PluginEvent>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (Self { tx, dropped: Arc::new(AtomicU64::new(0)), logs: true }, rx)
    }

    /// Leaves log records out of the queue (for a receiver that reads them through `tracing`).
    pub fn without_logs(mut self) -> Self {
        self.logs = false;
        self
    }

    fn send(&self, event: PluginEvent) {
        if matches!(event, PluginEvent::Log { .. }) && !self.logs {
            return;
        }
        if self.tx.try_send(event).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// How many events were dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Answers a plugin's calls to the host and takes its notifications.
pub(super) struct HostHandler {
    pub(super) plugin: super::process::PluginName,
    pub(super) registry: Arc<Registry>,
    pub(super) events: Option<EventSink>,
}

impl Handler for HostHandler {
    fn request(&self, request: IncomingRequest) -> BoxFuture<Result<Box<RawValue>, RpcError>> {
        let reply = match request.method.as_str() {
            HostDevices::METHOD => request
                .params::<HostDevices>()
                .and_then(|query| to_raw(&DeviceList { devices: self.registry.find(&query) })),
            HostConfig::METHOD => match self.registry.config() {
                Some(config) => to_raw(&config),
                None => Err(RpcError::new(
                    ErrorKind::InvalidState,
                    "the config is not parsed yet: ask for it from `plugin/setupEnv` or a device hook on",
                )),
            },
            HostCall::METHOD => {
                let registry = self.registry.clone();
                return Box::pin(async move { forward_call(&registry, request).await });
            }
            other => {
                Err(RpcError::new(ErrorKind::MethodNotFound, format!("the host has no method `{other}`")))
            }
        };
        Box::pin(async move { reply })
    }

    fn notification(&self, _peer: &PeerHandle, method: &str, params: Box<RawValue>) {
        let plugin = self.plugin.read().clone();
        let event = match method {
            Log::METHOD => match serde_json::from_str::<LogParams>(params.get()) {
                Ok(record) => {
                    emit_log(&plugin, &record);
                    PluginEvent::Log { plugin, record }
                }
                Err(e) => return tracing::warn!(plugin = %plugin, "malformed `$/log`: {e}"),
            },
            Progress::METHOD => match serde_json::from_str::<ProgressParams>(params.get()) {
                Ok(progress) => {
                    tracing::debug!(plugin = %plugin, device = ?progress.device, "{}", progress.message);
                    PluginEvent::Progress { plugin, progress }
                }
                Err(e) => return tracing::warn!(plugin = %plugin, "malformed `$/progress`: {e}"),
            },
            ConsoleOutput::METHOD => {
                match serde_json::from_str(params.get()) {
                    Ok(data) => self.registry.publish_console(data),
                    Err(e) => tracing::warn!(plugin = %plugin, "malformed `$/console/output`: {e}"),
                }
                return;
            }
            other => return tracing::debug!(plugin = %plugin, "ignored notification `{other}`"),
        };
        if let Some(events) = &self.events {
            events.send(event);
        }
    }
}

/// `host/call`: runs a device method in the plugin that owns the device, for a plugin that
/// does not; the caller's cancellation reaches the owner.
async fn forward_call(registry: &Registry, request: IncomingRequest) -> Result<Box<RawValue>, RpcError> {
    let params = request.params::<HostCall>()?;
    let Some(owner) = registry.owner(&params.device) else {
        let names: Vec<String> = registry.find(&Default::default()).into_iter().map(|d| d.name).collect();
        return Err(RpcError::new(
            ErrorKind::UnknownDevice,
            format!("no device {:?} is registered (devices: {})", params.device, names.join(", ")),
        ));
    };
    let query =
        vitro_protocol::types::DeviceQuery { name: Some(params.device.clone()), ..Default::default() };
    if let Some(description) = registry.find(&query).first() {
        crate::templates::check_call_params(description, &params)?;
    }
    tokio::select! {
        result = owner.request_raw(DeviceCall::METHOD, &params, Some(FORWARDED_CALL_TIMEOUT)) => {
            result.map_err(CallError::into_rpc)
        }
        () = request.cancel.cancelled() => Err(RpcError::new(ErrorKind::Cancelled, "the caller cancelled the call")),
    }
}

/// Deadline of a device call one plugin makes through the host (`host/call`).
const FORWARDED_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// A `$/log` record's message with its structured fields appended as `key=value`.
fn log_text(record: &LogParams) -> String {
    let mut text = record.message.clone();
    for (key, value) in &record.fields {
        match value {
            serde_json::Value::String(s) => text.push_str(&format!(" {key}={s:?}")),
            other => text.push_str(&format!(" {key}={other}")),
        }
    }
    text
}

fn emit_log(plugin: &str, record: &LogParams) {
    let device = record.device.as_deref().unwrap_or("");
    let target = record.target.as_str();
    let message = log_text(record);
    match record.level {
        LogLevel::Error => {
            tracing::error!(target: "vitro::plugin", plugin, device, source = target, "{message}")
        }
        LogLevel::Warn => {
            tracing::warn!(target: "vitro::plugin", plugin, device, source = target, "{message}")
        }
        LogLevel::Debug => {
            tracing::debug!(target: "vitro::plugin", plugin, device, source = target, "{message}")
        }
        LogLevel::Trace => {
            tracing::trace!(target: "vitro::plugin", plugin, device, source = target, "{message}")
        }
        _ => tracing::info!(target: "vitro::plugin", plugin, device, source = target, "{message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_fields_are_shown_after_the_message() {
        let record: LogParams = serde_json::from_value(serde_json::json!({
            "level": "warn", "message": "link down", "fields": {"answer": 42, "port": "eth0"}
        }))
        .unwrap();
        assert_eq!(log_text(&record), r#"link down answer=42 port="eth0""#);
    }
}
