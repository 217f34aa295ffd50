"""An interactive Python shell on the live test bed (the ``p`` of ``vitro``'s menu):
``devices.<name>.<method>(...)`` runs device methods in their plugins; ``device_manager``,
``vitro_config`` and ``session`` are there too. Run it as ``vitro-python-shell`` or
``python -m vitro_sdk.shell`` wherever ``VITRO_SESSION`` is set."""

from __future__ import annotations

import code
import sys

from .errors import DeviceError
from .session import DeviceManager, Devices, Session, VitroConfig


def main() -> int:
    """Runs the shell until end of input (Ctrl-D)."""
    try:
        session = Session()
        device_manager = DeviceManager(session)
    except DeviceError as e:
        print(f"vitro-python-shell: {e}", file=sys.stderr)
        return 1
    names = list(device_manager.all())
    namespace = {
        "session": session,
        "device_manager": device_manager,
        "vitro_config": VitroConfig(session),
        "devices": Devices(device_manager.all()),
    }
    try:
        import readline
        import rlcompleter

        readline.set_completer(rlcompleter.Completer(namespace).complete)
        readline.parse_and_bind("tab: complete")
    except ImportError:
        pass
    banner = (
        f"Vitro test bed: devices.<name> for {', '.join(names) or 'no devices'}; also device_manager, "
        "vitro_config, session. Ctrl-D returns to the menu."
    )
    code.interact(banner=banner, local=namespace, exitmsg="")
    session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
