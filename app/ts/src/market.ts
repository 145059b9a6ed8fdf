import {
  getBase58Decoder,
  getBase64Encoder,
  type Address,
  type Base58EncodedBytes,
  type Rpc,
  type GetAccountInfoApi,
  type GetMultipleAccountsApi,
  type GetProgramAccountsApi,
} from '@solana/kit';
import {
  decodeMarket,
  getMarketDecoder,
  getMarketSize,
  MARKET_DISCRIMINATOR,
  getPositionDecoder,
  getPositionSize,
  getReserveDecoder,
  getReserveSize,
  type Market,
  type Position,
  type Reserve,
} from './generated/accounts';
import { findPositionPda, findReservePda } from './generated/pdas';
import { BALLAST_PROGRAM_ADDRESS } from './generated/programs';

type ReadRpc = Rpc<GetAccountInfoApi & GetMultipleAccountsApi & GetProgramAccountsApi>;

const base64 = getBase64Encoder();

/** Raw bytes of `address`, or `null` when the account does not exist. */
export async function accountBytes(rpc: ReadRpc, address: Address): Promise<Uint8Array | null> {
  const { value } = await rpc.getAccountInfo(address, { encoding: 'base64' }).send();
  return value ? new Uint8Array(base64.encode(value.data[0])) : null;
}

export async function fetchMarketAccount(rpc: ReadRpc, market: Address): Promise<Market> {
  const bytes = await accountBytes(rpc, market);
  if (!bytes) throw new Error(`no market at ${market}`);
  return getMarketDecoder().decode(bytes);
}

/** Every market of the program, by address (a page's market picker lists them). */
export async function fetchMarkets(rpc: ReadRpc): Promise<Map<Address, Market>> {
  const found = await rpc
    .getProgramAccounts(BALLAST_PROGRAM_ADDRESS, {
      encoding: 'base64',
      filters: [
        { dataSize: BigInt(getMarketSize()) },
        {
          memcmp: {
            offset: 0n,
            bytes: getBase58Decoder().decode(MARKET_DISCRIMINATOR) as Base58EncodedBytes,
            encoding: 'base58',
          },
        },
      ],
    })
    .send();
  const decoder = getMarketDecoder();
  return new Map(found.map((a) => [a.pubkey, decoder.decode(new Uint8Array(base64.encode(a.account.data[0])))]));
}

/**
 * Ballast accounts of `market` of a given size: the `market` field leads both `Reserve` and
 * `Position`, right after the 8-byte discriminator.
 */
async function marketAccounts(rpc: ReadRpc, market: Address, size: number) {
  const found = await rpc
    .getProgramAccounts(BALLAST_PROGRAM_ADDRESS, {
      encoding: 'base64',
      filters: [
        { dataSize: BigInt(size) },
        { memcmp: { offset: 8n, bytes: market as string as Base58EncodedBytes, encoding: 'base58' } },
      ],
    })
    .send();
  return found.map((a) => ({ address: a.pubkey, bytes: new Uint8Array(base64.encode(a.account.data[0])) }));
}

/** Every reserve of `market`, by address. */
export async function fetchReserves(rpc: ReadRpc, market: Address): Promise<Map<Address, Reserve>> {
  const decoder = getReserveDecoder();
  const out = new Map<Address, Reserve>();
  for (const { address, bytes } of await marketAccounts(rpc, market, getReserveSize())) {
    out.set(address, decoder.decode(bytes));
  }
  return out;
}

/** A wallet's position `index` in `market` (its address, and its state when it exists). */
export async function fetchWalletPosition(
  rpc: ReadRpc,
  market: Address,
  owner: Address,
  index = 0,
): Promise<{ address: Address; position: Position | null }> {
  const [address] = await findPositionPda({ market, owner, index });
  const bytes = await accountBytes(rpc, address);
  return { address, position: bytes ? getPositionDecoder().decode(bytes) : null };
}

/** The reserve address of `mint` in `market`. */
export async function reserveAddress(market: Address, mint: Address): Promise<Address> {
  return (await findReservePda({ market, mint }))[0];
}

/** The all-zero address: a free position slot names it. */
export const NO_RESERVE = getBase58Decoder().decode(new Uint8Array(32)) as Address;

/** The reserves of a position's occupied slots, in slot order (as the program reads them). */
export function occupiedReserves(position: Position): Address[] {
  return position.slots.map((s) => s.reserve).filter((r) => r !== NO_RESERVE);
}

export { decodeMarket };
