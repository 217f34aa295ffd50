//! The interactive menu on a terminal, as Python Vitro ends its setup: devices sorted by name
//! with their console counts; a number attaches to a console in raw mode (Ctrl-] detaches);
//! `m` writes a marker into every console log; `e` runs a command against the live session;
//! `p` opens a Python shell on it (the Python SDK's `vitro_sdk.shell`); `q` releases and quits.

use std::io::{Read, Write};
use std::sync::Arc;

use tokio::sync::mpsc;
use vitro_protocol::types::ConsoleRef;
use vitro_rpc::terminal::RawTerminal;
use vitro_rpc::PeerHandle;

use crate::consoles::{decode, ConsoleHub};
use crate::session::SessionState;

const DETACH: u8 = 0x1d;

/// Keystrokes from the terminal, read by one thread for the whole session, one read per request:
/// while the menu asks for nothing (a command or the Python shell runs), the terminal is theirs.
struct Keys {
    want: std::sync::mpsc::Sender<()>,
    got: mpsc::UnboundedReceiver<Vec<u8>>,
    asked: bool,
}

impl Keys {
    fn start() -> Self {
        let (want, wanted) = std::sync::mpsc::channel::<()>();
        let (tx, got) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            let mut stdin = std::io::stdin();
            let mut buf = [0u8; 1024];
            while wanted.recv().is_ok() {
                match stdin.read(&mut buf) {
                    Ok(n) if n > 0 && tx.send(buf[..n].to_vec()).is_ok() => {}
                    _ => break,
                }
            }
        });
        Self { want, got, asked: false }
    }

    /// The next keystrokes; `None` at end of input.
    async fn chunk(&mut self) -> Option<Vec<u8>> {
        if !self.asked {
            self.want.send(()).ok()?;
            self.asked = true;
        }
        let chunk = self.got.recv().await;
        self.asked = false;
        chunk
    }

    /// One line, without its newline; `None` at end of input.
    async fn line(&mut self) -> Option<String> {
        let mut line = Vec::new();
        loop {
            line.extend_from_slice(&self.chunk().await?);
            if let Some(end) = line.iter().position(|&b| b == b'\n') {
                line.truncate(end);
                return Some(String::from_utf8_lossy(&line).trim().to_owned());
            }
        }
    }
}

fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Runs the menu until `q`, the end of input, or a release from a session client.
pub async fn run(state: Arc<SessionState>, session_path: &std::path::Path) {
    let mut keys = Keys::start();
    // What the last action did, shown just above the next prompt (the menu printed again would
    // scroll a line printed at once out of sight).
    let mut notice: Option<String> = None;
    loop {
        let mut devices: Vec<(String, String, PeerHandle, Vec<String>)> = Vec::new();
        for (device, peer) in &state.devices {
            let consoles = ConsoleHub::names(peer, &device.name).await.unwrap_or_default();
            devices.push((device.name.clone(), device.type_name.clone(), peer.clone(), consoles));
        }
        devices.sort_by(|a, b| a.0.cmp(&b.0));
        let mut menu = String::from("\n  #  device            type              consoles\n");
        for (i, (name, type_name, peer, consoles)) in devices.iter().enumerate() {
            let gone = if peer.closed_reason().is_some() { "  (its plugin is gone)" } else { "" };
            menu.push_str(&format!("{:>3}  {name:<16}  {type_name:<16}  {}{gone}\n", i + 1, consoles.len()));
        }
        menu.push_str(
            "\nnumber: attach to a console (Ctrl-] detaches)   m: marker   e: run a command   \
             p: Python shell   q: release and quit\n",
        );
        if let Some(notice) = notice.take() {
            menu.push_str(&format!("{notice}\n"));
        }
        menu.push_str("> ");
        say(&menu);
        let line = tokio::select! {
            line = keys.line() => line,
            () = state.release.cancelled() => None,
        };
        let Some(line) = line else { return };
        match line.as_str() {
            "q" => return,
            "m" => {
                say("marker text: ");
                let text = keys.line().await.unwrap_or_default();
                state.consoles.registry().console_logs.mark(&text);
                notice = Some(match ConsoleHub::marker(&state.plugins, &text).await {
                    Ok(()) => format!(
                        "marker written: \"##### {}\" is in every console log",
                        vitro_protocol::names::printable(&text)
                    ),
                    Err(e) => format!("marker failed: {e}"),
                });
            }
            "e" => {
                say(&format!("command (runs with {}): ", vitro_protocol::session::SESSION_ENV));
                let command = keys.line().await.unwrap_or_default();
                if !command.is_empty() {
                    run_child(&["sh".to_owned(), "-c".to_owned(), command], session_path, &state).await;
                }
            }
            "p" => {
                let python = std::env::var("VITRO_PYTHON").unwrap_or_else(|_| "python3".to_owned());
                run_child(&[python, "-m".to_owned(), "vitro_sdk.shell".to_owned()], session_path, &state)
                    .await;
            }
            number => {
                let Some((name, _, peer, consoles)) =
                    number.parse::<usize>().ok().and_then(|n| devices.get(n.wrapping_sub(1)))
                else {
                    say(&format!("no choice {number:?}\n"));
                    continue;
                };
                let console = match consoles.len() {
                    0 => {
                        say(&format!("{name} has no console\n"));
                        continue;
                    }
                    1 => consoles[0].clone(),
                    _ => {
                        let list: Vec<String> =
                            consoles.iter().enumerate().map(|(i, c)| format!("{}: {c}", i + 1)).collect();
                        say(&format!("{}\nconsole> ", list.join("   ")));
                        let pick = keys.line().await.unwrap_or_default();
                        match pick.parse::<usize>().ok().and_then(|n| consoles.get(n.wrapping_sub(1))) {
                            Some(console) => console.clone(),
                            None => continue,
                        }
                    }
                };
                let target = ConsoleRef { device: name.clone(), console };
                attach(&state, peer, &target, &mut keys).await;
            }
        }
    }
}

/// Runs a command on the terminal against the live session and says how it ended.
async fn run_child(argv: &[String], session_path: &std::path::Path, state: &SessionState) {
    match crate::plugin::spawn::spawn_user_command(argv, session_path, state.board.as_deref()) {
        Ok(mut child) => {
            let status = child.wait().await;
            say(&format!(
                "{} ended: {}\n",
                argv[0],
                status.map_or_else(|e| e.to_string(), |s| s.to_string())
            ));
        }
        Err(e) => say(&format!("cannot run {}: {e}\n", argv[0])),
    }
}

async fn attach(state: &SessionState, peer: &PeerHandle, target: &ConsoleRef, keys: &mut Keys) {
    let mut output = match state.consoles.open(peer, target).await {
        Ok(output) => output,
        Err(e) => return say(&format!("cannot attach: {e}\n")),
    };
    say(&format!("attached to {}.{} (Ctrl-] detaches)\r\n", target.device, target.console));
    let raw = RawTerminal::enter();
    // A fresh prompt: whatever the console printed before is in its log.
    let _ = ConsoleHub::write(peer, target, b"\n").await;
    let reason = loop {
        tokio::select! {
            data = output.next() => match data {
                Some(data) => say(&String::from_utf8_lossy(&decode(&data))),
                None => break "the console closed".to_owned(),
            },
            typed = keys.chunk() => {
                let Some(typed) = typed else { break "the terminal closed".to_owned() };
                let end = typed.iter().position(|&b| b == DETACH);
                let send = &typed[..end.unwrap_or(typed.len())];
                if !send.is_empty() {
                    if let Err(e) = ConsoleHub::write(peer, target, send).await {
                        break format!("writing failed: {e}");
                    }
                }
                if end.is_some() {
                    break "detached".to_owned();
                }
            }
            reason = peer.closed() => break format!("its plugin is gone: {}", reason.chain()),
        }
    };
    drop(raw);
    say(&format!("\r\n{reason}\n"));
}
