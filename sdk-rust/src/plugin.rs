//! The plugin runtime: registration, the handshake, the lifecycle state machine and dispatch.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use serde_json::value::RawValue;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;
use vitro_protocol::methods::*;
use vitro_protocol::types::*;
use vitro_protocol::{
    negotiate, ErrorKind, NotificationMethod, ProtocolVersion, RequestMethod, RpcError, PROTOCOL_VERSION,
};

use crate::device::{Context, Device, DeviceSpec, NoHooks, PluginHooks};
use crate::error::DriverResult;
use crate::host::Host;
use crate::logging::{ForwardLayer, LogLink};
use crate::peer::{self, to_raw, BoxFuture, Handler, IncomingRequest, PeerConfig, PeerHandle};

type Factory = dyn Fn(DeviceSpec) -> DriverResult<Arc<dyn Device>> + Send + Sync;

/// A device type: its handshake entry and the factory that builds its instances.
pub struct DeviceType {
    info: DeviceTypeInfo,
    factory: Box<Factory>,
}

impl DeviceType {
    /// A type named `type_name` (the inventory's `type`) in boot role `role`, built by `factory`.
    pub fn new<D, F>(type_name: &str, role: Role, factory: F) -> Self
    where
        D: Device,
        F: Fn(DeviceSpec) -> DriverResult<D> + Send + Sync + 'static,
    {
        Self {
            info: DeviceTypeInfo {
                type_name: type_name.to_owned(),
                role,
                hooks: D::hooks().to_vec(),
                methods: Vec::new(),
                config_schema: None,
                client: None,
            },
            factory: Box::new(move |spec| Ok(Arc::new(factory(spec)?) as Arc<dyn Device>)),
        }
    }

    /// Declares a custom method, answered by [`Device::call`].
    pub fn method(mut self, name: &str, description: &str) -> Self {
        self.info.methods.push(MethodInfo { name: name.to_owned(), description: description.to_owned() });
        self
    }

    /// Publishes a JSON Schema of the device's config entry.
    pub fn config_schema(mut self, schema: Value) -> Self {
        self.info.config_schema = Some(schema);
        self
    }

    /// Marks devices of this type as LAN or Wi-Fi clients.
    pub fn client(mut self, kind: ClientKind) -> Self {
        self.info.client = Some(kind);
        self
    }
}

/// A plugin: its name, version, device types and hooks. Build one, then [`Plugin::run`] it.
pub struct Plugin {
    info: PluginInfo,
    types: Vec<DeviceType>,
    hooks: Arc<dyn PluginHooks>,
    capabilities: Vec<Capability>,
    cli_args: Vec<CliArg>,
    max_concurrency: Option<u32>,
    versions: Vec<ProtocolVersion>,
}

impl Plugin {
    /// A plugin named `name` (`hello` for `vitro-plugin-hello`) at `version`.
    pub fn new(name: &str, version: &str) -> Self {
        Self {
            info: PluginInfo {
                name: name.to_owned(),
                version: version.to_owned(),
                sdk: concat!("vitro-sdk-rust ", env!("CARGO_PKG_VERSION")).to_owned(),
            },
            types: Vec::new(),
            hooks: Arc::new(NoHooks),
            capabilities: Vec::new(),
            cli_args: Vec::new(),
            max_concurrency: None,
            versions: vec![PROTOCOL_VERSION],
        }
    }

    /// Registers a device type.
    pub fn device_type(mut self, device_type: DeviceType) -> Self {
        self.types.push(device_type);
        self
    }

    /// Sets the plugin-level hooks and declares which of them it implements.
    pub fn hooks(mut self, hooks: impl PluginHooks, capabilities: &[Capability]) -> Self {
        self.hooks = Arc::new(hooks);
        self.capabilities = capabilities.to_vec();
        self
    }

    /// Adds a `vitro` command-line flag; its value arrives in the hooks' `options`.
    pub fn cli_arg(mut self, arg: CliArg) -> Self {
        if !self.capabilities.contains(&Capability::CliArgs) {
            self.capabilities.push(Capability::CliArgs);
        }
        self.cli_args.push(arg);
        self
    }

    /// Asks the host to run at most `n` of this plugin's hooks at once.
    pub fn max_concurrency(mut self, n: u32) -> Self {
        self.max_concurrency = Some(n);
        self
    }

    /// Overrides the protocol versions this plugin claims to speak (for testing version skew).
    pub fn protocol_versions(mut self, versions: Vec<ProtocolVersion>) -> Self {
        self.versions = versions;
        self
    }

    /// Runs the plugin on stdin/stdout until the host says `exit` or goes away. Refuses to start
    /// when not spawned by a host (no `VITRO_PLUGIN` in the environment).
    pub fn run(self) -> ExitCode {
        if std::env::var_os(vitro_protocol::PLUGIN_ENV_MARKER).is_none() {
            eprintln!(
                "vitro-plugin-{name} {version} is a Vitro plugin: the `vitro` command starts it and talks to it \
                 over stdin/stdout (JSON-RPC, see protocol/README.md). Put it on PATH and run \
                 `vitro plugins list`; to start it by hand anyway, set {marker}=1.",
                name = self.info.name,
                version = self.info.version,
                marker = vitro_protocol::PLUGIN_ENV_MARKER,
            );
            return ExitCode::from(2);
        }
        let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                eprintln!("vitro-plugin-{}: cannot start the async runtime: {e}", self.info.name);
                return ExitCode::FAILURE;
            }
        };
        let link = Arc::new(LogLink::default());
        install_log_forwarding(link.clone());
        runtime.block_on(async move {
            let io = match io_runtime() {
                Ok(io) => io,
                Err(e) => {
                    eprintln!("vitro-plugin-{}: cannot start the I/O thread: {e}", self.info.name);
                    return ExitCode::FAILURE;
                }
            };
            // stdin/stdout register with the I/O thread's reactor, not the workers': a worker
            // blocked by a driver must not keep the protocol's readiness events from arriving.
            let taken = {
                let _reactor = io.enter();
                crate::stdio::take()
            };
            let stdio = match taken {
                Ok(stdio) => stdio,
                Err(e) => {
                    eprintln!("vitro-plugin-{}: cannot take stdin/stdout: {e}", self.info.name);
                    return ExitCode::FAILURE;
                }
            };
            self.serve_with(stdio.input, stdio.output, link, Some(io)).await
        })
    }

    /// Serves the protocol on any reader/writer pair (tests run host and plugin in one process).
    pub async fn serve<R, W>(self, reader: R, writer: W) -> ExitCode
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        self.serve_with(reader, writer, Arc::new(LogLink::default()), None).await
    }

    async fn serve_with<R, W>(
        self,
        reader: R,
        writer: W,
        link: Arc<LogLink>,
        io: Option<tokio::runtime::Handle>,
    ) -> ExitCode
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let exit = CancellationToken::new();
        let runtime = Arc::new(Runtime {
            plugin: self,
            state: Mutex::new(State::Uninitialized),
            devices: Mutex::new(HashMap::new()),
            exit: exit.clone(),
            link,
            #[cfg(feature = "console")]
            consoles: Arc::default(),
        });
        let name = format!("host of {}", runtime.plugin.info.name);
        let mut config = PeerConfig::new(name);
        config.answer_inline = false;
        config.io_runtime = io;
        let peer = peer::start(reader, writer, runtime.clone(), config);
        tokio::select! {
            () = exit.cancelled() => {}
            () = peer.disconnected() => {}
        }
        let clean = *lock(&runtime.state) == State::ShutDown && exit.is_cancelled();
        peer.close(RpcError::new(ErrorKind::PeerGone, "the plugin is exiting"));
        peer.output_done().await;
        if clean {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

/// A single-thread runtime on a thread of its own for the protocol's reader and writer, so a
/// driver that blocks every worker thread still gets its pings answered.
fn io_runtime() -> std::io::Result<tokio::runtime::Handle> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new().name("vitro-protocol-io".into()).spawn(move || {
        match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => {
                let _ = tx.send(Ok(runtime.handle().clone()));
                runtime.block_on(std::future::pending::<()>());
            }
            Err(e) => {
                let _ = tx.send(Err(e));
            }
        }
    })?;
    rx.recv().map_err(std::io::Error::other)?
}

fn install_log_forwarding(link: Arc<LogLink>) {
    use tracing_subscriber::layer::SubscriberExt;
    let subscriber = tracing_subscriber::registry().with(ForwardLayer { link });
    let _ = tracing::subscriber::set_global_default(subscriber);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Uninitialized,
    Running,
    ShutDown,
}

struct Runtime {
    plugin: Plugin,
    state: Mutex<State>,
    devices: Mutex<HashMap<String, Arc<dyn Device>>>,
    exit: CancellationToken,
    link: Arc<LogLink>,
    #[cfg(feature = "console")]
    consoles: Arc<crate::console_host::Consoles>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Handler for Runtime {
    fn request(&self, request: IncomingRequest) -> BoxFuture<Result<Box<RawValue>, RpcError>> {
        let state = *lock(&self.state);
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
                *lock(&self.state) = State::ShutDown;
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
        self.link.connect(peer.clone(), params.log_level);
        *lock(&self.state) = State::Running;
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
        if lock(&self.devices).contains_key(&params.name) {
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
        lock(&self.devices).insert(params.name, device);
        Ok(())
    }

    fn device(&self, name: &str) -> Result<Arc<dyn Device>, RpcError> {
        lock(&self.devices).get(name).cloned().ok_or_else(|| {
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
