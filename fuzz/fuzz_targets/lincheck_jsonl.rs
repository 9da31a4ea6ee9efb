//! Any bytes given to the jsonl history reader either fail with a located error or give a
//! history that every built-in model either rejects with a located error or checks within a
//! step budget, with the same verdict on one thread and on two; nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_lincheck::Format;

#[path = "common/lincheck.rs"]
mod lincheck;

fuzz_target!(|data: &[u8]| lincheck::check(data, Format::JsonLines));
