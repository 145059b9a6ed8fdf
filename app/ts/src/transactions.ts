import {
  address,
  appendTransactionMessageInstructions,
  compileTransaction,
  compressTransactionMessageUsingAddressLookupTables,
  createTransactionMessage,
  getAddressDecoder,
  getBase64EncodedWireTransaction,
  getBase64Encoder,
  getTransactionEncoder,
  pipe,
  setTransactionMessageFeePayer,
  setTransactionMessageLifetimeUsingBlockhash,
  type Address,
  type Base58EncodedBytes,
  type Blockhash,
  type Instruction,
  type Rpc,
  type GetLatestBlockhashApi,
  type GetProgramAccountsApi,
  type SimulateTransactionApi,
} from '@solana/kit';

/** The address lookup table program. */
export const LOOKUP_TABLE_PROGRAM_ADDRESS = address('AddressLookupTab1e1111111111111111111111111');
/** Where a table's authority sits: after the state tag (4), the deactivation slot (8), the last
 * extended slot (8) and its start index (1), and the option tag (1). */
export const LOOKUP_TABLE_AUTHORITY_OFFSET = 22;
/** The table's header; its addresses follow, 32 bytes each. */
export const LOOKUP_TABLE_META_SIZE = 56;
/** The most a transaction may take on the wire. */
export const PACKET_DATA_SIZE = 1232;
export const COMPUTE_BUDGET_PROGRAM_ADDRESS = address('ComputeBudget111111111111111111111111111111');

export interface LookupTable {
  address: Address;
  authority: Address | null;
  /** `2^64 - 1` while the table is active. */
  deactivationSlot: bigint;
  addresses: Address[];
}

/** Decodes a lookup table account's bytes. */
export function decodeLookupTable(tableAddress: Address, bytes: Uint8Array): LookupTable {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const deactivationSlot = view.getBigUint64(4, true);
  const decoder = getAddressDecoder();
  const authority =
    bytes[LOOKUP_TABLE_AUTHORITY_OFFSET - 1] === 1
      ? decoder.decode(bytes.subarray(LOOKUP_TABLE_AUTHORITY_OFFSET, LOOKUP_TABLE_AUTHORITY_OFFSET + 32))
      : null;
  const addresses: Address[] = [];
  for (let at = LOOKUP_TABLE_META_SIZE; at + 32 <= bytes.length; at += 32) {
    addresses.push(decoder.decode(bytes.subarray(at, at + 32)));
  }
  return { address: tableAddress, authority, deactivationSlot, addresses };
}

const U64_MAX = 2n ** 64n - 1n;

/**
 * The market's lookup table: among the tables `authority` (the market's admin, who made it at
 * bootstrap) owns, the active one holding `market` with the most addresses (as the Rust SDK's
 * `pick_market_table` chooses).
 */
export async function findMarketLookupTable(
  rpc: Rpc<GetProgramAccountsApi>,
  authority: Address,
  market: Address,
): Promise<LookupTable | null> {
  const found = await rpc
    .getProgramAccounts(LOOKUP_TABLE_PROGRAM_ADDRESS, {
      encoding: 'base64',
      filters: [
        {
          memcmp: {
            offset: BigInt(LOOKUP_TABLE_AUTHORITY_OFFSET),
            bytes: authority as string as Base58EncodedBytes,
            encoding: 'base58',
          },
        },
      ],
    })
    .send();
  const base64 = getBase64Encoder();
  let best: LookupTable | null = null;
  for (const a of found) {
    const table = decodeLookupTable(a.pubkey, new Uint8Array(base64.encode(a.account.data[0])));
    const usable = table.deactivationSlot === U64_MAX && table.addresses.includes(market);
    if (usable && (!best || table.addresses.length > best.addresses.length)) best = table;
  }
  return best;
}

/** The compute-budget instructions that lead a transaction: `limit` units at `microLamports`
 * each (no price instruction for 0), as the Rust SDK writes them. */
export function computeBudgetInstructions(limit: number, microLamports: bigint): Instruction[] {
  const limitData = new Uint8Array(5);
  limitData[0] = 2;
  new DataView(limitData.buffer).setUint32(1, limit, true);
  const out: Instruction[] = [{ programAddress: COMPUTE_BUDGET_PROGRAM_ADDRESS, data: limitData }];
  if (microLamports > 0n) {
    const priceData = new Uint8Array(9);
    priceData[0] = 3;
    new DataView(priceData.buffer).setBigUint64(1, microLamports, true);
    out.push({ programAddress: COMPUTE_BUDGET_PROGRAM_ADDRESS, data: priceData });
  }
  return out;
}

/** A v0 transaction message paid by `feePayer`, its accounts loaded from `tables` where they
 * can be (the market's table: a 16-slot position names more accounts than fit inline). */
export function v0Message(
  feePayer: Address,
  instructions: readonly Instruction[],
  blockhash: { blockhash: Blockhash; lastValidBlockHeight: bigint },
  tables: readonly LookupTable[] = [],
) {
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayer(feePayer, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  const byTable = Object.fromEntries(tables.map((t) => [t.address, t.addresses])) as Record<Address, Address[]>;
  return compressTransactionMessageUsingAddressLookupTables(message, byTable);
}

/** Bytes the compiled message takes on the wire, with its (empty) signatures. */
export function wireSize(message: ReturnType<typeof v0Message>): number {
  return getTransactionEncoder().encode(compileTransaction(message)).length;
}

export interface Simulation {
  err: unknown;
  logs: readonly string[];
  unitsConsumed: bigint | undefined;
  returnData: Uint8Array | undefined;
}

/** Simulates `instructions` as a v0 transaction (no signature needed: the node checks none and
 * supplies a recent blockhash). A refusal comes back in `err` and costs nothing. */
export async function simulateInstructions(
  rpc: Rpc<SimulateTransactionApi & GetLatestBlockhashApi>,
  feePayer: Address,
  instructions: readonly Instruction[],
  tables: readonly LookupTable[] = [],
): Promise<Simulation> {
  const { value: blockhash } = await rpc.getLatestBlockhash().send();
  const wire = getBase64EncodedWireTransaction(compileTransaction(v0Message(feePayer, instructions, blockhash, tables)));
  const { value } = await rpc
    .simulateTransaction(wire, { encoding: 'base64', sigVerify: false, replaceRecentBlockhash: true })
    .send();
  const data = value.returnData?.data?.[0];
  return {
    err: value.err,
    logs: value.logs ?? [],
    unitsConsumed: value.unitsConsumed,
    returnData: data === undefined ? undefined : new Uint8Array(getBase64Encoder().encode(data)),
  };
}
