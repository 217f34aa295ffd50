//! The message decoder on any line: it decodes or says why not, and what decodes encodes again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vitro_protocol::{decode, encode_response, Message};

fuzz_target!(|line: &[u8]| {
    if let Ok(Message::Response(response)) = decode(line) {
        let _ = encode_response(response.id.as_ref(), response.result.as_deref());
    }
});
