//! The N-API binding (being written).
