//! `telnet`: a console over TCP with telnet option negotiation (RFC 854/855). The server may
//! echo and suppress go-ahead; every other option is refused, so the line stays a plain NVT.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::{Console, ConsoleOptions};

const IAC: u8 = 255;
const DONT: u8 = 254;
const DO: u8 = 253;
const WONT: u8 = 252;
const WILL: u8 = 251;
const SB: u8 = 250;
const SE: u8 = 240;
const ECHO: u8 = 1;
const SUPPRESS_GO_AHEAD: u8 = 3;

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Data,
    Iac,
    Option(u8),
    Sub,
    SubIac,
}

/// Splits telnet input into data and the replies its negotiation needs.
struct Negotiator {
    state: State,
}

impl Negotiator {
    fn feed(&mut self, input: &[u8], data: &mut Vec<u8>, replies: &mut Vec<u8>) {
        for &byte in input {
            self.state = match (self.state, byte) {
                (State::Data, IAC) => State::Iac,
                (State::Data, b) => {
                    data.push(b);
                    State::Data
                }
                (State::Iac, IAC) => {
                    data.push(IAC);
                    State::Data
                }
                (State::Iac, DO | DONT | WILL | WONT) => State::Option(byte),
                (State::Iac, SB) => State::Sub,
                (State::Iac, _) => State::Data,
                (State::Option(verb), option) => {
                    let answer = match verb {
                        WILL if option == ECHO || option == SUPPRESS_GO_AHEAD => Some(DO),
                        WILL => Some(DONT),
                        DO => Some(WONT),
                        _ => None,
                    };
                    if let Some(answer) = answer {
                        replies.extend_from_slice(&[IAC, answer, option]);
                    }
                    State::Data
                }
                (State::Sub, IAC) => State::SubIac,
                (State::Sub, _) => State::Sub,
                (State::SubIac, SE) => State::Data,
                (State::SubIac, _) => State::Sub,
            };
        }
    }
}

/// Starts a telnet console on a connected stream.
pub(super) fn start(stream: TcpStream, options: ConsoleOptions) -> Console {
    let (mut socket_read, mut socket_write) = stream.into_split();
    let (console_read, mut data_in) = tokio::io::duplex(256 * 1024);
    let (mut data_out, console_write) = tokio::io::duplex(64 * 1024);
    let (replies_tx, mut replies_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    tokio::spawn(async move {
        let mut negotiator = Negotiator { state: State::Data };
        let mut buf = vec![0u8; 64 * 1024];
        let (mut data, mut replies) = (Vec::new(), Vec::new());
        while let Ok(n) = socket_read.read(&mut buf).await {
            if n == 0 {
                break;
            }
            negotiator.feed(&buf[..n], &mut data, &mut replies);
            if !replies.is_empty() && replies_tx.send(std::mem::take(&mut replies)).is_err() {
                break;
            }
            if data_in.write_all(&data).await.is_err() {
                break;
            }
            data.clear();
        }
    });
    tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            tokio::select! {
                reply = replies_rx.recv() => match reply {
                    Some(reply) => if socket_write.write_all(&reply).await.is_err() { break },
                    None => break,
                },
                read = data_out.read(&mut buf) => match read {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let mut escaped = Vec::with_capacity(n);
                        for &b in &buf[..n] {
                            escaped.push(b);
                            if b == IAC {
                                escaped.push(IAC);
                            }
                        }
                        if socket_write.write_all(&escaped).await.is_err() {
                            break;
                        }
                    }
                },
            }
        }
        let _ = socket_write.shutdown().await;
    });
    Console::start(console_read, console_write, options, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_is_answered_and_data_unescaped() {
        let mut n = Negotiator { state: State::Data };
        let (mut data, mut replies) = (Vec::new(), Vec::new());
        n.feed(&[IAC, WILL, ECHO, b'a', IAC, IAC, IAC, DO, 24, IAC, SB, 24, 1, IAC], &mut data, &mut replies);
        n.feed(&[SE, b'b', IAC, WILL, 37], &mut data, &mut replies);
        assert_eq!(data, [b'a', IAC, b'b']);
        assert_eq!(replies, [IAC, DO, ECHO, IAC, WONT, 24, IAC, DONT, 37]);
    }
}
