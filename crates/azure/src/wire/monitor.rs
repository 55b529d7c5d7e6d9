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

/// A query's answer read for its `error` alone, its tables skipped without being kept: a
/// result the service cut for its size is asked again in parts, and decoding the half a
/// million rows that fitted (a few hundred MB as JSON values) only to drop them was most of a
/// large fleet's peak memory.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QueryProbe {
    pub tables: serde::de::IgnoredAny,
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

    /// The probe reads the error of an answer whose rows it does not decode: rows of any shape
    /// (a row that is not a list, a cell that is an object) are skipped, not refused.
    #[test]
    fn the_probe_reads_the_error_past_rows_it_skips() {
        let body =
            br#"{"tables": [{"name": "PrimaryResult", "columns": [{"name": "x", "type": "long"}],
            "rows": [[1], "not a row", [{"deep": [1, 2, {"a": null}]}]]}],
            "error": {"code": "PartialError", "message": "m", "details": [{"code": "EngineError",
            "innererror": {"code": "E_QUERY_RESULT_SET_TOO_LARGE"}}]}}"#;
        let probe: QueryProbe = serde_json::from_slice(body).unwrap();
        assert!(probe.error.unwrap().result_too_large());
        assert!(
            serde_json::from_slice::<QueryResults>(body).is_err(),
            "the rows do not decode"
        );
        let whole: QueryProbe = serde_json::from_slice(br#"{"tables": []}"#).unwrap();
        assert!(whole.error.is_none());
    }
}
