import { AccountRole, type AccountMeta, type Address, type Instruction, type Rpc } from '@solana/kit';
import type { GetLatestBlockhashApi, SimulateTransactionApi } from '@solana/kit';
import type { Position, Reserve } from './generated/accounts';
import { getHealthInstruction } from './generated/instructions';
import { getHealthReportDecoder, type HealthReport } from './generated/types';
import { describeTransactionError } from './errors';
import { occupiedReserves } from './market';
import { simulateInstructions, type LookupTable } from './transactions';

/** The runtime trims trailing zero bytes from return data: put them back before decoding (a
 * report whose last fields are zero, such as a `None`, arrives short). */
export function untrimmed(returnData: Uint8Array): Uint8Array {
  const padded = new Uint8Array(returnData.length + 1024);
  padded.set(returnData);
  return padded;
}

/** USD values in the program are WAD-scaled (1e18 = $1); ratios 1e9-scaled. */
export const WAD = 10n ** 18n;
export const RATIO_SCALE = 1e9;

/** (reserve, pinned price account) of each of `slots`, in order: the remaining accounts of
 * `health`, `borrow`, `withdraw` with debt and `liquidate`. */
export function slotAccounts(slots: readonly Address[], reserves: ReadonlyMap<Address, Reserve>): AccountMeta[] {
  return slots.flatMap((r) => {
    const reserve = reserves.get(r);
    if (!reserve) throw new Error(`reserve ${r} is not listed in the market`);
    return [
      { address: r, role: AccountRole.READONLY },
      { address: reserve.oracle.priceAccount, role: AccountRole.READONLY },
    ];
  });
}

/** `slotAccounts` of every occupied slot of `position`, in slot order. */
export function healthAccounts(position: Position, reserves: ReadonlyMap<Address, Reserve>): AccountMeta[] {
  return slotAccounts(occupiedReserves(position), reserves);
}

/** The program's read-only `health` view of a position, with its remaining accounts. */
export function healthInstruction(
  positionAddress: Address,
  position: Position,
  reserves: ReadonlyMap<Address, Reserve>,
): Instruction {
  const base = getHealthInstruction({ position: positionAddress, market: position.market });
  return { ...base, accounts: [...base.accounts, ...healthAccounts(position, reserves)] };
}

/**
 * The position's health as the program computes it: the `health` view, simulated (prices,
 * bands, sessions, multipliers and haircuts are the program's own code, not a copy).
 */
export async function simulateHealth(
  rpc: Rpc<SimulateTransactionApi & GetLatestBlockhashApi>,
  feePayer: Address,
  positionAddress: Address,
  position: Position,
  reserves: ReadonlyMap<Address, Reserve>,
  tables: readonly LookupTable[] = [],
): Promise<HealthReport> {
  const sim = await simulateInstructions(rpc, feePayer, [healthInstruction(positionAddress, position, reserves)], tables);
  if (sim.err) throw new Error(`${describeTransactionError(sim.err)}\n${sim.logs.slice(-5).join('\n')}`);
  if (!sim.returnData) throw new Error('the health view returned no data');
  return getHealthReportDecoder().decode(untrimmed(sim.returnData));
}

export interface SlotFigures {
  reserve: Address;
  depositAmount: bigint;
  debtAmount: bigint;
  /** Oracle price in USD, and its age in seconds. */
  price: number;
  /** The lag band around it (confidence plus the allowance for the price's age), USD. */
  band: number;
  ageSecs: number;
  /** Price of this asset at which the position becomes liquidatable, others unchanged. */
  liquidationPrice: number | null;
}

export interface HealthFigures {
  /** `null`: no debt (infinite). */
  healthFactor: number | null;
  leverage: number | null;
  liquidatable: boolean;
  collateralUsd: number;
  debtUsd: number;
  maintCollateralUsd: number;
  maintDebtUsd: number;
  initCollateralUsd: number;
  initDebtUsd: number;
  /** Initial collateral under the market's joint stress shock (every stress group at once). */
  stressedInitCollateralUsd: number;
  /** Whether the position may borrow or withdraw more (initial health, stress shock included). */
  passesInitial: boolean;
  slots: SlotFigures[];
}

const usd = (wad: bigint) => Number(wad) / 1e18;
const scaled = (mantissa: bigint, expo: number) => Number(mantissa) * 10 ** expo;
const some = <T>(o: { __option: 'Some'; value: T } | { __option: 'None' }): T | null =>
  o.__option === 'Some' ? o.value : null;

/** The report in numbers for display (USD, ratios, prices). */
export function healthFigures(report: HealthReport): HealthFigures {
  const hf = some(report.healthFactor);
  const leverage = some(report.leverage);
  return {
    healthFactor: hf === null ? null : Number(hf) / RATIO_SCALE,
    leverage: leverage === null ? null : Number(leverage) / RATIO_SCALE,
    liquidatable: report.liquidatable,
    collateralUsd: usd(report.collateralValue),
    debtUsd: usd(report.debtValue),
    maintCollateralUsd: usd(report.maintCollateral),
    maintDebtUsd: usd(report.maintDebt),
    initCollateralUsd: usd(report.initCollateral),
    initDebtUsd: usd(report.initDebt),
    stressedInitCollateralUsd: usd(report.stressedInitCollateral),
    passesInitial: report.passesInitial,
    slots: report.slots.map((s) => {
      const lp = some(s.liquidationPrice);
      return {
        reserve: s.reserve,
        depositAmount: s.depositAmount,
        debtAmount: s.debtAmount,
        price: scaled(s.price, s.expo),
        band: scaled(s.band, s.expo),
        ageSecs: Number(s.ageSecs),
        liquidationPrice: lp === null ? null : scaled(lp, s.expo),
      };
    }),
  };
}

/**
 * Health factor against the price of slot `index`'s asset, others unchanged, at `prices`.
 * The maintenance figures are linear in one asset's price; the line is fixed by two points
 * the program computed: today's price and health factor, and the asset's liquidation price
 * (health factor 1). `null` where there is no debt or the slot has no liquidation price.
 */
export function healthCurve(
  figures: HealthFigures,
  index: number,
  prices: readonly number[],
): { price: number; healthFactor: number | null }[] {
  const slot = figures.slots[index];
  const { maintCollateralUsd: mc, maintDebtUsd: md } = figures;
  const p0 = slot?.price ?? 0;
  const lp = slot?.liquidationPrice ?? null;
  if (!slot || lp === null || md === 0 || p0 === 0 || lp === p0) {
    return prices.map((price) => ({ price, healthFactor: null }));
  }
  if (slot.depositAmount > 0n) {
    // Collateral worth `a` (maintenance-weighted) today: mc - a + a·lp/p0 = md.
    const a = (mc - md) / (1 - lp / p0);
    return prices.map((price) => ({ price, healthFactor: (mc - a + (a * price) / p0) / md }));
  }
  // Debt worth `b` (borrow-factor-weighted) today: mc = md - b + b·lp/p0.
  const b = (mc - md) / (lp / p0 - 1);
  return prices.map((price) => {
    const debt = md - b + (b * price) / p0;
    return { price, healthFactor: debt > 0 ? mc / debt : null };
  });
}
