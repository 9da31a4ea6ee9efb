//! Readers authorize while admins publish copy-on-write snapshots: checked by loom over every
//! interleaving. Run with `RUSTFLAGS="--cfg loom" cargo test -p underhood-acl-model --release --test loom`.
#![cfg(loom)]

use underhood_acl_model::*;

fn allow(name: &str) -> AclBinding {
    AclBinding {
        pattern: ResourcePattern::new(ResourceType::Topic, name, PatternType::Literal).unwrap(),
        entry: AccessControlEntry::new(
            KafkaPrincipal::parse("User:a").unwrap(),
            "*",
            AclOperation::Read,
            AclPermissionType::Allow,
        )
        .unwrap(),
    }
}

fn allowed(authorizer: &Authorizer, name: &str) -> bool {
    let a = KafkaPrincipal::parse("User:a").unwrap();
    let topic = Resource::new(ResourceType::Topic, name).unwrap();
    authorizer.authorize(&a, "h", AclOperation::Read, &topic) == AuthorizationResult::Allowed
}

#[test]
fn readers_see_whole_updates_in_order() {
    loom::model(|| {
        let shared = SharedAuthorizer::new(Authorizer::default());
        let mut reader = shared.reader();
        let writer = shared.clone();
        let admin = loom::thread::spawn(move || {
            writer.update(|a| a.create([allow("first")]));
            writer.update(|a| {
                // One update, two ACLs: never seen apart.
                a.create([allow("second"), allow("third")])
            });
        });
        let mut seen = 0;
        for _ in 0..2 {
            let snapshot = reader.current();
            let (first, second, third) = (
                allowed(snapshot, "first"),
                allowed(snapshot, "second"),
                allowed(snapshot, "third"),
            );
            assert_eq!(second, third, "half an update is visible");
            assert!(!second || first, "updates seen out of order");
            let now = usize::from(first) + usize::from(second) + usize::from(third);
            assert!(now >= seen, "a reader went back in time");
            seen = now;
        }
        admin.join().unwrap();
        assert_eq!(reader.current().len(), 3);
    });
}

#[test]
fn concurrent_admins_lose_no_update() {
    loom::model(|| {
        let shared = SharedAuthorizer::new(Authorizer::default());
        let other = shared.clone();
        let admin = loom::thread::spawn(move || {
            other.update(|a| a.create([allow("x")]));
        });
        shared.update(|a| a.create([allow("y")]));
        admin.join().unwrap();
        let snapshot = shared.snapshot();
        assert!(allowed(&snapshot, "x") && allowed(&snapshot, "y"));
    });
}

/// Readers never wait for an update's copy or change: a reader runs to the end while an update's
/// change is under way (if the update held the snapshot's lock, loom would report a deadlock).
#[test]
fn readers_finish_while_an_update_is_changing() {
    loom::model(|| {
        let shared = SharedAuthorizer::new(Authorizer::default());
        let reader_side = shared.clone();
        shared.update(|a| {
            let reader = loom::thread::spawn(move || {
                let mut reader = reader_side.reader();
                (reader_side.snapshot().len(), reader.current().len())
            });
            // The update has not been published: the reader sees the old snapshot.
            assert_eq!(reader.join().unwrap(), (0, 0));
            a.create([allow("x")])
        });
        assert_eq!(shared.snapshot().len(), 1);
    });
}
