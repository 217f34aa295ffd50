"""What the hosted plugins of one process share, as in a Python Vitro run: the plugin manager,
the ``cmdline_args`` namespace, the ``VitroConfig`` and the one ``DeviceManager``."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from vitro.devices.base_devices import VitroDevice
from vitro.libraries.device_manager import DeviceManager

from ..errors import DeviceError
from .proxies import ProxyDeviceManager

if TYPE_CHECKING:
    import pluggy
    from vitro.libraries.vitro_config import VitroConfig

    from ..messages.protocol import HostArgs
    from ..messages.session import SessionConfig
    from ..plugin import Host
    from .loader import HostedPlugins


class HostState:
    """The Python Vitro world of this process."""

    def __init__(self, plugins: HostedPlugins) -> None:
        self.plugins = plugins
        self.cmdline_args = argparse.Namespace()
        #: The config hooks get: what a hosted ``vitro_parse_config`` returned, else one built
        #: from ``host/config`` when a hook first asks for it.
        self.parsed_config: VitroConfig | None = None
        self._found_config: SessionConfig | None = None
        self._device_manager: DeviceManager | None = None
        #: Caches of hook lookups, cleared when a device registers.
        self._twins: dict[str, bool] = {}
        self._impls: dict[str, dict[int, Any]] = {}
        self.host: Host | None = None
        #: Plain ``def`` hooks and methods run one at a time, as in Python Vitro's one thread.
        self.sync_lock = asyncio.Lock()
        self._config_lock = asyncio.Lock()

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        return self.plugins.plugin_manager

    def parse_args(self, args: HostArgs, options: dict[str, Any]) -> argparse.Namespace:
        """``cmdline_args`` as Python Vitro's parser makes it, from ``vitro``'s flags and the
        values of the hosted plugins' own flags."""
        argv = ["--env-config", args.get("env_config") or "-"]
        for flag, value in (
            ("--board-name", args.get("board_name")),
            ("--inventory-config", args.get("inventory_config")),
            ("--save-console-logs", args.get("save_console_logs")),
            ("--ignore-devices", ",".join(args.get("ignore_devices", []))),
        ):
            if value:
                argv += [flag, value]
        for flag, given in (
            ("--skip-boot", "skip_boot"),
            ("--skip-contingency-checks", "skip_contingency_checks"),
        ):
            if args.get(given):
                argv.append(flag)
        for name, value in options.items():
            if value is True:
                argv.append(f"--{name}")
            elif isinstance(value, str):
                argv += [f"--{name}", value]
        parser, _ = self.plugins.parser
        self.cmdline_args = parser.parse_args(argv)
        return self.cmdline_args

    def ensure_device_manager(self) -> None:
        """Creates the process's ``DeviceManager`` (Python Vitro allows one) on first use."""
        if self._device_manager is None:
            self._device_manager = ProxyDeviceManager(self.plugin_manager)

    @property
    def config(self) -> VitroConfig:
        """The ``VitroConfig`` hooks get (built on first use: importing its module is slow)."""
        if self.parsed_config is None:
            from vitro.libraries.vitro_config import VitroConfig

            found = self._found_config or {"devices": [], "env": {}, "inventory": {}}
            self.parsed_config = VitroConfig(found["devices"], found["env"], found["inventory"])
        return self.parsed_config

    def config_for(self, hook_name: str) -> VitroConfig | None:
        """The config for a core hook call, when one of its implementations takes it."""
        caller = getattr(self.plugin_manager.hook, hook_name)
        wanted = any("config" in impl.argnames for impl in caller.get_hookimpls())
        return self.config if wanted else None

    def registered(self) -> None:
        """A device was registered: hook lookups are computed again."""
        self._twins.clear()
        self._impls.clear()

    @property
    def device_manager(self) -> DeviceManager:
        self.ensure_device_manager()
        assert self._device_manager is not None
        return self._device_manager

    async def ready(self) -> None:
        """Fetches the deployment's config once (the first hook waits for it), and the devices
        of other processes, for lookups through ``device_manager``."""
        async with self._config_lock:
            if self.host is None:
                raise DeviceError("the host plugin is not initialised", "invalid-state")
            if self.parsed_config is None and self._found_config is None:
                self._found_config = await self.host.config()
            manager = self.device_manager
            if isinstance(manager, ProxyDeviceManager) and not manager.proxies_loaded:
                await manager.load_proxies(self.host)

    def all_have_twins(self, spec: str) -> bool:
        """Python Vitro's rule for a phase: run the ``_async`` twins (concurrently) only when the
        devices with the plain hook are exactly those with the twin."""
        if spec not in self._twins:
            devices = [p for _, p in self.plugin_manager.list_name_plugin() if isinstance(p, VitroDevice)]
            plain = {id(d) for d in devices if hasattr(d, spec)}
            twins = {id(d) for d in devices if hasattr(d, f"{spec}_async")}
            self._twins[spec] = plain == twins
        return self._twins[spec]

    def impl_of(self, instance: object, name: str) -> Any:  # noqa: ANN401
        """The pluggy hook implementation ``name`` of ``instance``, if it has one."""
        if name not in self._impls:
            caller = getattr(self.plugin_manager.hook, name, None)
            impls = caller.get_hookimpls() if caller is not None else []
            self._impls[name] = {id(impl.plugin): impl for impl in impls}
        return self._impls[name].get(id(instance))

    def call_impl(self, impl: Any, env_req: Any = None) -> Any:  # noqa: ANN401
        """Calls a hook implementation with the arguments it names, as pluggy does."""
        available = {
            "cmdline_args": self.cmdline_args,
            "device_manager": self.device_manager,
            "plugin_manager": self.plugin_manager,
            "env_req": env_req,
        }
        if "config" in impl.argnames:
            available["config"] = self.config
        return impl.function(*[available.get(name) for name in impl.argnames])
