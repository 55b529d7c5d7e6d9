//! The JSON contract of every command (docs/JSON.md, docs/schemas/): each `--json` run prints
//! exactly one document on stdout (`sim serve`: one per line), an object that starts with
//! `schema_version` and `command`. When a command fails before it has a document of its own
//! (bad flags, no configuration, the service unreachable), the document is the error shape:
//! `{schema_version, command, exit_code, errors: [{message}]}`.
//!
//! What a command says went wrong goes through `super::fail`, which writes it to stderr as it
//! always has; in JSON mode this module also keeps it for the error document. The record is
//! per run of `cli::run` on its thread (a thread-local installed and drained there), the
//! CLI's edge, so no library code sees it.

use std::cell::RefCell;

use serde_json::{Map, Value, json};

use super::Exit;

/// The version of every JSON document relcon prints. Additive changes (a new field, a new
/// value of an open enum) keep it; removing or renaming a field, or changing its type or
/// meaning, bumps it (docs/JSON.md, "Compatibility").
pub const SCHEMA_VERSION: u32 = 1;

/// The version of `command`'s document: [`SCHEMA_VERSION`], or higher for a command whose
/// shape changed (`ops` is 2 since an operation's `kind` gained `alert-change`, 3 since it
/// gained `job-retry`; the alert changes are 2 since their `outcome` gained `invalid`).
pub fn schema_version(command: &str) -> u32 {
    match command {
        "ops" => 3,
        "alert ack" | "alert close" | "alert reopen" => 2,
        _ => SCHEMA_VERSION,
    }
}

/// One run's JSON-mode record.
struct Run {
    command: String,
    errors: Vec<String>,
    printed: bool,
}

thread_local! {
    static RUN: RefCell<Option<Run>> = const { RefCell::new(None) };
}

/// Start recording for `command` (`fleet`, `audit show`...); only in JSON mode.
pub fn begin(json: bool, command: &str) {
    RUN.with(|r| {
        *r.borrow_mut() = json.then(|| Run {
            command: command.to_owned(),
            errors: Vec::new(),
            printed: false,
        });
    });
}

/// End the run: in JSON mode, a failed command that printed no document prints the error
/// document now, so a script always has one object to read.
pub fn finish(exit: Exit) -> Exit {
    let Some(run) = RUN.with(|r| r.borrow_mut().take()) else {
        return exit;
    };
    if run.printed || exit == Exit::Ok {
        return exit;
    }
    let errors: Vec<String> = if run.errors.is_empty() {
        vec!["failed (see stderr)".to_owned()]
    } else {
        run.errors
    };
    print_error_document(&run.command, exit, &errors);
    exit
}

/// The error document, for a failure before any command ran (a usage error from clap).
pub fn print_error_document(command: &str, exit: Exit, errors: &[String]) {
    let doc = json!({
        "schema_version": SCHEMA_VERSION,
        "command": command,
        "exit_code": exit as u8,
        "errors": errors.iter().map(|m| json!({"message": m})).collect::<Vec<_>>(),
    });
    match serde_json::to_string_pretty(&doc) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("relcon: cannot encode JSON: {e}"),
    }
}

/// Keep a failure message for the error document (a no-op outside JSON mode).
pub fn record_error(message: &str) {
    RUN.with(|r| {
        if let Some(run) = r.borrow_mut().as_mut() {
            run.errors.push(message.to_owned());
        }
    });
}

/// `value` as the command's document: `schema_version` and `command` added (a body that sets
/// `command` itself keeps its own). `None` when it is not a JSON object.
pub fn document(value: Value) -> Option<Value> {
    let Value::Object(body) = value else {
        return None;
    };
    let command = command();
    let mut doc = Map::new();
    let version = command.as_deref().map_or(SCHEMA_VERSION, schema_version);
    doc.insert("schema_version".into(), json!(version));
    if let Some(c) = command {
        doc.insert("command".into(), json!(c));
    }
    doc.extend(body);
    Some(Value::Object(doc))
}

/// The command of this JSON-mode run (`None` outside one), as `document` names it.
pub fn command() -> Option<String> {
    RUN.with(|r| r.borrow().as_ref().map(|run| run.command.clone()))
}

/// Note that the command printed its document (so `finish` adds none).
pub fn printed() {
    RUN.with(|r| {
        if let Some(run) = r.borrow_mut().as_mut() {
            run.printed = true;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_carries_the_version_and_the_command() {
        begin(true, "fleet");
        let doc = document(json!({"plants": [], "command": "fleet"}));
        assert_eq!(
            doc,
            Some(json!({"schema_version": 1, "command": "fleet", "plants": []}))
        );
        assert_eq!(document(json!([1, 2])), None);
        record_error("could not read");
        printed();
        // Printed already: no error document is added.
        assert_eq!(finish(Exit::Service), Exit::Service);
        begin(true, "ops");
        assert_eq!(
            document(json!({"operations": []})).unwrap()["schema_version"],
            3,
            "ops changed shape"
        );
        // Outside JSON mode nothing is recorded.
        begin(false, "fleet");
        record_error("x");
        assert!(RUN.with(|r| r.borrow().is_none()));
    }
}
