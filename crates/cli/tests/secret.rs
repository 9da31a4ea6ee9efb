//! The `underhood secret` command-line contract: split/combine in both formats with exit status 2
//! on bad input, transit over a key file, and a barrier over a directory.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

struct Out {
    status: i32,
    stdout: String,
    stderr: String,
}

fn underhood(args: &[&str], stdin: &[u8]) -> Out {
    let mut child = Command::new(env!("CARGO_BIN_EXE_underhood"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the underhood binary runs");
    // A command that does not read stdin may exit before we finish writing: not an error.
    if let Err(err) = child.stdin.take().unwrap().write_all(stdin) {
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
    }
    let out = child.wait_with_output().unwrap();
    Out {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `underhood secret <args>` with `stdin`; checks the status and that stdout (on success)
/// or stderr (on failure) contains `has`; returns stdout.
#[track_caller]
fn check(args: &[&str], stdin: &str, status: i32, has: &str) -> String {
    let mut full = vec!["secret"];
    full.extend_from_slice(args);
    let out = underhood(&full, stdin.as_bytes());
    assert_eq!(
        out.status, status,
        "{full:?}\nstdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    let text = if status == 0 {
        &out.stdout
    } else {
        &out.stderr
    };
    assert!(text.contains(has), "{full:?}: {has:?} not in\n{text}");
    out.stdout
}

const SECRET: &str = "a0dd09216a74c1d4f064a32fda747e8dc5d7fac55a4d21a8c2d381af6c5ec681";

#[test]
fn vault_split_prints_one_share_a_line_and_any_threshold_recombines() {
    let shares = check(
        &["split", "--threshold", "3", "--shares", "5"],
        &format!("{SECRET}\n"),
        0,
        "",
    );
    let lines: Vec<&str> = shares.lines().collect();
    assert_eq!(lines.len(), 5);
    assert!(
        lines
            .iter()
            .all(|l| l.len() == SECRET.len() + 2 && l.bytes().all(|b| b.is_ascii_hexdigit()))
    );
    for pick in [[0, 1, 2], [4, 2, 0], [1, 3, 4]] {
        let input: String = pick.iter().map(|&i| format!("{}\n", lines[i])).collect();
        assert_eq!(check(&["combine"], &input, 0, ""), format!("{SECRET}\n"));
        assert_eq!(
            check(&["combine", "--format", "vault"], &input, 0, ""),
            format!("{SECRET}\n")
        );
    }
}

#[test]
fn shares_made_by_vault_combine() {
    // Shares of the shared vectors (t = 3), in Vault's bytes, upper case and with blank lines.
    let input = "2FEC062D4F18457A9DAD8B5E4711A2BE0CAF38525F10920210CF1C910EBD374011\n\n\
                 b47339481b8f88b2d778a1aa3ea7ef23540fdffd35a3b7f86c855abdfffac96e55\n\
                 69ee95a125caf7d512f7113d165df0bbe63f71cb4079b1aad0fccacb2cb845a333\n";
    assert_eq!(check(&["combine"], input, 0, ""), format!("{SECRET}\n"));
}

#[test]
fn bad_combine_input_exits_2_with_a_clear_message() {
    check(&["combine"], "abc\nabcd\n", 2, "odd number of hex digits");
    check(
        &["combine"],
        "zz11\nab12\n",
        2,
        "invalid hex digit at position 1",
    );
    check(
        &["combine"],
        "b9473173a9\n53f8d92d\n",
        2,
        "all parts must be the same length",
    );
    check(
        &["combine"],
        "b9473173a9\nb9473173a9\n53f8d92d0d\n",
        2,
        "duplicate part detected",
    );
    check(
        &["combine"],
        "b9473173a9\n",
        2,
        "less than two parts cannot be used to reconstruct the secret",
    );
    check(&["combine"], "", 2, "less than two parts");
    check(
        &["combine"],
        "aa\nbb\n",
        2,
        "parts must be at least two bytes",
    );
    check(
        &["combine", "--format", "underhood"],
        "b9473173a9\n53f8d92d0d\n",
        2,
        "corrupt",
    );
}

#[test]
fn underhood_format_refuses_too_few_shares_and_names_a_corrupt_one() {
    let args = [
        "split",
        "--threshold",
        "3",
        "--shares",
        "5",
        "--format",
        "underhood",
    ];
    let shares = check(&args, "00112233445566778899aabbccddeeff\n", 0, "");
    let lines: Vec<&str> = shares.lines().collect();
    assert_eq!(lines.len(), 5);
    let combine = ["combine", "--format", "underhood"];
    check(
        &combine,
        &format!("{}\n{}\n", lines[0], lines[3]),
        2,
        "not enough shares: 2 given, 3 needed",
    );
    check(
        &combine,
        &format!("{}\n", lines[0]),
        2,
        "not enough shares: 1 given, 3 needed",
    );
    assert_eq!(
        check(
            &combine,
            &format!("{}\n{}\n{}\n", lines[4], lines[1], lines[2]),
            0,
            ""
        ),
        "00112233445566778899aabbccddeeff\n"
    );
    let mut corrupt = lines[1].to_owned();
    let flipped = if corrupt.as_bytes()[40] == b'0' {
        "1"
    } else {
        "0"
    };
    corrupt.replace_range(40..41, flipped);
    check(
        &combine,
        &format!("{}\n{corrupt}\n{}\n", lines[0], lines[2]),
        2,
        "share 2 is corrupt: checksum mismatch",
    );
}

#[test]
fn bad_split_input_exits_2() {
    check(
        &["split", "--threshold", "3", "--shares", "2"],
        "0102\n",
        2,
        "parts cannot be less than threshold",
    );
    check(
        &["split", "--threshold", "1", "--shares", "2"],
        "0102\n",
        2,
        "threshold must be at least 2",
    );
    check(
        &["split", "--threshold", "2", "--shares", "256"],
        "0102\n",
        2,
        "parts cannot exceed 255",
    );
    check(
        &["split", "--threshold", "2", "--shares", "3"],
        "\n",
        2,
        "got 0 lines",
    );
    check(
        &["split", "--threshold", "2", "--shares", "3"],
        "012\n",
        2,
        "odd number of hex digits",
    );
    check(
        &["split", "--threshold", "2", "--shares", "3"],
        "01\n02\n",
        2,
        "got 2 lines",
    );
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_owned()
}

#[test]
fn transit_encrypts_rotates_rewraps_and_decrypts_over_a_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let key = path(dir.path(), "orders.json");
    let k = ["--key-file", key.as_str()];
    check(
        &["transit", "create", k[0], k[1]],
        "",
        0,
        "created orders (aes256-gcm96, version 1)",
    );
    check(&["transit", "create", k[0], k[1]], "", 2, "already exists");
    let v1 = check(
        &["transit", "encrypt", k[0], k[1]],
        "card 4111",
        0,
        "vault:v1:",
    );
    assert_eq!(
        check(&["transit", "decrypt", k[0], k[1]], &v1, 0, ""),
        "card 4111"
    );
    assert_eq!(check(&["transit", "rotate", k[0], k[1]], "", 0, ""), "2\n");
    let v2 = check(
        &["transit", "rewrap", k[0], k[1]],
        &format!("{v1}{v1}"),
        0,
        "vault:v2:",
    );
    assert_eq!(v2.lines().count(), 2);
    assert_eq!(
        check(
            &["transit", "decrypt", k[0], k[1]],
            v2.lines().next().unwrap(),
            0,
            ""
        ),
        "card 4111"
    );
    check(
        &[
            "transit",
            "config",
            k[0],
            k[1],
            "--min-decryption-version",
            "2",
        ],
        "",
        0,
        "min_decryption_version: 2",
    );
    check(
        &["transit", "decrypt", k[0], k[1]],
        &v1,
        2,
        "disallowed by policy (too old)",
    );
    check(
        &["transit", "decrypt", k[0], k[1]],
        "vault:v9:AAAA",
        2,
        "version is too new",
    );
    check(
        &["transit", "decrypt", k[0], k[1]],
        "nonsense",
        2,
        "invalid ciphertext",
    );
    let datakey = check(
        &[
            "transit",
            "datakey",
            k[0],
            k[1],
            "--bits",
            "128",
            "--plaintext",
        ],
        "",
        0,
        "vault:v2:",
    );
    assert_eq!(datakey.lines().count(), 2);

    // Derived keys need a context, and associated data must match.
    let tenant = path(dir.path(), "tenant.json");
    let t = ["--key-file", tenant.as_str()];
    check(
        &[
            "transit",
            "create",
            t[0],
            t[1],
            "--derived",
            "--type",
            "chacha20-poly1305",
        ],
        "",
        0,
        "chacha20-poly1305",
    );
    check(
        &["transit", "encrypt", t[0], t[1]],
        "x",
        2,
        "missing 'context'",
    );
    let request = ["--context", "dXNlci0xMjM0", "--associated-data", "b3JkZXI="];
    let mut encrypt = vec!["transit", "encrypt", t[0], t[1]];
    encrypt.extend_from_slice(&request);
    let ciphertext = check(&encrypt, "per tenant", 0, "vault:v1:");
    let mut decrypt = vec!["transit", "decrypt", t[0], t[1]];
    decrypt.extend_from_slice(&request);
    assert_eq!(check(&decrypt, &ciphertext, 0, ""), "per tenant");
    check(
        &[
            "transit",
            "decrypt",
            t[0],
            t[1],
            "--context",
            "dXNlci0xMjM0",
        ],
        &ciphertext,
        2,
        "authentication failed",
    );
    check(
        &[
            "transit",
            "create",
            "--key-file",
            &path(dir.path(), "x.json"),
            "--type",
            "rsa",
        ],
        "",
        2,
        "unknown key type",
    );
    check(
        &[
            "transit",
            "encrypt",
            "--key-file",
            &path(dir.path(), "missing.json"),
        ],
        "x",
        2,
        "reading key file",
    );
}

#[test]
fn barrier_over_a_directory_seals_stores_rotates_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = path(dir.path(), "vault");
    let d = ["--dir", data.as_str()];
    let keys = check(
        &[
            "barrier",
            "init",
            d[0],
            d[1],
            "--shares",
            "3",
            "--threshold",
            "2",
        ],
        "",
        0,
        "",
    );
    let keys: Vec<&str> = keys.lines().collect();
    assert_eq!(keys.len(), 3);
    check(
        &["barrier", "init", d[0], d[1]],
        "",
        2,
        "already initialized",
    );
    check(&["barrier", "status", d[0], d[1]], "", 0, "threshold: 2");

    let two = path(dir.path(), "two-keys");
    std::fs::write(&two, format!("{}\n{}\n", keys[2], keys[0])).unwrap();
    let one = path(dir.path(), "one-key");
    std::fs::write(&one, format!("{}\n", keys[1])).unwrap();
    let u = ["--unseal-keys", two.as_str()];
    check(
        &["barrier", "put", d[0], d[1], u[0], u[1], "secret/db"],
        "hunter2",
        0,
        "",
    );
    assert_eq!(
        check(
            &["barrier", "get", d[0], d[1], u[0], u[1], "secret/db"],
            "",
            0,
            ""
        ),
        "hunter2"
    );
    assert_eq!(
        check(&["barrier", "rotate", d[0], d[1], u[0], u[1]], "", 0, ""),
        "2\n"
    );
    check(
        &["barrier", "put", d[0], d[1], u[0], u[1], "secret/new"],
        "after rotation",
        0,
        "",
    );
    assert_eq!(
        check(
            &["barrier", "get", d[0], d[1], u[0], u[1], "secret/db"],
            "",
            0,
            ""
        ),
        "hunter2"
    );
    assert_eq!(
        check(
            &["barrier", "get", d[0], d[1], u[0], u[1], "secret/new"],
            "",
            0,
            ""
        ),
        "after rotation"
    );
    check(
        &["barrier", "get", d[0], d[1], u[0], u[1], "secret/none"],
        "",
        1,
        "no entry",
    );
    check(
        &[
            "barrier",
            "get",
            d[0],
            d[1],
            "--unseal-keys",
            &one,
            "secret/db",
        ],
        "",
        2,
        "still sealed: 1 of 2",
    );
    check(
        &["barrier", "put", d[0], d[1], u[0], u[1], "core/keyring"],
        "x",
        2,
        "reserved",
    );
    check(
        &["barrier", "compact", d[0], d[1], u[0], u[1]],
        "",
        0,
        "re-encrypted: 1\ndropped terms: 1\n",
    );
    assert_eq!(
        check(
            &["barrier", "get", d[0], d[1], u[0], u[1], "secret/db"],
            "",
            0,
            ""
        ),
        "hunter2"
    );
    check(
        &["barrier", "delete", d[0], d[1], u[0], u[1], "secret/db"],
        "",
        0,
        "",
    );
    check(
        &["barrier", "get", d[0], d[1], u[0], u[1], "secret/db"],
        "",
        1,
        "no entry",
    );
    check(
        &["barrier", "status", "--dir", &path(dir.path(), "empty")],
        "",
        2,
        "not initialized",
    );
}

/// Looks like key material; no message may quote it, nor a long piece of it.
const MARK: &str = "c2VjcmV0LWtleS1tYXRlcmlhbC0wMTIzNDU2Nzg5";
const HEX_MARK: &str = "deadbeefcafebabe0123456789abcdefzz";

#[track_caller]
fn refused_quietly(args: &[&str], stdin: &str) {
    let mut full = vec!["secret"];
    full.extend_from_slice(args);
    let out = underhood(&full, stdin.as_bytes());
    assert_eq!(out.status, 2, "{full:?}\n{}\n{}", out.stdout, out.stderr);
    assert!(!out.stderr.is_empty(), "{full:?}: no message");
    for text in [&out.stdout, &out.stderr] {
        for mark in [MARK, HEX_MARK] {
            assert!(
                !text.contains(&mark[..12]),
                "{full:?} echoed a secret: {text}"
            );
        }
        assert!(!text.contains("zz"), "{full:?} echoed a character: {text}");
    }
}

#[test]
fn no_error_of_underhood_secret_quotes_secret_material() {
    let dir = tempfile::tempdir().unwrap();
    let key = path(dir.path(), "k.json");
    check(&["transit", "create", "--key-file", &key], "", 0, "created");
    let good: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&key).unwrap()).unwrap();
    // Key files with key material where it does not belong, or not JSON at all.
    let mut files = vec![
        format!(r#"{{"name":"k","keys":"{MARK}"}}"#),
        format!(r#"{{"name":"k","keys":{{"1":"{MARK}!"}}}}"#),
        format!(r#"{{"name":"k","keys":{{"{MARK}":1}}}}"#),
        MARK.to_owned(),
        format!(r#"{{"keys":["{HEX_MARK}"]"#),
        format!("{MARK}\u{0}\u{ff}"),
    ];
    for field in good.as_object().unwrap().keys().filter(|f| *f != "name") {
        let mut broken = good.clone();
        broken[field] = serde_json::json!([MARK, {"k": HEX_MARK}]);
        files.push(broken.to_string());
        broken[field] = serde_json::json!(MARK);
        files.push(broken.to_string());
    }
    for (i, content) in files.iter().enumerate() {
        let file = path(dir.path(), &format!("bad-{i}.json"));
        std::fs::write(&file, content).unwrap();
        for verb in ["encrypt", "decrypt", "rotate", "datakey"] {
            refused_quietly(&["transit", verb, "--key-file", &file], "x");
        }
    }
    // Secrets, shares and ciphertexts on stdin or in arguments that are not what they should be.
    refused_quietly(&["split", "--threshold", "2", "--shares", "3"], HEX_MARK);
    refused_quietly(
        &["split", "--threshold", "2", "--shares", "3"],
        &format!("{HEX_MARK}0"),
    );
    refused_quietly(&["combine"], &format!("{HEX_MARK}\n{HEX_MARK}\n"));
    refused_quietly(
        &["combine", "--format", "underhood"],
        &format!("{HEX_MARK}\n0102\n"),
    );
    refused_quietly(&["combine"], "deadbeefcafebabe01\ndeadbeefcafebabe01\n");
    refused_quietly(
        &["transit", "decrypt", "--key-file", &key],
        &format!("vault:v1:{MARK}"),
    );
    refused_quietly(
        &["transit", "decrypt", "--key-file", &key],
        &format!("vault:v1:{MARK}zz!"),
    );
    refused_quietly(&["transit", "decrypt", "--key-file", &key], MARK);
    refused_quietly(
        &["transit", "rewrap", "--key-file", &key],
        &format!("vault:v1:{MARK}"),
    );
    for flag in ["--context", "--associated-data"] {
        refused_quietly(
            &[
                "transit",
                "encrypt",
                "--key-file",
                &key,
                flag,
                &format!("{MARK}zz!"),
            ],
            "x",
        );
    }
    // A barrier whose unseal keys or stored configuration are not what they should be.
    let barrier = path(dir.path(), "barrier");
    std::fs::create_dir(&barrier).unwrap();
    check(&["barrier", "init", "--dir", &barrier], "", 0, "");
    let keys = path(dir.path(), "keys.txt");
    for content in [
        HEX_MARK.to_owned(),
        format!("{HEX_MARK}\n{HEX_MARK}\n"),
        "deadbeefcafebabe0123\n".repeat(3),
    ] {
        std::fs::write(&keys, content).unwrap();
        refused_quietly(
            &[
                "barrier",
                "get",
                "--dir",
                &barrier,
                "--unseal-keys",
                &keys,
                "p",
            ],
            "",
        );
    }
    // The file backend keeps `core/seal-config` as `core/_seal-config`.
    let config = Path::new(&barrier).join("core").join("_seal-config");
    assert!(config.exists());
    std::fs::write(
        &config,
        format!(r#"{{"secret_shares":"{MARK}","secret_threshold":2}}"#),
    )
    .unwrap();
    refused_quietly(&["barrier", "status", "--dir", &barrier], "");
    std::fs::write(&config, MARK).unwrap();
    refused_quietly(&["barrier", "status", "--dir", &barrier], "");
}

#[test]
fn inputs_are_read_up_to_a_limit_that_a_flag_raises() {
    let dir = tempfile::tempdir().unwrap();
    let key = path(dir.path(), "k.json");
    check(&["transit", "create", "--key-file", &key], "", 0, "created");
    // An endless key file, or one over the limit: refused, exit 2, naming the flag.
    check(
        &["transit", "encrypt", "--key-file", "/dev/zero"],
        "x",
        2,
        "--max-input-bytes",
    );
    check(
        &[
            "--max-input-bytes",
            "100",
            "transit",
            "encrypt",
            "--key-file",
            &key,
        ],
        "x",
        2,
        "larger than the input limit of 100 bytes",
    );
    check(
        &[
            "--max-input-bytes",
            "100000",
            "transit",
            "encrypt",
            "--key-file",
            &key,
        ],
        "x",
        0,
        "vault:v1:",
    );
    // Stdin too.
    check(
        &[
            "transit",
            "encrypt",
            "--key-file",
            &key,
            "--max-input-bytes",
            "1000",
        ],
        &"card 4111 ".repeat(200),
        2,
        "stdin is larger than the input limit of 1000 bytes",
    );
}
