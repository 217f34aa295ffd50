//! A plugin on "another machine": run through a real OpenSSH server on 127.0.0.1.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use vitro::plugin::{PluginCommand, PluginOptions, PluginProcess};
use vitro::registry::Registry;
use vitro_e2e::sshd::Sshd;
use vitro_e2e::{eventually, processes_with};
use vitro_protocol::methods::{DeviceCall, DeviceCreate};
use vitro_protocol::types::{DeviceCallParams, DeviceCreateParams};
use vitro_protocol::ErrorKind;
use vitro_sdk::peer::CallError;

const FIXTURE: &str = env!("CARGO_BIN_EXE_vitro-plugin-fixture");

fn remote_fixture(sshd: &Sshd, tag: &str, extra: &str) -> PluginCommand {
    let mut args = sshd.ssh_command();
    let program = args.remove(0);
    args.push(format!("VITRO_PLUGIN=1 {FIXTURE} --tag {tag} {extra}"));
    PluginCommand { name: "fixture".into(), program, args }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plugin_behind_ssh_handshakes_answers_calls_and_leaves_nothing_behind() {
    let sshd = Sshd::start().expect("sshd starts");
    let tag = format!("remote-ok-{}", std::process::id());
    let command = remote_fixture(&sshd, &tag, "");
    let mut plugin =
        PluginProcess::start(command, Arc::new(Registry::default()), None, PluginOptions::default())
            .await
            .expect("the remote plugin starts");
    assert_eq!(plugin.info().plugin.name, "fixture");
    let create = DeviceCreateParams {
        name: "board".into(),
        type_name: "fixture".into(),
        config: json!({"x": 1}),
        console_log_dir: None,
        console_log_stream: false,
    };
    plugin.request::<DeviceCreate>(&create, Some(Duration::from_secs(10))).await.unwrap();
    let call =
        DeviceCallParams { device: "board".into(), method: "config".into(), params: json!({}), kwargs: None };
    let config = plugin.request::<DeviceCall>(&call, Some(Duration::from_secs(10))).await.unwrap();
    assert_eq!(config.0, json!({"x": 1}));
    let exit = plugin.shutdown().await;
    assert_eq!(exit.code, Some(0), "{exit:?}");
    assert!(eventually(5.0, || processes_with(&tag).is_empty()), "left behind: {:?}", processes_with(&tag));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_remote_plugin_that_crashes_fails_its_call_and_the_remote_side_is_cleaned_up() {
    let sshd = Sshd::start().expect("sshd starts");
    let tag = format!("remote-crash-{}", std::process::id());
    let command = remote_fixture(&sshd, &tag, "");
    let plugin = PluginProcess::start(command, Arc::new(Registry::default()), None, PluginOptions::default())
        .await
        .expect("the remote plugin starts");
    let create = DeviceCreateParams {
        name: "board".into(),
        type_name: "fixture".into(),
        config: json!({}),
        console_log_dir: None,
        console_log_stream: false,
    };
    plugin.request::<DeviceCreate>(&create, Some(Duration::from_secs(10))).await.unwrap();
    let call = DeviceCallParams {
        device: "board".into(),
        method: "exit".into(),
        params: json!({"code": 3}),
        kwargs: None,
    };
    match plugin.request::<DeviceCall>(&call, Some(Duration::from_secs(10))).await {
        Err(CallError::Local(e)) => {
            assert_eq!(e.kind(), ErrorKind::PeerGone);
            // ssh passes the remote exit status through.
            assert!(e.message.contains("exited with status 3"), "{}", e.message);
            assert!(e.chain().contains("fixture exits with 3 on purpose"), "{}", e.chain());
        }
        other => panic!("expected peer-gone, got {other:?}"),
    }
    drop(plugin);
    assert!(eventually(5.0, || processes_with(&tag).is_empty()), "left behind: {:?}", processes_with(&tag));
}
