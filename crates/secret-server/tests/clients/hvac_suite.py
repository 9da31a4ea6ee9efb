"""Drives `underhood secret server` with hvac, the Python Vault client, as a user would.

Usage: python hvac_suite.py http://127.0.0.1:PORT  (a fresh server with --storage, not --dev)
Run by `cargo xtask test` (step `vault-clients`) in a virtualenv it creates.
"""

import base64
import sys

import hvac
from hvac import exceptions


def expect(exception, call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except exception:
        return
    raise AssertionError(f"{call.__name__} did not raise {exception.__name__}")


def b64(text):
    return base64.b64encode(text.encode()).decode()


def main(url):
    client = hvac.Client(url=url)
    assert not client.sys.is_initialized()
    init = client.sys.initialize(secret_shares=5, secret_threshold=3)
    keys, root = init["keys"], init["root_token"]
    assert len(keys) == 5 and len(init["keys_base64"]) == 5
    assert client.sys.is_initialized() and client.sys.is_sealed()
    status = client.sys.submit_unseal_key(keys[0])
    assert status["sealed"] and status["progress"] == 1 and status["t"] == 3
    client.sys.submit_unseal_keys(keys[1:3])
    assert not client.sys.is_sealed()
    client.token = root
    assert client.is_authenticated()

    # Mounts.
    client.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
    client.sys.enable_secrets_engine("transit", path="transit")
    mounts = client.sys.list_mounted_secrets_engines()["data"]
    assert mounts["secret/"]["type"] == "kv" and mounts["transit/"]["type"] == "transit"

    # KV v2: versions, CAS, delete, undelete, destroy, metadata, list.
    kv = client.secrets.kv.v2
    assert kv.create_or_update_secret(path="app/db", secret={"password": "one"})["data"]["version"] == 1
    assert kv.create_or_update_secret(path="app/db", secret={"password": "two"}, cas=1)["data"]["version"] == 2
    expect(exceptions.InvalidRequest, kv.create_or_update_secret, path="app/db", secret={"password": "x"}, cas=1)
    assert kv.read_secret_version(path="app/db", raise_on_deleted_version=True)["data"]["data"] == {"password": "two"}
    assert kv.read_secret_version(path="app/db", version=1, raise_on_deleted_version=True)["data"]["data"] == {"password": "one"}
    kv.delete_latest_version_of_secret(path="app/db")
    expect(exceptions.InvalidPath, kv.read_secret_version, path="app/db", raise_on_deleted_version=True)
    kv.undelete_secret_versions(path="app/db", versions=[2])
    assert kv.read_secret_version(path="app/db", raise_on_deleted_version=True)["data"]["data"] == {"password": "two"}
    kv.destroy_secret_versions(path="app/db", versions=[1])
    metadata = kv.read_secret_metadata(path="app/db")["data"]
    assert metadata["current_version"] == 2 and metadata["versions"]["1"]["destroyed"]
    kv.update_metadata(path="app/db", max_versions=3, custom_metadata={"owner": "ops"})
    assert kv.read_secret_metadata(path="app/db")["data"]["max_versions"] == 3
    kv.create_or_update_secret(path="app/cache", secret={"url": "redis://"})
    kv.create_or_update_secret(path="other/x", secret={"k": "v"})
    assert sorted(kv.list_secrets(path="app")["data"]["keys"]) == ["cache", "db"]
    assert sorted(kv.list_secrets(path="")["data"]["keys"]) == ["app/", "other/"]
    kv.delete_metadata_and_all_versions(path="other/x")
    expect(exceptions.InvalidPath, kv.read_secret_metadata, path="other/x")

    # Policies and tokens: allowed and denied paths.
    policy = """
    path "secret/data/app/*" { capabilities = ["read", "create", "update"] }
    path "secret/data/app/cache" { capabilities = ["deny"] }
    path "transit/encrypt/orders" { capabilities = ["update"] }
    path "transit/decrypt/orders" { capabilities = ["update"] }
    """
    client.sys.create_or_update_policy(name="app", policy=policy)
    assert "app" in client.sys.list_policies()["data"]["policies"]
    assert "secret/data/app/*" in client.sys.read_policy(name="app")["data"]["rules"]
    created = client.auth.token.create(policies=["app"], ttl="1h")
    app_token = created["auth"]["client_token"]
    app = hvac.Client(url=url, token=app_token)
    assert app.is_authenticated()
    me = app.auth.token.lookup_self()["data"]
    assert sorted(me["policies"]) == ["app", "default"] and 0 < me["ttl"] <= 3600
    assert app.secrets.kv.v2.read_secret_version(path="app/db", raise_on_deleted_version=True)["data"]["data"] == {"password": "two"}
    app.secrets.kv.v2.create_or_update_secret(path="app/new", secret={"n": "1"})
    expect(exceptions.Forbidden, app.secrets.kv.v2.read_secret_version, path="app/cache", raise_on_deleted_version=True)
    expect(exceptions.Forbidden, app.secrets.kv.v2.read_secret_version, path="other/x", raise_on_deleted_version=True)
    expect(exceptions.Forbidden, app.sys.list_mounted_secrets_engines)
    expect(exceptions.Forbidden, app.auth.token.create, policies=["root"])
    renewed = app.auth.token.renew_self(increment="2h")
    assert renewed["auth"]["lease_duration"] == 7200
    child = client.auth.token.create(policies=["app"])["auth"]["client_token"]
    grandchild = hvac.Client(url=url, token=child)
    assert grandchild.is_authenticated()
    client.auth.token.revoke(child)
    assert not grandchild.is_authenticated()
    assert client.auth.token.lookup(app_token)["data"]["display_name"].startswith("token")
    app.auth.token.revoke_self()
    assert not app.is_authenticated()

    # Transit: create, encrypt, decrypt, rotate, rewrap, config, datakey.
    transit = client.secrets.transit
    transit.create_key(name="orders")
    ciphertext = transit.encrypt_data(name="orders", plaintext=b64("card 4111"))["data"]["ciphertext"]
    assert ciphertext.startswith("vault:v1:")
    assert transit.decrypt_data(name="orders", ciphertext=ciphertext)["data"]["plaintext"] == b64("card 4111")
    transit.rotate_key(name="orders")
    assert transit.read_key(name="orders")["data"]["latest_version"] == 2
    rewrapped = transit.rewrap_data(name="orders", ciphertext=ciphertext)["data"]["ciphertext"]
    assert rewrapped.startswith("vault:v2:")
    transit.update_key_configuration(name="orders", min_decryption_version=2)
    expect(exceptions.InvalidRequest, transit.decrypt_data, name="orders", ciphertext=ciphertext)
    assert transit.decrypt_data(name="orders", ciphertext=rewrapped)["data"]["plaintext"] == b64("card 4111")
    datakey = transit.generate_data_key(name="orders", key_type="plaintext")["data"]
    assert base64.b64decode(datakey["plaintext"]) and datakey["ciphertext"].startswith("vault:v2:")
    wrapped = transit.generate_data_key(name="orders", key_type="wrapped")["data"]
    assert "plaintext" not in wrapped
    batch = transit.encrypt_data(name="orders", batch_input=[{"plaintext": b64("a")}, {"plaintext": b64("b")}])
    assert len(batch["data"]["batch_results"]) == 2
    assert transit.list_keys()["data"]["keys"] == ["orders"]

    # Seal: 503 everywhere, then unseal and find everything intact.
    client.sys.seal()
    assert client.sys.is_sealed()
    expect(exceptions.VaultDown, kv.read_secret_version, path="app/db", raise_on_deleted_version=True)
    health = client.sys.read_health_status(method="GET")
    assert health.status_code == 503
    client.sys.submit_unseal_keys([keys[4], keys[2], keys[0]])
    assert kv.read_secret_version(path="app/db", raise_on_deleted_version=True)["data"]["data"] == {"password": "two"}
    assert transit.decrypt_data(name="orders", ciphertext=rewrapped)["data"]["plaintext"] == b64("card 4111")
    assert "app" in client.sys.list_policies()["data"]["policies"]
    print("hvac suite: all checks passed")


if __name__ == "__main__":
    main(sys.argv[1])
