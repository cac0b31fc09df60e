//! Typed GraphQL operations generated from `schemas/` (see `cargo xtask codegen`).
