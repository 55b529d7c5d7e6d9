//! The snapshot cache at fleet scale: what the console's first frame is drawn from.

use relcon::service::cache::{Cache, fleet_view};
use relcon::tui::fixture;

#[test]
fn the_cache_keeps_what_the_fleet_view_shows_in_a_few_bytes_a_circuit() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(Some(dir.path().to_path_buf()));
    let s = fixture::fleet(200);
    cache.store_snapshot("sim", &s).unwrap();
    let back = cache.load_snapshot("sim").unwrap();
    assert_eq!(back, fleet_view(&s));
    for (a, b) in s.circuits().zip(back.circuits()) {
        // Everything but the drift history is kept as it was.
        assert_eq!(a.validation, b.validation);
        assert_eq!(a.accuracy, b.accuracy);
        assert_eq!(a.known_versions, b.known_versions);
        assert_eq!(
            (&a.drift.status, &a.drift.worst),
            (&b.drift.status, &b.drift.worst)
        );
        assert_eq!(a.drift.worst_series(), b.drift.worst_series());
        assert_eq!(a.drift.series.len(), b.drift.series.len());
        for (x, y) in a.drift.series.iter().zip(&b.drift.series) {
            assert_eq!(x.series.latest(), y.series.latest());
        }
    }
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .collect();
    assert_eq!(files.len(), 1, "one snapshot file: {files:?}");
    let bytes = std::fs::metadata(&files[0]).unwrap().len();
    let json = serde_json::to_vec(&s).unwrap().len() as u64;
    assert!(bytes * 10 < json, "{bytes} bytes against {json} of JSON");
}
