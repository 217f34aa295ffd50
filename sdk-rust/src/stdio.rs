//! The protocol's private stdio: stdout is duplicated for the protocol and fd 1 is pointed at
//! stderr, so a stray `println!` (or a C library's write to fd 1) never corrupts the stream.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::unix::pipe;

/// The protocol's input and output.
pub(crate) struct ProtocolStdio {
    pub(crate) input: Box<dyn AsyncRead + Unpin + Send>,
    pub(crate) output: Box<dyn AsyncWrite + Unpin + Send>,
}

fn dup_cloexec(fd: i32) -> io::Result<OwnedFd> {
    // SAFETY: fcntl with F_DUPFD_CLOEXEC has no memory effects; the result is a new fd we own.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if new < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `new` is a freshly duplicated descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// Takes fd 0 and fd 1 for the protocol and redirects fd 1 to stderr. Call inside a tokio runtime.
pub(crate) fn take() -> io::Result<ProtocolStdio> {
    let input = dup_cloexec(0)?;
    let output = dup_cloexec(1)?;
    // SAFETY: dup2 onto fd 1 only replaces which file fd 1 names.
    if unsafe { libc::dup2(2, 1) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let input: Box<dyn AsyncRead + Unpin + Send> = match pipe::Receiver::from_owned_fd(input.try_clone()?) {
        Ok(pipe) => Box::new(pipe),
        Err(_) => Box::new(tokio::fs::File::from_std(std::fs::File::from(input))),
    };
    let output: Box<dyn AsyncWrite + Unpin + Send> = match pipe::Sender::from_owned_fd(output.try_clone()?) {
        Ok(pipe) => Box::new(pipe),
        Err(_) => Box::new(tokio::fs::File::from_std(std::fs::File::from(output))),
    };
    Ok(ProtocolStdio { input, output })
}
