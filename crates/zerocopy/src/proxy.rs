//! A bidirectional socket proxy that splices both directions and forwards half-closes.

use std::io;
use std::net::{Shutdown, TcpStream};
use std::thread;

use crate::{Error, Options, Report, copy};

/// What a [`proxy`] moved in each direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyReport {
    /// From the first socket to the second.
    pub forward: Report,
    /// From the second socket to the first.
    pub backward: Report,
}

/// Relays bytes both ways between two connected sockets until both directions have ended.
///
/// Each direction runs [`copy`] with `options` on its own thread (splice through a pipe under
/// [`Strategy::Auto`](crate::Strategy::Auto)). When one side stops sending, the other side's
/// writing half is shut down, so a half-closed connection stays half-open, as with HAProxy.
///
/// # Errors
/// The first direction's error; the sockets are then shut down both ways so the other
/// direction ends too.
pub fn proxy(a: &TcpStream, b: &TcpStream, options: &Options) -> Result<ProxyReport, Error> {
    let (forward, backward) = thread::scope(|scope| {
        let forward = scope.spawn(|| one_way(a, b, options, (a, b)));
        let backward = one_way(b, a, options, (a, b));
        // A panic in `copy` would be a bug in this crate; surface it rather than hide it.
        let forward = forward
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (forward, backward)
    });
    Ok(ProxyReport {
        forward: forward?,
        backward: backward?,
    })
}

fn one_way(
    from: &TcpStream,
    to: &TcpStream,
    options: &Options,
    both: (&TcpStream, &TcpStream),
) -> Result<Report, Error> {
    match copy(from, to, options) {
        Ok(report) => {
            // The peer may already be gone; then there is nobody left to tell.
            match to.shutdown(Shutdown::Write) {
                Err(err) if err.kind() != io::ErrorKind::NotConnected => Err(Error::Io {
                    call: crate::Call::Shutdown,
                    strategy: report.strategy,
                    moved: report.bytes,
                    source: err,
                }),
                _ => Ok(report),
            }
        }
        Err(err) => {
            let _ = both.0.shutdown(Shutdown::Both);
            let _ = both.1.shutdown(Shutdown::Both);
            Err(err)
        }
    }
}
