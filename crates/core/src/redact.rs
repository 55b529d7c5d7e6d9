//! Credentials out of text: whatever relcon writes to the audit log, the journal, the screen
//! or a log file goes through [`redact`] first, so that a token pasted into a comment, or
//! echoed by a service in an error, never lands anywhere. It finds secrets glued to other text
//! (`pat=<52 chars>`, `bearer:<token>`, a SAS URL's `sig=`), not only whole words.
//!
//! What counts as a secret (each replaced by `[redacted]`, the text around it kept):
//! - JSON Web Tokens (Entra access tokens): `eyJ<base64url>.<base64url>.<base64url>`.
//! - The credential of an `Authorization` header or of a `Bearer` / `Basic` scheme.
//! - The value of a credential-named field: `password`, `secret`, `client_secret`, `token`,
//!   `access_token`, `pat`, `api_key`, `sig`, `signature`, `AccountKey`, `SharedAccessKey`...
//!   followed by `=` or `:` (quoted or not).
//! - The password of a URL (`https://user:password@host`).
//! - Entra client secrets (`abc1Q~` and 34 more characters).
//! - Azure DevOps PATs and other long keys: 52 or more letters and digits in a row, or 60 or
//!   more base64 characters mixing upper case, lower case and digits.
//!
//! Git commits (40 hex digits), training hashes, versions, resource ids and URLs without
//! credentials are left alone. The rules err towards redacting: a word after `token:` in a
//! comment goes too.

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// A pattern, the group that is the secret, and the groups around it that are kept.
struct Rule {
    pattern: &'static str,
    /// Kept before the secret (a field name and its `=`).
    keep: Option<usize>,
    secret: usize,
    /// Kept after the secret (a URL's `@`).
    after: Option<usize>,
    /// Extra test on the secret (entropy); `None` means every match is one.
    looks_secret: Option<fn(&str) -> bool>,
}

const FIELD_NAMES: &str = r"password|passwd|pwd|secret|client[_-]?secret|clientsecret|token|access[_-]?token|refresh[_-]?token|id[_-]?token|pat|personal[_-]?access[_-]?token|api[_-]?key|apikey|sig|signature|account[_-]?key|shared[_-]?access[_-]?key|shared[_-]?access[_-]?signature|private[_-]?key|x-api-key|ocp-apim-subscription-key";

fn mixed_case_and_digits(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_uppercase())
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && s.bytes().any(|b| b.is_ascii_digit())
}

static RULES: LazyLock<Vec<(Regex, Rule)>> = LazyLock::new(|| {
    // A leading `#` or `/` is a URL's fragment or path (`...troubleshoot#client-secret: ...`),
    // not a field: matched so that it can be left alone.
    let field =
        format!(r#"(?i)([#/]?)(\b(?:{FIELD_NAMES})["']?\s*[:=]\s*["']?)([^\s"'&;,)\]}}]+)"#);
    let rules = [
        // A JWT anywhere, glued or not.
        Rule {
            pattern: r"eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*",
            keep: None,
            secret: 0,
            after: None,
            looks_secret: None,
        },
        // `Authorization: Bearer x`, `Authorization=Basic x`, `authorization: x`.
        Rule {
            pattern: r#"(?i)(\bauthorization["']?\s*[:=]\s*["']?(?:(?:bearer|basic|negotiate|token|ntlm)\s+)?)([^\s"'&;,]+)"#,
            keep: Some(1),
            secret: 2,
            after: None,
            looks_secret: None,
        },
        // A scheme and its credential: `Bearer x`, `bearer:x`, `Basic x`.
        Rule {
            pattern: r"(?i)(\b(?:bearer|basic)\s*[:=]?\s*)([A-Za-z0-9+/=._~-]{16,})",
            keep: Some(1),
            secret: 2,
            after: None,
            looks_secret: None,
        },
        Rule {
            pattern: "",
            keep: Some(2),
            secret: 3,
            after: None,
            looks_secret: None,
        },
        // The password of a URL.
        Rule {
            pattern: r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)([^@\s/]+)(@)",
            keep: Some(1),
            secret: 2,
            after: Some(3),
            looks_secret: None,
        },
        // Entra client secrets: three characters, a digit, `Q~`, then 31 to 34 more.
        Rule {
            pattern: r"[A-Za-z0-9_.-]{3}[0-9]Q~[A-Za-z0-9_.~-]{31,34}",
            keep: None,
            secret: 0,
            after: None,
            looks_secret: None,
        },
        // Base64 keys (storage account keys are 88 characters).
        Rule {
            pattern: r"[A-Za-z0-9+/]{60,}={0,2}",
            keep: None,
            secret: 0,
            after: None,
            looks_secret: Some(mixed_case_and_digits),
        },
        // Azure DevOps PATs (52 characters; the newer ones are 84) and other long keys.
        Rule {
            pattern: r"[A-Za-z0-9]{52,}",
            keep: None,
            secret: 0,
            after: None,
            looks_secret: None,
        },
    ];
    rules
        .into_iter()
        .filter_map(|r| {
            let pattern = if r.pattern.is_empty() {
                field.clone()
            } else {
                r.pattern.to_owned()
            };
            // The patterns are constants, compiled by the tests: none is ever dropped.
            Regex::new(&pattern).ok().map(|re| (re, r))
        })
        .collect()
});

/// `text` with every credential-looking part replaced by [`REDACTED`].
pub fn redact(text: &str) -> String {
    let mut out = text.to_owned();
    for (re, rule) in RULES.iter() {
        if !re.is_match(&out) {
            continue;
        }
        out = re
            .replace_all(&out, |c: &Captures<'_>| {
                let whole = c.get(0).map_or("", |m| m.as_str());
                let secret = c.get(rule.secret).map_or("", |m| m.as_str());
                // Already redacted (by an earlier rule, or an earlier pass); or a field name
                // in a URL's path or fragment.
                let in_url = rule.secret == 3 && c.get(1).is_some_and(|m| !m.is_empty());
                if in_url
                    || secret.starts_with("[redacted")
                    || rule.looks_secret.is_some_and(|f| !f(secret))
                {
                    return whole.to_owned();
                }
                let group = |g: Option<usize>| g.and_then(|g| c.get(g)).map_or("", |m| m.as_str());
                format!("{}{REDACTED}{}", group(rule.keep), group(rule.after))
            })
            .into_owned();
    }
    out
}

/// [`redact`] for an optional text.
pub fn redact_opt(text: Option<&str>) -> Option<String> {
    text.map(redact)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_rule_compiles() {
        assert_eq!(RULES.len(), 8);
    }

    fn pat() -> String {
        "k3n5q7r2t4v6x8z2b4d6f8h2j4l6n8p2r4t6v8x2z4b6d8f2h4jq".into()
    }

    fn jwt() -> String {
        format!(
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.{}.{}",
            "eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tIn0",
            "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
        )
    }

    #[test]
    fn secrets_glued_to_text_are_redacted() {
        let pat = pat();
        let jwt = jwt();
        let client_secret = "Xk28Q~abcdefghijklmnopqrstuvwxyz01234567";
        let storage_key =
            "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1V2w3X4y5Z6a7B8c9D0e1F2g3H4i5J6k7L8m9N0+/A==";
        let table: Vec<(String, String)> = vec![
            (format!("pat={pat}"), "pat=[redacted]".into()),
            (format!("PAT: {pat} thanks"), "PAT: [redacted] thanks".into()),
            (format!("x{pat}y"), "[redacted]".into()),
            (format!("bearer:{jwt}"), "bearer:[redacted]".into()),
            (
                format!("curl -H 'Authorization: Bearer {jwt}' https://x"),
                "curl -H 'Authorization: Bearer [redacted]' https://x".into(),
            ),
            (
                "Authorization: Basic OnN1cGVyc2VjcmV0cGF0dmFsdWU=".into(),
                "Authorization: Basic [redacted]".into(),
            ),
            (
                "header authorization=c2VjcmV0".into(),
                "header authorization=[redacted]".into(),
            ),
            (format!("token={jwt}&x=1"), "token=[redacted]&x=1".into()),
            (format!("({jwt})"), "([redacted])".into()),
            (
                "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig=AbC%2Bdef%3D123xyz&se=2026".into(),
                "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig=[redacted]&se=2026".into(),
            ),
            (
                format!("client_secret={client_secret}"),
                "client_secret=[redacted]".into(),
            ),
            (
                format!("the secret is {client_secret}."),
                "the secret is [redacted].".into(),
            ),
            (
                r#"{"password": "hunter22", "user": "bob"}"#.into(),
                r#"{"password": "[redacted]", "user": "bob"}"#.into(),
            ),
            (
                format!("DefaultEndpointsProtocol=https;AccountName=a;AccountKey={storage_key};"),
                "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=[redacted];".into(),
            ),
            (format!("key {storage_key} end"), "key [redacted] end".into()),
            (
                "git remote https://bob:ghp_s3cretValue1234@dev.azure.com/org".into(),
                "git remote https://bob:[redacted]@dev.azure.com/org".into(),
            ),
            (
                format!("api_key='{pat}'"),
                "api_key='[redacted]'".into(),
            ),
        ];
        for (input, want) in table {
            assert_eq!(redact(&input), want, "input: {input}");
        }
    }

    #[test]
    fn ordinary_release_text_is_left_alone() {
        for text in [
            "rolled back PLANT007/CIRCUIT03 to v4 after the MAE alert",
            "commit 3f9a2c1e5b7d9f0a1c3e5b7d9f0a1c3e5b7d9f0a trained it",
            "training hash 5f2c8e1a9b3d matches",
            "environment 1.5.0 -> 1.4.2 (non-breaking)",
            "GET https://management.azure.com/subscriptions/6fd1c7a2-1f0e-4c59-9a3b-0d2b1c4e5f60/resourceGroups/rg-prod/providers/Microsoft.MachineLearningServices/workspaces/ws-prod/batchEndpoints?api-version=2025-06-01: HTTP 503",
            "azureml://registries/mlr/models/plant001-circuit01/versions/4",
            "basic checks passed; bearer of bad news",
            "Release-328 Production: 1 of 2 approvals (may approve: carol)",
            "request id 0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b",
            "see https://aka.ms/azsdk/rust/identity/troubleshoot#client-secret: failed to execute",
            "",
        ] {
            assert_eq!(redact(text), text);
        }
    }

    fn secret() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z2-7]{52}",
            "[A-Za-z0-9]{84}",
            "eyJ[A-Za-z0-9_-]{20,60}\\.[A-Za-z0-9_-]{20,200}\\.[A-Za-z0-9_-]{20,80}",
            "[A-Za-z0-9]{3}[0-9]Q~[A-Za-z0-9_.~-]{34}",
        ]
    }

    fn glue() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "",
            " ",
            "pat=",
            "PAT:",
            "token=\"",
            "bearer:",
            "Bearer ",
            "Authorization: Basic ",
            "Authorization: Bearer ",
            "sig=",
            "secret: ",
            "(",
            "x",
            "=",
            "\n",
        ])
    }

    proptest! {
        #[test]
        fn a_secret_anywhere_in_a_comment_never_survives(
            before in "[ a-z.,!?]{0,40}",
            glue in glue(),
            secret in secret(),
            after in prop::sample::select(vec!["", " ", ".", ",", "\"", ")", " ok", "&a=1", "\n"]),
        ) {
            let text = format!("{before}{glue}{secret}{after}");
            let out = redact(&text);
            // Not even a part of it long enough to be useful.
            let middle = &secret[secret.len() / 2 - 6..secret.len() / 2 + 6];
            prop_assert!(!out.contains(middle), "{text:?} -> {out:?}");
            prop_assert!(out.contains(REDACTED));
            prop_assert!(out.starts_with(before.trim_end_matches(|c: char| c.is_ascii_alphanumeric())));
        }

        #[test]
        fn redaction_is_idempotent(text in "[ -~]{0,120}") {
            let once = redact(&text);
            prop_assert_eq!(redact(&once), once.clone());
        }
    }
}
