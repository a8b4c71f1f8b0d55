//! The one rule that turns Intacct field names into Snowflake column names.
//!
//! Intacct names a field by its ID (`RECORDNO`, `Custom-Field`), by a dotted path into a
//! related object (`VENDOR.NAME`, what `query` returns as one element), or by nesting
//! (`<DISPLAYCONTACT><EMAIL1>`, what `readByQuery` may return). All three become one
//! Snowflake-safe, unquoted identifier:
//!
//! 1. the path segments (split on `.` and on nesting) are each upper-cased, and every
//!    character outside `A-Z`, `0-9` and `_` becomes `_`;
//! 2. the segments are joined with `__` (two underscores), so `VENDOR.NAME` and
//!    `<VENDOR><NAME>` are both `VENDOR__NAME` and neither collides with a field `VENDOR_NAME`;
//! 3. a name that would start with a digit or `_` is prefixed with `F` (names starting with `_`
//!    are reserved for the loader's own columns such as `_BATCH_ID`), and an empty name is `F`.
//!
//! The rule is pure and stable: the same Intacct name always gives the same column, whatever
//! else the object has.

/// The Snowflake column for a dotted Intacct field name.
pub fn column_name(intacct_name: &str) -> String {
    column_name_of_path(intacct_name.split('.'))
}

/// The Snowflake column for a path of nested element names (each may itself contain dots).
pub(crate) fn column_name_of_path<'a>(segments: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    let mut first = true;
    for segment in segments.into_iter().flat_map(|s| s.split('.')) {
        if !first {
            out.push_str("__");
        }
        first = false;
        out.extend(segment.chars().map(|c| match c.to_ascii_uppercase() {
            u @ ('A'..='Z' | '0'..='9' | '_') => u,
            _ => '_',
        }));
    }
    match out.chars().next() {
        None => "F".to_owned(),
        Some(c) if c.is_ascii_digit() || c == '_' => format!("F{out}"),
        Some(_) => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ids_are_kept() {
        assert_eq!(column_name("RECORDNO"), "RECORDNO");
        assert_eq!(column_name("whenmodified"), "WHENMODIFIED");
    }

    #[test]
    fn dotted_and_nested_paths_agree() {
        assert_eq!(column_name("VENDOR.NAME"), "VENDOR__NAME");
        assert_eq!(column_name_of_path(["VENDOR", "NAME"]), "VENDOR__NAME");
        assert_eq!(
            column_name_of_path(["PAYTO", "MAILADDRESS.ZIP"]),
            "PAYTO__MAILADDRESS__ZIP"
        );
        assert_ne!(column_name("VENDOR.NAME"), column_name("VENDOR_NAME"));
    }

    #[test]
    fn odd_characters_and_leading_digits_are_made_safe() {
        assert_eq!(column_name("Custom-Field #2"), "CUSTOM_FIELD__2");
        assert_eq!(
            column_name("GLDIMBuild/Disassemble_Kits"),
            "GLDIMBUILD_DISASSEMBLE_KITS"
        );
        assert_eq!(column_name("1099TYPE"), "F1099TYPE");
        assert_eq!(column_name("_BATCH_ID"), "F_BATCH_ID");
        assert_eq!(column_name(""), "F");
        assert_eq!(column_name("Zoë"), "ZO_");
    }
}
