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

#[cfg(test)]
mod tests {
    use super::*;

    /// Log Analytics' partial result for a result set past its limits: the cause is nested in
    /// `details[].innererror`, in its code or in its message.
    #[test]
    fn a_result_cut_for_its_size_is_told_from_other_partial_results() {
        let cut = |inner: serde_json::Value| -> QueryResults {
            serde_json::from_value(serde_json::json!({
                "tables": [],
                "error": {
                    "code": "PartialError",
                    "message": "There were some errors when processing your query.",
                    "details": [{
                        "code": "EngineError",
                        "message": "Something went wrong processing your query on the server.",
                        "innererror": inner
                    }]
                }
            }))
            .unwrap()
        };
        let by_code = cut(serde_json::json!({"code": "E_QUERY_RESULT_SET_TOO_LARGE"}));
        let by_message = cut(serde_json::json!({
            "code": "-2133196797",
            "message": "Query result set has exceeded the internal data size limit 64000000 bytes (E_QUERY_RESULT_SET_TOO_LARGE)."
        }));
        let other = cut(serde_json::json!({"code": "LimitsExceeded", "message": "timeout"}));
        assert!(by_code.error.unwrap().result_too_large());
        assert!(by_message.error.unwrap().result_too_large());
        assert!(!other.error.unwrap().result_too_large());
    }
}
