//! The writer task: takes queued lines in batches, writes and flushes them, and closes the output.

use std::sync::atomic::Ordering;

use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use super::{Outgoing, PeerHandle};

pub(crate) async fn write_loop(mut rx: mpsc::Receiver<Outgoing>, peer: PeerHandle) {
    let failed = 'outer: loop {
        let Some(first) = rx.recv().await else { break None };
        let mut guard = peer.shared.writer.lock().await;
        let Some(writer) = guard.as_mut() else { break None };
        let mut next = Some(first);
        let mut lines = 0;
        while let Some(item) = next {
            match item {
                Outgoing::Line(line) => {
                    lines += 1;
                    if let Err(e) = writer.write_all(&line).await {
                        break 'outer Some(e);
                    }
                }
                Outgoing::Close => break 'outer None,
            }
            next = rx.try_recv().ok();
        }
        let flushed = writer.flush().await;
        peer.shared.queued.fetch_sub(lines, Ordering::SeqCst);
        if let Err(e) = flushed {
            break Some(e);
        }
    };
    if let Some(e) = failed {
        peer.output_failed(&e);
    }
    if let Some(mut writer) = peer.shared.writer.lock().await.take() {
        let _ = writer.flush().await;
        let _ = writer.shutdown().await;
    }
    peer.shared.output_done.cancel();
}
