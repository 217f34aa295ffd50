//! Exporter hosts for the tests: each a network namespace of the test's own, joined to this
//! machine by a veth pair (10.213.N.1 here, 10.213.N.2 there; no forwarding, no NAT, nothing
//! leaves the machine), with an `sshd` inside and, on demand, a board behind a `socat` serial
//! line. Its link can be cut mid-test. Needs root.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::sshd::Sshd;

/// A host in a network namespace, reachable over ssh.
pub struct Exporter {
    netns: String,
    veth: String,
    /// Its address as seen from here.
    pub address: String,
    /// The sshd inside (dropped before the namespace is removed).
    sshd: Option<Sshd>,
    /// The `socat`s of its serial boards.
    boards: Vec<Child>,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip").args(args).output().map_err(|e| format!("ip: {e}; install iproute2"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr)))
    }
}

impl Exporter {
    /// Exporter `n` (0..50) of this test process.
    pub fn start(n: u32) -> Result<Self, String> {
        let id = std::process::id() % 10_000;
        let netns = format!("vitro-exp-{id}-{n}");
        let veth = format!("vx{id}h{n}");
        let peer = format!("vx{id}p{n}");
        let subnet = 100 + (id % 3) * 50 + n;
        let (here, there) = (format!("10.213.{subnet}.1"), format!("10.213.{subnet}.2"));
        let _ = ip(&["netns", "del", &netns]);
        ip(&["netns", "add", &netns])?;
        let mut exporter = Self {
            netns: netns.clone(),
            veth: veth.clone(),
            address: there.clone(),
            sshd: None,
            boards: Vec::new(),
        };
        ip(&["link", "add", &veth, "type", "veth", "peer", "name", &peer])?;
        ip(&["link", "set", &peer, "netns", &netns])?;
        ip(&["addr", "add", &format!("{here}/24"), "dev", &veth])?;
        ip(&["link", "set", &veth, "up"])?;
        ip(&["netns", "exec", &netns, "ip", "addr", "add", &format!("{there}/24"), "dev", &peer])?;
        ip(&["netns", "exec", &netns, "ip", "link", "set", &peer, "up"])?;
        ip(&["netns", "exec", &netns, "ip", "link", "set", "lo", "up"])?;
        exporter.sshd = Some(Sshd::start_at(Some(&netns), &there)?);
        Ok(exporter)
    }

    /// `ssh` with its options to log in there, up to the remote command.
    pub fn ssh_command(&self) -> Vec<String> {
        self.sshd.as_ref().map(Sshd::ssh_command).unwrap_or_default()
    }

    /// Starts a board there behind a serial line: a shell with the prompt `board# ` on the far
    /// end of a pseudo-terminal that `socat` (running in the namespace) links at `dir/NAME`.
    pub fn serial_board(&mut self, dir: &Path, name: &str) -> Result<PathBuf, String> {
        let script = dir.join(format!("{name}.sh"));
        std::fs::write(&script, "#!/bin/sh\nPS1='board# ' TERM=dumb exec bash --norc --noprofile -i\n")
            .map_err(|e| e.to_string())?;
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .map_err(|e| e.to_string())?;
        let tty = dir.join(name);
        let child = Command::new("ip")
            .args(["netns", "exec", &self.netns, "socat"])
            .arg(format!("pty,link={},raw,echo=0", tty.display()))
            .arg(format!("EXEC:{},pty,stderr,setsid,sigint,sane,ctty", script.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("socat: {e}; install socat"))?;
        self.boards.push(child);
        if !crate::eventually(10.0, || tty.exists()) {
            return Err(format!("socat made no {} within 10 s", tty.display()));
        }
        Ok(tty)
    }

    /// Pids of the processes running in it.
    pub fn pids(&self) -> Vec<i32> {
        let out = Command::new("ip").args(["netns", "pids", &self.netns]).output();
        out.map(|o| {
            String::from_utf8_lossy(&o.stdout).split_whitespace().filter_map(|p| p.parse().ok()).collect()
        })
        .unwrap_or_default()
    }

    /// Cuts its link: packets are dropped from now on, no connection is told.
    pub fn cut(&self) -> Result<(), String> {
        ip(&["link", "set", &self.veth, "down"])
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        drop(self.sshd.take());
        // What still runs there (sessions of a cut link) goes with the host.
        for pid in self.pids() {
            // SAFETY: kill(2) on a pid of the test's own namespace.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        for board in &mut self.boards {
            let _ = board.wait();
        }
        // Deleting the pair here at once: a namespace whose cut connections linger is freed
        // (with its end of the pair) only when they time out.
        let _ = ip(&["link", "del", &self.veth]);
        let _ = ip(&["netns", "del", &self.netns]);
    }
}
