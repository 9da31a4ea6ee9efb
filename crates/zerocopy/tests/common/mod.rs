//! Endpoints for the tests: regular files, pipes and loopback TCP sockets, each with a thread
//! that feeds or drains the far end.

#![allow(dead_code, unreachable_pub)] // Each test binary uses a different part of this module.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Duration;

/// The kinds of descriptor a transfer runs between.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    File,
    Pipe,
    Socket,
}

pub const ENDS: [End; 3] = [End::File, End::Pipe, End::Socket];

/// Deterministic, position-dependent bytes, so a shifted or repeated block shows up.
pub fn payload(len: usize, seed: u64) -> Vec<u8> {
    // Word at a time: debug builds are slow per byte, and tests move tens of MiB.
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

pub enum Source {
    File(File),
    Pipe(std::io::PipeReader, JoinHandle<()>),
    Socket(TcpStream, JoinHandle<()>),
}

impl Source {
    pub fn new(end: End, data: &[u8], dir: &tempfile::TempDir) -> Source {
        match end {
            End::File => {
                let path = dir.path().join("src");
                std::fs::write(&path, data).unwrap();
                Source::File(File::open(path).unwrap())
            }
            End::Pipe => {
                let (reader, mut writer) = std::io::pipe().unwrap();
                let data = data.to_vec();
                let feeder = std::thread::spawn(move || {
                    let _ = writer.write_all(&data);
                });
                Source::Pipe(reader, feeder)
            }
            End::Socket => {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap();
                let data = data.to_vec();
                let feeder = std::thread::spawn(move || {
                    let mut out = TcpStream::connect(addr).unwrap();
                    let _ = out.write_all(&data);
                });
                let (stream, _) = listener.accept().unwrap();
                bounded(&stream);
                Source::Socket(stream, feeder)
            }
        }
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Source::File(f) => f.as_fd(),
            Source::Pipe(p, _) => p.as_fd(),
            Source::Socket(s, _) => s.as_fd(),
        }
    }

    /// Closes the source and waits for its feeder.
    pub fn finish(self) {
        match self {
            Source::File(_) => {}
            Source::Pipe(p, feeder) => {
                drop(p);
                feeder.join().unwrap();
            }
            Source::Socket(s, feeder) => {
                drop(s);
                feeder.join().unwrap();
            }
        }
    }
}

pub enum Sink {
    File(File, PathBuf),
    Pipe(std::io::PipeWriter, JoinHandle<Vec<u8>>),
    Socket(TcpStream, JoinHandle<Vec<u8>>),
}

impl Sink {
    pub fn new(end: End, dir: &tempfile::TempDir) -> Sink {
        match end {
            End::File => {
                let path = dir.path().join("dst");
                Sink::File(File::create(&path).unwrap(), path)
            }
            End::Pipe => {
                let (mut reader, writer) = std::io::pipe().unwrap();
                let drain = std::thread::spawn(move || {
                    let mut got = Vec::new();
                    reader.read_to_end(&mut got).unwrap();
                    got
                });
                Sink::Pipe(writer, drain)
            }
            End::Socket => {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap();
                let drain = std::thread::spawn(move || {
                    let (mut stream, _) = listener.accept().unwrap();
                    bounded(&stream);
                    let mut got = Vec::new();
                    stream.read_to_end(&mut got).unwrap();
                    got
                });
                let stream = TcpStream::connect(addr).unwrap();
                bounded(&stream);
                Sink::Socket(stream, drain)
            }
        }
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Sink::File(f, _) => f.as_fd(),
            Sink::Pipe(p, _) => p.as_fd(),
            Sink::Socket(s, _) => s.as_fd(),
        }
    }

    /// Closes the sink and returns every byte that arrived.
    pub fn finish(self) -> Vec<u8> {
        match self {
            Sink::File(f, path) => {
                drop(f);
                std::fs::read(path).unwrap()
            }
            Sink::Pipe(p, drain) => {
                drop(p);
                drain.join().unwrap()
            }
            Sink::Socket(s, drain) => {
                drop(s);
                drain.join().unwrap()
            }
        }
    }
}

/// No test may hang: every socket gives up after a few seconds.
pub fn bounded(stream: &TcpStream) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
}
