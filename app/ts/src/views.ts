import type { Address, GetLatestBlockhashApi, Rpc, SimulateTransactionApi } from '@solana/kit';
import type { Reserve } from './generated/accounts';
import { getReserveStatusInstruction } from './generated/instructions';
import { getReserveStatusDecoder, type ReserveStatus } from './generated/types';
import { describeTransactionError } from './errors';
import { untrimmed } from './health';
import { simulateInstructions } from './transactions';

/** The program's `reserve_status` view, simulated: liquidity, debt, utilization, the borrow
 * rate, and the insurance pool's balance, target (2 % of the 24 h volume) and coverage. */
export async function simulateReserveStatus(
  rpc: Rpc<SimulateTransactionApi & GetLatestBlockhashApi>,
  feePayer: Address,
  reserveAddress: Address,
  reserve: Reserve,
): Promise<ReserveStatus> {
  const ix = getReserveStatusInstruction({ reserve: reserveAddress, insuranceVault: reserve.insuranceVault });
  const sim = await simulateInstructions(rpc, feePayer, [ix]);
  if (sim.err) throw new Error(describeTransactionError(sim.err));
  if (!sim.returnData) throw new Error('the reserve_status view returned no data');
  return getReserveStatusDecoder().decode(untrimmed(sim.returnData));
}

/** A price as an oracle account states it, for display. */
export type OraclePrice = { price: number; conf: number; publishTime: number };

/** What a pull oracle's `PriceUpdateV2` account says, for display (the program applies its
 * own checks: age, lag band, confidence, EMA). `null` when it is not one. */
export function decodePriceUpdate(bytes: Uint8Array | null): OraclePrice | null {
  if (!bytes || bytes.length < 8 + 32 + 2 + 60) return null;
  // discriminator (8), write authority (32), verification level: Partial (tag 0 + 1 byte) or Full (tag 1)
  const message = bytes[40] === 0 ? 42 : 41;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = message + 32; // after the feed id
  const expo = view.getInt32(at + 16, true);
  return {
    price: Number(view.getBigInt64(at, true)) * 10 ** expo,
    conf: Number(view.getBigUint64(at + 8, true)) * 10 ** expo,
    publishTime: Number(view.getBigInt64(at + 20, true)),
  };
}

const LEGACY_MAGIC = 0xa1b2c3d4;
const LEGACY_PRICE_ACCOUNT = 3;
const LEGACY_TRADING = 1;

/** What a legacy Pyth price account says: its aggregate price when it is trading, else the last
 * trading aggregate it still holds (previous price, confidence and publish time, as the program
 * reads it for the maintenance fallback; `OracleNotTrading` for anything else). `null` when it is
 * not a price account. */
export function decodeLegacyPrice(bytes: Uint8Array | null): (OraclePrice & { trading: boolean }) | null {
  if (!bytes || bytes.length < 240) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== LEGACY_MAGIC || view.getUint32(8, true) !== LEGACY_PRICE_ACCOUNT) return null;
  // Offsets of pyth-sdk-solana's `PriceAccount`: expo, timestamp, the previous (last trading)
  // aggregate, then the aggregate; the program reads the status byte at 224.
  const expo = view.getInt32(20, true);
  const trading = bytes[224] === LEGACY_TRADING;
  const [price, conf, time] = trading ? [208, 216, 96] : [184, 192, 200];
  return {
    price: Number(view.getBigInt64(price, true)) * 10 ** expo,
    conf: Number(view.getBigUint64(conf, true)) * 10 ** expo,
    publishTime: Number(view.getBigInt64(time, true)),
    trading,
  };
}

/** The reserve's oracle account read by its configured source (`OracleSource::to_u8`: 1 legacy,
 * 2 pull); `trading` is false for a legacy account the program would refuse. */
export function decodeOraclePrice(source: number, bytes: Uint8Array | null): (OraclePrice & { trading: boolean }) | null {
  if (source === 1) return decodeLegacyPrice(bytes);
  const pull = source === 2 ? decodePriceUpdate(bytes) : null;
  return pull && { ...pull, trading: true };
}

/** A reserve's price as a borrower would be priced now (SPEC §2, display precision): its age,
 * the lag band `conf + price × lag_bps_per_sec × age / 10 000`, and why the program would
 * refuse it, if it would. */
export function priceStanding(
  read: (OraclePrice & { trading: boolean }) | null,
  config: { maxAgeSecs: number; lagBpsPerSec: number; maxBandBps: number },
  nowSecs: number,
): { ageSecs: number; band: number; refusal: null | 'no price' | 'not trading' | 'stale' | 'band too wide' } {
  if (!read) return { ageSecs: 0, band: 0, refusal: 'no price' };
  const ageSecs = Math.max(0, nowSecs - read.publishTime);
  const band = read.conf + (read.price * config.lagBpsPerSec * ageSecs) / 10_000;
  const refusal = !read.trading
    ? 'not trading'
    : ageSecs > config.maxAgeSecs
      ? 'stale'
      : band * 10_000 > read.price * config.maxBandBps
        ? 'band too wide'
        : null;
  return { ageSecs, band, refusal };
}
