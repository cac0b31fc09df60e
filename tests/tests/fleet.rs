//! Fleets of real processes sharing tokens through Redis: 3 "hosts" (each its own working
//! and home directory) of 4 `fleet_worker` processes, against the sandbox's authorization
//! servers, with a `redis-server` of the system's on a free loopback port.
//!
//! - Attendium's refresh tokens rotate and a reused one revokes its whole grant (RFC 9700
//!   §4.14.2): the fleet must refresh exactly once per expiry and never reuse.
//! - Communico's client-credentials token: one token request per expiry for the fleet.
//! - The lease holder killed with `SIGKILL`, a holder whose lease runs out before it
//!   saves (fencing), and Redis restarted in the middle of a run.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use attend_tests::redis_server::RedisServer;
use attendium::{AttendiumAuth, LoginOptions};
use auth_core::store::TokenStore;
use auth_core::{HttpTransport, Token};
use sandbox::Sandbox;
use sandbox::attendium::AttendiumConfig;
use sandbox::communico::CommunicoConfig;
use store_redis::RedisStore;

const WORKER: &str = env!("CARGO_BIN_EXE_fleet_worker");
const HOSTS: usize = 3;
const PER_HOST: usize = 4;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn transport() -> Arc<dyn HttpTransport> {
    Arc::new(http_reqwest::ReqwestTransport::new().unwrap())
}

/// A worker process in `host`'s directories, with `envs`; its stdout lines arrive on the
/// returned channel as they are printed.
struct Worker {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Worker {
    fn spawn(host: &Path, envs: &[(&str, String)]) -> Self {
        let mut child = Command::new(WORKER)
            .current_dir(host)
            .env("HOME", host)
            .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the fleet worker starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// Waits for a line equal to `expected`.
    fn wait_for(&self, expected: &str) {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no `{expected}` from the worker within 30 s"));
            if line == expected {
                return;
            }
        }
    }

    /// Waits for the exit, requires success, and returns the tokens printed.
    fn tokens(mut self) -> Vec<String> {
        let status = self.child.wait().unwrap();
        assert!(status.success(), "a worker failed: {status}");
        self.lines
            .iter()
            .filter_map(|l| l.strip_prefix("TOKEN ").map(str::to_owned))
            .collect()
    }
}

/// One directory per host.
fn hosts() -> Vec<tempfile::TempDir> {
    (0..HOSTS).map(|_| tempfile::tempdir().unwrap()).collect()
}

/// Starts `PER_HOST` workers on each host, all at once.
fn fleet(hosts: &[tempfile::TempDir], envs: &[(&str, String)]) -> Vec<Worker> {
    hosts
        .iter()
        .flat_map(|h| (0..PER_HOST).map(move |_| Worker::spawn(h.path(), envs)))
        .collect()
}

/// Every token every worker printed.
fn all_tokens(workers: Vec<Worker>) -> Vec<String> {
    workers.into_iter().flat_map(Worker::tokens).collect()
}

struct AttendiumFleet {
    rt: tokio::runtime::Runtime,
    sandbox: Sandbox,
    redis: RedisServer,
    envs: Vec<(&'static str, String)>,
    store: RedisStore,
}

impl AttendiumFleet {
    /// A sandbox whose access tokens live `ttl`, a login whose session is put in Redis,
    /// and the environment for workers refreshing it.
    fn start(ttl: Duration) -> Self {
        let rt = runtime();
        let redis = RedisServer::start();
        let (sandbox, session) = rt.block_on(async {
            let sandbox = Sandbox::builder()
                .attendium(AttendiumConfig::new().access_token_ttl(ttl))
                .start()
                .await
                .unwrap();
            let server = sandbox.attendium().unwrap();
            let transport = transport();
            let auth = AttendiumAuth::builder(transport.clone())
                .issuer(server.issuer())
                .build()
                .unwrap();
            let login = auth.start_login(LoginOptions::default()).await.unwrap();
            let url = login.authorization_url().clone();
            let browser = tokio::spawn(async move {
                sandbox::attendium::follow_authorization(transport.as_ref(), &url).await
            });
            let session = login.finish(Duration::from_secs(10)).await.unwrap();
            browser.await.unwrap().unwrap();
            (sandbox, session)
        });
        let server = sandbox.attendium().unwrap();
        let client_id = session.extra["attendium:client_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let store = RedisStore::open(&redis.url(0), "fleet:attendium").unwrap();
        rt.block_on(store.save(&session)).unwrap();
        let envs = vec![
            ("FLEET_GRANT", "refresh".to_owned()),
            ("FLEET_TOKEN_URL", server.token_endpoint()),
            ("FLEET_CLIENT_ID", client_id),
            ("FLEET_REDIS", redis.url(0)),
            ("FLEET_KEY", "fleet:attendium".to_owned()),
            ("FLEET_MARGIN_SECS", "1".to_owned()),
        ];
        Self {
            rt,
            sandbox,
            redis,
            envs,
            store,
        }
    }

    fn server(&self) -> &sandbox::attendium::Attendium {
        self.sandbox.attendium().unwrap()
    }

    fn refresh_requests(&self) -> u64 {
        self.server().counters().token_requests_for("refresh_token")
    }

    fn stored(&self) -> Token {
        self.rt.block_on(self.store.load()).unwrap().unwrap()
    }

    /// Asserts the grant is whole: no reuse, nothing revoked, the stored refresh token
    /// usable.
    fn assert_no_reuse(&self) {
        let counters = self.server().counters();
        assert_eq!(counters.refresh_reuses, 0, "a refresh token was reused");
        assert_eq!(self.server().grants().revoked, 0, "the grant was revoked");
        let stored = self.stored();
        assert!(
            self.server()
                .refresh_token_active(stored.refresh_token.as_ref().unwrap().secret()),
            "the stored refresh token is not the live one"
        );
    }
}

#[test]
fn a_fleet_refreshes_a_rotating_token_once_after_expiry_and_never_reuses_it() {
    let fleet_env = AttendiumFleet::start(Duration::from_secs(3));
    // Right after expiry, every process needs a token at once.
    std::thread::sleep(Duration::from_millis(3200));
    let hosts = hosts();
    let tokens = all_tokens(fleet(&hosts, &fleet_env.envs));
    assert_eq!(tokens.len(), HOSTS * PER_HOST);
    let distinct: BTreeSet<_> = tokens.iter().collect();
    assert_eq!(
        distinct.len(),
        1,
        "every process got the one refreshed token"
    );
    assert!(fleet_env.server().access_token_active(&tokens[0]));
    assert_eq!(fleet_env.refresh_requests(), 1, "exactly one refresh");
    assert_eq!(fleet_env.server().refreshes(), 1);
    fleet_env.assert_no_reuse();
    println!(
        "fleet figure: 12 processes sharing Redis, rotating refresh token: {} refresh request(s) per expiry",
        fleet_env.refresh_requests()
    );
}

#[test]
fn the_lease_holder_killed_mid_refresh_is_replaced_when_its_lease_runs_out() {
    let fleet_env = AttendiumFleet::start(Duration::from_secs(3));
    std::thread::sleep(Duration::from_millis(3200));
    let hosts = hosts();
    let mut envs = fleet_env.envs.clone();
    envs.push(("FLEET_LEASE_MS", "1500".to_owned()));
    // The holder takes the lease and hangs before sending anything.
    let mut stalled = envs.clone();
    stalled.push(("FLEET_STALL", "before".to_owned()));
    let mut holder = Worker::spawn(hosts[0].path(), &stalled);
    holder.wait_for("HOLDING");
    let others: Vec<Worker> = (0..HOSTS * PER_HOST - 1)
        .map(|i| Worker::spawn(hosts[i % HOSTS].path(), &envs))
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    holder.child.kill().unwrap(); // SIGKILL
    holder.child.wait().unwrap();
    let tokens = all_tokens(others);
    assert_eq!(tokens.len(), HOSTS * PER_HOST - 1);
    let distinct: BTreeSet<_> = tokens.iter().collect();
    assert_eq!(distinct.len(), 1, "the survivors share one token");
    assert_eq!(
        fleet_env.refresh_requests(),
        1,
        "the killed holder sent nothing"
    );
    fleet_env.assert_no_reuse();
}

#[test]
fn redis_restarted_mid_run_loses_no_token_and_causes_no_reuse() {
    let mut fleet_env = AttendiumFleet::start(Duration::from_secs(2));
    let hosts = hosts();
    let mut envs = fleet_env.envs.clone();
    envs.push(("FLEET_ROUNDS", "40".to_owned()));
    envs.push(("FLEET_ROUND_MS", "100".to_owned()));
    let workers = fleet(&hosts, &envs);
    std::thread::sleep(Duration::from_millis(1500));
    fleet_env.redis.restart();
    let tokens = all_tokens(workers);
    assert_eq!(tokens.len(), HOSTS * PER_HOST * 40);
    assert!(
        fleet_env.server().refreshes() >= 2,
        "the run spans several expiries"
    );
    // The store survived the restart holding the live session (checked here).
    fleet_env.assert_no_reuse();
}

struct CommunicoFleet {
    rt: tokio::runtime::Runtime,
    sandbox: Sandbox,
    redis: RedisServer,
}

impl CommunicoFleet {
    fn start(ttl: Duration) -> Self {
        let rt = runtime();
        let redis = RedisServer::start();
        let sandbox = rt
            .block_on(Sandbox::communico_only(
                CommunicoConfig::default().token_ttl(ttl),
            ))
            .unwrap();
        Self { rt, sandbox, redis }
    }

    fn envs(&self, shared: bool) -> Vec<(&'static str, String)> {
        let api = self.sandbox.communico().unwrap();
        let mut envs = vec![
            ("FLEET_GRANT", "client_credentials".to_owned()),
            ("FLEET_TOKEN_URL", format!("{}/v3/token", api.base_url())),
            ("FLEET_CLIENT_ID", api.key().to_owned()),
            ("FLEET_CLIENT_SECRET", api.secret().to_owned()),
            ("FLEET_MARGIN_SECS", "1".to_owned()),
        ];
        if shared {
            envs.push(("FLEET_REDIS", self.redis.url(1)));
            envs.push(("FLEET_KEY", "fleet:communico".to_owned()));
        }
        envs
    }

    fn token_requests(&self) -> u64 {
        self.sandbox.communico().unwrap().token_requests()
    }
}

#[test]
fn a_fleet_asks_for_one_client_credentials_token_per_expiry() {
    let fleet_env = CommunicoFleet::start(Duration::from_secs(3));
    let hosts = hosts();
    // Without a shared store, every process asks for its own token.
    let before = fleet_env.token_requests();
    let alone = all_tokens(fleet(&hosts, &fleet_env.envs(false)));
    let unshared = fleet_env.token_requests() - before;
    assert_eq!(alone.len(), HOSTS * PER_HOST);
    assert_eq!(unshared, (HOSTS * PER_HOST) as u64);
    // Sharing Redis: one request for the fleet, then one more after the expiry.
    let mut shared_requests = Vec::new();
    for wave in 0..2 {
        if wave > 0 {
            std::thread::sleep(Duration::from_millis(3200));
        }
        let before = fleet_env.token_requests();
        let tokens = all_tokens(fleet(&hosts, &fleet_env.envs(true)));
        shared_requests.push(fleet_env.token_requests() - before);
        let distinct: BTreeSet<_> = tokens.iter().collect();
        assert_eq!(distinct.len(), 1, "wave {wave}: one token for the fleet");
    }
    assert_eq!(shared_requests, vec![1, 1]);
    println!(
        "fleet figure: 12 processes, client credentials: {unshared} token requests per expiry without a shared store, {} with Redis",
        shared_requests[0]
    );
}

#[test]
fn a_holder_whose_lease_ran_out_cannot_overwrite_the_newer_token() {
    let fleet_env = CommunicoFleet::start(Duration::from_secs(3600));
    let host = tempfile::tempdir().unwrap();
    let mut envs = fleet_env.envs(true);
    envs.push(("FLEET_LEASE_MS", "500".to_owned()));
    // The slow holder fetches, then pauses past its lease before saving.
    let mut slow = envs.clone();
    slow.push(("FLEET_STALL", "after:4000".to_owned()));
    let slow = Worker::spawn(host.path(), &slow);
    slow.wait_for("FETCHED");
    std::thread::sleep(Duration::from_millis(700));
    // A later holder takes a new lease (a larger fence) and saves its token.
    let later = Worker::spawn(host.path(), &envs).tokens();
    let slow = slow.tokens();
    assert_eq!(fleet_env.token_requests(), 2, "both holders fetched");
    let store = RedisStore::open(&fleet_env.redis.url(1), "fleet:communico").unwrap();
    let stored = fleet_env.rt.block_on(store.load()).unwrap().unwrap();
    assert_eq!(
        stored.access_token.secret(),
        later[0],
        "the newer token stayed"
    );
    assert_eq!(slow, later, "the slow holder adopted the newer token");
}
