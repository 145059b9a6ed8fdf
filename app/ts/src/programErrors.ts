/**
 * The errors of the programs a Ballast transaction calls besides Ballast (SPL Token, Token-2022,
 * System, Associated Token Account) and Anchor's framework codes, in the Rust SDK's words
 * (app/sdk/src/errors.rs). The SDK is the source: the client's tests compare every code of every
 * program here with what the SDK says (`ts-fixtures`' `program_errors`, `framework_errors`), so a
 * change there fails them until it is made here too.
 */

export const TOKEN_PROGRAM_ADDRESS = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA';
export const TOKEN_2022_PROGRAM_ADDRESS = 'TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb';
export const ASSOCIATED_TOKEN_PROGRAM = 'ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL';
export const SYSTEM_PROGRAM = '11111111111111111111111111111111';

/** Names of the programs a Ballast transaction calls, by address (Ballast's is added by
 * `programName`, from the generated client). */
export const PROGRAM_NAMES: Readonly<Record<string, string>> = {
  [TOKEN_PROGRAM_ADDRESS]: 'SPL Token',
  [TOKEN_2022_PROGRAM_ADDRESS]: 'Token-2022',
  [ASSOCIATED_TOKEN_PROGRAM]: 'Associated Token Account',
  [SYSTEM_PROGRAM]: 'System',
  ComputeBudget111111111111111111111111111111: 'Compute Budget',
  AddressLookupTab1e1111111111111111111111111: 'Address Lookup Table',
};

/** SPL Token's codes 0–19 (Token-2022 shares them): name and what it means for a wallet. */
export const TOKEN_ERRORS: readonly (readonly [string, string])[] = [
  ['NotRentExempt', 'the account would hold less SOL than rent exemption needs'],
  ['InsufficientFunds', 'the token account holds fewer tokens than the amount'],
  ['InvalidMint', 'the mint account is not a valid mint'],
  ['MintMismatch', 'the token account is of another mint'],
  ['OwnerMismatch', "the token account's owner is not the one that signed or was expected"],
  ['FixedSupply', 'the mint has no mint authority: its supply is fixed'],
  ['AlreadyInUse', 'the account is already initialized'],
  ['InvalidNumberOfProvidedSigners', 'the multisig signers given do not match'],
  ['InvalidNumberOfRequiredSigners', "the multisig's required signers are out of range"],
  ['UninitializedState', 'the token account or mint is not initialized'],
  ['NativeNotSupported', 'not allowed on wrapped SOL'],
  ['NonNativeHasBalance', 'a token account can be closed only when it is empty'],
  ['InvalidInstruction', 'the token program could not read the instruction'],
  ['InvalidState', "the account's state does not allow this"],
  ['Overflow', 'the amount overflows'],
  ['AuthorityTypeNotSupported', 'that authority type does not apply to this account'],
  ['MintCannotFreeze', 'the mint has no freeze authority'],
  ['AccountFrozen', "the token account is frozen by its mint's freeze authority"],
  ['MintDecimalsMismatch', "the decimals given differ from the mint's"],
  ['NonNativeNotSupported', 'allowed on wrapped SOL only'],
];

/** Token-2022's own codes, from 20 on. */
export const TOKEN_2022_ERRORS: readonly string[] = [
  'ExtensionTypeMismatch',
  'ExtensionBaseMismatch',
  'ExtensionAlreadyInitialized',
  'ConfidentialTransferAccountHasBalance',
  'ConfidentialTransferAccountNotApproved',
  'ConfidentialTransferDepositsAndTransfersDisabled',
  'ConfidentialTransferElGamalPubkeyMismatch',
  'ConfidentialTransferBalanceMismatch',
  'MintHasSupply',
  'NoAuthorityExists',
  'TransferFeeExceedsMaximum',
  'MintRequiredForTransfer',
  'FeeMismatch',
  'FeeParametersMismatch',
  'ImmutableOwner',
  'AccountHasWithheldTransferFees',
  'NoMemo',
  'NonTransferable',
  'NonTransferableNeedsImmutableOwnership',
  'MaximumPendingBalanceCreditCounterExceeded',
  'MaximumDepositAmountExceeded',
  'CpiGuardSettingsLocked',
  'CpiGuardTransferBlocked',
  'CpiGuardBurnBlocked',
  'CpiGuardCloseAccountBlocked',
  'CpiGuardApproveBlocked',
  'CpiGuardSetAuthorityBlocked',
  'CpiGuardOwnerChangeBlocked',
  'ExtensionNotFound',
  'NonConfidentialTransfersDisabled',
  'ConfidentialTransferFeeAccountHasWithheldFee',
  'InvalidExtensionCombination',
  'InvalidLengthForAlloc',
  'AccountDecryption',
  'ProofGeneration',
  'InvalidProofInstructionOffset',
  'HarvestToMintDisabled',
  'SplitProofContextStateAccountsNotSupported',
  'NotEnoughProofContextStateAccounts',
  'MalformedCiphertext',
  'CiphertextArithmeticFailed',
  'PedersenCommitmentMismatch',
  'RangeProofLengthMismatch',
  'IllegalBitLength',
  'FeeCalculation',
  'IllegalMintBurnConversion',
  'InvalidScale',
  'MintPaused',
  'PendingBalanceNonZero',
];

/** Words for the Token-2022 codes a Ballast user can meet. */
export const TOKEN_2022_WORDS: Readonly<Record<string, string>> = {
  NoMemo: 'the receiving account requires a memo before each transfer',
  NonTransferable: "the mint's tokens cannot be transferred",
  CpiGuardTransferBlocked: "the token account's CPI guard refuses transfers by a program",
  MintPaused: 'the mint is paused by its issuer: no transfer, mint or burn',
  InvalidScale: "the mint's scaled UI amount multiplier is invalid",
};

/** The System program's codes. */
export const SYSTEM_ERRORS: readonly (readonly [string, string])[] = [
  ['AccountAlreadyInUse', 'the account to create already exists'],
  ['ResultWithNegativeLamports', 'the paying account has too little SOL for the transfer or the rent'],
  ['InvalidProgramId', "the new account's owner program is not allowed"],
  ['InvalidAccountDataLength', 'the account size is out of range'],
  ['MaxSeedLengthExceeded', 'a seed is longer than 32 bytes'],
  ['AddressWithSeedMismatch', 'the address does not derive from the base and seed'],
  ['NonceNoRecentBlockhashes', 'no recent blockhash for the nonce'],
  ['NonceBlockhashNotExpired', "the nonce's blockhash has not expired yet"],
  ['NonceUnexpectedBlockhashValue', 'the nonce does not hold the expected blockhash'],
];

/** The Associated Token Account program's one own code. */
export const ASSOCIATED_TOKEN_ERRORS: readonly (readonly [string, string])[] = [
  ['InvalidOwner', "the associated token account's owner does not match its address"],
];

/** Anchor's framework checks a Ballast transaction can fail on: code, name, Anchor's message. */
export const FRAMEWORK_ERRORS: Readonly<Record<number, readonly [string, string]>> = {
  101: ['InstructionFallbackNotFound', 'Fallback functions are not supported'],
  102: ['InstructionDidNotDeserialize', 'The program could not deserialize the given instruction'],
  2006: ['ConstraintSeeds', 'A seeds constraint was violated'],
  2014: ['ConstraintTokenMint', 'A token mint constraint was violated'],
  2022: ['ConstraintMintTokenProgram', 'A mint token program constraint was violated'],
  2040: ['ConstraintDuplicateMutableAccount', 'A duplicate mutable account constraint was violated'],
  3002: ['AccountDiscriminatorMismatch', 'Account discriminator did not match what was expected'],
  3003: ['AccountDidNotDeserialize', 'Failed to deserialize the account'],
  3005: ['AccountNotEnoughKeys', 'Not enough account keys given to the instruction'],
  3006: ['AccountNotMutable', 'The given account is not mutable'],
  3007: ['AccountOwnedByWrongProgram', 'The given account is owned by a different program than expected'],
  3008: ['InvalidProgramId', 'Program ID was not as expected'],
  3010: ['AccountNotSigner', 'The given account did not sign'],
  3012: ['AccountNotInitialized', 'The program expected this account to be already initialized'],
};
