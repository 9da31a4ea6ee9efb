//! Any bytes as a macOS `sysctl` dump: an error, or a CPU that classifies and plans.

#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_cpuflags::{Cpu, baseline, microarchitecture};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(cpu) = Cpu::from_sysctl(&text) {
        let _ = microarchitecture(&cpu);
        let plan = baseline(std::slice::from_ref(&cpu)).expect("one host always has a baseline");
        assert_eq!(plan.flags, cpu.kvm_offers());
    }
});
