//! What a person sees: the live board in a real terminal (tmux), plain lines where nobody
//! watches, `-q`, and the HTML report rendered by a real browser (headless Chromium).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::json;
use vitro_e2e::tmux::Tmux;
use vitro_e2e::{target_bin, TempDir};

const FIXTURE: &str = env!("CARGO_BIN_EXE_vitro-plugin-fixture");
/// The failing board's password: it must show nowhere.
const SECRET: &str = "pw-Kestrel-4417";
const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// A bed of four devices: `wan` (a server), `slow` (its boot waits for `gate`, or 300 ms without
/// one), `bad` (its console prints a boot banner, then its boot fails with an error that quotes
/// its password) and `lan`.
fn bed(dir: &Path, gate: Option<&Path>) -> Vec<String> {
    let slow = match gate {
        Some(gate) => json!({"name": "slow", "type": "fixture", "until_file": {"boot": gate}}),
        None => json!({"name": "slow", "type": "fixture", "sleep_ms": {"boot": 300}}),
    };
    let devices = json!([
        {"name": "wan", "type": "fixture_server", "sleep_ms": {"boot": 200}},
        slow,
        {"name": "bad", "type": "fixture", "fail": "boot", "password": SECRET,
         "fail_message": format!("login as root with {SECRET} refused"),
         "connection_type": "local_cmd", "prompt": "dev\\$ $",
         "conn_cmd": "sh -c 'echo U-Boot 2026.01 board-rev-C; exec env PS1=\"dev$ \" TERM=dumb bash --norc --noprofile -i'"},
        {"name": "lan", "type": "fixture", "sleep_ms": {"boot": 100}},
    ]);
    std::fs::write(dir.join("inventory.json"), json!({"bench": {"devices": devices}}).to_string()).unwrap();
    std::fs::write(dir.join("environment.json"), json!({"environment_def": {}}).to_string()).unwrap();
    let d = dir.display();
    [
        "--no-path".to_owned(),
        "--plugin".to_owned(),
        FIXTURE.to_owned(),
        "--board-name".to_owned(),
        "bench".to_owned(),
        format!("--env-config={d}/environment.json"),
        format!("--inventory-config={d}/inventory.json"),
    ]
    .into()
}

/// `vitro` with `args`, without the caller's `RUST_LOG` and `NO_COLOR`.
fn vitro(args: &[String]) -> Command {
    let mut command = Command::new(target_bin("vitro"));
    command.args(args).env_remove("RUST_LOG").env_remove("NO_COLOR");
    command
}

/// `vitro` with `args` and stderr on a pipe (as in CI).
fn deploy(args: &[String]) -> Output {
    vitro(args).output().unwrap()
}

/// A shell line that runs `vitro` with `args` and `env` (`NAME=VALUE ...`) in a UTF-8 locale,
/// then says how it exited and stays, so the screen can be read.
fn shell_line(env: &str, args: &[String]) -> String {
    let quoted: Vec<String> = args.iter().map(|a| shlex::try_quote(a).unwrap().into_owned()).collect();
    format!(
        "env -u NO_COLOR -u RUST_LOG LC_ALL=C.UTF-8 {env} {} {}; echo VITRO-EXIT=$?; sleep 60",
        target_bin("vitro").display(),
        quoted.join(" ")
    )
}

/// The board's one row for device `name` (its mark, a space, then the name).
fn board_row(screen: &str, name: &str) -> String {
    let rows: Vec<&str> =
        screen.lines().filter(|l| l.chars().skip(2).collect::<String>().starts_with(name)).collect();
    assert_eq!(rows.len(), 1, "one row for {name}:\n{screen}");
    rows[0].to_owned()
}

#[test]
fn the_board_shows_every_device_in_place_in_a_terminal() {
    let dir = TempDir::new("board");
    let gate = dir.path().join("gate");
    let args = bed(dir.path(), Some(&gate));
    let tmux = Tmux::start(&format!("board-{}", std::process::id()), &shell_line("", &args));
    // `bad` fails while `slow` still boots: the board has both at once.
    tmux.wait_for("FAILED: login as root with ******** refused");
    tmux.wait_for("slowest: slow");
    let screen = tmux.visible();
    let row = |name: &str| board_row(&screen, name);
    assert_eq!(screen.matches("device boot · ").count(), 1, "one summary line:\n{screen}");
    assert!(screen.contains("device boot · 1/3 done · 1 failed · slowest: slow"), "{screen}");
    assert!(row("wan ").starts_with("✔ wan ") && row("wan ").contains("fixture_server"), "{screen}");
    let slow = row("slow ");
    assert!(slow.starts_with(SPINNER) && slow.contains("device boot"), "{screen}");
    assert!(row("bad ").starts_with("✘ bad ") && row("bad ").contains("device boot"), "{screen}");
    assert!(!screen.contains(SECRET), "{screen}");

    std::fs::write(&gate, "").unwrap();
    tmux.wait_for("VITRO-EXIT=1");
    let screen = tmux.visible();
    let row = |name: &str| board_row(&screen, name);
    assert_eq!(screen.matches("device boot · ").count(), 1, "the board was redrawn in place:\n{screen}");
    assert!(screen.contains("✘ device boot · 3/3 done · 1 failed"), "{screen}");
    assert!(row("slow ").starts_with("✔ slow "), "{screen}");
    assert!(row("lan ").starts_with("✔ lan ") && row("lan ").ends_with("done"), "{screen}");
    assert!(screen.contains("(phase)"), "the duration table follows:\n{screen}");
    assert!(screen.contains("error: deployment failed in device boot"), "{screen}");
    assert!(!screen.contains(SECRET) && !screen.contains("started"), "{screen}");
}

#[test]
fn terminals_that_ask_for_it_get_plain_lines() {
    for (env, flag) in [("NO_COLOR=1", ""), ("TERM=dumb", ""), ("", "--progress=plain")] {
        let dir = TempDir::new("plain-tty");
        let mut args = bed(dir.path(), None);
        args.extend(Some(flag.to_owned()).filter(|f| !f.is_empty()));
        let tmux = Tmux::start(&format!("plain-{}", std::process::id()), &shell_line(env, &args));
        tmux.wait_for("VITRO-EXIT=1");
        let screen = tmux.screen();
        assert!(screen.contains("] slow             device boot        started"), "{env} {flag}:\n{screen}");
        assert!(!screen.contains("device boot · "), "{env} {flag}: no board:\n{screen}");
    }
}

/// A progress line with its times replaced by `T`.
fn normalized(line: &str) -> String {
    let times = regex::Regex::new(r"\d+\.\d\ds").unwrap();
    times.replace_all(line.trim_start_matches('[').trim_start(), "T").into_owned()
}

#[test]
fn without_a_terminal_progress_is_the_plain_lines_it_always_was() {
    // `--progress board` asks for the board on a terminal; there is none here.
    for flag in [None, Some("--progress=board")] {
        let dir = TempDir::new("plain");
        let mut args = bed(dir.path(), None);
        args.extend(flag.map(str::to_owned));
        plain_lines_as_always(&deploy(&args));
    }
}

fn plain_lines_as_always(out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains('\u{1b}') && !stderr.contains('\r') && !stderr.contains(SECRET), "{stderr}");
    let line = |device: &str, phase: &str, message: &str| format!("T] {device:<16} {phase:<18} {message}");
    let mut expected = Vec::new();
    for device in ["wan", "slow", "bad", "lan"] {
        expected.push(line(device, "validate", "started"));
        expected.push(line(device, "validate", "done in T"));
    }
    for phase in ["server boot", "server configure"] {
        expected.push(line("wan", phase, "started"));
        expected.push(line("wan", phase, "done in T"));
    }
    for device in ["slow", "bad", "lan"] {
        expected.push(line(device, "device boot", "started"));
    }
    expected.push(line("slow", "device boot", "done in T"));
    expected.push(line("lan", "device boot", "done in T"));
    expected.push(line("bad", "device boot", "FAILED after T: login as root with ******** refused"));
    expected.sort();
    let mut progress: Vec<String> = stderr.lines().filter(|l| l.starts_with('[')).map(normalized).collect();
    progress.sort();
    assert_eq!(progress, expected, "{stderr}");
    let rest: Vec<&str> = stderr.lines().filter(|l| !l.starts_with('[')).collect();
    assert!(rest[0].starts_with("device ") && rest[0].trim_end().ends_with("device boot"), "{stderr}");
    assert!(rest[5].starts_with("(phase)"), "a row per device, then the phases:\n{stderr}");
    assert_eq!(
        rest[6],
        "error: deployment failed in device boot: device boot failed: bad (plugin fixture): login as root \
         with ******** refused",
        "{stderr}"
    );
    assert_eq!(rest.len(), 7, "{stderr}");
}

#[test]
fn quiet_shows_no_progress_and_no_table() {
    let dir = TempDir::new("quiet");
    let mut args = bed(dir.path(), None);
    args.push("-q".into());
    let out = deploy(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "only the error:\n{stderr}");
    assert!(stderr.starts_with("error: deployment failed in device boot"), "{stderr}");
}

/// The page Chromium made of `page` (its DOM after loading) and a screenshot of it.
fn chromium(page: &Path, dir: &Path) -> (String, PathBuf) {
    let png = dir.join("report.png");
    let browser = |extra: &[String]| {
        let out = Command::new("timeout")
            .args(["120", "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"])
            .args(["--no-first-run", "--disable-background-networking", "--disable-component-update"])
            .arg(format!("--user-data-dir={}", dir.join("chromium").display()))
            .arg("--window-size=1200,1000")
            .args(extra)
            .arg(format!("file://{}", page.display()))
            .output()
            .expect("chromium (scripts/install-test-deps installs it)");
        assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    browser(&[format!("--screenshot={}", png.display())]);
    (browser(&["--dump-dom".to_owned()]), png)
}

#[test]
fn the_html_report_of_a_failed_deployment_renders_in_a_browser() {
    let dir = TempDir::new("html");
    let page = dir.path().join("report.html");
    let mut args = bed(dir.path(), None);
    args.push(format!("--report={}", page.display()));
    args.push(format!("--save-console-logs={}", dir.path().join("logs").display()));
    let out = deploy(&args);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let kept = std::fs::read_to_string(dir.path().join("logs/bad_console.txt")).unwrap();
    assert!(kept.contains("U-Boot 2026.01 board-rev-C"), "{kept}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains(SECRET), "the inventory's password is in the page");
    assert!(
        !html.contains("http://") && !html.contains("https://") && !html.contains("<script"),
        "self-contained"
    );

    let (dom, png) = chromium(&page, dir.path());
    assert!(!dom.contains(SECRET));
    let dom = scraper::Html::parse_document(&dom);
    let select = |css: &str| {
        let selector = scraper::Selector::parse(css).unwrap();
        dom.select(&selector).map(|e| e.text().collect::<String>()).collect::<Vec<_>>()
    };
    let attribute = |css: &str, name: &str| {
        let selector = scraper::Selector::parse(css).unwrap();
        dom.select(&selector).filter_map(|e| e.attr(name).map(str::to_owned)).collect::<Vec<_>>()
    };
    assert_eq!(attribute(".lane", "data-device"), ["wan", "slow", "bad", "lan"], "a lane per device");
    assert_eq!(
        attribute(".bar.failed", "title"),
        attribute(
            r#".lane[data-device="bad"] .bar[data-phase="device boot"][data-outcome="failed"]"#,
            "title"
        ),
        "the one failed bar is bad's boot"
    );
    let failed = attribute(".bar.failed", "title");
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].contains("bad · device boot: ")
            && failed[0].ends_with("login as root with ******** refused")
    );
    assert_eq!(select("#result"), ["failed"]);
    let console = select(r#"article.failure[data-device="bad"] pre.console"#);
    assert!(console.iter().any(|c| c.contains("U-Boot 2026.01 board-rev-C")), "{console:?}");
    assert_eq!(select("#plugins tbody td")[..2], ["fixture".to_owned(), "0.1.0".to_owned()]);
    let durations = attribute("#durations tbody tr", "data-device");
    assert_eq!(durations.len(), 4);
    let config = select(r#"#configs details[data-device="bad"] pre"#).concat();
    assert!(config.contains(r#""password": "********""#), "{config}");

    let image = std::fs::read(&png).unwrap();
    assert_eq!(&image[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(u32::from_be_bytes(image[16..20].try_into().unwrap()), 1200, "the screenshot's width");
    // `VITRO_UPDATE_DOCS=1` keeps it as the README's picture of a report.
    if std::env::var_os("VITRO_UPDATE_DOCS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/report.png");
        std::fs::copy(&png, docs).unwrap();
    }
}

#[test]
fn vitro_report_renders_an_earlier_json_report_and_names_a_bad_one() {
    let dir = TempDir::new("report-cmd");
    let json_report = dir.path().join("report.json");
    let mut args = bed(dir.path(), None);
    args.push(format!("--report={}", json_report.display()));
    // No --save-console-logs: the console lines come from a private directory, gone afterwards.
    let runtime = dir.path().join("runtime");
    std::fs::create_dir(&runtime).unwrap();
    let out = vitro(&args).env("XDG_RUNTIME_DIR", &runtime).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_dir(&runtime).unwrap().count(), 0, "the private directory was removed");
    let text = std::fs::read_to_string(&json_report).unwrap();
    assert!(!text.contains(SECRET));
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let bad = &report["devices"][2];
    assert_eq!(bad["hooks"][1]["outcome"], "failed", "{bad}");
    assert!(bad["consoles"][0]["lines"].to_string().contains("U-Boot 2026.01 board-rev-C"), "{bad}");

    let page = dir.path().join("report.html");
    let report_args = |input: &Path| vec!["report".to_owned(), input.display().to_string()];
    let out = vitro(&report_args(&json_report)).arg("-o").arg(&page).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(html.matches(r#"class="lane""#).count(), 4);
    assert!(html.contains(r#"data-outcome="failed""#));

    std::fs::write(dir.path().join("bad.json"), "{\"result\": \"failed\",\n \"devices\": 3}").unwrap();
    let out = vitro(&report_args(&dir.path().join("bad.json"))).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("bad.json:2:") && stderr.contains("not a vitro report"), "{stderr}");
}
