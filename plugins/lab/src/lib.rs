//! A shared lab for Vitro: boards leased from PostgreSQL (or an SQLite file on one machine), a
//! fair queue with priorities, leases that lapse when their job dies, health and quarantine.
//! Two programs: `vitro-plugin-lab` (the `reservation` and `release` capabilities) and
//! `vitro-lab` (what `vitro lab ...` runs).

pub mod admin;
pub mod cli;
pub mod error;
pub mod filter;
pub mod holder;
pub mod lease;
mod migrations;
pub mod plugin;
pub mod store;
pub mod time;
mod wake;

pub use error::LabError;
pub use store::Store;
