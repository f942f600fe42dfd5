//! System identity and load: load average, uptime, os-release, uname.

use std::ffi::CStr;

/// Parses `/proc/loadavg` into the 1, 5 and 15 minute averages.
pub fn parse_loadavg(loadavg: &str) -> Option<[f64; 3]> {
    let mut it = loadavg.split_ascii_whitespace().map(str::parse::<f64>);
    Some([it.next()?.ok()?, it.next()?.ok()?, it.next()?.ok()?])
}

/// Parses `/proc/uptime` into whole seconds since boot.
pub fn parse_uptime(uptime: &str) -> Option<u64> {
    let secs: f64 = uptime.split_ascii_whitespace().next()?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then_some(secs as u64)
}

/// Operating system name and version from os-release.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsRelease {
    /// `NAME`, e.g. `Debian GNU/Linux`.
    pub name: String,
    /// `VERSION_ID`, e.g. `12`.
    pub version_id: String,
}

/// Parses an os-release file (shell-style `KEY=value`, values optionally quoted).
pub fn parse_os_release(text: &str) -> OsRelease {
    let mut out = OsRelease::default();
    for line in text.lines() {
        let Some((key, raw)) = line.trim().split_once('=') else {
            continue;
        };
        let value = unquote(raw.trim());
        match key {
            "NAME" => out.name = value,
            "VERSION_ID" => out.version_id = value,
            _ => {}
        }
    }
    out
}

/// Removes one level of single or double quotes and backslash escapes.
fn unquote(raw: &str) -> String {
    let inner = match raw.as_bytes() {
        [b'"', .., b'"'] | [b'\'', .., b'\''] if raw.len() >= 2 => &raw[1..raw.len() - 1],
        _ => raw,
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The `uname(2)` fields the agent uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Uname {
    /// Node name (hostname).
    pub nodename: String,
    /// Kernel release.
    pub release: String,
    /// Hardware name, e.g. `x86_64`, `aarch64`.
    pub machine: String,
}

/// Calls `uname(2)`; fields are empty if the call fails.
pub fn uname() -> Uname {
    // SAFETY: utsname is plain data; zeroed is a valid value and uname fills it in.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: the pointer refers to a live, writable utsname.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return Uname::default();
    }
    let field = |f: &[libc::c_char]| {
        // SAFETY: uname NUL-terminates every field within its array.
        unsafe { CStr::from_ptr(f.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    };
    Uname {
        nodename: field(&uts.nodename),
        release: field(&uts.release),
        machine: field(&uts.machine),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_load_and_uptime() {
        assert_eq!(
            parse_loadavg("0.52 0.58 0.59 2/731 41235\n"),
            Some([0.52, 0.58, 0.59])
        );
        assert_eq!(parse_loadavg("0.52\n"), None);
        assert_eq!(parse_uptime("350735.47 234388.90\n"), Some(350_735));
        assert_eq!(parse_uptime("x"), None);
    }

    #[test]
    fn parses_os_release() {
        let text = "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\n\
VERSION=\"24.04.1 LTS (Noble Numbat)\"\nID=ubuntu\n# comment\n";
        let os = parse_os_release(text);
        assert_eq!(os.name, "Ubuntu");
        assert_eq!(os.version_id, "24.04");
        let alpine = parse_os_release("NAME='Alpine Linux'\nVERSION_ID=3.20.3\n");
        assert_eq!(alpine.name, "Alpine Linux");
        assert_eq!(alpine.version_id, "3.20.3");
        assert_eq!(unquote(r#""a \"b\"""#), "a \"b\"");
    }

    #[test]
    fn uname_reports_this_machine() {
        let u = uname();
        assert!(!u.release.is_empty());
        assert!(!u.machine.is_empty());
    }
}
