//! `ssh_connection` / `authenticated_ssh`: a shell in a PTY over SSH, on russh.
//!
//! Host keys: `host_key_check` in the device config is `off` (the default, as Python Vitro,
//! which disables checking) or `known-hosts` (the server's key must be in `known_hosts`, default
//! `~/.ssh/known_hosts`; an unknown or changed key fails the connection).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use russh::client;
use russh::keys::{PrivateKeyWithHashAlg, PublicKeyOrCertificate};

use super::{Console, ConsoleError, ConsoleOptions};

/// How to reach and log in to an SSH server. Its `Debug` does not show the password.
#[derive(Clone)]
pub struct SshTarget {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Login user.
    pub user: String,
    /// Password, for password login.
    pub password: Option<String>,
    /// Private key file, for key login (tried before the password).
    pub key: Option<PathBuf>,
    /// `None`: accept any host key; `Some(path)`: require it in that known_hosts file.
    pub known_hosts: Option<PathBuf>,
    /// How long connecting and logging in may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for SshTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshTarget")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| vitro_protocol::secrets::MASK))
            .field("key", &self.key)
            .field("known_hosts", &self.known_hosts)
            .field("timeout", &self.timeout)
            .finish()
    }
}

struct HostKeys {
    host: String,
    port: u16,
    known_hosts: Option<PathBuf>,
}

impl client::Handler for HostKeys {
    type Error = russh::Error;

    async fn check_server_key(&mut self, key: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        let Some(path) = &self.known_hosts else { return Ok(true) };
        let PublicKeyOrCertificate::PublicKey { key, .. } = key else { return Ok(false) };
        Ok(russh::keys::check_known_hosts_path(&self.host, self.port, key, path).unwrap_or(false))
    }
}

fn fail(target: &SshTarget, what: String) -> ConsoleError {
    ConsoleError::Io(format!("ssh {}@{}:{}: {what}", target.user, target.host, target.port))
}

/// Connects, logs in, and opens a shell in a 200x50 PTY.
pub async fn open(target: &SshTarget, options: ConsoleOptions) -> Result<Console, ConsoleError> {
    tokio::time::timeout(target.timeout, open_inner(target, options))
        .await
        .map_err(|_| fail(target, format!("no shell within {:?}", target.timeout)))?
}

async fn open_inner(target: &SshTarget, options: ConsoleOptions) -> Result<Console, ConsoleError> {
    let config = Arc::new(client::Config { inactivity_timeout: None, ..Default::default() });
    let keys =
        HostKeys { host: target.host.clone(), port: target.port, known_hosts: target.known_hosts.clone() };
    let mut session =
        client::connect(config, (target.host.as_str(), target.port), keys).await.map_err(|e| {
            let hint = if target.known_hosts.is_some() {
                " (with host_key_check known-hosts: is the key recorded?)"
            } else {
                ""
            };
            fail(target, format!("cannot connect: {e}{hint}"))
        })?;
    let mut logged_in = false;
    if let Some(path) = &target.key {
        let key = russh::keys::load_secret_key(path, None)
            .map_err(|e| fail(target, format!("cannot load key {}: {e}", path.display())))?;
        let hash = session.best_supported_rsa_hash().await.ok().flatten().flatten();
        let result = session
            .authenticate_publickey(&target.user, PrivateKeyWithHashAlg::new(Arc::new(key), hash))
            .await
            .map_err(|e| fail(target, format!("key login failed: {e}")))?;
        logged_in = result.success();
    }
    if !logged_in {
        if let Some(password) = &target.password {
            let result = session
                .authenticate_password(&target.user, password)
                .await
                .map_err(|e| fail(target, format!("password login failed: {e}")))?;
            logged_in = result.success();
        }
    }
    if !logged_in {
        let tried = match (&target.key, &target.password) {
            (Some(_), Some(_)) => "key and password",
            (Some(_), None) => "key",
            (None, Some(_)) => "password",
            (None, None) => "nothing (give `password` or `key`)",
        };
        return Err(fail(target, format!("authentication refused; tried {tried}")));
    }
    let channel =
        session.channel_open_session().await.map_err(|e| fail(target, format!("no session: {e}")))?;
    channel
        .request_pty(true, "dumb", 200, 50, 0, 0, &[])
        .await
        .map_err(|e| fail(target, format!("no PTY: {e}")))?;
    channel.request_shell(true).await.map_err(|e| fail(target, format!("no shell: {e}")))?;
    let (read, write) = tokio::io::split(channel.into_stream());
    let close = Box::new(move || drop(session));
    Ok(Console::start(read, write, options, Some(close)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_password() {
        let target = SshTarget {
            host: "127.0.0.1".into(),
            port: 22,
            user: "root".into(),
            password: Some("hunter2".into()),
            key: None,
            known_hosts: None,
            timeout: Duration::from_secs(1),
        };
        let shown = format!("{target:?}");
        assert!(!shown.contains("hunter2") && shown.contains("********"), "{shown}");
    }
}
