//! The bracket around one request: the runtime check before, the debug event after.

use std::time::{Duration, Instant};

use auth_core::{HttpResponse, TransportError, TransportErrorKind};

use crate::RequestLabel;

/// One request going through a transport, from the start of `send` to its outcome.
///
/// [`Exchange::begin`] refuses to start outside a Tokio runtime (both HTTP stacks panic
/// there); [`Exchange::finish`] emits one `tracing` event at `DEBUG` level, target
/// `http_common`, with the method, host, path, status (or error kind) and duration in
/// milliseconds: never the query string or a header, which may carry credentials. When no
/// subscriber wants the event, it costs a clock read and a comparison.
///
/// ```
/// use http_common::Exchange;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), auth_core::TransportError> {
/// let request = http::Request::get("http://127.0.0.1:9/events?key=s3cr3t").body(bytes::Bytes::new()).unwrap();
/// let label = http_common::RequestLabel::of(&request);
/// let exchange = Exchange::begin(&request, &label, "my-transport")?;
/// // ... send it ...
/// let outcome = Ok(http::Response::new(bytes::Bytes::from_static(b"[]")));
/// let response = exchange.finish(outcome)?;
/// assert_eq!(response.body(), "[]");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Exchange {
    method: http::Method,
    uri: http::Uri,
    started: Instant,
}

impl Exchange {
    /// Starts the exchange for `request`, named by `label` in errors, sent by the
    /// transport crate `transport`.
    ///
    /// # Errors
    ///
    /// [`TransportErrorKind::Other`], not retryable, when no Tokio runtime is running on
    /// this thread.
    pub fn begin<B>(
        request: &http::Request<B>,
        label: &RequestLabel,
        transport: &str,
    ) -> Result<Self, TransportError> {
        // A runtime without the I/O or time driver still panics at the first socket or
        // timer: Tokio offers no way to ask.
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(label
                .error(
                    TransportErrorKind::Other,
                    format_args!("{transport} must be used from within a Tokio runtime"),
                )
                .with_retryable(false));
        }
        Ok(Self {
            method: request.method().clone(),
            uri: request.uri().clone(),
            started: Instant::now(),
        })
    }

    /// Ends the exchange: emits its debug event and passes `outcome` on.
    pub fn finish(
        self,
        outcome: Result<HttpResponse, TransportError>,
    ) -> Result<HttpResponse, TransportError> {
        let elapsed = self.started.elapsed();
        if tracing::enabled!(tracing::Level::DEBUG) {
            self.log(&outcome, elapsed);
        }
        outcome
    }

    fn log(&self, outcome: &Result<HttpResponse, TransportError>, elapsed: Duration) {
        let host = self.uri.host().unwrap_or_default();
        let path = self.uri.path();
        let ms = elapsed.as_millis();
        match outcome {
            Ok(response) => tracing::debug!(
                method = %self.method,
                host,
                path,
                status = response.status().as_u16(),
                ms,
                bytes = response.body().len(),
                "response"
            ),
            Err(error) => tracing::debug!(
                method = %self.method,
                host,
                path,
                error = %error.kind(),
                ms,
                "no response"
            ),
        }
    }
}
