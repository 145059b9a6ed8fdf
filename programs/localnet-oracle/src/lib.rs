//! Localnet-only price writer. A local validator has no Pyth publishers, so tests and the demo
//! load this program **at the Pyth receiver's address** (`rec5EKMG…`, genesis flag
//! `--bpf-program`): the accounts it writes are then owned by "the receiver" and carry the exact
//! `PriceUpdateV2` layout, and Ballast's production build, which accepts only the real Pyth
//! program ids, reads them unchanged. It is never deployed to a real cluster.
//!
//! One instruction, `post`: accounts `[price_update (writable, owned by this program), authority
//! (signer)]`, data `[0] ++ PriceMessage (Borsh)`. The first post into a zeroed account records
//! the authority; later posts must be signed by it.
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
    if *tag != 0 {
        return Err(ProgramError::InvalidInstructionData);
    }
    let message = PriceMessage::try_from_slice(body).map_err(|_| ProgramError::InvalidInstructionData)?;
    let mut account = price_update.try_borrow_mut_data()?;
    if account.len() != PRICE_UPDATE_V2_LEN {
        return Err(ProgramError::InvalidAccountData);
    }
    // A fresh (zeroed) account takes the signer as its write authority; afterwards only it writes.
    if account[..8] != [0; 8] && account[8..40] != authority.key.as_ref()[..] {
        return Err(ProgramError::IllegalOwner);
    }
    let slot = Clock::get()?.slot;
    account.copy_from_slice(&encode_price_update(authority.key, true, &message, slot));
    Ok(())
}
