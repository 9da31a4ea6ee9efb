//! `underhood`: one command over the underhood crates, as `rg` sits on ripgrep's crates.
//!
//! Each subcommand lives in its own module and returns the exit status it wants; an error is
//! printed to stderr and exits 2. Exit statuses of `underhood sim`: 0 when every invariant
//! held, 1 when one was violated, 2 on bad input.

use std::io;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod acl;
mod cpu;
mod files;
mod lb;
mod lin;
mod secret;
mod secret_server;
mod sim;
mod sparse;
mod zerocopy;

/// Infrastructure under the hood of a large web service: simulate it, break it, understand it.
#[derive(Parser, Debug)]
#[command(name = "underhood", version, about)]
struct Cli {
    /// The most bytes read from one input file or stdin (captures, ACL files, key files,
    /// unseal keys, plaintexts); larger inputs are refused with exit 2.
    #[arg(long, global = true, value_name = "BYTES", default_value_t = files::DEFAULT_MAX_INPUT_BYTES)]
    max_input_bytes: u64,
    #[command(subcommand)]
    command: Command,
}

// Each subcommand is one variant here and one module; add yours with a two-line edit.
#[derive(Subcommand, Debug)]
enum Command {
    /// The deterministic distributed-systems simulator.
    #[command(subcommand)]
    Sim(sim::SimCommand),
    /// Kafka ACLs: evaluate, explain, translate kafka-acls.sh, lint, who-can, diff.
    #[command(subcommand)]
    Acl(acl::AclCommand),
    /// Vault-compatible secrets: Shamir shares, transit encryption, an encrypted barrier.
    #[command(subcommand)]
    Secret(secret::SecretCommand),
    /// CPU feature detection and KVM guest CPU planning.
    #[command(subcommand)]
    Cpu(cpu::CpuCommand),
    /// Thin and thick files, extent maps, holes and hole-preserving copies.
    #[command(subcommand)]
    Sparse(sparse::SparseCommand),
    /// Zero-copy file and socket transfer: copy, send, recv, proxy.
    #[command(subcommand)]
    Zerocopy(zerocopy::ZerocopyCommand),
    /// Load balancing: Maglev tables (balance, disruption against hash-mod-N) and IPVS schedulers.
    #[command(subcommand)]
    Lb(lb::LbCommand),
    /// Linearizability of Jepsen histories: register, CAS register and key-value models.
    #[command(subcommand)]
    Lin(lin::LinCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    files::set_max_input_bytes(cli.max_input_bytes);
    let result = match cli.command {
        Command::Sim(command) => sim::run(command),
        Command::Acl(command) => acl::run(command),
        Command::Secret(command) => secret::run(command),
        Command::Cpu(command) => cpu::run(command),
        Command::Sparse(command) => sparse::run(command),
        Command::Zerocopy(command) => zerocopy::run(command),
        Command::Lb(command) => lb::run(command),
        Command::Lin(command) => lin::run(command),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`underhood sim run --json | head`) is not an error.
            if err
                .downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("underhood: {err:#}");
            ExitCode::from(2)
        }
    }
}
