"""The plugin module: core hooks and the device types."""

from __future__ import annotations

from argparse import ArgumentParser, Namespace
from typing import Any

from pluggy import PluginManager
from vitro.devices.base_devices import VitroDevice
from vitro.libraries.device_manager import DeviceManager
from vitro.libraries.vitro_config import VitroConfig, get_inventory_config, parse_vitro_config

from acme_vitro.devices import AcmeBoard, AcmeLan, AcmeServer
from acme_vitro.trace import trace
from vitro import hookimpl


@hookimpl
def vitro_add_cmdline_args(argparser: ArgumentParser) -> None:
    argparser.add_argument("--acme-trace", default="", help="append every hook that runs to this file")
    argparser.add_argument("--acme-firmware", default="1.2.3", help="firmware the board boots")
    argparser.add_argument("--acme-fast", action="store_true", help="skip the slow checks")


@hookimpl
def vitro_add_devices() -> dict[str, type[VitroDevice]]:
    return {"acme_server": AcmeServer, "acme_board": AcmeBoard, "acme_lan": AcmeLan}


@hookimpl
def vitro_configure(cmdline_args: Namespace) -> None:
    trace(
        cmdline_args,
        "vitro_configure",
        firmware=cmdline_args.acme_firmware,
        fast=cmdline_args.acme_fast,
        board=cmdline_args.board_name,
    )


@hookimpl(tryfirst=True)
def vitro_reserve_devices(cmdline_args: Namespace) -> dict[str, Any]:
    trace(cmdline_args, "vitro_reserve_devices", board=cmdline_args.board_name)
    return get_inventory_config(cmdline_args.board_name, cmdline_args.inventory_config)


@hookimpl(tryfirst=True)
def vitro_parse_config(
    cmdline_args: Namespace, inventory_config: dict[str, Any], env_config: dict[str, Any]
) -> VitroConfig:
    trace(cmdline_args, "vitro_parse_config")
    config = parse_vitro_config(inventory_config, env_config)
    for device in config.get_devices_config():
        device["parsed_by"] = "acme"
    return config


@hookimpl(tryfirst=True)
def vitro_setup_env(cmdline_args: Namespace, device_manager: DeviceManager) -> None:
    trace(cmdline_args, "vitro_setup_env", devices=sorted(device_manager.get_devices_by_type(VitroDevice)))


@hookimpl
def vitro_post_setup_env(cmdline_args: Namespace, device_manager: DeviceManager) -> None:
    trace(cmdline_args, "vitro_post_setup_env")


@hookimpl
def vitro_release_devices(
    cmdline_args: Namespace, plugin_manager: PluginManager, deployment_status: dict[str, Any]
) -> None:
    trace(cmdline_args, "vitro_release_devices", status=deployment_status["status"])
