//! The console's OpenID client: discovery, the authorization URL, code and
//! refresh-token exchanges, ID-token checks and the provider's logout and
//! revocation endpoints.

use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AdditionalProviderMetadata, AuthorizationCode, ClientId, ClientSecret,
    CsrfToken, EmptyExtraTokenFields, EndSessionUrl, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IdToken, IdTokenFields, IssuerUrl, LogoutRequest, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadata, RedirectUrl,
    RefreshToken, Scope, StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use super::{LoginError, LoginSettings, Profile, TokenSet};

/// How long discovery (endpoints and signing keys) is trusted before it is
/// fetched again; an unknown signing key triggers a fetch sooner.
const DISCOVERY_LIFETIME: Duration = Duration::from_secs(3600);

/// The `groups` claim the provider puts in ID tokens.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GroupsClaim {
    #[serde(default)]
    pub groups: Vec<String>,
}

impl AdditionalClaims for GroupsClaim {}

/// Discovery fields the core metadata leaves out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogoutAndRevocation {
    #[serde(default)]
    end_session_endpoint: Option<EndSessionUrl>,
    #[serde(default)]
    revocation_endpoint: Option<String>,
}

impl AdditionalProviderMetadata for LogoutAndRevocation {}

type Metadata = ProviderMetadata<
    LogoutAndRevocation,
    CoreAuthDisplay,
    openidconnect::core::CoreClientAuthMethod,
    openidconnect::core::CoreClaimName,
    openidconnect::core::CoreClaimType,
    openidconnect::core::CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    openidconnect::core::CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    openidconnect::core::CoreResponseMode,
    openidconnect::core::CoreResponseType,
    openidconnect::core::CoreSubjectIdentifierType,
>;

type IdTokenWithGroups = IdToken<
    GroupsClaim,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

type TokenResponseWithGroups = StandardTokenResponse<
    IdTokenFields<
        GroupsClaim,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

type OidcClient = openidconnect::Client<
    GroupsClaim,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponseWithGroups,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
    EndpointMaybeSet,
>;

/// One discovery's worth of client.
struct Discovered {
    client: OidcClient,
    end_session: Option<EndSessionUrl>,
    revocation: Option<String>,
    at: Instant,
}

/// What a login needs to keep until the provider sends the person back.
pub struct AuthorizationStart {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// The provider as the console talks to it. Discovery happens on first use
/// and again when it is old or a token names a key it does not know (the
/// provider rotated its keys), so the console starts while the provider is
/// down and survives the provider's restarts.
pub struct Provider {
    settings: Arc<LoginSettings>,
    http: reqwest::Client,
    discovered: RwLock<Option<Arc<Discovered>>>,
}

impl Provider {
    pub fn new(settings: Arc<LoginSettings>) -> Self {
        let http = reqwest::Client::builder()
            // Following the provider's redirects would let it point the BFF anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("a reqwest client with rustls builds");
        Self {
            settings,
            http,
            discovered: RwLock::new(None),
        }
    }

    async fn discovered(&self, fresh: bool) -> Result<Arc<Discovered>, LoginError> {
        if !fresh
            && let Some(current) = self.discovered.read().await.as_ref()
            && current.at.elapsed() < DISCOVERY_LIFETIME
        {
            return Ok(current.clone());
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone()).map_err(|error| {
            LoginError::ProviderUnavailable(format!("the issuer URL is invalid: {error}"))
        })?;
        let metadata = Metadata::discover_async(issuer, &self.http)
            .await
            .map_err(|error| {
                LoginError::ProviderUnavailable(format!("discovery failed: {error}"))
            })?;
        let token_url = metadata.token_endpoint().cloned().ok_or_else(|| {
            LoginError::ProviderUnavailable("the provider publishes no token endpoint".into())
        })?;
        let end_session = metadata.additional_metadata().end_session_endpoint.clone();
        let revocation = metadata.additional_metadata().revocation_endpoint.clone();
        let redirect = RedirectUrl::new(self.settings.callback_url()).map_err(|error| {
            LoginError::ProviderUnavailable(format!("the callback URL is invalid: {error}"))
        })?;
        let client: OidcClient = openidconnect::Client::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_token_uri(token_url)
        .set_redirect_uri(redirect);
        let discovered = Arc::new(Discovered {
            client,
            end_session,
            revocation,
            at: Instant::now(),
        });
        *self.discovered.write().await = Some(discovered.clone());
        Ok(discovered)
    }

    /// The authorization URL for a new login, with a fresh state, nonce
    /// and PKCE (S256) challenge.
    pub async fn start(&self) -> Result<AuthorizationStart, LoginError> {
        let discovered = self.discovered(false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = discovered
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in &self.settings.scopes {
            if scope != "openid" {
                request = request.add_scope(Scope::new(scope.clone()));
            }
        }
        if let Some(resource) = &self.settings.resource {
            request = request.add_extra_param("resource", resource.clone());
        }
        let (url, state, nonce) = request.url();
        Ok(AuthorizationStart {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the callback's code (with the login's PKCE verifier) and
    /// checks the ID token, its nonce included.
    pub async fn finish(
        &self,
        code: String,
        pkce_verifier: String,
        nonce: &str,
    ) -> Result<(TokenSet, Profile), LoginError> {
        let discovered = self.discovered(false).await?;
        let mut request = discovered
            .client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier));
        if let Some(resource) = &self.settings.resource {
            request = request.add_extra_param("resource", resource.clone());
        }
        let response = request.request_async(&self.http).await.map_err(|error| {
            LoginError::ProviderRefused(format!("the provider refused the login: {error}"))
        })?;
        let id_token = response
            .id_token()
            .ok_or_else(|| LoginError::IdToken("the provider sent no ID token".into()))?
            .clone();
        let profile = self
            .verified_profile(&discovered, &id_token, nonce_is(nonce))
            .await?;
        Ok((token_set(&response), profile))
    }

    /// Checks an ID token, fetching the provider's keys again once if it
    /// names a key the last discovery did not have.
    async fn verified_profile(
        &self,
        discovered: &Arc<Discovered>,
        id_token: &IdTokenWithGroups,
        nonce: impl Fn(Option<&Nonce>) -> Result<(), String> + Clone,
    ) -> Result<Profile, LoginError> {
        let check = |discovered: &Discovered| {
            checked_profile(
                id_token,
                &discovered.client.id_token_verifier(),
                nonce.clone(),
            )
        };
        match check(discovered) {
            Ok(profile) => Ok(profile),
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(_)) => {
                let rediscovered = self.discovered(true).await?;
                check(&rediscovered).map_err(|error| LoginError::IdToken(error.to_string()))
            }
            Err(error) => Err(LoginError::IdToken(error.to_string())),
        }
    }

    /// Trades a refresh token for a new token set (and, when the provider
    /// sends one, a new ID token whose groups replace the session's).
    pub async fn refresh(
        &self,
        refresh_token: &str,
    ) -> Result<(TokenSet, Option<Profile>), LoginError> {
        let discovered = self.discovered(false).await?;
        let refresh_token = RefreshToken::new(refresh_token.to_string());
        let mut request = discovered.client.exchange_refresh_token(&refresh_token);
        if let Some(resource) = &self.settings.resource {
            request = request.add_extra_param("resource", resource.clone());
        }
        let response = request.request_async(&self.http).await.map_err(|error| {
            LoginError::SessionOver(format!("the provider refused the refresh: {error}"))
        })?;
        let mut tokens = token_set(&response);
        if tokens.refresh_token.is_none() {
            // Providers that do not rotate keep the old one valid.
            tokens.refresh_token = Some(refresh_token.secret().clone());
        }
        let profile = match response.id_token() {
            // A refreshed ID token carries no nonce of a login to compare.
            Some(id_token) => Some(
                self.verified_profile(&discovered, id_token, |_: Option<&Nonce>| Ok(()))
                    .await?,
            ),
            None => None,
        };
        Ok((tokens, profile))
    }

    /// Revokes a refresh token at the provider, if it has a revocation
    /// endpoint. Best effort: logout goes on whatever the answer.
    pub async fn revoke(&self, refresh_token: &str) {
        let Ok(discovered) = self.discovered(false).await else {
            return;
        };
        let Some(endpoint) = &discovered.revocation else {
            return;
        };
        // The oauth2 crate refuses plain-HTTP revocation endpoints, which
        // loopback providers use; the request is simple enough to send.
        let outcome = self
            .http
            .post(endpoint)
            .basic_auth(&self.settings.client_id, Some(&self.settings.client_secret))
            .form(&[
                ("token", refresh_token),
                ("token_type_hint", "refresh_token"),
            ])
            .send()
            .await;
        if let Err(error) = outcome.and_then(reqwest::Response::error_for_status) {
            tracing::warn!(%error, "could not revoke the refresh token at logout");
        }
    }

    /// Where to send the browser to end the provider's session too, or
    /// `None` when the provider has no end-session endpoint.
    pub async fn end_session_url(&self, id_token: &str, state: &str) -> Option<String> {
        let discovered = self.discovered(false).await.ok()?;
        let endpoint = discovered.end_session.clone()?;
        let mut request = LogoutRequest::from(endpoint);
        if let Ok(id_token) = id_token.parse::<IdTokenWithGroups>() {
            request = request.set_id_token_hint(&id_token);
        }
        if let Ok(redirect) = PostLogoutRedirectUrl::new(self.settings.logged_out_url()) {
            request = request.set_post_logout_redirect_uri(redirect);
        }
        Some(
            request
                .set_state(CsrfToken::new(state.to_string()))
                .http_get_url()
                .to_string(),
        )
    }
}

/// The nonce check of a login's ID token: present and equal to the one
/// sent in its authorization request, so a replayed ID token is refused.
fn nonce_is(expected: &str) -> impl Fn(Option<&Nonce>) -> Result<(), String> + Clone + use<> {
    let expected = expected.to_string();
    move |claimed: Option<&Nonce>| match claimed {
        Some(claimed) if super::same_secret(claimed.secret(), &expected) => Ok(()),
        _ => Err("the ID token's nonce is not this login's".to_string()),
    }
}

/// The person an ID token names, once its signature, issuer, audience,
/// expiry and nonce have been checked.
fn checked_profile(
    id_token: &IdTokenWithGroups,
    verifier: &openidconnect::IdTokenVerifier<'_, CoreJsonWebKey>,
    nonce: impl Fn(Option<&Nonce>) -> Result<(), String>,
) -> Result<Profile, openidconnect::ClaimsVerificationError> {
    let claims = id_token.claims(verifier, nonce)?;
    Ok(Profile {
        subject: claims.subject().to_string(),
        name: claims
            .name()
            .and_then(|name| name.get(None))
            .map(|name| name.to_string())
            .or_else(|| claims.preferred_username().map(|name| name.to_string())),
        email: claims.email().map(|email| email.to_string()),
        groups: claims.additional_claims().groups.clone(),
        id_token: id_token.to_string(),
    })
}

fn token_set(response: &TokenResponseWithGroups) -> TokenSet {
    let lifetime = response
        .expires_in()
        .unwrap_or(Duration::from_secs(300))
        .as_secs();
    TokenSet {
        access_token: response.access_token().secret().clone(),
        refresh_token: response.refresh_token().map(|token| token.secret().clone()),
        expires_at: super::unix_now() + i64::try_from(lifetime).unwrap_or(i64::MAX / 2),
    }
}

#[cfg(test)]
mod tests {
    //! ID tokens crafted with a key of the test's own: no login flow can
    //! deliver a replayed or foreign ID token (PKCE binds the code), so the
    //! checks are exercised here directly.

    use openidconnect::core::{CoreJsonWebKeySet, CoreRsaPrivateSigningKey};
    use openidconnect::{
        Audience, EndUserName, IdTokenClaims, IdTokenVerifier, JsonWebKeyId, LocalizedClaim,
        PrivateSigningKey, StandardClaims, SubjectIdentifier,
    };

    use super::*;

    const ISSUER: &str = "https://login.example.com";
    const CLIENT: &str = "updraft-console";

    fn signing_key() -> CoreRsaPrivateSigningKey {
        let generated = std::process::Command::new("openssl")
            .args(["genrsa", "-traditional", "2048"])
            .output()
            .expect("openssl generates a test key");
        assert!(generated.status.success());
        CoreRsaPrivateSigningKey::from_pem(
            std::str::from_utf8(&generated.stdout).unwrap(),
            Some(JsonWebKeyId::new("test-key".into())),
        )
        .unwrap()
    }

    fn id_token(
        key: &CoreRsaPrivateSigningKey,
        issuer: &str,
        audience: &str,
        expires_in: i64,
        nonce: &str,
    ) -> IdTokenWithGroups {
        let now = chrono::Utc::now();
        let mut name = LocalizedClaim::new();
        name.insert(None, EndUserName::new("Alice Admin".into()));
        let claims = IdTokenClaims::new(
            IssuerUrl::new(issuer.into()).unwrap(),
            vec![Audience::new(audience.into())],
            now + chrono::Duration::seconds(expires_in),
            now,
            StandardClaims::new(SubjectIdentifier::new("alice".into())).set_name(Some(name)),
            GroupsClaim {
                groups: vec!["updraft-admins".into()],
            },
        )
        .set_nonce(Some(Nonce::new(nonce.into())));
        IdToken::new(
            claims,
            key,
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            None,
            None,
        )
        .unwrap()
    }

    #[test]
    fn only_a_current_id_token_for_this_login_is_accepted() {
        let key = signing_key();
        let keys = CoreJsonWebKeySet::new(vec![key.as_verification_key()]);
        let verifier = IdTokenVerifier::new_public_client(
            ClientId::new(CLIENT.into()),
            IssuerUrl::new(ISSUER.into()).unwrap(),
            keys,
        );
        let check = |token: &IdTokenWithGroups, nonce: &str| {
            checked_profile(token, &verifier, nonce_is(nonce))
        };

        let genuine = id_token(&key, ISSUER, CLIENT, 300, "this-login");
        let profile = check(&genuine, "this-login").unwrap();
        assert_eq!(profile.subject, "alice");
        assert_eq!(profile.name.as_deref(), Some("Alice Admin"));
        assert_eq!(profile.groups, ["updraft-admins"]);

        // Replayed from another login: its nonce is not this one's.
        assert!(matches!(
            check(&genuine, "another-login"),
            Err(openidconnect::ClaimsVerificationError::InvalidNonce(_))
        ));
        assert!(matches!(
            check(
                &id_token(&key, ISSUER, CLIENT, -120, "this-login"),
                "this-login"
            ),
            Err(openidconnect::ClaimsVerificationError::Expired(_))
        ));
        assert!(matches!(
            check(
                &id_token(&key, ISSUER, "another-client", 300, "this-login"),
                "this-login"
            ),
            Err(openidconnect::ClaimsVerificationError::InvalidAudience(_))
        ));
        assert!(matches!(
            check(
                &id_token(&key, "https://evil.example", CLIENT, 300, "this-login"),
                "this-login"
            ),
            Err(openidconnect::ClaimsVerificationError::InvalidIssuer(_))
        ));
        let stranger = signing_key();
        assert!(matches!(
            check(
                &id_token(&stranger, ISSUER, CLIENT, 300, "this-login"),
                "this-login"
            ),
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(_))
        ));
    }
}
