//! Many transactions at once: the benchmark builds a thousand positions in a few thousand v0
//! transactions. Each window of transactions is sent without preflight (the validator's
//! simulation of each would double its work) and then polled until every one has landed; a
//! failure stops the build with the transaction's label and the program's error by name.
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::solana_program::instruction::Instruction;
use ballast_sdk::rpc::Client;
use ballast_sdk::tx::{v0_message, AddressLookupTableAccount};
use solana_keypair::Keypair;
use solana_rpc_client_api::config::RpcSendTransactionConfig;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;

/// One transaction to send: its instructions and signers, the first signer paying its fee.
pub struct Job {
    pub label: String,
    pub instructions: Vec<Instruction>,
    pub signers: Vec<Arc<Keypair>>,
}

/// Transactions sent before the window is polled to its end.
const WINDOW: usize = 256;
/// How long a window may take to land. Nothing is sent twice: a copy with a new blockhash
/// could land beside the first (a second deposit), so a transaction that never lands fails the
/// build instead.
const LAND_WITHIN: Duration = Duration::from_secs(90);

/// The program's error in words: `Name: message` for a Ballast or token program code.
pub fn describe(error: &TransactionError) -> String {
    use solana_instruction::error::InstructionError;
    if let TransactionError::InstructionError(i, InstructionError::Custom(code)) = error {
        if let Some(said) = ballast_sdk::errors::describe(*code) {
            return format!("instruction {i}: {said}");
        }
    }
    format!("{error:?}")
}

/// Signs `job` against `blockhash` with the market's lookup tables.
fn build(
    job: &Job,
    tables: &[AddressLookupTableAccount],
    blockhash: solana_hash::Hash,
) -> Result<VersionedTransaction, String> {
    let payer = job.signers[0].pubkey();
    let message = v0_message(&payer, &job.instructions, tables, blockhash)?;
    let size = ballast_sdk::tx::wire_size(&message);
    if size > ballast_sdk::tx::PACKET_DATA_SIZE {
        return Err(format!("{}: {size} bytes, more than a packet", job.label));
    }
    let signers: Vec<&Keypair> = job.signers.iter().map(|k| k.as_ref()).collect();
    VersionedTransaction::try_new(message, &signers).map_err(|e| format!("{}: {e}", job.label))
}

/// Whether `job` fits one packet with `tables`.
pub fn fits(job: &Job, tables: &[AddressLookupTableAccount]) -> bool {
    build(job, tables, solana_hash::Hash::default()).is_ok()
}

/// Sends every job and waits until each has landed (confirmed); the first failure is the error.
pub async fn send_all(
    client: &Client,
    tables: &[AddressLookupTableAccount],
    jobs: &[Job],
) -> Result<(), String> {
    match send_each(client, tables, jobs).await?.into_iter().next() {
        Some((label, error)) => Err(format!("{label}: {error}")),
        None => Ok(()),
    }
}

/// Sends every job and waits until each has landed or failed; returns the failures (label, the
/// program's error in words).
pub async fn send_each(
    client: &Client,
    tables: &[AddressLookupTableAccount],
    jobs: &[Job],
) -> Result<Vec<(String, String)>, String> {
    let mut failures = Vec::new();
    let config = RpcSendTransactionConfig { skip_preflight: true, ..Default::default() };
    for window in jobs.chunks(WINDOW) {
        let mut pending: Vec<(usize, Signature)> = Vec::with_capacity(window.len());
        let blockhash = client.rpc.get_latest_blockhash().await.map_err(|e| e.to_string())?;
        for (i, job) in window.iter().enumerate() {
            let tx = build(job, tables, blockhash)?;
            let signature =
                client.rpc.send_transaction_with_config(&tx, config).await.map_err(|e| e.to_string())?;
            pending.push((i, signature));
        }
        let started = Instant::now();
        while !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(150)).await;
            let signatures: Vec<Signature> = pending.iter().map(|p| p.1).collect();
            let mut statuses = Vec::with_capacity(signatures.len());
            for chunk in signatures.chunks(256) {
                let got = client.rpc.get_signature_statuses(chunk).await.map_err(|e| e.to_string())?;
                statuses.extend(got.value);
            }
            let mut still = Vec::new();
            for ((i, signature), status) in pending.into_iter().zip(statuses) {
                match status {
                    Some(s) if s.err.is_some() => {
                        let error = s.err.expect("checked");
                        failures.push((window[i].label.clone(), describe(&error)));
                    }
                    Some(s) if s.satisfies_commitment(client.rpc.commitment()) => {}
                    _ => still.push((i, signature)),
                }
            }
            pending = still;
            if started.elapsed() > LAND_WITHIN {
                return Err(format!(
                    "{} transactions did not land in {:?}",
                    pending.len(),
                    started.elapsed()
                ));
            }
        }
    }
    Ok(failures)
}
