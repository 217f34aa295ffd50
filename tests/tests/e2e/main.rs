//! End-to-end tests, one binary: the `vitro` host and binary with real plugin processes.

mod cli;
mod config;
mod conformance;
mod deploy;
mod exporters;
mod hardening;
mod lab;
mod menu;
mod plugin_host;
mod progress;
mod red_team;
mod remote;
mod session;
mod ssh_console;
mod templates;
