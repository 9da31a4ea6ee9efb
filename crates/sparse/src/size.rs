//! SIZE arguments such as `10G`, `512K` or `4096`.

use std::fmt;
use std::str::FromStr;

use crate::error::ParseSizeError;

/// A byte count parsed from text such as `4096` or `10G`, as `truncate -s` takes it.
///
/// Suffixes `K M G T P E` (and `KiB`, `MiB`, ...) are powers of 1024; `KB`, `MB`, ... are powers
/// of 1000, as in coreutils. The value is at most `i64::MAX`, the largest size Linux accepts.
///
/// ```
/// use underhood_sparse::Size;
/// assert_eq!("10G".parse::<Size>()?.bytes(), 10 << 30);
/// assert_eq!(Size::new(3 << 20).to_string(), "3M");
/// # Ok::<(), underhood_sparse::ParseSizeError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Size(u64);

const SUFFIXES: [char; 6] = ['K', 'M', 'G', 'T', 'P', 'E'];

impl Size {
    /// The largest size: `i64::MAX` bytes.
    pub const MAX: Size = Size(i64::MAX as u64);

    /// A size of `bytes`, clamped to [`Size::MAX`].
    pub fn new(bytes: u64) -> Size {
        Size(bytes.min(Size::MAX.0))
    }

    /// The number of bytes.
    pub fn bytes(self) -> u64 {
        self.0
    }
}

impl FromStr for Size {
    type Err = ParseSizeError;

    fn from_str(text: &str) -> Result<Size, ParseSizeError> {
        if text.is_empty() {
            return Err(ParseSizeError::Empty);
        }
        let digits = text.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(ParseSizeError::NoNumber { text: text.into() });
        }
        let too_large = || ParseSizeError::TooLarge { text: text.into() };
        let (number, suffix) = text.split_at(digits);
        let number: u64 = number.parse().map_err(|_| too_large())?;
        let multiplier = multiplier(suffix).ok_or_else(|| ParseSizeError::UnknownSuffix {
            suffix: suffix.into(),
        })?;
        number
            .checked_mul(multiplier)
            .filter(|&bytes| bytes <= Size::MAX.0)
            .map(Size)
            .ok_or_else(too_large)
    }
}

/// Prints the shortest exact form: `3M` for 3 MiB, `4097` for 4097 bytes.
impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut value = self.0;
        let mut suffix = None;
        for s in SUFFIXES {
            if value == 0 || !value.is_multiple_of(1024) {
                break;
            }
            value /= 1024;
            suffix = Some(s);
        }
        match suffix {
            Some(s) => write!(f, "{value}{s}"),
            None => write!(f, "{value}"),
        }
    }
}

fn multiplier(suffix: &str) -> Option<u64> {
    if suffix.is_empty() {
        return Some(1);
    }
    let mut chars = suffix.chars();
    let letter = chars.next()?.to_ascii_uppercase();
    let power = SUFFIXES.iter().position(|&s| s == letter)? as u32 + 1;
    let base: u64 = match chars.as_str() {
        "" | "iB" | "ib" => 1024,
        "B" | "b" => 1000,
        _ => return None,
    };
    base.checked_pow(power)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[track_caller]
    fn check(text: &str, expected: Result<u64, ParseSizeError>) {
        assert_eq!(text.parse::<Size>().map(Size::bytes), expected, "{text:?}");
    }

    #[test]
    fn parses_numbers_and_suffixes() {
        check("0", Ok(0));
        check("4096", Ok(4096));
        check("1K", Ok(1024));
        check("1k", Ok(1024));
        check("2KiB", Ok(2048));
        check("2KB", Ok(2000));
        check("10M", Ok(10 << 20));
        check("10G", Ok(10 << 30));
        check("2T", Ok(2 << 40));
        check("3P", Ok(3 << 50));
        check("7E", Ok(7 << 60));
        check("9223372036854775807", Ok(i64::MAX as u64));
    }

    #[test]
    fn rejects_bad_sizes_with_the_reason() {
        check("", Err(ParseSizeError::Empty));
        check("G", Err(ParseSizeError::NoNumber { text: "G".into() }));
        check("-1", Err(ParseSizeError::NoNumber { text: "-1".into() }));
        check(" 1", Err(ParseSizeError::NoNumber { text: " 1".into() }));
        check(
            "1.5G",
            Err(ParseSizeError::UnknownSuffix {
                suffix: ".5G".into(),
            }),
        );
        check(
            "1X",
            Err(ParseSizeError::UnknownSuffix { suffix: "X".into() }),
        );
        check(
            "1Gx",
            Err(ParseSizeError::UnknownSuffix {
                suffix: "Gx".into(),
            }),
        );
        check(
            "1é",
            Err(ParseSizeError::UnknownSuffix {
                suffix: "é".into()
            }),
        );
        check("8E", Err(ParseSizeError::TooLarge { text: "8E".into() }));
        check(
            "9223372036854775808",
            Err(ParseSizeError::TooLarge {
                text: "9223372036854775808".into(),
            }),
        );
        check(
            "99999999999999999999999",
            Err(ParseSizeError::TooLarge {
                text: "99999999999999999999999".into(),
            }),
        );
    }

    proptest! {
        #[test]
        fn display_parses_back(bytes in 0..=i64::MAX as u64, shift in 0u32..60) {
            for value in [bytes, (bytes >> shift) << shift] {
                let size = Size::new(value);
                prop_assert_eq!(size.to_string().parse::<Size>(), Ok(size));
            }
        }

        #[test]
        fn any_text_parses_or_errs(text in "\\PC{0,24}") {
            let _ = text.parse::<Size>();
        }
    }
}
