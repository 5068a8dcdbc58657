//! What the user may type: the clap definition of every command and option, with an example in each `--help`.
//!
//! Values stay text here on purpose: clap reports only usage errors (exit 2),
//! and every value is parsed into a domain value later (`parse.rs`), where a
//! bad one is a refusal naming the value (exit 1).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// `expo`: the registry of business delegations to World Expo 2025.
#[derive(Debug, Parser)]
#[command(
    name = "expo",
    version,
    about = "The registry of business delegations travelling to World Expo 2025 (Osaka)",
    long_about = "The registry of business delegations travelling to World Expo 2025 (Osaka).\n\n\
        Every change is recorded as an event in a log kept in one folder (--data); \
        rosters and reports are folded from that log, and can be shown as of any earlier point.",
    after_help = "Examples:\n  expo demo\n  expo roster pk-textiles-may\n  expo company approve pk-textiles-may 1234567-8\n\n\
        Exit codes: 0 done, 1 refused (a rule or an invalid value), 2 usage error, 3 storage problem.",
    propagate_version = true
)]
pub struct Cli {
    /// Options every command accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Cmd,
}

/// Options accepted before or after any subcommand.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The store's directory, created on the first write [env: EXPO_DATA] [default: ./expo-data].
    // No clap default: a global option with a default shows up in every
    // usage line as if it were required.
    #[arg(long, global = true, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Machine-readable output on stdout (one JSON document, or JSON Lines where stated).
    #[arg(long, global = true)]
    pub json: bool,
    /// Who issues the command, recorded with each event [default: the OS user name].
    #[arg(
        long,
        global = true,
        env = "EXPO_ACTOR",
        hide_env_values = true,
        value_name = "NAME"
    )]
    pub actor: Option<String>,
    /// Idempotency key: the same id again returns the first outcome and writes nothing new.
    #[arg(long, global = true, value_name = "UUID", allow_hyphen_values = true)]
    pub command_id: Option<String>,
    /// How long to wait for a store held by another process before giving up [default: 10].
    #[arg(
        long,
        global = true,
        value_name = "SECONDS",
        allow_hyphen_values = true
    )]
    pub wait: Option<String>,
}

/// Every command.
///
/// `defer` (here and on every group below) builds a command's arguments only
/// when that command is the one typed, or when help or completions need
/// them: clap otherwise built every command's definition at each start,
/// ~0.33 ms of every `expo` process (timing marks: 0.33 → 0.23 ms). Names,
/// descriptions and examples are unchanged. (So the argument structs below
/// carry plain comments, not doc comments: built late, a struct's doc
/// comment would replace the command's description given here.)
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Cmd {
    /// Create, close and list delegations.
    #[command(
        subcommand,
        after_help = "Examples:\n  expo delegation create pk-textiles-may --name \"Pakistan Textiles, May\" --arrive 2025-05-12 --depart 2025-05-18\n  expo delegation list"
    )]
    Delegation(DelegationCmd),
    /// Register companies and move their registrations along.
    #[command(
        subcommand,
        after_help = "Examples:\n  expo company approve pk-textiles-may 1234567-8\n  expo company withdraw pk-textiles-may 1234567-8 --reason \"cannot travel in May\""
    )]
    Company(CompanyCmd),
    /// Add and remove travellers, and name the leader.
    #[command(
        subcommand,
        after_help = "Examples:\n  expo delegate add pk-textiles-may 1234567-8 --name \"Ayesha Khan\" --passport AB1234567 --passport-expiry 2027-01-31 --designation \"Export Manager\"\n  expo delegate lead pk-textiles-may AB1234567"
    )]
    Delegate(DelegateCmd),
    /// Register companies and their delegates from a CSV file (all or nothing by default).
    #[command(
        after_help = "Example:\n  expo import-registrations pk-textiles-may registrations.csv\n\n\
        The header must be:\n  ntn,legal_name,sector,city,contact_email,full_name,passport_no,passport_expiry,designation,nationality\n\
        One row per delegate; a company's fields repeat on each of its delegates' rows; nationality may be empty (PK)."
    )]
    ImportRegistrations(ImportRegistrationsArgs),
    /// Write every event as JSON Lines, in position order (stdout without FILE).
    #[command(after_help = "Examples:\n  expo export backup.jsonl\n  expo export | head")]
    Export(ExportArgs),
    /// Append the events of an export (into an empty store, or one it continues exactly).
    #[command(after_help = "Example:\n  expo --data ./restored import backup.jsonl")]
    Import(ImportArgs),
    /// Show a delegation's roster: leader, approved companies with delegates, waitlist, counts.
    #[command(
        after_help = "Examples:\n  expo roster pk-textiles-may\n  expo roster pk-textiles-may --format csv --full\n  expo roster pk-textiles-may --as-of 2025-03-01T00:00:00Z"
    )]
    Roster(RosterArgs),
    /// Sector, status and visa-letter reports.
    #[command(
        subcommand,
        after_help = "Examples:\n  expo report status\n  expo report visa-letters pk-textiles-may --format csv > letters.csv"
    )]
    Report(ReportCmd),
    /// Print events as JSON Lines of envelopes.
    #[command(
        after_help = "Examples:\n  expo events --stream pk-textiles-may\n  expo events --from 100 --limit 10"
    )]
    Events(EventsArgs),
    /// Rebuild every projection from the log; prints events, seconds and events/s.
    #[command(after_help = "Example:\n  expo replay")]
    Replay,
    /// Check the whole store; exit 0 if sound, 3 with the first problem named.
    #[command(after_help = "Example:\n  expo verify")]
    Verify,
    /// Fill an empty store with a realistic sample, then print a roster.
    #[command(after_help = "Example:\n  expo --data /tmp/expo-demo demo")]
    Demo,
    /// Write a deterministic synthetic load for benchmarks.
    #[command(
        after_help = "Example (about a million events):\n  expo --data /tmp/bench seed --delegations 1000 --companies 100 --delegates 8 --seed 7"
    )]
    Seed(SeedArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Example:\n  expo completions bash > ~/.local/share/bash-completion/completions/expo"
    )]
    Completions(CompletionsArgs),
}

/// `expo delegation ...`
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum DelegationCmd {
    /// Start a new delegation.
    #[command(
        after_help = "Example:\n  expo delegation create pk-textiles-may --name \"Pakistan Textiles, May\" --arrive 2025-05-12 --depart 2025-05-18 --max-companies 20"
    )]
    Create(CreateArgs),
    /// Finalise a delegation: nothing changes afterwards.
    #[command(after_help = "Example:\n  expo delegation close pk-textiles-may")]
    Close {
        /// The delegation's id.
        #[arg(value_name = "ID")]
        id: String,
    },
    /// List every delegation.
    #[command(after_help = "Example:\n  expo delegation list --json")]
    List,
}

// `expo delegation create`
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The delegation's id: 3–64 characters of a-z, 0-9 and '-'.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Display name.
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub name: String,
    /// Arrival date, YYYY-MM-DD, inside the Expo window.
    #[arg(long, value_name = "DATE")]
    pub arrive: String,
    /// Departure date, YYYY-MM-DD, inside the Expo window.
    #[arg(long, value_name = "DATE")]
    pub depart: String,
    /// ISO 3166-1 alpha-2 country code [default: PK].
    #[arg(long, value_name = "CC")]
    pub country: Option<String>,
    /// Approved companies at most (1–500) [default: 20].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub max_companies: Option<String>,
    /// Delegates per company at most (1–20) [default: 3].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub max_delegates: Option<String>,
    /// Months a passport must stay valid after departure (0–24) [default: 6].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub passport_validity_months: Option<String>,
}

// The two positional arguments naming one registration.
#[derive(Debug, Args)]
pub struct RegistrationRef {
    /// The delegation's id.
    #[arg(value_name = "DELEGATION")]
    pub delegation: String,
    /// The company's NTN (1234567 or 1234567-8).
    #[arg(value_name = "NTN")]
    pub ntn: String,
}

/// `expo company ...`
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum CompanyCmd {
    /// A company applies to join a delegation.
    #[command(
        after_help = "Example:\n  expo company register pk-textiles-may 1234567-8 --name \"Indus Looms (Pvt) Ltd\" --sector textiles --city Faisalabad --email exports@induslooms.pk"
    )]
    Register(RegisterArgs),
    /// Approve a submitted or waitlisted registration.
    #[command(after_help = "Example:\n  expo company approve pk-textiles-may 1234567-8")]
    Approve(RegistrationRef),
    /// Put a submitted registration on the waitlist.
    #[command(after_help = "Example:\n  expo company waitlist pk-textiles-may 1234567-8")]
    Waitlist(RegistrationRef),
    /// Reject a registration (final).
    #[command(
        after_help = "Example:\n  expo company reject pk-textiles-may 1234567-8 --reason \"incomplete documents\""
    )]
    Reject(ReasonArgs),
    /// Withdraw a registration (final); a waitlisted company takes a freed seat.
    #[command(
        after_help = "Example:\n  expo company withdraw pk-textiles-may 1234567-8 --reason \"cannot travel in May\""
    )]
    Withdraw(ReasonArgs),
}

// `expo company register`
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// Which delegation and which company.
    #[command(flatten)]
    pub at: RegistrationRef,
    /// Legal name of the company.
    #[arg(long, value_name = "LEGAL_NAME", allow_hyphen_values = true)]
    pub name: String,
    /// automobile, steel, machinery, textiles, minerals, it-hr or other.
    #[arg(long, value_name = "SECTOR")]
    pub sector: String,
    /// City.
    #[arg(long, value_name = "CITY", allow_hyphen_values = true)]
    pub city: String,
    /// Contact e-mail address.
    #[arg(long, value_name = "EMAIL")]
    pub email: String,
}

// `expo company reject|withdraw`
#[derive(Debug, Args)]
pub struct ReasonArgs {
    /// Which delegation and which company.
    #[command(flatten)]
    pub at: RegistrationRef,
    /// Why (1–500 characters).
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub reason: String,
}

/// `expo delegate ...`
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum DelegateCmd {
    /// Add a traveller to a company's registration.
    #[command(
        after_help = "Example:\n  expo delegate add pk-textiles-may 1234567-8 --name \"Ayesha Khan\" --passport AB1234567 --passport-expiry 2027-01-31 --designation \"Export Manager\""
    )]
    Add(AddDelegateArgs),
    /// Remove a traveller (and the leadership, if they led).
    #[command(after_help = "Example:\n  expo delegate remove pk-textiles-may AB1234567")]
    Remove(PassportRef),
    /// Name the delegation's leader (a delegate of an approved company).
    #[command(after_help = "Example:\n  expo delegate lead pk-textiles-may AB1234567")]
    Lead(PassportRef),
}

// `expo delegate add`
#[derive(Debug, Args)]
pub struct AddDelegateArgs {
    /// Which delegation and which company.
    #[command(flatten)]
    pub at: RegistrationRef,
    /// Full name exactly as in the passport.
    #[arg(long, value_name = "FULL_NAME", allow_hyphen_values = true)]
    pub name: String,
    /// Passport number: 6 to 9 letters and digits.
    #[arg(long, value_name = "NO")]
    pub passport: String,
    /// Passport expiry date, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub passport_expiry: String,
    /// Job title.
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub designation: String,
    /// ISO 3166-1 alpha-2 nationality [default: PK].
    #[arg(long, value_name = "CC")]
    pub nationality: Option<String>,
}

// `expo delegate remove|lead`
#[derive(Debug, Args)]
pub struct PassportRef {
    /// The delegation's id.
    #[arg(value_name = "DELEGATION")]
    pub delegation: String,
    /// The delegate's passport number.
    #[arg(value_name = "PASSPORT")]
    pub passport: String,
}

// `expo import-registrations`
#[derive(Debug, Args)]
pub struct ImportRegistrationsArgs {
    /// The delegation's id.
    #[arg(value_name = "DELEGATION")]
    pub delegation: String,
    /// The CSV file.
    #[arg(value_name = "FILE.csv")]
    pub file: PathBuf,
    /// Write the good rows and list the bad ones, instead of writing nothing.
    #[arg(long)]
    pub skip_invalid: bool,
}

// `expo export`
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Where to write (atomically); stdout without it.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
}

// `expo import`
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A JSON Lines export.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// How a report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// A table for people.
    Table,
    /// CSV for spreadsheets.
    Csv,
    /// JSON for scripts.
    Json,
}

// `--at POSITION | --as-of RFC3339`
#[derive(Debug, Args)]
pub struct AsOfArgs {
    /// Show the state just after this log position.
    #[arg(
        long,
        value_name = "POSITION",
        conflicts_with = "as_of",
        allow_hyphen_values = true
    )]
    pub at: Option<String>,
    /// Show the state as it was at this moment (RFC 3339, e.g. 2025-03-01T00:00:00Z).
    #[arg(long, value_name = "RFC3339")]
    pub as_of: Option<String>,
}

// `expo roster`
#[derive(Debug, Args)]
pub struct RosterArgs {
    /// The delegation's id.
    #[arg(value_name = "DELEGATION")]
    pub delegation: String,
    /// table, csv or json (--json means json).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<FormatArg>,
    /// Show passport numbers in full (they are masked otherwise).
    #[arg(long)]
    pub full: bool,
    /// Which moment to show.
    #[command(flatten)]
    pub when: AsOfArgs,
}

/// `expo report ...`
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum ReportCmd {
    /// Approved companies and delegates per sector, across delegations or in one.
    #[command(
        after_help = "Examples:\n  expo report sectors\n  expo report sectors --delegation pk-textiles-may --format csv"
    )]
    Sectors {
        /// Only this delegation.
        #[arg(long, value_name = "ID")]
        delegation: Option<String>,
        /// table, csv or json.
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: Option<FormatArg>,
        /// Which moment to show.
        #[command(flatten)]
        when: AsOfArgs,
    },
    /// Registrations per status and seats left, for each delegation.
    #[command(after_help = "Example:\n  expo report status --format json")]
    Status {
        /// table, csv or json.
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: Option<FormatArg>,
        /// Which moment to show.
        #[command(flatten)]
        when: AsOfArgs,
    },
    /// Every delegate of an approved company, with passport details, for invitation letters.
    #[command(
        after_help = "Example:\n  expo report visa-letters pk-textiles-may --format csv > letters.csv"
    )]
    VisaLetters {
        /// The delegation's id.
        #[arg(value_name = "DELEGATION")]
        delegation: String,
        /// table, csv or json.
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: Option<FormatArg>,
    },
}

// `expo events`
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Only this delegation's events.
    #[arg(long, value_name = "DELEGATION")]
    pub stream: Option<String>,
    /// The first position to print (1 = from the start).
    #[arg(long, value_name = "POSITION", allow_hyphen_values = true)]
    pub from: Option<String>,
    /// Print at most this many events.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub limit: Option<String>,
}

// `expo seed`
#[derive(Debug, Args)]
pub struct SeedArgs {
    /// How many delegations (1–100000).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub delegations: String,
    /// Companies registering per delegation (1–1000).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub companies: String,
    /// Delegates per company at most (1–20).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub delegates: String,
    /// The seed: the same seed gives the same events [default: 1].
    #[arg(long, value_name = "S", allow_hyphen_values = true)]
    pub seed: Option<String>,
}

// `expo completions`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}
