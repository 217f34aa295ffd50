//! A live-session client for the tests, on the Rust SDK's client: `session-client devices`,
//! `session-client call DEVICE METHOD [JSON]`, `session-client config`, `session-client release`,
//! `session-client consoles DEVICE`, `session-client marker TEXT`,
//! `session-client console DEVICE CONSOLE INPUT UNTIL` (types INPUT, prints the output up to UNTIL),
//! `session-client console-watch DEVICE CONSOLE` (prints why the stream ended),
//! `session-client raw LINE` (sends LINE as it is, prints the first line answered).
//! Prints results as JSON; on an error prints `error <kind>: <message>` and exits 3.

use std::time::Duration;

use vitro_sdk::session::{ConsoleEvent, Session};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let ["raw", line] = args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        return raw(line).await;
    }
    let session = match Session::from_env().await {
        Ok(session) => session,
        Err(e) => {
            eprintln!("cannot connect: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["devices"] => session.devices().await.map(|d| serde_json::to_value(d).unwrap_or_default()),
        ["config"] => session.config().await.map(|c| serde_json::to_value(c).unwrap_or_default()),
        ["release"] => session.release().await.map(|()| serde_json::Value::Null),
        ["consoles", device] => session.consoles(device).await.map(|c| serde_json::json!(c)),
        ["env-req", json] => session
            .env_req_matches(serde_json::from_str(json).unwrap_or_default())
            .await
            .map(|m| serde_json::json!(m)),
        ["contingency", json] => session
            .contingency_check(serde_json::from_str(json).unwrap_or_default())
            .await
            .map(|c| serde_json::json!(c)),
        ["console-watch", device, console] => match session.open_console(device, console).await {
            Ok(mut events) => {
                println!("watching");
                let mut end = serde_json::Value::Null;
                while let Some(event) = events.recv().await {
                    if let ConsoleEvent::Closed(reason) = event {
                        end = serde_json::json!(format!("closed: {reason}"));
                        break;
                    }
                }
                Ok(end)
            }
            Err(e) => Err(e),
        },
        ["marker", text] => session.marker(text).await.map(|()| serde_json::Value::Null),
        ["console", device, console, input, until] => match session.open_console(device, console).await {
            Ok(mut output) => {
                if let Err(e) = session.write_console(device, console, format!("{input}\n").as_bytes()).await
                {
                    Err(e)
                } else {
                    let mut seen = String::new();
                    while !seen.contains(until) {
                        match tokio::time::timeout(Duration::from_secs(10), output.recv()).await {
                            Ok(Some(ConsoleEvent::Output(bytes))) => {
                                seen.push_str(&String::from_utf8_lossy(&bytes))
                            }
                            _ => break,
                        }
                    }
                    Ok(serde_json::Value::String(seen))
                }
            }
            Err(e) => Err(e),
        },
        ["call", device, method, ref rest @ ..] => {
            let params =
                rest.first().map_or(serde_json::Value::Null, |p| serde_json::from_str(p).unwrap_or_default());
            session.call(device, method, params, Duration::from_secs(30)).await
        }
        _ => {
            eprintln!("usage: session-client devices|config|release|call DEVICE METHOD [JSON]");
            return std::process::ExitCode::from(2);
        }
    };
    match result {
        Ok(value) => {
            println!("{value}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            println!("error {}: {e}", e.kind());
            std::process::ExitCode::from(3)
        }
    }
}

/// Sends one line to the session socket and prints the first line that comes back.
async fn raw(line: &str) -> std::process::ExitCode {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let path = std::env::var_os(vitro_protocol::session::SESSION_ENV).unwrap_or_default();
    let exchange = async {
        let stream = tokio::net::UnixStream::connect(path).await?;
        let (read, mut write) = stream.into_split();
        write.write_all(format!("{line}\n").as_bytes()).await?;
        let mut answer = String::new();
        BufReader::new(read).read_line(&mut answer).await?;
        std::io::Result::Ok(answer)
    };
    match tokio::time::timeout(Duration::from_secs(10), exchange).await {
        Ok(Ok(answer)) if !answer.is_empty() => {
            print!("{answer}");
            std::process::ExitCode::SUCCESS
        }
        Ok(Ok(_)) => {
            println!("no answer: the session closed the connection");
            std::process::ExitCode::from(3)
        }
        Ok(Err(e)) => {
            println!("error: {e}");
            std::process::ExitCode::from(3)
        }
        Err(_) => {
            println!("no answer within 10 s");
            std::process::ExitCode::from(3)
        }
    }
}
