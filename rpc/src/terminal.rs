//! The process's terminal in raw mode, for passing keystrokes straight to a device console.

/// Puts fd 0 in raw mode and restores its settings on drop.
pub struct RawTerminal(libc::termios);

impl RawTerminal {
    /// Switches fd 0 to raw mode; fails when fd 0 is not a terminal.
    pub fn enter() -> std::io::Result<Self> {
        // SAFETY: tcgetattr/tcsetattr on fd 0 with a termios we own.
        unsafe {
            let mut saved: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut saved) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let mut raw = saved;
            libc::cfmakeraw(&mut raw);
            if libc::tcsetattr(0, libc::TCSANOW, &raw) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(Self(saved))
        }
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        // SAFETY: restores the settings saved in `enter`.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &self.0) };
    }
}
