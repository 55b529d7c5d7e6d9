//! The KQL relcon sends, written once over the names of the schema it is sent to.
//!
//! Workspace-based Application Insights (every resource since classic ones were retired on
//! 29 February 2024) stores metrics in the Log Analytics workspace, where the table and its
//! columns have their workspace names: `AppMetrics`, `TimeGenerated`, `Name`, `Properties`,
//! `Sum`, `ItemCount` (there is no `value`: a row's mean is `Sum / ItemCount`). The
//! Application Insights query API (`/v1/apps/{app-id}/query`) still answers with the classic
//! names: `customMetrics`, `timestamp`, `name`, `customDimensions`, `valueSum`, `valueCount`.
//! Columns per Microsoft's reference (`tests/data/monitor/tables.json`).
//!
//! Each query returns the columns documented on [`MonitorQuery`], whatever the schema, so the
//! decoding in `service::queries` does not know which one answered.

use crate::service::backend::MonitorQuery;
use crate::service::queries::{
    ACCURACY_METRIC, DRIFT_METRIC, SERIES_DAYS, VALIDATION_DAYS, VALIDATION_METRICS,
};

/// Which names the tables have where the query is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// Log Analytics workspace scope: `AppMetrics`.
    Workspace,
    /// The Application Insights query API: `customMetrics`.
    Classic,
}

/// The metrics table and the columns relcon reads from it.
struct Names {
    table: &'static str,
    time: &'static str,
    name: &'static str,
    props: &'static str,
    sum: &'static str,
    count: &'static str,
}

impl Schema {
    fn names(self) -> Names {
        match self {
            Schema::Workspace => Names {
                table: "AppMetrics",
                time: "TimeGenerated",
                name: "Name",
                props: "Properties",
                sum: "Sum",
                count: "ItemCount",
            },
            Schema::Classic => Names {
                table: "customMetrics",
                time: "timestamp",
                name: "name",
                props: "customDimensions",
                sum: "valueSum",
                count: "valueCount",
            },
        }
    }

    /// The metrics table's name in this schema.
    pub fn metrics_table(self) -> &'static str {
        self.names().table
    }
}

/// The most parts one query is split into (4,096 plants' worth of rows per part at 20,000
/// circuits is far below the cap; past this, a result is used partial and said so).
pub const MAX_PARTS: u32 = 64;

/// The plants one part of a monitoring query covers at most, when the adapter knows the
/// fleet's size (the plants of the last endpoint list it read): at 10 circuits a plant, 1,000
/// circuits, a drift answer of some 14 MB of JSON. A 20,000-circuit fleet's drift answer
/// (about 250 MB) would otherwise be asked whole, cut by the service at its cap, asked again in
/// two, cut again, and read in four parts of 60 MB, each held as text and as JSON values at
/// once beside the other two queries' answers: that transient, not the snapshot, was the
/// peak of a large fleet's memory. Fleets up to 100 plants are asked in one part, as before;
/// 2,000 plants in 20 (60 queries a refresh, within Log Analytics' 200 per 30 s per user).
pub const PLANTS_PER_PART: u32 = 100;

/// How many parts a splittable query starts with for a fleet of `plants` (at least one).
pub fn parts_for_plants(plants: u32) -> u32 {
    plants.div_ceil(PLANTS_PER_PART).clamp(1, MAX_PARTS)
}

/// One part of a query split by plant: the plants whose `hash(plant_id, of)` is `index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub index: u32,
    pub of: u32,
}

impl Part {
    /// The whole query.
    pub const WHOLE: Part = Part { index: 0, of: 1 };
}

/// `text` narrowed to `part`: a filter on the plant's hash right after the table, so the
/// service drops the other plants' rows before any work (KQL's documented `hash(source, mod)`,
/// a value in `0..mod`). The whole query is returned as it was.
pub fn partitioned(text: &str, schema: Schema, part: Part) -> String {
    if part.of <= 1 {
        return text.to_owned();
    }
    let props = schema.names().props;
    let (table, rest) = text.split_once('\n').unwrap_or((text, ""));
    format!(
        "{table}\n| where hash(tostring({props}.plant_id), {}) == {}\n{rest}",
        part.of, part.index
    )
}

/// The query text and its timespan (an ISO 8601 duration, sent beside the query; the query's
/// own `ago(...)` says the same, so either alone bounds it).
pub fn query(q: MonitorQuery, schema: Schema) -> (String, String) {
    let n = schema.names();
    let Names {
        table,
        time,
        name,
        props,
        sum,
        count,
    } = n;
    let dims = |keys: &[&str]| -> String {
        keys.iter()
            .map(|k| format!("{k} = tostring({props}.{k})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // A pre-aggregated row's mean; rows without a count carry no value.
    let mean = format!("value = {sum} / {count}");
    let series = |metric: &str, extra: &[&str]| -> String {
        let mut keys = vec!["plant_id", "circuit_id"];
        keys.extend_from_slice(extra);
        let by = keys.join(", ");
        format!(
            "{table}\n\
             | where {time} > ago({SERIES_DAYS}d) and {name} == '{metric}' and {count} > 0\n\
             | extend {}, {mean}\n\
             | summarize arg_max({time}, value) by {by}, day = startofday({time})\n\
             | order by day asc\n\
             | summarize days = make_list(day), values = make_list(value) by {by}",
            dims(&keys)
        )
    };
    let quoted = |names: &[&str]| -> String {
        names
            .iter()
            .map(|m| format!("'{m}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match q {
        MonitorQuery::Drift => (
            series(DRIFT_METRIC, &["feature", "metric"]),
            format!("P{SERIES_DAYS}D"),
        ),
        MonitorQuery::Accuracy => (series(ACCURACY_METRIC, &[]), format!("P{SERIES_DAYS}D")),
        MonitorQuery::Validation => {
            let keys = [
                "plant_id",
                "circuit_id",
                "model_version",
                "release_id",
                "environment_version",
            ];
            (
                format!(
                    "{table}\n\
                     | where {time} > ago({VALIDATION_DAYS}d) and {name} in ({}) and {count} > 0\n\
                     | extend {}, metric_name = {name}, {mean}\n\
                     | summarize arg_max({time}, value) by {}, metric_name\n\
                     | project at = {time}, {}, metric_name, value",
                    quoted(&VALIDATION_METRICS),
                    dims(&keys),
                    keys.join(", "),
                    keys.join(", ")
                ),
                format!("P{VALIDATION_DAYS}D"),
            )
        }
        MonitorQuery::Coverage => {
            let mut all = vec![DRIFT_METRIC, ACCURACY_METRIC];
            all.extend(VALIDATION_METRICS);
            (
                format!(
                    "{table}\n\
                     | where {time} > ago({VALIDATION_DAYS}d) and {name} in ({})\n\
                     | extend {}\n\
                     | summarize rows_30d = countif({time} > ago({SERIES_DAYS}d)), rows_90d = count(), circuits = dcount(strcat(plant_id, '/', circuit_id)), newest = max({time}), without_circuit = countif(isempty(plant_id) or isempty(circuit_id)) by metric_name = {name}",
                    quoted(&all),
                    dims(&["plant_id", "circuit_id"]),
                ),
                format!("P{VALIDATION_DAYS}D"),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [MonitorQuery; 4] = [
        MonitorQuery::Drift,
        MonitorQuery::Accuracy,
        MonitorQuery::Validation,
        MonitorQuery::Coverage,
    ];

    /// Words that are column or table names in one schema and must not appear in a query for
    /// the other (the mistake that made every workspace query fail with SEM0100).
    fn foreign(schema: Schema) -> &'static [&'static str] {
        match schema {
            Schema::Workspace => &[
                "customMetrics",
                "customDimensions",
                "timestamp",
                "valueSum",
                "valueCount",
                "name",
            ],
            Schema::Classic => &[
                "AppMetrics",
                "Properties",
                "TimeGenerated",
                "ItemCount",
                "Sum",
                "Name",
            ],
        }
    }

    #[test]
    fn each_schema_uses_only_its_own_names() {
        for schema in [Schema::Workspace, Schema::Classic] {
            for q in ALL {
                let (text, span) = query(q, schema);
                assert!(
                    text.starts_with(schema.metrics_table()),
                    "{q:?} {schema:?}: {text}"
                );
                let words: Vec<&str> = text
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .collect();
                for word in foreign(schema) {
                    assert!(
                        !words.contains(word),
                        "{q:?} {schema:?} has {word:?}: {text}"
                    );
                }
                assert!(span == "P30D" || span == "P90D", "{span}");
            }
        }
    }

    #[test]
    fn a_part_filters_plants_by_hash_right_after_the_table() {
        for schema in [Schema::Workspace, Schema::Classic] {
            let (text, _) = query(MonitorQuery::Drift, schema);
            assert_eq!(partitioned(&text, schema, Part::WHOLE), text);
            let part = partitioned(&text, schema, Part { index: 3, of: 8 });
            let props = schema.names().props;
            let lines: Vec<&str> = part.lines().collect();
            assert_eq!(lines[0], schema.metrics_table());
            assert_eq!(
                lines[1],
                format!("| where hash(tostring({props}.plant_id), 8) == 3")
            );
            assert_eq!(lines[2..].join("\n"), text.split_once('\n').unwrap().1);
        }
    }

    #[test]
    fn means_come_from_sum_and_count() {
        let (ws, _) = query(MonitorQuery::Accuracy, Schema::Workspace);
        assert!(ws.contains("value = Sum / ItemCount"), "{ws}");
        assert!(ws.contains("ItemCount > 0"), "{ws}");
        let (classic, _) = query(MonitorQuery::Accuracy, Schema::Classic);
        assert!(
            classic.contains("value = valueSum / valueCount"),
            "{classic}"
        );
        let (v, span) = query(MonitorQuery::Validation, Schema::Workspace);
        assert_eq!(span, "P90D");
        for m in VALIDATION_METRICS {
            assert!(v.contains(&format!("'{m}'")), "{v}");
        }
        assert!(v.contains("tostring(Properties.release_id)"), "{v}");
    }
}
