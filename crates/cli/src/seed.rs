//! `expo seed`: a deterministic synthetic load of realistic shape, decided by the domain and written through the store's bulk import.
//!
//! Every delegation's commands are decided in memory against its own state
//! (so the events are ones the registry would really have recorded), then
//! streamed into `EventStore::import` with positions and versions that
//! continue the store. The same `--seed` gives the same events, ids and
//! times included, so two seeded stores export byte-identically.

use crate::args::SeedArgs;
use crate::bulk::{rate, round3};
use crate::context::Context;
use crate::failure::{invalid, Failure};
use crate::progress::Progress;
use crate::{envelope, output, parse, project};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use expo_domain::values::{
    CountryCode, DelegationId, Email, Ntn, PassportNo, Sector, Text, EXPO_CLOSES, EXPO_OPENS,
};
use expo_domain::{decide, evolve, Command, Event, State};
use expo_projection::Rebuild;
use expo_store::{RecordedEvent, StoreError};
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::time::Instant;
use uuid::Uuid;

/// The most events one seed run may write (a guard against typos like an extra zero).
const MAX_EVENTS: u64 = 50_000_000;
/// Seeded events are recorded one second apart from this moment (2025-01-06T00:00:00Z).
const SEED_EPOCH_SECS: i64 = 1_736_121_600;

/// splitmix64: tiny, fast, and good enough to make varied synthetic data.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        // Multiply-shift: unbiased enough for synthetic data, and no division.
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One item of a non-empty list.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        let i = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        items[i.min(items.len() - 1)]
    }
}

/// The validated size of a seed run.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Delegations to create.
    pub delegations: u64,
    /// Companies registering per delegation.
    pub companies: u64,
    /// Delegates per company at most.
    pub delegates: u64,
    /// The seed.
    pub seed: u64,
}

/// `expo seed ...`
pub fn run(ctx: &Context, a: &SeedArgs) -> Result<(), Failure> {
    let plan = Plan {
        delegations: parse::count("--delegations", &a.delegations, 1, 100_000)?,
        companies: parse::count("--companies", &a.companies, 1, 1_000)?,
        delegates: parse::count("--delegates", &a.delegates, 1, 20)?,
        seed: match &a.seed {
            None => 1,
            Some(s) => parse::count("--seed", s, 0, u64::MAX)?,
        },
    };
    let estimate = plan.delegations * plan.companies * (plan.delegates + 3);
    if estimate > MAX_EVENTS {
        return Err(invalid(format!(
            "that seed would write about {estimate} events; the most one run writes is {MAX_EVENTS}"
        )));
    }
    let store = ctx.open_for_bulk_write()?;
    let existing: BTreeSet<String> = store.streams()?.into_iter().map(|(s, _)| s).collect();
    let prefix = format!("seed{}", plan.seed);
    if existing
        .iter()
        .any(|s| s.starts_with(&format!("{prefix}-")))
    {
        return Err(invalid(format!(
            "this store already holds delegations of --seed {} ({prefix}-…): use another --seed or an empty store",
            plan.seed
        )));
    }
    let head = store.last_position()?;
    let started = Instant::now();
    let budget = project::rebuild_budget()?;
    let mut encoded = BTreeMap::new();
    let mut generator = Generator::new(plan, &ctx.actor, head, &prefix);
    // Into an empty store the rosters are folded from the generated events
    // directly, never read back (keeping a budget of views as they are and
    // the rest encoded, as an import does); otherwise they catch up after.
    generator.rosters = (head == 0).then(|| Rebuild::new(&mut encoded, budget));
    let failed: std::cell::RefCell<Option<Failure>> = std::cell::RefCell::new(None);
    let imported = {
        let mut events = std::iter::from_fn(|| match generator.next_event() {
            Ok(e) => e.map(Ok),
            Err(f) => {
                let message = f.to_string();
                *failed.borrow_mut() = Some(f);
                Some(Err(StoreError::Io(message)))
            }
        });
        let progress = Progress::new(true, estimate, "seeding");
        let imported = store.import(&mut events, &mut |n| progress.set(n));
        progress.finish();
        imported
    };
    if let Some(f) = failed.borrow_mut().take() {
        return Err(f);
    }
    let n = imported?;
    let write_secs = started.elapsed().as_secs_f64();
    match generator.rosters.take() {
        Some(r) => {
            project::store_folded(store.as_ref(), r.finish(), encoded, store.last_position()?)?
        }
        None => {
            project::catch_up(store.as_ref(), true)?;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let r = rate(n, secs);
    if ctx.json {
        output::print(
            &serde_json::json!({
                "events": n,
                "delegations": plan.delegations,
                "seconds": round3(secs),
                "write_seconds": round3(write_secs),
                "events_per_second": r.round(),
            })
            .to_string(),
        )
    } else {
        output::print(&format!(
            "seeded {n} events in {} delegations in {secs:.2} s ({r:.0} events/s; writing {write_secs:.2} s, rosters {:.2} s)",
            plan.delegations,
            secs - write_secs
        ))
    }
}

/// Every event of a seed run into an empty store, in memory (for tests).
#[cfg(test)]
pub fn generate(plan: Plan, actor: &str) -> Result<Vec<RecordedEvent>, Failure> {
    let mut generator = Generator::new(plan, actor, 0, &format!("seed{}", plan.seed));
    let mut events = Vec::new();
    while let Some(e) = generator.next_event()? {
        events.push(e);
    }
    Ok(events)
}

/// Makes one delegation's events at a time and hands them out one by one.
struct Generator<'s> {
    plan: Plan,
    rng: SplitMix64,
    actor: String,
    prefix: String,
    next_delegation: u64,
    position: u64,
    passport_counter: u64,
    pending: std::vec::IntoIter<(String, Event)>,
    version: u64,
    stream: String,
    rosters: Option<Rebuild<'s>>,
}

impl<'s> Generator<'s> {
    fn new(plan: Plan, actor: &str, head: u64, prefix: &str) -> Self {
        Generator {
            plan,
            rng: SplitMix64::new(plan.seed),
            actor: actor.to_owned(),
            prefix: prefix.to_owned(),
            next_delegation: 0,
            position: head,
            passport_counter: 0,
            pending: Vec::new().into_iter(),
            version: 0,
            stream: String::new(),
            rosters: None,
        }
    }

    fn next_event(&mut self) -> Result<Option<RecordedEvent>, Failure> {
        loop {
            if let Some((stream, event)) = self.pending.next() {
                if stream != self.stream {
                    self.stream = stream;
                    self.version = 0;
                }
                self.position += 1;
                self.version += 1;
                let stored = self.record(&event);
                if let Some(r) = self.rosters.as_mut() {
                    r.apply_owned(envelope::recorded_with(&stored, event))
                        .map_err(|e| Failure::Storage(project::fold_problem(e)))?;
                }
                return Ok(Some(stored));
            }
            if self.next_delegation >= self.plan.delegations {
                return Ok(None);
            }
            let i = self.next_delegation;
            self.next_delegation += 1;
            let id = format!("{}-{i:06}", self.prefix);
            let events = self.delegation(&id)?;
            self.pending = events
                .into_iter()
                .map(|e| (id.clone(), e))
                .collect::<Vec<_>>()
                .into_iter();
        }
    }

    fn record(&mut self, event: &Event) -> RecordedEvent {
        let secs = SEED_EPOCH_SECS + i64::try_from(self.position).unwrap_or(0);
        let recorded_at: DateTime<Utc> = DateTime::from_timestamp(secs, 0).unwrap_or_default();
        let mut random = [0u8; 10];
        random[..8].copy_from_slice(&self.rng.next_u64().to_le_bytes());
        random[8..].copy_from_slice(&self.rng.next_u64().to_le_bytes()[..2]);
        let millis = u64::try_from(secs).unwrap_or(0) * 1000;
        let id = uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid();
        let n = envelope::new_event(event);
        RecordedEvent {
            position: self.position,
            stream: self.stream.as_str().into(),
            version: self.version,
            id: if id.is_nil() { Uuid::now_v7() } else { id },
            event_type: n.event_type.into(),
            schema: n.schema,
            recorded_at,
            command_id: None,
            actor: self.actor.as_str().into(),
            data: n.data,
        }
    }

    /// Decides a whole delegation's life in memory and returns its events.
    fn delegation(&mut self, id: &str) -> Result<Vec<Event>, Failure> {
        let plan = self.plan;
        let rng = &mut self.rng;
        let mut life = Life {
            state: State::default(),
            events: Vec::new(),
            stream: id.to_owned(),
        };
        let window = (EXPO_CLOSES - EXPO_OPENS).num_days();
        let arrive =
            EXPO_OPENS + Duration::days(i64::try_from(rng.below(window as u64 - 10)).unwrap_or(0));
        let depart = (arrive + Duration::days(3 + i64::try_from(rng.below(7)).unwrap_or(0)))
            .min(EXPO_CLOSES);
        let sector_focus = rng.pick(&Sector::ALL[..6]);
        let max_companies = u32::try_from((plan.companies * 7 / 10).clamp(1, 500)).unwrap_or(20);
        let max_delegates = u32::try_from(plan.delegates).unwrap_or(3);
        life.run(Command::CreateDelegation {
            id: DelegationId::parse(id)?,
            name: text(&format!(
                "{} delegation {} ({})",
                rng.pick(&[
                    "Pakistan",
                    "Punjab",
                    "Sindh",
                    "Karachi Chamber",
                    "Lahore Chamber",
                    "TDAP"
                ]),
                id,
                sector_focus
            ))?,
            country: CountryCode::pakistan(),
            arrive,
            depart,
            max_companies,
            max_delegates_per_company: max_delegates,
            passport_validity_months: 6,
        })?;
        let mut approved: Vec<Ntn> = Vec::new();
        for c in 0..plan.companies {
            let ntn = if c % 2 == 0 {
                format!("{:07}", 1_000_000 + c * 7919 % 8_999_999)
            } else {
                format!("{:07}-{}", 1_000_000 + c * 7919 % 8_999_999, c % 10)
            };
            let ntn = Ntn::parse(&ntn)?;
            let sector = if rng.chance(60) {
                sector_focus
            } else {
                rng.pick(&Sector::ALL)
            };
            let word = rng.pick(&COMPANY_WORDS);
            let kind = rng.pick(&COMPANY_KINDS);
            let city = rng.pick(&CITIES);
            let slug: String = word
                .to_ascii_lowercase()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect();
            life.run(Command::RegisterCompany {
                ntn: ntn.clone(),
                legal_name: text(&format!("{word} {} {kind} {c}", sector_word(sector)))?,
                sector,
                city: text(city)?,
                contact_email: Email::parse(&format!("exports{c}@{slug}.com.pk"))?,
            })?;
            let n_delegates = plan.delegates.div_ceil(2) + rng.below(plan.delegates / 2 + 1);
            for _ in 0..n_delegates.min(plan.delegates) {
                self.passport_counter += 1;
                let passport = format!(
                    "{}{}{:07}",
                    char::from(b'A' + (self.passport_counter % 26) as u8),
                    char::from(b'A' + (self.passport_counter / 26 % 26) as u8),
                    self.passport_counter % 10_000_000
                );
                let nationality = if rng.chance(92) {
                    CountryCode::pakistan()
                } else {
                    CountryCode::parse(rng.pick(&["JP", "GB", "AE", "CN", "US", "DE"]))?
                };
                let expiry = NaiveDate::from_ymd_opt(
                    2027 + i32::try_from(rng.below(6)).unwrap_or(0),
                    1 + u32::try_from(rng.below(12)).unwrap_or(0),
                    1 + u32::try_from(rng.below(28)).unwrap_or(0),
                )
                .unwrap_or(EXPO_CLOSES + Duration::days(1000));
                life.run(Command::AddDelegate {
                    ntn: ntn.clone(),
                    full_name: text(&format!(
                        "{} {}",
                        rng.pick(&FIRST_NAMES),
                        rng.pick(&LAST_NAMES)
                    ))?,
                    passport_no: PassportNo::parse(&passport)?,
                    nationality,
                    passport_expiry: expiry,
                    designation: text(rng.pick(&DESIGNATIONS))?,
                })?;
            }
            let roll = rng.below(100);
            if roll < 78 {
                if life.state.seats_left() > 0 {
                    life.run(Command::ApproveCompany { ntn: ntn.clone() })?;
                    approved.push(ntn);
                } else {
                    life.run(Command::WaitlistCompany { ntn })?;
                }
            } else if roll < 88 {
                life.run(Command::WaitlistCompany { ntn })?;
            } else if roll < 94 {
                life.run(Command::RejectCompany {
                    ntn,
                    reason: text(rng.pick(&REJECT_REASONS))?,
                })?;
            } else if roll < 97 {
                life.run(Command::WithdrawCompany {
                    ntn,
                    reason: text(rng.pick(&WITHDRAW_REASONS))?,
                })?;
            }
            // else: still submitted, as some always are.
        }
        // A few approved companies pull out; the domain promotes the waitlist.
        let mut kept = Vec::new();
        for ntn in approved {
            if rng.chance(4) {
                life.run(Command::WithdrawCompany {
                    ntn,
                    reason: text(rng.pick(&WITHDRAW_REASONS))?,
                })?;
            } else {
                kept.push(ntn);
            }
        }
        let leader = kept.iter().find_map(|ntn| {
            life.state
                .registration(ntn)
                .and_then(|r| r.delegates.first())
                .map(|d| d.passport_no.clone())
        });
        if let Some(passport_no) = leader {
            life.run(Command::AssignLeader { passport_no })?;
            if rng.chance(10) {
                life.run(Command::CloseDelegation)?;
            }
        }
        Ok(life.events)
    }
}

/// One delegation being decided in memory.
struct Life {
    state: State,
    events: Vec<Event>,
    stream: String,
}

impl Life {
    /// Decides a command and folds its events; a refusal is a bug in the
    /// generator, reported rather than hidden.
    fn run(&mut self, command: Command) -> Result<(), Failure> {
        let events = decide(&command, &self.state)
            .map_err(|error| crate::failure::refused(self.stream.clone(), error))?;
        for e in events {
            self.state = evolve(std::mem::take(&mut self.state), &e);
            self.events.push(e);
        }
        Ok(())
    }
}

/// Generated text, checked like typed text.
fn text(s: &str) -> Result<Text, Failure> {
    Ok(Text::parse("text", s, 1, 200)?)
}

fn sector_word(s: Sector) -> &'static str {
    match s {
        Sector::Automobile => "Auto Parts",
        Sector::Steel => "Steel",
        Sector::Machinery => "Engineering",
        Sector::Textiles => "Textiles",
        Sector::Minerals => "Minerals",
        Sector::ItHr => "Software",
        Sector::Other => "Trading",
    }
}

const COMPANY_WORDS: [&str; 16] = [
    "Indus",
    "Ravi",
    "Chenab",
    "Margalla",
    "Khyber",
    "Mehran",
    "Karakoram",
    "Shalimar",
    "Jhelum",
    "Sutlej",
    "Bolan",
    "Hunza",
    "Thar",
    "Clifton",
    "Gulberg",
    "Potohar",
];
const COMPANY_KINDS: [&str; 5] = ["(Pvt) Ltd", "Ltd", "Industries", "Exports", "Works"];
const CITIES: [&str; 12] = [
    "Karachi",
    "Lahore",
    "Faisalabad",
    "Sialkot",
    "Islamabad",
    "Rawalpindi",
    "Multan",
    "Gujranwala",
    "Peshawar",
    "Quetta",
    "Hyderabad",
    "Gujrat",
];
const FIRST_NAMES: [&str; 16] = [
    "MUHAMMAD", "AYESHA", "FAISAL", "SANA", "TARIQ", "NADIA", "HAMZA", "ZAINAB", "USMAN", "AMNA",
    "BILAL", "ERUM", "OMAR", "SAMINA", "ASIF", "HIRA",
];
const LAST_NAMES: [&str; 16] = [
    "KHAN", "QURESHI", "BUTT", "MIRZA", "SHEIKH", "CHEEMA", "MEMON", "HASHMI", "BAJWA", "AHMED",
    "SIDDIQUI", "BALOCH", "KAKAR", "AFRIDI", "RAFIQ", "IQBAL",
];
const DESIGNATIONS: [&str; 8] = [
    "Chief Executive",
    "Managing Director",
    "Director Exports",
    "Export Manager",
    "Head of Sales",
    "General Manager",
    "Business Development Lead",
    "Plant Engineer",
];
const REJECT_REASONS: [&str; 3] = [
    "No export registration with TDAP on file",
    "SECP registration certificate missing",
    "Application received after the deadline",
];
const WITHDRAW_REASONS: [&str; 3] = [
    "Production schedule clashes with the trip",
    "Travel budget not approved",
    "Key staff unavailable on the dates",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_is_deterministic_and_in_range() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        for _ in 0..1000 {
            let (x, y) = (a.below(13), b.below(13));
            assert_eq!(x, y);
            assert!(x < 13);
        }
    }
}
