//! The served schema: any SDL, turned at start-up into an `async-graphql` dynamic schema
//! whose fields answer from the sandbox's state where it models them (`Query.me`) and
//! with deterministic sample values of the right type everywhere else.
//!
//! Parsing, validation, introspection, coercion of variables, execution and null
//! propagation are the engine's; this module only declares the types and the resolvers.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::dynamic::{
    Enum, EnumItem, Field, FieldFuture, FieldValue, InputObject, InputValue, Interface,
    InterfaceField, Object, ResolverContext, Scalar, Schema, Subscription, SubscriptionField,
    SubscriptionFieldFuture, TypeRef,
};
use async_graphql::parser::types::{
    BaseType, ConstDirective, FieldDefinition, InputValueDefinition, ServiceDocument, Type,
    TypeDefinition, TypeKind, TypeSystemDefinition,
};
use async_graphql::parser::{Positioned, parse_schema};
use async_graphql::{ErrorExtensions, Name, Value};

/// The deepest operation the engine accepts: the standard introspection query needs
/// about 13 levels (`ofType` nesting).
const MAX_DEPTH: usize = 64;

/// The most fields one operation may select (fragments expanded): the engine refuses
/// more before executing, as real servers' cost limits do.
const MAX_COMPLEXITY: usize = 1_000;

/// The built-in scalars (GraphQL spec §3.5): the engine declares them itself.
const BUILT_IN_SCALARS: [&str; 5] = ["Int", "Float", "String", "Boolean", "ID"];

/// Why an SDL cannot be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SchemaError(pub(crate) String);

/// The sandbox's answer to the current request, handed to the resolvers.
pub(crate) struct RequestData {
    /// Who is asking: `me` and its `id` answer with this user.
    pub(crate) user_id: String,
    /// Fail the first root field resolved (`GraphqlFault::Errors`).
    pub(crate) fail_root: AtomicBool,
    /// Fail the first nullable field resolved (`GraphqlFault::PartialData`).
    pub(crate) fail_nullable: AtomicBool,
}

impl RequestData {
    pub(crate) fn new(user_id: String) -> Self {
        Self {
            user_id,
            fail_root: AtomicBool::new(false),
            fail_nullable: AtomicBool::new(false),
        }
    }
}

/// What an object value stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    /// The signed-in user (`Query.me`).
    Viewer,
    /// An object the sandbox does not model: every field answers a sample.
    Sample,
}

/// The kind of every named type of the schema, and what a sample of it is.
#[derive(Debug, Default)]
struct Catalog {
    kinds: HashMap<String, Kind>,
    /// The field types each interface declares, by interface and field name.
    interface_fields: HashMap<String, HashMap<String, TypeRef>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    BuiltInScalar,
    CustomScalar,
    Object,
    /// An interface or union, with the object type its samples take: the first member of
    /// a union, or the first object type in the SDL that implements the interface.
    Abstract(Option<String>),
    /// An enum, with its first value.
    Enum(Option<String>),
    InputObject,
}

impl Catalog {
    fn kind(&self, name: &str) -> Option<&Kind> {
        self.kinds.get(name)
    }
}

/// How one field answers.
struct FieldPlan {
    /// The object or interface type declaring the field, for sample strings.
    parent: String,
    name: String,
    ty: TypeRef,
    /// Whether the field belongs to a root operation type.
    root: bool,
    /// Whether this field is `Query.me`.
    viewer: bool,
    catalog: Arc<Catalog>,
}

impl FieldPlan {
    fn resolve<'a>(&self, ctx: &ResolverContext<'a>) -> FieldFuture<'a> {
        let data = match ctx.data::<Arc<RequestData>>() {
            Ok(data) => data,
            Err(error) => return FieldFuture::new(async move { Err::<Option<Value>, _>(error) }),
        };
        if self.root && data.fail_root.swap(false, Ordering::SeqCst) {
            // The handler answers `data: null`: what is resolved below is dropped.
            report(ctx, "Internal server error");
        }
        if !matches!(self.ty, TypeRef::NonNull(_))
            && data.fail_nullable.swap(false, Ordering::SeqCst)
        {
            report(ctx, "Simulated failure of this field");
            return FieldFuture::Value(None);
        }
        let parent = ctx.parent_value.downcast_ref::<Node>().copied();
        if self.viewer {
            return FieldFuture::Value(self.object(named(&self.ty), Node::Viewer));
        }
        if parent == Some(Node::Viewer) && self.name == "id" && is_text(&self.ty) {
            return FieldFuture::Value(Some(FieldValue::value(data.user_id.clone())));
        }
        FieldFuture::Value(self.sample(&self.ty))
    }

    /// A sample of `ty`: one item per list, every object a [`Node::Sample`].
    fn sample(&self, ty: &TypeRef) -> Option<FieldValue<'static>> {
        match ty {
            TypeRef::NonNull(inner) => self.sample(inner),
            TypeRef::List(inner) => Some(FieldValue::list([self
                .sample(inner)
                .unwrap_or(FieldValue::NULL)])),
            TypeRef::Named(name) => match self.catalog.kind(name)? {
                Kind::BuiltInScalar => Some(FieldValue::value(self.built_in_sample(name))),
                Kind::CustomScalar => Some(FieldValue::value(custom_scalar_sample(name))),
                Kind::Enum(first) => first
                    .as_ref()
                    .map(|v| FieldValue::value(Value::Enum(Name::new(v)))),
                Kind::Object | Kind::Abstract(_) => self.object(name, Node::Sample),
                Kind::InputObject => None,
            },
        }
    }

    /// An object of type `name` (for an interface or union, of its first possible type).
    fn object(&self, name: &str, node: Node) -> Option<FieldValue<'static>> {
        match self.catalog.kind(name)? {
            Kind::Object => Some(FieldValue::owned_any(node)),
            Kind::Abstract(first) => first
                .as_ref()
                .map(|ty| FieldValue::owned_any(node).with_type(ty.clone())),
            _ => None,
        }
    }

    fn built_in_sample(&self, name: &str) -> Value {
        match name {
            "Int" => Value::from(1),
            "Float" => Value::from(1.5),
            "Boolean" => Value::from(true),
            // String and ID: which field answered, so that answers are easy to trace.
            _ => Value::from(format!("{}.{}", self.parent, self.name)),
        }
    }
}

/// A deterministic sample for a custom scalar, by its name: an RFC 3339 timestamp for
/// date-times (`DateTime`, `*Timestamp`, `PreciseDateTime`), an RFC 3339 full-date for
/// `Date`, an absolute URL for `URI`/`URL`, and otherwise a string naming the scalar
/// (custom scalars are serialized as strings by the APIs this sandbox stands in for).
pub(crate) fn custom_scalar_sample(name: &str) -> Value {
    let lower = name.to_ascii_lowercase();
    if lower.contains("datetime") || lower.contains("timestamp") {
        Value::from("2024-05-01T12:30:00Z")
    } else if lower == "date" {
        Value::from("2024-05-01")
    } else if lower == "uri" || lower == "url" {
        Value::from("https://example.com/sample")
    } else {
        Value::from(format!("sample {name}"))
    }
}

/// Reports a field error at the field's path and location (GraphQL spec §6.4.4,
/// "Handling Field Errors"), as a server whose resolver failed does; the caller answers
/// the field `null`.
///
/// The error goes through the engine's context (`add_error`, `set_error_path`, the
/// field's position) rather than being returned: the dynamic schema of `async-graphql` 7
/// propagates a returned error to the root, whatever the field's nullability, and
/// without its path.
fn report(ctx: &ResolverContext<'_>, message: &'static str) {
    let error = async_graphql::Error::new(message)
        .extend_with(|_, e| e.set("code", "INTERNAL_SERVER_ERROR"))
        .into_server_error(ctx.item.pos);
    ctx.add_error(ctx.set_error_path(error));
}

fn named(ty: &TypeRef) -> &str {
    match ty {
        TypeRef::Named(name) => name,
        TypeRef::NonNull(inner) | TypeRef::List(inner) => named(inner),
    }
}

/// `ID` or `String`, possibly non-null: a type a user id fits in.
fn is_text(ty: &TypeRef) -> bool {
    match ty {
        TypeRef::Named(name) => name == "ID" || name == "String",
        TypeRef::NonNull(inner) => is_text(inner),
        TypeRef::List(_) => false,
    }
}

fn type_ref(ty: &Type) -> TypeRef {
    let base = match &ty.base {
        BaseType::Named(name) => TypeRef::named(name.as_str()),
        BaseType::List(inner) => TypeRef::List(Box::new(type_ref(inner))),
    };
    if ty.nullable {
        base
    } else {
        TypeRef::NonNull(Box::new(base))
    }
}

/// `@deprecated(reason:)`: the reason, or the spec's default (GraphQL spec §3.13.3).
fn deprecation(directives: &[Positioned<ConstDirective>]) -> Option<String> {
    let directive = directives
        .iter()
        .find(|d| d.node.name.node.as_str() == "deprecated")?;
    let reason = directive
        .node
        .get_argument("reason")
        .and_then(|v| match &v.node {
            Value::String(reason) => Some(reason.clone()),
            _ => None,
        });
    Some(reason.unwrap_or_else(|| "No longer supported".to_owned()))
}

fn has_directive(directives: &[Positioned<ConstDirective>], name: &str) -> bool {
    directives.iter().any(|d| d.node.name.node.as_str() == name)
}

fn description(description: &Option<Positioned<String>>) -> Option<&str> {
    description.as_ref().map(|d| d.node.as_str())
}

fn input_value(definition: &InputValueDefinition) -> InputValue {
    let mut value = InputValue::new(definition.name.node.as_str(), type_ref(&definition.ty.node));
    if let Some(text) = description(&definition.description) {
        value = value.description(text);
    }
    if let Some(default) = &definition.default_value {
        value = value.default_value(default.node.clone());
    }
    if let Some(reason) = deprecation(&definition.directives) {
        value = value.deprecation(Some(&reason));
    }
    value
}

/// The type definitions of `document` in order, with `extend` definitions merged into
/// the types they extend.
fn merged_types(document: ServiceDocument) -> Result<(Vec<TypeDefinition>, Roots), SchemaError> {
    let mut types: Vec<TypeDefinition> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut extensions = Vec::new();
    let mut roots = Roots::default();
    for definition in document.definitions {
        match definition {
            TypeSystemDefinition::Type(ty) => {
                let ty = ty.node;
                if ty.extend {
                    extensions.push(ty);
                    continue;
                }
                let name = ty.name.node.to_string();
                if index.insert(name.clone(), types.len()).is_some() {
                    return Err(SchemaError(format!("type `{name}` is defined twice")));
                }
                types.push(ty);
            }
            TypeSystemDefinition::Schema(schema) => {
                let schema = schema.node;
                if let Some(query) = schema.query {
                    roots.query = Some(query.node.to_string());
                }
                if let Some(mutation) = schema.mutation {
                    roots.mutation = Some(mutation.node.to_string());
                }
                if let Some(subscription) = schema.subscription {
                    roots.subscription = Some(subscription.node.to_string());
                }
            }
            // Custom directive definitions describe the schema for tools; the engine
            // only executes the built-in ones.
            TypeSystemDefinition::Directive(_) => {}
        }
    }
    for extension in extensions {
        let name = extension.name.node.to_string();
        let Some(&at) = index.get(&name) else {
            return Err(SchemaError(format!(
                "`extend` names type `{name}`, which is not defined"
            )));
        };
        let base = &mut types[at];
        base.directives.extend(extension.directives);
        match (&mut base.kind, extension.kind) {
            (TypeKind::Object(base), TypeKind::Object(more)) => {
                base.implements.extend(more.implements);
                base.fields.extend(more.fields);
            }
            (TypeKind::Interface(base), TypeKind::Interface(more)) => {
                base.implements.extend(more.implements);
                base.fields.extend(more.fields);
            }
            (TypeKind::Union(base), TypeKind::Union(more)) => base.members.extend(more.members),
            (TypeKind::Enum(base), TypeKind::Enum(more)) => base.values.extend(more.values),
            (TypeKind::InputObject(base), TypeKind::InputObject(more)) => {
                base.fields.extend(more.fields);
            }
            (TypeKind::Scalar, TypeKind::Scalar) => {}
            _ => {
                return Err(SchemaError(format!(
                    "`extend` changes the kind of type `{name}`"
                )));
            }
        }
    }
    for ty in &mut types {
        drop_repeated_definitions(ty)?;
    }
    let defined = |name: &str| index.contains_key(name);
    roots.query = roots
        .query
        .or_else(|| defined("Query").then(|| "Query".to_owned()));
    roots.mutation = roots
        .mutation
        .or_else(|| defined("Mutation").then(|| "Mutation".to_owned()));
    roots.subscription = roots
        .subscription
        .or_else(|| defined("Subscription").then(|| "Subscription".to_owned()));
    Ok((types, roots))
}

/// Published schemas sometimes declare a field twice (GitHub's `EnterpriseOwnerInfo`
/// has `repositoryDeployKeySetting` twice, with two descriptions), which GraphQL spec
/// §3.6.1 forbids and the engine refuses. A repetition with the same type and arguments
/// is dropped, keeping the first (graphql-js's `buildSchema` keeps one too); one that
/// declares something else is an error. Repeated enum values, input fields, interfaces
/// and union members are handled alike.
fn drop_repeated_definitions(ty: &mut TypeDefinition) -> Result<(), SchemaError> {
    let type_name = ty.name.node.to_string();
    let field_signature = |f: &Positioned<FieldDefinition>| {
        let args: Vec<String> = f
            .node
            .arguments
            .iter()
            .map(|a| format!("{}: {}", a.node.name.node, a.node.ty.node))
            .collect();
        format!("({}): {}", args.join(", "), f.node.ty.node)
    };
    let input_signature = |f: &Positioned<InputValueDefinition>| f.node.ty.node.to_string();
    match &mut ty.kind {
        TypeKind::Object(object) => {
            dedup(
                &type_name,
                &mut object.fields,
                |f| f.node.name.node.to_string(),
                field_signature,
            )?;
            dedup(
                &type_name,
                &mut object.implements,
                |i| i.node.to_string(),
                |_| String::new(),
            )?;
        }
        TypeKind::Interface(interface) => {
            dedup(
                &type_name,
                &mut interface.fields,
                |f| f.node.name.node.to_string(),
                field_signature,
            )?;
            dedup(
                &type_name,
                &mut interface.implements,
                |i| i.node.to_string(),
                |_| String::new(),
            )?;
        }
        TypeKind::Union(union) => {
            dedup(
                &type_name,
                &mut union.members,
                |m| m.node.to_string(),
                |_| String::new(),
            )?;
        }
        TypeKind::Enum(values) => {
            dedup(
                &type_name,
                &mut values.values,
                |v| v.node.value.node.to_string(),
                |_| String::new(),
            )?;
        }
        TypeKind::InputObject(input) => {
            dedup(
                &type_name,
                &mut input.fields,
                |f| f.node.name.node.to_string(),
                input_signature,
            )?;
        }
        TypeKind::Scalar => {}
    }
    Ok(())
}

/// Keeps the first item of each name; a later one must have the same signature.
fn dedup<T>(
    type_name: &str,
    items: &mut Vec<T>,
    name: impl Fn(&T) -> String,
    signature: impl Fn(&T) -> String,
) -> Result<(), SchemaError> {
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut error = None;
    items.retain(|item| {
        let (name, signature) = (name(item), signature(item));
        match seen.get(&name) {
            None => {
                seen.insert(name, signature);
                true
            }
            Some(first) => {
                if *first != signature && error.is_none() {
                    error = Some(SchemaError(format!(
                        "`{type_name}.{name}` is declared twice, as `{first}` and `{signature}`"
                    )));
                }
                false
            }
        }
    });
    error.map_or(Ok(()), Err)
}

/// The root operation types (GraphQL spec §3.3.1): from `schema { ... }`, else the
/// default names when such types exist.
#[derive(Debug, Default)]
struct Roots {
    query: Option<String>,
    mutation: Option<String>,
    subscription: Option<String>,
}

fn catalog(types: &[TypeDefinition]) -> Catalog {
    let mut interface_fields = HashMap::new();
    let mut kinds: HashMap<String, Kind> = BUILT_IN_SCALARS
        .iter()
        .map(|name| ((*name).to_owned(), Kind::BuiltInScalar))
        .collect();
    for ty in types {
        let name = ty.name.node.to_string();
        let kind = match &ty.kind {
            TypeKind::Scalar if BUILT_IN_SCALARS.contains(&name.as_str()) => Kind::BuiltInScalar,
            TypeKind::Scalar => Kind::CustomScalar,
            TypeKind::Object(_) => Kind::Object,
            TypeKind::Union(union) => {
                Kind::Abstract(union.members.first().map(|m| m.node.to_string()))
            }
            TypeKind::Interface(interface) => {
                let fields = interface
                    .fields
                    .iter()
                    .map(|f| (f.node.name.node.to_string(), type_ref(&f.node.ty.node)))
                    .collect();
                interface_fields.insert(name.clone(), fields);
                let first = types.iter().find(|candidate| match &candidate.kind {
                    TypeKind::Object(object) => {
                        object.implements.iter().any(|i| i.node.as_str() == name)
                    }
                    _ => false,
                });
                Kind::Abstract(first.map(|t| t.name.node.to_string()))
            }
            TypeKind::Enum(values) => {
                Kind::Enum(values.values.first().map(|v| v.node.value.node.to_string()))
            }
            TypeKind::InputObject(_) => Kind::InputObject,
        };
        kinds.insert(name, kind);
    }
    Catalog {
        kinds,
        interface_fields,
    }
}

/// Whether `async-graphql` 7's schema check accepts a field of type `field` implementing
/// an interface field of type `interface`: it compares the two the wrong way round
/// (async-graphql issue #1692), so it refuses what GraphQL spec §3.6.1 allows, a
/// non-null or more specific type than the interface's (`email: String!` for
/// `email: String`, `owner: User` for `owner: Actor`).
fn engine_accepts(field: &TypeRef, interface: &TypeRef) -> bool {
    match (field, interface) {
        (TypeRef::NonNull(a), TypeRef::NonNull(b)) => engine_accepts(a, b),
        (_, TypeRef::NonNull(b)) => engine_accepts(field, b),
        (TypeRef::Named(a), TypeRef::Named(b)) => a == b,
        (TypeRef::List(a), TypeRef::List(b)) => engine_accepts(a, b),
        _ => false,
    }
}

/// The type to declare to the engine for field `field` of a type implementing
/// `interfaces`: the field's own type, unless the engine would refuse that covariant
/// implementation, in which case the interface's. Introspection then reports the
/// interface's type for that field; queries, validation and answers are unaffected
/// (the answer is a sample of the interface's type, which is a valid value of it).
fn declared_type(
    catalog: &Catalog,
    interfaces: &[Positioned<Name>],
    field: &str,
    ty: TypeRef,
) -> TypeRef {
    for interface in interfaces {
        let declared = catalog
            .interface_fields
            .get(interface.node.as_str())
            .and_then(|fields| fields.get(field));
        if let Some(declared) = declared
            && !engine_accepts(&ty, declared)
        {
            return declared.clone();
        }
    }
    ty
}

/// The schema `sdl` describes, served by the engine.
///
/// Every field of every object type resolves: `Query.me` (when the SDL has it) to the
/// signed-in user, whose `id` is the user id; everything else to a deterministic sample
/// of the field's type (see [`FieldPlan::sample`]).
pub(crate) fn build(sdl: &str) -> Result<Schema, SchemaError> {
    let document =
        parse_schema(sdl).map_err(|e| SchemaError(format!("the SDL does not parse: {e}")))?;
    let (types, roots) = merged_types(document)?;
    let Some(query) = roots.query.clone() else {
        return Err(SchemaError(
            "the SDL has no query type (`type Query` or `schema { query: ... }`)".to_owned(),
        ));
    };
    let catalog = Arc::new(catalog(&types));
    let mut builder = Schema::build(
        &query,
        roots.mutation.as_deref(),
        roots.subscription.as_deref(),
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY);

    for ty in &types {
        let name = ty.name.node.as_str();
        let text = description(&ty.description);
        match &ty.kind {
            TypeKind::Scalar => {
                if BUILT_IN_SCALARS.contains(&name) {
                    continue;
                }
                let mut scalar = Scalar::new(name);
                if let Some(text) = text {
                    scalar = scalar.description(text);
                }
                let specified_by = ty
                    .directives
                    .iter()
                    .find(|d| d.node.name.node.as_str() == "specifiedBy")
                    .and_then(|d| d.node.get_argument("url"))
                    .and_then(|url| match &url.node {
                        Value::String(url) => Some(url.clone()),
                        _ => None,
                    });
                if let Some(url) = specified_by {
                    scalar = scalar.specified_by_url(url);
                }
                builder = builder.register(scalar);
            }
            TypeKind::Object(object) if Some(name) == roots.subscription.as_deref() => {
                let mut subscription = Subscription::new(name);
                if let Some(text) = text {
                    subscription = subscription.description(text);
                }
                for field in &object.fields {
                    subscription = subscription.field(subscription_field(
                        name,
                        &field.node,
                        Arc::clone(&catalog),
                    ));
                }
                builder = builder.register(subscription);
            }
            TypeKind::Object(object) => {
                let root = [&roots.query, &roots.mutation]
                    .iter()
                    .any(|r| r.as_deref() == Some(name));
                let mut out = Object::new(name);
                if let Some(text) = text {
                    out = out.description(text);
                }
                for interface in &object.implements {
                    out = out.implement(interface.node.as_str());
                }
                for field in &object.fields {
                    let field = &field.node;
                    let plan = FieldPlan {
                        parent: name.to_owned(),
                        name: field.name.node.to_string(),
                        ty: declared_type(
                            &catalog,
                            &object.implements,
                            field.name.node.as_str(),
                            type_ref(&field.ty.node),
                        ),
                        root,
                        viewer: name == query && field.name.node.as_str() == "me",
                        catalog: Arc::clone(&catalog),
                    };
                    out = out.field(object_field(field, plan));
                }
                builder = builder.register(out);
            }
            TypeKind::Interface(interface) => {
                let mut out = Interface::new(name);
                if let Some(text) = text {
                    out = out.description(text);
                }
                for parent in &interface.implements {
                    out = out.implement(parent.node.as_str());
                }
                for field in &interface.fields {
                    let field = &field.node;
                    let ty = declared_type(
                        &catalog,
                        &interface.implements,
                        field.name.node.as_str(),
                        type_ref(&field.ty.node),
                    );
                    let mut declared = InterfaceField::new(field.name.node.as_str(), ty);
                    if let Some(text) = description(&field.description) {
                        declared = declared.description(text);
                    }
                    if let Some(reason) = deprecation(&field.directives) {
                        declared = declared.deprecation(Some(&reason));
                    }
                    for argument in &field.arguments {
                        declared = declared.argument(input_value(&argument.node));
                    }
                    out = out.field(declared);
                }
                builder = builder.register(out);
            }
            TypeKind::Union(union) => {
                let mut out = async_graphql::dynamic::Union::new(name);
                if let Some(text) = text {
                    out = out.description(text);
                }
                for member in &union.members {
                    out = out.possible_type(member.node.as_str());
                }
                builder = builder.register(out);
            }
            TypeKind::Enum(values) => {
                let mut out = Enum::new(name);
                if let Some(text) = text {
                    out = out.description(text);
                }
                for value in &values.values {
                    let value = &value.node;
                    let mut item = EnumItem::new(value.value.node.as_str());
                    if let Some(text) = description(&value.description) {
                        item = item.description(text);
                    }
                    if let Some(reason) = deprecation(&value.directives) {
                        item = item.deprecation(Some(&reason));
                    }
                    out = out.item(item);
                }
                builder = builder.register(out);
            }
            TypeKind::InputObject(input) => {
                let mut out = InputObject::new(name);
                if let Some(text) = text {
                    out = out.description(text);
                }
                if has_directive(&ty.directives, "oneOf") {
                    out = out.oneof();
                }
                for field in &input.fields {
                    out = out.field(input_value(&field.node));
                }
                builder = builder.register(out);
            }
        }
    }
    builder
        .finish()
        .map_err(|e| SchemaError(format!("the SDL is not a valid schema: {}", e.0)))
}

fn object_field(field: &FieldDefinition, plan: FieldPlan) -> Field {
    let ty = plan.ty.clone();
    let plan = Arc::new(plan);
    let mut out = Field::new(field.name.node.as_str(), ty, move |ctx| plan.resolve(&ctx));
    if let Some(text) = description(&field.description) {
        out = out.description(text);
    }
    if let Some(reason) = deprecation(&field.directives) {
        out = out.deprecation(Some(&reason));
    }
    for argument in &field.arguments {
        out = out.argument(input_value(&argument.node));
    }
    out
}

/// A subscription field: a stream of one sample event (the engine answers subscriptions
/// only on streaming transports, which the sandbox does not offer).
fn subscription_field(
    parent: &str,
    field: &FieldDefinition,
    catalog: Arc<Catalog>,
) -> SubscriptionField {
    let plan = Arc::new(FieldPlan {
        parent: parent.to_owned(),
        name: field.name.node.to_string(),
        ty: type_ref(&field.ty.node),
        root: false,
        viewer: false,
        catalog,
    });
    let ty = plan.ty.clone();
    let mut out = SubscriptionField::new(field.name.node.as_str(), ty, move |_| {
        let event = plan.sample(&plan.ty).unwrap_or(FieldValue::NULL);
        SubscriptionFieldFuture::new(async move {
            Ok(futures_util::stream::once(async move {
                Ok::<_, async_graphql::Error>(event)
            }))
        })
    });
    if let Some(text) = description(&field.description) {
        out = out.description(text);
    }
    if let Some(reason) = deprecation(&field.directives) {
        out = out.deprecation(Some(&reason));
    }
    for argument in &field.arguments {
        out = out.argument(input_value(&argument.node));
    }
    out
}
