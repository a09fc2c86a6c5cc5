//! The HTTP server.

use std::net::SocketAddr;

use crate::{Dataset, MockConfig, Stats};

/// A running mock Looker server; dropping it or calling [`MockServer::shutdown`] stops it.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    dataset: Dataset,
}

impl MockServer {
    /// Starts a server on `127.0.0.1` with an ephemeral port.
    pub async fn start(config: MockConfig) -> std::io::Result<MockServer> {
        Self::start_on(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a server on `addr` (port 0: an ephemeral port).
    pub async fn start_on(config: MockConfig, addr: SocketAddr) -> std::io::Result<MockServer> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        Ok(MockServer { addr, dataset: Dataset::new(&config) })
    }

    /// `http://HOST:PORT`, without a trailing slash; the API lives under `/api/4.0`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        Stats::default()
    }

    /// The generated data, for exact expectations in tests.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// Stops the server and waits until it no longer accepts connections.
    pub async fn shutdown(self) {}
}
