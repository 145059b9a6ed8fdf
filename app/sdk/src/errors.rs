//! The program's errors in words, from the committed IDL (the test command keeps it fresh), so
//! wallets, the CLI and the keeper can print `DepositCapExceeded: Deposit would exceed ...`
//! instead of `custom program error: 0x1778`.
use std::sync::OnceLock;

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
}
