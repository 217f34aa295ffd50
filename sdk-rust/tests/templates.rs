//! Generated template traits: a driver that implements `power_v1::Power` declares the template
//! and its methods, and `device/call`s reach the trait with typed params, named or positional.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use vitro_protocol::methods::{DeviceCall, DeviceCreate, Initialize};
use vitro_protocol::types::*;
use vitro_protocol::{ErrorKind, PROTOCOL_VERSION};
use vitro_sdk::peer::{self, CallError, PeerConfig};
use vitro_sdk::templates::power_v1::{self, Power, PowerCycleParams};
use vitro_sdk::{Context, Device, DeviceType, DriverResult, Plugin};

/// An outlet that remembers what it was told.
#[derive(Default)]
struct Outlet {
    log: Mutex<Vec<String>>,
}

#[vitro_sdk::async_trait]
impl Power for Outlet {
    async fn power_on(&self, _ctx: &Context) -> DriverResult<bool> {
        self.log.lock().unwrap().push("on".into());
        Ok(true)
    }
    async fn power_off(&self, _ctx: &Context) -> DriverResult<bool> {
        self.log.lock().unwrap().push("off".into());
        Ok(true)
    }
    async fn power_cycle(&self, _ctx: &Context, params: PowerCycleParams) -> DriverResult<bool> {
        self.log.lock().unwrap().push(format!("cycle {:?}", params.off_seconds));
        Ok(true)
    }
}

#[vitro_sdk::device(routes(power_v1))]
impl Device for Outlet {
    async fn call(
        &self,
        _ctx: &Context,
        method: &str,
        _params: serde_json::Value,
    ) -> DriverResult<serde_json::Value> {
        match method {
            "log" => Ok(json!(self.log.lock().unwrap().clone())),
            other => Err(vitro_sdk::DriverError::new(ErrorKind::MethodNotFound, other)),
        }
    }
}

#[tokio::test]
async fn a_template_trait_is_declared_and_its_calls_are_routed() {
    let (host_io, plugin_io) = tokio::io::duplex(64 * 1024);
    let plugin = Plugin::new("strip", "1.0").device_type(
        DeviceType::new("outlet", Role::Server, |_| Ok(Outlet::default()))
            .template(power_v1::declaration::<Outlet>())
            .method("log", "What the outlet was told"),
    );
    let (plugin_read, plugin_write) = tokio::io::split(plugin_io);
    tokio::spawn(plugin.serve(plugin_read, plugin_write));
    let (host_read, host_write) = tokio::io::split(host_io);
    let host = peer::start(host_read, host_write, Arc::new(peer::OnlyCalls), PeerConfig::new("strip"));
    let t = Some(Duration::from_secs(5));
    let init = InitializeParams {
        protocol_versions: vec![PROTOCOL_VERSION],
        host: HostInfo { name: "test".into(), version: "0".into() },
        limits: Limits::default(),
        log_level: LogLevel::Info,
    };
    let info = host.request::<Initialize>(&init, t).await.unwrap();
    let declared = &info.device_types[0];
    assert_eq!(declared.implements, ["power@1"]);
    let names: Vec<&str> = declared.methods.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["power_cycle", "power_off", "power_on", "log"], "required ones, not get_power_state");
    let create = DeviceCreateParams {
        name: "o".into(),
        type_name: "outlet".into(),
        config: json!({}),
        console_log_dir: None,
        console_log_stream: false,
    };
    host.request::<DeviceCreate>(&create, t).await.unwrap();
    let call = |method: &str, params| DeviceCallParams {
        device: "o".into(),
        method: method.into(),
        params,
        kwargs: None,
    };
    assert_eq!(host.request::<DeviceCall>(&call("power_on", json!({})), t).await.unwrap().0, json!(true));
    host.request::<DeviceCall>(&call("power_cycle", json!({"off_seconds": 0.5})), t).await.unwrap();
    host.request::<DeviceCall>(&call("power_cycle", json!([1])), t).await.unwrap();
    let log = host.request::<DeviceCall>(&call("log", json!(null)), t).await.unwrap().0;
    assert_eq!(log, json!(["on", "cycle Some(0.5)", "cycle Some(1.0)"]));
    let kind = |r: Result<DeviceCallResult, CallError>| match r {
        Err(CallError::Remote(e)) => e.kind(),
        other => panic!("expected an error, got {other:?}"),
    };
    let bad = host.request::<DeviceCall>(&call("power_cycle", json!({"off_seconds": "soon"})), t).await;
    assert_eq!(kind(bad), ErrorKind::InvalidParams);
    let unknown = host.request::<DeviceCall>(&call("power_on", json!({"force": true})), t).await;
    assert_eq!(kind(unknown), ErrorKind::InvalidParams, "an unknown param is refused");
    let optional = host.request::<DeviceCall>(&call("get_power_state", json!({})), t).await;
    assert_eq!(kind(optional), ErrorKind::MethodNotFound, "an optional method it lacks");
}
