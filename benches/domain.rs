//! Hashing and diffing the whole demo fleet: the work behind `relcon hash` of a master list and
//! behind the approvals view's grouping of identical config changes.

use criterion::{Criterion, criterion_group, criterion_main};
use relcon::domain::config::{CircuitConfig, ConfigDocument};
use relcon::domain::diff::{ConfigDiff, TextChanges};
use relcon::domain::hash::training_hash;
use relcon::domain::yaml::{self, Mapping, Node, Value};

const FLEET: &str = include_str!("../configs/fleet/circuits.yaml");

fn entries() -> Vec<Node> {
    match ConfigDocument::parse(FLEET) {
        Ok(ConfigDocument::Master { entries, .. }) => entries,
        other => panic!("demo fleet is not a master list: {other:?}"),
    }
}

/// Per-circuit texts of the master entries, and candidates with two changes each.
fn texts(nodes: &[Node]) -> Vec<(String, String)> {
    let lines: Vec<&str> = FLEET.lines().collect();
    let mut out = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let start = n.mark.line as usize - 1;
        let end = nodes
            .get(i + 1)
            .map(|m| m.mark.line as usize - 1)
            .unwrap_or(lines.len());
        let text: String = lines[start..end]
            .iter()
            .filter(|l| !l.trim_start().starts_with('#'))
            .map(|l| format!("{}\n", l.get(2..).unwrap_or("")))
            .collect();
        let candidate = text
            .replacen("cutoff_date: '", "cutoff_date: '2026-", 1)
            .replace("learning_rate: 0.001", "learning_rate: 0.0008");
        out.push((text, candidate));
    }
    out
}

fn bench(c: &mut Criterion) {
    let nodes = entries();
    assert_eq!(nodes.len(), 130);
    c.bench_function("parse demo fleet (YAML 1.1, 130 circuits)", |b| {
        b.iter(|| yaml::load(std::hint::black_box(FLEET)))
    });
    c.bench_function("validate + hash demo fleet (130 configs)", |b| {
        b.iter(|| {
            nodes
                .iter()
                .filter_map(|n| CircuitConfig::from_node(n, "{plant}-{circuit}").ok())
                .count()
        })
    });
    let roots: Vec<Mapping> = nodes
        .iter()
        .filter_map(|n| match &n.value {
            Value::Map(m) => Some(m.clone()),
            _ => None,
        })
        .collect();
    c.bench_function("training hash only (130 configs)", |b| {
        b.iter(|| roots.iter().filter_map(|m| training_hash(m).ok()).count())
    });
    let texts = texts(&nodes);
    let pairs: Vec<(Mapping, Mapping)> = texts
        .iter()
        .filter_map(
            |(a, b)| match (yaml::load(a).ok()?.value, yaml::load(b).ok()?.value) {
                (Value::Map(a), Value::Map(b)) => Some((a, b)),
                _ => None,
            },
        )
        .collect();
    assert_eq!(pairs.len(), 130);
    c.bench_function("semantic diff demo fleet (130 pairs)", |b| {
        b.iter(|| {
            pairs
                .iter()
                .map(|(a, b)| ConfigDiff::between(a, b).changes.len())
                .sum::<usize>()
        })
    });
    c.bench_function("text diff with word emphasis (130 pairs)", |b| {
        b.iter(|| {
            texts
                .iter()
                .map(|(a, b)| TextChanges::new(a, b, 3).hunks.len())
                .sum::<usize>()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
