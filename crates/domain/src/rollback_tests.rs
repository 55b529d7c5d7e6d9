use super::fixtures::*;
use super::*;

#[test]
fn history_is_newest_first_with_health() {
    let h = prod_history(&fleet(), &c("PLANT007/CIRCUIT03"), &Thresholds::default());
    let versions: Vec<u32> = h.iter().map(|e| e.version.0).collect();
    assert_eq!(
        versions,
        vec![6, 4, 5, 3],
        "by time of the Production deployment; 7 never deployed"
    );
    assert!(h[0].current);
    let v5 = h.iter().find(|e| e.version.0 == 5).unwrap();
    assert!(v5.rolled_back, "Prod went back to v4 after v5");
    assert!(!v5.healthy());
    assert_eq!(v5.concerns(), vec!["it was rolled back before"]);
    let v3 = h.iter().find(|e| e.version.0 == 3).unwrap();
    assert_eq!(v3.validation, Status::Alert);
    let v4 = h.iter().find(|e| e.version.0 == 4).unwrap();
    assert!(v4.healthy(), "{:?}", v4.concerns());
    assert_eq!(v4.release_id, 40);
}

#[test]
fn targets_previous_last_good_and_explicit() {
    let h = prod_history(&fleet(), &c("PLANT007/CIRCUIT03"), &Thresholds::default());
    assert_eq!(
        choose_target(&h, TargetChoice::LastGood).unwrap().version,
        ModelVersion(4)
    );
    assert_eq!(
        choose_target(&h, TargetChoice::Previous).unwrap().version,
        ModelVersion(4)
    );
    assert_eq!(
        choose_target(&h, TargetChoice::Version(ModelVersion(3)))
            .unwrap()
            .version,
        ModelVersion(3)
    );
    assert_eq!(
        choose_target(&h, TargetChoice::Version(ModelVersion(6))),
        Err(TargetError::AlreadyInProd(ModelVersion(6)))
    );
    assert_eq!(
        choose_target(&h, TargetChoice::Version(ModelVersion(7)))
            .unwrap_err()
            .to_string(),
        "version 7 never ran in Prod through a release"
    );
    let only_bad: Vec<ProdHistoryEntry> = h.into_iter().filter(|e| e.version.0 != 4).collect();
    assert_eq!(
        choose_target(&only_bad, TargetChoice::LastGood),
        Err(TargetError::NoHealthyVersion)
    );
    assert!(
        TargetError::NoHealthyVersion
            .to_string()
            .starts_with("no earlier version was healthy")
    );
    let first_only: Vec<ProdHistoryEntry> = only_bad.into_iter().filter(|e| e.current).collect();
    assert_eq!(
        choose_target(&first_only, TargetChoice::Previous),
        Err(TargetError::NoEarlierVersion)
    );
    assert_eq!(
        "last-good".parse::<TargetChoice>(),
        Ok(TargetChoice::LastGood)
    );
    assert_eq!(
        "v12".parse::<TargetChoice>(),
        Ok(TargetChoice::Version(ModelVersion(12)))
    );
    assert!("best".parse::<TargetChoice>().is_err());
}

#[test]
fn redeploy_blast_radius_names_every_circuit_and_what_changes() {
    let f = fleet();
    let r40 = f.release(40).unwrap();
    let radius = redeploy_blast_radius(&f, r40);
    assert_eq!(radius.len(), 2);
    let n = radius
        .iter()
        .find(|r| r.circuit == c("PLANT007/CIRCUIT04"))
        .unwrap();
    assert_eq!((n.from, n.to), (Some(ModelVersion(9)), ModelVersion(7)));
    assert!(n.changes());
}

#[test]
fn sla_clock_counts_down_and_turns_warn_then_alert() {
    let sla = SlaClock {
        requested_at: at(1),
        budget_minutes: 15,
    };
    let t = |m: i64| at(1) + Duration::minutes(m);
    assert_eq!(sla.status(t(2)), Status::Ok);
    assert_eq!(sla.label(t(2)), "13:00 left");
    assert_eq!(sla.status(t(8)), Status::Warn);
    assert_eq!(sla.status(t(13)), Status::Alert);
    assert_eq!(sla.label(t(16)), "+01:00 over");
    assert_eq!(sla.status(t(16)), Status::Alert);
}
