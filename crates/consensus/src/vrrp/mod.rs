//! VRRP version 3 (RFC 5798): routers on one LAN elect a master that holds a virtual IP address,
//! and backups take it over when the master's advertisements stop.
//!
//! Each router has a priority (1–254, or 255 for the router that owns the address). The master
//! multicasts an ADVERTISEMENT every [`Config::advert_interval_ms`]; a backup that hears none for
//! the *master-down interval* (`3 × interval + skew`, where `skew = (256 − priority) × interval /
//! 256`, so higher priorities wait less) becomes master, announces itself with a gratuitous ARP
//! ([`Output::GratuitousArp`]) and starts advertising. A master that hears a higher priority (or
//! the same priority from a higher address — here a higher [`NodeId`]) steps down. With
//! [`Config::preempt`] a backup ignores advertisements of lower priority, so a returning
//! higher-priority router takes the address back; without it, it stays a backup. A router shut
//! down gracefully ([`Request::Shutdown`]) advertises priority 0, and backups take over after the
//! skew time instead of the whole master-down interval.
//!
//! # VRRP has no quorum
//!
//! Nothing in VRRP asks anyone's permission: a backup that stops hearing the master *because the
//! network between them failed* becomes master too, and both answer for the virtual IP (split
//! brain). That is by design, not a bug in this code: the protocol trades safety for availability.
//!
//! # The lease variant
//!
//! With [`Config::lease`] a router may only become (and stay) master while it holds a lease
//! granted by a majority of acceptors — the routers plus one or more witnesses
//! ([`Node::witness`]) — through PaxosLease (Trencseni, Gazsó, Reinhardt 2009): Paxos rounds whose
//! accepted value ("`n` holds the lease") expires after [`Lease::duration_ms`] at every acceptor,
//! with no durable state. The holder starts its own lease clock *before* it proposes, so its lease
//! ends before any acceptor forgets it; a restarted acceptor stays silent for one lease duration.
//! A minority side of a partition then has no master at all: no split brain, at the price of
//! availability (and of a failover that waits for the old lease to run out). The argument needs
//! clocks that advance at (almost) the same rate: [`Lease::max_drift_ppm`] states the bound, the
//! holder gives its lease up early ([`Lease::holder_ms`]) and acceptors keep a grant late
//! ([`Lease::acceptor_ms`]) by the margin it needs, so two holders never overlap while every
//! clock drifts within it, and may overlap when one drifts beyond it.
//!
//! # Example
//!
//! ```
//! use underhood_consensus::vrrp::{Config, Node, Output, State, Timer};
//! use underhood_consensus::{Effect, Input, NodeId, Time};
//!
//! let config = |priority| Config { priority, peers: vec![NodeId(0), NodeId(1)], ..Config::default() };
//! let mut out = Vec::new();
//! let mut a = Node::router(NodeId(0), config(200), Time(0), &mut out)?;
//! let mut b = Node::router(NodeId(1), config(100), Time(0), &mut out)?;
//! assert_eq!(a.state(), State::Backup);
//!
//! // Nobody advertises: `a`, with the higher priority, has the shorter master-down interval
//! // and its timer fires first.
//! let down = a.master_down_interval_ms();
//! assert!(down < b.master_down_interval_ms());
//! out.clear();
//! a.step(Time(down), Input::Timer(Timer::MasterDown(Time(down))), &mut out);
//! assert_eq!(a.state(), State::Master);
//! assert!(out.iter().any(|e| matches!(e, Effect::Output(Output::GratuitousArp { .. }))));
//!
//! // Its advertisement keeps `b` a backup.
//! let advert = out.iter().find_map(|e| match e {
//!     Effect::Send { to, msg } if *to == NodeId(1) => Some(msg.clone()),
//!     _ => None,
//! });
//! out.clear();
//! b.step(Time(down + 1), Input::Msg { from: NodeId(0), msg: advert.unwrap() }, &mut out);
//! assert_eq!(b.state(), State::Backup);
//! assert_eq!(b.master(), Some(NodeId(0)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod lease;
mod router;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{NodeId, Time};

pub use lease::Ballot;
pub use router::Node;

/// The priority of the router that owns the virtual address: it becomes master at once.
pub const OWNER_PRIORITY: u8 = 255;

/// A router's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The virtual router id (1–255).
    pub vrid: u8,
    /// 1–254, or [`OWNER_PRIORITY`]; 0 is reserved for a master that is shutting down.
    pub priority: u8,
    /// How often the master advertises, in milliseconds (RFC 5798: 100 centiseconds).
    pub advert_interval_ms: u64,
    /// Whether a backup takes over from a master of lower priority.
    pub preempt: bool,
    /// The routers of the virtual router, itself included (the multicast group).
    pub peers: Vec<NodeId>,
    /// Hold the address only under a lease from a majority of acceptors.
    pub lease: Option<Lease>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            vrid: 1,
            priority: 100,
            advert_interval_ms: 1000,
            preempt: true,
            peers: Vec::new(),
            lease: None,
        }
    }
}

/// The lease variant's parameters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lease {
    /// Every acceptor (routers and witnesses); a lease needs a majority of them.
    pub acceptors: Vec<NodeId>,
    /// How long a lease lasts from the moment its holder proposed it.
    pub duration_ms: u64,
    /// How often the holder renews, measured from the start of its lease.
    pub renew_ms: u64,
    /// The most any clock may drift from real time, in parts per million (default 1 000).
    /// The holder gives its lease up early and acceptors keep a grant late by the margin this
    /// bound needs ([`Lease::holder_ms`], [`Lease::acceptor_ms`]), so two holders never
    /// overlap while every clock drifts within it.
    #[serde(default = "default_max_drift_ppm")]
    pub max_drift_ppm: u64,
}

/// The drift bound a lease assumes when none is given: 1 000 ppm, far above a quartz clock's.
pub const DEFAULT_MAX_DRIFT_PPM: u64 = 1_000;
/// The largest drift bound a lease accepts: 10%.
pub const MAX_DRIFT_PPM: u64 = 100_000;

fn default_max_drift_ppm() -> u64 {
    DEFAULT_MAX_DRIFT_PPM
}

impl Lease {
    /// How long a holder treats a lease as its own, by its own clock, from the moment it
    /// proposed: the duration shortened so that a holder whose clock runs `max_drift_ppm` slow
    /// still gives the lease up within `duration_ms` of real time.
    ///
    /// ```
    /// use underhood_consensus::{NodeId, vrrp::Lease};
    /// let lease = Lease { acceptors: vec![NodeId(0)], duration_ms: 3000, renew_ms: 1000, max_drift_ppm: 1000 };
    /// assert_eq!(lease.holder_ms(), 2997);
    /// assert_eq!(lease.acceptor_ms(), 3004);
    /// ```
    pub fn holder_ms(&self) -> u64 {
        shorten(self.duration_ms, self.max_drift_ppm)
    }

    /// How long an acceptor keeps a grant (and a restarted acceptor stays silent), by its own
    /// clock: the duration lengthened so that an acceptor whose clock runs `max_drift_ppm`
    /// fast still keeps it for at least `duration_ms` of real time (1 ms more for reading a
    /// drifting clock in whole milliseconds).
    pub fn acceptor_ms(&self) -> u64 {
        lengthen(self.duration_ms, self.max_drift_ppm)
    }
}

/// `ms` scaled by `1 - ppm / 10^6`, rounded down.
fn shorten(ms: u64, ppm: u64) -> u64 {
    let scaled = u128::from(ms) * u128::from(1_000_000u64.saturating_sub(ppm)) / 1_000_000;
    scaled as u64
}

/// `ms` scaled by `1 + ppm / 10^6`, rounded up, plus 1 ms when `ppm` is not zero.
pub(crate) fn lengthen(ms: u64, ppm: u64) -> u64 {
    if ppm == 0 {
        return ms;
    }
    let scaled = (u128::from(ms) * u128::from(1_000_000 + ppm)).div_ceil(1_000_000);
    u64::try_from(scaled + 1).unwrap_or(u64::MAX)
}

/// A configuration that cannot run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// Priority 0 is reserved for a master's goodbye.
    ZeroPriority,
    /// VRID 0 does not exist.
    ZeroVrid,
    /// A lease's drift bound above [`MAX_DRIFT_PPM`].
    LeaseDrift {
        /// The bound given.
        max_drift_ppm: u64,
    },
    /// The advertisement interval must be at least 1 ms (RFC 5798: 1 centisecond to 40.95 s).
    AdvertInterval(u64),
    /// The router is not in its own peer list.
    NotAPeer(NodeId),
    /// A lease must be renewed before it runs out: `0 < renew_ms <` [`Lease::holder_ms`], and
    /// there must be acceptors.
    Lease {
        /// The lease duration.
        duration_ms: u64,
        /// The renewal period.
        renew_ms: u64,
        /// How many acceptors.
        acceptors: usize,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::ZeroPriority => {
                write!(
                    f,
                    "priority 0 is reserved for a master that shuts down (use 1–255)"
                )
            }
            ConfigError::ZeroVrid => write!(f, "the virtual router id must be 1–255"),
            ConfigError::AdvertInterval(ms) => {
                write!(f, "advertisement interval {ms} ms: must be 1–40950 ms")
            }
            ConfigError::NotAPeer(id) => write!(f, "router {id} is not in its own peer list"),
            ConfigError::LeaseDrift { max_drift_ppm } => write!(
                f,
                "lease max_drift_ppm {max_drift_ppm}: at most {MAX_DRIFT_PPM}"
            ),
            ConfigError::Lease {
                duration_ms,
                renew_ms,
                acceptors,
            } => write!(
                f,
                "lease of {duration_ms} ms renewed every {renew_ms} ms with {acceptors} acceptors: \
                 need 0 < renew < duration less the drift margin, and at least one acceptor"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Checks the ranges RFC 5798 and the lease need.
    pub fn check(&self, id: NodeId) -> Result<(), ConfigError> {
        if self.priority == 0 {
            return Err(ConfigError::ZeroPriority);
        }
        if self.vrid == 0 {
            return Err(ConfigError::ZeroVrid);
        }
        if !(1..=40_950).contains(&self.advert_interval_ms) {
            return Err(ConfigError::AdvertInterval(self.advert_interval_ms));
        }
        if !self.peers.contains(&id) {
            return Err(ConfigError::NotAPeer(id));
        }
        if let Some(l) = &self.lease
            && l.max_drift_ppm > MAX_DRIFT_PPM
        {
            return Err(ConfigError::LeaseDrift {
                max_drift_ppm: l.max_drift_ppm,
            });
        }
        if let Some(l) = &self.lease
            && (l.renew_ms == 0 || l.renew_ms >= l.holder_ms() || l.acceptors.is_empty())
        {
            return Err(ConfigError::Lease {
                duration_ms: l.duration_ms,
                renew_ms: l.renew_ms,
                acceptors: l.acceptors.len(),
            });
        }
        Ok(())
    }

    /// RFC 5798's skew time for `priority` with the master's advertisement interval.
    pub fn skew_ms(priority: u8, master_interval_ms: u64) -> u64 {
        (256 - u64::from(priority)) * master_interval_ms / 256
    }

    /// RFC 5798's master-down interval: `3 × interval + skew`.
    pub fn master_down_ms(priority: u8, master_interval_ms: u64) -> u64 {
        3 * master_interval_ms + Self::skew_ms(priority, master_interval_ms)
    }
}

/// A router's VRRP state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Shut down (or a witness, which never routes).
    Initialize,
    /// Listening to the master's advertisements.
    Backup,
    /// Holding the virtual address and advertising.
    Master,
}

impl State {
    /// `"initialize"`, `"backup"`, `"master"`.
    pub fn name(self) -> &'static str {
        match self {
            State::Initialize => "initialize",
            State::Backup => "backup",
            State::Master => "master",
        }
    }
}

/// The messages: VRRP advertisements and, in the lease variant, PaxosLease.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// "I am master": the sender's priority (0: leaving) and advertisement interval.
    Advert {
        /// The virtual router.
        vrid: u8,
        /// The sender's priority.
        priority: u8,
        /// The sender's advertisement interval.
        interval_ms: u64,
    },
    /// Lease phase 1a, with the candidate's VRRP priority (a master defers to a higher one).
    Prepare {
        /// The round.
        ballot: Ballot,
        /// The candidate's priority.
        priority: u8,
    },
    /// Lease phase 1b: the acceptor's live lease holder, if any.
    Promise {
        /// The round promised.
        ballot: Ballot,
        /// Who holds an unexpired lease at this acceptor.
        holder: Option<NodeId>,
    },
    /// Lease phase 2a: "the sender holds the lease for `duration_ms`".
    Propose {
        /// The round.
        ballot: Ballot,
        /// How long.
        duration_ms: u64,
    },
    /// Lease phase 2b.
    Accepted {
        /// The round accepted.
        ballot: Ballot,
    },
    /// The acceptor promised a higher round.
    Reject {
        /// The round refused.
        ballot: Ballot,
        /// The round promised instead.
        promised: Ballot,
    },
    /// The holder gives its lease back early.
    Release {
        /// The round the lease was granted in.
        ballot: Ballot,
    },
}

impl Msg {
    /// Every message kind, as scripted rules name them.
    pub const KINDS: [&'static str; 7] = [
        "advert", "prepare", "promise", "propose", "accepted", "reject", "release",
    ];

    /// The message's kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Msg::Advert { .. } => Self::KINDS[0],
            Msg::Prepare { .. } => Self::KINDS[1],
            Msg::Promise { .. } => Self::KINDS[2],
            Msg::Propose { .. } => Self::KINDS[3],
            Msg::Accepted { .. } => Self::KINDS[4],
            Msg::Reject { .. } => Self::KINDS[5],
            Msg::Release { .. } => Self::KINDS[6],
        }
    }
}

/// Timers. Each names the moment it was set for, so a node recognises the one it is waiting for
/// and ignores timers it has since replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// Master: time to advertise.
    Advert(Time),
    /// Backup: the master-down interval may have passed.
    MasterDown(Time),
    /// Lease holder: the lease runs out.
    LeaseEnd(Time),
    /// Lease holder: time to renew; candidate: time to try again.
    LeaseRetry(Time),
}

/// Client requests: an operator starting or stopping the router.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// Graceful shutdown: a master advertises priority 0 first.
    Shutdown,
    /// Start again after a shutdown.
    Start,
    /// Change the priority, as keepalived's interface and script tracking does when an uplink
    /// fails (1–254; other values are ignored: 255 belongs to the address owner, 0 to goodbyes).
    SetPriority(u8),
}

/// VRRP keeps nothing on disk; this type has no values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Record {}

/// What a router reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// Became master: the router now answers for the virtual address.
    BecameMaster {
        /// The virtual router.
        vrid: u8,
    },
    /// Broadcast a gratuitous ARP so switches and hosts learn the virtual MAC's new port.
    GratuitousArp {
        /// The virtual router (its MAC is `00-00-5E-00-01-{vrid}`).
        vrid: u8,
    },
    /// Stopped being master (or started as backup): the address is released.
    BecameBackup {
        /// Why.
        reason: StepDown,
    },
    /// Shut down gracefully.
    Stopped,
    /// A lease was granted or renewed until this moment.
    LeaseGranted {
        /// The end of the lease, by the holder's clock.
        until: Time,
    },
}

/// Why a router is (again) a backup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepDown {
    /// It started up, or started again.
    Startup,
    /// It heard a master of higher priority (or the same priority and a higher address).
    HigherPriority {
        /// That master.
        master: NodeId,
    },
    /// A candidate of higher priority asked for the lease.
    Preempted {
        /// The candidate.
        by: NodeId,
    },
    /// Its lease ran out before a renewal succeeded.
    LeaseExpired,
}

/// A read-only summary of a node for displays.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct View {
    /// Router or witness.
    pub witness: bool,
    /// The VRRP state.
    pub state: State,
    /// The configured priority.
    pub priority: u8,
    /// The master this backup last heard.
    pub master: Option<NodeId>,
    /// When the backup will take over if it hears nothing more.
    pub master_down_at: Option<Time>,
    /// Lease variant: the end of this router's lease, if it holds one.
    pub lease_until: Option<Time>,
    /// Lease variant: whom this acceptor has granted a live lease, and until when.
    pub granted: Option<(NodeId, Time)>,
}
