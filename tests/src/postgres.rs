//! A throwaway PostgreSQL cluster for the lab's tests: initdb in a temp dir, a Unix socket in
//! that dir only (no TCP), run as the `postgres` user when the tests run as root (the server
//! refuses root). One cluster per test binary, a database per test; it stops when the test
//! binary ends, whichever way it ends: a helper shell waits for the end of a pipe that only this
//! process holds, then stops the cluster and removes its directory.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// The running cluster.
pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    /// Held open for the life of this process; its end stops the cluster.
    _stopper: Mutex<(Child, ChildStdin)>,
}

/// Why there is no cluster.
#[derive(Debug)]
pub struct Unavailable(pub String);

impl Cluster {
    /// The test binary's cluster, started on first use.
    pub fn shared() -> Result<&'static Cluster, Unavailable> {
        static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
        CLUSTER.get_or_init(Cluster::start).as_ref().map_err(|e| Unavailable(e.clone()))
    }

    fn start() -> Result<Self, String> {
        let bin = server_bin()?;
        let dir = std::env::temp_dir().join(format!("vitro-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let root = unsafe { libc::geteuid() } == 0;
        if root {
            run(Command::new("chown").args(["postgres:postgres"]).arg(&dir))?;
        }
        let data = dir.join("data");
        let as_server_user = |program: &str| {
            let mut cmd = if root {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", "postgres", "--"]).arg(bin.join(program));
                cmd
            } else {
                Command::new(bin.join(program))
            };
            cmd.current_dir(&dir);
            cmd
        };
        run(as_server_user("initdb").arg("-D").arg(&data).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ]))?;
        let options = format!(
            "-k {} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c max_connections=400",
            dir.display()
        );
        run(as_server_user("pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["-o", &options, "-l"])
            .arg(dir.join("log"))
            .args(["-w", "start"]))?;
        // The stopper: `read` returns when this process ends and the pipe closes.
        let stop = format!(
            "read _; {pg_ctl} -D {data} -m fast -w stop >/dev/null 2>&1; rm -rf {dir}",
            pg_ctl = shell_quote(&bin.join("pg_ctl")),
            data = shell_quote(&data),
            dir = shell_quote(&dir),
        );
        let mut stopper = if root {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--", "sh", "-c", &stop]);
            cmd
        } else {
            let mut cmd = Command::new("sh");
            cmd.args(["-c", &stop]);
            cmd
        };
        let mut child = stopper
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: a test's Ctrl-C must not stop the cluster before the tests end.
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start the cluster's stopper: {e}"))?;
        let stdin = child.stdin.take().ok_or("the stopper has no stdin")?;
        Ok(Self { dir, bin, _stopper: Mutex::new((child, stdin)) })
    }

    /// A new empty database, and its URL (a Unix socket in the cluster's dir).
    pub fn database(&self, tag: &str) -> Result<String, Unavailable> {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!("{tag}_{}", N.fetch_add(1, Ordering::Relaxed)).replace('-', "_");
        let out = Command::new(self.bin.join("psql"))
            .args(["-h"])
            .arg(&self.dir)
            .args(["-U", "postgres", "-d", "postgres", "-qc", &format!("CREATE DATABASE {name}")])
            .output()
            .map_err(|e| Unavailable(format!("psql: {e}")))?;
        if !out.status.success() {
            return Err(Unavailable(format!(
                "CREATE DATABASE {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(self.url(&name))
    }

    /// The URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@localhost/{name}?host={}", self.dir.display())
    }

    /// Runs SQL on database `name` with psql and answers its output (`-At`: bare rows).
    pub fn psql(&self, name: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .arg("-h")
            .arg(&self.dir)
            .args(["-U", "postgres", "-d", name, "-Atc", sql])
            .output()
            .expect("psql runs");
        assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// The directory of PostgreSQL's server programs (Debian keeps them off PATH).
fn server_bin() -> Result<PathBuf, String> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| {
            "PostgreSQL is not installed (no /usr/lib/postgresql); run scripts/install-test-deps".to_owned()
        })?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().ok_or_else(|| "no initdb under /usr/lib/postgresql; run scripts/install-test-deps".to_owned())
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}
