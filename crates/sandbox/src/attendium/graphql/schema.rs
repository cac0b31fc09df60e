//! The served schema as data: the SDL in `schemas/` plus the built-in scalars,
//! directives and introspection types every GraphQL server has.

use std::collections::{BTreeSet, HashMap};

use graphql_parser::schema::{
    self as ast, Definition, Directive, DirectiveLocation, TypeDefinition, TypeExtension,
};

/// The introspection types (GraphQL spec §4.5) and built-in directives, as SDL.
const META_SDL: &str = include_str!("introspection.graphql");

/// The built-in scalars (GraphQL spec §3.5), with graphql-js's descriptions.
const BUILTIN_SCALARS: [(&str, &str); 5] = [
    (
        "String",
        "The `String` scalar type represents textual data, represented as UTF-8 character sequences. The String type is most often used by GraphQL to represent free-form human-readable text.",
    ),
    (
        "Boolean",
        "The `Boolean` scalar type represents `true` or `false`.",
    ),
    (
        "ID",
        "The `ID` scalar type represents a unique identifier, often used to refetch an object or as key for a cache. The ID type appears in a JSON response as a String; however, it is not intended to be human-readable. When expected as an input type, any string (such as `\"4\"`) or integer (such as `4`) input value will be accepted as an ID.",
    ),
    (
        "Int",
        "The `Int` scalar type represents non-fractional signed whole numeric values. Int can represent values between -(2^31) and 2^31 - 1.",
    ),
    (
        "Float",
        "The `Float` scalar type represents signed double-precision fractional values as specified by [IEEE 754](https://en.wikipedia.org/wiki/IEEE_floating_point).",
    ),
];

/// A type reference: a named type, possibly wrapped in lists and non-null markers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TypeRef {
    Named(String),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    fn from_ast(ty: &ast::Type<'_, String>) -> Self {
        match ty {
            ast::Type::NamedType(name) => Self::Named(name.clone()),
            ast::Type::ListType(inner) => Self::List(Box::new(Self::from_ast(inner))),
            ast::Type::NonNullType(inner) => Self::NonNull(Box::new(Self::from_ast(inner))),
        }
    }

    /// The named type at the core.
    pub(crate) fn named(&self) -> &str {
        match self {
            Self::Named(name) => name,
            Self::List(inner) | Self::NonNull(inner) => inner.named(),
        }
    }

    pub(crate) fn is_non_null(&self) -> bool {
        matches!(self, Self::NonNull(_))
    }
}

impl std::fmt::Display for TypeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Named(name) => f.write_str(name),
            Self::List(inner) => write!(f, "[{inner}]"),
            Self::NonNull(inner) => write!(f, "{inner}!"),
        }
    }
}

/// `__TypeKind` of a named type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    InputObject,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Scalar => "SCALAR",
            Self::Object => "OBJECT",
            Self::Interface => "INTERFACE",
            Self::Union => "UNION",
            Self::Enum => "ENUM",
            Self::InputObject => "INPUT_OBJECT",
        }
    }

    /// Object, interface or union: selections apply.
    pub(crate) fn is_composite(self) -> bool {
        matches!(self, Self::Object | Self::Interface | Self::Union)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct InputValueDef {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) ty: TypeRef,
    /// The default as GraphQL literal text (what `__InputValue.defaultValue` shows).
    pub(crate) default_value: Option<String>,
    /// The default as JSON, for argument coercion.
    pub(crate) default_json: Option<serde_json::Value>,
    pub(crate) deprecation: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct FieldDef {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) args: Vec<InputValueDef>,
    pub(crate) ty: TypeRef,
    pub(crate) deprecation: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct EnumValueDef {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) deprecation: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct TypeDef {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) description: Option<String>,
    pub(crate) fields: Vec<FieldDef>,
    pub(crate) interfaces: Vec<String>,
    pub(crate) possible_types: Vec<String>,
    pub(crate) enum_values: Vec<EnumValueDef>,
    pub(crate) input_fields: Vec<InputValueDef>,
    pub(crate) specified_by_url: Option<String>,
    pub(crate) one_of: bool,
}

impl TypeDef {
    fn new(name: &str, kind: Kind, description: Option<String>) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            description,
            fields: Vec::new(),
            interfaces: Vec::new(),
            possible_types: Vec::new(),
            enum_values: Vec::new(),
            input_fields: Vec::new(),
            specified_by_url: None,
            one_of: false,
        }
    }

    pub(crate) fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct DirectiveDef {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) locations: Vec<&'static str>,
    pub(crate) args: Vec<InputValueDef>,
    pub(crate) repeatable: bool,
}

/// A schema that is served: user types first (in SDL order), then the built-in scalars it
/// uses, then the introspection types.
#[derive(Debug, Clone)]
pub(crate) struct Schema {
    pub(crate) description: Option<String>,
    pub(crate) types: Vec<TypeDef>,
    index: HashMap<String, usize>,
    pub(crate) query_type: String,
    pub(crate) mutation_type: Option<String>,
    pub(crate) subscription_type: Option<String>,
    pub(crate) directives: Vec<DirectiveDef>,
    /// `__schema` and `__type`, which the query root has implicitly (spec §4.5.2).
    pub(crate) root_meta_fields: Vec<FieldDef>,
}

/// Why an SDL document cannot be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SchemaError(pub(crate) String);

impl Schema {
    /// Builds the schema from `sdl`.
    pub(crate) fn from_sdl(sdl: &str) -> Result<Self, SchemaError> {
        let user = ast::parse_schema::<String>(sdl)
            .map_err(|e| SchemaError(format!("the SDL does not parse: {e}")))?;
        let meta = ast::parse_schema::<String>(META_SDL)
            .map_err(|e| SchemaError(format!("the introspection SDL does not parse: {e}")))?;

        let mut types: Vec<TypeDef> = Vec::new();
        let mut directives = Vec::new();
        let mut roots = (None, None, None);
        let mut extensions = Vec::new();
        for definition in &user.definitions {
            match definition {
                Definition::SchemaDefinition(schema) => {
                    roots = (
                        schema.query.clone(),
                        schema.mutation.clone(),
                        schema.subscription.clone(),
                    );
                }
                Definition::TypeDefinition(def) => types.push(type_def(def)),
                Definition::TypeExtension(ext) => extensions.push(ext),
                Definition::DirectiveDefinition(def) => directives.push(directive_def(def)),
            }
        }
        for ext in extensions {
            apply_extension(&mut types, ext)?;
        }
        let mut meta_types = Vec::new();
        let mut builtin_directives = Vec::new();
        for definition in &meta.definitions {
            match definition {
                Definition::TypeDefinition(def) => meta_types.push(type_def(def)),
                Definition::DirectiveDefinition(def) => builtin_directives.push(directive_def(def)),
                _ => {}
            }
        }
        builtin_directives.extend(directives);
        let directives = builtin_directives;

        // Built-in scalars are listed when something refers to them (as graphql-js does);
        // String and Boolean always are, by the introspection types.
        let mut referenced = BTreeSet::new();
        for ty in types.iter().chain(&meta_types) {
            for field in &ty.fields {
                referenced.insert(field.ty.named().to_owned());
                referenced.extend(field.args.iter().map(|a| a.ty.named().to_owned()));
            }
            referenced.extend(ty.input_fields.iter().map(|a| a.ty.named().to_owned()));
        }
        for directive in &directives {
            referenced.extend(directive.args.iter().map(|a| a.ty.named().to_owned()));
        }
        for (name, description) in BUILTIN_SCALARS {
            if referenced.contains(name) && !types.iter().any(|t| t.name == name) {
                types.push(TypeDef::new(
                    name,
                    Kind::Scalar,
                    Some(description.to_owned()),
                ));
            }
        }
        types.extend(meta_types);

        let index: HashMap<String, usize> = types
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.clone(), i))
            .collect();
        if index.len() != types.len() {
            return Err(SchemaError("a type is defined twice".to_owned()));
        }
        // Unions' and interfaces' possible types.
        let implementations: Vec<(usize, String)> = types
            .iter()
            .flat_map(|t| {
                t.interfaces
                    .iter()
                    .filter_map(|i| index.get(i).map(|&at| (at, t.name.clone())))
                    .filter(|_| t.kind == Kind::Object)
                    .collect::<Vec<_>>()
            })
            .collect();
        for (at, name) in implementations {
            types[at].possible_types.push(name);
        }

        let or_default = |given: Option<String>, default: &str| {
            given.or_else(|| index.contains_key(default).then(|| default.to_owned()))
        };
        let query_type = or_default(roots.0, "Query")
            .ok_or_else(|| SchemaError("the schema has no query type".to_owned()))?;
        let mutation_type = or_default(roots.1, "Mutation");
        let subscription_type = or_default(roots.2, "Subscription");
        let schema = Self {
            description: None,
            types,
            index,
            mutation_type,
            subscription_type,
            query_type,
            directives,
            root_meta_fields: root_meta_fields(),
        };
        schema.check_references()?;
        Ok(schema)
    }

    fn check_references(&self) -> Result<(), SchemaError> {
        let missing = |name: &str| SchemaError(format!("unknown type `{name}`"));
        for root in [
            Some(&self.query_type),
            self.mutation_type.as_ref(),
            self.subscription_type.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            if self.get(root).map(|t| t.kind) != Some(Kind::Object) {
                return Err(SchemaError(format!(
                    "root type `{root}` is not an object type"
                )));
            }
        }
        for ty in &self.types {
            let mut refs: Vec<&str> = Vec::new();
            for field in &ty.fields {
                refs.push(field.ty.named());
                refs.extend(field.args.iter().map(|a| a.ty.named()));
            }
            refs.extend(ty.input_fields.iter().map(|a| a.ty.named()));
            refs.extend(ty.interfaces.iter().map(String::as_str));
            refs.extend(ty.possible_types.iter().map(String::as_str));
            if let Some(name) = refs.into_iter().find(|name| self.get(name).is_none()) {
                return Err(missing(name));
            }
        }
        Ok(())
    }

    pub(crate) fn get(&self, name: &str) -> Option<&TypeDef> {
        self.index.get(name).map(|&i| &self.types[i])
    }

    /// The definition of `type_name.field_name`, including the query root's meta fields.
    pub(crate) fn field(&self, type_name: &str, field_name: &str) -> Option<&FieldDef> {
        if type_name == self.query_type
            && let Some(meta) = self.root_meta_fields.iter().find(|f| f.name == field_name)
        {
            return Some(meta);
        }
        self.get(type_name)?.field(field_name)
    }

    pub(crate) fn directive(&self, name: &str) -> Option<&DirectiveDef> {
        self.directives.iter().find(|d| d.name == name)
    }

    /// Whether an object of type `object` is also of type `condition`.
    pub(crate) fn type_applies(&self, condition: &str, object: &str) -> bool {
        condition == object
            || self
                .get(condition)
                .is_some_and(|t| t.possible_types.iter().any(|p| p == object))
    }

    /// The object types a value of type `name` can have at run time.
    pub(crate) fn possible_objects(&self, name: &str) -> Vec<&str> {
        match self.get(name) {
            Some(t) if t.kind == Kind::Object => vec![t.name.as_str()],
            Some(t) => t.possible_types.iter().map(String::as_str).collect(),
            None => Vec::new(),
        }
    }
}

fn root_meta_fields() -> Vec<FieldDef> {
    let named = |name: &str| TypeRef::Named(name.to_owned());
    let non_null = |ty: TypeRef| TypeRef::NonNull(Box::new(ty));
    vec![
        FieldDef {
            name: "__schema".to_owned(),
            description: Some("Access the current type schema of this server.".to_owned()),
            args: Vec::new(),
            ty: non_null(named("__Schema")),
            deprecation: None,
        },
        FieldDef {
            name: "__type".to_owned(),
            description: Some("Request the type information of a single type.".to_owned()),
            args: vec![InputValueDef {
                name: "name".to_owned(),
                description: None,
                ty: non_null(named("String")),
                default_value: None,
                default_json: None,
                deprecation: None,
            }],
            ty: named("__Type"),
            deprecation: None,
        },
    ]
}

fn directive_argument<'d, 'a>(
    directives: &'d [Directive<'a, String>],
    directive: &str,
    argument: &str,
) -> Option<Option<&'d ast::Value<'a, String>>> {
    let found = directives.iter().find(|d| d.name == directive)?;
    Some(
        found
            .arguments
            .iter()
            .find(|(name, _)| name == argument)
            .map(|(_, value)| value),
    )
}

/// `@deprecated(reason:)`, with the spec's default reason.
fn deprecation(directives: &[Directive<'_, String>]) -> Option<String> {
    directive_argument(directives, "deprecated", "reason").map(|reason| match reason {
        Some(ast::Value::String(reason)) => reason.clone(),
        _ => "No longer supported".to_owned(),
    })
}

fn input_value(value: &ast::InputValue<'_, String>) -> InputValueDef {
    InputValueDef {
        name: value.name.clone(),
        description: value.description.clone(),
        ty: TypeRef::from_ast(&value.value_type),
        default_value: value.default_value.as_ref().map(ToString::to_string),
        default_json: value.default_value.as_ref().map(literal_to_json),
        deprecation: deprecation(&value.directives),
    }
}

/// A constant literal as JSON (defaults have no variables; one would read as null).
pub(crate) fn literal_to_json(value: &ast::Value<'_, String>) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        ast::Value::Variable(_) | ast::Value::Null => Json::Null,
        ast::Value::Int(n) => n.as_i64().map_or(Json::Null, Json::from),
        ast::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        ast::Value::String(s) => Json::String(s.clone()),
        ast::Value::Boolean(b) => Json::Bool(*b),
        ast::Value::Enum(e) => Json::String(e.clone()),
        ast::Value::List(items) => Json::Array(items.iter().map(literal_to_json).collect()),
        ast::Value::Object(fields) => Json::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), literal_to_json(v)))
                .collect(),
        ),
    }
}

fn field_def(field: &ast::Field<'_, String>) -> FieldDef {
    FieldDef {
        name: field.name.clone(),
        description: field.description.clone(),
        args: field.arguments.iter().map(input_value).collect(),
        ty: TypeRef::from_ast(&field.field_type),
        deprecation: deprecation(&field.directives),
    }
}

fn type_def(def: &TypeDefinition<'_, String>) -> TypeDef {
    match def {
        TypeDefinition::Scalar(s) => {
            let mut t = TypeDef::new(&s.name, Kind::Scalar, s.description.clone());
            if let Some(Some(ast::Value::String(url))) =
                directive_argument(&s.directives, "specifiedBy", "url")
            {
                t.specified_by_url = Some(url.clone());
            }
            t
        }
        TypeDefinition::Object(o) => {
            let mut t = TypeDef::new(&o.name, Kind::Object, o.description.clone());
            t.fields = o.fields.iter().map(field_def).collect();
            t.interfaces = o.implements_interfaces.clone();
            t
        }
        TypeDefinition::Interface(i) => {
            let mut t = TypeDef::new(&i.name, Kind::Interface, i.description.clone());
            t.fields = i.fields.iter().map(field_def).collect();
            t.interfaces = i.implements_interfaces.clone();
            t
        }
        TypeDefinition::Union(u) => {
            let mut t = TypeDef::new(&u.name, Kind::Union, u.description.clone());
            t.possible_types = u.types.clone();
            t
        }
        TypeDefinition::Enum(e) => {
            let mut t = TypeDef::new(&e.name, Kind::Enum, e.description.clone());
            t.enum_values = e
                .values
                .iter()
                .map(|v| EnumValueDef {
                    name: v.name.clone(),
                    description: v.description.clone(),
                    deprecation: deprecation(&v.directives),
                })
                .collect();
            t
        }
        TypeDefinition::InputObject(i) => {
            let mut t = TypeDef::new(&i.name, Kind::InputObject, i.description.clone());
            t.input_fields = i.fields.iter().map(input_value).collect();
            t.one_of = i.directives.iter().any(|d| d.name == "oneOf");
            t
        }
    }
}

fn apply_extension(
    types: &mut [TypeDef],
    ext: &TypeExtension<'_, String>,
) -> Result<(), SchemaError> {
    let (name, fields, interfaces) = match ext {
        TypeExtension::Object(o) => (&o.name, &o.fields, &o.implements_interfaces),
        TypeExtension::Interface(i) => (&i.name, &i.fields, &i.implements_interfaces),
        _ => {
            return Err(SchemaError(
                "only object and interface extensions are supported".to_owned(),
            ));
        }
    };
    let target = types
        .iter_mut()
        .find(|t| &t.name == name)
        .ok_or_else(|| SchemaError(format!("extension of unknown type `{name}`")))?;
    target.fields.extend(fields.iter().map(field_def));
    target.interfaces.extend(interfaces.iter().cloned());
    Ok(())
}

fn directive_def(def: &ast::DirectiveDefinition<'_, String>) -> DirectiveDef {
    DirectiveDef {
        name: def.name.clone(),
        description: def.description.clone(),
        locations: def.locations.iter().map(location_name).collect(),
        args: def.arguments.iter().map(input_value).collect(),
        repeatable: def.repeatable,
    }
}

fn location_name(location: &DirectiveLocation) -> &'static str {
    match location {
        DirectiveLocation::Query => "QUERY",
        DirectiveLocation::Mutation => "MUTATION",
        DirectiveLocation::Subscription => "SUBSCRIPTION",
        DirectiveLocation::Field => "FIELD",
        DirectiveLocation::FragmentDefinition => "FRAGMENT_DEFINITION",
        DirectiveLocation::FragmentSpread => "FRAGMENT_SPREAD",
        DirectiveLocation::InlineFragment => "INLINE_FRAGMENT",
        DirectiveLocation::VariableDefinition => "VARIABLE_DEFINITION",
        DirectiveLocation::Schema => "SCHEMA",
        DirectiveLocation::Scalar => "SCALAR",
        DirectiveLocation::Object => "OBJECT",
        DirectiveLocation::FieldDefinition => "FIELD_DEFINITION",
        DirectiveLocation::ArgumentDefinition => "ARGUMENT_DEFINITION",
        DirectiveLocation::Interface => "INTERFACE",
        DirectiveLocation::Union => "UNION",
        DirectiveLocation::Enum => "ENUM",
        DirectiveLocation::EnumValue => "ENUM_VALUE",
        DirectiveLocation::InputObject => "INPUT_OBJECT",
        DirectiveLocation::InputFieldDefinition => "INPUT_FIELD_DEFINITION",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = r#"
        "The root."
        type Query {
          me: User
          old: String @deprecated(reason: "use me")
        }
        type User implements Node { id: ID! }
        interface Node { id: ID! }
    "#;

    #[test]
    fn builds_user_types_then_used_scalars_then_introspection_types() {
        let schema = Schema::from_sdl(SDL).unwrap();
        let names: Vec<&str> = schema.types.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            &names[..6],
            ["Query", "User", "Node", "String", "Boolean", "ID"]
        );
        assert!(names.contains(&"__Schema") && names.contains(&"__DirectiveLocation"));
        assert!(!names.contains(&"Int"));
        assert_eq!(schema.query_type, "Query");
        assert_eq!(schema.mutation_type, None);
        assert_eq!(schema.get("Node").unwrap().possible_types, ["User"]);
        assert!(schema.type_applies("Node", "User"));
        let old = schema.field("Query", "old").unwrap();
        assert_eq!(old.deprecation.as_deref(), Some("use me"));
        assert!(schema.field("Query", "__schema").is_some());
        assert!(schema.field("User", "__schema").is_none());
        let deprecated = schema.directive("deprecated").unwrap();
        assert_eq!(
            deprecated.args[0].default_value.as_deref(),
            Some("\"No longer supported\"")
        );
    }

    #[test]
    fn refuses_broken_schemas() {
        for sdl in [
            "type Query { me: Missing }",
            "type Nope { a: String }",
            "type Query { a: String } type Query { b: String }",
            "type Query {",
            "schema { query: Q } scalar Q",
        ] {
            assert!(Schema::from_sdl(sdl).is_err(), "{sdl}");
        }
    }
}
