//! `vitro --board-name ...`: the whole lifecycle with real plugin processes.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use vitro_e2e::{eventually, processes_with, target_bin, TempDir};

const FIXTURE: &str = env!("CARGO_BIN_EXE_vitro-plugin-fixture");

/// A test bed on disk: inventory, environment, a trace file, and a unique tag for its plugins.
pub(crate) struct Bed {
    pub(crate) dir: TempDir,
    pub(crate) tag: String,
}

impl Bed {
    pub(crate) fn new(name: &str, devices: Value, env: Value) -> Self {
        let dir = TempDir::new(name);
        let tag = format!("bed-{name}-{}", std::process::id());
        let trace = dir.path().join("trace.txt");
        let devices: Vec<Value> = devices
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let mut d = d.clone();
                if d.get("trace").is_none() {
                    d["trace"] = json!(trace);
                }
                d
            })
            .collect();
        std::fs::write(
            dir.path().join("inventory.json"),
            json!({ "bench": { "devices": devices } }).to_string(),
        )
        .unwrap();
        std::fs::write(dir.path().join("environment.json"), env.to_string()).unwrap();
        Self { dir, tag }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn plugin(&self, extra: &str) -> String {
        format!("{FIXTURE} --tag {} --trace {} {extra}", self.tag, self.path("trace.txt").display())
    }

    pub(crate) fn command(&self, plugins: &[String], extra: &[&str]) -> Command {
        self.command_reporting_to(plugins, extra, &self.path("report.json"))
    }

    /// [`Bed::command`] with the report written to `report`.
    pub(crate) fn command_reporting_to(
        &self,
        plugins: &[String],
        extra: &[&str],
        report: &std::path::Path,
    ) -> Command {
        let mut cmd = Command::new(target_bin("vitro"));
        cmd.env_remove("RUST_LOG").arg("--no-path");
        for plugin in plugins {
            cmd.args(["--plugin", plugin]);
        }
        cmd.args(["--board-name", "bench", "--env-config"])
            .arg(self.path("environment.json"))
            .arg("--inventory-config")
            .arg(self.path("inventory.json"))
            .arg("--report")
            .arg(report)
            .args(extra);
        cmd
    }

    /// `vitro run` of this bed with `plugin` alone, `command` run on the held bed; no report.
    pub(crate) fn run_command(&self, plugin: &str, command: &[&str]) -> Command {
        let mut cmd = Command::new(target_bin("vitro"));
        cmd.env_remove("RUST_LOG")
            .args(["run", "--no-path", "--plugin", plugin, "--board-name", "bench", "--env-config"])
            .arg(self.path("environment.json"))
            .arg("--inventory-config")
            .arg(self.path("inventory.json"))
            .arg("--")
            .args(command)
            .stdin(Stdio::null());
        cmd
    }

    pub(crate) fn run(&self, plugins: &[String], extra: &[&str]) -> Output {
        let out = self.command(plugins, extra).stdin(Stdio::null()).output().unwrap();
        self.assert_nothing_left();
        out
    }

    pub(crate) fn trace(&self) -> Vec<String> {
        std::fs::read_to_string(self.path("trace.txt"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    pub(crate) fn report(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.path("report.json")).unwrap()).unwrap()
    }

    pub(crate) fn assert_nothing_left(&self) {
        assert!(
            eventually(5.0, || processes_with(&self.tag).is_empty()),
            "left behind: {:?}",
            processes_with(&self.tag)
        );
    }
}

pub(crate) fn env() -> Value {
    json!({ "environment_def": { "board": { "model": "test" } } })
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn position(trace: &[String], line: &str) -> usize {
    trace.iter().position(|l| l == line).unwrap_or_else(|| panic!("{line:?} not in {trace:#?}"))
}

#[test]
fn phases_run_in_python_vitros_order_and_release_follows() {
    let bed = Bed::new(
        "order",
        json!([
            {"name": "lan", "type": "fixture_attached"},
            {"name": "board", "type": "fixture"},
            {"name": "wan", "type": "fixture_server"},
        ]),
        env(),
    );
    let out = bed.run(&[bed.plugin("")], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let trace = bed.trace();
    let order = [
        "wan server-boot",
        "wan server-configure",
        "board device-boot",
        "board device-configure",
        "lan attached-boot",
        "lan attached-configure",
    ];
    // The fixture traces hooks by name; map each phase to its device and hook.
    let at = |device: &str, hook: &str| position(&trace, &format!("{device} {hook}"));
    let validated = ["wan", "board", "lan"].map(|d| at(d, "validate")).into_iter().max().unwrap();
    let setup_env = position(&trace, "plugin setupEnv {}");
    assert!(setup_env < at("wan", "validate").min(at("board", "validate")), "{trace:#?}");
    let steps: Vec<usize> = order
        .iter()
        .map(|step| {
            let (device, phase) = step.split_once(' ').unwrap();
            at(device, phase.rsplit('-').next().unwrap())
        })
        .collect();
    assert!(validated < steps[0], "{trace:#?}");
    assert!(steps.windows(2).all(|w| w[0] < w[1]), "{trace:#?}");
    let post = position(&trace, "plugin postSetup");
    assert!(steps[5] < post);
    let shutdowns = ["wan", "board", "lan"].map(|d| at(d, "shutdown"));
    let release = position(&trace, "plugin release \"success\"");
    assert!(shutdowns.iter().all(|&s| post < s && s < release), "{trace:#?}");
    let report = bed.report();
    assert_eq!(report["result"], "success");
    assert_eq!(report["devices"].as_array().unwrap().len(), 3);
    assert!(report["devices"][1]["phases"]["device boot"].as_f64().is_some(), "{report}");
    assert!(report["plugins"][0]["exit"].as_str().unwrap().contains("exited with status 0"), "{report}");
}

#[test]
fn a_phase_of_many_slow_devices_takes_as_long_as_one() {
    let devices: Vec<Value> = (0..24)
        .map(|i| json!({"name": format!("d{i:02}"), "type": if i % 2 == 0 { "a" } else { "b" }, "hook_ms": 300}))
        .collect();
    let bed = Bed::new("parallel", json!(devices), env());
    let plugins = [bed.plugin("--name pa --types a"), bed.plugin("--name pb --types b")];
    let started = Instant::now();
    let out = bed.run(&plugins, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = bed.report();
    let setup = report["durations"]["setup"].as_f64().unwrap();
    // validate, device boot, device configure: 3 phases of 300 ms; one after another would be 21.6 s.
    assert!((0.9..2.5).contains(&setup), "setup took {setup} s");
    assert!(started.elapsed() < Duration::from_secs(6));
}

#[test]
fn a_plugin_concurrency_limit_is_honoured() {
    let devices: Vec<Value> =
        (0..4).map(|i| json!({"name": format!("d{i}"), "type": "fixture", "hook_ms": 200})).collect();
    let bed = Bed::new("limit", json!(devices), env());
    let out = bed.run(&[bed.plugin("--max-concurrency 2")], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let setup = bed.report()["durations"]["setup"].as_f64().unwrap();
    // 3 phases, each 2 rounds of 200 ms.
    assert!((1.2..3.0).contains(&setup), "setup took {setup} s");
}

#[test]
fn skip_boot_runs_only_the_skip_boot_hooks_as_python_vitro_does() {
    let bed = Bed::new(
        "skip",
        json!([{"name": "board", "type": "fixture"}, {"name": "wan", "type": "fixture_server"}]),
        env(),
    );
    let out = bed.run(&[bed.plugin("")], &["--skip-boot"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let trace = bed.trace();
    assert!(
        trace.contains(&"board skip-boot".to_owned()) && trace.contains(&"wan skip-boot".to_owned()),
        "{trace:#?}"
    );
    let others = [" boot", " configure", " validate"];
    assert!(!trace.iter().any(|l| others.iter().any(|o| l.ends_with(o))), "{trace:#?}");
}

#[test]
fn ignored_devices_are_not_registered_and_a_warning_says_so() {
    let bed = Bed::new(
        "ignore",
        json!([{"name": "board", "type": "fixture"}, {"name": "flaky", "type": "fixture"}]),
        env(),
    );
    let out = bed.run(&[bed.plugin("")], &["--ignore-devices", "flaky,other"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("ignored (--ignore-devices)"), "{}", stderr(&out));
    assert!(!bed.trace().iter().any(|l| l.starts_with("flaky")));
    assert_eq!(bed.report()["devices"].as_array().unwrap().len(), 1);
}

#[test]
fn a_plugin_flag_appears_in_help_and_its_value_reaches_the_plugin() {
    let bed = Bed::new("flag", json!([{"name": "board", "type": "fixture"}]), env());
    let plugin = bed.plugin("--cli-arg acs-url");
    let help = bed.command(std::slice::from_ref(&plugin), &["--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("--acs-url <VALUE>") && text.contains("[plugin fixture]"), "{text}");
    bed.assert_nothing_left();
    let out = bed.run(&[plugin], &["--acs-url", "http://127.0.0.1:7547"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        bed.trace().contains(&r#"plugin setupEnv {"acs-url":"http://127.0.0.1:7547"}"#.to_owned()),
        "{:#?}",
        bed.trace()
    );
}

#[test]
fn a_config_parsing_plugin_patches_the_device_list() {
    let bed = Bed::new("patch", json!([{"name": "board", "type": "fixture", "fail": "boot"}]), env());
    let patch = r#"[{"op":"remove","path":"/0/fail"},{"op":"add","path":"/0/patched","value":true}]"#;
    let out = bed.run(&[format!("{} --patch '{patch}'", bed.plugin(""))], &[]);
    assert!(out.status.success(), "the patch removed the failure: {}", stderr(&out));
    assert!(bed.trace().contains(&"plugin parseConfig 1".to_owned()));
}

#[test]
fn a_reservation_plugin_supplies_the_inventory() {
    let bed = Bed::new("reserve", json!([]), env());
    let trace = bed.path("trace.txt");
    std::fs::write(
        bed.path("reserved.json"),
        json!({"devices": [{"name": "board", "type": "fixture", "trace": trace}]}).to_string(),
    )
    .unwrap();
    let plugin = format!("{} --reserve {}", bed.plugin(""), bed.path("reserved.json").display());
    let mut cmd = Command::new(target_bin("vitro"));
    cmd.args(["--no-path", "--plugin", &plugin, "--board-name", "bench", "--env-config"])
        .arg(bed.path("environment.json"));
    let out = cmd.output().unwrap();
    bed.assert_nothing_left();
    assert!(out.status.success(), "{}", stderr(&out));
    let trace = bed.trace();
    assert!(
        trace.contains(&"plugin reserve bench".to_owned()) && trace.contains(&"board boot".to_owned()),
        "{trace:#?}"
    );
}

#[test]
fn a_boot_failure_stops_later_phases_and_everything_is_still_released() {
    let bed = Bed::new(
        "bootfail",
        json!([
            {"name": "board", "type": "fixture", "fail": "boot"},
            {"name": "board2", "type": "fixture", "hook_ms": 100},
            {"name": "wan", "type": "fixture_server"},
            {"name": "lan", "type": "fixture_attached"},
        ]),
        env(),
    );
    let out = bed.run(&[bed.plugin("")], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("error: deployment failed in device boot: device boot failed: board (plugin fixture): board refuses to boot"),
        "{err}"
    );
    let trace = bed.trace();
    assert!(trace.contains(&"board2 boot".to_owned()), "the phase's other devices get their grace");
    assert!(!trace.iter().any(|l| l.ends_with(" configure") && !l.starts_with("wan")), "{trace:#?}");
    assert!(!trace.contains(&"lan boot".to_owned()), "later phases do not start: {trace:#?}");
    for device in ["board", "board2", "wan", "lan"] {
        assert!(trace.contains(&format!("{device} shutdown")), "{device} was not shut down: {trace:#?}");
    }
    assert!(trace.contains(&"plugin release \"failed\"".to_owned()), "{trace:#?}");
    let report = bed.report();
    assert_eq!(report["result"], "failed");
    assert_eq!(report["failed_phase"], "device boot");
    assert_eq!(report["devices"][0]["error"], "board refuses to boot");
}

#[test]
fn a_plugin_crashing_mid_phase_fails_the_run_and_the_other_plugins_devices_are_released() {
    let bed = Bed::new(
        "crash",
        json!([
            {"name": "board", "type": "a", "crash": "boot"},
            {"name": "other", "type": "b", "hook_ms": 200},
        ]),
        env(),
    );
    let out = bed.run(&[bed.plugin("--name pa --types a"), bed.plugin("--name pb --types b")], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("board (plugin pa): plugin pa exited with status 3"), "{err}");
    assert!(err.contains("board crashes in boot on purpose"), "the last stderr line is quoted: {err}");
    let trace = bed.trace();
    assert!(trace.contains(&"other shutdown".to_owned()), "{trace:#?}");
    assert!(trace.contains(&"plugin release \"failed\"".to_owned()), "{trace:#?}");
}

#[test]
fn a_failure_during_registration_still_releases_what_was_registered() {
    let bed = Bed::new(
        "register",
        json!([{"name": "board", "type": "fixture"}, {"name": "board2", "type": "fixture", "fail": "create"}]),
        env(),
    );
    let out = bed.run(&[bed.plugin("")], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("deployment failed in registration"), "{}", stderr(&out));
    assert!(stderr(&out).contains("board2 refuses to be created"), "{}", stderr(&out));
    assert_eq!(bed.trace().iter().filter(|l| *l == "board shutdown").count(), 1, "{:#?}", bed.trace());
    assert!(bed.trace().contains(&"plugin release \"failed\"".to_owned()));
}

#[test]
fn sigint_during_boot_releases_everything_and_exits_130() {
    let bed = Bed::new(
        "sigint",
        json!([{"name": "board", "type": "fixture", "sleep_ms": {"boot": 60000}}, {"name": "quick", "type": "fixture"}]),
        env(),
    );
    let mut child = bed.command(&[bed.plugin("")], &[]).stderr(Stdio::piped()).spawn().unwrap();
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let reader = {
        let lines = lines.clone();
        std::thread::spawn(move || {
            use std::io::BufRead;
            stderr.lines().map_while(Result::ok).for_each(|line| lines.lock().unwrap().push(line))
        })
    };
    let quick_booted = || {
        let lines = lines.lock().unwrap();
        lines.iter().any(|l| l.contains("] quick ") && l.contains("device boot") && l.contains("done in"))
    };
    assert!(eventually(10.0, || bed.trace().contains(&"board boot".to_owned())), "boot never started");
    assert!(eventually(10.0, quick_booted), "quick never finished its boot: {:#?}", lines.lock().unwrap());
    let started = Instant::now();
    // SAFETY: signalling the vitro process we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    reader.join().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(started.elapsed() < Duration::from_secs(10), "the release waited out the boot hook");
    bed.assert_nothing_left();
    let trace = bed.trace();
    assert!(trace.contains(&"board shutdown".to_owned()), "{trace:#?}");
    assert!(trace.contains(&"plugin release \"interrupted\"".to_owned()), "{trace:#?}");
    let report = bed.report();
    assert_eq!(report["result"], "interrupted");
    assert_eq!(report["failed_phase"], "device boot", "the interrupted phase is named: {report}");
    assert!(report["devices"][0]["phases"]["validate"].is_number(), "finished phases stay: {report}");
    assert!(
        report["devices"][0]["phases"]["device boot"].is_number(),
        "the cut-short hook is recorded: {report}"
    );
    let outcomes = |device: usize| -> Vec<(String, String)> {
        let hooks = report["devices"][device]["hooks"].as_array().unwrap();
        hooks
            .iter()
            .map(|h| (h["phase"].as_str().unwrap().into(), h["outcome"].as_str().unwrap().into()))
            .collect()
    };
    let (board, quick) = (outcomes(0), outcomes(1));
    assert!(board.contains(&("device boot".into(), "interrupted".into())), "{report}");
    assert!(quick.contains(&("device boot".into(), "passed".into())), "a hook that ended stays: {report}");
    assert!(report["devices"][1]["error"].is_null(), "{report}");
    assert!(report["durations"]["plugin start"].is_number(), "{report}");
    let phases: Vec<&str> =
        report["phases"].as_array().unwrap().iter().map(|p| p["phase"].as_str().unwrap()).collect();
    assert_eq!(phases, ["validate", "device boot"], "{report}");
}

#[test]
fn an_unknown_device_type_names_the_place_and_the_known_types() {
    let bed = Bed::new(
        "unknown",
        json!([{"name": "board", "type": "fixture"}, {"name": "dut", "type": "toaster"}]),
        env(),
    );
    let out = bed.run(&[bed.plugin("")], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("inventory.json:1:"), "{err}");
    assert!(err.contains("device \"dut\" has type \"toaster\", which no plugin provides"), "{err}");
    assert!(err.contains("fixture (plugin fixture), fixture_attached (plugin fixture)"), "{err}");
    let device_lines: Vec<String> = bed.trace().into_iter().filter(|l| !l.starts_with("plugin ")).collect();
    assert!(device_lines.is_empty(), "nothing was registered: {device_lines:#?}");
}

#[test]
fn a_deployment_without_a_board_and_no_plugin_to_reserve_one_is_a_usage_error() {
    let bed = Bed::new("noboard", json!([{"name": "board", "type": "fixture"}]), env());
    let out = Command::new(target_bin("vitro"))
        .args(["--no-path", "--plugin", &bed.plugin(""), "--env-config"])
        .arg(bed.path("environment.json"))
        .arg("--inventory-config")
        .arg(bed.path("inventory.json"))
        .output()
        .unwrap();
    bed.assert_nothing_left();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--board-name and --inventory-config are needed"), "{}", stderr(&out));
}

#[test]
fn legacy_is_refused_with_the_reason() {
    let bed = Bed::new("legacy", json!([{"name": "board", "type": "fixture"}]), env());
    let out = bed.run(&[bed.plugin("")], &["--legacy"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--legacy is not needed: `devices.<name>` always works"),
        "{}",
        stderr(&out)
    );
    assert!(bed.trace().iter().all(|l| l.starts_with("plugin ")), "nothing was deployed");
}

#[test]
fn a_deployment_without_env_config_is_a_usage_error() {
    let out = Command::new(target_bin("vitro")).args(["--no-path", "--board-name", "b"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--env-config is required"), "{}", stderr(&out));
}

#[test]
fn a_plugin_hook_deadline_can_be_changed_on_the_command_line() {
    let bed = Bed::new("hookdeadline", json!([{"name": "board", "type": "fixture"}]), env());
    let out = bed.run(&[bed.plugin("--setup-sleep-ms 60000")], &["--plugin-hook-timeout", "0.3"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("deployment failed in env setup: plugin fixture:"), "{err}");
    assert!(err.contains("within 300ms (--plugin-hook-timeout changes that)"), "{err}");
    assert!(bed.trace().contains(&"board shutdown".to_owned()), "{:#?}", bed.trace());
}

#[test]
fn a_broken_plugin_that_the_bed_does_not_need_is_only_a_warning() {
    let bed = Bed::new("broken", json!([{"name": "board", "type": "fixture"}]), env());
    let broken = "/nonexistent/vitro-plugin-gone".to_owned();
    let out = bed.run(&[bed.plugin(""), broken.clone()], &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("warning: cannot start plugin gone"), "{err}");
    let needy = Bed::new("brokenneeded", json!([{"name": "board", "type": "toaster"}]), env());
    let out = needy.run(&[needy.plugin(""), broken], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("which no plugin provides; these plugins failed to start and may provide it"),
        "{err}"
    );
    assert!(err.contains("/nonexistent/vitro-plugin-gone"), "{err}");
}

#[test]
fn a_config_that_breaks_its_types_config_schema_is_refused_at_its_place_before_anything_is_created() {
    let schema = r#"{"type":"object","required":["serial"],"properties":{"serial":{"type":"string"}}}"#;
    let bed = Bed::new(
        "schema",
        json!([{"name": "wan", "type": "fixture_server", "serial": "x"}, {"name": "board", "type": "fixture", "serial": 5}]),
        env(),
    );
    let out = bed.run(&[format!("{} --config-schema '{schema}'", bed.plugin(""))], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("inventory.json:1:"), "{err}");
    assert!(
        err.contains("device \"board\" does not fit the config_schema of type fixture (plugin fixture)"),
        "{err}"
    );
    assert!(err.contains("5 is not of type \"string\" (at /serial)"), "{err}");
    assert!(bed.trace().iter().all(|l| l.starts_with("plugin ")), "nothing was created: {:?}", bed.trace());
}
