//! `vitro config` against fixture pairs whose expected output the real Python Vitro 0.8.1
//! produced (`scripts/regen-config-fixtures`), and its errors on bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vitro_e2e::target_bin;

fn cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config")
}

fn vitro_config(case: &Path) -> Output {
    let board = std::fs::read_to_string(case.join("board.txt")).unwrap();
    Command::new(target_bin("vitro"))
        .args(["config", "--no-path", "--board-name", board.trim()])
        .arg("--env-config")
        .arg(case.join("environment.json"))
        .arg("--inventory-config")
        .arg(case.join("inventory.json"))
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

/// Compact JSON with the document's key order, so order differences count.
fn canonical(text: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(text).unwrap();
    serde_json::to_string(&value).unwrap()
}

#[test]
fn vitro_config_prints_what_python_vitro_0_8_1_prints_for_every_fixture() {
    let mut compared = 0;
    for entry in std::fs::read_dir(cases()).unwrap() {
        let case = entry.unwrap().path();
        let out = vitro_config(&case);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if let Ok(expected) = std::fs::read_to_string(case.join("expected.json")) {
            assert!(out.status.success(), "{}: {stderr}", case.display());
            assert_eq!(canonical(&stdout), canonical(&expected), "{}", case.display());
        } else {
            let python = std::fs::read_to_string(case.join("expected-error.txt")).unwrap();
            assert_eq!(
                out.status.code(),
                Some(1),
                "{}: Python failed ({python}) but vitro did not",
                case.display()
            );
            assert!(stderr.starts_with("error: "), "{stderr}");
            assert!(stderr.contains(".json"), "{}: the error names no file: {stderr}", case.display());
        }
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} fixture cases");
}

fn error_of(case: &str) -> String {
    let out = vitro_config(&cases().join(case));
    assert_eq!(out.status.code(), Some(1));
    String::from_utf8_lossy(&out.stderr).trim().to_owned()
}

#[test]
fn an_object_over_a_string_names_the_environment_place_the_device_and_the_pointer() {
    let err = error_of("err-not-object");
    assert!(err.contains("environment.json:5:16:"), "{err}");
    assert!(err.contains("device \"board\""), "{err}");
    assert!(err.contains("/options/wan"), "{err}");
    assert!(err.contains("inventory.json:2:"), "the inventory place: {err}");
}

#[test]
fn an_unknown_board_lists_the_boards_there() {
    let err = error_of("err-unknown-board");
    assert!(err.contains("inventory.json:1:1: board \"nope\" is not in the inventory"), "{err}");
    assert!(err.contains("bench-1, bench-2"), "{err}");
}

#[test]
fn a_missing_environment_def_says_what_to_add() {
    let err = error_of("err-no-env-def");
    assert!(err.contains("environment.json:1:1: `environment_def` is missing"), "{err}");
}

#[test]
fn an_unknown_location_lists_the_known_ones() {
    let err = error_of("err-unknown-location");
    assert!(err.contains("inventory.json:1:24: unknown location \"mars\""), "{err}");
    assert!(err.contains("earth"), "{err}");
}

#[test]
fn too_few_lan_or_wifi_devices_point_at_the_clients_list() {
    let lan = error_of("err-too-few-lan");
    assert!(lan.contains("asks for 2 LAN clients but the inventory has 1"), "{lan}");
    assert!(lan.contains("environment.json:1:50"), "{lan}");
    let wifi = error_of("err-too-few-wifi");
    assert!(wifi.contains("no Wi-Fi device of band \"5\""), "{wifi}");
}

#[test]
fn malformed_json_names_the_line_and_column() {
    let dir = vitro_e2e::TempDir::new("malformed");
    std::fs::write(dir.path().join("inventory.json"), "{\"b\": {\"devices\": [}\n").unwrap();
    std::fs::write(dir.path().join("environment.json"), "{}").unwrap();
    std::fs::write(dir.path().join("board.txt"), "b").unwrap();
    let out = vitro_config(dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("inventory.json:1:20: malformed JSON"), "{err}");
}

#[test]
fn the_fixture_files_fit_the_published_schemas_types() {
    for entry in std::fs::read_dir(cases()).unwrap() {
        let case = entry.unwrap().path();
        if !case.join("expected.json").exists() {
            continue;
        }
        let inventory = std::fs::read_to_string(case.join("inventory.json")).unwrap();
        let env = std::fs::read_to_string(case.join("environment.json")).unwrap();
        serde_json::from_str::<vitro_protocol::files::InventoryFile>(&inventory)
            .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        serde_json::from_str::<vitro_protocol::files::EnvironmentFile>(&env)
            .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
    }
}

/// Serves `body` to every request on 127.0.0.1 until the returned guard is dropped.
fn serve(body: String) -> (String, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/files/", listener.local_addr().unwrap());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopped = stop.clone();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    stream.set_nonblocking(false).unwrap();
                    let mut request = [0u8; 4096];
                    let n = stream.read(&mut request).unwrap_or(0);
                    let path = String::from_utf8_lossy(&request[..n])
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or("")
                        .to_owned();
                    let (status, text) = if path.ends_with("inventory.json") {
                        ("200 OK", body.clone())
                    } else {
                        ("404 Not Found", String::new())
                    };
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                        text.len()
                    );
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        }
    });
    (url, stop)
}

#[test]
fn config_files_can_come_from_an_http_url() {
    let case = cases().join("basic");
    let (url, stop) = serve(std::fs::read_to_string(case.join("inventory.json")).unwrap());
    let out = Command::new(target_bin("vitro"))
        .args(["config", "--board-name", "bench-1", "--inventory-config", &format!("{url}inventory.json")])
        .arg("--env-config")
        .arg(case.join("environment.json"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let expected = std::fs::read_to_string(case.join("expected.json")).unwrap();
    assert_eq!(canonical(&String::from_utf8_lossy(&out.stdout)), canonical(&expected));
    let missing = Command::new(target_bin("vitro"))
        .args(["config", "--board-name", "bench-1", "--inventory-config", &format!("{url}nope.json")])
        .arg("--env-config")
        .arg(case.join("environment.json"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("nope.json: cannot fetch it") && err.contains("404"), "{err}");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Runs `vitro config` on an inventory and environment given inline.
fn vitro_config_of(inventory: serde_json::Value, env: serde_json::Value, extra: &[&str]) -> Output {
    let dir = vitro_e2e::TempDir::new("secrets");
    std::fs::write(dir.path().join("inventory.json"), inventory.to_string()).unwrap();
    std::fs::write(dir.path().join("environment.json"), env.to_string()).unwrap();
    Command::new(target_bin("vitro"))
        .args(["config", "--no-path", "--board-name", "lab"])
        .arg("--env-config")
        .arg(dir.path().join("environment.json"))
        .arg("--inventory-config")
        .arg(dir.path().join("inventory.json"))
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn config_errors_and_output_never_show_secret_values() {
    use serde_json::json;
    let out = vitro_config_of(
        json!({"lab": {"devices": [{"name": "wan", "type": "x", "password": "hunter2"}]}}),
        json!({"environment_def": {"wan": {"password": {"nested": 1}}}}),
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("Base is not an object") && !err.contains("hunter2"), "{err}");
    let out = vitro_config_of(
        json!({"lab": {"devices": [{"name": "wifi", "type": "debian_wifi", "band": "2.4"}]}}),
        json!({"environment_def": {"wifi_clients": [{"band": "5", "passphrase": "open-sesame"}]}}),
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no Wi-Fi device of band \"5\"") && !err.contains("open-sesame"), "{err}");
    let bed = json!({"lab": {"devices": [{"name": "wan", "type": "x", "password": "hunter2", "api_token": "t0k"}]}});
    let env = json!({"environment_def": {}});
    let out = vitro_config_of(bed.clone(), env.clone(), &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains(r#""password": "********""#), "{text}");
    assert!(!text.contains("hunter2") && !text.contains("t0k"), "{text}");
    let out = vitro_config_of(bed, env, &["--show-secrets"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("hunter2") && text.contains("t0k"), "{text}");
}

#[test]
fn numbers_are_printed_as_written_big_integers_and_negative_zero_included() {
    let dir = vitro_e2e::TempDir::new("numbers");
    std::fs::write(
        dir.path().join("inventory.json"),
        r#"{"lab": {"devices": [{"name": "board", "type": "x", "serial": 12345678901234567890123, "offset": -0, "gain": 1.50}]}}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("environment.json"), r#"{"environment_def": {}}"#).unwrap();
    let out = Command::new(target_bin("vitro"))
        .args(["config", "--board-name", "lab", "--env-config"])
        .arg(dir.path().join("environment.json"))
        .arg("--inventory-config")
        .arg(dir.path().join("inventory.json"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for written in [r#""serial": 12345678901234567890123"#, r#""offset": -0"#, r#""gain": 1.50"#] {
        assert!(text.contains(written), "{written} is not in {text}");
    }
}

#[test]
fn vitro_config_knows_the_client_types_plugins_declare() {
    use serde_json::json;
    let inventory = json!({"lab": {"devices": [{"name": "board", "type": "fixture"}, {"name": "lan", "type": "fixture_lan"}]}});
    let env = json!({"environment_def": {"lan_clients": [{"vlan": 10}]}});
    let plain = vitro_config_of(inventory.clone(), env.clone(), &[]);
    assert_eq!(plain.status.code(), Some(1), "without the plugin fixture_lan is no LAN client");
    let fixture = env!("CARGO_BIN_EXE_vitro-plugin-fixture");
    let out = vitro_config_of(inventory, env, &["--plugin", fixture]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("client types as declared by the plugins fixture"), "{stderr}");
    let devices: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(devices[1]["vlan"], 10, "{devices}");
}

#[test]
fn config_files_are_read_through_the_types_that_make_their_published_schemas() {
    use serde_json::json;
    let board = json!({"lab": {"devices": [{"name": "board", "type": "x"}]}});
    let out = vitro_config_of(board, json!({"environment_def": ["not", "an", "object"]}), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("environment.json:1:") && err.contains("does not fit environment.schema.json"),
        "{err}"
    );
    let misplaced = json!({"lab": {"devices": [{"name": "board", "type": "x"}], "location": "here"},
                           "locations": {"here": {"devices": {"not": "a list"}}}});
    let out = vitro_config_of(misplaced, json!({"environment_def": {}}), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("inventory.json:1:"), "{err}");
}
