//! Mending broken text inside JSON strings, so that one bad title does not cost a page.
//!
//! Two faults seen from real servers make `serde_json` refuse a whole answer although
//! only one string is wrong (RFC 8259 §8.2 calls such strings' behaviour unpredictable):
//! an escape of half a surrogate pair (`"\ud83c"` with no low half, from a title cut
//! inside an emoji) and bytes that are not UTF-8 (RFC 8259 §8.1 requires UTF-8). Both
//! become U+FFFD REPLACEMENT CHARACTER, the way `String::from_utf8_lossy` mends bytes.
//! Nothing outside strings is touched: a body that is not JSON stays not JSON.
//!
//! This runs only after a strict parse failed, so well-formed answers pay nothing.

/// The repaired body and how many strings were mended, or `None` when there was nothing
/// to mend.
pub(crate) fn repair(body: &[u8]) -> Option<(Vec<u8>, u32)> {
    let mut out = Vec::with_capacity(body.len() + 16);
    let mut mended_strings = 0u32;
    let mut in_string = false;
    let mut mended_this = false;
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if !in_string {
            if b == b'"' {
                in_string = true;
                mended_this = false;
            }
            out.push(b);
            i += 1;
            continue;
        }
        match b {
            b'"' => {
                in_string = false;
                if mended_this {
                    mended_strings = mended_strings.saturating_add(1);
                }
                out.push(b);
                i += 1;
            }
            b'\\' => {
                let (consumed, mended) = escape(&body[i..], &mut out);
                mended_this |= mended;
                i += consumed;
            }
            0x80..=0xFF => {
                let len = utf8_len(&body[i..]);
                if len == 0 {
                    out.extend_from_slice("\u{FFFD}".as_bytes());
                    mended_this = true;
                    i += 1;
                } else {
                    out.extend_from_slice(&body[i..i + len]);
                    i += len;
                }
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    if in_string && mended_this {
        mended_strings = mended_strings.saturating_add(1);
    }
    (mended_strings > 0).then_some((out, mended_strings))
}

/// Copies the escape at the start of `s` (which starts with `\`) to `out`, mending a
/// lone surrogate; returns the bytes consumed and whether it mended one.
fn escape(s: &[u8], out: &mut Vec<u8>) -> (usize, bool) {
    let Some(&kind) = s.get(1) else {
        out.push(b'\\');
        return (1, false);
    };
    if kind != b'u' {
        out.extend_from_slice(&s[..2]);
        return (2, false);
    }
    let Some(unit) = hex4(s.get(2..6)) else {
        // Not a valid `\u` escape at all: left for the parser to refuse.
        out.extend_from_slice(&s[..2]);
        return (2, false);
    };
    match unit {
        0xD800..=0xDBFF => {
            let low = (s.get(6) == Some(&b'\\') && s.get(7) == Some(&b'u'))
                .then(|| hex4(s.get(8..12)))
                .flatten();
            if low.is_some_and(|l| (0xDC00..=0xDFFF).contains(&l)) {
                out.extend_from_slice(&s[..12]);
                (12, false)
            } else {
                out.extend_from_slice(br"\ufffd");
                (6, true)
            }
        }
        0xDC00..=0xDFFF => {
            out.extend_from_slice(br"\ufffd");
            (6, true)
        }
        _ => {
            out.extend_from_slice(&s[..6]);
            (6, false)
        }
    }
}

fn hex4(digits: Option<&[u8]>) -> Option<u16> {
    let digits = std::str::from_utf8(digits?).ok()?;
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(digits, 16).ok()
}

/// The length of the valid UTF-8 character at the start of `s` (which starts with a
/// byte of `0x80` or more), or 0 when it is not one.
fn utf8_len(s: &[u8]) -> usize {
    let want = match s[0] {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return 0,
    };
    match s.get(..want).map(std::str::from_utf8) {
        Some(Ok(_)) => want,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mend(text: &[u8]) -> Option<(String, u32)> {
        repair(text).map(|(body, n)| (String::from_utf8(body).unwrap(), n))
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let (body, n) = mend(br#"{"a":"Lunar \ud83c","b":"\udc00x","c":"ok"}"#).unwrap();
        assert_eq!(n, 2);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["a"], "Lunar \u{FFFD}");
        assert_eq!(v["b"], "\u{FFFD}x");
        assert_eq!(v["c"], "ok");
    }

    #[test]
    fn valid_pairs_and_escaped_backslashes_are_left_alone() {
        assert!(mend(br#"{"a":"\ud83c\udf89 \\ud83c \u00e9 \" \n"}"#).is_none());
        assert!(mend("{\"a\":\"Résumé 🎉\"}".as_bytes()).is_none());
    }

    #[test]
    fn invalid_utf8_in_a_string_is_mended_once_per_string() {
        let (body, n) = mend(b"{\"a\":\"T\xff\xfeitle\",\"b\":\"\xe2\x82\"}").unwrap();
        assert_eq!(n, 2);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["a"], "T\u{FFFD}\u{FFFD}itle");
        assert_eq!(v["b"], "\u{FFFD}\u{FFFD}");
    }

    #[test]
    fn bytes_outside_strings_are_not_touched() {
        // Not JSON, and stays not JSON.
        assert!(mend(b"{\"a\":1,\xff}").is_none());
        assert!(mend(b"<html>\xff</html>").is_none());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        for text in [
            &b"\"\\"[..],
            b"\"\\u12",
            b"\"\\ud83c\\u",
            b"\"\xf0\x9f",
            b"\"",
        ] {
            let _ = repair(text);
        }
    }
}
