//! The board on a terminal: indicatif draws it in place (clearing what it drew before, holding
//! other output above it) and a ticker thread renders it ten times a second. Events only change
//! the model, so a deployment never waits for the terminal.

use std::io::Write;
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::board::{Board, Glyphs};

/// How often the board is redrawn.
const REDRAW_HZ: u8 = 10;
const TICK: Duration = Duration::from_millis(1000 / REDRAW_HZ as u64);

/// The bar that draws the board now, for output that must go above it (see [`stderr_writer`]).
static DRAWING: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// A board being drawn.
pub(super) struct Live {
    board: Arc<Mutex<Board>>,
    bar: ProgressBar,
    began: Instant,
    stop: Option<mpsc::Sender<()>>,
    ticker: Option<JoinHandle<()>>,
}

impl Live {
    /// Starts drawing an empty board on stderr; `began` is when the run started.
    pub fn start(began: Instant) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(REDRAW_HZ));
        bar.set_style(
            ProgressStyle::with_template("{msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        let board = Arc::new(Mutex::new(Board::new(Glyphs::for_locale())));
        let (stop, stopped) = mpsc::channel::<()>();
        let (ticking_board, ticking_bar) = (board.clone(), bar.clone());
        let ticker = std::thread::Builder::new()
            .name("vitro-progress".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(TICK) {
                    draw(&ticking_board, &ticking_bar, began);
                }
            })
            .ok();
        *DRAWING.lock().unwrap_or_else(|p| p.into_inner()) = Some(bar.clone());
        Self { board, bar, began, stop: Some(stop), ticker }
    }

    /// The board's model, to change.
    pub fn board(&self) -> MutexGuard<'_, Board> {
        self.board.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Draws the board a last time and leaves it on the screen.
    pub fn finish(mut self) {
        self.stop_ticking();
        draw(&self.board, &self.bar, self.began);
        self.bar.finish();
    }

    fn stop_ticking(&mut self) {
        drop(self.stop.take());
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
        *DRAWING.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.stop_ticking();
    }
}

fn draw(board: &Mutex<Board>, bar: &ProgressBar, began: Instant) {
    let (height, width) = console::Term::stderr().size();
    let colour = console::colors_enabled_stderr();
    let text = board.lock().unwrap_or_else(|p| p.into_inner()).render(
        Instant::now(),
        began,
        usize::from(width).saturating_sub(1),
        usize::from(height),
        colour,
    );
    bar.set_message(text);
}

/// Prints `line` on stderr, above the board while one is drawn.
pub fn say(line: &str) {
    let mut out = stderr_writer();
    out.0.extend_from_slice(line.as_bytes());
    out.0.push(b'\n');
}

/// Where `vitro`'s log records go: stderr, above the board while one is drawn.
pub fn stderr_writer() -> AboveBoard {
    AboveBoard(Vec::new())
}

/// One log record, written in one piece when dropped (above the board if one is drawn).
pub struct AboveBoard(Vec<u8>);

impl Write for AboveBoard {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for AboveBoard {
    fn drop(&mut self) {
        let write = || {
            let _ = std::io::stderr().lock().write_all(&self.0);
        };
        let bar = DRAWING.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}
