import {
  AccountRole,
  createNoopSigner,
  getAddressEncoder,
  getProgramDerivedAddress,
  address,
  type AccountMeta,
  type Address,
  type Instruction,
} from '@solana/kit';
import type { Position, Reserve } from './generated/accounts';
import {
  getBorrowInstruction,
  getDepositInstruction,
  getOpenPositionInstruction,
  getRefreshMintInstruction,
  getRepayInstruction,
  getWithdrawInstruction,
} from './generated/instructions';
import { slotAccounts } from './health';
import { occupiedReserves, NO_RESERVE } from './market';

export const ASSOCIATED_TOKEN_PROGRAM_ADDRESS = address('ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL');
export const SYSTEM_PROGRAM_ADDRESS = address('11111111111111111111111111111111');
/** `repay`/`withdraw` of everything. */
export const ALL = 2n ** 64n - 1n;

/** The associated token account of `owner` for `mint` under `tokenProgram`. */
export async function associatedTokenAddress(owner: Address, mint: Address, tokenProgram: Address): Promise<Address> {
  const e = getAddressEncoder();
  const [ata] = await getProgramDerivedAddress({
    programAddress: ASSOCIATED_TOKEN_PROGRAM_ADDRESS,
    seeds: [e.encode(owner), e.encode(tokenProgram), e.encode(mint)],
  });
  return ata;
}

/** Creates `owner`'s associated token account for `mint` if it does not exist (idempotent). */
export async function createAssociatedTokenAccountIdempotent(
  payer: Address,
  owner: Address,
  mint: Address,
  tokenProgram: Address,
): Promise<Instruction> {
  const ata = await associatedTokenAddress(owner, mint, tokenProgram);
  const accounts: AccountMeta[] = [
    { address: payer, role: AccountRole.WRITABLE_SIGNER },
    { address: ata, role: AccountRole.WRITABLE },
    { address: owner, role: AccountRole.READONLY },
    { address: mint, role: AccountRole.READONLY },
    { address: SYSTEM_PROGRAM_ADDRESS, role: AccountRole.READONLY },
    { address: tokenProgram, role: AccountRole.READONLY },
  ];
  return { programAddress: ASSOCIATED_TOKEN_PROGRAM_ADDRESS, accounts, data: new Uint8Array([1]) };
}

/** The reserves a health check reads after the move: the position's occupied slots in slot
 * order, with `adding` in the first free slot when it is new (as the program fills it). */
export function healthReservesAfter(position: Position | null, adding?: Address): Address[] {
  const slots = position ? position.slots.map((s) => s.reserve) : [];
  if (adding && !slots.includes(adding)) {
    const free = slots.indexOf(NO_RESERVE);
    if (free >= 0) slots[free] = adding;
    else slots.push(adding);
  }
  return slots.filter((r) => r !== NO_RESERVE);
}

/** `refresh_mint` for every slot whose mint's state can change (its cached state backs new risk
 * only while fresh), sent first in the same transaction. */
function mintRefreshes(reserves: readonly Address[], known: ReadonlyMap<Address, Reserve>): Instruction[] {
  return reserves.flatMap((r) => {
    const reserve = known.get(r);
    return reserve && reserve.mintDynamic !== 0 ? [getRefreshMintInstruction({ reserve: r, mint: reserve.mint })] : [];
  });
}

export type Move = 'deposit' | 'withdraw' | 'borrow' | 'repay';

export interface MoveRequest {
  move: Move;
  market: Address;
  owner: Address;
  positionAddress: Address;
  /** `null`: the wallet has no position yet (a deposit opens it in the same transaction). */
  position: Position | null;
  index?: number;
  reserveAddress: Address;
  reserves: ReadonlyMap<Address, Reserve>;
  /** Base units; `ALL` repays or withdraws everything. */
  amount: bigint;
}

/** The instructions of a deposit, withdrawal, borrow or repayment, built as the Rust CLI builds
 * them (the wallet signs as owner). */
export async function moveInstructions(r: MoveRequest): Promise<Instruction[]> {
  const reserve = r.reserves.get(r.reserveAddress);
  if (!reserve) throw new Error(`reserve ${r.reserveAddress} is not listed in the market`);
  const owner = createNoopSigner(r.owner);
  const userTokenAccount = await associatedTokenAddress(r.owner, reserve.mint, reserve.tokenProgram);
  const tokens = {
    position: r.positionAddress,
    reserve: r.reserveAddress,
    mint: reserve.mint,
    vault: reserve.vault,
    userTokenAccount,
    tokenProgram: reserve.tokenProgram,
    amount: r.amount,
  };
  if (r.move !== 'deposit' && !r.position) {
    throw new Error(`the wallet has no position ${r.index ?? 0} in this market: a deposit opens one`);
  }
  const createAta = () => createAssociatedTokenAccountIdempotent(r.owner, r.owner, reserve.mint, reserve.tokenProgram);
  const withAccounts = (ix: Instruction, extra: AccountMeta[]): Instruction => ({
    ...ix,
    accounts: [...(ix.accounts ?? []), ...extra],
  });
  switch (r.move) {
    case 'deposit': {
      const open = r.position
        ? []
        : [getOpenPositionInstruction({ owner, market: r.market, position: r.positionAddress, index: r.index ?? 0 })];
      return [...open, getDepositInstruction({ owner, market: r.market, ...tokens })];
    }
    case 'repay':
      return [getRepayInstruction({ payer: owner, ...tokens })];
    case 'borrow': {
      const slots = healthReservesAfter(r.position, r.reserveAddress);
      const ix = getBorrowInstruction({ owner, market: r.market, ...tokens });
      return [...mintRefreshes(slots, r.reserves), await createAta(), withAccounts(ix, slotAccounts(slots, r.reserves))];
    }
    case 'withdraw': {
      // Without debt no price is needed, and none is passed.
      const hasDebt = r.position!.slots.some((s) => s.borrowShares > 0n);
      const slots = hasDebt ? occupiedReserves(r.position!) : [];
      const ix = getWithdrawInstruction({ owner, market: r.market, ...tokens });
      return [...mintRefreshes(slots, r.reserves), await createAta(), withAccounts(ix, slotAccounts(slots, r.reserves))];
    }
  }
}

/** The largest amount in `[0, upper]` the program accepts, given `refusal(amount)`: `null` when a
 * move of `amount` passes (a simulation of it), else why not. The program's checks are monotone in
 * the amount, so a bisection finds it: exact at `upper`, else within `tolerance` (relative) below
 * the true limit, never above it. `refusal` is why even the smallest unit is refused (`max` 0). */
export async function largestPassing(
  upper: bigint,
  refusal: (amount: bigint) => Promise<string | null>,
  tolerance = 1e-3,
): Promise<{ max: bigint; refusal: string | null }> {
  if (upper <= 0n) return { max: 0n, refusal: null };
  if ((await refusal(upper)) === null) return { max: upper, refusal: null };
  const first = await refusal(1n);
  if (first !== null) return { max: 0n, refusal: first };
  let [lo, hi] = [1n, upper];
  const scale = BigInt(Math.round(1 / tolerance));
  while (hi - lo > 1n && (hi - lo) * scale > lo) {
    const mid = lo + (hi - lo) / 2n;
    if ((await refusal(mid)) === null) lo = mid;
    else hi = mid;
  }
  return { max: lo, refusal: null };
}
