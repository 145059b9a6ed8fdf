//! The two SBF artifacts and the two stack layouts (docs/sbf-build.md): each artifact runs a
//! market on the runtime it is linked for (the `sbf::*` and `sbf_v0_gaps::*` suites) and fails
//! on the other. If a build swapped them, or a runtime moved the layout again, these fail.
use ballast_sdk::ix;
use ballast_tests::{Mode, PricedMarket, TestEnv, TxError};
use solana_signer::Signer;

/// Sends the first instruction a new market needs with the artifact of `built_for` loaded into
/// the runtime of `runtime`.
async fn init_market_with(runtime: Mode, built_for: Mode) -> Result<u64, TxError> {
    let artifact = built_for.artifact().expect("an SBF mode");
    let mut env = TestEnv::start_with_artifact(runtime, artifact).await;
    let admin = env.funded_wallet(1_000_000_000).await;
    let ixn = ix::init_market(admin.pubkey(), 1, anchor_lang::prelude::Pubkey::new_unique());
    env.send("init_market", &[ixn], &[&admin]).await
}

#[tokio::test]
async fn sbf_each_artifact_runs_on_its_own_layout() {
    for mode in [Mode::Sbf, Mode::SbfV0Gaps] {
        assert!(init_market_with(mode, mode).await.is_ok(), "{mode:?} artifact on its own runtime");
        // A whole borrow with its health check, too.
        let mut m = PricedMarket::start(mode).await;
        m.borrow(1_000_000).await.unwrap_or_else(|e| panic!("{mode:?}: borrow {e:?}"));
    }
}

/// The deployable artifact on a runtime with stack-frame gaps (mainnet today) reads its stack
/// arguments from the wrong frame: the VM faults.
#[tokio::test]
async fn sbf_the_simd_0460_artifact_fails_where_stack_frame_gaps_are_in_force() {
    let err = init_market_with(Mode::SbfV0Gaps, Mode::Sbf).await.unwrap_err();
    assert_eq!(err, TxError::Other("Error processing Instruction 0: Program failed to complete".into()));
}

/// The old-layout artifact where SIMD-0460 is active (devnet, testnet, a default local
/// validator): Anchor cannot even decode the instruction (the "program error 102").
#[tokio::test]
async fn sbf_the_stack_frame_gaps_artifact_fails_where_simd_0460_is_active() {
    let err = init_market_with(Mode::Sbf, Mode::SbfV0Gaps).await.unwrap_err();
    let did_not_deserialize = anchor_lang::error::ErrorCode::InstructionDidNotDeserialize as u32;
    assert_eq!(err, TxError::Custom { instruction: 0, code: did_not_deserialize });
}
