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

#[cfg(test)]
mod tests {
    use std::fmt;
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    use super::*;

    /// A subscriber that keeps every event's fields as `name=value` text.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<String>>>);

    impl Subscriber for Captured {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            struct Fields(String);
            impl Visit for Fields {
                fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
                    self.0.push_str(&format!("{}={value:?} ", field.name()));
                }
            }
            let mut fields = Fields(format!("level={} ", event.metadata().level()));
            event.record(&mut fields);
            self.0.lock().unwrap().push(fields.0);
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    fn request() -> http::Request<()> {
        http::Request::post("https://user:pa55word@api.example.test:8443/v1/events?key=s3cr3t-key")
            .header("authorization", "Bearer t0ken-value")
            .body(())
            .unwrap()
    }

    /// The events `run` emits, with a Tokio runtime entered.
    fn events_of(run: impl FnOnce()) -> Vec<String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let _entered = runtime.enter();
        let captured = Captured::default();
        tracing::subscriber::with_default(captured.clone(), run);
        captured.0.lock().unwrap().clone()
    }

    #[test]
    fn each_exchange_logs_method_host_path_status_and_duration_but_no_secret() {
        let request = request();
        let label = RequestLabel::of(&request);
        let events = events_of(|| {
            let exchange = Exchange::begin(&request, &label, "test-transport").unwrap();
            let response = http::Response::builder()
                .status(201)
                .body(bytes::Bytes::from_static(b"{}"))
                .unwrap();
            exchange.finish(Ok(response)).unwrap();
            let exchange = Exchange::begin(&request, &label, "test-transport").unwrap();
            let failed = label.timed_out(Duration::from_secs(1));
            exchange.finish(Err(failed)).unwrap_err();
        });
        assert_eq!(events.len(), 2, "{events:?}");
        let [response, failure] = [&events[0], &events[1]];
        for expected in [
            "level=DEBUG",
            "method=POST",
            "host=\"api.example.test\"",
            "path=\"/v1/events\"",
            "status=201",
            "bytes=2",
            "ms=",
        ] {
            assert!(response.contains(expected), "{expected} not in {response}");
        }
        assert!(failure.contains("error=timed out"), "{failure}");
        assert!(failure.contains("path=\"/v1/events\""), "{failure}");
        for event in &events {
            for secret in ["s3cr3t-key", "t0ken-value", "pa55word", "key="] {
                assert!(!event.contains(secret), "{secret} in {event}");
            }
        }
    }

    #[test]
    fn outside_a_runtime_an_exchange_does_not_begin() {
        let request = request();
        let label = RequestLabel::origin_of(&request);
        let err = Exchange::begin(&request, &label, "test-transport").unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Other);
        assert!(!err.is_retryable());
        assert_eq!(
            err.to_string(),
            "transport error: https://api.example.test:8443: \
             test-transport must be used from within a Tokio runtime"
        );
    }
}
