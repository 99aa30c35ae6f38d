//! Reading digests as Discord shows them: an embed per transition titled "N × firing", whose
//! count is how many alerts it stands for.

use super::discord::StoredMessage;

/// The count in a digest embed's title ("12 × firing"), if it is one.
pub fn digest_count(title: &str) -> Option<usize> {
    title.split_once(" × ").and_then(|(n, _)| n.parse().ok())
}

/// How many alerts the digest embeds of `messages` stand for, all together.
pub fn alerts_counted(messages: &[StoredMessage]) -> usize {
    messages
        .iter()
        .flat_map(|m| m.body["embeds"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["title"].as_str().and_then(digest_count))
        .sum()
}
