//! Markets, reserves, mints, users and token accounts in one call each, so tests stay short.
use anchor_lang::prelude::Pubkey;
use anchor_spl::token_2022::spl_token_2022::instruction as token_ix;
use ballast::instructions::AddReserveArgs;
use ballast::state::{AssetClass, Position, Reserve};
use ballast_sdk::ix::ReserveKeys;
use ballast_sdk::{accounts, ix, pda};
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_system_interface::instruction as system_ix;

use crate::TestEnv;

pub const MINT_LEN: usize = 82;
pub const TOKEN_ACCOUNT_LEN: usize = 165;
const RENT_EXEMPT_LAMPORTS: u64 = 10_000_000;

pub struct MarketFixture {
    pub admin: Keypair,
    pub market: Pubkey,
}

pub struct ReserveFixture {
    pub keys: ReserveKeys,
    pub insurance_vault: Pubkey,
    pub mint_authority: Keypair,
    pub decimals: u8,
}

pub struct UserFixture {
    pub wallet: Keypair,
    pub position: Pubkey,
}

/// The most common setup: one market, one reserve, one user holding `balance` tokens.
pub struct OneReserve {
    pub env: TestEnv,
    pub market: MarketFixture,
    pub reserve: ReserveFixture,
    pub user: UserFixture,
    /// The user's token account of the reserve's mint.
    pub account: Pubkey,
}

impl OneReserve {
    pub async fn start(mode: crate::Mode, token_program: Pubkey, deposit_cap: u64, balance: u64) -> Self {
        let mut env = TestEnv::start(mode).await;
        let market = env.create_market().await;
        let reserve = env.add_reserve(&market, token_program, 6, deposit_cap).await;
        let user = env.create_user(&market).await;
        let account = env.token_account(&reserve, &user.wallet.pubkey(), balance).await;
        Self { env, market, reserve, user, account }
    }
}

impl TestEnv {
    /// A new system account holding `lamports`.
    pub async fn funded_wallet(&mut self, lamports: u64) -> Keypair {
        let wallet = self.keypair();
        let payer = self.payer();
        self.send("fund wallet", &[system_ix::transfer(&payer.pubkey(), &wallet.pubkey(), lamports)], &[])
            .await
            .unwrap();
        wallet
    }

    pub async fn create_market(&mut self) -> MarketFixture {
        let admin = self.funded_wallet(10_000_000_000).await;
        let market_id = 1;
        let fee_receiver = Pubkey::new_unique();
        self.send("init_market", &[ix::init_market(admin.pubkey(), market_id, fee_receiver)], &[&admin])
            .await
            .unwrap();
        MarketFixture { market: pda::market(&admin.pubkey(), market_id), admin }
    }

    /// A new mint of `token_program` (SPL Token or Token-2022) with no extensions.
    pub async fn create_mint(&mut self, token_program: Pubkey, decimals: u8) -> (Pubkey, Keypair) {
        let mint = self.keypair();
        let authority = self.keypair();
        let payer = self.payer();
        let ixs = [
            system_ix::create_account(
                &payer.pubkey(),
                &mint.pubkey(),
                RENT_EXEMPT_LAMPORTS,
                MINT_LEN as u64,
                &token_program,
            ),
            token_ix::initialize_mint2(&token_program, &mint.pubkey(), &authority.pubkey(), None, decimals)
                .unwrap(),
        ];
        self.send("create mint", &ixs, &[&mint]).await.unwrap();
        (mint.pubkey(), authority)
    }

    pub async fn add_reserve(
        &mut self,
        market: &MarketFixture,
        token_program: Pubkey,
        decimals: u8,
        deposit_cap: u64,
    ) -> ReserveFixture {
        let (mint, mint_authority) = self.create_mint(token_program, decimals).await;
        let args = AddReserveArgs { asset_class: AssetClass::Crypto, deposit_cap, borrow_cap: u64::MAX };
        self.send(
            "add_reserve",
            &[ix::add_reserve(market.admin.pubkey(), market.market, mint, token_program, args)],
            &[&market.admin],
        )
        .await
        .unwrap();
        let reserve = pda::reserve(&market.market, &mint);
        ReserveFixture {
            keys: ReserveKeys { reserve, mint, vault: pda::vault(&reserve), token_program },
            insurance_vault: pda::insurance_vault(&reserve),
            mint_authority,
            decimals,
        }
    }

    /// A funded wallet with position 0 open in `market`.
    pub async fn create_user(&mut self, market: &MarketFixture) -> UserFixture {
        let wallet = self.funded_wallet(1_000_000_000).await;
        self.send("open_position", &[ix::open_position(wallet.pubkey(), market.market, 0)], &[&wallet])
            .await
            .unwrap();
        UserFixture { position: pda::position(&market.market, &wallet.pubkey(), 0), wallet }
    }

    /// A token account of `reserve`'s mint owned by `owner`, holding `amount` freshly minted units.
    pub async fn token_account(&mut self, reserve: &ReserveFixture, owner: &Pubkey, amount: u64) -> Pubkey {
        let account = self.keypair();
        let payer = self.payer();
        let tp = reserve.keys.token_program;
        let mut ixs = vec![
            system_ix::create_account(
                &payer.pubkey(),
                &account.pubkey(),
                RENT_EXEMPT_LAMPORTS,
                TOKEN_ACCOUNT_LEN as u64,
                &tp,
            ),
            token_ix::initialize_account3(&tp, &account.pubkey(), &reserve.keys.mint, owner).unwrap(),
        ];
        if amount > 0 {
            ixs.push(
                token_ix::mint_to(
                    &tp,
                    &reserve.keys.mint,
                    &account.pubkey(),
                    &reserve.mint_authority.pubkey(),
                    &[],
                    amount,
                )
                .unwrap(),
            );
        }
        let authority = reserve.mint_authority.insecure_clone();
        let signers: &[&Keypair] = if amount > 0 { &[&account, &authority] } else { &[&account] };
        self.send("create token account", &ixs, signers).await.unwrap();
        account.pubkey()
    }

    /// Balance of an SPL Token or Token-2022 account (the amount field sits at the same offset).
    pub async fn token_balance(&mut self, account: Pubkey) -> u64 {
        let data = self.account(account).await.expect("token account exists").data;
        u64::from_le_bytes(data[64..72].try_into().unwrap())
    }

    pub async fn reserve_state(&mut self, reserve: Pubkey) -> Reserve {
        accounts::reserve(&self.account(reserve).await.expect("reserve exists").data).unwrap()
    }

    pub async fn position_state(&mut self, position: Pubkey) -> Position {
        accounts::position(&self.account(position).await.expect("position exists").data).unwrap()
    }

    pub async fn deposit(
        &mut self,
        user: &UserFixture,
        reserve: &ReserveFixture,
        source: Pubkey,
        amount: u64,
    ) -> Result<u64, crate::TxError> {
        let ixs = [ix::deposit(user.wallet.pubkey(), user.position, &reserve.keys, source, amount)];
        let wallet = user.wallet.insecure_clone();
        self.send("deposit", &ixs, &[&wallet]).await
    }

    pub async fn withdraw(
        &mut self,
        user: &UserFixture,
        reserve: &ReserveFixture,
        destination: Pubkey,
        amount: u64,
    ) -> Result<u64, crate::TxError> {
        let ixs = [ix::withdraw(user.wallet.pubkey(), user.position, &reserve.keys, destination, amount)];
        let wallet = user.wallet.insecure_clone();
        self.send("withdraw", &ixs, &[&wallet]).await
    }
}
