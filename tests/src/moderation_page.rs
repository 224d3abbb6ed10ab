//! The moderators' page in a real browser: Debian's headless chromium driven over WebDriver
//! ([`crate::webdriver`]). Sign-in and its refusals, rules and posts with markup shown as
//! text, a hide rule written, previewed and saved through the form, a new matching post gone
//! from a user's search, the audit log, a stale edit's conflict, disable, delete, the review
//! queue (a held post approved from the page shows in a user's search) and the classifier
//! settings.
//!
//! Skips (saying so) when chromium or chromedriver is not installed; `.ci/run` installs them.

use crate::server::{TestServer, post};
use crate::webdriver::Browser;
use anyhow::{Context, Result, ensure};
use search_api::auth::{Role, Tier};
use serde_json::{Value, json};

const TITLE: &str = "chansearch moderation";
/// Markup that would run if the page ever parsed server text as HTML.
const XSS_RULE: &str = "<script>window.__pwned=1</script><img src=x onerror=window.__pwned=1>";
const XSS_NOTE: &str = "<b>bold</b><script>window.__pwned=2</script>";
const XSS_POST: &str =
    "spiceword early offer <script>alert(1)</script> <img src=x onerror=\"window.__pwned=3\">";

/// Fails unless the page shows no element built from server text and ran none of it.
fn assert_nothing_ran(browser: &Browser) -> Result<()> {
    let state = browser.exec(
        "return {title: document.title, pwned: window.__pwned === undefined ? null : window.__pwned,
                 injected: document.querySelectorAll('main script, main img, main b, main iframe').length};",
        json!([]),
    )?;
    ensure!(
        state == json!({"title": TITLE, "pwned": null, "injected": 0}),
        "server text was treated as HTML: {state}"
    );
    Ok(())
}

/// The rules table's row whose pattern is `pattern`.
const ROW_BY_PATTERN: &str = "return [...document.querySelectorAll('#rules-table tr.rule')]
    .find(r => r.querySelector('.pattern').textContent === arguments[0]) || null;";

fn row_field(browser: &Browser, pattern: &str, field: &str) -> Result<Value> {
    browser.wait(
        &format!("the {field} of rule {pattern:?}"),
        &format!(
            "const row = (() => {{ {ROW_BY_PATTERN} }})();
             return row ? row.querySelector('.{field}').textContent : null;"
        ),
        json!([pattern]),
    )
}

fn click_in_row(browser: &Browser, pattern: &str, button: &str) -> Result<()> {
    // The table re-renders when a list request answers; a button found just before that is
    // gone ("stale"), so find it again and retry a few times.
    let mut attempts = 0;
    loop {
        let element = browser.find_js(
            &format!("the {button} button of rule {pattern:?}"),
            &format!(
                "const row = (() => {{ {ROW_BY_PATTERN} }})();
                 return row ? row.querySelector('button.{button}') : null;"
            ),
            json!([pattern]),
        )?;
        match browser.click_element(&element) {
            Err(e) if attempts < 5 && e.to_string().contains("stale element") => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

fn sign_in(browser: &Browser, token: &str) -> Result<()> {
    browser.type_into("#token", token)?;
    browser.click("#signin-button")
}

/// Fills the rule form (opened with "New rule" or "Edit").
fn fill_rule(browser: &Browser, kind: &str, pattern: &str, action: &str, note: &str) -> Result<()> {
    browser.select("#f-kind", kind)?;
    browser.type_into("#f-pattern", pattern)?;
    browser.select("#f-action", action)?;
    browser.type_into("#f-regions", "")?;
    browser.type_into("#f-note", note)
}

fn api(
    server: &TestServer,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = server
        .http
        .request(method, server.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().unwrap();
    (
        response.status().as_u16(),
        response.json().unwrap_or(Value::Null),
    )
}

/// `channel/post_id` keys a user finds for `q`, once `expected` is among them (posts are
/// searchable within a second of ingest).
fn user_finds(server: &TestServer, q: &str, expected: &str) -> Result<Vec<String>> {
    let user = server.token("reader", Tier::Premium, Role::User, Some("DE"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (status, body, _) = server.search_as(&user, &[("q", q)]);
        ensure!(status == 200, "search {q}: {status} {body}");
        let keys = TestServer::hit_keys(&body);
        if keys.iter().any(|k| k == expected) || std::time::Instant::now() > deadline {
            return Ok(keys);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_moderator_hides_a_post_from_the_page() -> Result<()> {
    let server = TestServer::start(|_| {});
    server.ingest(
        &[
            post("shop_one", 1, 1, "2026-11-20T10:00:00Z", XSS_POST),
            post(
                "news",
                2,
                1,
                "2026-11-20T10:00:00Z",
                "harmless weather news",
            ),
        ]
        .join("\n"),
    );
    let page = server.http.get(server.url("/moderation")).send()?;
    ensure!(page.status() == 200, "GET /moderation: {}", page.status());
    let csp = page.headers()["content-security-policy"].to_str()?;
    ensure!(csp.contains("script-src 'self'"), "{csp}");

    let Some(browser) = Browser::launch()? else {
        return Ok(());
    };
    browser.goto(&server.url("/moderation"))?;
    ensure!(browser.exec("return document.title", json!([]))? == TITLE);

    // Refusals: a garbage token, then a valid user's token.
    sign_in(&browser, "not-a-jwt")?;
    browser.wait_text("#signin-msg", "Invalid token")?;
    sign_in(&browser, &server.premium())?;
    browser.wait_text("#signin-msg", "Not a moderator")?;
    ensure!(browser.exec("return document.getElementById('app').hidden", json!([]))? == true);

    let alice = server.token("mod-alice", Tier::Premium, Role::Moderator, None);
    sign_in(&browser, &alice)?;
    browser.wait_text("#whoami-sub", "mod-alice")?;
    browser.wait_text("#rules-table", "no rules")?;

    // A rule full of markup is shown as text and runs nothing.
    browser.click("#rule-new")?;
    fill_rule(&browser, "regex", XSS_RULE, "review", XSS_NOTE)?;
    browser.click("#f-enabled")?; // disabled: it must not hold anything
    browser.click("#f-save")?;
    ensure!(row_field(&browser, XSS_RULE, "note")? == XSS_NOTE);
    ensure!(row_field(&browser, XSS_RULE, "enabled")? == "no");
    assert_nothing_ran(&browser)?;

    // The real rule: written, previewed, saved.
    browser.click("#rule-new")?;
    fill_rule(&browser, "term", "spiceword", "hide", "spam wave")?;
    browser.click("#f-preview")?;
    let preview = browser.wait(
        "the preview's answer",
        "const count = document.getElementById('preview-count');
         if (count) return {matches: Number(count.dataset.matches),
                           marks: document.querySelectorAll('#preview-out .snippet mark').length,
                           text: document.getElementById('preview-out').textContent};
         const failed = document.getElementById('preview-error');
         return failed ? {error: failed.textContent} : null;",
        json!([]),
    )?;
    ensure!(preview["error"].is_null(), "the preview failed: {preview}");
    ensure!(preview["matches"].as_u64() >= Some(1), "{preview}");
    ensure!(preview["marks"].as_u64() >= Some(1), "{preview}");
    ensure!(
        preview["text"]
            .as_str()
            .unwrap_or_default()
            .contains("@shop_one/1"),
        "{preview}"
    );
    assert_nothing_ran(&browser)?;
    browser.click("#f-save")?;
    browser.wait_text("#status", "Saved rule")?;
    let id = row_field(&browser, "spiceword", "id")?;
    let id = id.as_str().context("rule id")?.to_string();
    ensure!(row_field(&browser, "spiceword", "version")? == "1");

    // New rules reach new posts at once (already indexed ones are a separate feature).
    server.ingest(
        &[
            post(
                "shop_two",
                3,
                1,
                "2026-11-21T10:00:00Z",
                "spiceword later delivery",
            ),
            post(
                "shop_three",
                4,
                1,
                "2026-11-21T10:00:00Z",
                "later delivery only",
            ),
        ]
        .join("\n"),
    );
    let found = user_finds(&server, "delivery", "shop_three/1")?;
    ensure!(found.contains(&"shop_three/1".to_string()), "{found:?}");
    ensure!(
        !found.contains(&"shop_two/1".to_string()),
        "hidden post found: {found:?}"
    );

    // The audit log names the moderator.
    browser.click(".tab[data-tab=audit]")?;
    browser.wait(
        "the creation in the audit log",
        "return [...document.querySelectorAll('#audit-table tr.entry')].some(r =>
            r.querySelector('.target').textContent === arguments[0] &&
            r.querySelector('.action').textContent === 'rule.create' &&
            r.querySelector('.actor').textContent === 'mod-alice' &&
            r.querySelector('.note').textContent === 'spam wave');",
        json!([id]),
    )?;
    assert_nothing_ran(&browser)?;

    // A stale edit: Bob changes the rule while Alice has it open.
    browser.click(".tab[data-tab=rules]")?;
    click_in_row(&browser, "spiceword", "edit")?;
    browser.wait_text("#form-title", "version 1")?;
    let (status, bob) = api(
        &server,
        &server.token("mod-bob", Tier::Premium, Role::Moderator, None),
        reqwest::Method::PATCH,
        &format!("/v1/rules/{id}"),
        Some(json!({"version": 1, "regions": ["KZ"], "note": "only KZ"})),
    );
    ensure!(status == 200, "{bob}");
    browser.type_into("#f-note", "alice's edit")?;
    browser.click("#f-save")?;
    browser.wait_text("#form-msg", "Conflict")?;
    browser.click("#f-reload")?;
    browser.wait_text("#form-title", "version 2")?;
    ensure!(
        browser.exec(
            "return document.getElementById('f-regions').value",
            json!([])
        )? == "KZ"
    );
    browser.type_into("#f-note", "alice's edit")?;
    browser.click("#f-save")?;
    browser.wait_text("#status", "version 3")?;

    // Disable, then delete the markup rule (the prompt asks why).
    click_in_row(&browser, "spiceword", "toggle")?;
    browser.wait_text("#status", "disabled")?;
    ensure!(row_field(&browser, "spiceword", "enabled")? == "no");
    click_in_row(&browser, XSS_RULE, "delete")?;
    browser.answer_prompt("cleanup")?;
    browser.wait_text("#status", "Deleted rule")?;
    let (_, rules) = api(&server, &alice, reqwest::Method::GET, "/v1/rules", None);
    ensure!(
        rules["rules"].as_array().map(Vec::len) == Some(1),
        "{rules}"
    );

    // The review queue: a held post with markup in its text, shown as text.
    let (status, held) = api(
        &server,
        &alice,
        reqwest::Method::POST,
        "/v1/rules",
        Some(json!({"kind": "term", "pattern": "heldword", "action": "review"})),
    );
    ensure!(status == 201, "{held}");
    server.ingest(&post(
        "shop_four",
        5,
        1,
        "2026-11-21T11:00:00Z",
        &format!("heldword {XSS_POST}"),
    ));
    browser.click(".tab[data-tab=review]")?;
    let review = browser.wait(
        "the review queue",
        "const rows = [...document.querySelectorAll('#review-table tr.item')];
         const held = rows.find(r => r.querySelector('.text').textContent.includes('heldword'));
         if (held) return {text: held.querySelector('.text').textContent};
         const msg = document.getElementById('review-msg').textContent;
         return msg ? {error: msg} : null;",
        json!([]),
    )?;
    ensure!(
        review["error"].is_null(),
        "the review queue failed: {review}"
    );
    ensure!(
        review["text"]
            .as_str()
            .unwrap_or_default()
            .contains("<script>alert(1)</script>"),
        "{review}"
    );
    assert_nothing_ran(&browser)?;
    ensure!(
        server.visible_keys("heldword", None).is_empty(),
        "held posts are not shown before approval"
    );
    let approve = browser.find_js(
        "the approve button",
        "const row = [...document.querySelectorAll('#review-table tr.item')]
            .find(r => r.querySelector('.text').textContent.includes('heldword'));
         return row ? row.querySelector('button.approve') : null;",
        json!([]),
    )?;
    browser.click_element(&approve)?;
    browser.wait_text("#status", "approved")?;
    ensure!(
        server.visible_keys("heldword", None) == ["shop_four/1"],
        "the approved post shows in a user's search"
    );

    // Classifier settings: a threshold changed and saved.
    browser.click(".tab[data-tab=classifiers]")?;
    browser.find("#classifiers-table tr.classifier .c-threshold")?;
    browser.type_into("#classifiers-table tr.classifier .c-threshold", "0.9")?;
    browser.type_into("#classifiers-note", "test threshold")?;
    browser.click("#classifiers-save")?;
    browser.wait_text("#classifiers-msg", "Saved")?;
    let (_, settings) = api(
        &server,
        &alice,
        reqwest::Method::GET,
        "/v1/classifiers",
        None,
    );
    ensure!(
        settings["classifiers"][0]["threshold"] == json!(0.9),
        "{settings}"
    );

    assert_nothing_ran(&browser)?;
    // Signing out forgets the token.
    browser.click("#signout")?;
    ensure!(
        browser.exec("return sessionStorage.length", json!([]))? == 0,
        "the token outlived sign-out"
    );
    Ok(())
}
