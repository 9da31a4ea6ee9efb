//! The VRRP router state machine (RFC 5798 section 6.4), with the lease variant's gate on
//! becoming and staying master.

use super::lease::{Acceptor, Phase, Round};
use super::{
    Ballot, Config, ConfigError, Msg, OWNER_PRIORITY, Output, Record, Request, State, StepDown,
    Timer, View,
};
use crate::{Effect, Input, NodeId, Time};

type Out = Vec<Effect<Msg, Timer, Record, Output>>;

/// A VRRP router, or a lease witness (an acceptor that never routes).
#[derive(Clone, Debug, Hash)]
pub struct Node {
    id: NodeId,
    config: Config,
    witness: bool,
    state: State,
    /// The master a backup last accepted an advertisement from.
    master: Option<NodeId>,
    /// RFC 5798 `Master_Adver_Interval`: learned from the master's advertisements.
    master_interval_ms: u64,
    /// Backup: when the master is declared down.
    down_at: Option<Time>,
    /// The `MasterDown` timer in flight (a later deadline re-arms it when it fires).
    down_timer: Option<Time>,
    /// The `Advert` timer in flight.
    advert_timer: Option<Time>,
    acceptor: Acceptor,
    max_round: u64,
    round: Option<Round>,
    /// The lease this router holds: its round and end.
    lease: Option<(Ballot, Time)>,
    lease_timer: Option<Time>,
    retry_timer: Option<Time>,
}

impl Node {
    /// A router starting up at `now` (RFC 5798 "Startup"): the owner becomes master at once,
    /// everyone else a backup waiting one master-down interval. Effects go to `out`.
    pub fn router(
        id: NodeId,
        config: Config,
        now: Time,
        out: &mut Out,
    ) -> Result<Node, ConfigError> {
        config.check(id)?;
        let mut node = Node::blank(id, config, false);
        node.startup(now, out);
        Ok(node)
    }

    /// A lease witness: an acceptor for leases of `duration_ms` under clocks that drift at most
    /// `max_drift_ppm`, nothing else.
    pub fn witness(id: NodeId, duration_ms: u64, max_drift_ppm: u64) -> Node {
        let config = Config {
            peers: vec![id],
            // A witness keeps its lease duration here; it never asks for a lease.
            lease: Some(super::Lease {
                acceptors: vec![id],
                duration_ms,
                renew_ms: duration_ms / 2,
                max_drift_ppm,
            }),
            ..Config::default()
        };
        Node::blank(id, config, true)
    }

    /// A node in `Initialize` with nothing heard, granted or pending.
    fn blank(id: NodeId, config: Config, witness: bool) -> Node {
        Node {
            id,
            master_interval_ms: config.advert_interval_ms,
            config,
            witness,
            state: State::Initialize,
            master: None,
            down_at: None,
            down_timer: None,
            advert_timer: None,
            acceptor: Acceptor::default(),
            max_round: 0,
            round: None,
            lease: None,
            lease_timer: None,
            retry_timer: None,
        }
    }

    /// The same node after a crash and restart at `now`: its acceptor may have forgotten a
    /// promise or a grant, so it stays silent for one lease duration (PaxosLease's rule).
    pub fn restarted(mut self, now: Time) -> Node {
        if let Some(l) = &self.config.lease {
            self.acceptor = Acceptor::restarted(now, l.acceptor_ms());
        }
        self
    }

    /// The node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The VRRP state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Whether the node answers for the virtual address now.
    pub fn holds_vip(&self) -> bool {
        self.state == State::Master
    }

    /// Whether the node is a witness.
    pub fn is_witness(&self) -> bool {
        self.witness
    }

    /// The configured priority.
    pub fn priority(&self) -> u8 {
        self.config.priority
    }

    /// The master a backup last heard (itself when master).
    pub fn master(&self) -> Option<NodeId> {
        self.master
    }

    /// The master-down interval this backup uses now (learned interval and own priority).
    pub fn master_down_interval_ms(&self) -> u64 {
        Config::master_down_ms(self.config.priority, self.master_interval_ms)
    }

    /// A summary for displays.
    pub fn view(&self, now: Time) -> View {
        View {
            witness: self.witness,
            state: self.state,
            priority: self.config.priority,
            master: self.master,
            master_down_at: self.down_at.filter(|_| self.state == State::Backup),
            lease_until: self.lease.map(|(_, until)| until).filter(|u| now < *u),
            granted: self.acceptor.live(now),
        }
    }

    /// Handles one input at `now`.
    pub fn step(&mut self, now: Time, input: Input<Msg, Timer, Request>, out: &mut Out) {
        match input {
            Input::Msg { from, msg } => self.on_msg(now, from, msg, out),
            Input::Timer(timer) => self.on_timer(now, timer, out),
            Input::Request(request) => self.on_request(now, request, out),
        }
    }

    fn startup(&mut self, now: Time, out: &mut Out) {
        self.master_interval_ms = self.config.advert_interval_ms;
        if self.config.priority == OWNER_PRIORITY {
            self.state = State::Backup;
            self.become_master(now, out);
        } else {
            self.state = State::Backup;
            self.master = None;
            self.reset_down(now, self.master_down_interval_ms(), out);
        }
    }

    fn on_msg(&mut self, now: Time, from: NodeId, msg: Msg, out: &mut Out) {
        match msg {
            Msg::Advert {
                vrid,
                priority,
                interval_ms,
            } => {
                if !self.witness && vrid == self.config.vrid && from != self.id {
                    self.on_advert(now, from, priority, interval_ms, out);
                }
            }
            Msg::Prepare { ballot, priority } => {
                self.max_round = self.max_round.max(ballot.round);
                if self.state == State::Master
                    && self.config.lease.is_some()
                    && self.outranked_by(from, priority)
                {
                    self.step_down(now, StepDown::Preempted { by: from }, out);
                }
                self.answer(now, from, &msg, out);
            }
            Msg::Propose { .. } | Msg::Release { .. } => self.answer(now, from, &msg, out),
            Msg::Promise { .. } | Msg::Accepted { .. } | Msg::Reject { .. } => {
                self.on_lease_reply(now, from, msg, out)
            }
        }
    }

    /// The acceptor's side of a lease message.
    fn answer(&mut self, now: Time, from: NodeId, msg: &Msg, out: &mut Out) {
        if self.config.lease.is_none() {
            return;
        }
        if let Some(reply) = self.acceptor.handle(now, from, msg, self.max_drift_ppm()) {
            out.push(Effect::Send {
                to: from,
                msg: reply,
            });
        }
    }

    /// RFC 5798 6.4.2 (backup) and 6.4.3 (master) on receiving an ADVERTISEMENT.
    fn on_advert(
        &mut self,
        now: Time,
        from: NodeId,
        priority: u8,
        interval_ms: u64,
        out: &mut Out,
    ) {
        match self.state {
            State::Initialize => {}
            State::Backup => {
                if priority == 0 {
                    let skew = Config::skew_ms(self.config.priority, self.master_interval_ms);
                    self.master = None;
                    self.reset_down(now, skew, out);
                } else if !self.config.preempt || priority >= self.config.priority {
                    self.master = Some(from);
                    self.master_interval_ms = interval_ms.max(1);
                    // A live master: stop asking for the lease.
                    self.round = None;
                    self.retry_timer = None;
                    self.reset_down(now, self.master_down_interval_ms(), out);
                }
                // Otherwise: preempt a lower priority by letting the master-down timer run.
            }
            State::Master => {
                if priority == 0 {
                    self.advertise(now, self.config.priority, out);
                } else if self.outranked_by(from, priority) {
                    self.master_interval_ms = interval_ms.max(1);
                    self.step_down(now, StepDown::HigherPriority { master: from }, out);
                    self.master = Some(from);
                }
            }
        }
    }

    /// Whether `other` with `priority` wins over this router (a higher address breaks ties).
    fn outranked_by(&self, other: NodeId, priority: u8) -> bool {
        priority > self.config.priority || (priority == self.config.priority && other > self.id)
    }

    fn on_timer(&mut self, now: Time, timer: Timer, out: &mut Out) {
        match timer {
            Timer::Advert(at) if self.advert_timer == Some(at) => {
                self.advert_timer = None;
                if self.state == State::Master {
                    self.advertise(now, self.config.priority, out);
                }
            }
            Timer::MasterDown(at) if self.down_timer == Some(at) => {
                self.down_timer = None;
                match self.down_at {
                    Some(deadline) if self.state == State::Backup && now >= deadline => {
                        self.master = None;
                        self.become_master(now, out);
                    }
                    Some(deadline) if self.state == State::Backup => {
                        self.arm_down(now, deadline, out)
                    }
                    _ => {}
                }
            }
            Timer::LeaseEnd(at) if self.lease_timer == Some(at) => {
                self.lease_timer = None;
                if self.lease.is_some_and(|(_, until)| now >= until) {
                    self.lease = None;
                    if self.state == State::Master {
                        self.step_down(now, StepDown::LeaseExpired, out);
                    }
                }
            }
            Timer::LeaseRetry(at) if self.retry_timer == Some(at) => {
                self.retry_timer = None;
                let holding = self.state == State::Master && self.lease.is_some();
                let candidate =
                    self.state == State::Backup && self.down_at.is_some_and(|d| now >= d);
                if holding || candidate {
                    self.start_round(now, out);
                }
            }
            // Replaced by a later timer of the same kind.
            Timer::Advert(_) | Timer::MasterDown(_) | Timer::LeaseEnd(_) | Timer::LeaseRetry(_) => {
            }
        }
    }

    fn on_request(&mut self, now: Time, request: Request, out: &mut Out) {
        if self.witness {
            return;
        }
        match request {
            Request::Shutdown => {
                if self.state == State::Master {
                    // RFC 5798 6.4.3: advertise priority 0 so backups take over after skew time.
                    self.advertise(now, 0, out);
                    self.release(now, out);
                }
                if self.state != State::Initialize {
                    self.state = State::Initialize;
                    self.master = None;
                    self.down_at = None;
                    self.advert_timer = None;
                    self.round = None;
                    self.retry_timer = None;
                    out.push(Effect::Output(Output::Stopped));
                }
            }
            Request::Start => {
                if self.state == State::Initialize {
                    self.startup(now, out);
                }
            }
            Request::SetPriority(priority) => {
                if (1..OWNER_PRIORITY).contains(&priority) {
                    // Takes effect with the next advertisement or master-down deadline.
                    self.config.priority = priority;
                }
            }
        }
    }

    /// Becomes master — in the lease variant only with a live lease, else asks for one first.
    fn become_master(&mut self, now: Time, out: &mut Out) {
        if self.config.lease.is_some() && self.lease.is_none_or(|(_, until)| now >= until) {
            self.start_round(now, out);
            return;
        }
        self.state = State::Master;
        self.master = Some(self.id);
        self.down_at = None;
        out.push(Effect::Output(Output::BecameMaster {
            vrid: self.config.vrid,
        }));
        out.push(Effect::Output(Output::GratuitousArp {
            vrid: self.config.vrid,
        }));
        self.advertise(now, self.config.priority, out);
    }

    /// Sends an advertisement to every other router and, unless it is a goodbye, arms the next.
    fn advertise(&mut self, now: Time, priority: u8, out: &mut Out) {
        let msg = Msg::Advert {
            vrid: self.config.vrid,
            priority,
            interval_ms: self.config.advert_interval_ms,
        };
        for &to in self.config.peers.iter().filter(|&&p| p != self.id) {
            out.push(Effect::Send {
                to,
                msg: msg.clone(),
            });
        }
        if priority != 0 {
            let at = now.after(self.config.advert_interval_ms);
            self.advert_timer = Some(at);
            out.push(Effect::SetTimer {
                timer: Timer::Advert(at),
                after_ms: self.config.advert_interval_ms,
            });
        }
    }

    fn step_down(&mut self, now: Time, reason: StepDown, out: &mut Out) {
        self.state = State::Backup;
        self.advert_timer = None;
        self.master = None;
        out.push(Effect::Output(Output::BecameBackup { reason }));
        self.release(now, out);
        self.reset_down(now, self.master_down_interval_ms(), out);
    }

    /// Gives a held lease back and abandons any round.
    fn release(&mut self, now: Time, out: &mut Out) {
        self.round = None;
        self.retry_timer = None;
        self.lease_timer = None;
        let (Some((ballot, _)), Some(lease)) = (self.lease.take(), &self.config.lease) else {
            return;
        };
        let msg = Msg::Release { ballot };
        for &to in lease.acceptors.clone().iter() {
            if to == self.id {
                self.acceptor
                    .handle(now, self.id, &msg, self.max_drift_ppm());
            } else {
                out.push(Effect::Send {
                    to,
                    msg: msg.clone(),
                });
            }
        }
    }

    /// Sets the master-down deadline `after_ms` from now and makes sure a timer will see it.
    fn reset_down(&mut self, now: Time, after_ms: u64, out: &mut Out) {
        let deadline = now.after(after_ms);
        self.down_at = Some(deadline);
        self.arm_down(now, deadline, out);
    }

    fn arm_down(&mut self, now: Time, deadline: Time, out: &mut Out) {
        // A timer already set for no later than the deadline re-arms itself when it fires.
        if self.down_timer.is_some_and(|t| t <= deadline) {
            return;
        }
        self.down_timer = Some(deadline);
        out.push(Effect::SetTimer {
            timer: Timer::MasterDown(deadline),
            after_ms: deadline.0.saturating_sub(now.0),
        });
    }

    fn majority(&self) -> usize {
        self.config
            .lease
            .as_ref()
            .map_or(1, |l| l.acceptors.len() / 2 + 1)
    }

    /// The drift bound this node's leases assume (0 without a lease).
    fn max_drift_ppm(&self) -> u64 {
        self.config.lease.as_ref().map_or(0, |l| l.max_drift_ppm)
    }

    /// Starts a lease round (a first request or a renewal) and arms its retry.
    fn start_round(&mut self, now: Time, out: &mut Out) {
        let Some(lease) = self.config.lease.clone() else {
            return;
        };
        self.max_round += 1;
        let ballot = Ballot {
            round: self.max_round,
            node: self.id,
        };
        self.round = Some(Round::new(ballot));
        // Holders retry within their lease; candidates back off by priority and id so two
        // candidates do not keep pre-empting each other's rounds in lockstep.
        let wait = if self.lease.is_some() {
            (lease.holder_ms().saturating_sub(lease.renew_ms))
                .div_ceil(3)
                .max(1)
        } else {
            self.config.advert_interval_ms
                + Config::skew_ms(self.config.priority, self.config.advert_interval_ms)
                + u64::from(self.id.0 % 8) * 7
        };
        self.arm_retry(now, now.after(wait), out);
        let msg = Msg::Prepare {
            ballot,
            priority: self.config.priority,
        };
        self.broadcast_lease(now, msg, &lease.acceptors, out);
    }

    fn arm_retry(&mut self, now: Time, at: Time, out: &mut Out) {
        self.retry_timer = Some(at);
        out.push(Effect::SetTimer {
            timer: Timer::LeaseRetry(at),
            after_ms: at.0.saturating_sub(now.0),
        });
    }

    /// Sends `msg` to every acceptor; this node's own acceptor answers at once.
    fn broadcast_lease(&mut self, now: Time, msg: Msg, acceptors: &[NodeId], out: &mut Out) {
        for &to in acceptors.iter().filter(|&&a| a != self.id) {
            out.push(Effect::Send {
                to,
                msg: msg.clone(),
            });
        }
        if acceptors.contains(&self.id)
            && let Some(reply) = self
                .acceptor
                .handle(now, self.id, &msg, self.max_drift_ppm())
        {
            self.on_lease_reply(now, self.id, reply, out);
        }
    }

    fn on_lease_reply(&mut self, now: Time, from: NodeId, msg: Msg, out: &mut Out) {
        let majority = self.majority();
        let Some(round) = self.round.as_mut() else {
            if let Msg::Reject { promised, .. } = msg {
                self.max_round = self.max_round.max(promised.round);
            }
            return;
        };
        match msg {
            Msg::Promise { ballot, holder }
                if ballot == round.ballot && round.phase == Phase::Prepare =>
            {
                round.votes.insert(from);
                round.blocked |= holder.is_some_and(|h| h != self.id);
                if round.votes.len() < majority {
                    return;
                }
                if round.blocked {
                    // Someone holds a live lease: wait for the retry timer.
                    self.round = None;
                    return;
                }
                let Some(lease) = self.config.lease.clone() else {
                    return;
                };
                round.phase = Phase::Propose;
                round.votes.clear();
                // The holder's clock starts before it proposes, and it gives the lease up early by
                // the drift margin, so it runs out first.
                round.until = now.after(lease.holder_ms());
                let propose = Msg::Propose {
                    ballot,
                    duration_ms: lease.duration_ms,
                };
                self.broadcast_lease(now, propose, &lease.acceptors, out);
            }
            Msg::Accepted { ballot } if ballot == round.ballot && round.phase == Phase::Propose => {
                round.votes.insert(from);
                if round.votes.len() < majority {
                    return;
                }
                let until = round.until;
                self.round = None;
                self.granted(now, ballot, until, out);
            }
            Msg::Reject { ballot, promised } => {
                self.max_round = self.max_round.max(promised.round);
                if ballot == round.ballot {
                    self.round = None;
                }
            }
            _ => {}
        }
    }

    fn granted(&mut self, now: Time, ballot: Ballot, until: Time, out: &mut Out) {
        let Some(lease) = self.config.lease.clone() else {
            return;
        };
        if self.state == State::Initialize {
            // Shut down while asking: give it straight back.
            self.lease = Some((ballot, until));
            self.release(now, out);
            return;
        }
        self.lease = Some((ballot, until));
        out.push(Effect::Output(Output::LeaseGranted { until }));
        self.lease_timer = Some(until);
        out.push(Effect::SetTimer {
            timer: Timer::LeaseEnd(until),
            after_ms: until.0.saturating_sub(now.0),
        });
        let start = Time(until.0.saturating_sub(lease.holder_ms()));
        self.arm_retry(now, start.after(lease.renew_ms).max(now.after(1)), out);
        if self.state == State::Backup {
            self.become_master(now, out);
        }
    }
}
