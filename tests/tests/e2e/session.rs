//! `vitro run -- CMD` and the live session: CMD talks to the held bed through `VITRO_SESSION`.

use std::process::{Command, Output};

use serde_json::{json, Value};
use vitro_e2e::{eventually, processes_with, target_bin, TempDir};

const FIXTURE: &str = env!("CARGO_BIN_EXE_vitro-plugin-fixture");
const CLIENT: &str = env!("CARGO_BIN_EXE_session-client");

struct Bed {
    dir: TempDir,
    tag: String,
}

impl Bed {
    fn new(name: &str) -> Self {
        let dir = TempDir::new(name);
        let tag = format!("session-{name}-{}", std::process::id());
        let trace = dir.path().join("trace.txt");
        let devices = json!([
            {"name": "board", "type": "a", "trace": trace},
            {"name": "wan", "type": "b_server", "trace": trace},
        ]);
        std::fs::write(dir.path().join("inventory.json"), json!({"bench": {"devices": devices}}).to_string())
            .unwrap();
        std::fs::write(
            dir.path().join("environment.json"),
            json!({"environment_def": {"board": {"model": "m"}}}).to_string(),
        )
        .unwrap();
        Self { dir, tag }
    }

    fn run(&self, script: &str) -> Output {
        let plugin = |name: &str, types: &str| {
            format!(
                "{FIXTURE} --tag {} --name {name} --types {types} --trace {}",
                self.tag,
                self.dir.path().join("trace.txt").display()
            )
        };
        let out = Command::new(target_bin("vitro"))
            .env("CLIENT", CLIENT)
            .args([
                "run",
                "--no-path",
                "--plugin",
                &plugin("pa", "a"),
                "--plugin",
                &plugin("pb", "b"),
                "--board-name",
                "bench",
            ])
            .arg("--env-config")
            .arg(self.dir.path().join("environment.json"))
            .arg("--inventory-config")
            .arg(self.dir.path().join("inventory.json"))
            .args(["--", "sh", "-c", script])
            .output()
            .unwrap();
        assert!(
            eventually(5.0, || processes_with(&self.tag).is_empty()),
            "left behind: {:?}",
            processes_with(&self.tag)
        );
        out
    }

    fn trace(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("trace.txt")).unwrap_or_default()
    }
}

fn stdout_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
}

#[test]
fn a_command_lists_devices_calls_a_method_and_reads_the_config_through_the_session() {
    let bed = Bed::new("basic");
    let out = bed.run(r#"$CLIENT devices && $CLIENT call board echo '{"x": [1, 2]}' && $CLIENT config"#);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = stdout_lines(&out);
    let devices: Value = serde_json::from_str(&lines[0]).unwrap();
    let names: Vec<&str> = devices.as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["board", "wan"]);
    assert_eq!(devices[0]["plugin"], "pa");
    assert_eq!(devices[0]["state"], "ready");
    assert_eq!(devices[1]["role"], "server");
    assert_eq!(lines[1], r#"{"x":[1,2]}"#);
    let config: Value = serde_json::from_str(&lines[2]).unwrap();
    assert_eq!(config["devices"][0]["model"], "m");
    assert_eq!(config["env"]["environment_def"]["board"]["model"], "m");
    assert!(bed.trace().contains("board shutdown"), "released after the command");
}

#[test]
fn the_commands_exit_status_is_vitros() {
    let bed = Bed::new("status");
    let out = bed.run("$CLIENT devices >/dev/null && exit 7");
    assert_eq!(out.status.code(), Some(7), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(bed.trace().contains("plugin release \"success\""));
}

#[test]
fn several_clients_at_once_and_one_that_disconnects_mid_call_harm_nothing() {
    let bed = Bed::new("many");
    let script = r#"
        timeout -s KILL 0.3 $CLIENT call board sleep '{"ms": 3000}'
        $CLIENT call board sleep '{"ms": 300}' > a.out &
        $CLIENT call wan echo '"w"' > b.out &
        $CLIENT devices > c.out &
        wait
        cat a.out b.out
        $CLIENT call board sleeps_cancelled
    "#;
    let out = bed.run(&format!("cd {} && {script}", bed.dir.path().display()));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = stdout_lines(&out);
    assert_eq!(&lines[..2], [r#""slept""#, r#""w""#]);
    assert_eq!(lines[2], "1", "the killed client's call was cancelled in the plugin");
}

#[test]
fn a_plugin_killed_while_live_fails_its_calls_and_the_session_goes_on() {
    let bed = Bed::new("killed");
    let script = r#"
        $CLIENT call board kill
        echo "kill status $?"
        $CLIENT devices
        $CLIENT call wan echo 1
    "#;
    let out = bed.run(script);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "a plugin that died while live fails the run: {stderr}");
    assert!(
        stderr.contains("deployment failed in session: plugin pa ended while the test bed was live"),
        "{stderr}"
    );
    let lines = stdout_lines(&out);
    assert!(lines[0].starts_with("error peer-gone: plugin pa was killed by signal 9"), "{lines:#?}");
    assert_eq!(lines[1], "kill status 3");
    let devices: Value = serde_json::from_str(&lines[2]).unwrap();
    assert_eq!(devices[0]["state"], "failed");
    assert_eq!(devices[1]["state"], "ready");
    assert_eq!(lines[3], "1");
    assert!(bed.trace().contains("wan shutdown"), "the rest is still released");
}

#[test]
fn an_unknown_device_is_a_clear_error_and_a_client_can_release_the_bed() {
    let bed = Bed::new("release");
    let out = bed.run("$CLIENT call nope echo; $CLIENT release; sleep 30");
    let lines = stdout_lines(&out);
    assert!(
        lines[0]
            .starts_with("error unknown-device: no device \"nope\" in this test bed (it has: board, wan)"),
        "{lines:#?}"
    );
    assert_eq!(out.status.code(), Some(1), "the command was stopped by the release");
    assert!(bed.trace().contains("board shutdown"));
}

#[test]
fn a_failed_setup_does_not_run_the_command() {
    let bed = Bed::new("setupfail");
    std::fs::write(bed.dir.path().join("environment.json"), "{}").unwrap();
    let marker = bed.dir.path().join("ran");
    let out = bed.run(&format!("touch {}", marker.display()));
    assert_eq!(out.status.code(), Some(1));
    assert!(!marker.exists());
}

#[test]
fn a_client_streams_a_console_types_into_it_and_marks_the_logs() {
    let dir = TempDir::new("consoles");
    let tag = format!("session-consoles-{}", std::process::id());
    let logs = dir.path().join("logs");
    let devices = json!([{
        "name": "board", "type": "fixture", "connection_type": "local_cmd",
        "conn_cmd": "env PS1='dev$ ' TERM=dumb bash --norc --noprofile -i", "prompt": "dev\\$ $",
    }]);
    std::fs::write(dir.path().join("inventory.json"), json!({"bench": {"devices": devices}}).to_string())
        .unwrap();
    std::fs::write(dir.path().join("environment.json"), json!({"environment_def": {}}).to_string()).unwrap();
    let script = r#"
        $CLIENT consoles board && $CLIENT console board console 'echo $((40 + 2))' 42 && $CLIENT marker 'test one starts'
        $CLIENT console-watch board console > watch.out &
        until grep -q watching watch.out 2>/dev/null; do sleep 0.05; done
        $CLIENT call board kill > /dev/null
        wait
        cat watch.out
    "#;
    let script = format!("cd {} && {script}", dir.path().display());
    let out = Command::new(target_bin("vitro"))
        .env("CLIENT", CLIENT)
        .args(["run", "--no-path", "--plugin", &format!("{FIXTURE} --tag {tag}"), "--board-name", "bench"])
        .arg("--env-config")
        .arg(dir.path().join("environment.json"))
        .arg("--inventory-config")
        .arg(dir.path().join("inventory.json"))
        .arg("--save-console-logs")
        .arg(&logs)
        .args(["--", "sh", "-c", &script])
        .output()
        .unwrap();
    assert!(eventually(5.0, || processes_with(&tag).is_empty()), "left behind: {:?}", processes_with(&tag));
    // The command kills the plugin on purpose, which fails the run once the command is done.
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = stdout_lines(&out);
    assert_eq!(lines[0], r#"["console"]"#);
    assert!(lines[1].contains("42"), "{lines:#?}");
    assert_eq!(lines[3], "watching");
    assert!(
        lines[4].starts_with(r#""closed: its plugin is gone: plugin fixture was killed by signal 9"#),
        "{lines:#?}"
    );
    let log = std::fs::read_to_string(logs.join("board_console.txt")).unwrap();
    assert!(log.contains("] echo $((40 + 2))") || log.contains("echo $((40 + 2))"), "{log}");
    assert!(log.contains("##### test one starts"), "{log}");
}

#[test]
fn env_req_is_matched_by_vitro_and_contingency_checks_run_on_the_devices() {
    let bed = Bed::new("envreq");
    let script = r#"
        $CLIENT env-req '{"environment_def": {"board": {"model": ["m", "n"]}}}'
        $CLIENT env-req '{"environment_def": {"board": {"model": "x"}}}'
        $CLIENT env-req '[{"starts_with": "x"}]' ; true
        $CLIENT env-req '{"environment_def": {"board": {"model": [{"starts_with": "m"}]}}}'
        $CLIENT contingency '{"environment_def": {}}'
    "#;
    let out = bed.run(script);
    let lines = stdout_lines(&out);
    assert_eq!(&lines[..2], ["true", "false"], "{lines:#?}");
    assert_eq!(lines[2], "false", "a top-level list of checks against an object is no match: {lines:#?}");
    assert!(lines[3].starts_with("error invalid-params: Invalid contains checks"), "{lines:#?}");
    assert_eq!(lines[4], r#"["board","wan"]"#);
    assert!(bed.trace().contains("board contingency-check") && bed.trace().contains("wan contingency-check"));
}

#[test]
fn a_call_with_an_endless_timeout_is_refused_and_the_session_goes_on() {
    let bed = Bed::new("endless");
    let call = r#"{"jsonrpc":"2.0","id":1,"method":"session/call","params":{"device":"board","method":"echo","params":1,"timeout":1e300}}"#;
    let out = bed.run(&format!("$CLIENT raw '{call}' && $CLIENT call board echo 2"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = stdout_lines(&out);
    let answer: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(answer["id"], 1);
    assert_eq!(answer["error"]["data"]["kind"], "invalid-params", "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("`timeout`: 1e300 is not"), "{answer}");
    assert_eq!(lines[1], "2");
}

#[test]
fn a_request_whose_id_cannot_be_read_is_answered_with_a_null_id() {
    let bed = Bed::new("badid");
    let script = r#"
        $CLIENT raw '{"jsonrpc":"2.0","id":{"x":1},"method":"session/devices"}'
        $CLIENT raw 'not json at all'
        $CLIENT raw '[{"jsonrpc":"2.0","id":1,"method":"session/devices"}]'
    "#;
    let out = bed.run(script);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answers: Vec<Value> = stdout_lines(&out).iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    let kinds: Vec<&Value> = answers.iter().map(|a| &a["error"]["data"]["kind"]).collect();
    assert_eq!(kinds, ["invalid-request", "parse-error", "invalid-request"], "{answers:#?}");
    assert!(answers.iter().all(|a| a["id"].is_null() && a.get("id").is_some()), "{answers:#?}");
    assert!(answers[2]["error"]["message"].as_str().unwrap().contains("batch"), "{answers:#?}");
}
