//! Token-2022 listing rules (SPEC §6) and the mint traits Ballast values by: what a mint's TLV
//! extensions allow, the `ScaledUiAmount` multiplier (as fixed point) and the `Pausable` flag.
//!
//! Allowlist: MetadataPointer, TokenMetadata, PermanentDelegate (opt-in), DefaultAccountState
//! (not Frozen at listing; switched later it only affects accounts made later, never the
//! vaults), ScaledUiAmount, Pausable, ConfidentialTransferMint, TransferHook (program
//! unset), TransferFeeConfig (zero fees). Anything else is refused at listing, by name. A
//! transfer-fee or transfer-hook *authority* is an issuer control (opt-in): it can set a fee or
//! a hook later, which a listed reserve then survives (`Reserve::mint_impaired`).
use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022::extension::default_account_state::DefaultAccountState;
use anchor_spl::token_2022::spl_token_2022::extension::pausable::PausableConfig;
use anchor_spl::token_2022::spl_token_2022::extension::scaled_ui_amount::ScaledUiAmountConfig;
use anchor_spl::token_2022::spl_token_2022::extension::transfer_fee::TransferFeeConfig;
use anchor_spl::token_2022::spl_token_2022::extension::transfer_hook::TransferHook;
use anchor_spl::token_2022::spl_token_2022::extension::{
    BaseStateWithExtensions, ExtensionType, StateWithExtensions,
};
use anchor_spl::token_2022::spl_token_2022::state::{AccountState, Mint};
use ballast_risk::fixed::WAD;

use crate::error::BallastError;

/// A `ScaledUiAmount` schedule in fixed point: `multiplier` until `effective_ts`, then
/// `new_multiplier` (both WAD-scaled, rounded down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Multiplier {
    pub multiplier: u128,
    pub new_multiplier: u128,
    pub effective_ts: i64,
}

impl Multiplier {
    /// No scaling: 1.0 forever.
    pub const ONE: Multiplier = Multiplier { multiplier: WAD, new_multiplier: WAD, effective_ts: i64::MAX };

    /// The multiplier in force at unix time `now`.
    pub fn at(&self, now: i64) -> u128 {
        if now >= self.effective_ts {
            self.new_multiplier
        } else {
            self.multiplier
        }
    }
}

/// What listing and valuation need to know about a mint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MintTraits {
    pub decimals: u8,
    pub multiplier: Multiplier,
    pub pausable: bool,
    pub paused: bool,
    pub permanent_delegate: bool,
    pub freeze_authority: bool,
    /// TransferFeeConfig or TransferHook is present: the mint is re-read on every touch.
    pub mutable_transfer_rules: bool,
    /// Someone can change the transfer fee or the transfer hook (their authority is set).
    pub transfer_rules_authority: bool,
    /// A non-zero transfer fee is configured (now or from a coming epoch).
    pub transfer_fee: bool,
    /// A transfer-hook program is set.
    pub transfer_hook: bool,
    /// New token accounts of the mint start Frozen. Refused at listing (the vaults would be
    /// created frozen); after listing it touches only accounts created later, never the vaults,
    /// so it must not stop the reserve (an issuer's allowlist switch is not an impairment).
    pub default_frozen: bool,
}

/// `Reserve::mint_impaired`: the mint no longer passes listing's rules.
pub const MINT_IMPAIRED_NONE: u8 = 0;
pub const MINT_IMPAIRED_TRANSFER_FEE: u8 = 1;
pub const MINT_IMPAIRED_TRANSFER_HOOK: u8 = 2;

impl MintTraits {
    /// A mint of `decimals` with no extension and no authority beyond minting.
    pub fn plain(decimals: u8) -> Self {
        MintTraits {
            decimals,
            multiplier: Multiplier::ONE,
            pausable: false,
            paused: false,
            permanent_delegate: false,
            freeze_authority: false,
            mutable_transfer_rules: false,
            transfer_rules_authority: false,
            transfer_fee: false,
            transfer_hook: false,
            default_frozen: false,
        }
    }

    /// Whether the issuer can claw back or freeze the reserve's vault, or change what a
    /// transfer costs or runs (a fee, a hook).
    pub fn issuer_controls(&self) -> bool {
        self.permanent_delegate || self.freeze_authority || self.transfer_rules_authority
    }

    /// Listing's rules on transfers: no fee, no hook program.
    pub fn check_listable(&self) -> Result<()> {
        if self.default_frozen {
            return Err(refuse("DefaultAccountState is Frozen", BallastError::MintDefaultStateFrozen));
        }
        match self.impairment() {
            MINT_IMPAIRED_TRANSFER_FEE => {
                Err(refuse("TransferFeeConfig has a non-zero fee", BallastError::MintTransferFee))
            }
            MINT_IMPAIRED_TRANSFER_HOOK => {
                Err(refuse("TransferHook has a program set", BallastError::MintTransferHook))
            }
            _ => Ok(()),
        }
    }

    /// What a listed mint has since acquired that listing would refuse (`MINT_IMPAIRED_*`).
    pub fn impairment(&self) -> u8 {
        if self.transfer_hook {
            MINT_IMPAIRED_TRANSFER_HOOK
        } else if self.transfer_fee {
            MINT_IMPAIRED_TRANSFER_FEE
        } else {
            MINT_IMPAIRED_NONE
        }
    }
}

/// The tokens to send so that `net` arrive, under the transfer fee of the mint `data` at
/// `epoch` (`net` when the mint has no fee).
pub fn gross_for_net(data: &[u8], epoch: u64, net: u64) -> Result<u64> {
    let state = StateWithExtensions::<Mint>::unpack(data).map_err(|_| BallastError::MintInvalid)?;
    match state.get_extension::<TransferFeeConfig>() {
        Ok(config) => {
            Ok(config.get_epoch_fee(epoch).calculate_pre_fee_amount(net).ok_or(BallastError::MathOverflow)?)
        }
        Err(_) => Ok(net),
    }
}

/// An IEEE-754 double as WAD fixed point, rounded down, with integer operations only (no float
/// arithmetic on chain). `None` for negative, zero, NaN, infinite or values past `u128`.
pub fn f64_bits_to_wad(bits: u64) -> Option<u128> {
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    if bits >> 63 != 0 || exponent == 0x7ff || (exponent == 0 && fraction == 0) {
        return None;
    }
    // value = significand × 2^(exponent − 1075); subnormals have no implicit bit.
    let (significand, shift) =
        if exponent == 0 { (fraction, -1074) } else { (fraction | 1 << 52, exponent - 1075) };
    let scaled = (significand as u128).checked_mul(WAD)?; // < 2^53 × 2^60
    let wad = if shift >= 0 {
        scaled.checked_shl(shift as u32).filter(|v| v >> shift == scaled)?
    } else if shift > -128 {
        scaled >> (-shift) as u32
    } else {
        0
    };
    // Below 1e-18 a multiplier would price the token at zero.
    (wad > 0).then_some(wad)
}

fn refuse(what: &str, error: BallastError) -> Error {
    msg!("mint refused: {}", what);
    error.into()
}

/// Reads a mint of SPL Token (no extensions) or Token-2022 (TLV extensions checked against the
/// allowlist). Errors name the extension that is refused.
pub fn inspect_mint(data: &[u8]) -> Result<MintTraits> {
    let state = StateWithExtensions::<Mint>::unpack(data).map_err(|_| BallastError::MintInvalid)?;
    let mut traits = MintTraits {
        freeze_authority: state.base.freeze_authority.is_some(),
        ..MintTraits::plain(state.base.decimals)
    };
    // A plain SPL Token mint is exactly 82 bytes: no extensions to read.
    if data.len() == <Mint as anchor_lang::solana_program::program_pack::Pack>::LEN {
        return Ok(traits);
    }
    let types = state.get_extension_types().map_err(|_| {
        refuse("an extension type this program does not know", BallastError::MintExtensionNotAllowed)
    })?;
    for t in types {
        match t {
            ExtensionType::MetadataPointer
            | ExtensionType::TokenMetadata
            | ExtensionType::ConfidentialTransferMint => {}
            ExtensionType::PermanentDelegate => traits.permanent_delegate = true,
            ExtensionType::DefaultAccountState => {
                let ext =
                    state.get_extension::<DefaultAccountState>().map_err(|_| BallastError::MintInvalid)?;
                traits.default_frozen = ext.state == AccountState::Frozen as u8;
            }
            ExtensionType::TransferFeeConfig => {
                traits.mutable_transfer_rules = true;
                let ext =
                    state.get_extension::<TransferFeeConfig>().map_err(|_| BallastError::MintInvalid)?;
                let fee_bps =
                    |f: &anchor_spl::token_2022::spl_token_2022::extension::transfer_fee::TransferFee| {
                        u16::from(f.transfer_fee_basis_points)
                    };
                traits.transfer_fee =
                    fee_bps(&ext.older_transfer_fee) != 0 || fee_bps(&ext.newer_transfer_fee) != 0;
                traits.transfer_rules_authority |=
                    Option::<Pubkey>::from(ext.transfer_fee_config_authority).is_some();
            }
            ExtensionType::TransferHook => {
                traits.mutable_transfer_rules = true;
                let ext = state.get_extension::<TransferHook>().map_err(|_| BallastError::MintInvalid)?;
                traits.transfer_hook = Option::<Pubkey>::from(ext.program_id).is_some();
                traits.transfer_rules_authority |= Option::<Pubkey>::from(ext.authority).is_some();
            }
            ExtensionType::ScaledUiAmount => {
                let ext =
                    state.get_extension::<ScaledUiAmountConfig>().map_err(|_| BallastError::MintInvalid)?;
                let wad = |bits: u64| f64_bits_to_wad(bits).ok_or(BallastError::MintInvalid);
                traits.multiplier = Multiplier {
                    multiplier: wad(u64::from_le_bytes(bytemuck::cast(ext.multiplier)))?,
                    new_multiplier: wad(u64::from_le_bytes(bytemuck::cast(ext.new_multiplier)))?,
                    effective_ts: i64::from(ext.new_multiplier_effective_timestamp),
                };
            }
            ExtensionType::Pausable => {
                let ext = state.get_extension::<PausableConfig>().map_err(|_| BallastError::MintInvalid)?;
                traits.pausable = true;
                traits.paused = bool::from(ext.paused);
            }
            other => {
                msg!("mint refused: extension {:?} is not on the allowlist", other);
                return err!(BallastError::MintExtensionNotAllowed);
            }
        }
    }
    Ok(traits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(symbol: &str) -> Vec<u8> {
        let path = format!(
            "{}/../../tests/fixtures/mainnet/xstock_{symbol}_mint_mainnet.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(path).unwrap();
        let at = text.find("\"dataBase64\": \"").unwrap() + 15;
        let b64 = &text[at..at + text[at..].find('"').unwrap()];
        base64_decode(b64)
    }

    fn base64_decode(s: &str) -> Vec<u8> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.decode(s).unwrap()
    }

    #[test]
    fn doubles_become_wads_exactly_or_rounded_down() {
        assert_eq!(f64_bits_to_wad(1.0f64.to_bits()), Some(WAD));
        assert_eq!(f64_bits_to_wad(10.0f64.to_bits()), Some(10 * WAD));
        assert_eq!(f64_bits_to_wad(0.5f64.to_bits()), Some(WAD / 2));
        // 1.0026642075893797 is stored as the nearest double; its WAD expansion truncates.
        assert_eq!(f64_bits_to_wad(1.0026642075893797f64.to_bits()), Some(1_002_664_207_589_379_685));
        for bad in [0.0f64, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(f64_bits_to_wad(bad.to_bits()), None, "{bad}");
        }
        assert_eq!(f64_bits_to_wad(1e30f64.to_bits()), None, "past u128 in WAD");
        assert_eq!(f64_bits_to_wad(1e-19f64.to_bits()), None, "rounds to zero");
        assert_eq!(f64_bits_to_wad(f64::from_bits(1).to_bits()), None, "subnormal");
    }

    #[test]
    fn the_four_real_xstocks_mints_pass_the_allowlist() {
        for symbol in ["AAPLx", "NFLXx", "NVDAx", "SPYx"] {
            let t = inspect_mint(&fixture(symbol)).unwrap();
            assert_eq!(t.decimals, 8, "{symbol}");
            assert!(t.pausable && !t.paused && t.permanent_delegate && t.freeze_authority, "{symbol}");
        }
        let nflx = inspect_mint(&fixture("NFLXx")).unwrap().multiplier;
        assert_eq!(
            nflx,
            Multiplier { multiplier: WAD, new_multiplier: 10 * WAD, effective_ts: 1_763_337_300 }
        );
        assert_eq!((nflx.at(1_763_337_299), nflx.at(1_763_337_300)), (WAD, 10 * WAD));
    }
}
