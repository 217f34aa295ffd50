//! A real terminal for tests: a tmux session, its keys and its screen.

use std::process::Command;

use crate::eventually;

/// A tmux session running one command in a terminal of 160x45; killed when dropped.
pub struct Tmux(String);

impl Tmux {
    /// Starts `command` in a new session named `name`.
    pub fn start(name: &str, command: &str) -> Self {
        let ok = Command::new("tmux")
            .args(["new-session", "-d", "-s", name, "-x", "160", "-y", "45", command])
            .status()
            .expect("tmux (scripts/install-test-deps)")
            .success();
        assert!(ok, "tmux did not start");
        Self(name.to_owned())
    }

    /// Types `keys` (tmux key names).
    pub fn keys(&self, keys: &[&str]) {
        assert!(Command::new("tmux")
            .args(["send-keys", "-t", &self.0])
            .args(keys)
            .status()
            .unwrap()
            .success());
    }

    /// The screen and up to 200 lines of scrollback.
    pub fn screen(&self) -> String {
        let out =
            Command::new("tmux").args(["capture-pane", "-p", "-t", &self.0, "-S", "-200"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The visible screen only.
    pub fn visible(&self) -> String {
        let out = Command::new("tmux").args(["capture-pane", "-p", "-t", &self.0]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits (20 s at most) until `text` is on the screen.
    pub fn wait_for(&self, text: &str) {
        assert!(
            eventually(20.0, || self.screen().contains(text)),
            "{text:?} never appeared:\n{}",
            self.screen()
        );
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["kill-session", "-t", &self.0]).status();
    }
}
