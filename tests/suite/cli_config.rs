//! The headless config tools as a user runs them: `relcon hash`, `relcon diff`,
//! `relcon configs check`, over the demo fleet, the examples and broken fleets.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn relcon() -> Command {
    let mut c = Command::cargo_bin("relcon").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    // Keep the user's own configuration out of the tests.
    c.env("XDG_CONFIG_HOME", env!("CARGO_TARGET_TMPDIR"));
    c.env_remove("RELCON_CONFIG");
    c
}

const PROD: &str = "configs/examples/PLANT001_CIRCUIT01.prod.yaml";
const CANDIDATE: &str = "configs/examples/PLANT001_CIRCUIT01.candidate.yaml";

#[test]
fn hash_prints_hash_and_path_per_file_and_per_master_entry() {
    relcon()
        .args(["hash", PROD, CANDIDATE])
        .assert()
        .success()
        .stdout(format!("8867fc18e602  {PROD}\n51b1b4fcf6c5  {CANDIDATE}\n"));
    let out = relcon()
        .args(["hash", "configs/fleet/circuits.yaml"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 130);
    assert!(
        text.starts_with("8867fc18e602  configs/fleet/circuits.yaml#PLANT001/CIRCUIT01\n"),
        "{text}"
    );
}

#[test]
fn hash_json_has_the_canonical_json() {
    let out = relcon().args(["hash", "--json", PROD]).output().unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["command"], "hash");
    assert_eq!(v["configs"][0]["path"], PROD);
    assert_eq!(v["configs"][0]["training_hash"], "8867fc18e602");
    assert_eq!(v["configs"][0]["missing_fields"], serde_json::json!([]));
    assert_eq!(v["errors"], serde_json::json!([]));
    let canonical = v["configs"][0]["canonical_json"].as_str().unwrap();
    assert!(
        canonical.starts_with("{\"cutoff_date\": \"2025-11-01\", \"delta_version\": 6"),
        "{canonical}"
    );
}

#[test]
fn per_circuit_files_hash_like_their_master_entries() {
    let master = relcon()
        .args(["hash", "--json", "configs/fleet/circuits.yaml"])
        .output()
        .unwrap();
    let master: Value = serde_json::from_slice(&master.stdout).unwrap();
    let one = relcon()
        .args([
            "hash",
            "--json",
            "configs/fleet/circuits/PLANT009_CIRCUIT04.yaml",
        ])
        .output()
        .unwrap();
    let one: Value = serde_json::from_slice(&one.stdout).unwrap();
    let entry = master["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"].as_str().unwrap().ends_with("#PLANT009/CIRCUIT04"))
        .unwrap();
    assert_eq!(entry["training_hash"], one["configs"][0]["training_hash"]);
}

#[test]
fn diff_reports_learning_rate_as_retraining_and_env_as_non_breaking() {
    let out = relcon()
        .args(["diff", "--json", PROD, CANDIDATE])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "different configs exit 1 like diff(1)"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let changes = v["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0]["path"], "hyperparameters.learning_rate");
    assert_eq!(changes[0]["kind"], "changed");
    assert_eq!(changes[0]["old"], 0.001);
    assert_eq!(changes[0]["new"], 0.0005);
    assert_eq!(changes[0]["in_training_hash"], true);
    assert_eq!(changes[1]["path"], "environment_version");
    assert_eq!(changes[1]["in_training_hash"], false);
    assert_eq!(v["training_hash"]["old"], "8867fc18e602");
    assert_eq!(v["training_hash"]["new"], "51b1b4fcf6c5");
    assert_eq!(v["retrain_required"], true);
    assert_eq!(v["environment_change"], "non-breaking");
}

#[test]
fn diff_human_output_has_summary_then_unified_diff_without_colour_when_piped() {
    relcon()
        .args(["diff", PROD, CANDIDATE])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "~ hyperparameters.learning_rate  0.001 -> 0.0005  [retrains]",
        ))
        .stdout(predicate::str::contains(
            "environment    1.5.0 -> 1.5.1  (non-breaking)",
        ))
        .stdout(predicate::str::contains(
            "-  learning_rate: 0.001\n+  learning_rate: 0.0005",
        ))
        .stdout(predicate::str::contains("\u{1b}[").not());
}

#[test]
fn diff_breaking_environment_and_list_changes() {
    let out = relcon()
        .args([
            "diff",
            "--json",
            "configs/examples/PLANT002_CIRCUIT03.prod.yaml",
            "configs/examples/PLANT002_CIRCUIT03.candidate.yaml",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["environment_change"], "breaking");
    let kinds: Vec<(String, String)> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["path"].as_str().unwrap().to_owned(),
                c["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        kinds
            .iter()
            .any(|(p, k)| p.starts_with("features[") && k == "added"),
        "{kinds:?}"
    );
    assert!(
        kinds
            .iter()
            .any(|(p, k)| p.starts_with("hyperparameters.") && k == "removed"),
        "{kinds:?}"
    );
    assert!(
        kinds
            .iter()
            .any(|(p, k)| p.starts_with("hyperparameters.") && k == "added"),
        "{kinds:?}"
    );
}

#[test]
fn diff_of_non_hash_fields_does_not_retrain() {
    let out = relcon()
        .args([
            "diff",
            "--json",
            "configs/examples/PLANT003_CIRCUIT02.prod.yaml",
            "configs/examples/PLANT003_CIRCUIT02.candidate.yaml",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["retrain_required"], false);
    assert_eq!(v["training_hash"]["old"], v["training_hash"]["new"]);
}

#[test]
fn diff_of_identical_configs_exits_0_and_side_by_side_renders_two_columns() {
    relcon()
        .args(["diff", PROD, PROD])
        .assert()
        .success()
        .stdout(predicate::str::contains("no semantic changes"));
    let out = relcon()
        .args(["diff", "--side-by-side", PROD, CANDIDATE])
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let row = text
        .lines()
        .find(|l| l.contains("learning_rate: 0.001"))
        .unwrap();
    assert!(
        row.contains(" | ") && row.contains("learning_rate: 0.0005"),
        "{row}"
    );
}

#[test]
fn diff_selects_a_circuit_of_a_master_list() {
    let out = relcon()
        .args([
            "diff",
            "--json",
            "configs/fleet/circuits.yaml#PLANT001/CIRCUIT01",
            PROD,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    relcon()
        .args(["diff", "configs/fleet/circuits.yaml", PROD])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "pick one with configs/fleet/circuits.yaml#PLANT001/CIRCUIT01",
        ));
}

#[test]
fn bad_input_is_one_located_message_and_exit_2() {
    relcon()
        .args(["diff", "no/such.yaml", PROD])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "relcon: no/such.yaml: cannot read",
        ));
    relcon()
        .args(["hash", "tests/data/invalid_fleets/invalid-yaml.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "invalid-yaml.yaml:6:14: invalid YAML",
        ));
    relcon().args(["hash"]).assert().code(2);
    relcon().args(["diff", PROD]).assert().code(2);
}

#[test]
fn demo_fleet_checks_clean_in_both_layouts() {
    relcon()
        .args(["configs", "check", "configs/fleet/circuits.yaml"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "130 circuits in 17 plants, 1 file, clean",
        ));
    relcon()
        .args(["configs", "check"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "configs/fleet: 130 circuits in 17 plants, 131 files, clean",
        ));
    relcon()
        .args(["configs", "check", "configs/fleet/circuits"])
        .assert()
        .success()
        .stdout(predicate::str::contains("130 files, clean"));
}

#[test]
fn broken_fleets_name_the_problem_file_and_line() {
    let cases = [
        (
            "duplicate-id.yaml",
            "duplicate-id.yaml:13:3: duplicate circuit PLANT001/CIRCUIT01: first defined at",
        ),
        (
            "missing-cutoff.yaml",
            "missing-cutoff.yaml:2:3: missing required field `cutoff_date`",
        ),
        ("invalid-yaml.yaml", "invalid-yaml.yaml:6:14: invalid YAML"),
        (
            "wrong-type.yaml",
            "wrong-type.yaml:9:18: `training_days` must be an integer, found str `a year`",
        ),
        (
            "bad-naming.yaml",
            "bad-naming.yaml:13:15: model_name `kiln-burner-8` breaks the naming template",
        ),
    ];
    for (file, message) in cases {
        relcon()
            .args([
                "configs",
                "check",
                &format!("tests/data/invalid_fleets/{file}"),
            ])
            .assert()
            .code(1)
            .stdout(predicate::str::contains(message));
    }
    let out = relcon()
        .args([
            "configs",
            "check",
            "--json",
            "tests/data/invalid_fleets/bad-naming.yaml",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["clean"], false);
    assert_eq!(v["problems"].as_array().unwrap().len(), 2);
    assert_eq!(v["problems"][0]["line"], 3);
    relcon()
        .args(["configs", "check", "no/such/dir"])
        .assert()
        .code(2);
}

#[test]
fn generated_files_must_agree_with_the_master() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::copy("configs/fleet/circuits.yaml", root.join("circuits.yaml")).unwrap();
    std::fs::create_dir(root.join("circuits")).unwrap();
    for entry in std::fs::read_dir("configs/fleet/circuits").unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, root.join("circuits").join(p.file_name().unwrap())).unwrap();
    }
    let edited = root.join("circuits/PLANT004_CIRCUIT02.yaml");
    let text = std::fs::read_to_string(&edited)
        .unwrap()
        .replace("training_days: ", "training_days: 1");
    std::fs::write(&edited, text).unwrap();
    std::fs::remove_file(root.join("circuits/PLANT001_CIRCUIT03.yaml")).unwrap();
    relcon()
        .args(["configs", "check"])
        .arg(root)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "PLANT004_CIRCUIT02.yaml: differs from its entry",
        ))
        .stdout(predicate::str::contains("PLANT001_CIRCUIT03.yaml: missing"));
}

#[test]
fn the_configuration_supplies_naming_templates_and_bad_ones_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string("configs/relcon.example.toml").unwrap();
    let custom = example.replace(
        "model = \"{plant}-{circuit}\"",
        "model = \"fc-{plant}-{circuit}\"",
    );
    let path = dir.path().join("relcon.toml");
    std::fs::write(&path, custom).unwrap();
    relcon()
        .arg("--config")
        .arg(&path)
        .args([
            "configs",
            "check",
            "configs/fleet/circuits/PLANT001_CIRCUIT01.yaml",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("expected `fc-plant001-circuit01`"));
    let typo = example.replace("prod_min_approvers = 2", "prod_min_aprovers = 2");
    std::fs::write(&path, typo).unwrap();
    let line = example
        .lines()
        .position(|l| l.starts_with("prod_min_approvers"))
        .unwrap()
        + 1;
    relcon()
        .arg("--config")
        .arg(&path)
        .args(["configs", "check"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "relcon.toml:{line}:1: unknown field `prod_min_aprovers`"
        )));
}

/// The pipeline trains a config that lacks a hash field, hashing the field as its `dict.get`
/// default; `relcon hash` gives that hash (the vector the pipeline's function made), warns,
/// and `configs check` still calls the missing required field a problem.
#[test]
fn a_config_missing_hash_fields_hashes_as_the_pipeline_does_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let vectors: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/training-hash-missing.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let v = vectors["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["missing_fields"] == serde_json::json!(["training_days"]))
        .unwrap();
    let file = dir.path().join("PLANT001_CIRCUIT01.yaml");
    std::fs::write(&file, v["yaml"].as_str().unwrap()).unwrap();
    let file = file.to_str().unwrap();
    let out = relcon().args(["hash", file]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}  {file}\n", v["training_hash"].as_str().unwrap())
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning") && err.contains("no `training_days`: hashed as null"),
        "{err}"
    );
    let out = relcon().args(["--json", "hash", file]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["configs"][0]["training_hash"], v["training_hash"]);
    assert_eq!(doc["configs"][0]["canonical_json"], v["canonical_json"]);
    assert_eq!(
        doc["configs"][0]["missing_fields"],
        serde_json::json!(["training_days"])
    );
    relcon()
        .args(["configs", "check", file])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "missing required field `training_days` (the pipeline hashes and trains it as `training_days: null`)",
        ));
    // A master entry without cutoff_date hashes too (the vector's file, as a master list).
    relcon()
        .args(["hash", "tests/data/invalid_fleets/missing-cutoff.yaml"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "missing-cutoff.yaml#PLANT002/CIRCUIT01",
        ))
        .stderr(predicate::str::contains("no `cutoff_date`: hashed as null"));
}
