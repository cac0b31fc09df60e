//! `auth-core` in a tool that never speaks HTTP.
//!
//! The "transport" here hands each request to another thread over a channel, the way a
//! tool might pass it through a message bus, a serial link or a parent process. The
//! other thread plays the authorization server. No HTTP library, no TLS, no async
//! runtime: the futures are driven by a ten-line executor on the current thread.
//!
//! Run it with `cargo run -p auth-core --example no_http`; `cargo test` runs it too.

#![allow(clippy::print_stdout)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::mpsc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use auth_core::grant::client_credentials::{ClientCredentialsGrant, ClientCredentialsSource};
use auth_core::token_cache::CachingProvider;
use auth_core::transport::{
    HttpRequest, HttpResponse, HttpTransport, TransportError, TransportErrorKind,
};
use auth_core::{BasicEncoding, ClientAuth, ClientSecret, TokenProvider};
use bytes::Bytes;

/// A request and the place to put its answer.
type Envelope = (HttpRequest, mpsc::Sender<HttpResponse>);

/// Carries requests to a peer over a channel instead of a network.
struct ChannelTransport {
    // `Sender` is `Sync`: no lock needed to share it between concurrent sends.
    to_peer: mpsc::Sender<Envelope>,
}

#[async_trait::async_trait]
impl HttpTransport for ChannelTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let (reply_to, reply) = mpsc::channel();
        let gone = |_| TransportError::new(TransportErrorKind::Connect, "the peer has gone");
        self.to_peer.send((request, reply_to)).map_err(gone)?;
        // The peer answers synchronously; a real tool would await its own I/O here.
        reply
            .recv()
            .map_err(|_| TransportError::new(TransportErrorKind::Connect, "no answer"))
    }
}

/// The other side: an authorization server that issues numbered tokens.
fn peer(requests: mpsc::Receiver<Envelope>) {
    for (number, (request, reply_to)) in requests.into_iter().enumerate() {
        let body = String::from_utf8_lossy(request.body());
        let response = if request.uri().path() == "/token"
            && body == "grant_type=client_credentials"
        {
            let json = format!(
                r#"{{"access_token":"token-{number}","token_type":"bearer","expires_in":"3600"}}"#
            );
            http::Response::builder()
                .status(200)
                .body(Bytes::from(json))
        } else {
            http::Response::builder()
                .status(400)
                .body(Bytes::from_static(br#"{"error":"unsupported_grant_type"}"#))
        };
        if let Ok(response) = response {
            let _ = reply_to.send(response);
        }
    }
}

/// The smallest executor that can drive these futures: poll, park until woken, repeat.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        match future.as_mut().poll(&mut context) {
            Poll::Ready(output) => return output,
            Poll::Pending => thread::park(),
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (to_peer, requests) = mpsc::channel();
    let server = thread::spawn(move || peer(requests));

    // "http://127.0.0.1" only names the peer: nothing listens there, nothing is sent
    // over a network. Loopback is allowed to carry credentials without TLS.
    let grant = ClientCredentialsGrant::new(
        url::Url::parse("http://127.0.0.1/token")?,
        ClientAuth::basic(
            "tool",
            ClientSecret::new("s3cret"),
            BasicEncoding::FormUrlEncoded,
        ),
    );
    let transport = ChannelTransport { to_peer };
    let tokens = CachingProvider::new(ClientCredentialsSource::new(grant, transport));

    let first = block_on(tokens.token())?;
    let second = block_on(tokens.token())?;
    assert_eq!(first, second, "the second call is a cache hit");
    println!("got {first:?} twice, with one request to the peer");

    tokens.invalidate(&first);
    let third = block_on(tokens.token())?;
    assert_ne!(first, third, "an invalidated token is fetched again");
    println!("after invalidate: a new token, {third:?}");

    drop(tokens);
    server.join().map_err(|_| "the peer thread panicked")?;
    Ok(())
}

#[test]
fn runs_to_completion() {
    main().expect("the example runs");
}
