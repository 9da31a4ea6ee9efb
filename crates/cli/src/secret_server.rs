//! `underhood secret server`: Vault's HTTP API over the secret-crypto barrier.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{ArgGroup, Args};
use underhood_secret_server::{
    Core, RouterConfig, SystemClock, TlsConfig, router, serve_until_signal,
};

/// Serve Vault's v1 HTTP API (sys, tokens, policies, kv v2, transit).
///
/// With --dev: in memory, initialized with one unseal key, unsealed, kv version 2 at secret/.
/// With --storage DIR: persistent in DIR, starts sealed (uninitialized the first time).
/// Plain HTTP is served only on loopback addresses unless --insecure-http is given; use
/// --tls-cert and --tls-key for TLS. One line a request goes to stderr (method, path, status,
/// duration); SIGINT or SIGTERM stops the server after requests in flight finish.
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("mode").required(true).args(["dev", "storage"])))]
pub(crate) struct ServerArgs {
    /// Development mode: in memory, unsealed, prints the unseal key and the root token.
    #[arg(long)]
    dev: bool,
    /// The root token's id in dev mode (default: random).
    #[arg(long, conflicts_with = "storage", value_name = "TOKEN")]
    dev_root_token_id: Option<String>,
    /// Keep everything (encrypted) in this directory.
    #[arg(long, value_name = "DIR", conflicts_with = "dev")]
    storage: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8200")]
    listen: String,
    /// PEM certificate chain for TLS.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for TLS.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Allow plain HTTP on an address that is not loopback.
    #[arg(long)]
    insecure_http: bool,
}

pub(crate) fn run(args: ServerArgs) -> Result<ExitCode> {
    let address: SocketAddr = args
        .listen
        .to_socket_addrs()
        .with_context(|| format!("--listen {:?} is not an address", args.listen))?
        .next()
        .with_context(|| format!("--listen {:?} resolves to no address", args.listen))?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsConfig::from_pem_files(cert, key)?),
        _ => None,
    };
    if tls.is_none() && !address.ip().is_loopback() && !args.insecure_http {
        bail!(
            "refusing plain HTTP on {address}, which is not a loopback address: give --tls-cert and --tls-key, or --insecure-http"
        );
    }
    let clock = Arc::new(SystemClock);
    let (core, credentials) = match &args.storage {
        Some(dir) => (Core::with_storage_dir(dir, clock)?, None),
        None => {
            let (core, credentials) = Core::dev(args.dev_root_token_id.as_deref(), clock)?;
            (core, Some(credentials))
        }
    };
    let listener =
        TcpListener::bind(address).with_context(|| format!("cannot listen on {address}"))?;
    let bound = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    // A closed stdout (the banner piped into `head`) must not stop the server: write errors
    // are ignored.
    let mut banner = String::new();
    match &credentials {
        Some(credentials) => {
            banner.push_str(
                "==> underhood secret server started in dev mode: in memory, unsealed, kv version 2 at secret/\n",
            );
            banner.push_str(&format!("Api Address: {scheme}://{bound}\n"));
            banner.push_str(&format!(
                "Unseal Key: {}\n",
                credentials.unseal_key.as_str()
            ));
            banner.push_str(&format!(
                "Root Token: {}\n",
                credentials.root_token.as_str()
            ));
            banner.push_str(&format!("\n    $ export VAULT_ADDR='{scheme}://{bound}'\n"));
            banner.push_str(
                "Development mode keeps everything in memory: do not use it in production.\n",
            );
        }
        None => {
            let state = if core.is_initialized() {
                "sealed"
            } else {
                "not initialized"
            };
            banner.push_str(&format!("==> underhood secret server started: {state}\n"));
            banner.push_str(&format!("Api Address: {scheme}://{bound}\n"));
        }
    }
    let mut stdout = io::stdout().lock();
    let _ = stdout
        .write_all(banner.as_bytes())
        .and_then(|()| stdout.flush());
    drop(stdout);
    // The banner holds the dev credentials: wipe it.
    zeroize::Zeroize::zeroize(&mut banner);
    drop(credentials);
    let app = router(Arc::new(core), RouterConfig::default());
    serve_until_signal(listener, app, tls).context("serving")?;
    eprintln!("underhood secret server: stopped");
    Ok(ExitCode::SUCCESS)
}
