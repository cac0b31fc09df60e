//! Reading and writing the API's JSON values the way the API actually sends them.
//!
//! Clients disagree on the types of some members (reference §2b): ids arrive as numbers
//! or numeric strings, booleans as `true` or `"true"`, and a member may be `null`, `""`
//! or absent. Every modelled member is therefore read leniently into [`Lenient`]: a value
//! of the expected type, an explicit `null`, or, when the type is unexpected, the raw
//! JSON value, which the model keeps in its `extra` map so that nothing is lost.
//!
//! Serializing gives back every member and every value, but not always the same JSON:
//! a leniently read value is written in its expected type (`"8890"` becomes `8890`,
//! `"true"` becomes `true`).
//!
//! Models are declared with `api_object!`, which writes a hand-rolled `Deserialize` (one
//! pass over the object, borrowed keys, no intermediate buffering as `#[serde(flatten)]`
//! would need) and a `Serialize` that emits known members, then the unknown ones.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use jiff::civil::{Date, DateTime};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeSeq, Serializer};
use serde_json::Value;

/// One member as read: a value of the expected type, `null`, or a value of another type
/// kept as sent.
#[derive(Debug)]
pub(crate) enum Lenient<T> {
    Null,
    Value(T),
    Raw(Value),
}

/// A type a member can be read into, from whichever JSON forms the API uses for it.
pub(crate) trait FromWire: Sized {
    fn from_str(_s: &str) -> Option<Self> {
        None
    }
    fn from_string(s: String) -> Result<Self, String> {
        Self::from_str(&s).ok_or(s)
    }
    fn from_u64(_n: u64) -> Option<Self> {
        None
    }
    fn from_i64(_n: i64) -> Option<Self> {
        None
    }
    fn from_f64(_n: f64) -> Option<Self> {
        None
    }
    fn from_bool(_b: bool) -> Option<Self> {
        None
    }
    /// Arrays and objects.
    fn from_value(v: Value) -> Result<Self, Value> {
        Err(v)
    }
    /// Writes the value back in the API's canonical form.
    fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>;
}

impl FromWire for u64 {
    // Ids and counts: a number, or a string of digits (CP stores ids as varchar; TL
    // compares `== "9967180"`).
    fn from_str(s: &str) -> Option<Self> {
        let t = s.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    }
    fn from_u64(n: u64) -> Option<Self> {
        Some(n)
    }
    fn from_f64(n: f64) -> Option<Self> {
        // `12.0` is an integer; `12.5` is not and is kept raw.
        (n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n < 9.0e15).then_some(n as u64)
    }
    fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(*self)
    }
}

impl FromWire for String {
    fn from_str(s: &str) -> Option<Self> {
        Some(s.to_owned())
    }
    fn from_string(s: String) -> Result<Self, String> {
        Ok(s)
    }
    fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }
}

impl FromWire for bool {
    // DS compares `registration` to the string "true"; TL compares
    // `thirdPartyRegistration` both ways (reference §2b).
    fn from_str(s: &str) -> Option<Self> {
        match s.trim() {
            t if t.eq_ignore_ascii_case("true") => Some(true),
            t if t.eq_ignore_ascii_case("false") => Some(false),
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        }
    }
    fn from_u64(n: u64) -> Option<Self> {
        match n {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
    fn from_bool(b: bool) -> Option<Self> {
        Some(b)
    }
    fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bool(*self)
    }
}

impl FromWire for DateTime {
    fn from_str(s: &str) -> Option<Self> {
        parse_local_datetime(s)
    }
    fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&LocalDateTime(*self))
    }
}

impl FromWire for Vec<String> {
    fn from_value(v: Value) -> Result<Self, Value> {
        match v {
            Value::Array(items) if items.iter().all(Value::is_string) => Ok(items
                .into_iter()
                .filter_map(|item| match item {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .collect()),
            other => Err(other),
        }
    }
    fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for item in self {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

impl FromWire for Value {
    fn from_str(s: &str) -> Option<Self> {
        Some(Value::String(s.to_owned()))
    }
    fn from_string(s: String) -> Result<Self, String> {
        Ok(Value::String(s))
    }
    fn from_u64(n: u64) -> Option<Self> {
        Some(Value::from(n))
    }
    fn from_i64(n: i64) -> Option<Self> {
        Some(Value::from(n))
    }
    fn from_f64(n: f64) -> Option<Self> {
        serde_json::Number::from_f64(n).map(Value::Number)
    }
    fn from_bool(b: bool) -> Option<Self> {
        Some(Value::Bool(b))
    }
    fn from_value(v: Value) -> Result<Self, Value> {
        Ok(v)
    }
    fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize(serializer)
    }
}

/// Serializes a modelled value in its wire form.
pub(crate) struct WireRef<'a, T>(pub(crate) &'a T);

impl<T: FromWire> Serialize for WireRef<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.write(serializer)
    }
}

impl<'de, T: FromWire> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LenientVisitor(PhantomData))
    }
}

struct LenientVisitor<T>(PhantomData<T>);

impl<T> LenientVisitor<T> {
    fn pick(value: Option<T>, raw: impl FnOnce() -> Value) -> Lenient<T> {
        match value {
            Some(v) => Lenient::Value(v),
            None => Lenient::Raw(raw()),
        }
    }
}

impl<'de, T: FromWire> Visitor<'de> for LenientVisitor<T> {
    type Value = Lenient<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Lenient::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Lenient::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Self::pick(T::from_bool(v), || Value::Bool(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Self::pick(T::from_u64(v), || Value::from(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        if let Ok(u) = u64::try_from(v) {
            return self.visit_u64(u);
        }
        Ok(Self::pick(T::from_i64(v), || Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Self::pick(T::from_f64(v), || {
            serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
        }))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Self::pick(T::from_str(v), || Value::String(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(match T::from_string(v) {
            Ok(t) => Lenient::Value(t),
            Err(s) => Lenient::Raw(Value::String(s)),
        })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let v = Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(match T::from_value(v) {
            Ok(t) => Lenient::Value(t),
            Err(raw) => Lenient::Raw(raw),
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let v = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(match T::from_value(v) {
            Ok(t) => Lenient::Value(t),
            Err(raw) => Lenient::Raw(raw),
        })
    }
}

/// An object key, borrowed from the input when it has no escapes.
pub(crate) struct Key<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Parses the API's naive local date-time, exactly `YYYY-MM-DD HH:MM:SS` (reference
/// §2b: library-local wall time, no offset). Anything else (another layout, an
/// impossible date such as MySQL's `0000-00-00 00:00:00`) is `None`, and the caller keeps
/// the raw text.
pub fn parse_local_datetime(s: &str) -> Option<DateTime> {
    let b = s.as_bytes();
    if b.len() != 19 || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let date = parse_date_bytes(&b[..10])?;
    let hour = two_digits(&b[11..13])?;
    let minute = two_digits(&b[14..16])?;
    let second = two_digits(&b[17..19])?;
    let time = jiff::civil::Time::new(hour, minute, second, 0).ok()?;
    Some(date.to_datetime(time))
}

/// Parses a calendar date, exactly `YYYY-MM-DD`, rejecting impossible dates
/// (`2016-11-31`, which the vendor's own documentation uses).
pub(crate) fn parse_date(s: &str) -> Option<Date> {
    parse_date_bytes(s.as_bytes())
}

fn parse_date_bytes(b: &[u8]) -> Option<Date> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i16::from(two_digits(&b[0..2])?) * 100 + i16::from(two_digits(&b[2..4])?);
    Date::new(year, two_digits(&b[5..7])?, two_digits(&b[8..10])?).ok()
}

fn two_digits(b: &[u8]) -> Option<i8> {
    match b {
        [t @ b'0'..=b'9', u @ b'0'..=b'9'] => Some(((t - b'0') * 10 + (u - b'0')) as i8),
        _ => None,
    }
}

/// Displays a date-time in the API's `YYYY-MM-DD HH:MM:SS` layout.
#[derive(Debug, Clone, Copy)]
pub struct LocalDateTime(pub DateTime);

impl fmt::Display for LocalDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            d.year(),
            d.month(),
            d.day(),
            d.hour(),
            d.minute(),
            d.second()
        )
    }
}

/// Displays a date in the API's `YYYY-MM-DD` layout (zero-padded, unlike CP's calendar,
/// which sends `2023-06-5`).
pub(crate) struct IsoDate(pub(crate) Date);

impl fmt::Display for IsoDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            self.0.month(),
            self.0.day()
        )
    }
}

/// The position of `name` in `fields`, at compile time (at most 64 members per object).
pub(crate) const fn index_of(fields: &[&str], name: &str) -> usize {
    let mut i = 0;
    while i < fields.len() {
        let (a, b) = (fields[i].as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                assert!(i < 64, "an api_object! has at most 64 members");
                return i;
            }
        }
        i += 1;
    }
    panic!("a member name missing from FIELDS")
}

/// Declares an API object: every member optional, read leniently, unknown members and
/// values of unexpected types kept in `extra`, explicit `null`s remembered so that they
/// are written back as `null` and absent members stay absent.
macro_rules! api_object {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $json:literal => $field:ident : $ty:ty,
            )*
        }
        $(bare_string => $bare:ident;)?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default)]
        #[non_exhaustive]
        pub struct $name {
            $(
                $(#[$fmeta])*
                pub $field: Option<$ty>,
            )*
            /// Members this crate does not model, and members whose value had a type this
            /// crate did not expect, exactly as sent.
            pub extra: serde_json::Map<String, serde_json::Value>,
            // Modelled members the server sent as an explicit `null`, one bit per member
            // in `FIELDS` order (no allocation per object).
            nulls: u64,
            // The entry was a bare string rather than an object.
            bare: bool,
        }

        impl $name {
            /// The API's names of the members this type models, in declaration order.
            pub const FIELDS: &'static [&'static str] = &[$($json),*];

            /// Whether the server sent the member `json_name` as an explicit `null`
            /// (as opposed to leaving it out, which it does for optional fields not asked
            /// for in `fields`).
            pub fn was_null(&self, json_name: &str) -> bool {
                Self::FIELDS
                    .iter()
                    .position(|f| *f == json_name)
                    .is_some_and(|i| self.nulls & (1u64 << i) != 0)
                    || self.extra.get(json_name).is_some_and(serde_json::Value::is_null)
            }

            fn is_set(&self, json_name: &str) -> bool {
                match json_name {
                    $($json => self.$field.is_some(),)*
                    _ => false,
                }
            }

            // Used only by types that can arrive as a bare string.
            #[allow(dead_code)]
            fn count_set(&self) -> usize {
                0 $(+ usize::from(self.$field.is_some()))*
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct ObjectVisitor;
                impl<'de> serde::de::Visitor<'de> for ObjectVisitor {
                    type Value = $name;

                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " object"))
                    }

                    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                        use $crate::wire::{Key, Lenient};
                        let mut out = $name::default();
                        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                            match key.as_ref() {
                                $(
                                    $json => match map.next_value::<Lenient<$ty>>()? {
                                        Lenient::Value(v) => out.$field = Some(v),
                                        Lenient::Null => {
                                            out.nulls |= 1u64 << const { $crate::wire::index_of($name::FIELDS, $json) };
                                        }
                                        Lenient::Raw(raw) => {
                                            out.extra.insert(key.into_owned(), raw);
                                        }
                                    },
                                )*
                                _ => {
                                    let value = map.next_value::<serde_json::Value>()?;
                                    out.extra.insert(key.into_owned(), value);
                                }
                            }
                        }
                        Ok(out)
                    }

                    $(
                        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                            let mut out = $name::default();
                            out.$bare = Some(v.to_owned());
                            out.bare = true;
                            Ok(out)
                        }
                    )?
                }
                deserializer.deserialize_any(ObjectVisitor)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                use $crate::wire::WireRef;
                $(
                    if self.bare && self.extra.is_empty() && self.nulls == 0 && self.count_set() == 1 {
                        if let Some(v) = &self.$bare {
                            return serializer.serialize_str(v);
                        }
                    }
                )?
                let mut map = serializer.serialize_map(None)?;
                $(
                    match &self.$field {
                        Some(v) => map.serialize_entry($json, &WireRef(v))?,
                        None if self.nulls & (1u64 << const { $crate::wire::index_of($name::FIELDS, $json) }) != 0
                            && !self.extra.contains_key($json) =>
                        {
                            map.serialize_entry($json, &())?
                        }
                        None => {}
                    }
                )*
                for (key, value) in &self.extra {
                    if !self.is_set(key) {
                        map.serialize_entry(key, value)?;
                    }
                }
                map.end()
            }
        }
    };
}

pub(crate) use api_object;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_datetimes_parse_exactly() {
        let dt = parse_local_datetime("2016-11-10 09:00:00").unwrap();
        assert_eq!(LocalDateTime(dt).to_string(), "2016-11-10 09:00:00");
        for bad in [
            "2016-11-31 09:00:00",
            "0000-00-00 00:00:00",
            "2016-11-10T09:00:00",
            "2016-11-10 9:00:00",
            "2016-11-10 24:00:00",
            "2016-11-10 09:00",
            "",
            "2016-11-10 09:00:00Z",
        ] {
            assert_eq!(parse_local_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_reject_impossible_days() {
        assert!(parse_date("2024-02-29").is_some());
        for bad in [
            "2016-11-31",
            "2023-02-29",
            "2023-06-5",
            "2023-13-01",
            "20230601",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(
            IsoDate(parse_date("0999-01-02").unwrap()).to_string(),
            "0999-01-02"
        );
    }

    fn read<T: FromWire>(json: &str) -> Lenient<T> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn ids_are_numbers_or_numeric_strings() {
        assert!(matches!(read::<u64>("8890"), Lenient::Value(8890)));
        assert!(matches!(
            read::<u64>("\"9967180\""),
            Lenient::Value(9967180)
        ));
        assert!(matches!(read::<u64>("12.0"), Lenient::Value(12)));
        assert!(matches!(read::<u64>("null"), Lenient::Null));
        assert!(matches!(read::<u64>("\"\""), Lenient::Raw(Value::String(s)) if s.is_empty()));
        assert!(matches!(read::<u64>("-3"), Lenient::Raw(_)));
        assert!(matches!(read::<u64>("\"12a\""), Lenient::Raw(_)));
        assert!(matches!(read::<u64>("[1]"), Lenient::Raw(Value::Array(_))));
    }

    #[test]
    fn booleans_are_booleans_or_their_spelling() {
        for (json, want) in [
            ("true", true),
            ("\"true\"", true),
            ("\"False\"", false),
            ("0", false),
            ("\"1\"", true),
        ] {
            assert!(
                matches!(read::<bool>(json), Lenient::Value(b) if b == want),
                "{json}"
            );
        }
        assert!(matches!(read::<bool>("\"yes\""), Lenient::Raw(_)));
    }

    #[test]
    fn string_lists_keep_odd_shapes_raw() {
        assert!(
            matches!(read::<Vec<String>>(r#"["a","b"]"#), Lenient::Value(v) if v == ["a", "b"])
        );
        assert!(matches!(read::<Vec<String>>(r#"["a",1]"#), Lenient::Raw(_)));
        assert!(matches!(read::<Vec<String>>(r#""a, b""#), Lenient::Raw(_)));
    }
}
