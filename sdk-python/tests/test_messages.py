"""The generated message types match the committed JSON Schemas."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[1] / "tools" / "gen_messages.py"


def test_generated_messages_match_the_schemas() -> None:
    result = subprocess.run([sys.executable, str(TOOL), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
