//! `--demo`: the built-in mock Looker, started in-process on a free localhost port, so every command
//! can run without a Looker instance.

use looker_mock::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, MockConfig, MockServer};
use secrecy::SecretString;
use url::Url;

use crate::PipelineError;
use crate::config::LookerConfig;

/// The size of the demo instance. Looks and dashboards follow users (a tenth and a twentieth), as in
/// the benchmark workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSize {
    /// Number of users.
    pub users: usize,
}

impl Default for DemoSize {
    fn default() -> Self {
        DemoSize { users: 1000 }
    }
}

/// A running mock Looker.
#[derive(Debug)]
pub struct Demo {
    server: MockServer,
}

impl Demo {
    /// Starts the mock on 127.0.0.1 with a fixed seed and the demo credentials.
    pub async fn start(size: DemoSize) -> Result<Demo, PipelineError> {
        let config = MockConfig::with_size(size.users, size.users / 10, size.users / 20);
        let server = MockServer::start(config).await.map_err(PipelineError::Demo)?;
        tracing::info!(base_url = %server.base_url(), users = size.users, "demo Looker started");
        Ok(Demo { server })
    }

    /// Points the Looker settings at the mock, replacing any configured instance and credentials.
    pub fn configure(&self, looker: &mut LookerConfig) -> Result<(), PipelineError> {
        let url = Url::parse(&self.server.base_url())
            .map_err(|e| PipelineError::Internal(format!("demo server address: {e}")))?;
        looker.base_url = Some(url);
        looker.client_id = Some(DEMO_CLIENT_ID.to_owned());
        looker.client_secret = Some(SecretString::from(DEMO_CLIENT_SECRET));
        looker.access_token = None;
        Ok(())
    }

    /// The mock server, for its statistics.
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// Stops the mock.
    pub async fn stop(self) {
        self.server.shutdown().await;
    }
}
