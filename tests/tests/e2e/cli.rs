//! The `vitro` binary: `plugins list`, and signals that must leave no plugin behind.

use std::process::{Command, Stdio};

use vitro_e2e::{eventually, processes_with, target_bin, TempDir};

const FIXTURE: &str = env!("CARGO_BIN_EXE_vitro-plugin-fixture");

fn vitro() -> Command {
    let mut cmd = Command::new(target_bin("vitro"));
    cmd.env_remove("RUST_LOG");
    cmd
}

#[test]
fn plugins_list_shows_plugins_on_path_and_warns_about_shadowed_and_unusable_files() {
    let dir = TempDir::new("list");
    let (first, second) = (dir.path().join("first"), dir.path().join("second"));
    std::fs::create_dir_all(&first).unwrap();
    std::fs::create_dir_all(&second).unwrap();
    std::os::unix::fs::symlink(FIXTURE, first.join("vitro-plugin-fixture")).unwrap();
    std::os::unix::fs::symlink(FIXTURE, second.join("vitro-plugin-fixture")).unwrap();
    std::fs::write(second.join("vitro-plugin-broken"), "not executable").unwrap();
    let path = std::env::join_paths([&first, &second]).unwrap();
    let out = vitro().args(["plugins", "list"]).env("PATH", path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let row = stdout.lines().find(|l| l.starts_with("fixture")).unwrap_or_else(|| panic!("{stdout}"));
    for cell in ["0.1.0", "1.0", "vitro-sdk-rust", "fixture (device)"] {
        assert!(row.contains(cell), "{row}");
    }
    assert!(row.contains(&first.join("vitro-plugin-fixture").display().to_string()), "{row}");
    assert!(stderr.contains("is shadowed by"), "{stderr}");
    assert!(stderr.contains("vitro-plugin-broken is not executable"), "{stderr}");
}

#[test]
fn plugins_list_speaks_json_for_programs() {
    let out = vitro()
        .args(["plugins", "list", "--format", "json", "--no-path", "--plugin", FIXTURE])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let listed: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    let plugin = &listed["plugins"][0];
    assert_eq!(plugin["name"], "fixture", "{listed}");
    assert_eq!(plugin["command"], FIXTURE, "{listed}");
    assert!(plugin["sdk"].as_str().unwrap().starts_with("vitro-sdk-rust "), "{listed}");
    let types = plugin["device_types"].as_array().unwrap();
    assert!(types.iter().any(|t| t["type"] == "fixture_server" && t["role"] == "server"), "{listed}");
    let out = vitro().args(["plugins", "list", "--format", "json", "--no-path"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{
  "plugins": []
}"#
    );
}

#[test]
fn a_plugin_command_replaces_the_path_plugin_that_runs_the_same_program() {
    let dir = TempDir::new("replace");
    std::os::unix::fs::symlink(FIXTURE, dir.path().join("vitro-plugin-fixture")).unwrap();
    let given = format!("{} --name mine", dir.path().join("vitro-plugin-fixture").display());
    let out = vitro().args(["plugins", "list", "--plugin", &given]).env("PATH", dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let names: Vec<&str> = stdout.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert!(names.contains(&"mine"), "{stdout}");
    assert!(!names.contains(&"fixture"), "the PATH one is replaced, not run beside it: {stdout}");
}

#[test]
fn an_unknown_subcommand_runs_the_vitro_program_of_that_name_from_path() {
    let dir = TempDir::new("external");
    let program = dir.path().join("vitro-hello");
    std::fs::write(&program, "#!/bin/sh\necho \"hello $*\"\nexit 3\n").unwrap();
    std::fs::set_permissions(&program, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = vitro().args(["hello", "a", "b c"]).env("PATH", dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "its status is vitro's");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello a b c\n");
    let out = vitro().args(["nosuch", "--no-path"]).env("PATH", dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unrecognized subcommand 'nosuch'"));
    let out = vitro().args(["templates", "list"]).env("PATH", dir.path()).output().unwrap();
    assert!(out.status.success(), "a known subcommand is never looked up on PATH");
}

#[test]
fn plugins_list_fails_with_the_cause_when_a_plugin_cannot_start() {
    let out = vitro()
        .args(["plugins", "list", "--no-path", "--plugin", "/nonexistent/vitro-plugin-ghost"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot start plugin ghost"), "{stderr}");
}

/// Sends `signal` to `vitro` while its plugin hangs in the handshake; `vitro` must exit with
/// `expected_status` (`None`: killed) and no plugin process may be left.
fn signal_during_handshake_leaves_no_plugin(signal: i32, expected_status: Option<i32>) {
    let tag = format!("sig{signal}-{}", std::process::id());
    let plugin = format!("{FIXTURE} --mode hang-initialize --tag {tag}");
    let mut child = vitro()
        .args(["plugins", "list", "--no-path", "--handshake-timeout", "60", "--plugin", &plugin])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let vitro_pid = child.id() as i32;
    let plugin_started = || processes_with(&tag).iter().any(|&pid| pid != vitro_pid);
    assert!(eventually(10.0, plugin_started), "the plugin never started");
    // SAFETY: signalling the vitro process we started.
    unsafe { libc::kill(vitro_pid, signal) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), expected_status);
    assert!(eventually(5.0, || processes_with(&tag).is_empty()), "left behind: {:?}", processes_with(&tag));
}

#[test]
fn sigint_to_vitro_leaves_no_plugin_process() {
    signal_during_handshake_leaves_no_plugin(libc::SIGINT, Some(130));
}

#[test]
fn sigterm_to_vitro_leaves_no_plugin_process() {
    signal_during_handshake_leaves_no_plugin(libc::SIGTERM, Some(143));
}

#[test]
fn sigkill_to_vitro_still_takes_its_plugins_down() {
    signal_during_handshake_leaves_no_plugin(libc::SIGKILL, None);
}

#[test]
fn plugins_check_passes_the_rust_and_python_plugins_and_names_what_a_sloppy_one_gets_wrong() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = format!(
        "{} {}",
        root.join("target/py/bin/python").display(),
        root.join("examples/python-hello/vitro-plugin-pyhello").display()
    );
    for plugin in [FIXTURE.to_owned(), python] {
        let out = vitro().args(["plugins", "check", &plugin]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.contains("19 passed, 0 failed"), "{plugin}:\n{text}");
    }
    let out =
        vitro().args(["plugins", "check", &format!("{FIXTURE} --implements power@1")]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("FAILED  template declarations: plugin fixture: device type fixture declares template power@1, but lacks its required method power_cycle"),
        "{text}"
    );
    let sloppy = root.join("tests/plugins/garbage.sh");
    let out = vitro().args(["plugins", "check"]).arg(&sloppy).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("FAILED  early request refused: `device/create` before `initialize`"), "{text}");
    assert!(text.contains("FAILED  unknown method"), "{text}");
    assert!(text.contains("passed  version skew: the oldest minor"), "{text}");
    assert!(text.contains("passed  orderly shutdown"), "{text}");
}

#[test]
fn global_flags_work_before_a_subcommand_and_deployment_flags_there_are_refused() {
    let out = vitro().args(["-v", "plugins", "list", "--no-path"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = vitro().args(["--board-name", "b", "plugins", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--board-name belongs after the subcommand"), "{stderr}");
}

#[test]
fn verbosity_flags_after_the_double_dash_belong_to_the_users_command() {
    // `vitro run -- CMD -vvv` must not turn on vitro's own trace logs: the failed setup here
    // would then print debug lines about the plugin's connection.
    let run = |before: &[&str], after: &[&str]| {
        vitro()
            .args(before)
            .args([
                "run",
                "--no-path",
                "--plugin",
                FIXTURE,
                "--board-name",
                "b",
                "--env-config",
                "/nonexistent.json",
                "--inventory-config",
                "/nonexistent.json",
            ])
            .arg("--")
            .args(after)
            .output()
            .unwrap()
    };
    let out = run(&[], &["true", "-vvv"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("DEBUG") && !stderr.contains("TRACE"), "{stderr}");
    let loud = run(&["-vvv"], &["true"]);
    assert!(String::from_utf8_lossy(&loud.stderr).contains("DEBUG"), "-vvv before -- is vitro's");
}

#[test]
fn a_reader_that_goes_away_is_not_an_error() {
    let dir = TempDir::new("pipe");
    let devices: Vec<String> = (0..2000)
        .map(|i| format!(r#"{{"name": "d{i}", "type": "t", "note": "{}"}}"#, "x".repeat(100)))
        .collect();
    std::fs::write(
        dir.path().join("inv.json"),
        format!(r#"{{"b": {{"devices": [{}]}}}}"#, devices.join(",")),
    )
    .unwrap();
    std::fs::write(dir.path().join("env.json"), r#"{"environment_def": {}}"#).unwrap();
    let script = format!(
        "{} config --board-name b --env-config {} --inventory-config {} | head -1; echo \"status ${{PIPESTATUS[0]}}\"",
        target_bin("vitro").display(),
        dir.path().join("env.json").display(),
        dir.path().join("inv.json").display()
    );
    let out = Command::new("bash").args(["-c", &script]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.ends_with("status 0\n"), "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn completions_load_in_bash_and_name_the_subcommands_in_every_shell() {
    let script = vitro().args(["completions", "bash"]).env("PATH", "/usr/bin:/bin").output().unwrap();
    assert!(script.status.success(), "{}", String::from_utf8_lossy(&script.stderr));
    let dir = TempDir::new("completions");
    let file = dir.path().join("vitro.bash");
    std::fs::write(&file, &script.stdout).unwrap();
    // bash loads it and offers the subcommands for `vitro <TAB>`.
    let probe = format!(
        "source {}; COMP_WORDS=(vitro ''); COMP_CWORD=1; _vitro vitro '' vitro; echo \"${{COMPREPLY[@]}}\"",
        file.display()
    );
    let out = Command::new("bash").args(["--norc", "-c", &probe]).output().unwrap();
    let offered = String::from_utf8_lossy(&out.stdout);
    for word in ["run", "config", "plugins", "templates", "completions", "--board-name"] {
        assert!(offered.split_whitespace().any(|w| w == word), "{word} not offered: {offered}");
    }
    for shell in ["zsh", "fish"] {
        let out = vitro().args(["completions", shell]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("templates") && text.contains("board-name"),
            "{shell}: {text}"
        );
    }
    let out = vitro().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "an unknown shell is a usage error");
}

#[test]
fn the_manual_page_comes_from_the_same_definitions_as_help() {
    let out = vitro().arg("man").output().unwrap();
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(page.contains(".TH vitro 1"), "{page}");
    for word in ["board\\-name", "templates", "completions", "plugin\\-hook\\-timeout"] {
        assert!(page.contains(word), "{word} missing from the manual page");
    }
}
