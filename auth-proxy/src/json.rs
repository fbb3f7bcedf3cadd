//! A strict JSON value for token headers and claims.
//!
//! serde_json accepts an object with the same key twice and keeps the last one; two
//! parsers that disagree on which one wins are the classic way to smuggle a second `sub`
//! or `alg` past a validator. [`Json`] is parsed by serde_json (so the grammar, UTF-8 and
//! escape handling are serde_json's) but its object visitor refuses a repeated key at any
//! depth, comparing keys after unescaping.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// Objects keep their keys in order; lookups are linear, which is faster than hashing for
/// the handful of keys a JWT has.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// Above this many keys an object switches from a linear duplicate scan to a set.
const LINEAR_SCAN_MAX: usize = 16;

// === impl Json ===

impl Json {
    /// Parses one JSON document, refusing duplicate keys and trailing data.
    pub fn parse(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The members of an object, `None` for any other value.
    pub fn as_object(&self) -> Option<&[(String, Json)]> {
        match self {
            Json::Object(members) => Some(members),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// Only a JSON integer that fits `u64` (not `1.5`, not `1e9`, not `"1"`).
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Number(n) => n.as_u64(),
            _ => None,
        }
    }
}

/// The value of `key` in an object's members.
pub fn get<'a>(members: &'a [(String, Json)], key: &str) -> Option<&'a Json> {
    members.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        serde_json::Number::from_f64(v)
            .map(Json::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element::<Json>()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members: Vec<(String, Json)> = Vec::new();
        let mut seen: Option<HashSet<String>> = None;
        while let Some(key) = map.next_key::<String>()? {
            let duplicate = match &mut seen {
                Some(set) => !set.insert(key.clone()),
                None => {
                    let dup = members.iter().any(|(k, _)| *k == key);
                    if !dup && members.len() >= LINEAR_SCAN_MAX {
                        let mut set: HashSet<String> =
                            members.iter().map(|(k, _)| k.clone()).collect();
                        set.insert(key.clone());
                        seen = Some(set);
                    }
                    dup
                }
            };
            if duplicate {
                return Err(de::Error::custom("duplicate key in JSON object"));
            }
            let value = map.next_value::<Json>()?;
            members.push((key, value));
        }
        Ok(Json::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_nested_values() {
        let v = Json::parse(br#"{"a":[1,"x",{"b":null}],"c":true,"d":-3}"#).expect("valid");
        let members = v.as_object().expect("object");
        assert_eq!(members.len(), 3);
        assert_eq!(get(members, "c"), Some(&Json::Bool(true)));
        assert_eq!(get(members, "d").and_then(Json::as_u64), None);
    }

    #[test]
    fn refuses_duplicate_top_level_keys() {
        assert!(Json::parse(br#"{"sub":"1","sub":"2"}"#).is_err());
    }

    #[test]
    fn refuses_duplicate_keys_at_any_depth() {
        assert!(Json::parse(br#"{"a":{"b":1,"b":2}}"#).is_err());
        assert!(Json::parse(br#"{"a":[{"x":1},{"y":1,"y":1}]}"#).is_err());
    }

    #[test]
    fn refuses_duplicates_spelled_with_escapes() {
        assert!(Json::parse(br#"{"sub":"1","\u0073ub":"2"}"#).is_err());
    }

    #[test]
    fn refuses_duplicates_in_large_objects() {
        let mut text = String::from("{");
        for i in 0..40 {
            text.push_str(&format!("\"k{i}\":{i},"));
        }
        text.push_str("\"k3\":0}");
        assert!(Json::parse(text.as_bytes()).is_err());
        let ok = text.replace("\"k3\":0}", "\"k99\":0}");
        assert!(Json::parse(ok.as_bytes()).is_ok());
    }

    #[test]
    fn refuses_trailing_data_and_bad_utf8() {
        assert!(Json::parse(br#"{"a":1} x"#).is_err());
        assert!(Json::parse(b"{\"a\":\"\xff\"}").is_err());
        assert!(Json::parse(br#"{"a":"\ud800"}"#).is_err());
    }

    #[test]
    fn integers_only_for_u64() {
        assert_eq!(Json::parse(b"17").expect("n").as_u64(), Some(17));
        assert_eq!(Json::parse(b"1.5").expect("n").as_u64(), None);
        assert_eq!(Json::parse(b"1e3").expect("n").as_u64(), None);
        assert_eq!(Json::parse(b"\"17\"").expect("s").as_u64(), None);
    }

    proptest! {
        #[test]
        fn agrees_with_serde_json_on_objects_without_duplicates(
            keys in proptest::collection::hash_set("[a-z]{1,4}", 0..30),
        ) {
            let map: serde_json::Map<String, serde_json::Value> =
                keys.iter().map(|k| (k.clone(), serde_json::Value::from(k.len()))).collect();
            let text = serde_json::to_vec(&map).expect("serialise");
            let parsed = Json::parse(&text).expect("no duplicates");
            prop_assert_eq!(parsed.as_object().map(<[_]>::len), Some(keys.len()));
        }
    }
}
