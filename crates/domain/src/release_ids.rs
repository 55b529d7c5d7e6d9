//! Opaque references to things on the release side, the same for every release flavour.
//!
//! Classic releases number approvals and release environments (`u32`); YAML pipelines name an
//! approval by a GUID and a stage by its run and YAML identifier. The service, the console and
//! the journal hold these as opaque text; only the adapter that made one takes it apart.
//!
//! A reference that is all digits (every classic one) is written as a JSON number, so the
//! journal, the JSON documents and the cache read exactly as before for classic releases, and a
//! journal written with the old `u32` ids reads back unchanged. Reading accepts a number or a
//! string. Binary forms (the postcard cache) always hold text. Ordering is numeric between numeric references (a classic list keeps its order),
//! textual otherwise.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! opaque_ref {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
        pub struct $name(String);

        impl $name {
            pub fn new(text: impl Into<String>) -> Self {
                Self(text.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The number a classic release gave it, when it is one.
            pub fn as_number(&self) -> Option<u32> {
                numeric(&self.0)
            }
        }

        impl From<u32> for $name {
            fn from(n: u32) -> Self {
                Self(n.to_string())
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl PartialEq<u32> for $name {
            fn eq(&self, n: &u32) -> bool {
                self.as_number() == Some(*n)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self(s.trim().to_owned()))
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> Ordering {
                compare(&self.0, &other.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self.as_number() {
                    Some(n) if s.is_human_readable() => s.serialize_u32(n),
                    _ => s.serialize_str(&self.0),
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if !d.is_human_readable() {
                    // A binary form (the cache) cannot tell a number from text: always text.
                    return String::deserialize(d).map(Self);
                }
                NumberOrText::deserialize(d).map(|v| match v {
                    NumberOrText::Number(n) => Self(n.to_string()),
                    NumberOrText::Text(s) => Self(s),
                })
            }
        }
    };
}

opaque_ref!(
    /// One approval: classic, the release approval's number; YAML, the approval's GUID.
    ApprovalId
);

opaque_ref!(
    /// One stage of one release, the thing a re-run asks for again: classic, the release
    /// environment's id; YAML, the run and the stage's YAML name (the adapter's encoding).
    StageRef
);

#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrText {
    Number(u64),
    Text(String),
}

/// A classic number: digits only, no sign or leading zero (so it writes back as it read).
fn numeric(s: &str) -> Option<u32> {
    let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let canonical = s == "0" || !s.starts_with('0');
    if digits && canonical {
        s.parse().ok()
    } else {
        None
    }
}

fn compare(a: &str, b: &str) -> Ordering {
    match (numeric(a), numeric(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_ids_read_and_write_as_numbers() {
        let id: ApprovalId = serde_json::from_str("4711").unwrap();
        assert_eq!(id, 4711);
        assert_eq!(serde_json::to_string(&id).unwrap(), "4711");
        let id: ApprovalId = serde_json::from_str("\"4711\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "4711");
    }

    #[test]
    fn guids_and_stage_names_stay_text() {
        let guid = "7f3c1c2e-6a41-4a5e-9f6d-0d9f3b6c2a10";
        let id: ApprovalId = serde_json::from_str(&format!("\"{guid}\"")).unwrap();
        assert_eq!(id.as_str(), guid);
        assert_eq!(id.as_number(), None);
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{guid}\""));
        // A leading zero is text: it must write back as it was read.
        let z = StageRef::new("0042");
        assert_eq!(serde_json::to_string(&z).unwrap(), "\"0042\"");
    }

    #[test]
    fn binary_forms_hold_text() {
        for id in [ApprovalId::from(4711), ApprovalId::new("7f3c1c2e-6a41")] {
            let bin = postcard::to_stdvec(&id).unwrap();
            assert_eq!(postcard::from_bytes::<ApprovalId>(&bin).unwrap(), id);
        }
    }

    #[test]
    fn numbers_order_numerically_before_text() {
        let mut v: Vec<StageRef> = ["10", "9", "b", "a", "100"]
            .into_iter()
            .map(StageRef::from)
            .collect();
        v.sort();
        let got: Vec<&str> = v.iter().map(StageRef::as_str).collect();
        assert_eq!(got, ["9", "10", "100", "a", "b"]);
    }
}
