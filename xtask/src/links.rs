//! How a client finds an instruction's accounts: the relations and PDAs the IDL carries.
//!
//! The program checks its account links in the handlers and in one-read constraints (cheaper
//! than `has_one`, docs/compute-units.md), and Anchor's IDL build only sees `has_one` and
//! `seeds`. This table gives the IDL back every link a client can resolve, without a runtime
//! check of its own: each entry names the program check it mirrors, and the tests below hold
//! every entry to the program's seeds constants, its account layouts and that check.
//!
//! The IDL also lists every instruction's accounts flat (`tokens.reserve` becomes `reserve`,
//! `repay.reserve` becomes `repay_reserve`: the names the generated client uses), since Anchor's
//! TypeScript resolver reads relations and seeds only among accounts of one level, and the
//! market of a deposit is known from its reserve one level down. The accounts and their order
//! on the wire are unchanged.
use anchor_lang_idl::types::{
    Idl, IdlInstructionAccount, IdlInstructionAccountItem, IdlPda, IdlSeed, IdlSeedAccount, IdlSeedConst,
};

/// The Associated Token Account program: a wallet's token account of a mint, by default.
pub const ASSOCIATED_TOKEN_PROGRAM: &str = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL";

/// One seed of a PDA.
#[derive(Debug, Clone, Copy)]
pub enum Seed {
    /// Constant bytes (the program's `*_SEED`).
    Const(&'static [u8]),
    /// The address of another account of the instruction.
    Account(&'static str),
    /// A pubkey field of another account's data: (account, its type, field).
    Field(&'static str, &'static str, &'static str),
    /// A constant little-endian u32 (a position's index).
    U32(u32),
}

/// Which program derives the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deriver {
    Ballast,
    AssociatedToken,
}

/// Where the program checks a link: a source file under `programs/ballast/src/` and the text
/// of the check in it.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    pub file: &'static str,
    pub text: &'static str,
}

impl Check {
    /// Whether the program's source under `src` still makes this check (whitespace aside).
    pub fn holds_in(&self, src: &str) -> Result<(), String> {
        let path = format!("{src}/{}", self.file);
        let source = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        let squeezed = |s: &str| s.split_whitespace().collect::<String>();
        if squeezed(&source).contains(&squeezed(self.text)) {
            Ok(())
        } else {
            Err(format!(
                "links: the program no longer checks `{}` in {}: update xtask/src/links.rs",
                self.text, self.file
            ))
        }
    }
}

/// One account's resolution: the accounts whose data name it (`relations`: the related
/// account's field of this account's name) and its PDA.
#[derive(Debug, Clone, Copy)]
pub struct Link {
    pub instruction: &'static str,
    pub account: &'static str,
    pub relations: &'static [&'static str],
    pub pda: Option<(Deriver, &'static [Seed])>,
    /// The program's check that makes every address this entry resolves the one it accepts.
    pub checked_by: Check,
}

const TOKENS: &str = "instructions/reserve_tokens.rs";
const RESERVE_MATCH: Check =
    Check { file: TOKENS, text: "require_same_key(&reserve.mint, mint, BallastError::WrongMint)" };
const VAULT_MATCH: Check =
    Check { file: TOKENS, text: "require_same_key(&reserve.vault, vault, BallastError::WrongVault)" };
const PROGRAM_MATCH: Check = Check {
    file: TOKENS,
    text: "require_same_key(&reserve.token_program, token_program, BallastError::WrongTokenProgram)",
};
const USER_TOKEN_MINT: Check = Check {
    file: TOKENS,
    text: "same_key(&token_account(&user_token_account, token_program.key)?.mint, mint.key)",
};
const POSITION_OWNER: Check = Check { file: TOKENS, text: "require_keys_eq!(position.owner, *owner" };
const POSITION_MARKET: Check = Check { file: TOKENS, text: "require_keys_eq!(position.market, *market" };
const RESERVE_MARKET: Check = Check { file: TOKENS, text: "tokens.reserve.load()?.market == market.key()" };

const RESERVE_PDA: &[Seed] = &[Seed::Const(b"reserve"), Seed::Account("market"), Seed::Account("mint")];
const VAULT_PDA: &[Seed] = &[Seed::Const(b"vault"), Seed::Account("reserve")];
const INSURANCE_PDA: &[Seed] = &[Seed::Const(b"insurance"), Seed::Account("reserve")];
/// A wallet's first position in a market (index 0, as the CLI and the web app open it); the
/// program takes any position of the owner in the market, so a client may pass another.
const OWN_POSITION_PDA: &[Seed] =
    &[Seed::Const(b"position"), Seed::Account("market"), Seed::Account("owner"), Seed::U32(0)];

/// deposit, withdraw and borrow share their accounts (`PositionTokens`).
macro_rules! position_tokens {
    ($ix:literal) => {
        [
            Link {
                instruction: $ix,
                account: "owner",
                relations: &["position"],
                pda: None,
                checked_by: POSITION_OWNER,
            },
            Link {
                instruction: $ix,
                account: "market",
                relations: &["reserve", "position"],
                pda: None,
                checked_by: RESERVE_MARKET,
            },
            Link {
                instruction: $ix,
                account: "position",
                relations: &[],
                pda: Some((Deriver::Ballast, OWN_POSITION_PDA)),
                checked_by: POSITION_MARKET,
            },
            Link {
                instruction: $ix,
                account: "reserve",
                relations: &[],
                pda: Some((Deriver::Ballast, RESERVE_PDA)),
                checked_by: RESERVE_MARKET,
            },
            Link {
                instruction: $ix,
                account: "mint",
                relations: &["reserve"],
                pda: None,
                checked_by: RESERVE_MATCH,
            },
            Link {
                instruction: $ix,
                account: "vault",
                relations: &["reserve"],
                pda: Some((Deriver::Ballast, VAULT_PDA)),
                checked_by: VAULT_MATCH,
            },
            Link {
                instruction: $ix,
                account: "user_token_account",
                relations: &[],
                pda: Some((
                    Deriver::AssociatedToken,
                    &[Seed::Account("owner"), Seed::Account("token_program"), Seed::Account("mint")],
                )),
                checked_by: USER_TOKEN_MINT,
            },
            Link {
                instruction: $ix,
                account: "token_program",
                relations: &["reserve"],
                pda: None,
                checked_by: PROGRAM_MATCH,
            },
        ]
    };
}

/// One side of a liquidation (`repay_*` or `seize_*`): the reserve from its mint and the
/// position's market, the vault from the reserve, the liquidator's token account by default.
macro_rules! liquidation_side {
    ($side:literal, $market_check:literal) => {
        [
            Link {
                instruction: "liquidate",
                account: concat!($side, "_reserve"),
                relations: &[],
                pda: Some((
                    Deriver::Ballast,
                    &[
                        Seed::Const(b"reserve"),
                        Seed::Account("market"),
                        Seed::Account(concat!($side, "_mint")),
                    ],
                )),
                checked_by: Check { file: "instructions/liquidate.rs", text: $market_check },
            },
            Link {
                instruction: "liquidate",
                account: concat!($side, "_vault"),
                relations: &[],
                pda: Some((
                    Deriver::Ballast,
                    &[Seed::Const(b"vault"), Seed::Account(concat!($side, "_reserve"))],
                )),
                checked_by: VAULT_MATCH,
            },
            Link {
                instruction: "liquidate",
                account: concat!($side, "_user_token_account"),
                relations: &[],
                pda: Some((
                    Deriver::AssociatedToken,
                    &[
                        Seed::Account("liquidator"),
                        Seed::Account(concat!($side, "_token_program")),
                        Seed::Account(concat!($side, "_mint")),
                    ],
                )),
                checked_by: USER_TOKEN_MINT,
            },
        ]
    };
}

/// Every link the IDL carries beyond what Anchor's build finds.
pub fn table() -> Vec<Link> {
    let mut links = Vec::new();
    links.extend(position_tokens!("deposit"));
    links.extend(position_tokens!("withdraw"));
    links.extend(position_tokens!("borrow"));
    // repay: anyone repays any position; by default the payer's own position in the reserve's
    // market. No market account: the market comes from the reserve or the position.
    links.extend([
        Link {
            instruction: "repay",
            account: "position",
            relations: &[],
            pda: Some((
                Deriver::Ballast,
                &[
                    Seed::Const(b"position"),
                    Seed::Field("reserve", "Reserve", "market"),
                    Seed::Account("payer"),
                    Seed::U32(0),
                ],
            )),
            checked_by: Check {
                file: "instructions/repay.rs",
                text: "position.load()?.market == tokens.reserve.load()?.market",
            },
        },
        Link {
            instruction: "repay",
            account: "reserve",
            relations: &[],
            pda: Some((
                Deriver::Ballast,
                &[
                    Seed::Const(b"reserve"),
                    Seed::Field("position", "Position", "market"),
                    Seed::Account("mint"),
                ],
            )),
            checked_by: Check {
                file: "instructions/repay.rs",
                text: "position.load()?.market == tokens.reserve.load()?.market",
            },
        },
        Link {
            instruction: "repay",
            account: "mint",
            relations: &["reserve"],
            pda: None,
            checked_by: RESERVE_MATCH,
        },
        Link {
            instruction: "repay",
            account: "vault",
            relations: &["reserve"],
            pda: Some((Deriver::Ballast, VAULT_PDA)),
            checked_by: VAULT_MATCH,
        },
        Link {
            instruction: "repay",
            account: "user_token_account",
            relations: &[],
            pda: Some((
                Deriver::AssociatedToken,
                &[Seed::Account("payer"), Seed::Account("token_program"), Seed::Account("mint")],
            )),
            checked_by: USER_TOKEN_MINT,
        },
        Link {
            instruction: "repay",
            account: "token_program",
            relations: &["reserve"],
            pda: None,
            checked_by: PROGRAM_MATCH,
        },
    ]);
    // liquidate: the keeper names the position and the two mints (and their token programs).
    links.push(Link {
        instruction: "liquidate",
        account: "market",
        relations: &["position"],
        pda: None,
        checked_by: Check {
            file: "instructions/liquidate.rs",
            text: "same_key(&position.load()?.market, &market.key())",
        },
    });
    links.extend(liquidation_side!(
        "repay",
        "require_same_key(&repay.load()?.market, market, BallastError::WrongMarket)"
    ));
    links.extend(liquidation_side!(
        "seize",
        "require_same_key(&seize_reserve.market, market, BallastError::WrongMarket)"
    ));
    links.extend([Link {
        instruction: "liquidate",
        account: "insurance_vault",
        relations: &[],
        pda: Some((Deriver::Ballast, &[Seed::Const(b"insurance"), Seed::Account("seize_reserve")])),
        checked_by: Check {
            file: "instructions/liquidate.rs",
            text:
                "require_same_key(&seize_reserve.insurance_vault, insurance_vault, BallastError::WrongVault)",
        },
    }]);
    // collect_fees: the crank names the reserve; fees go to the fee receiver's token account.
    links.extend([
        Link {
            instruction: "collect_fees",
            account: "market",
            relations: &["reserve"],
            pda: None,
            checked_by: Check {
                file: "instructions/collect_fees.rs",
                text: "tokens.reserve.load()?.market == market.key()",
            },
        },
        Link {
            instruction: "collect_fees",
            account: "reserve",
            relations: &[],
            pda: Some((Deriver::Ballast, RESERVE_PDA)),
            checked_by: Check {
                file: "instructions/collect_fees.rs",
                text: "tokens.reserve.load()?.market == market.key()",
            },
        },
        Link {
            instruction: "collect_fees",
            account: "mint",
            relations: &["reserve"],
            pda: None,
            checked_by: RESERVE_MATCH,
        },
        Link {
            instruction: "collect_fees",
            account: "vault",
            relations: &["reserve"],
            pda: Some((Deriver::Ballast, VAULT_PDA)),
            checked_by: VAULT_MATCH,
        },
        Link {
            instruction: "collect_fees",
            account: "user_token_account",
            relations: &[],
            pda: Some((
                Deriver::AssociatedToken,
                &[
                    Seed::Field("market", "Market", "fee_receiver"),
                    Seed::Account("token_program"),
                    Seed::Account("mint"),
                ],
            )),
            checked_by: Check {
                file: "instructions/collect_fees.rs",
                text: ")?.owner == market.fee_receiver",
            },
        },
        Link {
            instruction: "collect_fees",
            account: "token_program",
            relations: &["reserve"],
            pda: None,
            checked_by: PROGRAM_MATCH,
        },
        Link {
            instruction: "collect_fees",
            account: "insurance_vault",
            relations: &["reserve"],
            pda: Some((Deriver::Ballast, INSURANCE_PDA)),
            checked_by: Check {
                file: "instructions/collect_fees.rs",
                text: "address = tokens.reserve.load()?.insurance_vault",
            },
        },
    ]);
    // The views: the health view's market is its position's; a reserve's insurance pool.
    links.extend([
        Link {
            instruction: "health",
            account: "market",
            relations: &["position"],
            pda: None,
            checked_by: Check { file: "instructions/health.rs", text: "address = position.load()?.market" },
        },
        Link {
            instruction: "reserve_status",
            account: "insurance_vault",
            relations: &["reserve"],
            pda: Some((Deriver::Ballast, INSURANCE_PDA)),
            checked_by: Check {
                file: "instructions/reserve_status.rs",
                text: "address = reserve.load()?.insurance_vault",
            },
        },
    ]);
    links
}

impl Seed {
    fn to_idl(self) -> IdlSeed {
        match self {
            Seed::Const(bytes) => IdlSeed::Const(IdlSeedConst { value: bytes.to_vec() }),
            Seed::Account(name) => IdlSeed::Account(IdlSeedAccount { path: name.into(), account: None }),
            Seed::Field(name, ty, field) => {
                IdlSeed::Account(IdlSeedAccount { path: format!("{name}.{field}"), account: Some(ty.into()) })
            }
            Seed::U32(v) => IdlSeed::Const(IdlSeedConst { value: v.to_le_bytes().to_vec() }),
        }
    }
}

/// The address bytes of the Associated Token Account program.
fn associated_token_program_bytes() -> Vec<u8> {
    bs58_decode(ASSOCIATED_TOKEN_PROGRAM)
}

/// Base58 to bytes (the IDL keeps a PDA's program as constant bytes).
pub fn bs58_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut bytes: Vec<u8> = Vec::new();
    for c in s.bytes() {
        let mut carry = ALPHABET.iter().position(|&a| a == c).expect("base58 character") as u32;
        for b in bytes.iter_mut().rev() {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = s.bytes().take_while(|&c| c == b'1').count();
    [vec![0; zeros], bytes].concat()
}

/// Lists accounts flat: a nested group's accounts take its name as a prefix only when two
/// accounts of the instruction would share a name (the generated client's rule).
fn flatten(items: Vec<IdlInstructionAccountItem>) -> Vec<IdlInstructionAccount> {
    fn leaves(items: &[IdlInstructionAccountItem]) -> Vec<String> {
        items
            .iter()
            .flat_map(|item| match item {
                IdlInstructionAccountItem::Single(a) => vec![a.name.clone()],
                IdlInstructionAccountItem::Composite(c) => leaves(&c.accounts),
            })
            .collect()
    }
    fn walk(
        items: Vec<IdlInstructionAccountItem>,
        prefix: Option<String>,
        prefixed: bool,
        out: &mut Vec<IdlInstructionAccount>,
    ) {
        for item in items {
            match item {
                IdlInstructionAccountItem::Single(mut a) => {
                    if let Some(p) = &prefix {
                        a.name = format!("{p}_{}", a.name);
                    }
                    out.push(a);
                }
                IdlInstructionAccountItem::Composite(c) => {
                    let inner = prefixed
                        .then(|| prefix.as_ref().map_or(c.name.clone(), |p| format!("{p}_{}", c.name)));
                    walk(c.accounts, inner, prefixed, out);
                }
            }
        }
    }
    let names = leaves(&items);
    let prefixed = names.iter().enumerate().any(|(i, n)| names[..i].contains(n));
    let mut out = Vec::new();
    walk(items, None, prefixed, &mut out);
    out
}

/// Writes the table into the IDL Anchor built: flat accounts, then every entry's relations and
/// PDA. An entry naming an account the IDL lacks is an error (the program changed).
pub fn apply(idl: &mut Idl) -> Result<(), String> {
    for ix in &mut idl.instructions {
        let accounts = std::mem::take(&mut ix.accounts);
        ix.accounts = flatten(accounts).into_iter().map(IdlInstructionAccountItem::Single).collect();
    }
    let program_src = concat!(env!("CARGO_MANIFEST_DIR"), "/../programs/ballast/src");
    for link in table() {
        link.checked_by.holds_in(program_src)?;
        let ix = idl
            .instructions
            .iter_mut()
            .find(|ix| ix.name == link.instruction)
            .ok_or_else(|| format!("links: no instruction {}", link.instruction))?;
        let account = ix
            .accounts
            .iter_mut()
            .find_map(|item| match item {
                IdlInstructionAccountItem::Single(a) if a.name == link.account => Some(a),
                _ => None,
            })
            .ok_or_else(|| format!("links: {} has no account {}", link.instruction, link.account))?;
        for relation in link.relations {
            if !account.relations.iter().any(|r| r == relation) {
                account.relations.push((*relation).into());
            }
        }
        if let Some((deriver, seeds)) = link.pda {
            let program = match deriver {
                Deriver::Ballast => None,
                Deriver::AssociatedToken => {
                    Some(IdlSeed::Const(IdlSeedConst { value: associated_token_program_bytes() }))
                }
            };
            account.pda = Some(IdlPda { seeds: seeds.iter().map(|s| s.to_idl()).collect(), program });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::prelude::Pubkey;
    use anchor_lang_idl::types::{IdlType, IdlTypeDefTy};
    use ballast_sdk::{pda, token::associated_token_address};
    use std::collections::HashMap;

    fn committed_idl() -> Idl {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../idl/ballast.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn account<'a>(idl: &'a Idl, ix: &str, name: &str) -> &'a IdlInstructionAccount {
        let ix = idl.instructions.iter().find(|i| i.name == ix).unwrap_or_else(|| panic!("no {ix}"));
        ix.accounts
            .iter()
            .find_map(|item| match item {
                IdlInstructionAccountItem::Single(a) if a.name == name => Some(a),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{} has no flat account {name}", ix.name))
    }

    /// One instruction's accounts in a made-up market: a wallet, a fee receiver, two mints
    /// under two token programs; what the account data holds (a reserve's market, ...).
    struct Scenario {
        keys: HashMap<&'static str, Pubkey>,
        wallet: Pubkey,
        market: Pubkey,
        fee_receiver: Pubkey,
    }

    impl Scenario {
        fn new() -> Self {
            let (wallet, market, fee_receiver) =
                (Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique());
            let mut keys = HashMap::new();
            for signer in ["owner", "payer", "liquidator"] {
                keys.insert(signer, wallet);
            }
            keys.insert("market", market);
            for side in ["", "repay_", "seize_"] {
                let mint: &'static str = format!("{side}mint").leak();
                let program: &'static str = format!("{side}token_program").leak();
                keys.insert(mint, Pubkey::new_unique());
                keys.insert(program, Pubkey::new_unique());
            }
            Scenario { keys, wallet, market, fee_receiver }
        }

        /// The value of a pubkey field in an account's data, as the program keeps it.
        fn field(&self, ty: &str, field: &str) -> Pubkey {
            match (ty, field) {
                ("Reserve", "market") | ("Position", "market") => self.market,
                ("Market", "fee_receiver") => self.fee_receiver,
                _ => panic!("no value for {ty}.{field} in the scenario: add it"),
            }
        }

        /// The address the IDL's PDA of `name` in `ix` resolves to, as a client computes it.
        fn resolve(&self, idl: &Idl, ix: &str, name: &str) -> Pubkey {
            if let Some(key) = self.keys.get(name) {
                return *key;
            }
            // An account the IDL does not derive is one the client passes: the program's own.
            let Some(pda) = account(idl, ix, name).pda.as_ref() else { return self.expected(ix, name) };
            let seed = |s: &IdlSeed| -> Vec<u8> {
                match s {
                    IdlSeed::Const(c) => c.value.clone(),
                    IdlSeed::Account(a) => match a.path.split_once('.') {
                        None => self.resolve(idl, ix, &a.path).to_bytes().to_vec(),
                        Some((_, field)) => {
                            self.field(a.account.as_deref().unwrap(), field).to_bytes().to_vec()
                        }
                    },
                    IdlSeed::Arg(a) => panic!("{ix}.{name}: an argument seed {} needs a value", a.path),
                }
            };
            let seeds: Vec<Vec<u8>> = pda.seeds.iter().map(seed).collect();
            let program = match &pda.program {
                None => ballast::ID,
                Some(p) => Pubkey::try_from(seed(p).as_slice()).unwrap(),
            };
            let refs: Vec<&[u8]> = seeds.iter().map(Vec::as_slice).collect();
            Pubkey::find_program_address(&refs, &program).0
        }

        /// The address the program accepts for `name` in `ix`, derived with its own seeds
        /// constants (the SDK's `pda`) and the token programs' associated accounts.
        fn expected(&self, ix: &str, name: &str) -> Pubkey {
            let (side, base) = ["repay_", "seize_"]
                .iter()
                .find_map(|p| name.strip_prefix(p).map(|b| (*p, b)))
                .unwrap_or(("", name));
            let key = |n: &str| self.keys[format!("{side}{n}").as_str()];
            let reserve = pda::reserve(&self.market, &key("mint"));
            match base {
                "position" => pda::position(&self.market, &self.wallet, 0),
                "reserve" => reserve,
                "vault" => pda::vault(&reserve),
                "insurance_vault" if ix == "liquidate" => {
                    pda::insurance_vault(&pda::reserve(&self.market, &self.keys["seize_mint"]))
                }
                "insurance_vault" => pda::insurance_vault(&reserve),
                "user_token_account" if ix == "collect_fees" => {
                    associated_token_address(&self.fee_receiver, &key("mint"), &key("token_program"))
                }
                "user_token_account" => {
                    associated_token_address(&self.wallet, &key("mint"), &key("token_program"))
                }
                _ => panic!("{ix}.{name}: no derivation of the program's to compare with: add one"),
            }
        }
    }

    #[test]
    fn every_pda_is_the_address_the_program_derives() {
        let idl = committed_idl();
        let scenario = Scenario::new();
        let mut compared = 0;
        for link in table().iter().filter(|l| l.pda.is_some()) {
            let resolved = scenario.resolve(&idl, link.instruction, link.account);
            let expected = scenario.expected(link.instruction, link.account);
            assert_eq!(
                resolved, expected,
                "{}.{}: the IDL's PDA is not the program's",
                link.instruction, link.account
            );
            compared += 1;
        }
        assert!(compared >= 28, "only {compared} PDAs compared");
    }

    #[test]
    fn the_seeds_constants_are_the_programs() {
        use ballast::constants::{INSURANCE_SEED, POSITION_SEED, RESERVE_SEED, VAULT_SEED};
        for seed in table().iter().filter_map(|l| l.pda).flat_map(|(_, seeds)| seeds.iter()) {
            if let Seed::Const(bytes) = seed {
                assert!(
                    [INSURANCE_SEED, POSITION_SEED, RESERVE_SEED, VAULT_SEED].contains(bytes),
                    "{:?} is none of the program's seeds",
                    String::from_utf8_lossy(bytes)
                );
            }
        }
        assert_eq!(
            bs58_decode(ASSOCIATED_TOKEN_PROGRAM),
            ballast_sdk::token::ASSOCIATED_TOKEN_PROGRAM_ID.to_bytes()
        );
    }

    /// The type of the account an instruction account names (`repay_reserve`: a reserve).
    fn type_of(name: &str) -> &'static str {
        match name.trim_start_matches("repay_").trim_start_matches("seize_") {
            "reserve" => "Reserve",
            "position" | "liquidator_position" => "Position",
            "market" => "Market",
            other => panic!("no account type for {other}"),
        }
    }

    fn pubkey_field(idl: &Idl, ty: &str, field: &str) -> bool {
        let def = idl.types.iter().find(|t| t.name == ty).unwrap_or_else(|| panic!("no type {ty}"));
        match &def.ty {
            IdlTypeDefTy::Struct {
                fields: Some(anchor_lang_idl::types::IdlDefinedFields::Named(fields)),
            } => fields.iter().any(|f| f.name == field && f.ty == IdlType::Pubkey),
            _ => false,
        }
    }

    /// A relation makes a client read the related account's field of the account's own name:
    /// in the committed IDL (the table's and Anchor's own), that field must exist and hold a
    /// pubkey; what the program compares it with is `every_link_names_a_check_the_program_makes`.
    #[test]
    fn every_relation_reads_a_pubkey_field_of_its_name() {
        let idl = committed_idl();
        let mut read = 0;
        for ix in &idl.instructions {
            for item in &ix.accounts {
                let IdlInstructionAccountItem::Single(a) = item else { panic!("{}: not flat", ix.name) };
                for related in &a.relations {
                    let ty = type_of(related);
                    assert!(
                        pubkey_field(&idl, ty, &a.name),
                        "{}.{}: {ty} has no pubkey field {}",
                        ix.name,
                        a.name,
                        a.name
                    );
                    read += 1;
                }
                for seed in a.pda.iter().flat_map(|p| p.seeds.iter()) {
                    if let IdlSeed::Account(IdlSeedAccount { path, account: Some(ty) }) = seed {
                        let field = path.split_once('.').map(|(_, f)| f).unwrap_or_default();
                        assert!(
                            pubkey_field(&idl, ty, field),
                            "{}.{}: {ty} has no pubkey {field}",
                            ix.name,
                            a.name
                        );
                    }
                }
            }
        }
        assert!(read >= 20, "only {read} relations read");
    }

    #[test]
    fn every_link_names_a_check_the_program_makes() {
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/../programs/ballast/src");
        for link in table() {
            if let Err(e) = link.checked_by.holds_in(src) {
                panic!("{}.{}: {e}", link.instruction, link.account);
            }
        }
        let made_up = Check { file: TOKENS, text: "require_keys_eq!(reserve.oracle, *mint" };
        assert!(made_up.holds_in(src).is_err(), "a check the program does not make passes");
    }

    /// The committed IDL carries every entry (the test command also rebuilds it and compares).
    #[test]
    fn the_committed_idl_carries_the_table() {
        let idl = committed_idl();
        for link in table() {
            let a = account(&idl, link.instruction, link.account);
            for r in link.relations {
                assert!(
                    a.relations.iter().any(|x| x == r),
                    "{}.{}: relation {r} missing",
                    link.instruction,
                    link.account
                );
            }
            if let Some((_, seeds)) = link.pda {
                let idl_seeds: Vec<IdlSeed> = seeds.iter().map(|s| s.to_idl()).collect();
                assert_eq!(
                    a.pda.as_ref().map(|p| &p.seeds),
                    Some(&idl_seeds),
                    "{}.{}",
                    link.instruction,
                    link.account
                );
            }
        }
    }

    #[test]
    fn flat_accounts_take_a_prefix_only_when_names_clash() {
        use anchor_lang_idl::types::IdlInstructionAccounts;
        let single = |name: &str| {
            IdlInstructionAccountItem::Single(IdlInstructionAccount {
                name: name.into(),
                docs: vec![],
                writable: false,
                signer: false,
                optional: false,
                address: None,
                pda: None,
                relations: vec![],
            })
        };
        let group = |name: &str| {
            IdlInstructionAccountItem::Composite(IdlInstructionAccounts {
                name: name.into(),
                accounts: vec![single("reserve"), single("mint")],
            })
        };
        let names = |items| flatten(items).into_iter().map(|a| a.name).collect::<Vec<_>>();
        assert_eq!(names(vec![single("owner"), group("tokens")]), ["owner", "reserve", "mint"]);
        assert_eq!(
            names(vec![single("market"), group("repay"), group("seize")]),
            ["market", "repay_reserve", "repay_mint", "seize_reserve", "seize_mint"]
        );
    }
}
