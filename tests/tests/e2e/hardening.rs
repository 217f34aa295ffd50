//! Bad input and misuse that once crashed `vitro` or escaped it: each test reproduces one report
//! of the hardening issue and checks that it is now refused clearly, with nothing left behind.

use std::process::Command;

use serde_json::json;
use vitro_e2e::target_bin;

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
