//! How the simulated tenant writes numbers: the forms real Intacct responses carry, each a
//! pure function of a draw, so the same seed gives the same text.
//!
//! Evidence and choices:
//! * amounts are written as the shortest text of their value: Sage's own `query` example
//!   answers `<TOTALDUE>3797</TOTALDUE>` (no fraction), so whole amounts come unscaled
//!   (`100`); others keep two fraction digits, as the rest of the dataset writes them;
//! * balances may be negative (a vendor or customer with a credit balance: a debit memo or an
//!   overpayment exceeds what is owed), and a few are long (`-74428823021669.4`: fourteen
//!   integer digits and one fraction digit, as seen on real tenants, which a float would
//!   not carry exactly);
//! * exchange rates carry ten fraction digits with trailing zeros (`1.0843920000`), the form
//!   Intacct stores rates in;
//! * percentages computed by division carry many digits (`17.635714285714285`); the rest two.
//!
//! Guess, written down: how many digits a computed percentage carries is not documented; 15
//! fraction digits is what a double prints at most for such values, so that is the longest
//! form emitted. Integers written as `12.0` are made where the INTEGER fields are drawn.

use super::hash::Draw;

/// An amount of `cents`, negative when `negative`: whole amounts unscaled (`100`), others
/// with two fraction digits (`1234.50`).
pub(super) fn amount(cents: u64, negative: bool) -> String {
    let sign = if negative && cents != 0 { "-" } else { "" };
    if cents.is_multiple_of(100) {
        format!("{sign}{}", cents / 100)
    } else {
        format!("{sign}{}.{:02}", cents / 100, cents % 100)
    }
}

/// A balance drawn in `lo..=hi` cents: about one in eight a credit (negative), one in five
/// whole (unscaled), one in a hundred long (14 integer digits and one fraction digit).
pub(super) fn balance(d: &mut Draw, lo: u64, hi: u64) -> String {
    let negative = d.per_mille(125);
    if d.per_mille(10) {
        let units = d.range(10_000_000_000_000, 99_999_999_999_999);
        let tenth = d.below(10);
        let sign = if negative { "-" } else { "" };
        return format!("{sign}{units}.{}", tenth.max(1));
    }
    let cents = d.range(lo, hi);
    let cents = if d.per_mille(200) {
        cents - cents % 100
    } else {
        cents
    };
    amount(cents, negative)
}

/// An exchange rate between 0.5 and 1.5 with six significant fraction digits, written with
/// ten (`1.0843920000`).
pub(super) fn rate(d: &mut Draw) -> String {
    let micros = d.range(500_000, 1_500_000);
    format!("{}.{:06}0000", micros / 1_000_000, micros % 1_000_000)
}

/// A percentage from `lo..=hi` hundredths: half scaled by `(k − 1) / k` (a computed share,
/// 15 fraction digits, truncated), half with two fraction digits.
pub(super) fn percentage(d: &mut Draw, lo: u64, hi: u64) -> String {
    let hundredths = d.range(lo, hi);
    let computed = d
        .per_mille(500)
        .then(|| {
            let divisor = *d.pick(&[3u64, 7, 11, 13]);
            fraction(hundredths * (divisor - 1), 100 * divisor, 15)
        })
        .flatten();
    computed.unwrap_or_else(|| format!("{}.{:02}", hundredths / 100, hundredths % 100))
}

/// `numerator / denominator` in decimal with exactly `digits` fraction digits, truncated;
/// `None` when the division is exact in fewer digits (so the long form is really long).
fn fraction(numerator: u64, denominator: u64, digits: usize) -> Option<String> {
    let mut out = format!("{}.", numerator / denominator);
    let mut rest = numerator % denominator;
    for _ in 0..digits {
        if rest == 0 {
            return None;
        }
        rest *= 10;
        out.push(char::from(b'0' + (rest / denominator) as u8));
        rest %= denominator;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_unscaled_when_whole_and_signed() {
        assert_eq!(amount(10_000, false), "100");
        assert_eq!(amount(379_700, false), "3797");
        assert_eq!(amount(123_450, true), "-1234.50");
        assert_eq!(amount(5, false), "0.05");
        assert_eq!(amount(0, true), "0");
    }

    #[test]
    fn fractions_are_long_and_truncated() {
        assert_eq!(fraction(1, 3, 15).as_deref(), Some("0.333333333333333"));
        assert_eq!(
            fraction(12_345, 7 * 100, 15).as_deref(),
            Some("17.635714285714285")
        );
        assert_eq!(fraction(50, 100, 15), None);
    }

    #[test]
    fn every_form_is_drawn() {
        let mut seen = [false; 6];
        for key in 0..5_000 {
            let mut d = Draw::new(&[7, key]);
            let b = balance(&mut d, 0, 5_000_000);
            seen[0] |= b.starts_with('-');
            seen[1] |= !b.contains('.');
            seen[2] |= b.split('.').next().unwrap().trim_start_matches('-').len() >= 14;
            let r = rate(&mut d);
            assert_eq!(r.split_once('.').unwrap().1.len(), 10, "{r}");
            seen[3] |= r.ends_with("0000");
            let p = percentage(&mut d, 500, 4_500);
            let frac = p.split_once('.').unwrap().1.len();
            seen[4] |= frac == 15;
            seen[5] |= frac == 2;
        }
        assert_eq!(seen, [true; 6]);
    }
}
