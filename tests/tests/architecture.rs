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
    for package in [
        "http-common",
        "http-reqwest",
        "http-hyper",
        "attend",
        "xtask",
    ] {
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
        "http-common",
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
fn the_cli_tables_bring_no_terminal_backend() {
    // comfy-table without default features: the width comes from `console`.
    assert_free_of("attend", &[], &["crossterm"]);
}

#[test]
fn auth_core_is_free_of_redis_and_the_redis_store_of_api_clients() {
    assert_free_of("auth-core", &[], &["redis", "store-redis"]);
    assert_free_of(
        "store-redis",
        &[],
        &[
            "communico",
            "attendium",
            "sandbox",
            "http-reqwest",
            "http-hyper",
        ],
    );
}

#[test]
fn the_shared_http_crate_depends_on_no_api_crate() {
    assert_free_of(
        "http-common",
        &[],
        &[
            "communico",
            "attendium",
            "auth-loopback",
            "http-reqwest",
            "http-hyper",
        ],
    );
    // Both transports take what they share from it.
    for transport in ["http-reqwest", "http-hyper"] {
        let deps = normal_dependencies(transport, &[]);
        assert!(
            deps.iter().any(|d| d == "http-common"),
            "{transport} does not use http-common"
        );
    }
}

/// Words that name sockets, proxies, HTTP stacks or their errors, or the helpers that
/// only HTTP backends need.
const HTTP_PLUMBING: &[&str] = &[
    "proxy",
    "backend",
    "socket",
    "tcp",
    "hyper",
    "rustls",
    "reqwest",
    "tokio",
    "error_chain",
    "limitedbody",
    "requestlabel",
    "user_agent",
    "useragent",
];

/// Every public item of `auth-core` as declared in its source: each `pub use` statement
/// whole, and each other `pub` item's line up to its body (a function's signature, a
/// type's name), with `pub(crate)` and narrower left out.
fn auth_core_public_declarations() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/auth-core/src");
    let mut files = vec![root];
    let mut declarations = Vec::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("auth-core's source is readable") {
                files.push(entry.expect("a directory entry").path());
            }
            continue;
        }
        if path.extension().is_none_or(|ext| ext != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a source file is readable");
        // Test modules are not the public API.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        let shown = path.display().to_string();
        let mut rest = text;
        while let Some(at) = rest.find("pub ") {
            let item = &rest[at..];
            let end = if item.starts_with("pub use ") {
                item.find(';')
            } else {
                item.find(['{', ';', '\n'])
            }
            .unwrap_or(item.len());
            declarations.push((shown.clone(), item[..end].to_owned()));
            rest = &item[end..];
        }
    }
    declarations
}

#[test]
fn auth_core_s_public_api_names_no_proxy_backend_or_socket_type() {
    let declarations = auth_core_public_declarations();
    assert!(
        declarations
            .iter()
            .any(|(_, item)| item.contains("HttpTransport")),
        "the scan found auth-core's transport trait: {declarations:?}"
    );
    for (file, item) in &declarations {
        let lower = item.to_ascii_lowercase();
        for word in HTTP_PLUMBING {
            assert!(
                !lower.contains(word),
                "{file}: auth-core's public `{item}` names {word}; HTTP plumbing belongs in http-common"
            );
        }
    }
}

#[test]
fn the_graphql_engine_stays_in_the_sandbox_without_its_optional_parts() {
    for package in [
        "auth-core",
        "communico",
        "attendium",
        "http-reqwest",
        "http-hyper",
    ] {
        assert_free_of(package, &[], &["async-graphql"]);
    }
    // Default features off: no GraphiQL/playground templates, no uploads to temporary
    // files, no e-mail validator.
    assert_free_of(
        "sandbox",
        &[],
        &["handlebars", "askama", "tempfile", "fast_chemail"],
    );
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
