//! Counts with their noun for messages: `1 profile`, `2 profiles`,
//! `3 processes`, `4 entries`.

/// Returns `count` followed by `noun`, in the plural unless the count is 1.
/// The plural adds `es` after s, x, ch and sh, turns a final consonant and
/// y into `ies`, and adds `s` otherwise, which covers the nouns the
/// messages use.
pub fn plural(count: u64, noun: &str) -> String {
    if count == 1 {
        return format!("1 {noun}");
    }
    let before_y = noun
        .strip_suffix('y')
        .filter(|stem| !stem.ends_with(['a', 'e', 'i', 'o', 'u']));
    if let Some(stem) = before_y {
        return format!("{count} {stem}ies");
    }
    if noun.ends_with(['s', 'x']) || noun.ends_with("ch") || noun.ends_with("sh") {
        return format!("{count} {noun}es");
    }
    format!("{count} {noun}s")
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn nouns_take_their_plural() {
        assert_eq!(plural(1, "profile"), "1 profile");
        assert_eq!(plural(0, "profile"), "0 profiles");
        assert_eq!(plural(3, "process"), "3 processes");
        assert_eq!(plural(2, "manifest entry"), "2 manifest entries");
        assert_eq!(plural(2, "day"), "2 days");
        assert_eq!(plural(2, "match"), "2 matches");
    }
}
