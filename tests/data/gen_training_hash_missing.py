#!/usr/bin/env python3
"""Generate training-hash vectors for configs that lack hash fields, with the pipeline's rule.

Run from the repository root with PyYAML 6 installed:

    python3 tests/data/gen_training_hash_missing.py

Writes tests/data/training-hash-missing.json. The pipeline reads a circuit config with
yaml.safe_load and builds the dict it hashes with dict.get, so a missing field is hashed as its
default (None, or "1.0.0" for pipeline_component_version, or {} for hyperparameters) and the
model is still trained and tagged. relcon must give the same hash; the Rust test
(tests/training_hash_vectors.rs) only reads the output file, so CI needs no Python.
"""

import hashlib
import itertools
import json

import yaml

OUT = "tests/data/training-hash-missing.json"

HASH_FIELDS = [
    "cutoff_date",
    "delta_version",
    "pipeline_component_version",
    "training_days",
    "hyperparameters",
]

# The seed's master entry, one top-level key per block so a field can be dropped with its lines.
SEED = [
    ("plant_id", "plant_id: PLANT001\n"),
    ("circuit_id", "circuit_id: CIRCUIT01\n"),
    ("model_name", "model_name: plant001-circuit01\n"),
    ("description", "description: Primary cooling system\n"),
    ("features", "features:\n- temperature\n- pressure\n- vibration\n"),
    ("cutoff_date", "cutoff_date: '2025-11-01'\n"),
    ("delta_version", "delta_version: 1\n"),
    ("pipeline_component_version", "pipeline_component_version: 1.0.0\n"),
    ("training_days", "training_days: 365\n"),
    ("forecast_horizon", "forecast_horizon: 7\n"),
    (
        "hyperparameters",
        "hyperparameters:\n  lstm_units: 64\n  learning_rate: 0.001\n  epochs: 50\n  batch_size: 32\n",
    ),
    ("environment_version", "environment_version: 1.0.0\n"),
]


def pipeline_hash(cfg):
    """The pipeline's training hash: dict.get with its defaults, json.dumps sorted, md5[:12]."""
    h = {
        "cutoff_date": cfg.get("cutoff_date"),
        "delta_version": cfg.get("delta_version"),
        "pipeline_component_version": cfg.get("pipeline_component_version", "1.0.0"),
        "training_days": cfg.get("training_days"),
        "hyperparameters": cfg.get("hyperparameters", {}),
    }
    canonical = json.dumps(h, sort_keys=True)
    return canonical, hashlib.md5(canonical.encode()).hexdigest()[:12]


def vector(name, text):
    cfg = yaml.safe_load(text)
    canonical, digest = pipeline_hash(cfg)
    return {
        "name": name,
        "yaml": text,
        "missing_fields": [f for f in HASH_FIELDS if f not in cfg],
        "canonical_json": canonical,
        "training_hash": digest,
    }


def without(*fields):
    return "".join(block for key, block in SEED if key not in fields)


def main():
    vectors = [vector("complete (the seed entry)", without())]
    for field in HASH_FIELDS:
        vectors.append(vector(f"missing {field}", without(field)))
    # Pairs that occur in hand-written configs, then every field at once.
    for pair in [
        ("cutoff_date", "training_days"),
        ("delta_version", "pipeline_component_version"),
        ("training_days", "hyperparameters"),
    ]:
        vectors.append(vector("missing " + " and ".join(pair), without(*pair)))
    vectors.append(vector("missing all five", without(*HASH_FIELDS)))
    # Every other combination, so that no subset is left to chance.
    named = {tuple(v["missing_fields"]) for v in vectors}
    for n in range(2, len(HASH_FIELDS)):
        for combo in itertools.combinations(HASH_FIELDS, n):
            if combo not in named:
                vectors.append(vector("missing " + ", ".join(combo), without(*combo)))
    # Present but null is not missing: hashed as the null it is, never replaced by a default.
    vectors.append(
        vector(
            "explicit nulls (not defaulted)",
            without("pipeline_component_version", "hyperparameters")
            + "pipeline_component_version:\nhyperparameters: ~\n",
        )
    )
    doc = {
        "algorithm": "md5(json.dumps({k: cfg.get(k, default)}, sort_keys=True))[:12] over PyYAML "
        "safe_load output; defaults: cutoff_date, delta_version, training_days -> None, "
        "pipeline_component_version -> '1.0.0', hyperparameters -> {}",
        "generator": "tests/data/gen_training_hash_missing.py",
        "pyyaml": yaml.__version__,
        "vectors": vectors,
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {len(vectors)} vectors to {OUT}")


if __name__ == "__main__":
    main()
