//! PBS job health (reference §2 "job health evidence"): configured sync, verify and prune jobs and
//! the implicit garbage-collection and backup activity per datastore, each with the outcome of its
//! newest task. Pure: built from the job configs and the task history.

use serde::Serialize;

use super::types::{JobConfig, Task};

/// The kind of a PBS job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobFamily {
    /// Backups written to a datastore.
    Backup,
    /// Sync jobs (pull from a remote).
    Sync,
    /// Verification jobs.
    Verify,
    /// Prune jobs.
    Prune,
    /// Garbage collection of a datastore.
    Garbage,
}

impl JobFamily {
    /// The `worker_type` of this family's tasks.
    pub fn worker_type(self) -> &'static str {
        match self {
            JobFamily::Backup => "backup",
            JobFamily::Sync => "syncjob",
            JobFamily::Verify => "verificationjob",
            JobFamily::Prune => "prunejob",
            JobFamily::Garbage => "garbage_collection",
        }
    }
}

/// What is known about one job's health. Serialises with the upstream evidence field names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct JobHealth {
    /// Job id (the datastore for garbage collection and backups).
    pub id: String,
    /// Family.
    pub family: JobFamily,
    /// Local datastore.
    pub store: Option<String>,
    /// Remote (sync).
    pub remote: Option<String>,
    /// Namespace.
    pub namespace: Option<String>,
    /// Schedule.
    pub schedule: Option<String>,
    /// Whether the job is enabled.
    pub enabled: bool,
    /// `ok`, `warning`, `error`, `running`, or `None` when no task was found.
    pub last_run_state: Option<String>,
    /// Task id of the newest run.
    pub last_run_upid: Option<String>,
    /// End of the newest run (unix s).
    pub last_run_endtime: Option<i64>,
    /// Raw status text of the newest run.
    pub task_status: Option<String>,
    /// `high` (config and task agree), `medium` (task only), `low` (config only).
    pub confidence: &'static str,
    /// Where the evidence came from: `task-history` or `job-config`.
    pub evidence_source: &'static str,
}

impl JobHealth {
    /// Whether the newest run failed.
    pub fn failed(&self) -> bool {
        self.last_run_state.as_deref() == Some("error")
    }
}

/// The state word of a task: `running`, `ok`, `warning` or `error`.
pub fn task_state(task: &Task) -> &'static str {
    match task.status.as_deref() {
        None if task.endtime.is_none() => "running",
        Some("OK") => "ok",
        Some(s) if s.starts_with("WARNINGS") => "warning",
        _ => "error",
    }
}

/// The newest task matching `pred`.
fn newest(tasks: &[Task], pred: impl Fn(&Task) -> bool) -> Option<&Task> {
    tasks
        .iter()
        .filter(|t| pred(t))
        .max_by_key(|t| t.starttime.unwrap_or(0))
}

/// Job health for the configured jobs plus garbage collection and backups of every datastore.
pub fn job_health(
    configs: &[(JobFamily, Vec<JobConfig>)],
    tasks: &[Task],
    stores: &[String],
) -> Vec<JobHealth> {
    let mut jobs = Vec::new();
    for (family, list) in configs {
        for config in list {
            let task = newest(tasks, |t| {
                t.worker_type.as_deref() == Some(family.worker_type())
                    && t.worker_id.as_deref().and_then(|id| id.rsplit(':').next())
                        == Some(config.id.as_str())
            });
            jobs.push(health(
                config.id.clone(),
                *family,
                config.store.clone(),
                config,
                task,
            ));
        }
    }
    for store in stores {
        let gc = newest(tasks, |t| {
            t.worker_type.as_deref() == Some("garbage_collection")
                && t.worker_id.as_deref() == Some(store.as_str())
        });
        let backup = newest(tasks, |t| {
            t.worker_type.as_deref() == Some("backup")
                && t.worker_id.as_deref().and_then(|id| id.split(':').next())
                    == Some(store.as_str())
        });
        for (family, task) in [(JobFamily::Garbage, gc), (JobFamily::Backup, backup)] {
            if let Some(task) = task {
                jobs.push(task_only(store, family, task));
            }
        }
    }
    jobs
}

/// Health of a configured job with its newest task, if any.
fn health(
    id: String,
    family: JobFamily,
    store: Option<String>,
    config: &JobConfig,
    task: Option<&Task>,
) -> JobHealth {
    JobHealth {
        id,
        family,
        store,
        remote: config.remote.clone(),
        namespace: config.ns.clone().filter(|ns| !ns.is_empty()),
        schedule: config.schedule.clone(),
        enabled: !config.disable,
        last_run_state: task.map(|t| task_state(t).to_owned()),
        last_run_upid: task.map(|t| t.upid.clone()),
        last_run_endtime: task.and_then(|t| t.endtime),
        task_status: task.and_then(|t| t.status.clone()),
        confidence: if task.is_some() { "high" } else { "low" },
        evidence_source: if task.is_some() {
            "task-history"
        } else {
            "job-config"
        },
    }
}

/// Health of implicit per-datastore activity known only from a task.
fn task_only(store: &str, family: JobFamily, task: &Task) -> JobHealth {
    JobHealth {
        id: store.to_owned(),
        family,
        store: Some(store.to_owned()),
        remote: None,
        namespace: None,
        schedule: None,
        enabled: true,
        last_run_state: Some(task_state(task).to_owned()),
        last_run_upid: Some(task.upid.clone()),
        last_run_endtime: task.endtime,
        task_status: task.status.clone(),
        confidence: "medium",
        evidence_source: "task-history",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(kind: &str, id: &str, start: i64, status: Option<&str>) -> Task {
        Task {
            upid: format!("UPID:{kind}:{start}"),
            worker_type: Some(kind.into()),
            worker_id: Some(id.into()),
            starttime: Some(start),
            endtime: status.map(|_| start + 10),
            status: status.map(str::to_owned),
        }
    }

    fn config(id: &str, store: &str) -> JobConfig {
        JobConfig {
            id: id.into(),
            store: Some(store.into()),
            remote: None,
            ns: Some(String::new()),
            schedule: Some("daily".into()),
            disable: false,
        }
    }

    #[test]
    fn newest_task_decides_each_job() {
        let tasks = vec![
            task("verificationjob", "store1:v-1", 100, Some("OK")),
            task(
                "verificationjob",
                "store1:v-1",
                200,
                Some("verification failed"),
            ),
            task("syncjob", "remote:rs:store1::s-1", 150, Some("WARNINGS: 2")),
            task("garbage_collection", "store1", 50, None),
            task("backup", "store1:vm/100", 300, Some("OK")),
        ];
        let jobs = job_health(
            &[
                (JobFamily::Verify, vec![config("v-1", "store1")]),
                (JobFamily::Sync, vec![config("s-1", "store1")]),
                (JobFamily::Prune, vec![config("p-1", "store1")]),
            ],
            &tasks,
            &["store1".to_owned(), "store2".to_owned()],
        );
        let state = |id: &str, family: JobFamily| {
            jobs.iter()
                .find(|j| j.id == id && j.family == family)
                .map(|j| (j.last_run_state.clone(), j.confidence))
        };
        assert_eq!(
            state("v-1", JobFamily::Verify),
            Some((Some("error".into()), "high"))
        );
        assert_eq!(
            state("s-1", JobFamily::Sync),
            Some((Some("warning".into()), "high"))
        );
        assert_eq!(state("p-1", JobFamily::Prune), Some((None, "low")));
        assert_eq!(
            state("store1", JobFamily::Garbage),
            Some((Some("running".into()), "medium"))
        );
        assert_eq!(
            state("store1", JobFamily::Backup).map(|s| s.0),
            Some(Some("ok".into()))
        );
        assert_eq!(jobs.len(), 5);
        assert!(jobs.iter().any(JobHealth::failed));
        let json = serde_json::to_value(&jobs[0]).expect("json");
        assert_eq!(json["last-run-state"], "error");
        assert_eq!(json["family"], "verify");
    }
}
