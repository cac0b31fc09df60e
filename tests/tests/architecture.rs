//! The dependency rules of ARCHITECTURE.md, checked with `cargo tree` so they cannot
//! erode unnoticed.

use std::process::Command;

/// The crates in `package`'s normal dependency tree (with the given extra arguments).
fn normal_dependencies(package: &str, extra: &[&str]) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-p",
            package,
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .args(extra)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn assert_free_of(package: &str, extra: &[&str], forbidden: &[&str]) {
    let deps = normal_dependencies(package, extra);
    assert!(
        deps.iter().any(|d| d == package),
        "{package} not in its own tree: {deps:?}"
    );
    for name in forbidden {
        assert!(
            !deps.iter().any(|d| d == name),
            "{package} {extra:?} must not depend on {name}"
        );
    }
}

const NETWORK_STACKS: &[&str] = &[
    "reqwest",
    "hyper",
    "hyper-util",
    "h2",
    "mio",
    "rustls",
    "native-tls",
    "openssl",
    "ring",
    "aws-lc-rs",
    "tokio",
];

#[test]
fn auth_core_has_no_http_tls_or_runtime() {
    assert_free_of("auth-core", &[], NETWORK_STACKS);
}

#[test]
fn nothing_builds_aws_lc_or_openssl() {
    for package in ["http-reqwest", "http-hyper", "attend", "xtask"] {
        assert_free_of(
            package,
            &[],
            &[
                "aws-lc-rs",
                "aws-lc-sys",
                "openssl",
                "openssl-sys",
                "native-tls",
            ],
        );
    }
}

#[test]
fn api_clients_are_generic_over_the_transport() {
    let stacks = [
        "reqwest",
        "hyper",
        "hyper-util",
        "rustls",
        "http-reqwest",
        "http-hyper",
    ];
    assert_free_of("communico", &["--no-default-features"], &stacks);
    assert_free_of("attendium", &[], &stacks);
}

#[test]
fn xtask_never_depends_on_the_generated_code() {
    assert_free_of("xtask", &[], &["attendium"]);
}

#[test]
fn the_loopback_receiver_knows_nothing_of_oauth() {
    assert_free_of("auth-loopback", &[], &["auth-core"]);
}

#[test]
fn no_client_depends_on_the_sandbox() {
    for package in [
        "auth-core",
        "communico",
        "attendium",
        "http-reqwest",
        "http-hyper",
    ] {
        assert_free_of(package, &[], &["sandbox"]);
    }
}

#[test]
fn the_two_transports_share_no_code() {
    assert_free_of("http-reqwest", &[], &["http-hyper"]);
    assert_free_of("http-hyper", &[], &["http-reqwest"]);
}

#[test]
fn only_the_mirror_speaks_sql_and_it_names_no_http_stack() {
    // SQL lives in communico-sync alone; the API clients and the core never store rows.
    for package in [
        "auth-core",
        "communico",
        "attendium",
        "sandbox",
        "http-reqwest",
        "http-hyper",
    ] {
        assert_free_of(package, &[], &["rusqlite", "libsqlite3-sys"]);
    }
    // The mirror takes communico without its default `reqwest` feature: the client it is
    // given brings the transport, so no HTTP stack, TLS or runtime comes with it.
    assert_free_of("communico-sync", &[], NETWORK_STACKS);
    assert_free_of(
        "communico-sync",
        &[],
        &["http-reqwest", "http-hyper", "sandbox"],
    );
}
