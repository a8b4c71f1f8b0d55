//! The Intacct wire protocol against Sage's own response fixtures, documented shapes,
//! malformed bodies, and request rendering.

mod fixtures;
mod malformed;
mod render;
mod shapes;
