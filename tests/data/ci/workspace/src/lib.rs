//! Holds no code: the package exists so that cargo-x07 finds `fixtures/`.
