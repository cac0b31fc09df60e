//! A connect timeout around the whole connector, TLS handshake included.
//!
//! hyper-util's `HttpConnector::set_connect_timeout` bounds only the TCP connect (and
//! splits it between the resolved addresses); a server that accepts the TCP connection and
//! then never finishes the TLS handshake would hold the request until the total timeout.
//! Wrapping the TLS connector bounds "a usable connection" as a whole, which is what
//! [`TransportSettings::connect_timeout`](auth_core::transport::TransportSettings) promises.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use tower_service::Service;

/// The error type hyper-util's connectors use.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A connector that fails with [`ConnectTimedOut`] when `inner` takes longer than
/// `timeout` to produce a connection.
#[derive(Clone, Debug)]
pub(crate) struct ConnectTimeout<C> {
    inner: C,
    timeout: Duration,
}

impl<C> ConnectTimeout<C> {
    pub(crate) fn new(inner: C, timeout: Duration) -> Self {
        Self { inner, timeout }
    }
}

/// No connection was established within the connect timeout. Found in the source chain of
/// a connect error, so the error mapping can say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnectTimedOut(pub(crate) Duration);

impl fmt::Display for ConnectTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no connection within {:?}", self.0)
    }
}

impl std::error::Error for ConnectTimedOut {}

impl<C> Service<Uri> for ConnectTimeout<C>
where
    C: Service<Uri>,
    C::Error: Into<BoxError>,
    C::Future: Send + 'static,
    C::Response: Send + 'static,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let timeout = self.timeout;
        let connecting = self.inner.call(uri);
        Box::pin(async move {
            match tokio::time::timeout(timeout, connecting).await {
                Ok(result) => result.map_err(Into::into),
                Err(_elapsed) => Err(Box::new(ConnectTimedOut(timeout)) as BoxError),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connector whose connection attempt never finishes, like a TLS server that never
    /// answers the ClientHello.
    #[derive(Clone)]
    struct NeverConnects;

    impl Service<Uri> for NeverConnects {
        type Response = ();
        type Error = std::io::Error;
        type Future = std::future::Pending<Result<(), std::io::Error>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: Uri) -> Self::Future {
            std::future::pending()
        }
    }

    /// A connector that fails at once.
    #[derive(Clone)]
    struct Refuses;

    impl Service<Uri> for Refuses {
        type Response = ();
        type Error = std::io::Error;
        type Future = std::future::Ready<Result<(), std::io::Error>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: Uri) -> Self::Future {
            std::future::ready(Err(std::io::ErrorKind::ConnectionRefused.into()))
        }
    }

    // Paused time: the timeout fires as soon as the runtime is idle, without waiting.
    #[tokio::test(start_paused = true)]
    async fn a_stalled_connection_attempt_times_out_with_a_marker_error() {
        let mut connector = ConnectTimeout::new(NeverConnects, Duration::from_secs(10));
        let err = connector
            .call(Uri::from_static("https://example.test/"))
            .await
            .unwrap_err();
        let marker = err.downcast_ref::<ConnectTimedOut>().unwrap();
        assert_eq!(*marker, ConnectTimedOut(Duration::from_secs(10)));
        assert_eq!(err.to_string(), "no connection within 10s");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_connection_attempt_keeps_its_own_error() {
        let mut connector = ConnectTimeout::new(Refuses, Duration::from_secs(10));
        let err = connector
            .call(Uri::from_static("https://example.test/"))
            .await
            .unwrap_err();
        let io = err.downcast_ref::<std::io::Error>().unwrap();
        assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
    }
}
