//! Device templates: declarations checked at start, `vitro templates ...`.

use serde_json::json;

use crate::deploy::{env, stderr, Bed};

#[test]
fn a_type_that_declares_a_template_without_its_required_methods_fails_at_start() {
    let bed = Bed::new("template-missing", json!([{"name": "board", "type": "fixture"}]), env());
    let out = bed.run(&[bed.plugin("--implements lan@1")], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(
            "error: plugin fixture: device type fixture declares template lan@1, but lacks its required \
             method execute_command (from linux_host@1, which it extends)"
        ),
        "{err}"
    );
    assert!(err.contains("lacks its required method release_dhcp"), "every missing method is named: {err}");
    assert!(bed.trace().iter().all(|l| l.starts_with("plugin ")), "nothing was deployed: {:?}", bed.trace());
}

/// A bed of two simulated outlets (`power@1`), one of which reports a state the template does
/// not allow; `script` runs under `vitro run`.
fn powerstrip_bed(name: &str, script: &str) -> (Bed, std::process::Output) {
    let bed = Bed::new(
        name,
        json!([
            {"name": "good", "type": "outlet", "state": "on"},
            {"name": "bad", "type": "outlet", "report": "dimmed"}
        ]),
        env(),
    );
    let out = run_powerstrip(&bed, script);
    (bed, out)
}

/// `vitro run` of `bed` with the power strip plugin, `script` as its command (`$VITRO` is vitro).
fn run_powerstrip(bed: &Bed, script: &str) -> std::process::Output {
    let plugin = format!(
        "{} {}/plugins/vitro-plugin-powerstrip",
        vitro_e2e::test_python().display(),
        env!("CARGO_MANIFEST_DIR")
    );
    let vitro = vitro_e2e::target_bin("vitro");
    let out = std::process::Command::new(&vitro)
        .args(["run", "--no-path", "--plugin", &plugin, "--board-name", "bench", "--env-config"])
        .arg(bed.path("environment.json"))
        .arg("--inventory-config")
        .arg(bed.path("inventory.json"))
        .args(["--", "sh", "-c", script])
        .env("VITRO", &vitro)
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    bed.assert_nothing_left();
    out
}

#[test]
fn the_live_check_names_device_method_schema_path_and_value() {
    let (_bed, out) = powerstrip_bed("template-check", "\"$VITRO\" templates check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "a failed check fails the command: {stdout}\n{}", stderr(&out));
    assert!(stdout.contains("passed  good power@1 get_power_state {}"), "{stdout}");
    assert!(
        stdout.contains("FAILED  bad power@1 get_power_state {}: \"dimmed\" is not one of \"on\" or \"off\""),
        "{stdout}"
    );
    assert!(stdout.contains("(schema path /enum, at \"\" of the result: \"dimmed\")"), "{stdout}");
    assert!(stdout.contains("1 passed, 1 failed, 0 errors"), "{stdout}");
}

#[test]
fn templates_list_on_a_held_bed_names_the_devices_of_each() {
    let (_bed, out) = powerstrip_bed(
        "template-list",
        "\"$VITRO\" templates list --format json && \"$VITRO\" templates show power",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", stderr(&out));
    let json_end = stdout.find("\n]").expect("the JSON list") + 2;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout[..json_end]).unwrap();
    let power = rows.iter().find(|r| r["template"] == "power@1").unwrap();
    assert_eq!(power["devices"], json!(["bad", "good"]));
    assert_eq!(rows.iter().find(|r| r["template"] == "lan@1").unwrap()["devices"], json!([]));
    assert!(stdout.contains("devices: bad, good"), "{stdout}");
}

/// A device whose plugin never answers its template calls: the check waits out one call, skips
/// the device's others with a word, says meanwhile what it waits for, and ends.
#[test]
fn a_plugin_that_does_not_answer_costs_the_check_one_call_deadline() {
    let bed = Bed::new("template-silent", json!([{"name": "stuck", "type": "silent_host"}]), env());
    let out = run_powerstrip(&bed, "\"$VITRO\" templates check --format json");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 4, "{results:?}");
    let messages: Vec<&str> = results.iter().map(|r| r["message"].as_str().unwrap_or_default()).collect();
    assert!(messages[0].contains("within"), "{messages:?}");
    for message in &messages[1..] {
        assert!(
            message.starts_with("not called: plugin powerstrip did not answer")
                && message.contains("so the device's other calls were skipped"),
            "{messages:?}"
        );
    }
    assert!(err.contains("vitro templates check: still waiting for the live session"), "{err}");
}

/// Params of a template method are checked by `vitro` against the template before the driver
/// sees them: `invalid-params` naming the method, the template and the schema path.
#[test]
fn template_method_params_are_checked_before_they_reach_the_driver() {
    let client = env!("CARGO_BIN_EXE_session-client");
    let script = format!(
        "{client} call good power_cycle '{{\"off_seconds\": \"soon\"}}'; echo status=$?; \
         {client} call good power_cycle '[1, 2]'; echo status=$?; \
         {client} call good power_cycle '{{\"off_seconds\": 0}}'; echo status=$?; \
         {client} call good power_cycle '[0]'; echo status=$?"
    );
    let (_bed, out) = powerstrip_bed("template-params", &script);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(out.status.success(), "{stdout}\n{}", stderr(&out));
    assert!(
        lines[0]
            .starts_with("error invalid-params: good.power_cycle: the params do not fit template power@1:")
            && lines[0].contains("\"soon\" is not of type \"number\"")
            && lines[0].contains("schema path /properties/off_seconds/type"),
        "{stdout}"
    );
    assert_eq!(lines[1], "status=3");
    assert!(lines[2].contains("2 positional params, but it takes 1 at most"), "{stdout}");
    assert_eq!(lines[4], "true", "valid params reach the driver: {stdout}");
    assert_eq!(lines[6], "true", "{stdout}");
}

/// A device that implements `lan@1` implements the `linux_host@1` it extends: `templates list`
/// names it under both, and the check runs each method's examples once although the device
/// declares both templates.
#[test]
fn a_device_is_found_by_the_templates_its_template_extends() {
    let bed = Bed::new("template-bases", json!([{"name": "lanx", "type": "echo_lan"}]), env());
    let script = "\"$VITRO\" templates list --format json; \"$VITRO\" templates check --format json";
    let out = run_powerstrip(&bed, script);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", stderr(&out));
    let json_end = stdout.find("\n]").expect("the JSON list") + 2;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout[..json_end]).unwrap();
    for template in ["lan@1", "linux_host@1"] {
        let row = rows.iter().find(|r| r["template"] == template).unwrap();
        assert_eq!(row["devices"], json!(["lanx"]), "{template}");
    }
    let report: serde_json::Value = serde_json::from_str(stdout[json_end..].trim()).unwrap();
    let methods: Vec<&str> =
        report["results"].as_array().unwrap().iter().map(|r| r["method"].as_str().unwrap()).collect();
    let mut unique = methods.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(methods.len(), unique.len(), "an example ran twice: {methods:?}");
    assert_eq!(methods.len(), 6, "linux_host@1's five and lan@1's one: {methods:?}");
}
