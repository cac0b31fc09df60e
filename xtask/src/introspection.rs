//! The standard introspection query and the conversion of its result to SDL.
//!
//! The printer follows graphql-js's `printSchema`: built-in scalars, built-in directives
//! and the `__` introspection types are left out; a `schema { ... }` block is printed only
//! when the root types are not named `Query`, `Mutation` and `Subscription`. Types and
//! directives are sorted by name so that two pulls of the same schema give the same bytes
//! whatever order the server lists them in; fields, arguments and enum values keep the
//! server's order, which is the order the schema's authors wrote.

use serde_json::{Map, Value};

use crate::error::Error;

/// The introspection query of graphql-js's `getIntrospectionQuery()` with its default
/// options: only what every GraphQL server since the 2018 specification answers (no
/// `specifiedByURL`, `isRepeatable` or `isOneOf`, which older servers reject as unknown
/// fields). Seven levels of `ofType` cover `[[T!]!]!` and deeper.
pub(crate) const INTROSPECTION_QUERY: &str = "query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types {
      ...FullType
    }
    directives {
      name
      description
      locations
      args {
        ...InputValue
      }
    }
  }
}

fragment FullType on __Type {
  kind
  name
  description
  fields(includeDeprecated: true) {
    name
    description
    args {
      ...InputValue
    }
    type {
      ...TypeRef
    }
    isDeprecated
    deprecationReason
  }
  inputFields {
    ...InputValue
  }
  interfaces {
    ...TypeRef
  }
  enumValues(includeDeprecated: true) {
    name
    description
    isDeprecated
    deprecationReason
  }
  possibleTypes {
    ...TypeRef
  }
}

fragment InputValue on __InputValue {
  name
  description
  type { ...TypeRef }
  defaultValue
}

fragment TypeRef on __Type {
  kind
  name
  ofType {
    kind
    name
    ofType {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
          ofType {
            kind
            name
            ofType {
              kind
              name
              ofType {
                kind
                name
              }
            }
          }
        }
      }
    }
  }
}
";

const BUILTIN_SCALARS: &[&str] = &["String", "Int", "Float", "Boolean", "ID"];
const BUILTIN_DIRECTIVES: &[&str] = &["include", "skip", "deprecated", "specifiedBy", "oneOf"];
/// The reason `@deprecated` has when none is given (GraphQL spec §3.13.3).
const DEFAULT_DEPRECATION_REASON: &str = "No longer supported";

/// Converts an introspection result to SDL, prefixed by `header` (comment lines, each
/// starting with `#`, or empty). Accepts the whole response (`{"data": {"__schema": …}}`)
/// or the `__schema` object's parent (`{"__schema": …}`). The output parses as a GraphQL
/// schema document; this is checked before it is returned.
pub(crate) fn to_sdl(introspection: &Value, header: &str) -> Result<String, Error> {
    let schema = introspection
        .get("data")
        .unwrap_or(introspection)
        .get("__schema")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::Introspection("no `__schema` object in the result".to_owned()))?;

    let mut blocks = Vec::new();
    if let Some(block) = schema_block(schema)? {
        blocks.push(block);
    }

    let mut directives: Vec<&Map<String, Value>> = list(schema, "directives")?
        .iter()
        .filter_map(Value::as_object)
        .filter(|d| !BUILTIN_DIRECTIVES.contains(&str_field(d, "name").unwrap_or_default()))
        .collect();
    directives.sort_by_key(|d| str_field(d, "name").unwrap_or_default());
    for directive in directives {
        blocks.push(print_directive(directive)?);
    }

    let mut types: Vec<&Map<String, Value>> = list(schema, "types")?
        .iter()
        .filter_map(Value::as_object)
        .filter(|t| {
            let name = str_field(t, "name").unwrap_or_default();
            !name.starts_with("__") && !BUILTIN_SCALARS.contains(&name)
        })
        .collect();
    types.sort_by_key(|t| str_field(t, "name").unwrap_or_default());
    for ty in types {
        blocks.push(print_type(ty)?);
    }

    let mut sdl = String::from(header);
    sdl.push_str(&blocks.join("\n"));
    graphql_parser::parse_schema::<String>(&sdl).map_err(|e| {
        Error::Introspection(format!("the SDL printed from it does not parse: {e}"))
    })?;
    Ok(sdl)
}

fn schema_block(schema: &Map<String, Value>) -> Result<Option<String>, Error> {
    let root = |key: &str| -> Option<&str> {
        schema
            .get(key)
            .and_then(Value::as_object)
            .and_then(|t| str_field(t, "name"))
    };
    let query = root("queryType")
        .ok_or_else(|| Error::Introspection("`queryType` has no name".to_owned()))?;
    let roots = [
        ("query", Some(query), "Query"),
        ("mutation", root("mutationType"), "Mutation"),
        ("subscription", root("subscriptionType"), "Subscription"),
    ];
    if roots
        .iter()
        .all(|(_, name, common)| name.is_none_or(|n| n == *common))
    {
        return Ok(None);
    }
    let mut out = String::from("schema {\n");
    for (operation, name, _) in roots {
        if let Some(name) = name {
            out.push_str(&format!("  {operation}: {name}\n"));
        }
    }
    out.push_str("}\n");
    Ok(Some(out))
}

fn print_type(ty: &Map<String, Value>) -> Result<String, Error> {
    let name = required_name(ty)?;
    let kind = str_field(ty, "kind").unwrap_or_default();
    let mut out = description(ty, "");
    match kind {
        "SCALAR" => out.push_str(&format!("scalar {name}\n")),
        "OBJECT" | "INTERFACE" => {
            let keyword = if kind == "OBJECT" {
                "type"
            } else {
                "interface"
            };
            out.push_str(&format!("{keyword} {name}"));
            let interfaces = names_of(ty, "interfaces")?;
            if !interfaces.is_empty() {
                out.push_str(&format!(" implements {}", interfaces.join(" & ")));
            }
            let fields = list(ty, "fields")?;
            out.push_str(&braced(fields, print_field)?);
        }
        "UNION" => {
            out.push_str(&format!("union {name}"));
            let members = names_of(ty, "possibleTypes")?;
            if !members.is_empty() {
                out.push_str(&format!(" = {}", members.join(" | ")));
            }
            out.push('\n');
        }
        "ENUM" => {
            out.push_str(&format!("enum {name}"));
            out.push_str(&braced(list(ty, "enumValues")?, print_enum_value)?);
        }
        "INPUT_OBJECT" => {
            out.push_str(&format!("input {name}"));
            out.push_str(&braced(list(ty, "inputFields")?, |v| {
                Ok(format!("{}\n", print_input_value(v, "  ")?))
            })?);
        }
        other => {
            return Err(Error::Introspection(format!(
                "type `{name}` has an unknown kind `{other}`"
            )));
        }
    }
    Ok(out)
}

/// ` {\n<items>}\n`, or `\n` for no items (GraphQL allows a type with no field list).
fn braced(
    items: &[Value],
    print: impl Fn(&Map<String, Value>) -> Result<String, Error>,
) -> Result<String, Error> {
    if items.is_empty() {
        return Ok("\n".to_owned());
    }
    let mut out = String::from(" {\n");
    for item in items {
        let item = item
            .as_object()
            .ok_or_else(|| Error::Introspection("a list entry is not an object".to_owned()))?;
        out.push_str(&print(item)?);
    }
    out.push_str("}\n");
    Ok(out)
}

fn print_field(field: &Map<String, Value>) -> Result<String, Error> {
    let name = required_name(field)?;
    let ty = type_ref(field.get("type"))?;
    let mut out = description(field, "  ");
    out.push_str(&format!(
        "  {name}{}: {ty}{}\n",
        print_args(list(field, "args")?, "  ")?,
        deprecation(field)
    ));
    Ok(out)
}

fn print_enum_value(value: &Map<String, Value>) -> Result<String, Error> {
    let name = required_name(value)?;
    let mut out = description(value, "  ");
    out.push_str(&format!("  {name}{}\n", deprecation(value)));
    Ok(out)
}

/// `(a: Int, b: String = "x")` on one line, or one argument per line when any of them has
/// a description (as graphql-js prints them). Empty for no arguments.
fn print_args(args: &[Value], indent: &str) -> Result<String, Error> {
    if args.is_empty() {
        return Ok(String::new());
    }
    let args: Vec<&Map<String, Value>> = args.iter().filter_map(Value::as_object).collect();
    let described = args
        .iter()
        .any(|a| str_field(a, "description").is_some_and(|d| !d.is_empty()));
    if !described {
        let printed: Result<Vec<String>, Error> =
            args.iter().map(|a| print_input_value(a, "")).collect();
        return Ok(format!("({})", printed?.join(", ")));
    }
    let inner = format!("{indent}  ");
    let mut out = String::from("(\n");
    for arg in args {
        out.push_str(&print_input_value(arg, &inner)?);
        out.push('\n');
    }
    out.push_str(indent);
    out.push(')');
    Ok(out)
}

/// An argument or input field, with its description above it; no trailing newline.
fn print_input_value(value: &Map<String, Value>, indent: &str) -> Result<String, Error> {
    let name = required_name(value)?;
    let ty = type_ref(value.get("type"))?;
    let mut out = description(value, indent);
    out.push_str(&format!("{indent}{name}: {ty}"));
    if let Some(default) = str_field(value, "defaultValue") {
        out.push_str(&format!(" = {default}"));
    }
    out.push_str(&deprecation(value));
    Ok(out)
}

fn print_directive(directive: &Map<String, Value>) -> Result<String, Error> {
    let name = required_name(directive)?;
    let mut out = description(directive, "");
    out.push_str(&format!(
        "directive @{name}{}",
        print_args(list(directive, "args")?, "")?
    ));
    if directive.get("isRepeatable").and_then(Value::as_bool) == Some(true) {
        out.push_str(" repeatable");
    }
    let locations: Vec<&str> = list(directive, "locations")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if locations.is_empty() {
        return Err(Error::Introspection(format!(
            "directive `@{name}` has no locations"
        )));
    }
    out.push_str(&format!(" on {}\n", locations.join(" | ")));
    Ok(out)
}

/// ` @deprecated` or ` @deprecated(reason: "...")`, or nothing.
fn deprecation(item: &Map<String, Value>) -> String {
    if item.get("isDeprecated").and_then(Value::as_bool) != Some(true) {
        return String::new();
    }
    match str_field(item, "deprecationReason") {
        None | Some(DEFAULT_DEPRECATION_REASON) => " @deprecated".to_owned(),
        Some(reason) => format!(" @deprecated(reason: {})", quoted(reason)),
    }
}

/// The description as a string literal on its own line(s), indented; empty when absent.
fn description(item: &Map<String, Value>, indent: &str) -> String {
    match str_field(item, "description") {
        None | Some("") => String::new(),
        Some(text) if text.contains('\n') => {
            let body = text.replace("\"\"\"", "\\\"\"\"");
            let mut out = format!("{indent}\"\"\"\n");
            for line in body.lines() {
                if line.is_empty() {
                    out.push('\n');
                } else {
                    out.push_str(&format!("{indent}{line}\n"));
                }
            }
            out.push_str(&format!("{indent}\"\"\"\n"));
            out
        }
        Some(text) => format!("{indent}{}\n", quoted(text)),
    }
}

/// A GraphQL string literal (spec §2.9.4): JSON's escapes are all valid GraphQL escapes.
fn quoted(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

/// `[Int!]!` from nested `NON_NULL` / `LIST` / named type references.
fn type_ref(value: Option<&Value>) -> Result<String, Error> {
    let ty = value
        .and_then(Value::as_object)
        .ok_or_else(|| Error::Introspection("a type reference is missing".to_owned()))?;
    match str_field(ty, "kind") {
        Some("NON_NULL") => Ok(format!("{}!", type_ref(ty.get("ofType"))?)),
        Some("LIST") => Ok(format!("[{}]", type_ref(ty.get("ofType"))?)),
        _ => Ok(required_name(ty)?.to_owned()),
    }
}

fn names_of<'a>(item: &'a Map<String, Value>, key: &str) -> Result<Vec<&'a str>, Error> {
    list(item, key)?
        .iter()
        .map(|v| {
            v.as_object()
                .and_then(|o| str_field(o, "name"))
                .ok_or_else(|| Error::Introspection(format!("an entry of `{key}` has no name")))
        })
        .collect()
}

/// A list member; absent and `null` are empty.
fn list<'a>(item: &'a Map<String, Value>, key: &str) -> Result<&'a [Value], Error> {
    match item.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(Error::Introspection(format!("`{key}` is not a list"))),
    }
}

fn str_field<'a>(item: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    item.get(key).and_then(Value::as_str)
}

fn required_name(item: &Map<String, Value>) -> Result<&str, Error> {
    str_field(item, "name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Error::Introspection("an entry has no `name`".to_owned()))
}

#[cfg(test)]
mod tests {
    use std::fs;

    use serde_json::json;

    use super::*;
    use crate::codegen;

    const FIXTURE: &str = include_str!("../tests/fixtures/known_schema_introspection.json");
    const HEADER: &str = "# pulled\n\n";

    /// The checked-in schema without its leading comment block.
    fn known_schema_body() -> String {
        let sdl =
            fs::read_to_string(codegen::tests::workspace_root().join(codegen::SCHEMA)).unwrap();
        sdl.lines()
            .skip_while(|l| l.starts_with('#') || l.is_empty())
            .map(|l| format!("{l}\n"))
            .collect()
    }

    #[test]
    fn the_known_schemas_introspection_prints_as_the_checked_in_sdl() {
        let json: Value = serde_json::from_str(FIXTURE).unwrap();
        let sdl = to_sdl(&json, HEADER).unwrap();
        assert_eq!(sdl, format!("{HEADER}{}", known_schema_body()));
        // The bare `__schema` parent is accepted too.
        assert_eq!(to_sdl(&json["data"], HEADER).unwrap(), sdl);
    }

    #[test]
    fn pulled_sdl_round_trips_through_codegen_to_the_same_code() {
        let json: Value = serde_json::from_str(FIXTURE).unwrap();
        let root = codegen::tests::copy_of_workspace();
        fs::write(
            root.path().join(codegen::SCHEMA),
            to_sdl(&json, HEADER).unwrap(),
        )
        .unwrap();
        let from_pulled = codegen::generate(root.path()).unwrap();
        let from_checked_in = codegen::generate(codegen::tests::workspace_root()).unwrap();
        assert_eq!(from_pulled, from_checked_in);
    }

    fn named(kind: &str, name: &str) -> Value {
        json!({ "kind": kind, "name": name, "ofType": null })
    }

    fn non_null(of: Value) -> Value {
        json!({ "kind": "NON_NULL", "name": null, "ofType": of })
    }

    fn list_of(of: Value) -> Value {
        json!({ "kind": "LIST", "name": null, "ofType": of })
    }

    /// Every kind of definition, with the server listing types out of order.
    fn rich_introspection() -> Value {
        let string = named("SCALAR", "String");
        let id = non_null(named("SCALAR", "ID"));
        json!({ "data": { "__schema": {
            "queryType": { "name": "Root" },
            "mutationType": { "name": "Mutation" },
            "subscriptionType": null,
            "directives": [
                { "name": "skip", "description": "built in", "locations": ["FIELD"],
                  "args": [{ "name": "if", "description": null, "type": non_null(named("SCALAR", "Boolean")), "defaultValue": null }] },
                { "name": "cached", "description": null, "locations": ["FIELD_DEFINITION", "OBJECT"],
                  "args": [{ "name": "ttl", "description": null, "type": named("SCALAR", "Int"), "defaultValue": "60" }] }
            ],
            "types": [
                { "kind": "OBJECT", "name": "Root", "description": "Entry points.\nSecond line with \"\"\" inside.",
                  "interfaces": [],
                  "fields": [
                    { "name": "events", "description": null,
                      "args": [
                        { "name": "first", "description": "How many.", "type": named("SCALAR", "Int"), "defaultValue": "20" },
                        { "name": "kinds", "description": null, "type": list_of(non_null(named("ENUM", "Kind"))), "defaultValue": "[TALK]" }
                      ],
                      "type": non_null(list_of(non_null(named("OBJECT", "Event")))),
                      "isDeprecated": false, "deprecationReason": null },
                    { "name": "node", "description": null,
                      "args": [{ "name": "id", "description": null, "type": id, "defaultValue": null }],
                      "type": named("INTERFACE", "Node"), "isDeprecated": true, "deprecationReason": "Use `events`." },
                    { "name": "search", "description": null,
                      "args": [{ "name": "filter", "description": null, "type": named("INPUT_OBJECT", "Filter"), "defaultValue": null }],
                      "type": list_of(named("UNION", "Result")), "isDeprecated": true, "deprecationReason": "No longer supported" }
                  ] },
                { "kind": "SCALAR", "name": "String", "description": "built in" },
                { "kind": "OBJECT", "name": "__Type", "description": null, "fields": [] },
                { "kind": "UNION", "name": "Result", "description": null,
                  "possibleTypes": [named("OBJECT", "Event"), named("OBJECT", "Room")] },
                { "kind": "ENUM", "name": "Kind", "description": "What an event is.",
                  "enumValues": [
                    { "name": "TALK", "description": null, "isDeprecated": false, "deprecationReason": null },
                    { "name": "CLASS", "description": "A course.", "isDeprecated": true, "deprecationReason": "Say \"TALK\"." }
                  ] },
                { "kind": "INPUT_OBJECT", "name": "Filter", "description": null,
                  "inputFields": [
                    { "name": "text", "description": "Words to find.", "type": string, "defaultValue": null },
                    { "name": "after", "description": null, "type": named("SCALAR", "DateTime"), "defaultValue": "\"2026-01-01\"" }
                  ] },
                { "kind": "SCALAR", "name": "DateTime", "description": null },
                { "kind": "INTERFACE", "name": "Node", "description": null, "interfaces": [],
                  "fields": [{ "name": "id", "description": null, "args": [], "type": id, "isDeprecated": false, "deprecationReason": null }] },
                { "kind": "OBJECT", "name": "Event", "description": null, "interfaces": [named("INTERFACE", "Node")],
                  "fields": [
                    { "name": "id", "description": null, "args": [], "type": id, "isDeprecated": false, "deprecationReason": null },
                    { "name": "starts", "description": null, "args": [], "type": named("SCALAR", "DateTime"), "isDeprecated": false, "deprecationReason": null },
                    { "name": "kind", "description": null, "args": [], "type": non_null(named("ENUM", "Kind")), "isDeprecated": false, "deprecationReason": null }
                  ] },
                { "kind": "OBJECT", "name": "Room", "description": null, "interfaces": [named("INTERFACE", "Node")],
                  "fields": [{ "name": "id", "description": null, "args": [], "type": id, "isDeprecated": false, "deprecationReason": null }] },
                { "kind": "OBJECT", "name": "Mutation", "description": null, "interfaces": [],
                  "fields": [{ "name": "ping", "description": null, "args": [], "type": named("SCALAR", "String"), "isDeprecated": false, "deprecationReason": null }] }
            ]
        } } })
    }

    #[test]
    fn every_kind_of_definition_prints_as_graphql_js_would() {
        let sdl = to_sdl(&rich_introspection(), "").unwrap();
        let expected = r#"schema {
  query: Root
  mutation: Mutation
}

directive @cached(ttl: Int = 60) on FIELD_DEFINITION | OBJECT

scalar DateTime

type Event implements Node {
  id: ID!
  starts: DateTime
  kind: Kind!
}

input Filter {
  "Words to find."
  text: String
  after: DateTime = "2026-01-01"
}

"What an event is."
enum Kind {
  TALK
  "A course."
  CLASS @deprecated(reason: "Say \"TALK\".")
}

type Mutation {
  ping: String
}

interface Node {
  id: ID!
}

union Result = Event | Room

type Room implements Node {
  id: ID!
}

"""
Entry points.
Second line with \""" inside.
"""
type Root {
  events(
    "How many."
    first: Int = 20
    kinds: [Kind!] = [TALK]
  ): [Event!]!
  node(id: ID!): Node @deprecated(reason: "Use `events`.")
  search(filter: Filter): [Result] @deprecated
}
"#;
        assert_eq!(sdl, expected);
    }

    /// A root with the rich schema and an operation using every kind of type.
    fn rich_root() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir_all(root.path().join(codegen::OPERATIONS)).unwrap();
        fs::write(
            root.path().join(codegen::SCHEMA),
            to_sdl(&rich_introspection(), "").unwrap(),
        )
        .unwrap();
        fs::write(
            root.path().join(codegen::OPERATIONS).join("Events.graphql"),
            "query Events($first: Int, $kinds: [Kind!], $filter: Filter) {\n  events(first: $first, kinds: $kinds) { id starts kind }\n  search(filter: $filter) { __typename ... on Room { id } ... on Event { kind } }\n  node(id: \"1\") { __typename id ... on Event { starts } }\n}\n",
        )
        .unwrap();
        fs::write(
            root.path().join(codegen::OPERATIONS).join("Ping.graphql"),
            "mutation Ping { ping }\n",
        )
        .unwrap();
        root
    }

    #[test]
    fn a_richer_pulled_schema_feeds_codegen_deterministically() {
        let first = codegen::generate(rich_root().path()).unwrap();
        let events = &first[0].contents;
        assert!(events.contains("pub struct Events;"), "{events}");
        // Custom scalars are looked up in the generated `scalars.rs`, which maps them.
        assert!(
            events.contains("crate::generated::scalars::DateTime"),
            "{events}"
        );
        let scalars = first
            .iter()
            .find(|f| f.path.ends_with("/scalars.rs"))
            .unwrap();
        assert!(
            scalars
                .contents
                .contains("pub type DateTime = ::jiff::Timestamp;"),
            "{}",
            scalars.contents
        );
        // Each root parses the schema anew (the generator caches per path), with hash
        // maps seeded afresh: the bytes must not depend on their iteration order.
        for _ in 0..3 {
            assert_eq!(codegen::generate(rich_root().path()).unwrap(), first);
        }
    }

    #[test]
    fn unusable_introspection_results_are_errors() {
        let cases = [
            ("no __schema", json!({"data": {}}), "no `__schema`"),
            (
                "errors only",
                json!({"errors": [{"message": "no"}]}),
                "no `__schema`",
            ),
            (
                "no query type",
                json!({"__schema": {"queryType": null, "types": []}}),
                "`queryType` has no name",
            ),
            (
                "types not a list",
                json!({"__schema": {"queryType": {"name": "Query"}, "types": {}}}),
                "`types` is not a list",
            ),
            (
                "unknown kind",
                json!({"__schema": {"queryType": {"name": "Query"}, "types": [{"kind": "WIDGET", "name": "Query"}]}}),
                "unknown kind `WIDGET`",
            ),
            (
                "field without a type",
                json!({"__schema": {"queryType": {"name": "Query"}, "types": [
                    {"kind": "OBJECT", "name": "Query", "fields": [{"name": "me"}]}]}}),
                "a type reference is missing",
            ),
            (
                "nameless type",
                json!({"__schema": {"queryType": {"name": "Query"}, "types": [{"kind": "OBJECT", "fields": []}]}}),
                "no `name`",
            ),
        ];
        for (name, json, expected) in cases {
            let err = to_sdl(&json, "").unwrap_err().to_string();
            assert!(err.contains(expected), "{name}: {err}");
        }
    }
}
