//! Host collection from `/proc`, `/sys`, `/etc` and a few syscalls.
//!
//! Parsers are pure functions over file contents in the submodules; [`HostCollector`] reads
//! the files below a root directory (normally `/`) so tests can point it at a fixture tree.
//! Collection is best effort: a missing or unreadable source leaves its part empty instead of
//! failing the whole report.

pub mod cpu;
pub mod disk;
pub mod diskio;
pub mod memory;
pub mod net;
pub mod sensors;
pub mod system;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::report::{round2, Disk, DiskIo, HostInfo, Metrics, NetworkInterface, Sensors};

/// Length of the CPU sample taken when there is no previous one to compare against.
pub const FIRST_CPU_SAMPLE: Duration = Duration::from_millis(200);

/// Everything the host report needs from the machine, gathered at one point in time.
#[derive(Debug, Clone, PartialEq)]
pub struct HostSample {
    /// Identity and static facts.
    pub info: HostInfo,
    /// CPU and memory.
    pub metrics: Metrics,
    /// Mounted filesystems.
    pub disks: Vec<Disk>,
    /// Whole-disk I/O counters.
    pub disk_io: Vec<DiskIo>,
    /// Network interfaces.
    pub network: Vec<NetworkInterface>,
    /// Temperatures.
    pub sensors: Sensors,
}

/// Facts that do not change while the agent runs, read once.
#[derive(Debug, Clone, Default)]
struct StaticFacts {
    machine_id: String,
    os_name: String,
    os_version: String,
    kernel: String,
    arch: String,
    cpu_model: String,
}

/// Collects host samples, remembering the previous CPU counters between calls so the CPU
/// figure covers the whole interval since the last report.
#[derive(Debug)]
pub struct HostCollector {
    root: PathBuf,
    hostname_override: Option<String>,
    first_sample: Duration,
    prev_cpu: Option<cpu::CpuTimes>,
    facts: Option<StaticFacts>,
}

impl HostCollector {
    /// A collector reading below `root`; `hostname_override` replaces the kernel hostname.
    pub fn new(root: impl Into<PathBuf>, hostname_override: Option<String>) -> Self {
        Self {
            root: root.into(),
            hostname_override,
            first_sample: FIRST_CPU_SAMPLE,
            prev_cpu: None,
            facts: None,
        }
    }

    /// Changes how long the first CPU sample lasts (tests use a short one).
    pub fn with_first_sample(mut self, d: Duration) -> Self {
        self.first_sample = d;
        self
    }

    fn read(&self, rel: &str) -> Option<String> {
        std::fs::read_to_string(self.root.join(rel)).ok()
    }

    /// Hostname: the override, else the kernel's (`/proc/sys/kernel/hostname`), else uname.
    pub fn hostname(&self) -> String {
        if let Some(h) = &self.hostname_override {
            return h.clone();
        }
        self.read("proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| system::uname().nodename)
    }

    /// Contents of `/etc/machine-id` (or the D-Bus copy), empty if neither exists.
    pub fn machine_id(&mut self) -> String {
        self.facts().machine_id.clone()
    }

    fn facts(&mut self) -> &StaticFacts {
        if self.facts.is_none() {
            let uts = system::uname();
            let os = self
                .read("etc/os-release")
                .or_else(|| self.read("usr/lib/os-release"))
                .map(|t| system::parse_os_release(&t))
                .unwrap_or_default();
            let kernel = self
                .read("proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .unwrap_or(uts.release);
            self.facts = Some(StaticFacts {
                machine_id: self
                    .read("etc/machine-id")
                    .or_else(|| self.read("var/lib/dbus/machine-id"))
                    .map(|s| s.trim().to_string())
                    .unwrap_or_default(),
                os_name: os.name,
                os_version: os.version_id,
                kernel,
                arch: uts.machine,
                cpu_model: self
                    .read("proc/cpuinfo")
                    .map(|t| cpu::parse_model(&t))
                    .unwrap_or_default(),
            });
        }
        self.facts.get_or_insert_with(StaticFacts::default)
    }

    /// CPU usage since the previous call; the first call samples for `first_sample`.
    fn cpu(&mut self) -> (f64, u32) {
        let sample = |c: &Self| c.read("proc/stat").and_then(|t| cpu::parse_stat(&t));
        let Some((mut cur, mut count)) = sample(self) else {
            return (0.0, 0);
        };
        let prev = match self.prev_cpu {
            Some(prev) => prev,
            None => {
                std::thread::sleep(self.first_sample);
                let first = cur;
                if let Some((t, n)) = sample(self) {
                    (cur, count) = (t, n);
                }
                first
            }
        };
        self.prev_cpu = Some(cur);
        (round2(cpu::usage_percent(prev, cur)), count)
    }

    /// Collects one sample.
    pub fn collect(&mut self) -> HostSample {
        let (cpu_percent, cpu_count) = self.cpu();
        let cpu_count = if cpu_count > 0 {
            cpu_count
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
        };
        let hostname = self.hostname();
        let facts = self.facts().clone();
        let root: &Path = &self.root;
        let info = HostInfo {
            id: None,
            hostname,
            machine_id: facts.machine_id,
            platform: "linux".into(),
            os_name: facts.os_name,
            os_version: facts.os_version,
            kernel_version: facts.kernel,
            architecture: facts.arch,
            cpu_model: facts.cpu_model,
            cpu_count,
            uptime_seconds: self
                .read("proc/uptime")
                .and_then(|t| system::parse_uptime(&t))
                .unwrap_or(0),
            load_average: self
                .read("proc/loadavg")
                .and_then(|t| system::parse_loadavg(&t))
                .unwrap_or_default(),
        };
        let memory = self
            .read("proc/meminfo")
            .and_then(|t| memory::parse_meminfo(&t))
            .unwrap_or_default();
        HostSample {
            info,
            metrics: Metrics {
                cpu_usage_percent: cpu_percent,
                memory,
            },
            disks: disk::collect(root),
            disk_io: diskio::collect(root),
            network: net::collect(root, &net::interface_addresses()),
            sensors: Sensors {
                temperature_celsius: sensors::collect(root),
            },
        }
    }
}
