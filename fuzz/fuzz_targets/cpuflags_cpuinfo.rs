//! Any bytes as a `/proc/cpuinfo` capture: an error, or a CPU that classifies and plans.

#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_cpuflags::{Cpu, baseline, microarchitecture, psabi};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(cpu) = Cpu::from_cpuinfo(&text) {
        let _ = microarchitecture(&cpu);
        let _ = psabi(&cpu.flags);
        let plan = baseline(std::slice::from_ref(&cpu)).expect("one host always has a baseline");
        assert_eq!(plan.flags, cpu.kvm_offers());
        let _ = (plan.qemu_cpu(), plan.libvirt_xml());
    }
});
