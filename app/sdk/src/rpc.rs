//! JSON-RPC access for wallets, the CLI and the keeper: send transactions (program errors come
//! back by name), and fetch and decode the market's accounts.
use std::collections::HashMap;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use ballast::state::{Market, OracleSource, Position, Reserve};
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_message::AddressLookupTableAccount;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::Error as ClientError;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::Transaction;

use crate::accounts;
use crate::health::OracleAccount;

/// A failed request or transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RpcError {
    /// The program refused: its error code, its name and message from the IDL, and the last
    /// lines the program logged (known when the refusal came from a simulation).
    Program { code: u32, description: String, logs: Vec<String> },
    /// Another program of the transaction refused (SPL Token, Token-2022, System, Associated
    /// Token Account, or one Ballast called): its name, its code, the code's name and meaning.
    OtherProgram { program: String, code: u32, description: String, logs: Vec<String> },
    /// Any other transaction failure, in words.
    Transaction(String),
    /// The RPC request itself failed (network, node).
    Rpc(String),
    /// An account is missing or does not decode.
    Account(String),
    /// The account at an address given is not the Ballast account asked for (none there, another
    /// program's, another kind): `X is not a Ballast market (owner …, size …)`.
    WrongAccount(String),
}

fn write_logs(f: &mut std::fmt::Formatter<'_>, logs: &[String]) -> std::fmt::Result {
    if !logs.is_empty() {
        write!(f, "\nprogram log:\n  {}", logs.join("\n  "))?;
    }
    Ok(())
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RpcError::Program { code, description, logs } => {
                write!(f, "program error {code}: {description}")?;
                write_logs(f, logs)
            }
            RpcError::OtherProgram { program, code, description, logs } => {
                write!(f, "{program} error {code}: {description}")?;
                write_logs(f, logs)
            }
            RpcError::Transaction(e) => write!(f, "transaction failed: {e}"),
            RpcError::Rpc(e) => write!(f, "RPC request failed: {e}"),
            RpcError::Account(e) | RpcError::WrongAccount(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RpcError {}

impl RpcError {
    /// A program error with `code`, if this is one.
    pub fn program_code(&self) -> Option<u32> {
        match self {
            RpcError::Program { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// What a failed transaction's error is read against: the program of each instruction, in
/// message order, and the fee payer.
struct Sent<'a> {
    programs: Vec<Pubkey>,
    payer: &'a Pubkey,
}

impl<'a> Sent<'a> {
    fn new(ixs: &[Instruction], payer: &'a Pubkey) -> Self {
        Self { programs: ixs.iter().map(|i| i.program_id).collect(), payer }
    }

    fn message(tx: &VersionedTransaction, payer: &'a Pubkey) -> Self {
        let keys = tx.message.static_account_keys();
        let programs = tx
            .message
            .instructions()
            .iter()
            .map(|i| keys.get(i.program_id_index as usize).copied().unwrap_or_default())
            .collect();
        Self { programs, payer }
    }
}

/// The program whose failure the logs show first: the innermost one, which raised the error
/// the outer programs pass on (`Program <id> failed: custom program error: 0x…`).
fn raising_program(logs: &[String]) -> Option<Pubkey> {
    logs.iter().find_map(|line| {
        let rest = line.strip_prefix("Program ")?;
        let (id, tail) = rest.split_once(' ')?;
        tail.starts_with("failed: custom program error").then(|| id.parse().ok()).flatten()
    })
}

/// A custom error `code` of the instruction run by `instruction_program`, attributed to the
/// program that raised it (named by the logs when there are any) and put in words.
fn custom_error(code: u32, instruction_program: Option<&Pubkey>, logs: &[String]) -> RpcError {
    use crate::errors::{describe, describe_program_error, program_name, SYSTEM_PROGRAM, TOKEN_PROGRAM};
    let tail = last_log_lines(logs);
    let raised_by = raising_program(logs).or(instruction_program.copied());
    let ballast_own = |code| RpcError::Program {
        code,
        description: describe(code).unwrap_or_else(|| format!("custom error {code}")),
        logs: tail.clone(),
    };
    match raised_by {
        None => ballast_own(code),
        // Anchor's codes start at 100 and Ballast's at 6000: a lower code from a Ballast
        // instruction without logs was raised by a program it called (a token transfer, an
        // account creation), and which one is not known.
        Some(p) if p == ballast::ID && code < 100 => {
            let named = |program: &Pubkey| describe_program_error(program, code);
            let guesses: Vec<String> =
                [(TOKEN_PROGRAM, "SPL Token / Token-2022"), (SYSTEM_PROGRAM, "System")]
                    .into_iter()
                    .filter_map(|(id, name)| Some(format!("{name}: {}", named(&id)?)))
                    .collect();
            RpcError::OtherProgram {
                program: "a program Ballast called".into(),
                code,
                description: if guesses.is_empty() {
                    format!("custom error {code}")
                } else {
                    format!("custom error {code}, i.e. {}", guesses.join(", or "))
                },
                logs: tail,
            }
        }
        Some(p) if p == ballast::ID => ballast_own(code),
        Some(p) => RpcError::OtherProgram {
            program: program_name(&p).map_or_else(|| format!("program {p}"), str::to_string),
            code,
            description: describe_program_error(&p, code).unwrap_or_else(|| format!("custom error {code}")),
            logs: tail,
        },
    }
}

/// A transaction's failure in words: a custom code by the program that raised it, a fee payer
/// without SOL said so (the runtime's "Attempt to debit an account but found no record of a
/// prior credit"), anything else as the runtime put it with the last log lines.
fn transaction_error(
    err: solana_transaction_error::TransactionError,
    logs: &[String],
    sent: &Sent<'_>,
) -> RpcError {
    use solana_instruction::error::InstructionError;
    use solana_transaction_error::TransactionError;
    let payer = sent.payer;
    let fund = "fund it, e.g. `ballast airdrop 1` on a local validator or devnet, or a transfer";
    match err {
        TransactionError::InstructionError(index, InstructionError::Custom(code)) => {
            custom_error(code, sent.programs.get(index as usize), logs)
        }
        TransactionError::AccountNotFound => RpcError::Transaction(format!(
            "the fee payer {payer} has no SOL on this cluster (no account at its address): {fund}"
        )),
        TransactionError::InsufficientFundsForFee => {
            RpcError::Transaction(format!("the fee payer {payer} has too little SOL for the fee: {fund}"))
        }
        TransactionError::InsufficientFundsForRent { account_index } => RpcError::Transaction(format!(
            "account {account_index} of the transaction would hold less SOL than rent exemption needs \
             (the fee payer {payer} pays for new accounts: {fund})"
        )),
        other => {
            let tail = last_log_lines(logs);
            if tail.is_empty() {
                RpcError::Transaction(other.to_string())
            } else {
                RpcError::Transaction(format!("{other}; last log lines: {}", tail.join(" | ")))
            }
        }
    }
}

/// A failed request that carried a transaction: its failure in words when the node ran it
/// (the preflight simulation's logs included), else the request's own error.
fn classify_sent(e: ClientError, sent: &Sent<'_>) -> RpcError {
    use solana_rpc_client_api::client_error::ErrorKind;
    use solana_rpc_client_api::request::{RpcError as Request, RpcResponseErrorData};
    let logs = match e.kind() {
        ErrorKind::RpcError(Request::RpcResponseError {
            data: RpcResponseErrorData::SendTransactionPreflightFailure(result),
            ..
        }) => result.logs.clone().unwrap_or_default(),
        _ => Vec::new(),
    };
    match e.get_transaction_error() {
        Some(err) => transaction_error(err, &logs, sent),
        None => RpcError::Rpc(e.to_string()),
    }
}

/// A failed read (no transaction involved).
fn classify(e: ClientError) -> RpcError {
    RpcError::Rpc(e.to_string())
}

/// How `Client::send_v0` builds a transaction.
#[derive(Debug, Clone, Default)]
pub struct SendOptions {
    /// Address lookup tables to load accounts from (the market's), read at each `prepare_v0`.
    pub lookup_tables: Vec<Pubkey>,
    /// Lookup tables already read (a keeper reads the market's once per load): used as they
    /// are, beside `lookup_tables`, with no request.
    pub loaded_tables: Vec<AddressLookupTableAccount>,
    /// Micro-lamports per compute unit (0: no priority fee).
    pub compute_unit_price: u64,
    /// A fixed compute-unit limit; `None`: what the simulation consumed plus a margin.
    pub compute_unit_limit: Option<u32>,
}

/// The base fee of one signature, in lamports.
pub const LAMPORTS_PER_SIGNATURE: u64 = 5_000;

/// A signed, simulated transaction, and what it will ask for.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub transaction: VersionedTransaction,
    pub compute_unit_limit: u32,
    pub compute_unit_price: u64,
    /// Compute units the simulation consumed.
    pub simulated_units: u64,
    /// What it costs the payer at most: base fee and priority fee, in lamports.
    pub fee_lamports: u64,
}

/// How many of a failed transaction's last log lines an error carries.
pub const LOG_LINES_SHOWN: usize = 5;

/// The last `LOG_LINES_SHOWN` lines of `logs`, without the runtime's compute-unit accounting
/// lines (the program's own words are what explains a refusal).
pub fn last_log_lines(logs: &[String]) -> Vec<String> {
    let useful: Vec<&String> = logs.iter().filter(|l| !l.contains(" consumed ")).collect();
    useful[useful.len().saturating_sub(LOG_LINES_SHOWN)..].iter().map(|l| l.to_string()).collect()
}

/// A connection and the keypair that pays for transactions.
pub struct Client {
    pub rpc: RpcClient,
    pub payer: Keypair,
    /// How long a blockhash read by `prepare_v0` is reused (zero: read each time).
    blockhash_reuse: std::time::Duration,
    recent_blockhash: std::sync::Mutex<Option<(solana_hash::Hash, std::time::Instant)>>,
}

impl Client {
    /// Connects to `url` with "confirmed" commitment.
    pub fn new(url: &str, payer: Keypair) -> Self {
        let config =
            solana_rpc_client::rpc_client::RpcClientConfig::with_commitment(CommitmentConfig::confirmed());
        Self {
            rpc: RpcClient::new_sender(crate::retry::RetryingSender::new(url), config),
            payer,
            blockhash_reuse: std::time::Duration::ZERO,
            recent_blockhash: std::sync::Mutex::new(None),
        }
    }

    /// Reuses the blockhash `prepare_v0` reads for `reuse` (a keeper preparing many transactions
    /// in a crash saves a request each; a blockhash lives ~60 s, so a second or two costs
    /// nothing in validity). Two identical transactions prepared within `reuse` share a
    /// signature, so the second is the first: what a keeper resending a liquidation wants.
    pub fn reusing_blockhash_for(mut self, reuse: std::time::Duration) -> Self {
        self.blockhash_reuse = reuse;
        self
    }

    /// The latest blockhash, or the one read less than `blockhash_reuse` ago.
    async fn blockhash(&self) -> Result<solana_hash::Hash, RpcError> {
        let cached = *self.recent_blockhash.lock().expect("not poisoned");
        if let Some((hash, read_at)) = cached {
            if read_at.elapsed() < self.blockhash_reuse {
                return Ok(hash);
            }
        }
        let hash = self.rpc.get_latest_blockhash().await.map_err(classify)?;
        *self.recent_blockhash.lock().expect("not poisoned") = Some((hash, std::time::Instant::now()));
        Ok(hash)
    }

    /// Sends `ixs` in one transaction paid by the payer and signed by `signers` too; waits for
    /// confirmation.
    pub async fn send(&self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<Signature, RpcError> {
        let blockhash = self.rpc.get_latest_blockhash().await.map_err(classify)?;
        let mut all: Vec<&Keypair> = vec![&self.payer];
        all.extend(signers.iter().copied().filter(|k| k.pubkey() != self.payer.pubkey()));
        let payer = self.payer.pubkey();
        let tx = Transaction::new_signed_with_payer(ixs, Some(&payer), &all, blockhash);
        self.rpc
            .send_and_confirm_transaction(&tx)
            .await
            .map_err(|e| classify_sent(e, &Sent::new(ixs, &payer)))
    }

    /// The lookup tables at `keys`, decoded (a missing or undecodable one is an error).
    pub async fn lookup_tables(&self, keys: &[Pubkey]) -> Result<Vec<AddressLookupTableAccount>, RpcError> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let account = self
                .account_data(key)
                .await?
                .ok_or_else(|| RpcError::Account(format!("no lookup table at {key}")))?;
            out.push(crate::tx::decode_lookup_table(*key, &account.data).map_err(RpcError::Account)?);
        }
        Ok(out)
    }

    /// The lookup table of `market` made by `authority` (the market's admin, who made it at
    /// bootstrap): found by the authority among the lookup table program's accounts.
    pub async fn find_market_table(
        &self,
        authority: &Pubkey,
        market: &Pubkey,
    ) -> Result<Option<AddressLookupTableAccount>, RpcError> {
        let config = RpcProgramAccountsConfig {
            filters: Some(vec![RpcFilterType::Memcmp(Memcmp::new_base58_encoded(
                crate::tx::LOOKUP_TABLE_AUTHORITY_OFFSET,
                authority.as_ref(),
            ))]),
            account_config: RpcAccountInfoConfig {
                encoding: Some(UiAccountEncoding::Base64),
                ..RpcAccountInfoConfig::default()
            },
            ..RpcProgramAccountsConfig::default()
        };
        #[allow(deprecated)] // the replacement returns UI-encoded accounts; we want the bytes
        let found = self
            .rpc
            .get_program_accounts_with_config(&crate::tx::LOOKUP_TABLE_PROGRAM, config)
            .await
            .map_err(classify)?;
        let found: Vec<(Pubkey, Vec<u8>)> = found.into_iter().map(|(k, a)| (k, a.data)).collect();
        Ok(crate::tx::pick_market_table(&found, market))
    }

    /// Makes the payer's lookup table of `market` hold every address `market_table_addresses`
    /// lists for its reserves: created on first use, extended with what is missing. Returns
    /// its address and the transactions sent (0 when it was complete).
    pub async fn ensure_market_table(
        &self,
        market: &Pubkey,
        reserves: &HashMap<Pubkey, Reserve>,
    ) -> Result<(Pubkey, usize), RpcError> {
        let payer = self.payer.pubkey();
        let wanted = crate::tx::market_table_addresses(market, reserves.iter());
        let chunk = crate::tx::LOOKUP_TABLE_EXTEND_CHUNK;
        let mut sent = 0;
        let (table, missing) = match self.find_market_table(&payer, market).await? {
            Some(t) => (t.key, crate::tx::missing_from_table(&t.addresses, &wanted)),
            None => {
                let slot = self.rpc.get_slot().await.map_err(classify)?;
                let first: Vec<Pubkey> = wanted.iter().take(chunk).copied().collect();
                let (ixs, table) = crate::tx::create_market_table(&payer, slot.saturating_sub(1), first);
                self.send(&ixs, &[]).await?;
                sent += 1;
                (table, wanted.iter().skip(chunk).copied().collect())
            }
        };
        for part in missing.chunks(chunk) {
            self.send(&[crate::tx::extend_market_table(&payer, &table, part.to_vec())], &[]).await?;
            sent += 1;
        }
        Ok((table, sent))
    }

    /// The compute-unit price to bid for a transaction writing `writable`: recent fees paid on
    /// those accounts (75th percentile), between `floor` and `ceiling` micro-lamports.
    pub async fn recent_compute_unit_price(
        &self,
        writable: &[Pubkey],
        floor: u64,
        ceiling: u64,
    ) -> Result<u64, RpcError> {
        let recent = self.rpc.get_recent_prioritization_fees(writable).await.map_err(classify)?;
        let fees: Vec<u64> = recent.iter().map(|f| f.prioritization_fee).collect();
        Ok(crate::tx::compute_unit_price_from_recent(&fees, floor, ceiling))
    }

    /// Builds `ixs` into a v0 transaction paid by the payer (and signed by `signers`), its
    /// accounts loaded from `options.lookup_tables`, and simulates it: a refusal comes back by
    /// name without spending a fee, and the compute-unit limit becomes what the simulation
    /// consumed plus a margin; the price is `options.compute_unit_price`. Refused when it would
    /// not fit a packet. Send it with `send_prepared` (or drop it: nothing was spent).
    pub async fn prepare_v0(
        &self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        options: &SendOptions,
    ) -> Result<Prepared, RpcError> {
        let mut tables = self.lookup_tables(&options.lookup_tables).await?;
        tables.extend(options.loaded_tables.iter().cloned());
        let mut all: Vec<&Keypair> = vec![&self.payer];
        all.extend(signers.iter().copied().filter(|k| k.pubkey() != self.payer.pubkey()));
        let price = options.compute_unit_price;
        let build = |limit: u32, blockhash| -> Result<VersionedTransaction, RpcError> {
            let mut with_budget = crate::tx::compute_budget(limit, price);
            with_budget.extend_from_slice(ixs);
            let message = crate::tx::v0_message(&self.payer.pubkey(), &with_budget, &tables, blockhash)
                .map_err(RpcError::Transaction)?;
            let size = crate::tx::wire_size(&message);
            if size > crate::tx::PACKET_DATA_SIZE {
                return Err(RpcError::Transaction(format!(
                    "the transaction takes {size} bytes, more than a packet's {}: pass the market's lookup table",
                    crate::tx::PACKET_DATA_SIZE
                )));
            }
            VersionedTransaction::try_new(message, &all).map_err(|e| RpcError::Transaction(e.to_string()))
        };
        let blockhash = self.blockhash().await?;
        let probe = build(crate::tx::MAX_COMPUTE_UNIT_LIMIT, blockhash)?;
        let payer = self.payer.pubkey();
        let sent = Sent::message(&probe, &payer);
        let simulated =
            self.rpc.simulate_transaction(&probe).await.map_err(|e| classify_sent(e, &sent))?.value;
        if let Some(err) = simulated.err {
            return Err(transaction_error(err.into(), &simulated.logs.unwrap_or_default(), &sent));
        }
        let consumed = simulated.units_consumed.unwrap_or(crate::tx::MAX_COMPUTE_UNIT_LIMIT as u64);
        let limit = options.compute_unit_limit.unwrap_or_else(|| crate::tx::compute_unit_limit_for(consumed));
        let transaction = build(limit, blockhash)?;
        let signatures = transaction.signatures.len() as u64;
        Ok(Prepared {
            transaction,
            compute_unit_limit: limit,
            compute_unit_price: price,
            simulated_units: consumed,
            fee_lamports: LAMPORTS_PER_SIGNATURE * signatures
                + crate::tx::priority_fee_lamports(limit, price),
        })
    }

    /// Sends a prepared transaction and waits for confirmation.
    pub async fn send_prepared(&self, prepared: &Prepared) -> Result<Signature, RpcError> {
        let payer = self.payer.pubkey();
        let sent = Sent::message(&prepared.transaction, &payer);
        self.rpc
            .send_and_confirm_transaction(&prepared.transaction)
            .await
            .map_err(|e| classify_sent(e, &sent))
    }

    /// Sends a transaction `prepare_v0` just simulated without a second simulation (preflight),
    /// and polls its status every 100 ms until it is confirmed: returns its signature and slot.
    /// What a keeper in a crash needs: the node's preflight and the stock client's 500 ms poll
    /// were half of a liquidation's latency on a busy validator (docs/keeper-bench.md). A failure
    /// on chain comes back by name; a blockhash that expires first is said so.
    pub async fn send_simulated(&self, prepared: &Prepared) -> Result<(Signature, u64), RpcError> {
        let payer = self.payer.pubkey();
        let sent = Sent::message(&prepared.transaction, &payer);
        let config = solana_rpc_client_api::config::RpcSendTransactionConfig {
            skip_preflight: true,
            ..Default::default()
        };
        let signature = self
            .rpc
            .send_transaction_with_config(&prepared.transaction, config)
            .await
            .map_err(|e| classify_sent(e, &sent))?;
        let blockhash = *prepared.transaction.message.recent_blockhash();
        let mut polls = 0u32;
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            polls += 1;
            // A poll that fails (after the transport's own retries) is not the transaction
            // failing: it may have landed. Keep asking until the blockhash says it never will.
            let Ok(status) = self.rpc.get_signature_statuses(&[signature]).await else {
                if polls > 1_200 {
                    return Err(RpcError::Rpc(format!("no status for transaction {signature} in 2 min")));
                }
                continue;
            };
            if let Some(status) = status.value.into_iter().next().flatten() {
                if let Some(err) = status.err {
                    return Err(transaction_error(err, &[], &sent));
                }
                if status.satisfies_commitment(self.rpc.commitment()) {
                    return Ok((signature, status.slot));
                }
                continue;
            }
            // Every 2 s: is the blockhash still valid (else the transaction can never land)?
            if polls.is_multiple_of(20) {
                let valid = self.rpc.is_blockhash_valid(&blockhash, CommitmentConfig::processed()).await;
                if matches!(valid, Ok(false)) || polls > 1_200 {
                    return Err(RpcError::Transaction(format!(
                        "blockhash expired before transaction {signature} landed"
                    )));
                }
            }
        }
    }

    /// `prepare_v0`, then `send_prepared`.
    pub async fn send_v0(
        &self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        options: &SendOptions,
    ) -> Result<(Signature, Prepared), RpcError> {
        let prepared = self.prepare_v0(ixs, signers, options).await?;
        Ok((self.send_prepared(&prepared).await?, prepared))
    }

    /// Simulates a read-only view instruction (`health`, `reserve_status`) and returns the
    /// program's return data. `payer` only has to exist with SOL: nothing is signed (a reader
    /// without a keypair names the market's admin, as the web app does).
    pub async fn simulate_view(&self, ixn: Instruction, payer: &Pubkey) -> Result<Vec<u8>, RpcError> {
        use base64::Engine;
        let sent = Sent::new(std::slice::from_ref(&ixn), payer);
        let tx = Transaction::new_unsigned(solana_message::Message::new(&[ixn], Some(payer)));
        let config = solana_rpc_client_api::config::RpcSimulateTransactionConfig {
            sig_verify: false,
            replace_recent_blockhash: true,
            // (Unset, the node would read finalized state, seconds behind the client's.)
            commitment: Some(self.rpc.commitment()),
            ..Default::default()
        };
        let result = self
            .rpc
            .simulate_transaction_with_config(&tx, config)
            .await
            .map_err(|e| classify_sent(e, &sent))?
            .value;
        if let Some(err) = result.err {
            return Err(transaction_error(err.into(), &result.logs.unwrap_or_default(), &sent));
        }
        let data =
            result.return_data.ok_or_else(|| RpcError::Transaction("the view returned no data".into()))?;
        base64::engine::general_purpose::STANDARD
            .decode(data.data.0)
            .map_err(|e| RpcError::Transaction(format!("return data: {e}")))
    }

    /// Unix time of the cluster's latest block (prices' ages are measured against it).
    pub async fn now(&self) -> Result<i64, RpcError> {
        let slot = self.rpc.get_slot().await.map_err(classify)?;
        match self.rpc.get_block_time(slot).await {
            Ok(t) => Ok(t),
            // A node without the block's time: fall back to the clock sysvar.
            Err(_) => {
                let clock = self.rpc.get_account(&anchor_lang::solana_program::clock::sysvar::ID).await;
                let data = clock.map_err(classify)?.data;
                Ok(i64::from_le_bytes(data[32..40].try_into().expect("clock sysvar layout")))
            }
        }
    }

    pub async fn account_data(&self, key: &Pubkey) -> Result<Option<solana_account::Account>, RpcError> {
        let r = self.rpc.get_multiple_accounts(&[*key]).await.map_err(classify)?;
        Ok(r.into_iter().next().flatten())
    }

    /// The Ballast account of `kind` at `key`, decoded by `decode`; `WrongAccount` in words
    /// when there is none, another program owns it, or it is another kind.
    async fn ballast_account<T, E>(
        &self,
        key: &Pubkey,
        kind: &str,
        decode: impl FnOnce(&[u8]) -> Result<T, E>,
    ) -> Result<T, RpcError> {
        let Some(a) = self.account_data(key).await? else {
            let url = self.rpc.url();
            return Err(RpcError::WrongAccount(format!(
                "{key} is not a Ballast {kind}: no account at that address on {url}"
            )));
        };
        let wrong = || RpcError::WrongAccount(accounts::not_a(kind, key, &a.owner, &a.data));
        if a.owner != ballast::ID {
            return Err(wrong());
        }
        decode(&a.data).map_err(|_| wrong())
    }

    pub async fn market(&self, key: &Pubkey) -> Result<Market, RpcError> {
        self.ballast_account(key, "market", accounts::market).await
    }

    pub async fn reserve(&self, key: &Pubkey) -> Result<Reserve, RpcError> {
        self.ballast_account(key, "reserve", accounts::reserve).await
    }

    pub async fn position(&self, key: &Pubkey) -> Result<Position, RpcError> {
        self.ballast_account(key, "position", accounts::position).await
    }

    /// The symbol each of `mints` names itself by: its Token-2022 `TokenMetadata`, else its
    /// Metaplex metadata account. Mints with neither are left out.
    pub async fn mint_symbols(&self, mints: &[Pubkey]) -> Result<HashMap<Pubkey, String>, RpcError> {
        let mut keys = mints.to_vec();
        keys.extend(mints.iter().map(crate::token::metaplex_metadata_address));
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            found.extend(self.rpc.get_multiple_accounts(chunk).await.map_err(classify)?);
        }
        let (mint_accounts, metadata) = found.split_at(mints.len());
        fn view(a: &Option<solana_account::Account>) -> Option<(Pubkey, &[u8])> {
            a.as_ref().map(|a| (a.owner, a.data.as_slice()))
        }
        Ok(mints
            .iter()
            .enumerate()
            .filter_map(|(i, mint)| {
                Some((*mint, crate::token::mint_symbol(view(&mint_accounts[i]), view(&metadata[i]))?))
            })
            .collect())
    }

    /// Raw accounts of the Ballast program of size `len` whose bytes 8..40 are `market` (the
    /// `market` field leads both `Reserve` and `Position`).
    async fn market_accounts(&self, market: &Pubkey, len: usize) -> Result<Vec<(Pubkey, Vec<u8>)>, RpcError> {
        let config = RpcProgramAccountsConfig {
            filters: Some(vec![
                RpcFilterType::DataSize(len as u64),
                RpcFilterType::Memcmp(Memcmp::new_base58_encoded(8, market.as_ref())),
            ]),
            account_config: RpcAccountInfoConfig {
                encoding: Some(UiAccountEncoding::Base64),
                ..RpcAccountInfoConfig::default()
            },
            ..RpcProgramAccountsConfig::default()
        };
        #[allow(deprecated)] // the replacement returns UI-encoded accounts; we want the bytes
        let found =
            self.rpc.get_program_accounts_with_config(&ballast::ID, config).await.map_err(classify)?;
        Ok(found.into_iter().map(|(k, a)| (k, a.data)).collect())
    }

    /// Every reserve of `market`, by key.
    pub async fn reserves(&self, market: &Pubkey) -> Result<HashMap<Pubkey, Reserve>, RpcError> {
        let len = 8 + core::mem::size_of::<Reserve>();
        let mut out = HashMap::new();
        for (k, data) in self.market_accounts(market, len).await? {
            if let Ok(r) = accounts::reserve(&data) {
                out.insert(k, r);
            }
        }
        Ok(out)
    }

    /// Every position of `market`, as raw bytes (the keeper decodes them in bulk).
    pub async fn position_accounts(&self, market: &Pubkey) -> Result<Vec<(Pubkey, Vec<u8>)>, RpcError> {
        self.market_accounts(market, 8 + core::mem::size_of::<Position>()).await
    }

    /// The oracle account of every reserve: the one its configuration pins (legacy price
    /// account or pull `PriceUpdateV2`); the program reads no other. An account that does not
    /// exist comes back as the program would see it (system-owned, no data): its slots are then
    /// priced as having no price, and the rest of the position still is.
    pub async fn oracles(
        &self,
        reserves: &HashMap<Pubkey, Reserve>,
    ) -> Result<HashMap<Pubkey, OracleAccount>, RpcError> {
        // One request for all of them (a keeper reloads them at every full scan).
        let priced: Vec<(&Pubkey, Pubkey)> = reserves
            .iter()
            .filter(|(_, r)| OracleSource::from_u8(r.oracle.source).is_some())
            .map(|(k, r)| (k, r.oracle.price_account))
            .collect();
        let keys: Vec<Pubkey> = priced.iter().map(|(_, k)| *k).collect();
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            found.extend(self.rpc.get_multiple_accounts(chunk).await.map_err(classify)?);
        }
        let mut out = HashMap::new();
        for ((reserve, key), account) in priced.into_iter().zip(found) {
            let (owner, data) = match account {
                Some(a) => (a.owner, a.data),
                None => (anchor_lang::system_program::ID, Vec::new()),
            };
            out.insert(*reserve, OracleAccount { key, owner, data });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_error_and_keeps_the_programs_last_words() {
        let logs: Vec<String> = [
            "Program Ba11ast invoke [1]",
            "Program log: Instruction: Borrow",
            "Program log: reserve X: price stale by 75 s (max 60)",
            "Program log: AnchorError occurred. Error Code: OracleStale.",
            "Program Ba11ast consumed 21000 of 200000 compute units",
            "Program Ba11ast failed: custom program error: 0x1771",
        ]
        .map(String::from)
        .to_vec();
        let shown = last_log_lines(&logs);
        assert_eq!(shown.len(), LOG_LINES_SHOWN);
        assert!(shown.iter().all(|l| !l.contains(" consumed ")), "{shown:?}");
        assert_eq!(shown.last().unwrap(), "Program Ba11ast failed: custom program error: 0x1771");
        use solana_instruction::error::InstructionError;
        use solana_transaction_error::TransactionError;
        let payer = Pubkey::new_unique();
        let sent = Sent { programs: vec![ballast::ID], payer: &payer };
        let e = transaction_error(
            TransactionError::InstructionError(0, InstructionError::Custom(6001)),
            &logs,
            &sent,
        );
        let text = e.to_string();
        assert!(text.starts_with("program error 6001: "), "{text}");
        assert!(
            text.contains("program log:\n")
                && text.contains("\n  Program log: reserve X: price stale by 75 s"),
            "{text}"
        );
        assert_eq!(e.program_code(), Some(6001));
    }

    use solana_instruction::error::InstructionError;
    use solana_transaction_error::TransactionError;

    fn custom(index: u8, code: u32) -> TransactionError {
        TransactionError::InstructionError(index, InstructionError::Custom(code))
    }

    #[test]
    fn a_token_error_raised_under_ballast_is_named_by_the_token_program() {
        // `repay all` of more than the wallet holds: the token transfer Ballast calls fails.
        let b = ballast::ID;
        let logs = vec![
            "Program ComputeBudget111111111111111111111111111111 success".to_string(),
            format!("Program {b} invoke [1]"),
            "Program log: Instruction: Repay".into(),
            "Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA invoke [2]".into(),
            "Program log: Error: insufficient funds".into(),
            "Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA failed: custom program error: 0x1".into(),
            format!("Program {b} failed: custom program error: 0x1"),
        ];
        let payer = Pubkey::new_unique();
        let sent = Sent { programs: vec![Pubkey::new_unique(), ballast::ID], payer: &payer };
        let e = transaction_error(custom(1, 1), &logs, &sent);
        let text = e.to_string();
        assert!(
            text.starts_with(
                "SPL Token error 1: InsufficientFunds: the token account holds fewer tokens than the amount\nprogram log:"
            ),
            "{text}"
        );
        assert!(text.contains("Error: insufficient funds"), "{text}");
        assert_eq!(e.program_code(), None, "not one of Ballast's codes");
    }

    #[test]
    fn a_custom_error_without_logs_is_named_by_the_failing_instructions_program() {
        let payer = Pubkey::new_unique();
        let sent = Sent {
            programs: vec![
                crate::errors::SYSTEM_PROGRAM,
                crate::token::ASSOCIATED_TOKEN_PROGRAM_ID,
                ballast::ID,
            ],
            payer: &payer,
        };
        let text = transaction_error(custom(0, 1), &[], &sent).to_string();
        assert_eq!(
            text,
            "System error 1: ResultWithNegativeLamports: the paying account has too little SOL for the transfer or the rent"
        );
        let text = transaction_error(custom(1, 0), &[], &sent).to_string();
        assert!(text.starts_with("Associated Token Account error 0: InvalidOwner: "), "{text}");
        // A low code under a Ballast instruction came from a program it called: both readings.
        let text = transaction_error(custom(2, 1), &[], &sent).to_string();
        assert_eq!(
            text,
            "a program Ballast called error 1: custom error 1, i.e. SPL Token / Token-2022: InsufficientFunds: \
             the token account holds fewer tokens than the amount, or System: ResultWithNegativeLamports: \
             the paying account has too little SOL for the transfer or the rent"
        );
        // Ballast's own codes stay Ballast's.
        let code: u32 = ballast::error::BallastError::DepositCapExceeded.into();
        let e = transaction_error(custom(2, code), &[], &sent);
        assert_eq!(e.program_code(), Some(code));
        assert!(e.to_string().contains("DepositCapExceeded"), "{e}");
        // An unknown program's code: its address and the bare code.
        let other = Pubkey::new_unique();
        let sent = Sent { programs: vec![other], payer: &payer };
        assert_eq!(
            transaction_error(custom(0, 7), &[], &sent).to_string(),
            format!("program {other} error 7: custom error 7")
        );
    }

    #[test]
    fn a_fee_payer_without_sol_is_told_to_fund_it() {
        let payer = Pubkey::new_unique();
        let sent = Sent { programs: vec![], payer: &payer };
        // The runtime's words: "Attempt to debit an account but found no record of a prior credit."
        let text = transaction_error(TransactionError::AccountNotFound, &[], &sent).to_string();
        assert_eq!(
            text,
            format!(
                "transaction failed: the fee payer {payer} has no SOL on this cluster (no account at its \
                 address): fund it, e.g. `ballast airdrop 1` on a local validator or devnet, or a transfer"
            )
        );
        let text = transaction_error(TransactionError::InsufficientFundsForFee, &[], &sent).to_string();
        assert!(text.contains(&format!("the fee payer {payer} has too little SOL for the fee")), "{text}");
        assert!(text.contains("ballast airdrop"), "{text}");
        let text =
            transaction_error(TransactionError::InsufficientFundsForRent { account_index: 2 }, &[], &sent)
                .to_string();
        assert!(text.contains("account 2 of the transaction would hold less SOL than rent"), "{text}");
        // Anything else as the runtime says it, without an empty log tail.
        let text = transaction_error(TransactionError::BlockhashNotFound, &[], &sent).to_string();
        assert_eq!(text, format!("transaction failed: {}", TransactionError::BlockhashNotFound));
    }

    #[test]
    fn the_innermost_failing_program_raised_the_error() {
        let b = ballast::ID;
        let logs = [
            format!("Program {b} invoke [1]"),
            "Program TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb failed: custom program error: 0x43".into(),
            format!("Program {b} failed: custom program error: 0x43"),
        ];
        assert_eq!(raising_program(&logs), Some(crate::errors::TOKEN_2022_PROGRAM));
        assert_eq!(raising_program(&logs[..1]), None);
        let payer = Pubkey::new_unique();
        let sent = Sent { programs: vec![ballast::ID], payer: &payer };
        let text = transaction_error(custom(0, 0x43), &logs, &sent).to_string();
        assert!(
            text.starts_with("Token-2022 error 67: MintPaused: the mint is paused by its issuer"),
            "{text}"
        );
    }
}
