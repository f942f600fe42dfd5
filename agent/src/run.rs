//! The agent loop: collect, send, wait; with jitter, backoff and prompt shutdown.
//!
//! Reports are never buffered: a report that fails is dropped and the next cycle collects a
//! fresh one, so a long outage costs memory nothing and the server never sees stale data.

use std::time::{Duration, Instant, SystemTime};

use crate::cli::{Config, DockerMode};
use crate::docker::{self, DockerCollector};
use crate::host::{HostCollector, HostSample};
use crate::report::{AgentInfo, DockerAgentInfo, DockerReport, HostReport, AGENT_TYPE};
use crate::send::{SendError, Sender, DOCKER_REPORT_PATH, HOST_REPORT_PATH};
use crate::signal;
use crate::time::format_rfc3339;

/// Longest wait between attempts while the server is unreachable (unless the interval is longer).
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Granularity of sleeps, so a stop signal is honoured promptly.
const SLEEP_SLICE: Duration = Duration::from_millis(100);

/// Writes one log line to stderr: RFC 3339 time, level, message.
pub fn log(level: &str, msg: &str) {
    eprintln!("{} {level} {msg}", format_rfc3339(SystemTime::now()));
}

/// Delay before the next attempt after `failures` consecutive retryable failures:
/// the interval, doubling per further failure, capped at [`MAX_BACKOFF`] (or the interval).
pub fn backoff_delay(interval: Duration, failures: u32) -> Duration {
    let cap = MAX_BACKOFF.max(interval);
    let factor = 1u32
        .checked_shl(failures.saturating_sub(1))
        .unwrap_or(u32::MAX);
    interval.checked_mul(factor).map_or(cap, |d| d.min(cap))
}

/// A small xorshift generator for jitter; no cryptographic use.
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    /// Seeds from the clock and process id so agents started together spread out.
    pub fn from_entropy() -> Self {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Self::with_seed(nanos ^ (u64::from(std::process::id()) << 32))
    }

    /// A generator with a fixed seed (tests).
    pub fn with_seed(seed: u64) -> Self {
        Self(seed | 1)
    }

    fn next_unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `d` scaled by a random factor in [0.9, 1.1).
    pub fn apply(&mut self, d: Duration) -> Duration {
        d.mul_f64(0.9 + 0.2 * self.next_unit())
    }
}

/// Sleeps up to `d` in small slices; returns `true` if a stop signal arrived.
pub fn sleep_unless_stopped(d: Duration) -> bool {
    let end = Instant::now() + d;
    loop {
        if signal::stop_requested() {
            return true;
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        std::thread::sleep(left.min(SLEEP_SLICE));
    }
}

/// Why a cycle did not deliver everything it should have.
#[derive(Debug)]
pub struct CycleError {
    /// What went wrong, for the log.
    pub message: String,
    /// Whether the server looked down, so the loop should back off.
    pub retryable: bool,
}

impl From<SendError> for CycleError {
    fn from(e: SendError) -> Self {
        Self {
            retryable: e.is_retryable(),
            message: e.to_string(),
        }
    }
}

/// Builds the host report from a sample.
pub fn host_report(sample: HostSample, agent_id: &str, interval: Duration) -> HostReport {
    HostReport {
        agent: AgentInfo {
            id: agent_id.to_string(),
            version: crate::VERSION.to_string(),
            kind: AGENT_TYPE.to_string(),
            interval_seconds: interval.as_secs(),
            hostname: sample.info.hostname.clone(),
        },
        host: sample.info,
        metrics: sample.metrics,
        disks: sample.disks,
        disk_io: sample.disk_io,
        network: sample.network,
        sensors: sample.sensors,
        tags: Vec::new(),
        timestamp: format_rfc3339(SystemTime::now()),
    }
}

/// Stable agent id: the machine id, or the hostname on machines without one.
fn agent_id(host: &mut HostCollector) -> String {
    let id = host.machine_id();
    if id.is_empty() {
        host.hostname()
    } else {
        id
    }
}

/// The running agent: collectors and sender for one configuration.
#[derive(Debug)]
pub struct Agent {
    config: Config,
    host: HostCollector,
    docker: Option<DockerCollector>,
    sender: Sender,
    /// Last Docker problem logged in auto mode, so a persistent one is logged once.
    docker_warning: Option<String>,
}

impl Agent {
    /// Sets the agent up; fails if TLS cannot be configured or `--docker on` finds no socket.
    pub fn new(config: Config) -> Result<Self, String> {
        let sender =
            Sender::new(&config.url, &config.token, config.insecure).map_err(|e| e.to_string())?;
        let docker = match config.docker {
            DockerMode::Off => None,
            DockerMode::Auto | DockerMode::On => Some(DockerCollector::new(&config.docker_socket)),
        };
        if config.docker == DockerMode::On
            && !docker.as_ref().is_some_and(DockerCollector::socket_exists)
        {
            return Err(format!(
                "--docker on: Docker socket {} not found (use --docker-socket or --docker auto)",
                config.docker_socket.display()
            ));
        }
        Ok(Self {
            host: HostCollector::new("/", config.hostname.clone()),
            config,
            docker,
            sender,
            docker_warning: None,
        })
    }

    /// One cycle: collect and send the host report, then the Docker report when enabled.
    ///
    /// With `--docker auto` a missing socket is skipped silently and a failing daemon is only
    /// logged; with `--docker on` a failing daemon fails the cycle.
    pub fn cycle(&mut self) -> Result<(), CycleError> {
        let sample = self.host.collect();
        let id = agent_id(&mut self.host);
        let interval = self.config.interval;
        // Docker is collected before the sample moves into the host report, but a Docker
        // failure must not hold back the host report.
        let docker_report = self.collect_docker(&sample, &id);
        self.sender
            .post(HOST_REPORT_PATH, &host_report(sample, &id, interval))?;
        if let Some(report) = docker_report? {
            self.sender.post(DOCKER_REPORT_PATH, &report)?;
        }
        Ok(())
    }

    fn collect_docker(
        &mut self,
        sample: &HostSample,
        id: &str,
    ) -> Result<Option<DockerReport>, CycleError> {
        let mode = self.config.docker;
        let Some(collector) = self.docker.as_mut() else {
            return Ok(None);
        };
        if mode == DockerMode::Auto && !collector.socket_exists() {
            return Ok(None);
        }
        let result = collector.collect();
        if result.is_ok() && self.docker_warning.take().is_some() {
            log("info", "Docker reachable again");
        }
        match result {
            Ok(snapshot) => Ok(Some(DockerReport {
                agent: DockerAgentInfo {
                    id: id.to_string(),
                    version: crate::VERSION.to_string(),
                    kind: AGENT_TYPE.to_string(),
                    interval_seconds: self.config.interval.as_secs(),
                },
                host: docker::docker_host(&snapshot, sample),
                containers: snapshot.containers,
                timestamp: format_rfc3339(SystemTime::now()),
            })),
            Err(e) if mode == DockerMode::Auto => {
                let message = e.to_string();
                if self.docker_warning.as_deref() != Some(message.as_str()) {
                    log(
                        "warn",
                        &format!("skipping Docker until it answers: {message}"),
                    );
                    self.docker_warning = Some(message);
                }
                Ok(None)
            }
            Err(e) => Err(CycleError {
                message: format!("Docker: {e}"),
                retryable: false,
            }),
        }
    }

    /// Runs until a stop signal (or after one cycle with `--once`); returns the exit code.
    pub fn run(&mut self) -> i32 {
        let mut jitter = Jitter::from_entropy();
        let mut failures = 0u32;
        loop {
            let wait = match self.cycle() {
                Ok(()) => {
                    if self.config.once {
                        return 0;
                    }
                    if failures > 0 {
                        log("info", "reports delivered again");
                    }
                    failures = 0;
                    self.config.interval
                }
                Err(e) => {
                    log("error", &format!("report not delivered: {}", e.message));
                    if self.config.once {
                        return 1;
                    }
                    if e.retryable {
                        failures = failures.saturating_add(1);
                        backoff_delay(self.config.interval, failures)
                    } else {
                        self.config.interval
                    }
                }
            };
            if sleep_unless_stopped(jitter.apply(wait)) {
                log("info", "stop signal received, exiting");
                return 0;
            }
        }
    }
}

/// Sets up and runs the agent for `config`; returns the process exit code.
pub fn run(config: Config) -> i32 {
    signal::install();
    let once = config.once;
    let mut agent = match Agent::new(config) {
        Ok(a) => a,
        Err(e) => {
            log("error", &e);
            return 1;
        }
    };
    if !once {
        log(
            "info",
            &format!(
                "pulse-agent {} reporting to {} every {}s",
                crate::VERSION,
                agent.config.url,
                agent.config.interval.as_secs()
            ),
        );
    }
    agent.run()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_exponentially_up_to_the_cap() {
        let i = Duration::from_secs(30);
        let delays: Vec<u64> = (1..=6).map(|n| backoff_delay(i, n).as_secs()).collect();
        assert_eq!(delays, [30, 60, 120, 240, 300, 300]);
        assert_eq!(backoff_delay(i, 1000), MAX_BACKOFF);
        // An interval longer than the cap is never shortened.
        assert_eq!(
            backoff_delay(Duration::from_secs(600), 3),
            Duration::from_secs(600)
        );
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        let mut j = Jitter::with_seed(42);
        let base = Duration::from_secs(30);
        let samples: Vec<Duration> = (0..1000).map(|_| j.apply(base)).collect();
        assert!(samples
            .iter()
            .all(|d| *d >= Duration::from_secs(27) && *d < Duration::from_secs(33)));
        let spread = samples.iter().max().copied().unwrap_or_default()
            - samples.iter().min().copied().unwrap_or_default();
        assert!(
            spread > Duration::from_secs(5),
            "jitter should spread: {spread:?}"
        );
    }
}
