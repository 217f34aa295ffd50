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
