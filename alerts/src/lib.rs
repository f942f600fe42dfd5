//! # pulse-alerts
//!
//! The pure core of Pulse's alert engine (SPEC §10): a reducer
//! [`next`]`(state, signal, config, now) → (state', events)` with no I/O, no clock reads and no
//! async. The engine actor owns an [`AlertState`], feeds it [`Signal`]s (registry observations,
//! a tick about once a second, operator actions, delivery confirmations), persists the state
//! when its [`AlertState::generation`] moved, appends the [`AlertEvent`]s to history and hands
//! [`AlertEvent::Notify`] intents to the notifier.
//!
//! ## Contract
//! - Saving the configuration emits nothing: adopt it with [`apply_config`].
//! - Every notified firing gets exactly one resolve notification; a firing that was never
//!   notified (still in its time delay or grouping window, held by quiet hours, flapping,
//!   cooldown or the hourly cap, or with notifications off) gets none.
//! - A group of N alerts is one `Notify` with N items, each with its own event id
//!   `<alertId>:<event>` (`fired-<n>`, `critical-<n>`, `resolved-<n>`,
//!   `escalated-<n>-<level>`, `<n>` identifying the firing), stable across retries and restarts.
//! - A restored state never notifies again what it already notified; [`Signal::Restarted`]
//!   re-emits only items never confirmed by [`Signal::Delivered`].
//!
//! ## What each rule reads from a [`pulse_model::Resource`]
//! | Rule (alert types) | Resource types | Fields |
//! |---|---|---|
//! | metric thresholds (`cpu`, `memory`, `disk`, `diskRead`, `diskWrite`, `networkIn`, `networkOut`, `temperature`, `usage`) | all with thresholds | `metrics.{cpu,memory,disk}.percent` (else `used/total`, else `value` in percent), `metrics.{diskRead,diskWrite,netIn,netOut}.value` (bytes/s, compared in MB/s), `temperature`; storage: `metrics.disk` as `usage`; disks: `temperature` or `physicalDisk.temperature`, threshold by `physicalDisk.type` |
//! | `connectivity`, `source-offline-<source>` | agent, pbs, pmg, k8s-cluster, k8s-node, storage without pool state | `status`, `sources`, `sourceStatus.<source>.status` |
//! | `powered-state` | vm, system-container | `status` |
//! | `docker-container-{state,health,oom-kill,restart-loop,memory-limit}` | app-container | `docker.{state, exitCode, health, oomKilled, restartCount, memoryUsageBytes, memoryLimitBytes}` |
//! | `docker-service-health` | docker-service | `docker.{desiredTasks, runningTasks}` |
//! | `zfs-pool-state`, `zfs-vdev-errors`, `zfs-scan-errors` | storage | `storage.{poolState \| health}` or `truenas.{poolState \| status}`; `readErrors`/`writeErrors`/`checksumErrors` or `vdevs[]`; `scan.{function, errors}` |
//! | `disk-health`, `disk-wearout` | physical_disk | `physicalDisk.{health, state, percentageUsed, wearout}` |
//! | `pbs-job-<id>` | any | `pbs.jobs[].{id, type, lastRunState, enabled}` |
//! | `backup-age` (off by default) | vm, system-container | `proxmox.lastBackup` or `pbs.lastBackup` |
//! | `native-<id>` | any | [`Signal::NativeAlerts`] |
//!
//! Alerts also copy `name` and `proxmox.{node, instance}`. Numbers may arrive as strings.

#![warn(missing_docs, clippy::missing_docs_in_private_items)]

mod alert;
mod defaults;
mod error;
mod event;
mod facet;
mod policy;
mod reducer;
mod rules;
mod signal;
mod state;
mod text;
mod validate;

pub use alert::{Alert, AlertKey, AlertLevel, AlertMetadata, MetricKind};
pub use error::AlertError;
pub use event::{AlertEvent, NotifyItem, NotifyKind, SuppressReason};
pub use reducer::{apply_config, next};
pub use rules::{
    AlertConfig, BackupRules, DelayConfig, DiskRules, DockerRules, EscalationConfig,
    EscalationLevel, EscalationTarget, FamilySwitches, FlappingConfig, GroupingConfig, NativeRules,
    NotificationPolicy, PbsJobRules, QuietHours, RecoveryConfig, ResourceOverride, RestartLoopRule,
    StorageRules, Threshold, ThresholdSet, Weekday,
};
pub use signal::{NativeAlert, Signal};
pub use state::AlertState;
