//! Consoles against real endpoints on this machine: bash in a real PTY, a login shell behind a
//! `socat` serial line, a shell on a raw TCP port (what ser2net serves; socat stands in for
//! ser2net, which is not installed here), and inetutils `telnetd` (socat plays its inetd).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;
use vitro_sdk::console::{connect, ConnectOptions, Console, ConsoleError, Pattern};

const T: Duration = Duration::from_secs(10);

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vitro-console-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const BASH: &str = "env PS1='vitro$ ' TERM=dumb bash --norc --noprofile -i";

async fn bash(log_dir: Option<PathBuf>) -> Console {
    bash_with(BASH, log_dir).await
}

/// A console on `conn_cmd`, which starts a bash whose prompt is `vitro$ `.
async fn bash_with(conn_cmd: &str, log_dir: Option<PathBuf>) -> Console {
    let config = json!({
        "name": "host",
        "connection_type": "local_cmd",
        "conn_cmd": conn_cmd,
        "prompt": r"vitro\$ $",
    });
    let console = connect(&config, &ConnectOptions { log_dir, ..Default::default() }).await.unwrap();
    console.expect(&[Pattern::regex(r"vitro\$ $").unwrap()], T).await.unwrap();
    console
}

#[tokio::test(flavor = "multi_thread")]
async fn a_prompt_typed_by_someone_else_does_not_end_the_next_command() {
    let console = bash(None).await;
    console.send(b"true\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(console.execute_command("echo fresh", T).await.unwrap(), "fresh");
    console.close().await;
}

#[test]
fn a_console_dropped_without_close_ends_its_local_process() {
    assert_dropping_the_console_ends(BASH, "echo $$");
}

#[test]
fn a_console_dropped_without_close_ends_everything_its_command_started() {
    // A helper that ignores SIGHUP, started beside the shell, in the console's session: neither
    // the end of the session leader nor the terminal's hangup ends it.
    let conn_cmd = format!("trap '' HUP; sleep 600 & HELPER=$! {BASH}");
    assert_dropping_the_console_ends(&conn_cmd, "echo $$ $HELPER");
}

/// Drops a console on `conn_cmd` without closing it and checks that every process whose pid
/// `pids_cmd` prints is gone soon.
fn assert_dropping_the_console_ends(conn_cmd: &str, pids_cmd: &'static str) {
    // Its own runtime on a thread the test does not wait for, so a reader stuck in the blocking
    // pool cannot hang the test.
    let (tx, rx) = std::sync::mpsc::channel();
    let conn_cmd = conn_cmd.to_owned();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let console = bash_with(&conn_cmd, None).await;
            let output = console.execute_command(pids_cmd, T).await.unwrap();
            let pids: Vec<i32> = output.split_whitespace().map(|pid| pid.parse().unwrap()).collect();
            assert!(pids.iter().all(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists()));
            drop(console);
            tx.send(pids).unwrap();
        });
    });
    let pids = rx.recv_timeout(Duration::from_secs(20)).expect("the console started");
    let gone = |pid: i32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
            stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z'))
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !pids.iter().all(|&pid| gone(pid)) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    for pid in pids {
        assert!(gone(pid), "{pid} outlived its console");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn execute_command_returns_the_output_without_echo_or_prompt() {
    let console = bash(None).await;
    assert_eq!(console.execute_command("echo hi; uname -s", T).await.unwrap(), "hi\nLinux");
    assert_eq!(console.get_last_output().lines().last().unwrap().trim(), "Linux");
    console.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timeout_fires_and_names_what_was_awaited_and_the_last_output() {
    let console = bash(None).await;
    console.sendline("echo almost").await.unwrap();
    let err = console.expect(&[Pattern::exact("never")], Duration::from_millis(300)).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ConsoleError::Timeout { .. }), "{text}");
    assert!(text.contains("\"never\"") && text.contains("almost"), "{text}");
    console.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn check_output_sends_ctrl_c_when_the_prompt_does_not_come_back() {
    let console = bash(None).await;
    let err = console.check_output("sleep 30", Duration::from_millis(300)).await.unwrap_err();
    assert!(matches!(err, ConsoleError::NoPrompt { recovered: true, .. }), "{err}");
    assert_eq!(console.execute_command("echo back", T).await.unwrap(), "back");
    console.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn output_larger_than_any_buffer_arrives_whole() {
    let console = bash(None).await;
    let out = console.execute_command("seq 1 300000", Duration::from_secs(60)).await.unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 300_000);
    assert_eq!((lines[0], lines[299_999]), ("1", "300000"));
    console.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_console_closed_from_the_far_side_is_a_clear_error() {
    let console = bash(None).await;
    console.sendline("exit").await.unwrap();
    let err = console.expect(&[Pattern::exact("never")], T).await.unwrap_err();
    assert!(matches!(err, ConsoleError::Closed { .. }), "{err}");
    console.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_log_has_clean_timestamped_lines_and_a_second_reader_sees_everything() {
    let dir = temp_dir("log");
    let console = bash(Some(dir.clone())).await;
    let mut viewer = console.subscribe();
    console.execute_command(r"printf '\033[2J\033[H\033[1;31mred\033[0m screen\n'", T).await.unwrap();
    console.close().await;
    let mut seen = Vec::new();
    while let Ok(Some(chunk)) = tokio::time::timeout(Duration::from_secs(2), viewer.recv()).await {
        seen.extend_from_slice(&chunk);
    }
    assert!(String::from_utf8_lossy(&seen).contains("\x1b[1;31mred"), "the viewer sees raw bytes");
    let path = dir.join("host_console.txt");
    let deadline = std::time::Instant::now() + T;
    loop {
        let log = std::fs::read_to_string(&path).unwrap_or_default();
        if log.lines().any(|l| l.ends_with("] red screen")) {
            assert!(!log.contains('\x1b'), "{log}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "log: {log}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_connection_type_lists_the_supported_ones() {
    let err = connect(&json!({"name": "x", "connection_type": "carrier_pigeon"}), &ConnectOptions::default())
        .await
        .err()
        .unwrap();
    let text = err.to_string();
    assert!(text.contains("carrier_pigeon") && text.contains("local_cmd, serial, ser2net, telnet"), "{text}");
}

/// A shell behind a login prompt (user `root`, password `secret`).
fn board_script(dir: &std::path::Path) -> PathBuf {
    let script = dir.join("board.sh");
    std::fs::write(
        &script,
        "#!/bin/bash\nwhile true; do\n  printf 'board login: '; read -r user\n  [ -z \"$user\" ] && continue\n  \
         printf 'Password: '; read -r -s pass; echo\n  if [ \"$user\" = root ] && [ \"$pass\" = secret ]; then\n    \
         PS1='board# ' TERM=dumb exec bash --norc --noprofile -i\n  fi\n  echo 'Login incorrect'\ndone\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    script
}

struct Socat(Child);

impl Drop for Socat {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn socat(args: &[String]) -> Socat {
    Socat(
        Command::new("socat")
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("socat (scripts/install-test-deps)"),
    )
}

/// Connects once the server socat just started listens (within 2 s).
async fn connect_when_listening(config: &serde_json::Value) -> Console {
    for _ in 0..100 {
        if let Ok(console) = connect(config, &ConnectOptions::default()).await {
            return console;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("nothing listens for {config}");
}

async fn log_in(console: &Console) {
    console.sendline("").await.unwrap();
    console.expect(&[Pattern::exact("login: ")], T).await.unwrap();
    console.sendline("root").await.unwrap();
    console.login_to_server("secret", T).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_board_behind_a_serial_line_logs_in_and_runs_commands() {
    let dir = temp_dir("serial");
    let tty = dir.join("ttyV0");
    let exec = format!("EXEC:{},pty,stderr,setsid,sigint,sane,ctty", board_script(&dir).display());
    let _socat = socat(&[format!("pty,link={},raw,echo=0", tty.display()), exec]);
    let deadline = std::time::Instant::now() + T;
    while !tty.exists() {
        assert!(std::time::Instant::now() < deadline, "socat made no {}", tty.display());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let config = json!({"name": "board", "connection_type": "serial", "port": tty, "baud": 115200, "prompt": r"board# $"});
    let console = connect(&config, &ConnectOptions::default()).await.unwrap();
    log_in(&console).await;
    assert_eq!(console.execute_command("echo $((6 * 7))", T).await.unwrap(), "42");
    console.close().await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ser2net_style_tcp_port_logs_in_and_runs_commands() {
    let dir = temp_dir("ser2net");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let exec = format!("EXEC:{},pty,stderr,setsid,sigint,sane,ctty", board_script(&dir).display());
    let _socat = socat(&[format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr"), exec]);
    let config = json!({"name": "board", "connection_type": "ser2net", "ipaddr": "127.0.0.1", "port": port, "prompt": r"board# $"});
    let console = connect_when_listening(&config).await;
    log_in(&console).await;
    assert_eq!(console.execute_command("echo tcp", T).await.unwrap(), "tcp");
    console.close().await;
    let refused = json!({"name": "board", "connection_type": "ser2net", "port": 1});
    let err = connect(&refused, &ConnectOptions::default()).await.err().unwrap();
    assert!(err.to_string().contains("cannot connect to 127.0.0.1:1"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_telnetd_negotiates_logs_in_and_runs_commands() {
    let telnetd =
        ["/usr/sbin/telnetd", "/usr/sbin/in.telnetd"].into_iter().find(|p| std::path::Path::new(p).exists());
    let telnetd = telnetd.expect("telnetd (inetutils-telnetd; scripts/install-test-deps installs it)");
    let dir = temp_dir("telnet");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let exec = format!("EXEC:{telnetd} -h -E {},nofork", board_script(&dir).display());
    let _socat = socat(&[format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"), exec]);
    let config = json!({"name": "cpe", "connection_type": "telnet", "ipaddr": "127.0.0.1", "port": port, "prompt": r"board# $"});
    let console = connect_when_listening(&config).await;
    console.expect(&[Pattern::exact("login: ")], T).await.unwrap();
    console.sendline("root").await.unwrap();
    console.login_to_server("secret", T).await.unwrap();
    assert_eq!(console.execute_command("echo over telnet", T).await.unwrap(), "over telnet");
    console.close().await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn interact_passes_keys_and_output_through_until_ctrl_right_bracket() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let console = bash(None).await;
    let (mut person, terminal) = tokio::io::duplex(64 * 1024);
    let (terminal_in, terminal_out) = tokio::io::split(terminal);
    let session = tokio::spawn(async move {
        console.interact(terminal_in, terminal_out).await.unwrap();
        console
    });
    person.write_all(b"echo typed-by-a-person\n").await.unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("typed-by-a-person\r\nvitro$ ") {
        let n = tokio::time::timeout(T, person.read(&mut buf)).await.expect("output").unwrap();
        seen.extend_from_slice(&buf[..n]);
    }
    person.write_all(&[0x1d]).await.unwrap();
    let console = tokio::time::timeout(T, session).await.expect("detached").unwrap();
    assert_eq!(console.execute_command("echo after", T).await.unwrap(), "after");
    console.close().await;
}
