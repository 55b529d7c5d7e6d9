//! `relcon` with no subcommand: the console, on the configured backend or the built-in
//! simulator.

use std::io::IsTerminal;

use super::session::open;
use super::{Exit, Global, fail};
use crate::tui::{TuiOptions, run};

pub fn console(g: &Global) -> Exit {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return fail(
            Exit::Usage,
            "the console needs a terminal; for scripts use a subcommand (relcon fleet --json, relcon --help)",
        );
    }
    let o = match open(g) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let options = TuiOptions {
        theme: g.theme.clone().or_else(|| o.settings.ui.theme.clone()),
        keymap: o.settings.ui.keymap.clone(),
        no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        ..TuiOptions::default()
    };
    match o.runtime.block_on(run(o.session.clone(), options)) {
        Ok(()) => Exit::Ok,
        Err(e) => fail(Exit::Service, format!("{e:#}")),
    }
}
