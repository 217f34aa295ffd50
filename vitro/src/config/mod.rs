//! Environment and inventory files, with the semantics of Python Vitro 0.8.1.

pub mod checks;
pub mod devices;
pub mod merge;
pub mod source;

pub use devices::{board_inventory, check_unique_names, merge_devices, BoardInventory, ClientTypes, Merged};
pub use source::{ConfigError, JsonFile};
