//! JSON-RPC 2.0 envelopes and the newline-delimited framing: pure functions over bytes.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::RpcError;

/// A request id: a number or a string, as JSON-RPC allows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RequestId {
    /// Numeric id (what Vitro's peers send).
    Number(i64),
    /// String id (accepted from foreign peers).
    String(String),
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Number(n) => write!(f, "{n}"),
            RequestId::String(s) => write!(f, "{s:?}"),
        }
    }
}

impl From<i64> for RequestId {
    fn from(n: i64) -> Self {
        RequestId::Number(n)
    }
}

/// A decoded incoming request; `params` stays raw until the method's handler types it.
#[derive(Debug)]
pub struct Request {
    /// Id to answer with.
    pub id: RequestId,
    /// Method name.
    pub method: String,
    /// Raw params (`{}` when the sender omitted them).
    pub params: Box<RawValue>,
}

/// A decoded incoming notification.
#[derive(Debug)]
pub struct Notification {
    /// Method name.
    pub method: String,
    /// Raw params (`{}` when the sender omitted them).
    pub params: Box<RawValue>,
}

/// A decoded incoming response.
#[derive(Debug)]
pub struct Response {
    /// Id of the request it answers (`None` for errors about unparseable requests).
    pub id: Option<RequestId>,
    /// Raw result, or the error.
    pub result: Result<Box<RawValue>, RpcError>,
}

/// Any incoming message.
#[derive(Debug)]
pub enum Message {
    /// A request to answer.
    Request(Request),
    /// A response to one of ours.
    Response(Response),
    /// A notification.
    Notification(Notification),
}

/// Why a line is not a JSON-RPC message.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON at all (stray output on the protocol stream).
    #[error("not JSON: {0}")]
    NotJson(#[from] serde_json::Error),
    /// JSON, but not a JSON-RPC 2.0 message.
    #[error("not a JSON-RPC 2.0 message: {0}")]
    NotJsonRpc(&'static str),
}

#[derive(Deserialize)]
struct Incoming {
    jsonrpc: Option<String>,
    #[serde(default)]
    id: Option<RequestId>,
    method: Option<String>,
    params: Option<Box<RawValue>>,
    result: Option<Box<RawValue>>,
    error: Option<RpcError>,
}

fn empty_object() -> Box<RawValue> {
    RawValue::from_string("{}".to_owned()).expect("`{}` is valid JSON")
}

fn null() -> Box<RawValue> {
    RawValue::from_string("null".to_owned()).expect("`null` is valid JSON")
}

/// Decodes one line (without its newline).
pub fn decode(line: &[u8]) -> Result<Message, DecodeError> {
    let raw: Incoming = serde_json::from_slice(line)?;
    if raw.jsonrpc.as_deref() != Some("2.0") {
        return Err(DecodeError::NotJsonRpc("`jsonrpc` must be \"2.0\""));
    }
    match (raw.method, raw.id) {
        (Some(method), Some(id)) => {
            Ok(Message::Request(Request { id, method, params: raw.params.unwrap_or_else(empty_object) }))
        }
        (Some(method), None) => Ok(Message::Notification(Notification {
            method,
            params: raw.params.unwrap_or_else(empty_object),
        })),
        (None, id) => {
            let result = match raw.error {
                Some(err) => Err(err),
                None => Ok(raw.result.unwrap_or_else(null)),
            };
            if id.is_none() && result.is_ok() {
                return Err(DecodeError::NotJsonRpc("a response needs an `id`"));
            }
            Ok(Message::Response(Response { id, result }))
        }
    }
}

#[derive(Serialize)]
struct OutRequest<'a, P: ?Sized> {
    jsonrpc: &'static str,
    id: &'a RequestId,
    method: &'a str,
    params: &'a P,
}

#[derive(Serialize)]
struct OutNotification<'a, P: ?Sized> {
    jsonrpc: &'static str,
    method: &'a str,
    params: &'a P,
}

#[derive(Serialize)]
struct OutResult<'a, R: ?Sized> {
    jsonrpc: &'static str,
    id: Option<&'a RequestId>,
    result: &'a R,
}

#[derive(Serialize)]
struct OutError<'a> {
    jsonrpc: &'static str,
    id: Option<&'a RequestId>,
    error: &'a RpcError,
}

fn line<T: Serialize>(message: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut buf = serde_json::to_vec(message)?;
    buf.push(b'\n');
    Ok(buf)
}

/// Encodes a request as one line, newline included.
pub fn encode_request<P: Serialize + ?Sized>(
    id: &RequestId,
    method: &str,
    params: &P,
) -> Result<Vec<u8>, serde_json::Error> {
    line(&OutRequest { jsonrpc: "2.0", id, method, params })
}

/// Encodes a notification as one line, newline included.
pub fn encode_notification<P: Serialize + ?Sized>(
    method: &str,
    params: &P,
) -> Result<Vec<u8>, serde_json::Error> {
    line(&OutNotification { jsonrpc: "2.0", method, params })
}

/// Encodes a response as one line, newline included.
pub fn encode_response<R: Serialize + ?Sized>(
    id: Option<&RequestId>,
    result: Result<&R, &RpcError>,
) -> Result<Vec<u8>, serde_json::Error> {
    match result {
        Ok(result) => line(&OutResult { jsonrpc: "2.0", id, result }),
        Err(error) => line(&OutError { jsonrpc: "2.0", id, error }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::types::Empty;

    #[test]
    fn encodes_exact_lines() {
        let id = RequestId::Number(7);
        assert_eq!(
            encode_request(&id, "$/ping", &Empty {}).unwrap(),
            b"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"$/ping\",\"params\":{}}\n"
        );
        assert_eq!(
            encode_notification("exit", &Empty {}).unwrap(),
            b"{\"jsonrpc\":\"2.0\",\"method\":\"exit\",\"params\":{}}\n"
        );
        assert_eq!(
            encode_response(Some(&id), Ok(&Empty {})).unwrap(),
            b"{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}\n"
        );
        let err = RpcError::new(ErrorKind::Cancelled, "cancelled");
        assert_eq!(
            encode_response::<Empty>(Some(&id), Err(&err)).unwrap(),
            b"{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":-32800,\"message\":\"cancelled\",\"data\":{\"kind\":\"cancelled\"}}}\n".to_vec()
        );
    }

    #[test]
    fn decodes_each_message_kind_and_ignores_unknown_fields() {
        let Message::Request(r) = decode(br#"{"jsonrpc":"2.0","id":"a","method":"m","extra":true}"#).unwrap()
        else {
            panic!("not a request")
        };
        assert_eq!(r.id, RequestId::String("a".into()));
        assert_eq!(r.params.get(), "{}");
        let Message::Notification(n) =
            decode(br#"{"jsonrpc":"2.0","method":"$/log","params":{"x":1}}"#).unwrap()
        else {
            panic!("not a notification")
        };
        assert_eq!(n.params.get(), r#"{"x":1}"#);
        let Message::Response(r) = decode(br#"{"jsonrpc":"2.0","id":3,"result":null}"#).unwrap() else {
            panic!("not a response")
        };
        assert_eq!(r.result.unwrap().get(), "null");
        let Message::Response(r) =
            decode(br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}"#)
                .unwrap()
        else {
            panic!("not a response")
        };
        assert_eq!(r.result.unwrap_err().kind(), ErrorKind::ParseError);
    }

    #[test]
    fn rejects_what_is_not_json_rpc() {
        assert!(matches!(decode(b"hello from println!"), Err(DecodeError::NotJson(_))));
        assert!(matches!(decode(br#"{"id":1,"method":"m"}"#), Err(DecodeError::NotJsonRpc(_))));
        assert!(matches!(decode(br#"{"jsonrpc":"2.0"}"#), Err(DecodeError::NotJsonRpc(_))));
    }
}
