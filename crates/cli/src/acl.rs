//! `underhood acl`: Kafka ACLs without a cluster: evaluate requests, translate `kafka-acls.sh`
//! command lines, lint, list effective permissions and diff ACL sets.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::files::{read_limited_text, read_line_limited};
use clap::Subcommand;
use underhood_acl_model::json::{self, Request};
use underhood_acl_model::{
    AclBinding, AclOperation, Authorizer, AuthorizerConfig, Decision, Resource, ResourceType,
    kafka_acls,
};

/// Exit status when a check found something (lint findings, refused kafka-acls command line).
const FOUND: u8 = 1;

#[derive(Subcommand, Debug)]
pub(crate) enum AclCommand {
    /// Authorize requests from standard input (one JSON object a line) against an ACL file.
    Eval {
        /// A JSON array of bindings.
        #[arg(long)]
        acls: PathBuf,
        /// `super.users`, such as 'User:a;User:b'.
        #[arg(long)]
        super_users: Option<String>,
        /// `allow.everyone.if.no.acl.found=true`.
        #[arg(long)]
        allow_everyone_if_no_acl_found: bool,
        /// Follow each answer with a tab and the reason.
        #[arg(long)]
        explain: bool,
    },
    /// Print, as JSON, what `kafka-acls.sh ARGS…` would create, delete or list.
    #[command(name = "kafka-acls", disable_help_flag = true)]
    KafkaAcls {
        /// The arguments, exactly as given to kafka-acls.sh.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<String>,
    },
    /// Report ACLs shadowed by a DENY or made redundant by a broader ACL (exit 1 if any).
    Lint {
        /// A JSON array of bindings.
        file: PathBuf,
    },
    /// Each class of (principal, host): ALLOWED or DENIED for OPERATION on RESOURCE_TYPE NAME, and why.
    WhoCan {
        /// The operation, such as READ.
        operation: String,
        /// The resource type, such as TOPIC.
        resource_type: String,
        /// The resource name.
        name: String,
        /// A JSON array of bindings.
        #[arg(long)]
        acls: PathBuf,
        /// `super.users`, such as 'User:a;User:b'.
        #[arg(long)]
        super_users: Option<String>,
        /// `allow.everyone.if.no.acl.found=true`.
        #[arg(long)]
        allow_everyone_if_no_acl_found: bool,
    },
    /// Print the bindings added (+) and removed (-) between two ACL files.
    Diff {
        /// The old JSON array of bindings.
        old: PathBuf,
        /// The new JSON array of bindings.
        new: PathBuf,
    },
}

/// Runs one `underhood acl` command.
pub(crate) fn run(command: AclCommand) -> Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let code = match command {
        AclCommand::Eval {
            acls,
            super_users,
            allow_everyone_if_no_acl_found,
            explain,
        } => {
            let config = config(super_users.as_deref(), allow_everyone_if_no_acl_found)?;
            let authorizer = load(&acls, config)?;
            let mut stdin = io::stdin().lock();
            for n in 0.. {
                // One request at a time, each line at most --max-input-bytes long.
                let Some(line) = read_line_limited(&mut stdin, n + 1)? else {
                    break;
                };
                if line.trim().is_empty() {
                    continue;
                }
                let decision = evaluate(&authorizer, &line)
                    .with_context(|| format!("request on line {}", n + 1))?;
                if explain {
                    writeln!(out, "{}\t{}", decision.result, decision.reason)?;
                } else {
                    writeln!(out, "{}", decision.result)?;
                }
            }
            ExitCode::SUCCESS
        }
        AclCommand::KafkaAcls { args } => match kafka_acls::parse(&args) {
            Ok(command) => {
                writeln!(out, "{}", kafka_acls_json(&command))?;
                ExitCode::SUCCESS
            }
            Err(err) => {
                out.flush()?;
                eprintln!("{err}");
                ExitCode::from(FOUND)
            }
        },
        AclCommand::Lint { file } => {
            // Bindings `eval` would refuse (UNKNOWN parts, empty names) are refused here too.
            load(&file, AuthorizerConfig::default())?;
            let findings = underhood_acl_model::lint(&read_bindings(&file)?);
            for finding in &findings {
                writeln!(out, "{finding}")?;
            }
            if findings.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(FOUND)
            }
        }
        AclCommand::WhoCan {
            operation,
            resource_type,
            name,
            acls,
            super_users,
            allow_everyone_if_no_acl_found,
        } => {
            let config = config(super_users.as_deref(), allow_everyone_if_no_acl_found)?;
            let authorizer = load(&acls, config)?;
            let operation = match AclOperation::from_name(&operation) {
                AclOperation::Unknown | AclOperation::Any => bail!(
                    "unknown operation {operation:?}; expected one of {}",
                    names(
                        AclOperation::VALUES
                            .iter()
                            .filter(|o| !matches!(o, AclOperation::Unknown | AclOperation::Any))
                            .map(|o| o.name())
                    )
                ),
                known => known,
            };
            let resource_type = match ResourceType::from_name(&resource_type) {
                ResourceType::Unknown | ResourceType::Any => bail!(
                    "unknown resource type {resource_type:?}; expected one of {}",
                    names(
                        ResourceType::VALUES
                            .iter()
                            .filter(|t| !matches!(t, ResourceType::Unknown | ResourceType::Any))
                            .map(|t| t.name())
                    )
                ),
                known => known,
            };
            let resource = Resource::new(resource_type, name)?;
            // `*` stands for every principal (host) that no other line names.
            for access in underhood_acl_model::who_can(&authorizer, operation, &resource) {
                let Decision { result, reason } = access.decision;
                writeln!(
                    out,
                    "{result}\t{}\t{}\t{reason}",
                    access.principal, access.host
                )?;
            }
            ExitCode::SUCCESS
        }
        AclCommand::Diff { old, new } => {
            let diff = underhood_acl_model::diff(&read_bindings(&old)?, &read_bindings(&new)?);
            for binding in &diff.removed {
                writeln!(out, "-\t{binding}")?;
            }
            for binding in &diff.added {
                writeln!(out, "+\t{binding}")?;
            }
            ExitCode::SUCCESS
        }
    };
    out.flush()?;
    Ok(code)
}

fn config(super_users: Option<&str>, allow_everyone: bool) -> Result<AuthorizerConfig> {
    let mut config = AuthorizerConfig::default();
    if let Some(users) = super_users {
        config = config.with_super_users(users).context("--super-users")?;
    }
    if allow_everyone {
        config = config.allowing_everyone_if_no_acl_found();
    }
    Ok(config)
}

fn read_bindings(path: &Path) -> Result<Vec<AclBinding>> {
    let text = read_limited_text(path)?;
    json::parse_bindings(&text).with_context(|| format!("in {}", path.display()))
}

/// Loads the file as KRaft loads ACLs: a binding it refuses names itself in the error.
fn load(path: &Path, config: AuthorizerConfig) -> Result<Authorizer> {
    let text = read_limited_text(path)?;
    json::load_authorizer(&text, config).with_context(|| format!("in {}", path.display()))
}

fn evaluate(authorizer: &Authorizer, line: &str) -> Result<Decision> {
    Ok(match json::parse_request(line)? {
        Request::Authorize {
            principal,
            host,
            operation,
            resource,
        } => authorizer.explain(&principal, &host, operation, &resource),
        Request::ByResourceType {
            principal,
            host,
            operation,
            resource_type,
        } => authorizer.authorize_by_resource_type(&principal, &host, operation, resource_type)?,
    })
}

/// Sorted by their compact JSON text (keys sorted), so the order is reproducible from the output.
fn sorted(values: impl Iterator<Item = serde_json::Value>) -> Vec<serde_json::Value> {
    let mut values: Vec<_> = values.map(|v| (v.to_string(), v)).collect();
    values.sort_by(|a, b| a.0.cmp(&b.0));
    values.into_iter().map(|(_, v)| v).collect()
}

fn kafka_acls_json(command: &kafka_acls::Command) -> serde_json::Value {
    use serde_json::json;
    match command {
        kafka_acls::Command::Add { bindings } => json!({
            "action": "add",
            "bindings": sorted(bindings.iter().map(json::binding_to_json)),
        }),
        kafka_acls::Command::Remove {
            confirm_prompt,
            filters,
        } => json!({
            "action": "remove",
            "confirm_prompt": confirm_prompt,
            "filters": sorted(filters.iter().map(json::filter_to_json)),
        }),
        kafka_acls::Command::List {
            filters,
            principals,
        } => json!({
            "action": "list",
            "filters": sorted(filters.iter().map(json::filter_to_json)),
            "principals": principals.iter().map(ToString::to_string).collect::<Vec<_>>(),
        }),
    }
}

/// `A, B, C` for an error message.
fn names<'a>(list: impl Iterator<Item = &'a str>) -> String {
    list.collect::<Vec<_>>().join(", ")
}
