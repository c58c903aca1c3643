//! A linear pre-scan for flow-collection nesting (`[[[...]]]`, `{a: {b:`)
//! before the YAML parser sees the text. libyaml's scanner (which
//! serde_norway ported, and saphyr-parser follows) keeps state per open
//! flow level and re-checks it at every token, so its time grows with the
//! square of the depth: 40,000 levels in 400 KB took seconds, 100,000 over
//! 20 s, before the file was refused at the depth limit anyway. Refusing
//! such depth here costs one pass over the text.

/// The deepest flow-collection nesting accepted; the tree builder
/// (`scenario::yaml::tree`) refuses block nesting and aliases that reach
/// deeper than this too.
pub const MAX_NESTING: usize = 128;

/// The 1-based line and column of the first `[` or `{` that opens a level
/// deeper than [`MAX_NESTING`], if any.
///
/// Quoted scalars, comments and block scalars (`|`, `>`) are skipped; a
/// bracket, quote or block indicator counts only where a value may start
/// (line start, after `:`, `-`, `?`, `,`, `[` or `{` and blanks) or inside
/// a flow collection, so `a[0]` and `it's` in plain scalars are text.
pub fn too_deep(text: &str) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    let (mut line, mut column) = (1usize, 0usize);
    // The last character that was not a blank, on this line.
    let mut previous: Option<char> = None;
    let mut after_blank = true;
    // Inside a plain (unquoted) scalar.
    let mut plain = false;
    let mut line_indent = 0usize;
    let mut at_line_start = true;
    // Indentation of the line that opened a block scalar, while inside it.
    let mut block_scalar_of: Option<usize> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        column += 1;
        if c == '\n' {
            line += 1;
            column = 0;
            previous = None;
            after_blank = true;
            plain = false;
            line_indent = 0;
            at_line_start = true;
            continue;
        }
        if at_line_start {
            if c == ' ' {
                line_indent += 1;
                continue;
            }
            at_line_start = false;
            if let Some(parent) = block_scalar_of {
                if line_indent > parent || c == '\r' {
                    skip_line(&mut chars, &mut column);
                    continue;
                }
                block_scalar_of = None;
            }
        }
        if matches!(c, ' ' | '\t' | '\r') {
            after_blank = true;
            continue;
        }
        if plain {
            // A plain scalar ends at `: `, and in a flow collection at `,`,
            // `]` or `}`; until then brackets and quotes are its text.
            let ends = match c {
                ':' => chars.peek().is_none_or(|n| n.is_whitespace()),
                ',' | ']' | '}' => depth > 0,
                _ => false,
            };
            if !ends {
                previous = Some(c);
                after_blank = false;
                continue;
            }
            plain = false;
        }
        let value_may_start = matches!(previous, None | Some(':' | '-' | '?' | ',' | '[' | '{'));
        match c {
            '#' if after_blank => {
                skip_line(&mut chars, &mut column);
                continue;
            }
            '"' | '\'' if value_may_start => {
                skip_quoted(&mut chars, c, &mut line, &mut column);
            }
            '[' | '{' if value_may_start => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some((line, column));
                }
            }
            ']' | '}' if depth > 0 => depth -= 1,
            '|' | '>' if depth == 0 && value_may_start => block_scalar_of = Some(line_indent),
            ':' | '-' | '?' | ',' | ']' | '}' => {}
            _ => plain = true,
        }
        previous = Some(c);
        after_blank = false;
    }
    None
}

fn skip_line(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, column: &mut usize) {
    while let Some(&c) = chars.peek() {
        if c == '\n' {
            return;
        }
        chars.next();
        *column += 1;
    }
}

/// Skips to the end of a quoted scalar: `''` escapes a single quote, `\`
/// escapes in double quotes; quoted scalars may span lines.
fn skip_quoted(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    quote: char,
    line: &mut usize,
    column: &mut usize,
) {
    while let Some(c) = chars.next() {
        *column += 1;
        match c {
            '\n' => {
                *line += 1;
                *column = 0;
            }
            '\\' if quote == '"' && chars.next().is_some() => *column += 1,
            c if c == quote => {
                if quote == '\'' && chars.peek() == Some(&'\'') {
                    chars.next();
                    *column += 1;
                } else {
                    return;
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> String {
        format!("json: {}{}\n", "[".repeat(levels), "]".repeat(levels))
    }

    #[test]
    fn depth_up_to_the_limit_passes_and_one_more_is_found() {
        assert_eq!(too_deep(&nested(MAX_NESTING)), None);
        // `json: ` is 6 columns; the 129th bracket is column 6 + 129.
        assert_eq!(too_deep(&nested(MAX_NESTING + 1)), Some((1, 135)));
        let maps = format!("a: {}1{}", "{b: ".repeat(200), "}".repeat(200));
        assert_eq!(too_deep(&maps), Some((1, 4 + 128 * 4)));
    }

    #[test]
    fn brackets_in_text_do_not_count() {
        let many = "[".repeat(300);
        for text in [
            format!("a: \"{many}\"\n"),
            format!("a: '{many}'\n"),
            format!("a: 'it''s {many}'\n"),
            format!("# {many}\na: 1\n"),
            format!("a: 1 # {many}\n"),
            format!("body: |\n  {many}\n  more {many}\nnext: [1]\n"),
            format!("a: x{many}\n"),
            format!("a: it's {many} isn't\n"),
        ] {
            assert_eq!(too_deep(&text), None, "{text}");
        }
        // After a block scalar ends, brackets count again.
        let text = format!("body: >\n  text\nnext: {}\n", "[".repeat(129));
        assert_eq!(too_deep(&text), Some((3, 135)));
    }
}
