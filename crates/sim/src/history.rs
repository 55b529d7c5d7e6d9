//! Model histories: each circuit's versions walked back from HEAD one plausible change at a
//! time (data refreshes, hyperparameter tweaks, pipeline component upgrades), and the one
//! identical change the big pending release applies to many circuits.

use chrono::{DateTime, Months, NaiveDate, Utc};
use fastrand::Rng;
use std::collections::BTreeMap;

use super::configs::{self, Field, Overrides};
use super::world::ModelVer;
use crate::domain::yaml::{Mapping, Value};

/// The identical change of the big release: `(circuits, (field, old, new) pairs)`.
pub type Change = Vec<(Field, Value, Value)>;

pub fn pick_identical_change(
    heads: &[Mapping],
    pool: &mut Vec<usize>,
    target: usize,
) -> (Vec<usize>, Change) {
    if target == 0 {
        return (Vec::new(), Vec::new());
    }
    let none = Overrides::new();
    let text = |c: usize, f: &Field| configs::get(&heads[c], &none, f).map(|v| v.to_string());
    let mut by_cutoff: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    let mut by_pcv: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for &c in pool.iter() {
        if let (Some(cut), Some(Value::Int(d))) = (
            text(c, &Field::Top("cutoff_date")),
            configs::get(&heads[c], &none, &Field::Top("delta_version")),
        ) && *d > 1
        {
            by_cutoff.entry((cut, d.to_string())).or_default().push(c);
        }
        if let Some(Value::Str(p)) =
            configs::get(&heads[c], &none, &Field::Top("pipeline_component_version"))
            && minor_down(p).is_some()
        {
            by_pcv.entry(p.clone()).or_default().push(c);
        }
    }
    let best_cut = by_cutoff.into_iter().max_by_key(|(_, v)| v.len());
    let best_pcv = by_pcv.into_iter().max_by_key(|(_, v)| v.len());
    let (mut group, change) = match (best_cut, best_pcv) {
        (Some((_, g)), _) if g.len() >= target => {
            let c = g[0];
            let cut = configs::get(&heads[c], &none, &Field::Top("cutoff_date")).cloned();
            let delta = configs::get(&heads[c], &none, &Field::Top("delta_version")).cloned();
            match (cut, delta) {
                (Some(Value::Str(new_cut)), Some(Value::Int(d))) => {
                    let old_cut = months_before(&new_cut, 3).unwrap_or_else(|| new_cut.clone());
                    let change = vec![
                        (
                            Field::Top("cutoff_date"),
                            Value::Str(old_cut),
                            Value::Str(new_cut),
                        ),
                        (
                            Field::Top("delta_version"),
                            Value::Int(d - 1),
                            Value::Int(d),
                        ),
                    ];
                    (g, change)
                }
                _ => (Vec::new(), Vec::new()),
            }
        }
        (_, Some((p, g))) => {
            let old = minor_down(&p).unwrap_or_default();
            (
                g,
                vec![(
                    Field::Top("pipeline_component_version"),
                    Value::Str(old),
                    Value::Str(p),
                )],
            )
        }
        _ => (Vec::new(), Vec::new()),
    };
    group.sort_unstable();
    group.truncate(target);
    pool.retain(|c| !group.contains(c));
    (group, change)
}

pub fn minor_down(v: &str) -> Option<String> {
    let parts: Vec<u64> = v
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        [major, minor, _] if *minor > 0 => Some(format!("{major}.{}.0", minor - 1)),
        _ => None,
    }
}

pub fn months_before(date: &str, months: u32) -> Option<String> {
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    Some(
        d.checked_sub_months(Months::new(months))?
            .format("%Y-%m-%d")
            .to_string(),
    )
}

/// The versions of one circuit, oldest first, walking back from HEAD one change at a time;
/// and for each version, the change that produced it (for release descriptions).
#[allow(clippy::too_many_arguments)]
pub fn history(
    head: &Mapping,
    nv: usize,
    c: usize,
    big: &[usize],
    odd: &[usize],
    change: &Change,
    lineage_break: bool,
    rng: &mut Rng,
) -> (Vec<ModelVer>, Vec<String>) {
    let mut ovs: Vec<Overrides> = vec![Overrides::new(); nv];
    let mut said = vec![String::from("initial training"); nv];
    for k in (0..nv - 1).rev() {
        let mut ov = ovs[k + 1].clone();
        let mut words = Vec::new();
        if k == nv - 2 && big.contains(&c) {
            for (f, old, new) in change {
                configs::set(&mut ov, f.clone(), old.clone());
                words.push(format!("{} {old} -> {new}", f.name()));
            }
            if let Some(i) = odd.iter().position(|&o| o == c) {
                let key = ["learning_rate", "epochs", "lstm_units"][i % 3];
                if let Some(w) = tweak(head, &mut ov, key, rng) {
                    words.push(w);
                }
            }
        } else {
            words.push(refresh(head, &mut ov, rng));
            if rng.u8(0..100) < 35 {
                let key = [
                    "learning_rate",
                    "epochs",
                    "lstm_units",
                    "batch_size",
                    "dropout",
                ][rng.usize(..5)];
                words.extend(tweak(head, &mut ov, key, rng));
            }
            if rng.u8(0..100) < 15
                && let Some(Value::Str(p)) =
                    configs::get(head, &ov, &Field::Top("pipeline_component_version")).cloned()
                && let Some(old) = minor_down(&p)
            {
                words.push(format!("pipeline_component_version {old} -> {p}"));
                configs::set(
                    &mut ov,
                    Field::Top("pipeline_component_version"),
                    Value::Str(old),
                );
            }
        }
        said[k + 1] = words.join(", ");
        ovs[k] = ov;
    }
    let versions = ovs
        .into_iter()
        .enumerate()
        .map(|(k, ov)| {
            let value = |f: &'static str| configs::get(head, &ov, &Field::Top(f)).cloned();
            let mut hash_ov = ov.clone();
            if lineage_break && k == nv - 1 {
                // Trained from an uncommitted edit: the tag matches no committed config.
                let epochs = match configs::get(head, &ov, &Field::Hyper("epochs".into())) {
                    Some(Value::Int(e)) => *e + 10,
                    _ => 60,
                };
                configs::set(
                    &mut hash_ov,
                    Field::Hyper("epochs".into()),
                    Value::Int(epochs),
                );
            }
            ModelVer {
                version: k as u32 + 1,
                build: 0,
                tag_hash: configs::variant_hash(head, &hash_ov)
                    .map(|h| h.to_string())
                    .unwrap_or_default(),
                cutoff: value("cutoff_date")
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                delta: match value("delta_version") {
                    Some(Value::Int(d)) => d.to_string(),
                    Some(Value::Str(s)) => s,
                    _ => String::new(),
                },
                pcv: match value("pipeline_component_version") {
                    Some(Value::Str(s)) => s,
                    _ => crate::domain::hash::DEFAULT_PIPELINE_COMPONENT_VERSION.into(),
                },
                overrides: ov,
                created: DateTime::<Utc>::UNIX_EPOCH,
                registry_at: None,
            }
        })
        .collect();
    (versions, said)
}

/// One data refresh back in time: an earlier cutoff and the delta version before it.
fn refresh(head: &Mapping, ov: &mut Overrides, rng: &mut Rng) -> String {
    let cut = configs::get(head, ov, &Field::Top("cutoff_date"))
        .and_then(|v| v.as_str().map(str::to_owned));
    let mut words = String::new();
    if let Some(cut) = cut
        && let Some(old) = months_before(&cut, rng.u32(1..=3))
    {
        words = format!("cutoff_date '{old}' -> '{cut}'");
        configs::set(ov, Field::Top("cutoff_date"), Value::Str(old));
    }
    if let Some(Value::Int(d)) = configs::get(head, ov, &Field::Top("delta_version")).cloned()
        && d > 1
    {
        configs::set(ov, Field::Top("delta_version"), Value::Int(d - 1));
        words.push_str(&format!(", delta_version {} -> {d}", d - 1));
    }
    words
}

/// An earlier value of one hyperparameter that the circuit has; `None` when it has not.
fn tweak(head: &Mapping, ov: &mut Overrides, key: &str, rng: &mut Rng) -> Option<String> {
    let field = Field::Hyper(key.to_owned());
    let cur = configs::get(head, ov, &field)?.clone();
    let old = match (&cur, key) {
        (Value::Float(x), _) => {
            let choices = if key == "dropout" {
                [0.1, 0.15, 0.3, 0.35]
            } else {
                [0.0005, 0.001, 0.002, 0.003]
            };
            Value::Float(
                *choices
                    .iter()
                    .find(|&&c| (c - x).abs() > 1e-12 && rng.bool())
                    .unwrap_or(&choices[3]),
            )
        }
        (Value::Int(i), "epochs") => Value::Int(if *i > 40 { i - 20 } else { i + 20 }),
        (Value::Int(i), _) => Value::Int(if *i >= 64 { i / 2 } else { i * 2 }),
        _ => return None,
    };
    if old == cur {
        return None;
    }
    let words = format!("{key} {old} -> {cur}");
    configs::set(ov, field, old);
    Some(words)
}
