//! The batch manifest: a log of create-once files on the stage, folded into state.
