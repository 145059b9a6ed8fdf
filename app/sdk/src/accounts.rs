//! Decoders for the program's accounts (discriminator checked).
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
    use anchor_lang::prelude::Pubkey;
    use ballast::instructions::{HealthReport, SlotReport};

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
