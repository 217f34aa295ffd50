//! A whole connection fed any bytes: the frame reader, the decoder and the dispatch of every
//! message kind, with a small size limit so oversized lines are exercised too. It must end
//! (the input ends) without a panic.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;
use vitro_protocol::RpcError;
use vitro_sdk::peer::{self, BoxFuture, Handler, IncomingRequest, PeerConfig, PeerHandle};

struct Echo;

impl Handler for Echo {
    fn request(&self, request: IncomingRequest) -> BoxFuture<Result<Box<RawValue>, RpcError>> {
        Box::pin(async move { Ok(request.params) })
    }

    fn notification(&self, _peer: &PeerHandle, _method: &str, _params: Box<RawValue>) {}
}

fuzz_target!(|input: &[u8]| {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let (output, _discard) = tokio::io::duplex(1 << 20);
        let mut config = PeerConfig::new("fuzz");
        config.max_message_size = 256;
        let peer = peer::start(std::io::Cursor::new(input.to_vec()), output, Arc::new(Echo), config);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), peer.disconnected()).await;
    });
});
