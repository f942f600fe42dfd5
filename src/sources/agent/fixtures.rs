//! Realistic agent reports for tests, shaped like what `pulse-agent` and the upstream Go agents
//! send, including members Pulse does not read (they must be accepted and skipped).

/// A Proxmox node's host report (unified agent), with upstream-only members.
pub const HOST: &str = r#"{
  "agent": {
    "id": "4c4c4544-0042-3510-8051-b4c04f4e4d32",
    "version": "5.1.3",
    "type": "unified",
    "intervalSeconds": 30,
    "hostname": "pve1.lan",
    "commandsEnabled": false,
    "update": {"state": "idle", "autoUpdate": true, "availableVersion": ""},
    "modules": [{"name": "host", "enabled": true, "state": "running"}]
  },
  "host": {
    "hostname": "pve1.lan",
    "displayName": "pve1",
    "machineId": "8f2c6e0a9b1d4c3e8f7a6b5c4d3e2f10",
    "platform": "linux",
    "osName": "Debian GNU/Linux",
    "osVersion": "12",
    "kernelVersion": "6.8.12-4-pve",
    "architecture": "x86_64",
    "cpuModel": "AMD Ryzen 7 5700G with Radeon Graphics",
    "cpuCount": 16,
    "uptimeSeconds": 1209600,
    "loadAverage": [0.42, 0.57, 0.61],
    "packageUpdates": {"supported": true, "manager": "apt", "pendingCount": 3, "packages": null}
  },
  "metrics": {
    "cpuUsagePercent": 12.5,
    "memory": {
      "totalBytes": 34359738368,
      "usedBytes": 8589934592,
      "freeBytes": 25769803776,
      "cacheBytes": 4294967296,
      "usage": 25,
      "swapTotalBytes": 8589934592,
      "swapUsedBytes": 0
    }
  },
  "disks": [
    {"device": "/dev/nvme0n1p2", "mountpoint": "/", "filesystem": "ext4", "type": "ext4",
     "totalBytes": 100000000000, "usedBytes": 40000000000, "freeBytes": 55000000000,
     "usage": 42.11},
    {"device": "/dev/nvme0n1p1", "mountpoint": "/boot/efi", "filesystem": "vfat", "type": "vfat",
     "totalBytes": 1000000000, "usedBytes": 10000000, "freeBytes": 990000000, "usage": 1.0},
    {"device": "/dev/sda1", "mountpoint": "/mnt/data", "filesystem": "xfs", "type": "xfs",
     "totalBytes": 4000000000000, "usedBytes": 1000000000000, "freeBytes": 3000000000000,
     "usage": 25, "zfsDatasets": null},
    {"device": "tmpfs", "mountpoint": "/run", "filesystem": "tmpfs", "type": "tmpfs",
     "totalBytes": 3435973836, "usedBytes": 2000000, "freeBytes": 3433973836, "usage": 0.06}
  ],
  "diskIO": [
    {"device": "nvme0n1", "readBytes": 500000000000, "writeBytes": 900000000000, "readOps": 1,
     "writeOps": 2, "readTimeMs": 3, "writeTimeMs": 4, "ioTimeMs": 5},
    {"device": "sda", "readBytes": 200000000000, "writeBytes": 100000000000},
    {"device": "loop0", "readBytes": 1000, "writeBytes": 0}
  ],
  "network": [
    {"name": "lo", "addresses": ["127.0.0.1/8", "::1/128"], "rxBytes": 999999, "txBytes": 999999},
    {"name": "vmbr0", "mac": "A8:A1:59:12:34:56",
     "addresses": ["192.168.1.10/24", "fe80::aaa1:59ff:fe12:3456/64"],
     "rxBytes": 123456789000, "txBytes": 98765432100, "speedMbps": 1000},
    {"name": "veth100i0", "mac": "fe:12:34:56:78:9a", "addresses": [],
     "rxBytes": 5000000, "txBytes": 6000000}
  ],
  "sensors": {
    "temperatureCelsius": {"k10temp_tctl": 48.5, "nvme_composite": 52.0, "acpitz": 27.8},
    "fanRpm": {"cpu_fan": 1200},
    "smart": [{"device": "/dev/nvme0n1", "model": "Samsung SSD 980", "health": "PASSED",
               "attributes": {"percentageUsed": 3}}]
  },
  "raid": [],
  "availabilityResults": [{"targetId": "t1", "outcome": "up", "latencyMillis": 3}],
  "tags": ["homelab", "proxmox"],
  "timestamp": "2026-11-22T10:00:00.123456789Z",
  "sequenceId": 42
}"#;

/// A Docker host with the six kinds of containers a monitor must get right, and Swarm services.
pub const DOCKER: &str = r#"{
  "agent": {"id": "3f9c2b1a7d8e4f60a1b2c3d4e5f60718", "version": "5.1.3", "type": "unified",
            "intervalSeconds": 30},
  "host": {
    "hostname": "docker1", "name": "docker1", "machineId": "3f9c2b1a7d8e4f60a1b2c3d4e5f60718",
    "os": "Ubuntu 24.04.1 LTS", "runtime": "docker", "runtimeVersion": "27.3.1",
    "kernelVersion": "6.8.0-45-generic", "architecture": "x86_64", "dockerVersion": "27.3.1",
    "totalCpu": 8, "totalMemoryBytes": 34359738368, "uptimeSeconds": 86400,
    "swarm": {"nodeId": "n1", "nodeRole": "manager", "localState": "active",
              "controlAvailable": true, "clusterId": "sw1", "clusterName": "default"},
    "cpuUsagePercent": 18.25, "loadAverage": [1.0, 0.8, 0.5],
    "memory": {"totalBytes": 34359738368, "usedBytes": 17179869184, "usage": 50},
    "network": [{"name": "eth0", "mac": "02:42:ac:11:00:02", "addresses": ["10.0.0.5/24"]}],
    "security": {"authorizationPlugins": null}
  },
  "containers": [
    {"id": "aaaaaaaaaaaa1111", "name": "/web", "image": "nginx:1.27",
     "createdAt": "2026-11-20T08:00:00Z",
     "state": "running", "status": "Up 2 days (healthy)", "health": "healthy", "cpuPercent": 200,
     "memoryUsageBytes": 104857600, "memoryLimitBytes": 1073741824, "memoryPercent": 9.77,
     "uptimeSeconds": 172800, "restartCount": 0, "exitCode": 0, "oomKilled": false,
     "startedAt": "2026-11-20T08:00:01Z", "finishedAt": "0001-01-01T00:00:00Z",
     "ports": [{"privatePort": 80, "publicPort": 8080, "protocol": "tcp", "ip": "0.0.0.0"}],
     "labels": {"com.docker.compose.project": "shop", "com.docker.compose.service": "web"},
     "networks": [{"name": "shop_default", "ipv4": "172.18.0.2"}],
     "networkRxBytes": 1000000, "networkTxBytes": 2000000,
     "blockIo": {"readBytes": 4096, "writeBytes": 8192},
     "mounts": [{"type": "bind", "source": "/srv/www", "destination": "/usr/share/nginx/html",
                 "rw": false}],
     "healthcheckTargets": []},
    {"id": "bbbbbbbbbbbb2222", "name": "api", "image": "shop/api:2.1", "state": "running",
     "status": "Up 3 hours (unhealthy)", "health": "unhealthy", "cpuPercent": 5.5,
     "memoryUsageBytes": 52428800, "memoryLimitBytes": 0, "restartCount": 1,
     "labels": null, "ports": null, "networkRxBytes": 10, "networkTxBytes": 20},
    {"id": "cccccccccccc3333", "name": "db", "image": "postgres:16", "state": "running",
     "status": "Up 2 days", "cpuPercent": 1.25, "memoryUsageBytes": 268435456,
     "memoryLimitBytes": 1073741824, "restartCount": 2},
    {"id": "dddddddddddd4444", "name": "worker", "image": "shop/worker:2.1", "state": "restarting",
     "status": "Restarting (1) 5 seconds ago", "restartCount": 17, "exitCode": 1},
    {"id": "eeeeeeeeeeee5555", "name": "batch", "image": "shop/batch:2.1", "state": "exited",
     "status": "Exited (137) 1 hour ago", "restartCount": 0, "exitCode": 137, "oomKilled": true,
     "startedAt": "2026-11-22T08:00:00Z", "finishedAt": "2026-11-22T09:00:00Z"},
    {"id": "ffffffffffff6666", "name": "migrate", "image": "shop/api:2.1", "state": "exited",
     "status": "Exited (0) 2 days ago", "exitCode": 0,
     "podman": {"composeProject": "shop", "composeService": "migrate"}}
  ],
  "services": [
    {"id": "svc1", "name": "shop_web", "stack": "shop", "image": "nginx:1.27", "mode": "replicated",
     "desiredTasks": 3, "runningTasks": 3, "labels": {"com.docker.stack.namespace": "shop"},
     "endpointPorts": [{"protocol": "tcp", "targetPort": 80, "publishedPort": 8080,
                        "publishMode": "ingress"}]},
    {"id": "svc2", "name": "shop_worker", "desiredTasks": 4, "runningTasks": 1,
     "updateStatus": {"state": "updating", "message": "update in progress"}}
  ],
  "images": [{"id": "sha256:abc"}],
  "volumes": null,
  "timestamp": "2026-11-22T10:00:00Z"
}"#;

/// A two-node cluster with pods in every phase and a degraded deployment.
pub const KUBERNETES: &str = r#"{
  "agent": {"id": "k8s-agent-1", "version": "5.1.3", "type": "unified", "intervalSeconds": 30},
  "cluster": {"id": "c-7f3a", "name": "prod", "server": "https://10.0.0.1:6443",
              "context": "prod-admin", "version": "v1.31.2", "provider": "k3s",
              "namespace": "pulse"},
  "nodes": [
    {"uid": "n-uid-1", "name": "node-a", "ready": true, "kubeletVersion": "v1.31.2+k3s1",
     "containerRuntimeVersion": "containerd://1.7.22", "osImage": "Ubuntu 24.04.1 LTS",
     "kernelVersion": "6.8.0-45-generic", "architecture": "amd64",
     "capacity": {"cpuCores": 4, "memoryBytes": 16000000000, "pods": 110},
     "allocatable": {"cpuCores": 4, "memoryBytes": 15000000000, "pods": 110},
     "usage": {"cpuMilliCores": 1000, "memoryBytes": 4000000000}, "roles": ["control-plane"]},
    {"uid": "n-uid-2", "name": "node-b", "ready": false, "unschedulable": true,
     "capacity": {"cpuCores": 4, "memoryBytes": 16000000000}, "roles": null}
  ],
  "namespaces": [{"uid": "ns1", "name": "default", "phase": "Active"}],
  "pods": [
    {"uid": "p1", "name": "web-7d9f-abc", "nodeName": "node-a", "phase": "Running",
     "qosClass": "Burstable", "createdAt": "2026-11-22T09:00:00Z",
     "startTime": "2026-11-22T09:00:05Z", "restarts": 0, "labels": {"app": "web"},
     "ownerKind": "ReplicaSet", "ownerName": "web-7d9f",
     "usage": {"cpuMilliCores": 200, "memoryBytes": 100000000, "networkRxBytes": 5000,
               "networkTxBytes": 7000},
     "containers": [{"name": "web", "image": "nginx:1.27", "ready": true, "state": "running"}]},
    {"uid": "p2", "name": "api-5c8b-def", "namespace": "shop", "nodeName": "node-a",
     "phase": "Running", "restarts": 7,
     "containers": [{"name": "api", "ready": false, "restartCount": 7, "state": "waiting",
                     "reason": "CrashLoopBackOff"}]},
    {"uid": "p3", "name": "api-5c8b-ghi", "namespace": "shop", "phase": "Pending",
     "reason": "Unschedulable"},
    {"uid": "p4", "name": "migrate-x1", "namespace": "shop", "nodeName": "node-b",
     "phase": "Succeeded"},
    {"uid": "p5", "name": "report-y2", "namespace": "shop", "nodeName": "node-gone",
     "phase": "Failed", "reason": "Error"},
    {"uid": "p6", "name": "mystery", "namespace": "kube-system", "phase": "Unknown"}
  ],
  "deployments": [
    {"uid": "d1", "name": "web", "desiredReplicas": 2, "updatedReplicas": 2, "readyReplicas": 2,
     "availableReplicas": 2, "labels": {"app": "web"}},
    {"uid": "d2", "name": "api", "namespace": "shop", "desiredReplicas": 3, "readyReplicas": 1,
     "availableReplicas": 1}
  ],
  "replicaSets": [{"uid": "rs1", "name": "web-7d9f", "namespace": "default"}],
  "events": [{"type": "Warning", "reason": "BackOff", "message": "Back-off restarting"}],
  "timestamp": "2026-11-22T10:00:00Z"
}"#;
