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

impl Lab {
    /// `vitro run FLAGS -- sh -c SCRIPT`, started, its stderr written to `rec/NAME.err`.
    fn run_logged(&self, name: &str, flags: &[&str], script: &str) -> Child {
        let env = self.dir.path().join("env.json");
        let args =
            [&["run", "--env-config", env.to_str().unwrap()], flags, &["--", "sh", "-c", script]].concat();
        let log = std::fs::File::create(self.rec(&format!("{name}.err"))).unwrap();
        self.vitro(&args).stdout(Stdio::null()).stderr(log).spawn().unwrap()
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.rec(&format!("{name}.err"))).unwrap_or_default()
    }

    /// Tickets of the queue, first first.
    fn queue_tickets(&self) -> Vec<i64> {
        self.lab_json(&["queue"]).as_array().unwrap().iter().map(|q| q["ticket"].as_i64().unwrap()).collect()
    }

    /// A job on board `board` that marks `rec/NAME` when it starts and runs until `rec/NAME.done`.
    fn job(&self, name: &str, board: &str, extra: &[&str]) -> Child {
        let script = format!(
            "touch {start}; while [ ! -e {done} ]; do sleep 0.05; done",
            start = self.rec(name).display(),
            done = self.rec(&format!("{name}.done")).display()
        );
        self.run_logged(name, &[&["--board-name", board], extra].concat(), &script)
    }

    fn finish(&self, name: &str) {
        std::fs::write(self.rec(&format!("{name}.done")), "").unwrap();
    }
}

fn signal(child: &Child, signal: i32) {
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
}

#[test]
fn concurrent_forced_releases_free_one_lease_once_on_postgres() {
    concurrent_forced_releases_free_one_lease_once(Backend::Postgres);
}

#[test]
fn concurrent_forced_releases_free_one_lease_once_on_sqlite() {
    concurrent_forced_releases_free_one_lease_once(Backend::Sqlite);
}

/// One holder and three waiters on b1, then ten `vitro lab release b1 --force --ticket T` of
/// the holder's lease at once: it is freed once (one `forced` row), one waiter gets the board,
/// two still wait. Then five without `--ticket`: each frees the lease it looked at, none twice,
/// and the board goes straight to the next waiter.
fn concurrent_forced_releases_free_one_lease_once(backend: Backend) {
    let lab = Lab::new(backend);
    lab.import(&[("b1", json!({}))]);
    let mut jobs = vec![lab.job("holder", "b1", &[])];
    assert!(eventually(60.0, || lab.rec("holder").exists()), "{}", lab.log("holder"));
    let holder_ticket = lab.lab_json(&["boards"])[0]["ticket"].as_i64().expect("boards shows the ticket");
    for waiter in ["w1", "w2", "w3"] {
        jobs.push(lab.job(waiter, "b1", &[]));
        let pid = jobs.last().unwrap().id();
        assert!(eventually(60.0, || lab.knows(pid)), "{waiter} never queued");
    }
    let release_all = |count: usize, extra: &[&str]| -> (Vec<i64>, Vec<String>) {
        let releases: Vec<Child> = (0..count)
            .map(|_| {
                lab.vitro(&[&["lab", "release", "b1", "--force", "--format", "json"], extra].concat())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outs: Vec<Output> = releases.into_iter().map(finished).collect();
        let freed = outs.iter().filter(|o| o.status.success()).map(|o| {
            let done: Value = serde_json::from_slice(&o.stdout).unwrap();
            done["ticket"].as_i64().unwrap()
        });
        let refused = outs.iter().filter(|o| !o.status.success());
        (freed.collect(), refused.map(|o| String::from_utf8_lossy(&o.stderr).into_owned()).collect())
    };
    let ticket = holder_ticket.to_string();
    let (freed, refused) = release_all(10, &["--ticket", &ticket]);
    assert_eq!(freed, [holder_ticket], "{refused:?}");
    for error in &refused {
        assert!(error.contains("ended while this looked") || error.contains("already ended"), "{error}");
    }
    let forced = || lab.history("b1").iter().filter(|h| h["outcome"] == "forced").count();
    assert_eq!(forced(), 1);
    assert_eq!(lab.lab_json(&["boards"])[0]["state"], "held");
    assert!(eventually(60.0, || lab.rec("w1").exists()), "the first waiter got the board");
    assert_eq!(lab.queue_tickets().len(), 2);

    let (again, refused) = release_all(5, &[]);
    let mut distinct = again.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), again.len(), "a lease was freed twice: {again:?} {refused:?}");
    assert!(!again.contains(&holder_ticket));
    assert_eq!(forced(), 1 + again.len(), "one forced row per freed lease");
    let left = 2usize.saturating_sub(again.len());
    assert_eq!(lab.queue_tickets().len(), left, "{again:?}");
    if again.len() <= 2 {
        assert_eq!(lab.lab_json(&["boards"])[0]["state"], "held", "a freed board goes to the next waiter");
    }
    for name in ["holder", "w1", "w2", "w3"] {
        lab.finish(name);
    }
    for job in jobs {
        finished(job);
    }
}

#[test]
fn a_waiter_stopped_by_a_signal_leaves_the_queue_on_postgres() {
    a_waiter_stopped_by_a_signal_leaves_the_queue(Backend::Postgres);
}

#[test]
fn a_waiter_stopped_by_a_signal_leaves_the_queue_on_sqlite() {
    a_waiter_stopped_by_a_signal_leaves_the_queue(Backend::Sqlite);
}

/// Waiters ended by SIGINT and SIGTERM leave the queue at once: the board, freed, goes to the
/// live waiter behind them, not to a dead pid until its place lapses.
fn a_waiter_stopped_by_a_signal_leaves_the_queue(backend: Backend) {
    let lab = Lab::new(backend);
    lab.import(&[("b1", json!({}))]);
    let holder = lab.job("holder", "b1", &[]);
    assert!(eventually(60.0, || lab.rec("holder").exists()), "{}", lab.log("holder"));
    let mut stopped = Vec::new();
    for (name, sig, code) in [("int", libc::SIGINT, 130), ("term", libc::SIGTERM, 143)] {
        let waiter = lab.job(name, "b1", &["--lab-ttl", "1h"]);
        let pid = waiter.id();
        assert!(eventually(60.0, || lab.knows(pid)), "{name} never queued");
        stopped.push((name, sig, code, waiter));
    }
    let live = lab.job("live", "b1", &[]);
    let live_pid = live.id();
    assert!(eventually(60.0, || lab.knows(live_pid)), "the live waiter never queued");
    for (name, sig, code, waiter) in stopped {
        signal(&waiter, sig);
        let out = finished(waiter);
        assert_eq!(out.status.code(), Some(code), "{name}: {}", lab.log(name));
    }
    assert_eq!(lab.queue_tickets().len(), 1, "the stopped waiters left the queue: {}", lab.lab(&["queue"]));
    lab.finish("holder");
    assert!(finished(holder).status.success(), "{}", lab.log("holder"));
    assert!(eventually(60.0, || lab.rec("live").exists()), "the live waiter never got the board");
    assert_eq!(lab.lab_json(&["boards"])[0]["holder"]["pid"], json!(live_pid));
    lab.finish("live");
    assert!(finished(live).status.success(), "{}", lab.log("live"));
}

/// A waiter whose store connections break (PostgreSQL refusing the lab's database for a while)
/// tries again and keeps its place: when the store is back, the board goes to it first.
#[test]
fn a_waiter_keeps_its_place_while_the_store_is_away() {
    let cluster = Cluster::shared().unwrap_or_else(|e| panic!("a PostgreSQL cluster: {}", e.0));
    let lab = Lab::new(Backend::Postgres);
    let database = lab.db.split('/').nth(3).unwrap().split('?').next().unwrap().to_owned();
    lab.import(&[("b1", json!({}))]);
    let holder = lab.job("holder", "b1", &["--lab-ttl", "3s"]);
    assert!(eventually(60.0, || lab.rec("holder").exists()), "{}", lab.log("holder"));
    let first = lab.job("first", "b1", &["--lab-ttl", "3s"]);
    let first_pid = first.id();
    assert!(eventually(60.0, || lab.knows(first_pid)), "the first waiter never queued");
    let second = lab.job("second", "b1", &["--lab-ttl", "3s"]);
    let second_pid = second.id();
    assert!(eventually(60.0, || lab.knows(second_pid)), "the second waiter never queued");
    let tickets = lab.queue_tickets();

    cluster.psql("postgres", &format!("ALTER DATABASE {database} ALLOW_CONNECTIONS false"));
    cluster.psql(
        "postgres",
        &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"),
    );
    assert!(
        eventually(60.0, || lab.log("first").contains("trying again, keeping the place in the queue")),
        "the waiter did not try again: {}",
        lab.log("first")
    );
    cluster.psql("postgres", &format!("ALTER DATABASE {database} ALLOW_CONNECTIONS true"));
    assert_eq!(lab.queue_tickets(), tickets, "both waiters kept their places");
    lab.finish("holder");
    assert!(finished(holder).status.success(), "{}", lab.log("holder"));
    assert!(eventually(60.0, || lab.rec("first").exists()), "{}", lab.log("first"));
    assert!(!lab.rec("second").exists(), "the second waiter went first");
    lab.finish("first");
    assert!(finished(first).status.success(), "{}", lab.log("first"));
    lab.finish("second");
    assert!(finished(second).status.success(), "{}", lab.log("second"));
}

/// A store that accepts connections and never answers: `vitro lab boards` and `vitro run
/// --lab-wait 5s` fail within their deadlines, naming the store.
#[test]
fn a_store_that_never_answers_fails_in_time_naming_the_store() {
    let lab = Lab::new(Backend::Sqlite);
    // The kernel completes the connections in the backlog; nobody ever reads them.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("postgres://lab@127.0.0.1:{}/lab", silent.local_addr().unwrap().port());
    let started = std::time::Instant::now();
    let out = lab.vitro(&["lab", "boards", "--lab-db", &url]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("lab store {url} did not answer within 10s")), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(120));
    let out = finished(lab.run(&["--board-name", "b1", "--lab-wait", "5s", "--lab-db", &url], "true"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&url) && err.contains("did not answer"), "{err}");
    drop(silent);
}

#[test]
fn a_password_with_a_slash_is_masked_on_stderr_and_in_the_report() {
    let lab = Lab::new(Backend::Sqlite);
    let url = "postgres://lab:Wr/ngPw@127.0.0.1:1/lab";
    let out = lab.vitro(&["lab", "boards", "--lab-db", url]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("postgres://lab:********@127.0.0.1:1/lab") && !err.contains("ngPw"), "{err}");
    let report = lab.dir.path().join("report.json");
    let out = finished(
        lab.run(&["--board-name", "b1", "--lab-db", url, "--report", report.to_str().unwrap()], "true"),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(!err.contains("ngPw"), "{err}");
    let report = std::fs::read_to_string(&report).unwrap();
    assert!(report.contains("lab:********@") && !report.contains("ngPw"), "{report}");
}

#[test]
fn bad_lab_input_is_refused_with_a_clear_word() {
    let lab = Lab::new(Backend::Sqlite);
    // A wait too long for the clock.
    let out = finished(lab.run(&["--board-name", "b1", "--lab-wait", "500000000000y"], "true"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked") && err.contains("--lab-wait \"500000000000y\": longer than"), "{err}");
    // Board names that cannot be names, each named with its place in the file.
    let long = "x".repeat(10_000);
    for (name, why) in [
        ("", "an empty name"),
        ("two\nlines", "control characters"),
        ("\u{1b}[2Jb", "control characters"),
        ("nul\0", "control characters"),
        ("rtl\u{202e}", "control characters"),
        (long.as_str(), "too long"),
    ] {
        let file = lab.dir.path().join("bad-names.json");
        let text = format!("{{\n  \"ok\": {{\"devices\": []}},\n  {}: {{\"devices\": []}}\n}}", json!(name));
        std::fs::write(&file, text).unwrap();
        let out = lab.vitro(&["lab", "import", file.to_str().unwrap()]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name:?}: {err}");
        let at = format!("{}:3:", file.display());
        assert!(err.contains(&at) && err.contains(why) && err.contains("nothing was imported"), "{err}");
        assert!(err.len() < 1000, "the name is cut short: {} bytes", err.len());
        for c in RAW {
            assert!(!err.trim_end().contains(c), "{c:?} raw in {err:?}");
        }
    }
    assert_eq!(lab.lab_json(&["boards"]), json!([]), "nothing was imported");
    // A limit that is no limit names its flag.
    lab.import(&[("b1", json!({}))]);
    let out = lab.vitro(&["lab", "history", "b1", "--limit=-1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--limit"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // An SQLite file that does not exist, without the mode that creates it.
    let missing = lab.dir.path().join("new.db");
    let out = lab
        .vitro(&["lab", "boards", "--lab-db", &format!("sqlite://{}", missing.display())])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("does not exist") && err.contains("?mode=rwc"), "{err}");
    assert!(!missing.exists());
}

const RAW: [char; 5] = ['\u{1b}', '\0', '\r', '\u{202e}', '\n'];

/// Text from the store reaches the terminal escaped: a quarantine reason with control sequences.
#[test]
fn store_text_reaches_the_terminal_escaped() {
    let lab = Lab::new(Backend::Sqlite);
    lab.import(&[("b1", json!({}))]);
    lab.lab(&["quarantine", "b1", "--reason", "bad\u{1b}]0;title\u{7}\r\u{202e}"]);
    let text = lab.lab(&["boards"]);
    assert!(text.contains("bad\\u{1b}]0;title\\u{7}\\r\\u{202e}"), "{text:?}");
    for c in ['\u{1b}', '\u{7}', '\r', '\u{202e}'] {
        assert!(!text.contains(c), "{c:?} raw in {text:?}");
    }
}

/// A viewer with only SELECT on the lab's tables can look at the boards and the queue.
#[test]
fn a_read_only_store_can_be_looked_at() {
    let cluster = Cluster::shared().unwrap_or_else(|e| panic!("a PostgreSQL cluster: {}", e.0));
    let lab = Lab::new(Backend::Postgres);
    let database = lab.db.split('/').nth(3).unwrap().split('?').next().unwrap().to_owned();
    lab.import(&[("b1", json!({}))]);
    let role = format!("viewer_{database}");
    cluster.psql(
        &database,
        &format!(
            "CREATE ROLE {role} LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}; \
             REVOKE CREATE ON SCHEMA public FROM PUBLIC"
        ),
    );
    let viewer = lab.db.replacen("postgres://postgres@", &format!("postgres://{role}@"), 1);
    for command in ["boards", "queue"] {
        let out = lab.vitro(&["lab", command, "--lab-db", &viewer]).output().unwrap();
        assert!(out.status.success(), "vitro lab {command}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out = lab.vitro(&["lab", "boards", "--lab-db", &viewer]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("b1"));
}
