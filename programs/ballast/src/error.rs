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
    #[msg("The position has debt: withdrawals need a health check")]
    PositionHasDebt,
    #[msg("Arithmetic overflow")]
    MathOverflow,
    #[msg("Reserve holds shares but no assets")]
    SharesWithoutAssets,
}

impl From<ballast_risk::MathError> for BallastError {
    fn from(e: ballast_risk::MathError) -> Self {
        match e {
            ballast_risk::MathError::Overflow => BallastError::MathOverflow,
            ballast_risk::MathError::SharesWithoutAssets => BallastError::SharesWithoutAssets,
        }
    }
}
