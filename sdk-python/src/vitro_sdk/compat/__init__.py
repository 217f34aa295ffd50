"""The host for Python Vitro 0.8 plugins (``vitro-plugin-pyvitro``): loads them with pluggy as
Python Vitro does and serves their device types and core hooks on Vitro's protocol. Needs the
``pyvitro`` extra (``pip install 'vitro-sdk[pyvitro]'``), which installs ``vitro==0.8.1``."""

from __future__ import annotations


def main() -> None:
    """The ``vitro-plugin-pyvitro`` console script. Without Python Vitro installed it still
    starts, hosts nothing and says why in its version (``vitro plugins list`` shows it), so that
    having the SDK on PATH costs ``vitro`` runs no warning."""
    try:
        from .host import main as run
    except ModuleNotFoundError as e:
        from ..plugin import SDK, Plugin

        why = f"hosts nothing: {e.name} is not installed; pip install 'vitro-sdk[pyvitro]'"
        Plugin("pyvitro", f"{SDK.rsplit(' ', 1)[-1]} ({why})").run()
        return
    run()
