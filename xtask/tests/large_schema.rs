//! A large real schema end to end: GitHub's public GraphQL schema (`tests/data/github/`,
//! from the `@octokit/graphql-schema` npm package) plus Attendium's documented
//! `me { id }`, with operations that use variables, fragments, enums, input objects,
//! unions, interfaces, custom scalars, deprecated fields, nested lists and connections.
//!
//! - `cargo xtask codegen` on that schema writes exactly the code checked in under
//!   `tests/data/github/generated/`, and `--check` is clean afterwards;
//! - that code compiles: it is this test's `generated` module;
//! - the sandbox serving that schema answers every operation, and the answers
//!   deserialize into the generated types;
//! - `cargo xtask schema pull` from that sandbox gives a schema that generates the same
//!   code.
//!
//! After a change to the generator or the operations, refresh the checked-in code with
//! `UPDATE_GENERATED=1 cargo test -p xtask --test large_schema`.

// Test helpers: a failed setup step should stop the test where it happened.
#![allow(clippy::unwrap_used)]

#[path = "../../tests/data/github/generated/mod.rs"]
mod generated;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use graphql_client::GraphQLQuery;
use serde_json::{Value, json};

const SCHEMA: &str = "schemas/attendium.graphql";
const OPERATIONS: &str = "schemas/operations";
const OUTPUT: &str = "crates/attendium/src/generated";

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/github")
}

/// GitHub's schema with Attendium's documented `Query.me: User` added.
fn schema_with_me() -> String {
    let sdl = fs::read_to_string(data_dir().join("schema.graphql")).unwrap();
    // `type Query implements Node {`: the field goes first in its body.
    let query = sdl.find("\ntype Query ").unwrap();
    let at = query + sdl[query..].find("{\n").unwrap() + 2;
    format!(
        "{}  \"\"\"\n  The signed-in user.\n  \"\"\"\n  me: User\n\n{}",
        &sdl[..at],
        &sdl[at..]
    )
}

/// A workspace-shaped temporary root: the schema with `me`, the operations, and (if
/// `with_output`) the checked-in generated code.
fn root(with_output: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join(OPERATIONS)).unwrap();
    fs::create_dir_all(dir.path().join(OUTPUT)).unwrap();
    fs::write(dir.path().join(SCHEMA), schema_with_me()).unwrap();
    for entry in fs::read_dir(data_dir().join("operations")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(
            entry.path(),
            dir.path().join(OPERATIONS).join(entry.file_name()),
        )
        .unwrap();
    }
    if with_output {
        for entry in fs::read_dir(data_dir().join("generated")).unwrap() {
            let entry = entry.unwrap();
            fs::copy(
                entry.path(),
                dir.path().join(OUTPUT).join(entry.file_name()),
            )
            .unwrap();
        }
    }
    dir
}

fn xtask(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .arg("--root")
        .arg(root)
        .env_remove("ATTENDIUM_TOKEN")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The `.rs` files of `dir`, by name.
fn rust_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".rs"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn codegen_on_the_large_schema_writes_the_checked_in_code_and_check_is_clean() {
    let fresh = root(false);
    let out = xtask(fresh.path(), &["codegen"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).ends_with("5 generated files, 5 changed\n"),
        "{}",
        text(&out.stdout)
    );
    let written = rust_files(&fresh.path().join(OUTPUT));
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        let target = data_dir().join("generated");
        fs::create_dir_all(&target).unwrap();
        for (name, _) in rust_files(&target) {
            fs::remove_file(target.join(name)).unwrap();
        }
        for (name, contents) in &written {
            fs::write(target.join(name), contents).unwrap();
        }
    }
    assert_eq!(
        written,
        rust_files(&data_dir().join("generated")),
        "the generator's output differs from tests/data/github/generated/: \
         run UPDATE_GENERATED=1 cargo test -p xtask --test large_schema"
    );
    let check = xtask(fresh.path(), &["codegen", "--check"]);
    assert!(check.status.success(), "{}", text(&check.stderr));
    assert_eq!(text(&check.stdout), "generated code is up to date\n");

    // The checked-in copy passes --check as it is.
    let checked_in = root(true);
    let check = xtask(checked_in.path(), &["codegen", "--check"]);
    assert!(check.status.success(), "{}", text(&check.stderr));

    // Custom scalars follow the one table: DateTime and Date to jiff, the rest String.
    let scalars = text(&fs::read(data_dir().join("generated/scalars.rs")).unwrap());
    assert!(
        scalars.contains("pub type DateTime = ::jiff::Timestamp;"),
        "{scalars}"
    );
    assert!(
        scalars.contains("pub type Date = ::jiff::civil::Date;"),
        "{scalars}"
    );
    assert!(
        scalars.contains("pub type URI = ::std::string::String;"),
        "{scalars}"
    );
    assert!(scalars.contains("pub type GitTimestamp = ::std::string::String;"));
}

/// A sandbox serving `sdl` on a runtime of its own.
struct Sandbox {
    runtime: tokio::runtime::Runtime,
    attendium: sandbox::attendium::Attendium,
    token: String,
}

impl Sandbox {
    fn start(sdl: String) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let issuer =
            url::Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let config = sandbox::attendium::AttendiumConfig::new().schema_sdl(sdl);
        let attendium = sandbox::attendium::Attendium::new(config, issuer).unwrap();
        let router = attendium.router();
        runtime.spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        let token = attendium
            .issue_access_token("user-7")
            .unwrap()
            .secret()
            .to_owned();
        Self {
            runtime,
            attendium,
            token,
        }
    }

    /// Sends `Q` with `variables` and returns the answer's `data`, typed.
    fn run<Q: GraphQLQuery>(&self, variables: Q::Variables) -> Q::ResponseData {
        let body = serde_json::to_vec(&Q::build_query(variables)).unwrap();
        let answer = self.post(body);
        assert!(answer.get("errors").is_none(), "{answer}");
        serde_json::from_value(answer["data"].clone())
            .unwrap_or_else(|e| panic!("{e}: {}", answer["data"]))
    }

    fn post(&self, body: Vec<u8>) -> Value {
        use auth_core::HttpTransport;
        let transport = http_reqwest::ReqwestTransport::new().unwrap();
        let request = http::Request::post(self.attendium.graphql_endpoint())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(
                http::header::AUTHORIZATION,
                format!("Bearer {}", self.token),
            )
            .body(bytes::Bytes::from(body))
            .unwrap();
        let response = self.runtime.block_on(transport.send(request)).unwrap();
        assert_eq!(response.status(), 200);
        serde_json::from_slice(response.body()).unwrap()
    }
}

#[test]
fn the_sandbox_serving_the_large_schema_answers_the_generated_operations() {
    use generated::{repository_issues, search, star_node};
    let sandbox = Sandbox::start(schema_with_me());

    let issues = sandbox.run::<generated::RepositoryIssues>(repository_issues::Variables {
        owner: "octokit".into(),
        name: "graphql-schema".into(),
        first: Some(5),
        after: None,
        states: Some(vec![repository_issues::IssueState::OPEN]),
        order_by: Some(repository_issues::IssueOrder {
            field: repository_issues::IssueOrderField::CREATED_AT,
            direction: repository_issues::OrderDirection::DESC,
        }),
    });
    // Modelled: the signed-in user.
    assert_eq!(issues.me.unwrap().id, "user-7");
    // Not modelled: samples of the right type, one item per list.
    let repository = issues.repository.unwrap();
    let page = &repository.issues;
    assert!(page.page_info.end_cursor.is_some());
    let nodes = page.nodes.as_ref().unwrap();
    assert_eq!(nodes.len(), 1);
    let issue = nodes[0].as_ref().unwrap();
    assert_eq!(issue.state, repository_issues::IssueState::CLOSED);
    assert_eq!(
        issue.created_at,
        "2024-05-01T12:30:00Z".parse::<jiff::Timestamp>().unwrap()
    );
    assert_eq!(issue.url, "https://example.com/sample");
    assert_eq!(issue.title, "Issue.title");
    let labels = issue.labels.as_ref().unwrap().nodes.as_ref().unwrap();
    assert_eq!(labels.len(), 1);
    let assignees = issue.assignees.edges.as_ref().unwrap();
    assert_eq!(
        assignees[0].as_ref().unwrap().node.as_ref().unwrap().login,
        "User.login"
    );

    let found = sandbox.run::<generated::Search>(search::Variables {
        query: "is:open".into(),
        type_: search::SearchType::ISSUE,
        first: 3,
        login: "octokit".into(),
    });
    assert_eq!(found.search.nodes.as_ref().unwrap().len(), 1);
    // The first member of the union `SearchResultItem` answers.
    assert!(matches!(
        found.search.nodes.as_ref().unwrap()[0].as_ref().unwrap(),
        search::SearchSearchNodes::App(app) if app.slug == "App.slug"
    ));
    assert!(found.search.page_info.has_next_page);
    assert_eq!(found.viewer.login, "User.login");
    assert_eq!(
        found.viewer.repositories.nodes.as_ref().unwrap()[0]
            .as_ref()
            .unwrap()
            .updated_at,
        "2024-05-01T12:30:00Z".parse::<jiff::Timestamp>().unwrap()
    );
    let organization = found.organization.unwrap();
    #[allow(deprecated)]
    let announcement = organization.announcement.clone();
    assert_eq!(announcement.as_deref(), Some("Organization.announcement"));

    let starred = sandbox.run::<generated::StarNode>(star_node::Variables {
        input: star_node::AddStarInput {
            client_mutation_id: None,
            starrable_id: "R_1".into(),
        },
    });
    let starrable = starred.add_star.unwrap().starrable.unwrap();
    assert_eq!(starrable.stargazer_count, 1);
    assert!(starrable.viewer_has_starred);
}

#[test]
fn an_invalid_operation_against_the_large_schema_gets_the_engines_error() {
    let sandbox = Sandbox::start(schema_with_me());
    let answer = sandbox.post(
        serde_json::to_vec(&json!({
            "query": "query {\n  repository(owner: \"o\", name: \"n\") { nope }\n}",
        }))
        .unwrap(),
    );
    assert!(answer.get("data").is_none(), "{answer}");
    assert_eq!(
        answer["errors"][0]["locations"],
        json!([{ "line": 2, "column": 39 }]),
        "{answer}"
    );
}

#[test]
fn schema_pull_from_the_sandbox_serving_the_large_schema_generates_the_same_code() {
    let sandbox = Sandbox::start(schema_with_me());
    let root = root(true);
    fs::remove_file(root.path().join(SCHEMA)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["schema", "pull", "--endpoint"])
        .arg(sandbox.attendium.graphql_endpoint())
        .arg("--root")
        .arg(root.path())
        .env("ATTENDIUM_TOKEN", &sandbox.token)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pulled = fs::read_to_string(root.path().join(SCHEMA)).unwrap();
    assert!(
        pulled.lines().count() > 10_000,
        "{} lines",
        pulled.lines().count()
    );
    let check = xtask(root.path(), &["codegen", "--check"]);
    assert!(check.status.success(), "{}", text(&check.stderr));
}
