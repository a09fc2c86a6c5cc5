//! dlt's row ids (`_dlt_id`): random for root rows, a digest of the parent's id, the table and the list
//! position for nested rows (`dlt/common/utils.py::digest128`, `helpers.get_nested_row_hash`).

use base64::Engine as _;
use sha3::Shake128;
use sha3::digest::{ExtendableOutput, Update, XofReader};

/// dlt's `DLT_ID_LENGTH_BYTES`: row ids carry 10 bytes, i.e. 14 base64 characters.
pub const DLT_ID_LENGTH_BYTES: usize = 10;

/// dlt's `digest128(value, len)`: standard base64 (with `+` and `/`) of `len` bytes of shake_128 of the
/// UTF-8 of `value`, padding stripped.
pub fn digest128(value: &str, len: usize) -> String {
    let mut bytes = vec![0u8; len];
    let mut hasher = Shake128::default();
    hasher.update(value.as_bytes());
    hasher.finalize_xof().read(&mut bytes);
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
}

/// Produces row ids, reusing its buffers.
#[derive(Debug)]
pub(crate) struct RowIds {
    rng: fastrand::Rng,
    scratch: String,
}

impl RowIds {
    /// Random ids from `seed`, or from the system's entropy when `None`.
    pub(crate) fn new(seed: Option<u64>) -> RowIds {
        let rng = match seed {
            Some(seed) => fastrand::Rng::with_seed(seed),
            None => fastrand::Rng::new(),
        };
        RowIds {
            rng,
            scratch: String::with_capacity(128),
        }
    }

    /// A random root row id: 10 random bytes in standard base64 without padding (dlt's
    /// `uniq_id_base64(10)`).
    pub(crate) fn random(&mut self, out: &mut String) {
        let mut bytes = [0u8; DLT_ID_LENGTH_BYTES];
        self.rng.fill(&mut bytes);
        out.clear();
        base64::engine::general_purpose::STANDARD_NO_PAD.encode_string(bytes, out);
    }

    /// The id of the row at `list_idx` of nested table `table` under the row `parent_id`:
    /// `digest128(f"{parent_id}_{table}_{list_idx}", 10)`.
    pub(crate) fn nested(&mut self, parent_id: &str, table: &str, list_idx: usize, out: &mut String) {
        use std::fmt::Write as _;
        self.scratch.clear();
        self.scratch.push_str(parent_id);
        self.scratch.push('_');
        self.scratch.push_str(table);
        self.scratch.push('_');
        let _ = write!(self.scratch, "{list_idx}");
        let mut bytes = [0u8; DLT_ID_LENGTH_BYTES];
        let mut hasher = Shake128::default();
        hasher.update(self.scratch.as_bytes());
        hasher.finalize_xof().read(&mut bytes);
        out.clear();
        base64::engine::general_purpose::STANDARD_NO_PAD.encode_string(bytes, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_have_dlt_length() {
        let mut ids = RowIds::new(Some(7));
        let mut a = String::new();
        let mut b = String::new();
        ids.random(&mut a);
        ids.random(&mut b);
        assert_eq!(a.len(), 14);
        assert_ne!(a, b);
    }

    #[test]
    fn nested_matches_digest128() {
        let mut ids = RowIds::new(None);
        let mut out = String::new();
        ids.nested("RCurKC7rNVeZvA", "users__role_ids", 1, &mut out);
        assert_eq!(out, digest128("RCurKC7rNVeZvA_users__role_ids_1", 10));
    }
}
