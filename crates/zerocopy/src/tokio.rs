//! The async adapter: the same transfers, waiting on tokio's readiness instead of `poll(2)`.
//!
//! Sockets must be tokio's (registered with the reactor, non-blocking); files are plain
//! [`std::fs::File`]s, which never block for the strategies used here.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use tokio::io::Interest;
use tokio::net::TcpStream;

use crate::{Call, Error, Options, ProxyReport, Report, Side, Status, Transfer};

/// Sends `file` to `socket` (sendfile under [`Strategy::Auto`](crate::Strategy::Auto)).
///
/// # Errors
/// As [`copy`](crate::copy).
pub async fn send_file(
    file: &File,
    socket: &TcpStream,
    options: &Options,
) -> Result<Report, Error> {
    let mut transfer = Transfer::new(options.clone())?;
    drive(
        &mut transfer,
        (file.as_fd(), None),
        (socket.as_fd(), Some(socket)),
    )
    .await?;
    Ok(transfer.into_report())
}

/// Receives from `socket` into `file` until the peer closes (splice under `Auto`).
///
/// # Errors
/// As [`copy`](crate::copy).
pub async fn recv_file(
    socket: &TcpStream,
    file: &File,
    options: &Options,
) -> Result<Report, Error> {
    let mut transfer = Transfer::new(options.clone())?;
    drive(
        &mut transfer,
        (socket.as_fd(), Some(socket)),
        (file.as_fd(), None),
    )
    .await?;
    Ok(transfer.into_report())
}

/// Relays both ways between two sockets on one task, forwarding half-closes, as
/// [`proxy`](crate::proxy) does with threads.
///
/// # Errors
/// The first direction's error.
pub async fn proxy(a: &TcpStream, b: &TcpStream, options: &Options) -> Result<ProxyReport, Error> {
    let (forward, backward) = tokio::try_join!(one_way(a, b, options), one_way(b, a, options))?;
    Ok(ProxyReport { forward, backward })
}

async fn one_way(from: &TcpStream, to: &TcpStream, options: &Options) -> Result<Report, Error> {
    let mut transfer = Transfer::new(options.clone())?;
    drive(
        &mut transfer,
        (from.as_fd(), Some(from)),
        (to.as_fd(), Some(to)),
    )
    .await?;
    let report = transfer.into_report();
    // The peer may already be gone; then there is nobody left to tell.
    match rustix::net::shutdown(to, rustix::net::Shutdown::Write) {
        Ok(()) | Err(rustix::io::Errno::NOTCONN) => Ok(report),
        Err(errno) => Err(Error::Io {
            call: Call::Shutdown,
            strategy: report.strategy,
            moved: report.bytes,
            source: errno.into(),
        }),
    }
}

type End<'a> = (BorrowedFd<'a>, Option<&'a TcpStream>);

/// Resumes `transfer` until done, waiting for whichever socket it blocked on.
async fn drive(transfer: &mut Transfer, src: End<'_>, dst: End<'_>) -> Result<(), Error> {
    let mut status = transfer.resume(src.0, dst.0)?;
    while let Status::WouldBlock(side) = status {
        let (socket, interest) = match side {
            Side::Source => (src.1, Interest::READABLE),
            Side::Destination => (dst.1, Interest::WRITABLE),
        };
        let Some(socket) = socket else {
            // A file never blocks; a caller's non-blocking pipe would, but these take files.
            return Err(Error::Io {
                call: Call::Poll,
                strategy: transfer.report().strategy,
                moved: transfer.report().bytes,
                source: io::ErrorKind::WouldBlock.into(),
            });
        };
        socket.ready(interest).await.map_err(|source| Error::Io {
            call: Call::Poll,
            strategy: transfer.report().strategy,
            moved: transfer.report().bytes,
            source,
        })?;
        let mut next = None;
        // Readiness is cleared only when this very socket turns out not to be ready.
        let _ = socket.try_io(interest, || match transfer.resume(src.0, dst.0) {
            Ok(Status::WouldBlock(again)) if again == side => Err(io::ErrorKind::WouldBlock.into()),
            other => {
                next = Some(other);
                Ok(())
            }
        });
        status = match next {
            Some(result) => result?,
            None => Status::WouldBlock(side),
        };
    }
    Ok(())
}
