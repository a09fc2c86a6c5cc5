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
    keccak_f1600(&mut state);
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

/// Round constants of Keccak-f[1600].
const ROUND_CONSTANTS: [u64; 24] = [
    0x0000_0000_0000_0001,
    0x0000_0000_0000_8082,
    0x8000_0000_0000_808a,
    0x8000_0000_8000_8000,
    0x0000_0000_0000_808b,
    0x0000_0000_8000_0001,
    0x8000_0000_8000_8081,
    0x8000_0000_0000_8009,
    0x0000_0000_0000_008a,
    0x0000_0000_0000_0088,
    0x0000_0000_8000_8009,
    0x0000_0000_8000_000a,
    0x0000_0000_8000_808b,
    0x8000_0000_0000_008b,
    0x8000_0000_0000_8089,
    0x8000_0000_0000_8003,
    0x8000_0000_0000_8002,
    0x8000_0000_0000_0080,
    0x0000_0000_0000_800a,
    0x8000_0000_8000_000a,
    0x8000_0000_8000_8081,
    0x8000_0000_0000_8080,
    0x0000_0000_8000_0001,
    0x8000_0000_8000_8008,
];

/// The Keccak-f[1600] permutation (FIPS 202), each round written out over locals: row ids take one
/// permutation each, and this is their hot spot. Checked against the `sha3` crate in the tests.
#[allow(clippy::many_single_char_names)]
fn keccak_f1600(a: &mut [u64; 25]) {
    for rc in ROUND_CONSTANTS {
        // theta
        let c0 = a[0] ^ a[5] ^ a[10] ^ a[15] ^ a[20];
        let c1 = a[1] ^ a[6] ^ a[11] ^ a[16] ^ a[21];
        let c2 = a[2] ^ a[7] ^ a[12] ^ a[17] ^ a[22];
        let c3 = a[3] ^ a[8] ^ a[13] ^ a[18] ^ a[23];
        let c4 = a[4] ^ a[9] ^ a[14] ^ a[19] ^ a[24];
        let d0 = c4 ^ c1.rotate_left(1);
        let d1 = c0 ^ c2.rotate_left(1);
        let d2 = c1 ^ c3.rotate_left(1);
        let d3 = c2 ^ c4.rotate_left(1);
        let d4 = c3 ^ c0.rotate_left(1);
        // rho and pi
        let b00 = a[0] ^ d0;
        let b10 = (a[6] ^ d1).rotate_left(44);
        let b20 = (a[12] ^ d2).rotate_left(43);
        let b30 = (a[18] ^ d3).rotate_left(21);
        let b40 = (a[24] ^ d4).rotate_left(14);
        let b01 = (a[3] ^ d3).rotate_left(28);
        let b11 = (a[9] ^ d4).rotate_left(20);
        let b21 = (a[10] ^ d0).rotate_left(3);
        let b31 = (a[16] ^ d1).rotate_left(45);
        let b41 = (a[22] ^ d2).rotate_left(61);
        let b02 = (a[1] ^ d1).rotate_left(1);
        let b12 = (a[7] ^ d2).rotate_left(6);
        let b22 = (a[13] ^ d3).rotate_left(25);
        let b32 = (a[19] ^ d4).rotate_left(8);
        let b42 = (a[20] ^ d0).rotate_left(18);
        let b03 = (a[4] ^ d4).rotate_left(27);
        let b13 = (a[5] ^ d0).rotate_left(36);
        let b23 = (a[11] ^ d1).rotate_left(10);
        let b33 = (a[17] ^ d2).rotate_left(15);
        let b43 = (a[23] ^ d3).rotate_left(56);
        let b04 = (a[2] ^ d2).rotate_left(62);
        let b14 = (a[8] ^ d3).rotate_left(55);
        let b24 = (a[14] ^ d4).rotate_left(39);
        let b34 = (a[15] ^ d0).rotate_left(41);
        let b44 = (a[21] ^ d1).rotate_left(2);
        // chi and iota
        a[0] = b00 ^ (!b10 & b20) ^ rc;
        a[1] = b10 ^ (!b20 & b30);
        a[2] = b20 ^ (!b30 & b40);
        a[3] = b30 ^ (!b40 & b00);
        a[4] = b40 ^ (!b00 & b10);
        a[5] = b01 ^ (!b11 & b21);
        a[6] = b11 ^ (!b21 & b31);
        a[7] = b21 ^ (!b31 & b41);
        a[8] = b31 ^ (!b41 & b01);
        a[9] = b41 ^ (!b01 & b11);
        a[10] = b02 ^ (!b12 & b22);
        a[11] = b12 ^ (!b22 & b32);
        a[12] = b22 ^ (!b32 & b42);
        a[13] = b32 ^ (!b42 & b02);
        a[14] = b42 ^ (!b02 & b12);
        a[15] = b03 ^ (!b13 & b23);
        a[16] = b13 ^ (!b23 & b33);
        a[17] = b23 ^ (!b33 & b43);
        a[18] = b33 ^ (!b43 & b03);
        a[19] = b43 ^ (!b03 & b13);
        a[20] = b04 ^ (!b14 & b24);
        a[21] = b14 ^ (!b24 & b34);
        a[22] = b24 ^ (!b34 & b44);
        a[23] = b34 ^ (!b44 & b04);
        a[24] = b44 ^ (!b04 & b14);
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
