//! The command line (SPEC §2): `serve`, `demo`, `token create`, `admin reset-password`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Pulse: real-time monitoring for Proxmox, TrueNAS, Docker and Kubernetes fleets.
#[derive(Debug, Parser)]
#[command(name = "pulse", version, about, propagate_version = true)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The sub-commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Run the server with built-in simulators on loopback (temporary data dir unless given).
    Demo(ServeArgs),
    /// Manage API tokens offline (server stopped).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Local recovery commands.
    #[command(subcommand)]
    Admin(AdminCommand),
}

/// Flags shared by `serve` and `demo`; each overrides its `PULSE_*` variable and the file.
#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    /// Configuration file (TOML). Env: PULSE_CONFIG.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory. Env: PULSE_DATA_DIR. Default ./data (demo: a temporary directory).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Listen address. Env: PULSE_LISTEN. Default 0.0.0.0:7655.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
}

/// `pulse token ...`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token; stdout carries exactly the raw token.
    Create {
        /// Data directory of the (stopped) server.
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        /// A name to recognise the token by.
        #[arg(long)]
        name: String,
        /// Comma-separated scopes, e.g. monitoring:read,agent:report.
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
        /// Bind the token to this organisation.
        #[arg(long)]
        org: Option<String>,
    },
}

/// `pulse admin ...`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Set a new random password for a user and print it once.
    ResetPassword {
        /// Data directory of the (stopped) server.
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        /// The user whose password is reset.
        #[arg(long)]
        user: String,
    },
}
