//! Helpers for the end-to-end tests: temp dirs, processes, a loopback sshd, a throwaway
//! PostgreSQL cluster.

pub mod netns;
pub mod postgres;
pub mod sshd;
pub mod tmux;

use std::path::{Path, PathBuf};

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `<tmp>/vitro-<tag>-<pid>-<n>`.
    pub fn new(tag: &str) -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "vitro-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Pids of every live process whose command line contains `needle`.
pub fn processes_with(needle: &str) -> Vec<i32> {
    let mut pids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return pids };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        let zombie = stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z'));
        let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if !zombie && text.contains(needle) && pid != std::process::id() as i32 {
            pids.push(pid);
        }
    }
    pids
}

/// Waits up to `seconds` for `check` to hold.
pub fn eventually(seconds: f64, mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(seconds);
    loop {
        if check() {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Live (not zombie) processes whose process group is `pgid`.
pub fn live_group_members(pgid: i32) -> Vec<i32> {
    let mut pids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return pids };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
        if fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string() {
            pids.push(pid);
        }
    }
    pids
}

/// The Python interpreter of the virtualenv `scripts/test` makes (with `sdk-python` installed),
/// or `VITRO_TEST_PYTHON`.
pub fn test_python() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let interpreter = std::env::var_os("VITRO_TEST_PYTHON")
        .map_or_else(|| root.join("target/py/bin/python"), PathBuf::from);
    assert!(interpreter.exists(), "{} is missing: run scripts/test, which creates it", interpreter.display());
    interpreter
}

/// A registry holding one server, `wan` (type `linux_server`, plugin `other`), with `config`:
/// what a plugin finds when it looks up other devices through the host.
pub fn registry_with_wan(config: serde_json::Value) -> std::sync::Arc<vitro::registry::Registry> {
    use vitro_protocol::types::{DeviceDescription, Role};
    let registry = std::sync::Arc::new(vitro::registry::Registry::default());
    registry.insert(
        DeviceDescription {
            name: "wan".into(),
            type_name: "linux_server".into(),
            role: Role::Server,
            plugin: "other".into(),
            config,
            classes: Vec::new(),
            methods: Vec::new(),
            implements: Vec::new(),
        },
        None,
    );
    registry
}

/// Path of a binary built into the same target directory as the running test.
pub fn target_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built; run `cargo build --workspace` (cargo test --workspace does)",
        path.display()
    );
    path
}

/// Calls `method` of the device `board` in `plugin`, waiting at most `ms` milliseconds.
pub async fn call_board(
    plugin: &vitro::plugin::PluginProcess,
    method: &str,
    params: serde_json::Value,
    ms: u64,
) -> Result<serde_json::Value, vitro_sdk::peer::CallError> {
    let params = vitro_protocol::types::DeviceCallParams {
        device: "board".into(),
        method: method.into(),
        params,
        kwargs: None,
    };
    let timeout = Some(std::time::Duration::from_millis(ms));
    plugin.request::<vitro_protocol::methods::DeviceCall>(&params, timeout).await.map(|r| r.0)
}
