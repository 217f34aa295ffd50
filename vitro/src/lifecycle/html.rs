//! The deployment report as one self-contained HTML page (no script, nothing fetched): a
//! timeline with one lane per device and one bar per hook, the failures with their devices' last
//! console lines, the phase durations, the plugins and every device's config (secrets masked).
//! Every text from the report is escaped by maud.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::report::{DeviceReport, HookOutcome, HookRun, Outcome, Report};

const STYLE: &str = include_str!("report.css");

/// The page.
pub fn render(report: &Report) -> String {
    let span = timeline_span(report);
    let title =
        format!("vitro: {} {}", report.board.as_deref().unwrap_or("test bed"), outcome_word(report.result));
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                (header(report))
                (timeline(report, span))
                (failures(report))
                (durations(report))
                (plugins(report))
                (configs(report))
            }
        }
    }
    .into_string()
}

fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Success => "success",
        Outcome::Failed => "failed",
        Outcome::Interrupted => "interrupted",
    }
}

fn hook_class(outcome: HookOutcome) -> &'static str {
    match outcome {
        HookOutcome::Passed => "passed",
        HookOutcome::Failed => "failed",
        HookOutcome::Interrupted => "interrupted",
    }
}

fn header(report: &Report) -> Markup {
    let durations: Vec<String> = ["plugin start", "setup", "release"]
        .iter()
        .filter_map(|name| Some(format!("{name} {:.2} s", report.durations.get(*name)?)))
        .collect();
    html! {
        header {
            h1 {
                "Deployment of " (report.board.as_deref().unwrap_or("a test bed")) " "
                span.result.(outcome_word(report.result)) id="result" { (outcome_word(report.result)) }
            }
            p.meta {
                @if !report.started_at.is_empty() { "started " (report.started_at) " · " }
                (count(report.devices.len(), "device")) " · " (count(report.plugins.len(), "plugin")) " · " (durations.join(" · "))
                @if !report.vitro_version.is_empty() { " · vitro " (report.vitro_version) }
            }
            @if let Some(error) = &report.error {
                p.error id="error" {
                    strong { (outcome_word(report.result)) " in " (report.failed_phase.as_deref().unwrap_or("setup")) ": " }
                    (error)
                }
            }
            @if !report.left_out.is_empty() {
                ul.left-out id="left-out" {
                    @for note in &report.left_out { li { "left out: " (note) } }
                }
            }
        }
    }
}

/// `1 device`, `2 devices`.
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// Seconds the timeline spans: to the end of the last hook or phase.
fn timeline_span(report: &Report) -> f64 {
    let hooks = report.devices.iter().flat_map(|d| &d.hooks).map(|h| h.start + h.seconds);
    let phases = report.phases.iter().map(|p| p.start + p.seconds);
    hooks.chain(phases).fold(0.0_f64, f64::max).max(0.001)
}

fn percent(seconds: f64, span: f64) -> String {
    format!("{:.3}%", (seconds / span * 100.0).clamp(0.0, 100.0))
}

fn timeline(report: &Report, span: f64) -> Markup {
    let ticks = (0..=4).map(|i| span * f64::from(i) / 4.0);
    html! {
        section id="timeline" {
            h2 { "Timeline" }
            p.hint { "One lane per device, one bar per hook; hover a bar for its exact times." }
            div.axis {
                div.label {}
                div.track {
                    @for phase in &report.phases {
                        div.phase style={ "left:" (percent(phase.start, span)) ";width:" (percent(phase.seconds, span)) }
                            title=(format!("{}: {:.3} s to {:.3} s ({:.3} s)", phase.phase, phase.start, phase.start + phase.seconds, phase.seconds)) {
                            (phase.phase)
                        }
                    }
                }
            }
            @for device in &report.devices {
                div.lane data-device=(device.name) {
                    div.label {
                        strong { (device.name) }
                        span.sub { (device.type_name) " · " (device.plugin) }
                    }
                    div.track {
                        @for hook in &device.hooks { (bar(device, hook, span)) }
                    }
                }
            }
            div.axis.ticks {
                div.label {}
                div.track {
                    @for tick in ticks {
                        span.tick style={ "left:" (percent(tick, span)) } { (format!("{tick:.2} s")) }
                    }
                }
            }
        }
    }
}

fn bar(device: &DeviceReport, hook: &HookRun, span: f64) -> Markup {
    let class = hook_class(hook.outcome);
    let times = format!(
        "{} · {}: {:.3} s to {:.3} s, took {:.3} s, {class}",
        device.name,
        hook.phase,
        hook.start,
        hook.start + hook.seconds,
        hook.seconds
    );
    let title = match &hook.error {
        Some(error) => format!("{times}: {error}"),
        None => times.clone(),
    };
    html! {
        div.bar.(class) data-phase=(hook.phase) data-outcome=(class)
            style={ "left:" (percent(hook.start, span)) ";width:" (percent(hook.seconds, span)) } title=(title) {
            span.tip { (times) }
        }
    }
}

fn failures(report: &Report) -> Markup {
    let failed: Vec<&DeviceReport> = report.devices.iter().filter(|d| d.error.is_some()).collect();
    html! {
        @if !failed.is_empty() {
            section id="failures" {
                h2 { "What failed" }
                @for device in failed {
                    @let hook = device.hooks.iter().rev().find(|h| h.outcome != HookOutcome::Passed);
                    article.failure data-device=(device.name) {
                        h3 { (device.name) @if let Some(hook) = hook { " in " (hook.phase) } }
                        pre.error { (device.error.as_deref().unwrap_or_default()) }
                        @if device.consoles.is_empty() {
                            p.hint { "No console lines: its plugin named no console that wrote a log." }
                        }
                        @for console in &device.consoles {
                            h4 { "Console " code { (console.console) } ": its last lines" }
                            pre.console { (console.lines.join("\n")) }
                        }
                    }
                }
            }
        }
    }
}

fn durations(report: &Report) -> Markup {
    let phases = report.phase_names();
    html! {
        section id="durations" {
            h2 { "Phase durations" }
            p.hint { "Seconds per device and phase, slowest device first; the last row is each phase's wall time." }
            table {
                thead { tr { th { "device" } @for phase in &phases { th.num { (phase) } } } }
                tbody {
                    @for device in report.slowest_first() {
                        tr data-device=(device.name) {
                            td { (device.name) }
                            @for phase in &phases {
                                td.num { (device.phases.get(*phase).map_or("-".to_owned(), |s| format!("{s:.2}"))) }
                            }
                        }
                    }
                    tr.total {
                        td { "(phase)" }
                        @for phase in &phases {
                            td.num { (report.phase_seconds(phase).map_or("-".to_owned(), |s| format!("{s:.2}"))) }
                        }
                    }
                }
            }
        }
    }
}

fn plugins(report: &Report) -> Markup {
    html! {
        section id="plugins" {
            h2 { "Plugins" }
            table {
                thead { tr { th { "plugin" } th { "version" } th { "how it ended" } } }
                tbody {
                    @for plugin in &report.plugins {
                        tr { td { (plugin.name) } td { (plugin.version) } td { (plugin.exit) } }
                    }
                }
            }
        }
    }
}

fn configs(report: &Report) -> Markup {
    html! {
        section id="configs" {
            h2 { "Device configs" }
            p.hint { "Merged from the inventory and the environment; values under secret-looking keys are masked." }
            @for device in &report.devices {
                details data-device=(device.name) {
                    summary { (device.name) }
                    pre { (serde_json::to_string_pretty(&device.config).unwrap_or_default()) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::report::tests::failed_report;
    use super::*;

    #[test]
    fn every_device_has_a_lane_and_the_failed_hook_is_marked() {
        let page = render(&failed_report());
        assert_eq!(page.matches(r#"class="lane""#).count(), 2, "{page}");
        assert_eq!(page.matches(r#"data-outcome="failed""#).count(), 1, "{page}");
        assert!(page.contains(r#"data-device="board""#), "{page}");
        assert!(page.contains("board · device boot: 1.900 s to 3.900 s, took 2.000 s, failed"), "{page}");
        assert!(!page.contains("<script"), "{page}");
        assert!(page.contains(r#"<li>left out: the environment has no lan_clients"#), "{page}");
    }

    #[test]
    fn text_from_plugins_is_escaped() {
        let mut report = failed_report();
        report.devices[1].error = Some("<img src=x onerror=alert(1)>".into());
        let page = render(&report);
        assert!(!page.contains("<img"), "{page}");
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"), "{page}");
    }
}
