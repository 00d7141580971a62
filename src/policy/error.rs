//! Errors of reading a policy file, with the place and a fix.

use std::fmt;

/// The reason a policy file was rejected.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("cannot read the policy file {path}: {reason}")]
    Read { path: String, reason: String },
    /// The file was read but is not a valid policy.
    #[error("{0}")]
    Invalid(Box<Invalid>),
}

/// One invalid place in a policy file.
#[derive(Debug)]
pub struct Invalid {
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The problem, in one sentence.
    pub message: String,
    /// The fix: what to write instead.
    pub hint: Option<String>,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.column, self.message
        )?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  help: {}", hint.replace('\n', "\n        "))?;
        }
        Ok(())
    }
}

impl PolicyError {
    /// Builds an error at byte `offset` of `text`.
    pub(super) fn at(
        path: &str,
        text: &str,
        offset: usize,
        message: String,
        hint: Option<String>,
    ) -> PolicyError {
        let (line, column) = line_column(text, offset);
        PolicyError::Invalid(Box::new(Invalid {
            path: path.to_owned(),
            line,
            column,
            message,
            hint,
        }))
    }

    /// Returns the line of the error, when it has one.
    pub fn line(&self) -> Option<usize> {
        match self {
            PolicyError::Invalid(invalid) => Some(invalid.line),
            PolicyError::Read { .. } => None,
        }
    }
}

/// 1-based line and column of byte `offset`; offsets past the end or
/// inside a character are clamped.
pub(super) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 9), (2, 3));
        assert_eq!(line_column(text, 999), (3, 1));
    }
}
