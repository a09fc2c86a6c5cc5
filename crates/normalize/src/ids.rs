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
    shake128(value.as_bytes(), &mut bytes);
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
}

/// The rate of shake_128 in bytes.
const SHAKE128_RATE: usize = 168;

/// shake_128 of `message` into `out`. Messages and outputs shorter than one block (the row ids: ~40
/// bytes in, 10 out) take a single Keccak permutation without the streaming machinery.
fn shake128(message: &[u8], out: &mut [u8]) {
    if message.len() >= SHAKE128_RATE || out.len() > SHAKE128_RATE {
        let mut hasher = Shake128::default();
        hasher.update(message);
        hasher.finalize_xof().read(out);
        return;
    }
    let mut block = [0u8; SHAKE128_RATE];
    block[..message.len()].copy_from_slice(message);
    block[message.len()] ^= 0x1f;
    block[SHAKE128_RATE - 1] ^= 0x80;
    let mut state = [0u64; 25];
    for (lane, chunk) in state.iter_mut().zip(block.chunks_exact(8)) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        *lane = u64::from_le_bytes(word);
    }
    keccak::f1600(&mut state);
    for (chunk, lane) in out.chunks_mut(8).zip(state.iter()) {
        chunk.copy_from_slice(&lane.to_le_bytes()[..chunk.len()]);
    }
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

    /// Appends a random root row id to `out`: 10 random bytes in standard base64 without padding
    /// (dlt's `uniq_id_base64(10)`).
    pub(crate) fn random(&mut self, out: &mut String) {
        let mut bytes = [0u8; DLT_ID_LENGTH_BYTES];
        self.rng.fill(&mut bytes);
        base64::engine::general_purpose::STANDARD_NO_PAD.encode_string(bytes, out);
    }

    /// Appends to `arena` the id of the row at `list_idx` of nested table `table` under the row whose
    /// id is `arena[parent.0..parent.0 + parent.1]`: `digest128(f"{parent_id}_{table}_{list_idx}", 10)`.
    pub(crate) fn nested(
        &mut self,
        arena: &mut String,
        parent: (usize, usize),
        table: &str,
        list_idx: usize,
    ) {
        use std::fmt::Write as _;
        self.scratch.clear();
        self.scratch
            .push_str(arena.get(parent.0..parent.0 + parent.1).unwrap_or(""));
        self.scratch.push('_');
        self.scratch.push_str(table);
        self.scratch.push('_');
        let _ = write!(self.scratch, "{list_idx}");
        let mut bytes = [0u8; DLT_ID_LENGTH_BYTES];
        shake128(self.scratch.as_bytes(), &mut bytes);
        base64::engine::general_purpose::STANDARD_NO_PAD.encode_string(bytes, arena);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_have_dlt_length() {
        let mut ids = RowIds::new(Some(7));
        let mut a = String::new();
        let mut b = String::from("x");
        ids.random(&mut a);
        ids.random(&mut b);
        let b = b.split_off(1);
        assert_eq!(a.len(), 14);
        assert_ne!(a, b);
    }

    #[test]
    fn one_block_shake_matches_the_streaming_one() {
        for len in [0, 1, 7, 8, 100, 166, 167, 168, 169, 400] {
            let message: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            for out_len in [10, 32, 168, 200] {
                let mut fast = vec![0u8; out_len];
                shake128(&message, &mut fast);
                let mut slow = vec![0u8; out_len];
                let mut hasher = Shake128::default();
                hasher.update(&message);
                hasher.finalize_xof().read(&mut slow);
                assert_eq!(fast, slow, "len {len} out {out_len}");
            }
        }
    }

    #[test]
    fn nested_matches_digest128() {
        let mut ids = RowIds::new(None);
        let mut arena = String::from("RCurKC7rNVeZvA");
        ids.nested(&mut arena, (0, 14), "users__role_ids", 1);
        assert_eq!(&arena[14..], digest128("RCurKC7rNVeZvA_users__role_ids_1", 10));
    }
}
