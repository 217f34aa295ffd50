//! The interactive menu and console attach, driven in a real terminal under tmux.

use serde_json::json;
use vitro_e2e::tmux::Tmux;
use vitro_e2e::{eventually, processes_with, target_bin, TempDir};

const FIXTURE: &str = env!("CARGO_BIN_EXE_vitro-plugin-fixture");

#[test]
fn a_person_attaches_to_a_console_types_detaches_marks_and_quits() {
    let dir = TempDir::new("menu");
    let tag = format!("menu-{}", std::process::id());
    let trace = dir.path().join("trace.txt");
    let devices = json!([
        {"name": "wan", "type": "fixture_server", "trace": trace},
        {"name": "board", "type": "fixture", "trace": trace, "connection_type": "local_cmd",
         "conn_cmd": "env PS1='dev$ ' TERM=dumb bash --norc --noprofile -i", "prompt": "dev\\$ $"},
    ]);
    std::fs::write(dir.path().join("inventory.json"), json!({"bench": {"devices": devices}}).to_string())
        .unwrap();
    std::fs::write(dir.path().join("environment.json"), json!({"environment_def": {}}).to_string()).unwrap();
    let command = format!(
        "VITRO_PYTHON={} {} --no-path --plugin '{FIXTURE} --tag {tag}' --board-name bench --env-config {d}/environment.json \
         --inventory-config {d}/inventory.json --save-console-logs {d}/logs; echo VITRO-EXIT=$?; sleep 60",
        vitro_e2e::test_python().display(),
        target_bin("vitro").display(),
        d = dir.path().display()
    );
    let tmux = Tmux::start(&tag, &command);
    tmux.wait_for("q: release and quit");
    let screen = tmux.screen();
    let row = |start: &str| {
        screen.lines().find(|l| l.trim_start().starts_with(start)).unwrap_or_default().to_owned()
    };
    assert!(row("1  board").trim_end().ends_with("fixture           1"), "{screen}");
    assert!(row("2  wan").trim_end().ends_with("fixture_server    0"), "{screen}");
    tmux.keys(&["1", "Enter"]);
    tmux.wait_for("attached to board.console");
    tmux.wait_for("dev$");
    tmux.keys(&["echo hel''lo from a person", "Enter"]);
    tmux.wait_for("hello from a person");
    tmux.keys(&["C-]"]);
    tmux.wait_for("detached");
    tmux.keys(&["m", "Enter"]);
    tmux.wait_for("marker text:");
    tmux.keys(&["test two", "Enter"]);
    // Just above the prompt, after the menu printed again, so it stays in sight.
    tmux.wait_for("release and quit\nmarker written: \"##### test two\" is in every console log\n>");
    tmux.keys(&["p", "Enter"]);
    tmux.wait_for("Vitro test bed: devices.<name> for board, wan");
    tmux.keys(&["print('rust says', devices.wan.echo(value=6 * 7))", "Enter"]);
    tmux.wait_for("rust says {'value': 42}");
    tmux.keys(&["C-d"]);
    tmux.wait_for("ended: exit status: 0");
    tmux.keys(&["q", "Enter"]);
    tmux.wait_for("VITRO-EXIT=0");
    assert!(!tmux.screen().contains("not built yet"), "a real menu session says no more than it did");
    // The tmux shell's command line names the tag too; look for the plugin itself.
    let plugin_alive = || {
        processes_with(&tag).into_iter().any(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.split(|&b| b == 0).next() == Some(FIXTURE.as_bytes()))
        })
    };
    assert!(eventually(5.0, || !plugin_alive()), "the plugin survived");
    let log = std::fs::read_to_string(dir.path().join("logs/board_console.txt")).unwrap();
    assert!(log.contains("hello from a person") && log.contains("##### test two"), "{log}");
    let trace = std::fs::read_to_string(&trace).unwrap();
    assert!(trace.contains("board shutdown") && trace.contains("wan shutdown"), "{trace}");
}
