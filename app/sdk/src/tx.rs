//! Transactions as a cluster takes them: v0 messages that load the market's accounts from an
//! address lookup table (a 16-slot liquidation names ~50 accounts, which a legacy transaction
//! cannot fit in the 1,232-byte packet), a compute-unit limit and a compute-unit price.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use ballast::state::{OracleSource, Reserve};
use solana_address_lookup_table_interface::state::AddressLookupTable;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_hash::Hash;
use solana_message::v0;
pub use solana_message::{AddressLookupTableAccount, VersionedMessage};

/// The most a transaction may take on the wire (IPv6 MTU minus headers), as validators enforce.
pub const PACKET_DATA_SIZE: usize = 1_232;

/// The most compute units one transaction may ask for.
pub const MAX_COMPUTE_UNIT_LIMIT: u32 = 1_400_000;

/// Every address of `market` a Ballast instruction may name besides the signer's own accounts
/// and the invoked program: the market, the token programs, and per reserve its account, mint,
/// vault, insurance vault and pinned price account. What a market's lookup table holds.
pub fn market_table_addresses<'a>(
    market: &Pubkey,
    reserves: impl IntoIterator<Item = (&'a Pubkey, &'a Reserve)>,
) -> Vec<Pubkey> {
    let mut out = vec![*market, SPL_TOKEN_PROGRAM, TOKEN_2022_PROGRAM];
    let mut sorted: Vec<(&Pubkey, &Reserve)> = reserves.into_iter().collect();
    sorted.sort_by_key(|(k, _)| **k);
    for (key, r) in sorted {
        out.extend([*key, r.mint, r.vault, r.insurance_vault]);
        if OracleSource::from_u8(r.oracle.source).is_some() {
            out.push(r.oracle.price_account);
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|k| seen.insert(*k));
    out
}

/// The SPL Token program.
pub const SPL_TOKEN_PROGRAM: Pubkey = anchor_lang::pubkey!("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
/// The Token-2022 program.
pub const TOKEN_2022_PROGRAM: Pubkey = anchor_lang::pubkey!("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");

/// `wanted` addresses the table does not hold yet, in order (what an extension must add).
pub fn missing_from_table(table: &[Pubkey], wanted: &[Pubkey]) -> Vec<Pubkey> {
    wanted.iter().filter(|k| !table.contains(k)).copied().collect()
}

/// A lookup table account's addresses, decoded from its data.
pub fn decode_lookup_table(key: Pubkey, data: &[u8]) -> Result<AddressLookupTableAccount, String> {
    let table = AddressLookupTable::deserialize(data).map_err(|e| format!("lookup table {key}: {e}"))?;
    Ok(AddressLookupTableAccount { key, addresses: table.addresses.to_vec() })
}

/// The address lookup table program.
pub const LOOKUP_TABLE_PROGRAM: Pubkey = anchor_lang::pubkey!("AddressLookupTab1e1111111111111111111111111");

/// Where a lookup table's authority sits in its account (after the state tag, the
/// deactivation slot, the last extended slot and its start index, and the option tag).
pub const LOOKUP_TABLE_AUTHORITY_OFFSET: usize = 22;

/// The most addresses one `extend` transaction adds (32 bytes each, within a packet).
pub const LOOKUP_TABLE_EXTEND_CHUNK: usize = 20;

/// Of the lookup tables `found` (key, data), the active one with the most addresses that holds
/// `market`: the market's table.
pub fn pick_market_table(found: &[(Pubkey, Vec<u8>)], market: &Pubkey) -> Option<AddressLookupTableAccount> {
    found
        .iter()
        .filter_map(|(key, data)| {
            let table = AddressLookupTable::deserialize(data).ok()?;
            let active = table.meta.deactivation_slot == u64::MAX;
            (active && table.addresses.contains(market))
                .then(|| AddressLookupTableAccount { key: *key, addresses: table.addresses.to_vec() })
        })
        .max_by_key(|t| t.addresses.len())
}

/// Creates a lookup table owned by `authority` and puts `first` in it (the market first, so
/// the table is found by `pick_market_table` from then on). Returns the instructions and the
/// table's address; `recent_slot` must be a recent slot of the cluster.
pub fn create_market_table(
    authority: &Pubkey,
    recent_slot: u64,
    first: Vec<Pubkey>,
) -> (Vec<Instruction>, Pubkey) {
    use solana_address_lookup_table_interface::instruction::{create_lookup_table, extend_lookup_table};
    let (create, table) = create_lookup_table(*authority, *authority, recent_slot);
    let extend = extend_lookup_table(table, *authority, Some(*authority), first);
    (vec![create, extend], table)
}

/// Adds `addresses` to `table` (at most `LOOKUP_TABLE_EXTEND_CHUNK` at a time).
pub fn extend_market_table(authority: &Pubkey, table: &Pubkey, addresses: Vec<Pubkey>) -> Instruction {
    solana_address_lookup_table_interface::instruction::extend_lookup_table(
        *table,
        *authority,
        Some(*authority),
        addresses,
    )
}

/// The compute-budget instructions that lead a transaction: `limit` units at `price`
/// micro-lamports each (no price instruction for 0).
pub fn compute_budget(limit: u32, price: u64) -> Vec<Instruction> {
    let mut ixs = vec![ComputeBudgetInstruction::set_compute_unit_limit(limit)];
    if price > 0 {
        ixs.push(ComputeBudgetInstruction::set_compute_unit_price(price));
    }
    ixs
}

/// The limit to ask for when a simulation consumed `consumed` units: 10 % and 5,000 units of
/// margin (accounts can change between simulation and execution), at most the maximum.
pub fn compute_unit_limit_for(consumed: u64) -> u32 {
    let with_margin = consumed.saturating_mul(11) / 10 + 5_000;
    with_margin.min(MAX_COMPUTE_UNIT_LIMIT as u64) as u32
}

/// The compute-unit price to bid from recent prioritization fees of the accounts a
/// transaction writes: their 75th percentile, at least `floor` and at most `ceiling`.
pub fn compute_unit_price_from_recent(recent: &[u64], floor: u64, ceiling: u64) -> u64 {
    let mut fees: Vec<u64> = recent.to_vec();
    fees.sort_unstable();
    let at = (fees.len() * 3).div_ceil(4).saturating_sub(1);
    fees.get(at).copied().unwrap_or(0).max(floor).min(ceiling)
}

/// What `limit` units at `price` micro-lamports cost, in lamports (rounded up).
pub fn priority_fee_lamports(limit: u32, price: u64) -> u64 {
    (limit as u128 * price as u128).div_ceil(1_000_000) as u64
}

/// A v0 message paid by `payer`, its accounts loaded from `tables` where they can be.
pub fn v0_message(
    payer: &Pubkey,
    ixs: &[Instruction],
    tables: &[AddressLookupTableAccount],
    blockhash: Hash,
) -> Result<VersionedMessage, String> {
    v0::Message::try_compile(payer, ixs, tables, blockhash)
        .map(VersionedMessage::V0)
        .map_err(|e| format!("cannot compile the transaction: {e}"))
}

/// The bytes a transaction with `message` and its signatures takes on the wire.
pub fn wire_size(message: &VersionedMessage) -> usize {
    let signatures = message.header().num_required_signatures as usize;
    // A compact-u16 length prefix (1 byte below 128), 64 bytes a signature, then the message.
    1 + 64 * signatures + message.serialize().len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::solana_program::instruction::AccountMeta;

    #[test]
    fn the_fee_bid_is_the_75th_percentile_under_the_ceiling() {
        assert_eq!(compute_unit_price_from_recent(&[], 0, 1_000), 0);
        assert_eq!(compute_unit_price_from_recent(&[5], 0, 1_000), 5);
        assert_eq!(compute_unit_price_from_recent(&[1, 2, 3, 4], 0, 1_000), 3);
        assert_eq!(compute_unit_price_from_recent(&[400, 100, 300, 200, 0, 0, 0, 0], 0, 1_000), 200);
        assert_eq!(compute_unit_price_from_recent(&[10_000, 20_000], 0, 1_000), 1_000, "the ceiling binds");
        assert_eq!(compute_unit_price_from_recent(&[0, 0, 0], 50, 1_000), 50, "the floor binds");
        assert_eq!(priority_fee_lamports(200_000, 1_000), 200);
        assert_eq!(priority_fee_lamports(1, 1), 1, "rounded up");
        assert_eq!(compute_unit_limit_for(80_000), 93_000);
        assert_eq!(compute_unit_limit_for(u64::MAX), MAX_COMPUTE_UNIT_LIMIT);
    }

    #[test]
    fn the_market_table_is_the_active_one_holding_the_market() {
        use solana_address_lookup_table_interface::state::LookupTableMeta;
        let k = |n: u8| Pubkey::new_from_array([n; 32]);
        let table = |deactivation_slot: u64, addresses: &[Pubkey]| {
            let meta =
                LookupTableMeta { deactivation_slot, authority: Some(k(9)), ..LookupTableMeta::default() };
            AddressLookupTable { meta, addresses: addresses.to_vec().into() }.serialize_for_tests().unwrap()
        };
        let found = vec![
            (k(1), table(u64::MAX, &[k(50), k(51)])),        // another market's
            (k(2), table(u64::MAX, &[k(60), k(61)])),        // ours, two addresses
            (k(3), table(u64::MAX, &[k(60), k(61), k(62)])), // ours, three
            (k(4), table(1_000, &[k(60), k(61), k(62), k(63)])), // ours, deactivated
        ];
        assert_eq!(pick_market_table(&found, &k(60)).map(|t| t.key), Some(k(3)));
        assert_eq!(pick_market_table(&found, &k(70)), None);
        // The authority lies where the discovery filter looks.
        assert_eq!(
            &found[0].1[LOOKUP_TABLE_AUTHORITY_OFFSET..LOOKUP_TABLE_AUTHORITY_OFFSET + 32],
            k(9).as_ref()
        );
    }

    #[test]
    fn a_table_extension_adds_only_what_is_missing() {
        let k = |n: u8| Pubkey::new_from_array([n; 32]);
        assert_eq!(missing_from_table(&[k(1), k(2)], &[k(2), k(3), k(1), k(4)]), vec![k(3), k(4)]);
    }

    #[test]
    fn the_wire_size_is_what_bincode_writes() {
        let payer = Pubkey::new_unique();
        let ixn = Instruction::new_with_bytes(
            Pubkey::new_unique(),
            &[1, 2, 3],
            vec![AccountMeta::new(payer, true), AccountMeta::new_readonly(Pubkey::new_unique(), false)],
        );
        let message = v0_message(&payer, &[ixn], &[], Hash::default()).unwrap();
        let tx = solana_transaction::versioned::VersionedTransaction {
            signatures: vec![Default::default()],
            message: message.clone(),
        };
        assert_eq!(wire_size(&message), bincode::serialize(&tx).unwrap().len());
    }
}
