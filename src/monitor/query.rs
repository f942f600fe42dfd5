//! Resource queries for `/api/resources`: filters, sort, pagination and aggregations.
//!
//! Pure functions over the registry's resources; the registry actor runs them so HTTP handlers never
//! hold state themselves.

use std::collections::BTreeMap;

use pulse_model::Resource;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Largest page a client may ask for.
pub const MAX_LIMIT: usize = 500;
/// Page size when the client does not say.
pub const DEFAULT_LIMIT: usize = 50;

/// Sort keys accepted by `sort=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// By display name (then id).
    #[default]
    Name,
    /// By status.
    Status,
    /// By resource type.
    Type,
    /// By last observation time.
    LastSeen,
}

/// A validated resource query.
#[derive(Debug, Clone, Default)]
pub struct ResourceQuery {
    /// Types to keep (any of).
    pub types: Vec<String>,
    /// Sources to keep (any of).
    pub sources: Vec<String>,
    /// Statuses to keep (any of).
    pub statuses: Vec<String>,
    /// Keep only children of this resource id.
    pub parent: Option<String>,
    /// Case-insensitive text search over name, id and hostnames.
    pub text: Option<String>,
    /// Tags that must all be present.
    pub tags: Vec<String>,
    /// 1-based page.
    pub page: usize,
    /// Page size, 1..=MAX_LIMIT.
    pub limit: usize,
    /// Sort key.
    pub sort: SortKey,
    /// Descending order when true.
    pub descending: bool,
}

/// The raw query string of `/api/resources`, before validation.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawResourceQuery {
    #[serde(rename = "type")]
    kind: Option<String>,
    source: Option<String>,
    status: Option<String>,
    parent: Option<String>,
    q: Option<String>,
    tags: Option<String>,
    page: Option<String>,
    limit: Option<String>,
    sort: Option<String>,
    order: Option<String>,
}

fn list(v: &Option<String>) -> Vec<String> {
    v.as_deref()
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn number(field: &str, v: &Option<String>, default: usize, max: usize) -> Result<usize> {
    match v.as_deref() {
        None | Some("") => Ok(default),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(Error::validation(
                field,
                format!("'{s}' is not a whole number from 1 to {max}"),
            )),
        },
    }
}

impl RawResourceQuery {
    /// Validates the query, naming the parameter and what is allowed on error.
    pub fn validate(self) -> Result<ResourceQuery> {
        if self.q.as_ref().is_some_and(|q| q.len() > 256) {
            return Err(Error::validation("q", "at most 256 characters"));
        }
        let sort = match self.sort.as_deref() {
            None | Some("") | Some("name") => SortKey::Name,
            Some("status") => SortKey::Status,
            Some("type") => SortKey::Type,
            Some("lastSeen") => SortKey::LastSeen,
            Some(other) => {
                return Err(Error::validation(
                    "sort",
                    format!("'{other}' is not one of name, status, type, lastSeen"),
                ))
            }
        };
        let descending = match self.order.as_deref() {
            None | Some("") | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(Error::validation(
                    "order",
                    format!("'{other}' is not one of asc, desc"),
                ))
            }
        };
        Ok(ResourceQuery {
            types: list(&self.kind),
            sources: list(&self.source),
            statuses: list(&self.status),
            parent: self.parent.filter(|p| !p.is_empty()),
            text: self.q.filter(|q| !q.is_empty()).map(|q| q.to_lowercase()),
            tags: list(&self.tags),
            page: number("page", &self.page, 1, 1_000_000)?,
            limit: number("limit", &self.limit, DEFAULT_LIMIT, MAX_LIMIT)?,
            sort,
            descending,
        })
    }
}

/// Counts of resources by type, status and source.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Aggregations {
    /// Number of resources counted.
    pub total: usize,
    /// Count per resource type.
    pub by_type: BTreeMap<&'static str, usize>,
    /// Count per status.
    pub by_status: BTreeMap<&'static str, usize>,
    /// Count per source (a resource with two sources counts for both).
    pub by_source: BTreeMap<&'static str, usize>,
}

impl Aggregations {
    /// Adds one resource to the counts.
    pub fn add(&mut self, r: &Resource) {
        self.total += 1;
        *self.by_type.entry(r.resource_type.as_str()).or_default() += 1;
        *self.by_status.entry(r.status.as_str()).or_default() += 1;
        for s in &r.sources {
            *self.by_source.entry(s.as_str()).or_default() += 1;
        }
    }

    /// Counts every resource of an iterator.
    pub fn of<'a>(resources: impl Iterator<Item = &'a Resource>) -> Self {
        let mut agg = Self::default();
        resources.for_each(|r| agg.add(r));
        agg
    }
}

/// Pagination facts of a page.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageMeta {
    /// 1-based page number.
    pub page: usize,
    /// Page size.
    pub limit: usize,
    /// Resources matching the filters.
    pub total: usize,
    /// Pages at this size.
    pub total_pages: usize,
}

/// The `/api/resources` reply.
#[derive(Debug, Clone, Serialize)]
pub struct ResourcePage {
    /// The resources of this page.
    pub data: Vec<Resource>,
    /// Pagination facts.
    pub meta: PageMeta,
    /// Counts over every resource matching the filters.
    pub aggregations: Aggregations,
}

fn matches(r: &Resource, q: &ResourceQuery) -> bool {
    (q.types.is_empty() || q.types.iter().any(|t| t == r.resource_type.as_str()))
        && (q.statuses.is_empty() || q.statuses.iter().any(|s| s == r.status.as_str()))
        && (q.sources.is_empty()
            || r.sources
                .iter()
                .any(|s| q.sources.iter().any(|x| x == s.as_str())))
        && q.parent
            .as_ref()
            .is_none_or(|p| r.parent_id.as_ref() == Some(p))
        && q.tags.iter().all(|t| r.tags.contains(t))
        && q.text.as_ref().is_none_or(|text| {
            r.name.to_lowercase().contains(text)
                || r.id.contains(text.as_str())
                || r.identity
                    .hostnames
                    .iter()
                    .any(|h| h.contains(text.as_str()))
        })
}

/// Runs a query over the resources.
pub fn run<'a>(resources: impl Iterator<Item = &'a Resource>, q: &ResourceQuery) -> ResourcePage {
    let mut hits: Vec<&Resource> = resources.filter(|r| matches(r, q)).collect();
    let aggregations = Aggregations::of(hits.iter().copied());
    hits.sort_by(|a, b| {
        let ord = match q.sort {
            SortKey::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            SortKey::Status => a.status.as_str().cmp(b.status.as_str()),
            SortKey::Type => a.resource_type.as_str().cmp(b.resource_type.as_str()),
            SortKey::LastSeen => a.last_seen.cmp(&b.last_seen),
        }
        .then_with(|| a.id.cmp(&b.id));
        if q.descending {
            ord.reverse()
        } else {
            ord
        }
    });
    let total = hits.len();
    let data = hits
        .into_iter()
        .skip((q.page - 1).saturating_mul(q.limit))
        .take(q.limit)
        .cloned()
        .collect();
    ResourcePage {
        data,
        meta: PageMeta {
            page: q.page,
            limit: q.limit,
            total,
            total_pages: total.div_ceil(q.limit),
        },
        aggregations,
    }
}
