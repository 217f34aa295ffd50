//! Builds a console from a device's config entry, by Python Vitro's `connection_type`.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use super::{Console, ConsoleError, ConsoleOptions, Pattern};

/// The `connection_type`s this build supports.
pub const SUPPORTED: &[&str] = &[
    #[cfg(feature = "pty")]
    "local_cmd",
    #[cfg(feature = "serial")]
    "serial",
    #[cfg(feature = "telnet")]
    "ser2net",
    #[cfg(feature = "telnet")]
    "telnet",
    #[cfg(feature = "ssh")]
    "ssh_connection",
    #[cfg(feature = "ssh")]
    "authenticated_ssh",
];

/// Where console logs go and how consoles are named.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// `--save-console-logs` directory, if given.
    pub log_dir: Option<PathBuf>,
    /// Console name within the device (`console` when empty).
    pub console: String,
    /// How long connecting may take.
    pub timeout: Option<Duration>,
}

fn text<'a>(config: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| config.get(*k).and_then(Value::as_str))
}

fn bad(device: &str, what: String) -> ConsoleError {
    ConsoleError::Io(format!("{device}: {what}"))
}

/// The TCP port in `config["port"]` (a number or a string of digits), or `default` when there is
/// none; a value outside 1-65535 is an error, never a silently truncated port.
#[cfg_attr(not(any(feature = "telnet", feature = "ssh")), allow(dead_code))]
fn tcp_port(config: &Value, device: &str, kind: &str, default: Option<u16>) -> Result<u16, ConsoleError> {
    let value = match config.get("port") {
        None | Some(Value::Null) => {
            return default.ok_or_else(|| bad(device, format!("{kind} needs a numeric `port`")));
        }
        Some(Value::String(text)) => text.trim().parse::<u64>().ok(),
        Some(other) => other.as_u64(),
    };
    value
        .filter(|p| (1..=65_535).contains(p))
        .map(|p| p as u16)
        .ok_or_else(|| bad(device, format!("`port` {} is not a TCP port (1-65535)", config["port"])))
}

/// The shell prompt patterns of a device's config: `prompt`, a regex or a list of them, each
/// matched line by line (`^` and `$` at line ends); `[#$>] ?$` when there is none.
fn prompt_patterns(config: &Value) -> Result<Vec<Pattern>, ConsoleError> {
    let prompts: Vec<String> = match config.get("prompt") {
        Some(Value::String(p)) => vec![p.clone()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => vec![DEFAULT_PROMPT.to_owned()],
    };
    prompts.iter().map(|p| Pattern::regex(&format!("(?m){p}"))).collect()
}

/// The prompt of a config that names none (the Python SDK's `DEFAULT_PROMPT` is the same).
pub const DEFAULT_PROMPT: &str = r"[#$>] ?$";

/// Connects to the console a device's config describes: `connection_type` picks the transport
/// (`local_cmd`: `conn_cmd`; `serial`: `port`, `baud`; `ser2net`, `telnet`: `ipaddr`, `port`;
/// `ssh_connection`, `authenticated_ssh`: `ipaddr`, `port`, `username`, `password`, `key`,
/// `host_key_check`), `prompt`
/// (a regex or a list of them, default `[#$>] ?$`) the shell prompt.
#[cfg_attr(
    not(any(feature = "pty", feature = "serial", feature = "telnet", feature = "ssh")),
    allow(unused_variables, unreachable_code)
)]
pub async fn connect(config: &Value, options: &ConnectOptions) -> Result<Console, ConsoleError> {
    let device = text(config, &["name"]).unwrap_or("device");
    let kind = text(config, &["connection_type"]).unwrap_or("");
    let console_name = if options.console.is_empty() { "console" } else { options.console.as_str() };
    let prompt = prompt_patterns(config)?;
    let console_options = ConsoleOptions {
        name: format!("{device}.{console_name}"),
        prompt,
        linesep: text(config, &["linesep"]).unwrap_or("\n").to_owned(),
        log: options.log_dir.as_ref().map(|dir| super::log::log_path(dir, device, console_name)),
    };
    match kind {
        #[cfg(feature = "pty")]
        "local_cmd" => {
            let command = text(config, &["conn_cmd"])
                .ok_or_else(|| bad(device, "local_cmd needs `conn_cmd`".into()))?;
            pty::spawn(command, console_options)
        }
        #[cfg(feature = "serial")]
        "serial" => {
            let port = text(config, &["port", "serial_port"])
                .ok_or_else(|| bad(device, "serial needs `port`".into()))?;
            let baud = match config.get("baud") {
                None => 115_200,
                Some(value) => value
                    .as_u64()
                    .and_then(|b| u32::try_from(b).ok())
                    .ok_or_else(|| bad(device, format!("`baud` {value} is not a baud rate")))?,
            };
            serial::open(port, baud, console_options)
        }
        #[cfg(feature = "telnet")]
        "ser2net" | "telnet" => {
            let host = text(config, &["ipaddr", "host"]).unwrap_or("127.0.0.1");
            let port = tcp_port(config, device, kind, None)?;
            let timeout = options.timeout.unwrap_or(Duration::from_secs(10));
            let stream = tokio::time::timeout(timeout, tokio::net::TcpStream::connect((host, port)))
                .await
                .map_err(|_| bad(device, format!("connecting to {host}:{port} timed out")))?
                .map_err(|e| bad(device, format!("cannot connect to {host}:{port}: {e}")))?;
            if kind == "telnet" {
                return Ok(super::telnet::start(stream, console_options));
            }
            let (read, write) = stream.into_split();
            Ok(Console::start(read, write, console_options, None))
        }
        #[cfg(feature = "ssh")]
        "ssh_connection" | "authenticated_ssh" => {
            let target = super::ssh::SshTarget {
                host: text(config, &["ipaddr", "host"]).unwrap_or("127.0.0.1").to_owned(),
                port: tcp_port(config, device, kind, Some(22))?,
                user: text(config, &["username", "user"]).unwrap_or("root").to_owned(),
                password: text(config, &["password"]).map(str::to_owned),
                key: text(config, &["key", "private_key"]).map(PathBuf::from),
                known_hosts: match text(config, &["host_key_check"]).unwrap_or("off") {
                    "off" => None,
                    "known-hosts" => {
                        Some(text(config, &["known_hosts"]).map(PathBuf::from).unwrap_or_else(|| {
                            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".ssh/known_hosts")
                        }))
                    }
                    other => {
                        return Err(bad(
                            device,
                            format!("host_key_check {other:?} is neither \"off\" nor \"known-hosts\""),
                        ))
                    }
                },
                timeout: options.timeout.unwrap_or(Duration::from_secs(30)),
            };
            super::ssh::open(&target, console_options).await
        }
        other => Err(bad(
            device,
            format!("unknown connection_type {other:?}; this build supports: {}", SUPPORTED.join(", ")),
        )),
    }
}

#[cfg(feature = "pty")]
mod pty {
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::time::{Duration, Instant};

    use portable_pty::{native_pty_system, CommandBuilder, PtySize};

    use super::super::{Console, ConsoleError, ConsoleOptions};

    /// Runs `command` (shell words) in a new 200x50 PTY.
    pub(super) fn spawn(command: &str, options: ConsoleOptions) -> Result<Console, ConsoleError> {
        let io = |what: &str, e: &dyn std::fmt::Display| {
            ConsoleError::Io(format!("{}: {what}: {e}", options.name))
        };
        let pair = native_pty_system()
            .openpty(PtySize { rows: 50, cols: 200, pixel_width: 0, pixel_height: 0 })
            .map_err(|e| io("cannot open a PTY", &e))?;
        let mut cmd = CommandBuilder::new("/bin/sh");
        cmd.args(["-c", command]);
        let mut child =
            pair.slave.spawn_command(cmd).map_err(|e| io(&format!("cannot run `{command}`"), &e))?;
        drop(pair.slave);
        let fd = pair.master.as_raw_fd().ok_or_else(|| io("the PTY has no file descriptor", &""))?;
        // SAFETY: dup of a valid descriptor; each copy is owned by one File.
        let (read, write) = unsafe {
            let (r, w) = (libc::dup(fd), libc::dup(fd));
            if r < 0 || w < 0 {
                return Err(io("dup failed", &std::io::Error::last_os_error()));
            }
            (OwnedFd::from_raw_fd(r), OwnedFd::from_raw_fd(w))
        };
        let master = pair.master;
        let close = Box::new(move || {
            end_session(child.as_mut());
            drop(master);
        });
        Ok(Console::start(
            tokio::fs::File::from_std(std::fs::File::from(read)),
            tokio::fs::File::from_std(std::fs::File::from(write)),
            options,
            Some(close),
        ))
    }

    /// Ends every process of the PTY's session, not only its leader: `/bin/sh -c` may run the
    /// command as its child (dash does), and a shell may ignore SIGHUP. SIGHUP first, SIGKILL to
    /// what is left after a grace period; then the leader is reaped. Its pid names the session
    /// (the child ran `setsid`) and cannot be reused before that.
    fn end_session(leader: &mut (dyn portable_pty::Child + Send + Sync)) {
        let Some(sid) = leader.process_id() else { return };
        for signal in [libc::SIGHUP, libc::SIGKILL] {
            for pid in session_members(sid) {
                // SAFETY: kill(2) with a pid read from /proc and a valid signal number.
                unsafe { libc::kill(pid, signal) };
            }
            let deadline = Instant::now() + Duration::from_millis(300);
            while !session_members(sid).is_empty() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = leader.wait();
    }

    /// The live (not zombie) processes whose session id is `sid`.
    fn session_members(sid: u32) -> Vec<i32> {
        let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
        entries
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| {
                let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
                // After the command name: state, ppid, pgrp, session.
                let fields: Vec<&str> =
                    stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
                fields.first().is_some_and(|state| *state != "Z")
                    && fields.get(3) == Some(&sid.to_string().as_str())
            })
            .collect()
    }
}

#[cfg(feature = "serial")]
mod serial {
    use super::super::{Console, ConsoleError, ConsoleOptions};

    /// Opens a serial line at `baud`, 8N1.
    pub(super) fn open(port: &str, baud: u32, options: ConsoleOptions) -> Result<Console, ConsoleError> {
        use tokio_serial::SerialPortBuilderExt;
        let stream = tokio_serial::new(port, baud)
            .open_native_async()
            .map_err(|e| ConsoleError::Io(format!("{}: cannot open {port}: {e}", options.name)))?;
        let (read, write) = tokio::io::split(stream);
        Ok(Console::start(read, write, options, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The prompt cases both SDKs replay: `tests/fixtures/console/prompts.json`.
    #[test]
    fn the_shared_prompt_cases_match_as_they_say() {
        for case in super::super::shared_cases("prompts") {
            let patterns = prompt_patterns(&json!({ "prompt": case["prompt"] })).unwrap();
            let text = case["text"].as_str().unwrap().as_bytes();
            let matched = patterns.iter().any(|p| p.find(text, 0).is_some());
            assert_eq!(matched, case["matches"].as_bool().unwrap(), "{}", case["case"]);
        }
    }

    #[test]
    fn ports_outside_the_tcp_range_are_errors_not_truncated() {
        assert_eq!(tcp_port(&json!({"port": 2222}), "d", "telnet", None).unwrap(), 2222);
        assert_eq!(tcp_port(&json!({"port": "2222"}), "d", "telnet", None).unwrap(), 2222);
        assert_eq!(tcp_port(&json!({}), "d", "ssh_connection", Some(22)).unwrap(), 22);
        for bad in
            [json!({"port": 65_536 + 22}), json!({"port": 0}), json!({"port": -1}), json!({"port": "x"})]
        {
            let err = tcp_port(&bad, "d", "telnet", Some(22)).unwrap_err().to_string();
            assert!(err.contains("is not a TCP port (1-65535)"), "{err}");
        }
        assert!(tcp_port(&json!({}), "d", "telnet", None).is_err());
    }
}
