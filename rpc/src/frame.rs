//! Reads newline-delimited frames with a size ceiling, never holding an oversized line whole.

use std::io;

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// How many bytes of an oversized line are kept, to find its `id` and to quote it.
pub(crate) const HEAD_LEN: usize = 256;

/// What one read produced.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A line is in the buffer (newline and trailing `\r` stripped).
    Line,
    /// A line longer than the limit was skipped; the buffer holds its first bytes.
    TooLong {
        /// Its full length in bytes.
        len: usize,
    },
    /// The stream ended.
    Eof,
}

/// Reads the next non-empty line into `buf`.
pub(crate) async fn next_frame<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Frame> {
    loop {
        let frame = read_line(reader, buf, max).await?;
        if frame != Frame::Line || !buf.is_empty() {
            return Ok(frame);
        }
    }
}

async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Frame> {
    buf.clear();
    let mut oversized: Option<usize> = None;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(match oversized {
                Some(len) => Frame::TooLong { len },
                None if buf.is_empty() => Frame::Eof,
                None => Frame::Line,
            });
        }
        let newline = available.iter().position(|&b| b == b'\n');
        let chunk = &available[..newline.unwrap_or(available.len())];
        match oversized.as_mut() {
            Some(len) => *len += chunk.len(),
            None if buf.len() + chunk.len() > max => {
                let len = buf.len() + chunk.len();
                let keep = HEAD_LEN.saturating_sub(buf.len()).min(chunk.len());
                buf.extend_from_slice(&chunk[..keep]);
                buf.truncate(HEAD_LEN);
                oversized = Some(len);
            }
            None => buf.extend_from_slice(chunk),
        }
        let used = newline.map_or(available.len(), |i| i + 1);
        reader.consume(used);
        if newline.is_some() {
            if let Some(len) = oversized {
                return Ok(Frame::TooLong { len });
            }
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Frame::Line);
        }
    }
}

/// Finds the `"id"` of a message from its first bytes, for answering an oversized line.
pub(crate) fn sniff_id(head: &[u8]) -> Option<vitro_protocol::RequestId> {
    let text = std::str::from_utf8(head).ok().or_else(|| {
        let valid = std::str::from_utf8(head).map_err(|e| e.valid_up_to()).err()?;
        std::str::from_utf8(&head[..valid]).ok()
    })?;
    let at = text.find("\"id\"")? + 4;
    let rest = text[at..].trim_start().strip_prefix(':')?.trim_start();
    if let Some(s) = rest.strip_prefix('"') {
        return Some(vitro_protocol::RequestId::String(s[..s.find('"')?].to_owned()));
    }
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '-')).unwrap_or(rest.len());
    rest[..end].parse().ok().map(vitro_protocol::RequestId::Number)
}

/// Whether the head of an oversized message is a request: its `"method"` key comes before any
/// `"result"` or `"error"` (an answer may hold a `"method"` deep in its result).
pub(crate) fn sniff_is_request(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let at = |key: &str| text.find(key).unwrap_or(usize::MAX);
    let method = at("\"method\"");
    method != usize::MAX && method < at("\"result\"").min(at("\"error\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::BufReader;

    #[test]
    fn an_answer_that_holds_a_method_is_no_request() {
        assert!(sniff_is_request(br#"{"jsonrpc":"2.0","id":3,"method":"x","params":{"result":1}}"#));
        assert!(!sniff_is_request(br#"{"jsonrpc":"2.0","id":3,"result":{"results":[{"method":"ping"#));
        assert!(!sniff_is_request(br#"{"jsonrpc":"2.0","id":3,"error":{"code":1,"message":"method"#));
        assert!(!sniff_is_request(br#"{"jsonrpc":"2.0","id":3,"#));
    }

    #[tokio::test]
    async fn splits_lines_skips_blank_ones_and_strips_cr() {
        let data: &[u8] = b"one\r\n\n two\nlast";
        let mut reader = BufReader::with_capacity(4, data);
        let mut buf = Vec::new();
        let mut lines = Vec::new();
        while next_frame(&mut reader, &mut buf, 100).await.unwrap() == Frame::Line {
            lines.push(String::from_utf8(buf.clone()).unwrap());
        }
        assert_eq!(lines, ["one", " two", "last"]);
    }

    #[tokio::test]
    async fn an_oversized_line_is_measured_not_kept_and_the_next_line_still_reads() {
        let mut data = vec![b'x'; 10_000];
        data.extend_from_slice(b"\nok\n");
        let mut reader = BufReader::with_capacity(64, &data[..]);
        let mut buf = Vec::new();
        assert_eq!(next_frame(&mut reader, &mut buf, 1000).await.unwrap(), Frame::TooLong { len: 10_000 });
        assert_eq!(buf.len(), HEAD_LEN);
        assert_eq!(next_frame(&mut reader, &mut buf, 1000).await.unwrap(), Frame::Line);
        assert_eq!(buf, b"ok");
        assert_eq!(next_frame(&mut reader, &mut buf, 1000).await.unwrap(), Frame::Eof);
    }

    #[test]
    fn sniffs_ids_from_the_head_of_a_message() {
        use vitro_protocol::RequestId;
        assert_eq!(sniff_id(br#"{"jsonrpc":"2.0","id": 42,"result":"xxxx"#), Some(RequestId::Number(42)));
        assert_eq!(sniff_id(br#"{"id":"ab","#), Some(RequestId::String("ab".into())));
        assert_eq!(sniff_id(br#"{"jsonrpc":"2.0","method":"x"#), None);
    }
}
