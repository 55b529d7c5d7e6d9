//! A model version's tags (what training wrote: `platform::tags`), held as a list of exactly
//! their length.
//!
//! A `BTreeMap<String, String>` of the eight tags training writes is one B-tree node with room
//! for eleven entries (540 bytes) and sixteen allocations of text; a refresh of 20,000 circuits
//! holds some 60,000 model versions, 33 MB of tag nodes alone (docs/PERFORMANCE.md, fourth
//! pass). [`ModelTags`] is a sorted slice: the keys training writes are static text, each
//! value one allocation. It reads, compares and serializes as the map it replaces (serde: the
//! same map, keys in order; the JSON documents and the model book cache are unchanged).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::platform::tags;

/// The keys training writes: held as static text rather than an allocation each.
const KNOWN: [&str; 8] = [
    tags::TRAINING_HASH,
    tags::PLANT_ID,
    tags::CIRCUIT_ID,
    tags::CUTOFF_DATE,
    tags::DELTA_VERSION,
    tags::PIPELINE_COMPONENT_VERSION,
    tags::GIT_COMMIT,
    tags::BUILD_ID,
];

/// Tags sorted by key, each key once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelTags(Box<[(Cow<'static, str>, Box<str>)]>);

impl ModelTags {
    /// The value of `key`, if tagged.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .binary_search_by(|(k, _)| k.as_ref().cmp(key))
            .ok()
            .map(|i| &*self.0[i].1)
    }

    /// Every tag, by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn key(k: String) -> Cow<'static, str> {
    match KNOWN.iter().find(|known| **known == k) {
        Some(known) => Cow::Borrowed(known),
        None => Cow::Owned(k),
    }
}

impl From<BTreeMap<String, String>> for ModelTags {
    fn from(map: BTreeMap<String, String>) -> Self {
        ModelTags(
            map.into_iter()
                .map(|(k, v)| (key(k), v.into_boxed_str()))
                .collect(),
        )
    }
}

/// As a map collects: sorted by key, a repeated key's last value kept.
impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for ModelTags {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        iter.into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect::<BTreeMap<String, String>>()
            .into()
    }
}

impl Serialize for ModelTags {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for ModelTags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BTreeMap::<String, String>::deserialize(d).map(ModelTags::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> BTreeMap<String, String> {
        [
            ("training_hash", "3485eef10695"),
            ("plant_id", "PLANT001"),
            ("zz_custom", "x"),
            ("build_id", "42"),
            ("git_commit", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn reads_every_tag_by_key_as_the_map_did() {
        let m = map();
        let t = ModelTags::from(m.clone());
        assert_eq!(t.len(), m.len());
        for (k, v) in &m {
            assert_eq!(t.get(k), Some(v.as_str()), "{k}");
        }
        assert_eq!(t.get("cutoff_date"), None);
        assert_eq!(t.get(""), None);
        assert_eq!(
            t.iter().collect::<Vec<_>>(),
            m.iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn the_keys_training_writes_hold_no_allocation() {
        let t = ModelTags::from(map());
        for (k, _) in t.0.iter() {
            assert_eq!(
                matches!(k, Cow::Borrowed(_)),
                k != "zz_custom",
                "{k}: only an unknown key is owned"
            );
        }
    }

    #[test]
    fn collected_as_a_map_collects_the_last_value_wins() {
        let t: ModelTags = [("b", "1"), ("a", "2"), ("b", "3")].into_iter().collect();
        assert_eq!(t.iter().collect::<Vec<_>>(), [("a", "2"), ("b", "3")]);
    }

    #[test]
    fn serializes_to_the_same_bytes_as_the_map() {
        let m = map();
        let t = ModelTags::from(m.clone());
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            serde_json::to_string(&m).unwrap()
        );
        let bytes = postcard::to_stdvec(&t).unwrap();
        assert_eq!(bytes, postcard::to_stdvec(&m).unwrap());
        assert_eq!(postcard::from_bytes::<ModelTags>(&bytes).unwrap(), t);
        let back: ModelTags = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, t);
    }
}
