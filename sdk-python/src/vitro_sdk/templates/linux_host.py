"""Generated from protocol/templates/linux_host.v1.json by sdk-python/tools/gen_templates.py; do not edit."""

from __future__ import annotations

from typing import ClassVar, Protocol

from typing_extensions import TypedDict


class PingResult(TypedDict):
    sent: int
    received: int
    loss_percent: float


class LinuxHost(Protocol):
    """A Linux host with a shell: run commands, read its name and addresses, reach other hosts. The base of
    `lan` and `wan`. (template ``linux_host@1``)"""

    TEMPLATE: ClassVar[str] = "linux_host@1"
    EXTENDS: ClassVar[str | None] = None
    #: Each method's parameter names, in order.
    PARAMS: ClassVar[dict[str, list[str]]] = {
        "execute_command": ["command", "timeout"],
        "get_date": [],
        "get_hostname": [],
        "get_interface_ipv4addr": ["interface"],
        "get_interface_macaddr": ["interface"],
        "ping": ["host", "count", "timeout"],
    }

    def execute_command(self, command: str, timeout: float | None = None) -> str:
        """Runs a shell command on the host and returns its output: stdout and stderr as the shell printed
        them, without the echoed command and the prompt, its lines joined with \n and no newline at the
        end ("" when it printed nothing). The command's exit status is neither in the result nor an
        error: append `; echo $?` to see it."""
        ...

    def get_date(self) -> str:
        """The host's date and time, as `date -Iseconds` prints it. (optional)"""
        ...

    def get_hostname(self) -> str:
        """The host's name (`hostname`)."""
        ...

    def get_interface_ipv4addr(self, interface: str) -> str:
        """The IPv4 address of an interface, without its prefix length."""
        ...

    def get_interface_macaddr(self, interface: str) -> str:
        """The MAC address of an interface, lower case with colons. (optional)"""
        ...

    def ping(self, host: str, count: int = 4, timeout: float | None = None) -> PingResult:
        """Pings a host from this one and reports how many answers came back. A host that does not answer
        is a result (received 0, loss_percent 100), not an error; the call fails only when ping could
        not run or printed no statistics (an unknown name, no route to the host)."""
        ...
