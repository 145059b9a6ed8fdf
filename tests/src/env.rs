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

/// Where a test body runs (see the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The program compiled for the host, a builtin of `solana-program-test` 3.1's bank.
    Native,
    /// The deployable `target/deploy/ballast.so` (SIMD-0460 layout) on LiteSVM 0.16 (agave 4.2
    /// runtime) with every feature active: what devnet, testnet and a default
    /// `solana-test-validator` run. Compute units are measured here.
    Sbf,
    /// The old-layout artifact `target/deploy/ballast-v0-gaps.so` (SBPF v0 with stack-frame
    /// gaps) on `solana-program-test` 3.1's bank: mainnet until SIMD-0460 activates there.
    SbfV0Gaps,
}

impl Mode {
    /// The SBF artifact this mode loads, if any.
    pub fn artifact(self) -> Option<PathBuf> {
        match self {
            Mode::Native => None,
            Mode::Sbf => Some(sbf_program_path()),
            Mode::SbfV0Gaps => Some(sbf_program_path().with_file_name("ballast-v0-gaps.so")),
        }
    }
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

/// The runtime a `TestEnv` runs on.
enum Bank {
    /// `solana-program-test` 3.1 (agave 3.1 runtime): native mode and the old-layout artifact.
    ProgramTest(Box<ProgramTestContext>),
    /// LiteSVM 0.16 (agave 4.2 runtime, every feature active): the deployable artifact.
    Svm(Box<litesvm::LiteSVM>),
}

pub struct TestEnv {
    pub mode: Mode,
    bank: Bank,
    payer: Keypair,
    /// `(label, compute units)` of every successful transaction, recorded in SBF mode.
    pub compute_units: Vec<(String, u64)>,
    /// Log lines of the last successful transaction (events are decoded from these).
    pub last_logs: Vec<String>,
    /// Return data of the last successful transaction (views such as `health`).
    pub last_return_data: Vec<u8>,
    sent: HashSet<[u8; 64]>,
    keys_made: u64,
}

/// The outcome of one transaction, whichever bank ran it.
struct Outcome {
    result: Result<(), TxError>,
    units: u64,
    logs: Vec<String>,
    return_data: Vec<u8>,
}

fn read_artifact(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path)
        .unwrap_or_else(|e| panic!("SBF mode needs {} (run scripts/build-sbf.sh): {e}", path.display()))
}

impl TestEnv {
    pub async fn start(mode: Mode) -> Self {
        Self::start_with_programs(mode, &[]).await
    }

    /// Starts a bank with Ballast loaded in `mode` and the extra SBF `programs` (id, `.so` bytes).
    pub async fn start_with_programs(mode: Mode, programs: &[(Pubkey, Vec<u8>)]) -> Self {
        Self::start_inner(mode, mode.artifact(), programs).await
    }

    /// Starts `mode`'s runtime with the SBF artifact at `path` as Ballast, whatever layout it
    /// was linked for (the layout tests load each artifact into the other runtime).
    pub async fn start_with_artifact(mode: Mode, path: PathBuf) -> Self {
        Self::start_with_artifact_and_programs(mode, path, &[]).await
    }

    /// [`Self::start_with_artifact`] with the extra SBF `programs` (id, `.so` bytes).
    pub async fn start_with_artifact_and_programs(
        mode: Mode,
        path: PathBuf,
        programs: &[(Pubkey, Vec<u8>)],
    ) -> Self {
        assert_ne!(mode, Mode::Native, "an SBF runtime");
        Self::start_inner(mode, Some(path), programs).await
    }

    async fn start_inner(mode: Mode, artifact: Option<PathBuf>, programs: &[(Pubkey, Vec<u8>)]) -> Self {
        let bank = match mode {
            Mode::Native | Mode::SbfV0Gaps => {
                let mut pt = ProgramTest::default();
                pt.prefer_bpf(false);
                let sbf = |data: Vec<u8>| Account {
                    lamports: 1_000_000_000,
                    data,
                    owner: solana_sdk_ids::bpf_loader::id(),
                    executable: true,
                    rent_epoch: 0,
                };
                match artifact {
                    None => {
                        pt.add_program("ballast", ballast::ID, solana_program_test::processor!(native_entry))
                    }
                    Some(path) => pt.add_account(ballast::ID, sbf(read_artifact(&path))),
                }
                for (id, data) in programs {
                    pt.add_account(*id, sbf(data.clone()));
                }
                Bank::ProgramTest(Box::new(pt.start_with_context().await))
            }
            Mode::Sbf => {
                // Every feature the runtime knows, as a default `solana-test-validator` (and
                // devnet and testnet) run them: SIMD-0460's layout among them.
                let mut svm = litesvm::LiteSVM::new()
                    .with_feature_set(agave_feature_set::FeatureSet::all_enabled())
                    .with_feature_accounts()
                    .with_builtins()
                    .with_sysvars()
                    .with_default_programs();
                let path = artifact.expect("an SBF artifact");
                let loader = solana_sdk_ids::bpf_loader::id();
                svm.add_program_with_loader(ballast::ID, &read_artifact(&path), loader)
                    .unwrap_or_else(|e| panic!("{} does not load: {e:?}", path.display()));
                for (id, data) in programs {
                    svm.add_program_with_loader(*id, data, loader).expect("program loads");
                }
                Bank::Svm(Box::new(svm))
            }
        };
        let payer = match &bank {
            Bank::ProgramTest(ctx) => ctx.payer.insecure_clone(),
            Bank::Svm(_) => Keypair::new_from_array([0x5b; 32]),
        };
        let mut env = Self {
            mode,
            bank,
            payer,
            compute_units: Vec::new(),
            last_logs: Vec::new(),
            last_return_data: Vec::new(),
            sent: HashSet::new(),
            keys_made: 0,
        };
        if let Bank::Svm(svm) = &mut env.bank {
            let funds = Account {
                lamports: 1_000_000_000_000_000,
                data: vec![],
                owner: solana_sdk_ids::system_program::id(),
                executable: false,
                rent_epoch: 0,
            };
            svm.set_account(env.payer.pubkey(), to_svm_account(funds)).expect("payer");
        }
        env
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
        self.payer.insecure_clone()
    }

    /// Sends `ixs` paid by the bank's payer and signed by `signers`.
    pub async fn send(
        &mut self,
        label: &str,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<u64, TxError> {
        let payer = self.payer.insecure_clone();
        let mut all: Vec<&Keypair> = vec![&payer];
        all.extend(signers.iter().copied().filter(|k| k.pubkey() != payer.pubkey()));
        let mut out = self.process(ixs, &all).await;
        // The same instructions twice in one blockhash would be the same transaction: move on.
        // The bank's blockhash can expire under a long run (program-test advances slots in the
        // background): refresh it and send again.
        let expired = |o: &Option<Outcome>| matches!(o, Some(Outcome { result: Err(TxError::Other(e)), .. }) if e.contains("Blockhash not found"));
        if out.is_none() || expired(&out) {
            self.next_blockhash().await;
            out = self.process(ixs, &all).await;
        }
        let out = out.ok_or_else(|| TxError::Other("duplicate transaction".into()))?;
        match out.result {
            Ok(()) => {
                self.last_return_data = out.return_data;
                self.last_logs = out.logs;
                if self.mode == Mode::Sbf {
                    if std::env::var_os("BALLAST_CU_LOG").is_some() {
                        eprintln!("[cu] {label}: {}", out.units);
                    }
                    self.compute_units.push((label.to_string(), out.units));
                }
                Ok(out.units)
            }
            Err(err) => {
                for line in &out.logs {
                    eprintln!("  {line}");
                }
                Err(err)
            }
        }
    }

    /// Signs and runs `ixs` on the bank; `None` when this exact transaction was sent before.
    async fn process(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Option<Outcome> {
        let payer = self.payer.pubkey();
        match &mut self.bank {
            Bank::ProgramTest(ctx) => {
                let tx = Transaction::new_signed_with_payer(ixs, Some(&payer), signers, ctx.last_blockhash);
                if !self.sent.insert(tx.signatures[0].into()) {
                    return None;
                }
                let out = ctx.banks_client.process_transaction_with_metadata(tx).await;
                let out = match out {
                    Ok(out) => out,
                    Err(e) => {
                        return Some(Outcome {
                            result: Err(match e {
                                BanksClientError::TransactionError(err) => decode(err),
                                other => TxError::Other(other.to_string()),
                            }),
                            units: 0,
                            logs: vec![],
                            return_data: vec![],
                        })
                    }
                };
                let meta = out.metadata;
                Some(Outcome {
                    result: out.result.map_err(decode),
                    units: meta.as_ref().map(|m| m.compute_units_consumed).unwrap_or(0),
                    return_data: meta
                        .as_ref()
                        .and_then(|m| m.return_data.as_ref())
                        .map(|r| r.data.clone())
                        .unwrap_or_default(),
                    logs: meta.map(|m| m.log_messages).unwrap_or_default(),
                })
            }
            Bank::Svm(svm) => {
                let tx = solana_transaction_v4::Transaction::new_signed_with_payer(
                    ixs,
                    Some(&payer),
                    signers,
                    svm.latest_blockhash(),
                );
                if !self.sent.insert(tx.signatures[0].into()) {
                    return None;
                }
                Some(match svm.send_transaction(tx) {
                    Ok(meta) => Outcome {
                        result: Ok(()),
                        units: meta.compute_units_consumed,
                        logs: meta.logs,
                        return_data: meta.return_data.data,
                    },
                    Err(failed) => Outcome {
                        result: Err(decode(failed.err)),
                        units: failed.meta.compute_units_consumed,
                        logs: failed.meta.logs,
                        return_data: vec![],
                    },
                })
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
        match &mut self.bank {
            Bank::ProgramTest(ctx) => {
                let slot = ctx.banks_client.get_root_slot().await.unwrap();
                ctx.warp_to_slot(slot + 2).unwrap();
                ctx.last_blockhash = ctx.banks_client.get_latest_blockhash().await.unwrap();
            }
            Bank::Svm(svm) => svm.expire_blockhash(),
        }
    }

    pub async fn account(&mut self, key: Pubkey) -> Option<Account> {
        match &mut self.bank {
            Bank::ProgramTest(ctx) => ctx.banks_client.get_account(key).await.unwrap(),
            Bank::Svm(svm) => svm.get_account(&key).map(|a| Account {
                lamports: a.lamports,
                data: a.data,
                owner: a.owner,
                executable: a.executable,
                rent_epoch: a.rent_epoch,
            }),
        }
    }

    /// Moves the bank's clock to `unix_timestamp` (prices' ages and interest follow it).
    pub async fn set_clock(&mut self, unix_timestamp: i64) {
        match &mut self.bank {
            Bank::ProgramTest(ctx) => {
                let mut clock: anchor_lang::prelude::Clock = ctx.banks_client.get_sysvar().await.unwrap();
                clock.unix_timestamp = unix_timestamp;
                ctx.set_sysvar(&clock);
            }
            Bank::Svm(svm) => {
                let mut clock: anchor_lang::prelude::Clock = svm.get_sysvar();
                clock.unix_timestamp = unix_timestamp;
                svm.set_sysvar(&clock);
            }
        }
    }

    pub fn set_account(&mut self, key: Pubkey, account: Account) {
        match &mut self.bank {
            Bank::ProgramTest(ctx) => ctx.set_account(&key, &AccountSharedData::from(account)),
            Bank::Svm(svm) => svm.set_account(key, to_svm_account(account)).expect("account set"),
        }
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

impl TestEnv {
    /// Like `expect_failure`, for refusals the runtime makes before any Ballast code runs (an
    /// `init` of an account that exists: the system program's `AccountAlreadyInUse` on agave 4,
    /// "invalid instruction data" on program-test 3.1): the first instruction must fail with no
    /// Ballast error, and every watched account must be unchanged.
    pub async fn expect_runtime_refusal(
        &mut self,
        label: &str,
        ixs: &[Instruction],
        signers: &[&Keypair],
        watched: &[Pubkey],
    ) {
        let before = self.snapshot(watched).await;
        match self.send(label, ixs, signers).await {
            Err(TxError::Custom { instruction: 0, code }) if code < 6_000 => {}
            Err(TxError::Other(e)) if e.contains("Instruction 0") => {}
            other => panic!("{label}: expected the runtime to refuse, got {other:?}"),
        }
        let after = self.snapshot(watched).await;
        assert_eq!(before, after, "{label}: an account changed although the transaction failed");
    }
}

fn decode(err: solana_transaction_error::TransactionError) -> TxError {
    use solana_transaction_error::TransactionError;
    match err {
        TransactionError::InstructionError(i, InstructionError::Custom(code)) => {
            TxError::Custom { instruction: i, code }
        }
        other => TxError::Other(other.to_string()),
    }
}

/// The same account as LiteSVM's (agave 4) account type.
fn to_svm_account(a: Account) -> solana_account_v4::Account {
    solana_account_v4::Account {
        lamports: a.lamports,
        data: a.data,
        owner: a.owner,
        executable: a.executable,
        rent_epoch: a.rent_epoch,
    }
}
