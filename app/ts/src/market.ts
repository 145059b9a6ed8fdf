import {
  address,
  getAddressEncoder,
  getBase58Decoder,
  getProgramDerivedAddress,
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
  POSITION_DISCRIMINATOR,
  RESERVE_DISCRIMINATOR,
  getReserveDecoder,
  getReserveSize,
  type Market,
  type Position,
  type Reserve,
} from './generated/accounts';
import { findPositionPda, findReservePda } from './generated/pdas';
import { BALLAST_PROGRAM_ADDRESS } from './generated/programs';
import { programName } from './errors';
import { SYSTEM_PROGRAM, TOKEN_2022_PROGRAM_ADDRESS, TOKEN_PROGRAM_ADDRESS } from './programErrors';

type ReadRpc = Rpc<GetAccountInfoApi & GetMultipleAccountsApi & GetProgramAccountsApi>;

const base64 = getBase64Encoder();

/** Raw bytes of `address`, or `null` when the account does not exist. */
export async function accountBytes(rpc: ReadRpc, address: Address): Promise<Uint8Array | null> {
  const { value } = await rpc.getAccountInfo(address, { encoding: 'base64' }).send();
  return value ? new Uint8Array(base64.encode(value.data[0])) : null;
}

/** Which Ballast account `data` holds, by its discriminator (for messages). */
export function ballastKind(data: Uint8Array): 'market' | 'reserve' | 'position' | undefined {
  const kinds = [
    [MARKET_DISCRIMINATOR, 'market'],
    [RESERVE_DISCRIMINATOR, 'reserve'],
    [POSITION_DISCRIMINATOR, 'position'],
  ] as const;
  return kinds.find(([d]) => data.length >= d.length && d.every((b, i) => data[i] === b))?.[1];
}

/** Why the account at `key` (owned by `owner`, holding `data`) is not the Ballast `kind` asked
 * for, in the Rust SDK's words: `X is not a Ballast market (owner …, size …)`, with what it is
 * when that is known (a wallet, a token account, another Ballast account). */
export function notA(kind: string, key: string, owner: string, data: Uint8Array): string {
  const name = programName(owner);
  const ownerName = name ? ` (${name})` : '';
  let what = '';
  if (owner === BALLAST_PROGRAM_ADDRESS) {
    const other = ballastKind(data);
    what = other && other !== kind ? `: it is a Ballast ${other}` : ': its data does not decode (another program version?)';
  } else if (owner === SYSTEM_PROGRAM && data.length === 0) {
    what = ': it is a wallet';
  } else if (owner === TOKEN_PROGRAM_ADDRESS || owner === TOKEN_2022_PROGRAM_ADDRESS) {
    what = ': it is a mint or token account';
  }
  return `${key} is not a Ballast ${kind} (owner ${owner}${ownerName}, size ${data.length} bytes)${what}`;
}

/** The Ballast account `kind` at `key`, decoded; an error in words when it is none. */
async function fetchBallastAccount<T>(rpc: ReadRpc, key: Address, kind: 'market' | 'reserve' | 'position', decode: (b: Uint8Array) => T): Promise<T> {
  const { value } = await rpc.getAccountInfo(key, { encoding: 'base64' }).send();
  if (!value) throw new Error(`${key} is not a Ballast ${kind}: no account at that address`);
  const data = new Uint8Array(base64.encode(value.data[0]));
  if (value.owner !== BALLAST_PROGRAM_ADDRESS || ballastKind(data) !== kind) throw new Error(notA(kind, key, value.owner, data));
  try {
    return decode(data);
  } catch {
    throw new Error(notA(kind, key, value.owner, data));
  }
}

/** The market at `market`; "X is not a Ballast market (owner …, size …)" when it is none. */
export async function fetchMarketAccount(rpc: ReadRpc, market: Address): Promise<Market> {
  return fetchBallastAccount(rpc, market, 'market', (b) => getMarketDecoder().decode(b));
}

/** Token-2022's extension type number of `TokenMetadata` (the metadata held in the mint). */
const TOKEN_METADATA_EXTENSION = 19;
/** Where a Token-2022 mint's extensions start: the base mint padded to a token account's
 * length, then one account-type byte. */
const TOKEN_2022_TLV_START = 165 + 1;
const METAPLEX_METADATA_PROGRAM = address('metaqbxxUerdq28cj1RbAWkYQm3ybzjb6a8bt518x1s');

/** A borsh string (u32 length, UTF-8) at `at`, trimmed of NULs and spaces, and where it ends. */
function borshString(data: Uint8Array, at: number): [string, number] | null {
  if (at + 4 > data.length) return null;
  const len = new DataView(data.buffer, data.byteOffset + at, 4).getUint32(0, true);
  if (at + 4 + len > data.length) return null;
  const text = new TextDecoder().decode(data.subarray(at + 4, at + 4 + len));
  return [text.replace(/\0+$/, '').trim(), at + 4 + len];
}

/** The symbol in a Token-2022 mint's own `TokenMetadata` extension, as the Rust SDK reads it. */
export function token2022Symbol(mint: Uint8Array): string | null {
  let at = TOKEN_2022_TLV_START;
  while (at + 4 <= mint.length) {
    const kind = mint[at] | (mint[at + 1] << 8);
    const len = mint[at + 2] | (mint[at + 3] << 8);
    if (kind === 0) return null;
    if (kind === TOKEN_METADATA_EXTENSION) {
      const value = mint.subarray(at + 4, at + 4 + len);
      const name = borshString(value, 64); // after the update authority and the mint
      const symbol = name && borshString(value, name[1]);
      return symbol && symbol[0] ? symbol[0] : null;
    }
    at += 4 + len;
  }
  return null;
}

/** The symbol in a Metaplex metadata account (key, update authority, mint, name, symbol, …). */
export function metaplexSymbol(metadata: Uint8Array): string | null {
  const name = borshString(metadata, 1 + 32 + 32);
  const symbol = name && borshString(metadata, name[1]);
  return symbol && symbol[0] ? symbol[0] : null;
}

/** The symbol each of `mints` names itself by: its Token-2022 `TokenMetadata`, else its Metaplex
 * metadata account (the Rust SDK's `Client::mint_symbols`). Mints with neither are left out. */
export async function fetchMintSymbols(rpc: ReadRpc, mints: readonly Address[]): Promise<Map<Address, string>> {
  const e = getAddressEncoder();
  const metadata = await Promise.all(
    mints.map(async (m) => (await getProgramDerivedAddress({ programAddress: METAPLEX_METADATA_PROGRAM, seeds: ['metadata', e.encode(METAPLEX_METADATA_PROGRAM), e.encode(m)] }))[0]),
  );
  const keys = [...mints, ...metadata];
  const out = new Map<Address, string>();
  if (keys.length === 0) return out;
  const { value } = await rpc.getMultipleAccounts(keys, { encoding: 'base64' }).send();
  mints.forEach((mint, i) => {
    const own = value[i];
    const meta = value[mints.length + i];
    const bytes = (a: NonNullable<(typeof value)[number]>) => new Uint8Array(base64.encode(a.data[0]));
    const symbol =
      (own && own.owner === TOKEN_2022_PROGRAM_ADDRESS ? token2022Symbol(bytes(own)) : null) ??
      (meta && meta.owner === METAPLEX_METADATA_PROGRAM ? metaplexSymbol(bytes(meta)) : null);
    if (symbol) out.set(mint, symbol);
  });
  return out;
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
