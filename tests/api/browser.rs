//! What a real browser sees, in Debian's headless Chromium driven over CDP: the example page
//! (examples/web) on another origin paging through a client and showing every image, and
//! GraphiQL running its default document.
//!
//! Chromium (`/usr/bin/chromium`, or `CHROMIUM`) and Node.js (for the example's own backend)
//! are installed by `.ci/run`; with `CI=true` a missing one fails the test, elsewhere the
//! test says it was skipped and why.

use std::{
    path::PathBuf,
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use chromiumoxide::{
    cdp::{
        browser_protocol::log::{EnableParams, EventEntryAdded},
        js_protocol::runtime::{EventConsoleApiCalled, EventExceptionThrown},
    },
    Browser, BrowserConfig, Page,
};
use complycube_graphql::{
    auth::{Authentication, Credentials, JwtSettings, Secret},
    http::cors::CorsPolicy,
    images::{urls::Fallback, ImageUrlSettings, ImageUrls},
};
use futures::StreamExt;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::{helpers::*, tokens::SECRET};

/// The longest any one wait for the page may take before the test fails (a wait for a
/// condition, polled: nothing here passes by timing).
const PATIENCE: Duration = Duration::from_secs(60);

/// A program the test needs, or why it is skipped; with `CI=true`, its absence fails.
fn needed(name: &str, candidates: &[&str]) -> Option<PathBuf> {
    let found = candidates.iter().map(PathBuf::from).find(|p| p.exists());
    if found.is_none() {
        let why =
            format!("{name} is not installed (looked for {candidates:?}); .ci/run installs it");
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{why}");
        }
        eprintln!("SKIPPED: {why}");
    }
    found
}

fn chromium() -> Option<PathBuf> {
    let from_env = std::env::var("CHROMIUM").ok();
    let mut candidates = vec!["/usr/bin/chromium", "/usr/bin/chromium-browser"];
    if let Some(path) = from_env.as_deref() {
        candidates.insert(0, path);
    }
    needed("Chromium", &candidates)
}

fn node() -> Option<PathBuf> {
    needed("Node.js", &["/usr/bin/node", "/usr/local/bin/node"])
}

/// Headless Chromium as the machine's notes say it runs here: no sandbox (root), no GPU,
/// none of the background connections a closed network refuses; a tall window, so that
/// every lazy image of a page is in view.
async fn launch(chromium: &PathBuf) -> (Browser, tokio::task::JoinHandle<()>, tempdir::Dir) {
    let profile = tempdir::Dir::new("chromium-profile");
    let config = BrowserConfig::builder()
        .chrome_executable(chromium)
        .new_headless_mode()
        .no_sandbox()
        .user_data_dir(&profile.0)
        .window_size(1280, 4000)
        .args([
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .build()
        .unwrap();
    let (browser, mut handler) = Browser::launch(config).await.expect("Chromium starts");
    let events = tokio::spawn(async move { while handler.next().await.is_some() {} });
    (browser, events, profile)
}

/// What the page reported that a user would call broken: console errors and warnings,
/// uncaught exceptions.
#[derive(Clone, Default)]
struct Console(Arc<Mutex<Vec<String>>>);

impl Console {
    async fn watch(page: &Page) -> Self {
        let console = Self::default();
        page.execute(EnableParams::default()).await.unwrap();
        let mut entries = page.event_listener::<EventEntryAdded>().await.unwrap();
        let mut calls = page
            .event_listener::<EventConsoleApiCalled>()
            .await
            .unwrap();
        let mut thrown = page.event_listener::<EventExceptionThrown>().await.unwrap();
        let seen = console.0.clone();
        tokio::spawn(async move {
            loop {
                let line = tokio::select! {
                    Some(e) = entries.next() => format!("log {:?}: {} {}", e.entry.level, e.entry.text, e.entry.url.clone().unwrap_or_default()),
                    Some(e) = calls.next() => format!("console {:?}: {}", e.r#type, serde_json::to_string(&e.args).unwrap_or_default()),
                    Some(e) = thrown.next() => format!("exception: {}", e.exception_details.text),
                    else => break,
                };
                seen.lock().unwrap().push(line);
            }
        });
        console
    }

    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

async fn eval(page: &Page, js: &str) -> Value {
    page.evaluate(js)
        .await
        .unwrap_or_else(|e| panic!("{js}: {e}"))
        .into_value()
        .unwrap_or(Value::Null)
}

/// Polls `js` until it is `true`, for at most [`PATIENCE`].
async fn until(page: &Page, js: &str, what: &str) {
    let started = std::time::Instant::now();
    while eval(page, js).await != Value::Bool(true) {
        assert!(started.elapsed() < PATIENCE, "waited too long for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clicks what `selector` finds as a user would (a pointer press and release), once it is
/// there. A page that renders again between finding the element and clicking it (React
/// does) leaves a node id that no longer exists: the element is found again, up to
/// [`PATIENCE`].
async fn click(page: &Page, selector: &str) {
    let started = std::time::Instant::now();
    loop {
        let clicked = match page.find_element(selector).await {
            Ok(element) => element.click().await.map(|_| ()),
            Err(e) => Err(e),
        };
        match clicked {
            Ok(()) => return,
            Err(e) => assert!(
                started.elapsed() < PATIENCE,
                "could not click {selector}: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The example's own backend (`node examples/web/backend.mjs`) on a free port: its origin.
async fn example_backend(node: &PathBuf) -> (tokio::process::Child, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/web/backend.mjs");
    let mut child = tokio::process::Command::new(node)
        .arg(script)
        .env("PORT", "0")
        .env("FACADE_JWT_SECRET", SECRET)
        .env("FACADE_JWT_ISSUER", "example-backend")
        .env("FACADE_JWT_AUDIENCE", "complycube-graphql")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines
        .next_line()
        .await
        .unwrap()
        .expect("the backend says where it listens");
    let origin = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    (child, origin)
}

#[tokio::test]
async fn the_example_page_on_another_origin_shows_every_photo_of_a_client() {
    let (Some(chromium), Some(node)) = (chromium(), node()) else {
        return;
    };
    let (_backend, origin) = example_backend(&node).await;
    let app = TestApp::spawn_with(|config| {
        config.access.cors = CorsPolicy::Origins(vec![origin.clone()]);
        config.access.auth = Authentication::Verify(Credentials {
            tokens: vec![],
            jwt: Some(JwtSettings {
                secret: Some(Secret::new(SECRET)),
                issuer: Some("example-backend".into()),
                audience: Some("complycube-graphql".into()),
                ..JwtSettings::new()
            }),
        });
        config.images.urls.secrets = vec![IMAGE_SECRET.into()];
    })
    .await;
    let api = format!("http://{}", app.addr);
    let (mut browser, events, _profile) = launch(&chromium).await;
    let page = browser.new_page("about:blank").await.unwrap();
    let console = Console::watch(&page).await;
    page.goto(format!("{origin}/?api={api}&client={THIRTY_SEVEN}"))
        .await
        .unwrap();
    // Page to the end of the client's 37 photos, a click on "Load more" at a time.
    until(&page, "window.__photos?.shown > 0", "the first page").await;
    loop {
        let state = eval(&page, "window.__photos").await;
        assert_eq!(state["errors"], Value::Array(vec![]), "{state}");
        if state["done"] == true {
            break;
        }
        let shown = state["shown"].as_u64().unwrap();
        eval(&page, "document.querySelector('#more').click()").await;
        until(
            &page,
            &format!("window.__photos.shown > {shown} || window.__photos.errors.length > 0"),
            "the next page",
        )
        .await;
    }
    let state = eval(&page, "window.__photos").await;
    assert_eq!(
        (state["shown"].as_u64(), state["total"].as_u64()),
        (Some(37), Some(37)),
        "{state}"
    );
    // Every thumbnail decodes: it was loaded, with no Authorization, from another origin.
    until(
        &page,
        "[...document.querySelectorAll('#grid img')].every(i => i.complete && i.naturalWidth > 0)",
        "every thumbnail",
    )
    .await;
    let count = eval(&page, "document.querySelectorAll('#grid img').length").await;
    assert_eq!(count, 37);
    let widths = eval(
        &page,
        "[...new Set([...document.querySelectorAll('#grid img')].map(i => i.naturalWidth))]",
    )
    .await;
    assert!(
        widths
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w.as_u64().unwrap() <= 512),
        "{widths}"
    );
    // A click opens the original.
    eval(&page, "document.querySelector('#grid img').click()").await;
    until(
        &page,
        "!document.querySelector('#lightbox').hidden && original.complete && original.naturalWidth > 0",
        "the original",
    )
    .await;
    // An expired URL is a failed image, not a failed page.
    let signer = ImageUrls::new(
        &ImageUrlSettings {
            secrets: vec![Secret::new(IMAGE_SECRET)],
            ..ImageUrlSettings::default()
        },
        Fallback::Forwarding,
    )
    .unwrap();
    let expired = signer.mint(
        &photo_ids(THIRTY_SEVEN)[0],
        Some(256),
        None,
        SystemTime::now() - Duration::from_secs(3600),
    );
    let series = r#"complycube_graphql_image_requests_total{status="410",width="unverified"}"#;
    let before = crate::ops::sample(&crate::ops::scrape(&app).await, series);
    eval(
        &page,
        &format!(
            "(() => {{ const img = document.createElement('img'); img.id = 'expired'; \
           img.addEventListener('error', () => img.classList.add('failed')); \
           img.src = new URL('{expired}', '{api}').href; document.body.append(img); }})()"
        ),
    )
    .await;
    until(
        &page,
        "document.querySelector('#expired').classList.contains('failed')",
        "the expired image to fail",
    )
    .await;
    assert_eq!(
        eval(&page, "document.querySelector('#expired').naturalWidth").await,
        0
    );
    let state = eval(&page, "window.__photos").await;
    assert_eq!(state["errors"], Value::Array(vec![]), "{state}");
    assert_eq!(state["violations"], Value::Array(vec![]), "{state}");
    // Nothing the console shows is a CORS or CSP refusal, or an exception.
    // The browser did load it, and was told 410.
    let after = crate::ops::sample(&crate::ops::scrape(&app).await, series);
    assert!(after >= before + 1.0, "{before} -> {after}");
    let lines = console.lines();
    let bad: Vec<&String> = lines
        .iter()
        .filter(|line| !line.contains(" 410 "))
        .filter(|line| {
            [
                "CORS",
                "Access-Control",
                "Content Security Policy",
                "Refused",
                "exception",
                "Error",
            ]
            .iter()
            .any(|word| line.contains(word))
        })
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    browser.close().await.ok();
    events.abort();
}

#[tokio::test]
async fn graphiql_loads_runs_its_default_document_and_shows_the_result() {
    let Some(chromium) = chromium() else {
        return;
    };
    let app = TestApp::spawn().await;
    let (mut browser, events, _profile) = launch(&chromium).await;
    let page = browser.new_page("about:blank").await.unwrap();
    let console = Console::watch(&page).await;
    page.goto(app.url("/")).await.unwrap();
    until(
        &page,
        "!!document.querySelector('.graphiql-execute-button')",
        "GraphiQL",
    )
    .await;
    // Two operations: the button opens a menu (on a pointer press, as a user's would);
    // the first operation of it.
    click(&page, ".graphiql-execute-button").await;
    until(
        &page,
        "!!document.querySelector('[role=menuitem]')",
        "the operation menu",
    )
    .await;
    click(&page, "[role=menuitem]").await;
    until(
        &page,
        "document.body.innerText.includes('\"totalCount\": 1')",
        "the result",
    )
    .await;
    let text = eval(
        &page,
        "document.querySelector('.result-window')?.innerText ?? document.body.innerText",
    )
    .await;
    let text = text.as_str().unwrap();
    assert!(
        text.contains("\"data\"") && !text.contains("\"errors\""),
        "{text}"
    );
    let lines = console.lines();
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("Content Security Policy") || l.contains("exception")),
        "{lines:#?}"
    );
    browser.close().await.ok();
    events.abort();
}

/// A directory that is removed when dropped.
mod tempdir {
    pub struct Dir(pub std::path::PathBuf);

    impl Dir {
        pub fn new(name: &str) -> Self {
            let path = std::env::temp_dir().join(format!(
                "complycube-graphql-{name}-{}-{}",
                std::process::id(),
                rand_suffix()
            ));
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn rand_suffix() -> u64 {
        use std::hash::{BuildHasher, RandomState};
        RandomState::new().hash_one(std::time::SystemTime::now())
    }
}
