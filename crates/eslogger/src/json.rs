//! Typed access to the fields of one parsed eslogger line, with the dotted
//! path of a missing or invalid field kept for the error message.

use serde_json::{Map, Value};

/// The problem found with one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FieldProblem {
    Missing,
    /// The value has the wrong type; the text names the expected one.
    Invalid(&'static str),
}

/// A field problem with the field's dotted path, e.g. `event.exec.target`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub field: String,
    pub problem: FieldProblem,
}

impl FieldError {
    pub fn missing(field: String) -> Self {
        FieldError {
            field,
            problem: FieldProblem::Missing,
        }
    }

    pub fn invalid(field: String, expected: &'static str) -> Self {
        FieldError {
            field,
            problem: FieldProblem::Invalid(expected),
        }
    }
}

/// A JSON object with the path it was reached by.
#[derive(Clone, Copy)]
pub(crate) struct Obj<'a> {
    pub map: &'a Map<String, Value>,
    pub path: &'a str,
}

impl<'a> Obj<'a> {
    /// Wraps `value` when it is an object, else reports `path` invalid.
    pub fn new(value: &'a Value, path: &'a str) -> Result<Self, FieldError> {
        match value {
            Value::Object(map) => Ok(Obj { map, path }),
            _ => Err(FieldError::invalid(path.to_owned(), "an object")),
        }
    }

    /// Returns the dotted path of `key` below this object.
    pub fn child_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Returns the value of `key`, treating JSON null as absent.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|value| !value.is_null())
    }

    /// Returns the value of `key`, or a missing-field error.
    pub fn required(&self, key: &str) -> Result<&'a Value, FieldError> {
        self.get(key)
            .ok_or_else(|| FieldError::missing(self.child_path(key)))
    }

    pub fn str(&self, key: &str) -> Result<&'a str, FieldError> {
        let value = self.required(key)?;
        value
            .as_str()
            .ok_or_else(|| FieldError::invalid(self.child_path(key), "a string"))
    }

    /// Returns a string field that may be absent or null.
    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>, FieldError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(FieldError::invalid(self.child_path(key), "a string")),
        }
    }

    pub fn i64(&self, key: &str) -> Result<i64, FieldError> {
        let value = self.required(key)?;
        value
            .as_i64()
            .ok_or_else(|| FieldError::invalid(self.child_path(key), "an integer"))
    }

    /// Returns an integer field that may be absent or null.
    pub fn opt_i64(&self, key: &str) -> Result<Option<i64>, FieldError> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => value
                .as_i64()
                .map(Some)
                .ok_or_else(|| FieldError::invalid(self.child_path(key), "an integer")),
        }
    }

    /// Returns an unsigned 32-bit field that may be absent or null.
    pub fn opt_u32(&self, key: &str) -> Result<Option<u32>, FieldError> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => value
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| FieldError::invalid(self.child_path(key), "a 32-bit integer")),
        }
    }

    /// Returns a boolean field; absent or null reads as `false`.
    pub fn flag(&self, key: &str) -> Result<bool, FieldError> {
        match self.get(key) {
            None => Ok(false),
            Some(Value::Bool(flag)) => Ok(*flag),
            Some(_) => Err(FieldError::invalid(self.child_path(key), "a boolean")),
        }
    }

    pub fn bool(&self, key: &str) -> Result<bool, FieldError> {
        let value = self.required(key)?;
        value
            .as_bool()
            .ok_or_else(|| FieldError::invalid(self.child_path(key), "a boolean"))
    }
}

/// Parses an RFC 3339 time such as `2025-08-07T15:13:09.811587464Z` into
/// nanoseconds since the Unix epoch.
pub(crate) fn parse_time(text: &str) -> Option<i64> {
    let timestamp: jiff::Timestamp = text.parse().ok()?;
    i64::try_from(timestamp.as_nanosecond()).ok()
}
