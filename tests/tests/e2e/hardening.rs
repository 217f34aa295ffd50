//! Bad input and misuse that once crashed `vitro` or escaped it: each test reproduces one report
//! of the hardening issue and checks that it is now refused clearly, with nothing left behind.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::json;
use vitro_e2e::{eventually, target_bin};

use crate::deploy::{env, stderr, Bed};

#[test]
fn a_huge_timeout_in_the_inventory_is_a_config_error_with_its_place_not_a_crash() {
    let bed = Bed::new(
        "hugetimeout",
        json!([
            {"name": "wan", "type": "fixture_server"},
            {"name": "board", "type": "fixture", "vitro_timeouts": {"boot": 1e20}},
        ]),
        env(),
    );
    let out = bed.run(&[bed.plugin("")], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("inventory.json:1:"), "{err}");
    assert!(err.contains("device \"board\": `vitro_timeouts.boot`: 1e20 is not"), "{err}");
    assert!(!bed.trace().iter().any(|l| l.ends_with(" boot")), "nothing boots on a bad config");
    assert_eq!(bed.report()["failed_phase"], "configuration");
}

#[test]
fn a_plugin_patch_that_sets_an_endless_timeout_is_refused_before_anything_boots() {
    let bed = Bed::new("patchtimeout", json!([{"name": "board", "type": "fixture"}]), env());
    let patch = r#"[{"op":"add","path":"/0/vitro_timeouts","value":{"boot":1e300}}]"#;
    let out = bed.run(&[format!("{} --patch '{patch}'", bed.plugin(""))], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("failed in config parsing: after config parsing: device \"board\""), "{err}");
    assert!(!bed.trace().contains(&"board boot".to_owned()));
}

#[test]
fn an_endless_handshake_timeout_is_a_usage_error() {
    for value in ["inf", "1e300", "-1", "soon"] {
        let out = Command::new(target_bin("vitro"))
            .args(["--no-path", "--handshake-timeout", value, "--board-name", "b", "--env-config", "e.json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{value}: {}", stderr(&out));
        assert!(stderr(&out).contains("--handshake-timeout"), "{}", stderr(&out));
        let listed = Command::new(target_bin("vitro"))
            .args(["plugins", "list", "--no-path", "--handshake-timeout", value])
            .output()
            .unwrap();
        assert_eq!(listed.status.code(), Some(2), "{value}: {}", stderr(&listed));
    }
}

#[test]
fn a_device_name_that_is_a_path_is_refused_and_no_log_escapes_the_log_directory() {
    for name in ["../../escaped", "/tmp/vitro-abs-evil", "new\nline"] {
        let bed = Bed::new(
            "badname",
            json!([{"name": name, "type": "fixture", "connection_type": "local_cmd", "conn_cmd": "true"}]),
            env(),
        );
        let logs = bed.path("deep/logs");
        let out = bed.run(&[bed.plugin("")], &["--save-console-logs", logs.to_str().unwrap()]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("inventory.json:1:") && err.contains("is not allowed"), "{err}");
        assert!(err.contains("ASCII letters, digits, `_`, `-` and `.`"), "{err}");
        assert!(!err.contains("new\nline"), "the name is printed escaped: {err}");
        assert!(!bed.path("escaped").exists() && !bed.path("deep/escaped").exists());
        assert!(!std::path::Path::new("/tmp/vitro-abs-evil").exists());
    }
}

#[test]
fn two_plugins_deploying_devices_of_the_same_name_is_an_error() {
    let bed =
        Bed::new("samename", json!([{"name": "board", "type": "a"}, {"name": "board", "type": "b"}]), env());
    let out = bed.run(&[bed.plugin("--name pa --types a"), bed.plugin("--name pb --types b")], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("device name \"board\" is used twice (first at line 1, column"), "{err}");
    assert!(bed.trace().iter().all(|l| l.starts_with("plugin ")), "nothing registered: {:?}", bed.trace());
}

const CLIENT: &str = env!("CARGO_BIN_EXE_session-client");

/// `vitro run` on `bed` with the fixture plugin, running the shell `script` (`$CLIENT` is the
/// session client).
fn vitro_run(bed: &Bed, script: &str) -> Command {
    let mut cmd = Command::new(target_bin("vitro"));
    cmd.env("CLIENT", CLIENT)
        .args(["run", "--no-path", "--plugin", &bed.plugin(""), "--board-name", "bench", "--env-config"])
        .arg(bed.path("environment.json"))
        .arg("--inventory-config")
        .arg(bed.path("inventory.json"))
        .args(["--", "sh", "-c", script])
        .stdin(Stdio::null());
    cmd
}

fn pid_in(path: &std::path::Path) -> i32 {
    std::fs::read_to_string(path).unwrap().trim().parse().unwrap()
}

/// Whether `pid` is a live (not zombie) process.
fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
}

#[test]
fn sigkill_of_vitro_takes_the_plugins_children_the_users_command_and_the_session_with_it() {
    let bed = Bed::new("sigkill", json!([{"name": "board", "type": "fixture"}]), env());
    let dir = bed.dir.path().display().to_string();
    let script = format!(
        "echo $VITRO_SESSION > {dir}/session.path; $CLIENT call board spawn_child > {dir}/child.pid; \
         echo $$ > {dir}/cmd.pid; exec sleep 600"
    );
    let mut vitro = vitro_run(&bed, &script).stderr(Stdio::null()).spawn().unwrap();
    assert!(eventually(30.0, || bed.path("cmd.pid").exists()), "the command never started");
    let (child, command) = (pid_in(&bed.path("child.pid")), pid_in(&bed.path("cmd.pid")));
    let session = std::fs::read_to_string(bed.path("session.path")).unwrap().trim().to_owned();
    assert!(running(child) && running(command) && std::path::Path::new(&session).exists());
    vitro.kill().unwrap();
    vitro.wait().unwrap();
    assert!(eventually(10.0, || !running(child)), "the plugin's child {child} outlived vitro");
    assert!(eventually(10.0, || !running(command)), "the user's command {command} outlived vitro");
    let dir = std::path::Path::new(&session).parent().unwrap().to_owned();
    assert!(eventually(10.0, || !dir.exists()), "the session directory {} is left", dir.display());
    bed.assert_nothing_left();
}

#[test]
fn ctrl_c_on_hold_stops_serving_before_the_release_and_removes_the_socket() {
    let bed = Bed::new(
        "holdint",
        json!([{"name": "board", "type": "fixture", "sleep_ms": {"shutdown": 1500}}]),
        env(),
    );
    let mut vitro = bed.command(&[bed.plugin("")], &["--hold"]).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(vitro.stderr.take().unwrap()).lines();
    let session = loop {
        let line = lines.next().expect("vitro ended before holding").unwrap();
        if let Some((_, path)) = line.split_once("VITRO_SESSION=") {
            break path.to_owned();
        }
    };
    let call = Command::new(CLIENT)
        .env("VITRO_SESSION", &session)
        .args(["call", "board", "sleep", r#"{"ms": 60000}"#])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        eventually(10.0, || bed.trace().contains(&"board call sleep".to_owned())),
        "the call never arrived"
    );
    // SAFETY: signalling the vitro process we started.
    unsafe { libc::kill(vitro.id() as i32, libc::SIGINT) };
    let answer = call.wait_with_output().unwrap();
    let answer = String::from_utf8_lossy(&answer.stdout);
    assert!(answer.starts_with("error released: the test bed is being released"), "{answer}");
    assert!(!std::path::Path::new(&session).exists(), "the socket is gone before the release ends");
    assert!(!bed.trace().contains(&"board shutdown".to_owned()) || vitro.try_wait().unwrap().is_none());
    let late = Command::new(CLIENT).env("VITRO_SESSION", &session).arg("devices").output().unwrap();
    assert_eq!(late.status.code(), Some(2), "no new client can connect during the release");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(vitro.wait().unwrap().code(), Some(130), "{rest:#?}");
    assert!(bed.trace().contains(&"board shutdown".to_owned()));
    assert!(!std::path::Path::new(&session).parent().unwrap().exists());
    bed.assert_nothing_left();
}

#[test]
fn ctrl_c_while_a_config_url_never_answers_stops_at_once() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/environment.json", silent.local_addr().unwrap());
    let bed = Bed::new("silenturl", json!([{"name": "board", "type": "fixture"}]), env());
    let deploy = {
        let mut cmd = Command::new(target_bin("vitro"));
        cmd.args(["--no-path", "--plugin", &bed.plugin(""), "--board-name", "bench", "--env-config", &url])
            .arg("--inventory-config")
            .arg(bed.path("inventory.json"));
        cmd
    };
    let config = {
        let mut cmd = Command::new(target_bin("vitro"));
        cmd.args(["config", "--board-name", "bench", "--env-config", &url, "--inventory-config"])
            .arg(bed.path("inventory.json"));
        cmd
    };
    for mut cmd in [deploy, config] {
        let vitro = cmd.stdin(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        // The fetch has started once vitro's connection arrives; the server never answers it.
        let (_connection, _) = silent.accept().unwrap();
        let asked = std::time::Instant::now();
        // SAFETY: signalling the vitro process we started.
        unsafe { libc::kill(vitro.id() as i32, libc::SIGINT) };
        let out = vitro.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
        assert!(
            asked.elapsed() < std::time::Duration::from_secs(10),
            "vitro waited {:?} for the URL (its fetch timeout is 30 s)",
            asked.elapsed()
        );
    }
    bed.assert_nothing_left();
}

#[test]
fn a_log_flood_from_a_plugin_keeps_vitros_memory_flat() {
    let bed = Bed::new("logflood", json!([{"name": "board", "type": "fixture"}]), env());
    let dir = bed.dir.path().display().to_string();
    // $PPID of the command is vitro.
    let script = format!(
        "$CLIENT call board log_flood '{{\"n\": 1000}}' > /dev/null && cat /proc/$PPID/status > {dir}/before && \
         $CLIENT call board log_flood '{{\"n\": 300000}}' && cat /proc/$PPID/status > {dir}/after"
    );
    let out = vitro_run(&bed, &script).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let peak = |file: &str| {
        let status = std::fs::read_to_string(bed.path(file)).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap().to_owned();
        line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap()
    };
    let (before, after) = (peak("before"), peak("after"));
    // Before the event queue was bounded, 300,000 records grew vitro by about 40 MiB.
    assert!(after < before + 16 * 1024, "300,000 log records grew vitro from {before} KiB to {after} KiB");
}
