//! Connection and tuning settings of the extractor, and the normalisation of the Looker base URL.

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use crate::error::ExtractError;

/// The TOML section the Looker settings live in; used to name keys in configuration errors.
pub const CONFIG_SECTION: &str = "sources.looker_data_source";

/// How the extractor authenticates to Looker.
///
/// `Debug` never shows the secret or the token.
#[derive(Clone)]
pub enum Credentials {
    /// An API3 key pair: `POST /api/4.0/login` with a form body issues a token, renewed before it
    /// expires and once after a 401.
    ClientCredentials {
        /// The API3 client id (`sources.looker_data_source.client_id`).
        client_id: String,
        /// The API3 client secret (`sources.looker_data_source.client_secret`).
        client_secret: SecretString,
    },
    /// A pre-issued access token (`sources.looker_data_source.access_token`), used as is: it cannot
    /// be renewed, so a 401 ends the run with an error saying the token expired or is invalid.
    AccessToken(SecretString),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::ClientCredentials { client_id, .. } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("client_secret", &"[redacted]")
                .finish(),
            Credentials::AccessToken(_) => f.debug_tuple("AccessToken").field(&"[redacted]").finish(),
        }
    }
}

/// Everything the extractor needs to talk to one Looker instance.
///
/// Build it with [`LookerSettings::new`] (defaults for every tuning knob) and adjust the public
/// fields; [`crate::Extractor::new`] validates and normalises it once.
#[derive(Clone, Debug)]
pub struct LookerSettings {
    /// The instance URL, e.g. `https://acme.cloud.looker.com`. It may carry the API prefix
    /// (`/api/4.0`, with or without a trailing slash) and a port such as the legacy `:19999`; it is
    /// normalised to `<scheme>://<host>[:port][/prefix]/api/4.0/`.
    pub base_url: Url,
    /// How to authenticate.
    pub credentials: Credentials,
    /// Items asked for per page (`limit`) on paged endpoints, and items per page built for
    /// `queries`. Default [`LookerSettings::DEFAULT_PAGE_SIZE`].
    pub page_size: u32,
    /// Attempts per request, the first included, before giving up on a retryable failure. Default 5.
    /// A request answered 429 (rate limited) gets twice as many.
    pub max_attempts: u32,
    /// Longest wait between two attempts; also the clamp for `Retry-After`. Default 300 s.
    pub max_retry_delay: Duration,
    /// Wait before the first retry; it doubles (with jitter) for each further retry. Default 1 s.
    pub initial_retry_delay: Duration,
    /// Time limit for one attempt, from sending the request to the last byte of the body. Default 60 s.
    pub request_timeout: Duration,
    /// Most requests in flight at once for the whole run, over all resources. Default 8.
    pub concurrency: usize,
}

impl LookerSettings {
    /// Default `page_size`. Looker documents no maximum. Against the mock at the benchmark size
    /// (100k users, 10k looks, 5k dashboards) 500 and 1000 take the same time, but a page of 1000
    /// dashboards with their elements is about 17 MB against 9 MB, and peak memory follows.
    pub const DEFAULT_PAGE_SIZE: u32 = 500;
    /// Default `max_attempts` (dlt's `request_max_attempts`).
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
    /// Default `max_retry_delay` (dlt's `request_max_retry_delay`).
    pub const DEFAULT_MAX_RETRY_DELAY: Duration = Duration::from_secs(300);
    /// Default `initial_retry_delay`.
    pub const DEFAULT_INITIAL_RETRY_DELAY: Duration = Duration::from_secs(1);
    /// Default `request_timeout` (dlt's `request_timeout`).
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
    /// Default `concurrency`.
    pub const DEFAULT_CONCURRENCY: usize = 8;

    /// Settings for the instance at `base_url` with default tuning.
    ///
    /// Fails with [`ExtractError::Configuration`] when `base_url` is not an `http(s)` URL of a
    /// host (see [`normalize_base_url`]).
    pub fn new(base_url: &str, credentials: Credentials) -> Result<Self, ExtractError> {
        let parsed = Url::parse(base_url.trim()).map_err(|e| ExtractError::Configuration {
            key: format!("{CONFIG_SECTION}.base_url"),
            message: format!("`{}` is not a URL: {e}", redact_userinfo(base_url)),
        })?;
        Ok(LookerSettings {
            base_url: normalize_base_url(&parsed)?,
            credentials,
            page_size: Self::DEFAULT_PAGE_SIZE,
            max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
            max_retry_delay: Self::DEFAULT_MAX_RETRY_DELAY,
            initial_retry_delay: Self::DEFAULT_INITIAL_RETRY_DELAY,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            concurrency: Self::DEFAULT_CONCURRENCY,
        })
    }

    /// Checks every field; the error names the configuration key to fix.
    pub(crate) fn validate(&self) -> Result<(), ExtractError> {
        let bad = |key: &str, message: &str| ExtractError::Configuration {
            key: format!("{CONFIG_SECTION}.{key}"),
            message: message.to_owned(),
        };
        if self.page_size == 0 {
            return Err(bad("page_size", "must be at least 1"));
        }
        if self.max_attempts == 0 {
            return Err(bad("max_attempts", "must be at least 1"));
        }
        if self.concurrency == 0 {
            return Err(bad("concurrency", "must be at least 1"));
        }
        if self.request_timeout.is_zero() {
            return Err(bad("request_timeout", "must be more than zero"));
        }
        if self.initial_retry_delay > self.max_retry_delay {
            return Err(bad(
                "initial_retry_delay",
                "must not exceed the maximum retry delay",
            ));
        }
        match &self.credentials {
            Credentials::ClientCredentials {
                client_id,
                client_secret,
            } => {
                if client_id.trim().is_empty() {
                    return Err(bad("client_id", "is empty"));
                }
                if secrecy::ExposeSecret::expose_secret(client_secret).is_empty() {
                    return Err(bad("client_secret", "is empty"));
                }
            }
            Credentials::AccessToken(token) => {
                if secrecy::ExposeSecret::expose_secret(token).trim().is_empty() {
                    return Err(bad("access_token", "is empty"));
                }
            }
        }
        Ok(())
    }
}

/// Normalises a Looker instance URL to the API 4.0 root, ending in `/api/4.0/`.
///
/// Accepted: `http`/`https` URLs of a host, with any port (the legacy API port 19999 is kept as
/// given), an optional path prefix (a reverse proxy's), and an optional trailing `/api`,
/// `/api/<version>` (replaced by `/api/4.0`) with or without a trailing slash. Rejected with
/// [`ExtractError::Configuration`]: other schemes, no host, user info (`user:pass@`), a query or a
/// fragment. Normalising an already normalised URL returns it unchanged.
pub fn normalize_base_url(url: &Url) -> Result<Url, ExtractError> {
    let bad = |message: String| ExtractError::Configuration {
        key: format!("{CONFIG_SECTION}.base_url"),
        message,
    };
    let shown = redact_userinfo(url.as_str());
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(bad(format!(
            "`{shown}` must start with https:// (or http://), e.g. https://acme.cloud.looker.com"
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad(format!("`{shown}` has no host")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(format!(
            "`{shown}` carries user info; put the API credentials in {CONFIG_SECTION}.client_id and \
             {CONFIG_SECTION}.client_secret instead"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(format!(
            "`{shown}` has a query or fragment; give the instance URL only"
        )));
    }
    let mut segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|seg| !seg.is_empty()).collect())
        .unwrap_or_default();
    // Drop a trailing `api/<version>` or `api`, whatever the version, then add `api/4.0`.
    if let [.., api, version] = segments.as_slice()
        && *api == "api"
        && looks_like_version(version)
    {
        segments.truncate(segments.len() - 2);
    } else if segments.last() == Some(&"api") {
        segments.pop();
    }
    let mut out = url.clone();
    {
        let mut path = out
            .path_segments_mut()
            .map_err(|()| bad(format!("`{shown}` cannot be a base URL")))?;
        path.clear();
        path.extend(segments);
        path.extend(["api", "4.0", ""]);
    }
    Ok(out)
}

fn looks_like_version(segment: &str) -> bool {
    let s = segment.strip_prefix('v').unwrap_or(segment);
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// The URL text with any `user:password@` part replaced, for error messages.
pub(crate) fn redact_userinfo(text: &str) -> String {
    match Url::parse(text.trim()) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            // Both setters only fail for URLs that cannot have user info, excluded above.
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        Ok(url) => url.to_string(),
        Err(_) => match text.rfind('@') {
            Some(at) => format!("[redacted]@{}", &text[at + 1..]),
            None => text.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> Result<String, ExtractError> {
        normalize_base_url(&Url::parse(s).expect("test URL")).map(|u| u.to_string())
    }

    #[test]
    fn base_url_forms_normalise_to_the_api_root() {
        for (given, want) in [
            (
                "https://acme.cloud.looker.com",
                "https://acme.cloud.looker.com/api/4.0/",
            ),
            (
                "https://acme.cloud.looker.com/",
                "https://acme.cloud.looker.com/api/4.0/",
            ),
            (
                "https://acme.cloud.looker.com/api/4.0",
                "https://acme.cloud.looker.com/api/4.0/",
            ),
            (
                "https://acme.cloud.looker.com/api/4.0/",
                "https://acme.cloud.looker.com/api/4.0/",
            ),
            (
                "https://acme.cloud.looker.com/api/3.1/",
                "https://acme.cloud.looker.com/api/4.0/",
            ),
            (
                "https://acme.cloud.looker.com/api",
                "https://acme.cloud.looker.com/api/4.0/",
            ),
            (
                "https://acme.looker.com:19999",
                "https://acme.looker.com:19999/api/4.0/",
            ),
            (
                "https://acme.looker.com:19999/api/4.0",
                "https://acme.looker.com:19999/api/4.0/",
            ),
            ("http://127.0.0.1:8080//", "http://127.0.0.1:8080/api/4.0/"),
            (
                "https://proxy.example.com/looker/",
                "https://proxy.example.com/looker/api/4.0/",
            ),
        ] {
            assert_eq!(norm(given).expect(given), want, "{given}");
            assert_eq!(norm(want).expect(want), want, "idempotent for {want}");
        }
    }

    #[test]
    fn bad_base_urls_are_configuration_errors_naming_the_key() {
        for given in [
            "ftp://acme.looker.com",
            "https://user:hunter2@acme.looker.com",
            "https://acme.looker.com/?x=1",
            "mailto:someone@example.com",
        ] {
            let err = norm(given).expect_err(given);
            let text = err.to_string();
            assert!(
                matches!(err, ExtractError::Configuration { .. }),
                "{given}: {err:?}"
            );
            assert!(text.contains("sources.looker_data_source.base_url"), "{text}");
            assert!(!text.contains("hunter2"), "{text}");
        }
        let err = LookerSettings::new(
            "not a url",
            Credentials::AccessToken(SecretString::from("t".to_owned())),
        )
        .expect_err("not a URL");
        assert!(err.to_string().contains("base_url"), "{err}");
    }

    #[test]
    fn debug_redacts_secrets() {
        let s = LookerSettings::new(
            "https://acme.looker.com",
            Credentials::ClientCredentials {
                client_id: "the-id".into(),
                client_secret: SecretString::from("s3cr3t-value".to_owned()),
            },
        )
        .expect("settings");
        let text = format!("{s:?}");
        assert!(
            text.contains("the-id") && !text.contains("s3cr3t-value"),
            "{text}"
        );
        let t = Credentials::AccessToken(SecretString::from("tok-123456".to_owned()));
        assert!(!format!("{t:?}").contains("tok-123456"));
    }

    #[test]
    fn validation_names_the_key() {
        let mut s = LookerSettings::new(
            "https://acme.looker.com",
            Credentials::AccessToken(SecretString::from("t".to_owned())),
        )
        .expect("settings");
        s.page_size = 0;
        let err = s.validate().expect_err("page_size 0");
        assert!(
            err.to_string().contains("sources.looker_data_source.page_size"),
            "{err}"
        );
        s.page_size = 10;
        s.concurrency = 0;
        assert!(s.validate().expect_err("c").to_string().contains("concurrency"));
    }
}
