//! sys endpoints: init, unseal (progress, reset, wrong keys), seal, seal-status, health, mounts,
//! policies, and that nothing but init, unseal, seal-status and health answers without a token.

mod common;

use common::{Server, check};
use serde_json::{Value, json};
use underhood_secret_server::Operation;

#[test]
fn init_unseal_seal_and_health_follow_vaults_states() {
    let server = Server::memory();
    check(
        server.call(Operation::Read, "sys/health", None, Value::Null),
        501,
        json!({"initialized": false, "sealed": true}),
    );
    check(
        server.call(Operation::Read, "sys/init", None, Value::Null),
        200,
        json!({"initialized": false}),
    );
    check(
        server.call(Operation::Read, "sys/seal-status", None, Value::Null),
        200,
        json!({"initialized": false, "sealed": true, "t": 0, "n": 0}),
    );
    check(
        server.call(Operation::Write, "sys/unseal", None, json!({"key": "00"})),
        400,
        json!({"errors": ["Vault is not initialized"]}),
    );
    check(
        server.call(
            Operation::Write,
            "sys/init",
            None,
            json!({"secret_shares": 2, "secret_threshold": 1}),
        ),
        400,
        Value::Null,
    );
    check(
        server.call(
            Operation::Write,
            "sys/init",
            None,
            json!({"secret_shares": 3, "secret_threshold": 4}),
        ),
        400,
        Value::Null,
    );
    let (status, init) = server.call(
        Operation::Write,
        "sys/init",
        None,
        json!({"secret_shares": 5, "secret_threshold": 3}),
    );
    assert_eq!(status, 200);
    let hex: Vec<&str> = init["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    let b64: Vec<&str> = init["keys_base64"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!((hex.len(), b64.len(), hex[0].len()), (5, 5, 66));
    assert!(init["root_token"].as_str().unwrap().starts_with("hvs."));
    check(
        server.call(
            Operation::Write,
            "sys/init",
            None,
            json!({"secret_shares": 1, "secret_threshold": 1}),
        ),
        400,
        json!({"errors": ["Vault is already initialized"]}),
    );
    // Initialized and sealed.
    check(
        server.call(Operation::Read, "sys/health", None, Value::Null),
        503,
        json!({"initialized": true, "sealed": true}),
    );
    check(
        server.call(
            Operation::Read,
            "sys/health?sealedcode=200&uninitcode=204",
            None,
            Value::Null,
        ),
        200,
        Value::Null,
    );
    check(
        server.call(
            Operation::Read,
            "sys/health?sealedcode=banana",
            None,
            Value::Null,
        ),
        400,
        Value::Null,
    );
    let root = init["root_token"].as_str().unwrap();
    check(
        server.get("secret/data/x", root),
        503,
        json!({"errors": ["Vault is sealed"]}),
    );
    // Progress, reset, a hex key, a base64 key, a bad key, a repeated key.
    let unseal = |key: &str| server.call(Operation::Write, "sys/unseal", None, json!({"key": key}));
    check(
        unseal(hex[0]),
        200,
        json!({"sealed": true, "progress": 1, "t": 3, "n": 5}),
    );
    check(
        unseal(hex[0]),
        400,
        json!({"errors": ["this unseal key was already given"]}),
    );
    check(
        server.call(Operation::Write, "sys/unseal", None, json!({"reset": true})),
        200,
        json!({"progress": 0}),
    );
    check(
        unseal("not a key!"),
        400,
        json!({"errors": ["'key' must be a valid hex or base64 string"]}),
    );
    check(unseal(b64[1]), 200, json!({"progress": 1}));
    check(unseal(hex[2]), 200, json!({"progress": 2}));
    check(unseal(hex[4]), 200, json!({"sealed": false, "progress": 0}));
    check(
        server.call(Operation::Read, "sys/health", None, Value::Null),
        200,
        json!({"initialized": true, "sealed": false, "standby": false}),
    );
    check(
        server.call(
            Operation::Read,
            "sys/health?activecode=299",
            None,
            Value::Null,
        ),
        299,
        Value::Null,
    );
    // Unsealing an unsealed server reports the status.
    check(unseal(hex[0]), 200, json!({"sealed": false}));
    // Seal needs a token with sudo; then everything but the four answers 503.
    check(
        server.call(Operation::Write, "sys/seal", None, Value::Null),
        403,
        Value::Null,
    );
    check(server.post("sys/seal", root, Value::Null), 204, Value::Null);
    check(server.get("sys/mounts", root), 503, Value::Null);
    check(
        server.call(Operation::Read, "sys/seal-status", None, Value::Null),
        200,
        json!({"sealed": true}),
    );
    // Wrong shares reset the progress and say so, without echoing anything.
    let mut wrong = hex::decode(hex[0]).unwrap();
    wrong[0] ^= 1;
    check(unseal(&hex::encode(&wrong)), 200, json!({"progress": 1}));
    check(unseal(hex[1]), 200, json!({"progress": 2}));
    let (status, body) = unseal(hex[2]);
    assert_eq!(status, 400);
    assert!(
        body["errors"][0]
            .as_str()
            .unwrap()
            .contains("progress was reset")
    );
    check(
        server.call(Operation::Read, "sys/seal-status", None, Value::Null),
        200,
        json!({"progress": 0, "sealed": true}),
    );
}

#[test]
fn only_the_four_sys_endpoints_answer_without_a_token() {
    let (server, root) = Server::dev();
    for (op, path) in [
        (Operation::Read, "sys/init"),
        (Operation::Read, "sys/seal-status"),
        (Operation::Read, "sys/health"),
        (Operation::Write, "sys/unseal"),
    ] {
        let (status, _) = server.call(op, path, None, json!({"reset": true}));
        assert_eq!(status, 200, "{path}");
    }
    for (op, path) in [
        (Operation::Read, "sys/mounts"),
        (Operation::Write, "sys/mounts/kv2"),
        (Operation::Read, "sys/policy"),
        (Operation::List, "sys/policies/acl"),
        (Operation::Write, "sys/policy/p"),
        (Operation::Write, "sys/seal"),
        (Operation::Write, "sys/capabilities-self"),
        (Operation::Read, "auth/token/lookup-self"),
        (Operation::Write, "auth/token/create"),
        (Operation::Write, "auth/token/revoke"),
        (Operation::Read, "secret/data/a"),
        (Operation::Write, "secret/data/a"),
        (Operation::List, "secret/metadata"),
        (Operation::Read, "nothing/here"),
    ] {
        for token in [None, Some("hvs.wrong"), Some("")] {
            let (status, body) = server.call(op, path, token, json!({"type": "kv"}));
            assert_eq!(
                (status, body),
                (403, json!({"errors": ["permission denied"]})),
                "{path} {token:?}"
            );
        }
    }
    check(
        server.get("sys/mounts", &root),
        200,
        json!({"data": {"secret/": {"type": "kv", "options": {"version": "2"}}}}),
    );
}

#[test]
fn mounts_enable_list_and_disable_kv_and_transit_at_any_path() {
    let (server, root) = Server::dev();
    check(
        server.post(
            "sys/mounts/team/a",
            &root,
            json!({"type": "kv", "options": {"version": "2"}}),
        ),
        204,
        Value::Null,
    );
    check(
        server.post("sys/mounts/crypto", &root, json!({"type": "transit"})),
        204,
        Value::Null,
    );
    check(
        server.post("sys/mounts/kv2", &root, json!({"type": "kv-v2"})),
        204,
        Value::Null,
    );
    check(
        server.post("sys/mounts/old", &root, json!({"type": "kv"})),
        400,
        json!({"errors": ["only kv version 2 is supported: set options.version to \"2\""]}),
    );
    check(
        server.post("sys/mounts/db", &root, json!({"type": "database"})),
        400,
        Value::Null,
    );
    check(
        server.post("sys/mounts/team", &root, json!({"type": "transit"})),
        400,
        json!({"errors": ["path is already in use at team/a/"]}),
    );
    check(
        server.post("sys/mounts/sys/x", &root, json!({"type": "transit"})),
        400,
        Value::Null,
    );
    check(
        server.get("sys/mounts", &root),
        200,
        json!({"team/a/": {"type": "kv"}, "crypto/": {"type": "transit"}, "data": {"kv2/": {"type": "kv"}}}),
    );
    check(
        server.post("team/a/data/x", &root, json!({"data": {"k": "v"}})),
        200,
        json!({"data": {"version": 1}}),
    );
    check(
        server.get("team/a/data/x", &root),
        200,
        json!({"data": {"data": {"k": "v"}}}),
    );
    check(
        server.get("sys/internal/ui/mounts/team/a/data/x", &root),
        200,
        json!({"data": {"path": "team/a/", "type": "kv"}}),
    );
    check(server.delete("sys/mounts/team/a", &root), 204, Value::Null);
    check(
        server.get("team/a/data/x", &root),
        404,
        json!({"errors": ["no handler for route \"team/a/data/x\". route entry not found."]}),
    );
    // Mounting again at the same path starts empty.
    check(
        server.post("sys/mounts/team/a", &root, json!({"type": "kv-v2"})),
        204,
        Value::Null,
    );
    check(
        server.get("team/a/data/x", &root),
        404,
        json!({"errors": []}),
    );
}

#[test]
fn policies_are_written_read_listed_and_deleted_at_both_endpoints() {
    let (server, root) = Server::dev();
    let text = "path \"secret/data/app/*\" {\n  capabilities = [\"read\"]\n}\n";
    check(
        server.post("sys/policy/App", &root, json!({"policy": text})),
        204,
        Value::Null,
    );
    check(
        server.get("sys/policy/app", &root),
        200,
        json!({"name": "app", "rules": text}),
    );
    check(
        server.get("sys/policies/acl/app", &root),
        200,
        json!({"data": {"name": "app", "policy": text}}),
    );
    check(
        server.post(
            "sys/policies/acl/ops",
            &root,
            json!({"policy": "path \"sys/*\" { capabilities = [\"sudo\", \"read\"] }"}),
        ),
        204,
        Value::Null,
    );
    check(
        server.post(
            "sys/policy/legacy",
            &root,
            json!({"rules": "path \"a\" { policy = \"read\" }"}),
        ),
        204,
        Value::Null,
    );
    check(
        server.get("sys/policy", &root),
        200,
        json!({"policies": ["app", "default", "legacy", "ops", "root"]}),
    );
    check(
        server.list("sys/policies/acl", &root),
        200,
        json!({"data": {"keys": ["app", "default", "legacy", "ops", "root"]}}),
    );
    check(
        server.post(
            "sys/policy/bad",
            &root,
            json!({"policy": "path \"a\" { capabilities = [\"fly\"] }"}),
        ),
        400,
        json!({"errors": ["failed to parse policy: line 1: unknown capability \"fly\""]}),
    );
    check(
        server.post("sys/policy/root", &root, json!({"policy": ""})),
        400,
        Value::Null,
    );
    check(
        server.delete("sys/policy/default", &root),
        400,
        json!({"errors": ["cannot delete \"default\" policy"]}),
    );
    check(
        server.delete("sys/policies/acl/app", &root),
        204,
        Value::Null,
    );
    check(server.get("sys/policy/app", &root), 404, Value::Null);
}
