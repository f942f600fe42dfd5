//! Temperatures from `/sys/class/hwmon` (preferred) or `/sys/class/thermal`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::report::round2;

/// Readings outside this range (°C) are placeholders or broken sensors, not temperatures.
const PLAUSIBLE: std::ops::RangeInclusive<f64> = -40.0..=150.0;

/// Parses a sysfs temperature in millidegrees Celsius; `None` if malformed or implausible.
pub fn parse_millidegrees(text: &str) -> Option<f64> {
    let c = text.trim().parse::<i64>().ok()? as f64 / 1000.0;
    PLAUSIBLE.contains(&c).then_some(round2(c))
}

/// Builds a stable sensor key such as `coretemp_package_id_0` or `nvme_composite`.
pub fn sensor_key(chip: &str, label: &str) -> String {
    let raw = format!("{chip}_{label}").to_ascii_lowercase();
    let mut key = String::with_capacity(raw.len());
    for c in raw.chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '_' };
        if !(c == '_' && key.ends_with('_')) {
            key.push(c);
        }
    }
    key.trim_matches('_').to_string()
}

fn read_trim(path: &Path) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// hwmon chips: every `tempN_input`, labelled by `tempN_label` or `tempN`.
fn hwmon(root: &Path, out: &mut BTreeMap<String, f64>) {
    let Ok(chips) = fs::read_dir(root.join("sys/class/hwmon")) else {
        return;
    };
    for chip in chips.filter_map(Result::ok) {
        let dir = chip.path();
        let Some(name) = read_trim(&dir.join("name")) else {
            continue;
        };
        let Ok(files) = fs::read_dir(&dir) else {
            continue;
        };
        for file in files.filter_map(Result::ok) {
            let file_name = file.file_name().to_string_lossy().into_owned();
            let Some(sensor) = file_name
                .strip_suffix("_input")
                .filter(|s| s.starts_with("temp"))
            else {
                continue;
            };
            let Some(celsius) = read_trim(&file.path()).and_then(|t| parse_millidegrees(&t)) else {
                continue;
            };
            let label = read_trim(&dir.join(format!("{sensor}_label")))
                .unwrap_or_else(|| sensor.to_string());
            let mut key = sensor_key(&name, &label);
            // Two chips of the same driver (two NVMe drives) would collide; suffix the chip dir.
            if out.contains_key(&key) {
                key = sensor_key(&key, &chip.file_name().to_string_lossy());
            }
            out.insert(key, celsius);
        }
    }
}

/// Thermal zones: `thermal_zoneN/type` and `temp`.
fn thermal(root: &Path, out: &mut BTreeMap<String, f64>) {
    let Ok(zones) = fs::read_dir(root.join("sys/class/thermal")) else {
        return;
    };
    for zone in zones.filter_map(Result::ok) {
        let zone_name = zone.file_name().to_string_lossy().into_owned();
        if !zone_name.starts_with("thermal_zone") {
            continue;
        }
        let dir = zone.path();
        let (Some(kind), Some(celsius)) = (
            read_trim(&dir.join("type")),
            read_trim(&dir.join("temp")).and_then(|t| parse_millidegrees(&t)),
        ) else {
            continue;
        };
        let mut key = sensor_key(&kind, "");
        if out.contains_key(&key) {
            key = sensor_key(&kind, &zone_name);
        }
        out.insert(key, celsius);
    }
}

/// Temperatures under `root`; thermal zones are used only when no hwmon chip has any, since
/// they usually expose the same sensors with vaguer names.
pub fn collect(root: &Path) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    hwmon(root, &mut out);
    if out.is_empty() {
        thermal(root, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_readings() {
        assert_eq!(parse_millidegrees("45500\n"), Some(45.5));
        assert_eq!(parse_millidegrees("-273150"), None);
        assert_eq!(parse_millidegrees("255000"), None);
        assert_eq!(parse_millidegrees("n/a"), None);
    }

    #[test]
    fn builds_keys() {
        assert_eq!(
            sensor_key("coretemp", "Package id 0"),
            "coretemp_package_id_0"
        );
        assert_eq!(sensor_key("nvme", "Composite"), "nvme_composite");
        assert_eq!(sensor_key("acpitz", ""), "acpitz");
    }
}
