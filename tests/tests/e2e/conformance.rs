//! One list of protocol conformance cases, run against the Rust SDK's fixture plugin and the
//! Python SDK's `pyhello` plugin alike.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use vitro::plugin::{EventSink, PluginCommand, PluginEvent, PluginOptions, PluginProcess};
use vitro::registry::Registry;
use vitro_e2e::{eventually, live_group_members};
use vitro_protocol::methods::DeviceCreate;
use vitro_protocol::types::{DeviceCreateParams, LogLevel, Role};
use vitro_protocol::{ErrorKind, ProtocolVersion};
use vitro_sdk::peer::CallError;

/// A plugin under test and its device type.
struct Subject {
    command: PluginCommand,
    device_type: &'static str,
}

fn rust() -> Subject {
    Subject {
        command: PluginCommand::executable(env!("CARGO_BIN_EXE_vitro-plugin-fixture").as_ref()),
        device_type: "fixture",
    }
}

/// The virtualenv `scripts/test` makes, with `sdk-python` installed.
fn python() -> Subject {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let interpreter = vitro_e2e::test_python();
    let script = root.join("examples/python-hello/vitro-plugin-pyhello");
    Subject {
        command: PluginCommand {
            name: "pyhello".into(),
            program: interpreter.display().to_string(),
            args: vec![script.display().to_string()],
        },
        device_type: "pyfixture",
    }
}

fn options() -> PluginOptions {
    PluginOptions { grace: Duration::from_millis(500), log_level: LogLevel::Info, ..PluginOptions::default() }
}

async fn start(subject: &Subject, events: Option<EventSink>) -> PluginProcess {
    let registry = vitro_e2e::registry_with_wan(json!({"name": "wan"}));
    let plugin =
        PluginProcess::start(subject.command.clone(), registry, events, options()).await.expect("starts");
    let params = DeviceCreateParams {
        name: "board".into(),
        type_name: subject.device_type.into(),
        config: json!({}),
        console_log_dir: None,
        console_log_stream: false,
    };
    plugin.request::<DeviceCreate>(&params, Some(Duration::from_secs(10))).await.expect("device/create");
    plugin
}

use vitro_e2e::call_board as call;

/// Echo conventions differ (Rust returns the params, Python the `value` argument).
async fn echo(plugin: &PluginProcess, value: Value) -> Value {
    let answer = call(plugin, "echo", json!({ "value": value.clone() }), 10_000).await.expect("echo");
    if answer == json!({ "value": value.clone() }) {
        value
    } else {
        answer
    }
}

async fn stop(mut plugin: PluginProcess) {
    let exit = plugin.shutdown().await;
    assert_eq!(exit.code, Some(0), "{exit:?}");
    assert!(eventually(5.0, || live_group_members(plugin.pgid()).is_empty()));
}

async fn handshake(subject: Subject) {
    let plugin = start(&subject, None).await;
    let info = plugin.info();
    assert_eq!(info.protocol_version, vitro_protocol::PROTOCOL_VERSION);
    assert!(info.plugin.sdk.starts_with("vitro-sdk-"), "{}", info.plugin.sdk);
    let t = info.device_types.iter().find(|t| t.type_name == subject.device_type).expect("its type");
    assert_eq!(t.role, Role::Device);
    assert!(t.hooks.contains(&vitro_protocol::types::Hook::Boot), "{:?}", t.hooks);
    stop(plugin).await;
}

async fn skew(subject: Subject) {
    let mut opts = options();
    opts.protocol_versions = vec![ProtocolVersion::new(9, 0)];
    let err =
        PluginProcess::start(subject.command, Arc::new(Registry::default()), None, opts).await.err().unwrap();
    assert_eq!(err.kind(), ErrorKind::VersionMismatch, "{err:?}");
    assert!(
        err.message.contains("host speaks 9.0") && err.message.contains("upgrade the plugin"),
        "{}",
        err.message
    );
}

async fn calls_both_ways(subject: Subject) {
    let plugin = start(&subject, None).await;
    let found = call(&plugin, "lookup", json!({"role": "server"}), 10_000).await.unwrap();
    assert_eq!(found[0]["name"], "wan", "{found}");
    let big = "y".repeat(1 << 20);
    assert_eq!(echo(&plugin, json!(big)).await, json!(big), "a 1 MiB line each way");
    stop(plugin).await;
}

async fn cancel(subject: Subject) {
    let plugin = start(&subject, None).await;
    let err = call(&plugin, "sleep", json!({"ms": 60_000}), 200).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(echo(&plugin, json!("after")).await, json!("after"));
    stop(plugin).await;
}

async fn ping_under_load(subject: Subject) {
    let plugin = Arc::new(start(&subject, None).await);
    // More blocking calls than the Rust SDK has worker threads: every worker is stuck.
    let busy: Vec<_> = (0..4)
        .map(|_| {
            let plugin = plugin.clone();
            tokio::spawn(async move { call(&plugin, "block", json!({"ms": 1500}), 10_000).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    plugin.peer().ping(Duration::from_secs(5)).await.expect("ping");
    assert!(started.elapsed() < Duration::from_millis(500), "ping took {:?}", started.elapsed());
    for call in busy {
        assert_eq!(call.await.unwrap().unwrap(), json!("blocked"));
    }
    stop(Arc::into_inner(plugin).unwrap()).await;
}

async fn logging(subject: Subject) {
    let (tx, mut rx) = EventSink::channel(65_536);
    let plugin = start(&subject, Some(tx)).await;
    call(&plugin, "log", json!({}), 10_000).await.unwrap();
    echo(&plugin, json!(1)).await;
    let records: Vec<_> = std::iter::from_fn(|| rx.try_recv().ok())
        .filter_map(|e| match e {
            PluginEvent::Log { record, .. } if record.message.contains("fixture") => Some(record),
            _ => None,
        })
        .collect();
    assert_eq!(records.len(), 1, "only the warning passes an info filter: {records:?}");
    assert_eq!((records[0].level, records[0].device.as_deref()), (LogLevel::Warn, Some("board")));
    stop(plugin).await;
}

async fn stray_output(subject: Subject) {
    let plugin = start(&subject, None).await;
    assert_eq!(call(&plugin, "print", json!({}), 10_000).await.unwrap(), json!("printed"));
    assert_eq!(echo(&plugin, json!(2)).await, json!(2));
    stop(plugin).await;
}

async fn handler_failure(subject: Subject) {
    let plugin = start(&subject, None).await;
    match call(&plugin, "panic", json!({}), 10_000).await {
        Err(CallError::Remote(e)) => assert_eq!(e.kind(), ErrorKind::Panic, "{e:?}"),
        other => panic!("expected a panic error, got {other:?}"),
    }
    assert_eq!(echo(&plugin, json!(3)).await, json!(3));
    stop(plugin).await;
}

async fn crash(subject: Subject) {
    let plugin = start(&subject, None).await;
    let err = match call(&plugin, "exit", json!({"code": 1}), 10_000).await {
        Err(CallError::Local(e)) => e,
        other => panic!("expected peer-gone, got {other:?}"),
    };
    assert_eq!(err.kind(), ErrorKind::PeerGone);
    assert!(err.message.contains("exited with status 1"), "{}", err.message);
    assert!(err.chain().contains("exits with 1 on purpose"), "{}", err.chain());
    assert!(eventually(5.0, || live_group_members(plugin.pgid()).is_empty()));
}

macro_rules! conformance {
    ($($case:ident),*) => {
        mod rust_sdk {
            $( #[tokio::test(flavor = "multi_thread")] async fn $case() { super::$case(super::rust()).await } )*
        }
        mod python_sdk {
            $( #[tokio::test(flavor = "multi_thread")] async fn $case() { super::$case(super::python()).await } )*
        }
    };
}

conformance!(
    handshake,
    skew,
    calls_both_ways,
    cancel,
    ping_under_load,
    logging,
    stray_output,
    handler_failure,
    crash
);
