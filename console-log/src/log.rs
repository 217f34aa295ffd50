//! Console log files: one timestamped, cleaned line per console line, rotated at a size limit
//! with backups (`<file>.1`, `<file>.2`). Written by a task of its own from an unbounded queue,
//! so logging never blocks the console and never drops bytes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::clean::Cleaner;

/// Rotate when a log reaches this size (25 MB, as Python Vitro).
pub const ROTATE_BYTES: u64 = 25 * 1000 * 1000;
/// Backups kept beside the current log.
pub const BACKUPS: usize = 2;

/// The log file of `console` of `device` under `dir`: `<dir>/<device>_<console>.txt`. Both names
/// are made safe file-name text first (`/`, a leading `.` and other bytes become `%XX`), so the
/// log stays in `dir` whatever the names hold.
pub fn log_path(dir: &Path, device: &str, console: &str) -> PathBuf {
    use vitro_protocol::names::file_name_component as safe;
    dir.join(format!("{}_{}.txt", safe(device), safe(console)))
}

/// A running log writer (a thread of its own). Dropping it ends the writer after it wrote
/// everything sent; [`Log::finish`] also waits for that.
pub struct Log {
    tx: mpsc::UnboundedSender<Bytes>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Log {
    /// Queues raw console bytes; never blocks.
    pub fn send(&self, chunk: Bytes) {
        let _ = self.tx.send(chunk);
    }

    /// Another sender into the same log (the log ends when all are dropped).
    pub fn sender(&self) -> mpsc::UnboundedSender<Bytes> {
        self.tx.clone()
    }

    /// Ends the writer and waits until everything is written.
    pub fn finish(self) {
        let Log { tx, thread } = self;
        drop(tx);
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

/// Starts a writer that appends to `path`, rotating at `rotate_at` bytes.
pub fn spawn_writer(path: PathBuf, rotate_at: u64) -> Log {
    let (tx, mut rx) = mpsc::unbounded_channel::<Bytes>();
    let spawned = std::thread::Builder::new().name("console-log".into()).spawn(move || {
        let mut writer = match LogWriter::open(path.clone(), rotate_at) {
            Ok(writer) => writer,
            Err(e) => {
                tracing::error!("cannot open console log {}: {e}", path.display());
                return;
            }
        };
        while let Some(chunk) = rx.blocking_recv() {
            if let Err(e) = writer.write(&chunk) {
                tracing::error!("writing console log {} failed: {e}", path.display());
            }
        }
        let _ = writer.finish();
    });
    let thread = match spawned {
        Ok(thread) => Some(thread),
        Err(e) => {
            // The receiver went with the closure: sends fail quietly and the console goes on.
            tracing::error!("cannot start the console log writer: {e}");
            None
        }
    };
    Log { tx, thread }
}

struct LogWriter {
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
    size: u64,
    rotate_at: u64,
    cleaner: Cleaner,
    line: Vec<u8>,
}

impl LogWriter {
    fn open(path: PathBuf, rotate_at: u64) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
        let size = file.metadata()?.len();
        Ok(Self {
            path,
            file: std::io::BufWriter::new(file),
            size,
            rotate_at,
            cleaner: Cleaner::default(),
            line: Vec::new(),
        })
    }

    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        let mut lines = Vec::new();
        self.cleaner.feed(chunk, &mut self.line, |l| lines.push(l.to_vec()));
        for line in lines {
            self.write_line(&line)?;
        }
        self.file.flush()
    }

    fn write_line(&mut self, line: &[u8]) -> std::io::Result<()> {
        let stamp = humantime::format_rfc3339_millis(SystemTime::now());
        let mut text = format!("[{stamp}] ").into_bytes();
        text.extend_from_slice(line);
        text.push(b'\n');
        if self.size + text.len() as u64 > self.rotate_at && self.size > 0 {
            self.rotate()?;
        }
        self.file.write_all(&text)?;
        self.size += text.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        let backup = |n: usize| PathBuf::from(format!("{}.{n}", self.path.display()));
        let _ = std::fs::remove_file(backup(BACKUPS));
        for n in (1..BACKUPS).rev() {
            let _ = std::fs::rename(backup(n), backup(n + 1));
        }
        std::fs::rename(&self.path, backup(1))?;
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?;
        self.file = std::io::BufWriter::new(file);
        self.size = 0;
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.write_line(&line)?;
        }
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_timestamped_and_the_log_rotates_keeping_two_backups() {
        let dir = std::env::temp_dir().join(format!("vitro-log-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = log_path(&dir, "board", "console");
        assert_eq!(path, dir.join("board_console.txt"));
        for (device, console) in [("../../x", "c"), ("/abs/evil", "c"), ("b", "../../../y")] {
            let unsafe_path = log_path(&dir, device, console);
            assert_eq!(unsafe_path.parent(), Some(dir.as_path()), "{}", unsafe_path.display());
        }
        let log = spawn_writer(path.clone(), 200);
        for i in 0..40 {
            log.send(Bytes::from(format!("line {i:02}\r\n")));
        }
        log.send(Bytes::from_static(b"tail without newline"));
        log.finish();
        assert!(std::fs::read_to_string(&path).unwrap().contains("tail without newline"));
        let current = std::fs::read_to_string(&path).unwrap();
        assert!(current.lines().all(|l| l.starts_with("[20") && l.contains("Z] ")), "{current}");
        assert!(std::fs::metadata(&path).unwrap().len() <= 200);
        let backup1 = std::fs::read_to_string(format!("{}.1", path.display())).unwrap();
        let backup2 = std::fs::read_to_string(format!("{}.2", path.display())).unwrap();
        assert!(!backup2.is_empty() && !backup1.is_empty());
        assert!(!std::path::Path::new(&format!("{}.3", path.display())).exists());
        assert!(current.contains("line 39") || backup1.contains("line 39"), "{current}\n{backup1}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// The rotation cases both SDKs replay: `tests/fixtures/console/rotation.json`.
    #[test]
    fn the_shared_rotation_cases_leave_the_same_files() {
        for (index, case) in crate::shared_cases("rotation").iter().enumerate() {
            let dir = std::env::temp_dir().join(format!("vitro-rotation-{}-{index}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let path = dir.join("board_console.txt");
            let log = spawn_writer(path.clone(), case["rotate_at"].as_u64().unwrap());
            for chunk in case["chunks"].as_array().unwrap() {
                log.send(Bytes::from(chunk.as_str().unwrap().to_owned()));
            }
            log.finish();
            let files = case["files"].as_object().unwrap();
            for (suffix, expected) in files {
                let text = std::fs::read_to_string(format!("{}{suffix}", path.display())).unwrap();
                let got: Vec<&str> = text.lines().map(|l| l.split_once("Z] ").unwrap().1).collect();
                assert_eq!(serde_json::json!(got), *expected, "{}: file {suffix:?}", case["case"]);
            }
            std::fs::remove_dir_all(dir).unwrap();
        }
    }
}
