//! The runtime behind a served plugin: the lifecycle state machine (refusing early, duplicate and
//! late calls), the handshake's answer, and dispatch of every request to devices and hooks.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use serde_json::value::RawValue;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use vitro_protocol::methods::*;
use vitro_protocol::types::*;
use vitro_protocol::{negotiate, ErrorKind, NotificationMethod, RequestMethod, RpcError};

use crate::device::{Context, Device, DeviceSpec};
use crate::host::Host;
use crate::logging::LogLink;
use crate::peer::{to_raw, BoxFuture, Handler, IncomingRequest, PeerHandle};
use crate::plugin::Plugin;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Uninitialized,
    Running,
    ShutDown,
}

pub(crate) struct Runtime {
    pub(crate) plugin: Plugin,
    pub(crate) state: Mutex<State>,
    pub(crate) devices: Mutex<HashMap<String, Arc<dyn Device>>>,
    pub(crate) exit: CancellationToken,
    pub(crate) link: Arc<LogLink>,
    #[cfg(feature = "console")]
    pub(crate) consoles: Arc<crate::console_host::Consoles>,
}

impl Handler for Runtime {
    fn request(&self, request: IncomingRequest) -> BoxFuture<Result<Box<RawValue>, RpcError>> {
        let state = *self.state.lock();
        let method = request.method.as_str();
        let refusal = match (state, method) {
            (State::Uninitialized, Initialize::METHOD) => None,
            (State::Uninitialized, _) => Some(format!("`{method}` before `initialize`")),
            (_, Initialize::METHOD) => Some("`initialize` was already answered".to_owned()),
            (State::ShutDown, _) => Some(format!("`{method}` after `shutdown`")),
            (State::Running, _) => None,
        };
        if let Some(message) = refusal {
            return Box::pin(async move { Err(RpcError::new(ErrorKind::InvalidState, message)) });
        }
        match method {
            Initialize::METHOD => {
                let reply =
                    request.params::<Initialize>().and_then(|params| self.initialize(params, &request.peer));
                Box::pin(async move { reply.and_then(|r| to_raw(&r)) })
            }
            Shutdown::METHOD => {
                *self.state.lock() = State::ShutDown;
                Box::pin(async { to_raw(&Empty {}) })
            }
            DeviceCreate::METHOD => {
                let reply = request.params::<DeviceCreate>().and_then(|p| self.create(p, &request.peer));
                Box::pin(async move { reply.and_then(|()| to_raw(&Empty {})) })
            }
            DeviceHook::METHOD => self.hook(request),
            DeviceCall::METHOD => self.call(request),
            DeviceConsoles::METHOD
            | ConsoleOpen::METHOD
            | ConsoleClose::METHOD
            | ConsoleWrite::METHOD
            | ConsoleMarker::METHOD => self.console_request(request),
            _ => self.plugin_hook(request),
        }
    }

    fn notification(&self, _peer: &PeerHandle, method: &str, _params: Box<RawValue>) {
        match method {
            Initialized::METHOD => {}
            Exit::METHOD => self.exit.cancel(),
            other => tracing::debug!("ignored notification `{other}`"),
        }
    }
}

impl Runtime {
    fn initialize(&self, params: InitializeParams, peer: &PeerHandle) -> Result<InitializeResult, RpcError> {
        let version = negotiate(&params.protocol_versions, &self.plugin.versions).map_err(|e| {
            RpcError::new(ErrorKind::VersionMismatch, e.to_string())
                .with_details(serde_json::json!({ "host": e.host, "plugin": e.plugin }))
        })?;
        // The first declared hook of the newest version, if the negotiated one is older.
        let hooks = self.plugin.types.iter().flat_map(|t| t.info.hooks.iter().copied());
        let newest = hooks.reduce(|a, b| if b.since() > a.since() { b } else { a });
        if let Some(hook) = newest.filter(|h| h.since() > version) {
            return Err(RpcError::new(
                ErrorKind::VersionMismatch,
                format!(
                    "plugin {} needs protocol {} (its device types use the `{}` hook), and the host speaks {version} at most; upgrade vitro",
                    self.plugin.info.name,
                    hook.since(),
                    hook.name()
                ),
            ));
        }
        self.link.connect(peer.clone(), params.log_level);
        *self.state.lock() = State::Running;
        let mut capabilities = self.plugin.capabilities.clone();
        let shuts_down = self.plugin.types.iter().any(|t| t.info.hooks.contains(&Hook::Shutdown));
        if shuts_down && !capabilities.contains(&Capability::DeviceShutdown) {
            capabilities.push(Capability::DeviceShutdown);
        }
        Ok(InitializeResult {
            protocol_version: version,
            plugin: self.plugin.info.clone(),
            device_types: self.plugin.types.iter().map(|t| t.info.clone()).collect(),
            capabilities,
            cli_args: self.plugin.cli_args.clone(),
            max_concurrency: self.plugin.max_concurrency,
        })
    }

    fn create(&self, params: DeviceCreateParams, peer: &PeerHandle) -> Result<(), RpcError> {
        let Some(device_type) = self.plugin.types.iter().find(|t| t.info.type_name == params.type_name)
        else {
            let known: Vec<&str> = self.plugin.types.iter().map(|t| t.info.type_name.as_str()).collect();
            return Err(RpcError::new(
                ErrorKind::UnknownDeviceType,
                format!(
                    "plugin {} has no device type `{}` (it has: {})",
                    self.plugin.info.name,
                    params.type_name,
                    known.join(", ")
                ),
            ));
        };
        if self.devices.lock().contains_key(&params.name) {
            return Err(RpcError::new(
                ErrorKind::InvalidState,
                format!("device {} already exists", params.name),
            ));
        }
        let spec = DeviceSpec {
            name: params.name.clone(),
            config: params.config,
            host: Host::new(peer.clone()),
            console_log_dir: params.console_log_dir.map(std::path::PathBuf::from),
        };
        let device = (device_type.factory)(spec)?;
        #[cfg(feature = "console")]
        if params.console_log_stream {
            self.consoles.stream_all(&params.name, peer.clone());
        }
        self.devices.lock().insert(params.name, device);
        Ok(())
    }

    fn device(&self, name: &str) -> Result<Arc<dyn Device>, RpcError> {
        self.devices.lock().get(name).cloned().ok_or_else(|| {
            RpcError::new(ErrorKind::UnknownDevice, format!("no device named {name} in this plugin"))
        })
    }

    #[cfg(feature = "console")]
    fn console_request(&self, request: IncomingRequest) -> BoxFuture<Result<Box<RawValue>, RpcError>> {
        let consoles = self.consoles.clone();
        Box::pin(async move {
            match request.method.as_str() {
                DeviceConsoles::METHOD => {
                    let device = request.params::<DeviceConsoles>()?.device;
                    to_raw(&ConsoleList { consoles: consoles.names(&device) })
                }
                ConsoleOpen::METHOD => {
                    consoles.open(&request.params::<ConsoleOpen>()?, &request.peer)?;
                    to_raw(&Empty {})
                }
                ConsoleClose::METHOD => {
                    consoles.close(&request.params::<ConsoleClose>()?);
                    to_raw(&Empty {})
                }
                ConsoleWrite::METHOD => {
                    consoles.write(&request.params::<ConsoleWrite>()?).await?;
                    to_raw(&Empty {})
                }
                _ => {
                    consoles.marker(&request.params::<ConsoleMarker>()?.text);
                    to_raw(&Empty {})
                }
            }
        })
    }

    /// Without the `console` feature a plugin has no consoles.
    #[cfg(not(feature = "console"))]
    fn console_request(&self, request: IncomingRequest) -> BoxFuture<Result<Box<RawValue>, RpcError>> {
        Box::pin(async move {
            match request.method.as_str() {
                DeviceConsoles::METHOD => to_raw(&ConsoleList::default()),
                ConsoleMarker::METHOD => to_raw(&Empty {}),
                _ => Err(RpcError::new(ErrorKind::UnknownDevice, "this plugin has no consoles")),
            }
        })
    }

    fn hook(&self, request: IncomingRequest) -> BoxFuture<Result<Box<RawValue>, RpcError>> {
        let found = request.params::<DeviceHook>().and_then(|p| {
            let ctx = self.context(&request, p.device.clone());
            Ok((self.device(&p.device)?, p, ctx))
        });
        Box::pin(async move {
            let (device, params, ctx) = found?;
            let env_req = params.env_req.unwrap_or(Value::Null);
            match params.hook {
                Hook::Validate => device.validate(&ctx).await,
                Hook::Boot => device.boot(&ctx).await,
                Hook::Configure => device.configure(&ctx).await,
                Hook::ServerBoot => device.server_boot(&ctx).await,
                Hook::ServerConfigure => device.server_configure(&ctx).await,
                Hook::DeviceBoot => device.device_boot(&ctx).await,
                Hook::DeviceConfigure => device.device_configure(&ctx).await,
                Hook::AttachedBoot => device.attached_boot(&ctx).await,
                Hook::AttachedConfigure => device.attached_configure(&ctx).await,
                Hook::SkipBoot => device.skip_boot(&ctx).await,
                Hook::ContingencyCheck => device.contingency_check(&ctx, &env_req).await,
                Hook::Shutdown => device.shutdown(&ctx).await,
                _ => return Err(RpcError::new(ErrorKind::MethodNotFound, "unknown hook")),
            }?;
            to_raw(&Empty {})
        })
    }

    fn call(&self, request: IncomingRequest) -> BoxFuture<Result<Box<RawValue>, RpcError>> {
        let found = request.params::<DeviceCall>().and_then(|p| {
            let ctx = self.context(&request, p.device.clone());
            Ok((self.device(&p.device)?, p, ctx))
        });
        Box::pin(async move {
            let (device, params, ctx) = found?;
            let result = device.call(&ctx, &params.method, params.params).await?;
            to_raw(&result)
        })
    }

    fn plugin_hook(&self, request: IncomingRequest) -> BoxFuture<Result<Box<RawValue>, RpcError>> {
        let hooks = self.plugin.hooks.clone();
        let host = Host::new(request.peer.clone());
        Box::pin(async move {
            match request.method.as_str() {
                PluginReserve::METHOD => {
                    to_raw(&hooks.reserve(&host, request.params::<PluginReserve>()?).await?)
                }
                PluginParseConfig::METHOD => {
                    to_raw(&hooks.parse_config(&host, request.params::<PluginParseConfig>()?).await?)
                }
                PluginSetupEnv::METHOD => {
                    hooks.setup_env(&host, request.params::<PluginSetupEnv>()?).await?;
                    to_raw(&Empty {})
                }
                PluginPostSetup::METHOD => {
                    hooks.post_setup(&host, request.params::<PluginPostSetup>()?).await?;
                    to_raw(&Empty {})
                }
                PluginRelease::METHOD => {
                    hooks.release(&host, request.params::<PluginRelease>()?).await?;
                    to_raw(&Empty {})
                }
                other => Err(RpcError::new(ErrorKind::MethodNotFound, format!("no method `{other}`"))),
            }
        })
    }
}

impl Runtime {
    fn context(&self, request: &IncomingRequest, device: String) -> Context {
        Context {
            device,
            host: Host::new(request.peer.clone()),
            cancel: request.cancel.clone(),
            #[cfg(feature = "console")]
            consoles: self.consoles.clone(),
        }
    }
}
