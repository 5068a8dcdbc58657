//! Runs one parsed command line: validates every value first, then opens the store and does the work.

use crate::args::{Cli, Cmd, CompanyCmd, DelegateCmd, DelegationCmd, ReportCmd};
use crate::context::Context;
use crate::failure::Failure;
use crate::{bulk, maintain, output, parse, read, seed, write};
use clap::CommandFactory;
use expo_domain::values::DelegationId;
use expo_domain::Command;

/// Runs the command; every value is checked before the store is touched.
pub fn run(cli: Cli) -> Result<(), Failure> {
    if let Cmd::Completions(a) = &cli.command {
        let mut out = Vec::new();
        clap_complete::generate(a.shell, &mut Cli::command(), "expo", &mut out);
        return output::print(&String::from_utf8_lossy(&out));
    }
    let ctx = Context::from_args(&cli.global)?;
    match cli.command {
        Cmd::Delegation(DelegationCmd::Create(a)) => {
            let (id, command) = parse::create(&a)?;
            record(&ctx, &id, &command)
        }
        Cmd::Delegation(DelegationCmd::Close { id }) => {
            record(&ctx, &parse::delegation(&id)?, &Command::CloseDelegation)
        }
        Cmd::Delegation(DelegationCmd::List) => read::delegations(&ctx),
        Cmd::Company(c) => {
            let (id, command) = company(c)?;
            record(&ctx, &id, &command)
        }
        Cmd::Delegate(d) => {
            let (id, command) = delegate(d)?;
            record(&ctx, &id, &command)
        }
        Cmd::ImportRegistrations(a) => bulk::import_registrations(&ctx, &a),
        Cmd::Export(a) => bulk::export(&ctx, a.file.as_deref()),
        Cmd::Import(a) => bulk::import(&ctx, &a.file),
        Cmd::Roster(a) => read::roster(&ctx, &a),
        Cmd::Report(ReportCmd::Sectors {
            delegation,
            format,
            when,
        }) => read::sectors(&ctx, delegation.as_deref(), format, &when),
        Cmd::Report(ReportCmd::Status { format, when }) => read::status(&ctx, format, &when),
        Cmd::Report(ReportCmd::VisaLetters { delegation, format }) => {
            read::visa_letters_report(&ctx, &delegation, format)
        }
        Cmd::Events(a) => read::events(&ctx, &a),
        Cmd::Replay => maintain::replay(&ctx),
        Cmd::Verify => maintain::verify(&ctx),
        Cmd::Demo => maintain::demo(&ctx),
        Cmd::Seed(a) => seed::run(&ctx, &a),
        // Handled above, before the global options are even looked at.
        Cmd::Completions(_) => Ok(()),
    }
}

fn company(c: CompanyCmd) -> Result<(DelegationId, Command), Failure> {
    Ok(match c {
        CompanyCmd::Register(a) => parse::register(&a)?,
        CompanyCmd::Approve(r) => (
            parse::delegation(&r.delegation)?,
            Command::ApproveCompany {
                ntn: parse::ntn(&r.ntn)?,
            },
        ),
        CompanyCmd::Waitlist(r) => (
            parse::delegation(&r.delegation)?,
            Command::WaitlistCompany {
                ntn: parse::ntn(&r.ntn)?,
            },
        ),
        CompanyCmd::Reject(a) => (
            parse::delegation(&a.at.delegation)?,
            Command::RejectCompany {
                ntn: parse::ntn(&a.at.ntn)?,
                reason: parse::reason(&a.reason)?,
            },
        ),
        CompanyCmd::Withdraw(a) => (
            parse::delegation(&a.at.delegation)?,
            Command::WithdrawCompany {
                ntn: parse::ntn(&a.at.ntn)?,
                reason: parse::reason(&a.reason)?,
            },
        ),
    })
}

fn delegate(d: DelegateCmd) -> Result<(DelegationId, Command), Failure> {
    Ok(match d {
        DelegateCmd::Add(a) => parse::add_delegate(&a)?,
        DelegateCmd::Remove(p) => (
            parse::delegation(&p.delegation)?,
            Command::RemoveDelegate {
                passport_no: parse::passport(&p.passport)?,
            },
        ),
        DelegateCmd::Lead(p) => (
            parse::delegation(&p.delegation)?,
            Command::AssignLeader {
                passport_no: parse::passport(&p.passport)?,
            },
        ),
    })
}

/// Records one command and prints what was recorded.
fn record(ctx: &Context, id: &DelegationId, command: &Command) -> Result<(), Failure> {
    // Only creating a delegation may create the store; any other write on a
    // missing store names the missing store instead of making an empty one.
    let store = match command {
        Command::CreateDelegation { .. } => ctx.open_for_write()?,
        _ => ctx.open_existing()?,
    };
    let written = write::execute(store.as_ref(), ctx, id, command)?;
    output::print(&write::report(ctx, &written))
}
