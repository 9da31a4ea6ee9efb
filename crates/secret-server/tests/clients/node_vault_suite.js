// Drives `underhood secret server` with node-vault, the npm Vault client, as a user would.
//
// Usage: node node_vault_suite.js http://127.0.0.1:PORT  (a fresh server with --storage)
// Run by `cargo xtask test` (step `vault-clients`), which installs node-vault with npm.
'use strict';

const assert = require('assert');

async function rejects(promise, status) {
    try {
        await promise;
    } catch (error) {
        assert.strictEqual(error.response && error.response.statusCode, status, String(error));
        return;
    }
    assert.fail(`expected a ${status} error`);
}

const b64 = (text) => Buffer.from(text).toString('base64');

async function main(endpoint) {
    const vault = require('node-vault')({ apiVersion: 'v1', endpoint });
    assert.strictEqual((await vault.initialized()).initialized, false);
    const init = await vault.init({ secret_shares: 3, secret_threshold: 2 });
    vault.token = init.root_token;
    assert.strictEqual((await vault.unseal({ key: init.keys[0] })).progress, 1);
    assert.strictEqual((await vault.unseal({ key: init.keys[2] })).sealed, false);
    assert.strictEqual((await vault.status()).sealed, false);
    assert.strictEqual((await vault.health()).initialized, true);

    await vault.mount({ mount_point: 'secret', type: 'kv', options: { version: '2' } });
    await vault.mount({ mount_point: 'transit', type: 'transit' });
    assert.ok((await vault.mounts())['secret/']);

    // KV v2 with check-and-set.
    assert.strictEqual((await vault.write('secret/data/svc', { data: { user: 'a' } })).data.version, 1);
    assert.strictEqual((await vault.write('secret/data/svc', { data: { user: 'b' }, options: { cas: 1 } })).data.version, 2);
    await rejects(vault.write('secret/data/svc', { data: { user: 'c' }, options: { cas: 1 } }), 400);
    assert.deepStrictEqual((await vault.read('secret/data/svc')).data.data, { user: 'b' });
    assert.deepStrictEqual((await vault.read('secret/data/svc?version=1')).data.data, { user: 'a' });
    assert.deepStrictEqual((await vault.list('secret/metadata/')).data.keys, ['svc']);
    await vault.delete('secret/data/svc');
    await rejects(vault.read('secret/data/svc'), 404);
    await vault.write('secret/undelete/svc', { versions: [2] });
    assert.deepStrictEqual((await vault.read('secret/data/svc')).data.data, { user: 'b' });

    // A policy and a token limited by it.
    await vault.addPolicy({ name: 'reader', rules: 'path "secret/data/svc" { capabilities = ["read"] }' });
    assert.ok((await vault.policies()).policies.includes('reader'));
    const created = await vault.tokenCreate({ policies: ['reader'], ttl: '30m' });
    // node-vault switches a client to the token it just created; switch back.
    assert.strictEqual(vault.token, created.auth.client_token);
    vault.token = init.root_token;
    const reader = require('node-vault')({ apiVersion: 'v1', endpoint, token: created.auth.client_token });
    assert.deepStrictEqual((await reader.read('secret/data/svc')).data.data, { user: 'b' });
    await rejects(reader.write('secret/data/svc', { data: { user: 'x' } }), 403);
    await rejects(reader.read('secret/data/other'), 403);
    const self = await reader.tokenLookupSelf();
    assert.deepStrictEqual(self.data.policies.sort(), ['default', 'reader']);
    await reader.tokenRenewSelf();
    await reader.tokenRevokeSelf();
    await rejects(reader.tokenLookupSelf(), 403);

    // Transit.
    await vault.transitCreateKey({ name: 'k' });
    const encrypted = await vault.encryptData({ name: 'k', plaintext: b64('hello') });
    assert.ok(encrypted.data.ciphertext.startsWith('vault:v1:'));
    assert.strictEqual((await vault.decryptData({ name: 'k', ciphertext: encrypted.data.ciphertext })).data.plaintext, b64('hello'));
    await vault.write('transit/keys/k/rotate', {});
    const rewrapped = await vault.rewrapData({ name: 'k', ciphertext: encrypted.data.ciphertext });
    assert.ok(rewrapped.data.ciphertext.startsWith('vault:v2:'));
    const datakey = await vault.write('transit/datakey/plaintext/k', { bits: 128 });
    assert.strictEqual(Buffer.from(datakey.data.plaintext, 'base64').length, 16);
    assert.deepStrictEqual((await vault.transitListKeys()).data.keys, ['k']);

    // Seal, 503, unseal, data intact.
    await vault.seal();
    await rejects(vault.read('secret/data/svc'), 503);
    await vault.unseal({ key: init.keys[1] });
    await vault.unseal({ key: init.keys[0] });
    assert.deepStrictEqual((await vault.read('secret/data/svc')).data.data, { user: 'b' });
    assert.strictEqual((await vault.decryptData({ name: 'k', ciphertext: rewrapped.data.ciphertext })).data.plaintext, b64('hello'));
    console.log('node-vault suite: all checks passed');
}

main(process.argv[2]).catch((error) => {
    console.error(error);
    process.exit(1);
});
