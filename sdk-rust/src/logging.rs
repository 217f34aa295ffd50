//! Sends the plugin's `tracing` events to the host as `$/log` notifications.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::Layer;
use vitro_protocol::methods::Log;
use vitro_protocol::types::{LogLevel, LogParams};

use crate::peer::PeerHandle;

/// Where forwarded records go and which levels pass; shared by the layer and the runtime.
#[derive(Default)]
pub(crate) struct LogLink {
    peer: OnceLock<PeerHandle>,
    /// Most verbose level that passes: 0 error .. 4 trace.
    max: AtomicU8,
}

impl LogLink {
    pub(crate) fn connect(&self, peer: PeerHandle, level: LogLevel) {
        let rank = match level {
            LogLevel::Error => 0,
            LogLevel::Warn => 1,
            LogLevel::Debug => 3,
            LogLevel::Trace => 4,
            _ => 2,
        };
        self.max.store(rank, Ordering::Relaxed);
        let _ = self.peer.set(peer);
    }
}

/// The `tracing` layer that forwards events; before the handshake they go to stderr.
pub(crate) struct ForwardLayer {
    pub(crate) link: Arc<LogLink>,
}

fn rank(level: &Level) -> (u8, LogLevel) {
    match *level {
        Level::ERROR => (0, LogLevel::Error),
        Level::WARN => (1, LogLevel::Warn),
        Level::INFO => (2, LogLevel::Info),
        Level::DEBUG => (3, LogLevel::Debug),
        Level::TRACE => (4, LogLevel::Trace),
    }
}

#[derive(Default)]
struct Record {
    message: String,
    device: Option<String>,
    fields: BTreeMap<String, serde_json::Value>,
}

impl Visit for Record {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_owned(),
            "device" => self.device = Some(value.to_owned()),
            name => {
                self.fields.insert(name.to_owned(), value.into());
            }
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.insert(field.name().to_owned(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.insert(field.name().to_owned(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.insert(field.name().to_owned(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}

impl<S: Subscriber> Layer<S> for ForwardLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let (level_rank, level) = rank(event.metadata().level());
        let mut record = Record::default();
        event.record(&mut record);
        let Some(peer) = self.link.peer.get() else {
            eprintln!("{level:?} {}: {}", event.metadata().target(), record.message);
            return;
        };
        if level_rank > self.link.max.load(Ordering::Relaxed) {
            return;
        }
        let params = LogParams {
            level,
            message: record.message,
            target: event.metadata().target().to_owned(),
            device: record.device,
            fields: record.fields,
        };
        if !peer.try_notify::<Log>(&params) {
            let peer = peer.clone();
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    let _ = peer.notify::<Log>(&params).await;
                });
            }
        }
    }
}
