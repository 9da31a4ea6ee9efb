//! KV version 2: versions, `?version=`, check-and-set, soft delete, undelete, destroy,
//! metadata, `max_versions`, `delete_version_after` on the driven clock, and LIST.

mod common;

use std::time::Duration;

use common::{Server, check};
use serde_json::{Value, json};

#[test]
fn versions_check_and_set_and_the_deletion_lifecycle() {
    let (server, root) = Server::dev();
    let write = |data: Value| server.post("secret/data/app/db", &root, data);
    check(
        write(json!({"data": {"v": "one"}})),
        200,
        json!({"data": {"version": 1, "destroyed": false, "deletion_time": ""}}),
    );
    check(
        write(json!({"data": {"v": "two"}, "options": {"cas": 1}})),
        200,
        json!({"data": {"version": 2}}),
    );
    check(
        write(json!({"data": {"v": "x"}, "options": {"cas": 1}})),
        400,
        json!({"errors": ["check-and-set parameter did not match the current version"]}),
    );
    check(
        server.post(
            "secret/data/new",
            &root,
            json!({"data": {"a": 1}, "options": {"cas": 0}}),
        ),
        200,
        json!({"data": {"version": 1}}),
    );
    check(
        server.post(
            "secret/data/new",
            &root,
            json!({"data": {"a": 2}, "options": {"cas": 0}}),
        ),
        400,
        Value::Null,
    );
    check(
        write(json!({"data": {"v": "three"}})),
        200,
        json!({"data": {"version": 3}}),
    );
    check(
        write(json!({})),
        400,
        json!({"errors": ["no data provided"]}),
    );
    check(
        write(json!({"data": "text"})),
        400,
        json!({"errors": ["data must be a JSON object"]}),
    );
    check(
        server.get("secret/data/app/db", &root),
        200,
        json!({"data": {"data": {"v": "three"}, "metadata": {"version": 3}}}),
    );
    check(
        server.get("secret/data/app/db?version=1", &root),
        200,
        json!({"data": {"data": {"v": "one"}}}),
    );
    check(
        server.get("secret/data/app/db?version=9", &root),
        404,
        json!({"errors": []}),
    );
    check(
        server.get("secret/data/nothing", &root),
        404,
        json!({"errors": []}),
    );
    // Soft delete of the latest version: 404 with the metadata, then undelete.
    check(server.delete("secret/data/app/db", &root), 204, Value::Null);
    let (status, body) = server.get("secret/data/app/db", &root);
    assert_eq!(status, 404);
    assert_eq!(body["data"]["data"], Value::Null);
    assert_ne!(body["data"]["metadata"]["deletion_time"], json!(""));
    check(
        server.post("secret/undelete/app/db", &root, json!({"versions": [3]})),
        204,
        Value::Null,
    );
    check(
        server.get("secret/data/app/db", &root),
        200,
        json!({"data": {"data": {"v": "three"}}}),
    );
    // Delete and destroy given versions; a destroyed version cannot be undeleted.
    check(
        server.post(
            "secret/delete/app/db",
            &root,
            json!({"versions": [1, 2, 77]}),
        ),
        204,
        Value::Null,
    );
    check(
        server.get("secret/data/app/db?version=2", &root),
        404,
        Value::Null,
    );
    check(
        server.post("secret/destroy/app/db", &root, json!({"versions": [2]})),
        204,
        Value::Null,
    );
    check(
        server.post("secret/undelete/app/db", &root, json!({"versions": "1,2"})),
        204,
        Value::Null,
    );
    check(
        server.get("secret/data/app/db?version=1", &root),
        200,
        json!({"data": {"data": {"v": "one"}}}),
    );
    check(
        server.get("secret/data/app/db?version=2", &root),
        404,
        json!({"data": {"metadata": {"destroyed": true}}}),
    );
    check(
        server.post("secret/delete/app/db", &root, json!({})),
        400,
        json!({"errors": ["no version number provided"]}),
    );
    check(
        server.get("secret/metadata/app/db", &root),
        200,
        json!({"data": {"current_version": 3, "oldest_version": 1, "max_versions": 0, "versions": {"2": {"destroyed": true}, "3": {"destroyed": false, "deletion_time": ""}}}}),
    );
    check(
        server.delete("secret/metadata/app/db", &root),
        204,
        Value::Null,
    );
    check(
        server.get("secret/data/app/db?version=1", &root),
        404,
        Value::Null,
    );
    check(
        server.get("secret/metadata/app/db", &root),
        404,
        Value::Null,
    );
}

#[test]
fn metadata_settings_trim_versions_require_cas_and_expire_versions() {
    let (server, root) = Server::dev();
    check(
        server.post(
            "secret/metadata/k",
            &root,
            json!({"max_versions": 2, "cas_required": true, "custom_metadata": {"owner": "ops"}}),
        ),
        204,
        Value::Null,
    );
    check(
        server.post("secret/data/k", &root, json!({"data": {"n": 1}})),
        400,
        json!({"errors": ["check-and-set parameter required for this call"]}),
    );
    for n in 0..4 {
        check(
            server.post(
                "secret/data/k",
                &root,
                json!({"data": {"n": n}, "options": {"cas": n}}),
            ),
            200,
            json!({"data": {"version": n + 1, "custom_metadata": {"owner": "ops"}}}),
        );
    }
    check(
        server.get("secret/metadata/k", &root),
        200,
        json!({"data": {"current_version": 4, "oldest_version": 3, "max_versions": 2, "cas_required": true, "custom_metadata": {"owner": "ops"}}}),
    );
    check(
        server.get("secret/data/k?version=2", &root),
        404,
        Value::Null,
    );
    // The mount's config: delete_version_after applies to versions written after it.
    check(
        server.post(
            "secret/config",
            &root,
            json!({"delete_version_after": "1h", "max_versions": 5}),
        ),
        204,
        Value::Null,
    );
    check(
        server.get("secret/config", &root),
        200,
        json!({"data": {"delete_version_after": "1h0m0s", "max_versions": 5}}),
    );
    check(
        server.post("secret/data/temp", &root, json!({"data": {"t": 1}})),
        200,
        Value::Null,
    );
    server.clock.advance(Duration::from_secs(3599));
    check(server.get("secret/data/temp", &root), 200, Value::Null);
    server.clock.advance(Duration::from_secs(1));
    check(server.get("secret/data/temp", &root), 404, Value::Null);
    for n in 0..7 {
        server.post("secret/data/many", &root, json!({"data": {"n": n}}));
    }
    check(
        server.get("secret/metadata/many", &root),
        200,
        json!({"data": {"current_version": 7, "oldest_version": 3}}),
    );
}

#[test]
fn list_shows_direct_children_with_folders_marked() {
    let (server, root) = Server::dev();
    check(
        server.list("secret/metadata", &root),
        404,
        json!({"errors": []}),
    );
    for key in ["a", "b/c", "b/d/e", "b/d/f", "c d"] {
        check(
            server.post(
                &format!("secret/data/{key}"),
                &root,
                json!({"data": {"k": key}}),
            ),
            200,
            Value::Null,
        );
    }
    check(
        server.list("secret/metadata", &root),
        200,
        json!({"data": {"keys": ["a", "b/", "c d"]}}),
    );
    check(
        server.list("secret/metadata/b", &root),
        200,
        json!({"data": {"keys": ["c", "d/"]}}),
    );
    check(
        server.list("secret/metadata/b/d/", &root),
        200,
        json!({"data": {"keys": ["e", "f"]}}),
    );
    check(
        server.get("secret/metadata/b?list=true", &root),
        200,
        json!({"data": {"keys": ["c", "d/"]}}),
    );
    check(server.list("secret/metadata/zzz", &root), 404, Value::Null);
}
