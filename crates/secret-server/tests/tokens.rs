//! Tokens and policies end to end: children, orphans, TTLs on a driven clock, use counts,
//! renewal, revocation of a whole tree, and allowed and denied paths.

mod common;

use std::time::Duration;

use common::{Server, check};
use serde_json::{Value, json};

#[test]
fn a_token_sees_only_what_its_policies_grant() {
    let (server, root) = Server::dev();
    let policy = r#"
        path "secret/data/app/*" { capabilities = ["create", "read", "update"] }
        path "secret/data/app/locked" { capabilities = ["deny"] }
        path "secret/metadata/app/*" { capabilities = ["list"] }
        path "secret/data/+/shared" { capabilities = ["read"] }
    "#;
    check(
        server.post("sys/policy/app", &root, json!({"policy": policy})),
        204,
        Value::Null,
    );
    check(
        server.post("secret/data/other/shared", &root, json!({"data": {"v": 1}})),
        200,
        Value::Null,
    );
    let app = server.token(&root, json!({"policies": ["app"]}));
    check(
        server.post(
            "secret/data/app/db",
            &app,
            json!({"data": {"password": "p"}}),
        ),
        200,
        Value::Null,
    );
    check(
        server.get("secret/data/app/db", &app),
        200,
        json!({"data": {"data": {"password": "p"}}}),
    );
    check(
        server.post("secret/data/app/locked", &app, json!({"data": {"x": 1}})),
        403,
        Value::Null,
    );
    check(
        server.get("secret/data/other/shared", &app),
        200,
        Value::Null,
    );
    check(
        server.get("secret/data/other/private", &app),
        403,
        Value::Null,
    );
    check(
        server.list("secret/metadata/app", &app),
        200,
        json!({"data": {"keys": ["db"]}}),
    );
    check(server.delete("secret/data/app/db", &app), 403, Value::Null);
    check(server.get("sys/mounts", &app), 403, Value::Null);
    check(
        server.post("sys/policy/app", &app, json!({"policy": ""})),
        403,
        Value::Null,
    );
    // The default policy: lookup-self, renew-self, revoke-self, capabilities-self.
    check(
        server.get("auth/token/lookup-self", &app),
        200,
        json!({"data": {"policies": ["app", "default"], "id": app.clone(), "orphan": false}}),
    );
    check(
        server.post(
            "sys/capabilities-self",
            &app,
            json!({"path": "secret/data/app/x"}),
        ),
        200,
        json!({"capabilities": ["create", "read", "update"]}),
    );
    // Changing the policy changes what the token may do at once.
    check(
        server.post(
            "sys/policy/app",
            &root,
            json!({"policy": "path \"secret/data/app/*\" { capabilities = [\"read\"] }"}),
        ),
        204,
        Value::Null,
    );
    check(
        server.post(
            "secret/data/app/db",
            &app,
            json!({"data": {"password": "q"}}),
        ),
        403,
        Value::Null,
    );
    check(server.get("secret/data/app/db", &app), 200, Value::Null);
    // A non-root token cannot hand out policies it does not have, nor make orphans.
    let maker_policy = r#"path "auth/token/create" { capabilities = ["update"] }"#;
    check(
        server.post("sys/policy/maker", &root, json!({"policy": maker_policy})),
        204,
        Value::Null,
    );
    let maker = server.token(&root, json!({"policies": ["maker", "app"]}));
    check(
        server.post("auth/token/create", &maker, json!({"policies": ["root"]})),
        400,
        json!({"errors": ["child policies must be subset of parent"]}),
    );
    check(
        server.post(
            "auth/token/create",
            &maker,
            json!({"policies": ["app"], "no_parent": true}),
        ),
        400,
        Value::Null,
    );
    let child = server.token(&maker, json!({"policies": ["app"]}));
    check(
        server.get("auth/token/lookup-self", &child),
        200,
        json!({"data": {"policies": ["app", "default"]}}),
    );
}

#[test]
fn revoking_a_token_revokes_its_children_but_not_orphans() {
    let (server, root) = Server::dev();
    let parent = server.token(&root, json!({"policies": ["default"]}));
    check(
        server.post(
            "sys/policy/maker",
            &root,
            json!({"policy": r#"path "auth/token/create" { capabilities = ["update"] }"#}),
        ),
        204,
        Value::Null,
    );
    let maker = server.token(&root, json!({"policies": ["maker"]}));
    let child = server.token(&maker, json!({}));
    let grandchild = server.token(&child, json!({}));
    let orphan = server.token(&root, json!({"no_parent": true}));
    let orphan2 = server.token(&root, json!({}));
    check(
        server.get("auth/token/lookup-self", &orphan),
        200,
        json!({"data": {"orphan": true}}),
    );
    check(
        server.get("auth/token/lookup-self", &grandchild),
        200,
        json!({"data": {"policies": ["default", "maker"]}}),
    );
    check(
        server.post("auth/token/revoke", &root, json!({"token": maker})),
        204,
        Value::Null,
    );
    for gone in [&maker, &child, &grandchild] {
        check(
            server.get("auth/token/lookup-self", gone),
            403,
            json!({"errors": ["permission denied"]}),
        );
    }
    for alive in [&parent, &orphan, &orphan2] {
        check(
            server.get("auth/token/lookup-self", alive),
            200,
            Value::Null,
        );
    }
    check(
        server.post("auth/token/revoke-self", &parent, Value::Null),
        204,
        Value::Null,
    );
    check(
        server.get("auth/token/lookup-self", &parent),
        403,
        Value::Null,
    );
    // lookup by token and by accessor, revoke by accessor.
    let (_, lookup) = server.post("auth/token/lookup", &root, json!({"token": orphan}));
    let accessor = lookup["data"]["accessor"].as_str().unwrap().to_owned();
    check(
        server.post(
            "auth/token/lookup-accessor",
            &root,
            json!({"accessor": accessor}),
        ),
        200,
        json!({"data": {"id": "", "orphan": true}}),
    );
    check(
        server.post(
            "auth/token/revoke-accessor",
            &root,
            json!({"accessor": accessor}),
        ),
        204,
        Value::Null,
    );
    check(
        server.get("auth/token/lookup-self", &orphan),
        403,
        Value::Null,
    );
}

#[test]
fn ttls_expire_on_the_clock_and_renewal_extends_them_up_to_the_maximum() {
    let (server, root) = Server::dev();
    check(
        server.post(
            "sys/policy/maker",
            &root,
            json!({"policy": r#"path "auth/token/create" { capabilities = ["update"] }"#}),
        ),
        204,
        Value::Null,
    );
    let short = server.token(
        &root,
        json!({"policies": ["maker"], "ttl": "1h", "explicit_max_ttl": "3h"}),
    );
    let child_of_short = server.token(&short, json!({"ttl": "10h"}));
    check(
        server.get("auth/token/lookup-self", &short),
        200,
        json!({"data": {"ttl": 3600, "creation_ttl": 3600, "renewable": true}}),
    );
    server.clock.advance(Duration::from_secs(1800));
    check(
        server.get("auth/token/lookup-self", &short),
        200,
        json!({"data": {"ttl": 1800}}),
    );
    check(
        server.post("auth/token/renew-self", &short, json!({"increment": "2h"})),
        200,
        json!({"auth": {"lease_duration": 7200}}),
    );
    server.clock.advance(Duration::from_secs(5400));
    // Renewal stops at explicit_max_ttl: 3 h after creation, 1 h from now.
    check(
        server.post("auth/token/renew-self", &short, json!({"increment": "5h"})),
        200,
        json!({"auth": {"lease_duration": 3600}}),
    );
    server.clock.advance(Duration::from_secs(3600));
    check(
        server.get("auth/token/lookup-self", &short),
        403,
        Value::Null,
    );
    // A child dies with its expired parent even though its own TTL has not run out.
    check(
        server.get("auth/token/lookup-self", &child_of_short),
        403,
        Value::Null,
    );
    check(
        server.post("auth/token/renew-self", &root, Value::Null),
        400,
        json!({"errors": ["lease is not renewable"]}),
    );
    // Default TTL: 768 hours.
    let default_ttl = server.token(&root, json!({"policies": ["default"]}));
    check(
        server.get("auth/token/lookup-self", &default_ttl),
        200,
        json!({"data": {"ttl": 2_764_800}}),
    );
    check(
        server.post("auth/token/create", &root, json!({"ttl": "soon"})),
        400,
        json!({"errors": ["ttl must be a duration such as 30s, 5m or 1h30m"]}),
    );
}

#[test]
fn a_limited_token_is_revoked_after_its_last_use_and_ids_can_be_chosen_by_root() {
    let (server, root) = Server::dev();
    let twice = server.token(&root, json!({"policies": ["default"], "num_uses": 2}));
    check(
        server.get("auth/token/lookup-self", &twice),
        200,
        json!({"data": {"num_uses": 1}}),
    );
    check(
        server.get("auth/token/lookup-self", &twice),
        200,
        json!({"data": {"num_uses": 0}}),
    );
    check(
        server.get("auth/token/lookup-self", &twice),
        403,
        Value::Null,
    );
    let chosen = server.token(
        &root,
        json!({"id": "my-service-token", "policies": ["default"]}),
    );
    assert_eq!(chosen, "my-service-token");
    check(
        server.post(
            "auth/token/create",
            &root,
            json!({"id": "my-service-token"}),
        ),
        400,
        Value::Null,
    );
    check(
        server.post("auth/token/create", &chosen, json!({"id": "x"})),
        403,
        Value::Null,
    );
    check(
        server.post("auth/token/create-orphan", &root, json!({})),
        200,
        json!({"auth": {"orphan": true}}),
    );
}

#[test]
fn tokens_survive_seal_and_unseal_and_the_store_holds_only_salted_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let clock = std::sync::Arc::new(underhood_secret_server::ManualClock::new(
        std::time::UNIX_EPOCH + Duration::from_secs(common::START),
    ));
    let server = Server {
        core: underhood_secret_server::Core::with_storage_dir(dir.path(), clock.clone()).unwrap(),
        clock,
    };
    let (keys, root) = server.init_and_unseal(3, 2);
    let token = server.token(&root, json!({"policies": ["default"]}));
    check(
        server.post("sys/seal", &root, Value::Null),
        204,
        Value::Null,
    );
    check(
        server.get("auth/token/lookup-self", &token),
        503,
        Value::Null,
    );
    for key in &keys[1..] {
        server.call(
            underhood_secret_server::Operation::Write,
            "sys/unseal",
            None,
            json!({"key": key}),
        );
    }
    check(
        server.get("auth/token/lookup-self", &token),
        200,
        Value::Null,
    );
    // Nothing on disk names a token: entries are keyed by salted hashes and encrypted.
    let mut names = Vec::new();
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        names.push(entry.display().to_string());
        for secret in [&token, &root] {
            assert!(!entry.display().to_string().contains(secret.as_str()));
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));
        }
    }
    assert!(
        names.iter().any(|n| n.contains("sys/token/id")),
        "{names:?}"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
