//! The console's single sign-on against the real OpenID provider
//! (`auth/test-provider`, npm oidc-provider) and a real updraft with `[auth]`
//! on: the login, the session, refresh, logout, and each attack on them.
//! A small cookie-keeping client plays the browser.

#[allow(dead_code)]
#[path = "../../../controlplane/admin/tests/sso/provider.rs"]
mod provider;

use std::collections::BTreeMap;

use provider::{API, Provider, free_port};
use reqwest::{Method, StatusCode, Url};
use tempfile::TempDir;
use updraft::config::{CommandLineOverrides, Config};
use updraft::startup::Application;

/// A provider and an updraft whose console logs in at it.
struct Site {
    provider: Provider,
    origin: String,
    _data_dir: TempDir,
}

impl Site {
    /// `provider_knobs` tune the provider (`API_AT_TTL`…); `console` adds
    /// lines to `[auth.console]`.
    async fn start(provider_knobs: &[(&str, &str)], console: &str) -> Self {
        Self::start_on(provider_knobs, console, "").await
    }

    /// As [`Site::start`], with `sections` (such as `[database]`) first.
    async fn start_on(provider_knobs: &[(&str, &str)], console: &str, sections: &str) -> Self {
        let port = free_port();
        let origin = format!("http://127.0.0.1:{port}");
        let provider = Provider::start_for(provider_knobs, &origin).await;
        let data_dir = tempfile::tempdir().unwrap();
        let config_path = data_dir.path().join("updraft.toml");
        std::fs::write(
            &config_path,
            format!(
                "{sections}\n[auth]\nissuer = \"{issuer}\"\naudience = \"{API}\"\n\
                 allowed_clock_skew_secs = 0\n\
                 [auth.roles]\nupdraft-admins = \"admin\"\nupdraft-viewers = \"viewer\"\n\
                 [auth.console]\nclient_id = \"updraft-console\"\nclient_secret = \"console-secret\"\n\
                 scopes = [\"openid\", \"profile\", \"email\", \"groups\", \"api:read\", \"api:write\"]\n\
                 {console}\n",
                issuer = provider.issuer,
            ),
        )
        .unwrap();
        let overrides = CommandLineOverrides {
            addr: Some(format!("127.0.0.1:{port}").parse().unwrap()),
            data_dir: Some(data_dir.path().to_path_buf()),
            ..CommandLineOverrides::default()
        };
        let config = Config::load(Some(&config_path), Vec::new(), &overrides).unwrap();
        let application = Application::build(config).await.expect("updraft starts");
        tokio::spawn(application.run_until(std::future::pending()));
        Self {
            provider,
            origin,
            _data_dir: data_dir,
        }
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("{}{path}", self.origin)).unwrap()
    }
}

/// What came back from one request.
struct Answer {
    url: Url,
    status: StatusCode,
    location: Option<Url>,
    set_cookies: Vec<String>,
    body: String,
}

/// A browser as far as logins go: cookies per origin, redirects followed
/// by hand, the provider's login form filled in.
struct Browser {
    http: reqwest::Client,
    cookies: BTreeMap<String, BTreeMap<String, String>>,
}

fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

impl Browser {
    fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    /// One request with this browser's cookies for the URL's origin; a
    /// request from the console's own pages says so (`Sec-Fetch-Site`).
    async fn send(
        &mut self,
        method: Method,
        url: Url,
        form: Option<&[(&str, &str)]>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let jar = self.cookies.entry(origin_of(&url)).or_default();
        let cookie = jar
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut request = self.http.request(method, url.clone());
        if !cookie.is_empty() {
            request = request.header("cookie", cookie);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(form) = form {
            request = request.form(form);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let set_cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|value| value.to_str().unwrap().to_string())
            .collect();
        for header in &set_cookies {
            let pair = header.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let expired = header.to_ascii_lowercase().contains("max-age=0");
            if expired || value.is_empty() {
                jar.remove(name);
            } else {
                jar.insert(name.to_string(), value.to_string());
            }
        }
        let location = response
            .headers()
            .get("location")
            .map(|location| url.join(location.to_str().unwrap()).unwrap());
        let body = response.text().await.unwrap();
        Answer {
            url,
            status,
            location,
            set_cookies,
            body,
        }
    }

    async fn get(&mut self, url: Url) -> Answer {
        self.send(Method::GET, url, None, &[]).await
    }

    /// Follows redirects from `url` (signing in at the provider's form as
    /// `user` when it asks) until `stop` says so or a page answers.
    async fn follow(
        &mut self,
        url: Url,
        user: (&str, &str),
        stop: impl Fn(&Url) -> bool,
    ) -> Answer {
        let mut next = (Method::GET, url, None::<Vec<(String, String)>>);
        for _ in 0..20 {
            let (method, url, form) = next;
            if stop(&url) {
                return Answer {
                    url,
                    status: StatusCode::OK,
                    location: None,
                    set_cookies: Vec::new(),
                    body: String::new(),
                };
            }
            let form_pairs: Option<Vec<(&str, &str)>> = form
                .as_ref()
                .map(|form| form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect());
            let answer = self
                .send(method, url.clone(), form_pairs.as_deref(), &[])
                .await;
            if let Some(location) = answer.location.clone() {
                next = (Method::GET, location, None);
            } else if answer.status.is_success() && url.path().starts_with("/interaction/") {
                let login = url.join(&format!("{}/login", url.path())).unwrap();
                next = (
                    Method::POST,
                    login,
                    Some(vec![
                        ("username".into(), user.0.into()),
                        ("password".into(), user.1.into()),
                    ]),
                );
            } else {
                return answer;
            }
        }
        panic!("too many redirects");
    }

    /// Signs in through the console and returns where it landed.
    async fn sign_in(&mut self, site: &Site, return_to: &str, user: (&str, &str)) -> Answer {
        let start = site.url(&format!("/auth/login?return_to={return_to}"));
        let console = site.origin.clone();
        self.follow(start, user, move |url| {
            origin_of(url) == console
                && url.path() != "/auth/login"
                && url.path() != "/auth/callback"
        })
        .await
    }

    /// Starts a login and stops at the provider's redirect back, returning
    /// the callback URL (code, state, iss) without visiting it.
    async fn callback_url(&mut self, site: &Site, user: (&str, &str)) -> Url {
        let console = site.origin.clone();
        let stop = move |url: &Url| origin_of(url) == console && url.path() == "/auth/callback";
        let mut next = site.url("/auth/login");
        // Visit /auth/login for the pending login, then follow to the provider.
        let first = self.get(next.clone()).await;
        next = first.location.expect("login redirects to the provider");
        let answer = self.follow(next, user, stop).await;
        answer.url
    }

    fn session_cookie(&self, site: &Site) -> Option<String> {
        self.cookies
            .get(&site.origin)
            .and_then(|jar| jar.get("__Host-updraft").cloned())
    }

    /// A server function call from the console's page.
    async fn call(&mut self, site: &Site, function: &str, form: &[(&str, &str)]) -> Answer {
        self.send(
            Method::POST,
            site.url(&format!("/api/{function}")),
            Some(form),
            &[
                ("accept", "application/json"),
                ("sec-fetch-site", "same-origin"),
            ],
        )
        .await
    }
}

const ALICE: (&str, &str) = ("alice", "alice-password");
const BOB: (&str, &str) = ("bob", "bob-password");

fn query(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.to_string())
}

#[tokio::test]
async fn a_person_signs_in_uses_the_console_and_signs_out() {
    let site = Site::start(&[], "").await;
    let mut browser = Browser::new();

    // A page without a session sends the person to log in, and back.
    let page = browser
        .get(site.url("/console/projects/flytesnacks/domains/development/executions?phase=FAILED"))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let login = page.location.unwrap();
    assert_eq!(login.path(), "/auth/login");
    assert_eq!(
        query(&login, "return_to").as_deref(),
        Some("/console/projects/flytesnacks/domains/development/executions?phase=FAILED")
    );

    // The authorization request: PKCE S256, a nonce and a state, the API resource.
    let started = browser.get(login.clone()).await;
    let authorize = started.location.clone().unwrap();
    assert!(authorize.as_str().starts_with(&site.provider.issuer));
    assert_eq!(
        query(&authorize, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(query(&authorize, "code_challenge").is_some_and(|c| c.len() >= 43));
    assert!(query(&authorize, "nonce").is_some_and(|n| n.len() >= 16));
    assert!(query(&authorize, "state").is_some_and(|s| s.len() >= 16));
    assert_eq!(query(&authorize, "resource").as_deref(), Some(API));
    assert!(
        !query(&authorize, "scope")
            .unwrap()
            .contains("offline_access")
    );
    // The session cookie: host-only, secure on loopback, script cannot read it.
    let cookie = started
        .set_cookies
        .iter()
        .find(|cookie| cookie.starts_with("__Host-updraft="))
        .expect("a __Host- session cookie");
    let flags = cookie.to_ascii_lowercase();
    for flag in ["httponly", "secure", "samesite=lax", "path=/"] {
        assert!(flags.contains(flag), "{flag} missing from {cookie}");
    }
    assert!(!flags.contains("domain="), "{cookie}");
    let pre_login_session = browser.session_cookie(&site).unwrap();

    // Signing in at the provider lands on the page asked for.
    let authorize_answer = browser
        .follow(authorize, ALICE, |url| url.path() == "/auth/callback")
        .await;
    let landed = browser.get(authorize_answer.url).await;
    assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.body);
    assert_eq!(
        landed.location.unwrap().as_str(),
        site.url("/console/projects/flytesnacks/domains/development/executions?phase=FAILED")
            .as_str()
    );

    // Session fixation: the id before login is not the signed-in one.
    let session = browser.session_cookie(&site).unwrap();
    assert_ne!(session, pre_login_session);
    let mut attacker = Browser::new();
    attacker
        .cookies
        .entry(site.origin.clone())
        .or_default()
        .insert("__Host-updraft".into(), pre_login_session);
    assert_eq!(
        attacker.get(site.url("/auth/me")).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Who is signed in, and what they may do.
    let me = browser.get(site.url("/auth/me")).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    let me: serde_json::Value = serde_json::from_str(&me.body).unwrap();
    assert_eq!(me["name"], "Alice Admin");
    assert_eq!(me["default_role"], "admin");
    assert!(
        me["groups"]
            .as_array()
            .unwrap()
            .contains(&"updraft-admins".into())
    );

    // The console's pages and API work with the forwarded token, and no
    // token ever reaches the browser.
    let page = browser
        .get(site.url("/console/projects/flytesnacks/domains/development/executions"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Alice Admin"),
        "the header names the person"
    );
    let projects = browser.call(&site, "list_projects", &[]).await;
    assert_eq!(projects.status, StatusCode::OK, "{}", projects.body);
    assert!(projects.body.contains("flytesnacks"));
    for body in [&page.body, &projects.body] {
        assert!(!body.contains("eyJ"), "a token leaked into a response");
    }

    // Another site cannot make the signed-in browser change anything.
    for headers in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("origin", "http://evil.example")],
        vec![],
    ] {
        let forged = browser
            .send(
                Method::POST,
                site.url("/api/terminate_execution"),
                Some(&[
                    ("project", "flytesnacks"),
                    ("domain", "development"),
                    ("name", "anything"),
                    ("cause", "forged"),
                ]),
                &headers,
            )
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{headers:?}");
    }

    // Logout cannot be forced from elsewhere.
    assert_eq!(
        browser.get(site.url("/auth/logout")).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    for headers in [
        vec![("origin", "http://evil.example")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![],
    ] {
        let refused = browser
            .send(Method::POST, site.url("/auth/logout"), Some(&[]), &headers)
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{headers:?}");
    }
    assert_eq!(
        browser.get(site.url("/auth/me")).await.status,
        StatusCode::OK
    );

    // A real logout ends the session on the server and at the provider.
    let signed_in_cookie = browser.session_cookie(&site).unwrap();
    let out = browser
        .send(
            Method::POST,
            site.url("/auth/logout"),
            Some(&[]),
            &[("origin", &site.origin)],
        )
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let end_session = out.location.unwrap();
    assert!(end_session.as_str().starts_with(&site.provider.issuer));
    assert_eq!(end_session.path(), "/session/end");
    assert!(query(&end_session, "id_token_hint").is_some());
    assert_eq!(
        query(&end_session, "post_logout_redirect_uri").as_deref(),
        Some(site.url("/auth/logged-out").as_str())
    );
    assert!(
        browser.session_cookie(&site).is_none(),
        "the cookie is expired"
    );
    let mut replay = Browser::new();
    replay
        .cookies
        .entry(site.origin.clone())
        .or_default()
        .insert("__Host-updraft".into(), signed_in_cookie);
    assert_eq!(
        replay.get(site.url("/auth/me")).await.status,
        StatusCode::UNAUTHORIZED
    );
    let api = replay.call(&site, "list_projects", &[]).await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert!(api.body.contains("NotSignedIn"), "{}", api.body);

    // Confirming at the provider ends its session: the next login asks
    // for the password again.
    let confirm = browser.get(end_session).await;
    let xsrf = confirm
        .body
        .split("name=\"xsrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the provider's logout confirmation form")
        .to_string();
    let confirmed = browser
        .send(
            Method::POST,
            Url::parse(&format!("{}/session/end/confirm", site.provider.issuer)).unwrap(),
            Some(&[("xsrf", &xsrf), ("logout", "yes")]),
            &[],
        )
        .await;
    let logged_out = confirmed.location.expect("back to the console");
    assert_eq!(logged_out.path(), "/auth/logged-out");
    assert!(browser.get(logged_out).await.body.contains("signed out"));
    let again = browser.get(site.url("/auth/login")).await;
    let interaction = browser
        .follow(again.location.unwrap(), ("", ""), |url| {
            url.path().starts_with("/interaction/")
        })
        .await;
    assert!(
        interaction.url.path().starts_with("/interaction/"),
        "asks to log in again"
    );
}

#[tokio::test]
async fn forged_replayed_and_foreign_callbacks_are_refused() {
    let site = Site::start(&[], "").await;

    // A forged state fails, and spends the login: the genuine answer fails too.
    let mut browser = Browser::new();
    let callback = browser.callback_url(&site, ALICE).await;
    let mut forged = callback.clone();
    forged.query_pairs_mut().clear();
    for (key, value) in callback.query_pairs() {
        let value = if key == "state" {
            "forged".to_string()
        } else {
            value.to_string()
        };
        forged.query_pairs_mut().append_pair(&key, &value);
    }
    let refused = browser.get(forged).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("state does not match"),
        "{}",
        refused.body
    );
    assert_eq!(browser.get(callback).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        browser.get(site.url("/auth/me")).await.status,
        StatusCode::UNAUTHORIZED
    );

    // A code injected into another browser (no login of its own) fails.
    let mut victim_of_injection = Browser::new();
    let mut attacker = Browser::new();
    let injected = attacker.callback_url(&site, BOB).await;
    let refused = victim_of_injection.get(injected.clone()).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("no login is in progress"),
        "{}",
        refused.body
    );

    // A replayed callback fails after a successful login.
    let landed = attacker.get(injected.clone()).await;
    assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.body);
    assert_eq!(
        attacker.get(site.url("/auth/me")).await.status,
        StatusCode::OK
    );
    assert_eq!(attacker.get(injected).await.status, StatusCode::BAD_REQUEST);

    // An answer naming another issuer (a mix-up) fails.
    let mut browser = Browser::new();
    let callback = browser.callback_url(&site, ALICE).await;
    let mut mixed_up = callback.clone();
    mixed_up.query_pairs_mut().clear();
    for (key, value) in callback.query_pairs() {
        let value = if key == "iss" {
            "http://127.0.0.1:1".to_string()
        } else {
            value.to_string()
        };
        mixed_up.query_pairs_mut().append_pair(&key, &value);
    }
    assert_eq!(browser.get(mixed_up).await.status, StatusCode::BAD_REQUEST);

    // The provider itself refuses an authorization without PKCE.
    let mut no_pkce = Url::parse(&format!("{}/auth", site.provider.issuer)).unwrap();
    no_pkce
        .query_pairs_mut()
        .append_pair("client_id", "updraft-console")
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", site.url("/auth/callback").as_str())
        .append_pair("scope", "openid")
        .append_pair("state", "s")
        .append_pair("nonce", "n");
    let answer = Browser::new().get(no_pkce).await;
    let back = answer.location.expect("an error redirect to the console");
    assert_eq!(query(&back, "error").as_deref(), Some("invalid_request"));
    assert!(query(&back, "error_description").unwrap().contains("PKCE"));
}

#[tokio::test]
async fn return_to_never_leaves_the_site() {
    let site = Site::start(&[], "").await;
    for hostile in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let mut browser = Browser::new();
        let encoded: String = url_encode(hostile);
        let landed = browser.sign_in(&site, &encoded, ALICE).await;
        assert_eq!(landed.url.as_str(), site.url("/").as_str(), "{hostile}");
    }
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn concurrent_requests_share_one_refresh() {
    concurrent_requests_share_one_refresh_with("").await;
}

#[tokio::test]
async fn concurrent_requests_share_one_refresh_of_sealed_tokens() {
    concurrent_requests_share_one_refresh_with(&format!(
        "sessions = \"database\"\ntoken_encryption_keys = [\"{FIRST_KEY}\"]"
    ))
    .await;
}

/// `console` adds lines to `[auth.console]` (such as the session store).
async fn concurrent_requests_share_one_refresh_with(console: &str) {
    // API tokens live 3 s and are used until they expire.
    let site = Site::start(
        &[("API_AT_TTL", "3")],
        &format!("refresh_margin_secs = 0\n{console}"),
    )
    .await;
    let mut browser = Browser::new();
    browser.sign_in(&site, "/", ALICE).await;
    assert_eq!(
        browser.call(&site, "list_projects", &[]).await.status,
        StatusCode::OK
    );

    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    // Eight calls at once with an expired token: one refresh serves them all.
    // Two refreshes would reuse a rotated refresh token, and the provider
    // would revoke the grant and end the session.
    let cookie = browser.session_cookie(&site).unwrap();
    let calls = (0..8).map(|_| {
        let mut copy = Browser::new();
        copy.cookies
            .entry(site.origin.clone())
            .or_default()
            .insert("__Host-updraft".into(), cookie.clone());
        let site = &site;
        async move { copy.call(site, "list_projects", &[]).await }
    });
    for answer in futures::future::join_all(calls).await {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let later = browser.call(&site, "list_projects", &[]).await;
    assert_eq!(later.status, StatusCode::OK, "{}", later.body);
    assert_eq!(
        browser.get(site.url("/auth/me")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_viewer_sees_but_cannot_act() {
    let site = Site::start(&[], "").await;
    let mut browser = Browser::new();
    browser.sign_in(&site, "/", BOB).await;
    let me: serde_json::Value =
        serde_json::from_str(&browser.get(site.url("/auth/me")).await.body).unwrap();
    assert_eq!(me["default_role"], "viewer");

    assert_eq!(
        browser.call(&site, "list_projects", &[]).await.status,
        StatusCode::OK
    );
    let refused = browser
        .call(
            &site,
            "terminate_execution",
            &[
                ("project", "flytesnacks"),
                ("domain", "development"),
                ("name", "anything"),
                ("cause", "trying"),
            ],
        )
        .await;
    assert!(!refused.status.is_success());
    assert!(
        refused
            .body
            .contains("needs the contributor role in project flytesnacks"),
        "{}",
        refused.body
    );
}

#[tokio::test]
async fn sessions_kept_in_sqlite_are_shared_by_consoles() {
    sessions_in_the_database_are_shared_by_consoles(None).await;
}

#[tokio::test]
async fn sessions_kept_in_postgres_are_shared_by_consoles() {
    let Ok(server) = std::env::var("UPDRAFT_TEST_POSTGRES") else {
        eprintln!("UPDRAFT_TEST_POSTGRES is not set; skipping");
        return;
    };
    use sqlx::Connection;
    let name = format!("login_{}", hex::encode(rand::random::<[u8; 8]>()));
    let mut connection = sqlx::postgres::PgConnection::connect(&server)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut connection)
        .await
        .unwrap();
    let (base, _) = server.split('?').next().unwrap().rsplit_once('/').unwrap();
    sessions_in_the_database_are_shared_by_consoles(Some(format!("{base}/{name}"))).await;
}

/// Two token encryption keys, as `openssl rand -base64 32` makes them.
const FIRST_KEY: &str = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=";
const SECOND_KEY: &str = "EjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjQ=";

/// Every row of the console's token table: handle, key id, sealed bytes.
async fn stored_token_rows(database_url: &str) -> Vec<(String, String, Vec<u8>)> {
    use sqlx::Connection;
    const SELECT: &str = "SELECT handle, key_id, sealed_tokens FROM console_tokens";
    if database_url.starts_with("postgres") {
        let mut connection = sqlx::PgConnection::connect(database_url).await.unwrap();
        sqlx::query_as(SELECT)
            .fetch_all(&mut connection)
            .await
            .unwrap()
    } else {
        let mut connection = sqlx::SqliteConnection::connect(database_url).await.unwrap();
        sqlx::query_as(SELECT)
            .fetch_all(&mut connection)
            .await
            .unwrap()
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// A second console on the same database (another replica) knows a
/// session the first one started, and the database holds its tokens
/// sealed only, even after a key rotation.
async fn sessions_in_the_database_are_shared_by_consoles(postgres_url: Option<String>) {
    let database = postgres_url
        .as_ref()
        .map(|url| format!("[database]\nurl = \"{url}\"\n"))
        .unwrap_or_default();
    let site = Site::start_on(
        &[],
        &format!("sessions = \"database\"\ntoken_encryption_keys = [\"{FIRST_KEY}\"]"),
        &database,
    )
    .await;
    let mut browser = Browser::new();
    browser.sign_in(&site, "/", ALICE).await;
    assert_eq!(
        browser.get(site.url("/auth/me")).await.status,
        StatusCode::OK
    );

    let data_dir = site._data_dir.path();
    let database_url = postgres_url
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("updraft.db").display()));
    let rows = stored_token_rows(&database_url).await;
    assert_eq!(rows.len(), 1, "one signed-in session, one token set");
    let (handle, key_id, sealed) = &rows[0];
    use updraft::login::token_encryption::{TokenCipher, TokenEncryptionKeys};
    let first_key = TokenCipher::new(&TokenEncryptionKeys::parse([FIRST_KEY]).unwrap()).unwrap();
    assert_eq!(key_id, first_key.newest_key_id());
    let opened: serde_json::Value =
        serde_json::from_slice(&first_key.open(handle, key_id, sealed).unwrap()).unwrap();
    let access_token = opened["access_token"].as_str().unwrap();
    assert!(access_token.len() > 20, "{opened}");
    let mut tokens = vec![access_token.to_string()];
    tokens.extend(opened["refresh_token"].as_str().map(String::from));
    for token in &tokens {
        assert!(!contains(sealed, token), "a token is stored in the clear");
        assert!(!contains(handle.as_bytes(), token));
    }
    if database_url.starts_with("sqlite") {
        // Nowhere in the database's files (the session records included).
        for file in ["updraft.db", "updraft.db-wal"] {
            let Ok(bytes) = std::fs::read(data_dir.join(file)) else {
                continue;
            };
            for token in &tokens {
                assert!(
                    !contains(&bytes, token),
                    "{file} holds a token in the clear"
                );
            }
        }
    }

    let port = free_port();
    let config_path = data_dir.join("updraft.toml");
    let overrides = CommandLineOverrides {
        addr: Some(format!("127.0.0.1:{port}").parse().unwrap()),
        data_dir: Some(data_dir.to_path_buf()),
        ..CommandLineOverrides::default()
    };
    // The replica is a step further into a key rotation: a new key first,
    // the one that sealed the session's tokens after it.
    let rotated = [(
        "UPDRAFT_AUTH__CONSOLE__TOKEN_ENCRYPTION_KEYS".to_string(),
        format!("{SECOND_KEY},{FIRST_KEY}"),
    )];
    let mut config = Config::load(Some(&config_path), rotated, &overrides).unwrap();
    if let Some(console) = config.auth.as_mut().and_then(|auth| auth.console.as_mut()) {
        console.public_url = Some(site.origin.clone());
    }
    config.propeller.enabled = false;
    let replica = Application::build(config)
        .await
        .expect("a second console starts");
    tokio::spawn(replica.run_until(std::future::pending()));
    let cookie = browser.session_cookie(&site).unwrap();
    let mut elsewhere = Browser::new();
    let replica_url = Url::parse(&format!("http://127.0.0.1:{port}/auth/me")).unwrap();
    elsewhere
        .cookies
        .entry(origin_of(&replica_url))
        .or_default()
        .insert("__Host-updraft".into(), cookie);
    let me = elsewhere.get(replica_url).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert!(me.body.contains("Alice Admin"));
}

#[tokio::test]
async fn sessions_in_the_database_need_a_token_encryption_key() {
    let data_dir = tempfile::tempdir().unwrap();
    let config_path = data_dir.path().join("updraft.toml");
    std::fs::write(
        &config_path,
        "[auth]\nissuer = \"http://127.0.0.1:9\"\n[auth.console]\nclient_id = \"console\"\n\
         client_secret = \"secret\"\nsessions = \"database\"\n[propeller]\nenabled = false\n",
    )
    .unwrap();
    let overrides = CommandLineOverrides {
        addr: Some("127.0.0.1:0".parse().unwrap()),
        data_dir: Some(data_dir.path().to_path_buf()),
        ..CommandLineOverrides::default()
    };
    let config = Config::load(Some(&config_path), Vec::new(), &overrides).unwrap();
    let error = Application::build(config)
        .await
        .err()
        .expect("updraft refuses to start")
        .to_string();
    assert!(
        error.contains("auth.console.token_encryption_keys"),
        "{error}"
    );
    assert!(
        error.contains("UPDRAFT_AUTH__CONSOLE__TOKEN_ENCRYPTION_KEYS"),
        "{error}"
    );
}
