//! Device templates as Rust traits, generated from `protocol/templates/` (see `build.rs`): per
//! template and major version a module (`lan_v1`) with the trait of its methods (`Lan`, with
//! typed params and results), its [`Declaration`] and a `route` function from `device/call`.
//!
//! A driver implements the trait, routes the calls with `#[vitro_sdk::device(routes(lan_v1))]`
//! and declares the template on its type with [`crate::DeviceType::template`]:
//!
//! ```
//! use vitro_sdk::templates::power_v1::{self, Power, PowerCycleParams};
//! use vitro_sdk::{protocol::types::Role, Context, Device, DeviceType, DriverResult};
//!
//! struct Strip;
//!
//! #[vitro_sdk::async_trait]
//! impl Power for Strip {
//!     async fn power_on(&self, _ctx: &Context) -> DriverResult<bool> { Ok(true) }
//!     async fn power_off(&self, _ctx: &Context) -> DriverResult<bool> { Ok(true) }
//!     async fn power_cycle(&self, _ctx: &Context, _p: PowerCycleParams) -> DriverResult<bool> { Ok(true) }
//! }
//!
//! #[vitro_sdk::device(routes(power_v1))]
//! impl Device for Strip {}
//!
//! let strip = DeviceType::new("strip", Role::Server, |_| Ok(Strip)).template(power_v1::declaration::<Strip>());
//! ```
//!
//! Declaring or routing a template the type does not implement does not compile:
//!
//! ```compile_fail,E0277
//! use vitro_sdk::{protocol::types::Role, templates::power_v1, Device, DeviceType};
//! struct Strip;
//! #[vitro_sdk::device]
//! impl Device for Strip {}
//! let strip = DeviceType::new("strip", Role::Server, |_| Ok(Strip)).template(power_v1::declaration::<Strip>());
//! // error: the trait `Power` is not implemented for `Strip`
//! ```
//!
//!
//! ```compile_fail,E0277
//! use vitro_sdk::{Device, templates::power_v1};
//! struct Strip;
//! #[vitro_sdk::device(routes(power_v1))]
//! impl Device for Strip {}
//! // error: the trait `Power` is not implemented for `Strip`
//! ```
//!
//! nor does implementing it without every required method:
//!
//! ```compile_fail,E0046
//! use vitro_sdk::{Context, DriverResult, templates::power_v1::Power};
//! struct Strip;
//! #[vitro_sdk::async_trait]
//! impl Power for Strip {
//!     async fn power_on(&self, _ctx: &Context) -> DriverResult<bool> { Ok(true) }
//!     // power_off and power_cycle are missing
//! }
//! ```

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use async_trait::async_trait;

pub use crate::{Context, DriverError, DriverResult};
use vitro_protocol::ErrorKind;

/// What a device type declares for a template: its reference and its methods (inherited ones
/// included) as `(name, required, description)`. Get one from the template module's
/// `declaration::<T>()`, which needs `T` to implement the template's trait.
#[derive(Debug, Clone, Copy)]
pub struct Declaration {
    /// `lan@1`.
    pub template: &'static str,
    /// Every method of the template.
    pub methods: &'static [(&'static str, bool, &'static str)],
}

/// The params of a method that takes none.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NoParams {}

/// A method's params: an object of named arguments, or (Python style) an array of them in the
/// template's order; `null` is none.
fn parse<P: DeserializeOwned>(method: &str, names: &[&str], params: &serde_json::Value) -> DriverResult<P> {
    let named = match params {
        serde_json::Value::Null => serde_json::json!({}),
        serde_json::Value::Array(values) if values.len() <= names.len() => serde_json::Value::Object(
            names.iter().zip(values).map(|(n, v)| ((*n).to_owned(), v.clone())).collect(),
        ),
        other => other.clone(),
    };
    serde_json::from_value(named).map_err(|e| {
        DriverError::new(
            ErrorKind::InvalidParams,
            format!("`{method}` got params that do not fit its template: {e}"),
        )
    })
}

fn answer<R: Serialize>(result: R) -> DriverResult<serde_json::Value> {
    serde_json::to_value(result).map_err(|e| DriverError::new(ErrorKind::Internal, e.to_string()))
}

fn not_offered(method: &str) -> DriverError {
    DriverError::new(ErrorKind::MethodNotFound, format!("this device does not offer `{method}`"))
}

include!(concat!(env!("OUT_DIR"), "/templates.rs"));
