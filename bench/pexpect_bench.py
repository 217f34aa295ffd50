"""pexpect on the same tasks as console-bench: cat of FILE through expect over a local PTY and
over ssh, and the round trip of a command on a local shell. pexpect gets a search window and a
64 KiB read size, its fastest settings for this."""

import os
import statistics
import sys
import time

import pexpect

file, port, key, user = sys.argv[1:5]
size = os.path.getsize(file)


def ready(child: pexpect.spawn) -> pexpect.spawn:
    child.sendline("export PS1='B''$ '")
    child.expect_exact("B$ ", timeout=30)
    return child


def throughput(child: pexpect.spawn, label: str) -> None:
    started = time.perf_counter()
    child.sendline(f"cat {file}; echo END''MARK")
    child.expect_exact("ENDMARK", timeout=600, searchwindowsize=64)
    seconds = time.perf_counter() - started
    print(f"pexpect {label:<28} {size / seconds / 1e6:>8.1f} MB/s", flush=True)


opts = {"encoding": "utf-8", "maxread": 65536, "env": {**os.environ, "TERM": "dumb"}}
local = ready(pexpect.spawn("bash", ["--norc", "--noprofile", "-i"], **opts))
throughput(local, "expect throughput, local PTY")
times = []
for _ in range(1000):
    started = time.perf_counter()
    local.sendline("true")
    local.expect_exact("B$ ", timeout=30)
    times.append(time.perf_counter() - started)
print(f"pexpect {'execute_command round trip':<28} {statistics.median(times) * 1e6:>8.1f} µs p50", flush=True)
local.close()
ssh_args = ["-i", key, "-p", port, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-tt", f"{user}@127.0.0.1"]
ssh = pexpect.spawn("ssh", ssh_args, **opts)
ssh.expect(r"[#$] ", timeout=30)
ready(ssh)
throughput(ssh, "expect throughput, SSH")
ssh.close()
