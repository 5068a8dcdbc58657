//! A realistic, deterministic sample: Pakistani trade delegations to Expo 2025 across the six priority sectors.
//!
//! Pure data for `expo demo`, the projection's golden tests and anyone who
//! wants a populated registry: commands only, in the order they are to be
//! decided, each with a fixed moment (no clock is read). Every command is
//! accepted by `decide` when run in order (a test below checks it).
//!
//! The companies, people and passport numbers are invented; the cities and
//! sectors are the real ones of Pakistan's Expo 2025 trade programme.

use crate::command::Command;
use crate::values::{CountryCode, DelegationId, Email, Ntn, PassportNo, Sector, Text};
use chrono::{DateTime, NaiveDate, Utc};

/// The moment of the sample's first command: 2025-03-03 09:00 in Karachi (04:00 UTC).
pub const DEMO_START_SECS: i64 = 1_740_974_400;

/// Seconds between two consecutive sample commands (a busy registration desk).
pub const DEMO_STEP_SECS: i64 = 20 * 60;

/// One sample command: the delegation (stream) it is issued on, the command,
/// and when it is issued, as seconds after [`DEMO_START_SECS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The delegation, which is also the stream name.
    pub delegation: DelegationId,
    /// The command, already made of valid values.
    pub command: Command,
    /// Seconds after [`DEMO_START_SECS`] at which it is issued.
    pub offset_secs: i64,
}

impl Step {
    /// When the command is issued (UTC).
    pub fn at(&self) -> DateTime<Utc> {
        // The sample's moments are a few months after 2025-03-03: always
        // representable, so the fallback is never taken.
        DateTime::from_timestamp(DEMO_START_SECS + self.offset_secs, 0).unwrap_or_default()
    }
}

/// The sample: four delegations, thirty-odd commands' worth of registrations.
///
/// - `pk-textiles-may` (cap 3): full, with a waitlist of two; an approved
///   company withdraws and the first waitlisted company is promoted; one
///   rejection; a leader.
/// - `pk-auto-steel-jun`: automobile and steel, one registration still
///   submitted, one delegate removed, a leader.
/// - `pk-machinery-minerals-jul`: machinery and minerals, a withdrawal while
///   submitted, a leader, then closed.
/// - `pk-it-hr-sep`: IT and HR services, a rejection followed by the same
///   company registering again, a delegate of another nationality, a leader.
pub fn demo() -> Vec<Step> {
    let mut s = Sample::default();

    // Textiles, May: a small cap so the delegation fills and a waitlist forms.
    let d = "pk-textiles-may";
    s.create(
        d,
        "Pakistan Textiles Delegation, May 2025",
        "2025-05-12",
        "2025-05-18",
        3,
        3,
    );
    s.register(
        d,
        "4210387",
        "Lyallpur Weaving Mills (Pvt) Ltd",
        Sector::Textiles,
        "Faisalabad",
        "exports@lyallpurweaving.pk",
    );
    s.register(
        d,
        "3598211-6",
        "Karachi Denim Works Ltd",
        Sector::Textiles,
        "Karachi",
        "trade@karachidenim.com.pk",
    );
    s.register(
        d,
        "1876540",
        "Sialkot Knitwear Exports",
        Sector::Textiles,
        "Sialkot",
        "info@sialkotknitwear.pk",
    );
    s.register(
        d,
        "2750913",
        "Shalimar Home Textiles (Pvt) Ltd",
        Sector::Textiles,
        "Lahore",
        "sales@shalimarhome.pk",
    );
    s.register(
        d,
        "6024471",
        "Chenab Fabrics Ltd",
        Sector::Textiles,
        "Faisalabad",
        "export@chenabfabrics.pk",
    );
    s.register(
        d,
        "5139902",
        "Multan Cotton Ginners",
        Sector::Textiles,
        "Multan",
        "office@multanginners.pk",
    );
    s.approve(d, "4210387");
    s.approve(d, "3598211-6");
    s.approve(d, "1876540");
    s.waitlist(d, "2750913");
    s.waitlist(d, "6024471");
    s.reject(d, "5139902", "No export registration with TDAP on file");
    s.delegate(
        d,
        "4210387",
        "MUHAMMAD IMRAN SHEIKH",
        "AB1234567",
        "PK",
        "2030-08-14",
        "Managing Director",
    );
    s.delegate(
        d,
        "4210387",
        "AYESHA IMRAN",
        "AB7654321",
        "PK",
        "2029-11-02",
        "Director Exports",
    );
    s.delegate(
        d,
        "3598211-6",
        "FAISAL AHMED QURESHI",
        "CK4410982",
        "PK",
        "2028-03-30",
        "Chief Executive",
    );
    s.delegate(
        d,
        "3598211-6",
        "SANA MIRZA",
        "CK5520117",
        "PK",
        "2031-01-19",
        "Merchandising Manager",
    );
    s.delegate(
        d,
        "1876540",
        "TARIQ MEHMOOD BUTT",
        "SL9081726",
        "PK",
        "2027-07-07",
        "Proprietor",
    );
    s.delegate(
        d,
        "2750913",
        "HAMZA RAFIQ",
        "LE3300415",
        "PK",
        "2030-02-28",
        "Head of Sales",
    );
    s.lead(d, "AB1234567");
    // Karachi Denim pulls out: its seat goes to Shalimar, waitlisted first.
    s.withdraw(d, "3598211-6", "Production schedule clashes with the trip");
    s.delegate(
        d,
        "1876540",
        "NADIA BUTT",
        "SL9081799",
        "PK",
        "2029-05-21",
        "Export Manager",
    );

    // Automobile and steel, June.
    let d = "pk-auto-steel-jun";
    s.create(
        d,
        "Automobile & Steel Delegation, June 2025",
        "2025-06-09",
        "2025-06-14",
        12,
        3,
    );
    s.register(
        d,
        "7301128",
        "Mehran Auto Parts (Pvt) Ltd",
        Sector::Automobile,
        "Karachi",
        "md@mehranautoparts.pk",
    );
    s.register(
        d,
        "7415530-2",
        "Gujranwala Engineering & Castings",
        Sector::Automobile,
        "Gujranwala",
        "ceo@gecastings.pk",
    );
    s.register(
        d,
        "8820047",
        "Ravi Steel Re-Rolling Mills (Pvt) Ltd",
        Sector::Steel,
        "Lahore",
        "contact@ravisteel.pk",
    );
    s.register(
        d,
        "8934406",
        "Port Qasim Steel Industries Ltd",
        Sector::Steel,
        "Karachi",
        "biz@pqsteel.com.pk",
    );
    s.approve(d, "7301128");
    s.approve(d, "7415530-2");
    s.approve(d, "8820047");
    s.delegate(
        d,
        "7301128",
        "ASIF IQBAL MEMON",
        "KH2219034",
        "PK",
        "2029-09-09",
        "Chief Executive Officer",
    );
    s.delegate(
        d,
        "7301128",
        "ZAINAB ASIF",
        "KH2219035",
        "PK",
        "2030-12-12",
        "Head of Procurement",
    );
    s.delegate(
        d,
        "7415530-2",
        "USMAN GHANI CHEEMA",
        "GW6605143",
        "PK",
        "2028-06-01",
        "Director Operations",
    );
    s.delegate(
        d,
        "8820047",
        "KHALID MAHMOOD",
        "LH1177342",
        "PK",
        "2027-10-15",
        "Chairman",
    );
    s.delegate(
        d,
        "8820047",
        "BILAL KHALID",
        "LH1177343",
        "PK",
        "2031-04-03",
        "General Manager Exports",
    );
    s.delegate(
        d,
        "8820047",
        "RIZWAN AKHTAR",
        "LH5002281",
        "PK",
        "2028-01-25",
        "Plant Engineer",
    );
    s.delegate(
        d,
        "8934406",
        "SAAD HASHMI",
        "KH7781150",
        "PK",
        "2030-07-30",
        "Business Development Lead",
    );
    s.remove(d, "LH5002281");
    s.lead(d, "LH1177342");

    // Machinery and minerals, July: finalised before departure.
    let d = "pk-machinery-minerals-jul";
    s.create(
        d,
        "Machinery & Minerals Delegation, July 2025",
        "2025-07-14",
        "2025-07-19",
        8,
        2,
    );
    s.register(
        d,
        "3042219",
        "Daska Agricultural Machinery Co",
        Sector::Machinery,
        "Daska",
        "sales@daskaagri.pk",
    );
    s.register(
        d,
        "3156647-1",
        "Taxila Heavy Fabricators (Pvt) Ltd",
        Sector::Machinery,
        "Taxila",
        "projects@taxilafab.pk",
    );
    s.register(
        d,
        "9203385",
        "Salt Range Minerals (Pvt) Ltd",
        Sector::Minerals,
        "Jhelum",
        "info@saltrangeminerals.pk",
    );
    s.register(
        d,
        "9317754",
        "Chagai Onyx & Marble Exports",
        Sector::Minerals,
        "Quetta",
        "export@chagaionyx.pk",
    );
    s.register(
        d,
        "9431120",
        "Balochistan Chromite Traders",
        Sector::Minerals,
        "Quetta",
        "office@bct.com.pk",
    );
    s.approve(d, "3042219");
    s.approve(d, "3156647-1");
    s.approve(d, "9203385");
    s.approve(d, "9317754");
    s.withdraw(d, "9431120", "Export licence renewal still pending");
    s.delegate(
        d,
        "3042219",
        "GHULAM MUSTAFA BAJWA",
        "SK4021987",
        "PK",
        "2029-03-17",
        "Owner",
    );
    s.delegate(
        d,
        "3156647-1",
        "ERUM NAZ",
        "RP8840012",
        "PK",
        "2030-10-05",
        "Director Engineering",
    );
    s.delegate(
        d,
        "3156647-1",
        "WAQAS AHMED",
        "RP8840077",
        "PK",
        "2028-08-08",
        "Sales Manager",
    );
    s.delegate(
        d,
        "9203385",
        "SHAHID AFRIDI KHAN",
        "IS6672145",
        "PK",
        "2031-06-30",
        "Managing Partner",
    );
    s.delegate(
        d,
        "9317754",
        "NASEEBULLAH KAKAR",
        "QT1029384",
        "PK",
        "2029-12-31",
        "Chief Executive",
    );
    s.lead(d, "IS6672145");
    s.close(d);

    // IT and HR services, September.
    let d = "pk-it-hr-sep";
    s.create(
        d,
        "IT & HR Services Delegation, September 2025",
        "2025-09-22",
        "2025-09-27",
        10,
        3,
    );
    s.register(
        d,
        "4567123",
        "Margalla Software House (Pvt) Ltd",
        Sector::ItHr,
        "Islamabad",
        "bd@margallasoft.pk",
    );
    s.register(
        d,
        "4681590-3",
        "Lahore Digital Services Ltd",
        Sector::ItHr,
        "Lahore",
        "hello@lahoredigital.pk",
    );
    s.register(
        d,
        "4795062",
        "Clifton Talent Solutions (Pvt) Ltd",
        Sector::ItHr,
        "Karachi",
        "partners@cliftontalent.pk",
    );
    s.register(
        d,
        "4809931",
        "Arfa Cloud Systems",
        Sector::ItHr,
        "Lahore",
        "team@arfacloud.pk",
    );
    s.register(
        d,
        "4914408",
        "Rawal Data Labs",
        Sector::ItHr,
        "Rawalpindi",
        "contact@rawaldatalabs.pk",
    );
    s.approve(d, "4567123");
    s.approve(d, "4681590-3");
    s.approve(d, "4795062");
    s.reject(d, "4809931", "SECP registration certificate missing");
    // Arfa sends the certificate and applies again: a new registration.
    s.register(
        d,
        "4809931",
        "Arfa Cloud Systems",
        Sector::ItHr,
        "Lahore",
        "team@arfacloud.pk",
    );
    s.delegate(
        d,
        "4567123",
        "SAMINA BALOCH",
        "IS3345678",
        "PK",
        "2030-04-22",
        "Founder & CEO",
    );
    s.delegate(
        d,
        "4567123",
        "OMAR FAROOQ",
        "IS3345690",
        "PK",
        "2029-02-11",
        "Chief Technology Officer",
    );
    s.delegate(
        d,
        "4681590-3",
        "DANIYAL HUSSAIN",
        "LE2218870",
        "PK",
        "2031-09-01",
        "Director",
    );
    s.delegate(
        d,
        "4681590-3",
        "AMNA SIDDIQUI",
        "541203967",
        "GB",
        "2032-03-14",
        "Head of Partnerships",
    );
    s.delegate(
        d,
        "4795062",
        "KAMRAN NAQVI",
        "KH9905521",
        "PK",
        "2028-11-30",
        "Managing Partner",
    );
    s.delegate(
        d,
        "4914408",
        "HIRA SHAH",
        "RP1230984",
        "PK",
        "2030-05-05",
        "Data Engineer",
    );
    s.lead(d, "IS3345678");

    s.steps
}

/// Builds the sample, one command every [`DEMO_STEP_SECS`].
#[derive(Default)]
struct Sample {
    steps: Vec<Step>,
}

// The sample is constant data, not input: a value that fails to parse is a
// bug in this file, and the test below decides every command, so these
// assertions can only fire in that test.
fn id(s: &str) -> DelegationId {
    DelegationId::parse(s).expect("sample delegation id is valid")
}
fn ntn(s: &str) -> Ntn {
    Ntn::parse(s).expect("sample NTN is valid")
}
fn passport(s: &str) -> PassportNo {
    PassportNo::parse(s).expect("sample passport number is valid")
}
fn text(s: &str) -> Text {
    Text::parse("sample text", s, 1, 200).expect("sample text is valid")
}
fn date(s: &str) -> NaiveDate {
    crate::values::parse_date(s).expect("sample date is valid")
}

impl Sample {
    fn push(&mut self, delegation: &str, command: Command) {
        let offset_secs = DEMO_STEP_SECS * self.steps.len() as i64;
        self.steps.push(Step {
            delegation: id(delegation),
            command,
            offset_secs,
        });
    }

    fn create(
        &mut self,
        d: &str,
        name: &str,
        arrive: &str,
        depart: &str,
        max_companies: u32,
        max_delegates: u32,
    ) {
        self.push(
            d,
            Command::CreateDelegation {
                id: id(d),
                name: text(name),
                country: CountryCode::pakistan(),
                arrive: date(arrive),
                depart: date(depart),
                max_companies,
                max_delegates_per_company: max_delegates,
                passport_validity_months: 6,
            },
        );
    }

    fn register(
        &mut self,
        d: &str,
        n: &str,
        legal_name: &str,
        sector: Sector,
        city: &str,
        email: &str,
    ) {
        let contact_email = Email::parse(email).expect("sample e-mail is valid");
        self.push(
            d,
            Command::RegisterCompany {
                ntn: ntn(n),
                legal_name: text(legal_name),
                sector,
                city: text(city),
                contact_email,
            },
        );
    }

    fn approve(&mut self, d: &str, n: &str) {
        self.push(d, Command::ApproveCompany { ntn: ntn(n) });
    }

    fn waitlist(&mut self, d: &str, n: &str) {
        self.push(d, Command::WaitlistCompany { ntn: ntn(n) });
    }

    fn reject(&mut self, d: &str, n: &str, reason: &str) {
        self.push(
            d,
            Command::RejectCompany {
                ntn: ntn(n),
                reason: text(reason),
            },
        );
    }

    fn withdraw(&mut self, d: &str, n: &str, reason: &str) {
        self.push(
            d,
            Command::WithdrawCompany {
                ntn: ntn(n),
                reason: text(reason),
            },
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn delegate(
        &mut self,
        d: &str,
        n: &str,
        full_name: &str,
        passport_no: &str,
        nationality: &str,
        expiry: &str,
        designation: &str,
    ) {
        let nationality = CountryCode::parse(nationality).expect("sample nationality is valid");
        self.push(
            d,
            Command::AddDelegate {
                ntn: ntn(n),
                full_name: text(full_name),
                passport_no: passport(passport_no),
                nationality,
                passport_expiry: date(expiry),
                designation: text(designation),
            },
        );
    }

    fn remove(&mut self, d: &str, passport_no: &str) {
        self.push(
            d,
            Command::RemoveDelegate {
                passport_no: passport(passport_no),
            },
        );
    }

    fn lead(&mut self, d: &str, passport_no: &str) {
        self.push(
            d,
            Command::AssignLeader {
                passport_no: passport(passport_no),
            },
        );
    }

    fn close(&mut self, d: &str) {
        self.push(d, Command::CloseDelegation);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decide, evolve, Event, State};
    use std::collections::BTreeMap;

    /// Given the sample, when every step is decided in order against its
    /// delegation's state, then each is accepted with at least one event.
    #[test]
    fn every_sample_command_is_accepted_in_order() {
        let mut states: BTreeMap<DelegationId, State> = BTreeMap::new();
        let mut n_events = 0;
        for (i, step) in demo().iter().enumerate() {
            let state = states.remove(&step.delegation).unwrap_or_default();
            let events: Vec<Event> = decide(&step.command, &state)
                .unwrap_or_else(|e| panic!("step {i} ({}) refused: {e}", step.command.verb()));
            assert!(
                !events.is_empty(),
                "step {i} ({}) yielded no events",
                step.command.verb()
            );
            n_events += events.len();
            states.insert(step.delegation.clone(), events.iter().fold(state, evolve));
        }
        assert!(n_events >= demo().len());
    }

    /// The sample covers the six priority sectors and is the same every time.
    #[test]
    fn sample_is_deterministic_and_covers_six_sectors() {
        assert_eq!(demo(), demo());
        let sectors: std::collections::BTreeSet<Sector> = demo()
            .iter()
            .filter_map(|s| match &s.command {
                Command::RegisterCompany { sector, .. } => Some(*sector),
                _ => None,
            })
            .collect();
        for s in [
            Sector::Automobile,
            Sector::Steel,
            Sector::Machinery,
            Sector::Textiles,
            Sector::Minerals,
            Sector::ItHr,
        ] {
            assert!(sectors.contains(&s), "{s} missing");
        }
        let times: Vec<_> = demo().iter().map(Step::at).collect();
        assert!(times.windows(2).all(|w| w[0] < w[1]));
    }
}
