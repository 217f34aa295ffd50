//! Console logs that `vitro` writes itself: those of devices whose plugin runs on an exporter
//! host, which streams their consoles here (`console_log_stream`). Same files as a plugin
//! writes (`DIR/<device>_<console>.txt`, timestamped clean lines, rotated), on this machine.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::PathBuf;

use bytes::Bytes;
use vitro_console_log::log::{log_path, spawn_writer, Log, ROTATE_BYTES};
use vitro_protocol::types::ConsoleData;

/// The devices whose logs are written here, and their open writers.
#[derive(Default)]
pub struct ConsoleLogs {
    dirs: Mutex<HashMap<String, PathBuf>>,
    open: Mutex<HashMap<(String, String), Log>>,
}

impl std::fmt::Debug for ConsoleLogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleLogs").finish_non_exhaustive()
    }
}

impl ConsoleLogs {
    /// Writes the consoles of `device` into `dir` from now on.
    pub fn keep(&self, device: &str, dir: PathBuf) {
        self.dirs.lock().insert(device.to_owned(), dir);
    }

    /// Appends streamed output to its console's log, when that device's logs are written here.
    pub fn write(&self, data: &ConsoleData) {
        let Some(dir) = self.dirs.lock().get(&data.device).cloned() else { return };
        let key = (data.device.clone(), data.console.clone());
        let mut open = self.open.lock();
        let log = open
            .entry(key)
            .or_insert_with(|| spawn_writer(log_path(&dir, &data.device, &data.console), ROTATE_BYTES));
        log.send(Bytes::from(crate::consoles::decode(data)));
    }

    /// Writes a marker line into every log written here.
    pub fn mark(&self, text: &str) {
        for log in self.open.lock().values() {
            log.send(Bytes::from(format!("\n##### {text}\n")));
        }
    }

    /// Ends every log, waiting until each is written out.
    pub fn finish(&self) {
        let open: Vec<Log> = self.open.lock().drain().map(|(_, log)| log).collect();
        for log in open {
            log.finish();
        }
    }
}
