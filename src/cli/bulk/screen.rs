//! A running `ykmfa bulk apply` on the screen: each note's line above the progress bar.

use ykmfa::mfa::bulk::{self, Note};

use ykmfa::layout::Bar;

/// The watcher of a run: a line per row as it ends, the questions for insertion, and on a
/// terminal a progress bar redrawn on the last line of stderr.
pub(super) struct Screen(pub(super) Bar);

impl bulk::Watcher for Screen {
    fn note(&self, note: Note<'_>) {
        if let Note::Finished(o) = &note {
            self.0.tick(!o.status.is_success());
        }
        if let Some(line) = note.line() {
            self.0.say(&line);
        }
    }

    fn can_ask(&self) -> bool {
        ykmfa::terminal::has_tty()
    }

    fn codes(&self) -> Result<ykmfa::mfa::hardware::Codes, String> {
        self.0.clear();
        super::super::hardware::typed().map_err(|f| f.what)
    }
}
