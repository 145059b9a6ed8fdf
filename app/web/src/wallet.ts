// Wallet Standard (Phantom, Backpack, Solflare and any other standard wallet): find the wallets
// that can sign Solana transactions, connect one, have it sign.
import { getWallets } from '@wallet-standard/app';
import type { Wallet, WalletAccount } from '@wallet-standard/base';

type ConnectFeature = { 'standard:connect': { connect(): Promise<{ accounts: readonly WalletAccount[] }> } };
type SignFeature = {
  'solana:signTransaction': {
    signTransaction(
      ...inputs: { account: WalletAccount; transaction: Uint8Array; chain?: string }[]
    ): Promise<readonly { signedTransaction: Uint8Array }[]>;
  };
};

/** Registered wallets that can connect and sign Solana transactions. */
export function signingWallets(): Wallet[] {
  return getWallets()
    .get()
    .filter((w) => 'standard:connect' in w.features && 'solana:signTransaction' in w.features);
}

/** Calls `onChange` whenever a wallet registers (wallets may load after the page). */
export function onWalletsChanged(onChange: () => void): void {
  getWallets().on('register', onChange);
}

export async function connect(wallet: Wallet): Promise<WalletAccount> {
  const { accounts } = await (wallet.features as unknown as ConnectFeature)['standard:connect'].connect();
  if (accounts.length === 0) throw new Error(`${wallet.name} shared no account`);
  return accounts[0];
}

/** The wallet signs a transaction's wire bytes (signature slots empty) and returns them signed. */
export async function signTransaction(
  wallet: Wallet,
  account: WalletAccount,
  transaction: Uint8Array,
  chain: string,
): Promise<Uint8Array> {
  const [signed] = await (wallet.features as unknown as SignFeature)['solana:signTransaction'].signTransaction({
    account,
    transaction,
    chain,
  });
  return signed.signedTransaction;
}
