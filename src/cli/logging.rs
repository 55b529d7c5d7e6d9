//! The log file: `tracing` events go to `$XDG_STATE_HOME/relcon/relcon.log` (or
//! `--state-dir DIR/relcon.log`), never to the terminal, so the console's screen and a
//! script's stdout stay clean. Info by default (retries, throttling, refresh outcomes),
//! `--verbose` adds one line per request, `RUST_LOG` (an `EnvFilter`) replaces both. The file
//! is created 0600 in a 0700 directory and kept under [`LOG_CAP_BYTES`]: past that it becomes
//! `relcon.log.1` (the one before is dropped) and a new file starts.
//!
//! Nothing secret reaches it: requests are logged by method, URL without query values that
//! could be secrets, status, duration and request ids (`azure::request_log`), never a header
//! of the request or a body; service error messages are redacted of the credential in use.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The log file's size before it is rotated.
pub const LOG_CAP_BYTES: u64 = 10 * 1024 * 1024;

/// The log file's name in the state directory.
pub const LOG_FILE: &str = "relcon.log";

/// What `--verbose` and `RUST_LOG` ask for: `RUST_LOG` when set, else relcon's events at
/// debug (every request) or info, and other crates' warnings.
pub fn filter(verbose: bool) -> EnvFilter {
    if let Ok(f) = EnvFilter::try_from_default_env() {
        return f;
    }
    EnvFilter::new(if verbose {
        "warn,relcon=debug"
    } else {
        "warn,relcon=info"
    })
}

/// A file that starts again when it grows past its cap, keeping one old generation.
#[derive(Debug)]
pub struct CappedFile {
    path: PathBuf,
    cap: u64,
    state: Mutex<Open>,
}

#[derive(Debug)]
struct Open {
    file: File,
    len: u64,
}

fn open_private(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

impl CappedFile {
    /// Open (or create) `path` for appending, rotating it first if it is already past `cap`.
    pub fn open(path: &Path, cap: u64) -> io::Result<CappedFile> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let f = CappedFile {
            path: path.to_path_buf(),
            cap: cap.max(1024),
            state: Mutex::new(Open {
                file: open_private(path)?,
                len,
            }),
        };
        if len >= f.cap {
            let mut s = f.lock();
            f.rotate(&mut s)?;
        }
        Ok(f)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn rotate(&self, s: &mut Open) -> io::Result<()> {
        let mut old = self.path.clone().into_os_string();
        old.push(".1");
        std::fs::rename(&self.path, PathBuf::from(old))?;
        s.file = open_private(&self.path)?;
        s.len = 0;
        Ok(())
    }

    fn write_line(&self, buf: &[u8]) -> io::Result<()> {
        let mut s = self.lock();
        if s.len + buf.len() as u64 > self.cap && s.len > 0 {
            // A log that cannot rotate keeps writing rather than lose the line.
            let _ = self.rotate(&mut s);
        }
        s.file.write_all(buf)?;
        s.len += buf.len() as u64;
        Ok(())
    }
}

/// One event's bytes, written to the file in one piece when the event is done.
pub struct EventWriter {
    file: Arc<CappedFile>,
    buf: Vec<u8>,
}

impl Write for EventWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            let _ = self.file.write_line(&self.buf);
        }
    }
}

/// The `MakeWriter` of the log file.
#[derive(Clone)]
pub struct LogWriter(Arc<CappedFile>);

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = EventWriter;

    fn make_writer(&'a self) -> EventWriter {
        EventWriter {
            file: self.0.clone(),
            buf: Vec::with_capacity(256),
        }
    }
}

/// A subscriber writing to the log file at `path`, with `filter`.
pub fn subscriber(
    path: &Path,
    filter: EnvFilter,
) -> io::Result<impl tracing::Subscriber + Send + Sync + 'static> {
    let file = Arc::new(CappedFile::open(path, LOG_CAP_BYTES)?);
    Ok(tracing_subscriber::fmt()
        .with_writer(LogWriter(file))
        .with_ansi(false)
        .with_target(true)
        .with_env_filter(filter)
        .finish())
}

/// Install the log file as the process's subscriber; returns where it is. A log that cannot be
/// opened never stops a command: it is only said on stderr when `--verbose` asked for it.
pub fn init(state_dir: Option<&Path>, verbose: bool) -> Option<PathBuf> {
    let dir = state_dir
        .map(Path::to_path_buf)
        .or_else(crate::service::session::StateDirs::default_root)?;
    let path = dir.join(LOG_FILE);
    match subscriber(&path, filter(verbose)) {
        Ok(s) => {
            if tracing::subscriber::set_global_default(s).is_err() {
                return None;
            }
            tracing::info!(
                version = env!("CARGO_PKG_VERSION"),
                pid = std::process::id(),
                args = %std::env::args().skip(1).map(|a| redact_arg(&a)).collect::<Vec<_>>().join(" "),
                "relcon started"
            );
            Some(path)
        }
        Err(e) => {
            if verbose {
                eprintln!("relcon: cannot open the log file {}: {e}", path.display());
            }
            None
        }
    }
}

/// Command-line words as they may be logged: commands, flags, ids and numbers. Anything else
/// (a comment, a reason, a path, something pasted by mistake) may hold anything, so only its
/// length is; a credential is longer than the 24 characters a word may have.
fn redact_arg(a: &str) -> String {
    let plain = a.len() <= 24
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.' | ':' | '='));
    if plain {
        a.to_owned()
    } else {
        format!("<{} chars>", a.chars().count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_private_and_capped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state").join(LOG_FILE);
        let f = CappedFile::open(&path, 2048).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().unwrap()), 0o700);
        }
        let line = [b'x'; 100];
        for _ in 0..50 {
            f.write_line(&line).unwrap();
        }
        let len = |p: &Path| std::fs::metadata(p).unwrap().len();
        assert!(len(&path) <= 2048, "{}", len(&path));
        let old = dir.path().join("state").join("relcon.log.1");
        assert!(len(&old) <= 2048 && len(&old) >= 1900, "{}", len(&old));
        // Reopened past its cap, it starts a new file at once.
        drop(f);
        std::fs::write(&path, vec![b'y'; 4096]).unwrap();
        let f = CappedFile::open(&path, 2048).unwrap();
        assert_eq!(len(f.path()), 0);
        assert_eq!(len(&old), 4096);
    }

    #[test]
    fn operator_text_on_the_command_line_is_not_logged() {
        assert_eq!(redact_arg("--comment"), "--comment");
        assert_eq!(redact_arg("PLANT007/CIRCUIT03"), "PLANT007/CIRCUIT03");
        assert_eq!(redact_arg("looks good to me"), "<16 chars>");
        assert_eq!(redact_arg(&"a".repeat(52)), "<52 chars>");
    }
}
