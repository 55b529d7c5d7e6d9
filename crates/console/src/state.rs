//! Small pieces of state every view uses: a list cursor that keeps the selection on the page,
//! a value loaded in the background that keeps its last good value, and request generations
//! (newest request wins, stale results are dropped).

use std::collections::HashMap;

use super::action::Slot;

/// A selection in a list, and the first row shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    pub selected: usize,
    pub offset: usize,
}

impl Cursor {
    /// Move by `delta` within `len` rows, keeping the selection on a page of `page` rows.
    pub fn step(&mut self, delta: isize, len: usize, page: usize) {
        if len == 0 {
            *self = Cursor::default();
            return;
        }
        let max = len - 1;
        self.selected = (self.selected as isize + delta).clamp(0, max as isize) as usize;
        self.follow(len, page);
    }

    pub fn to(&mut self, i: usize, len: usize, page: usize) {
        self.selected = i.min(len.saturating_sub(1));
        self.follow(len, page);
    }

    /// Keep the selection visible and the page full.
    pub fn follow(&mut self, len: usize, page: usize) {
        let page = page.max(1);
        self.selected = self.selected.min(len.saturating_sub(1));
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + page {
            self.offset = self.selected + 1 - page;
        }
        self.offset = self.offset.min(len.saturating_sub(page));
    }
}

/// A value loaded in the background: the last good value stays while a newer one loads or
/// after a load fails.
#[derive(Debug, Clone)]
pub struct Remote<T> {
    pub value: Option<Box<T>>,
    pub loading: bool,
    pub error: Option<String>,
}

impl<T> Default for Remote<T> {
    fn default() -> Self {
        Remote {
            value: None,
            loading: false,
            error: None,
        }
    }
}

impl<T> Remote<T> {
    pub fn loading() -> Self {
        Remote {
            loading: true,
            ..Remote::default()
        }
    }

    pub fn settle(&mut self, result: Result<Box<T>, String>) {
        self.loading = false;
        match result {
            Ok(v) => {
                self.value = Some(v);
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
    }
}

/// Generations of background requests: only the newest answer of a slot is taken.
#[derive(Debug, Default)]
pub struct Generations {
    counter: u64,
    latest: HashMap<Slot, u64>,
}

impl Generations {
    pub fn next(&mut self, slot: Slot) -> u64 {
        self.counter += 1;
        self.latest.insert(slot, self.counter);
        self.counter
    }

    /// Whether `generation` is the newest request of `slot`; it is then consumed.
    pub fn accept(&mut self, slot: Slot, generation: u64) -> bool {
        if self.latest.get(&slot) == Some(&generation) {
            self.latest.remove(&slot);
            true
        } else {
            false
        }
    }

    pub fn in_flight(&self, slot: Slot) -> bool {
        self.latest.contains_key(&slot)
    }

    /// Whether `generation` is the newest request of `slot`, without consuming it (a request
    /// answered in several messages, such as a batch of decisions).
    pub fn is_current(&self, slot: Slot, generation: u64) -> bool {
        self.latest.get(&slot) == Some(&generation)
    }

    /// The request of `slot` is answered in full.
    pub fn finish(&mut self, slot: Slot) {
        self.latest.remove(&slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_keeps_the_selection_on_the_page() {
        let mut c = Cursor::default();
        c.step(5, 100, 10);
        assert_eq!((c.selected, c.offset), (5, 0));
        c.step(10, 100, 10);
        assert_eq!((c.selected, c.offset), (15, 6));
        c.step(-12, 100, 10);
        assert_eq!((c.selected, c.offset), (3, 3));
        c.step(1000, 100, 10);
        assert_eq!((c.selected, c.offset), (99, 90));
        c.follow(20, 10);
        assert_eq!((c.selected, c.offset), (19, 10), "shrunk list");
        c.step(1, 0, 10);
        assert_eq!(c, Cursor::default());
    }

    #[test]
    fn generations_take_only_the_newest() {
        let mut g = Generations::default();
        let a = g.next(Slot::Refresh);
        let b = g.next(Slot::Refresh);
        let e = g.next(Slot::Evidence);
        assert!(!g.accept(Slot::Refresh, a), "superseded");
        assert!(g.in_flight(Slot::Refresh));
        assert!(g.accept(Slot::Refresh, b));
        assert!(!g.accept(Slot::Refresh, b), "taken once");
        assert!(!g.accept(Slot::Evidence, b));
        assert!(g.accept(Slot::Evidence, e));
    }
}
