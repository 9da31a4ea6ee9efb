//! Any bytes as a guest CPU spec (`Model,+flag,-flag`): an error, or a guest whose `-cpu` string
//! parses back to the same guest and names only flags QEMU knows.
//! `crates/cpuflags/tests/fuzz_corpus.rs` replays `fuzz/corpus/cpuflags_guest/` with the same checks.

#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_cpuflags::{GuestCpu, canonical_flag, libvirt_flag, qemu_flag};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(guest) = GuestCpu::parse(&text) {
        let printed = guest.qemu_cpu();
        let again = GuestCpu::parse(&printed).expect("a printed guest parses");
        assert_eq!(again.model, guest.model);
        assert_eq!(again.added, guest.added);
        assert_eq!(again.removed, guest.removed);
        assert_eq!(again.flags(), guest.flags());
        assert!(again.not_expressible.is_empty());
        assert_eq!(again.qemu_cpu(), printed);
        for item in printed.split(',').skip(1) {
            let name = &item[1..];
            assert_eq!(qemu_flag(&canonical_flag(name)), Some(name), "{printed}");
        }
        let xml = guest.libvirt_xml();
        let features = xml.matches("<feature ").count();
        assert_eq!(features, guest.added.len() + guest.removed.len(), "{xml}");
        for flag in guest.added.iter().chain(&guest.removed) {
            let name = libvirt_flag(flag).expect("a flag QEMU sets has a libvirt name");
            assert!(xml.contains(&format!("name='{name}'")), "{xml}");
        }
    }
});
