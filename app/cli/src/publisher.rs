//! `ballast oracle publish`: keeps a local validator's price feeds fresh, as Pyth's publishers
//! keep a real feed (a new price every slot). Without it a localnet price ages out of the lag
//! band within ~20 s and every borrow is refused (`OracleBandTooWide`).
//!
//! Each round sends the localnet writer's `refresh` for every feed: the price stored *when the
//! transaction lands*, republished at the cluster's clock and moved by a random step of at most
//! `walk_bps` (0: fixed prices). A price posted meanwhile with `ballast oracle post` (a drop in a
//! demo) is the new level; nothing the publisher read earlier overwrites it.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use ballast::state::{OracleSource, Reserve};
use ballast_sdk::rpc::Client;
use solana_signer::Signer;
use solana_system_interface::instruction as system_ix;

use crate::bootstrap::{localnet_feed, localnet_feed_seed};

/// A feed the publisher keeps fresh: the writer's account and a name for the logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    pub account: Pubkey,
    pub name: String,
}

/// The writer accounts `authority` writes among `reserves`' pinned pull accounts, named by
/// `name_of` (a symbol, else the mint), sorted by name.
pub fn market_feeds<'a>(
    authority: &Pubkey,
    reserves: impl IntoIterator<Item = &'a Reserve>,
    name_of: impl Fn(&Reserve) -> String,
) -> Vec<Feed> {
    let mut feeds: Vec<Feed> = reserves
        .into_iter()
        .filter(|r| OracleSource::from_u8(r.oracle.source) == Some(OracleSource::PythPull))
        .filter(|r| r.oracle.price_account == localnet_feed(authority, &r.oracle.feed_id))
        .map(|r| Feed { account: r.oracle.price_account, name: name_of(r) })
        .collect();
    feeds.sort_by(|a, b| a.name.cmp(&b.name));
    feeds.dedup_by_key(|f| f.account);
    feeds
}

/// A small deterministic generator for the walk (xorshift64*): a seed gives the same path.
#[derive(Debug, Clone)]
pub struct Walk {
    state: u64,
    walk_bps: u32,
}

impl Walk {
    pub fn new(seed: u64, walk_bps: u32) -> Self {
        Walk { state: seed.max(1), walk_bps }
    }

    /// The next move, parts per million, uniform in `[-walk_bps, walk_bps]` bps.
    pub fn next_move_ppm(&mut self) -> i32 {
        if self.walk_bps == 0 {
            return 0;
        }
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let r = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d);
        let span = 2 * self.walk_bps as u64 * 100 + 1; // ppm
        ((r % span) as i64 - (self.walk_bps as i64 * 100)) as i32
    }
}

/// Refreshes every feed once, in transactions of at most 8 refreshes; returns how many landed.
pub async fn publish_round(client: &Client, feeds: &[Feed], walk: &mut Walk) -> Result<usize, String> {
    let authority = client.payer.pubkey();
    let mut landed = 0;
    for chunk in feeds.chunks(8) {
        let ixs: Vec<_> = chunk
            .iter()
            .map(|f| localnet_oracle::refresh_instruction(f.account, authority, walk.next_move_ppm()))
            .collect();
        client.send(&ixs, &[]).await.map_err(|e| e.to_string())?;
        landed += chunk.len();
    }
    Ok(landed)
}

/// A price post: its instructions, the feed account it writes and the message.
pub struct Post {
    pub instructions: Vec<Instruction>,
    pub account: Pubkey,
    pub message: localnet_oracle::PriceMessage,
}

/// The instructions that post `price` (`ema`: its EMA, `conf`: its confidence, all in whole units
/// at exponent `expo`) for `feed_id` at the cluster's current time through the localnet writer,
/// creating the payer's feed account first when it does not exist yet. `ballast oracle post`
/// and the crash benchmark send them.
pub async fn post_instructions(
    client: &Client,
    feed_id: [u8; 32],
    price: f64,
    ema: f64,
    conf: f64,
    expo: i32,
) -> Result<Post, String> {
    let scale = 10f64.powi(-expo);
    let message = localnet_oracle::PriceMessage {
        feed_id,
        price: (price * scale).round() as i64,
        conf: (conf * scale).round() as u64,
        expo,
        publish_time: client.now().await.map_err(|e| e.to_string())?,
        ema_price: (ema * scale).round() as i64,
        ema_conf: (conf * scale).round() as u64,
    };
    let payer = client.payer.pubkey();
    let account = localnet_feed(&payer, &feed_id);
    let mut ixs = Vec::new();
    if client.account_data(&account).await.map_err(|e| e.to_string())?.is_none() {
        let len = localnet_oracle::PRICE_UPDATE_V2_LEN;
        let rent = client.rpc.get_minimum_balance_for_rent_exemption(len).await.map_err(|e| e.to_string())?;
        let seed = localnet_feed_seed(&feed_id);
        ixs.push(system_ix::create_account_with_seed(
            &payer,
            &account,
            &payer,
            &seed,
            rent,
            len as u64,
            &localnet_oracle::ID,
        ));
    }
    ixs.push(localnet_oracle::post_instruction(account, payer, &message));
    Ok(Post { instructions: ixs, account, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_stays_within_its_bound_and_is_reproducible() {
        let mut a = Walk::new(7, 25);
        let mut b = Walk::new(7, 25);
        let moves: Vec<i32> = (0..10_000).map(|_| a.next_move_ppm()).collect();
        assert!(moves.iter().all(|m| m.abs() <= 2_500), "25 bps is 2,500 ppm");
        assert!(moves.iter().any(|m| *m > 2_000) && moves.iter().any(|m| *m < -2_000));
        assert_eq!(moves, (0..10_000).map(|_| b.next_move_ppm()).collect::<Vec<_>>());
        assert!((0..100).all(|_| Walk::new(3, 0).next_move_ppm() == 0), "no walk: fixed prices");
    }
}
