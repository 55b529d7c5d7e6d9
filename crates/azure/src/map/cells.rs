//! Log Analytics cells decoded by their column's type. The service is loose about JSON types:
//! numbers and booleans may arrive as strings (`"1.286"`, `"true"`), non-finite reals as
//! `"NaN"`/`"Infinity"`, `dynamic` values as JSON text, and `null` anywhere.

use serde_json::Value;

use crate::domain::platform::{Cell, ColumnType, Dynamic, Table};
use crate::wire::monitor::{QueryResults, QueryTable};

/// The primary result table (`PrimaryResult`, else the first); no table is an empty result.
/// `Err` says which row and column could not be read.
pub fn table(results: QueryResults) -> Result<Table, String> {
    let mut tables = results.tables;
    let at = tables
        .iter()
        .position(|t| t.name.as_deref() == Some("PrimaryResult"))
        .unwrap_or(0);
    if tables.is_empty() {
        return Ok(Table::default());
    }
    decode_table(tables.swap_remove(at))
}

fn decode_table(t: QueryTable) -> Result<Table, String> {
    let columns: Vec<(String, ColumnType)> = t
        .columns
        .into_iter()
        .map(|c| {
            let ty = ColumnType::parse(c.column_type.as_deref().unwrap_or("string"));
            (c.name.unwrap_or_default(), ty)
        })
        .collect();
    let mut rows = Vec::with_capacity(t.rows.len());
    for (r, row) in t.rows.into_iter().enumerate() {
        if row.len() != columns.len() {
            return Err(format!(
                "row {r} has {} cells for {} columns",
                row.len(),
                columns.len()
            ));
        }
        let cells = row
            .into_iter()
            .zip(&columns)
            .map(|(v, (name, ty))| {
                cell(v, *ty).map_err(|e| format!("row {r}, column `{name}` ({ty:?}): {e}"))
            })
            .collect::<Result<Vec<Cell>, String>>()?;
        rows.push(cells);
    }
    Ok(Table {
        columns,
        rows,
        partial: None,
    })
}

/// One cell by its column type.
pub fn cell(v: Value, ty: ColumnType) -> Result<Cell, String> {
    if v.is_null() {
        return Ok(Cell::Null);
    }
    match ty {
        ColumnType::Bool => bool_cell(v),
        ColumnType::Int | ColumnType::Long => long_cell(v),
        ColumnType::Real | ColumnType::Decimal => real_cell(v),
        ColumnType::Datetime => Ok(match v {
            Value::String(s) if s.trim().is_empty() => Cell::Null,
            // A time that does not parse stays visible as text rather than failing the table.
            Value::String(s) => super::time(Some(&s)).map_or(Cell::Text(s), Cell::Time),
            other => Cell::Text(other.to_string()),
        }),
        // Kept as text (`Dynamic`): parsed only by what reads it, one row at a time.
        ColumnType::Dynamic => Ok(match v {
            Value::String(s) => {
                Cell::Dynamic(Dynamic::parse(&s).unwrap_or_else(|| Value::String(s).into()))
            }
            other => Cell::Dynamic(other.into()),
        }),
        ColumnType::String | ColumnType::Guid | ColumnType::Timespan => Ok(match v {
            Value::String(s) => Cell::Text(s),
            other => Cell::Text(other.to_string()),
        }),
    }
}

fn bool_cell(v: Value) -> Result<Cell, String> {
    match v {
        Value::Bool(b) => Ok(Cell::Bool(b)),
        Value::Number(n) => match n.as_i64() {
            Some(0) => Ok(Cell::Bool(false)),
            Some(1) => Ok(Cell::Bool(true)),
            _ => Err(format!("{n} is not a boolean")),
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(Cell::Bool(true)),
            "false" | "0" => Ok(Cell::Bool(false)),
            "" => Ok(Cell::Null),
            _ => Err(format!("{s:?} is not a boolean")),
        },
        other => Err(format!("{other} is not a boolean")),
    }
}

fn long_cell(v: Value) -> Result<Cell, String> {
    match v {
        Value::Number(n) => Ok(match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Cell::Long(i),
            // Beyond i64, or fractional: keep the number rather than fail.
            (None, Some(f)) => Cell::Real(f),
            (None, None) => return Err(format!("{n} is not a number")),
        }),
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                return Ok(Cell::Null);
            }
            if let Ok(i) = t.parse::<i64>() {
                return Ok(Cell::Long(i));
            }
            t.parse::<f64>()
                .map(Cell::Real)
                .map_err(|_| format!("{s:?} is not an integer"))
        }
        Value::Bool(b) => Ok(Cell::Long(i64::from(b))),
        other => Err(format!("{other} is not an integer")),
    }
}

fn real_cell(v: Value) -> Result<Cell, String> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .map(Cell::Real)
            .ok_or_else(|| format!("{n} is not a number")),
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                return Ok(Cell::Null);
            }
            // Rust reads "NaN", "Infinity", "-Infinity" and "inf" case-insensitively.
            t.parse::<f64>()
                .map(Cell::Real)
                .map_err(|_| format!("{s:?} is not a number"))
        }
        other => Err(format!("{other} is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_as_numbers_or_strings() {
        assert_eq!(cell(json!("1"), ColumnType::Long), Ok(Cell::Long(1)));
        assert_eq!(cell(json!(7), ColumnType::Int), Ok(Cell::Long(7)));
        assert_eq!(
            cell(json!("1.286"), ColumnType::Real),
            Ok(Cell::Real(1.286))
        );
        assert_eq!(cell(json!(0.5), ColumnType::Real), Ok(Cell::Real(0.5)));
        assert_eq!(cell(json!(3), ColumnType::Real), Ok(Cell::Real(3.0)));
        assert_eq!(cell(json!("2.5"), ColumnType::Decimal), Ok(Cell::Real(2.5)));
        assert!(cell(json!("abc"), ColumnType::Long).is_err());
        assert!(cell(json!({"a": 1}), ColumnType::Real).is_err());
    }

    #[test]
    fn non_finite_reals() {
        let r = |s: &str| match cell(json!(s), ColumnType::Real) {
            Ok(Cell::Real(f)) => f,
            other => panic!("{s}: {other:?}"),
        };
        assert!(r("NaN").is_nan());
        assert_eq!(r("Infinity"), f64::INFINITY);
        assert_eq!(r("-Infinity"), f64::NEG_INFINITY);
    }

    #[test]
    fn bools_as_bools_or_strings() {
        assert_eq!(cell(json!(true), ColumnType::Bool), Ok(Cell::Bool(true)));
        assert_eq!(cell(json!("true"), ColumnType::Bool), Ok(Cell::Bool(true)));
        assert_eq!(
            cell(json!("False"), ColumnType::Bool),
            Ok(Cell::Bool(false))
        );
        assert_eq!(cell(json!(0), ColumnType::Bool), Ok(Cell::Bool(false)));
        assert!(cell(json!("maybe"), ColumnType::Bool).is_err());
    }

    #[test]
    fn nulls_anywhere() {
        for ty in [
            ColumnType::Bool,
            ColumnType::Long,
            ColumnType::Real,
            ColumnType::Datetime,
            ColumnType::Dynamic,
            ColumnType::String,
        ] {
            assert_eq!(cell(Value::Null, ty), Ok(Cell::Null), "{ty:?}");
        }
    }

    #[test]
    fn dynamic_as_text_or_json() {
        assert_eq!(
            cell(json!("[0.1,0.2]"), ColumnType::Dynamic),
            Ok(Cell::Dynamic(json!([0.1, 0.2]).into()))
        );
        assert_eq!(
            cell(json!([1, 2]), ColumnType::Dynamic),
            Ok(Cell::Dynamic(json!([1, 2]).into()))
        );
        assert_eq!(
            cell(json!("not json"), ColumnType::Dynamic),
            Ok(Cell::Dynamic(json!("not json").into()))
        );
    }

    #[test]
    fn datetimes_parse() {
        let c = cell(json!("2025-12-09T00:00:00Z"), ColumnType::Datetime).unwrap();
        assert_eq!(
            c.as_time().map(|t| t.to_rfc3339()).as_deref(),
            Some("2025-12-09T00:00:00+00:00")
        );
    }

    #[test]
    fn ragged_rows_and_bad_cells_name_their_place() {
        let results: QueryResults = serde_json::from_value(json!({
            "tables": [{"name": "PrimaryResult",
                "columns": [{"name": "n", "type": "long"}, {"name": "s", "type": "string"}],
                "rows": [["1", "a"], ["x", "b"]]}]
        }))
        .unwrap();
        let e = table(results).unwrap_err();
        assert!(e.contains("row 1") && e.contains("`n`"), "{e}");
        let results: QueryResults = serde_json::from_value(json!({
            "tables": [{"name": "PrimaryResult", "columns": [{"name": "n", "type": "long"}],
                "rows": [["1", "extra"]]}]
        }))
        .unwrap();
        assert!(
            table(results)
                .unwrap_err()
                .contains("2 cells for 1 columns")
        );
        assert_eq!(table(QueryResults::default()), Ok(Table::default()));
    }
}
