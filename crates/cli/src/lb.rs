//! `underhood lb`: Maglev tables (balance, and how many flows move when the backend set
//! changes, against hash-mod-N) and IPVS-style schedulers over synthetic flows.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::{Value, json};
use underhood_lb::{
    Algorithm, Backend, BackendId, Backends, Balance, Maglev, ModN, Remap, Scheduler, TableSize,
    remap, synthetic_flows,
};

#[derive(Subcommand, Debug)]
pub(crate) enum LbCommand {
    /// Build a Maglev table: slots and flows per backend, balance, and with --remove/--add the
    /// share of flows that move (Maglev and hash-mod-N).
    Maglev {
        /// Backends as `a,b,c:3` (weight after the colon, default 1; 0 drains).
        #[arg(long)]
        backends: String,
        /// The table size, a prime.
        #[arg(long, default_value_t = 65_537)]
        table_size: u64,
        /// Remove this backend and count the flows that move (repeatable).
        #[arg(long, value_name = "NAME")]
        remove: Vec<String>,
        /// Add this backend (`NAME[:WEIGHT]`) and count the flows that move (repeatable).
        #[arg(long, value_name = "NAME[:WEIGHT]")]
        add: Vec<String>,
        /// How many synthetic, deterministic flows to look up.
        #[arg(long, default_value_t = 100_000)]
        flows: u64,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run an IPVS scheduler over synthetic flows and count the picks per backend.
    Schedule {
        /// rr, wrr, lc, wlc, sh or mh.
        #[arg(long)]
        scheduler: String,
        /// Backends as `a,b,c:3`.
        #[arg(long)]
        backends: String,
        /// How many flows to schedule.
        #[arg(long, default_value_t = 10_000)]
        flows: u64,
        /// Each connection stays established for this many later flows, then closes
        /// (lc and wlc see the difference).
        #[arg(long, default_value_t = 100)]
        hold: u64,
        /// The Maglev table size for `mh`, a prime.
        #[arg(long, default_value_t = 65_537)]
        table_size: u64,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Runs one `underhood lb` command.
pub(crate) fn run(command: LbCommand) -> Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match command {
        LbCommand::Maglev {
            backends,
            table_size,
            remove,
            add,
            flows,
            json,
        } => {
            let before_set = Backends::parse(&backends).context("--backends")?;
            let size = TableSize::new(table_size).context("--table-size")?;
            let mut after_set = before_set.clone();
            for name in &remove {
                after_set = after_set
                    .without(name)
                    .with_context(|| format!("--remove {name}"))?;
            }
            for spec in &add {
                let backend = Backend::parse(spec).with_context(|| format!("--add {spec}"))?;
                after_set = after_set
                    .with(backend)
                    .with_context(|| format!("--add {spec}"))?;
            }
            let before = Maglev::new(&before_set, size).context("--table-size")?;
            let changed = !remove.is_empty() || !add.is_empty();
            let after = if changed {
                Some(Maglev::new(&after_set, size).context("--table-size")?)
            } else {
                None
            };
            let hashes = || synthetic_flows(flows).map(|f| f.hash());
            let moves = after.as_ref().map(|after| {
                (
                    remap(&before, after, hashes()),
                    remap(&ModN::new(&before_set), &ModN::new(&after_set), hashes()),
                )
            });
            let report = MaglevReport {
                size,
                flows,
                before: table_report(&before, hashes()),
                after: after.as_ref().map(|a| table_report(a, hashes())),
                remove: &remove,
                add: &add,
                moves,
            };
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&report.json())?)?;
            } else {
                report.text(&mut out)?;
            }
        }
        LbCommand::Schedule {
            scheduler,
            backends,
            flows,
            hold,
            table_size,
            json,
        } => {
            let mut algorithm: Algorithm = scheduler.parse().context("--scheduler")?;
            if let Algorithm::MaglevHashing { table_size: size } = &mut algorithm {
                *size = TableSize::new(table_size).context("--table-size")?;
            }
            let backends = Backends::parse(&backends).context("--backends")?;
            let mut scheduler = Scheduler::new(algorithm, &backends).context("--backends")?;
            let picks = schedule(&mut scheduler, flows, hold)?;
            schedule_report(&mut out, &scheduler, &picks, flows, json)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One table's slots and flows per backend.
struct TableReport {
    backends: Vec<Backend>,
    balance: Balance,
    flows_per_backend: Vec<u64>,
}

fn table_report(maglev: &Maglev, hashes: impl Iterator<Item = u64>) -> TableReport {
    let mut flows_per_backend = vec![0u64; maglev.backends().len()];
    for hash in hashes {
        if let Some(idx) = maglev.lookup(hash) {
            flows_per_backend[idx] += 1;
        }
    }
    TableReport {
        backends: maglev.backends().to_vec(),
        balance: maglev.balance(),
        flows_per_backend,
    }
}

struct MaglevReport<'a> {
    size: TableSize,
    flows: u64,
    before: TableReport,
    after: Option<TableReport>,
    remove: &'a [String],
    add: &'a [String],
    /// Maglev's moves, then hash-mod-N's.
    moves: Option<(Remap, Remap)>,
}

impl MaglevReport<'_> {
    fn text(&self, out: &mut impl Write) -> Result<()> {
        writeln!(out, "backends: {}", self.before.backends.len())?;
        writeln!(out, "table-size: {}", self.size.get())?;
        writeln!(out, "flows: {}", self.flows)?;
        table_text(out, "", &self.before, self.size, self.flows)?;
        if let Some(after) = &self.after {
            for name in self.remove {
                writeln!(out, "remove: {name}")?;
            }
            for spec in self.add {
                writeln!(out, "add: {spec}")?;
            }
            writeln!(out, "after-backends: {}", after.backends.len())?;
            table_text(out, "after-", after, self.size, self.flows)?;
        }
        if let Some((maglev, mod_n)) = &self.moves {
            writeln!(out, "remapped: {:.6}", maglev.fraction())?;
            writeln!(
                out,
                "remapped-flows: {} of {} ({} between backends present before and after, {:.6})",
                maglev.remapped,
                maglev.flows,
                maglev.collateral,
                maglev.collateral_fraction()
            )?;
            writeln!(out, "remapped-mod-n: {:.6}", mod_n.fraction())?;
            writeln!(
                out,
                "remapped-mod-n-flows: {} of {} ({} between backends present before and after, {:.6})",
                mod_n.remapped,
                mod_n.flows,
                mod_n.collateral,
                mod_n.collateral_fraction()
            )?;
        }
        Ok(())
    }

    fn json(&self) -> Value {
        let mut value = json!({
            "table_size": self.size.get(),
            "flows": self.flows,
            "backends": self.before.backends.len(),
            "table": table_json(&self.before, self.size),
        });
        if let Some(after) = &self.after {
            value["remove"] = json!(self.remove);
            value["add"] = json!(self.add);
            value["after"] = table_json(after, self.size);
        }
        if let Some((maglev, mod_n)) = &self.moves {
            value["remapped"] = json!(maglev.fraction());
            value["remapped_flows"] = json!(maglev.remapped);
            value["remapped_collateral"] = json!(maglev.collateral_fraction());
            value["remapped_mod_n"] = json!(mod_n.fraction());
            value["remapped_mod_n_flows"] = json!(mod_n.remapped);
            value["remapped_mod_n_collateral"] = json!(mod_n.collateral_fraction());
        }
        value
    }
}

fn table_text(
    out: &mut impl Write,
    prefix: &str,
    table: &TableReport,
    size: TableSize,
    flows: u64,
) -> Result<()> {
    let total_weight: u64 = table.backends.iter().map(|b| u64::from(b.weight)).sum();
    for ((backend, slots), n_flows) in table
        .backends
        .iter()
        .zip(&table.balance.slots)
        .zip(&table.flows_per_backend)
    {
        writeln!(
            out,
            "{prefix}backend {}: weight {}, slots {slots}, share {:.6}, weight share {:.6}, flows {n_flows} ({:.6})",
            backend.name,
            backend.weight,
            ratio(*slots, size.get()),
            ratio(u64::from(backend.weight), total_weight),
            ratio(*n_flows, flows),
        )?;
    }
    let balance = &table.balance;
    writeln!(
        out,
        "{prefix}balance: max/min slot difference {} (max {}, min {}), largest deviation from weight share {:.4}%",
        balance.spread(),
        balance.max_slots,
        balance.min_slots,
        balance.max_relative_error * 100.0
    )?;
    Ok(())
}

fn table_json(table: &TableReport, size: TableSize) -> Value {
    let total_weight: u64 = table.backends.iter().map(|b| u64::from(b.weight)).sum();
    let backends: Vec<Value> = table
        .backends
        .iter()
        .zip(&table.balance.slots)
        .zip(&table.flows_per_backend)
        .map(|((backend, slots), flows)| {
            json!({
                "name": backend.name,
                "weight": backend.weight,
                "slots": slots,
                "share": ratio(*slots, size.get()),
                "weight_share": ratio(u64::from(backend.weight), total_weight),
                "flows": flows,
            })
        })
        .collect();
    json!({
        "backends": backends,
        "balance": {
            "max_slots": table.balance.max_slots,
            "min_slots": table.balance.min_slots,
            "spread": table.balance.spread(),
            "max_relative_error": table.balance.max_relative_error,
        },
    })
}

/// Schedules `flows` synthetic flows; each connection is established for `hold` later flows,
/// then closing for `hold` more. Returns picks per destination, in list order, and the
/// number of flows no backend took.
fn schedule(scheduler: &mut Scheduler, flows: u64, hold: u64) -> Result<(Vec<u64>, u64)> {
    let mut picks = vec![0u64; scheduler.destinations().len()];
    let mut unscheduled = 0;
    // (flow index when it connected, backend), oldest first.
    let mut established: VecDeque<(u64, BackendId)> = VecDeque::new();
    let mut closing: VecDeque<(u64, BackendId)> = VecDeque::new();
    for (i, flow) in synthetic_flows(flows).enumerate() {
        let i = i as u64;
        while closing
            .front()
            .is_some_and(|&(at, _)| at.saturating_add(hold.saturating_mul(2)) <= i)
        {
            let (_, id) = closing.pop_front().context("checked non-empty")?;
            scheduler.on_expire(id)?;
        }
        while established
            .front()
            .is_some_and(|&(at, _)| at.saturating_add(hold) <= i)
        {
            let (at, id) = established.pop_front().context("checked non-empty")?;
            scheduler.on_disconnect(id)?;
            closing.push_back((at, id));
        }
        let Some(id) = scheduler.pick(&flow) else {
            unscheduled += 1;
            continue;
        };
        scheduler.on_connect(id)?;
        established.push_back((i, id));
        let idx = scheduler
            .destinations()
            .iter()
            .position(|d| d.id() == id)
            .context("a picked backend is in the list")?;
        picks[idx] += 1;
    }
    Ok((picks, unscheduled))
}

fn schedule_report(
    out: &mut impl Write,
    scheduler: &Scheduler,
    (picks, unscheduled): &(Vec<u64>, u64),
    flows: u64,
    json: bool,
) -> Result<()> {
    let dests = scheduler.destinations();
    let total_weight: u64 = dests.iter().map(|d| u64::from(d.weight())).sum();
    if json {
        let backends: Vec<Value> = dests
            .iter()
            .zip(picks)
            .map(|(d, picks)| {
                json!({
                    "name": d.name(),
                    "weight": d.weight(),
                    "picks": picks,
                    "share": ratio(*picks, flows),
                    "weight_share": ratio(u64::from(d.weight()), total_weight),
                })
            })
            .collect();
        let value = json!({
            "scheduler": scheduler.algorithm().name(),
            "flows": flows,
            "backends": backends,
            "unscheduled": unscheduled,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(());
    }
    writeln!(out, "scheduler: {}", scheduler.algorithm().name())?;
    writeln!(out, "backends: {}", dests.len())?;
    writeln!(out, "flows: {flows}")?;
    for (d, picks) in dests.iter().zip(picks) {
        writeln!(
            out,
            "backend {}: weight {}, picks {picks}, share {:.6}, weight share {:.6}",
            d.name(),
            d.weight(),
            ratio(*picks, flows),
            ratio(u64::from(d.weight()), total_weight),
        )?;
    }
    writeln!(out, "unscheduled: {unscheduled}")?;
    Ok(())
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_closes_connections_after_hold() {
        let backends = Backends::parse("a,b").unwrap();
        let mut s = Scheduler::new(Algorithm::LeastConnection, &backends).unwrap();
        let (picks, unscheduled) = schedule(&mut s, 1_000, 3).unwrap();
        assert_eq!(picks, [500, 500]);
        assert_eq!(unscheduled, 0);
        let active: u32 = s.destinations().iter().map(|d| d.active()).sum();
        assert_eq!(active, 3);
    }
}
