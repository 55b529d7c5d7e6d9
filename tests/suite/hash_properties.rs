//! Properties of the training hash over generated configs: key order never matters, fields
//! outside the hash never matter, and any change to a hashed field's value changes the hash.

use proptest::prelude::*;
use relcon::domain::hash::{HASH_FIELDS, TrainingHash, training_hash};
use relcon::domain::yaml::{Mapping, Value, load};

/// A YAML node to render: a scalar as written, a block mapping or a flow list of scalars.
#[derive(Debug, Clone)]
enum Y {
    Scalar(String),
    Map(Vec<(String, Y)>),
    List(Vec<String>),
}

fn render(entries: &[(String, Y)], indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    for (key, value) in entries {
        match value {
            Y::Scalar(s) => out.push_str(&format!("{pad}{key}: {s}\n")),
            Y::Map(children) if children.is_empty() => out.push_str(&format!("{pad}{key}: {{}}\n")),
            Y::Map(children) => {
                out.push_str(&format!("{pad}{key}:\n"));
                render(children, indent + 2, out);
            }
            Y::List(items) => out.push_str(&format!("{pad}{key}: [{}]\n", items.join(", "))),
        }
    }
}

fn yaml_text(entries: &[(String, Y)]) -> String {
    let mut out = String::new();
    render(entries, 0, &mut out);
    out
}

fn root(text: &str) -> Mapping {
    match load(text).map(|n| n.value) {
        Ok(Value::Map(m)) => m,
        other => panic!("{text:?} did not load as a mapping: {other:?}"),
    }
}

fn hash_of(entries: &[(String, Y)]) -> Result<TrainingHash, TestCaseError> {
    let text = yaml_text(entries);
    training_hash(&root(&text)).map_err(|e| TestCaseError::fail(format!("{text}\n{e}")))
}

/// Scalars as a config writes them; YAML 1.1 resolution turns them into every value type.
fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i32>().prop_map(|i| i.to_string()),
        (0u32..100_000, 0u32..10_000).prop_map(|(a, b)| format!("{a}.{b}")),
        (1u32..10, 0u32..100, 1u32..12).prop_map(|(a, b, e)| format!("{a}.{b}e-{e}")),
        prop::sample::select(vec![
            "yes", "no", "on", "off", "true", "False", "~", "null", "y", "n"
        ])
        .prop_map(String::from),
        "[a-z][a-z0-9_]{0,8}",
        "[A-Za-z0-9 .:-]{0,10}".prop_map(|s| format!("'{s}'")),
        (2000u32..2100, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("'{y}-{m:02}-{d:02}'")),
        prop::sample::select(vec![
            "1e-4", "1.5e3", "1.5e+3", "0o17", "017", "0x1F", "1_000", "1:30", "-.inf", ".nan",
            "1.0.0", "-0.0", "0.0"
        ])
        .prop_map(String::from),
    ]
}

/// Keys that YAML 1.1 reads as strings: `on`, `no`, `null`... would become bool or null keys,
/// which `json.dumps(sort_keys=True)` cannot sort among string keys (a real error, tested in
/// `yaml_errors.rs`, not a property of the hash).
fn plain_key(pattern: &'static str) -> impl Strategy<Value = String> {
    pattern.prop_filter("a key YAML 1.1 reads as a string", |k| {
        !matches!(
            k.as_str(),
            "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        )
    })
}

fn node() -> impl Strategy<Value = Y> {
    prop_oneof![
        4 => scalar().prop_map(Y::Scalar),
        1 => prop::collection::vec(scalar(), 0..4).prop_map(Y::List),
        1 => prop::collection::btree_map(plain_key("[a-z]{1,6}"), scalar().prop_map(Y::Scalar), 0..4)
            .prop_map(|m| Y::Map(m.into_iter().collect())),
    ]
}

fn hyperparameters() -> impl Strategy<Value = Vec<(String, Y)>> {
    prop::collection::btree_map(plain_key("[a-z][a-z_]{0,10}"), node(), 0..6)
        .prop_map(|m| m.into_iter().collect())
}

/// Keys that are not hash fields.
fn extra_key() -> impl Strategy<Value = String> {
    plain_key("[a-z][a-z_]{0,12}")
        .prop_filter("not a hash field", |k| !HASH_FIELDS.contains(&k.as_str()))
}

/// A config with the required fields, some optional ones and some unrelated ones.
fn config() -> impl Strategy<Value = Vec<(String, Y)>> {
    (
        scalar(),
        scalar(),
        prop::option::of(scalar()),
        prop::option::of(scalar()),
        prop::option::of(hyperparameters()),
        prop::collection::btree_map(extra_key(), node(), 0..5),
    )
        .prop_map(|(cutoff, days, delta, component, hp, extras)| {
            let mut entries = vec![
                ("cutoff_date".to_string(), Y::Scalar(cutoff)),
                ("training_days".to_string(), Y::Scalar(days)),
            ];
            if let Some(d) = delta {
                entries.push(("delta_version".to_string(), Y::Scalar(d)));
            }
            if let Some(c) = component {
                entries.push(("pipeline_component_version".to_string(), Y::Scalar(c)));
            }
            if let Some(h) = hp {
                entries.push(("hyperparameters".to_string(), Y::Map(h)));
            }
            entries.extend(extras);
            entries
        })
}

fn shuffle_nested(entries: Vec<(String, Y)>, seed: u64) -> Vec<(String, Y)> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut entries: Vec<(String, Y)> = entries
        .into_iter()
        .map(|(k, v)| match v {
            Y::Map(children) => (k, Y::Map(shuffle_nested(children, rng.u64(..)))),
            other => (k, other),
        })
        .collect();
    rng.shuffle(&mut entries);
    entries
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn key_order_never_changes_the_hash(cfg in config(), seed in any::<u64>()) {
        let shuffled = shuffle_nested(cfg.clone(), seed);
        prop_assert_eq!(hash_of(&cfg)?, hash_of(&shuffled)?);
    }

    #[test]
    fn non_hash_fields_never_change_the_hash(
        cfg in config(),
        added in prop::collection::vec((extra_key(), node()), 1..4),
        replacement in node(),
    ) {
        let before = hash_of(&cfg)?;
        // Adding fields (a repeated key replaces the earlier value, like a dict).
        let mut more = cfg.clone();
        more.extend(added);
        prop_assert_eq!(&before, &hash_of(&more)?);
        // Changing or dropping an existing non-hash field.
        let mut changed = cfg.clone();
        if let Some(slot) = changed.iter_mut().find(|(k, _)| !HASH_FIELDS.contains(&k.as_str())) {
            slot.1 = replacement;
        }
        prop_assert_eq!(&before, &hash_of(&changed)?);
        let kept: Vec<_> = cfg.iter().filter(|(k, _)| HASH_FIELDS.contains(&k.as_str())).cloned().collect();
        prop_assert_eq!(&before, &hash_of(&kept)?);
    }

    #[test]
    fn changing_a_hash_field_changes_the_hash(cfg in config(), field in 0..HASH_FIELDS.len(), new in node()) {
        let name = HASH_FIELDS[field];
        let mut changed = cfg.clone();
        match changed.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = new,
            None => changed.push((name.to_string(), new)),
        }
        let value_of = |entries: &[(String, Y)]| {
            let m = root(&yaml_text(entries));
            m.get(name).map(|n| n.value.clone())
        };
        let (old_value, new_value) = (value_of(&cfg), value_of(&changed));
        // The value the pipeline reads must really differ (NaN never equals itself).
        let same = old_value == new_value
            || matches!((&old_value, &new_value), (Some(Value::Float(a)), Some(Value::Float(b))) if a.is_nan() && b.is_nan());
        // An absent optional field reads as its default.
        let default = match name {
            "delta_version" => Some(Value::Null),
            "pipeline_component_version" => Some(Value::Str("1.0.0".into())),
            "hyperparameters" => Some(Value::Map(Mapping::new())),
            _ => None,
        };
        let same = same || (old_value.is_none() && new_value == default);
        prop_assume!(!same);
        prop_assert_ne!(hash_of(&cfg)?, hash_of(&changed)?);
    }

    #[test]
    fn changing_one_hyperparameter_changes_the_hash(hp in hyperparameters(), new in scalar(), pick in any::<prop::sample::Index>()) {
        prop_assume!(!hp.is_empty());
        let base = |hp: Vec<(String, Y)>| vec![
            ("cutoff_date".to_string(), Y::Scalar("'2025-11-01'".into())),
            ("training_days".to_string(), Y::Scalar("365".into())),
            ("hyperparameters".to_string(), Y::Map(hp)),
        ];
        let mut changed = hp.clone();
        let i = pick.index(changed.len());
        let key = changed[i].0.clone();
        changed[i].1 = Y::Scalar(new);
        let hp_value = |entries: &[(String, Y)]| {
            let m = root(&yaml_text(entries));
            m.get("hyperparameters").and_then(|n| n.value.as_map()).and_then(|h| h.get(&key)).map(|n| n.value.clone())
        };
        let (old, new) = (hp_value(&base(hp.clone())), hp_value(&base(changed.clone())));
        let same = old == new
            || matches!((&old, &new), (Some(Value::Float(a)), Some(Value::Float(b))) if a.is_nan() && b.is_nan());
        prop_assume!(!same);
        prop_assert_ne!(hash_of(&base(hp))?, hash_of(&base(changed))?);
    }
}
