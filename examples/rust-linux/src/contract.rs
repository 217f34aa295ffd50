//! The template methods of `linux_host@1`, `lan@1` (on `lan_client`) and `wan@1` (on
//! `linux_server`), run as shell commands on the host, and the parsing of their output.

use serde_json::{json, Value};
use vitro_sdk::protocol::ErrorKind;
use vitro_sdk::{DriverError, DriverResult};

use crate::{printf_escaped, LinuxHost};

/// Methods every Linux host has (`linux_host@1`), with one-line descriptions.
pub const LINUX_HOST: &[(&str, &str)] = &[
    ("execute_command", "Run a shell command on the host and return its output"),
    ("get_hostname", "The host's name"),
    ("get_interface_ipv4addr", "The IPv4 address of an interface"),
    ("get_interface_macaddr", "The MAC address of an interface"),
    ("ping", "Ping a host from this one: sent, received, loss_percent"),
    ("get_date", "The host's date and time (date -Iseconds)"),
];
/// `lan@1`'s own methods.
pub const LAN: &[(&str, &str)] = &[
    ("get_default_gateway", "The IPv4 default gateway"),
    ("release_dhcp", "Release an interface's DHCP lease (dhclient -r)"),
    ("renew_dhcp", "Ask for a DHCP lease again (dhclient -1) and return the address"),
    ("http_get", "Fetch a URL with curl: status_code and body"),
];
/// `wan@1`'s own methods.
pub const WAN: &[(&str, &str)] = &[
    ("get_eth_interface_ipv4_address", "The address the device under test reaches this server at"),
    ("start_http_service", "Serve a page over HTTP on a port (python3 -m http.server)"),
    ("stop_http_service", "Stop the HTTP service on a port"),
];

/// A named argument (or the `index`th positional one).
fn arg<'a>(params: &'a Value, name: &str, index: usize) -> Option<&'a Value> {
    params.get(name).or_else(|| params.get(index)).filter(|v| !v.is_null())
}

fn text_arg(params: &Value, name: &str, index: usize) -> DriverResult<String> {
    arg(params, name, index)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| DriverError::new(ErrorKind::InvalidParams, format!("`{name}` (a string) is needed")))
}

/// An argument that goes into a command line: only characters no shell treats specially.
fn word(params: &Value, name: &str, index: usize) -> DriverResult<String> {
    let value = text_arg(params, name, index)?;
    let plain = |c: char| c.is_ascii_alphanumeric() || "._-:@/".contains(c);
    if value.is_empty() || !value.chars().all(plain) {
        return Err(DriverError::new(
            ErrorKind::InvalidParams,
            format!("`{name}` {value:?} is not a plain name"),
        ));
    }
    Ok(value)
}

fn number(params: &Value, name: &str, index: usize, default: f64) -> f64 {
    arg(params, name, index).and_then(Value::as_f64).unwrap_or(default)
}

/// The address of `ip -4 -o addr show` output's first `inet` entry, without its prefix length.
pub fn parse_ipv4(output: &str) -> Option<String> {
    let mut words = output.split_whitespace();
    words.find(|w| *w == "inet")?;
    Some(words.next()?.split('/').next()?.to_owned())
}

/// The gateway of `ip -4 route show default` output.
pub fn parse_gateway(output: &str) -> Option<String> {
    let mut words = output.split_whitespace();
    words.find(|w| *w == "via")?;
    words.next().map(str::to_owned)
}

/// `ping`'s summary line: packets sent and received, and the loss in percent.
pub fn parse_ping(output: &str) -> Option<Value> {
    let line = output.lines().find(|l| l.contains("packets transmitted"))?;
    let numbers: Vec<u64> =
        line.split(',').filter_map(|part| part.split_whitespace().next()?.parse().ok()).collect();
    let (&sent, &received) = (numbers.first()?, numbers.get(1)?);
    let loss = if sent == 0 { 100.0 } else { (sent - received.min(sent)) as f64 * 100.0 / sent as f64 };
    Some(json!({ "sent": sent, "received": received, "loss_percent": loss }))
}

impl LinuxHost {
    /// Runs a template method, or `None` when `method` is none of this host's.
    pub async fn template_call(&self, method: &str, params: &Value) -> Option<DriverResult<Value>> {
        let lan = self.client && LAN.iter().any(|(name, _)| *name == method);
        let wan = !self.client && WAN.iter().any(|(name, _)| *name == method);
        if !(lan || wan || LINUX_HOST.iter().any(|(name, _)| *name == method)) {
            return None;
        }
        Some(self.run_template_method(method, params).await)
    }

    async fn run_template_method(&self, method: &str, params: &Value) -> DriverResult<Value> {
        match method {
            "execute_command" => {
                let command = text_arg(params, "command", 0)?;
                let timeout = number(params, "timeout", 1, crate::COMMAND_TIMEOUT.as_secs_f64());
                let timeout = std::time::Duration::from_secs_f64(timeout.clamp(0.1, 86_400.0));
                Ok(json!(self.console()?.check_output(&command, timeout).await?))
            }
            "get_hostname" => Ok(json!(self.run_checked("hostname").await?.trim())),
            "get_date" => Ok(json!(self.run_checked("date -Iseconds").await?.trim())),
            "get_interface_ipv4addr" => Ok(json!(self.ipv4_of(&word(params, "interface", 0)?).await?)),
            "get_interface_macaddr" => {
                let interface = word(params, "interface", 0)?;
                Ok(json!(self.run_checked(&format!("cat /sys/class/net/{interface}/address")).await?.trim()))
            }
            "ping" => {
                let host = word(params, "host", 0)?;
                let count = number(params, "count", 1, 4.0).clamp(1.0, 100.0) as u32;
                let wait = number(params, "timeout", 2, 2.0).clamp(1.0, 60.0).ceil() as u32;
                // ping exits 1 when nothing answers: that is a result, not a failure.
                let output = self.run_checked(&format!("ping -n -c {count} -W {wait} {host}; true")).await?;
                parse_ping(&output).ok_or_else(|| {
                    DriverError::device(format!("{}: ping said: {}", self.name, output.trim()))
                })
            }
            "get_default_gateway" => {
                let output = self.run_checked("ip -4 route show default").await?;
                parse_gateway(&output).map(|g| json!(g)).ok_or_else(|| {
                    DriverError::device(format!("{} has no IPv4 default route: {output:?}", self.name))
                })
            }
            "release_dhcp" => {
                self.run_checked(&format!("dhclient -r {}", word(params, "interface", 0)?)).await?;
                Ok(Value::Null)
            }
            "renew_dhcp" => {
                let interface = word(params, "interface", 0)?;
                self.run_checked(&format!("dhclient -1 {interface}")).await?;
                Ok(json!(self.ipv4_of(&interface).await?))
            }
            "http_get" => {
                let url = text_arg(params, "url", 0)?;
                if url.contains('\'') || url.chars().any(char::is_control) {
                    return Err(DriverError::new(
                        ErrorKind::InvalidParams,
                        format!("`url` {url:?} has quotes"),
                    ));
                }
                let timeout = number(params, "timeout", 1, 10.0).clamp(0.1, 3600.0);
                let command =
                    format!("curl -s -m {timeout} -w '\\nvitro-http-status=%{{http_code}}' '{url}'");
                let output = self.console()?.check_output(&command, crate::COMMAND_TIMEOUT).await?;
                let (body, status) = output.rsplit_once("vitro-http-status=").unwrap_or((&output, "000"));
                match status.trim().parse::<u16>() {
                    Ok(code) if code >= 100 => {
                        Ok(json!({ "status_code": code, "body": body.strip_suffix('\n').unwrap_or(body) }))
                    }
                    _ => Err(DriverError::device(format!(
                        "{}: {url} did not answer within {timeout} s",
                        self.name
                    ))),
                }
            }
            "get_eth_interface_ipv4_address" => match self.config.get("ipv4").and_then(Value::as_str) {
                Some(address) => Ok(json!(address)),
                None => {
                    let output = self.run_checked("hostname -I").await?;
                    let first = output.split_whitespace().find(|a| a.contains('.') && !a.starts_with("127."));
                    Ok(json!(first.unwrap_or("127.0.0.1")))
                }
            },
            "start_http_service" => {
                let port = number(params, "port", 0, 0.0) as u16;
                if port == 0 {
                    return Err(DriverError::new(ErrorKind::InvalidParams, "`port` (1-65535) is needed"));
                }
                let body = arg(params, "body", 1).and_then(Value::as_str).unwrap_or("vitro").to_owned();
                let bind = self.config.get("http_bind").and_then(Value::as_str).unwrap_or("127.0.0.1");
                let dir = format!("/tmp/vitro-http-{port}");
                let script = format!(
                    "mkdir -p {dir} && printf '{}' > {dir}/index.html && cd {dir} && \
                     (nohup python3 -m http.server {port} --bind {bind} >{dir}/log 2>&1 & echo $! > {dir}/pid) && \
                     for i in $(seq 100); do curl -s -o /dev/null http://{bind}:{port}/ && break; sleep 0.1; done; \
                     cd / && curl -s -o /dev/null http://{bind}:{port}/ && cat {dir}/pid",
                    printf_escaped(&body)
                );
                let pid: u64 = self.run_checked(&script).await?.trim().parse().map_err(|_| {
                    DriverError::device(format!(
                        "{}: the HTTP service on port {port} did not start",
                        self.name
                    ))
                })?;
                Ok(json!({ "pid": pid, "body": body }))
            }
            "stop_http_service" => {
                let port = number(params, "port", 0, 0.0) as u16;
                let dir = format!("/tmp/vitro-http-{port}");
                self.run_checked(&format!(
                    "[ -f {dir}/pid ] && kill $(cat {dir}/pid) 2>/dev/null; rm -rf {dir}; true"
                ))
                .await?;
                Ok(Value::Null)
            }
            other => Err(DriverError::new(
                ErrorKind::MethodNotFound,
                format!("{} has no method `{other}`", self.name),
            )),
        }
    }

    async fn ipv4_of(&self, interface: &str) -> DriverResult<String> {
        let output = self.run_checked(&format!("ip -4 -o addr show dev {interface}")).await?;
        parse_ipv4(&output)
            .ok_or_else(|| DriverError::device(format!("{}: {interface} has no IPv4 address", self.name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_outputs_are_read() {
        let addr = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever";
        assert_eq!(parse_ipv4(addr).as_deref(), Some("127.0.0.1"));
        assert_eq!(parse_ipv4(""), None);
        assert_eq!(
            parse_gateway("default via 192.168.1.1 dev eth0 proto dhcp").as_deref(),
            Some("192.168.1.1")
        );
        let ping = "--- 10.0.0.9 ping statistics ---\n4 packets transmitted, 3 received, 25% packet loss, time 3004ms";
        assert_eq!(parse_ping(ping), Some(json!({"sent": 4, "received": 3, "loss_percent": 25.0})));
        assert_eq!(
            parse_ping("2 packets transmitted, 0 received, +2 errors, 100% packet loss"),
            Some(json!({"sent": 2, "received": 0, "loss_percent": 100.0}))
        );
    }
}
