//! `vitro templates list|show|check`: the device templates, and a held bed checked against them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use vitro_protocol::session::{
    CheckOutcome, SessionCheckTemplates, SessionDevicesMethod, TemplateCheckParams, SESSION_ENV,
};
use vitro_protocol::templates::{Template, TemplateRef, Templates};
use vitro_protocol::types::Empty;
use vitro_rpc::{OnlyCalls, PeerConfig, PeerHandle};

use super::args::{Format, SessionArg, TemplatesCommand};
use super::{out, say, Error, EXIT_FAILURE};

/// Deadline of a whole live check (each call has its own on the host).
const CHECK_TIMEOUT: Duration = Duration::from_secs(3600);

pub(super) async fn run(command: TemplatesCommand) -> Result<ExitCode, Error> {
    let templates = Templates::builtin();
    match command {
        TemplatesCommand::List { format, session } => {
            let devices = implementers(&session).await?;
            list(templates, devices.as_ref(), format);
            Ok(ExitCode::SUCCESS)
        }
        TemplatesCommand::Show { name, format, session } => {
            let template = find(templates, &name)?;
            let devices = implementers(&session).await?;
            show(templates, template, devices.as_ref(), format)?;
            Ok(ExitCode::SUCCESS)
        }
        TemplatesCommand::Check { device, format, session } => {
            let path = session_path(&session).ok_or_else(|| {
                Error::Usage(format!(
                    "no held bed: run this under `vitro run ... -- vitro templates check`, or give --session \
                     PATH (or {SESSION_ENV}) of a `vitro --hold`"
                ))
            })?;
            let peer = connect(&path).await?;
            let params = TemplateCheckParams { device };
            let check = peer.request::<SessionCheckTemplates>(&params, Some(CHECK_TIMEOUT));
            let report = with_news(check, WAITING_NEWS)
                .await
                .map_err(|e| Error::Failed(format!("the check failed: {e}")))?;
            let bad = report.results.iter().filter(|r| r.outcome != CheckOutcome::Passed).count();
            match format {
                Format::Json => out(&serde_json::to_string_pretty(&report).unwrap_or_default()),
                Format::Text => print_report(&report.results),
            }
            Ok(if bad == 0 { ExitCode::SUCCESS } else { ExitCode::from(EXIT_FAILURE) })
        }
    }
}

/// How often a check that takes long says that it still runs.
const WAITING_NEWS: Duration = Duration::from_secs(10);

/// `work`, saying on stderr every `every` that it still waits and for what: a plugin that does
/// not answer makes each of its calls wait the host's deadline.
async fn with_news<T>(work: impl std::future::Future<Output = T>, every: Duration) -> T {
    tokio::pin!(work);
    let started = std::time::Instant::now();
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            done = &mut work => return done,
            _ = ticker.tick() => eprintln!(
                "vitro templates check: still waiting for the live session, which calls each template method's \
                 examples on its device ({}s so far; a call its plugin does not answer waits 60s)",
                started.elapsed().as_secs()
            ),
        }
    }
}

fn find<'a>(templates: &'a Templates, name: &str) -> Result<&'a Template, Error> {
    let found = if name.contains('@') {
        templates.get(&TemplateRef::parse(name).map_err(Error::Usage)?)
    } else {
        templates.newest(name)
    };
    found.ok_or_else(|| Error::Usage(format!("no template {name}; known: {}", templates.names())))
}

/// `--session`, else `$VITRO_SESSION`.
fn session_path(session: &SessionArg) -> Option<PathBuf> {
    session.session.clone().or_else(|| std::env::var_os(SESSION_ENV).map(PathBuf::from))
}

/// On a held bed, the devices that implement each template (`lan@1` -> names); `None` without one.
async fn implementers(session: &SessionArg) -> Result<Option<BTreeMap<String, Vec<String>>>, Error> {
    let Some(path) = session_path(session) else { return Ok(None) };
    let peer = connect(&path).await?;
    let devices = peer
        .request::<SessionDevicesMethod>(&Empty {}, Some(Duration::from_secs(30)))
        .await
        .map_err(|e| Error::Failed(format!("the live session at {}: {e}", path.display())))?;
    // A device counts for the templates it declares and for those they extend.
    let mut by_template: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for device in devices.devices {
        let mut templates: Vec<String> =
            device.device.implements.iter().flat_map(|t| Templates::builtin().with_bases(t)).collect();
        templates.sort();
        templates.dedup();
        for template in templates {
            by_template.entry(template).or_default().push(device.device.name.clone());
        }
    }
    Ok(Some(by_template))
}

fn reference(template: &Template) -> String {
    format!("{}@{}", template.name, template.version)
}

fn list(templates: &Templates, devices: Option<&BTreeMap<String, Vec<String>>>, format: Format) {
    let rows: Vec<Value> = templates
        .all()
        .map(|t| {
            let methods = TemplateRef::parse(&reference(t)).ok().and_then(|r| templates.methods(&r).ok());
            let (required, all) =
                methods.map_or((0, 0), |m| (m.values().filter(|(_, m)| m.required).count(), m.len()));
            let mut row = json!({
                "template": reference(t),
                "extends": t.extends,
                "required_methods": required,
                "methods": all,
                "description": t.description,
            });
            if let Some(devices) = devices {
                row["devices"] = json!(devices.get(&reference(t)).cloned().unwrap_or_default());
            }
            row
        })
        .collect();
    if format == Format::Json {
        return out(&serde_json::to_string_pretty(&rows).unwrap_or_default());
    }
    say(&format!(
        "{:<14} {:<14} {:<10} {}",
        "TEMPLATE",
        "EXTENDS",
        "METHODS",
        if devices.is_some() { "DEVICES" } else { "DESCRIPTION" }
    ));
    for row in rows {
        let last = match &row["devices"] {
            Value::Array(names) if names.is_empty() => "-".to_owned(),
            Value::Array(names) => names.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
            _ => row["description"].as_str().unwrap_or_default().to_owned(),
        };
        say(&format!(
            "{:<14} {:<14} {:<10} {last}",
            row["template"].as_str().unwrap_or_default(),
            row["extends"].as_str().unwrap_or("-"),
            format!("{}/{}", row["required_methods"], row["methods"]),
        ));
    }
}

fn show(
    templates: &Templates,
    template: &Template,
    devices: Option<&BTreeMap<String, Vec<String>>>,
    format: Format,
) -> Result<(), Error> {
    let name = reference(template);
    let methods =
        templates.methods(&TemplateRef::parse(&name).map_err(Error::Failed)?).map_err(Error::Failed)?;
    let implementers = devices.map(|d| d.get(&name).cloned().unwrap_or_default());
    if format == Format::Json {
        let mut shown = serde_json::to_value(template).unwrap_or_default();
        shown["methods"] = json!(methods
            .iter()
            .map(|(method, (from, m))| (method.clone(), json!({ "from": from.to_string(), "method": m })))
            .collect::<BTreeMap<_, _>>());
        if let Some(names) = implementers {
            shown["devices"] = json!(names);
        }
        out(&serde_json::to_string_pretty(&shown).unwrap_or_default());
        return Ok(());
    }
    say(&format!("{name}: {}", template.description));
    if let Some(parent) = &template.extends {
        say(&format!("extends {parent}"));
    }
    say("");
    say(&format!("{:<32} {:<9} {:<14} {}", "METHOD", "REQUIRED", "FROM", "PARAMS"));
    for (method, (from, m)) in &methods {
        let params: Vec<String> = m.params["properties"]
            .as_object()
            .map(|props| {
                let required = m.params["required"].as_array().cloned().unwrap_or_default();
                props
                    .keys()
                    .map(|k| if required.contains(&json!(k)) { k.clone() } else { format!("{k}?") })
                    .collect()
            })
            .unwrap_or_default();
        let required = if m.required { "yes" } else { "no" };
        say(&format!("{method:<32} {required:<9} {:<14} {}", from.to_string(), params.join(", ")));
        say(&format!("    {}", m.description));
    }
    if let Some(names) = implementers {
        say("");
        say(&format!("devices: {}", if names.is_empty() { "none".to_owned() } else { names.join(", ") }));
    }
    Ok(())
}

fn print_report(results: &[vitro_protocol::session::TemplateCheckResult]) {
    let (mut passed, mut failed, mut errors) = (0, 0, 0);
    for r in results {
        let call = format!("{} {} {} {}", r.device, r.template, r.method, r.params);
        match r.outcome {
            CheckOutcome::Passed => {
                passed += 1;
                say(&format!("passed  {call}"));
            }
            CheckOutcome::Failed => {
                failed += 1;
                say(&format!(
                    "FAILED  {call}: {} (schema path {}, at {:?} of the result: {})",
                    r.message.as_deref().unwrap_or_default(),
                    r.schema_path.as_deref().unwrap_or_default(),
                    r.instance_path.as_deref().unwrap_or_default(),
                    r.value.as_ref().map(ToString::to_string).unwrap_or_default()
                ));
            }
            _ => {
                errors += 1;
                say(&format!("ERROR   {call}: {}", r.message.as_deref().unwrap_or_default()));
            }
        }
    }
    if results.is_empty() {
        say("no device of this bed declares a template with side-effect-free examples");
    }
    say(&format!("{passed} passed, {failed} failed, {errors} errors"));
}

async fn connect(path: &std::path::Path) -> Result<PeerHandle, Error> {
    let stream = tokio::net::UnixStream::connect(path).await.map_err(|e| {
        Error::Failed(format!(
            "cannot reach the live session at {}: {e} (is the bed still held?)",
            path.display()
        ))
    })?;
    let (read, write) = stream.into_split();
    Ok(vitro_rpc::start(read, write, Arc::new(OnlyCalls), PeerConfig::new("the live session")))
}
