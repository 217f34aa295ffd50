//! SSH consoles (`ssh_connection`, `authenticated_ssh`) against a real OpenSSH server on 127.0.0.1.

use std::time::Duration;

use serde_json::{json, Value};
use vitro_e2e::sshd::Sshd;
use vitro_sdk::console::{connect, ConnectOptions, Console};

const T: Duration = Duration::from_secs(20);
const USER: &str = "vitrotest";
const PASSWORD: &str = "vitro-pass-1";

fn server() -> Sshd {
    Sshd::password_user(USER, PASSWORD).expect("a test user (needs root)");
    Sshd::start().expect("sshd starts")
}

async fn shell(config: Value) -> Console {
    let console = connect(&config, &ConnectOptions::default()).await.unwrap_or_else(|e| panic!("{e}"));
    // Quoted apart so that the echoed command itself does not look like the new prompt.
    console.sendline("export PS1='ssh''$ '").await.unwrap();
    console.expect(&[vitro_sdk::console::Pattern::regex(r"(?m)ssh\$ $").unwrap()], T).await.unwrap();
    console
}

#[tokio::test(flavor = "multi_thread")]
async fn password_login_runs_commands() {
    let sshd = server();
    let console = shell(json!({
        "name": "wan", "connection_type": "ssh_connection", "ipaddr": "127.0.0.1", "port": sshd.port(),
        "username": USER, "password": PASSWORD, "prompt": r"ssh\$ $",
    }))
    .await;
    assert_eq!(console.execute_command("whoami; echo $((2 + 3))", T).await.unwrap(), format!("{USER}\n5"));
    console.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn key_login_with_a_checked_host_key_runs_commands() {
    let sshd = server();
    let console = shell(json!({
        "name": "wan", "connection_type": "authenticated_ssh", "ipaddr": "127.0.0.1", "port": sshd.port(),
        "username": sshd.key_user(), "key": sshd.client_key(), "host_key_check": "known-hosts",
        "known_hosts": sshd.known_hosts().unwrap(), "prompt": r"ssh\$ $",
    }))
    .await;
    assert_eq!(console.execute_command("echo keyed", T).await.unwrap(), "keyed");
    console.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_host_key_is_refused_in_known_hosts_mode() {
    let sshd = server();
    let empty = sshd.dir().join("empty_known_hosts");
    std::fs::write(&empty, "").unwrap();
    let config = json!({
        "name": "wan", "connection_type": "ssh_connection", "port": sshd.port(), "username": USER,
        "password": PASSWORD, "host_key_check": "known-hosts", "known_hosts": empty,
    });
    let err = connect(&config, &ConnectOptions::default()).await.err().unwrap().to_string();
    assert!(err.contains("cannot connect") && err.contains("known-hosts"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_and_a_refused_port_are_clear_errors() {
    let sshd = server();
    let wrong = json!({"name": "wan", "connection_type": "ssh_connection", "port": sshd.port(), "username": USER, "password": "nope"});
    let err = connect(&wrong, &ConnectOptions::default()).await.err().unwrap().to_string();
    assert!(
        err.contains(&format!("ssh {USER}@127.0.0.1:{}", sshd.port()))
            && err.contains("authentication refused; tried password"),
        "{err}"
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let refused = json!({"name": "wan", "connection_type": "ssh_connection", "port": closed, "username": USER, "password": "x"});
    let err = connect(&refused, &ConnectOptions::default()).await.err().unwrap().to_string();
    assert!(err.contains("cannot connect") && err.contains("refused"), "{err}");
}
