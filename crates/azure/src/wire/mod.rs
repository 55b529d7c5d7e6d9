//! Serde mirrors of the REST JSON relcon reads, shaped on the official examples in
//! `tests/data/azure-examples/`. Lenient on purpose: unknown fields are ignored, most fields are
//! optional, enums stay strings (parsed case-insensitively in `map.rs`). Nothing here leaves
//! `azure/`.

pub mod alerts;
pub mod devops;
pub mod jobs;
pub mod ml;
pub mod monitor;
pub mod pipelines;

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// A string map that tolerates `null` for the whole map and non-string values (ARM tags are
/// strings by contract, but a tag written by hand as a number must not fail a whole list).
pub fn lenient_string_map<'de, D>(d: D) -> Result<BTreeMap<String, String>, D::Error>
where
    D: Deserializer<'de>,
{
    let raw: Option<BTreeMap<String, serde_json::Value>> = Option::deserialize(d)?;
    Ok(raw
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            (k, v)
        })
        .collect())
}

/// `null` read as the type's default (DevOps writes `null` for empty lists and objects).
pub fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The ARM list envelope: `{value: [...], nextLink?}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "T: Deserialize<'de>"))]
pub struct ArmList<T> {
    #[serde(default = "Vec::new", deserialize_with = "null_default")]
    pub value: Vec<T>,
    #[serde(default)]
    pub next_link: Option<String>,
}

/// The Azure DevOps list envelope: `{count, value: [...]}`; the continuation token is a header.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "T: Deserialize<'de>"))]
pub struct DevOpsList<T> {
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default = "Vec::new", deserialize_with = "null_default")]
    pub value: Vec<T>,
}

/// ARM `systemData`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SystemData {
    pub created_at: Option<String>,
    pub created_by: Option<String>,
    pub last_modified_at: Option<String>,
    pub last_modified_by: Option<String>,
}

/// Every service's error body, read leniently: ARM and Log Analytics send
/// `{"error": {"code", "message", "innererror"?}}`, Azure DevOps `{"message", "typeKey", ...}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ErrorBody {
    pub error: Option<ErrorDetail>,
    /// DevOps.
    pub message: Option<String>,
    /// DevOps: `InvalidRequestException`, `ReleaseManagementObjectNotFoundException`...
    pub type_key: Option<String>,
    pub error_code: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ErrorDetail {
    pub code: Option<String>,
    pub message: Option<String>,
    /// Log Analytics nests the specific cause here.
    pub innererror: Option<Box<ErrorDetail>>,
    /// And the causes of a partial result here (`PartialError`).
    #[serde(deserialize_with = "null_default")]
    pub details: Vec<ErrorDetail>,
}

impl ErrorDetail {
    /// The service cut the result for its size: Log Analytics' `E_QUERY_RESULT_SET_TOO_LARGE`
    /// (as an inner code, or inside an inner message, as the service writes it), at any depth.
    pub fn result_too_large(&self) -> bool {
        const CODE: &str = "E_QUERY_RESULT_SET_TOO_LARGE";
        self.code.as_deref() == Some(CODE)
            || self.message.as_deref().is_some_and(|m| m.contains(CODE))
            || self
                .innererror
                .as_deref()
                .is_some_and(ErrorDetail::result_too_large)
            || self.details.iter().any(ErrorDetail::result_too_large)
    }
}

impl ErrorBody {
    /// The service's own words, `code: message`, with Log Analytics' inner error appended.
    pub fn describe(&self) -> Option<String> {
        if let Some(e) = &self.error {
            let mut out = match (&e.code, &e.message) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (None, Some(m)) => m.clone(),
                (Some(c), None) => c.clone(),
                (None, None) => return None,
            };
            let mut inner = e.innererror.as_deref();
            // Two levels are enough to reach the useful part ("SemanticError: 'x' is unknown").
            for _ in 0..2 {
                let Some(i) = inner else { break };
                if let Some(m) = &i.message {
                    out.push_str(" (");
                    out.push_str(m);
                    out.push(')');
                }
                inner = i.innererror.as_deref();
            }
            return Some(out);
        }
        let m = self.message.as_deref()?;
        Some(match &self.type_key {
            Some(k) => format!("{m} ({k})"),
            None => m.to_owned(),
        })
    }
}
