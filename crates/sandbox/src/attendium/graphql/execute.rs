//! Validation and execution of one GraphQL request against the served schema (GraphQL
//! spec §5 and §6, the parts a read-only schema needs): fragments, aliases, variables,
//! `@skip`/`@include`, `__typename`, introspection, null propagation.

use std::collections::{HashMap, HashSet};

use graphql_parser::Pos;
use graphql_parser::query::{
    self as q, Definition, FragmentDefinition, OperationDefinition, Selection, SelectionSet,
    TypeCondition,
};
use serde_json::{Map, Value};

use super::schema::{
    DirectiveDef, EnumValueDef, FieldDef, InputValueDef, Kind, Schema, TypeDef, TypeRef,
    literal_to_json,
};

type Field<'a> = q::Field<'a, String>;
type Literal<'a> = q::Value<'a, String>;

/// One entry of the response's `errors` (GraphQL spec §7.1.2).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GraphqlError {
    pub(crate) message: String,
    pub(crate) locations: Vec<Pos>,
    pub(crate) path: Option<Vec<Value>>,
    pub(crate) code: Option<&'static str>,
}

impl GraphqlError {
    fn new(message: impl Into<String>, position: Option<Pos>) -> Self {
        Self {
            message: message.into(),
            locations: position.into_iter().collect(),
            path: None,
            code: None,
        }
    }

    fn at_path(mut self, path: &[Value]) -> Self {
        self.path = Some(path.to_vec());
        self
    }

    fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut entry = Map::new();
        entry.insert("message".into(), Value::String(self.message.clone()));
        if !self.locations.is_empty() {
            let locations = self
                .locations
                .iter()
                .map(|p| serde_json::json!({ "line": p.line, "column": p.column }))
                .collect();
            entry.insert("locations".into(), Value::Array(locations));
        }
        if let Some(path) = &self.path {
            entry.insert("path".into(), Value::Array(path.clone()));
        }
        if let Some(code) = self.code {
            entry.insert("extensions".into(), serde_json::json!({ "code": code }));
        }
        Value::Object(entry)
    }
}

/// What became of a request.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// A request error (syntax, validation, variables): nothing was executed and the
    /// response has no `data` (spec §7.1).
    Rejected(Vec<GraphqlError>),
    /// Executed: `data` (possibly `null`) and field errors.
    Executed {
        data: Value,
        errors: Vec<GraphqlError>,
    },
}

/// A failure the server was told to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Injected {
    Nothing,
    /// The first root field fails and takes `data` down with it.
    RootError,
    /// The first nullable non-introspection field fails and is answered `null`.
    PartialData,
}

/// Who is asking, for `me`.
pub(crate) struct Viewer<'a> {
    pub(crate) user_id: &'a str,
}

/// Validates and executes `query`.
pub(crate) fn run(
    schema: &Schema,
    viewer: &Viewer<'_>,
    query: &str,
    operation_name: Option<&str>,
    variables: &Map<String, Value>,
    injected: Injected,
) -> Outcome {
    if let Some(message) = too_big(query) {
        return Outcome::Rejected(vec![GraphqlError::new(message, None)]);
    }
    let document = match q::parse_query::<String>(query) {
        Ok(document) => document,
        Err(error) => {
            let message = error.to_string();
            let message = message.trim().trim_start_matches("query parse error: ");
            return Outcome::Rejected(vec![GraphqlError::new(
                format!("Syntax Error: {message}"),
                None,
            )]);
        }
    };
    let mut fragments: HashMap<&str, &FragmentDefinition<'_, String>> = HashMap::new();
    let mut operations = Vec::new();
    let mut errors = Vec::new();
    for definition in &document.definitions {
        match definition {
            Definition::Operation(op) => operations.push(op),
            Definition::Fragment(fragment) => {
                if fragments.insert(&fragment.name, fragment).is_some() {
                    errors.push(GraphqlError::new(
                        format!(
                            "There can be only one fragment named \"{}\".",
                            fragment.name
                        ),
                        Some(fragment.position),
                    ));
                }
            }
        }
    }
    let mut validator = Validator {
        schema,
        fragments: &fragments,
        errors,
        used: HashSet::new(),
        validated: HashSet::new(),
    };
    for operation in &operations {
        validator.operation(operation, operations.len());
    }
    let mut unused: Vec<_> = fragments
        .values()
        .filter(|f| !validator.used.contains(f.name.as_str()))
        .collect();
    unused.sort_by_key(|f| f.position);
    for fragment in unused {
        validator.errors.push(GraphqlError::new(
            format!("Fragment \"{}\" is never used.", fragment.name),
            Some(fragment.position),
        ));
    }
    let mut errors = validator.errors;
    dedup(&mut errors);
    if !errors.is_empty() {
        return Outcome::Rejected(errors);
    }

    let operation = match select_operation(&operations, operation_name) {
        Ok(operation) => operation,
        Err(error) => return Outcome::Rejected(vec![error]),
    };
    let (definitions, selection_set) = match operation {
        OperationDefinition::SelectionSet(set) => (&[][..], set),
        OperationDefinition::Query(query) => {
            (&query.variable_definitions[..], &query.selection_set)
        }
        // Refused by validation: the schema has no mutation or subscription type... unless
        // it does, and then the sandbox still has no resolvers for them.
        OperationDefinition::Mutation(m) => {
            return Outcome::Rejected(vec![GraphqlError::new(
                "The sandbox does not execute mutations.",
                Some(m.position),
            )]);
        }
        OperationDefinition::Subscription(s) => {
            return Outcome::Rejected(vec![GraphqlError::new(
                "The sandbox does not execute subscriptions.",
                Some(s.position),
            )]);
        }
    };
    let variables = match coerce_variables(schema, definitions, variables) {
        Ok(variables) => variables,
        Err(errors) => return Outcome::Rejected(errors),
    };
    let mut executor = Executor {
        schema,
        fragments: &fragments,
        variables,
        viewer,
        errors: Vec::new(),
        partial_pending: injected == Injected::PartialData,
        budget: FIELD_BUDGET,
    };
    let root = schema.query_type.as_str();
    let fields = executor.collect_fields(root, selection_set);
    if injected == Injected::RootError {
        let first = fields
            .iter()
            .find(|(_, nodes)| !nodes[0].name.starts_with("__"))
            .or(fields.first());
        let error = GraphqlError::new("Internal server error", first.map(|(_, n)| n[0].position))
            .with_code("INTERNAL_SERVER_ERROR");
        let error = match first {
            Some((key, _)) => error.at_path(&[Value::String(key.clone())]),
            None => error,
        };
        return Outcome::Executed {
            data: Value::Null,
            errors: vec![error],
        };
    }
    let data = match executor.execute_fields(root, &Obj::Query, fields, &[]) {
        Ok(map) => Value::Object(map),
        Err(error) => {
            executor.errors.push(error);
            Value::Null
        }
    };
    if executor.budget == 0 {
        // Like the depth and cost limits of real servers: refuse rather than answer a
        // response that grows exponentially with the query.
        return Outcome::Executed {
            data: Value::Null,
            errors: vec![
                GraphqlError::new(
                    format!("The query resolves more than {FIELD_BUDGET} fields."),
                    None,
                )
                .with_code("QUERY_TOO_COMPLEX"),
            ],
        };
    }
    let mut errors = executor.errors;
    if executor.partial_pending {
        // No nullable field to fail: the data stays whole and the error has no path.
        errors.push(
            GraphqlError::new("Some results may be incomplete", None).with_code("PARTIAL_RESULT"),
        );
    }
    Outcome::Executed { data, errors }
}

/// The longest query accepted. The standard introspection query is about 1.5 KB.
const MAX_QUERY_BYTES: usize = 64 * 1024;

/// The deepest nesting of `{`, `[` and `(` accepted; the parser recurses on each level.
const MAX_NESTING: usize = 64;

/// The most fields one request may resolve.
const FIELD_BUDGET: usize = 100_000;

/// Why a query is refused before parsing, if it is.
fn too_big(query: &str) -> Option<String> {
    if query.len() > MAX_QUERY_BYTES {
        return Some(format!("The query is longer than {MAX_QUERY_BYTES} bytes."));
    }
    // Braces inside strings count too: harmless for any reasonable query.
    let mut depth = 0usize;
    for byte in query.bytes() {
        match byte {
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(format!("The query nests deeper than {MAX_NESTING} levels."));
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn dedup(errors: &mut Vec<GraphqlError>) {
    let mut seen = Vec::new();
    errors.retain(|e| {
        let key = (e.message.clone(), e.locations.clone());
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
}

/// GraphQL spec §6.1, GetOperation.
fn select_operation<'d>(
    operations: &[&'d OperationDefinition<'d, String>],
    name: Option<&str>,
) -> Result<&'d OperationDefinition<'d, String>, GraphqlError> {
    match name {
        Some(wanted) => operations
            .iter()
            .find(|op| operation_name(op) == Some(wanted))
            .copied()
            .ok_or_else(|| {
                GraphqlError::new(format!("Unknown operation named \"{wanted}\"."), None)
            }),
        None => match operations {
            [only] => Ok(only),
            [] => Err(GraphqlError::new("Must provide an operation.", None)),
            _ => Err(GraphqlError::new(
                "Must provide operation name if query contains multiple operations.",
                None,
            )),
        },
    }
}

fn operation_name<'d>(operation: &'d OperationDefinition<'d, String>) -> Option<&'d str> {
    match operation {
        OperationDefinition::SelectionSet(_) => None,
        OperationDefinition::Query(q) => q.name.as_deref(),
        OperationDefinition::Mutation(m) => m.name.as_deref(),
        OperationDefinition::Subscription(s) => s.name.as_deref(),
    }
}

fn type_ref(ty: &q::Type<'_, String>) -> TypeRef {
    match ty {
        q::Type::NamedType(name) => TypeRef::Named(name.clone()),
        q::Type::ListType(inner) => TypeRef::List(Box::new(type_ref(inner))),
        q::Type::NonNullType(inner) => TypeRef::NonNull(Box::new(type_ref(inner))),
    }
}

struct Validator<'a, 'd> {
    schema: &'a Schema,
    fragments: &'a HashMap<&'d str, &'d FragmentDefinition<'d, String>>,
    errors: Vec<GraphqlError>,
    used: HashSet<&'d str>,
    /// Fragments whose bodies were validated in the current operation: each is checked
    /// once, so that fragments spreading fragments cannot make validation exponential.
    validated: HashSet<&'d str>,
}

impl<'a, 'd> Validator<'a, 'd> {
    fn error(&mut self, message: String, position: Pos) {
        self.errors.push(GraphqlError::new(message, Some(position)));
    }

    fn operation(&mut self, operation: &'d OperationDefinition<'d, String>, count: usize) {
        self.validated.clear();
        let (root, position, definitions, directives, selection_set, location) = match operation {
            OperationDefinition::SelectionSet(set) => (
                Some(&self.schema.query_type),
                set.span.0,
                &[][..],
                &[][..],
                set,
                "QUERY",
            ),
            OperationDefinition::Query(q) => (
                Some(&self.schema.query_type),
                q.position,
                &q.variable_definitions[..],
                &q.directives[..],
                &q.selection_set,
                "QUERY",
            ),
            OperationDefinition::Mutation(m) => (
                self.schema.mutation_type.as_ref(),
                m.position,
                &m.variable_definitions[..],
                &m.directives[..],
                &m.selection_set,
                "MUTATION",
            ),
            OperationDefinition::Subscription(s) => (
                self.schema.subscription_type.as_ref(),
                s.position,
                &s.variable_definitions[..],
                &s.directives[..],
                &s.selection_set,
                "SUBSCRIPTION",
            ),
        };
        if count > 1 && operation_name(operation).is_none() {
            self.error(
                "This anonymous operation must be the only defined operation.".into(),
                position,
            );
        }
        let Some(root) = root.cloned() else {
            self.error(
                format!(
                    "Schema is not configured to execute {} operation.",
                    location.to_lowercase()
                ),
                position,
            );
            return;
        };
        let mut defined = HashSet::new();
        for definition in definitions {
            let ty = type_ref(&definition.var_type);
            let input = self
                .schema
                .get(ty.named())
                .is_some_and(|t| matches!(t.kind, Kind::Scalar | Kind::Enum | Kind::InputObject));
            if !input {
                self.error(
                    format!(
                        "Variable \"${}\" cannot be non-input type \"{ty}\".",
                        definition.name
                    ),
                    definition.position,
                );
            }
            if !defined.insert(definition.name.as_str()) {
                self.error(
                    format!(
                        "There can be only one variable named \"${}\".",
                        definition.name
                    ),
                    definition.position,
                );
            }
        }
        self.directives(directives, location, &defined, position);
        let mut stack = Vec::new();
        self.selection_set(selection_set, &root, &defined, &mut stack);
    }

    fn directives(
        &mut self,
        directives: &'d [q::Directive<'d, String>],
        location: &str,
        defined: &HashSet<&str>,
        _at: Pos,
    ) {
        for directive in directives {
            let Some(def) = self.schema.directive(&directive.name) else {
                self.error(
                    format!("Unknown directive \"@{}\".", directive.name),
                    directive.position,
                );
                continue;
            };
            if !def.locations.contains(&location) {
                self.error(
                    format!(
                        "Directive \"@{}\" may not be used on {location}.",
                        directive.name
                    ),
                    directive.position,
                );
            }
            let args = def.args.clone();
            let context = format!("directive \"@{}\"", directive.name);
            self.arguments(
                &args,
                &directive.arguments,
                defined,
                directive.position,
                &context,
            );
        }
    }

    fn arguments(
        &mut self,
        definitions: &[InputValueDef],
        given: &'d [(String, Literal<'d>)],
        defined: &HashSet<&str>,
        position: Pos,
        context: &str,
    ) {
        for (name, value) in given {
            match definitions.iter().find(|d| &d.name == name) {
                None => self.error(
                    format!("Unknown argument \"{name}\" on {context}."),
                    position,
                ),
                Some(def) => {
                    if let Some(message) = self.value(value, &def.ty, defined) {
                        self.error(message, position);
                    }
                }
            }
        }
        for def in definitions {
            if def.ty.is_non_null()
                && def.default_value.is_none()
                && !given.iter().any(|(name, _)| name == &def.name)
            {
                self.error(
                    format!(
                        "Argument \"{}\" of type \"{}\" is required on {context}, but it was not provided.",
                        def.name, def.ty
                    ),
                    position,
                );
            }
        }
    }

    /// Whether a literal fits an input type (spec §5.6.1); the message if not.
    fn value(&self, value: &Literal<'_>, ty: &TypeRef, defined: &HashSet<&str>) -> Option<String> {
        if let Literal::Variable(name) = value {
            return (!defined.contains(name.as_str()))
                .then(|| format!("Variable \"${name}\" is not defined."));
        }
        let mismatch = || Some(format!("Expected value of type \"{ty}\", found {value}."));
        match ty {
            TypeRef::NonNull(inner) => {
                if matches!(value, Literal::Null) {
                    return mismatch();
                }
                match self.value(value, inner, defined) {
                    // Name the declared type, `!` included, as graphql-js does.
                    Some(_) if matches!(**inner, TypeRef::Named(_)) => mismatch(),
                    other => other,
                }
            }
            _ if matches!(value, Literal::Null) => None,
            TypeRef::List(inner) => match value {
                Literal::List(items) => items.iter().find_map(|i| self.value(i, inner, defined)),
                single => self.value(single, inner, defined),
            },
            TypeRef::Named(name) => {
                let Some(def) = self.schema.get(name) else {
                    return mismatch();
                };
                let fits = match (def.kind, name.as_str(), value) {
                    (Kind::Scalar, "String", Literal::String(_))
                    | (Kind::Scalar, "Boolean", Literal::Boolean(_))
                    | (Kind::Scalar, "Int", Literal::Int(_))
                    | (Kind::Scalar, "Float", Literal::Int(_) | Literal::Float(_))
                    | (Kind::Scalar, "ID", Literal::String(_) | Literal::Int(_)) => true,
                    (Kind::Scalar, "String" | "Boolean" | "Int" | "Float" | "ID", _) => false,
                    // Custom scalars accept any literal.
                    (Kind::Scalar, _, _) => true,
                    (Kind::Enum, _, Literal::Enum(v)) => {
                        def.enum_values.iter().any(|e| &e.name == v)
                    }
                    (Kind::InputObject, _, Literal::Object(fields)) => {
                        let unknown = fields
                            .keys()
                            .any(|k| !def.input_fields.iter().any(|f| &f.name == k));
                        let missing = def.input_fields.iter().any(|f| {
                            f.ty.is_non_null()
                                && f.default_value.is_none()
                                && !fields.contains_key(&f.name)
                        });
                        if unknown || missing {
                            false
                        } else {
                            return def.input_fields.iter().find_map(|f| {
                                fields
                                    .get(&f.name)
                                    .and_then(|v| self.value(v, &f.ty, defined))
                            });
                        }
                    }
                    _ => false,
                };
                if fits { None } else { mismatch() }
            }
        }
    }

    fn type_condition(&mut self, condition: &str, parent: &str, position: Pos, what: &str) -> bool {
        match self.schema.get(condition) {
            None => {
                self.error(format!("Unknown type \"{condition}\"."), position);
                false
            }
            Some(t) if !t.kind.is_composite() => {
                self.error(
                    format!("{what} cannot condition on non composite type \"{condition}\"."),
                    position,
                );
                false
            }
            Some(_) => {
                let possible = self.schema.possible_objects(parent);
                let applies = self
                    .schema
                    .possible_objects(condition)
                    .iter()
                    .any(|t| possible.contains(t));
                if !applies {
                    self.error(
                        format!(
                            "{what} cannot be spread here as objects of type \"{parent}\" can never be of type \"{condition}\"."
                        ),
                        position,
                    );
                }
                applies
            }
        }
    }

    fn selection_set(
        &mut self,
        set: &'d SelectionSet<'d, String>,
        parent: &str,
        defined: &HashSet<&str>,
        stack: &mut Vec<&'d str>,
    ) {
        for selection in &set.items {
            match selection {
                Selection::Field(field) => self.field(field, parent, defined, stack),
                Selection::FragmentSpread(spread) => {
                    self.directives(
                        &spread.directives,
                        "FRAGMENT_SPREAD",
                        defined,
                        spread.position,
                    );
                    let name = spread.fragment_name.as_str();
                    let Some(fragment) = self.fragments.get(name).copied() else {
                        self.error(format!("Unknown fragment \"{name}\"."), spread.position);
                        continue;
                    };
                    self.used.insert(&fragment.name);
                    if stack.contains(&name) {
                        self.error(
                            format!("Cannot spread fragment \"{name}\" within itself."),
                            spread.position,
                        );
                        continue;
                    }
                    let TypeCondition::On(condition) = &fragment.type_condition;
                    let what = format!("Fragment \"{name}\"");
                    if self.type_condition(condition, parent, spread.position, &what)
                        && self.validated.insert(&fragment.name)
                    {
                        self.directives(
                            &fragment.directives,
                            "FRAGMENT_DEFINITION",
                            defined,
                            fragment.position,
                        );
                        stack.push(&fragment.name);
                        self.selection_set(&fragment.selection_set, condition, defined, stack);
                        stack.pop();
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.directives(
                        &inline.directives,
                        "INLINE_FRAGMENT",
                        defined,
                        inline.position,
                    );
                    let condition = match &inline.type_condition {
                        Some(TypeCondition::On(condition)) => condition.clone(),
                        None => parent.to_owned(),
                    };
                    if self.type_condition(&condition, parent, inline.position, "Fragment") {
                        self.selection_set(&inline.selection_set, &condition, defined, stack);
                    }
                }
            }
        }
    }

    fn field(
        &mut self,
        field: &'d Field<'d>,
        parent: &str,
        defined: &HashSet<&str>,
        stack: &mut Vec<&'d str>,
    ) {
        self.directives(&field.directives, "FIELD", defined, field.position);
        let name = field.name.as_str();
        let (ty, args) = if name == "__typename" {
            (
                TypeRef::NonNull(Box::new(TypeRef::Named("String".into()))),
                Vec::new(),
            )
        } else {
            match self.schema.field(parent, name) {
                Some(def) => (def.ty.clone(), def.args.clone()),
                None => {
                    self.error(
                        format!("Cannot query field \"{name}\" on type \"{parent}\"."),
                        field.position,
                    );
                    return;
                }
            }
        };
        let context = format!("field \"{parent}.{name}\"");
        self.arguments(&args, &field.arguments, defined, field.position, &context);
        let named = ty.named().to_owned();
        let composite = self
            .schema
            .get(&named)
            .is_some_and(|t| t.kind.is_composite());
        match (composite, field.selection_set.items.is_empty()) {
            (true, true) => self.error(
                format!(
                    "Field \"{name}\" of type \"{ty}\" must have a selection of subfields. Did you mean \"{name} {{ ... }}\"?"
                ),
                field.position,
            ),
            (false, false) => self.error(
                format!(
                    "Field \"{name}\" must not have a selection since type \"{ty}\" has no subfields."
                ),
                field.position,
            ),
            (true, false) => self.selection_set(&field.selection_set, &named, defined, stack),
            (false, true) => {}
        }
    }
}

/// Variables coerced to their declared types (spec §6.1.2), defaults applied.
fn coerce_variables(
    schema: &Schema,
    definitions: &[q::VariableDefinition<'_, String>],
    given: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<GraphqlError>> {
    let mut coerced = Map::new();
    let mut errors = Vec::new();
    for definition in definitions {
        let ty = type_ref(&definition.var_type);
        let name = &definition.name;
        match given.get(name) {
            Some(value) => {
                if input_fits(schema, value, &ty) {
                    coerced.insert(name.clone(), value.clone());
                } else {
                    errors.push(GraphqlError::new(
                        format!("Variable \"${name}\" got invalid value {value}; expected type \"{ty}\"."),
                        Some(definition.position),
                    ));
                }
            }
            None => match &definition.default_value {
                Some(default) => {
                    coerced.insert(name.clone(), literal_to_json(default));
                }
                None if ty.is_non_null() => errors.push(GraphqlError::new(
                    format!("Variable \"${name}\" of required type \"{ty}\" was not provided."),
                    Some(definition.position),
                )),
                None => {}
            },
        }
    }
    if errors.is_empty() {
        Ok(coerced)
    } else {
        Err(errors)
    }
}

/// Whether a JSON variable value fits an input type (spec §3.5 input coercion).
fn input_fits(schema: &Schema, value: &Value, ty: &TypeRef) -> bool {
    match ty {
        TypeRef::NonNull(inner) => !value.is_null() && input_fits(schema, value, inner),
        _ if value.is_null() => true,
        TypeRef::List(inner) => match value {
            Value::Array(items) => items.iter().all(|i| input_fits(schema, i, inner)),
            single => input_fits(schema, single, inner),
        },
        TypeRef::Named(name) => match schema.get(name) {
            None => false,
            Some(def) => match (def.kind, name.as_str()) {
                (Kind::Scalar, "String") => value.is_string(),
                (Kind::Scalar, "Boolean") => value.is_boolean(),
                (Kind::Scalar, "Int") => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
                (Kind::Scalar, "Float") => value.is_number(),
                (Kind::Scalar, "ID") => value.is_string() || value.is_i64() || value.is_u64(),
                (Kind::Scalar, _) => true,
                (Kind::Enum, _) => value
                    .as_str()
                    .is_some_and(|v| def.enum_values.iter().any(|e| e.name == v)),
                (Kind::InputObject, _) => match value {
                    Value::Object(fields) => {
                        fields
                            .keys()
                            .all(|k| def.input_fields.iter().any(|f| &f.name == k))
                            && def.input_fields.iter().all(|f| match fields.get(&f.name) {
                                Some(v) => input_fits(schema, v, &f.ty),
                                None => !f.ty.is_non_null() || f.default_value.is_some(),
                            })
                    }
                    _ => false,
                },
                _ => false,
            },
        },
    }
}

/// An object the executor can ask for fields.
#[derive(Clone, Copy)]
enum Obj<'s> {
    Query,
    Viewer,
    Schema,
    Type(TypeView<'s>),
    Field(&'s FieldDef),
    InputValue(&'s InputValueDef),
    EnumValue(&'s EnumValueDef),
    Directive(&'s DirectiveDef),
}

/// A `__Type`: a named type or a list / non-null wrapper.
#[derive(Clone, Copy)]
enum TypeView<'s> {
    Named(&'s TypeDef),
    Wrapped(&'s TypeRef),
}

enum Resolved<'s> {
    Null,
    Leaf(Value),
    Object(Obj<'s>),
    List(Vec<Resolved<'s>>),
}

fn leaf(value: impl Into<Value>) -> Resolved<'static> {
    Resolved::Leaf(value.into())
}

fn optional_leaf(value: Option<&String>) -> Resolved<'static> {
    value.map_or(Resolved::Null, |v| leaf(v.clone()))
}

fn type_of<'s>(schema: &'s Schema, ty: &'s TypeRef) -> Resolved<'s> {
    match ty {
        TypeRef::Named(name) => schema.get(name).map_or(Resolved::Null, |t| {
            Resolved::Object(Obj::Type(TypeView::Named(t)))
        }),
        wrapped => Resolved::Object(Obj::Type(TypeView::Wrapped(wrapped))),
    }
}

fn named_type<'s>(schema: &'s Schema, name: &str) -> Resolved<'s> {
    schema.get(name).map_or(Resolved::Null, |t| {
        Resolved::Object(Obj::Type(TypeView::Named(t)))
    })
}

fn list<'s, T: 's>(
    items: impl IntoIterator<Item = T>,
    f: impl Fn(T) -> Resolved<'s>,
) -> Resolved<'s> {
    Resolved::List(items.into_iter().map(f).collect())
}

/// Keeps what `includeDeprecated` lets through.
fn visible<T>(items: &[T], include_deprecated: bool, deprecated: impl Fn(&T) -> bool) -> Vec<&T> {
    items
        .iter()
        .filter(|item| include_deprecated || !deprecated(item))
        .collect()
}

struct Executor<'a, 'd> {
    schema: &'a Schema,
    fragments: &'a HashMap<&'d str, &'d FragmentDefinition<'d, String>>,
    variables: Map<String, Value>,
    viewer: &'a Viewer<'a>,
    errors: Vec<GraphqlError>,
    partial_pending: bool,
    /// Fields left to resolve before the request is refused as too expensive.
    budget: usize,
}

type FieldGroups<'d> = Vec<(String, Vec<&'d Field<'d>>)>;

impl<'a, 'd> Executor<'a, 'd> {
    /// An argument or variable value as JSON.
    fn literal(&self, value: &Literal<'_>) -> Value {
        match value {
            Literal::Variable(name) => self
                .variables
                .get(name.as_str())
                .cloned()
                .unwrap_or(Value::Null),
            Literal::List(items) => Value::Array(items.iter().map(|i| self.literal(i)).collect()),
            Literal::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), self.literal(v)))
                    .collect(),
            ),
            constant => literal_to_json(constant),
        }
    }

    /// `@skip(if:)` and `@include(if:)` (spec §3.13).
    fn included(&self, directives: &[q::Directive<'_, String>]) -> bool {
        let flag = |name: &str| {
            directives
                .iter()
                .find(|d| d.name == name)
                .and_then(|d| d.arguments.iter().find(|(arg, _)| arg == "if"))
                .map(|(_, value)| self.literal(value) == Value::Bool(true))
        };
        flag("skip") != Some(true) && flag("include") != Some(false)
    }

    /// CollectFields (spec §6.3.2), merging fields with the same response key.
    fn collect_fields(
        &self,
        object_type: &str,
        set: &'d SelectionSet<'d, String>,
    ) -> FieldGroups<'d> {
        let mut groups = Vec::new();
        let mut visited = HashSet::new();
        self.collect_into(object_type, set, &mut groups, &mut visited);
        groups
    }

    fn collect_into(
        &self,
        object_type: &str,
        set: &'d SelectionSet<'d, String>,
        groups: &mut FieldGroups<'d>,
        visited: &mut HashSet<&'d str>,
    ) {
        for selection in &set.items {
            match selection {
                Selection::Field(field) => {
                    if !self.included(&field.directives) {
                        continue;
                    }
                    let key = field.alias.as_ref().unwrap_or(&field.name);
                    match groups.iter_mut().find(|(k, _)| k == key) {
                        Some((_, nodes)) => nodes.push(field),
                        None => groups.push((key.clone(), vec![field])),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if !self.included(&spread.directives)
                        || !visited.insert(spread.fragment_name.as_str())
                    {
                        continue;
                    }
                    let Some(fragment) = self.fragments.get(spread.fragment_name.as_str()) else {
                        continue;
                    };
                    let TypeCondition::On(condition) = &fragment.type_condition;
                    if self.schema.type_applies(condition, object_type) {
                        self.collect_into(object_type, &fragment.selection_set, groups, visited);
                    }
                }
                Selection::InlineFragment(inline) => {
                    if !self.included(&inline.directives) {
                        continue;
                    }
                    let applies = match &inline.type_condition {
                        Some(TypeCondition::On(condition)) => {
                            self.schema.type_applies(condition, object_type)
                        }
                        None => true,
                    };
                    if applies {
                        self.collect_into(object_type, &inline.selection_set, groups, visited);
                    }
                }
            }
        }
    }

    /// ExecuteSelectionSet (spec §6.3): an error in a non-null field nulls the parent.
    fn execute_fields(
        &mut self,
        object_type: &str,
        object: &Obj<'a>,
        groups: FieldGroups<'d>,
        path: &[Value],
    ) -> Result<Map<String, Value>, GraphqlError> {
        let mut result = Map::new();
        for (key, nodes) in groups {
            if self.budget == 0 {
                break;
            }
            self.budget -= 1;
            let first = nodes[0];
            if first.name == "__typename" {
                result.insert(key, Value::String(object_type.to_owned()));
                continue;
            }
            let Some(def) = self.schema.field(object_type, &first.name) else {
                // Validation ran against the declared type; an abstract type's object may
                // lack the field, which then does not appear (spec §6.3.2 collects per object).
                continue;
            };
            let mut field_path = path.to_vec();
            field_path.push(Value::String(key.clone()));
            match self.execute_field(object_type, object, def, &nodes, &field_path) {
                Ok(value) => {
                    result.insert(key, value);
                }
                Err(error) if def.ty.is_non_null() => return Err(error),
                Err(error) => {
                    self.errors.push(error);
                    result.insert(key, Value::Null);
                }
            }
        }
        Ok(result)
    }

    fn execute_field(
        &mut self,
        object_type: &str,
        object: &Obj<'a>,
        def: &'a FieldDef,
        nodes: &[&'d Field<'d>],
        path: &[Value],
    ) -> Result<Value, GraphqlError> {
        let first = nodes[0];
        let fail = |message: String| GraphqlError::new(message, Some(first.position)).at_path(path);
        if self.partial_pending
            && !def.ty.is_non_null()
            && !object_type.starts_with("__")
            && !def.name.starts_with("__")
        {
            self.partial_pending = false;
            return Err(
                fail("Simulated failure of this field".into()).with_code("INTERNAL_SERVER_ERROR")
            );
        }
        let mut args = Map::new();
        for arg in &def.args {
            let value = first
                .arguments
                .iter()
                .find(|(name, _)| name == &arg.name)
                .map(|(_, value)| self.literal(value))
                .or_else(|| arg.default_json.clone());
            if let Some(value) = value {
                args.insert(arg.name.clone(), value);
            }
        }
        let resolved = self
            .resolve(object_type, object, &def.name, &args)
            .map_err(fail)?;
        self.complete(&def.ty, resolved, nodes, path, object_type, &def.name)
    }

    /// CompleteValue (spec §6.4.3).
    fn complete(
        &mut self,
        ty: &TypeRef,
        resolved: Resolved<'a>,
        nodes: &[&'d Field<'d>],
        path: &[Value],
        parent: &str,
        field: &str,
    ) -> Result<Value, GraphqlError> {
        let position = Some(nodes[0].position);
        match ty {
            TypeRef::NonNull(inner) => {
                let value = self.complete(inner, resolved, nodes, path, parent, field)?;
                if value.is_null() {
                    Err(GraphqlError::new(
                        format!("Cannot return null for non-nullable field {parent}.{field}."),
                        position,
                    )
                    .at_path(path))
                } else {
                    Ok(value)
                }
            }
            _ if matches!(resolved, Resolved::Null) => Ok(Value::Null),
            TypeRef::List(inner) => {
                let Resolved::List(items) = resolved else {
                    return Err(GraphqlError::new(
                        format!("Expected a list for field {parent}.{field}."),
                        position,
                    )
                    .at_path(path));
                };
                let mut out = Vec::with_capacity(items.len());
                for (index, item) in items.into_iter().enumerate() {
                    let mut item_path = path.to_vec();
                    item_path.push(Value::from(index));
                    match self.complete(inner, item, nodes, &item_path, parent, field) {
                        Ok(value) => out.push(value),
                        Err(error) if inner.is_non_null() => return Err(error),
                        Err(error) => {
                            self.errors.push(error);
                            out.push(Value::Null);
                        }
                    }
                }
                Ok(Value::Array(out))
            }
            TypeRef::Named(name) => match resolved {
                Resolved::Leaf(value) => Ok(value),
                Resolved::Object(object) => {
                    let runtime = match self.schema.get(name) {
                        Some(t) if t.kind == Kind::Object => t.name.clone(),
                        _ => self.natural_type(&object),
                    };
                    let mut groups: FieldGroups<'d> = Vec::new();
                    for node in nodes {
                        for (key, fields) in self.collect_fields(&runtime, &node.selection_set) {
                            match groups.iter_mut().find(|(k, _)| *k == key) {
                                Some((_, existing)) => existing.extend(fields),
                                None => groups.push((key, fields)),
                            }
                        }
                    }
                    self.execute_fields(&runtime, &object, groups, path)
                        .map(Value::Object)
                }
                Resolved::List(_) | Resolved::Null => Err(GraphqlError::new(
                    format!("Unexpected value for field {parent}.{field}."),
                    position,
                )
                .at_path(path)),
            },
        }
    }

    /// The object type of an object when the declared type is abstract.
    fn natural_type(&self, object: &Obj<'a>) -> String {
        match object {
            Obj::Query => self.schema.query_type.clone(),
            Obj::Viewer => self.viewer_type().to_owned(),
            Obj::Schema => "__Schema".into(),
            Obj::Type(_) => "__Type".into(),
            Obj::Field(_) => "__Field".into(),
            Obj::InputValue(_) => "__InputValue".into(),
            Obj::EnumValue(_) => "__EnumValue".into(),
            Obj::Directive(_) => "__Directive".into(),
        }
    }

    /// The type of `Query.me`.
    fn viewer_type(&self) -> &'a str {
        self.schema
            .field(&self.schema.query_type, "me")
            .map_or("User", |f| f.ty.named())
    }

    /// The field resolvers. Every field of the served SDL must have one here: a test
    /// queries them all.
    fn resolve(
        &self,
        object_type: &str,
        object: &Obj<'a>,
        field: &str,
        args: &Map<String, Value>,
    ) -> Result<Resolved<'a>, String> {
        let schema = self.schema;
        let include_deprecated = args
            .get("includeDeprecated")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let missing = || {
            Err(format!(
                "The sandbox has no resolver for {object_type}.{field}."
            ))
        };
        Ok(match (object, field) {
            (Obj::Query, "me") => Resolved::Object(Obj::Viewer),
            (Obj::Query, "__schema") => Resolved::Object(Obj::Schema),
            (Obj::Query, "__type") => match args.get("name").and_then(Value::as_str) {
                Some(name) => named_type(schema, name),
                None => Resolved::Null,
            },
            (Obj::Viewer, "id") => leaf(self.viewer.user_id),

            (Obj::Schema, "description") => optional_leaf(schema.description.as_ref()),
            (Obj::Schema, "types") => list(&schema.types, |t| {
                Resolved::Object(Obj::Type(TypeView::Named(t)))
            }),
            (Obj::Schema, "queryType") => named_type(schema, &schema.query_type),
            (Obj::Schema, "mutationType") => schema
                .mutation_type
                .as_deref()
                .map_or(Resolved::Null, |n| named_type(schema, n)),
            (Obj::Schema, "subscriptionType") => schema
                .subscription_type
                .as_deref()
                .map_or(Resolved::Null, |n| named_type(schema, n)),
            (Obj::Schema, "directives") => {
                list(&schema.directives, |d| Resolved::Object(Obj::Directive(d)))
            }

            (Obj::Type(TypeView::Wrapped(ty)), _) => match (field, ty) {
                ("kind", TypeRef::List(_)) => leaf("LIST"),
                ("kind", _) => leaf("NON_NULL"),
                ("ofType", TypeRef::List(inner) | TypeRef::NonNull(inner)) => {
                    type_of(schema, inner)
                }
                (
                    "name" | "description" | "specifiedByURL" | "fields" | "interfaces"
                    | "possibleTypes" | "enumValues" | "inputFields" | "ofType" | "isOneOf",
                    _,
                ) => Resolved::Null,
                _ => return missing(),
            },
            (Obj::Type(TypeView::Named(t)), _) => {
                let fields_apply = matches!(t.kind, Kind::Object | Kind::Interface);
                match field {
                    "kind" => leaf(t.kind.as_str()),
                    "name" => leaf(t.name.clone()),
                    "description" => optional_leaf(t.description.as_ref()),
                    "specifiedByURL" => optional_leaf(t.specified_by_url.as_ref()),
                    "fields" if fields_apply => list(
                        visible(&t.fields, include_deprecated, |f| f.deprecation.is_some()),
                        |f| Resolved::Object(Obj::Field(f)),
                    ),
                    "interfaces" if fields_apply => list(&t.interfaces, |i| named_type(schema, i)),
                    "possibleTypes" if matches!(t.kind, Kind::Interface | Kind::Union) => {
                        list(&t.possible_types, |p| named_type(schema, p))
                    }
                    "enumValues" if t.kind == Kind::Enum => list(
                        visible(&t.enum_values, include_deprecated, |v| {
                            v.deprecation.is_some()
                        }),
                        |v| Resolved::Object(Obj::EnumValue(v)),
                    ),
                    "inputFields" if t.kind == Kind::InputObject => list(
                        visible(&t.input_fields, include_deprecated, |v| {
                            v.deprecation.is_some()
                        }),
                        |v| Resolved::Object(Obj::InputValue(v)),
                    ),
                    "isOneOf" if t.kind == Kind::InputObject => leaf(t.one_of),
                    "fields" | "interfaces" | "possibleTypes" | "enumValues" | "inputFields"
                    | "isOneOf" | "ofType" => Resolved::Null,
                    _ => return missing(),
                }
            }
            (Obj::Field(f), "name") => leaf(f.name.clone()),
            (Obj::Field(f), "description") => optional_leaf(f.description.as_ref()),
            (Obj::Field(f), "args") => list(
                visible(&f.args, include_deprecated, |a| a.deprecation.is_some()),
                |a| Resolved::Object(Obj::InputValue(a)),
            ),
            (Obj::Field(f), "type") => type_of(schema, &f.ty),
            (Obj::Field(f), "isDeprecated") => leaf(f.deprecation.is_some()),
            (Obj::Field(f), "deprecationReason") => optional_leaf(f.deprecation.as_ref()),

            (Obj::InputValue(v), "name") => leaf(v.name.clone()),
            (Obj::InputValue(v), "description") => optional_leaf(v.description.as_ref()),
            (Obj::InputValue(v), "type") => type_of(schema, &v.ty),
            (Obj::InputValue(v), "defaultValue") => optional_leaf(v.default_value.as_ref()),
            (Obj::InputValue(v), "isDeprecated") => leaf(v.deprecation.is_some()),
            (Obj::InputValue(v), "deprecationReason") => optional_leaf(v.deprecation.as_ref()),

            (Obj::EnumValue(v), "name") => leaf(v.name.clone()),
            (Obj::EnumValue(v), "description") => optional_leaf(v.description.as_ref()),
            (Obj::EnumValue(v), "isDeprecated") => leaf(v.deprecation.is_some()),
            (Obj::EnumValue(v), "deprecationReason") => optional_leaf(v.deprecation.as_ref()),

            (Obj::Directive(d), "name") => leaf(d.name.clone()),
            (Obj::Directive(d), "description") => optional_leaf(d.description.as_ref()),
            (Obj::Directive(d), "isRepeatable") => leaf(d.repeatable),
            (Obj::Directive(d), "locations") => list(&d.locations, |l| leaf(*l)),
            (Obj::Directive(d), "args") => list(
                visible(&d.args, include_deprecated, |a| a.deprecation.is_some()),
                |a| Resolved::Object(Obj::InputValue(a)),
            ),
            _ => return missing(),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SDL: &str = r#"
        "Root."
        type Query {
          "The signed-in user."
          me: User
          legacy: String @deprecated(reason: "gone")
        }
        type User { id: ID! }
        enum Color { RED GREEN @deprecated }
        input Filter @oneOf { color: Color, limit: Int = 10 }
    "#;

    /// The graphql-js introspection query with every option on.
    const INTROSPECTION_QUERY: &str = include_str!("testdata/introspection_query.graphql");

    fn schema() -> Schema {
        Schema::from_sdl(SDL).unwrap()
    }

    fn run_with(query: &str, variables: Value, injected: Injected) -> Outcome {
        let Value::Object(variables) = variables else {
            panic!("variables must be an object");
        };
        run(
            &schema(),
            &Viewer { user_id: "u-1" },
            query,
            None,
            &variables,
            injected,
        )
    }

    /// The response body as `/graphql` would send it.
    fn answer(query: &str, variables: Value, injected: Injected) -> Value {
        match run_with(query, variables, injected) {
            Outcome::Rejected(errors) => {
                json!({ "errors": errors.iter().map(GraphqlError::to_json).collect::<Vec<_>>() })
            }
            Outcome::Executed { data, errors } if errors.is_empty() => json!({ "data": data }),
            Outcome::Executed { data, errors } => json!({
                "data": data,
                "errors": errors.iter().map(GraphqlError::to_json).collect::<Vec<_>>(),
            }),
        }
    }

    fn messages(query: &str) -> Vec<String> {
        match run_with(query, json!({}), Injected::Nothing) {
            Outcome::Rejected(errors) => errors.into_iter().map(|e| e.message).collect(),
            Outcome::Executed { .. } => Vec::new(),
        }
    }

    #[test]
    fn me_answers_the_viewer() {
        assert_eq!(
            answer("{ me { id } }", json!({}), Injected::Nothing),
            json!({ "data": { "me": { "id": "u-1" } } })
        );
    }

    #[test]
    fn aliases_fragments_typename_and_directives() {
        let query = r#"
            query Q($skip: Boolean!) {
              a: me { ...F }
              b: me @skip(if: $skip) { id }
              c: me @include(if: true) { ... on User { __typename } }
              __typename
            }
            fragment F on User { id other: id }
        "#;
        assert_eq!(
            answer(query, json!({ "skip": true }), Injected::Nothing),
            json!({ "data": {
                "a": { "id": "u-1", "other": "u-1" },
                "c": { "__typename": "User" },
                "__typename": "Query",
            } })
        );
    }

    #[test]
    fn validation_errors_are_request_errors() {
        let cases: [(&str, &str); 14] = [
            (
                "{ me { name } }",
                "Cannot query field \"name\" on type \"User\".",
            ),
            (
                "{ me }",
                "Field \"me\" of type \"User\" must have a selection of subfields. Did you mean \"me { ... }\"?",
            ),
            (
                "{ me { id { x } } }",
                "Field \"id\" must not have a selection since type \"ID!\" has no subfields.",
            ),
            (
                "{ me(x: 1) { id } }",
                "Unknown argument \"x\" on field \"Query.me\".",
            ),
            (
                "{ __type { name } }",
                "Argument \"name\" of type \"String!\" is required on field \"Query.__type\", but it was not provided.",
            ),
            (
                "{ __type(name: 5) { name } }",
                "Expected value of type \"String!\", found 5.",
            ),
            ("{ me { ...Nope } }", "Unknown fragment \"Nope\"."),
            (
                "{ me { ...A } } fragment A on User { ...A }",
                "Cannot spread fragment \"A\" within itself.",
            ),
            (
                "{ me { id } } fragment A on User { id }",
                "Fragment \"A\" is never used.",
            ),
            (
                "{ me { ... on Query { __typename } } }",
                "Fragment cannot be spread here as objects of type \"User\" can never be of type \"Query\".",
            ),
            ("{ me { ... on Ghost { id } } }", "Unknown type \"Ghost\"."),
            ("{ me @nope { id } }", "Unknown directive \"@nope\"."),
            (
                "query { __type(name: $n) { name } }",
                "Variable \"$n\" is not defined.",
            ),
            (
                "mutation { me }",
                "Schema is not configured to execute mutation operation.",
            ),
        ];
        for (query, expected) in cases {
            assert_eq!(messages(query), [expected], "{query}");
        }
        assert!(messages("{ me { id ")[0].starts_with("Syntax Error:"));
    }

    #[test]
    fn validation_errors_carry_locations() {
        let Outcome::Rejected(errors) =
            run_with("{\n  me { name }\n}", json!({}), Injected::Nothing)
        else {
            panic!("expected a request error");
        };
        assert_eq!(
            errors[0].to_json(),
            json!({
                "message": "Cannot query field \"name\" on type \"User\".",
                "locations": [{ "line": 2, "column": 8 }],
            })
        );
    }

    #[test]
    fn operation_selection_follows_get_operation() {
        let schema = schema();
        let viewer = Viewer { user_id: "u" };
        let document = "query A { me { id } } query B { __typename }";
        let pick = |name| {
            run(
                &schema,
                &viewer,
                document,
                name,
                &Map::new(),
                Injected::Nothing,
            )
        };
        assert!(
            matches!(pick(Some("B")), Outcome::Executed { data, .. } if data == json!({ "__typename": "Query" }))
        );
        assert!(
            matches!(pick(None), Outcome::Rejected(e) if e[0].message.starts_with("Must provide operation name"))
        );
        assert!(
            matches!(pick(Some("C")), Outcome::Rejected(e) if e[0].message == "Unknown operation named \"C\".")
        );
    }

    #[test]
    fn variables_are_coerced_and_required_ones_enforced() {
        let query = "query T($n: String!) { __type(name: $n) { name kind } }";
        assert_eq!(
            answer(query, json!({ "n": "User" }), Injected::Nothing),
            json!({ "data": { "__type": { "name": "User", "kind": "OBJECT" } } })
        );
        assert_eq!(
            answer(query, json!({ "n": "Nope" }), Injected::Nothing),
            json!({ "data": { "__type": null } })
        );
        let missing = answer(query, json!({}), Injected::Nothing);
        assert_eq!(
            missing["errors"][0]["message"],
            "Variable \"$n\" of required type \"String!\" was not provided."
        );
        let wrong = answer(query, json!({ "n": 3 }), Injected::Nothing);
        assert_eq!(
            wrong["errors"][0]["message"],
            "Variable \"$n\" got invalid value 3; expected type \"String!\"."
        );
    }

    #[test]
    fn deprecated_members_follow_include_deprecated() {
        let query = r#"{
            q: __type(name: "Query") { all: fields(includeDeprecated: true) { name isDeprecated deprecationReason } live: fields { name } }
            c: __type(name: "Color") { enumValues(includeDeprecated: true) { name deprecationReason } }
            f: __type(name: "Filter") { isOneOf inputFields { name defaultValue type { kind name } } }
        }"#;
        assert_eq!(
            answer(query, json!({}), Injected::Nothing)["data"],
            json!({
                "q": {
                    "all": [
                        { "name": "me", "isDeprecated": false, "deprecationReason": null },
                        { "name": "legacy", "isDeprecated": true, "deprecationReason": "gone" },
                    ],
                    "live": [{ "name": "me" }],
                },
                "c": { "enumValues": [
                    { "name": "RED", "deprecationReason": null },
                    { "name": "GREEN", "deprecationReason": "No longer supported" },
                ] },
                "f": { "isOneOf": true, "inputFields": [
                    { "name": "color", "defaultValue": null, "type": { "kind": "ENUM", "name": "Color" } },
                    { "name": "limit", "defaultValue": "10", "type": { "kind": "SCALAR", "name": "Int" } },
                ] },
            })
        );
    }

    #[test]
    fn standard_introspection_query_describes_the_schema() {
        let data = answer(INTROSPECTION_QUERY, json!({}), Injected::Nothing);
        assert!(data.get("errors").is_none(), "{data}");
        let schema = &data["data"]["__schema"];
        assert_eq!(
            schema["queryType"],
            json!({ "name": "Query", "kind": "OBJECT" })
        );
        assert_eq!(schema["mutationType"], Value::Null);
        let user = schema["types"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "User")
            .unwrap();
        assert_eq!(
            user["fields"][0]["type"],
            json!({ "kind": "NON_NULL", "name": null, "ofType": { "kind": "SCALAR", "name": "ID", "ofType": null } })
        );
        assert_eq!(user["interfaces"], json!([]));
        assert_eq!(user["enumValues"], Value::Null);
        let directives: Vec<&str> = schema["directives"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            directives,
            ["include", "skip", "deprecated", "specifiedBy", "oneOf"]
        );
    }

    /// Every field of every introspection type has a resolver: ask for all of them, on
    /// every type, and expect no error.
    #[test]
    fn every_introspection_field_resolves() {
        let schema = schema();
        let mut selections = String::new();
        for meta in [
            "__Type",
            "__Field",
            "__InputValue",
            "__EnumValue",
            "__Directive",
            "__Schema",
        ] {
            let def = schema.get(meta).unwrap();
            let fields: Vec<String> = def
                .fields
                .iter()
                .map(|f| {
                    let composite = schema.get(f.ty.named()).unwrap().kind.is_composite();
                    if composite {
                        format!("{} {{ __typename }}", f.name)
                    } else {
                        f.name.clone()
                    }
                })
                .collect();
            selections.push_str(&format!(
                "fragment {meta}All on {meta} {{ {} }}\n",
                fields.join(" ")
            ));
        }
        let query = format!(
            "{{ __schema {{ ...__SchemaAll types {{ ...__TypeAll fields(includeDeprecated: true) {{ ...__FieldAll args {{ ...__InputValueAll }} type {{ ...__TypeAll ofType {{ ...__TypeAll }} }} }} enumValues(includeDeprecated: true) {{ ...__EnumValueAll }} inputFields {{ ...__InputValueAll }} }} directives {{ ...__DirectiveAll }} }} }}\n{selections}"
        );
        let data = answer(&query, json!({}), Injected::Nothing);
        assert!(data.get("errors").is_none(), "{data}");
    }

    #[test]
    fn partial_data_nulls_the_first_nullable_field() {
        assert_eq!(
            answer("{ me { id } }", json!({}), Injected::PartialData),
            json!({
                "data": { "me": null },
                "errors": [{
                    "message": "Simulated failure of this field",
                    "locations": [{ "line": 1, "column": 3 }],
                    "path": ["me"],
                    "extensions": { "code": "INTERNAL_SERVER_ERROR" },
                }],
            })
        );
        // Only introspection: nothing to fail, the data stays whole.
        let whole = answer("{ __typename }", json!({}), Injected::PartialData);
        assert_eq!(whole["data"], json!({ "__typename": "Query" }));
        assert_eq!(whole["errors"][0]["extensions"]["code"], "PARTIAL_RESULT");
    }

    #[test]
    fn root_error_takes_data_down() {
        assert_eq!(
            answer("{ me { id } }", json!({}), Injected::RootError),
            json!({
                "data": null,
                "errors": [{
                    "message": "Internal server error",
                    "locations": [{ "line": 1, "column": 3 }],
                    "path": ["me"],
                    "extensions": { "code": "INTERNAL_SERVER_ERROR" },
                }],
            })
        );
    }

    #[test]
    fn hostile_queries_are_refused_quickly() {
        let deep = format!("{}{}", "{ me ".repeat(500), "}".repeat(500));
        assert_eq!(messages(&deep), ["The query nests deeper than 64 levels."]);
        let long = format!("{{ me {{ id }} }} # {}", "x".repeat(70_000));
        assert_eq!(messages(&long), ["The query is longer than 65536 bytes."]);

        // Each fragment spreads the next twice: 2^40 paths if expanded naively.
        let mut fragments = String::new();
        for i in 0..40 {
            fragments.push_str(&format!(
                "fragment F{i} on User {{ id ...F{n} ...F{n} }}\n",
                n = i + 1
            ));
        }
        fragments.push_str("fragment F40 on User { id }\n");
        let query = format!("{{ me {{ ...F0 }} }}\n{fragments}");
        assert_eq!(
            answer(&query, json!({}), Injected::Nothing),
            json!({ "data": { "me": { "id": "u-1" } } })
        );

        // Thousands of aliases over every type and field hit the field budget.
        let aliases: Vec<String> = (0..2000)
            .map(|i| format!("f{i}: fields {{ name }}"))
            .collect();
        let fan_out = format!(
            "{{ __schema {{ types {{ ...T }} }} }}\nfragment T on __Type {{ {} }}",
            aliases.join(" ")
        );
        let answer = answer(&fan_out, json!({}), Injected::Nothing);
        assert_eq!(answer["data"], Value::Null);
        assert_eq!(
            answer["errors"][0]["extensions"]["code"],
            "QUERY_TOO_COMPLEX"
        );
    }

    #[test]
    fn a_failing_non_null_field_nulls_its_parent() {
        let schema =
            Schema::from_sdl("type Query { me: User } type User { id: ID! name: String! }")
                .unwrap();
        let Outcome::Executed { data, errors } = run(
            &schema,
            &Viewer { user_id: "u" },
            "{ me { id name } }",
            None,
            &Map::new(),
            Injected::Nothing,
        ) else {
            panic!("expected execution");
        };
        assert_eq!(data, json!({ "me": null }));
        assert_eq!(
            errors[0].message,
            "The sandbox has no resolver for User.name."
        );
        assert_eq!(errors[0].path, Some(vec![json!("me"), json!("name")]));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever the text, the answer is a response, never a panic.
        #[test]
        fn any_query_text_gets_an_answer(query in r#"[{}()\[\]:$@!.=,"a-z_0-9 \n]{0,200}"#) {
            let schema = Schema::from_sdl("type Query { me: User } type User { id: ID! }").unwrap();
            let outcome = run(&schema, &Viewer { user_id: "u" }, &query, None, &Map::new(), Injected::Nothing);
            match outcome {
                Outcome::Rejected(errors) => prop_assert!(!errors.is_empty()),
                Outcome::Executed { data, .. } => prop_assert!(data.is_object() || data.is_null()),
            }
        }

        /// Queries built from the schema's own words: valid ones execute, others are refused.
        #[test]
        fn schema_shaped_queries_get_an_answer(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("{"), Just("}"), Just("me"), Just("id"), Just("__typename"),
                    Just("__schema"), Just("types"), Just("name"), Just("fields"), Just("type"),
                    Just("ofType"), Just("kind"), Just("...F"), Just("... on User"),
                    Just("fragment F on User { id }"), Just("@skip(if: true)"),
                    Just("__type(name: \"User\")"), Just("a:"), Just("query Q"),
                ],
                0..40,
            )
        ) {
            let query = parts.join(" ");
            let schema = Schema::from_sdl("type Query { me: User } type User { id: ID! }").unwrap();
            let _ = run(&schema, &Viewer { user_id: "u" }, &query, None, &Map::new(), Injected::PartialData);
        }
    }
}
