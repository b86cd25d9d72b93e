//! `hb_standby` and `hb_takeover` (docs/behaviour.md §12): the command line
//! (`cli`, also read by `hb-mangen`), the FIFO write (`fifo`) and the whole
//! run (`run`).

pub mod cli;
pub mod fifo;
pub mod run;
