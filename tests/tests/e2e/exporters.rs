//! Drivers on exporter hosts: two hosts in network namespaces of the test's own, each with a
//! real `sshd` and a board behind a `socat` serial line; a bed whose devices' plugins run here
//! and on both; one host's link cut mid-test.

use std::process::{Command, Stdio};

use serde_json::{json, Value};
use vitro_e2e::netns::Exporter;
use vitro_e2e::{eventually, target_bin, TempDir};

const FIXTURE: &str = env!("CARGO_BIN_EXE_vitro-plugin-fixture");

/// `vitro_plugin_host` for `exporter`: its ssh command, and a PATH there that has the fixture
/// (the namespaces share this machine's files).
fn plugin_host(exporter: &Exporter, bin: &std::path::Path) -> String {
    let words: Vec<String> = exporter.ssh_command();
    let ssh = shlex::try_join(words.iter().map(String::as_str)).unwrap();
    format!("{ssh} PATH={}:/usr/bin:/bin", bin.display())
}

fn is_fixture_plugin(pid: i32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains("vitro-plugin-fixture"))
}

#[test]
fn devices_run_on_their_exporters_and_a_cut_exporter_fails_only_its_own() {
    let (mut a, mut b) = match (Exporter::start(1), Exporter::start(2)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            panic!("exporter hosts in network namespaces (needs root and iproute2): {e}")
        }
    };
    let dir = TempDir::new("exporters");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(FIXTURE, bin.join("vitro-plugin-fixture")).unwrap();
    let tty_a = a.serial_board(dir.path(), "tty-a").unwrap();
    let tty_b = b.serial_board(dir.path(), "tty-b").unwrap();
    let trace = dir.path().join("trace");
    let device = |name: &str, exporter: Option<&Exporter>| {
        let mut device = json!({"name": name, "type": "fixture", "trace": trace.display().to_string()});
        if let Some(exporter) = exporter {
            device["vitro_plugin_host"] = json!(plugin_host(exporter, &bin));
        }
        device
    };
    // The boards: the fixture opens the serial line at boot, from the exporter.
    let board = |name: &str, exporter: &Exporter, tty: &std::path::Path| {
        let mut device = device(name, Some(exporter));
        device["connection_type"] = json!("serial");
        device["port"] = json!(tty);
        device["baud"] = json!(115200);
        device["prompt"] = json!("board# $");
        device
    };
    let inventory = json!({"bed": {"devices": [
        device("here", None), board("on_a", &a, &tty_a), board("on_b", &b, &tty_b), device("on_b2", Some(&b)),
    ]}});
    let (inv, env, report) =
        (dir.path().join("inv.json"), dir.path().join("env.json"), dir.path().join("report.json"));
    let logs = dir.path().join("logs");
    std::fs::write(&inv, inventory.to_string()).unwrap();
    std::fs::write(&env, r#"{"environment_def": {}}"#).unwrap();
    let client = target_bin("session-client");
    let (session, proceed, after) =
        (dir.path().join("session"), dir.path().join("proceed"), dir.path().join("after.json"));
    let script = format!(
        "echo $VITRO_SESSION > {session}; while [ ! -e {proceed} ]; do sleep 0.05; done; \
         {client} console on_b console 'echo $((6 * 7))' 42 > {after}",
        session = session.display(),
        proceed = proceed.display(),
        client = client.display(),
        after = after.display()
    );
    let vitro = Command::new(target_bin("vitro"))
        .args(["run", "--board-name", "bed", "--env-config", env.to_str().unwrap()])
        .args(["--inventory-config", inv.to_str().unwrap(), "--report", report.to_str().unwrap()])
        .args(["--save-console-logs", logs.to_str().unwrap()])
        .args(["--", "sh", "-c", &script])
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut vitro = vitro;
    if !eventually(60.0, || session.exists() || matches!(vitro.try_wait(), Ok(Some(_)))) || !session.exists()
    {
        let _ = vitro.kill();
        let out = vitro.wait_with_output().unwrap();
        panic!("the bed never came up: {}", String::from_utf8_lossy(&out.stderr));
    }
    // One plugin process on each exporter, running there (in its namespace), for its devices.
    assert_eq!(a.pids().into_iter().filter(|&p| is_fixture_plugin(p)).count(), 1);
    assert_eq!(b.pids().into_iter().filter(|&p| is_fixture_plugin(p)).count(), 1);

    a.cut().unwrap();
    let session_path = std::fs::read_to_string(&session).unwrap();
    let state_of_a = || {
        let out =
            Command::new(&client).arg("devices").env("VITRO_SESSION", session_path.trim()).output().unwrap();
        let devices: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        devices.as_array().and_then(|d| d.iter().find(|d| d["name"] == "on_a")).map(|d| d["state"].clone())
    };
    // The ping (every 5 s, 10 s to answer) finds the cut.
    assert!(
        eventually(60.0, || state_of_a() == Some(json!("failed"))),
        "on_a never failed: {:?}",
        state_of_a()
    );
    std::fs::write(&proceed, "").unwrap();
    let out = vitro.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // The other exporter's devices went on: its board answers on its serial console.
    let typed = std::fs::read_to_string(&after).unwrap();
    assert!(typed.contains("42"), "{typed}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let error = report["error"].as_str().unwrap();
    assert!(
        error.contains(&format!("plugin fixture@{} ended while the test bed was live", a.address)),
        "{error}"
    );
    assert!(error.contains("missed a ping"), "{error}");
    let on_a = report["devices"].as_array().unwrap().iter().find(|d| d["name"] == "on_a").unwrap().clone();
    assert_eq!(on_a["plugin"], format!("fixture@{}", a.address));
    // Released: the shutdown hook ran for every device that could be reached.
    let trace = std::fs::read_to_string(&trace).unwrap();
    for name in ["here", "on_b", "on_b2"] {
        assert!(trace.lines().any(|l| l == format!("{name} shutdown")), "{name} was not shut down:\n{trace}");
    }
    assert!(!trace.contains("on_a shutdown"), "{trace}");
    let plugins: Vec<String> = report["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(plugins.contains(&format!("fixture@{}", b.address)), "{plugins:?}");
    // The boards' console logs were streamed here and written by vitro (the plugins there were
    // given no directory), in the plugins' format: timestamped clean lines.
    let log = std::fs::read_to_string(logs.join("on_b_console.txt")).unwrap();
    assert!(log.lines().any(|l| l.starts_with("[20") && l.ends_with("Z] 42")), "{log}");
    assert!(logs.join("on_a_console.txt").exists());
    // Nothing of the bed is left on the exporter that stayed reachable.
    assert!(eventually(10.0, || !b.pids().into_iter().any(is_fixture_plugin)), "a plugin was left on b");
}
