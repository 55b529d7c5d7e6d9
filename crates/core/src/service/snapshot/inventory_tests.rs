//! The inventory stage alone: circuits from deployments and containers, versions per stage,
//! and each failed list marking exactly the circuits it covers.

use super::*;
use crate::service::snapshot::fixtures::*;

/// PLANT001's Test and Prod endpoints and deployments, and both container lists: CIRCUIT01
/// with v5 in Test and v4 in Prod, CIRCUIT02 in Prod only, CIRCUIT03 only in Dev.
fn readings() -> Readings {
    Readings {
        endpoints: vec![
            (Stage::Test, Ok(vec![endpoint(Stage::Test, "plant001")])),
            (Stage::Prod, Ok(vec![endpoint(Stage::Prod, "plant001")])),
        ],
        deployments: plant001_deployments(
            &[("circuit01", 5)],
            &[("circuit01", 4), ("circuit02", 2)],
        ),
        dev_containers: Some(Ok(vec![
            container("plant001-circuit01", 6),
            container("plant001-circuit03", 1),
        ])),
        registry_containers: Some(Ok(vec![
            container("plant001-circuit01", 5),
            container("plant001-circuit02", 2),
        ])),
        ..Readings::default()
    }
}

fn versions(inv: &Inventory, circuit: &str) -> [Option<u32>; 4] {
    let v = &inv.circuits[&circuit_ref(circuit)].versions;
    [v.dev, v.registry, v.test, v.prod].map(|v| v.map(|v| v.0))
}

#[test]
fn circuits_come_from_deployments_and_containers_with_their_versions_per_stage() {
    let inv = assemble(&readings(), &ctx().naming);
    assert_eq!(
        inv.circuits
            .keys()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [
            "PLANT001/CIRCUIT01",
            "PLANT001/CIRCUIT02",
            "PLANT001/CIRCUIT03"
        ]
    );
    assert_eq!(
        versions(&inv, "PLANT001/CIRCUIT01"),
        [Some(6), Some(5), Some(5), Some(4)]
    );
    assert_eq!(
        versions(&inv, "PLANT001/CIRCUIT02"),
        [None, Some(2), None, Some(2)]
    );
    assert_eq!(
        versions(&inv, "PLANT001/CIRCUIT03"),
        [Some(1), None, None, None]
    );
    let c1 = &inv.circuits[&circuit_ref("PLANT001/CIRCUIT01")];
    assert_eq!(c1.environment.prod.as_deref(), Some("1.5.0"));
    assert_eq!(c1.model_name, "plant001-circuit01");
    assert_eq!(c1.description, "circuit01 of plant001");
    assert_eq!(
        inv.plant_names
            .get(&"PLANT001".parse().unwrap())
            .map(String::as_str),
        Some("Rotterdam Polymer Works")
    );
    assert!(inv.errors.is_empty());
    assert!(inv.circuits.values().all(|c| c.unknown.is_empty()));
}

#[test]
fn a_deployment_named_otherwise_is_found_by_its_model() {
    let mut r = readings();
    let mut blue = deployment(Stage::Prod, "plant001", "circuit07", 3);
    blue.name = "blue".into();
    if let Ok(d) = &mut r.deployments[1].2 {
        d.push(blue);
    }
    let inv = assemble(&r, &ctx().naming);
    assert_eq!(versions(&inv, "PLANT001/CIRCUIT07")[3], Some(3));
}

#[test]
fn the_registrys_newest_version_is_the_newest_it_lists() {
    let mut r = readings();
    r.registry_versions.insert(
        "plant001-circuit02".into(),
        Ok(vec![version("plant001-circuit02", 3, "h", "c", "b")]),
    );
    let inv = assemble(&r, &ctx().naming);
    assert_eq!(versions(&inv, "PLANT001/CIRCUIT02")[1], Some(3));
}

#[test]
fn a_failed_endpoint_list_leaves_its_stage_unknown_on_every_circuit() {
    let mut r = readings();
    r.endpoints[0].1 = Err(server_error("test-endpoints"));
    let inv = assemble(&r, &ctx().naming);
    assert_eq!(inv.errors.len(), 1);
    assert_eq!(inv.errors[0].scope, "Test endpoints");
    assert!(inv.errors[0].message.contains("boom"));
    for cs in inv.circuits.values() {
        assert_eq!(
            cs.unknown,
            ["Test endpoints could not be read"],
            "{}",
            cs.circuit
        );
    }
}

#[test]
fn failed_deployments_leave_only_their_plants_circuits_unknown() {
    let mut r = readings();
    r.deployments.push((
        Stage::Prod,
        "batch-endpoint-plant002".into(),
        Err(server_error("plant002")),
    ));
    r.registry_containers = Some(Ok(vec![
        container("plant001-circuit01", 5),
        container("plant002-circuit01", 8),
    ]));
    let inv = assemble(&r, &ctx().naming);
    let why = "Prod deployments of batch-endpoint-plant002 could not be read";
    assert_eq!(
        inv.circuits[&circuit_ref("PLANT002/CIRCUIT01")].unknown,
        [why]
    );
    assert!(
        inv.circuits[&circuit_ref("PLANT001/CIRCUIT01")]
            .unknown
            .is_empty()
    );
    assert_eq!(
        scopes(&inv.errors),
        ["Prod deployments of batch-endpoint-plant002"]
    );
}

#[test]
fn a_failed_container_list_leaves_unknown_only_what_nothing_else_says() {
    let mut r = readings();
    r.registry_containers = Some(Err(server_error("registry")));
    // CIRCUIT01's registry versions were read: its registry version is known after all.
    r.registry_versions.insert(
        "plant001-circuit01".into(),
        Ok(vec![version("plant001-circuit01", 5, "h", "c", "b")]),
    );
    let inv = assemble(&r, &ctx().naming);
    assert_eq!(inv.errors.len(), 1);
    assert_eq!(inv.errors[0].scope, "registry model containers");
    let why = "registry models could not be read";
    assert!(
        inv.circuits[&circuit_ref("PLANT001/CIRCUIT01")]
            .unknown
            .is_empty()
    );
    assert_eq!(
        inv.circuits[&circuit_ref("PLANT001/CIRCUIT02")].unknown,
        [why]
    );
    assert_eq!(
        inv.circuits[&circuit_ref("PLANT001/CIRCUIT03")].unknown,
        [why]
    );

    let mut r = readings();
    r.dev_containers = Some(Err(server_error("dev")));
    let inv = assemble(&r, &ctx().naming);
    assert_eq!(inv.errors[0].scope, "Dev model containers");
    assert!(
        inv.circuits
            .values()
            .all(|c| c.unknown == ["Dev models could not be read"])
    );
    assert!(
        !inv.circuits
            .contains_key(&circuit_ref("PLANT001/CIRCUIT03")),
        "only Dev knew it"
    );
}

#[test]
fn a_list_not_read_at_all_is_neither_an_error_nor_unknown() {
    let r = Readings {
        dev_containers: None,
        ..readings()
    };
    let inv = assemble(&r, &ctx().naming);
    assert!(inv.errors.is_empty());
    assert_eq!(versions(&inv, "PLANT001/CIRCUIT01")[0], None);
    assert!(inv.circuits.values().all(|c| c.unknown.is_empty()));
}
