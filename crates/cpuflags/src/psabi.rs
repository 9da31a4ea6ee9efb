//! x86-64 psABI micro-architecture levels (v1 to v4) as sets of Linux flag names.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

/// An x86-64 psABI level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum PsabiLevel {
    /// Baseline x86-64: CMOV, CX8, FPU, FXSR, MMX, SYSCALL, SSE, SSE2.
    #[serde(rename = "x86_64_v1")]
    V1,
    /// Adds CX16, LAHF/SAHF, POPCNT, SSE3, SSSE3, SSE4.1, SSE4.2.
    #[serde(rename = "x86_64_v2")]
    V2,
    /// Adds AVX, AVX2, BMI1, BMI2, F16C, FMA, LZCNT, MOVBE, XSAVE.
    #[serde(rename = "x86_64_v3")]
    V3,
    /// Adds AVX512F, AVX512BW, AVX512CD, AVX512DQ, AVX512VL.
    #[serde(rename = "x86_64_v4")]
    V4,
}

/// The levels in order, each with the flags it adds (Linux names).
const LEVELS: [(PsabiLevel, &[&str]); 4] = [
    (
        PsabiLevel::V1,
        &[
            "cmov", "cx8", "fpu", "fxsr", "mmx", "syscall", "sse", "sse2",
        ],
    ),
    (
        PsabiLevel::V2,
        &[
            "cx16", "lahf_lm", "popcnt", "pni", "ssse3", "sse4_1", "sse4_2",
        ],
    ),
    (
        PsabiLevel::V3,
        &[
            "avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave",
        ],
    ),
    (
        PsabiLevel::V4,
        &["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"],
    ),
];

impl PsabiLevel {
    /// The name compilers and archspec use: `x86_64_v1` … `x86_64_v4`.
    pub fn name(self) -> &'static str {
        match self {
            PsabiLevel::V1 => "x86_64_v1",
            PsabiLevel::V2 => "x86_64_v2",
            PsabiLevel::V3 => "x86_64_v3",
            PsabiLevel::V4 => "x86_64_v4",
        }
    }

    /// The flags this level adds over the one below (Linux names).
    pub fn added_flags(self) -> &'static [&'static str] {
        LEVELS[self as usize].1
    }
}

impl fmt::Display for PsabiLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The highest psABI level these flags reach, and the flags that block the next one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Psabi {
    /// The highest level reached, `None` below v1.
    pub level: Option<PsabiLevel>,
    /// Flags missing for the next level (empty at v4).
    pub blockers: Vec<&'static str>,
}

/// The psABI level of a set of canonical x86 flags.
///
/// ```
/// use underhood_cpuflags::{psabi, PsabiLevel};
/// let flags = ["cmov", "cx8", "fpu", "fxsr", "mmx", "syscall", "sse", "sse2", "cx16", "lahf_lm",
///              "popcnt", "pni", "ssse3", "sse4_1", "sse4_2", "avx"];
/// let result = psabi(&flags.iter().map(|f| f.to_string()).collect());
/// assert_eq!(result.level, Some(PsabiLevel::V2));
/// assert!(result.blockers.contains(&"avx2") && !result.blockers.contains(&"avx"));
/// ```
pub fn psabi(flags: &BTreeSet<String>) -> Psabi {
    let mut level = None;
    for (next, needed) in LEVELS {
        let blockers: Vec<&'static str> = needed
            .iter()
            .copied()
            .filter(|f| !flags.contains(*f))
            .collect();
        if !blockers.is_empty() {
            return Psabi { level, blockers };
        }
        level = Some(next);
    }
    Psabi {
        level,
        blockers: Vec::new(),
    }
}
