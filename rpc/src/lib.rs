//! A full-duplex JSON-RPC peer over any `AsyncRead`/`AsyncWrite` pair: one reader task that never
//! waits on handlers, one writer task behind a bounded queue, requests answered out of order,
//! per-request deadlines with `$/cancelRequest`, and a close reason every pending call receives.
//!
//! Both sides use it: the `vitro` host towards each plugin and session client, and the plugin
//! runtime (`vitro-sdk`, which re-exports this crate as `vitro_sdk::peer`) towards the host. It
//! knows nothing of devices. [`terminal`] is the raw terminal both sides' console viewers use.

mod frame;
mod read;
pub mod terminal;
mod write;

pub use read::panic_text;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use vitro_protocol::methods::{CancelRequest, Ping};
use vitro_protocol::types::{CancelParams, Empty};
use vitro_protocol::{
    encode_notification, encode_request, encode_response, ErrorKind, NotificationMethod, RequestId,
    RequestMethod, RpcError,
};

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A request from the other side, handed to a [`Handler`].
pub struct IncomingRequest {
    /// Method name.
    pub method: String,
    /// Raw params.
    pub params: Box<RawValue>,
    /// Cancelled when the other side sends `$/cancelRequest` or the connection closes.
    pub cancel: CancellationToken,
    /// The connection it came on, for calls back to the other side.
    pub peer: PeerHandle,
}

impl IncomingRequest {
    /// Decodes the params of method `M`, or an `invalid-params` error naming the method.
    pub fn params<M: RequestMethod>(&self) -> Result<M::Params, RpcError> {
        serde_json::from_str(self.params.get()).map_err(|e| {
            RpcError::new(ErrorKind::InvalidParams, format!("invalid params for `{}`: {e}", M::METHOD))
        })
    }
}

/// Serializes a handler's result for the wire.
pub fn to_raw<T: Serialize>(value: &T) -> Result<Box<RawValue>, RpcError> {
    serde_json::value::to_raw_value(value)
        .map_err(|e| RpcError::new(ErrorKind::Internal, format!("result does not serialize: {e}")))
}

/// What a connection does with the other side's requests and notifications.
pub trait Handler: Send + Sync + 'static {
    /// Answers a request; runs on its own task, so it may take its time and call back.
    fn request(&self, request: IncomingRequest) -> BoxFuture<Result<Box<RawValue>, RpcError>>;
    /// Takes a notification; runs on the reader task, so it must return at once.
    fn notification(&self, peer: &PeerHandle, method: &str, params: Box<RawValue>);
}

/// The handler of a side that only calls (a checker, a session client, a test host): every
/// request is answered `method-not-found`, every notification ignored.
pub struct OnlyCalls;

impl Handler for OnlyCalls {
    fn request(&self, request: IncomingRequest) -> BoxFuture<Result<Box<RawValue>, RpcError>> {
        let method = request.method;
        Box::pin(async move {
            Err(RpcError::new(
                ErrorKind::MethodNotFound,
                format!("this side answers no requests, not `{method}`"),
            ))
        })
    }
    fn notification(&self, _peer: &PeerHandle, _method: &str, _params: Box<RawValue>) {}
}

/// Why an outgoing call failed: the other side said no, or the call failed here.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// The other side answered with this error.
    Remote(RpcError),
    /// No answer: timeout, cancellation, connection gone, or an answer that did not decode.
    Local(RpcError),
}

impl CallError {
    /// The error object either way.
    pub fn rpc(&self) -> &RpcError {
        match self {
            CallError::Remote(e) | CallError::Local(e) => e,
        }
    }

    /// The machine-readable kind.
    pub fn kind(&self) -> ErrorKind {
        self.rpc().kind()
    }

    /// Turns it into the error to send on, unchanged.
    pub fn into_rpc(self) -> RpcError {
        match self {
            CallError::Remote(e) | CallError::Local(e) => e,
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.rpc().chain())
    }
}

impl std::error::Error for CallError {}

/// Settings of one connection.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// Name of the other side, for log lines (the plugin's name on the host).
    pub name: String,
    /// Largest line accepted, in bytes.
    pub max_message_size: usize,
    /// Capacity of the outgoing queue, in messages.
    pub queue: usize,
    /// Bytes of the read and the write buffer each (a line longer than the read buffer is still
    /// read whole): large for plugins, whose traffic is heavy; small where connections are many
    /// and light (the live session's clients).
    pub buffer_size: usize,
    /// Close (failing every pending call) as soon as the other side is gone: its output ended or
    /// writing to it failed. The host turns this off and closes with a richer reason once it
    /// knows how the plugin process ended.
    pub close_on_disconnect: bool,
    /// Poll each request's handler once on the reader before giving it a task of its own, so a
    /// handler that is ready at once costs no task switch. Only for handlers that never block:
    /// the plugin runtime turns it off, because a driver's hook may block its thread.
    pub answer_inline: bool,
    /// Answer a line that is no readable message with an error of `id: null`, as JSON-RPC 2.0
    /// asks. The host turns it off towards plugins: their stray stdout is pollution, logged and
    /// skipped, and answering it could start an endless exchange with a plugin that answers junk.
    pub answer_unreadable: bool,
    /// Run the reader and the writer on this runtime (a thread of their own, say), so that
    /// handlers that block their threads cannot delay pings or other answers. Handlers always
    /// run on the runtime that called [`start`].
    pub io_runtime: Option<tokio::runtime::Handle>,
}

impl PeerConfig {
    /// Defaults: 16 MiB lines, 1024 queued messages, 64 KiB buffers, close on end of input.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            max_message_size: vitro_protocol::types::DEFAULT_MAX_MESSAGE_SIZE as usize,
            queue: 1024,
            buffer_size: 64 * 1024,
            close_on_disconnect: true,
            answer_inline: true,
            answer_unreadable: true,
            io_runtime: None,
        }
    }
}

type Reply = Result<Box<RawValue>, CallError>;

enum Outgoing {
    Line(Vec<u8>),
    Close,
}

/// The output stream, shared by the writer task and replies written in place (`None` once closed).
type SharedWriter = tokio::sync::Mutex<Option<BufWriter<Box<dyn AsyncWrite + Unpin + Send>>>>;

struct Shared {
    name: std::sync::RwLock<String>,
    out: mpsc::Sender<Outgoing>,
    writer: SharedWriter,
    /// Lines handed to the writer task and not yet written.
    queued: AtomicUsize,
    close_on_disconnect: bool,
    /// The largest answer sent: the other side skips longer lines (the protocol's limit is the
    /// same both ways), so a longer answer goes as `message-too-large` instead.
    max_message_size: usize,
    next_id: AtomicI64,
    pending: Mutex<HashMap<RequestId, oneshot::Sender<Reply>>>,
    incoming: Mutex<HashMap<RequestId, CancellationToken>>,
    closed: watch::Sender<Option<RpcError>>,
    disconnected: CancellationToken,
    output_done: CancellationToken,
}

impl Shared {
    /// Queues a line for the writer task, waiting for room.
    async fn enqueue(&self, line: Vec<u8>) -> Result<(), ()> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        self.out.send(Outgoing::Line(line)).await.map_err(|_| {
            self.queued.fetch_sub(1, Ordering::SeqCst);
        })
    }

    /// Queues a line if there is room; whether it was queued.
    fn try_enqueue(&self, line: Vec<u8>) -> bool {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let queued = self.out.try_send(Outgoing::Line(line)).is_ok();
        if !queued {
            self.queued.fetch_sub(1, Ordering::SeqCst);
        }
        queued
    }
}

/// A cheap, cloneable handle to a running connection.
#[derive(Clone)]
pub struct PeerHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for PeerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PeerHandle").field(&self.name()).finish()
    }
}

/// Starts a connection: spawns its reader and writer tasks on the current tokio runtime.
pub fn start<R, W>(reader: R, writer: W, handler: Arc<dyn Handler>, config: PeerConfig) -> PeerHandle
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (out, rx) = mpsc::channel(config.queue.max(1));
    let handle = PeerHandle {
        shared: Arc::new(Shared {
            name: std::sync::RwLock::new(config.name.clone()),
            out,
            writer: tokio::sync::Mutex::new(Some(BufWriter::with_capacity(
                config.buffer_size,
                Box::new(writer),
            ))),
            queued: AtomicUsize::new(0),
            close_on_disconnect: config.close_on_disconnect,
            max_message_size: config.max_message_size,
            next_id: AtomicI64::new(1),
            pending: Mutex::new(HashMap::new()),
            incoming: Mutex::new(HashMap::new()),
            closed: watch::channel(None).0,
            disconnected: CancellationToken::new(),
            output_done: CancellationToken::new(),
        }),
    };
    let handlers = tokio::runtime::Handle::current();
    let io = config.io_runtime.clone().unwrap_or_else(|| handlers.clone());
    io.spawn(write::write_loop(rx, handle.clone()));
    io.spawn(read::read_loop(reader, handler, handle.clone(), config, handlers));
    handle
}

impl PeerHandle {
    /// Name of the other side, as used in errors and log lines.
    pub fn name(&self) -> String {
        self.shared.name.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Renames the other side (the host learns a plugin's own name in the handshake).
    pub fn set_name(&self, name: impl Into<String>) {
        *self.shared.name.write().unwrap_or_else(|p| p.into_inner()) = name.into();
    }

    /// Calls method `M` and waits for its typed result, at most `timeout` when given. On timeout
    /// or when the returned future is dropped, the other side gets `$/cancelRequest`.
    pub async fn request<M: RequestMethod>(
        &self,
        params: &M::Params,
        timeout: Option<Duration>,
    ) -> Result<M::Result, CallError> {
        let raw = self.request_raw(M::METHOD, params, timeout).await?;
        decode_result::<M::Result>(M::METHOD, &raw)
    }

    /// Calls any method with any params and returns the raw result.
    pub async fn request_raw<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
        timeout: Option<Duration>,
    ) -> Result<Box<RawValue>, CallError> {
        let id = RequestId::Number(self.shared.next_id.fetch_add(1, Ordering::Relaxed));
        let line = encode_request(&id, method, params).map_err(|e| {
            CallError::Local(RpcError::new(
                ErrorKind::InvalidParams,
                format!("`{method}` params do not serialize: {e}"),
            ))
        })?;
        let (tx, rx) = oneshot::channel();
        let mut closed = self.shared.closed.subscribe();
        if let Some(reason) = closed.borrow().clone() {
            return Err(CallError::Local(reason));
        }
        self.shared.pending.lock().insert(id.clone(), tx);
        let guard = PendingGuard { peer: self, id: Some(id) };
        if self.shared.enqueue(line).await.is_err() {
            return Err(CallError::Local(self.close_reason()));
        }
        let answer = async {
            match rx.await {
                Ok(reply) => reply,
                Err(_) => Err(CallError::Local(self.close_reason())),
            }
        };
        let outcome = match timeout {
            None => answer.await,
            Some(limit) => match tokio::time::timeout(limit, answer).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    return Err(CallError::Local(RpcError::new(
                        ErrorKind::Timeout,
                        format!("{} did not answer `{method}` within {limit:?}", self.name()),
                    )))
                }
            },
        };
        guard.disarm();
        let _ = closed.borrow_and_update();
        outcome
    }

    /// Sends notification `M`, waiting for room in the outgoing queue.
    pub async fn notify<M: NotificationMethod>(&self, params: &M::Params) -> Result<(), CallError> {
        let line = encode_notification(M::METHOD, params)
            .map_err(|e| CallError::Local(RpcError::new(ErrorKind::Internal, e.to_string())))?;
        self.shared.enqueue(line).await.map_err(|_| CallError::Local(self.close_reason()))
    }

    /// Sends notification `M` without waiting; returns `false` when the queue is full or closed.
    pub fn try_notify<M: NotificationMethod>(&self, params: &M::Params) -> bool {
        encode_notification(M::METHOD, params).ok().is_some_and(|line| self.shared.try_enqueue(line))
    }

    /// Sends `$/ping` and waits for the answer.
    pub async fn ping(&self, timeout: Duration) -> Result<(), CallError> {
        self.request::<Ping>(&Empty {}, Some(timeout)).await.map(|_| ())
    }

    /// Fails every pending and future call with `reason` (the first reason given wins), cancels
    /// every request being handled, and closes the output once what is queued is written.
    pub fn close(&self, reason: RpcError) {
        let first = self.shared.closed.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(reason);
                true
            } else {
                false
            }
        });
        if !first {
            return;
        }
        self.shared.pending.lock().clear();
        for (_, token) in self.shared.incoming.lock().drain() {
            token.cancel();
        }
        let out = self.shared.out.clone();
        tokio::spawn(async move {
            let _ = out.send(Outgoing::Close).await;
        });
    }

    /// Why the connection closed, if it did.
    pub fn closed_reason(&self) -> Option<RpcError> {
        self.shared.closed.borrow().clone()
    }

    /// Waits until the connection is closed and returns why.
    pub async fn closed(&self) -> RpcError {
        let mut rx = self.shared.closed.subscribe();
        loop {
            if let Some(reason) = rx.borrow_and_update().clone() {
                return reason;
            }
            if rx.changed().await.is_err() {
                return gone(&self.name(), "connection dropped");
            }
        }
    }

    /// Waits until the other side is gone: its output ended, or writing to it failed.
    pub async fn disconnected(&self) {
        self.shared.disconnected.cancelled().await;
    }

    /// Waits until the writer stopped: everything queued before [`PeerHandle::close`] is written.
    pub async fn output_done(&self) {
        self.shared.output_done.cancelled().await;
    }

    /// How many of our requests await an answer.
    pub fn pending_count(&self) -> usize {
        self.shared.pending.lock().len()
    }

    /// How many of the other side's requests are being handled (not yet answered).
    pub fn handling_count(&self) -> usize {
        self.shared.incoming.lock().len()
    }

    fn close_reason(&self) -> RpcError {
        self.closed_reason().unwrap_or_else(|| gone(&self.name(), "connection closed"))
    }

    async fn send_line(&self, line: Vec<u8>) {
        let _ = self.shared.enqueue(line).await;
    }

    /// Sends an answer. The last answer owed is written in place when the output is free: no
    /// hop to the writer task, which matters when handlers run on other threads than the
    /// protocol. While more requests are in flight or lines wait in the queue, answers queue too,
    /// so the writer task batches them into few writes.
    async fn respond(&self, id: Option<&RequestId>, reply: Result<&RawValue, &RpcError>) {
        let Ok(mut line) = encode_response(id, reply) else { return };
        if line.len() > self.shared.max_message_size {
            let error = RpcError::new(
                ErrorKind::MessageTooLarge,
                format!(
                    "the answer is {} bytes, over the limit of {} bytes that the other side skips; ask for \
                     less at a time",
                    line.len(),
                    self.shared.max_message_size
                ),
            );
            tracing::warn!(peer = %self.name(), "{}", error.message);
            let Ok(refused) = encode_response::<RawValue>(id, Err(&error)) else { return };
            line = refused;
        }
        if let Ok(mut writer) = self.shared.writer.try_lock() {
            // Checked while holding the output, so nothing queued earlier can be overtaken.
            let idle =
                self.shared.queued.load(Ordering::SeqCst) == 0 && self.shared.incoming.lock().is_empty();
            if let Some(out) = writer.as_mut().filter(|_| idle) {
                let written = async {
                    out.write_all(&line).await?;
                    out.flush().await
                };
                if let Err(e) = written.await {
                    drop(writer);
                    self.output_failed(&e);
                }
                return;
            }
        }
        self.send_line(line).await;
    }

    fn output_failed(&self, e: &std::io::Error) {
        self.shared.disconnected.cancel();
        if self.shared.close_on_disconnect {
            self.close(gone(&self.name(), &format!("writing failed: {e}")));
        }
    }
}

/// Removes a call's pending entry and cancels it remotely when the call ends without an answer.
struct PendingGuard<'a> {
    peer: &'a PeerHandle,
    id: Option<RequestId>,
}

impl PendingGuard<'_> {
    fn disarm(mut self) {
        self.id = None;
    }
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        if self.peer.shared.pending.lock().remove(&id).is_some() {
            if let Ok(line) = encode_notification(CancelRequest::METHOD, &CancelParams { id }) {
                self.peer.shared.try_enqueue(line);
            }
        }
    }
}

fn decode_result<T: DeserializeOwned>(method: &str, raw: &RawValue) -> Result<T, CallError> {
    serde_json::from_str(raw.get()).map_err(|e| {
        CallError::Local(RpcError::new(
            ErrorKind::InvalidRequest,
            format!("the answer to `{method}` does not match its schema: {e}"),
        ))
    })
}

fn gone(name: &str, what: &str) -> RpcError {
    RpcError::new(ErrorKind::PeerGone, format!("{name}: {what}"))
}
