//! The on-disk cache (XDG cache dir): the last fleet snapshot, shown first and marked stale
//! while a refresh runs, and config texts by commit, which never change once written.
//!
//! Cache files hold no secrets: snapshots and configs only. A file that cannot be read or
//! parsed is ignored (a cache is never a reason to fail); writes go to a temporary file first
//! and are renamed, so a crash never leaves half a snapshot.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::domain::fleet::FleetSnapshot;

/// Bumped when the snapshot's shape changes, so an old cache is ignored rather than misread.
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct SnapshotFile {
    format: u32,
    /// Which backend the snapshot came from; a cache of another backend is not shown.
    key: String,
    snapshot: FleetSnapshot,
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
            .map(|d| d.join(format!("{name}-{digest}.json")))
    }

    /// The last snapshot of this backend, if there is a readable one.
    pub fn load_snapshot(&self, key: &str) -> Option<FleetSnapshot> {
        let text = std::fs::read_to_string(self.file("snapshot", key)?).ok()?;
        let f: SnapshotFile = serde_json::from_str(&text).ok()?;
        (f.format == FORMAT && f.key == key).then_some(f.snapshot)
    }

    pub fn store_snapshot(&self, key: &str, snapshot: &FleetSnapshot) -> std::io::Result<()> {
        let Some(path) = self.file("snapshot", key) else {
            return Ok(());
        };
        let body = serde_json::to_vec(&SnapshotFile {
            format: FORMAT,
            key: key.to_owned(),
            snapshot: snapshot.clone(),
        })?;
        write_atomic(&path, &body)
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
        let f = ConfigFile {
            format: FORMAT,
            configs: configs
                .iter()
                .map(|((p, c), t)| (format!("{p}@{c}"), t.clone()))
                .collect(),
        };
        write_atomic(&path, &serde_json::to_vec(&f)?)
    }
}

/// Write to a temporary file beside `path`, then rename over `path`; 0600 in a 0700
/// directory, like every file of relcon's ([`crate::private_files`]).
pub fn write_atomic(path: &Path, body: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        crate::private_files::create_dir_all(dir)?;
    }
    crate::private_files::write_atomic(path, body)
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
