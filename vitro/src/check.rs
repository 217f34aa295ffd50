//! `vitro plugins check`: runs a plugin through protocol conformance cases that need nothing
//! of its devices (nothing real is booted), and reports each as passed or failed with the reason.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use vitro_protocol::methods::{CancelRequest, DeviceCreate, DeviceHook, Exit, Initialize, Shutdown};
use vitro_protocol::types::{
    CancelParams, DeviceCreateParams, DeviceHookParams, Empty, Hook, HostInfo, InitializeParams, Limits,
    LogLevel,
};
use vitro_protocol::{ErrorKind, ProtocolVersion, RpcError, PROTOCOL_VERSION};
use vitro_rpc::{CallError, OnlyCalls, PeerConfig, PeerHandle};

use crate::plugin::{PluginCommand, PluginOptions, PluginProcess};
use crate::registry::Registry;

const WAIT: Duration = Duration::from_secs(10);

/// One case's outcome.
pub struct Outcome {
    /// Case name.
    pub case: &'static str,
    /// `Err(reason)` when it failed.
    pub result: Result<(), String>,
}

fn init(versions: Vec<ProtocolVersion>) -> InitializeParams {
    InitializeParams {
        protocol_versions: versions,
        host: HostInfo { name: "vitro plugins check".into(), version: env!("CARGO_PKG_VERSION").into() },
        limits: Limits::default(),
        log_level: LogLevel::Info,
    }
}

fn expect_kind<T: std::fmt::Debug>(result: Result<T, CallError>, kind: ErrorKind) -> Result<(), String> {
    match result {
        Err(CallError::Remote(e)) if e.kind() == kind => Ok(()),
        Err(CallError::Remote(e)) => {
            Err(format!("answered with kind {} ({}), not {kind}", e.kind(), e.message))
        }
        Err(CallError::Local(e)) => Err(e.chain()),
        Ok(answer) => Err(format!("answered {answer:?} instead of an error of kind {kind}")),
    }
}

/// Spawns the plugin without the host's handshake, for the cases about what comes before it.
async fn raw(command: &PluginCommand) -> Result<(tokio::process::Child, PeerHandle), String> {
    let mut child = crate::plugin::spawn::spawn(command).map_err(|e| format!("cannot start it: {e}"))?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err("stdio was not piped".into());
    };
    let mut config = PeerConfig::new(format!("plugin {}", command.name));
    config.answer_unreadable = false;
    let peer = vitro_rpc::start(stdout, stdin, Arc::new(OnlyCalls), config);
    Ok((child, peer))
}

async fn early_request_refused(command: &PluginCommand) -> Result<(), String> {
    let (mut child, peer) = raw(command).await?;
    let params = DeviceCreateParams {
        name: "x".into(),
        type_name: "x".into(),
        config: json!({}),
        console_log_dir: None,
        console_log_stream: false,
    };
    let result =
        expect_kind(peer.request::<DeviceCreate>(&params, Some(WAIT)).await, ErrorKind::InvalidState)
            .map_err(|e| format!("`device/create` before `initialize`: {e}"));
    let ping =
        peer.ping(Duration::from_secs(2)).await.map_err(|e| format!("`$/ping` before `initialize`: {e}"));
    let _ = child.kill().await;
    result.and(ping)
}

/// A line that is not JSON and a batch array are each answered with an error whose `id` is null.
async fn unreadable_lines(command: &PluginCommand) -> Result<(), String> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mut child = crate::plugin::spawn::spawn(command).map_err(|e| format!("cannot start it: {e}"))?;
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err("stdio was not piped".into());
    };
    let mut lines = BufReader::new(stdout).lines();
    let mut outcome = Ok(());
    let cases = [
        ("this is not JSON", "parse-error"),
        (r#"[{"jsonrpc":"2.0","id":1,"method":"$/ping"}]"#, "invalid-request"),
    ];
    for (line, kind) in cases {
        if let Err(e) = stdin.write_all(format!("{line}\n").as_bytes()).await {
            outcome = Err(e.to_string());
            break;
        }
        let reply = match tokio::time::timeout(WAIT, lines.next_line()).await {
            Ok(Ok(Some(text))) => serde_json::from_str::<serde_json::Value>(&text).unwrap_or_default(),
            Ok(Ok(None)) => serde_json::Value::Null,
            Ok(Err(_)) | Err(_) => serde_json::Value::Null,
        };
        let answered =
            reply.get("id").is_some_and(serde_json::Value::is_null) && reply["error"]["data"]["kind"] == kind;
        if !answered {
            outcome =
                Err(format!("answered {line:?} with {reply} instead of a `{kind}` error with `id: null`"));
            break;
        }
    }
    let _ = child.kill().await;
    outcome
}

async fn exits_when_stdin_closes(command: &PluginCommand) -> Result<(), String> {
    let (mut child, peer) = raw(command).await?;
    peer.request::<Initialize>(&init(vec![PROTOCOL_VERSION]), Some(WAIT)).await.map_err(|e| e.to_string())?;
    peer.close(RpcError::new(ErrorKind::PeerGone, "the checker closed stdin"));
    match tokio::time::timeout(Duration::from_secs(5), child.wait()).await {
        Ok(Ok(status)) if status.code() == Some(1) => Ok(()),
        Ok(Ok(status)) => {
            Err(format!("exited with {status} when its stdin closed before `shutdown`; status 1 is asked"))
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => {
            let _ = child.kill().await;
            Err("still running 5 s after its stdin closed".into())
        }
    }
}

/// Started by hand (no `VITRO_PLUGIN=1`), a plugin says what it is and exits with status 2.
async fn started_by_hand(command: &PluginCommand) -> Result<(), String> {
    let run = crate::plugin::spawn::run_by_hand(command);
    let output = match tokio::time::timeout(WAIT, run).await {
        Ok(output) => output.map_err(|e| format!("cannot start it: {e}"))?,
        Err(_) => return Err("still running 10 s after being started without VITRO_PLUGIN=1".into()),
    };
    if output.status.code() != Some(2) {
        return Err(format!("exited with {} instead of status 2", output.status));
    }
    if !output.stdout.iter().all(u8::is_ascii_whitespace) {
        return Err("wrote to stdout, which is the protocol's even then: say what it is on stderr".into());
    }
    if output.stderr.iter().all(u8::is_ascii_whitespace) {
        return Err("exited with status 2 but said nothing on stderr about what it is".into());
    }
    Ok(())
}

/// A second `initialize` and any request after `shutdown` are refused with `invalid-state`.
async fn refusals(command: &PluginCommand) -> Vec<Outcome> {
    let mut plugin = match started(command, vec![PROTOCOL_VERSION]).await {
        Ok(plugin) => plugin,
        Err(e) => {
            let reason = Err(format!("no handshake: {}", e.chain()));
            return vec![
                Outcome { case: "second initialize refused", result: reason.clone() },
                Outcome { case: "requests after shutdown refused", result: reason },
            ];
        }
    };
    let again = plugin.request::<Initialize>(&init(vec![PROTOCOL_VERSION]), Some(WAIT)).await;
    let second =
        expect_kind(again, ErrorKind::InvalidState).map_err(|e| format!("a second `initialize`: {e}"));
    let after = match plugin.request::<Shutdown>(&Empty {}, Some(WAIT)).await {
        Err(e) => Err(format!("`shutdown`: {e}")),
        Ok(_) => {
            let hook = DeviceHookParams { device: "no-such-device".into(), hook: Hook::Boot, env_req: None };
            let refused =
                expect_kind(plugin.request::<DeviceHook>(&hook, Some(WAIT)).await, ErrorKind::InvalidState)
                    .map_err(|e| format!("`device/hook` after `shutdown`: {e}"));
            let ping = plugin.peer().ping(Duration::from_secs(2)).await;
            refused.and(ping.map_err(|e| format!("`$/ping` after `shutdown`: {e}")))
        }
    };
    plugin.shutdown().await;
    vec![
        Outcome { case: "second initialize refused", result: second },
        Outcome { case: "requests after shutdown refused", result: after },
    ]
}

/// Pings are answered while the plugin is busy with many requests at once.
async fn ping_while_busy(plugin: &PluginProcess) -> Result<(), String> {
    let hook = DeviceHookParams { device: "no-such-device".into(), hook: Hook::Validate, env_req: None };
    let flood =
        futures_util::future::join_all((0..256).map(|_| plugin.request::<DeviceHook>(&hook, Some(WAIT))));
    let ping = async {
        tokio::task::yield_now().await;
        plugin.peer().ping(Duration::from_secs(2)).await
    };
    let (_, ping) = tokio::join!(flood, ping);
    ping.map_err(|e| format!("a ping sent among 256 requests in flight: {e}"))
}

/// A `$/cancelRequest` for a request in flight gets it answered once (its result, or
/// `cancelled`); one for an id not in flight is ignored.
async fn cancel_request(plugin: &PluginProcess) -> Result<(), String> {
    let hook = DeviceHookParams { device: "no-such-device".into(), hook: Hook::Validate, env_req: None };
    // Dropping the call at its deadline sends `$/cancelRequest`; a zero deadline sends it at once.
    let _ = plugin.request::<DeviceHook>(&hook, Some(Duration::ZERO)).await;
    plugin
        .peer()
        .notify::<CancelRequest>(&CancelParams { id: vitro_protocol::RequestId::Number(987_654_321) })
        .await
        .map_err(|e| e.to_string())?;
    plugin
        .peer()
        .ping(Duration::from_secs(2))
        .await
        .map_err(|e| format!("no ping answered after a cancel: {e}"))?;
    let answer = plugin.request::<DeviceHook>(&hook, Some(WAIT)).await;
    expect_kind(answer, ErrorKind::UnknownDevice).map_err(|e| format!("a request after a cancel: {e}"))
}

/// A message over the announced size limit is answered `message-too-large`, and the plugin goes on.
async fn oversized_message(plugin: &PluginProcess) -> Result<(), String> {
    let limit = Limits::default().max_message_size as usize;
    let huge = json!({ "pad": "x".repeat(limit + 1024) });
    let answer = plugin.peer().request_raw("vitro/oversized", &huge, Some(WAIT)).await;
    expect_kind(answer, ErrorKind::MessageTooLarge)
        .map_err(|e| format!("a request of {} bytes (limit {limit}): {e}", limit + 1024))?;
    plugin.peer().ping(Duration::from_secs(2)).await.map_err(|e| format!("no ping answered afterwards: {e}"))
}

async fn started(command: &PluginCommand, versions: Vec<ProtocolVersion>) -> Result<PluginProcess, RpcError> {
    let options = PluginOptions {
        protocol_versions: versions,
        grace: Duration::from_secs(2),
        ..PluginOptions::default()
    };
    PluginProcess::start(command.clone(), Arc::new(Registry::default()), None, options).await
}

async fn handshake(command: &PluginCommand) -> Result<(), String> {
    let mut plugin = started(command, vec![PROTOCOL_VERSION]).await.map_err(|e| e.chain())?;
    let info = plugin.info().clone();
    plugin.shutdown().await;
    if info.plugin.name.is_empty() || info.plugin.version.is_empty() {
        return Err("the plugin's name or version is empty".into());
    }
    if let Some(t) = info.device_types.iter().find(|t| t.type_name.is_empty()) {
        return Err(format!("a device type has an empty name: {t:?}"));
    }
    Ok(())
}

/// Every template a device type declares is known and its required methods are declared.
async fn template_declarations(command: &PluginCommand) -> Result<(), String> {
    let mut plugin = started(command, vec![PROTOCOL_VERSION]).await.map_err(|e| e.chain())?;
    let info = plugin.info().clone();
    plugin.shutdown().await;
    let templates = vitro_protocol::templates::Templates::builtin();
    let errors = crate::templates::check_declarations(templates, &info);
    match errors.is_empty() {
        true => Ok(()),
        false => Err(errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")),
    }
}

/// The version negotiation against hosts of other versions: a newer major only (refused with
/// `version-mismatch`, naming both sides and the side to upgrade), a newer minor of this major
/// (the plugin's own minor is chosen), the oldest minor (chosen, or refused by a plugin that
/// needs newer), and this major beside a newer one (this major is chosen).
async fn version_skews(command: &PluginCommand) -> Vec<Outcome> {
    let major = PROTOCOL_VERSION.major;
    let newer_major = ProtocolVersion::new(major + 98, 0);
    let refused = async {
        match started(command, vec![newer_major]).await {
            Err(e) if e.kind() == ErrorKind::VersionMismatch => {
                let text = e.chain();
                let named = text.contains(&newer_major.to_string()) && text.contains("upgrade");
                named.then_some(()).ok_or(format!(
                    "its version-mismatch names neither {newer_major} nor the side to upgrade: {text}"
                ))
            }
            Err(e) => Err(format!(
                "expected version-mismatch for a host speaking only {newer_major}, got: {}",
                e.chain()
            )),
            Ok(mut plugin) => {
                plugin.shutdown().await;
                Err(format!("it accepted a host that speaks only protocol {newer_major}"))
            }
        }
    }
    .await;
    // What the plugin chooses for `offered`, at most `most`; `may_refuse` when a plugin may need
    // more than is offered.
    let chooses = |offered: Vec<ProtocolVersion>, most: ProtocolVersion, may_refuse: bool| async move {
        match started(command, offered.clone()).await {
            Ok(mut plugin) => {
                let chosen = plugin.info().protocol_version;
                plugin.shutdown().await;
                let shown: Vec<String> = offered.iter().map(ToString::to_string).collect();
                (chosen.major == most.major && chosen.minor <= most.minor).then_some(()).ok_or(format!(
                    "offered {}, it chose {chosen} (expected {}.x up to {most})",
                    shown.join(" and "),
                    most.major
                ))
            }
            Err(e) if may_refuse && e.kind() == ErrorKind::VersionMismatch => Ok(()),
            Err(e) => Err(format!("no handshake: {}", e.chain())),
        }
    };
    let newer_minor = ProtocolVersion::new(major, 99);
    vec![
        Outcome { case: "version skew: a newer major only", result: refused },
        Outcome {
            case: "version skew: a newer minor",
            result: chooses(vec![newer_minor], newer_minor, false).await,
        },
        Outcome {
            case: "version skew: the oldest minor",
            result: chooses(vec![ProtocolVersion::new(major, 0)], ProtocolVersion::new(major, 0), true).await,
        },
        Outcome {
            case: "version skew: this major beside a newer one",
            result: chooses(vec![PROTOCOL_VERSION, newer_major], PROTOCOL_VERSION, false).await,
        },
    ]
}

async fn running_cases(command: &PluginCommand) -> Vec<Outcome> {
    let mut plugin = match started(command, vec![PROTOCOL_VERSION]).await {
        Ok(plugin) => plugin,
        Err(e) => {
            let reason = format!("no handshake: {}", e.chain());
            return [
                "ping",
                "ping while busy",
                "cancel request",
                "oversized message",
                "unknown method",
                "unknown device",
                "orderly shutdown",
            ]
            .into_iter()
            .map(|case| Outcome { case, result: Err(reason.clone()) })
            .collect();
        }
    };
    let ping = plugin.peer().ping(Duration::from_secs(2)).await.map_err(|e| e.to_string());
    let busy = ping_while_busy(&plugin).await;
    let cancel = cancel_request(&plugin).await;
    let oversized = oversized_message(&plugin).await;
    let unknown_method = expect_kind(
        plugin.peer().request_raw("vitro/noSuchMethod", &Empty {}, Some(WAIT)).await,
        ErrorKind::MethodNotFound,
    );
    let hook = DeviceHookParams { device: "no-such-device".into(), hook: Hook::Boot, env_req: None };
    let unknown_device =
        expect_kind(plugin.request::<DeviceHook>(&hook, Some(WAIT)).await, ErrorKind::UnknownDevice);
    let shutdown = async {
        plugin.request::<Shutdown>(&Empty {}, Some(WAIT)).await.map_err(|e| format!("`shutdown`: {e}"))?;
        plugin.notify::<Exit>(&Empty {}).await.map_err(|e| format!("`exit`: {e}"))?;
        for _ in 0..100 {
            if let Some(exit) = plugin.exit_info() {
                return match exit.code {
                    Some(0) => Ok(()),
                    _ => Err(format!("after `exit`: {}", exit.summary)),
                };
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err("still running 2 s after `exit`".to_owned())
    }
    .await;
    plugin.shutdown().await;
    vec![
        Outcome { case: "ping", result: ping },
        Outcome { case: "ping while busy", result: busy },
        Outcome { case: "cancel request", result: cancel },
        Outcome { case: "oversized message", result: oversized },
        Outcome { case: "unknown method", result: unknown_method },
        Outcome { case: "unknown device", result: unknown_device },
        Outcome { case: "orderly shutdown", result: shutdown },
    ]
}

/// Runs every case against the plugin `command` starts.
pub async fn check(command: &PluginCommand) -> Vec<Outcome> {
    let mut outcomes = vec![
        Outcome { case: "handshake", result: handshake(command).await },
        Outcome { case: "template declarations", result: template_declarations(command).await },
        Outcome { case: "early request refused", result: early_request_refused(command).await },
        Outcome { case: "started by hand", result: started_by_hand(command).await },
        Outcome { case: "unreadable lines answered", result: unreadable_lines(command).await },
    ];
    outcomes.extend(version_skews(command).await);
    outcomes.extend(refusals(command).await);
    outcomes.extend(running_cases(command).await);
    outcomes
        .push(Outcome { case: "exits when stdin closes", result: exits_when_stdin_closes(command).await });
    outcomes
}
