"""The host for Python Vitro 0.8 plugins (``vitro-plugin-pyvitro``): loads them with pluggy as
Python Vitro does and serves their device types and core hooks on Vitro's protocol. Needs the
``pyvitro`` extra (``pip install 'vitro-sdk[pyvitro]'``), which installs ``vitro==0.8.1``."""

from __future__ import annotations

import sys


def main() -> None:
    """The ``vitro-plugin-pyvitro`` console script."""
    try:
        from .host import main as run
    except ModuleNotFoundError as e:
        print(
            f"vitro-plugin-pyvitro: {e}: it hosts Python Vitro plugins and needs Python Vitro; "
            "install it with `pip install 'vitro-sdk[pyvitro]'`",
            file=sys.stderr,
        )
        sys.exit(2)
    run()
