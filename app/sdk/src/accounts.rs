//! Decoders for the program's accounts (discriminator checked).
use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, Discriminator};
use ballast::state::{Market, Position, Reserve};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    WrongDiscriminator,
    WrongSize { expected: usize, got: usize },
    Borsh,
}

fn zero_copy<T: bytemuck::Pod + Discriminator>(data: &[u8]) -> Result<T, DecodeError> {
    let disc = T::DISCRIMINATOR;
    if !data.starts_with(disc) {
        return Err(DecodeError::WrongDiscriminator);
    }
    let body = &data[disc.len()..];
    let expected = core::mem::size_of::<T>();
    if body.len() != expected {
        return Err(DecodeError::WrongSize { expected, got: body.len() });
    }
    // Copy out: account bytes from RPC carry no alignment guarantee.
    Ok(bytemuck::pod_read_unaligned(body))
}

pub fn reserve(data: &[u8]) -> Result<Reserve, DecodeError> {
    zero_copy(data)
}

pub fn position(data: &[u8]) -> Result<Position, DecodeError> {
    zero_copy(data)
}

pub fn market(data: &[u8]) -> Result<Market, DecodeError> {
    let mut d = data;
    Market::try_deserialize(&mut d).map_err(|_| DecodeError::Borsh)
}

/// Which Ballast account `data` holds, by its discriminator (for messages).
pub fn ballast_kind(data: &[u8]) -> Option<&'static str> {
    [
        (Market::DISCRIMINATOR, "market"),
        (Reserve::DISCRIMINATOR, "reserve"),
        (Position::DISCRIMINATOR, "position"),
    ]
    .into_iter()
    .find(|(disc, _)| data.starts_with(disc))
    .map(|(_, kind)| kind)
}

/// Why the account at `key` (owned by `owner`, holding `data`) is not the Ballast `kind` asked
/// for, in words: `X is not a Ballast market (owner …, size …)`, with what it is when that is
/// known (a wallet, a token account, another Ballast account).
pub fn not_a(kind: &str, key: &Pubkey, owner: &Pubkey, data: &[u8]) -> String {
    let owner_name = crate::errors::program_name(owner).map(|n| format!(" ({n})")).unwrap_or_default();
    let what = if *owner == ballast::ID {
        match ballast_kind(data) {
            Some(other) if other != kind => format!(": it is a Ballast {other}"),
            _ => ": its data does not decode (another program version?)".to_string(),
        }
    } else if *owner == crate::errors::SYSTEM_PROGRAM && data.is_empty() {
        ": it is a wallet".to_string()
    } else if *owner == crate::errors::TOKEN_PROGRAM || *owner == crate::errors::TOKEN_2022_PROGRAM {
        ": it is a mint or token account".to_string()
    } else {
        String::new()
    };
    format!("{key} is not a Ballast {kind} (owner {owner}{owner_name}, size {} bytes){what}", data.len())
}

/// Decodes a view's return data (`health`, `reserve_status`). The runtime trims trailing zero
/// bytes from return data, so a report whose last fields are zero (a `None`, an empty volume)
/// arrives short: the missing bytes are zeros, and they are put back before decoding.
pub fn view_return<T: anchor_lang::AnchorDeserialize>(data: &[u8]) -> std::io::Result<T> {
    let mut padded = data.to_vec();
    padded.resize(data.len() + VIEW_RETURN_SLACK, 0);
    T::deserialize(&mut padded.as_slice())
}

/// More than any zero tail a view's report can end with (the last slot's fields, or a pool).
const VIEW_RETURN_SLACK: usize = 1_024;

#[cfg(test)]
mod tests {
    use super::*;
    use ballast::instructions::{HealthReport, SlotReport};

    #[test]
    fn an_account_of_the_wrong_kind_is_named_with_its_owner_and_size() {
        let key = Pubkey::new_unique();
        let wallet = not_a("market", &key, &crate::errors::SYSTEM_PROGRAM, &[]);
        assert_eq!(
            wallet,
            format!("{key} is not a Ballast market (owner 11111111111111111111111111111111 (System), size 0 bytes): it is a wallet")
        );
        let mut position = Position::DISCRIMINATOR.to_vec();
        position.resize(8 + core::mem::size_of::<Position>(), 0);
        let text = not_a("market", &key, &ballast::ID, &position);
        assert!(
            text.starts_with(&format!(
                "{key} is not a Ballast market (owner {} (Ballast), size {} bytes)",
                ballast::ID,
                position.len()
            )) && text.ends_with(": it is a Ballast position"),
            "{text}"
        );
        let text = not_a("position", &key, &crate::errors::TOKEN_PROGRAM, &[0; 165]);
        assert!(text.contains("is not a Ballast position") && text.contains("size 165 bytes"), "{text}");
        assert!(text.ends_with("(SPL Token), size 165 bytes): it is a mint or token account"), "{text}");
        let other = Pubkey::new_unique();
        assert_eq!(
            not_a("reserve", &key, &other, &[1, 2, 3]),
            format!("{key} is not a Ballast reserve (owner {other}, size 3 bytes)")
        );
        assert_eq!(ballast_kind(&position), Some("position"));
        assert_eq!(ballast_kind(&[0; 8]), None);
    }

    #[test]
    fn a_view_report_trimmed_of_its_zero_tail_decodes_whole() {
        let report = HealthReport {
            init_collateral: 1,
            init_debt: 2,
            maint_collateral: 3,
            maint_debt: 4,
            collateral_value: 5,
            debt_value: 6,
            health_factor: None,
            leverage: None,
            liquidatable: false,
            stressed_init_collateral: 7,
            passes_initial: true,
            slots: vec![SlotReport {
                reserve: Pubkey::new_unique(),
                deposit_amount: 0,
                debt_amount: 9,
                price: 1,
                band: 0,
                expo: -8,
                age_secs: 0,
                ema_divergence_bps: 0,
                liquidation_price: None,
            }],
        };
        let mut bytes = Vec::new();
        anchor_lang::AnchorSerialize::serialize(&report, &mut bytes).unwrap();
        let end = bytes.iter().rposition(|&b| b != 0).unwrap() + 1;
        assert!(end < bytes.len(), "the report ends in zeros");
        let trimmed = &bytes[..end];
        assert!(<HealthReport as anchor_lang::AnchorDeserialize>::try_from_slice(trimmed).is_err());
        assert_eq!(view_return::<HealthReport>(trimmed).unwrap(), report);
    }
}
