//! The reading commands: rosters, reports, the delegation list and raw events, now (stored rosters, caught up) or as of an earlier point (folded in memory).

use crate::args::{AsOfArgs, EventsArgs, FormatArg, RosterArgs};
use crate::context::{Context, Store};
use crate::envelope;
use crate::failure::{invalid, Failure};
use crate::output;
use crate::parse;
use crate::project::{self, StoreSource};
use expo_projection::{
    load_summaries, load_view, roster as roster_of, sector_report, status_report, visa_letters,
    AsOf, Format, ProjectionError, Registry, Render, Summary, View,
};
use expo_store::StoreError;

/// The most events `expo events` prints in one call when `--limit` is given.
const MAX_LIMIT: u64 = 1_000_000_000;

/// Where a read looks: the stored rosters (caught up to the log's head), or
/// a registry folded in memory up to an earlier point.
enum Snapshot {
    Stored {
        store: Store,
        position: u64,
    },
    AsOf {
        registry: Registry,
        position: u64,
        label: String,
    },
}

impl Snapshot {
    /// Opens the store and picks the source for `when`.
    fn open(ctx: &Context, when: Option<AsOf>) -> Result<Snapshot, Failure> {
        Self::open_for(ctx, when, None)
    }

    /// [`Snapshot::open`] for a read of one delegation (`only`): as of an
    /// earlier point, only its stream is folded — a view depends on its own
    /// events alone — instead of the whole log up to there.
    fn open_for(
        ctx: &Context,
        when: Option<AsOf>,
        only: Option<&str>,
    ) -> Result<Snapshot, Failure> {
        let Some(store) = ctx.open_if_exists()? else {
            if let Some(AsOf::Position(p @ 1..)) = when {
                return Err(invalid(format!(
                    "--at {p} is beyond the end of the log (there is no store at {})",
                    ctx.data.display()
                )));
            }
            return Ok(Snapshot::AsOf {
                registry: Registry::default(),
                position: 0,
                label: format!(" (there is no store at {})", ctx.data.display()),
            });
        };
        let head = store.last_position()?;
        match when {
            None => {
                project::catch_up(store.as_ref(), false)?;
                let position = store
                    .checkpoint(expo_projection::NAME)?
                    .map_or(head, |cp| cp.position);
                Ok(Snapshot::Stored { store, position })
            }
            Some(AsOf::Position(p)) => {
                if p > head {
                    return Err(invalid(format!(
                        "--at {p} is beyond the end of the log (the last position is {head})"
                    )));
                }
                let registry = match only {
                    Some(stream) => project::fold_stream_until(store.as_ref(), stream, p)?,
                    None => project::fold_until(store.as_ref(), p, |_| true, false)?,
                };
                Ok(Snapshot::AsOf {
                    registry,
                    position: p,
                    label: format!(" at position {p}"),
                })
            }
            Some(AsOf::Time(t)) => {
                let (registry, position) = match only {
                    // The log's prefix recorded by then ends where the first
                    // later event stands: found from the events' times,
                    // without decoding or folding them.
                    Some(stream) => {
                        let cutoff = project::last_recorded_by(store.as_ref(), head, t)?;
                        let registry = project::fold_stream_until(store.as_ref(), stream, cutoff)?;
                        (registry, cutoff)
                    }
                    None => {
                        let registry = project::fold_until(
                            store.as_ref(),
                            head,
                            |e| e.recorded_at <= t,
                            false,
                        )?;
                        let position = registry.position();
                        (registry, position)
                    }
                };
                Ok(Snapshot::AsOf {
                    registry,
                    position,
                    label: format!(" as of {}", envelope::format_time(t)),
                })
            }
        }
    }

    fn position(&self) -> u64 {
        match self {
            Snapshot::Stored { position, .. } => *position,
            Snapshot::AsOf { position, .. } => *position,
        }
    }

    fn view(&self, id: &str) -> Result<View, Failure> {
        let found = match self {
            Snapshot::Stored { store, .. } => {
                load_view(&StoreSource(store.as_ref()), id).map_err(projection)?
            }
            Snapshot::AsOf { registry, .. } => registry.view(id).cloned(),
        };
        found.ok_or_else(|| match self {
            Snapshot::Stored { .. } => invalid(format!(
                "there is no delegation {id} (see `expo delegation list`)"
            )),
            Snapshot::AsOf { label, .. } => invalid(format!("there is no delegation {id}{label}")),
        })
    }

    fn summaries(&self) -> Result<Vec<Summary>, Failure> {
        match self {
            Snapshot::Stored { store, .. } => {
                load_summaries(&StoreSource(store.as_ref())).map_err(projection)
            }
            Snapshot::AsOf { registry, .. } => Ok(registry.summaries()),
        }
    }
}

/// A stored projection that cannot be read is a storage problem (exit 3);
/// `expo replay` rebuilds it.
fn projection(e: ProjectionError) -> Failure {
    match e {
        ProjectionError::UnknownDelegation(id) => invalid(format!(
            "there is no delegation {id} (see `expo delegation list`)"
        )),
        other => Failure::Store(StoreError::Corrupt {
            position: 0,
            problem: other.to_string(),
        }),
    }
}

/// `--format`, where `--json` means json and the default is a table.
fn format(ctx: &Context, f: Option<FormatArg>) -> Format {
    match f {
        Some(FormatArg::Table) => Format::Table,
        Some(FormatArg::Csv) => Format::Csv,
        Some(FormatArg::Json) => Format::Json,
        None if ctx.json => Format::Json,
        None => Format::Table,
    }
}

/// `--at` / `--as-of`, validated.
fn when(a: &AsOfArgs) -> Result<Option<AsOf>, Failure> {
    match (&a.at, &a.as_of) {
        (Some(_), Some(_)) => Err(Failure::Usage(
            "--at and --as-of cannot be used together: choose one".to_owned(),
        )),
        (Some(p), None) => Ok(Some(AsOf::Position(parse::count("--at", p, 0, u64::MAX)?))),
        (None, Some(t)) => Ok(Some(AsOf::Time(parse::moment(t)?))),
        (None, None) => Ok(None),
    }
}

/// `expo roster DELEGATION ...`
pub fn roster(ctx: &Context, a: &RosterArgs) -> Result<(), Failure> {
    let id = parse::delegation(&a.delegation)?;
    let format = format(ctx, a.format);
    let snapshot = Snapshot::open_for(ctx, when(&a.when)?, Some(id.as_str()))?;
    let view = snapshot.view(id.as_str())?;
    output::print(&roster_of(&view, snapshot.position()).render(format, a.full))
}

/// `expo report sectors ...`
pub fn sectors(
    ctx: &Context,
    delegation: Option<&str>,
    f: Option<FormatArg>,
    w: &AsOfArgs,
) -> Result<(), Failure> {
    let only = delegation.map(parse::delegation).transpose()?;
    let format = format(ctx, f);
    let snapshot = Snapshot::open(ctx, when(w)?)?;
    let summaries = snapshot.summaries()?;
    let report = sector_report(
        &summaries,
        only.as_ref().map(|d| d.as_str()),
        snapshot.position(),
    )
    .map_err(projection)?;
    output::print(&report.render(format, false))
}

/// `expo report status ...`
pub fn status(ctx: &Context, f: Option<FormatArg>, w: &AsOfArgs) -> Result<(), Failure> {
    let format = format(ctx, f);
    let snapshot = Snapshot::open(ctx, when(w)?)?;
    let summaries = snapshot.summaries()?;
    output::print(&status_report(&summaries, snapshot.position()).render(format, false))
}

/// `expo report visa-letters DELEGATION ...`
pub fn visa_letters_report(
    ctx: &Context,
    delegation: &str,
    f: Option<FormatArg>,
) -> Result<(), Failure> {
    let id = parse::delegation(delegation)?;
    let format = format(ctx, f);
    let snapshot = Snapshot::open(ctx, None)?;
    let view = snapshot.view(id.as_str())?;
    // The list exists to request letters, so passport numbers are always in full.
    output::print(&visa_letters(&view, snapshot.position()).render(format, true))
}

/// `expo delegation list`
pub fn delegations(ctx: &Context) -> Result<(), Failure> {
    let snapshot = Snapshot::open(ctx, None)?;
    let summaries = snapshot.summaries()?;
    if ctx.json {
        let list: Vec<serde_json::Value> = summaries
            .iter()
            .map(|s| {
                serde_json::json!({
                    "id": s.id,
                    "name": s.name,
                    "country": s.country,
                    "arrive": s.arrive,
                    "depart": s.depart,
                    "status": s.status,
                    "max_companies": s.max_companies,
                    "approved_companies": s.max_companies.saturating_sub(s.seats_left),
                    "seats_left": s.seats_left,
                    "registrations": s.registrations.total(),
                })
            })
            .collect();
        return output::print(
            &serde_json::json!({"delegations": list, "as_of_position": snapshot.position()})
                .to_string(),
        );
    }
    if summaries.is_empty() {
        let where_ = if ctx.data.exists() {
            String::new()
        } else {
            format!(" (there is no store at {} yet)", ctx.data.display())
        };
        return output::print(&format!(
            "no delegations yet{where_}: create one with `expo delegation create`, or try `expo demo`"
        ));
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header([
        "id",
        "name",
        "arrive",
        "depart",
        "status",
        "approved",
        "seats left",
    ]);
    for s in &summaries {
        table.add_row([
            s.id.to_string(),
            s.name.to_string(),
            s.arrive.to_string(),
            s.depart.to_string(),
            s.status.to_string(),
            s.max_companies.saturating_sub(s.seats_left).to_string(),
            s.seats_left.to_string(),
        ]);
    }
    output::print(&format!("{table}\n{} delegation(s)", summaries.len()))
}

/// `expo events ...`: JSON Lines of envelopes.
pub fn events(ctx: &Context, a: &EventsArgs) -> Result<(), Failure> {
    let stream = a.stream.as_deref().map(parse::delegation).transpose()?;
    let from = match &a.from {
        Some(s) => parse::count("--from", s, 1, u64::MAX)?,
        None => 1,
    };
    let limit = match &a.limit {
        Some(s) => parse::count("--limit", s, 0, MAX_LIMIT)?,
        None => u64::MAX,
    };
    let Some(store) = ctx.open_if_exists()? else {
        return match &stream {
            Some(s) => Err(invalid(format!(
                "there is no delegation {s} (there is no store at {})",
                ctx.data.display()
            ))),
            None => Ok(()),
        };
    };
    let events = match &stream {
        Some(s) => {
            if store.stream_version(s.as_str())?.is_none() {
                return Err(invalid(format!(
                    "there is no delegation {s} (see `expo delegation list`)"
                )));
            }
            store.read_stream(s.as_str(), 1)
        }
        None => store.read_all(from),
    };
    let mut out = output::Lines::new();
    let mut n = 0;
    for e in events {
        if n >= limit {
            break;
        }
        let e = e?;
        if e.position < from {
            continue;
        }
        out.line(&envelope::to_line(&e))?;
        n += 1;
    }
    out.finish()
}
