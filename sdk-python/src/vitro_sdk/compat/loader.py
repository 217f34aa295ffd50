"""Loading Python Vitro plugins as Python Vitro does: every distribution's entry points in the
``vitro`` group, registered with pluggy under the real ``vitro`` package's hookspecs; then what
they add (device types, flags) and what does not map onto ``vitro``'s protocol."""

from __future__ import annotations

import argparse
import functools
import importlib.metadata
import inspect
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import pluggy
from vitro.devices.base_devices import VitroDevice
from vitro.plugins.hookspecs import core as core_spec
from vitro.plugins.hookspecs import devices as device_spec

from vitro import PROJECT_NAME

from ..errors import DeviceError

if TYPE_CHECKING:
    from collections.abc import Collection

    from ..messages.protocol import CliArg, Hook, Role

_LOGGER = logging.getLogger(__name__)

#: Python Vitro's own distribution: its entry points (core, booting, no_reservation) are what
#: ``vitro`` itself replaces, so they are not run.
OWN_DISTRIBUTION = "vitro"

#: Device hookspec -> our hook. Each may also have an ``_async`` twin.
DEVICE_HOOKS: dict[str, Hook] = {
    "validate_device_requirements": "validate",
    "vitro_server_boot": "server-boot",
    "vitro_server_configure": "server-configure",
    "vitro_device_boot": "device-boot",
    "vitro_device_configure": "device-configure",
    "vitro_attached_device_boot": "attached-boot",
    "vitro_attached_device_configure": "attached-configure",
    "vitro_skip_boot": "skip-boot",
    "contingency_check": "contingency-check",
    "vitro_shutdown_device": "shutdown",
}

#: Plugin-level hooks that ``vitro`` runs itself and a hosted plugin cannot replace.
NOT_RUN = {
    "vitro_cmdline_parse": "vitro parses its own command line",
    "vitro_register_devices": "vitro registers the devices itself (device_class(config, cmdline_args))",
}


@dataclass
class HostedType:
    """A device type a hosted plugin adds through ``vitro_add_devices``."""

    name: str
    cls: type[VitroDevice]
    distribution: str
    #: Our hooks it implements, by the Python Vitro hook names found on the class.
    hooks: dict[Hook, list[str]] = field(default_factory=dict)

    @property
    def role(self) -> Role:
        """The role of its first boot or configure hook (server, device, attached)."""
        for hook in self.hooks:
            for role in ("server", "device", "attached"):
                if hook.startswith(f"{role}-"):
                    return role
        return "device"

    @property
    def classes(self) -> list[str]:
        """Qualified names of the class and its bases, for lookups by class in tests."""
        return [f"{c.__module__}.{c.__qualname__}" for c in self.cls.__mro__ if c is not object]


class HostedParser(argparse.ArgumentParser):
    """Python Vitro's command line, rebuilt from ``vitro``'s values: a bad value is an error for
    the host, not an exit."""

    def error(self, message: str) -> Any:  # noqa: ANN401 - argparse's signature says NoReturn
        raise DeviceError(f"the Python Vitro command line: {message}", "invalid-params")


def _hookimpl_names(cls: type) -> set[str]:
    """Names of the methods pluggy takes as hook implementations on instances of ``cls``."""
    names = set()
    for name in dir(cls):
        attr = inspect.getattr_static(cls, name, None)
        if inspect.isroutine(attr) and hasattr(attr, f"{PROJECT_NAME}_impl"):
            names.add(name)
    return names


class HostedPlugins:
    """The Python Vitro plugins of this process and their pluggy plugin manager."""

    def __init__(self, only: Collection[str] = ()) -> None:
        self.plugin_manager = pluggy.PluginManager(PROJECT_NAME)
        self.plugin_manager.add_hookspecs(core_spec)
        self.plugin_manager.add_hookspecs(device_spec)
        #: Distribution of each registered plugin, by plugin name.
        self.distributions: dict[str, str] = {}
        #: What does not map onto vitro's protocol, reported once at start.
        self.problems: list[str] = []
        wanted = {_normal(name) for name in only}
        found: set[str] = set()
        for dist in importlib.metadata.distributions():
            dist_name = dist.metadata["Name"] or ""
            if _normal(dist_name) == OWN_DISTRIBUTION:
                continue
            if wanted and _normal(dist_name) not in wanted:
                continue
            for entry in dist.entry_points:
                if entry.group != PROJECT_NAME or self.plugin_manager.has_plugin(entry.name):
                    continue
                found.add(_normal(dist_name))
                try:
                    loaded = entry.load()
                except Exception as e:
                    raise RuntimeError(f"{dist_name}: entry point {entry.value} does not load: {e}") from e
                self.plugin_manager.register(loaded, name=entry.name)
                self.distributions[entry.name] = dist_name
        for missing in sorted(wanted - found):
            self.problems.append(
                f"--only {missing}: no installed distribution of that name has vitro entry points"
            )
        self.plugin_manager.hook.vitro_add_hookspecs(plugin_manager=self.plugin_manager)
        self.types = self._device_types()
        self._check_plugin_hooks()

    def _device_types(self) -> dict[str, HostedType]:
        types: dict[str, HostedType] = {}
        for impl in self.plugin_manager.hook.vitro_add_devices.get_hookimpls():
            added = cast("dict[str, Any]", impl.function() or {})
            for name, cls in added.items():
                dist = self.distributions.get(impl.plugin_name, impl.plugin_name)
                if not (isinstance(cls, type) and issubclass(cls, VitroDevice)):
                    self.problems.append(
                        f"{dist}: vitro_add_devices gives {name!r} a {type(cls).__name__}, "
                        "not a VitroDevice class"
                    )
                    continue
                if name in types:
                    self.problems.append(
                        f"{dist}: device type {name!r} is also added by {types[name].distribution}"
                    )
                    continue
                types[name] = HostedType(name, cls, dist, self._hooks_of(name, cls, dist))
        return types

    def _hooks_of(self, type_name: str, cls: type, dist: str) -> dict[Hook, list[str]]:
        found = _hookimpl_names(cls)
        hooks: dict[Hook, list[str]] = {}
        for spec, hook in DEVICE_HOOKS.items():
            names = [n for n in (spec, f"{spec}_async") if n in found]
            if names:
                hooks[hook] = names
            if spec in found and inspect.iscoroutinefunction(getattr(cls, spec)):
                self.problems.append(
                    f"{dist}: device type {type_name!r} defines {spec} as an async def; Python Vitro "
                    f"calls it without awaiting it, so, as there, it never runs (name it {spec}_async)"
                )
            if names == [f"{spec}_async"] and hook not in ("contingency-check", "shutdown"):
                self.problems.append(
                    f"{dist}: device type {type_name!r} implements only {spec}_async; Python Vitro runs an "
                    f"async twin only beside its plain hook ({spec}), so, as there, it never runs"
                )
        return hooks

    def _check_plugin_hooks(self) -> None:
        for name, plugin in self.plugin_manager.list_name_plugin():
            dist = self.distributions.get(name, name)
            for caller in self.plugin_manager.get_hookcallers(plugin) or []:
                for impl in caller.get_hookimpls():
                    if impl.plugin is not plugin:
                        continue
                    if impl.hookwrapper or impl.wrapper:
                        self.problems.append(
                            f"{dist}: {caller.name} is a hook wrapper; vitro runs the core hooks in its own "
                            "process, so nothing is there to wrap and it does not run"
                        )
                    elif caller.name in NOT_RUN:
                        self.problems.append(f"{dist}: {caller.name} does not run: {NOT_RUN[caller.name]}")

    def implements(self, hook_name: str) -> bool:
        """Whether a hosted plugin (not a device) implements the plugin-level hook ``hook_name``."""
        caller = getattr(self.plugin_manager.hook, hook_name, None)
        return caller is not None and any(
            not isinstance(impl.plugin, VitroDevice) and not (impl.hookwrapper or impl.wrapper)
            for impl in caller.get_hookimpls()
        )

    @functools.cached_property
    def parser(self) -> tuple[HostedParser, list[argparse.Action]]:
        """Python Vitro's parser: its core flags, then every hosted plugin's (their
        ``vitro_add_cmdline_args`` run once, as in Python Vitro); the parser and the hosted
        plugins' actions."""
        parser = HostedParser(PROJECT_NAME, add_help=False)
        add_core_flags(parser)
        before = len(parser._actions)  # argparse has no public list of its actions
        self.plugin_manager.hook.vitro_add_cmdline_args(argparser=parser)
        return parser, parser._actions[before:]

    def cli_args(self) -> list[CliArg]:
        """The hosted plugins' flags as ``vitro`` flags; the ones that cannot be are problems."""
        _, actions = self.parser
        declared: list[CliArg] = []
        for action in actions:
            long = next((o for o in action.option_strings if o.startswith("--")), None)
            if long is None:
                self.problems.append(
                    f"flag {'/'.join(action.option_strings) or action.dest}: vitro flags are long options "
                    "(--name); this one is not added"
                )
                continue
            switch = action.nargs == 0
            if not switch and action.nargs not in (None, "?"):
                self.problems.append(
                    f"flag {long}: nargs={action.nargs!r} is not supported (one value per flag)"
                )
                continue
            arg: CliArg = {"name": long[2:], "help": _help(action), "takes_value": not switch}
            if not switch and action.default not in (None, argparse.SUPPRESS):
                arg["default"] = str(action.default)
            declared.append(arg)
        return declared


def add_core_flags(parser: argparse.ArgumentParser) -> None:
    """Python Vitro 0.8.1's core flags (its ``vitro.plugins.core.vitro_add_cmdline_args``, which
    a test compares with these). Copied rather than called: importing that module costs a host
    process 150 ms (it pulls in jsonmerge, jsonschema and requests) that most deployments never
    need, and every group of hosted plugins is a process of its own."""
    parser.add_argument("--board-name", type=_non_empty, required=False, help="Board name")
    parser.add_argument(
        "--env-config", type=_non_empty, required=True, help="Environment JSON config file path"
    )
    parser.add_argument(
        "--inventory-config", type=_non_empty, required=False, help="Inventory JSON config file path"
    )
    parser.add_argument(
        "--legacy",
        action="store_true",
        help="allows for devices.<device> obj to be exposed (only for legacy use)",
    )
    parser.add_argument(
        "--skip-boot",
        action="store_true",
        help="Skips the booting process, all devices will be used as they are",
    )
    parser.add_argument(
        "--skip-contingency-checks", action="store_true", help="Skip contingency checks while running tests"
    )
    parser.add_argument("--save-console-logs", default="", help="Save the console logs at the give location")
    parser.add_argument(
        "--ignore-devices",
        default="",
        help="Ignore the given devices (names are comma separated). Useful when a device is incommunicado",
    )


def _non_empty(value: str) -> str:
    if not value:
        raise argparse.ArgumentTypeError("Argument value should not be empty")
    return value


def _help(action: argparse.Action) -> str:
    text = action.help or ""
    try:
        return text % {**vars(action), "prog": PROJECT_NAME}
    except (KeyError, TypeError, ValueError):
        return text


def _normal(name: str) -> str:
    """A distribution name in normal form (PEP 503)."""
    return "-".join(name.replace("_", "-").replace(".", "-").lower().split("-"))
