//! Log Analytics query results: `{"tables": [{"name", "columns": [{"name", "type"}], "rows"}]}`.
//! Cells stay raw JSON here; `map::cells` decodes them by column type.

use serde::Deserialize;

use super::{ErrorDetail, null_default};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct QueryResults {
    #[serde(deserialize_with = "null_default")]
    pub tables: Vec<QueryTable>,
    /// A partial failure: the query ran but some of it failed (HTTP 200 with an error).
    pub error: Option<ErrorDetail>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct QueryTable {
    pub name: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub columns: Vec<QueryColumn>,
    #[serde(deserialize_with = "null_default")]
    pub rows: Vec<Vec<serde_json::Value>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct QueryColumn {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub column_type: Option<String>,
}
