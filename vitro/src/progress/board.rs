//! The live progress board's model: one row per device and a summary line, rendered into lines
//! that fit a terminal. Pure: it draws nothing and reads no clock (times are passed in), so what
//! a person sees is tested without a terminal.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use vitro_protocol::names::printable;

/// Widest a name, type or plugin column grows; longer values are cut.
const COLUMN_MAX: usize = 24;

/// The characters the board draws with.
#[derive(Debug, Clone, Copy)]
pub(super) struct Glyphs {
    /// Frames of a running hook's spinner, one per 100 ms.
    spinner: &'static [&'static str],
    done: &'static str,
    failed: &'static str,
    waiting: &'static str,
    /// The end of a cut text.
    cut: &'static str,
    /// Between the summary's parts.
    separator: &'static str,
}

impl Glyphs {
    /// Braille dots, check marks and an ellipsis.
    pub const UNICODE: Glyphs = Glyphs {
        spinner: &["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"],
        done: "✔",
        failed: "✘",
        waiting: "·",
        cut: "…",
        separator: " · ",
    };
    /// For terminals whose locale is not UTF-8.
    pub const ASCII: Glyphs = Glyphs {
        spinner: &["|", "/", "-", "\\"],
        done: "+",
        failed: "x",
        waiting: ".",
        cut: "~",
        separator: " - ",
    };

    /// Unicode when the locale (the first of `LC_ALL`, `LC_CTYPE`, `LANG` that is set) says UTF-8.
    pub fn for_locale() -> Glyphs {
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()));
        let utf8 = locale.is_some_and(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("utf-8") || l.contains("utf8")
        });
        if utf8 {
            Glyphs::UNICODE
        } else {
            Glyphs::ASCII
        }
    }
}

impl Default for Glyphs {
    fn default() -> Self {
        Glyphs::UNICODE
    }
}

/// Where a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    /// No hook has run yet.
    Waiting,
    /// A hook runs.
    Running,
    /// Its last hook passed.
    Done,
    /// A hook failed.
    Failed,
}

#[derive(Debug)]
struct Row {
    name: String,
    type_name: String,
    plugin: String,
    state: State,
    phase: String,
    /// When the running hook started.
    since: Option<Instant>,
    /// How long the last finished hook took.
    took: Option<Duration>,
    /// The failure, or the plugin's latest progress message.
    note: String,
}

/// The board: devices in registration order, and the stage the deployment is in.
#[derive(Debug, Default)]
pub(super) struct Board {
    rows: Vec<Row>,
    by_name: HashMap<String, usize>,
    stage: String,
    /// Hooks of the current phase, and how many of them ended.
    hooks: usize,
    ended: usize,
    /// The latest message about no device on the board (shown under the summary).
    note: String,
    /// How setup ended, once it has.
    ended_ok: Option<bool>,
    glyphs: Glyphs,
}

impl Board {
    /// An empty board drawn with `glyphs`.
    pub fn new(glyphs: Glyphs) -> Self {
        Self { glyphs, ..Self::default() }
    }

    /// A device joins the board (at registration).
    pub fn add_device(&mut self, name: &str, type_name: &str, plugin: &str) {
        if self.by_name.contains_key(name) {
            return;
        }
        self.by_name.insert(name.to_owned(), self.rows.len());
        self.rows.push(Row {
            name: printable(name).into_owned(),
            type_name: printable(type_name).into_owned(),
            plugin: printable(plugin).into_owned(),
            state: State::Waiting,
            phase: String::new(),
            since: None,
            took: None,
            note: String::new(),
        });
    }

    /// The deployment enters `stage`, a phase with `hooks` hooks to run (0 for other stages).
    pub fn stage(&mut self, stage: &str, hooks: usize) {
        self.stage = stage.to_owned();
        self.hooks = hooks;
        self.ended = 0;
    }

    /// `device`'s hook of `phase` started at `now`.
    pub fn started(&mut self, device: &str, phase: &str, now: Instant) {
        if let Some(row) = self.row(device) {
            row.state = State::Running;
            row.phase = phase.to_owned();
            row.since = Some(now);
            row.note.clear();
        }
    }

    /// `device`'s hook of `phase` ended after `took`, with `error` if it failed.
    pub fn finished(&mut self, device: &str, phase: &str, took: Duration, error: Option<&str>) {
        if self.stage == phase {
            self.ended += 1;
        }
        if let Some(row) = self.row(device) {
            row.state = if error.is_some() { State::Failed } else { State::Done };
            row.phase = phase.to_owned();
            row.since = None;
            row.took = Some(took);
            row.note = error.map(|e| printable(e).into_owned()).unwrap_or_default();
        }
    }

    /// Setup is over at `now`, successfully or not; hooks still running were cut short.
    pub fn end(&mut self, ok: bool, now: Instant) {
        self.ended_ok = Some(ok);
        if ok {
            self.stage = "set up".into();
            self.hooks = 0;
        }
        for row in self.rows.iter_mut().filter(|r| r.state == State::Running) {
            row.state = State::Failed;
            row.took = row.since.take().map(|since| now.duration_since(since));
            row.note = "cut short".into();
        }
    }

    /// A plugin's progress message, for a device or for the whole bed.
    pub fn note(&mut self, device: Option<&str>, message: &str) {
        match device.and_then(|d| self.by_name.get(d).copied()) {
            Some(index) if self.rows[index].state != State::Failed => {
                self.rows[index].note = printable(message).into_owned()
            }
            Some(_) => {}
            None => self.note = printable(message).into_owned(),
        }
    }

    fn row(&mut self, device: &str) -> Option<&mut Row> {
        let index = *self.by_name.get(device)?;
        self.rows.get_mut(index)
    }

    fn count(&self, state: State) -> usize {
        self.rows.iter().filter(|r| r.state == state).count()
    }

    /// The board as lines at most `width` columns wide and `height` lines high: the summary, then
    /// the rows (failed and running ones first when not all fit). `colour` adds ANSI colours.
    pub fn render(&self, now: Instant, began: Instant, width: usize, height: usize, colour: bool) -> String {
        let spinner = self.glyphs.spinner;
        let frame = spinner[(now.duration_since(began).as_millis() / 100) as usize % spinner.len()];
        let mut lines = vec![self.summary(now, began, frame, colour)];
        if !self.note.is_empty() {
            lines.push(format!("  {}", self.note));
        }
        let room = height.saturating_sub(lines.len() + 1).max(1);
        let shown = self.rows_to_show(room);
        let widths =
            [self.width_of(|r| &r.name), self.width_of(|r| &r.type_name), self.width_of(|r| &r.plugin)];
        for &index in &shown {
            lines.push(self.render_row(&self.rows[index], widths, now, frame, colour));
        }
        let hidden = self.rows.len() - shown.len();
        if hidden > 0 {
            let hidden_in = |state| {
                let shown_in = shown.iter().filter(|&&i| self.rows[i].state == state).count();
                self.count(state) - shown_in
            };
            lines.push(format!(
                "  {} and {hidden} more devices: {} done, {} waiting",
                self.glyphs.cut,
                hidden_in(State::Done),
                hidden_in(State::Waiting),
            ));
        }
        lines
            .iter()
            .map(|line| console::truncate_str(line, width, self.glyphs.cut).into_owned())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `phase · 3/5 done · 1 failed · slowest: board 12.3s · 14.1s in all`.
    fn summary(&self, now: Instant, began: Instant, frame: &str, colour: bool) -> String {
        let failed = self.count(State::Failed);
        let mark = if failed > 0 || self.ended_ok == Some(false) {
            paint(self.glyphs.failed, console::Color::Red, colour)
        } else if self.ended_ok == Some(true) {
            paint(self.glyphs.done, console::Color::Green, colour)
        } else {
            paint(frame, console::Color::Cyan, colour)
        };
        let mut parts = vec![if self.stage.is_empty() { "starting".to_owned() } else { self.stage.clone() }];
        if self.hooks > 0 {
            parts.push(format!("{}/{} done", self.ended, self.hooks));
        } else {
            parts.push(format!("{} devices", self.rows.len()));
        }
        if failed > 0 {
            parts.push(format!("{failed} failed"));
        }
        let running = self.rows.iter().filter_map(|r| Some((r, now.duration_since(r.since?))));
        let slowest = running.max_by_key(|(_, running)| *running);
        if let Some((row, running)) = slowest {
            parts.push(format!("slowest: {} {}", row.name, seconds(running)));
        }
        parts.push(format!("{} in all", seconds(now.duration_since(began))));
        format!("{mark} {}", parts.join(self.glyphs.separator))
    }

    /// Which rows fit in `room` lines (one kept for the "more" line when not all fit), in
    /// registration order: failed and running ones first, then the others.
    fn rows_to_show(&self, room: usize) -> Vec<usize> {
        if self.rows.len() <= room {
            return (0..self.rows.len()).collect();
        }
        let room = room.saturating_sub(1).max(1);
        let urgent = |r: &Row| matches!(r.state, State::Failed | State::Running);
        let mut shown: Vec<usize> =
            (0..self.rows.len()).filter(|&i| urgent(&self.rows[i])).take(room).collect();
        let rest = (0..self.rows.len()).filter(|&i| !urgent(&self.rows[i]));
        shown.extend(rest.take(room - shown.len()));
        shown.sort_unstable();
        shown
    }

    fn width_of(&self, field: impl Fn(&Row) -> &String) -> usize {
        self.rows.iter().map(|r| field(r).chars().count()).max().unwrap_or(0).min(COLUMN_MAX)
    }

    fn render_row(&self, row: &Row, widths: [usize; 3], now: Instant, frame: &str, colour: bool) -> String {
        let (mark, time, detail) = match row.state {
            State::Waiting => {
                (paint(self.glyphs.waiting, console::Color::White, colour), String::new(), "waiting")
            }
            State::Running => {
                let running = row.since.map_or(Duration::ZERO, |since| now.duration_since(since));
                (paint(frame, console::Color::Yellow, colour), seconds(running), "")
            }
            State::Done => (
                paint(self.glyphs.done, console::Color::Green, colour),
                row.took.map(seconds).unwrap_or_default(),
                "done",
            ),
            State::Failed => (
                paint(self.glyphs.failed, console::Color::Red, colour),
                row.took.map(seconds).unwrap_or_default(),
                "FAILED",
            ),
        };
        let detail = match (detail, row.note.as_str()) {
            (detail, "") => detail.to_owned(),
            ("", note) => note.to_owned(),
            (detail, note) => format!("{detail}: {note}"),
        };
        let detail =
            if row.state == State::Failed { paint(&detail, console::Color::Red, colour) } else { detail };
        let row = format!(
            "{mark} {:<nw$}  {:<tw$}  {:<pw$}  {:<18} {time:>8}  {detail}",
            cut(&row.name, widths[0], self.glyphs.cut),
            cut(&row.type_name, widths[1], self.glyphs.cut),
            cut(&row.plugin, widths[2], self.glyphs.cut),
            row.phase,
            nw = widths[0],
            tw = widths[1],
            pw = widths[2],
        );
        row.trim_end().to_owned()
    }
}

/// `text` cut to `width` characters, ending in `tail` when cut.
fn cut(text: &str, width: usize, tail: &str) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(tail.chars().count())).collect();
    cut.push_str(tail);
    cut
}

fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

fn paint(text: &str, color: console::Color, colour: bool) -> String {
    if colour {
        console::style(text).fg(color).force_styling(true).to_string()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bed(n: usize) -> (Board, Instant) {
        let mut board = Board::default();
        for i in 0..n {
            board.add_device(&format!("d{i}"), "box", "fixture");
        }
        (board, Instant::now())
    }

    #[test]
    fn rows_show_each_devices_state_and_the_summary_its_phase() {
        let (mut board, began) = bed(3);
        board.stage("device boot", 3);
        board.started("d0", "device boot", began);
        board.started("d1", "device boot", began);
        board.finished("d1", "device boot", Duration::from_millis(1500), None);
        board.started("d2", "device boot", began);
        board.finished("d2", "device boot", Duration::from_secs(2), Some("no login prompt\nwithin 30 s"));
        let now = began + Duration::from_secs(12);
        let text = board.render(now, began, 200, 40, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(
            lines[0].contains("device boot · 2/3 done · 1 failed · slowest: d0 12.0s · 12.0s in all"),
            "{text}"
        );
        assert!(lines[1].contains("d0") && lines[1].contains("12.0s"), "{text}");
        assert!(lines[2].starts_with("✔ d1") && lines[2].ends_with("1.5s  done"), "{text}");
        assert!(
            lines[3].starts_with("✘ d2") && lines[3].ends_with("FAILED: no login prompt\\nwithin 30 s"),
            "{text}"
        );
    }

    #[test]
    fn a_big_bed_shows_what_fits_failed_and_running_first() {
        let (mut board, began) = bed(1000);
        board.stage("device boot", 1000);
        board.started("d999", "device boot", began);
        board.started("d500", "device boot", began);
        board.finished("d500", "device boot", Duration::from_secs(1), Some("boom"));
        let text = board.render(began, began, 80, 10, true);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 9, "{text}");
        assert!(
            lines.iter().any(|l| l.contains("d999")) && lines.iter().any(|l| l.contains("d500")),
            "{text}"
        );
        assert!(lines[8].contains("… and 993 more devices: 0 done, 993 waiting"), "{text}");
        assert!(lines.iter().all(|l| console::measure_text_width(l) <= 80), "{text}");
    }

    #[test]
    fn a_bed_that_is_set_up_says_so() {
        let (mut board, began) = bed(2);
        board.stage("post setup", 0);
        board.end(true, began);
        let text = board.render(began + Duration::from_secs(4), began, 200, 40, false);
        assert!(text.starts_with("✔ set up · 2 devices · 4.0s in all"), "{text}");
    }

    #[test]
    fn hooks_still_running_when_setup_ends_were_cut_short() {
        let (mut board, began) = bed(2);
        board.stage("device boot", 2);
        board.started("d0", "device boot", began);
        board.end(false, began + Duration::from_secs(3));
        let text = board.render(began + Duration::from_secs(4), began, 200, 40, false);
        assert!(text.starts_with("✘ device boot · 0/2 done · 1 failed · 4.0s in all"), "{text}");
        assert!(text.lines().nth(1).unwrap().ends_with("3.0s  FAILED: cut short"), "{text}");
    }

    #[test]
    fn a_terminal_without_utf8_gets_ascii() {
        let mut board = Board::new(Glyphs::ASCII);
        let began = Instant::now();
        board.add_device("a-very-long-device-name-indeed", "box", "fixture");
        board.add_device("d1", "box", "fixture");
        board.stage("device boot", 2);
        board.started("d1", "device boot", began);
        board.finished("a-very-long-device-name-indeed", "device boot", Duration::from_secs(1), None);
        let text = board.render(began, began, 200, 40, false);
        assert!(text.is_ascii(), "{text}");
        assert!(text.contains("+ a-very-long-device-name~ "), "{text}");
        assert!(text.lines().nth(2).unwrap().starts_with("| d1 "), "{text}");
    }

    #[test]
    fn plugin_text_cannot_move_the_cursor() {
        let (mut board, began) = bed(1);
        board.note(Some("d0"), "\u{1b}[2Jwiped");
        board.note(None, "waiting for board\rX");
        let text = board.render(began, began, 200, 40, false);
        assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
    }
}
