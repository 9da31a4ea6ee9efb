//! Any bytes given to the ZooKeeper znode reader fail with an error or give entries that
//! encode and decode back to themselves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_acl_model::zk;

fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = zk::decode(data) {
        let text = zk::encode(&entries);
        let back = zk::decode(text.as_bytes()).expect("encoded entries decode");
        assert_eq!(back, entries, "decode ∘ encode is not the identity");
    }
    if let Ok(path) = std::str::from_utf8(data) {
        if let Ok(pattern) = zk::parse_path(path) {
            assert_eq!(zk::parse_path(&zk::znode_path(&pattern)).ok(), Some(pattern));
        }
        let _ = zk::parse_change_notification("/kafka-acl-changes", path);
        let _ = zk::parse_change_notification("/kafka-acl-extended-changes", path);
    }
});
