// What the dashboard knows about resources: which page shows which type, the friendly kind of a
// resource ("PVE node", "LXC", "ZFS pool"…), source labels, and the derived values that search,
// filters and sorting use. Pure functions; derived values are cached per resource object (objects
// are immutable, so a changed resource is a new object and gets fresh values).

/** The three resource pages, by task. */
export const PAGES = {
  infrastructure: {
    title: "Infrastructure",
    blurb: "Hosts, Proxmox nodes, backup and mail appliances, TrueNAS systems, Docker hosts and Kubernetes clusters.",
    types: new Set(["agent", "pbs", "pmg", "k8s-cluster", "k8s-node"]),
    empty: "Nothing is monitored yet. Add a Proxmox or TrueNAS endpoint in Settings, or run pulse-agent on a host.",
  },
  workloads: {
    title: "Workloads",
    blurb: "Virtual machines, LXC containers, Docker and TrueNAS app containers, Swarm services, Kubernetes pods and deployments.",
    types: new Set(["vm", "system-container", "app-container", "docker-service", "pod", "k8s-deployment"]),
    empty: "No workloads yet. They appear as soon as a Proxmox endpoint or a Docker/Kubernetes agent reports.",
  },
  storage: {
    title: "Storage",
    blurb: "Proxmox storage, ZFS pools and datasets, Proxmox Backup Server datastores, Ceph and disks.",
    types: new Set(["storage", "physical_disk", "ceph"]),
    empty: "No storage yet. It appears once a Proxmox, PBS or TrueNAS endpoint is added in Settings.",
  },
};

/** Sources in display order, with their badge labels. */
export const SOURCES = [
  ["proxmox", "PVE"], ["pbs", "PBS"], ["pmg", "PMG"], ["truenas", "TrueNAS"],
  ["agent", "Agent"], ["docker", "Docker"], ["kubernetes", "K8s"],
];
export const SOURCE_LABEL = Object.fromEntries(SOURCES);

/** Statuses, worst first, with the words shown for them. */
export const STATUSES = [
  ["offline", "Offline"], ["warning", "Warning"], ["unknown", "Unknown"], ["online", "Online"],
];
const STATUS_RANK = { offline: 0, warning: 1, unknown: 2, online: 3 };

const STORAGE_KINDS = {
  "pve-storage": "PVE storage",
  "pbs-datastore": "PBS datastore",
  "zfs-pool": "ZFS pool",
  pool: "ZFS pool",
  "zfs-dataset": "ZFS dataset",
  dataset: "ZFS dataset",
};

/** The friendly kind of a resource. */
export function kindOf(r) {
  const has = (s) => (r.sources || []).includes(s);
  switch (r.type) {
    case "agent":
      if (r.proxmox) return "PVE node";
      if (r.truenas || has("truenas")) return "TrueNAS";
      if (r.docker || has("docker")) return "Docker host";
      return "Host";
    case "pbs": return "Backup server";
    case "pmg": return "Mail gateway";
    case "k8s-cluster": return "K8s cluster";
    case "k8s-node": return "K8s node";
    case "vm": return "VM";
    case "system-container": return "LXC";
    case "app-container": return r.truenas || has("truenas") ? "TrueNAS app" : "Container";
    case "docker-service": return "Swarm service";
    case "pod": return "Pod";
    case "k8s-deployment": return "Deployment";
    case "storage": {
      const k = r.storage && r.storage.kind;
      return STORAGE_KINDS[k] || (has("truenas") ? "ZFS pool" : "Storage");
    }
    case "physical_disk": return "Disk";
    case "ceph": return "Ceph";
    default: return r.type || "Resource";
  }
}

/** Percent of a metric ({percent} or {used,total} or a percent `value`), or null. */
export function percentOf(m) {
  if (!m) return null;
  if (typeof m.percent === "number") return m.percent;
  if (typeof m.used === "number" && typeof m.total === "number" && m.total > 0) return (m.used / m.total) * 100;
  if (m.unit === "percent" && typeof m.value === "number") return m.value;
  return null;
}

const valueOf = (m) => (m && typeof m.value === "number" ? m.value : null);

const derivedCache = new WeakMap();

/** Values derived from a resource for display, search, filters and sorting (cached). */
export function derive(r) {
  let d = derivedCache.get(r);
  if (d) return d;
  const m = r.metrics || {};
  const identity = r.identity || {};
  const kind = kindOf(r);
  const netIn = valueOf(m.netIn);
  const netOut = valueOf(m.netOut);
  const facet = r.proxmox || r.docker || r.kubernetes || r.truenas || r.pbs || r.pmg || {};
  const words = [
    r.name, r.id, kind, r.status, ...(r.tags || []), ...(r.sources || []),
    ...(identity.hostnames || []), ...(identity.ipAddresses || []),
    facet.node, facet.vmid, facet.image, facet.namespace, facet.instance,
  ];
  d = {
    kind,
    nameKey: (r.name || "").toLowerCase(),
    search: words.filter((w) => w !== undefined && w !== null).join(" ").toLowerCase(),
    statusRank: STATUS_RANK[r.status] ?? 2,
    cpu: percentOf(m.cpu),
    memory: percentOf(m.memory),
    disk: percentOf(m.disk),
    net: netIn === null && netOut === null ? null : (netIn || 0) + (netOut || 0),
    uptime: typeof r.uptime === "number" ? r.uptime : null,
    lastSeen: r.lastSeen ? Date.parse(r.lastSeen) : 0,
    tagsKey: (r.tags || []).join("\u0000"),
    sourcesKey: (r.sources || []).join(","),
  };
  derivedCache.set(r, d);
  return d;
}

/** Sort keys offered by the resource tables. */
export const SORT_KEYS = {
  name: (r, d) => d.nameKey,
  status: (r, d) => d.statusRank,
  kind: (r, d) => d.kind,
  cpu: (r, d) => d.cpu,
  memory: (r, d) => d.memory,
  disk: (r, d) => d.disk,
  net: (r, d) => d.net,
  uptime: (r, d) => d.uptime,
  lastSeen: (r, d) => d.lastSeen,
};

/** A comparator for `sort = {key, dir}`; missing values sort last; ties by name, then id. */
export function comparator(sort) {
  const key = SORT_KEYS[sort.key] || SORT_KEYS.name;
  const sign = sort.dir === "desc" ? -1 : 1;
  return (a, b) => {
    const da = derive(a);
    const db = derive(b);
    const va = key(a, da);
    const vb = key(b, db);
    if (va !== vb) {
      if (va === null || va === undefined) return 1;
      if (vb === null || vb === undefined) return -1;
      return (va < vb ? -1 : 1) * sign;
    }
    if (da.nameKey !== db.nameKey) return da.nameKey < db.nameKey ? -1 : 1;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}

/** An empty filter set. */
export const noFilters = () => ({ q: "", sources: [], statuses: [], kinds: [], tags: [] });

/** A predicate for `filters`: every chosen dimension must match (any value within one). */
export function matcher(filters) {
  const q = filters.q.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const sources = new Set(filters.sources);
  const statuses = new Set(filters.statuses);
  const kinds = new Set(filters.kinds);
  const tags = new Set(filters.tags);
  return (r) => {
    const d = derive(r);
    if (statuses.size && !statuses.has(r.status)) return false;
    if (kinds.size && !kinds.has(d.kind)) return false;
    if (sources.size && !(r.sources || []).some((s) => sources.has(s))) return false;
    if (tags.size && !(r.tags || []).some((t) => tags.has(t))) return false;
    for (const word of q) if (!d.search.includes(word)) return false;
    return true;
  };
}

/**
 * Readable names for connection-health keys ("agent:<machine id>", "kubernetes:<cluster id>",
 * "pve:<endpoint>"): the source's label and the name of the resource it reports, when known.
 */
export function healthLabels(keys, resources) {
  const wanted = new Set(keys.map((k) => k.slice(k.indexOf(":") + 1)));
  const names = new Map();
  for (const r of resources.values()) {
    const ids = [r.identity && r.identity.machineId, r.agent && r.agent.agentId, r.type === "k8s-cluster" && r.kubernetes && r.kubernetes.clusterId];
    for (const id of ids) if (id && wanted.has(id) && !names.has(id)) names.set(id, r.name);
  }
  return new Map(keys.map((k) => {
    const at = k.indexOf(":");
    const source = at > 0 ? k.slice(0, at) : "";
    const rest = at > 0 ? k.slice(at + 1) : k;
    const label = SOURCE_LABEL[source] || source;
    return [k, names.has(rest) ? `${label} · ${names.get(rest)}` : label ? `${label} · ${rest}` : k];
  }));
}
