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

/** What a pull oracle's `PriceUpdateV2` account says, for display (the program applies its
 * own checks: age, lag band, confidence, EMA). `null` when it is not one. */
export function decodePriceUpdate(bytes: Uint8Array | null): { price: number; conf: number; publishTime: number } | null {
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
