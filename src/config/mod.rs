//! Typed configuration: defaults in one place ([`Settings::default`]), a TOML file whose unknown keys
//! are errors, the `PULSE_*` environment and command-line flags, layered with precedence
//! flags > environment > file > defaults. Every invalid value is an `Error::Config` naming the key,
//! the value and what is allowed; secrets never appear in `Debug` output.
//! `config/pulse.example.toml` documents every key.

mod cidr;
mod endpoint;
mod env;
mod file;
mod load;
mod parse;
mod secret;
mod settings;
mod url;

#[cfg(test)]
mod tests;

pub use cidr::Cidr;
pub(crate) use endpoint::{validate as validate_endpoint, RawEndpoint, RawMonitor};
pub use endpoint::{EndpointConfig, EndpointKind, MonitorFlags};
pub use load::CliOverrides;
pub use secret::Secret;
pub use settings::{
    HistorySettings, LogFormat, LogLevel, PollingSettings, RemoteWriteSettings, Settings,
    WsSettings,
};
pub use url::HttpUrl;
