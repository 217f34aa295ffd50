//! The plugin runtime in memory: host and plugin in one process over `tokio::io::duplex`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use vitro_protocol::methods::{DeviceCall, DeviceCreate, DeviceHook, Exit, Initialize, Shutdown};
use vitro_protocol::types::*;
use vitro_protocol::{ErrorKind, RpcError, PROTOCOL_VERSION};
use vitro_sdk::peer::{self, CallError, PeerConfig, PeerHandle};
use vitro_sdk::{Context, Device, DeviceType, DriverError, DriverResult, Plugin};

struct Lamp;

#[vitro_sdk::device]
impl Device for Lamp {
    async fn boot(&self, ctx: &Context) -> DriverResult<()> {
        Err(DriverError::device(format!("{} has no bulb", ctx.device)))
    }
    async fn call(
        &self,
        _ctx: &Context,
        method: &str,
        params: serde_json::Value,
    ) -> DriverResult<serde_json::Value> {
        match method {
            "double" => Ok(json!(params.as_i64().unwrap_or(0) * 2)),
            "io" => Err(std::io::Error::other("socket closed"))?,
            _ => Err(DriverError::new(ErrorKind::MethodNotFound, method)),
        }
    }
}

fn connect() -> (PeerHandle, tokio::task::JoinHandle<std::process::ExitCode>) {
    let (host_io, plugin_io) = tokio::io::duplex(64 * 1024);
    let plugin = Plugin::new("lamp", "1.2.3")
        .device_type(DeviceType::new("lamp", Role::Device, |_| Ok(Lamp)).method("double", "x2"));
    let (plugin_read, plugin_write) = tokio::io::split(plugin_io);
    let served = tokio::spawn(plugin.serve(plugin_read, plugin_write));
    let (host_read, host_write) = tokio::io::split(host_io);
    (peer::start(host_read, host_write, Arc::new(peer::OnlyCalls), PeerConfig::new("lamp")), served)
}

fn init_params() -> InitializeParams {
    InitializeParams {
        protocol_versions: vec![PROTOCOL_VERSION],
        host: HostInfo { name: "test".into(), version: "0".into() },
        limits: Limits::default(),
        log_level: LogLevel::Info,
    }
}

const T: Option<Duration> = Some(Duration::from_secs(5));

fn remote_kind(result: Result<impl std::fmt::Debug, CallError>) -> ErrorKind {
    match result {
        Err(CallError::Remote(e)) => e.kind(),
        other => panic!("expected a remote error, got {other:?}"),
    }
}

#[tokio::test]
async fn requests_before_initialize_are_refused_and_initialize_only_once() {
    let (host, _served) = connect();
    let create = DeviceCreateParams {
        name: "l".into(),
        type_name: "lamp".into(),
        config: json!({}),
        console_log_dir: None,
        console_log_stream: false,
    };
    assert_eq!(remote_kind(host.request::<DeviceCreate>(&create, T).await), ErrorKind::InvalidState);
    let info = host.request::<Initialize>(&init_params(), T).await.unwrap();
    assert_eq!(info.plugin.name, "lamp");
    assert_eq!(info.device_types[0].methods[0].name, "double");
    assert_eq!(remote_kind(host.request::<Initialize>(&init_params(), T).await), ErrorKind::InvalidState);
}

#[tokio::test]
async fn hooks_and_methods_reach_the_device_and_errors_keep_their_kind_and_causes() {
    let (host, served) = connect();
    host.request::<Initialize>(&init_params(), T).await.unwrap();
    let unknown = DeviceCreateParams {
        name: "x".into(),
        type_name: "toaster".into(),
        config: json!({}),
        console_log_dir: None,
        console_log_stream: false,
    };
    assert_eq!(remote_kind(host.request::<DeviceCreate>(&unknown, T).await), ErrorKind::UnknownDeviceType);
    let create = DeviceCreateParams {
        name: "l".into(),
        type_name: "lamp".into(),
        config: json!({}),
        console_log_dir: None,
        console_log_stream: false,
    };
    host.request::<DeviceCreate>(&create, T).await.unwrap();
    assert_eq!(remote_kind(host.request::<DeviceCreate>(&create, T).await), ErrorKind::InvalidState);
    let boot = DeviceHookParams { device: "l".into(), hook: Hook::Boot, env_req: None };
    match host.request::<DeviceHook>(&boot, T).await {
        Err(CallError::Remote(e)) => {
            assert_eq!(e.kind(), ErrorKind::DeviceError);
            assert_eq!(e.message, "l has no bulb");
        }
        other => panic!("{other:?}"),
    }
    let call = |method: &str, params| DeviceCallParams {
        device: "l".into(),
        method: method.into(),
        params,
        kwargs: None,
    };
    assert_eq!(host.request::<DeviceCall>(&call("double", json!(21)), T).await.unwrap().0, json!(42));
    assert_eq!(
        remote_kind(host.request::<DeviceCall>(&call("io", json!(null)), T).await),
        ErrorKind::DeviceError
    );
    let missing =
        DeviceCallParams { device: "nope".into(), method: "double".into(), params: json!(1), kwargs: None };
    assert_eq!(remote_kind(host.request::<DeviceCall>(&missing, T).await), ErrorKind::UnknownDevice);
    host.request::<Shutdown>(&Empty {}, T).await.unwrap();
    assert_eq!(
        remote_kind(host.request::<DeviceCall>(&call("double", json!(1)), T).await),
        ErrorKind::InvalidState
    );
    host.notify::<Exit>(&Empty {}).await.unwrap();
    assert_eq!(served.await.unwrap(), std::process::ExitCode::SUCCESS);
}

#[tokio::test]
async fn a_plugin_without_a_common_version_says_which_side_to_upgrade() {
    let (host, _served) = connect();
    let mut params = init_params();
    params.protocol_versions = vec![vitro_protocol::ProtocolVersion::new(9, 0)];
    match host.request::<Initialize>(&params, T).await {
        Err(CallError::Remote(e)) => {
            assert_eq!(e.kind(), ErrorKind::VersionMismatch);
            assert!(e.message.contains("upgrade the plugin"), "{}", e.message);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_plugin_exits_when_the_host_goes_away() {
    let (host, served) = connect();
    host.request::<Initialize>(&init_params(), T).await.unwrap();
    host.close(RpcError::new(ErrorKind::PeerGone, "bye"));
    let code = tokio::time::timeout(Duration::from_secs(5), served).await.expect("plugin exits").unwrap();
    assert_eq!(code, std::process::ExitCode::FAILURE, "no shutdown came first");
}

/// A type with two hooks and a custom method.
struct Modem;

#[vitro_sdk::device]
impl Device for Modem {
    async fn skip_boot(&self, _ctx: &Context) -> DriverResult<()> {
        Ok(())
    }
    async fn contingency_check(&self, _ctx: &Context, _env_req: &serde_json::Value) -> DriverResult<()> {
        Ok(())
    }
    async fn call(
        &self,
        _ctx: &Context,
        _method: &str,
        params: serde_json::Value,
    ) -> DriverResult<serde_json::Value> {
        Ok(params)
    }
}

#[test]
fn a_device_type_declares_exactly_the_hooks_its_impl_defines() {
    assert_eq!(<Modem as Device>::hooks(), [Hook::SkipBoot, Hook::ContingencyCheck]);
    assert_eq!(<Lamp as Device>::hooks(), [Hook::Boot]);
}

/// Boots with the servers and configures with the devices (protocol 1.1 phase hooks); counts.
struct Gateway(Arc<std::sync::atomic::AtomicUsize>);

#[vitro_sdk::device]
impl Device for Gateway {
    async fn server_boot(&self, _ctx: &Context) -> DriverResult<()> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
    async fn device_configure(&self, _ctx: &Context) -> DriverResult<()> {
        self.0.fetch_add(10, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test]
async fn phase_hooks_are_declared_routed_and_refused_by_an_older_host() {
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = |calls: Arc<std::sync::atomic::AtomicUsize>| {
        let (host_io, plugin_io) = tokio::io::duplex(64 * 1024);
        let plugin =
            Plugin::new("gw", "1.0")
                .device_type(DeviceType::new("gateway", Role::Device, move |_| Ok(Gateway(calls.clone()))));
        let (plugin_read, plugin_write) = tokio::io::split(plugin_io);
        tokio::spawn(plugin.serve(plugin_read, plugin_write));
        let (host_read, host_write) = tokio::io::split(host_io);
        peer::start(host_read, host_write, Arc::new(peer::OnlyCalls), PeerConfig::new("gw"))
    };
    let old = InitializeParams {
        protocol_versions: vec![vitro_protocol::ProtocolVersion::new(1, 0)],
        ..init_params()
    };
    match start(calls.clone()).request::<Initialize>(&old, T).await {
        Err(CallError::Remote(e)) => {
            assert_eq!(e.kind(), ErrorKind::VersionMismatch);
            assert!(
                e.message.contains("needs protocol 1.1 (its device types use the `server-boot` hook)"),
                "{}",
                e.message
            );
        }
        other => panic!("expected version-mismatch, got {other:?}"),
    }
    let host = start(calls.clone());
    let info = host.request::<Initialize>(&init_params(), T).await.unwrap();
    assert_eq!(info.device_types[0].hooks, [Hook::ServerBoot, Hook::DeviceConfigure]);
    let create = DeviceCreateParams {
        name: "g".into(),
        type_name: "gateway".into(),
        config: json!({}),
        console_log_dir: None,
        console_log_stream: false,
    };
    host.request::<DeviceCreate>(&create, T).await.unwrap();
    for hook in [Hook::ServerBoot, Hook::DeviceConfigure] {
        host.request::<DeviceHook>(&DeviceHookParams { device: "g".into(), hook, env_req: None }, T)
            .await
            .unwrap();
    }
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 11);
}
