//! `underhood zerocopy`: copy files, send and receive them over TCP, and proxy TCP, zero-copy.

use std::fs::File;
use std::io::{self, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use underhood_zerocopy::{Options, Report, Strategy, copy, proxy};

use crate::files::{Destination, open_source};

#[derive(Subcommand, Debug)]
pub(crate) enum ZerocopyCommand {
    /// Copy SRC to DST, never the same file as SRC.
    ///
    /// SRC is opened and checked (not a directory, not DST under another name) before DST is
    /// touched; the copy goes to a temporary file beside DST that replaces it only when complete
    /// (keeping an existing DST's permission bits), so a failed copy leaves DST as it was.
    /// A device or FIFO as DST is written in place.
    Copy {
        /// The file to read.
        src: PathBuf,
        /// The file to write.
        dst: PathBuf,
        /// The strategy to try first: auto, copy-file-range, sendfile, splice, mmap or rw.
        #[arg(long, default_value = "auto")]
        strategy: Strategy,
        /// Print the report as JSON: {"bytes","strategy","fallbacks":[…],"syscalls"}.
        #[arg(long)]
        json: bool,
    },
    /// Send FILE to HOST:PORT over one TCP connection, then close it.
    Send {
        /// The file to send.
        file: PathBuf,
        /// Where to connect.
        #[arg(long, value_name = "HOST:PORT")]
        to: String,
        /// The strategy to try first.
        #[arg(long, default_value = "auto")]
        strategy: Strategy,
    },
    /// Accept one TCP connection on HOST:PORT and write what arrives to FILE.
    Recv {
        /// Where to listen; port 0 picks a free one (the first line printed names it).
        #[arg(long, value_name = "HOST:PORT")]
        listen: String,
        /// The file to write: replaced only once the connection has ended, through a temporary
        /// file beside it.
        file: PathBuf,
    },
    /// Relay every TCP connection accepted on --listen to --to, both ways, with splice.
    Proxy {
        /// Where to listen; port 0 picks a free one (the first line printed names it).
        #[arg(long, value_name = "HOST:PORT")]
        listen: String,
        /// Where to connect for each accepted connection.
        #[arg(long, value_name = "HOST:PORT")]
        to: String,
    },
}

/// Runs one `underhood zerocopy` command.
pub(crate) fn run(command: ZerocopyCommand) -> Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match command {
        ZerocopyCommand::Copy {
            src,
            dst,
            strategy,
            json,
        } => {
            // The source is open and checked before the destination is touched; the copy goes
            // to a temporary file renamed over DST only when complete.
            let source = open_source(&src)?;
            let dest = Destination::prepare(&dst, Some(&source))?;
            let report = copy(&source.file, dest.file(), &options(strategy))
                .with_context(|| format!("copying {} to {}", src.display(), dst.display()))?;
            dest.commit()?;
            if json {
                writeln!(out, "{}", report_json(&report))?;
            } else {
                writeln!(out, "copied {report}")?;
            }
        }
        ZerocopyCommand::Send { file, to, strategy } => {
            let source =
                File::open(&file).with_context(|| format!("cannot open {}", file.display()))?;
            let addr = resolve(&to)?;
            let socket =
                TcpStream::connect(addr).with_context(|| format!("cannot connect to {to}"))?;
            let report = copy(&source, &socket, &options(strategy))
                .with_context(|| format!("sending {} to {to}", file.display()))?;
            socket.shutdown(std::net::Shutdown::Write).ok();
            writeln!(out, "sent {report}")?;
        }
        ZerocopyCommand::Recv { listen, file } => {
            let listener = TcpListener::bind(resolve(&listen)?)
                .with_context(|| format!("cannot listen on {listen}"))?;
            writeln!(out, "listening on {}", listener.local_addr()?)?;
            out.flush()?;
            let (socket, peer) = listener.accept().context("accepting a connection")?;
            let dest = Destination::prepare(&file, None)?;
            let report = copy(&socket, dest.file(), &Options::default())
                .with_context(|| format!("receiving from {peer} into {}", file.display()))?;
            dest.commit()?;
            writeln!(out, "received {report} from {peer}")?;
        }
        ZerocopyCommand::Proxy { listen, to } => {
            let target = resolve(&to)?;
            let listener = TcpListener::bind(resolve(&listen)?)
                .with_context(|| format!("cannot listen on {listen}"))?;
            writeln!(out, "listening on {}", listener.local_addr()?)?;
            out.flush()?;
            drop(out);
            for client in listener.incoming() {
                let client = client.context("accepting a connection")?;
                std::thread::spawn(move || relay(client, target));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One proxied connection; failures are reported on stderr and end only this connection.
fn relay(client: TcpStream, target: std::net::SocketAddr) {
    let peer = client
        .peer_addr()
        .map_or_else(|_| "?".to_owned(), |a| a.to_string());
    let result = TcpStream::connect(target)
        .with_context(|| format!("cannot connect to {target}"))
        .and_then(|server| Ok(proxy(&client, &server, &Options::default())?));
    match result {
        Ok(report) => eprintln!(
            "{peer}: {} bytes to {target}, {} bytes back ({})",
            report.forward.bytes, report.backward.bytes, report.forward.strategy
        ),
        Err(err) => eprintln!("{peer}: {err:#}"),
    }
}

fn options(strategy: Strategy) -> Options {
    Options {
        strategy,
        ..Options::default()
    }
}

fn resolve(host_port: &str) -> Result<std::net::SocketAddr> {
    let mut addrs = host_port
        .to_socket_addrs()
        .with_context(|| format!("{host_port:?} is not HOST:PORT"))?;
    match addrs.next() {
        Some(addr) => Ok(addr),
        None => bail!("{host_port:?} resolves to no address"),
    }
}

fn report_json(report: &Report) -> serde_json::Value {
    let fallbacks: Vec<serde_json::Value> = report
        .fallbacks
        .iter()
        .map(|f| {
            serde_json::json!({
                "from": f.from.name(), "to": f.to.name(),
                "reason": f.reason.code(), "at": f.at,
            })
        })
        .collect();
    serde_json::json!({
        "bytes": report.bytes,
        "strategy": report.strategy.name(),
        "fallbacks": fallbacks,
        "syscalls": report.syscalls,
    })
}
