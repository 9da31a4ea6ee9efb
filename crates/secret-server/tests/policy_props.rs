//! The policy matcher against a brute-force reference: a character-level backtracking matcher
//! (`+` segment = `[^/]*`, trailing `*` = `.*`), every matching rule of every policy merged by
//! path with deny winning, and the winner picked by Vault's priority rules written as a sort key.
//! Also: printing a policy and parsing it back gives the same rules.

use std::collections::BTreeMap;

use proptest::prelude::*;
use underhood_secret_server::{Acl, Capabilities, Capability, Policy};

#[derive(Debug, Clone)]
enum Token {
    Char(char),
    Segment,
    Rest,
}

fn tokens(pattern: &str) -> Vec<Token> {
    let (body, glob) = match pattern.strip_suffix('*') {
        Some(body) => (body, true),
        None => (pattern, false),
    };
    let mut out = Vec::new();
    for (idx, segment) in body.split('/').enumerate() {
        if idx > 0 {
            out.push(Token::Char('/'));
        }
        if segment == "+" {
            out.push(Token::Segment);
        } else {
            out.extend(segment.chars().map(Token::Char));
        }
    }
    if glob {
        out.push(Token::Rest);
    }
    out
}

fn reference_matches(pattern: &[Token], path: &[char]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((Token::Char(c), rest)) => {
            path.first() == Some(c) && reference_matches(rest, &path[1..])
        }
        Some((Token::Rest, _)) => true,
        Some((Token::Segment, rest)) => (0..=path.len())
            .take_while(|&n| n == 0 || path[n - 1] != '/')
            .any(|n| reference_matches(rest, &path[n..])),
    }
}

/// Vault's priority rules as a key: greater wins.
fn priority(pattern: &str) -> (usize, bool, isize, usize, String) {
    let mut first = pattern.len() - usize::from(pattern.ends_with('*'));
    let mut offset = 0;
    for segment in pattern.split('/') {
        if segment == "+" {
            first = first.min(offset);
            break;
        }
        offset += segment.len() + 1;
    }
    let pluses = pattern.split('/').filter(|s| *s == "+").count() as isize;
    (
        first,
        !pattern.ends_with('*'),
        -pluses,
        pattern.len(),
        pattern.to_owned(),
    )
}

fn reference(policies: &[Vec<(String, Vec<Capability>)>], path: &str) -> Capabilities {
    let chars: Vec<char> = path.chars().collect();
    let mut merged: BTreeMap<String, Vec<Capability>> = BTreeMap::new();
    for policy in policies {
        for (pattern, caps) in policy {
            let pattern = &normal(pattern);
            if reference_matches(&tokens(pattern), &chars) {
                merged
                    .entry(pattern.clone())
                    .or_default()
                    .extend(caps.iter().copied());
            }
        }
    }
    let Some((_, caps)) = merged
        .into_iter()
        .max_by_key(|(pattern, _)| priority(pattern))
    else {
        return Capabilities::NONE;
    };
    if caps.contains(&Capability::Deny) {
        return [Capability::Deny].into_iter().collect();
    }
    caps.into_iter().collect()
}

/// Vault drops one leading `/` from a policy path.
fn normal(pattern: &str) -> String {
    pattern.strip_prefix('/').unwrap_or(pattern).to_owned()
}

fn print(policy: &[(String, Vec<Capability>)]) -> String {
    policy
        .iter()
        .map(|(pattern, caps)| {
            let caps: Vec<String> = caps.iter().map(|c| format!("\"{}\"", c.name())).collect();
            format!(
                "# rule\npath \"{pattern}\" {{\n  capabilities = [{}]\n}}\n",
                caps.join(", ")
            )
        })
        .collect()
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![Just("a"), Just("b"), Just("ab"), Just("+"), Just("")].prop_map(str::to_owned)
}

fn pattern() -> impl Strategy<Value = String> {
    (prop::collection::vec(segment(), 1..4), any::<bool>()).prop_map(|(segments, glob)| {
        let mut text = segments.join("/");
        if glob {
            text.push('*');
        }
        text
    })
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![Just("a"), Just("b"), Just("ab"), Just("ba"), Just("")],
        1..5,
    )
    .prop_map(|segments| segments.join("/"))
}

fn policy() -> impl Strategy<Value = Vec<(String, Vec<Capability>)>> {
    let capability = prop::sample::select(Capability::ALL.to_vec());
    prop::collection::vec((pattern(), prop::collection::vec(capability, 1..3)), 0..5)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_acl_agrees_with_the_brute_force_reference(
        policies in prop::collection::vec(policy(), 1..4),
        paths in prop::collection::vec(path(), 1..6),
    ) {
        let parsed: Vec<Policy> = policies.iter().map(|p| Policy::parse(&print(p)).unwrap()).collect();
        let acl = Acl::new(&parsed);
        for path in &paths {
            prop_assert_eq!(acl.capabilities(path), reference(&policies, path), "path {:?}", path);
        }
    }

    #[test]
    fn printing_and_parsing_a_policy_keeps_its_rules(policy in policy()) {
        let parsed = Policy::parse(&print(&policy)).unwrap();
        let mut expected: BTreeMap<String, Capabilities> = BTreeMap::new();
        for (pattern, caps) in &policy {
            let entry = expected.entry(normal(pattern)).or_insert(Capabilities::NONE);
            *entry = entry.union(caps.iter().copied().collect());
        }
        let got: BTreeMap<String, Capabilities> =
            parsed.rules().map(|(p, c)| (p.as_str().to_owned(), c)).collect();
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn any_text_parses_or_fails_without_panicking(text in "[ -~\n]{0,80}") {
        let _ = Policy::parse(&text);
        let _ = Policy::parse(&format!("path \"{text}\" {{ capabilities = [\"read\"] }}"));
    }
}
