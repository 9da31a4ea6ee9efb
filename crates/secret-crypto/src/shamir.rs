//! Shamir's secret sharing over GF(2^8), byte-compatible with Vault, plus a self-describing format.
//!
//! [`split`] and [`combine`] use Vault's layout: a share is the secret's length plus one byte,
//! `y_1 … y_L ‖ x`. [`split_checked`] and [`combine_checked`] wrap each share with the threshold, a
//! share-set id and a checksum, so a corrupt share is named and too few shares are refused.

use std::fmt;

use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::Key;
use crate::gf256::{inv, mul, mul_add_into};

/// The most shares one split can make: x runs over 1..=255.
pub const MAX_SHARES: usize = 255;

/// One share in Vault's layout, `y_1 … y_L ‖ x`. It is secret: it zeroizes on drop, and
/// equality runs in constant time.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Share(Vec<u8>);

impl PartialEq for Share {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for Share {}

impl Share {
    /// The share's x-coordinate (its last byte; public); 0 once the share is zeroized.
    pub fn x(&self) -> u8 {
        self.0.last().copied().unwrap_or(0)
    }

    /// A share from its bytes in Vault's layout (at least one y byte, then x ≠ 0).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Share, ShamirError> {
        let share = Share(bytes);
        match share.0.last() {
            None | Some(_) if share.0.len() < 2 => Err(ShamirError::PartTooShort {
                index: 0,
                len: share.0.len(),
            }),
            Some(0) => Err(ShamirError::ZeroX { index: 0 }),
            _ => Ok(share),
        }
    }

    /// The share at x = 1 of a threshold-one split: the secret itself, then x.
    pub(crate) fn constant(secret: &[u8]) -> Share {
        let mut bytes = Vec::with_capacity(secret.len() + 1);
        bytes.extend_from_slice(secret);
        bytes.push(1);
        Share(bytes)
    }

    /// The share's bytes in Vault's layout, to hand to its holder.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Share {{ x: {}, .. }}", self.x())
    }
}

/// Why a split or a combine failed. Where Vault has an error, the message starts with its exact
/// words, and the context (lengths, positions, x) follows in parentheses. Fields count shares
/// from 0; messages count them from 1, like lines of input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShamirError {
    /// Fewer shares requested than the threshold.
    #[error("parts cannot be less than threshold ({parts} < {threshold})")]
    PartsBelowThreshold {
        /// Shares requested.
        parts: usize,
        /// Threshold requested.
        threshold: usize,
    },
    /// More than 255 shares requested.
    #[error("parts cannot exceed 255 (asked for {parts})")]
    TooManyParts {
        /// Shares requested.
        parts: usize,
    },
    /// A threshold below two.
    #[error("threshold must be at least 2 (asked for {threshold})")]
    ThresholdTooSmall {
        /// Threshold requested.
        threshold: usize,
    },
    /// Nothing to split.
    #[error("cannot split an empty secret")]
    EmptySecret,
    /// The explicit x-coordinates are not distinct and non-zero, or there are not `parts` of them.
    #[error("x-coordinates must be {parts} distinct non-zero bytes (got {xs:?})")]
    BadXCoordinates {
        /// Shares requested.
        parts: usize,
        /// The x-coordinates given.
        xs: Vec<u8>,
    },
    /// The explicit coefficients are not `(threshold - 1) × secret length` bytes.
    #[error("expected {expected} coefficient bytes, got {found}")]
    CoefficientCount {
        /// Bytes needed.
        expected: usize,
        /// Bytes given.
        found: usize,
    },
    /// Fewer than two shares to combine.
    #[error("less than two parts cannot be used to reconstruct the secret (got {parts})")]
    TooFewParts {
        /// Shares given.
        parts: usize,
    },
    /// A share shorter than two bytes.
    #[error("parts must be at least two bytes (share {} has {len})", .index + 1)]
    PartTooShort {
        /// Position of the share in the input, from 0.
        index: usize,
        /// Its length.
        len: usize,
    },
    /// Shares of different lengths.
    #[error(
        "all parts must be the same length (share {} has {found} bytes, share 1 has {expected})",
        .index + 1
    )]
    LengthMismatch {
        /// Position of the share in the input, from 0.
        index: usize,
        /// Length of the first share.
        expected: usize,
        /// Length of this one.
        found: usize,
    },
    /// Two shares with the same x-coordinate.
    #[error("duplicate part detected (shares {} and {} both have x = {x})", .first + 1, .second + 1)]
    DuplicatePart {
        /// The shared x-coordinate.
        x: u8,
        /// Position of the first, from 0.
        first: usize,
        /// Position of the second, from 0.
        second: usize,
    },
    /// A share with x = 0, which no split produces (Vault would return its y as the secret).
    #[error("share {} has x = 0, which no split produces", .index + 1)]
    ZeroX {
        /// Position of the share in the input, from 0.
        index: usize,
    },
    /// A self-describing share that does not parse or fails its checksum.
    #[error("share {} is corrupt: {reason}", .index + 1)]
    CorruptShare {
        /// Position of the share in the input, from 0.
        index: usize,
        /// What is wrong with it.
        reason: ShareFormatError,
    },
    /// Self-describing shares from different splits.
    #[error("share {} belongs to another split (different set id or threshold)", .index + 1)]
    MixedSets {
        /// Position of the share in the input, from 0.
        index: usize,
    },
    /// Fewer shares than the threshold recorded in self-describing shares.
    #[error("not enough shares: {have} given, {need} needed")]
    InsufficientShares {
        /// Distinct shares given.
        have: usize,
        /// The threshold.
        need: usize,
    },
    /// More shares than the threshold were given and they do not lie on one polynomial.
    #[error("shares are inconsistent: {}", suspect_text(*.suspect))]
    Inconsistent {
        /// The x-coordinate of the one share whose removal makes the rest agree, when there is one.
        suspect: Option<u8>,
    },
}

fn suspect_text(suspect: Option<u8>) -> String {
    match suspect {
        Some(x) => format!("the share with x = {x} disagrees with all the others"),
        None => "at least one is wrong; give more shares to find which".to_owned(),
    }
}

/// Why a self-describing share's bytes are not a share.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShareFormatError {
    /// Too short to hold the header, one byte and the checksum.
    #[error("{len} bytes is too short for a share (at least {CHECKED_MIN_LEN})")]
    TooShort {
        /// Its length.
        len: usize,
    },
    /// Not an underhood share, or a version this library does not know.
    #[error("unknown magic or version {found:02x?}")]
    UnknownVersion {
        /// The first two bytes.
        found: [u8; 2],
    },
    /// The checksum does not match: the share was altered or mistyped.
    #[error("checksum mismatch")]
    Checksum,
    /// The header holds an impossible threshold or x.
    #[error("impossible header: threshold {threshold}, x {x}")]
    BadHeader {
        /// The recorded threshold.
        threshold: u8,
        /// The recorded x.
        x: u8,
    },
}

/// Splits `secret` into `parts` Vault-layout shares, any `threshold` of which recover it.
///
/// The x-coordinates are a uniform random permutation of 1..=255 (Fisher–Yates) and every
/// coefficient is uniform over 0..=255, all drawn from `rng`.
pub fn split(
    secret: &[u8],
    threshold: usize,
    parts: usize,
    rng: &mut impl CryptoRng,
) -> Result<Vec<Share>, ShamirError> {
    check_split(secret, threshold, parts)?;
    let xs = random_xs(parts, rng);
    let mut coefficients = zeroize::Zeroizing::new(vec![0u8; secret.len() * (threshold - 1)]);
    rng.fill_bytes(&mut coefficients);
    split_with_coefficients(secret, threshold, &xs, &coefficients)
}

/// [`split`] with the randomness given: `xs` are the shares' x-coordinates, and `coefficients`
/// holds, for each secret byte in turn, its polynomial's `threshold - 1` coefficients from x^1 up.
///
/// This is the seam that reproduces published vectors byte for byte; real splits use [`split`].
pub fn split_with_coefficients(
    secret: &[u8],
    threshold: usize,
    xs: &[u8],
    coefficients: &[u8],
) -> Result<Vec<Share>, ShamirError> {
    check_split(secret, threshold, xs.len())?;
    let mut seen = [false; 256];
    for &x in xs {
        if x == 0 || seen[usize::from(x)] {
            return Err(ShamirError::BadXCoordinates {
                parts: xs.len(),
                xs: xs.to_vec(),
            });
        }
        seen[usize::from(x)] = true;
    }
    let degree = threshold - 1;
    if coefficients.len() != secret.len() * degree {
        return Err(ShamirError::CoefficientCount {
            expected: secret.len() * degree,
            found: coefficients.len(),
        });
    }
    // Coefficient k of every byte, laid out contiguously, so Horner runs over whole rows.
    let mut rows = zeroize::Zeroizing::new(vec![0u8; coefficients.len()]);
    for (byte, poly) in coefficients.chunks_exact(degree).enumerate() {
        for (k, &c) in poly.iter().enumerate() {
            rows[k * secret.len() + byte] = c;
        }
    }
    Ok(xs
        .iter()
        .map(|&x| {
            // Horner: y = ((c_d·x + c_{d-1})·x + …)·x + secret.
            let mut y = vec![0u8; secret.len() + 1];
            for row in rows.chunks_exact(secret.len()).rev() {
                for (acc, &c) in y.iter_mut().zip(row) {
                    *acc = mul(*acc, x) ^ c;
                }
            }
            for (acc, &s) in y.iter_mut().zip(secret) {
                *acc = mul(*acc, x) ^ s;
            }
            y[secret.len()] = x;
            Share(y)
        })
        .collect())
}

/// Recovers the secret from Vault-layout shares (Vault's `Combine`).
///
/// Like Vault, it cannot know the threshold: too few shares give a wrong secret, not an error.
/// Use [`combine_verified`] when you know the threshold, or the [`split_checked`] format.
/// Unlike Vault it refuses a share with x = 0.
pub fn combine(shares: &[impl AsRef<[u8]>]) -> Result<Key, ShamirError> {
    let points = points(shares)?;
    Ok(interpolate(&points, 0))
}

/// [`combine`], knowing the threshold: refuses fewer than `threshold` shares, and with more,
/// checks that every share lies on the same polynomial and names the odd one out if it can.
///
/// A threshold below 2 is refused, as [`split`] refuses it.
pub fn combine_verified(shares: &[impl AsRef<[u8]>], threshold: usize) -> Result<Key, ShamirError> {
    if threshold < 2 {
        return Err(ShamirError::ThresholdTooSmall { threshold });
    }
    let points = points(shares)?;
    verified(&points, threshold)
}

/// Splits like [`split`], but each share is self-describing (see [`CheckedShare`]).
pub fn split_checked(
    secret: &[u8],
    threshold: usize,
    parts: usize,
    rng: &mut impl CryptoRng,
) -> Result<Vec<CheckedShare>, ShamirError> {
    let shares = split(secret, threshold, parts, rng)?;
    let mut set_id = [0u8; 8];
    rng.fill_bytes(&mut set_id);
    // check_split has bounded threshold by parts ≤ 255.
    let threshold = u8::try_from(threshold).expect("threshold ≤ 255");
    Ok(shares
        .iter()
        .map(|share| CheckedShare::wrap(share, threshold, set_id))
        .collect())
}

/// Recovers the secret from self-describing shares.
///
/// Names a corrupt share, refuses shares of different splits, refuses fewer than the threshold,
/// and with more than the threshold checks that they agree.
pub fn combine_checked(shares: &[impl AsRef<[u8]>]) -> Result<Key, ShamirError> {
    let parsed = shares
        .iter()
        .enumerate()
        .map(|(index, bytes)| {
            CheckedShare::parse(bytes.as_ref())
                .map_err(|reason| ShamirError::CorruptShare { index, reason })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let Some(first) = parsed.first() else {
        return Err(ShamirError::TooFewParts { parts: 0 });
    };
    let threshold = usize::from(first.threshold());
    if parsed.len() < threshold {
        return Err(ShamirError::InsufficientShares {
            have: parsed.len(),
            need: threshold,
        });
    }
    for (index, share) in parsed.iter().enumerate() {
        if share.set_id() != first.set_id() || share.threshold() != first.threshold() {
            return Err(ShamirError::MixedSets { index });
        }
    }
    let vault: Vec<&[u8]> = parsed.iter().map(CheckedShare::vault_share).collect();
    let points = points(&vault)?;
    verified(&points, threshold)
}

/// A self-describing share: `'U' 0x01 ‖ threshold ‖ x ‖ set id (8) ‖ y_1 … y_L ‖ checksum (8)`.
///
/// The checksum is the first 8 bytes of SHA-256 over a domain label and everything before it; it
/// catches typos and bit rot, not forgery (a forged share is caught by verified reconstruction
/// when more than the threshold are given).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct CheckedShare {
    bytes: Vec<u8>,
    // The share in Vault's layout, kept alongside so combine borrows it.
    vault: Vec<u8>,
}

const CHECKED_HEADER: usize = 12;
const CHECKSUM_LEN: usize = 8;
const CHECKED_MIN_LEN: usize = CHECKED_HEADER + 1 + CHECKSUM_LEN;
const MAGIC: [u8; 2] = [b'U', 1];

impl CheckedShare {
    /// Parses and checks a share's bytes.
    pub fn parse(bytes: &[u8]) -> Result<CheckedShare, ShareFormatError> {
        if bytes.len() < CHECKED_MIN_LEN {
            return Err(ShareFormatError::TooShort { len: bytes.len() });
        }
        if bytes[..2] != MAGIC {
            return Err(ShareFormatError::UnknownVersion {
                found: [bytes[0], bytes[1]],
            });
        }
        let (body, checksum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
        if !bool::from(checksum_of(body)[..].ct_eq(checksum)) {
            return Err(ShareFormatError::Checksum);
        }
        let (threshold, x) = (bytes[2], bytes[3]);
        if threshold < 2 || x == 0 {
            return Err(ShareFormatError::BadHeader { threshold, x });
        }
        let mut vault = body[CHECKED_HEADER..].to_vec();
        vault.push(x);
        Ok(CheckedShare {
            bytes: bytes.to_vec(),
            vault,
        })
    }

    /// The threshold recorded at split time; 0 once the share is zeroized.
    pub fn threshold(&self) -> u8 {
        self.bytes.get(2).copied().unwrap_or(0)
    }

    /// The x-coordinate; 0 once the share is zeroized.
    pub fn x(&self) -> u8 {
        self.bytes.get(3).copied().unwrap_or(0)
    }

    /// The random id shared by every share of one split; zeros once the share is zeroized.
    pub fn set_id(&self) -> [u8; 8] {
        let mut id = [0; 8];
        if let Some(bytes) = self.bytes.get(4..CHECKED_HEADER) {
            id.copy_from_slice(bytes);
        }
        id
    }

    /// The share's bytes, to hand to its holder.
    pub fn expose_secret(&self) -> &[u8] {
        &self.bytes
    }

    fn vault_share(&self) -> &[u8] {
        &self.vault
    }

    fn wrap(share: &Share, threshold: u8, set_id: [u8; 8]) -> CheckedShare {
        let vault = share.expose_secret().to_vec();
        let (y, x) = vault.split_at(vault.len() - 1);
        let mut bytes = Vec::with_capacity(CHECKED_HEADER + y.len() + CHECKSUM_LEN);
        bytes.extend_from_slice(&MAGIC);
        bytes.extend_from_slice(&[threshold, x[0]]);
        bytes.extend_from_slice(&set_id);
        bytes.extend_from_slice(y);
        let checksum = checksum_of(&bytes);
        bytes.extend_from_slice(&checksum);
        CheckedShare { bytes, vault }
    }
}

impl PartialEq for CheckedShare {
    fn eq(&self, other: &Self) -> bool {
        self.bytes.ct_eq(&other.bytes).into()
    }
}

impl Eq for CheckedShare {}

impl fmt::Debug for CheckedShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CheckedShare {{ threshold: {}, x: {}, .. }}",
            self.threshold(),
            self.x()
        )
    }
}

fn checksum_of(body: &[u8]) -> [u8; CHECKSUM_LEN] {
    let digest = Sha256::new_with_prefix(b"underhood-secret-crypto share v1\0")
        .chain_update(body)
        .finalize();
    let mut out = [0; CHECKSUM_LEN];
    out.copy_from_slice(&digest[..CHECKSUM_LEN]);
    out
}

fn check_split(secret: &[u8], threshold: usize, parts: usize) -> Result<(), ShamirError> {
    // Vault's order of checks, so the same input gives the same first error.
    if parts < threshold {
        return Err(ShamirError::PartsBelowThreshold { parts, threshold });
    }
    if parts > MAX_SHARES {
        return Err(ShamirError::TooManyParts { parts });
    }
    if threshold < 2 {
        return Err(ShamirError::ThresholdTooSmall { threshold });
    }
    if secret.is_empty() {
        return Err(ShamirError::EmptySecret);
    }
    Ok(())
}

/// The first `parts` elements of a uniformly random permutation of 1..=255.
fn random_xs(parts: usize, rng: &mut impl CryptoRng) -> Vec<u8> {
    let mut xs: Vec<u8> = (1..=255).collect();
    // Fisher–Yates over the first `parts` slots: j is uniform in [i, 255), i itself included
    // (Vault's shuffle leaves i out, which is Sattolo's algorithm and not uniform).
    for i in 0..parts {
        let j = i + uniform_below(255 - i, rng);
        xs.swap(i, j);
    }
    xs.truncate(parts);
    xs
}

/// A uniform number in 0..bound (bound ≤ 255), by rejection sampling of one byte.
fn uniform_below(bound: usize, rng: &mut impl CryptoRng) -> usize {
    let limit = 256 - 256 % bound;
    loop {
        let mut byte = [0u8];
        rng.fill_bytes(&mut byte);
        let value = usize::from(byte[0]);
        if value < limit {
            return value % bound;
        }
    }
}

/// Shares checked as Vault checks them (plus x ≠ 0), as (x, y bytes) points.
fn points<S: AsRef<[u8]>>(shares: &[S]) -> Result<Vec<(u8, &[u8])>, ShamirError> {
    if shares.len() < 2 {
        return Err(ShamirError::TooFewParts {
            parts: shares.len(),
        });
    }
    let expected = shares[0].as_ref().len();
    let mut first_with_x = [usize::MAX; 256];
    let mut points = Vec::with_capacity(shares.len());
    for (index, share) in shares.iter().enumerate() {
        let share = share.as_ref();
        if share.len() < 2 {
            return Err(ShamirError::PartTooShort {
                index,
                len: share.len(),
            });
        }
        if share.len() != expected {
            return Err(ShamirError::LengthMismatch {
                index,
                expected,
                found: share.len(),
            });
        }
        let (y, x) = share.split_at(share.len() - 1);
        let x = x[0];
        let first = first_with_x[usize::from(x)];
        if first != usize::MAX {
            return Err(ShamirError::DuplicatePart {
                x,
                first,
                second: index,
            });
        }
        first_with_x[usize::from(x)] = index;
        if x == 0 {
            return Err(ShamirError::ZeroX { index });
        }
        points.push((x, y));
    }
    Ok(points)
}

/// The polynomial through `points`, evaluated at `at`, byte by byte.
///
/// The Lagrange weights depend only on the (public) x-coordinates, so they are computed once and
/// each byte costs one multiply per share.
fn interpolate(points: &[(u8, &[u8])], at: u8) -> Key {
    let mut out = vec![0u8; points[0].1.len()];
    for (i, &(xi, yi)) in points.iter().enumerate() {
        let mut weight = 1u8;
        for (m, &(xm, _)) in points.iter().enumerate() {
            if m != i {
                // (at - x_m) / (x_i - x_m); subtraction is xor.
                weight = mul(weight, mul(at ^ xm, inv(xi ^ xm)));
            }
        }
        mul_add_into(&mut out, weight, yi);
    }
    Key::new(out)
}

fn verified(points: &[(u8, &[u8])], threshold: usize) -> Result<Key, ShamirError> {
    if points.len() < threshold {
        return Err(ShamirError::InsufficientShares {
            have: points.len(),
            need: threshold,
        });
    }
    if consistent(points, threshold) {
        return Ok(interpolate(&points[..threshold], 0));
    }
    // Leave each share out in turn; if exactly one removal makes the rest agree, name it.
    let mut suspects = (0..points.len()).filter(|&skip| {
        let rest: Vec<_> = points
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != skip)
            .map(|(_, p)| *p)
            .collect();
        rest.len() > threshold && consistent(&rest, threshold)
    });
    let suspect = match (suspects.next(), suspects.next()) {
        (Some(one), None) => Some(points[one].0),
        _ => None,
    };
    Err(ShamirError::Inconsistent { suspect })
}

/// Whether every point beyond the first `threshold` lies on the polynomial through those.
fn consistent(points: &[(u8, &[u8])], threshold: usize) -> bool {
    let (basis, extra) = points.split_at(threshold);
    extra
        .iter()
        .all(|&(x, y)| bool::from(interpolate(basis, x).expose_secret().ct_eq(y)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid self-describing share with the given header, for the parser tests.
    fn share_with(magic: [u8; 2], threshold: u8, x: u8) -> Vec<u8> {
        let mut bytes = magic.to_vec();
        bytes.extend_from_slice(&[threshold, x]);
        bytes.extend_from_slice(&[9; 8]);
        bytes.extend_from_slice(b"y");
        let checksum = checksum_of(&bytes);
        bytes.extend_from_slice(&checksum);
        bytes
    }

    #[track_caller]
    fn check(bytes: &[u8], expected: Result<(u8, u8), ShareFormatError>) {
        let parsed = CheckedShare::parse(bytes).map(|s| (s.threshold(), s.x()));
        assert_eq!(parsed, expected);
    }

    #[test]
    fn checked_share_parsing() {
        check(&share_with(MAGIC, 3, 7), Ok((3, 7)));
        check(&[], Err(ShareFormatError::TooShort { len: 0 }));
        check(
            &share_with(MAGIC, 3, 7)[1..],
            Err(ShareFormatError::TooShort { len: 20 }),
        );
        check(
            &share_with([b'U', 2], 3, 7),
            Err(ShareFormatError::UnknownVersion { found: [b'U', 2] }),
        );
        check(
            &share_with(MAGIC, 1, 7),
            Err(ShareFormatError::BadHeader { threshold: 1, x: 7 }),
        );
        check(
            &share_with(MAGIC, 3, 0),
            Err(ShareFormatError::BadHeader { threshold: 3, x: 0 }),
        );
        let mut flipped = share_with(MAGIC, 3, 7);
        flipped[12] ^= 1;
        check(&flipped, Err(ShareFormatError::Checksum));
    }

    #[test]
    fn vault_shares_from_bytes() {
        assert_eq!(Share::from_bytes(vec![1, 2]).map(|s| s.x()), Ok(2));
        assert_eq!(
            Share::from_bytes(vec![1]),
            Err(ShamirError::PartTooShort { index: 0, len: 1 })
        );
        assert_eq!(
            Share::from_bytes(vec![1, 0]),
            Err(ShamirError::ZeroX { index: 0 })
        );
        assert_eq!(
            format!("{:?}", Share::from_bytes(vec![42, 3]).unwrap()),
            "Share { x: 3, .. }"
        );
    }
}
