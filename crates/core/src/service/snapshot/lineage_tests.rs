//! The lineage stage alone: known versions, the Prod model's tag against its config, the
//! models of each build, and what a failed version or config read leaves unknown.

use super::*;
use crate::domain::fleet::CircuitSnapshot;
use crate::domain::{ModelVersion, Status};
use crate::service::backend::BackendError;
use crate::service::snapshot::fixtures::*;

/// CIRCUIT01 (v4 in Prod) and CIRCUIT02 (v2 in Prod), as the inventory leaves them.
fn circuits() -> Circuits {
    let mut out = Circuits::new();
    for (circuit, model, prod) in [("PLANT001/CIRCUIT01", M1, 4), ("PLANT001/CIRCUIT02", M2, 2)] {
        let mut cs = CircuitSnapshot::new(circuit_ref(circuit), model.into());
        cs.versions.prod = Some(ModelVersion(prod));
        out.insert(circuit_ref(circuit), cs);
    }
    out
}

/// CIRCUIT01's v4 (build 800) and v5 (build 900) in the registry, v6 only in Dev (build 950);
/// CIRCUIT02's v2 (build 800); CIRCUIT01's config at v4's commit.
fn readings() -> Readings {
    let mut r = Readings::default();
    registry_lineage(&mut r);
    r.dev_versions.insert(
        M1.into(),
        Ok(vec![
            version(M1, 5, "aaaaaaaaaaaa", "c0ffee5", "900"),
            version(M1, 6, "cccccccccccc", "c0ffee6", "950"),
        ]),
    );
    r
}

fn run(r: &Readings) -> (Circuits, LineageFound) {
    let mut circuits = circuits();
    let found = assemble(&mut circuits, r, &ctx());
    (circuits, found)
}

#[test]
fn known_versions_are_the_registrys_and_devs_ahead_newest_first() {
    let (circuits, found) = run(&readings());
    let known: Vec<(u32, bool)> = circuits[&circuit_ref("PLANT001/CIRCUIT01")]
        .known_versions
        .iter()
        .map(|k| (k.version.0, k.in_registry))
        .collect();
    assert_eq!(known, [(6, false), (5, true), (4, true)]);
    let v4 = &circuits[&circuit_ref("PLANT001/CIRCUIT01")].known_versions[2];
    assert_eq!(
        (v4.git_commit.as_deref(), v4.build_id.as_deref()),
        (Some("c0ffee4"), Some("800"))
    );
    assert!(found.errors.is_empty());
}

#[test]
fn the_prod_tag_matches_the_hash_of_its_config_or_breaks_lineage() {
    let (circuits, _) = run(&readings());
    let ok = &circuits[&circuit_ref("PLANT001/CIRCUIT01")].lineage;
    assert_eq!(ok.matches, Some(true));
    assert_eq!(ok.prod.as_ref().map(|h| h.as_str()), Some(CONFIG_HASH));
    assert_eq!(ok.commit.as_deref(), Some("c0ffee4"));

    let mut r = readings();
    r.registry_versions.insert(
        M1.into(),
        Ok(vec![version(M1, 4, "0123456789ab", "c0ffee4", "800")]),
    );
    let (circuits, _) = run(&r);
    let broken = &circuits[&circuit_ref("PLANT001/CIRCUIT01")].lineage;
    assert_eq!(broken.matches, Some(false));
    assert_eq!(broken.status(), Status::Alert);
}

#[test]
fn a_config_not_read_leaves_lineage_unknown_without_saying_more() {
    // CIRCUIT02's config was not read in this refresh: unknown, not an error.
    let (circuits, found) = run(&readings());
    let c2 = &circuits[&circuit_ref("PLANT001/CIRCUIT02")];
    assert_eq!(c2.lineage.matches, None);
    assert_eq!(
        c2.lineage.prod.as_ref().map(|h| h.as_str()),
        Some("bbbbbbbbbbbb")
    );
    assert!(c2.unknown.is_empty() && found.errors.is_empty());
}

#[test]
fn a_prod_version_missing_from_the_registry_is_said() {
    let mut circuits = circuits();
    if let Some(cs) = circuits.get_mut(&circuit_ref("PLANT001/CIRCUIT01")) {
        cs.versions.prod = Some(ModelVersion(9));
    }
    let found = assemble(&mut circuits, &readings(), &ctx());
    let c1 = &circuits[&circuit_ref("PLANT001/CIRCUIT01")];
    assert_eq!(c1.unknown, ["Prod model version 9 is not in the registry"]);
    assert_eq!(c1.lineage.matches, None);
    assert!(found.errors.is_empty(), "a fact, not a failed read");
}

#[test]
fn a_config_absent_at_its_commit_is_a_fact_and_any_other_failure_a_gap() {
    let key = (PATH1.to_owned(), "c0ffee4".to_owned());
    let mut r = readings();
    r.configs.insert(
        key.clone(),
        Err(BackendError::new(
            ErrorKind::NotFound,
            "GET",
            "http://x/cfg",
            "no such file",
        )),
    );
    let (circuits, found) = run(&r);
    let c1 = &circuits[&circuit_ref("PLANT001/CIRCUIT01")];
    assert_eq!(c1.unknown, ["config at c0ffee4: no such file"]);
    assert_eq!(c1.lineage.matches, None);
    assert!(found.errors.is_empty());

    r.configs.insert(key.clone(), Err(server_error("cfg")));
    let (circuits, found) = run(&r);
    assert_eq!(
        circuits[&circuit_ref("PLANT001/CIRCUIT01")].unknown,
        ["config at c0ffee4: boom"]
    );
    assert_eq!(found.errors.len(), 1);
    assert_eq!(
        found.errors[0].scope,
        "config of PLANT001/CIRCUIT01 at c0ffee4"
    );

    r.configs.insert(key, Ok("features: [unclosed".into()));
    let (circuits, found) = run(&r);
    assert_eq!(
        circuits[&circuit_ref("PLANT001/CIRCUIT01")].unknown,
        ["config at c0ffee4 cannot be hashed"]
    );
    assert!(found.errors.is_empty());
}

#[test]
fn failed_version_reads_mark_their_circuit_in_name_order() {
    let mut r = readings();
    r.registry_versions
        .insert(M2.into(), Err(server_error("m2")));
    r.dev_versions
        .insert(M1.into(), Err(server_error("m1-dev")));
    r.registry_versions
        .insert("plant001-circuit00".into(), Err(server_error("m0")));
    let (circuits, found) = run(&r);
    assert_eq!(
        scopes(&found.errors),
        [
            "versions of model plant001-circuit00",
            "versions of model plant001-circuit02",
            "versions of model plant001-circuit01",
        ],
        "the registry's first, each by name"
    );
    let c2 = &circuits[&circuit_ref("PLANT001/CIRCUIT02")];
    assert_eq!(
        c2.unknown,
        ["versions of plant001-circuit02 could not be read"]
    );
    assert!(c2.known_versions.is_empty());
    assert_eq!(c2.lineage.matches, None);
    let c1 = &circuits[&circuit_ref("PLANT001/CIRCUIT01")];
    assert_eq!(
        c1.unknown,
        ["versions of plant001-circuit01 could not be read"]
    );
    assert_eq!(c1.known_versions.len(), 2, "the registry's still known");
}

#[test]
fn a_build_carries_the_registrys_version_of_each_of_its_circuits() {
    let (_, found) = run(&readings());
    let models = |b: &str| -> Vec<(String, u32)> {
        found
            .builds
            .models(b)
            .iter()
            .map(|m| (m.circuit.to_string(), m.version.0))
            .collect()
    };
    assert_eq!(
        models("800"),
        [
            ("PLANT001/CIRCUIT01".into(), 4),
            ("PLANT001/CIRCUIT02".into(), 2)
        ]
    );
    assert_eq!(models("900"), [("PLANT001/CIRCUIT01".into(), 5)]);
    assert_eq!(
        models("950"),
        [("PLANT001/CIRCUIT01".into(), 6)],
        "Dev only"
    );
    assert!(models("nope").is_empty());
}
