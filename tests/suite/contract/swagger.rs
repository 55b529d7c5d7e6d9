//! Microsoft's swagger 2.0 documents as something to check requests and responses against:
//! operations found by method and path template, parameters resolved, and schemas converted
//! into JSON Schema (draft 7) for the `jsonschema` crate.
//!
//! The conversion, and why:
//! - `definitions` stay where they are, so `$ref: #/definitions/X` resolves in the converted
//!   document; a `$ref` into another file (`../common-types/...json#/definitions/X`) is read as
//!   the same name among the definitions vendored beside it.
//! - `null` is accepted for any value: the services' own examples carry `null` where the swagger
//!   says `string` (Log Analytics rows, DevOps identities), and Azure's generators read a null
//!   property as absent.
//! - An enum with `x-ms-enum.modelAsString: true` is open (any string), as the extension means.
//!   Other string enums match case-insensitively and as comma-separated flags (`"manual,
//!   automated"`): Azure DevOps documents enums as case-insensitive and serialises flags so.
//! - `x-ms-*`, `readOnly`, `discriminator` and `example` have no effect on validation; a
//!   polymorphic type is validated as its base type.
//! - `type: file` is dropped.
//! - `format: date-time` may omit the offset (`0001-01-01T00:00:00`, as Azure DevOps writes
//!   "never", its own examples included).
//! - `additionalProperties: false` closes an object over its own and its inherited (`allOf`)
//!   properties, as Azure's generators read it; a base used in `allOf` is checked open.
//! - Definitions the vendored excerpts leave out are accepted as anything, and listed by
//!   `Spec::placeholders` (a test holds that list).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

/// One swagger document and where its operations live on the wire.
pub struct Spec {
    pub name: &'static str,
    pub doc: Value,
    /// Definitions of the vendored documents this one refers to (ARM common types).
    pub extra_definitions: Map<String, Value>,
    /// Path prefix before the swagger path (`/v1` for the monitoring APIs, `basePath`).
    pub base_path: String,
}

/// An operation of a spec.
pub struct Operation<'a> {
    pub spec: &'a Spec,
    pub method: String,
    pub template: String,
    pub op: &'a Value,
}

impl Operation<'_> {
    pub fn id(&self) -> String {
        format!(
            "{} {} {}",
            self.spec.name,
            self.op["operationId"].as_str().unwrap_or("?"),
            self.method
        )
    }
}

pub fn load_json(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

impl Spec {
    pub fn new(name: &'static str, doc: Value) -> Spec {
        let base_path = doc["basePath"]
            .as_str()
            .unwrap_or("")
            .trim_end_matches('/')
            .to_owned();
        Spec {
            name,
            doc,
            extra_definitions: Map::new(),
            base_path,
        }
    }

    pub fn version(&self) -> &str {
        self.doc["info"]["version"].as_str().unwrap_or("")
    }

    /// Every operation, from `paths` and `x-ms-paths` (whose keys may end in `?...`).
    pub fn operations(&self) -> Vec<Operation<'_>> {
        let mut out = Vec::new();
        for key in ["paths", "x-ms-paths"] {
            let Some(paths) = self.doc[key].as_object() else {
                continue;
            };
            for (template, item) in paths {
                let template = template.split('?').next().unwrap_or(template);
                for (method, op) in item.as_object().into_iter().flatten() {
                    if method == "parameters" {
                        continue;
                    }
                    out.push(Operation {
                        spec: self,
                        method: method.to_ascii_uppercase(),
                        template: format!("{}{template}", self.base_path),
                        op,
                    });
                }
            }
        }
        out
    }

    /// An operation's parameters with `$ref`s to `#/parameters/...` resolved.
    pub fn parameters(&self, op: &Operation<'_>) -> Vec<Value> {
        op.op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| match p.get("$ref").and_then(Value::as_str) {
                Some(r) => self.resolve_parameter(r),
                None => Some(p.clone()),
            })
            .collect()
    }

    fn resolve_parameter(&self, r: &str) -> Option<Value> {
        let name = r.rsplit('/').next()?;
        if let Some(p) = self.doc["parameters"].get(name) {
            return Some(p.clone());
        }
        if let Some(p) = self.extra_definitions.get(&format!("parameter:{name}")) {
            return Some(p.clone());
        }
        // Azure ML's own shared parameters are not vendored; what they name is plain from the
        // path templates, and the paging token's name from the official examples' parameters.
        Some(match name {
            "WorkspaceNameParameter" => {
                json!({"name": "workspaceName", "in": "path", "required": true, "type": "string"})
            }
            "RegistryNameParameter" => {
                json!({"name": "registryName", "in": "path", "required": true, "type": "string"})
            }
            "PaginationParameter" => {
                json!({"name": "$skipToken", "in": "query", "required": false, "type": "string"})
            }
            _ => return None,
        })
    }

    /// Every definition this spec can reach: its own and the vendored common ones.
    fn definitions(&self) -> Map<String, Value> {
        let mut defs = self.doc["definitions"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (k, v) in &self.extra_definitions {
            if !k.starts_with("parameter:") {
                defs.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        defs
    }

    /// Definitions referred to but not vendored (validated as "anything"), sorted.
    pub fn placeholders(&self) -> Vec<String> {
        let defs = self.definitions();
        let mut refs = Vec::new();
        collect_refs(&Value::Object(defs.clone()), &mut refs);
        collect_refs(&self.doc["paths"], &mut refs);
        let mut missing: Vec<String> = refs.into_iter().filter(|r| !defs.contains_key(r)).collect();
        missing.sort();
        missing.dedup();
        missing
    }

    /// A validator for `schema` (a fragment of this spec).
    pub fn validator(&self, schema: &Value) -> jsonschema::Validator {
        let defs = self.definitions();
        let mut converted = Map::new();
        for (k, v) in &defs {
            converted.insert(k.clone(), convert_def(v, &defs, false));
            converted.insert(format!("{k}__open"), convert_def(v, &defs, true));
        }
        for name in self.placeholders() {
            converted.insert(name.clone(), json!({}));
            converted.insert(format!("{name}__open"), json!({}));
        }
        let root = json!({"allOf": [convert(schema, &defs)], "definitions": converted});
        jsonschema::draft7::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("{}: schema does not compile: {e}", self.name))
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, val) in o {
                if k == "$ref" {
                    if let Some(name) = val.as_str().and_then(|r| r.rsplit('/').next())
                        && val.as_str().is_some_and(|r| r.contains("#/definitions/"))
                    {
                        out.push(name.to_owned());
                    }
                } else {
                    collect_refs(val, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

/// Property names of a schema, its own and those it inherits through `allOf`.
fn property_names(v: &Value, defs: &Map<String, Value>, depth: usize, out: &mut BTreeSet<String>) {
    if depth > 16 {
        return;
    }
    if let Some(p) = v.get("properties").and_then(Value::as_object) {
        out.extend(p.keys().cloned());
    }
    for item in v
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match item
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.rsplit('/').next())
        {
            Some(name) => {
                if let Some(d) = defs.get(name) {
                    property_names(d, defs, depth + 1, out);
                }
            }
            None => property_names(item, defs, depth + 1, out),
        }
    }
}

/// One definition: `open` drops its own closedness (the form used as an `allOf` base).
fn convert_def(v: &Value, defs: &Map<String, Value>, open: bool) -> Value {
    let mut c = convert(v, defs);
    if open && let Value::Object(o) = &mut c {
        o.remove("propertyNames");
        if o.get("additionalProperties") == Some(&Value::Bool(false)) {
            o.remove("additionalProperties");
        }
    }
    c
}

/// Match a request path to the template of an operation (`{x}` is one segment; literal
/// segments compare case-insensitively, as Azure DevOps and ARM do).
pub fn path_matches(template: &str, path: &str) -> Option<BTreeMap<String, String>> {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut vars = BTreeMap::new();
    for (a, b) in t.iter().zip(&p) {
        if a.starts_with('{') && a.ends_with('}') {
            if b.is_empty() {
                return None;
            }
            vars.insert(a.trim_matches(['{', '}']).to_owned(), (*b).to_owned());
        } else if !a.eq_ignore_ascii_case(b) {
            return None;
        }
    }
    Some(vars)
}

/// A swagger schema as JSON Schema draft 7 (see the module comment).
pub fn convert(v: &Value, defs: &Map<String, Value>) -> Value {
    match v {
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, val) in o {
                match k.as_str() {
                    "$ref" => {
                        let name = val
                            .as_str()
                            .and_then(|r| r.rsplit('/').next())
                            .unwrap_or("");
                        out.insert(
                            "$ref".into(),
                            Value::String(format!("#/definitions/{name}")),
                        );
                    }
                    // Names of properties, not keywords: convert each value.
                    "properties" | "definitions" => {
                        let inner: Map<String, Value> = val
                            .as_object()
                            .into_iter()
                            .flatten()
                            .map(|(n, s)| (n.clone(), convert(s, defs)))
                            .collect();
                        out.insert(k.clone(), Value::Object(inner));
                    }
                    // A base named in `allOf` is checked in its open form: the closedness
                    // of the whole is decided below, over every inherited property.
                    "allOf" => {
                        let items: Vec<Value> = val
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|item| match item.get("$ref").and_then(Value::as_str) {
                                Some(r) => {
                                    let name = r.rsplit('/').next().unwrap_or("");
                                    json!({"$ref": format!("#/definitions/{name}__open")})
                                }
                                None => convert(item, defs),
                            })
                            .collect();
                        out.insert(k.clone(), Value::Array(items));
                    }
                    // Closed objects: see below.
                    "additionalProperties" if val == &Value::Bool(false) => {}
                    "discriminator" | "example" | "readOnly" | "x-nullable" => {}
                    k if k.starts_with("x-ms-") => {}
                    _ => {
                        out.insert(k.clone(), convert(val, defs));
                    }
                }
            }
            // `additionalProperties: false` closes an object over its own properties and those
            // it inherits through `allOf` (as Azure's generators read it); a polymorphic base
            // stays open to its subtypes' properties.
            if o.get("additionalProperties") == Some(&Value::Bool(false))
                && !o.contains_key("discriminator")
            {
                if o.contains_key("allOf") {
                    let mut names = BTreeSet::new();
                    property_names(v, defs, 0, &mut names);
                    out.insert(
                        "propertyNames".into(),
                        json!({"enum": names.into_iter().collect::<Vec<_>>()}),
                    );
                } else {
                    out.insert("additionalProperties".into(), Value::Bool(false));
                }
            }
            // Azure DevOps writes "never" as `0001-01-01T00:00:00`, without an offset (in its
            // own examples too): a date-time may omit the offset, and must otherwise be RFC 3339.
            if out.get("format").and_then(Value::as_str) == Some("date-time") {
                out.remove("format");
                out.insert(
                    "pattern".into(),
                    Value::String(
                        r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$"
                            .into(),
                    ),
                );
            }
            if out.get("type").and_then(Value::as_str) == Some("file") {
                out.remove("type");
            }
            let open = o
                .get("x-ms-enum")
                .and_then(|e| e.get("modelAsString"))
                .and_then(Value::as_bool)
                == Some(true);
            if let Some(Value::Array(values)) = out.get("enum").cloned() {
                let strings: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
                if strings.len() == values.len() {
                    out.remove("enum");
                    if !open {
                        let alt = strings
                            .iter()
                            .map(|s| regex_escape(s))
                            .collect::<Vec<_>>()
                            .join("|");
                        out.insert(
                            "pattern".into(),
                            Value::String(format!("^(?i:{alt})(\\s*,\\s*(?i:{alt}))*$")),
                        );
                    }
                }
            }
            // `$ref` with siblings: draft 7 ignores the siblings; keep the reference alone (the
            // definition it names accepts null itself).
            if out.contains_key("$ref") {
                let r = out.remove("$ref").unwrap_or(Value::Null);
                return json!({ "$ref": r });
            }
            match out.get("type").cloned() {
                Some(Value::String(t)) => {
                    out.insert("type".into(), json!([t, "null"]));
                }
                None if out.contains_key("properties") => {
                    out.insert("type".into(), json!(["object", "null"]));
                }
                _ => {}
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| convert(x, defs)).collect()),
        other => other.clone(),
    }
}

fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Validation errors of `instance`, as `path: message` lines.
pub fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .take(8)
        .map(|e| {
            // The message starts with the instance, which can be large: keep its end.
            let m = e.to_string();
            let tail = if m.len() > 200 {
                let from = (m.len() - 200..m.len())
                    .find(|i| m.is_char_boundary(*i))
                    .unwrap_or(0);
                format!("...{}", &m[from..])
            } else {
                m
            };
            format!(
                "at {} (schema {}): {tail}",
                e.instance_path(),
                e.schema_path()
            )
        })
        .collect()
}
