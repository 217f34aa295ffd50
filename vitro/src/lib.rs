//! The Vitro orchestrator: finds and runs plugin processes and keeps a registry of devices.
//!
//! The `vitro` binary is a thin command line over this library.

pub mod check;
pub mod cli;
pub mod config;
pub mod console_logs;
pub mod consoles;
pub mod env_req;
pub mod lifecycle;
pub mod menu;
pub mod plugin;
pub mod progress;
pub mod registry;
pub mod session;
pub mod session_dir;
pub mod templates;
