//! A name the platform gives a thing (a person's id and sign-in name, a release's or a stage's
//! name), held once however many records carry it.
//!
//! A fleet's release history names a handful of people and three stages tens of thousands of
//! times: every approval names its approver, who decided it, its release and its stage; every
//! deployment attempt who asked for it. With owned `String`s each of those is an allocation
//! of its own (about 0.35 GB at 20,000 circuits, 30,377 releases; docs/PERFORMANCE.md). A
//! [`SharedName`] is a reference-counted `str`: cloning it shares the text, and the mapping of
//! a release list interns identities ([`crate::platform::IdentityBook`]) so that one person is
//! one allocation per read. It reads, compares, hashes, orders and serializes exactly as the
//! `str` it holds (serde: a plain string; the JSON documents and the cache are unchanged).

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Shared, immutable text; the empty name holds no allocation.
#[derive(Clone, Default)]
pub struct SharedName(Option<Arc<str>>);

impl SharedName {
    pub fn new(s: &str) -> Self {
        if s.is_empty() {
            Self(None)
        } else {
            Self(Some(Arc::from(s)))
        }
    }

    pub fn as_str(&self) -> &str {
        self.0.as_deref().unwrap_or("")
    }

    /// Whether the two share one allocation (not merely equal text): what interning promises.
    pub fn shares_text_with(&self, other: &SharedName) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}

impl Deref for SharedName {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SharedName {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for SharedName {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for SharedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for SharedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for SharedName {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for SharedName {}

impl PartialOrd for SharedName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SharedName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for SharedName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl PartialEq<str> for SharedName {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SharedName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SharedName {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<SharedName> for str {
    fn eq(&self, other: &SharedName) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<SharedName> for &str {
    fn eq(&self, other: &SharedName) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<SharedName> for String {
    fn eq(&self, other: &SharedName) -> bool {
        self == other.as_str()
    }
}

impl From<&str> for SharedName {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl From<&String> for SharedName {
    fn from(s: &String) -> Self {
        Self::new(s)
    }
}

impl From<String> for SharedName {
    fn from(s: String) -> Self {
        if s.is_empty() {
            Self(None)
        } else {
            Self(Some(Arc::from(s)))
        }
    }
}

impl From<SharedName> for String {
    fn from(s: SharedName) -> Self {
        s.as_str().to_owned()
    }
}

impl Serialize for SharedName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SharedName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_compares_and_serializes_as_its_text() {
        let n = SharedName::from("alice@contoso.com");
        assert_eq!(n, "alice@contoso.com");
        assert_eq!("alice@contoso.com", n);
        assert_eq!(n, "alice@contoso.com".to_owned());
        assert_eq!(n.to_string(), "alice@contoso.com");
        assert_eq!(format!("{n:?}"), "\"alice@contoso.com\"");
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"alice@contoso.com\"");
        let back: SharedName = serde_json::from_str("\"alice@contoso.com\"").unwrap();
        assert_eq!(back, n);
        assert!(SharedName::default().is_empty());
        assert_eq!(SharedName::from(String::new()), SharedName::default());
        let bytes = postcard::to_allocvec(&n).unwrap();
        assert_eq!(bytes, postcard::to_allocvec("alice@contoso.com").unwrap());
    }

    #[test]
    fn a_clone_shares_the_text_an_equal_name_does_not() {
        let n = SharedName::from("Production");
        assert!(n.clone().shares_text_with(&n));
        assert!(!SharedName::from("Production").shares_text_with(&n));
        assert!(SharedName::default().shares_text_with(&SharedName::from("")));
    }

    #[test]
    fn hashes_as_str_so_maps_look_names_up_by_str() {
        let mut m = std::collections::HashMap::new();
        m.insert(SharedName::from("Test"), 1);
        assert_eq!(m.get("Test"), Some(&1));
        let mut b = std::collections::BTreeMap::new();
        b.insert(SharedName::from("b"), 2);
        b.insert(SharedName::from("a"), 1);
        assert_eq!(b.keys().map(|k| k.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    }
}
