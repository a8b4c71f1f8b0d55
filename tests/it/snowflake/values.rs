//! Value decoding of a real result.
