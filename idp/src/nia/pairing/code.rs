//! Pairing codes for the Czech POINT path: what the citizen gives the office to write into
//! "message for the recipient". Twelve symbols of Crockford's base-32 alphabet (no I, L, O,
//! U: nothing to confuse when read aloud or typed) carry 60 random bits; a thirteenth is a
//! Luhn mod 32 check symbol, so a mistyped symbol or two swapped neighbours are caught (all but
//! `0` and `Z` swapped, Luhn's one blind spot, as `09` ↔ `90` in base ten).
//! Shown as `XXXX-XXXX-XXXX-C`.

use rand::RngCore;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const DATA: usize = 12;

fn value(c: char) -> Option<u32> {
    let c = match c.to_ascii_uppercase() {
        // what people type for the symbols that are left out
        'O' => '0',
        'I' | 'L' => '1',
        c => c,
    };
    ALPHABET
        .iter()
        .position(|&a| a as char == c)
        .map(|p| p as u32)
}

/// Luhn mod 32 over the values, as the check symbol's value.
fn check(values: &[u32]) -> u32 {
    let n = 32;
    let mut sum = 0;
    let mut double = true;
    for &v in values.iter().rev() {
        let mut add = if double { v * 2 } else { v };
        add = add / n + add % n;
        sum += add;
        double = !double;
    }
    (n - sum % n) % n
}

/// A new random code, formatted.
pub fn generate() -> String {
    let mut bytes = [0u8; DATA];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let values: Vec<u32> = bytes.iter().map(|b| u32::from(b % 32)).collect();
    let c = check(&values);
    let symbols: String = values
        .iter()
        .chain(std::iter::once(&c))
        .map(|&v| ALPHABET[v as usize] as char)
        .collect();
    format(&symbols)
}

fn format(symbols: &str) -> String {
    format!(
        "{}-{}-{}-{}",
        &symbols[0..4],
        &symbols[4..8],
        &symbols[8..12],
        &symbols[12..13]
    )
}

/// The canonical form of what someone typed (any case, spaces or dashes, O/I/L for 0/1), or
/// `None` when it is not a valid code.
pub fn normalize(typed: &str) -> Option<String> {
    let values: Vec<u32> = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(value)
        .collect::<Option<_>>()?;
    if values.len() != DATA + 1 || check(&values[..DATA]) != values[DATA] {
        return None;
    }
    let symbols: String = values
        .iter()
        .map(|&v| ALPHABET[v as usize] as char)
        .collect();
    Some(format(&symbols))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_valid_readable_and_different() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
        assert_eq!(normalize(&a).as_deref(), Some(a.as_str()));
        assert!(!a.chars().any(|c| "ILOU".contains(c)), "{a}");
    }

    #[test]
    fn typing_variants_are_accepted() {
        let a = generate();
        let typed = a
            .replace('-', " ")
            .to_lowercase()
            .replace('0', "o")
            .replace('1', "l");
        assert_eq!(normalize(&typed).as_deref(), Some(a.as_str()));
    }

    #[test]
    fn a_wrong_symbol_or_swapped_neighbours_are_caught() {
        // many codes, so that rare neighbours (such as `0` next to `Z`) occur
        for _ in 0..400 {
            let a = generate();
            let plain: Vec<char> = a.chars().filter(|c| *c != '-').collect();
            for i in 0..plain.len() {
                for replacement in ALPHABET.iter().map(|&b| b as char) {
                    if replacement == plain[i] {
                        continue;
                    }
                    let mut s = plain.clone();
                    s[i] = replacement;
                    assert_eq!(
                        normalize(&s.iter().collect::<String>()),
                        None,
                        "{a}: {i} → {replacement}"
                    );
                }
            }
            for i in 0..plain.len() - 1 {
                if plain[i] == plain[i + 1] {
                    continue;
                }
                let mut s = plain.clone();
                s.swap(i, i + 1);
                let swapped = normalize(&s.iter().collect::<String>());
                let blind_spot = matches!((plain[i], plain[i + 1]), ('0', 'Z') | ('Z', '0'));
                assert_eq!(swapped.is_none(), !blind_spot, "{a}: swap {i}");
            }
        }
        // the blind spot, shown once: `Z0` and `0Z` carry the same check symbol
        let with = |pair: &str| {
            let data: Vec<u32> = format!("ABCDEFGH{pair}JK")
                .chars()
                .filter_map(value)
                .collect();
            check(&data)
        };
        assert_eq!(with("Z0"), with("0Z"));
        assert_ne!(with("Y0"), with("0Y"));
        assert_eq!(normalize("ABCD"), None);
    }
}
