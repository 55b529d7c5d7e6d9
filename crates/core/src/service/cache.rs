//! The on-disk cache (XDG cache dir): the last complete fleet snapshot, shown first and
//! marked stale while a refresh runs; the model versions the last refresh read, so that a new
//! process reads only models that changed (`service::models`); and config texts by commit,
//! which never change once written.
//!
//! Cache files hold no secrets: snapshots, model versions and configs only. A file that cannot be read or
//! parsed is ignored (a cache is never a reason to fail). Writes go to a temporary file that is
//! synced and then renamed over the old one, so a crash never leaves half a snapshot, and only
//! a complete snapshot is ever written (`Session::refresh`): a failed refresh leaves the last
//! good fleet in place.
//!
//! The snapshot is stored in a compact binary form (postcard, then LZ4) and holds what the console shows
//! before the first refresh lands: every drift series but a circuit's worst is kept to its
//! newest point (`DriftSummary::fleet_view`). At 20,000 circuits that is a few MB, read in
//! well under the first-frame budget; the JSON of the whole snapshot was 260 MB.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::models::ModelBook;
use crate::domain::fleet::{CircuitSnapshot, FleetSnapshot, PlantSnapshot};

/// Bumped when a file's shape changes, so an old cache is ignored rather than misread.
/// 4: approval and stage references became opaque text (`ApprovalId`, `StageRef`).
const FORMAT: u32 = 4;

/// What a snapshot file starts with; read first, so that a file of another format or backend
/// is never decoded as a snapshot.
#[derive(Serialize, Deserialize)]
struct SnapshotHeader {
    format: u32,
    /// Which backend the snapshot came from; a cache of another backend is not shown.
    key: String,
}

#[derive(Serialize, Deserialize, Default)]
struct ConfigFile {
    format: u32,
    /// `"{path}@{commit}"` -> text.
    configs: HashMap<String, String>,
}

/// A cache directory; `None` disables caching (`--no-cache`).
#[derive(Debug, Clone)]
pub struct Cache {
    dir: Option<PathBuf>,
}

impl Cache {
    /// The XDG cache dir (`$XDG_CACHE_HOME/relcon`), or none when there is no home.
    pub fn default_dir() -> Option<PathBuf> {
        crate::settings::dirs().map(|d| d.cache_dir().to_path_buf())
    }

    pub fn new(dir: Option<PathBuf>) -> Cache {
        Cache { dir }
    }

    pub fn disabled() -> Cache {
        Cache { dir: None }
    }

    fn file(&self, name: &str, key: &str) -> Option<PathBuf> {
        self.file_ext(name, key, "json")
    }

    fn file_ext(&self, name: &str, key: &str, ext: &str) -> Option<PathBuf> {
        // One file per backend, so a simulator run never shows as Azure data or vice versa.
        let digest = {
            use sha2::{Digest, Sha256};
            let d = Sha256::digest(key.as_bytes());
            d.iter()
                .take(6)
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        self.dir
            .as_ref()
            .map(|d| d.join(format!("{name}-{digest}.{ext}")))
    }

    /// A binary file of this backend (`name-{digest}.bin`): its header, then `T` as postcard,
    /// LZ4-compressed. `None` when it is missing, of another format or backend, or unreadable.
    fn load_binary<T: serde::de::DeserializeOwned>(&self, name: &str, key: &str) -> Option<T> {
        let bytes = std::fs::read(self.file_ext(name, key, "bin")?).ok()?;
        let (header, rest) = postcard::take_from_bytes::<SnapshotHeader>(&bytes).ok()?;
        if header.format != FORMAT || header.key != key {
            return None;
        }
        let raw = lz4_flex::block::decompress_size_prepended(rest).ok()?;
        postcard::from_bytes(&raw).ok()
    }

    fn store_binary<T: Serialize>(&self, name: &str, key: &str, value: &T) -> std::io::Result<()> {
        let Some(path) = self.file_ext(name, key, "bin") else {
            return Ok(());
        };
        let header = SnapshotHeader {
            format: FORMAT,
            key: key.to_owned(),
        };
        let head = postcard::to_stdvec(&header).map_err(std::io::Error::other)?;
        let raw = postcard::to_stdvec(value).map_err(std::io::Error::other)?;
        let body = lz4_flex::block::compress_prepend_size(&raw);
        drop(raw);
        write_atomic_parts(&path, &[&head, &body])
    }

    /// The last snapshot of this backend, if there is a readable one.
    pub fn load_snapshot(&self, key: &str) -> Option<FleetSnapshot> {
        self.load_binary("snapshot", key)
    }

    /// Store `snapshot` as what the console shows first next time (see the module comment).
    pub fn store_snapshot(&self, key: &str, snapshot: &FleetSnapshot) -> std::io::Result<()> {
        // A disabled cache (`--no-cache`) stores nothing: the fleet view, a copy of the whole
        // snapshot made while the snapshot is held, is not made for nothing.
        if self.dir.is_none() {
            return Ok(());
        }
        // A snapshot already cut to the fleet view (`Keep::FleetView`) is stored as it is: the
        // copy would double it at 20,000 circuits (150 MB), at the end of the refresh.
        let already = snapshot
            .plants
            .iter()
            .flat_map(|p| &p.circuits)
            .all(|c| c.drift.is_fleet_view());
        if already {
            self.store_binary("snapshot", key, snapshot)?;
        } else {
            self.store_binary("snapshot", key, &fleet_view(snapshot))?;
        }
        // The JSON snapshot of format 1 is never read again.
        if let Some(old) = self.file("snapshot", key) {
            let _ = std::fs::remove_file(old);
        }
        Ok(())
    }

    /// The model versions the last refresh of this backend read (`service::models`).
    pub fn load_model_book(&self, key: &str) -> Option<ModelBook> {
        self.load_binary("models", key)
    }

    /// The Prod scoring job lists the last refresh of this backend read (`service::incidents`).
    pub fn load_job_book(&self, key: &str) -> Option<super::incidents::JobBook> {
        self.load_binary("jobs", key)
    }

    pub fn store_job_book(
        &self,
        key: &str,
        book: &super::incidents::JobBook,
    ) -> std::io::Result<()> {
        self.store_binary("jobs", key, book)
    }

    pub fn store_model_book(&self, key: &str, book: &ModelBook) -> std::io::Result<()> {
        self.store_binary("models", key, book)
    }

    /// What the backend's adapter kept (`Backend::kept`), as it gave it.
    pub fn load_kept(&self, key: &str) -> Option<Vec<u8>> {
        self.load_binary("kept", key)
    }

    pub fn store_kept(&self, key: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.store_binary("kept", key, &bytes)
    }

    /// Config texts known for this backend, by `(path, commit)`.
    pub fn load_configs(&self, key: &str) -> HashMap<(String, String), String> {
        let Some(path) = self.file("configs", key) else {
            return HashMap::new();
        };
        let Ok(text) = std::fs::read_to_string(path) else {
            return HashMap::new();
        };
        let Ok(f) = serde_json::from_str::<ConfigFile>(&text) else {
            return HashMap::new();
        };
        if f.format != FORMAT {
            return HashMap::new();
        }
        f.configs
            .into_iter()
            .filter_map(|(k, v)| {
                let (p, c) = k.rsplit_once('@')?;
                Some(((p.to_owned(), c.to_owned()), v))
            })
            .collect()
    }

    pub fn store_configs(
        &self,
        key: &str,
        configs: &HashMap<(String, String), String>,
    ) -> std::io::Result<()> {
        let Some(path) = self.file("configs", key) else {
            return Ok(());
        };
        // `ConfigFile`, the texts borrowed rather than copied.
        #[derive(Serialize)]
        struct Borrowed<'a> {
            format: u32,
            configs: HashMap<String, &'a str>,
        }
        let f = Borrowed {
            format: FORMAT,
            configs: configs
                .iter()
                .map(|((p, c), t)| (format!("{p}@{c}"), t.as_str()))
                .collect(),
        };
        write_atomic(&path, &serde_json::to_vec(&f)?)
    }
}

/// The snapshot as the cache keeps it: what the console shows (`DriftSummary::fleet_view`).
pub fn fleet_view(s: &FleetSnapshot) -> FleetSnapshot {
    FleetSnapshot {
        generated_at: s.generated_at,
        backend: s.backend.clone(),
        identity: s.identity.clone(),
        plants: s
            .plants
            .iter()
            .map(|p| PlantSnapshot {
                plant_id: p.plant_id.clone(),
                name: p.name.clone(),
                circuits: p
                    .circuits
                    .iter()
                    .map(|c| CircuitSnapshot {
                        drift: c.drift.fleet_view(),
                        ..c.clone()
                    })
                    .collect(),
            })
            .collect(),
        approvals: s.approvals.clone(),
        releases: s.releases.clone(),
        alerts: s.alerts.clone(),
        errors: s.errors.clone(),
    }
}

/// Write to a temporary file beside `path`, then rename over `path`; 0600 in a 0700
/// directory, like every file of relcon's ([`crate::private_files`]).
pub fn write_atomic(path: &Path, body: &[u8]) -> std::io::Result<()> {
    write_atomic_parts(path, &[body])
}

/// [`write_atomic`] of a body in parts (a header, then a large compressed body), written one
/// after the other rather than joined into one buffer first.
fn write_atomic_parts(path: &Path, parts: &[&[u8]]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        crate::private_files::create_dir_all(dir)?;
    }
    crate::private_files::write_atomic_parts(path, parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn snapshot() -> FleetSnapshot {
        FleetSnapshot {
            generated_at: Utc::now(),
            backend: "simulator".into(),
            identity: None,
            plants: Vec::new(),
            approvals: Vec::new(),
            releases: Vec::new(),
            alerts: Vec::new(),
            errors: Vec::new(),
        }
    }

    #[test]
    fn snapshots_round_trip_per_backend() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(Some(dir.path().to_path_buf()));
        let s = snapshot();
        cache.store_snapshot("sim", &s).unwrap();
        assert_eq!(cache.load_snapshot("sim"), Some(s));
        assert_eq!(cache.load_snapshot("azure"), None);
        assert_eq!(Cache::disabled().load_snapshot("sim"), None);
    }

    /// One plant, one circuit with two drift series of three days; `psi` the worst.
    fn with_drift() -> FleetSnapshot {
        use crate::domain::drift::{DriftFinding, DriftMetric};
        use crate::domain::fleet::{CircuitSnapshot, DriftSeries, Series};
        use chrono::TimeZone;
        let day = |d: u32| Utc.with_ymd_and_hms(2026, 11, d, 0, 0, 0).unwrap();
        let series = |metric, values: [f64; 3]| DriftSeries {
            feature: "supply_temperature".into(),
            metric,
            series: Series {
                days: vec![day(1), day(2), day(3)],
                values: values.to_vec(),
            },
        };
        let mut c = CircuitSnapshot::new("PLANT001/CIRCUIT01".parse().unwrap(), "m".into());
        c.drift.series = vec![
            series(DriftMetric::Wasserstein, [0.1, 0.1, 0.1]),
            series(DriftMetric::Psi, [0.1, 0.2, 0.31]),
        ];
        c.drift.worst = Some(DriftFinding {
            feature: "supply_temperature".into(),
            metric: DriftMetric::Psi,
            value: 0.31,
            threshold: 0.25,
            status: crate::domain::Status::Alert,
        });
        FleetSnapshot {
            plants: vec![PlantSnapshot {
                plant_id: "PLANT001".parse().unwrap(),
                name: "Nordwerk".into(),
                circuits: vec![c],
            }],
            ..snapshot()
        }
    }

    /// The cache keeps the fleet view; a snapshot already cut to it (a one-shot `relcon fleet`)
    /// is stored as it is, and reads back the same as a whole one stored.
    #[test]
    fn a_snapshot_already_cut_to_the_fleet_view_is_stored_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(Some(dir.path().to_path_buf()));
        let whole = with_drift();
        let cut = fleet_view(&whole);
        let drift = |s: &FleetSnapshot| s.plants[0].circuits[0].drift.clone();
        assert!(!drift(&whole).is_fleet_view());
        assert!(drift(&cut).is_fleet_view());
        assert_ne!(cut, whole);
        cache.store_snapshot("whole", &whole).unwrap();
        cache.store_snapshot("cut", &cut).unwrap();
        assert_eq!(cache.load_snapshot("whole"), Some(cut.clone()));
        assert_eq!(cache.load_snapshot("cut"), Some(cut));
    }

    #[test]
    fn a_corrupt_cache_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(Some(dir.path().to_path_buf()));
        cache.store_snapshot("sim", &snapshot()).unwrap();
        let file = std::fs::read_dir(dir.path())
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        std::fs::write(&file, b"{not json").unwrap();
        assert_eq!(cache.load_snapshot("sim"), None);
    }

    #[test]
    fn a_write_leaves_no_temporary_and_replaces_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("f.bin");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("f.bin")]);
    }

    #[test]
    fn configs_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(Some(dir.path().to_path_buf()));
        let mut m = HashMap::new();
        m.insert(
            ("/config/a.yaml".to_owned(), "abc123".to_owned()),
            "x: 1\n".to_owned(),
        );
        cache.store_configs("sim", &m).unwrap();
        assert_eq!(cache.load_configs("sim"), m);
    }
}
