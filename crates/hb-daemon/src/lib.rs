//! The daemon: master control process and its children.
pub mod cli {
    //! Command line (placeholder until the CLI lands).
    /// Entry point; returns the process exit code.
    pub fn main() -> i32 {
        0
    }
}
