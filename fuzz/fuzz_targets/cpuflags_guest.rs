//! Any bytes as a guest CPU spec (`Model,+flag,-flag`): an error, or a guest that prints back to
//! itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_cpuflags::GuestCpu;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(guest) = GuestCpu::parse(&text) {
        let again = GuestCpu::parse(&guest.qemu_cpu()).expect("a printed guest parses");
        assert_eq!(again.flags(), guest.flags());
        let _ = guest.libvirt_xml();
    }
});
