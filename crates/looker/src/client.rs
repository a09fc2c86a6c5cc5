//! The HTTP client: one request = token + pool slot + attempt, retried by [`crate::retry`] rules.
//!
//! Authentication lives here too: a token obtained by `POST /login` (form body) is shared by every
//! request, renewed ahead of its expiry, and renewed once when a request answers 401; requests
//! that hit 401 together cause a single re-login (the token's generation tells who is first).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::time::Instant;
use url::Url;

use crate::error::ExtractError;
use crate::limiter::Limiter;
use crate::retry::{RetryPolicy, is_retryable_status, is_throttle_status};
use crate::settings::{CONFIG_SECTION, Credentials, LookerSettings, normalize_base_url};

/// Counters of the whole run.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) requests: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) logins: AtomicU64,
    pub(crate) relogins: AtomicU64,
}

#[derive(Debug)]
pub(crate) struct Client {
    http: reqwest::Client,
    api_base: Url,
    /// The instance URL for messages: scheme, host, port and prefix, no credentials.
    instance: String,
    credentials: Credentials,
    token: tokio::sync::Mutex<TokenState>,
    limiter: Limiter,
    retry: RetryPolicy,
    pub(crate) counters: Counters,
    /// Whether any answer ever arrived: before that, a connection error means a wrong URL.
    connected: AtomicBool,
}

#[derive(Debug, Default)]
struct TokenState {
    token: Option<Arc<SecretString>>,
    refresh_at: Option<Instant>,
    generation: u64,
}

/// The token a request was sent with, and its generation (to detect a re-login by someone else).
#[derive(Debug, Clone)]
struct Token {
    value: Arc<SecretString>,
    generation: u64,
}

/// A successful GET.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub(crate) body: Bytes,
    /// `X-Total-Count`, when the server sent it: a hint only (Looker documents it as alpha).
    pub(crate) total_count: Option<u64>,
}

/// What a request sends besides method and URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `Authorization: token …`, re-login once on 401.
    Authed,
    /// The login form; no token.
    Login,
    /// `Authorization: token …`, one attempt, no re-login (logout).
    AuthedOnce,
}

/// The outcome of one attempt.
enum Attempt {
    Answer {
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
    },
    Failed(reqwest::Error),
}

#[derive(Deserialize)]
struct LoginAnswer {
    access_token: Option<String>,
    expires_in: Option<f64>,
}

impl Client {
    pub(crate) fn new(settings: &LookerSettings) -> Result<Self, ExtractError> {
        settings.validate()?;
        let api_base = normalize_base_url(&settings.base_url)?;
        let mut instance = api_base.clone();
        if let Ok(mut path) = instance.path_segments_mut() {
            path.pop().pop().pop();
        }
        let instance = instance.as_str().trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .user_agent(concat!("looker-load/", env!("CARGO_PKG_VERSION")))
            .timeout(settings.request_timeout)
            .connect_timeout(settings.request_timeout.min(Duration::from_secs(30)))
            .pool_max_idle_per_host(settings.concurrency)
            .build()
            .map_err(|e| ExtractError::Configuration {
                key: format!("{CONFIG_SECTION}.base_url"),
                message: format!("cannot build the HTTP client: {}", describe_transport(e)),
            })?;
        Ok(Client {
            http,
            api_base,
            instance,
            credentials: settings.credentials.clone(),
            token: tokio::sync::Mutex::new(TokenState::default()),
            limiter: Limiter::new(settings.concurrency),
            retry: RetryPolicy {
                max_attempts: settings.max_attempts,
                initial: settings.initial_retry_delay,
                max: settings.max_retry_delay,
            },
            counters: Counters::default(),
            connected: AtomicBool::new(false),
        })
    }

    /// The URL of an API path such as `/users` or `/queries/{id}` (`{id}` replaced, escaped as a
    /// path segment), with query parameters.
    pub(crate) fn url(&self, endpoint: &str, id: Option<&str>, params: &[(&str, &str)]) -> Url {
        let mut url = self.api_base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            for seg in endpoint.split('/').filter(|s| !s.is_empty()) {
                match (seg, id) {
                    ("{id}", Some(id)) => path.push(id),
                    _ => path.push(seg),
                };
            }
        }
        if !params.is_empty() {
            url.query_pairs_mut().extend_pairs(params);
        }
        url
    }

    /// 429/503 answers seen so far.
    pub(crate) fn throttles(&self) -> u64 {
        self.limiter.throttles()
    }

    /// An authenticated GET, retried; the body of a 2xx answer. `requests` counts every attempt.
    pub(crate) async fn get(&self, url: &Url, requests: &AtomicU64) -> Result<Fetched, ExtractError> {
        let (body, headers) = self
            .execute(Method::GET, url, Mode::Authed, None, requests)
            .await?;
        let total_count = headers
            .get("x-total-count")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        Ok(Fetched { body, total_count })
    }

    /// `DELETE /logout` when this client logged in; best effort, failures logged at debug.
    pub(crate) async fn logout(&self) {
        if !matches!(self.credentials, Credentials::ClientCredentials { .. }) {
            return;
        }
        let token = {
            let mut state = self.token.lock().await;
            state.refresh_at = None;
            state.token.take().map(|value| Token {
                value,
                generation: state.generation,
            })
        };
        let Some(token) = token else { return };
        let url = self.url("/logout", None, &[]);
        let unused = AtomicU64::new(0);
        match self
            .execute(Method::DELETE, &url, Mode::AuthedOnce, Some(token), &unused)
            .await
        {
            Ok(_) => tracing::debug!("logged out of {}", self.instance),
            Err(e) => tracing::debug!("logout from {} failed (ignored): {e}", self.instance),
        }
    }

    /// The current token, logging in first when there is none or it is due for renewal. Callers
    /// queue on the lock, so one login serves them all.
    async fn token(&self) -> Result<Token, ExtractError> {
        let mut state = self.token.lock().await;
        if let Credentials::AccessToken(token) = &self.credentials {
            let value = state.token.get_or_insert_with(|| Arc::new(token.clone())).clone();
            return Ok(Token {
                value,
                generation: state.generation,
            });
        }
        let fresh = state.refresh_at.is_some_and(|at| Instant::now() < at);
        if let (Some(value), true) = (&state.token, fresh) {
            return Ok(Token {
                value: value.clone(),
                generation: state.generation,
            });
        }
        if state.token.is_some() {
            tracing::debug!("access token due for renewal; logging in again");
        }
        self.login_into(&mut state).await?;
        Ok(Token {
            value: state.token.clone().unwrap_or_default(),
            generation: state.generation,
        })
    }

    /// After a 401 with the token of generation `used`: logs in again unless another request
    /// already did.
    async fn relogin(&self, used: u64) -> Result<(), ExtractError> {
        let mut state = self.token.lock().await;
        if state.generation != used {
            return Ok(());
        }
        tracing::info!("Looker answered 401; logging in again");
        self.counters.relogins.fetch_add(1, Ordering::Relaxed);
        self.login_into(&mut state).await
    }

    async fn login_into(&self, state: &mut TokenState) -> Result<(), ExtractError> {
        let url = self.url("/login", None, &[]);
        let started = Instant::now();
        let unused = AtomicU64::new(0);
        // Boxed: a login is a request, and a request may log in.
        let login = Box::pin(self.execute(Method::POST, &url, Mode::Login, None, &unused));
        let body = match login.await {
            Ok((body, _)) => body,
            Err(ExtractError::Status {
                status: 404 | 400 | 401 | 403,
                message,
                ..
            }) => {
                return Err(ExtractError::Authentication {
                    message: format!(
                        "Looker at {} rejected the client_id/client_secret pair{}; check \
                         {CONFIG_SECTION}.client_id and {CONFIG_SECTION}.client_secret (an API3 \
                         key of a user allowed to use the API)",
                        self.instance,
                        message
                            .map(|m| format!(" ({})", self.scrub(m)))
                            .unwrap_or_default()
                    ),
                });
            }
            Err(e) => return Err(e),
        };
        let answer: LoginAnswer =
            serde_json::from_slice(&body).map_err(|e| ExtractError::UnexpectedResponse {
                method: "POST",
                url: show_url(&url),
                detail: format!(
                    "the login answer is not the documented JSON object (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            })?;
        let token = answer
            .access_token
            .filter(|t| !t.is_empty())
            .map(SecretString::from)
            .ok_or_else(|| ExtractError::UnexpectedResponse {
                method: "POST",
                url: show_url(&url),
                detail: "the login answer has no access_token".to_owned(),
            })?;
        // Renew `min(60 s, lifetime / 2)` before expiry, counted from before the request.
        let lifetime = answer
            .expires_in
            .filter(|s| s.is_finite() && *s > 0.0)
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .unwrap_or(Duration::from_secs(3600))
            .min(Duration::from_secs(366 * 86_400));
        let margin = Duration::from_secs(60).min(lifetime / 2);
        state.token = Some(Arc::new(token));
        state.refresh_at = Some(started + (lifetime - margin));
        state.generation += 1;
        self.counters.logins.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(?lifetime, "logged in to {}", self.instance);
        Ok(())
    }

    /// One request with retries. Returns the body of a 2xx answer; any other final outcome is an
    /// error naming method, path and status.
    async fn execute(
        &self,
        method: Method,
        url: &Url,
        mode: Mode,
        fixed_token: Option<Token>,
        requests: &AtomicU64,
    ) -> Result<(Bytes, HeaderMap), ExtractError> {
        let method_name = method_name(&method);
        let max_attempts = if mode == Mode::AuthedOnce {
            1
        } else {
            self.retry.max_attempts
        };
        let mut attempt: u32 = 0;
        // A request answered 429 may be retried twice as often: rate limiting says "later", and
        // the shared limiter already slows every request while it lasts.
        let mut budget = max_attempts;
        let mut relogged = false;
        loop {
            attempt += 1;
            let token = match (mode, &fixed_token) {
                (Mode::Login, _) => None,
                (_, Some(token)) => Some(token.clone()),
                (_, None) => Some(self.token().await?),
            };
            let outcome = {
                let _permit = self.limiter.acquire().await;
                requests.fetch_add(1, Ordering::Relaxed);
                self.counters.requests.fetch_add(1, Ordering::Relaxed);
                self.attempt(&method, url, mode, token.as_ref()).await?
            };
            let (last, delay) = match outcome {
                Attempt::Answer {
                    status,
                    headers,
                    body,
                } => {
                    self.connected.store(true, Ordering::Relaxed);
                    tracing::trace!(
                        status = status.as_u16(),
                        bytes = body.len(),
                        "{method_name} {}",
                        show_url(url)
                    );
                    if status.is_success() {
                        self.limiter.on_success();
                        return Ok((body, headers));
                    }
                    if status == StatusCode::UNAUTHORIZED && mode != Mode::Login {
                        match (&self.credentials, mode, token.as_ref()) {
                            (Credentials::ClientCredentials { .. }, Mode::Authed, Some(token))
                                if !relogged =>
                            {
                                relogged = true;
                                attempt -= 1;
                                self.relogin(token.generation).await?;
                                continue;
                            }
                            (Credentials::AccessToken(_), ..) => {
                                return Err(ExtractError::Authentication {
                                    message: format!(
                                        "Looker at {} answered 401 to {method_name} {}: the access \
                                         token expired or is invalid; set a fresh \
                                         {CONFIG_SECTION}.access_token, or configure \
                                         {CONFIG_SECTION}.client_id and client_secret so tokens \
                                         are renewed",
                                        self.instance,
                                        show_url(url)
                                    ),
                                });
                            }
                            _ if mode == Mode::Authed => {
                                return Err(ExtractError::Authentication {
                                    message: format!(
                                        "Looker at {} answered 401 to {method_name} {} even with \
                                         a fresh token; check that the API user behind \
                                         {CONFIG_SECTION}.client_id may use the API",
                                        self.instance,
                                        show_url(url)
                                    ),
                                });
                            }
                            _ => {}
                        }
                    }
                    let message = self.error_message(&headers, &body, mode, token.as_ref());
                    if !is_retryable_status(status) {
                        return Err(ExtractError::Status {
                            method: method_name,
                            url: show_url(url),
                            status: status.as_u16(),
                            message,
                        });
                    }
                    let last = match message {
                        Some(m) => format!("HTTP {status}: {m}"),
                        None => format!("HTTP {status}"),
                    };
                    let delay = self.retry.delay(attempt, Some(&headers));
                    if status == StatusCode::TOO_MANY_REQUESTS && mode != Mode::AuthedOnce {
                        budget = max_attempts.saturating_mul(2);
                    }
                    if is_throttle_status(status) {
                        self.limiter.on_throttle(delay);
                    }
                    (last, Some(delay))
                }
                Attempt::Failed(err) => {
                    if err.is_builder() || err.is_redirect() {
                        return Err(ExtractError::Transport {
                            method: method_name,
                            url: show_url(url),
                            cause: describe_transport(err),
                        });
                    }
                    if err.is_connect() && !self.connected.load(Ordering::Relaxed) {
                        return Err(ExtractError::Unreachable {
                            base_url: self.instance.clone(),
                            cause: describe_transport(err),
                        });
                    }
                    let last = if err.is_timeout() {
                        format!("timed out ({})", describe_transport(err))
                    } else {
                        describe_transport(err)
                    };
                    (last, None)
                }
            };
            if attempt >= budget {
                return Err(ExtractError::RetriesExhausted {
                    method: method_name,
                    url: show_url(url),
                    attempts: attempt,
                    last,
                });
            }
            let delay = delay.unwrap_or_else(|| self.retry.backoff(attempt));
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                "{method_name} {} failed ({last}); retry {attempt} of {} in {:.1?}",
                show_url(url),
                budget - 1,
                delay
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// Sends one attempt and reads the whole body (within the request timeout).
    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        mode: Mode,
        token: Option<&Token>,
    ) -> Result<Attempt, ExtractError> {
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        match (mode, token) {
            (Mode::Login, _) => {
                if let Credentials::ClientCredentials {
                    client_id,
                    client_secret,
                } = &self.credentials
                {
                    request = request.form(&[
                        ("client_id", client_id.as_str()),
                        ("client_secret", client_secret.expose_secret()),
                    ]);
                }
            }
            (_, Some(token)) => {
                let mut value = HeaderValue::try_from(format!("token {}", token.value.expose_secret()))
                    .map_err(|_| ExtractError::Authentication {
                        message: format!(
                            "the access token holds characters not allowed in an HTTP header; check \
                             {CONFIG_SECTION}.access_token"
                        ),
                    })?;
                value.set_sensitive(true);
                request = request.header(AUTHORIZATION, value);
            }
            (_, None) => {}
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => return Ok(Attempt::Failed(e)),
        };
        let status = response.status();
        let headers = response.headers().clone();
        match response.bytes().await {
            Ok(body) => Ok(Attempt::Answer {
                status,
                headers,
                body,
            }),
            Err(e) => Ok(Attempt::Failed(e)),
        }
    }

    /// Looker's `message` from an error body, or a description of a non-JSON body; never a parse
    /// error. Login answers give only their `message`.
    fn error_message(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        mode: Mode,
        token: Option<&Token>,
    ) -> Option<String> {
        let scrub = |text: String| match token {
            Some(token) => redact(self.scrub(text), token.value.expose_secret()),
            None => self.scrub(text),
        };
        #[derive(Deserialize)]
        struct LookerError {
            message: Option<String>,
        }
        if let Ok(LookerError { message: Some(m) }) = serde_json::from_slice(body) {
            return Some(truncate(&scrub(m.trim().to_owned()), 300));
        }
        if body.is_empty() || mode == Mode::Login {
            return None;
        }
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("no content type");
        let text = String::from_utf8_lossy(&body[..body.len().min(4096)]);
        if let Some(title) = html_title(&text) {
            return Some(format!(
                "HTML page \"{}\" ({} bytes, {content_type})",
                truncate(&scrub(title), 120),
                body.len()
            ));
        }
        let trimmed = text.trim();
        if trimmed.len() <= 200 && !trimmed.contains('<') && !trimmed.is_empty() {
            return Some(scrub(trimmed.to_owned()));
        }
        Some(format!("non-JSON body ({} bytes, {content_type})", body.len()))
    }

    /// Removes the configured secret or access token from server-provided text.
    fn scrub(&self, text: String) -> String {
        let secret = match &self.credentials {
            Credentials::ClientCredentials { client_secret, .. } => client_secret.expose_secret(),
            Credentials::AccessToken(token) => token.expose_secret(),
        };
        redact(text, secret)
    }
}

/// `text` with every occurrence of `secret` replaced.
fn redact(text: String, secret: &str) -> String {
    if !secret.is_empty() && text.contains(secret) {
        text.replace(secret, "[redacted]")
    } else {
        text
    }
}

/// Path and query of a URL: what errors and logs show (credentials never travel in URLs).
pub(crate) fn show_url(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        _ => "HTTP",
    }
}

/// A transport error with its causes, without the URL.
fn describe_transport(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn html_title(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = start + lower[start..].find("</title>")?;
    let title = text
        .get(start..end)?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if title.is_empty() {
        lower.contains("<html").then(|| "untitled".to_owned())
    } else {
        Some(title)
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_truncation() {
        assert_eq!(
            html_title("<!DOCTYPE html><html><head><TITLE>Not\n  Found</TITLE>").as_deref(),
            Some("Not Found")
        );
        assert_eq!(html_title("{\"a\":1}"), None);
        assert_eq!(truncate("héllo", 2), "hé…");
        assert_eq!(truncate("hi", 2), "hi");
    }

    #[test]
    fn urls_escape_ids_and_keep_params() {
        let settings = LookerSettings::new(
            "https://acme.looker.com:19999/api/4.0/",
            Credentials::AccessToken(SecretString::from("t".to_owned())),
        )
        .expect("settings");
        let client = Client::new(&settings).expect("client");
        assert_eq!(client.instance, "https://acme.looker.com:19999");
        let u = client.url("/users", None, &[("limit", "10"), ("offset", "0")]);
        assert_eq!(
            u.as_str(),
            "https://acme.looker.com:19999/api/4.0/users?limit=10&offset=0"
        );
        let q = client.url("/queries/{id}", Some("a/b c"), &[]);
        assert_eq!(show_url(&q), "/api/4.0/queries/a%2Fb%20c");
    }
}
