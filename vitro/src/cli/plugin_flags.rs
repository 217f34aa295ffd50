//! Flags that plugins declare in their handshake, added to the command line.

use std::collections::BTreeMap;

use clap::{Arg, ArgAction, ArgMatches};
use serde_json::Value;

use crate::plugin::PluginProcess;

/// Adds each plugin's declared flags to the command line; returns their names.
pub(super) fn with_plugin_flags(
    mut command: clap::Command,
    plugins: &[PluginProcess],
) -> (clap::Command, Vec<(String, bool)>) {
    let mut added = Vec::new();
    for plugin in plugins {
        for arg in &plugin.info().cli_args {
            let taken = command.get_arguments().any(|a| a.get_long() == Some(arg.name.as_str()));
            if taken || arg.name.is_empty() {
                tracing::warn!(
                    "plugin {} declares --{}, which is taken; ignored",
                    plugin.info().plugin.name,
                    arg.name
                );
                continue;
            }
            let help = format!("{} [plugin {}]", arg.help, plugin.info().plugin.name);
            let mut flag = Arg::new(arg.name.clone()).long(arg.name.clone()).help(help);
            flag = if arg.takes_value {
                let flag = flag.value_name("VALUE").action(ArgAction::Set);
                match &arg.default {
                    Some(default) => flag.default_value(default.clone()),
                    None => flag,
                }
            } else {
                flag.action(ArgAction::SetTrue)
            };
            // A deployment is `vitro [flags]` or `vitro run [flags] -- CMD`: both take them.
            command = command.arg(flag.clone()).mut_subcommand("run", |run| run.arg(flag));
            added.push((arg.name.clone(), arg.takes_value));
        }
    }
    (command, added)
}

pub(super) fn flag_values(matches: &ArgMatches, added: &[(String, bool)]) -> BTreeMap<String, Value> {
    let mut values = BTreeMap::new();
    for (name, takes_value) in added {
        if *takes_value {
            if let Ok(Some(value)) = matches.try_get_one::<String>(name) {
                values.insert(name.clone(), Value::String(value.clone()));
            }
        } else if let Ok(Some(given)) = matches.try_get_one::<bool>(name) {
            values.insert(name.clone(), Value::Bool(*given));
        }
    }
    values
}
