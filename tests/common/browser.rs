//! Headless Chromium driven through chromedriver (W3C WebDriver, via fantoccini) for the browser
//! tests. Each [`Browser`] starts its own chromedriver on a port chosen at run time, with a fresh
//! Chromium profile, and stops both when it is finished or dropped.
//!
//! Chromium and chromedriver come from Debian's `chromium` and `chromium-driver` packages, which
//! `.ci/run` installs. Outside CI their absence skips the browser tests with a message; in CI
//! (`CI` set) it is a failure.

#![allow(dead_code)]

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// The Chromium binary of Debian's `chromium` package.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// How long a wait for the page may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(15);

/// The chromedriver binary, or `None` (after printing why) when the browser tests must be skipped.
/// Panics in CI, where the tools are required.
pub fn tools() -> Option<PathBuf> {
    let driver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    match driver {
        Some(d) if Path::new(CHROMIUM).exists() => Some(d),
        _ => {
            assert!(
                std::env::var("CI").is_err(),
                "chromium and chromedriver are required in CI (Debian packages `chromium`, `chromium-driver`)"
            );
            eprintln!("SKIPPED: chromium/chromedriver not installed (apt-get install chromium chromium-driver)");
            None
        }
    }
}

/// Where screenshots are written: `target/browser-artifacts/`.
pub fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-artifacts");
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

/// chromedriver's legacy log endpoint: the browser's console and network log since the last call.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}

/// A chromedriver process and a session in a fresh headless Chromium.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium window of `width`×`height`; `None` when the
    /// tools are missing outside CI.
    pub async fn start(width: u32, height: u32) -> Option<Browser> {
        let driver_bin = tools()?;
        let port = crate::common::free_port();
        let profile = tempfile::tempdir().expect("profile dir");
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let mut browser = BrowserStarting {
            driver: Some(driver),
        };
        let url = format!("http://127.0.0.1:{port}");
        let probe = reqwest::Client::new();
        let deadline = Instant::now() + WAIT;
        while probe.get(format!("{url}/status")).send().await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut caps = Capabilities::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", profile.path().display()),
                    format!("--window-size={width},{height}"),
                ]
            }),
        );
        caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&url)
            .await
            .expect("webdriver session");
        Some(Browser {
            client,
            driver: browser.driver.take().expect("driver"),
            _profile: profile,
        })
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .expect("script runs")
    }

    /// Waits until `css` matches a displayed element and returns it.
    pub async fn wait_css(&self, css: &str) -> Element {
        self.wait_css_for(css, WAIT).await
    }

    /// Like [`Browser::wait_css`] with its own deadline.
    pub async fn wait_css_for(&self, css: &str, limit: Duration) -> Element {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if el.is_displayed().await.unwrap_or(false) {
                    return el;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no visible element matches {css} after {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits until `script` (a function body) returns `true`.
    pub async fn wait_js(&self, what: &str, script: &str) {
        let deadline = Instant::now() + WAIT;
        while self.js(script, vec![]).await != Value::Bool(true) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Clicks the first displayed element matching `css`.
    pub async fn click(&self, css: &str) {
        self.wait_css(css).await.click().await.expect("click");
    }

    /// Types `text` into the field matching `css` (after clearing it; the clearing is announced
    /// with an `input` event, as typing would, so that the page's state follows).
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.wait_css(css).await;
        el.clear().await.expect("clear");
        self.js(
            "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
            vec![serde_json::to_value(&el).expect("element")],
        )
        .await;
        if !text.is_empty() {
            el.send_keys(text).await.expect("type");
        }
    }

    /// Sends key presses to the focused element (or the page).
    pub async fn keys(&self, text: &str) {
        let active = self.client.active_element().await.expect("active element");
        active.send_keys(text).await.expect("keys");
    }

    /// Saves a PNG screenshot as `target/browser-artifacts/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(artifacts_dir().join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// Errors the page saw: uncaught exceptions and console.error calls the app recorded, plus
    /// SEVERE entries of the browser log except failed requests to `allowed_missing` URL parts
    /// (optional APIs this build may not have; the app asks each of them once).
    pub async fn errors(&self, allowed_missing: &[&str]) -> Vec<String> {
        self.errors_expecting(allowed_missing, &[]).await
    }

    /// Like [`errors`](Self::errors), also tolerating failed loads of URLs containing one of
    /// `expected` (a request the test makes fail on purpose, such as an invalid save).
    pub async fn errors_expecting(
        &self,
        allowed_missing: &[&str],
        expected: &[&str],
    ) -> Vec<String> {
        let mut out: Vec<String> = self
            .js(
                "return window.__pulseErrors || ['app diagnostics missing'];",
                vec![],
            )
            .await
            .as_array()
            .map(|a| a.iter().map(|v| v.to_string()).collect())
            .unwrap_or_default();
        let log = self
            .client
            .issue_cmd(BrowserLog)
            .await
            .expect("browser log");
        for entry in log.as_array().expect("browser log entries") {
            let level = entry["level"].as_str().unwrap_or_default();
            let message = entry["message"].as_str().unwrap_or_default();
            let tolerated = (message.contains("404 (Not Found)")
                && allowed_missing.iter().any(|part| message.contains(part)))
                || (message.contains("Failed to load resource")
                    && expected.iter().any(|part| message.contains(part)));
            if level == "SEVERE" && !tolerated {
                out.push(message.to_owned());
            }
        }
        out
    }

    /// Ends the session (Chromium quits) and stops chromedriver.
    pub async fn finish(mut self) {
        let client = self.client.clone();
        let _ = client.close().await;
        stop_group(&mut self.driver);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        stop_group(&mut self.driver);
    }
}

/// Holds chromedriver while the session is being created, so a failure there still stops it.
struct BrowserStarting {
    driver: Option<Child>,
}

impl Drop for BrowserStarting {
    fn drop(&mut self) {
        if let Some(mut d) = self.driver.take() {
            stop_group(&mut d);
        }
    }
}

/// Kills chromedriver's process group (chromedriver and the Chromium it started) and reaps it.
fn stop_group(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        let pgid = child.id() as i32;
        // SAFETY: signalling our own child's process group; no memory is involved.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
    let _ = child.wait();
}
