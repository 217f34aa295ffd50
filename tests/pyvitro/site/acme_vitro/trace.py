"""Every hook that runs appends one JSON line to the file given with --acme-trace."""

from __future__ import annotations

import json
import os
import threading
from argparse import Namespace
from typing import Any

_LOCK = threading.Lock()


def trace(cmdline_args: Namespace | None, hook: str, device: str | None = None, **facts: Any) -> None:  # noqa: ANN401
    path = getattr(cmdline_args, "acme_trace", None) or os.environ.get("ACME_TRACE")
    if not path:
        return
    line = json.dumps({"hook": hook, "device": device, **facts}, sort_keys=True)
    with _LOCK, open(path, "a", encoding="utf-8") as out:
        out.write(line + "\n")
