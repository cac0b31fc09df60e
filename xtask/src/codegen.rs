//! `cargo xtask codegen`: one typed Rust module per GraphQL operation file.
//!
//! Inputs, relative to the workspace root: the schema [`SCHEMA`] and the operation files
//! `*.graphql` in [`OPERATIONS`]. Output: [`OUTPUT`]`/<snake_name>.rs` per operation file
//! plus `mod.rs` listing them. The output is checked in, so building the `attendium` crate
//! needs no generator; `--check` fails when it is stale.
//!
//! Every function takes the root as a parameter so that tests run on a temporary copy.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use graphql_client_codegen::{CodegenMode, GraphQLClientCodegenOptions};
use graphql_parser::query::{Definition, OperationDefinition};
use heck::ToSnakeCase;

use crate::error::Error;

/// The schema the operations are checked against.
pub(crate) const SCHEMA: &str = "schemas/attendium.graphql";
/// Where the operation files live.
pub(crate) const OPERATIONS: &str = "schemas/operations";
/// Where the generated modules go.
pub(crate) const OUTPUT: &str = "crates/attendium/src/generated";
/// The command that regenerates the output, named in headers and in `--check` failures.
pub(crate) const COMMAND: &str = "cargo xtask codegen";

/// Where the generated operation modules look custom scalars up (`type DateTime =
/// crate::generated::scalars::DateTime;`): the `scalars.rs` this generator writes beside
/// them from [`CUSTOM_SCALARS`]. The output directory must therefore be mounted as the
/// crate's `generated` module, as `crates/attendium/src/lib.rs` does.
const SCALARS_MODULE: &str = "crate::generated::scalars";

/// The Rust type of each custom scalar, by GraphQL name: the one place that decides it.
/// Each type deserializes from the JSON the scalar is sent as; the crate compiling the
/// generated code needs the crates named here, with their `serde` feature.
///
/// | scalar | Rust type | wire format |
/// | --- | --- | --- |
/// | `DateTime` | `jiff::Timestamp` | an RFC 3339 date-time with offset, e.g. `2024-05-01T12:30:00Z` |
/// | `Date` | `jiff::civil::Date` | an RFC 3339 full-date, e.g. `2024-05-01` |
/// | any other | `String` ([`DEFAULT_SCALAR_TYPE`]) | a JSON string |
pub(crate) const CUSTOM_SCALARS: &[(&str, &str)] = &[
    ("DateTime", "::jiff::Timestamp"),
    ("Date", "::jiff::civil::Date"),
];

/// The Rust type of a custom scalar [`CUSTOM_SCALARS`] does not list: its format is
/// unknown, so its text is kept as it came.
pub(crate) const DEFAULT_SCALAR_TYPE: &str = "::std::string::String";

/// The scalars every GraphQL schema has (GraphQL spec §3.5); `graphql_client` maps them.
const BUILT_IN_SCALARS: &[&str] = &["Int", "Float", "String", "Boolean", "ID"];

/// Lints the generated code may trip: it imports more than it uses and its items carry
/// no docs.
const MOD_ALLOWS: &[&str] = &[
    "clippy::all",
    "dead_code",
    "missing_docs",
    "non_camel_case_types",
    "unreachable_pub",
    "unused_imports",
];

/// One file the generator produces, with its path relative to the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GeneratedFile {
    /// Relative to the workspace root, with `/` separators.
    pub(crate) path: String,
    /// The complete contents.
    pub(crate) contents: String,
}

/// How a checked-in file differs from what the generator produces.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Drift {
    /// The file should exist and does not.
    Missing(String),
    /// The file exists with other contents.
    Stale(String),
    /// The file is in the output directory but no operation produces it.
    Extra(String),
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Drift::Missing(path) => write!(f, "missing: {path}"),
            Drift::Stale(path) => write!(f, "stale:   {path}"),
            Drift::Extra(path) => write!(f, "extra:   {path}"),
        }
    }
}

/// An operation file that passed validation.
struct Operation {
    /// Relative path, for messages and headers.
    rel: String,
    /// The file's text.
    text: String,
    /// The module (and file) name: the file stem in snake case.
    module: String,
    /// The operations it defines, in file order.
    operation_names: Vec<String>,
}

/// Generates every file under [`OUTPUT`] from the inputs under `root`, sorted by path.
///
/// The inputs are validated here first (files exist, names are usable, the GraphQL
/// parses), because `graphql_client_codegen` panics on unreadable or unparsable input.
/// It also caches parsed schemas per path for the life of the process, so one process
/// must not generate twice from a schema path whose contents changed in between.
pub(crate) fn generate(root: &Path) -> Result<Vec<GeneratedFile>, Error> {
    let schema_path = root.join(SCHEMA);
    let schema_text = read_text(&schema_path, SCHEMA)?;
    let schema =
        graphql_parser::parse_schema::<String>(&schema_text).map_err(|e| Error::GraphQlSyntax {
            path: SCHEMA.into(),
            message: e.to_string(),
        })?;
    let scalars = custom_scalars(&schema);
    let operations = read_operations(root)?;

    let mut files = Vec::with_capacity(operations.len() + 1);
    for operation in &operations {
        let code = generate_module(&schema_path, operation)?;
        files.push(GeneratedFile {
            path: format!("{OUTPUT}/{}.rs", operation.module),
            contents: format!("{}{code}", module_header(operation)),
        });
    }
    files.push(GeneratedFile {
        path: format!("{OUTPUT}/mod.rs"),
        contents: mod_rs(&operations),
    });
    files.push(GeneratedFile {
        path: format!("{OUTPUT}/scalars.rs"),
        contents: scalars_rs(&scalars),
    });
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Writes `files` under `root` and deletes any other `.rs` file in [`OUTPUT`]. Files
/// whose contents are already right are left untouched (their timestamps too, so cargo
/// does not rebuild). Returns what changed.
pub(crate) fn write(root: &Path, files: &[GeneratedFile]) -> Result<Vec<Drift>, Error> {
    let changes = compare(root, files)?;
    let output_dir = root.join(OUTPUT);
    fs::create_dir_all(&output_dir).map_err(|e| Error::io(Path::new(OUTPUT), e))?;
    for change in &changes {
        match change {
            Drift::Missing(rel) | Drift::Stale(rel) => {
                let contents = files
                    .iter()
                    .find(|f| &f.path == rel)
                    .map(|f| f.contents.as_str())
                    .unwrap_or_default();
                fs::write(root.join(rel), contents).map_err(|e| Error::io(Path::new(rel), e))?;
            }
            Drift::Extra(rel) => {
                fs::remove_file(root.join(rel)).map_err(|e| Error::io(Path::new(rel), e))?;
            }
        }
    }
    Ok(changes)
}

/// Compares `files` with what is on disk under `root`: missing and stale files, and
/// `.rs` files in [`OUTPUT`] that nothing generates. Empty when everything is current.
pub(crate) fn compare(root: &Path, files: &[GeneratedFile]) -> Result<Vec<Drift>, Error> {
    let mut drift = Vec::new();
    for file in files {
        match fs::read(root.join(&file.path)) {
            Ok(bytes) if bytes == file.contents.as_bytes() => {}
            Ok(_) => drift.push(Drift::Stale(file.path.clone())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                drift.push(Drift::Missing(file.path.clone()));
            }
            Err(e) => return Err(Error::io(Path::new(&file.path), e)),
        }
    }
    let expected: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let output_dir = root.join(OUTPUT);
    let entries = match fs::read_dir(&output_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            drift.sort();
            return Ok(drift);
        }
        Err(e) => return Err(Error::io(Path::new(OUTPUT), e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(Path::new(OUTPUT), e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let rel = format!("{OUTPUT}/{name}");
        if name.ends_with(".rs") && !expected.contains(rel.as_str()) {
            drift.push(Drift::Extra(rel));
        }
    }
    drift.sort();
    Ok(drift)
}

/// `cargo xtask codegen --check`: an error listing every drift, or `Ok`.
pub(crate) fn check(root: &Path) -> Result<(), Error> {
    let files = generate(root)?;
    let drift = compare(root, &files)?;
    if drift.is_empty() {
        Ok(())
    } else {
        Err(Error::Stale(drift))
    }
}

fn read_text(path: &Path, rel: &str) -> Result<String, Error> {
    let bytes = fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::invalid(Path::new(rel), "not found")
        } else {
            Error::io(Path::new(rel), e)
        }
    })?;
    String::from_utf8(bytes).map_err(|_| Error::invalid(Path::new(rel), "not UTF-8 text"))
}

/// Reads and validates every operation file, sorted by module name.
fn read_operations(root: &Path) -> Result<Vec<Operation>, Error> {
    let dir = root.join(OPERATIONS);
    let entries = fs::read_dir(&dir).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::invalid(
                Path::new(OPERATIONS),
                "the directory of operation files does not exist",
            )
        } else {
            Error::io(Path::new(OPERATIONS), e)
        }
    })?;

    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(Path::new(OPERATIONS), e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str().map(str::to_owned) else {
            return Err(Error::invalid(
                &Path::new(OPERATIONS).join(&name),
                "file names must be UTF-8",
            ));
        };
        // Dot files: `.gitkeep`, editor swap files.
        if name.starts_with('.') {
            continue;
        }
        let rel = format!("{OPERATIONS}/{name}");
        let is_file = entry
            .file_type()
            .map_err(|e| Error::io(Path::new(&rel), e))?
            .is_file();
        if !is_file || !name.ends_with(".graphql") {
            return Err(Error::invalid(
                Path::new(&rel),
                "only `.graphql` files (one per operation) belong here",
            ));
        }
        names.push(name);
    }
    names.sort();

    let mut operations: BTreeMap<String, Operation> = BTreeMap::new();
    // Every name `mod.rs` defines (file modules, operation types and their modules), with
    // the file that claims it: two files must not claim the same one.
    let mut claimed: BTreeMap<String, String> = BTreeMap::new();
    let mut claim = |name: String, rel: &str| match claimed.insert(name.clone(), rel.to_owned()) {
        Some(other) if other != rel => Err(Error::invalid(
            Path::new(rel),
            format!("generates `{name}`, as {other} does: rename an operation or a file"),
        )),
        Some(_) => Err(Error::invalid(
            Path::new(rel),
            format!("generates `{name}` twice: rename an operation"),
        )),
        None => Ok(()),
    };
    for name in names {
        let rel = format!("{OPERATIONS}/{name}");
        let stem = name.trim_end_matches(".graphql");
        let module = stem.to_snake_case();
        // `mod` would overwrite mod.rs.
        if module == "mod" || syn::parse_str::<syn::Ident>(&module).is_err() {
            return Err(Error::invalid(
                Path::new(&rel),
                format!(
                    "the file name gives the module name `{module}`, which is not a usable Rust identifier: rename the file"
                ),
            ));
        }
        claim(format!("{module}.rs"), &rel)?;
        claim(format!("{module}_operation"), &rel)?;
        let text = read_text(&root.join(&rel), &rel)?;
        let operation_names = operation_names(&rel, &text)?;
        for op in &operation_names {
            claim(op.clone(), &rel)?;
            // The generator names an operation's module with heck: the same spelling.
            claim(op.to_snake_case(), &rel)?;
        }
        operations.insert(
            module.clone(),
            Operation {
                rel,
                text,
                module,
                operation_names,
            },
        );
    }
    Ok(operations.into_values().collect())
}

/// The names of the operations in `text`, which must parse and name each operation
/// (the generated struct is named after it).
fn operation_names(rel: &str, text: &str) -> Result<Vec<String>, Error> {
    let document =
        graphql_parser::parse_query::<String>(text).map_err(|e| Error::GraphQlSyntax {
            path: rel.into(),
            message: e.to_string(),
        })?;
    let mut names = Vec::new();
    for definition in &document.definitions {
        let name = match definition {
            Definition::Fragment(_) => continue,
            Definition::Operation(OperationDefinition::Query(q)) => q.name.clone(),
            Definition::Operation(OperationDefinition::Mutation(m)) => m.name.clone(),
            Definition::Operation(OperationDefinition::Subscription(s)) => s.name.clone(),
            Definition::Operation(OperationDefinition::SelectionSet(_)) => None,
        };
        let Some(name) = name else {
            return Err(Error::invalid(
                Path::new(rel),
                "every operation needs a name (`query Me { ... }`): the generated type is named after it",
            ));
        };
        if syn::parse_str::<syn::Ident>(&name).is_err()
            || syn::parse_str::<syn::Ident>(&name.to_snake_case()).is_err()
        {
            return Err(Error::invalid(
                Path::new(rel),
                format!("operation name `{name}` does not make a usable Rust type and module name"),
            ));
        }
        names.push(name);
    }
    if names.is_empty() {
        return Err(Error::invalid(
            Path::new(rel),
            "defines no operation (only fragments)",
        ));
    }
    Ok(names)
}

/// Runs the generator on one validated operation file and formats the result.
fn generate_module(schema_path: &Path, operation: &Operation) -> Result<String, Error> {
    let mut options = GraphQLClientCodegenOptions::new(CodegenMode::Cli);
    options.set_module_visibility(syn::parse_quote!(pub));
    options.set_response_derives("Debug, Clone, PartialEq".to_owned());
    options.set_variables_derives("Debug, Clone, PartialEq".to_owned());
    options.set_custom_scalars_module(syn::parse_str(SCALARS_MODULE).map_err(|e| {
        Error::GeneratedCode {
            path: operation.rel.clone().into(),
            message: e.to_string(),
        }
    })?);
    // No `set_query_file`: it would embed an absolute path (`include_str!`) in the output.

    // The inputs are validated above; the guard only turns a generator bug into an error
    // instead of a crash with a poisoned cache.
    let generated = catch_unwind(AssertUnwindSafe(|| {
        graphql_client_codegen::generate_module_token_stream_from_string(
            &operation.text,
            schema_path,
            options,
        )
        .map_err(|e| e.to_string())
    }))
    .map_err(|_| Error::Codegen {
        path: operation.rel.clone().into(),
        message: "the generator panicked".to_owned(),
    })?
    .map_err(|message| Error::Codegen {
        path: operation.rel.clone().into(),
        message,
    })?;

    let file = syn::parse2::<syn::File>(generated).map_err(|e| Error::GeneratedCode {
        path: operation.rel.clone().into(),
        message: e.to_string(),
    })?;
    Ok(prettyplease::unparse(&file))
}

/// The custom scalars `schema` declares, with their descriptions, in SDL order.
fn custom_scalars(
    schema: &graphql_parser::schema::Document<'_, String>,
) -> Vec<(String, Option<String>)> {
    use graphql_parser::schema::{Definition, TypeDefinition};
    schema
        .definitions
        .iter()
        .filter_map(|definition| match definition {
            Definition::TypeDefinition(TypeDefinition::Scalar(scalar))
                if !BUILT_IN_SCALARS.contains(&scalar.name.as_str()) =>
            {
                Some((scalar.name.clone(), scalar.description.clone()))
            }
            _ => None,
        })
        .collect()
}

/// The Rust type of custom scalar `name` ([`CUSTOM_SCALARS`]).
pub(crate) fn scalar_type(name: &str) -> &'static str {
    CUSTOM_SCALARS
        .iter()
        .find(|(scalar, _)| *scalar == name)
        .map_or(DEFAULT_SCALAR_TYPE, |(_, ty)| ty)
}

/// `scalars.rs`: one type alias per custom scalar of the schema.
fn scalars_rs(scalars: &[(String, Option<String>)]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "//! The Rust types of the custom scalars of `{SCHEMA}`, as the generated\n\
         //! operations use them. Chosen by `CUSTOM_SCALARS` in `xtask/src/codegen.rs`.\n\n\
         // @generated by `{COMMAND}`. Do not edit: change the table and run `{COMMAND}`.\n"
    ));
    for (name, description) in scalars {
        out.push('\n');
        match description {
            Some(text) => {
                for line in text.lines() {
                    out.push_str(&format!("/// {}\n", line.trim_end()).replace("/// \n", "///\n"));
                }
            }
            None => out.push_str(&format!("/// The `{name}` scalar.\n")),
        }
        out.push_str(&format!("pub type {name} = {};\n", scalar_type(name)));
    }
    out
}

fn module_header(operation: &Operation) -> String {
    format!(
        "// @generated by `{COMMAND}` from {} against {SCHEMA}.\n\
         // Do not edit: change the .graphql files and run `{COMMAND}`.\n\n",
        operation.rel
    )
}

fn mod_rs(operations: &[Operation]) -> String {
    let mut out = String::new();
    out.push_str(
        "//! Typed GraphQL operations generated from `schemas/` (see `cargo xtask codegen`).\n",
    );
    out.push_str("//!\n");
    out.push_str("//! Each module holds one operation file: the operation type (implementing\n");
    out.push_str(
        "//! `graphql_client::GraphQLQuery`, re-exported here) and, in the module named\n",
    );
    out.push_str("//! after the operation, its `Variables` and `ResponseData`.\n\n");
    out.push_str(&format!(
        "// @generated by `{COMMAND}`. Do not edit: add a file to {OPERATIONS}/ and run `{COMMAND}`.\n\n"
    ));
    for allow in MOD_ALLOWS {
        out.push_str(&format!("#![allow({allow})]\n"));
    }
    out.push_str(
        "\n// The Rust types of the custom scalars.\n#[rustfmt::skip]\npub mod scalars;\n",
    );
    for operation in operations {
        // The file module gets a private name and re-exports the operation types and
        // modules, so that callers write `generated::me::Variables` rather than
        // `generated::me::me::Variables`.
        let mut exports: Vec<String> = Vec::new();
        for name in &operation.operation_names {
            exports.push(name.clone());
            exports.push(name.to_snake_case());
        }
        exports.sort();
        out.push('\n');
        out.push_str(&format!("// From {}.\n", operation.rel));
        // rustfmt would reformat prettyplease's output and make `--check` fail.
        out.push_str("#[rustfmt::skip]\n");
        out.push_str(&format!("#[path = \"{}.rs\"]\n", operation.module));
        out.push_str(&format!("mod {}_operation;\n", operation.module));
        out.push_str(&format!(
            "pub use self::{}_operation::{{{}}};\n",
            operation.module,
            exports.join(", ")
        ));
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The real workspace root (this crate is `<root>/xtask`).
    pub(crate) fn workspace_root() -> &'static Path {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
    }

    /// A temporary root holding a copy of the schema, the operations and the generated
    /// code of the workspace.
    pub(crate) fn copy_of_workspace() -> tempfile::TempDir {
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

    /// A temporary root with `schema` and the given operation files, and no output yet.
    fn root_with(schema: &str, operations: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(OPERATIONS)).unwrap();
        fs::write(dir.path().join(SCHEMA), schema).unwrap();
        for (name, text) in operations {
            fs::write(dir.path().join(OPERATIONS).join(name), text).unwrap();
        }
        dir
    }

    const KNOWN_SCHEMA: &str = "type Query { me: User }\ntype User { id: ID! name: String }\n";

    #[test]
    fn checked_in_generated_code_is_current() {
        if let Err(err) = check(workspace_root()) {
            panic!("{err}");
        }
    }

    #[test]
    fn same_input_gives_the_same_bytes() {
        let root = copy_of_workspace();
        let first = generate(root.path()).unwrap();
        let second = generate(root.path()).unwrap();
        assert_eq!(first, second);
        // And the same bytes from another copy (another schema path, so no cache).
        let other = copy_of_workspace();
        assert_eq!(first, generate(other.path()).unwrap());
        let paths: Vec<&str> = first.iter().map(|f| f.path.as_str()).collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted);
        for file in &first {
            assert!(!file.contents.contains('\r'), "{}", file.path);
            assert!(
                !file.contents.contains(&*root.path().to_string_lossy()),
                "{} embeds the machine's path",
                file.path
            );
        }
    }

    #[test]
    fn output_has_headers_and_a_mod_rs_listing_every_operation() {
        let root = root_with(
            KNOWN_SCHEMA,
            &[
                ("WhoAmI.graphql", "query WhoAmI { me { id name } }"),
                (
                    "Me.graphql",
                    "query Me { me { ...Ids } }\nquery MeName { me { name } }\nfragment Ids on User { id }",
                ),
            ],
        );
        let files = generate(root.path()).unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "crates/attendium/src/generated/me.rs",
                "crates/attendium/src/generated/mod.rs",
                "crates/attendium/src/generated/scalars.rs",
                "crates/attendium/src/generated/who_am_i.rs",
            ]
        );
        let me = &files[0].contents;
        assert!(me.starts_with(
            "// @generated by `cargo xtask codegen` from schemas/operations/Me.graphql"
        ));
        assert!(me.contains("pub struct Me;") && me.contains("pub struct MeName;"));
        let mod_rs = &files[1].contents;
        assert!(mod_rs.contains("#[path = \"me.rs\"]\nmod me_operation;\npub use self::me_operation::{Me, MeName, me, me_name};\n"), "{mod_rs}");
        assert!(
            mod_rs.contains(
                "mod who_am_i_operation;\npub use self::who_am_i_operation::{WhoAmI, who_am_i};\n"
            ),
            "{mod_rs}"
        );
        assert!(mod_rs.contains("#![allow(unused_imports)]"));
        assert!(
            mod_rs.contains("#[rustfmt::skip]\npub mod scalars;\n"),
            "{mod_rs}"
        );
        // No custom scalar in this schema: the module only says where types come from.
        assert!(
            !files[2].contents.contains("pub type"),
            "{}",
            files[2].contents
        );
    }

    #[test]
    fn custom_scalars_map_through_the_one_table() {
        let schema = "\"When\"\nscalar DateTime\nscalar Date\nscalar URI\n\
                      type Query { me: User }\n\
                      type User { id: ID! at: DateTime! on: Date site: URI }\n";
        let root = root_with(
            schema,
            &[("Me.graphql", "query Me { me { id at on site } }")],
        );
        let files = generate(root.path()).unwrap();
        let scalars = &files
            .iter()
            .find(|f| f.path.ends_with("/scalars.rs"))
            .unwrap()
            .contents;
        assert!(
            scalars.contains("/// When\npub type DateTime = ::jiff::Timestamp;\n"),
            "{scalars}"
        );
        assert!(
            scalars.contains("pub type Date = ::jiff::civil::Date;\n"),
            "{scalars}"
        );
        assert!(
            scalars.contains("/// The `URI` scalar.\npub type URI = ::std::string::String;\n"),
            "{scalars}"
        );
        assert_eq!(scalar_type("DateTime"), "::jiff::Timestamp");
        assert_eq!(scalar_type("Anything"), DEFAULT_SCALAR_TYPE);
        let me = &files[0].contents;
        assert!(me.contains("crate::generated::scalars::DateTime"), "{me}");
    }

    #[test]
    fn check_fails_on_a_stale_missing_or_extra_file_and_write_repairs_it() {
        let root = copy_of_workspace();
        check(root.path()).unwrap();

        let me = root.path().join(OUTPUT).join("me.rs");
        let original = fs::read_to_string(&me).unwrap();
        fs::write(
            &me,
            original.replace("pub struct Me;", "pub struct Me; // edited"),
        )
        .unwrap();
        fs::remove_file(root.path().join(OUTPUT).join("mod.rs")).unwrap();
        fs::write(root.path().join(OUTPUT).join("old_query.rs"), "// gone\n").unwrap();
        // Not Rust: not ours to delete.
        fs::write(root.path().join(OUTPUT).join("notes.txt"), "keep").unwrap();

        let err = check(root.path()).unwrap_err();
        let Error::Stale(drift) = &err else {
            panic!("{err}")
        };
        assert_eq!(
            *drift,
            vec![
                Drift::Missing(format!("{OUTPUT}/mod.rs")),
                Drift::Stale(format!("{OUTPUT}/me.rs")),
                Drift::Extra(format!("{OUTPUT}/old_query.rs")),
            ]
        );
        let message = err.to_string();
        assert!(
            message.contains("stale:   crates/attendium/src/generated/me.rs"),
            "{message}"
        );
        assert!(message.ends_with("run: cargo xtask codegen"), "{message}");

        let files = generate(root.path()).unwrap();
        assert_eq!(write(root.path(), &files).unwrap(), *drift);
        check(root.path()).unwrap();
        assert_eq!(fs::read_to_string(&me).unwrap(), original);
        assert!(root.path().join(OUTPUT).join("notes.txt").exists());
        assert!(write(root.path(), &files).unwrap().is_empty());
    }

    /// A name, the schema, the operation files, and what the error must say.
    type Case = (
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
        &'static str,
    );

    #[test]
    fn bad_inputs_are_reported_with_the_file_and_never_panic() {
        let cases: &[Case] = &[
            (
                "operation syntax error",
                KNOWN_SCHEMA,
                &[("Me.graphql", "query Me { me { id }")],
                "schemas/operations/Me.graphql: GraphQL syntax error",
            ),
            (
                "anonymous operation",
                KNOWN_SCHEMA,
                &[("Me.graphql", "{ me { id } }")],
                "every operation needs a name",
            ),
            (
                "unknown field",
                KNOWN_SCHEMA,
                &[("Me.graphql", "query Me { me { nope } }")],
                "schemas/operations/Me.graphql: cannot generate code",
            ),
            (
                "fragments only",
                KNOWN_SCHEMA,
                &[("Me.graphql", "fragment F on User { id }")],
                "defines no operation",
            ),
            (
                "not a .graphql file",
                KNOWN_SCHEMA,
                &[("Me.gql", "query Me { me { id } }")],
                "schemas/operations/Me.gql: only `.graphql` files",
            ),
            (
                "file name that is a keyword",
                KNOWN_SCHEMA,
                &[("Self.graphql", "query Me { me { id } }")],
                "not a usable Rust identifier",
            ),
            (
                "file name that would overwrite mod.rs",
                KNOWN_SCHEMA,
                &[("Mod.graphql", "query Me { me { id } }")],
                "not a usable Rust identifier",
            ),
            (
                "file name starting with a digit",
                KNOWN_SCHEMA,
                &[("1st.graphql", "query Me { me { id } }")],
                "not a usable Rust identifier",
            ),
            (
                "same operation in two files",
                KNOWN_SCHEMA,
                &[
                    ("A.graphql", "query Me { me { id } }"),
                    ("B.graphql", "query Me { me { name } }"),
                ],
                "schemas/operations/B.graphql: generates `Me`, as schemas/operations/A.graphql does",
            ),
            (
                "two files with the same module name",
                KNOWN_SCHEMA,
                &[
                    ("WhoAmI.graphql", "query A { me { id } }"),
                    ("who_am_i.graphql", "query B { me { id } }"),
                ],
                "generates `who_am_i.rs`",
            ),
            (
                "schema syntax error",
                "type Query { me: User",
                &[("Me.graphql", "query Me { me { id } }")],
                "schemas/attendium.graphql: GraphQL syntax error",
            ),
            (
                "operation not UTF-8",
                KNOWN_SCHEMA,
                &[("Me.graphql", "query Me { me { id } } # \u{fffd}")],
                "",
            ),
        ];
        for (name, schema, operations, expected) in cases {
            let root = root_with(schema, operations);
            if expected.is_empty() {
                // Control case: valid input with odd characters in a comment.
                generate(root.path()).unwrap();
                continue;
            }
            let err = generate(root.path()).unwrap_err();
            let message = err.to_string();
            assert!(message.contains(expected), "{name}: {message}");
        }
    }

    #[test]
    fn missing_inputs_are_reported() {
        let root = tempfile::tempdir().unwrap();
        let err = generate(root.path()).unwrap_err().to_string();
        assert_eq!(err, "schemas/attendium.graphql: not found");

        fs::create_dir_all(root.path().join("schemas")).unwrap();
        fs::write(root.path().join(SCHEMA), KNOWN_SCHEMA).unwrap();
        let err = generate(root.path()).unwrap_err().to_string();
        assert!(err.starts_with("schemas/operations: "), "{err}");

        fs::create_dir_all(root.path().join(OPERATIONS)).unwrap();
        fs::write(
            root.path().join(OPERATIONS).join("Me.graphql"),
            [0xff, 0xfe],
        )
        .unwrap();
        let err = generate(root.path()).unwrap_err().to_string();
        assert_eq!(err, "schemas/operations/Me.graphql: not UTF-8 text");
    }

    #[test]
    fn dot_files_in_the_operations_directory_are_ignored() {
        let root = root_with(
            KNOWN_SCHEMA,
            &[
                (".gitkeep", ""),
                (".Me.graphql.swp", "\u{0}"),
                ("Me.graphql", "query Me { me { id } }"),
            ],
        );
        let files = generate(root.path()).unwrap();
        // me.rs, mod.rs, scalars.rs.
        assert_eq!(files.len(), 3);
    }
}
