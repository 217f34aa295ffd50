//! The second reading's red team (issue 20): each test reproduces one of its failed cases
//! through real processes and checks that it is now refused, bounded or escaped.

use serde_json::json;

use crate::deploy::{env, stderr, Bed};

#[test]
fn an_exporter_host_that_starts_with_a_dash_is_refused_and_runs_nothing() {
    let bed = Bed::new("dashhost", json!([{"name": "board", "type": "fixture"}]), env());
    let pwned = bed.path("pwned");
    let host = format!("-oProxyCommand=touch${{IFS}}{}", pwned.display());
    let inventory = json!({"bench": {"devices": [
        {"name": "board", "type": "fixture", "vitro_plugin_host": host, "trace": bed.path("trace.txt")},
    ]}});
    std::fs::write(bed.path("inventory.json"), inventory.to_string()).unwrap();
    let out = bed.run(&[bed.plugin("")], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("device board: vitro_plugin_host") && err.contains("starts with '-'"), "{err}");
    assert!(!pwned.exists(), "ssh read the host as an option and ran its ProxyCommand");
    assert!(!bed.trace().iter().any(|l| l.ends_with(" boot")), "nothing boots: {:?}", bed.trace());
}

/// Terminal control characters that text from a plugin must never carry to a terminal raw.
const RAW_CONTROLS: [char; 7] = ['\u{1b}', '\u{7}', '\0', '\r', '\u{8}', '\u{202e}', '\u{9b}'];

#[test]
fn a_plugins_error_reaches_the_terminal_escaped() {
    let message = "boom\u{1b}]0;pwned\u{7}\0\r\u{8}\u{202e}txt";
    let bed = Bed::new(
        "controls",
        json!([{"name": "board", "type": "fixture", "fail": "boot", "fail_message": message}]),
        env(),
    );
    let out = bed.run(&[bed.plugin("")], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let closing = err.lines().find(|l| l.starts_with("error: deployment failed")).expect(&err);
    assert!(closing.contains("boom\\u{1b}]0;pwned\\u{7}\\u{0}\\r\\u{8}\\u{202e}txt"), "{closing:?}");
    for c in RAW_CONTROLS {
        assert!(!err.contains(c), "{c:?} reached the terminal raw: {err:?}");
    }
    // The report keeps the plugin's words as they were.
    assert!(bed.report()["error"].as_str().unwrap().contains(message));
}

/// A bed of three LAN clients and an environment that asks for one: the merge's result is
/// kept (Python Vitro drops the same devices), but nothing is dropped without a word.
#[test]
fn lan_clients_the_environment_does_not_ask_for_are_named_not_dropped_silently() {
    let bed = Bed::new(
        "leftout",
        json!([
            {"name": "board", "type": "fixture"},
            {"name": "lanA", "type": "fixture_lan"},
            {"name": "lanB", "type": "fixture_lan"},
            {"name": "lanC", "type": "fixture_lan"},
        ]),
        json!({"environment_def": {
            "board": {"model": "test", "lan_clients": [{"vlan": 10}]},
            "lanB": {"vlan": 20},
            "ghost": {"model": "none"},
        }}),
    );
    let out = bed.run(&[bed.plugin("")], &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let asks = "the environment asks for 1 LAN client (lan_clients at ";
    assert!(err.contains(asks) && err.contains("); lanB, lanC are not deployed"), "{err}");
    assert!(err.contains("entry for \"lanB\" (") && err.contains("is a LAN or Wi-Fi client"), "{err}");
    assert!(
        err.contains("entry for \"ghost\" (") && err.contains("matches no device of board bench"),
        "{err}"
    );
    assert!(err.contains("deployed 2 devices"), "{err}");
    let left_out = bed.report()["left_out"].as_array().unwrap().clone();
    assert_eq!(left_out.len(), 3, "{left_out:?}");
    assert!(left_out[0].as_str().unwrap().contains("lanB, lanC are not deployed"));
    let booted: Vec<String> = bed.trace().into_iter().filter(|l| l.ends_with(" boot")).collect();
    assert!(booted.iter().any(|l| l.starts_with("lanA ")) && !booted.iter().any(|l| l.starts_with("lanB ")));

    // `vitro config` says the same, its output unchanged.
    let config = std::process::Command::new(vitro_e2e::target_bin("vitro"))
        .args(["config", "--no-path", "--plugin", &bed.plugin(""), "--board-name", "bench"])
        .arg("--env-config")
        .arg(bed.path("environment.json"))
        .arg("--inventory-config")
        .arg(bed.path("inventory.json"))
        .output()
        .unwrap();
    let err = stderr(&config);
    assert!(config.status.success(), "{err}");
    let devices: serde_json::Value = serde_json::from_slice(&config.stdout).unwrap();
    assert_eq!(devices.as_array().unwrap().len(), 2);
    assert!(
        err.contains("warning: the environment asks for 1 LAN client") && err.contains("lanB, lanC"),
        "{err}"
    );
    assert!(err.contains("warning: the environment's entry for \"ghost\""), "{err}");
}

/// `vitro config` on the demo's own files: without its plugins it names the types it could not
/// count; with the demo's plugins on PATH as the README puts them, it passes.
#[test]
fn vitro_config_on_the_demo_files_names_unknown_types_and_passes_with_the_demos_plugins() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let demo = root.join("examples/demo");
    let config = |path: Option<String>, extra: &[&str]| {
        let mut cmd = std::process::Command::new(vitro_e2e::target_bin("vitro"));
        cmd.arg("config").args(extra).args(["--board-name", "demo"]);
        cmd.arg("--env-config").arg(demo.join("environment.json"));
        cmd.arg("--inventory-config").arg(demo.join("inventory.json"));
        if let Some(path) = path {
            cmd.env("PATH", path);
        }
        cmd.env_remove("RUST_LOG").output().unwrap()
    };
    let out = config(None, &["--no-path"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the inventory's types lan_client, linux_server, py_lan_client, serial_board may be clients too, but no plugin was asked"),
        "{err}"
    );
    // The README's PATH: the built Rust plugins, the Python example plugins, the virtualenv.
    let python_bin = vitro_e2e::test_python().parent().unwrap().to_owned();
    let bin = vitro_e2e::target_bin("vitro-plugin-linux").parent().unwrap().to_owned();
    let path = [
        bin,
        root.join("examples/python-lan"),
        root.join("examples/python-serial-board"),
        python_bin,
        "/usr/bin".into(),
        "/bin".into(),
    ]
    .map(|p| p.display().to_string())
    .join(":");
    let out = config(Some(path), &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let devices: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = devices.as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["board", "wan", "lan", "lan2"], "{err}");
}

/// Whether a thread of process `pid` waits to open a FIFO nobody has opened for reading.
fn opening_a_fifo(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return false };
    tasks.flatten().any(|task| {
        std::fs::read_to_string(task.path().join("wchan")).is_ok_and(|w| w.trim() == "wait_for_partner")
    })
}

#[test]
fn a_report_that_cannot_be_written_is_found_before_the_deployment() {
    let bed = Bed::new("reportdir", json!([{"name": "board", "type": "fixture"}]), env());
    let missing = bed.path("missing-dir/r.html");
    let out = bed
        .command_reporting_to(&[bed.plugin("")], &[], &missing)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    bed.assert_nothing_left();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("missing-dir does not exist; create it first"), "{err}");
    assert!(bed.trace().is_empty(), "nothing is deployed: {:?}", bed.trace());
}

#[test]
fn vitro_report_refuses_to_overwrite_its_input() {
    let bed = Bed::new("reportself", json!([{"name": "board", "type": "fixture"}]), env());
    assert!(bed.run(&[bed.plugin("")], &[]).status.success());
    let json = bed.path("report.json");
    let before = std::fs::read(&json).unwrap();
    let link = bed.path("same.json");
    std::fs::hard_link(&json, &link).unwrap();
    for output in [&json, &link] {
        let out = std::process::Command::new(vitro_e2e::target_bin("vitro"))
            .arg("report")
            .arg(&json)
            .arg("-o")
            .arg(output)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("is the report being read"), "{}", stderr(&out));
    }
    assert_eq!(std::fs::read(&json).unwrap(), before);
}

/// A report is written beside its file and renamed over it: a process killed while writing
/// leaves the old report, never half of one. A hard link to the old file keeps the old text.
#[test]
fn a_report_replaces_the_old_one_whole() {
    let bed = Bed::new("reportwhole", json!([{"name": "board", "type": "fixture"}]), env());
    let html = bed.path("r.html");
    std::fs::write(&html, "old report").unwrap();
    std::fs::hard_link(&html, bed.path("old.html")).unwrap();
    let out = bed
        .command_reporting_to(&[bed.plugin("")], &[], &html)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read_to_string(&html).unwrap().starts_with("<!DOCTYPE html>"));
    assert_eq!(std::fs::read_to_string(bed.path("old.html")).unwrap(), "old report");
    let strays: Vec<_> = std::fs::read_dir(bed.dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".vitro-report-"))
        .collect();
    assert!(strays.is_empty(), "{strays:?}");
}

/// A FIFO nobody reads as `--report`: vitro blocks opening it, and Ctrl-C ends the wait with
/// exit 130 and a word; SIGTERM does the same with 143.
#[test]
fn a_signal_ends_a_report_write_that_blocks() {
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let bed = Bed::new("reportfifo", json!([{"name": "board", "type": "fixture"}]), env());
        let fifo = bed.path("report.fifo");
        let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let mut child = bed
            .command_reporting_to(&[bed.plugin("")], &[], &fifo)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        assert!(vitro_e2e::eventually(120.0, || opening_a_fifo(pid)), "vitro never came to the report");
        assert_eq!(unsafe { libc::kill(pid as i32, signal) }, 0);
        let ended = vitro_e2e::eventually(60.0, || child.try_wait().unwrap().is_some());
        if !ended {
            let _ = child.kill();
        }
        let out = child.wait_with_output().unwrap();
        assert!(ended, "the signal did not end the wait: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{err}");
        assert!(err.contains("was not written: interrupted"), "{err}");
        bed.assert_nothing_left();
    }
}

/// Resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap_or("VmRSS: 0 kB");
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// Thousands of session connections at once, each with a ping answered: `vitro`'s memory per
/// connection stays small, and it is given back when they close.
#[test]
fn many_session_connections_cost_little_memory_and_give_it_back() {
    use std::io::{BufRead, BufReader, Write};
    // Room for the connections in this process and in vitro (which inherits the limit).
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) }, 0);
    limit.rlim_cur = limit.rlim_max;
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
    let count = (limit.rlim_max as usize / 2).saturating_sub(200).min(4000);
    assert!(count >= 500, "the file limit ({}) leaves room for only {count} connections", limit.rlim_max);

    let bed = Bed::new("sessionmemory", json!([{"name": "board", "type": "fixture"}]), env());
    let session = bed.path("session");
    let done = bed.path("done");
    let script = format!(
        "echo $VITRO_SESSION > {}; while [ ! -e {} ]; do sleep 0.05; done",
        session.display(),
        done.display()
    );
    let vitro = bed
        .run_command(&bed.plugin(""), &["sh", "-c", &script])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Ended whatever happens below.
    let mut vitro = Killed(vitro);
    assert!(
        vitro_e2e::eventually(60.0, || std::fs::read_to_string(&session).is_ok_and(|s| s.ends_with('\n')))
    );
    let path = std::fs::read_to_string(&session).unwrap().trim().to_owned();
    let pid = vitro.0.id();
    let connect = || {
        let stream = std::os::unix::net::UnixStream::connect(&path).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        (&stream).write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$/ping\",\"params\":{}}\n").unwrap();
        let mut answer = String::new();
        reader.read_line(&mut answer).unwrap();
        assert!(answer.contains("\"result\""), "{answer}");
        stream
    };
    let baseline = rss_kib(pid);
    let held: Vec<_> = (0..count).map(|_| connect()).collect();
    let peak = rss_kib(pid);
    let per_connection = (peak.saturating_sub(baseline)) * 1024 / count as u64;
    eprintln!(
        "vitro's RSS: {baseline} KiB, {peak} KiB with {count} connections ({per_connection} bytes each)"
    );
    assert!(per_connection < 24 * 1024, "{per_connection} bytes a connection ({baseline} -> {peak} KiB)");
    drop(held);
    let given_back = vitro_e2e::eventually(60.0, || rss_kib(pid) < baseline + (peak - baseline) / 4 + 2048);
    let after = rss_kib(pid);
    eprintln!("vitro's RSS after they closed: {after} KiB");
    assert!(given_back, "RSS {after} KiB after the connections closed (baseline {baseline}, peak {peak})");
    std::fs::write(&done, "").unwrap();
    assert!(vitro.0.wait().unwrap().success());
    bed.assert_nothing_left();
}

/// A child process that is killed when dropped (a failed assertion leaves none behind).
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_deployment_without_a_terminal_says_why_it_releases_at_once() {
    let bed = Bed::new("noterminal", json!([{"name": "board", "type": "fixture"}]), env());
    let out = bed.run(&[bed.plugin("")], &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("vitro: no terminal for the menu") && err.contains("use --hold"), "{err}");
    let held = bed.run_command(&bed.plugin(""), &["true"]).output().unwrap();
    assert!(held.status.success(), "{}", stderr(&held));
    assert!(!stderr(&held).contains("no terminal"), "a command holds the bed: {}", stderr(&held));
}

#[test]
fn vitro_config_masks_credentials_not_settings_about_them() {
    let bed = Bed::new(
        "masking",
        json!([{"name": "wan", "type": "fixture_server", "key": "/keys/id", "host_key_check": "known-hosts",
                "ssh": {"private_key": "PEM"}}]),
        json!({"environment_def": {}}),
    );
    let out = std::process::Command::new(vitro_e2e::target_bin("vitro"))
        .args(["config", "--no-path", "--board-name", "bench", "--env-config"])
        .arg(bed.path("environment.json"))
        .arg("--inventory-config")
        .arg(bed.path("inventory.json"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let devices: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(devices[0]["host_key_check"], "known-hosts");
    assert_eq!(devices[0]["key"], "********");
    assert_eq!(devices[0]["ssh"]["private_key"], "********");
}

/// Ctrl-C on a held bed: the release hears `interrupted`, and the report says so.
#[test]
fn a_held_bed_ended_by_a_signal_is_released_as_interrupted() {
    let bed = Bed::new("heldsignal", json!([{"name": "board", "type": "fixture"}]), env());
    let child = bed
        .command(&[bed.plugin("")], &["--hold"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    // Its stderr, read to the end on a thread of its own (vitro must never find it closed).
    let (lines_tx, lines) = std::sync::mpsc::channel();
    let stderr_pipe = child.0.stderr.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut seen = Vec::new();
    while !seen.last().is_some_and(|l: &String| l.starts_with("vitro: holding the test bed")) {
        match lines.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(line) => seen.push(line),
            Err(e) => panic!("vitro never held the bed ({e}): {seen:?}"),
        }
    }
    assert_eq!(unsafe { libc::kill(child.0.id() as i32, libc::SIGINT) }, 0);
    assert!(vitro_e2e::eventually(60.0, || child.0.try_wait().unwrap().is_some()), "vitro did not end");
    assert_eq!(child.0.wait().unwrap().code(), Some(130));
    assert!(bed.trace().contains(&"plugin release \"interrupted\"".to_owned()), "{:?}", bed.trace());
    assert_eq!(bed.report()["result"], "interrupted");
}

/// The log level `initialize` asks of plugins follows `-v`: a plugin need not send records
/// that `vitro` would drop.
#[test]
fn the_log_level_asked_of_plugins_follows_verbosity() {
    let dir = vitro_e2e::TempDir::new("loglevel");
    let script = dir.path().join("probe.sh");
    std::fs::write(
        &script,
        r#"read -r request
printf '%s\n' "$request" > "$1"
echo '{"jsonrpc":"2.0","id":1,"result":{"protocol_version":{"major":1,"minor":0},"plugin":{"name":"probe","version":"0.0.1","sdk":"none"},"device_types":[],"capabilities":[]}}'
while read -r line; do
  id=$(printf '%s' "$line" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
  case "$line" in
    *'"method":"exit"'*) exit 0 ;;
    *'"id":'*) echo "{\"jsonrpc\":\"2.0\",\"id\":$id,\"result\":{}}" ;;
  esac
done
"#,
    )
    .unwrap();
    for (flags, level) in
        [(&[][..], "warn"), (&["-v"][..], "info"), (&["-vv"][..], "debug"), (&["-vvv"][..], "trace")]
    {
        let seen = dir.path().join("initialize.json");
        let _ = std::fs::remove_file(&seen);
        let plugin = format!("sh {} {}", script.display(), seen.display());
        let out = std::process::Command::new(vitro_e2e::target_bin("vitro"))
            .args(flags)
            .args(["plugins", "list", "--no-path", "--plugin", &plugin])
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        assert!(out.status.success(), "{flags:?}: {}", stderr(&out));
        let request: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&seen).unwrap()).unwrap();
        assert_eq!(request["params"]["log_level"], level, "{flags:?}");
    }
}

/// A plugin whose file and handshake disagree on its name is named by its handshake everywhere,
/// its `$/log` lines included, and `vitro` says that the two differ.
#[test]
fn a_plugin_is_named_by_its_handshake_everywhere() {
    let bed = Bed::new("pluginname", json!([{"name": "board", "type": "fixture"}]), env());
    let file = bed.path("vitro-plugin-both");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_vitro-plugin-fixture"), &file).unwrap();
    let plugin = format!("{} --name nodelan --trace {}", file.display(), bed.path("trace.txt").display());
    let client = env!("CARGO_BIN_EXE_session-client");
    let out = bed.run_command(&plugin, &[client, "call", "board", "log"]).output().unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("plugin file vitro-plugin-both calls itself nodelan in its handshake"), "{err}");
    let record = err.lines().find(|l| l.contains("a warning from the fixture")).expect(&err);
    assert!(record.contains("plugin=nodelan") || record.contains("plugin=\"nodelan\""), "{record}");
    assert!(!record.contains("both"), "{record}");
}

/// Progress lines that come while `vitro run`'s command runs wait for its end: they do not cut
/// the command's output (pytest's dots) on a shared terminal or file.
#[test]
fn progress_lines_wait_for_the_commands_output() {
    let bed = Bed::new("heldlines", json!([{"name": "board", "type": "fixture"}]), env());
    let client = env!("CARGO_BIN_EXE_session-client");
    let script =
        format!("printf 'dots:'; {client} call board flood '{{\"n\": 3}}' >/dev/null; printf 'end\\n'");
    let both = std::fs::File::create(bed.path("both.txt")).unwrap();
    let out = bed
        .run_command(&bed.plugin(""), &["sh", "-c", &script])
        .stdout(both.try_clone().unwrap())
        .stderr(both)
        .status()
        .unwrap();
    assert!(out.success());
    let text = std::fs::read_to_string(bed.path("both.txt")).unwrap();
    assert!(text.contains("dots:end\n"), "progress cut the command's output: {text}");
    let end = text.find("dots:end").unwrap();
    let step = text.find("step 2").expect(&text);
    assert!(step > end, "the progress lines come after the command: {text}");
}
