//! Localnet-only price writer. A local validator has no Pyth publishers, so tests and the demo
//! load this program **at the Pyth receiver's address** (`rec5EKMG…`, genesis flag
//! `--bpf-program`): the accounts it writes are then owned by "the receiver" and carry the exact
//! `PriceUpdateV2` layout, and Ballast's production build, which accepts only the real Pyth
//! program ids, reads them unchanged. It is never deployed to a real cluster.
//!
//! Two instructions on accounts `[price_update (writable, owned by this program), authority
//! (signer)]`:
//! - `post`, data `[0] ++ PriceMessage (Borsh)`: writes the message. The first post into a zeroed
//!   account records the authority; later writes must be signed by it.
//! - `refresh`, data `[1] ++ move_ppm (i32 LE)`: republishes the stored price at the cluster's
//!   clock, moved by `move_ppm` parts per million (the EMA a sixteenth of the way after it). A
//!   publisher that keeps a localnet's feeds fresh (`ballast oracle publish`) sends this: the
//!   move applies to whatever is stored when it lands, so a `post` sent meanwhile (a price drop
//!   in a test) is never overwritten by an older read.
#[cfg(target_os = "solana")]
extern crate sbf_i128;
#[cfg(target_os = "solana")]
extern crate solana_compiler_builtins;

use anchor_lang::prelude::*;
use anchor_lang::solana_program::entrypoint::ProgramResult;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};

/// The Pyth receiver program id: where this program is loaded on localnet (equal to
/// `ballast::oracle::pull::PYTH_RECEIVER_PROGRAM_ID`; a test in `tests/` checks both constants).
pub const ID: Pubkey = pubkey!("rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ");

/// Anchor's discriminator of the receiver's `PriceUpdateV2` account.
pub const PRICE_UPDATE_V2_DISCRIMINATOR: [u8; 8] = [34, 241, 35, 99, 157, 126, 244, 205];
/// Size the receiver allocates for a `PriceUpdateV2` account.
pub const PRICE_UPDATE_V2_LEN: usize = 134;

/// A Pyth price message, as the receiver stores it.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct PriceMessage {
    pub feed_id: [u8; 32],
    pub price: i64,
    pub conf: u64,
    pub expo: i32,
    pub publish_time: i64,
    pub ema_price: i64,
    pub ema_conf: u64,
}

/// The bytes of a `PriceUpdateV2` account: discriminator, write authority, verification level
/// (`Full`, or `Partial { num_signatures }`), the message, the previous publish time (one second
/// earlier) and the slot it was posted at.
pub fn encode_price_update(
    write_authority: &Pubkey,
    full_verification: bool,
    message: &PriceMessage,
    posted_slot: u64,
) -> Vec<u8> {
    let mut d = Vec::with_capacity(PRICE_UPDATE_V2_LEN);
    d.extend_from_slice(&PRICE_UPDATE_V2_DISCRIMINATOR);
    d.extend_from_slice(write_authority.as_ref());
    if full_verification {
        d.push(1);
    } else {
        d.extend_from_slice(&[0, 5]);
    }
    d.extend_from_slice(&message.feed_id);
    d.extend_from_slice(&message.price.to_le_bytes());
    d.extend_from_slice(&message.conf.to_le_bytes());
    d.extend_from_slice(&message.expo.to_le_bytes());
    d.extend_from_slice(&message.publish_time.to_le_bytes());
    d.extend_from_slice(&message.publish_time.saturating_sub(1).to_le_bytes());
    d.extend_from_slice(&message.ema_price.to_le_bytes());
    d.extend_from_slice(&message.ema_conf.to_le_bytes());
    d.extend_from_slice(&posted_slot.to_le_bytes());
    d.resize(PRICE_UPDATE_V2_LEN, 0);
    d
}

/// The `post` instruction.
pub fn post_instruction(price_update: Pubkey, authority: Pubkey, message: &PriceMessage) -> Instruction {
    let mut data = vec![0u8];
    message.serialize(&mut data).expect("writing to a Vec cannot fail");
    Instruction {
        program_id: ID,
        accounts: vec![AccountMeta::new(price_update, false), AccountMeta::new_readonly(authority, true)],
        data,
    }
}

/// The `refresh` instruction: the stored price, moved by `move_ppm` millionths, published now.
pub fn refresh_instruction(price_update: Pubkey, authority: Pubkey, move_ppm: i32) -> Instruction {
    let mut data = vec![1u8];
    data.extend_from_slice(&move_ppm.to_le_bytes());
    Instruction {
        program_id: ID,
        accounts: vec![AccountMeta::new(price_update, false), AccountMeta::new_readonly(authority, true)],
        data,
    }
}

/// The message stored in a `PriceUpdateV2` account written with full verification.
pub fn decode_message(account: &[u8]) -> Option<PriceMessage> {
    let at = |from: usize| account.get(from..from + 8).map(|b| <[u8; 8]>::try_from(b).expect("8 bytes"));
    if account.len() != PRICE_UPDATE_V2_LEN
        || account[..8] != PRICE_UPDATE_V2_DISCRIMINATOR
        || account[40] != 1
    {
        return None;
    }
    Some(PriceMessage {
        feed_id: account[41..73].try_into().ok()?,
        price: i64::from_le_bytes(at(73)?),
        conf: u64::from_le_bytes(at(81)?),
        expo: i32::from_le_bytes(account[89..93].try_into().ok()?),
        publish_time: i64::from_le_bytes(at(93)?),
        ema_price: i64::from_le_bytes(at(109)?),
        ema_conf: u64::from_le_bytes(at(117)?),
    })
}

/// `message` moved by `move_ppm` millionths and published at `now` (never earlier than it was).
pub fn refreshed(message: &PriceMessage, move_ppm: i32, now: i64) -> Option<PriceMessage> {
    let moved = message.price as i128 + message.price as i128 * move_ppm as i128 / 1_000_000;
    let price = i64::try_from(moved).ok().filter(|p| *p > 0)?;
    let ema_price = message.ema_price + (price - message.ema_price) / 16;
    Some(PriceMessage { price, ema_price, publish_time: now.max(message.publish_time), ..*message })
}

#[cfg(not(feature = "no-entrypoint"))]
anchor_lang::solana_program::entrypoint!(process_instruction);

pub fn process_instruction(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    let [price_update, authority] = accounts else {
        return Err(ProgramError::NotEnoughAccountKeys);
    };
    if price_update.owner != program_id || !price_update.is_writable {
        return Err(ProgramError::IllegalOwner);
    }
    if !authority.is_signer {
        return Err(ProgramError::MissingRequiredSignature);
    }
    let (tag, body) = data.split_first().ok_or(ProgramError::InvalidInstructionData)?;
    let mut account = price_update.try_borrow_mut_data()?;
    if account.len() != PRICE_UPDATE_V2_LEN {
        return Err(ProgramError::InvalidAccountData);
    }
    // A fresh (zeroed) account takes the signer as its write authority; afterwards only it writes.
    if account[..8] != [0; 8] && account[8..40] != authority.key.as_ref()[..] {
        return Err(ProgramError::IllegalOwner);
    }
    let clock = Clock::get()?;
    let message = match tag {
        0 => PriceMessage::try_from_slice(body).map_err(|_| ProgramError::InvalidInstructionData)?,
        1 => {
            let move_ppm =
                i32::from_le_bytes(body.try_into().map_err(|_| ProgramError::InvalidInstructionData)?);
            let stored = decode_message(&account).ok_or(ProgramError::UninitializedAccount)?;
            refreshed(&stored, move_ppm, clock.unix_timestamp).ok_or(ProgramError::InvalidArgument)?
        }
        _ => return Err(ProgramError::InvalidInstructionData),
    };
    account.copy_from_slice(&encode_price_update(authority.key, true, &message, clock.slot));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_keeps_the_stored_price_and_moves_it_only_as_asked() {
        let message = PriceMessage {
            feed_id: [7; 32],
            price: 15_000_000_000,
            conf: 1_000_000,
            expo: -8,
            publish_time: 100,
            ema_price: 14_000_000_000,
            ema_conf: 2_000_000,
        };
        let stored = encode_price_update(&Pubkey::new_unique(), true, &message, 9);
        assert_eq!(decode_message(&stored), Some(message));
        let same = refreshed(&message, 0, 130).unwrap();
        assert_eq!((same.price, same.publish_time, same.conf), (message.price, 130, message.conf));
        assert_eq!(same.ema_price, 14_000_000_000 + 1_000_000_000 / 16);
        let up = refreshed(&message, 1_000, 130).unwrap();
        assert_eq!(up.price, 15_015_000_000);
        assert_eq!(refreshed(&message, 0, 50).unwrap().publish_time, 100, "never back in time");
        assert_eq!(refreshed(&message, -1_000_000, 130), None, "a price never reaches zero");
        assert_eq!(decode_message(&stored[..100]), None);
    }
}
