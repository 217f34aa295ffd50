//! A real OpenSSH server on 127.0.0.1 (or in a network namespace) with throwaway keys, for tests
//! that run plugins remotely.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::TempDir;

/// A running `sshd -D` that accepts one throwaway key for the current user.
pub struct Sshd {
    child: Child,
    address: String,
    port: u16,
    dir: TempDir,
    user: String,
}

fn sshd_binary() -> Option<PathBuf> {
    ["/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"].iter().map(PathBuf::from).find(|p| p.exists())
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr)))
    }
}

impl Sshd {
    /// Starts the server on 127.0.0.1; an error says what to install when sshd is missing.
    pub fn start() -> Result<Self, String> {
        Self::start_at(None, "127.0.0.1")
    }

    /// Starts the server on `address`, inside network namespace `netns` when given.
    pub fn start_at(netns: Option<&str>, address: &str) -> Result<Self, String> {
        let sshd = sshd_binary()
            .ok_or("no sshd on this machine: install openssh-server (scripts/install-test-deps does)")?;
        let dir = TempDir::new("sshd");
        let d = dir.path();
        std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .map_err(|e| e.to_string())?;
        for key in ["host_key", "client_key"] {
            run(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(d.join(key)))?;
        }
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).map_err(|e| e.to_string())?;
        let port =
            TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
        let config = format!(
            "ListenAddress {address}\nPort {port}\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\nPasswordAuthentication yes\nPermitEmptyPasswords no\n\
             KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nLogLevel ERROR\n",
            d = d.display()
        );
        std::fs::write(d.join("sshd_config"), config).map_err(|e| e.to_string())?;
        let _ = std::fs::create_dir_all("/run/sshd");
        run(Command::new(&sshd).arg("-t").arg("-f").arg(d.join("sshd_config")))?;
        let mut command = match netns {
            Some(netns) => {
                let mut command = Command::new("ip");
                command.args(["netns", "exec", netns]).arg(&sshd);
                command
            }
            None => Command::new(&sshd),
        };
        let child = command
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(d.join("sshd_config"))
            .stdin(Stdio::null())
            .stderr(std::fs::File::create(d.join("sshd.log")).map_err(|e| e.to_string())?)
            .spawn()
            .map_err(|e| format!("starting sshd: {e}"))?;
        let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
        let server = Self { child, address: address.to_owned(), port, dir, user };
        let up = crate::eventually(10.0, || std::net::TcpStream::connect((address, port)).is_ok());
        if !up {
            return Err(format!("sshd did not listen on {address}:{port} within 10 s"));
        }
        Ok(server)
    }

    /// `ssh` and its options to reach this server, up to (not including) the remote command.
    pub fn ssh_command(&self) -> Vec<String> {
        let key = self.dir.path().join("client_key");
        [
            "ssh",
            "-i",
            &key.display().to_string(),
            "-p",
            &self.port.to_string(),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
            &format!("{}@{}", self.user, self.address),
        ]
        .map(String::from)
        .to_vec()
    }

    /// Makes sure a local user `name` with `password` and a bash shell exists (needs root).
    pub fn password_user(name: &str, password: &str) -> Result<(), String> {
        let exists = Command::new("id").arg(name).output().map_err(|e| e.to_string())?.status.success();
        if !exists {
            run(Command::new("useradd").args(["-M", "-d", "/tmp", "-s", "/bin/bash", name]))?;
        }
        let mut chpasswd =
            Command::new("chpasswd").stdin(Stdio::piped()).spawn().map_err(|e| e.to_string())?;
        std::io::Write::write_all(
            chpasswd.stdin.as_mut().expect("piped"),
            format!("{name}:{password}\n").as_bytes(),
        )
        .map_err(|e| e.to_string())?;
        drop(chpasswd.stdin.take());
        if !chpasswd.wait().map_err(|e| e.to_string())?.success() {
            return Err(format!("chpasswd failed for {name}"));
        }
        Ok(())
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The user the throwaway key logs in as.
    pub fn key_user(&self) -> &str {
        &self.user
    }

    /// The private key that logs in as [`Sshd::key_user`].
    pub fn client_key(&self) -> PathBuf {
        self.dir.path().join("client_key")
    }

    /// A known_hosts file holding this server's host key.
    pub fn known_hosts(&self) -> Result<PathBuf, String> {
        let key = std::fs::read_to_string(self.dir.path().join("host_key.pub")).map_err(|e| e.to_string())?;
        let path = self.dir.path().join("known_hosts");
        std::fs::write(&path, format!("[{}]:{} {}", self.address, self.port, key))
            .map_err(|e| e.to_string())?;
        Ok(path)
    }

    /// The server's temp directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(10));
    }
}
