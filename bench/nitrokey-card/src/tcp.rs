//! Socket options std doesn't expose.

use std::{io, net::TcpStream};

/// Asks the kernel to ACK the next incoming segments at once instead of delaying the ACK.
/// Linux drops back to delayed ACKs on its own, so this must be re-armed before each message.
#[cfg(target_os = "linux")]
pub fn quickack(stream: &TcpStream) -> io::Result<()> {
    use std::os::fd::AsRawFd as _;

    let on: libc::c_int = 1;
    // SAFETY: a valid, open socket fd (borrowed from `stream`) and a correctly sized c_int option.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// No TCP_QUICKACK outside Linux; the delayed-ACK stall stays.
#[cfg(not(target_os = "linux"))]
pub fn quickack(_stream: &TcpStream) -> io::Result<()> {
    Ok(())
}
