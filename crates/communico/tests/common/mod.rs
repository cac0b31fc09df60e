//! Shared set-up: a sandbox and a client pointed at it, with injected sleep and clock.

#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::clock::{ManualClock, Sleep, sleep_fn};
use communico::{Client, ClientBuilder, ClientSecret};
use sandbox::Sandbox;
use sandbox::communico::{CommunicoConfig, CommunicoSandbox};

/// Records every sleep the retry layer asks for and returns at once.
#[derive(Clone, Default)]
pub struct Sleeps(pub Arc<Mutex<Vec<Duration>>>);

impl Sleeps {
    pub fn sleep(&self) -> Arc<dyn Sleep> {
        let log = self.0.clone();
        Arc::new(sleep_fn(move |d| {
            log.lock().unwrap().push(d);
            Box::pin(async {})
        }))
    }

    pub fn taken(&self) -> Vec<Duration> {
        self.0.lock().unwrap().clone()
    }
}

pub struct Harness {
    pub sandbox: Sandbox,
    pub clock: ManualClock,
    pub sleeps: Sleeps,
}

impl Harness {
    pub async fn start(config: CommunicoConfig) -> Harness {
        let clock = ManualClock::default();
        let sandbox = Sandbox::communico_only(config.clock(Arc::new(clock.clone())))
            .await
            .unwrap();
        Harness {
            sandbox,
            clock,
            sleeps: Sleeps::default(),
        }
    }

    pub fn api(&self) -> &CommunicoSandbox {
        self.sandbox.communico().unwrap()
    }

    /// A client builder for the sandbox: reqwest transport, the manual clock, the
    /// recording sleep.
    pub fn builder(&self) -> ClientBuilder {
        let api = self.api();
        Client::builder()
            .base_url(api.base_url())
            .credentials(api.key(), ClientSecret::new(api.secret()))
            .transport(http_reqwest::ReqwestTransport::new().unwrap())
            .clock(Arc::new(self.clock.clone()))
            .sleep(self.sleeps.sleep())
    }

    pub fn client(&self) -> Client {
        self.builder().build().unwrap()
    }
}
