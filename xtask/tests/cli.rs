//! `cargo xtask` as CI and people run it: exit codes and what it prints, on a temporary
//! copy of the workspace's schema, operations and generated code.

// Test helpers: a failed setup step should stop the test where it happened.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const OPERATIONS: &str = "schemas/operations";
const OUTPUT: &str = "crates/attendium/src/generated";
const SCHEMA: &str = "schemas/attendium.graphql";

fn workspace_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn copy_of_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in [OPERATIONS, OUTPUT] {
        fs::create_dir_all(dir.path().join(sub)).unwrap();
        for entry in fs::read_dir(workspace_root().join(sub)).unwrap() {
            let entry = entry.unwrap();
            fs::copy(entry.path(), dir.path().join(sub).join(entry.file_name())).unwrap();
        }
    }
    fs::copy(workspace_root().join(SCHEMA), dir.path().join(SCHEMA)).unwrap();
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

#[test]
fn codegen_check_fails_on_a_stale_file_names_it_and_prints_the_fix() {
    let root = copy_of_workspace();
    let ok = xtask(root.path(), &["codegen", "--check"]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert_eq!(text(&ok.stdout), "generated code is up to date\n");

    let me = root.path().join(OUTPUT).join("me.rs");
    let original = fs::read_to_string(&me).unwrap();
    fs::write(&me, format!("{original}// hand edit\n")).unwrap();

    let stale = xtask(root.path(), &["codegen", "--check"]);
    assert_eq!(stale.status.code(), Some(1));
    let stderr = text(&stale.stderr);
    assert!(
        stderr.contains("stale:   crates/attendium/src/generated/me.rs"),
        "{stderr}"
    );
    assert!(
        stderr.trim_end().ends_with("run: cargo xtask codegen"),
        "{stderr}"
    );
    // --check changes nothing.
    assert!(fs::read_to_string(&me).unwrap().ends_with("// hand edit\n"));

    let fix = xtask(root.path(), &["codegen"]);
    assert!(fix.status.success(), "{}", text(&fix.stderr));
    assert_eq!(
        text(&fix.stdout),
        "stale:   crates/attendium/src/generated/me.rs\n3 generated files, 1 changed\n"
    );
    assert_eq!(fs::read_to_string(&me).unwrap(), original);
    assert!(xtask(root.path(), &["codegen", "--check"]).status.success());
}

/// The root is read at run time: a binary built in this checkout works on the copy named
/// by `CARGO_MANIFEST_DIR` (what `cargo xtask` sets), or else on the workspace containing
/// the current directory, and never on the checkout it was built in.
#[test]
fn the_root_is_found_at_run_time_not_where_the_binary_was_built() {
    let root = copy_of_workspace();
    fs::write(
        root.path().join("Cargo.toml"),
        "[workspace]\nmembers = [\"xtask\"]\n",
    )
    .unwrap();
    fs::create_dir_all(root.path().join("xtask")).unwrap();
    let me = root.path().join(OUTPUT).join("me.rs");
    let original = fs::read_to_string(&me).unwrap();
    fs::write(&me, format!("{original}// hand edit\n")).unwrap();

    let run = |configure: &dyn Fn(&mut Command)| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command
            .args(["codegen", "--check"])
            .env_remove("ATTENDIUM_TOKEN");
        configure(&mut command);
        command.output().unwrap()
    };
    // `cargo xtask` in the copy sets CARGO_MANIFEST_DIR to the copy's xtask/.
    let from_manifest_dir = run(&|c| {
        c.env("CARGO_MANIFEST_DIR", root.path().join("xtask"))
            .current_dir(std::env::temp_dir());
    });
    // A binary run directly, from a directory inside the copy.
    let from_current_dir = run(&|c| {
        c.env_remove("CARGO_MANIFEST_DIR")
            .current_dir(root.path().join(OPERATIONS));
    });
    for out in [from_manifest_dir, from_current_dir] {
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("stale:   crates/attendium/src/generated/me.rs"),
            "{stderr}"
        );
    }

    // Outside any workspace, without --root: a usage error saying what to do.
    let outside = tempfile::tempdir().unwrap();
    let out = run(&|c| {
        c.env_remove("CARGO_MANIFEST_DIR")
            .current_dir(outside.path());
    });
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--root"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn codegen_reports_bad_input_with_the_file_and_exit_1() {
    let root = copy_of_workspace();
    fs::write(
        root.path().join(OPERATIONS).join("Broken.graphql"),
        "query Broken { me { id }",
    )
    .unwrap();
    let out = xtask(root.path(), &["codegen"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: schemas/operations/Broken.graphql: GraphQL syntax error"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn schema_pull_refuses_to_send_a_token_over_plain_http() {
    let root = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "schema",
            "pull",
            "--endpoint",
            "http://api.attendium.test/graphql",
            "--root",
        ])
        .arg(root.path())
        .env("ATTENDIUM_TOKEN", "SECRET-FROM-ENV-5521")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("refusing to send credentials"), "{stderr}");
    assert!(!stderr.contains("SECRET-FROM-ENV"), "{stderr}");
    assert!(!root.path().join(SCHEMA).exists());
}

#[test]
fn schema_pull_usage_errors_exit_2_and_help_hides_the_token() {
    let root = tempfile::tempdir().unwrap();
    let out = xtask(root.path(), &["schema", "pull", "--endpoint", "not a url"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--endpoint: not a URL"));

    let help = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["schema", "pull", "--help"])
        .env("ATTENDIUM_TOKEN", "SECRET-FROM-ENV-5521")
        .output()
        .unwrap();
    assert!(help.status.success());
    let stdout = text(&help.stdout);
    assert!(stdout.contains("ATTENDIUM_TOKEN"), "{stdout}");
    assert!(!stdout.contains("SECRET-FROM-ENV"), "{stdout}");
}

/// `schema pull` against the sandbox's live `/graphql` (introspection with a bearer token
/// the sandbox issued), then codegen on the pulled SDL: what a user with access to more
/// of the schema does, end to end.
#[test]
fn schema_pull_from_the_sandbox_round_trips_through_codegen() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let issuer = url::Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let attendium =
        sandbox::attendium::Attendium::new(sandbox::attendium::AttendiumConfig::new(), issuer)
            .unwrap();
    let router = attendium.router();
    runtime.spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let token = attendium.issue_access_token("demo-user").unwrap();

    let root = copy_of_workspace();
    let pulled = root.path().join(SCHEMA);
    fs::remove_file(&pulled).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "schema",
            "pull",
            "--endpoint",
            &attendium.graphql_endpoint(),
            "--root",
        ])
        .arg(root.path())
        .env("ATTENDIUM_TOKEN", token.secret())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains(token.secret()));
    assert!(!text(&out.stderr).contains(token.secret()));

    // The pulled SDL describes the same schema as the checked-in one, so the generated
    // code it gives is exactly the checked-in code.
    let out = xtask(root.path(), &["codegen"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = xtask(root.path(), &["codegen", "--check"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for entry in fs::read_dir(workspace_root().join(OUTPUT)).unwrap() {
        let entry = entry.unwrap();
        assert_eq!(
            fs::read(entry.path()).unwrap(),
            fs::read(root.path().join(OUTPUT).join(entry.file_name())).unwrap(),
            "{:?} differs when generated from the pulled schema",
            entry.file_name()
        );
    }
    runtime.shutdown_background();
}
