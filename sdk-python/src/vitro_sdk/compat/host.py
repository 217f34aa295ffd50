"""``vitro-plugin-pyvitro``: a plugin on our protocol that hosts the installed Python Vitro 0.8
plugins unchanged. Their plugin-level hooks answer our capabilities; their device types become
ours (see :mod:`.devices`)."""

from __future__ import annotations

import argparse
import asyncio
import functools
import inspect
import logging
import sys
from typing import TYPE_CHECKING, Any

from vitro.devices.base_devices import VitroDevice

from ..errors import DeviceError
from ..plugin import Plugin, PluginHooks, claim_stdout
from .devices import _failure, device_class
from .loader import HostedPlugins
from .state import HostState

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..messages.protocol import Capability, DeploymentStatus, HostArgs, PatchOperation
    from ..plugin import Host

_LOGGER = logging.getLogger("vitro_sdk.pyvitro")
#: The protocol version whose phase hooks (`server-boot`...) hosted devices need.
NEEDS = (1, 1)


class HostedHooks(PluginHooks):
    """The hosted plugins' core hooks, as our plugin-level hooks."""

    def __init__(self, state: HostState) -> None:
        self.state = state
        super().__init__()
        # The hosted plugins' flags are known only now, so this instance sets what is a class
        # attribute for hand-written plugins.
        self.cli_args = state.plugins.cli_args()  # type: ignore[misc]

    @property
    def host(self) -> Host | None:
        return self.state.host

    @host.setter
    def host(self, host: Host | None) -> None:
        self.state.host = host

    def capabilities(self) -> list[Capability]:
        found: list[Capability] = ["configure", "env-setup", "post-setup", "release"]
        if self.state.plugins.implements("vitro_reserve_devices"):
            found.append("reservation")
        if self.state.plugins.implements("vitro_parse_config"):
            found.append("config-parsing")
        if self.cli_args:
            found.append("cli-args")
        return found

    async def _run(self, name: str, fn: Callable[[], Any]) -> Any:  # noqa: ANN401
        """A core hook through pluggy, in a worker thread, one at a time; a coroutine it returns
        is awaited."""
        async with self.state.sync_lock:
            try:
                result = await asyncio.to_thread(fn)
                if inspect.isawaitable(result):
                    result = await result
            except DeviceError:
                raise
            except Exception as e:
                raise _failure(name, e) from e
        return result

    async def configure(self, args: HostArgs, options: dict[str, Any]) -> None:
        for problem in self.state.plugins.problems:
            _LOGGER.warning("%s", problem)
        cmdline_args = self.state.parse_args(args, options)
        hook = self.state.plugin_manager.hook
        await self._run(
            "vitro_configure",
            lambda: hook.vitro_configure(cmdline_args=cmdline_args, plugin_manager=self.state.plugin_manager),
        )

    async def reserve(self, board_name: str, options: dict[str, Any]) -> Any:  # noqa: ANN401
        hook = self.state.plugin_manager.hook
        inventory = await self._run(
            "vitro_reserve_devices",
            lambda: hook.vitro_reserve_devices(
                cmdline_args=self.state.cmdline_args, plugin_manager=self.state.plugin_manager
            ),
        )
        if not isinstance(inventory, dict):
            raise DeviceError(
                f"vitro_reserve_devices returned a {type(inventory).__name__}, not the board's inventory dict"
            )
        return inventory

    async def parse_config(
        self,
        devices: list[Any],
        options: dict[str, Any],
        env: dict[str, Any] | None = None,
        inventory: dict[str, Any] | None = None,
    ) -> list[PatchOperation]:
        hook = self.state.plugin_manager.hook
        config = await self._run(
            "vitro_parse_config",
            lambda: hook.vitro_parse_config(
                cmdline_args=self.state.cmdline_args, inventory_config=inventory or {}, env_config=env or {}
            ),
        )
        from vitro.libraries.vitro_config import VitroConfig

        if not isinstance(config, VitroConfig):
            raise DeviceError(f"vitro_parse_config returned a {type(config).__name__}, not a VitroConfig")
        self.state.parsed_config = config
        return [{"op": "replace", "path": "", "value": list(config.get_devices_config())}]

    async def setup_env(self, options: dict[str, Any], console_log_dir: str | None) -> None:
        await self.state.ready()
        hook = self.state.plugin_manager.hook
        await self._run(
            "vitro_setup_env",
            lambda: hook.vitro_setup_env(
                config=self.state.config_for("vitro_setup_env"),
                cmdline_args=self.state.cmdline_args,
                plugin_manager=self.state.plugin_manager,
                device_manager=self.state.device_manager,
            ),
        )

    async def post_setup(self, options: dict[str, Any], console_log_dir: str | None) -> None:
        hook = self.state.plugin_manager.hook
        await self._run(
            "vitro_post_setup_env",
            lambda: hook.vitro_post_setup_env(
                cmdline_args=self.state.cmdline_args, device_manager=self.state.device_manager
            ),
        )

    async def release(self, status: DeploymentStatus, error: str | None) -> None:
        deployment_status: dict[str, Any] = {"status": "success"}
        if status != "success":
            deployment_status = {"status": "failed", "exception": RuntimeError(error or status)}
        hook = self.state.plugin_manager.hook
        # The devices were shut down one by one; the plugins' own shutdown hooks run now, before
        # the release, as Python Vitro's core does it.
        plugin_level = [
            impl
            for impl in hook.vitro_shutdown_device.get_hookimpls()
            if not isinstance(impl.plugin, VitroDevice)
        ]
        for impl in reversed(plugin_level):
            await self._run("vitro_shutdown_device", functools.partial(self.state.call_impl, impl))
        await self._run(
            "vitro_release_devices",
            lambda: hook.vitro_release_devices(
                config=self.state.config_for("vitro_release_devices"),
                cmdline_args=self.state.cmdline_args,
                plugin_manager=self.state.plugin_manager,
                deployment_status=deployment_status,
                device_manager=self.state.device_manager,
            ),
        )


def build(only: list[str]) -> Plugin:
    """The host plugin for the distributions in ``only`` (every one when empty)."""
    from importlib.metadata import version

    plugins = HostedPlugins(only)
    state = HostState(plugins)
    name = "pyvitro" if not only else "pyvitro." + "+".join(only)
    plugin = Plugin(name, f"{_sdk_version()} (vitro {version('vitro')})")
    hooks = HostedHooks(state)
    plugin.hooks(hooks)
    for hosted in plugins.types.values():
        plugin.device_type(hosted.name, device_class(hosted, state))
    return plugin


def _sdk_version() -> str:
    from ..plugin import SDK

    return SDK.rsplit(" ", 1)[-1]


def main(argv: list[str] | None = None) -> None:
    """The console script."""
    parser = argparse.ArgumentParser(
        "vitro-plugin-pyvitro",
        description="Hosts the installed Python Vitro 0.8 plugins (the `vitro` entry-point group) as one "
        "Vitro plugin; vitro starts it.",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="DIST[,DIST...]",
        help="host only these distributions (repeatable); give vitro one --plugin per group to run each "
        "group in a process of its own",
    )
    options = parser.parse_args(argv)
    only = [name.strip() for group in options.only for name in group.split(",") if name.strip()]
    # Before any hosted plugin is imported: what they print at import time goes to stderr.
    claim_stdout()
    try:
        plugin = build(only)
    except Exception as e:
        print(
            f"vitro-plugin-pyvitro: loading the Python Vitro plugins failed: {type(e).__name__}: {e}",
            file=sys.stderr,
        )
        sys.exit(1)
    plugin.protocol_versions = [NEEDS]
    plugin.min_protocol_version = NEEDS
    plugin.run()
