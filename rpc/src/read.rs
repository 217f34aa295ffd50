//! The reader task: frames lines, decodes them and hands each message to its place (a pending
//! call, the handler, or an error answer), without waiting on handlers.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::FutureExt;
use serde_json::value::RawValue;
use tokio::io::{AsyncRead, BufReader};
use tokio_util::sync::CancellationToken;
use vitro_protocol::methods::{CancelRequest, Ping};
use vitro_protocol::types::CancelParams;
use vitro_protocol::{decode, ErrorKind, Message, NotificationMethod, RequestMethod, RpcError};

use super::frame::{next_frame, sniff_id, sniff_is_request, Frame};
use super::{gone, CallError, Handler, IncomingRequest, PeerConfig, PeerHandle};

pub(crate) async fn read_loop<R: AsyncRead + Unpin>(
    reader: R,
    handler: Arc<dyn Handler>,
    peer: PeerHandle,
    config: PeerConfig,
    handlers: tokio::runtime::Handle,
) {
    let mut reader = BufReader::with_capacity(config.buffer_size, reader);
    let mut buf = Vec::new();
    let end = loop {
        match next_frame(&mut reader, &mut buf, config.max_message_size).await {
            Ok(Frame::Line) => dispatch(&buf, &handler, &peer, &config, &handlers).await,
            Ok(Frame::TooLong { len }) => oversized(&buf, len, config.max_message_size, &peer).await,
            Ok(Frame::Eof) => break "its output ended".to_owned(),
            Err(e) => break format!("reading its output failed: {e}"),
        }
        // One large message does not keep its buffer for the life of the connection.
        if buf.capacity() > config.buffer_size.max(4096) {
            buf = Vec::new();
        }
    };
    tracing::debug!(peer = %config.name, "input ended: {end}");
    peer.shared.disconnected.cancel();
    if config.close_on_disconnect {
        peer.close(gone(&config.name, &end));
    }
}

async fn oversized(head: &[u8], len: usize, max: usize, peer: &PeerHandle) {
    let name = peer.name();
    let err = RpcError::new(
        ErrorKind::MessageTooLarge,
        format!("{name} sent a message of {len} bytes, over the limit of {max} bytes; it was skipped"),
    );
    tracing::error!(peer = %name, "{}", err.message);
    let Some(id) = sniff_id(head) else { return };
    if sniff_is_request(head) {
        peer.respond(Some(&id), Err(&err)).await;
    } else if let Some(tx) = peer.shared.pending.lock().remove(&id) {
        let _ = tx.send(Err(CallError::Local(err)));
    }
}

async fn dispatch(
    line: &[u8],
    handler: &Arc<dyn Handler>,
    peer: &PeerHandle,
    config: &PeerConfig,
    handlers: &tokio::runtime::Handle,
) {
    let inline = config.answer_inline;
    let message = match decode(line) {
        Ok(message) => message,
        Err(e) => {
            let shown = String::from_utf8_lossy(&line[..line.len().min(200)]);
            tracing::warn!(peer = %peer.name(), "skipped a line that is not protocol ({e}): {shown}");
            // JSON-RPC 2.0: a message whose id cannot be read is answered with `id: null`.
            if config.answer_unreadable {
                peer.respond(None, Err(&unreadable(line, &e))).await;
            }
            return;
        }
    };
    match message {
        Message::Response(response) => {
            let Some(id) = response.id else {
                if let Err(e) = response.result {
                    tracing::warn!(peer = %peer.name(), "error about an unreadable message: {}", e.chain());
                }
                return;
            };
            if let Some(tx) = peer.shared.pending.lock().remove(&id) {
                let _ = tx.send(response.result.map_err(CallError::Remote));
            }
        }
        Message::Notification(n) if n.method == CancelRequest::METHOD => {
            if let Ok(params) = serde_json::from_str::<CancelParams>(n.params.get()) {
                if let Some(token) = peer.shared.incoming.lock().get(&params.id) {
                    token.cancel();
                }
            }
        }
        Message::Notification(n) => handler.notification(peer, &n.method, n.params),
        Message::Request(r) if r.method == Ping::METHOD => {
            peer.respond(Some(&r.id), Ok(RawValue::from_string("{}".into()).expect("valid").as_ref())).await;
        }
        Message::Request(r) => {
            if peer.closed_reason().is_some() {
                return;
            }
            let cancel = CancellationToken::new();
            let request = IncomingRequest {
                method: r.method,
                params: r.params,
                cancel: cancel.clone(),
                peer: peer.clone(),
            };
            let mut work = AssertUnwindSafe(handler.request(request)).catch_unwind();
            // A handler that can answer at once is answered here, without a task of its own;
            // the spawned task polls again with a real waker, so this first poll loses nothing.
            if inline {
                let first =
                    Pin::new(&mut work).poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
                if let std::task::Poll::Ready(outcome) = first {
                    let reply = outcome.unwrap_or_else(|panic| Err(panicked(&*panic)));
                    peer.respond(Some(&r.id), reply.as_deref()).await;
                    return;
                }
            }
            peer.shared.incoming.lock().insert(r.id.clone(), cancel.clone());
            let peer = peer.clone();
            let id = r.id;
            handlers.spawn(async move {
                let reply = tokio::select! {
                    outcome = work => outcome.unwrap_or_else(|panic| Err(panicked(&*panic))),
                    () = cancel.cancelled() => Err(RpcError::new(ErrorKind::Cancelled, "the request was cancelled")),
                };
                peer.shared.incoming.lock().remove(&id);
                peer.respond(Some(&id), reply.as_deref()).await;
            });
        }
    }
}

/// The error that answers a line that is no readable message: `parse-error` for what is not
/// JSON, `invalid-request` for JSON that is no JSON-RPC 2.0 message (a batch array included).
fn unreadable(line: &[u8], error: &vitro_protocol::DecodeError) -> RpcError {
    match serde_json::from_slice::<serde::de::IgnoredAny>(line) {
        Err(_) => {
            RpcError::new(ErrorKind::ParseError, format!("a line that is not JSON was skipped: {error}"))
        }
        Ok(_) if line.trim_ascii_start().starts_with(b"[") => RpcError::new(
            ErrorKind::InvalidRequest,
            "batch arrays are not supported: send one message per line",
        ),
        Ok(_) => RpcError::new(
            ErrorKind::InvalidRequest,
            format!("a message that cannot be read was skipped: {error}"),
        ),
    }
}

fn panicked(payload: &(dyn std::any::Any + Send)) -> RpcError {
    RpcError::new(ErrorKind::Panic, format!("the handler panicked: {}", panic_text(payload)))
}

/// The message of a panic payload.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-text panic payload".to_owned())
}
