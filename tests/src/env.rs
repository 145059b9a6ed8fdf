//! The bank, transaction sending, error decoding and state snapshots.
use std::collections::HashSet;
use std::path::PathBuf;

use anchor_lang::prelude::{AccountInfo, Pubkey};
use anchor_lang::solana_program::entrypoint::ProgramResult;
use anchor_lang::solana_program::instruction::Instruction;
use solana_account::{Account, AccountSharedData};
use solana_instruction::error::InstructionError;
use solana_keypair::Keypair;
use solana_program_test::{BanksClientError, ProgramTest, ProgramTestContext};
use solana_signer::Signer;
use solana_transaction::Transaction;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Native,
    Sbf,
}

/// A transaction failure, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxError {
    /// An instruction returned `Custom(code)`: Anchor framework errors (< 6000) and Ballast's.
    Custom { instruction: u8, code: u32 },
    /// Any other failure, as the runtime reported it.
    Other(String),
}

/// Path of the SBF program the tests load.
pub fn sbf_program_path() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    std::env::var_os("BALLAST_SO").map(PathBuf::from).unwrap_or_else(|| root.join("target/deploy/ballast.so"))
}

/// Native entry point with independent lifetimes, as `processor!` requires.
fn native_entry<'a, 'b, 'c, 'd>(
    program_id: &'a Pubkey,
    accounts: &'b [AccountInfo<'c>],
    data: &'d [u8],
) -> ProgramResult {
    // SAFETY: Anchor 1.x's `entry` ties the program id, the account slice, the accounts' data and
    // the instruction data to one lifetime. The runtime keeps all of them alive for the whole
    // call, so giving them one name extends nothing past its real life.
    unsafe {
        let program_id = core::mem::transmute::<&'a Pubkey, &'c Pubkey>(program_id);
        let accounts = core::mem::transmute::<&'b [AccountInfo<'c>], &'c [AccountInfo<'c>]>(accounts);
        let data = core::mem::transmute::<&'d [u8], &'c [u8]>(data);
        ballast::entry(program_id, accounts, data)
    }
}

pub struct TestEnv {
    pub mode: Mode,
    pub ctx: ProgramTestContext,
    /// `(label, compute units)` of every successful transaction, recorded in SBF mode.
    pub compute_units: Vec<(String, u64)>,
    /// Log lines of the last successful transaction (events are decoded from these).
    pub last_logs: Vec<String>,
    /// Return data of the last successful transaction (views such as `health`).
    pub last_return_data: Vec<u8>,
    sent: HashSet<[u8; 64]>,
    keys_made: u64,
}

impl TestEnv {
    pub async fn start(mode: Mode) -> Self {
        Self::start_with(mode, |_| {}).await
    }

    /// Starts a bank with the program loaded in `mode`; `setup` may add accounts first.
    pub async fn start_with(mode: Mode, setup: impl FnOnce(&mut ProgramTest)) -> Self {
        let mut pt = ProgramTest::default();
        pt.prefer_bpf(false);
        match mode {
            Mode::Native => {
                pt.add_program("ballast", ballast::ID, solana_program_test::processor!(native_entry));
            }
            Mode::Sbf => {
                let path = sbf_program_path();
                let data = std::fs::read(&path).unwrap_or_else(|e| {
                    panic!("SBF mode needs {} (run scripts/build-sbf.sh): {e}", path.display())
                });
                pt.add_account(
                    ballast::ID,
                    Account {
                        lamports: 1_000_000_000,
                        data,
                        owner: solana_sdk_ids::bpf_loader::id(),
                        executable: true,
                        rent_epoch: 0,
                    },
                );
            }
        }
        setup(&mut pt);
        let ctx = pt.start_with_context().await;
        Self {
            mode,
            ctx,
            compute_units: Vec::new(),
            last_logs: Vec::new(),
            last_return_data: Vec::new(),
            sent: HashSet::new(),
            keys_made: 0,
        }
    }

    /// A new keypair, the same sequence in every run: PDA bump searches (and so compute units)
    /// are then reproducible.
    pub fn keypair(&mut self) -> Keypair {
        self.keys_made += 1;
        let mut secret = [0x5a; 32];
        secret[..8].copy_from_slice(&self.keys_made.to_le_bytes());
        Keypair::new_from_array(secret)
    }

    pub fn payer(&self) -> Keypair {
        self.ctx.payer.insecure_clone()
    }

    /// Sends `ixs` paid by the bank's payer and signed by `signers`.
    pub async fn send(
        &mut self,
        label: &str,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<u64, TxError> {
        let payer = self.ctx.payer.insecure_clone();
        let mut all: Vec<&Keypair> = vec![&payer];
        all.extend(signers.iter().copied().filter(|k| k.pubkey() != payer.pubkey()));
        let mut tx =
            Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), &all, self.ctx.last_blockhash);
        // The same instructions twice in one blockhash would be the same transaction: move on.
        if !self.sent.insert(tx.signatures[0].into()) {
            self.next_blockhash().await;
            tx =
                Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), &all, self.ctx.last_blockhash);
            self.sent.insert(tx.signatures[0].into());
        }
        let out = self
            .ctx
            .banks_client
            .process_transaction_with_metadata(tx)
            .await
            .map_err(|e| TxError::Other(e.to_string()))?;
        let units = out.metadata.as_ref().map(|m| m.compute_units_consumed).unwrap_or(0);
        match out.result {
            Ok(()) => {
                let meta = out.metadata;
                self.last_return_data = meta
                    .as_ref()
                    .and_then(|m| m.return_data.as_ref())
                    .map(|r| r.data.clone())
                    .unwrap_or_default();
                self.last_logs = meta.map(|m| m.log_messages).unwrap_or_default();
                if self.mode == Mode::Sbf {
                    eprintln!("[cu] {label}: {units}");
                    self.compute_units.push((label.to_string(), units));
                }
                Ok(units)
            }
            Err(err) => {
                if let Some(m) = &out.metadata {
                    for line in &m.log_messages {
                        eprintln!("  {line}");
                    }
                }
                Err(decode(BanksClientError::TransactionError(err)))
            }
        }
    }

    /// Events of type `T` emitted by the last successful transaction. Only SBF programs write
    /// to the bank's log collector: a native build's logs go to the host's stdout, so in native
    /// mode this is always empty.
    pub fn events<T: anchor_lang::AnchorDeserialize + anchor_lang::Discriminator>(&self) -> Vec<T> {
        ballast_sdk::events::parse(&self.last_logs)
    }

    async fn next_blockhash(&mut self) {
        let slot = self.ctx.banks_client.get_root_slot().await.unwrap();
        self.ctx.warp_to_slot(slot + 2).unwrap();
        self.ctx.last_blockhash = self.ctx.banks_client.get_latest_blockhash().await.unwrap();
    }

    pub async fn account(&mut self, key: Pubkey) -> Option<Account> {
        self.ctx.banks_client.get_account(key).await.unwrap()
    }

    /// Moves the bank's clock to `unix_timestamp` (prices' ages and interest follow it).
    pub async fn set_clock(&mut self, unix_timestamp: i64) {
        let mut clock: anchor_lang::prelude::Clock = self.ctx.banks_client.get_sysvar().await.unwrap();
        clock.unix_timestamp = unix_timestamp;
        self.ctx.set_sysvar(&clock);
    }

    pub fn set_account(&mut self, key: Pubkey, account: Account) {
        self.ctx.set_account(&key, &AccountSharedData::from(account));
    }

    /// Bytes and lamports of `keys`, to prove a failed transaction changed nothing.
    pub async fn snapshot(&mut self, keys: &[Pubkey]) -> Vec<Option<(u64, Vec<u8>)>> {
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            out.push(self.account(*k).await.map(|a| (a.lamports, a.data)));
        }
        out
    }

    /// Sends a transaction that must fail with `expected` and leave every account in `watched`
    /// exactly as it was.
    pub async fn expect_failure(
        &mut self,
        label: &str,
        ixs: &[Instruction],
        signers: &[&Keypair],
        expected: impl Into<u32>,
        watched: &[Pubkey],
    ) {
        let before = self.snapshot(watched).await;
        let code = expected.into();
        match self.send(label, ixs, signers).await {
            Err(TxError::Custom { code: got, .. }) => assert_eq!(
                got,
                code,
                "{label}: expected {:?}, got {:?}",
                ballast_sdk::errors::describe(code),
                ballast_sdk::errors::describe(got)
            ),
            other => panic!("{label}: expected {:?}, got {other:?}", ballast_sdk::errors::describe(code)),
        }
        let after = self.snapshot(watched).await;
        for (i, (b, a)) in before.iter().zip(after.iter()).enumerate() {
            assert_eq!(b, a, "{label}: account {} changed although the transaction failed", watched[i]);
        }
    }
}

fn decode(err: BanksClientError) -> TxError {
    use solana_transaction_error::TransactionError;
    match err {
        BanksClientError::TransactionError(TransactionError::InstructionError(
            i,
            InstructionError::Custom(code),
        )) => TxError::Custom { instruction: i, code },
        other => TxError::Other(other.to_string()),
    }
}
