//! Wrapping for text that must be read whole (what to type, who acts, the target): lines are
//! broken, never cut.

/// Wraps `text` into lines of at most `w` chars at spaces. A word longer than a line (an ARN, a
/// long domain) is broken after a `/` or `:` where one falls in the second half of the line, else
/// at the edge. Continuation lines start with `indent`; the first keeps `text`'s leading spaces.
/// Every char of every word is kept.
pub fn wrap(text: &str, w: usize, indent: &str) -> Vec<String> {
    let lead = text.chars().take_while(|c| *c == ' ').count();
    // Always room for one char after the prefix, so every step makes progress.
    let w = w.max(lead + 1).max(indent.chars().count() + 1);
    let mut lines = Vec::new();
    let mut cur = " ".repeat(lead);
    let mut has_word = false;
    for word in text.split(' ').filter(|s| !s.is_empty()) {
        let mut rest: Vec<char> = word.chars().collect();
        while !rest.is_empty() {
            let used = cur.chars().count();
            let sep = usize::from(has_word);
            if used + sep + rest.len() <= w {
                if has_word {
                    cur.push(' ');
                }
                cur.extend(rest.iter());
                has_word = true;
                break;
            }
            if has_word && indent.chars().count() + rest.len() <= w {
                lines.push(std::mem::replace(&mut cur, indent.to_string()));
                has_word = false;
                continue;
            }
            let room = w.saturating_sub(used + sep);
            if room == 0 {
                lines.push(std::mem::replace(&mut cur, indent.to_string()));
                has_word = false;
                continue;
            }
            let cut = rest[..room]
                .iter()
                .rposition(|c| *c == '/' || *c == ':')
                .map(|i| i + 1)
                .filter(|i| *i * 2 >= room)
                .unwrap_or(room);
            if has_word {
                cur.push(' ');
            }
            cur.extend(rest[..cut].iter());
            lines.push(std::mem::replace(&mut cur, indent.to_string()));
            has_word = false;
            rest.drain(..cut);
        }
    }
    if has_word || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    fn words(lines: &[String]) -> String {
        lines
            .concat()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn short_text_is_one_line() {
        assert_eq!(wrap(" as me", 20, "   "), vec![" as me"]);
    }

    #[test]
    fn long_words_break_at_separators_and_keep_every_char() {
        let arn = "arn:aws:sts::483920174655:assumed-role/vigil-demo-responder/operator-session-1";
        let lines = wrap(&format!(" as {arn}"), 40, "    ");
        assert!(lines.len() > 1, "{lines:?}");
        assert!(lines.iter().all(|l| l.chars().count() <= 40), "{lines:?}");
        assert_eq!(lines.concat().replace(' ', ""), format!("as{arn}"));
        // Broken after a separator, not mid-name.
        assert!(
            lines[0].ends_with(':') || lines[0].ends_with('/'),
            "{lines:?}"
        );
    }

    #[test]
    fn words_move_to_the_next_line_whole() {
        let text = " type i-0c0f89991ec24aa09 (or aa09) and enter; esc cancels";
        let lines = wrap(text, 30, " ");
        assert!(lines.iter().all(|l| l.chars().count() <= 30), "{lines:?}");
        assert!(lines.iter().any(|l| l.contains("i-0c0f89991ec24aa09")));
        assert_eq!(words(&lines), text.trim());
    }
}
