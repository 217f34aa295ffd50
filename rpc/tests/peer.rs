//! The peer in memory: two peers over a duplex pipe.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::value::RawValue;
use vitro_protocol::{ErrorKind, RpcError};
use vitro_rpc::{CallError, Handler, IncomingRequest, OnlyCalls, PeerConfig, PeerHandle};

/// Answers `big` with a result of `size` bytes whose items hold a `"method"` key (as a template
/// check's results do), and `echo` with its params.
struct Answers {
    size: usize,
}

impl Handler for Answers {
    fn request(&self, request: IncomingRequest) -> BoxFuture<'static, Result<Box<RawValue>, RpcError>> {
        let size = self.size;
        Box::pin(async move {
            match request.method.as_str() {
                "big" => {
                    let item =
                        r#"{"method":"ping","value":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#;
                    let items = vec![item; size / item.len() + 1].join(",");
                    Ok(RawValue::from_string(format!(r#"{{"results":[{items}]}}"#)).expect("JSON"))
                }
                _ => Ok(request.params),
            }
        })
    }

    fn notification(&self, _peer: &PeerHandle, _method: &str, _params: Box<RawValue>) {}
}

/// A client and a server over one pipe, each reading at most `client_max` / `server_max`.
fn pair(client_max: usize, server_max: usize, size: usize) -> (PeerHandle, PeerHandle) {
    let (a, b) = tokio::io::duplex(64 * 1024);
    let (ar, aw) = tokio::io::split(a);
    let (br, bw) = tokio::io::split(b);
    let mut client = PeerConfig::new("client");
    client.max_message_size = client_max;
    let mut server = PeerConfig::new("server");
    server.max_message_size = server_max;
    (
        vitro_rpc::start(ar, aw, Arc::new(OnlyCalls), client),
        vitro_rpc::start(br, bw, Arc::new(Answers { size }), server),
    )
}

const DEADLINE: Option<Duration> = Some(Duration::from_secs(60));

#[tokio::test]
async fn an_answer_over_the_limit_is_sent_as_message_too_large() {
    let (client, _server) = pair(1 << 20, 1 << 20, 2 << 20);
    let answer = client.request_raw("big", &serde_json::json!({}), DEADLINE).await;
    match answer {
        Err(CallError::Remote(e)) => {
            assert_eq!(e.kind(), ErrorKind::MessageTooLarge, "{e:?}");
            assert!(e.message.contains("over the limit of 1048576 bytes"), "{}", e.message);
        }
        other => panic!("expected message-too-large, got {other:?}"),
    }
    // The connection goes on.
    let echoed = client.request_raw("echo", &serde_json::json!({"n": 1}), DEADLINE).await.unwrap();
    assert_eq!(echoed.get(), r#"{"n":1}"#);
}

#[tokio::test]
async fn a_skipped_answer_that_holds_a_method_fails_its_call() {
    // The server would send it; the client reads less and must fail the call, not wait.
    let (client, _server) = pair(64 * 1024, 1 << 20, 512 * 1024);
    match client.request_raw("big", &serde_json::json!({}), DEADLINE).await {
        Err(CallError::Local(e)) => assert_eq!(e.kind(), ErrorKind::MessageTooLarge, "{e:?}"),
        other => panic!("expected the skipped answer's error, got {other:?}"),
    }
}
