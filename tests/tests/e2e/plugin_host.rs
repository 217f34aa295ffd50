//! The host against real plugin processes: handshake, version skew, calls both ways, floods,
//! concurrency, cancel, and the crash matrix. Every test checks that no process of the plugin's
//! group is left.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use vitro::plugin::{EventSink, PluginCommand, PluginEvent, PluginOptions, PluginProcess};
use vitro::registry::Registry;
use vitro_e2e::{eventually, live_group_members};
use vitro_protocol::methods::DeviceCreate;
use vitro_protocol::types::{DeviceCreateParams, Hook, LogLevel, Role};
use vitro_protocol::{ErrorKind, ProtocolVersion};
use vitro_sdk::peer::CallError;

const FIXTURE: &str = env!("CARGO_BIN_EXE_vitro-plugin-fixture");

fn fixture(args: &[&str]) -> PluginCommand {
    PluginCommand {
        name: "fixture".into(),
        program: FIXTURE.into(),
        args: args.iter().map(|s| s.to_string()).collect(),
    }
}

fn options() -> PluginOptions {
    PluginOptions {
        handshake_timeout: Duration::from_secs(10),
        grace: Duration::from_millis(500),
        ..PluginOptions::default()
    }
}

async fn start_with(command: PluginCommand, options: PluginOptions) -> PluginProcess {
    PluginProcess::start(command, Arc::new(Registry::default()), None, options).await.expect("plugin starts")
}

async fn start(args: &[&str]) -> PluginProcess {
    let plugin = start_with(fixture(args), options()).await;
    create(&plugin, "board", json!({})).await;
    plugin
}

async fn create(plugin: &PluginProcess, name: &str, config: Value) {
    let params = DeviceCreateParams {
        name: name.into(),
        type_name: "fixture".into(),
        config,
        console_log_dir: None,
        console_log_stream: false,
    };
    plugin.request::<DeviceCreate>(&params, Some(Duration::from_secs(5))).await.expect("device/create");
}

use vitro_e2e::call_board as call;

fn assert_group_gone(pgid: i32) {
    assert!(
        eventually(5.0, || live_group_members(pgid).is_empty()),
        "processes of group {pgid} survived: {:?}",
        live_group_members(pgid)
    );
}

async fn stop(mut plugin: PluginProcess) {
    let pgid = plugin.pgid();
    plugin.shutdown().await;
    assert_group_gone(pgid);
}

/// Waits (60 s at most) until a `sleep` call has begun in the plugin.
async fn sleep_running(plugin: &PluginProcess) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while call(plugin, "sleeps_started", json!({}), 5000).await.unwrap() == json!(0) {
        assert!(Instant::now() < deadline, "the sleep never began");
        tokio::task::yield_now().await;
    }
}

fn local(result: Result<Value, CallError>) -> vitro_protocol::RpcError {
    match result {
        Err(CallError::Local(e)) => e,
        other => panic!("expected a local error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn handshake_reports_the_plugin_its_types_and_the_chosen_version() {
    let mut plugin = start_with(fixture(&[]), options()).await;
    let info = plugin.info();
    assert_eq!(info.protocol_version, vitro_protocol::PROTOCOL_VERSION);
    assert_eq!(info.plugin.name, "fixture");
    assert!(info.plugin.sdk.starts_with("vitro-sdk-rust "), "{}", info.plugin.sdk);
    let t = &info.device_types[0];
    assert_eq!((t.type_name.as_str(), t.role), ("fixture", Role::Device));
    assert_eq!(
        t.hooks,
        [Hook::Validate, Hook::Boot, Hook::Configure, Hook::SkipBoot, Hook::ContingencyCheck, Hook::Shutdown]
    );
    let exit = plugin.shutdown().await;
    assert_eq!(exit.code, Some(0), "an orderly shutdown exits 0: {exit:?}");
    assert_group_gone(plugin.pgid());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_newer_plugin_is_refused_with_both_versions_and_what_to_upgrade() {
    let command = fixture(&["--versions", "2.0"]);
    let err =
        PluginProcess::start(command, Arc::new(Registry::default()), None, options()).await.err().unwrap();
    assert_eq!(err.kind(), ErrorKind::VersionMismatch);
    assert!(
        err.message.contains(&format!("host speaks {}", vitro_protocol::PROTOCOL_VERSION)),
        "{}",
        err.message
    );
    assert!(err.message.contains("plugin speaks 2.0"), "{}", err.message);
    assert!(err.message.contains("upgrade vitro"), "{}", err.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_older_plugin_is_refused_and_told_to_upgrade_its_sdk() {
    let mut opts = options();
    opts.protocol_versions = vec![ProtocolVersion::new(2, 0)];
    let err =
        PluginProcess::start(fixture(&[]), Arc::new(Registry::default()), None, opts).await.err().unwrap();
    assert_eq!(err.kind(), ErrorKind::VersionMismatch);
    assert!(err.message.contains("upgrade the plugin"), "{}", err.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn minor_skew_settles_on_the_smaller_minor() {
    let mut opts = options();
    opts.protocol_versions = vec![ProtocolVersion::new(1, 3)];
    let plugin = start_with(fixture(&["--versions", "1.1"]), opts).await;
    assert_eq!(plugin.info().protocol_version, ProtocolVersion::new(1, 1));
    stop(plugin).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plugin_calls_the_host_while_the_host_calls_it() {
    let registry = vitro_e2e::registry_with_wan(json!({ "name": "wan", "ipaddr": "127.0.0.1" }));
    let plugin = PluginProcess::start(fixture(&[]), registry, None, options()).await.unwrap();
    create(&plugin, "board", json!({ "name": "board" })).await;
    let found = call(&plugin, "lookup", json!({ "role": "server" }), 5000).await.unwrap();
    assert_eq!(found[0]["name"], "wan");
    assert_eq!(found[0]["config"]["ipaddr"], "127.0.0.1");
    let none = call(&plugin, "lookup", json!({ "name": "nope" }), 5000).await.unwrap();
    assert_eq!(none, json!([]));
    stop(plugin).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_notification_flood_arrives_whole_and_in_order_before_the_answer() {
    let (tx, mut rx) = EventSink::channel(65_536);
    let plugin =
        PluginProcess::start(fixture(&[]), Arc::new(Registry::default()), Some(tx), options()).await.unwrap();
    create(&plugin, "board", json!({})).await;
    let n = 20_000;
    assert_eq!(call(&plugin, "flood", json!({ "n": n }), 30_000).await.unwrap(), json!(n));
    let mut seen = 0;
    while let Ok(event) = rx.try_recv() {
        if let PluginEvent::Progress { progress, .. } = event {
            assert_eq!(progress.message, format!("step {seen}"));
            seen += 1;
        }
    }
    assert_eq!(seen, n);
    stop(plugin).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn log_records_arrive_structured_and_filtered_by_the_asked_level() {
    let (tx, mut rx) = EventSink::channel(65_536);
    let mut opts = options();
    opts.log_level = LogLevel::Info;
    let plugin =
        PluginProcess::start(fixture(&[]), Arc::new(Registry::default()), Some(tx), opts).await.unwrap();
    create(&plugin, "board", json!({})).await;
    call(&plugin, "log", json!({}), 5000).await.unwrap();
    call(&plugin, "echo", json!(1), 5000).await.unwrap();
    let records: Vec<_> = std::iter::from_fn(|| rx.try_recv().ok())
        .filter_map(|e| match e {
            PluginEvent::Log { record, .. } => Some(record),
            _ => None,
        })
        .collect();
    assert_eq!(records.len(), 1, "only the warning passes an info filter: {records:?}");
    assert_eq!(records[0].level, LogLevel::Warn);
    assert_eq!(records[0].message, "a warning from the fixture");
    assert_eq!(records[0].device.as_deref(), Some("board"));
    assert_eq!(records[0].fields["answer"], json!(42));
    stop(plugin).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn many_requests_in_flight_are_answered_out_of_order_each_with_its_own_result() {
    let plugin = Arc::new(start(&[]).await);
    let slow = {
        let plugin = plugin.clone();
        tokio::spawn(async move { call(&plugin, "sleep", json!({ "ms": 500 }), 5000).await })
    };
    let started = Instant::now();
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..1000 {
        let plugin = plugin.clone();
        calls.spawn(async move { (i, call(&plugin, "echo", json!({ "i": i }), 10_000).await) });
    }
    while let Some(joined) = calls.join_next().await {
        let (i, result) = joined.unwrap();
        assert_eq!(result.unwrap(), json!({ "i": i }));
    }
    assert!(!slow.is_finished(), "the echoes overtook the slow call");
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(slow.await.unwrap().unwrap(), json!("slept"));
    stop(Arc::into_inner(plugin).unwrap()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timed_out_call_is_cancelled_in_the_plugin() {
    let plugin = start(&[]).await;
    let err = local(call(&plugin, "sleep", json!({ "ms": 60_000 }), 200).await);
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.message.contains("did not answer `device/call` within 200ms"), "{}", err.message);
    let cancelled = || async { call(&plugin, "sleeps_cancelled", json!({}), 5000).await.unwrap() };
    let deadline = Instant::now() + Duration::from_secs(5);
    while cancelled().await != json!(1) {
        assert!(Instant::now() < deadline, "the plugin never saw the cancel");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(plugin.peer().pending_count(), 0);
    stop(plugin).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panicking_handler_is_an_error_and_the_plugin_lives_on() {
    let plugin = start(&[]).await;
    match call(&plugin, "panic", json!({}), 5000).await {
        Err(CallError::Remote(e)) => {
            assert_eq!(e.kind(), ErrorKind::Panic);
            assert!(e.message.contains("fixture panics on purpose"), "{}", e.message);
        }
        other => panic!("expected a remote panic error, got {other:?}"),
    }
    assert_eq!(call(&plugin, "echo", json!("still here"), 5000).await.unwrap(), json!("still here"));
    stop(plugin).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_mid_call_fails_every_call_in_flight_with_the_status_and_stderr() {
    let plugin = Arc::new(start(&[]).await);
    let pgid = plugin.pgid();
    let child_pid = call(&plugin, "spawn_child", json!({}), 5000).await.unwrap().as_i64().unwrap() as i32;
    let other = {
        let plugin = plugin.clone();
        tokio::spawn(async move { call(&plugin, "sleep", json!({ "ms": 60_000 }), 60_000).await })
    };
    // The sleep is in flight in the plugin, not merely sent, when the plugin exits.
    sleep_running(&plugin).await;
    let err = local(call(&plugin, "exit", json!({ "code": 1 }), 10_000).await);
    assert_eq!(err.kind(), ErrorKind::PeerGone);
    assert!(err.message.contains("plugin fixture exited with status 1"), "{}", err.message);
    assert!(err.chain().contains("fixture exits with 1 on purpose"), "{}", err.chain());
    let details = err.data.unwrap().details.unwrap();
    assert_eq!(details["exit"], 1);
    assert_eq!(local(other.await.unwrap()).message, err.message);
    assert_group_gone(pgid);
    assert!(
        eventually(5.0, || !std::path::Path::new(&format!("/proc/{child_pid}/cmdline")).exists()
            || std::fs::read_to_string(format!("/proc/{child_pid}/stat")).is_ok_and(|s| s.contains(") Z"))),
        "the plugin's own child survived"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_mid_call_names_the_signal() {
    let plugin = start(&[]).await;
    let err = local(call(&plugin, "kill", json!({}), 10_000).await);
    assert_eq!(err.kind(), ErrorKind::PeerGone);
    assert!(err.message.contains("killed by signal 9 (SIGKILL)"), "{}", err.message);
    assert_group_gone(plugin.pgid());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plugin_killed_from_outside_fails_its_calls_at_once() {
    let plugin = start(&[]).await;
    let pgid = plugin.pgid();
    let plugin = Arc::new(plugin);
    let sleeper = {
        let plugin = plugin.clone();
        tokio::spawn(async move { call(&plugin, "sleep", json!({ "ms": 60_000 }), 60_000).await })
    };
    sleep_running(&plugin).await;
    let killed = Instant::now();
    // SAFETY: sending a signal to the plugin we started.
    unsafe { libc::kill(pgid, libc::SIGKILL) };
    let err = local(sleeper.await.unwrap());
    assert_eq!(err.kind(), ErrorKind::PeerGone);
    assert!(killed.elapsed() < Duration::from_secs(3), "took {:?} after the kill", killed.elapsed());
    assert_group_gone(pgid);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_that_hangs_past_its_timeout_fails_and_the_plugin_still_stops() {
    let mut plugin = start(&[]).await;
    let err = local(call(&plugin, "block", json!({ "ms": 3000 }), 300).await);
    assert_eq!(err.kind(), ErrorKind::Timeout);
    let started = Instant::now();
    plugin.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(4), "shutdown took {:?}", started.elapsed());
    assert_group_gone(plugin.pgid());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plugin_that_stops_answering_pings_is_killed_and_its_calls_fail() {
    let mut opts = options();
    opts.ping_interval = Duration::from_millis(200);
    opts.ping_timeout = Duration::from_millis(300);
    let plugin = start_with(fixture(&[]), opts).await;
    create(&plugin, "board", json!({})).await;
    let pgid = plugin.pgid();
    // SAFETY: freezing the plugin we started.
    unsafe { libc::kill(pgid, libc::SIGSTOP) };
    let stopped = || std::fs::read_to_string(format!("/proc/{pgid}/stat")).is_ok_and(|s| s.contains(") T"));
    assert!(eventually(5.0, stopped), "the plugin did not stop");
    let err = local(call(&plugin, "echo", json!(1), 30_000).await);
    assert_eq!(err.kind(), ErrorKind::PeerGone);
    assert!(err.message.contains("missed a ping"), "{}", err.message);
    assert_group_gone(pgid);
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_on_stdout_is_skipped_not_fatal() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/plugins/garbage.sh");
    let mut plugin = start_with(PluginCommand::executable(script.as_ref()), options()).await;
    assert_eq!(plugin.info().plugin.name, "garbage");
    assert_eq!(plugin.info().plugin.sdk, "none");
    plugin.peer().ping(Duration::from_secs(5)).await.unwrap();
    let exit = plugin.shutdown().await;
    assert_eq!(exit.code, Some(0), "{exit:?}");
    assert_group_gone(plugin.pgid());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stray_println_in_a_rust_plugin_never_reaches_the_protocol() {
    let plugin = start(&[]).await;
    assert_eq!(call(&plugin, "print", json!({}), 5000).await.unwrap(), json!("printed"));
    assert_eq!(call(&plugin, "echo", json!(2), 5000).await.unwrap(), json!(2));
    stop(plugin).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_100_mib_answer_is_rejected_without_killing_the_connection() {
    let plugin = start(&[]).await;
    // The plugin's peer does not send what the host would skip: it answers message-too-large.
    let err = match call(&plugin, "huge", json!({ "bytes": 100 * 1024 * 1024 }), 60_000).await {
        Err(CallError::Remote(e)) => e,
        other => panic!("expected the plugin's message-too-large, got {other:?}"),
    };
    assert_eq!(err.kind(), ErrorKind::MessageTooLarge);
    assert!(err.message.contains("over the limit of 16777216 bytes"), "{}", err.message);
    assert_eq!(call(&plugin, "echo", json!(3), 5000).await.unwrap(), json!(3));
    stop(plugin).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plugin_that_ignores_exit_and_sigterm_is_killed_by_the_ladder() {
    let mut plugin = start_with(fixture(&["--mode", "ignore-sigterm"]), options()).await;
    let started = Instant::now();
    let exit = plugin.shutdown().await;
    assert_eq!(exit.signal, Some(libc::SIGKILL), "{exit:?}");
    assert!(started.elapsed() >= Duration::from_millis(1000), "both graces were given");
    assert_group_gone(plugin.pgid());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plugin_that_never_answers_initialize_times_out_and_is_killed() {
    let mut opts = options();
    opts.handshake_timeout = Duration::from_millis(300);
    let tag = format!("hang-init-{}", std::process::id());
    let command = fixture(&["--mode", "hang-initialize", "--tag", &tag]);
    let err = PluginProcess::start(command, Arc::new(Registry::default()), None, opts).await.err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.message.contains("did not answer `initialize` within 300ms"), "{}", err.message);
    assert!(eventually(5.0, || vitro_e2e::processes_with(&tag).is_empty()), "the hung plugin survived");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plugin_that_cannot_be_started_is_a_clear_error() {
    let command = PluginCommand {
        name: "ghost".into(),
        program: "/nonexistent/vitro-plugin-ghost".into(),
        args: vec![],
    };
    let err =
        PluginProcess::start(command, Arc::new(Registry::default()), None, options()).await.err().unwrap();
    assert!(err.message.contains("cannot start plugin ghost"), "{}", err.message);
    assert!(err.message.contains("No such file"), "{}", err.message);
}

#[test]
fn a_plugin_started_by_hand_explains_itself_and_exits() {
    let out = std::process::Command::new(FIXTURE).env_remove("VITRO_PLUGIN").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("is a Vitro plugin"), "{text}");
    assert!(text.contains("VITRO_PLUGIN=1"), "{text}");
}
