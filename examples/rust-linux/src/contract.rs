//! The templates the hosts implement, on the SDK's generated traits: `linux_host@1` for both,
//! `lan@1` (on `lan_client`) and `wan@1` (on `linux_server`), each method a shell command on the
//! host (`ip`, `ping`, `curl`, `dhclient`, `python3 -m http.server`), and the parsing of their
//! output.

use std::time::Duration;

use vitro_sdk::protocol::ErrorKind;
use vitro_sdk::templates::lan_v1::{
    self, HttpGetParams, HttpGetResult, Lan, ReleaseDhcpParams, RenewDhcpParams,
};
use vitro_sdk::templates::linux_host_v1::{
    self, ExecuteCommandParams, GetInterfaceIpv4addrParams, GetInterfaceMacaddrParams, PingParams, PingResult,
};
use vitro_sdk::templates::wan_v1::{
    self, StartHttpServiceParams, StartHttpServiceResult, StopHttpServiceParams, Wan,
};
use vitro_sdk::{Context, DriverError, DriverResult};

use crate::{printf_escaped, LinuxHost};

/// An argument that goes into a command line: only characters no shell treats specially.
fn word(name: &str, value: &str) -> DriverResult<String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "._-:@/".contains(c);
    if value.is_empty() || !value.chars().all(plain) {
        return Err(DriverError::new(
            ErrorKind::InvalidParams,
            format!("`{name}` {value:?} is not a plain name"),
        ));
    }
    Ok(value.to_owned())
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
pub fn parse_ping(output: &str) -> Option<PingResult> {
    let line = output.lines().find(|l| l.contains("packets transmitted"))?;
    let numbers: Vec<i64> =
        line.split(',').filter_map(|part| part.split_whitespace().next()?.parse().ok()).collect();
    let (&sent, &received) = (numbers.first()?, numbers.get(1)?);
    let loss = if sent == 0 { 100.0 } else { (sent - received.min(sent)) as f64 * 100.0 / sent as f64 };
    Some(PingResult { sent, received, loss_percent: loss })
}

impl LinuxHost {
    async fn ipv4_of(&self, interface: &str) -> DriverResult<String> {
        let output =
            self.run_checked(&format!("ip -4 -o addr show dev {}", word("interface", interface)?)).await?;
        parse_ipv4(&output)
            .ok_or_else(|| DriverError::device(format!("{}: {interface} has no IPv4 address", self.name)))
    }
}

#[vitro_sdk::async_trait]
impl linux_host_v1::LinuxHost for LinuxHost {
    async fn execute_command(&self, _ctx: &Context, params: ExecuteCommandParams) -> DriverResult<String> {
        let timeout = params
            .timeout
            .map_or(crate::COMMAND_TIMEOUT, |s| Duration::from_secs_f64(s.clamp(0.1, 86_400.0)));
        Ok(self.console()?.check_output(&params.command, timeout).await?)
    }

    async fn get_hostname(&self, _ctx: &Context) -> DriverResult<String> {
        Ok(self.run_checked("hostname").await?.trim().to_owned())
    }

    async fn get_date(&self, _ctx: &Context) -> DriverResult<String> {
        Ok(self.run_checked("date -Iseconds").await?.trim().to_owned())
    }

    async fn get_interface_ipv4addr(
        &self,
        _ctx: &Context,
        params: GetInterfaceIpv4addrParams,
    ) -> DriverResult<String> {
        self.ipv4_of(&params.interface).await
    }

    async fn get_interface_macaddr(
        &self,
        _ctx: &Context,
        params: GetInterfaceMacaddrParams,
    ) -> DriverResult<String> {
        let interface = word("interface", &params.interface)?;
        Ok(self.run_checked(&format!("cat /sys/class/net/{interface}/address")).await?.trim().to_owned())
    }

    async fn ping(&self, _ctx: &Context, params: PingParams) -> DriverResult<PingResult> {
        let host = word("host", &params.host)?;
        let count = params.count.unwrap_or(4).clamp(1, 100);
        let wait = params.timeout.unwrap_or(2.0).clamp(1.0, 60.0).ceil() as u32;
        // ping exits 1 when nothing answers: that is a result, not a failure.
        let output = self.run_checked(&format!("ping -n -c {count} -W {wait} {host}; true")).await?;
        parse_ping(&output)
            .ok_or_else(|| DriverError::device(format!("{}: ping said: {}", self.name, output.trim())))
    }
}

#[vitro_sdk::async_trait]
impl Lan for LinuxHost {
    async fn get_default_gateway(&self, _ctx: &Context) -> DriverResult<String> {
        let output = self.run_checked("ip -4 route show default").await?;
        parse_gateway(&output).ok_or_else(|| {
            DriverError::device(format!("{} has no IPv4 default route: {output:?}", self.name))
        })
    }

    async fn release_dhcp(&self, _ctx: &Context, params: ReleaseDhcpParams) -> DriverResult<()> {
        self.run_checked(&format!("dhclient -r {}", word("interface", &params.interface)?)).await?;
        Ok(())
    }

    async fn renew_dhcp(&self, _ctx: &Context, params: RenewDhcpParams) -> DriverResult<String> {
        self.run_checked(&format!("dhclient -1 {}", word("interface", &params.interface)?)).await?;
        self.ipv4_of(&params.interface).await
    }

    async fn http_get(&self, _ctx: &Context, params: HttpGetParams) -> DriverResult<HttpGetResult> {
        let url = params.url;
        if url.contains('\'') || url.chars().any(char::is_control) {
            return Err(DriverError::new(ErrorKind::InvalidParams, format!("`url` {url:?} has quotes")));
        }
        let timeout = params.timeout.unwrap_or(10.0).clamp(0.1, 3600.0);
        let command = format!("curl -s -m {timeout} -w '\\nvitro-http-status=%{{http_code}}' '{url}'");
        let output = self.console()?.check_output(&command, crate::COMMAND_TIMEOUT).await?;
        let (body, status) = output.rsplit_once("vitro-http-status=").unwrap_or((&output, "000"));
        match status.trim().parse::<i64>() {
            Ok(code) if code >= 100 => Ok(HttpGetResult {
                status_code: code,
                body: body.strip_suffix('\n').unwrap_or(body).to_owned(),
            }),
            _ => Err(DriverError::device(format!("{}: {url} did not answer within {timeout} s", self.name))),
        }
    }
}

#[vitro_sdk::async_trait]
impl Wan for LinuxHost {
    async fn get_eth_interface_ipv4_address(&self, _ctx: &Context) -> DriverResult<String> {
        if let Some(address) = self.config.get("ipv4").and_then(serde_json::Value::as_str) {
            return Ok(address.to_owned());
        }
        let output = self.run_checked("hostname -I").await?;
        let first = output.split_whitespace().find(|a| a.contains('.') && !a.starts_with("127."));
        Ok(first.unwrap_or("127.0.0.1").to_owned())
    }

    async fn start_http_service(
        &self,
        _ctx: &Context,
        params: StartHttpServiceParams,
    ) -> DriverResult<StartHttpServiceResult> {
        let port = u16::try_from(params.port)
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| DriverError::new(ErrorKind::InvalidParams, "`port` is 1-65535"))?;
        let body = params.body.unwrap_or_else(|| "vitro".to_owned());
        let bind = self.config.get("http_bind").and_then(serde_json::Value::as_str).unwrap_or("127.0.0.1");
        let dir = format!("/tmp/vitro-http-{port}");
        let script = format!(
            "mkdir -p {dir} && printf '{}' > {dir}/index.html && cd {dir} && \
             (nohup python3 -m http.server {port} --bind {bind} >{dir}/log 2>&1 & echo $! > {dir}/pid) && \
             for i in $(seq 100); do curl -s -o /dev/null http://{bind}:{port}/ && break; sleep 0.1; done; \
             cd / && curl -s -o /dev/null http://{bind}:{port}/ && cat {dir}/pid",
            printf_escaped(&body)
        );
        let pid = self.run_checked(&script).await?.trim().parse().map_err(|_| {
            DriverError::device(format!("{}: the HTTP service on port {port} did not start", self.name))
        })?;
        Ok(StartHttpServiceResult { pid, body })
    }

    async fn stop_http_service(&self, _ctx: &Context, params: StopHttpServiceParams) -> DriverResult<()> {
        let dir = format!("/tmp/vitro-http-{}", params.port);
        self.run_checked(&format!(
            "[ -f {dir}/pid ] && kill $(cat {dir}/pid) 2>/dev/null; rm -rf {dir}; true"
        ))
        .await?;
        Ok(())
    }
}

/// The template a host type declares: a LAN client is a `lan@1`, a server a `wan@1`.
pub fn declaration(client: bool) -> &'static vitro_sdk::templates::Declaration {
    if client {
        lan_v1::declaration::<LinuxHost>()
    } else {
        wan_v1::declaration::<LinuxHost>()
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
        assert_eq!(parse_ping(ping), Some(PingResult { sent: 4, received: 3, loss_percent: 25.0 }));
        assert_eq!(
            parse_ping("2 packets transmitted, 0 received, +2 errors, 100% packet loss"),
            Some(PingResult { sent: 2, received: 0, loss_percent: 100.0 })
        );
    }
}
