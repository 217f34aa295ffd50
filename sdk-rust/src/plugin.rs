//! Building a plugin (its device types, hooks and flags) and serving it on stdio or any stream.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;

use parking_lot::Mutex;

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;
use vitro_protocol::types::*;
use vitro_protocol::{ErrorKind, ProtocolVersion, RpcError, PROTOCOL_VERSION};

use crate::device::{Device, DeviceSpec, NoHooks, PluginHooks};
use crate::error::DriverResult;
use crate::logging::{ForwardLayer, LogLink};
use crate::peer::{self, PeerConfig};
use crate::runtime::{Runtime, State};

type Factory = dyn Fn(DeviceSpec) -> DriverResult<Arc<dyn Device>> + Send + Sync;

/// A device type: its handshake entry and the factory that builds its instances.
pub struct DeviceType {
    pub(crate) info: DeviceTypeInfo,
    pub(crate) factory: Box<Factory>,
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
                classes: Vec::new(),
                implements: Vec::new(),
            },
            factory: Box::new(move |spec| Ok(Arc::new(factory(spec)?) as Arc<dyn Device>)),
        }
    }

    /// Declares a custom method, answered by [`Device::call`].
    pub fn method(mut self, name: &str, description: &str) -> Self {
        self.info.methods.push(MethodInfo {
            name: name.to_owned(),
            description: description.to_owned(),
            kind: MemberKind::Method,
        });
        self
    }

    /// Declares that the type implements a template (`"lan@1"`, see `protocol/templates/`);
    /// `vitro` checks at start that each of its required methods is declared with
    /// [`DeviceType::method`]. [`DeviceType::template`] does both for a generated template, and
    /// checks at compile time that the devices implement it; this is the unchecked way.
    pub fn implements(mut self, template: &str) -> Self {
        self.info.implements.push(template.to_owned());
        self
    }

    /// Declares a template of [`crate::templates`] (`lan_v1::declaration::<MyLan>()`, which only
    /// compiles when `MyLan` implements `Lan`) and its required methods (inherited ones
    /// included); declare the optional ones the type offers with [`DeviceType::method`]. Route
    /// their calls with `#[vitro_sdk::device(routes(lan_v1))]`.
    pub fn template(mut self, declaration: &crate::templates::Declaration) -> Self {
        self = self.implements(declaration.template);
        for (name, required, description) in declaration.methods {
            if *required && !self.info.methods.iter().any(|m| m.name == *name) {
                self = self.method(name, description);
            }
        }
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
    pub(crate) info: PluginInfo,
    pub(crate) types: Vec<DeviceType>,
    pub(crate) hooks: Arc<dyn PluginHooks>,
    pub(crate) capabilities: Vec<Capability>,
    pub(crate) cli_args: Vec<CliArg>,
    pub(crate) max_concurrency: Option<u32>,
    pub(crate) versions: Vec<ProtocolVersion>,
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
        let clean = *runtime.state.lock() == State::ShutDown && exit.is_cancelled();
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
