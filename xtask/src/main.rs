//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! - `cargo xtask codegen [--check]`: typed GraphQL operations for the `attendium` crate.
//! - `cargo xtask schema pull --endpoint URL [--token TOKEN] [--out FILE]`: the Attendium
//!   GraphQL schema, read by introspection, as SDL.
//!
//! This crate deliberately does not depend on `attendium`: the generator must build even
//! when the generated code it is about to fix does not.

// A command-line tool reports on stdout and stderr by design.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod codegen;
mod error;
mod introspection;
mod root;
mod schema_pull;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::Error;

/// Project automation for attend-rs.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The workspace to work on [default: the one `cargo xtask` runs in, or the one
    /// containing the current directory].
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate the typed GraphQL operations in crates/attendium/src/generated/ from
    /// schemas/attendium.graphql and schemas/operations/*.graphql.
    Codegen {
        /// Change nothing; fail if any generated file is stale, missing or extra.
        #[arg(long)]
        check: bool,
    },
    /// Work with the GraphQL schema in schemas/.
    Schema {
        #[command(subcommand)]
        command: SchemaCommand,
    },
}

#[derive(Debug, Subcommand)]
enum SchemaCommand {
    /// Read the schema from a GraphQL endpoint by introspection and write it as SDL.
    Pull {
        /// The GraphQL endpoint, such as <https://api.attendium.com/graphql>.
        #[arg(long)]
        endpoint: String,
        /// Bearer token to send (prefer the environment variable: command lines are
        /// visible to other users of the machine).
        #[arg(long, env = "ATTENDIUM_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Where to write the SDL [default: schemas/attendium.graphql in the workspace].
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = std::env::current_dir()
        .map_err(|e| Error::io(Path::new("."), e))
        .and_then(|cwd| root::find(cli.root, std::env::var_os(root::MANIFEST_DIR_VAR), &cwd))
        .and_then(|root| run(&root, cli.command));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        // Exit 2 for a bad command line, as clap does for its own errors.
        Err(err @ Error::Usage(_)) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(root: &Path, command: Command) -> Result<(), Error> {
    match command {
        Command::Codegen { check: true } => {
            codegen::check(root)?;
            println!("generated code is up to date");
            Ok(())
        }
        Command::Codegen { check: false } => {
            let files = codegen::generate(root)?;
            let changes = codegen::write(root, &files)?;
            if changes.is_empty() {
                println!("{} generated files, all up to date", files.len());
            } else {
                for change in &changes {
                    println!("{change}");
                }
                println!("{} generated files, {} changed", files.len(), changes.len());
            }
            Ok(())
        }
        Command::Schema {
            command:
                SchemaCommand::Pull {
                    endpoint,
                    token,
                    out,
                },
        } => {
            let endpoint = url::Url::parse(&endpoint)
                .map_err(|e| Error::Usage(format!("--endpoint: not a URL ({e})")))?;
            let token = token
                .filter(|t| !t.trim().is_empty())
                .map(|t| auth_core::AccessToken::new(t.trim()));
            let out = out.unwrap_or_else(|| root.join(codegen::SCHEMA));
            let transport = http_reqwest::ReqwestTransport::new().map_err(|e| Error::Pull {
                endpoint: auth_core::secure_url::display_url(&endpoint),
                reason: format!("cannot set up HTTP: {e}"),
            })?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| Error::Pull {
                    endpoint: auth_core::secure_url::display_url(&endpoint),
                    reason: format!("cannot start the async runtime: {e}"),
                })?;
            let sdl = runtime.block_on(schema_pull::pull(&transport, &endpoint, token.as_ref()))?;
            schema_pull::write(&out, &sdl)?;
            println!(
                "wrote {} ({} lines); now run: {}",
                out.display(),
                sdl.lines().count(),
                codegen::COMMAND
            );
            Ok(())
        }
    }
}
