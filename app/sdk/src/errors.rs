//! The program's errors in words, from the committed IDL (the test command keeps it fresh), so
//! wallets, the CLI and the keeper can print `DepositCapExceeded: Deposit would exceed ...`
//! instead of `custom program error: 0x1778`.
use std::sync::OnceLock;

use anchor_lang::prelude::Pubkey;

static IDL: &str = include_str!("../../../idl/ballast.json");

fn table() -> &'static Vec<(u32, String, String)> {
    static TABLE: OnceLock<Vec<(u32, String, String)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let idl: serde_json::Value = serde_json::from_str(IDL).expect("committed IDL is valid JSON");
        idl["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| {
                        Some((
                            e["code"].as_u64()? as u32,
                            e["name"].as_str()?.to_string(),
                            e["msg"].as_str().unwrap_or_default().to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// `Name: message` for a Ballast error code, Anchor's own name for framework codes, else `None`.
pub fn describe(code: u32) -> Option<String> {
    if let Some((_, name, msg)) = table().iter().find(|(c, _, _)| *c == code) {
        return Some(format!("{name}: {msg}"));
    }
    use anchor_lang::error::ErrorCode as A;
    // The framework checks a Ballast transaction can fail on.
    [
        A::AccountNotSigner,
        A::AccountNotMutable,
        A::AccountNotInitialized,
        A::AccountOwnedByWrongProgram,
        A::AccountDiscriminatorMismatch,
        A::AccountDidNotDeserialize,
        A::AccountNotEnoughKeys,
        A::InvalidProgramId,
        A::ConstraintSeeds,
        A::ConstraintTokenMint,
        A::ConstraintMintTokenProgram,
        A::ConstraintDuplicateMutableAccount,
        A::InstructionDidNotDeserialize,
        A::InstructionFallbackNotFound,
    ]
    .into_iter()
    .find(|e| u32::from(*e) == code)
    .map(|e| format!("{}: {}", e.name(), e))
}

/// The SPL Token program.
pub const TOKEN_PROGRAM: Pubkey = anchor_lang::pubkey!("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
/// The Token-2022 program.
pub const TOKEN_2022_PROGRAM: Pubkey = anchor_lang::pubkey!("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");
/// The Associated Token Account program.
pub const ASSOCIATED_TOKEN_PROGRAM: Pubkey =
    anchor_lang::pubkey!("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");
/// The System program.
pub const SYSTEM_PROGRAM: Pubkey = anchor_lang::pubkey!("11111111111111111111111111111111");

/// The name of a program a Ballast transaction calls, for messages.
pub fn program_name(program: &Pubkey) -> Option<&'static str> {
    [
        (ballast::ID, "Ballast"),
        (TOKEN_PROGRAM, "SPL Token"),
        (TOKEN_2022_PROGRAM, "Token-2022"),
        (ASSOCIATED_TOKEN_PROGRAM, "Associated Token Account"),
        (SYSTEM_PROGRAM, "System"),
        (anchor_lang::pubkey!("ComputeBudget111111111111111111111111111111"), "Compute Budget"),
        (anchor_lang::pubkey!("AddressLookupTab1e1111111111111111111111111"), "Address Lookup Table"),
    ]
    .into_iter()
    .find(|(id, _)| id == program)
    .map(|(_, name)| name)
}

/// The token programs' error codes (SPL Token's 0–19, which Token-2022 shares), by name, with
/// what they mean for a wallet where the name alone does not say.
const TOKEN_ERRORS: &[(&str, &str)] = &[
    ("NotRentExempt", "the account would hold less SOL than rent exemption needs"),
    ("InsufficientFunds", "the token account holds fewer tokens than the amount"),
    ("InvalidMint", "the mint account is not a valid mint"),
    ("MintMismatch", "the token account is of another mint"),
    ("OwnerMismatch", "the token account's owner is not the one that signed or was expected"),
    ("FixedSupply", "the mint has no mint authority: its supply is fixed"),
    ("AlreadyInUse", "the account is already initialized"),
    ("InvalidNumberOfProvidedSigners", "the multisig signers given do not match"),
    ("InvalidNumberOfRequiredSigners", "the multisig's required signers are out of range"),
    ("UninitializedState", "the token account or mint is not initialized"),
    ("NativeNotSupported", "not allowed on wrapped SOL"),
    ("NonNativeHasBalance", "a token account can be closed only when it is empty"),
    ("InvalidInstruction", "the token program could not read the instruction"),
    ("InvalidState", "the account's state does not allow this"),
    ("Overflow", "the amount overflows"),
    ("AuthorityTypeNotSupported", "that authority type does not apply to this account"),
    ("MintCannotFreeze", "the mint has no freeze authority"),
    ("AccountFrozen", "the token account is frozen by its mint's freeze authority"),
    ("MintDecimalsMismatch", "the decimals given differ from the mint's"),
    ("NonNativeNotSupported", "allowed on wrapped SOL only"),
];

/// Token-2022's own codes, from 20 on (by name; the ones a Ballast user can meet have words in
/// `TOKEN_2022_WORDS`).
const TOKEN_2022_ERRORS: &[&str] = &[
    "ExtensionTypeMismatch",
    "ExtensionBaseMismatch",
    "ExtensionAlreadyInitialized",
    "ConfidentialTransferAccountHasBalance",
    "ConfidentialTransferAccountNotApproved",
    "ConfidentialTransferDepositsAndTransfersDisabled",
    "ConfidentialTransferElGamalPubkeyMismatch",
    "ConfidentialTransferBalanceMismatch",
    "MintHasSupply",
    "NoAuthorityExists",
    "TransferFeeExceedsMaximum",
    "MintRequiredForTransfer",
    "FeeMismatch",
    "FeeParametersMismatch",
    "ImmutableOwner",
    "AccountHasWithheldTransferFees",
    "NoMemo",
    "NonTransferable",
    "NonTransferableNeedsImmutableOwnership",
    "MaximumPendingBalanceCreditCounterExceeded",
    "MaximumDepositAmountExceeded",
    "CpiGuardSettingsLocked",
    "CpiGuardTransferBlocked",
    "CpiGuardBurnBlocked",
    "CpiGuardCloseAccountBlocked",
    "CpiGuardApproveBlocked",
    "CpiGuardSetAuthorityBlocked",
    "CpiGuardOwnerChangeBlocked",
    "ExtensionNotFound",
    "NonConfidentialTransfersDisabled",
    "ConfidentialTransferFeeAccountHasWithheldFee",
    "InvalidExtensionCombination",
    "InvalidLengthForAlloc",
    "AccountDecryption",
    "ProofGeneration",
    "InvalidProofInstructionOffset",
    "HarvestToMintDisabled",
    "SplitProofContextStateAccountsNotSupported",
    "NotEnoughProofContextStateAccounts",
    "MalformedCiphertext",
    "CiphertextArithmeticFailed",
    "PedersenCommitmentMismatch",
    "RangeProofLengthMismatch",
    "IllegalBitLength",
    "FeeCalculation",
    "IllegalMintBurnConversion",
    "InvalidScale",
    "MintPaused",
    "PendingBalanceNonZero",
];

const TOKEN_2022_WORDS: &[(&str, &str)] = &[
    ("NoMemo", "the receiving account requires a memo before each transfer"),
    ("NonTransferable", "the mint's tokens cannot be transferred"),
    ("CpiGuardTransferBlocked", "the token account's CPI guard refuses transfers by a program"),
    ("MintPaused", "the mint is paused by its issuer: no transfer, mint or burn"),
    ("InvalidScale", "the mint's scaled UI amount multiplier is invalid"),
];

/// The System program's codes.
const SYSTEM_ERRORS: &[(&str, &str)] = &[
    ("AccountAlreadyInUse", "the account to create already exists"),
    ("ResultWithNegativeLamports", "the paying account has too little SOL for the transfer or the rent"),
    ("InvalidProgramId", "the new account's owner program is not allowed"),
    ("InvalidAccountDataLength", "the account size is out of range"),
    ("MaxSeedLengthExceeded", "a seed is longer than 32 bytes"),
    ("AddressWithSeedMismatch", "the address does not derive from the base and seed"),
    ("NonceNoRecentBlockhashes", "no recent blockhash for the nonce"),
    ("NonceBlockhashNotExpired", "the nonce's blockhash has not expired yet"),
    ("NonceUnexpectedBlockhashValue", "the nonce does not hold the expected blockhash"),
];

/// `Name: what it means` for custom error `code` raised by `program` (one of the programs a
/// Ballast transaction calls), or `None` for a code the program does not define.
pub fn describe_program_error(program: &Pubkey, code: u32) -> Option<String> {
    let i = code as usize;
    let (name, words) = if *program == ballast::ID {
        return describe(code);
    } else if *program == TOKEN_PROGRAM || *program == TOKEN_2022_PROGRAM {
        match TOKEN_ERRORS.get(i) {
            Some(&(name, words)) => (name, Some(words)),
            None if *program == TOKEN_2022_PROGRAM => {
                let name = *TOKEN_2022_ERRORS.get(i - TOKEN_ERRORS.len())?;
                (name, TOKEN_2022_WORDS.iter().find(|(n, _)| *n == name).map(|(_, w)| *w))
            }
            None => return None,
        }
    } else if *program == SYSTEM_PROGRAM {
        let &(name, words) = SYSTEM_ERRORS.get(i)?;
        (name, Some(words))
    } else if *program == ASSOCIATED_TOKEN_PROGRAM {
        // Its one own error; anything else it fails with comes from the programs it calls.
        (code == 0).then_some(())?;
        ("InvalidOwner", Some("the associated token account's owner does not match its address"))
    } else {
        return None;
    };
    Some(match words {
        Some(words) => format!("{name}: {words}"),
        None => name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ballast::error::BallastError;

    #[test]
    fn every_program_error_is_described() {
        let code: u32 = BallastError::DepositCapExceeded.into();
        assert_eq!(
            describe(code).unwrap(),
            "DepositCapExceeded: Deposit would exceed the reserve's deposit cap"
        );
        let code: u32 = BallastError::SharesWithoutAssets.into();
        assert!(describe(code).unwrap().starts_with("SharesWithoutAssets"));
        assert!(describe(3010).unwrap().starts_with("AccountNotSigner"));
        assert_eq!(describe(1), None);
    }

    #[test]
    fn token_and_system_codes_are_named_by_the_program_that_raised_them() {
        let words = |program: &Pubkey, code| describe_program_error(program, code).unwrap();
        assert_eq!(
            words(&TOKEN_PROGRAM, 1),
            "InsufficientFunds: the token account holds fewer tokens than the amount"
        );
        assert_eq!(words(&TOKEN_2022_PROGRAM, 1), words(&TOKEN_PROGRAM, 1), "shared codes");
        assert!(words(&TOKEN_PROGRAM, 0).starts_with("NotRentExempt: "));
        assert!(words(&TOKEN_PROGRAM, 3).starts_with("MintMismatch: "));
        assert!(words(&TOKEN_PROGRAM, 4).starts_with("OwnerMismatch: "));
        assert!(words(&TOKEN_PROGRAM, 17).starts_with("AccountFrozen: "));
        assert_eq!(describe_program_error(&TOKEN_PROGRAM, 20), None, "SPL Token stops at 19");
        assert_eq!(words(&TOKEN_2022_PROGRAM, 20), "ExtensionTypeMismatch");
        assert!(words(&TOKEN_2022_PROGRAM, 67).starts_with("MintPaused: the mint is paused"));
        assert_eq!(describe_program_error(&TOKEN_2022_PROGRAM, 69), None);
        assert_eq!(words(&SYSTEM_PROGRAM, 0), "AccountAlreadyInUse: the account to create already exists");
        assert!(words(&SYSTEM_PROGRAM, 1).starts_with("ResultWithNegativeLamports: "));
        assert!(words(&ASSOCIATED_TOKEN_PROGRAM, 0).starts_with("InvalidOwner: "));
        assert_eq!(describe_program_error(&ASSOCIATED_TOKEN_PROGRAM, 1), None);
        let code: u32 = BallastError::DepositCapExceeded.into();
        assert_eq!(describe_program_error(&ballast::ID, code), describe(code));
        assert_eq!(describe_program_error(&Pubkey::new_unique(), 1), None, "an unknown program");
        assert_eq!(program_name(&TOKEN_2022_PROGRAM), Some("Token-2022"));
    }
}
