//! Pipeline files (`pipelines/*.toml`) parsed into a validated [`Spec`].

pub mod credentials;

/// A validated pipeline.
#[derive(Debug)]
pub struct Spec {}
