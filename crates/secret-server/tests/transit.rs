//! Transit: keys (create, read, list, rotate, config, delete), encrypt, decrypt, rewrap,
//! data keys, batches, derived keys and minimum versions.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{Server, check};
use serde_json::{Value, json};

fn transit() -> (Server, String) {
    let (server, root) = Server::dev();
    check(
        server.post("sys/mounts/transit", &root, json!({"type": "transit"})),
        204,
        Value::Null,
    );
    (server, root)
}

fn b64(text: &str) -> String {
    BASE64.encode(text)
}

#[test]
fn encrypt_rotate_rewrap_and_minimum_versions() {
    let (server, root) = transit();
    check(
        server.post("transit/keys/orders", &root, json!({})),
        200,
        json!({"data": {"name": "orders", "type": "aes256-gcm96", "latest_version": 1, "deletion_allowed": false}}),
    );
    let (status, enc) = server.post(
        "transit/encrypt/orders",
        &root,
        json!({"plaintext": b64("card 4111")}),
    );
    assert_eq!(status, 200);
    let v1 = enc["data"]["ciphertext"].as_str().unwrap().to_owned();
    assert!(v1.starts_with("vault:v1:"), "{v1}");
    assert_eq!(enc["data"]["key_version"], 1);
    check(
        server.post("transit/decrypt/orders", &root, json!({"ciphertext": v1})),
        200,
        json!({"data": {"plaintext": b64("card 4111")}}),
    );
    check(
        server.post("transit/keys/orders/rotate", &root, Value::Null),
        200,
        json!({"data": {"latest_version": 2}}),
    );
    check(
        server.get("transit/keys/orders", &root),
        200,
        json!({"data": {"latest_version": 2, "min_decryption_version": 1}}),
    );
    let (_, rewrapped) = server.post("transit/rewrap/orders", &root, json!({"ciphertext": v1}));
    let v2 = rewrapped["data"]["ciphertext"].as_str().unwrap().to_owned();
    assert!(v2.starts_with("vault:v2:"), "{v2}");
    check(
        server.post(
            "transit/keys/orders/config",
            &root,
            json!({"min_decryption_version": 2}),
        ),
        200,
        json!({"data": {"min_decryption_version": 2}}),
    );
    let (status, body) = server.post("transit/decrypt/orders", &root, json!({"ciphertext": v1}));
    assert_eq!(status, 400);
    assert!(
        body["errors"][0].as_str().unwrap().contains("too old"),
        "{body}"
    );
    check(
        server.post("transit/decrypt/orders", &root, json!({"ciphertext": v2})),
        200,
        json!({"data": {"plaintext": b64("card 4111")}}),
    );
    check(
        server.post(
            "transit/keys/orders/config",
            &root,
            json!({"min_decryption_version": 5}),
        ),
        400,
        Value::Null,
    );
    check(
        server.post(
            "transit/encrypt/orders",
            &root,
            json!({"plaintext": b64("x"), "key_version": 1}),
        ),
        400,
        Value::Null,
    );
    // Tampered and malformed ciphertexts are refused without echoing them.
    let mut tampered = v2.clone();
    tampered.replace_range(12..13, if &v2[12..13] == "A" { "B" } else { "A" });
    let (status, body) = server.post(
        "transit/decrypt/orders",
        &root,
        json!({"ciphertext": tampered}),
    );
    assert_eq!(status, 400);
    assert!(!body.to_string().contains(&tampered[9..]), "{body}");
    check(
        server.post(
            "transit/decrypt/orders",
            &root,
            json!({"ciphertext": "nonsense"}),
        ),
        400,
        Value::Null,
    );
    check(
        server.post("transit/decrypt/nokey", &root, json!({"ciphertext": v2})),
        400,
        json!({"errors": ["encryption key not found"]}),
    );
    check(
        server.post(
            "transit/encrypt/orders",
            &root,
            json!({"plaintext": "not base64!"}),
        ),
        400,
        json!({"errors": ["plaintext must be base64-encoded"]}),
    );
}

#[test]
fn batches_answer_each_item_in_order_with_its_reference() {
    let (server, root) = transit();
    let (status, body) = server.post(
        "transit/encrypt/batch",
        &root,
        json!({"batch_input": [{"plaintext": b64("a"), "reference": "r1"}, {"plaintext": b64("b")}]}),
    );
    assert_eq!(status, 200, "{body}");
    let results = body["data"]["batch_results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["reference"], "r1");
    let items: Vec<Value> = results
        .iter()
        .map(|r| json!({"ciphertext": r["ciphertext"]}))
        .collect();
    let mut with_bad = items.clone();
    with_bad.push(json!({"ciphertext": "vault:v9:AAAA"}));
    let (status, body) = server.post(
        "transit/decrypt/batch",
        &root,
        json!({"batch_input": with_bad}),
    );
    assert_eq!(status, 400);
    let results = body["data"]["batch_results"].as_array().unwrap();
    assert_eq!(results[0]["plaintext"], b64("a"));
    assert_eq!(results[1]["plaintext"], b64("b"));
    assert!(results[2]["error"].as_str().unwrap().contains("too new"));
    let (status, body) = server.post("transit/rewrap/batch", &root, json!({"batch_input": items}));
    assert_eq!(status, 200, "{body}");
    check(
        server.post("transit/encrypt/batch", &root, json!({"batch_input": []})),
        400,
        Value::Null,
    );
}

#[test]
fn data_keys_derived_keys_key_listing_and_deletion() {
    let (server, root) = transit();
    check(
        server.post(
            "transit/keys/dk",
            &root,
            json!({"type": "chacha20-poly1305"}),
        ),
        200,
        json!({"data": {"type": "chacha20-poly1305"}}),
    );
    let (status, body) = server.post("transit/datakey/plaintext/dk", &root, json!({"bits": 512}));
    assert_eq!(status, 200);
    let plaintext = BASE64
        .decode(body["data"]["plaintext"].as_str().unwrap())
        .unwrap();
    assert_eq!(plaintext.len(), 64);
    check(
        server.post(
            "transit/decrypt/dk",
            &root,
            json!({"ciphertext": body["data"]["ciphertext"]}),
        ),
        200,
        json!({"data": {"plaintext": BASE64.encode(&plaintext)}}),
    );
    let (_, wrapped) = server.post("transit/datakey/wrapped/dk", &root, json!({}));
    assert_eq!(wrapped["data"].get("plaintext"), None);
    check(
        server.post("transit/datakey/plaintext/dk", &root, json!({"bits": 100})),
        400,
        Value::Null,
    );
    // Derived keys need a context; upsert with a context makes a derived key.
    let context = b64("tenant-1");
    check(
        server.post(
            "transit/encrypt/tenants",
            &root,
            json!({"plaintext": b64("x"), "context": context}),
        ),
        200,
        Value::Null,
    );
    check(
        server.get("transit/keys/tenants", &root),
        200,
        json!({"data": {"derived": true}}),
    );
    check(
        server.post(
            "transit/encrypt/tenants",
            &root,
            json!({"plaintext": b64("x")}),
        ),
        400,
        Value::Null,
    );
    check(
        server.post(
            "transit/keys/conv",
            &root,
            json!({"derived": true, "convergent_encryption": true}),
        ),
        200,
        json!({"data": {"convergent_encryption": true}}),
    );
    let (_, a) = server.post(
        "transit/encrypt/conv",
        &root,
        json!({"plaintext": b64("same"), "context": context}),
    );
    let (_, b) = server.post(
        "transit/encrypt/conv",
        &root,
        json!({"plaintext": b64("same"), "context": context}),
    );
    assert_eq!(a["data"]["ciphertext"], b["data"]["ciphertext"]);
    check(
        server.post("transit/keys/rsa", &root, json!({"type": "rsa-2048"})),
        400,
        Value::Null,
    );
    check(
        server.list("transit/keys", &root),
        200,
        json!({"data": {"keys": ["conv", "dk", "tenants"]}}),
    );
    check(
        server.delete("transit/keys/dk", &root),
        400,
        json!({"errors": ["deletion is not allowed for this key"]}),
    );
    check(
        server.post(
            "transit/keys/dk/config",
            &root,
            json!({"deletion_allowed": true}),
        ),
        200,
        Value::Null,
    );
    check(server.delete("transit/keys/dk", &root), 204, Value::Null);
    check(server.get("transit/keys/dk", &root), 404, Value::Null);
}

#[test]
fn transit_policies_distinguish_create_from_update() {
    let (server, root) = transit();
    let policy = r#"path "transit/encrypt/*" { capabilities = ["update"] }"#;
    check(
        server.post("sys/policy/enc", &root, json!({"policy": policy})),
        204,
        Value::Null,
    );
    let token = server.token(&root, json!({"policies": ["enc"]}));
    // Encrypting with a missing key would create it: that needs `create`.
    check(
        server.post("transit/encrypt/k", &token, json!({"plaintext": b64("x")})),
        403,
        Value::Null,
    );
    check(
        server.post("transit/keys/k", &root, json!({})),
        200,
        Value::Null,
    );
    check(
        server.post("transit/encrypt/k", &token, json!({"plaintext": b64("x")})),
        200,
        Value::Null,
    );
    check(
        server.post(
            "transit/decrypt/k",
            &token,
            json!({"ciphertext": "vault:v1:AAAA"}),
        ),
        403,
        Value::Null,
    );
}
