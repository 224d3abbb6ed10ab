//! A minimal WebDriver client (the W3C protocol: JSON over HTTP) that drives Debian's headless
//! chromium through chromedriver, for the browser tests of the moderators' page.
//!
//! Minimal on purpose: the dozen commands the tests use, over the blocking reqwest client the
//! other tests already use, so no browser-automation crate and no browser download. Every
//! call has a timeout, and every wait a deadline, so a test cannot hang. Dropping a
//! [`Browser`] ends the session and kills chromedriver's process group (chromedriver and the
//! chromium it started), also when the test fails.

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's `chromium` package puts the browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Where Debian's `chromium-driver` package puts chromedriver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long a [`Browser::wait`] polls before failing.
pub const WAIT: Duration = Duration::from_secs(20);

/// The W3C name of an element reference in JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// An element of the current page.
#[derive(Debug, Clone)]
pub struct Element(String);

/// A headless chromium session.
pub struct Browser {
    driver: Child,
    driver_url: String,
    session: Option<String>,
    http: reqwest::blocking::Client,
    profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless chromium session, or `None` (saying so on stderr)
    /// when chromium or chromedriver is not installed.
    pub fn launch() -> Result<Option<Browser>> {
        for path in [CHROMIUM, CHROMEDRIVER] {
            if !std::path::Path::new(path).exists() {
                eprintln!(
                    "SKIPPED: {path} is not installed; the moderators' page is not tested in a \
                     browser (apt-get install chromium chromium-driver)"
                );
                return Ok(None);
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let profile = tempfile::tempdir()?;
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, which also holds the chromium it starts: Drop kills it all.
            .process_group(0)
            .spawn()
            .context("starting chromedriver")?;
        let mut browser = Browser {
            driver,
            driver_url: format!("http://127.0.0.1:{port}"),
            session: None,
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()?,
            profile,
        };
        browser.wait_for_driver()?;
        let args = [
            "--headless=new".to_string(),
            // Containers and CI often run as root, where chromium's sandbox cannot start.
            "--no-sandbox".to_string(),
            "--disable-gpu".to_string(),
            "--disable-dev-shm-usage".to_string(),
            "--disable-extensions".to_string(),
            "--disable-crash-reporter".to_string(),
            "--no-first-run".to_string(),
            "--window-size=1280,1000".to_string(),
            format!("--user-data-dir={}", browser.profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "unhandledPromptBehavior": "ignore",
            "timeouts": {"script": 10_000, "pageLoad": 20_000, "implicit": 0},
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        }}});
        let answer = browser.send(reqwest::Method::POST, "/session", Some(caps))?;
        let id = answer["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow!("no session id in {answer}"))?;
        browser.session = Some(id.to_string());
        Ok(Some(browser))
    }

    fn wait_for_driver(&mut self) -> Result<()> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.driver.try_wait()? {
                bail!("chromedriver exited at start: {status}");
            }
            let ready = self
                .http
                .get(format!("{}/status", self.driver_url))
                .timeout(Duration::from_secs(2))
                .send()
                .ok()
                .and_then(|r| r.json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("chromedriver not ready after {WAIT:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// One WebDriver command; its `value`, or the WebDriver error as an `Err`.
    fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.driver_url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().with_context(|| format!("{method} {path}"))?;
        let status = response.status();
        let body: Value = response
            .json()
            .with_context(|| format!("{method} {path}: not JSON"))?;
        let value = body.get("value").cloned().unwrap_or(Value::Null);
        if !status.is_success() {
            bail!(
                "{method} {path}: {} {}",
                value["error"].as_str().unwrap_or("error"),
                value["message"].as_str().unwrap_or_default()
            );
        }
        Ok(value)
    }

    fn session(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let id = self.session.as_deref().context("no session")?;
        self.send(method, &format!("/session/{id}{path}"), body)
    }

    /// Opens `url` and waits for the page to load.
    pub fn goto(&self, url: &str) -> Result<()> {
        self.session(reqwest::Method::POST, "/url", Some(json!({ "url": url })))?;
        Ok(())
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) in the page.
    pub fn exec(&self, script: &str, args: Value) -> Result<Value> {
        self.session(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Polls `script` until it returns something other than null, false, 0 or ""; returns it.
    pub fn wait(&self, what: &str, script: &str, args: Value) -> Result<Value> {
        let deadline = Instant::now() + WAIT;
        loop {
            let value = self.exec(script, args.clone())?;
            let truthy = match &value {
                Value::Null | Value::Bool(false) => false,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return Ok(value);
            }
            if Instant::now() > deadline {
                bail!("waited {WAIT:?} for {what}; last: {value}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the element `css` shows text containing `needle`; returns the text.
    pub fn wait_text(&self, css: &str, needle: &str) -> Result<String> {
        let text = self.wait(
            &format!("{css} to contain {needle:?}"),
            "const e = document.querySelector(arguments[0]);
             return e && e.textContent.includes(arguments[1]) ? e.textContent : null;",
            json!([css, needle]),
        )?;
        Ok(text.as_str().unwrap_or_default().to_string())
    }

    /// The element `script` returns, waiting until it returns one.
    pub fn find_js(&self, what: &str, script: &str, args: Value) -> Result<Element> {
        let value = self.wait(what, script, args)?;
        value[ELEMENT]
            .as_str()
            .map(|id| Element(id.to_string()))
            .ok_or_else(|| anyhow!("{what}: not an element: {value}"))
    }

    /// The first element matching `css`, waiting until there is one.
    pub fn find(&self, css: &str) -> Result<Element> {
        self.find_js(
            css,
            "return document.querySelector(arguments[0]);",
            json!([css]),
        )
    }

    /// Clicks `element` as a user would.
    pub fn click_element(&self, element: &Element) -> Result<()> {
        self.session(
            reqwest::Method::POST,
            &format!("/element/{}/click", element.0),
            Some(json!({})),
        )?;
        Ok(())
    }

    /// Clicks the element `css`.
    pub fn click(&self, css: &str) -> Result<()> {
        let element = self.find(css)?;
        self.click_element(&element)
    }

    /// Clears the input `css` and types `text` into it.
    pub fn type_into(&self, css: &str, text: &str) -> Result<()> {
        let element = self.find(css)?;
        self.session(
            reqwest::Method::POST,
            &format!("/element/{}/clear", element.0),
            Some(json!({})),
        )?;
        if !text.is_empty() {
            self.session(
                reqwest::Method::POST,
                &format!("/element/{}/value", element.0),
                Some(json!({ "text": text })),
            )?;
        }
        Ok(())
    }

    /// Chooses `value` in the select `css` (and fires `change`, as a user's choice does).
    pub fn select(&self, css: &str, value: &str) -> Result<()> {
        self.find(css)?;
        let chosen = self.exec(
            "const s = document.querySelector(arguments[0]);
             s.value = arguments[1];
             s.dispatchEvent(new Event('change', {bubbles: true}));
             return s.value;",
            json!([css, value]),
        )?;
        if chosen != value {
            bail!("{css} has no option {value:?}");
        }
        Ok(())
    }

    /// Types `text` into the open prompt and presses OK.
    pub fn answer_prompt(&self, text: &str) -> Result<()> {
        let deadline = Instant::now() + WAIT;
        while self
            .session(reqwest::Method::GET, "/alert/text", None)
            .is_err()
        {
            if Instant::now() > deadline {
                bail!("no prompt opened within {WAIT:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.session(
            reqwest::Method::POST,
            "/alert/text",
            Some(json!({ "text": text })),
        )?;
        self.session(reqwest::Method::POST, "/alert/accept", Some(json!({})))?;
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(id) = self.session.take() {
            // Best effort: closes chromium cleanly; the kill below covers a stuck one.
            let _ = self
                .http
                .delete(format!("{}/session/{id}", self.driver_url))
                .timeout(Duration::from_secs(5))
                .send();
        }
        // The process group that chromedriver leads (see `process_group(0)` in `launch`).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
