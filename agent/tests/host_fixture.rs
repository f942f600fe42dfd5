//! The host collector against a fixture tree shaped like a real machine's `/proc`, `/sys`
//! and `/etc`.

use std::path::PathBuf;
use std::time::Duration;

use pulse_agent::host::HostCollector;
use pulse_agent::run::host_report;

fn fixture_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/host")
}

#[test]
fn collects_a_full_sample_from_the_fixture_tree() {
    let mut c =
        HostCollector::new(fixture_root(), None).with_first_sample(Duration::from_millis(1));
    let s = c.collect();

    assert_eq!(s.info.hostname, "fixture-host");
    assert_eq!(s.info.machine_id, "4f7c2b9e0d1a4c3b8e6f5a2d1c0b9a87");
    assert_eq!(s.info.platform, "linux");
    assert_eq!(s.info.os_name, "Debian GNU/Linux");
    assert_eq!(s.info.os_version, "12");
    assert_eq!(s.info.kernel_version, "6.8.12-4-pve");
    assert_eq!(s.info.cpu_model, "AMD Ryzen 7 5825U with Radeon Graphics");
    assert_eq!(s.info.cpu_count, 4);
    assert_eq!(s.info.uptime_seconds, 431_235);
    assert_eq!(s.info.load_average, [1.25, 0.98, 0.77]);
    assert!(
        !s.info.architecture.is_empty(),
        "architecture comes from uname"
    );

    let m = s.metrics.memory;
    assert_eq!(m.total_bytes, 8_041_516 * 1024);
    assert_eq!(m.used_bytes, (8_041_516 - 5_327_800) * 1024);
    assert_eq!(
        m.cache_bytes,
        (312_088 + 4_212_560 + 298_400 - 251_224) * 1024
    );
    assert_eq!(m.swap_used_bytes, (1_048_572 - 786_428) * 1024);
    // The same /proc/stat twice: no time passed, so no usage.
    assert_eq!(s.metrics.cpu_usage_percent, 0.0);

    // Pseudo filesystems skipped, the bind mount deduplicated, the vanished mount left out.
    let mounts: Vec<(&str, &str)> = s
        .disks
        .iter()
        .map(|d| (d.device.as_str(), d.mountpoint.as_str()))
        .collect();
    assert_eq!(
        mounts,
        [("/dev/nvme0n1p2", "/"), ("/dev/nvme0n1p1", "/boot/efi")]
    );
    assert!(s
        .disks
        .iter()
        .all(|d| d.total_bytes > 0 && d.used_bytes <= d.total_bytes));
    assert_eq!(s.disks[1].filesystem, "vfat");

    // Whole disks from /sys/block only; partitions and loop devices dropped.
    let io: Vec<&str> = s.disk_io.iter().map(|d| d.device.as_str()).collect();
    assert_eq!(io, ["nvme0n1", "sda"]);
    assert_eq!(s.disk_io[1].read_bytes, 96_000 * 512);

    let names: Vec<&str> = s.network.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["enp3s0", "docker0"]);
    assert_eq!(s.network[0].mac, "a8:a1:59:3c:11:02");
    assert_eq!(s.network[0].speed_mbps, Some(2500));
    assert_eq!(s.network[0].rx_bytes, 1_215_426_781);
    assert_eq!(s.network[1].speed_mbps, None);

    // hwmon wins over thermal zones; the bogus -273 °C reading is dropped.
    let temps: Vec<(&str, f64)> = s
        .sensors
        .temperature_celsius
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(temps, [("k10temp_tctl", 48.88), ("nvme_composite", 38.85)]);
}

#[test]
fn hostname_override_and_report_shape() {
    let mut c = HostCollector::new(fixture_root(), Some("renamed".into()))
        .with_first_sample(Duration::ZERO);
    let report = host_report(c.collect(), "agent-1", Duration::from_secs(30));
    let v = serde_json::to_value(&report).expect("serialise");
    assert_eq!(v["agent"]["id"], "agent-1");
    assert_eq!(v["agent"]["type"], "unified");
    assert_eq!(v["agent"]["intervalSeconds"], 30);
    assert_eq!(v["agent"]["hostname"], "renamed");
    assert_eq!(v["host"]["hostname"], "renamed");
    assert!(
        v["host"].get("id").is_none(),
        "no explicit host id: the server derives it"
    );
    assert_eq!(
        v["host"]["loadAverage"],
        serde_json::json!([1.25, 0.98, 0.77])
    );
    for key in [
        "totalBytes",
        "usedBytes",
        "freeBytes",
        "cacheBytes",
        "usage",
        "swapTotalBytes",
        "swapUsedBytes",
    ] {
        assert!(
            v["metrics"]["memory"][key].is_number(),
            "metrics.memory.{key}"
        );
    }
    assert!(v["metrics"]["cpuUsagePercent"].is_number());
    for key in [
        "device",
        "mountpoint",
        "filesystem",
        "type",
        "totalBytes",
        "usedBytes",
        "freeBytes",
        "usage",
    ] {
        assert!(!v["disks"][0][key].is_null(), "disks[0].{key}");
    }
    for key in [
        "device",
        "readBytes",
        "writeBytes",
        "readOps",
        "writeOps",
        "readTimeMs",
        "writeTimeMs",
        "ioTimeMs",
    ] {
        assert!(!v["diskIO"][0][key].is_null(), "diskIO[0].{key}");
    }
    for key in [
        "name",
        "mac",
        "addresses",
        "rxBytes",
        "txBytes",
        "speedMbps",
    ] {
        assert!(!v["network"][0][key].is_null(), "network[0].{key}");
    }
    assert!(v["sensors"]["temperatureCelsius"].is_object());
    assert_eq!(v["tags"], serde_json::json!([]));
    let ts = v["timestamp"].as_str().expect("timestamp");
    assert!(pulse_agent::time::parse_rfc3339(ts).is_some(), "{ts}");
}
