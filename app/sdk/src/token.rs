//! Associated token accounts (derivation and the idempotent create instruction), for wallets.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};

/// The Associated Token Account program.
pub const ASSOCIATED_TOKEN_PROGRAM_ID: Pubkey =
    anchor_lang::pubkey!("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");

/// The associated token account of `owner` for `mint` under `token_program`.
pub fn associated_token_address(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[owner.as_ref(), token_program.as_ref(), mint.as_ref()],
        &ASSOCIATED_TOKEN_PROGRAM_ID,
    )
    .0
}

/// Creates the associated token account if it does not exist yet (`CreateIdempotent`).
pub fn create_associated_token_account(
    payer: &Pubkey,
    owner: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
) -> Instruction {
    Instruction {
        program_id: ASSOCIATED_TOKEN_PROGRAM_ID,
        accounts: vec![
            AccountMeta::new(*payer, true),
            AccountMeta::new(associated_token_address(owner, mint, token_program), false),
            AccountMeta::new_readonly(*owner, false),
            AccountMeta::new_readonly(*mint, false),
            AccountMeta::new_readonly(anchor_lang::system_program::ID, false),
            AccountMeta::new_readonly(*token_program, false),
        ],
        data: vec![1],
    }
}

/// Balance of an SPL Token or Token-2022 account (the amount sits at the same offset in both).
pub fn token_account_amount(data: &[u8]) -> Option<u64> {
    data.get(64..72).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
}

/// Token-2022's extension type number of `TokenMetadata` (the metadata held in the mint).
const TOKEN_METADATA_EXTENSION: u16 = 19;
/// Where a Token-2022 mint's extensions start: the base mint padded to a token account's length,
/// then one account-type byte.
const TOKEN_2022_TLV_START: usize = 165 + 1;

/// Reads a borsh string (u32 length, UTF-8) at `*at`, moving `*at` past it.
fn borsh_string(data: &[u8], at: &mut usize) -> Option<String> {
    let len = u32::from_le_bytes(data.get(*at..*at + 4)?.try_into().ok()?) as usize;
    let bytes = data.get(*at + 4..*at + 4 + len)?;
    *at += 4 + len;
    Some(String::from_utf8_lossy(bytes).trim_end_matches('\0').trim().to_string())
}

/// The symbol in a Token-2022 mint's own `TokenMetadata` extension (the xStocks carry one).
pub fn token_2022_symbol(mint: &[u8]) -> Option<String> {
    let mut at = TOKEN_2022_TLV_START;
    while let Some(header) = mint.get(at..at + 4) {
        let kind = u16::from_le_bytes([header[0], header[1]]);
        let len = u16::from_le_bytes([header[2], header[3]]) as usize;
        if kind == 0 {
            return None;
        }
        if kind == TOKEN_METADATA_EXTENSION {
            // update authority (32), mint (32), name, symbol, uri, ...
            let value = mint.get(at + 4..at + 4 + len)?;
            let mut pos = 64;
            borsh_string(value, &mut pos)?;
            return borsh_string(value, &mut pos).filter(|s| !s.is_empty());
        }
        at += 4 + len;
    }
    None
}

/// The Metaplex token metadata program (the metadata of SPL Token mints).
pub const METAPLEX_METADATA_PROGRAM: Pubkey =
    anchor_lang::pubkey!("metaqbxxUerdq28cj1RbAWkYQm3ybzjb6a8bt518x1s");

/// The Metaplex metadata account of `mint`.
pub fn metaplex_metadata_address(mint: &Pubkey) -> Pubkey {
    let seeds: &[&[u8]] = &[b"metadata", METAPLEX_METADATA_PROGRAM.as_ref(), mint.as_ref()];
    Pubkey::find_program_address(seeds, &METAPLEX_METADATA_PROGRAM).0
}

/// The symbol in a Metaplex metadata account (key, update authority, mint, name, symbol, ...).
pub fn metaplex_symbol(metadata: &[u8]) -> Option<String> {
    let mut pos = 1 + 32 + 32;
    borsh_string(metadata, &mut pos)?;
    borsh_string(metadata, &mut pos).filter(|s| !s.is_empty())
}

/// The symbol a mint names itself by: the `TokenMetadata` held in a Token-2022 mint (`mint`:
/// its owner and bytes), else the Metaplex metadata account's (`metaplex`: its owner and bytes).
pub fn mint_symbol(mint: Option<(Pubkey, &[u8])>, metaplex: Option<(Pubkey, &[u8])>) -> Option<String> {
    let own = mint
        .filter(|(owner, _)| *owner == crate::errors::TOKEN_2022_PROGRAM)
        .and_then(|(_, d)| token_2022_symbol(d));
    own.or_else(|| {
        metaplex
            .filter(|(owner, _)| *owner == METAPLEX_METADATA_PROGRAM)
            .and_then(|(_, d)| metaplex_symbol(d))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_mint(symbol: &str) -> Vec<u8> {
        use base64::Engine;
        let path = format!(
            "{}/../../tests/fixtures/mainnet/xstock_{symbol}_mint_mainnet.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        base64::engine::general_purpose::STANDARD.decode(json["dataBase64"].as_str().unwrap()).unwrap()
    }

    #[test]
    fn the_real_xstocks_mints_name_their_symbols() {
        for symbol in ["AAPLx", "NFLXx", "NVDAx", "SPYx"] {
            assert_eq!(token_2022_symbol(&fixture_mint(symbol)).as_deref(), Some(symbol));
        }
        let mut plain = vec![0u8; 82];
        plain[45] = 1;
        assert_eq!(token_2022_symbol(&plain), None, "an SPL Token mint has no extensions");
    }

    #[test]
    fn a_metaplex_account_names_its_symbol() {
        let mut data = vec![4u8];
        data.extend([7u8; 64]);
        for (text, padded) in [("Wrapped SOL", 32usize), ("SOL", 10)] {
            let mut bytes = text.as_bytes().to_vec();
            bytes.resize(padded, 0);
            data.extend((bytes.len() as u32).to_le_bytes());
            data.extend(bytes);
        }
        assert_eq!(metaplex_symbol(&data).as_deref(), Some("SOL"));
        assert_eq!(metaplex_symbol(&data[..70]), None);

        // The mint's own metadata first, Metaplex's for the rest; each only from its program.
        let (t22, meta) = (crate::errors::TOKEN_2022_PROGRAM, METAPLEX_METADATA_PROGRAM);
        let aapl = fixture_mint("AAPLx");
        let both = mint_symbol(Some((t22, &aapl)), Some((meta, &data)));
        assert_eq!(both.as_deref(), Some("AAPLx"));
        let plain = [0u8; 82];
        let spl = crate::errors::TOKEN_PROGRAM;
        assert_eq!(mint_symbol(Some((spl, &plain)), Some((meta, &data))).as_deref(), Some("SOL"));
        assert_eq!(
            mint_symbol(Some((spl, &plain)), Some((Pubkey::new_unique(), &data))),
            None,
            "not Metaplex's"
        );
        assert_eq!(mint_symbol(Some((spl, &aapl)), None), None, "not Token-2022's");
        assert_eq!(mint_symbol(None, None), None);
    }
}
