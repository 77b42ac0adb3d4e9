//! The real OpenID provider (`auth/test-provider`, npm oidc-provider) on
//! loopback, and the token requests the tests make against it.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::Digest;
use tokio::process::{Child, Command};

/// The API audience the provider issues JWT access tokens for.
pub const API: &str = "urn:updraft:api";
/// A second audience on the same provider.
pub const OTHER_API: &str = "urn:other:api";
/// The BFF client's origin as the provider knows it (its redirect URIs).
pub const BFF_ORIGIN: &str = "http://127.0.0.1:9";

/// A running provider; stopped when dropped.
pub struct Provider {
    pub issuer: String,
    environment: Vec<(String, String)>,
    child: Option<Child>,
    http: reqwest::Client,
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The provider's script, found from whichever crate's tests use this file.
fn script() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|folder| folder.join("auth/test-provider/server.mjs"))
        .find(|script| script.is_file())
        .expect("auth/test-provider/server.mjs in the repository")
}

impl Provider {
    /// A provider on a free port; `environment` adds knobs such as `API_AT_TTL`.
    /// The port is chosen before the provider binds it (its issuer names it),
    /// so another process may take it first: the provider then exits, and a
    /// new port is tried.
    pub async fn start(environment: &[(&str, &str)]) -> Self {
        Self::start_for(environment, BFF_ORIGIN).await
    }

    /// A provider whose console client sends people back to `bff_origin`.
    pub async fn start_for(environment: &[(&str, &str)], bff_origin: &str) -> Self {
        let mut failures = Vec::new();
        for _ in 0..5 {
            let port = free_port();
            let mut knobs: Vec<(String, String)> = environment
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect();
            knobs.push(("OIDC_PORT".into(), port.to_string()));
            knobs.push(("BFF_ORIGIN".into(), bff_origin.into()));
            knobs.push(("OIDC_SKIP_CONSENT".into(), "1".into()));
            let mut provider = Self {
                issuer: format!("http://127.0.0.1:{port}"),
                environment: knobs,
                child: None,
                http: reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap(),
            };
            match provider.spawn().await {
                Ok(()) => return provider,
                Err(why) => failures.push(why),
            }
        }
        panic!("the test provider did not start: {failures:?}");
    }

    /// Starts the provider and waits for its discovery document; the error
    /// says why it exited (with its stderr) or that it never answered.
    async fn spawn(&mut self) -> Result<(), String> {
        let mut child = Command::new("node")
            .arg(script())
            .envs(self.environment.iter().cloned())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs the test provider (scripts/test installs it)");
        let discovery = format!("{}/.well-known/openid-configuration", self.issuer);
        for _ in 0..600 {
            if let Ok(response) = self.http.get(&discovery).send().await
                && response.status().is_success()
            {
                self.child = Some(child);
                return Ok(());
            }
            if let Ok(Some(status)) = child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    use tokio::io::AsyncReadExt;
                    let _ = pipe.read_to_string(&mut stderr).await;
                }
                return Err(format!("exited with {status}: {}", stderr.trim()));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err("no answer to discovery within 60 s".into())
    }

    /// Stops the provider and starts it again on the same port: same issuer,
    /// new signing key, no memory of earlier tokens.
    pub async fn restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.unwrap();
        }
        if let Err(why) = self.spawn().await {
            panic!("the test provider did not restart: {why}");
        }
    }

    /// A client-credentials token response for `client` (secret `secret`),
    /// with extra form fields.
    pub async fn client_token_response(
        &self,
        client: &str,
        secret: &str,
        extra: &[(&str, &str)],
    ) -> serde_json::Value {
        let mut form = vec![("grant_type", "client_credentials")];
        form.extend_from_slice(extra);
        let response = self
            .http
            .post(format!("{}/token", self.issuer))
            .basic_auth(client, Some(secret))
            .form(&form)
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }

    /// An API access token for the contributor machine client `updraft-cli`,
    /// requested the way flytekit does (no `resource`).
    pub async fn cli_token(&self) -> String {
        self.access_token(
            "updraft-cli",
            "cli-secret",
            &[("scope", "api:read api:write")],
        )
        .await
    }

    /// An API access token for the viewer machine client.
    pub async fn viewer_cli_token(&self) -> String {
        self.access_token(
            "updraft-viewer-cli",
            "viewer-cli-secret",
            &[("scope", "api:read")],
        )
        .await
    }

    pub async fn access_token(&self, client: &str, secret: &str, extra: &[(&str, &str)]) -> String {
        let body = self.client_token_response(client, secret, extra).await;
        body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access token: {body}"))
            .to_string()
    }

    /// The provider's JWKS document.
    pub async fn jwks(&self) -> serde_json::Value {
        self.http
            .get(format!("{}/jwks", self.issuer))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Logs `user` in through the provider's real login page with the BFF
    /// client (authorization code + PKCE) and returns the token response:
    /// an API access token and an ID token.
    pub async fn user_tokens(&self, user: &str, password: &str) -> serde_json::Value {
        let verifier = URL_SAFE_NO_PAD.encode(rand_bytes());
        let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
        let redirect_uri = format!("{BFF_ORIGIN}/auth/callback");
        let mut url = reqwest::Url::parse(&format!("{}/auth", self.issuer)).unwrap();
        url.query_pairs_mut()
            .append_pair("client_id", "updraft-console")
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("scope", "openid profile email groups api:read api:write")
            .append_pair("resource", API)
            .append_pair("state", "test-state")
            .append_pair("nonce", "test-nonce")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        let mut cookies: HashMap<String, String> = HashMap::new();
        let mut next = Some((reqwest::Method::GET, url, None::<Vec<(String, String)>>));
        let mut code = None;
        for _ in 0..20 {
            let Some((method, url, form)) = next.take() else {
                break;
            };
            if url.as_str().starts_with(BFF_ORIGIN) {
                code = url
                    .query_pairs()
                    .find(|(key, _)| key == "code")
                    .map(|(_, value)| value.to_string());
                break;
            }
            let cookie_header = cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("; ");
            let mut request = self
                .http
                .request(method, url.clone())
                .header("cookie", cookie_header);
            if let Some(form) = &form {
                request = request.form(form);
            }
            let response = request.send().await.unwrap();
            for value in response.headers().get_all("set-cookie") {
                let pair = value.to_str().unwrap().split(';').next().unwrap();
                if let Some((name, value)) = pair.split_once('=') {
                    cookies.insert(name.to_string(), value.to_string());
                }
            }
            if let Some(location) = response.headers().get("location") {
                let target = url.join(location.to_str().unwrap()).unwrap();
                next = Some((reqwest::Method::GET, target, None));
            } else if response.status().is_success() && url.path().starts_with("/interaction/") {
                // The login page: submit the credentials to it.
                let target = url.join(&format!("{}/login", url.path())).unwrap();
                next = Some((
                    reqwest::Method::POST,
                    target,
                    Some(vec![
                        ("username".to_string(), user.to_string()),
                        ("password".to_string(), password.to_string()),
                    ]),
                ));
            } else {
                let status = response.status();
                panic!(
                    "login stopped at {url} with {status}: {}",
                    response.text().await.unwrap()
                );
            }
        }
        let code = code.expect("the provider redirected back with a code");
        let response = self
            .http
            .post(format!("{}/token", self.issuer))
            .basic_auth("updraft-console", Some("console-secret"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &redirect_uri),
                ("code_verifier", &verifier),
                ("resource", API),
            ])
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }
}

fn rand_bytes() -> [u8; 32] {
    rand::random()
}

/// The decoded JSON of a JWT part.
pub fn decode_part(part: &str) -> serde_json::Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// A JWT from a header, claims and signature, without any checking.
pub fn assemble(
    header: &serde_json::Value,
    claims: &serde_json::Value,
    signature: &[u8],
) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// A fresh RSA private key (PKCS#1 DER) nobody else holds, made by node.
pub async fn foreign_rsa_key_der() -> Vec<u8> {
    let output = Command::new("node")
        .arg("-e")
        .arg(
            "const c=require('crypto');process.stdout.write(c.generateKeyPairSync('rsa',\
             {modulusLength:2048}).privateKey.export({type:'pkcs1',format:'der'}))",
        )
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    output.stdout
}
