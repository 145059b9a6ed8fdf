use anchor_lang::prelude::*;

/// Every failure a user, wallet or keeper can act on.
#[error_code]
pub enum BallastError {
    #[msg("Amount must be greater than zero")]
    ZeroAmount,
    #[msg("Signer is not the market admin")]
    NotMarketAdmin,
    #[msg("Signer does not own this position")]
    NotPositionOwner,
    #[msg("Account belongs to another market")]
    WrongMarket,
    #[msg("Mint account is not the reserve's mint")]
    WrongMint,
    #[msg("Vault account is not the reserve's vault")]
    WrongVault,
    #[msg("Token program is not the one the reserve's mint belongs to")]
    WrongTokenProgram,
    #[msg("The reserve's vault cannot be used as the user's token account")]
    VaultAsUserAccount,
    #[msg("Deposit would exceed the reserve's deposit cap")]
    DepositCapExceeded,
    #[msg("Deposit is worth less than one share")]
    DepositTooSmall,
    #[msg("Withdrawal exceeds what the position holds in this reserve")]
    InsufficientDeposit,
    #[msg("The reserve does not have enough free liquidity")]
    InsufficientLiquidity,
    #[msg("The position has no deposit in this reserve")]
    NoDepositInReserve,
    #[msg("All 16 position slots are in use")]
    PositionFull,
    #[msg("Arithmetic overflow")]
    MathOverflow,
    #[msg("The reserve has no oracle configured")]
    OracleNotConfigured,
    #[msg("Oracle account is not owned by the configured Pyth program")]
    OracleWrongOwner,
    #[msg("Oracle account is not the reserve's price account")]
    OracleWrongAccount,
    #[msg("Price update carries another feed id than the reserve's")]
    OracleWrongFeed,
    #[msg("Price update is only partially verified")]
    OraclePartialVerification,
    #[msg("Oracle account data cannot be decoded")]
    OracleInvalidData,
    #[msg("Legacy price status is not Trading")]
    OracleNotTrading,
    #[msg("Oracle price is zero or negative")]
    OracleNonPositivePrice,
    #[msg("Oracle price exponent is out of range")]
    OracleExponentOutOfRange,
    #[msg("Oracle price is older than the reserve's max age")]
    OracleStale,
    #[msg("Oracle confidence interval is wider than the reserve allows")]
    OracleConfidenceTooWide,
    #[msg("Oracle lag band is wider than the reserve's cap")]
    OracleBandTooWide,
    #[msg("A parameter is outside its on-chain bounds")]
    ParameterOutOfBounds,
    #[msg("Remaining accounts must be (reserve, oracle) for every occupied slot, in slot order")]
    RemainingAccountsMismatch,
    #[msg("The position would not pass initial health")]
    InsufficientCollateral,
    #[msg("Borrowing is not enabled for this reserve")]
    BorrowDisabled,
    #[msg("Borrow would exceed the reserve's borrow cap")]
    BorrowCapExceeded,
    #[msg("The asset's price diverges from its EMA past the pause level: reduce-only")]
    EmaBreakerPaused,
    #[msg("The position holds no debt in this reserve")]
    NoDebtInReserve,
    #[msg("The position would exceed the reserve's per-position concentration limit")]
    ConcentrationLimitExceeded,
    #[msg("Fee destination is not owned by the market's fee receiver")]
    WrongFeeReceiver,
    #[msg("Bad debt wiped out this reserve's depositors: its remaining shares are worth nothing; crank forfeit_worthless_deposit on the positions holding them, then deposit")]
    SharesWithoutAssets,
    #[msg("The position is healthy (maintenance collateral covers maintenance debt): not liquidatable")]
    NotLiquidatable,
    #[msg("The allowed liquidation rounds to zero tokens, or to no whole-token amount that pays the keeper back without lowering the position's health")]
    LiquidationTooSmall,
    #[msg("Repay and seize reserves must differ")]
    SameRepayAndSeizeReserve,
    #[msg("The liquidation would lower the position's health (surplus or health factor): seize the lowest-weight collateral against the highest-borrow-factor debt")]
    LiquidationWorsensHealth,
    #[msg("The position still holds deposits worth the dust threshold or its debt: liquidate them before resolving bad debt")]
    PositionHasDeposits,
    #[msg("Mint account cannot be decoded as an SPL Token or Token-2022 mint")]
    MintInvalid,
    #[msg("The mint carries a Token-2022 extension that is not on the allowlist (named in the log)")]
    MintExtensionNotAllowed,
    #[msg("The mint's DefaultAccountState is Frozen: vault accounts would be frozen")]
    MintDefaultStateFrozen,
    #[msg("The mint charges a transfer fee")]
    MintTransferFee,
    #[msg("The mint has a transfer hook program set")]
    MintTransferHook,
    #[msg("The mint's issuer can claw back or freeze (permanent delegate or freeze authority): list only with allow_issuer_controls")]
    IssuerControlsNotAllowed,
    #[msg("The mint is paused: no deposits, and it counts nothing for initial health")]
    MintPaused,
    #[msg("The reserve's vault token account is frozen by the mint's issuer")]
    VaultFrozen,
    #[msg("A loosening change is already queued for this reserve: apply or cancel it first")]
    ChangePending,
    #[msg("The reserve has no queued change")]
    NoPendingChange,
    #[msg("The queued change's timelock has not elapsed yet")]
    TimelockNotElapsed,
    #[msg("Signer is not the proposed admin")]
    NotPendingAdmin,
    #[msg("The market is paused: no deposits or borrows (repay, withdraw and liquidation stay open)")]
    MarketPaused,
    #[msg("The reserve is paused: no deposits or borrows of it (repay, withdraw and liquidation stay open)")]
    ReservePaused,
    #[msg("The asset's market session is closed: reduce-only until it opens")]
    MarketClosed,
    #[msg("Maintenance haircut plus the session's gap haircut exceeds the initial haircut: the close alone would make positions liquidatable")]
    GapHaircutOverInitial,
    #[msg("The asset's ScaledUiAmount multiplier changes within 15 minutes: reduce-only until the window has passed")]
    MultiplierChangeWindow,
    #[msg("The position owes this asset: repay it instead of depositing it")]
    DepositIntoOwnDebt,
    #[msg("The position has deposits of this asset: withdraw them instead of borrowing it")]
    BorrowAgainstOwnDeposit,
    #[msg("The admin has marked this reserve's price unusable: it backs nothing and cannot be repaid or seized in a liquidation")]
    PriceMarkedUnusable,
    #[msg("The liquidator's position is the position being liquidated")]
    LiquidatorPositionIsTarget,
    #[msg("The position owes a mint whose cached state (multiplier schedule, pause) is over a minute old: put refresh_mint for it in the same transaction")]
    MintCacheStale,
    #[msg(
        "A pull reserve's price account must be the Pyth push oracle's feed account of its feed and shard"
    )]
    OracleNotPushFeed,
}

impl From<ballast_risk::MathError> for BallastError {
    fn from(e: ballast_risk::MathError) -> Self {
        match e {
            ballast_risk::MathError::Overflow => BallastError::MathOverflow,
            ballast_risk::MathError::SharesWithoutAssets => BallastError::SharesWithoutAssets,
        }
    }
}
