//! The shared lab: `vitro-plugin-lab` leasing boards to real `vitro run` processes, on a real
//! PostgreSQL cluster of the test's own and on an SQLite file; `vitro lab ...` to look and admin.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use vitro_e2e::postgres::Cluster;
use vitro_e2e::{eventually, target_bin, TempDir};

const FIXTURE: &str = env!("CARGO_BIN_EXE_vitro-plugin-fixture");

/// Which store a test runs on.
#[derive(Clone, Copy)]
enum Backend {
    Postgres,
    Sqlite,
}

/// A lab: a store, a PATH with `vitro`, the lab's programs and the fixture plugin, an
/// environment file.
struct Lab {
    dir: TempDir,
    db: String,
}

impl Lab {
    fn new(backend: Backend) -> Self {
        let dir = TempDir::new("lab");
        let db = match backend {
            Backend::Postgres => Cluster::shared()
                .and_then(|cluster| cluster.database("lab"))
                .unwrap_or_else(|e| panic!("a PostgreSQL cluster for the lab tests: {}", e.0)),
            Backend::Sqlite => format!("sqlite://{}?mode=rwc", dir.path().join("lab.db").display()),
        };
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for program in ["vitro", "vitro-plugin-lab", "vitro-lab"] {
            std::os::unix::fs::symlink(target_bin(program), bin.join(program)).unwrap();
        }
        std::os::unix::fs::symlink(FIXTURE, bin.join("vitro-plugin-fixture")).unwrap();
        std::fs::write(dir.path().join("env.json"), r#"{"environment_def": {}}"#).unwrap();
        std::fs::create_dir_all(dir.path().join("rec")).unwrap();
        Self { dir, db }
    }

    /// `vitro ARGS` on this lab's PATH and store.
    fn vitro(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.dir.path().join("bin/vitro"));
        cmd.args(args)
            .env("PATH", format!("{}:/usr/bin:/bin", self.dir.path().join("bin").display()))
            .env("VITRO_LAB_DB", &self.db)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        cmd
    }

    /// `vitro lab ARGS`, which must succeed.
    fn lab(&self, args: &[&str]) -> String {
        let out = self.vitro(&[&["lab"], args].concat()).output().unwrap();
        assert!(out.status.success(), "vitro lab {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `vitro lab ARGS --format json`.
    fn lab_json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.lab(&[args, &["--format", "json"]].concat())).unwrap()
    }

    /// Imports boards `names`, each with one fixture device and `extra` fields.
    fn import(&self, boards: &[(&str, Value)]) {
        let inventory: serde_json::Map<String, Value> = boards
            .iter()
            .map(|(name, extra)| {
                let mut entry = json!({"devices": [{"name": "dut", "type": "fixture"}]});
                if let (Some(entry), Some(extra)) = (entry.as_object_mut(), extra.as_object()) {
                    entry.extend(extra.clone());
                }
                ((*name).to_owned(), entry)
            })
            .collect();
        let file = self.dir.path().join("inventory.json");
        std::fs::write(&file, serde_json::to_string(&inventory).unwrap()).unwrap();
        self.lab(&["import", file.to_str().unwrap()]);
    }

    /// `vitro run FLAGS -- sh -c SCRIPT`, started.
    fn run(&self, flags: &[&str], script: &str) -> Child {
        let env = self.dir.path().join("env.json");
        let args =
            [&["run", "--env-config", env.to_str().unwrap()], flags, &["--", "sh", "-c", script]].concat();
        self.vitro(&args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
    }

    fn rec(&self, name: &str) -> PathBuf {
        self.dir.path().join("rec").join(name)
    }

    /// Whether the `vitro` of `pid` waits in the queue or holds a board.
    fn knows(&self, pid: u32) -> bool {
        let pid = json!(pid);
        let queued = self.lab_json(&["queue"]).as_array().unwrap().iter().any(|q| q["holder"]["pid"] == pid);
        queued || self.lab_json(&["boards"]).as_array().unwrap().iter().any(|b| b["holder"]["pid"] == pid)
    }

    /// Every ended lease of `board`, oldest first.
    fn history(&self, board: &str) -> Vec<Value> {
        let mut rows = self.lab_json(&["history", board, "--limit", "1000"]).as_array().unwrap().clone();
        rows.reverse();
        rows
    }
}

fn finished(child: Child) -> Output {
    child.wait_with_output().unwrap()
}

fn ms(rfc3339: &Value) -> u128 {
    let at = humantime::parse_rfc3339(rfc3339.as_str().unwrap()).unwrap();
    at.duration_since(UNIX_EPOCH).unwrap().as_millis()
}

fn now_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis()
}

#[test]
fn contention_on_postgres() {
    twenty_jobs_share_three_boards_one_at_a_time_in_queue_order(Backend::Postgres);
}

#[test]
fn contention_on_sqlite() {
    twenty_jobs_share_three_boards_one_at_a_time_in_queue_order(Backend::Sqlite);
}

/// 20 concurrent `vitro run` for 3 boards: each board has one job at a time, every job
/// finishes, and within a priority the boards go out in the order the jobs queued.
fn twenty_jobs_share_three_boards_one_at_a_time_in_queue_order(backend: Backend) {
    let lab = Lab::new(backend);
    lab.import(&[("b1", json!({})), ("b2", json!({})), ("b3", json!({}))]);
    let mut jobs = Vec::new();
    for i in 0..20 {
        // Every fifth job jumps the queue.
        let priority = if i % 5 == 4 { 1 } else { 0 };
        let script = format!(
            "echo $VITRO_BOARD > {start}; sleep 0.2; touch {end}",
            start = lab.rec(&format!("{i}.board")).display(),
            end = lab.rec(&format!("{i}.end")).display()
        );
        let child = lab.run(&["--board-name", "any", "--lab-priority", &priority.to_string()], &script);
        let pid = child.id();
        // Its place is fixed once it is queued (or already holds a board).
        let board_file = lab.rec(&format!("{i}.board"));
        assert!(eventually(60.0, || board_file.exists() || lab.knows(pid)), "job {i} never reached the lab");
        jobs.push((i, priority, pid, now_ms(), child));
    }
    let jobs: Vec<_> = jobs
        .into_iter()
        .map(|(i, priority, pid, queued_at, child)| {
            let out = finished(child);
            assert!(out.status.success(), "job {i}: {}", String::from_utf8_lossy(&out.stderr));
            (i, priority, pid, queued_at)
        })
        .collect();
    let mut acquired = std::collections::BTreeMap::new();
    for board in ["b1", "b2", "b3"] {
        let history = lab.history(board);
        // One job at a time: each lease ends before the next one of that board starts.
        for pair in history.windows(2) {
            assert!(ms(&pair[0]["ended_at"]) <= ms(&pair[1]["acquired_at"]), "{board} overlaps: {pair:?}");
        }
        for row in &history {
            assert_eq!(row["outcome"], "success", "{row}");
            acquired.insert(row["holder"]["pid"].as_u64().unwrap() as u32, (board, ms(&row["acquired_at"])));
        }
    }
    let mut records = Vec::new();
    for (i, priority, pid, queued_at) in jobs {
        let board = std::fs::read_to_string(lab.rec(&format!("{i}.board"))).unwrap();
        let (leased, at) =
            acquired.get(&pid).copied().unwrap_or_else(|| panic!("job {i} (pid {pid}) has no lease"));
        assert_eq!(board.trim(), leased, "job {i} ran on the board it leased");
        records.push((i, priority, queued_at, at));
    }
    assert_eq!(records.len(), 20);
    for a in &records {
        for b in &records {
            // FIFO within a priority.
            if a.1 == b.1 && a.0 < b.0 {
                assert!(a.3 <= b.3, "job {} queued before job {} but got its board later", a.0, b.0);
            }
            // A higher priority goes before a lower one that was still waiting when it queued.
            if a.1 > b.1 && b.3 > a.2 {
                assert!(
                    a.3 <= b.3,
                    "job {} (priority {}) was served after job {} (priority {})",
                    a.0,
                    a.1,
                    b.0,
                    b.1
                );
            }
        }
    }
}

#[test]
fn a_killed_holder_frees_its_board_within_its_ttl_on_postgres() {
    a_killed_holder_frees_its_board_within_its_ttl(Backend::Postgres);
}

#[test]
fn a_killed_holder_frees_its_board_within_its_ttl_on_sqlite() {
    a_killed_holder_frees_its_board_within_its_ttl(Backend::Sqlite);
}

/// A holder SIGKILLed (no release runs): the waiter gets the board within the TTL and a second,
/// the waiter saw who held it, and the history says the lease lapsed.
fn a_killed_holder_frees_its_board_within_its_ttl(backend: Backend) {
    const TTL_MS: u128 = 3000;
    let lab = Lab::new(backend);
    lab.import(&[("b1", json!({}))]);
    let started = lab.rec("holder");
    let mut holder = lab
        .run(&["--board-name", "b1", "--lab-ttl", "3s"], &format!("touch {}; sleep 600", started.display()));
    assert!(eventually(60.0, || started.exists()), "the holder never started");
    let got = lab.rec("waiter");
    let waiter =
        lab.run(&["--board-name", "b1", "--lab-ttl", "3s"], &format!("date +%s%3N > {}", got.display()));
    let waiter_pid = waiter.id();
    assert!(eventually(60.0, || lab.knows(waiter_pid)), "the waiter never queued");
    holder.kill().unwrap();
    let killed_at = now_ms();
    holder.wait().unwrap();
    let out = finished(waiter);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("waiting for board b1: b1 is held by") && stderr.contains("place 1 of 1"),
        "{stderr}"
    );
    let got_at: u128 = std::fs::read_to_string(&got).unwrap().trim().parse().unwrap();
    assert!(
        got_at - killed_at < TTL_MS + 1000,
        "the waiter got the board {} ms after the holder died (TTL {TTL_MS} ms)",
        got_at - killed_at
    );
    let outcomes: Vec<Value> = lab.history("b1").iter().map(|h| h["outcome"].clone()).collect();
    assert_eq!(outcomes, [json!("expired"), json!("success")]);
    // The killed vitro's plugin died with it (vitro's reaper), so nothing renews: the board is free.
    assert_eq!(lab.lab_json(&["boards"])[0]["state"], "free");
}

#[test]
fn three_failed_deployments_quarantine_a_board_on_postgres() {
    three_failed_deployments_quarantine_a_board(Backend::Postgres);
}

#[test]
fn three_failed_deployments_quarantine_a_board_on_sqlite() {
    three_failed_deployments_quarantine_a_board(Backend::Sqlite);
}

/// Boots that fail three times in a row quarantine the board with the last error; it is then
/// refused at once, until `vitro lab unquarantine`; a success in between restarts the count.
fn three_failed_deployments_quarantine_a_board(backend: Backend) {
    let lab = Lab::new(backend);
    lab.import(&[("b1", json!({}))]);
    let env = lab.dir.path().join("env.json");
    let failing = lab.dir.path().join("failing.json");
    std::fs::write(&failing, r#"{"environment_def": {"dut": {"fail": "boot"}}}"#).unwrap();
    let deploy = |env: &PathBuf| {
        lab.vitro(&["run", "--env-config", env.to_str().unwrap(), "--board-name", "b1", "--", "true"])
            .output()
            .unwrap()
    };
    assert!(!deploy(&failing).status.success());
    assert!(!deploy(&failing).status.success());
    assert!(deploy(&env).status.success(), "a success restarts the count");
    for _ in 0..3 {
        assert!(!deploy(&failing).status.success());
    }
    let board = &lab.lab_json(&["boards"])[0];
    assert_eq!(board["state"], "quarantined", "{board}");
    let reason = board["quarantine_reason"].as_str().unwrap();
    assert!(
        reason.starts_with("3 failed deployments in a row; the last:") && reason.contains("boot"),
        "{reason}"
    );
    let text = lab.lab(&["boards"]);
    assert!(
        text.lines().any(|l| l.starts_with("b1") && l.contains("quarantined") && l.contains(reason)),
        "{text}"
    );

    let refused = deploy(&env);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("board b1 is quarantined") && stderr.contains("vitro lab unquarantine b1"),
        "{stderr}"
    );
    lab.lab(&["unquarantine", "b1"]);
    assert!(deploy(&env).status.success());
    assert_eq!(lab.lab_json(&["boards"])[0]["failures"], 0);
}

#[test]
fn the_lab_commands_on_postgres() {
    the_lab_commands_show_and_admin_the_lab(Backend::Postgres);
}

#[test]
fn the_lab_commands_on_sqlite() {
    the_lab_commands_show_and_admin_the_lab(Backend::Sqlite);
}

/// `boards`, `queue`, `history`, `release --force`, a filter, `--lab-wait`, and errors that
/// name the fix.
fn the_lab_commands_show_and_admin_the_lab(backend: Backend) {
    let lab = Lab::new(backend);
    lab.import(&[("pi", json!({"model": "rpi"})), ("virt1", json!({"model": "virt", "rack": {"row": 2}}))]);
    // A filter picks the board; its name reaches the command.
    let seen = lab.rec("seen");
    let out =
        finished(lab.run(&["--lab-match", "rack.row=2"], &format!("echo $VITRO_BOARD > {}", seen.display())));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(&seen).unwrap().trim(), "virt1");

    let started = lab.rec("holder");
    let done = lab.rec("done");
    let holder = lab.run(
        &["--board-name", "pi"],
        &format!("touch {}; while [ ! -e {} ]; do sleep 0.05; done", started.display(), done.display()),
    );
    assert!(eventually(60.0, || started.exists()));
    let boards = lab.lab_json(&["boards"]);
    let pi = boards.as_array().unwrap().iter().find(|b| b["name"] == "pi").unwrap();
    assert_eq!(pi["state"], "held");
    assert_eq!(pi["holder"]["pid"], json!(holder.id()));
    assert!(pi["lease_end"].is_string());

    // A waiter that gives up names the holder and its place.
    let waiter = lab.run(&["--board-name", "pi", "--lab-wait", "1s", "--lab-priority", "3"], "true");
    let waiter_pid = waiter.id();
    assert!(eventually(60.0, || lab.knows(waiter_pid)));
    let queue = lab.lab_json(&["queue"]);
    assert_eq!(queue[0]["wants"], "board pi");
    assert_eq!(queue[0]["priority"], 3);
    let out = finished(waiter);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("no board pi came free within --lab-wait 1s: pi is held by"), "{stderr}");
    assert_eq!(lab.lab_json(&["queue"]), json!([]), "a waiter that gave up leaves the queue");

    // Only --force takes a board from a live holder.
    let out = lab.vitro(&["lab", "release", "pi"]).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--force"));
    let released = lab.lab_json(&["release", "pi", "--force"]);
    assert_eq!(released["released_from"]["pid"], json!(holder.id()));
    let history = lab.history("pi");
    assert_eq!(history.last().unwrap()["outcome"], "forced");
    // The holder's job ends: its release finds the lease gone, says so, and records nothing.
    std::fs::write(&done, "").unwrap();
    let out = finished(holder);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the lease on board pi was gone before the release"), "{stderr}");
    assert_eq!(lab.history("pi").len(), history.len(), "the forced lease is not recorded twice");

    // Errors name the board and the fix.
    let out = lab.vitro(&["lab", "history", "nosuch"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("board nosuch is not in the lab"));
    let out = finished(lab.run(&["--board-name", "nosuch"], "true"));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("vitro lab import"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = finished(lab.run(&["--lab-match", "model=cray"], "true"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no board in service in the lab (") && stderr.contains(") matches model=cray;"),
        "{stderr}"
    );
    let bad = lab.dir.path().join("bad.json");
    std::fs::write(&bad, "[1, 2]").unwrap();
    let out = lab.vitro(&["lab", "import", bad.to_str().unwrap()]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("an inventory is a JSON object of boards"));
}

#[test]
fn a_store_url_with_a_password_is_never_printed() {
    let lab = Lab::new(Backend::Sqlite);
    let out = lab
        .vitro(&["lab", "boards", "--lab-db", "postgres://lab:s3cret@127.0.0.1:1/lab?connect_timeout=2"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("lab:********@127.0.0.1:1/lab") && !stderr.contains("s3cret"), "{stderr}");
}

#[test]
fn import_adds_and_updates_boards_and_keeps_the_others() {
    let lab = Lab::new(Backend::Sqlite);
    lab.import(&[("b1", json!({})), ("b0", json!({}))]);
    let file = lab.dir.path().join("more.json");
    std::fs::write(&file, r#"{"b1": {"model": "x", "devices": []}, "b2": {"devices": []}}"#).unwrap();
    let imported = lab.lab_json(&["import", file.to_str().unwrap()]);
    assert_eq!(imported, json!({"added": ["b2"], "updated": ["b1"]}));
    let names: Vec<Value> =
        lab.lab_json(&["boards"]).as_array().unwrap().iter().map(|b| b["name"].clone()).collect();
    assert_eq!(names, [json!("b0"), json!("b1"), json!("b2")]);
}
