// The Ballast web app: reserves, your position's health from the program's own views, and
// deposits, withdrawals, borrows and repayments signed by a Wallet Standard wallet. Every move
// is simulated first: a refusal shows the program's error by name and nothing is signed.
import {
  address,
  compileTransaction,
  createSolanaRpc,
  getBase64Decoder,
  getTransactionEncoder,
  type Address,
  type Signature,
} from '@solana/kit';
import {
  accountBytes,
  ALL,
  associatedTokenAddress,
  computeBudgetInstructions,
  decodeOraclePrice,
  describeThrown,
  describeTransactionError,
  fetchMarketAccount,
  fetchMarkets,
  fetchMintSymbols,
  fetchReserves,
  fetchWalletPosition,
  findMarketLookupTable,
  healthFigures,
  largestPassing,
  moveInstructions,
  priceStanding,
  simulateHealth,
  simulateInstructions,
  simulateReserveStatus,
  v0Message,
  type HealthFigures,
  type LookupTable,
  type Market,
  type Move,
  type Position,
  type Reserve,
  type ReserveStatus,
} from '@ballast/client';
import type { Wallet, WalletAccount } from '@wallet-standard/base';
import { healthChart } from './chart';
import { marketHours, sessionOpen } from './session';
import { connect, onWalletsChanged, signingWallets, signTransaction } from './wallet';

const params = new URLSearchParams(location.search);
// Without `?rpc=`, the local validator on its default port (`solana-test-validator`,
// `scripts/localnet/validator.sh start`).
const DEFAULT_RPC = 'http://127.0.0.1:8899';
const rpcUrl = params.get('rpc') ?? DEFAULT_RPC;
const chain =
  params.get('chain') ??
  (/127\.0\.0\.1|localhost/.test(rpcUrl) ? 'solana:localnet' : /devnet/.test(rpcUrl) ? 'solana:devnet' : 'solana:mainnet');
// Names for mints, like the Solana CLI's address labels: `?labels=<mint>:SOL,<mint>:USDC`;
// without one, the symbol the mint names itself by (Token-2022 metadata, else Metaplex).
const labels = new Map(
  (params.get('labels') ?? '')
    .split(',')
    .filter(Boolean)
    .map((pair) => pair.split(':') as [string, string]),
);
const rpc = createSolanaRpc(rpcUrl);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const state: {
  market?: Address;
  marketAccount?: Market;
  reserves: Map<Address, Reserve>;
  table: LookupTable | null;
  wallet?: Wallet;
  account?: WalletAccount;
  figures?: HealthFigures;
  symbols: Map<Address, string>;
  statuses: Map<Address, ReserveStatus>;
  /** Why the program would refuse a borrow against each reserve's price now, if it would. */
  refusals: Map<Address, string>;
} = { reserves: new Map(), table: null, symbols: new Map(), statuses: new Map(), refusals: new Map() };

const short = (a: string) => `${a.slice(0, 4)}…${a.slice(-4)}`;
const nameOf = (r: Reserve) => labels.get(r.mint) ?? state.symbols.get(r.mint) ?? short(r.mint);
/** A price the program would not lend against, in the words both tables use. */
const unavailable = (refusal: string) => `<b class="bad warn">price unavailable for borrowing: ${refusal}</b>`;
/** The health factor's colour: red below 1 (liquidatable), amber from 1 up to 1.1 (a fall of
 * ~9 % in collateral value from liquidation), green from 1.1 (docs/decisions.md, "First hour"). */
const AMBER_BELOW = 1.1;
const tone = (hf: number | null) => (hf === null || hf >= AMBER_BELOW ? 'hf-ok' : hf >= 1 ? 'hf-near' : 'hf-low');
const amount = (units: bigint, decimals: number) => (Number(units) / 10 ** decimals).toLocaleString('en-US', { maximumFractionDigits: 6 });
const usd = (v: number) => `$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const pct = (bps: number) => `${(bps / 100).toFixed(2)} %`;

function status(text: string, error = false) {
  const el = $('status');
  el.textContent = text;
  el.className = error ? 'error' : '';
}

/** The simulation fee payer before a wallet connects: the market's admin (it exists). */
const viewer = () => (state.account ? address(state.account.address) : state.marketAccount!.admin);

async function loadMarket(market: Address) {
  state.market = market;
  state.marketAccount = await fetchMarketAccount(rpc, market);
  state.reserves = await fetchReserves(rpc, market);
  state.table = await findMarketLookupTable(rpc, state.marketAccount.admin, market).catch(() => null);
  state.symbols = await fetchMintSymbols(rpc, [...state.reserves.values()].map((r) => r.mint)).catch(() => new Map());
  $('connection').innerHTML = `RPC <code>${rpcUrl}</code>`;
  const select = $<HTMLSelectElement>('move-reserve');
  select.innerHTML = [...state.reserves]
    .map(([key, r]) => `<option value="${key}">${nameOf(r)}</option>`)
    .join('');
}

async function renderReserves() {
  const now = Math.floor(Date.now() / 1000);
  const rows = await Promise.all(
    [...state.reserves].map(async ([key, r]) => {
      const [s, oracle] = await Promise.all([
        simulateReserveStatus(rpc, viewer(), key, r),
        accountBytes(rpc, r.oracle.priceAccount),
      ]);
      const read = decodeOraclePrice(r.oracle.source, oracle);
      const standing = priceStanding(read, r.oracle, now);
      state.statuses.set(key, s);
      if (standing.refusal) state.refusals.set(key, standing.refusal);
      else state.refusals.delete(key);
      const price = read
        ? `$${read.price.toFixed(4)} <small>±${standing.band.toFixed(4)} band, ${standing.ageSecs} s old</small>` +
          (standing.refusal ? ` ${unavailable(standing.refusal)}` : '')
        : unavailable('no price');
      const cap = (v: bigint) => (v === ALL ? 'no cap' : amount(v, r.decimals));
      const hours = r.session.enabled
        ? `${marketHours(r.session)}: ${sessionOpen(r.session, new Date()) ? 'open' : '<b class="bad">closed, reduce-only</b>'}`
        : 'around the clock';
      return `<tr data-mint="${r.mint}">
        <td>${nameOf(r)}</td>
        <td class="oracle-price">${price}</td>
        <td>${pct(s.utilizationBps)}</td><td>${pct(s.borrowAprBps)}</td>
        <td>${amount(s.totalDepositAssets, r.decimals)} / ${cap(r.depositCap)}</td>
        <td>${amount(s.totalDebt, r.decimals)} / ${cap(r.borrowCap)}</td>
        <td>${amount(s.pool.balance, r.decimals)} / ${amount(s.pool.target, r.decimals)} (${pct(s.pool.coverageBps)})</td>
        <td>${hours}</td></tr>`;
    }),
  );
  $('reserves').innerHTML = `<tr><th>asset</th><th>oracle price</th><th>utilization</th><th>borrow APR</th>
    <th>deposits / cap</th><th>debt / cap</th><th>insurance pool / target (coverage)</th><th>market hours</th></tr>${rows.join('')}`;
}

async function renderPosition() {
  if (!state.account || !state.market) return;
  const owner = address(state.account.address);
  const { address: positionAddress, position } = await fetchWalletPosition(rpc, state.market, owner, 0);
  if (!position) {
    state.figures = undefined;
    $('position').innerHTML = 'No position yet: your first deposit opens one.';
    $('charts').innerHTML = '';
    return;
  }
  const report = await simulateHealth(rpc, owner, positionAddress, position, state.reserves, state.table ? [state.table] : []);
  const f = healthFigures(report);
  state.figures = f;
  const hf = f.healthFactor === null ? '∞' : f.healthFactor.toFixed(4);
  const slots = f.slots
    .map((s) => {
      const r = state.reserves.get(s.reserve)!;
      const refusal = state.refusals.get(s.reserve);
      // A band too wide to borrow against is no band to show (the view reports none): the
      // reserves table's words instead.
      const price = refusal
        ? `$${s.price.toFixed(4)} <small>${s.ageSecs} s old</small> ${unavailable(refusal)}`
        : `$${s.price.toFixed(4)} <small>±${s.band.toFixed(4)} band, ${s.ageSecs} s old</small>`;
      return `<tr data-reserve="${s.reserve}"><td>${nameOf(r)}</td><td>${amount(s.depositAmount, r.decimals)}</td>
        <td>${amount(s.debtAmount, r.decimals)}</td><td class="slot-price">${price}</td>
        <td class="liquidation-price">${s.liquidationPrice === null ? '–' : `$${s.liquidationPrice.toFixed(4)}`}</td></tr>`;
    })
    .join('');
  $('position').innerHTML = `<div class="figures">
      <span>health factor <b id="health-factor" class="${tone(f.healthFactor)}">${hf}</b></span>
      <span>leverage <b id="leverage">${f.leverage === null ? '–' : `${f.leverage.toFixed(3)}×`}</b></span>
      <span id="liquidatable">${f.liquidatable ? '<b class="bad">liquidatable</b>' : 'not liquidatable'}</span>
      <span>collateral ${usd(f.collateralUsd)} (maintenance ${usd(f.maintCollateralUsd)})</span>
      <span>debt ${usd(f.debtUsd)}</span></div>
    <p id="stress">joint stress shock: initial collateral ${usd(f.initCollateralUsd)} → ${usd(f.stressedInitCollateralUsd)}
      against initial debt ${usd(f.initDebtUsd)}${f.passesInitial ? '' : ': <b class="bad">reduce-only (no new borrow or withdrawal)</b>'}</p>
    <div id="limits">${await limitsHtml(owner, positionAddress, position, f)}</div>
    <p><small>position <code id="position-address">${positionAddress}</code></small></p>
    <table><tr><th>asset</th><th>deposit</th><th>debt</th><th>price</th><th>liquidation price</th></tr>${slots}</table>`;
  $('charts').innerHTML = f.slots
    .map((s, i) => (s.depositAmount > 0n && s.liquidationPrice !== null ? healthChart(f, i, nameOf(state.reserves.get(s.reserve)!)) : ''))
    .join('');
}

/** Why the program refuses `move` of `units` now (a simulation of the very transaction the
 * form would send), or `null` when it passes. */
async function refusalOf(move: Move, owner: Address, positionAddress: Address, position: Position, reserveAddress: Address, units: bigint) {
  const ixs = await moveInstructions({ move, market: state.market!, owner, positionAddress, position, reserveAddress, reserves: state.reserves, amount: units });
  const sim = await simulateInstructions(rpc, owner, [...computeBudgetInstructions(1_400_000, 0n), ...ixs], state.table ? [state.table] : []);
  return sim.err ? describeTransactionError(sim.err, { programs: programsOf(ixs) }).replace(/^program error \d+: /, '') : null;
}

/** What the program would do now, per asset: how much more may be borrowed or withdrawn (the
 * largest amount whose simulation passes), or why not. "Can borrow more" only when a borrow of
 * some asset would pass. */
async function limitsHtml(owner: Address, positionAddress: Address, position: Position, f: HealthFigures): Promise<string> {
  const lines: string[] = [];
  let borrowable = false;
  const reasons = new Map<string, number>();
  for (const [key, r] of state.reserves) {
    const s = state.statuses.get(key);
    const free = s ? s.totalDepositAssets - s.totalDebt : 0n;
    const headroom = r.borrowCap === ALL || !s ? free : r.borrowCap - s.totalDebt;
    const upper = free < headroom ? free : headroom;
    const borrow = await largestPassing(upper > 0n ? upper : 1n, (u) => refusalOf('borrow', owner, positionAddress, position, key, u));
    if (borrow.max > 0n) {
      borrowable = true;
      lines.push(`<li data-borrow="${key}" data-units="${borrow.max}">${nameOf(r)}: can borrow up to <b class="max-borrow">${amount(borrow.max, r.decimals)}</b></li>`);
    } else if (borrow.refusal) {
      reasons.set(borrow.refusal, (reasons.get(borrow.refusal) ?? 0) + 1);
      lines.push(`<li data-borrow="${key}">${nameOf(r)}: no borrow now: ${borrow.refusal}</li>`);
    }
  }
  for (const slot of f.slots.filter((x) => x.depositAmount > 0n)) {
    const r = state.reserves.get(slot.reserve)!;
    const withdraw = await largestPassing(slot.depositAmount, (u) => refusalOf('withdraw', owner, positionAddress, position, slot.reserve, u));
    lines.push(
      withdraw.max > 0n
        ? `<li data-withdraw="${slot.reserve}" data-units="${withdraw.max}">${nameOf(r)}: can withdraw up to <b class="max-withdraw">${amount(withdraw.max, r.decimals)}</b></li>`
        : `<li data-withdraw="${slot.reserve}">${nameOf(r)}: no withdrawal now: ${withdraw.refusal}</li>`,
    );
  }
  const stale = [...state.refusals].filter(([k]) => f.slots.some((x) => x.reserve === k)).map(([k, why]) => `${nameOf(state.reserves.get(k)!)}: ${why}`);
  const headline = borrowable
    ? '<span class="good" id="can-borrow">can borrow more now</span> (each amount alone, as the program would check it now):'
    : `<b class="bad" id="can-borrow">cannot borrow more now</b>: ${
        // A price the program will not lend against explains every refusal; else the reason
        // the program gives most often.
        stale.length
          ? `price unavailable for borrowing (${stale.join(', ')})`
          : ([...reasons].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'no asset is borrowable')
      }`;
  return `<p>${headline}</p><ul>${lines.join('')}</ul>`;
}

/** Why `repay all` cannot pass: the debt now (the program's own accrual, from its `health`
 * view) against the wallet's balance, "owes X, holds Y: short by Z of USDC"; `null` when the
 * wallet holds enough. */
async function repayAllShortfall(owner: Address, positionAddress: Address, position: Position, reserveAddress: Address, reserve: Reserve) {
  const report = await simulateHealth(rpc, owner, positionAddress, position, state.reserves, state.table ? [state.table] : []);
  const debt = healthFigures(report).slots.find((s) => s.reserve === reserveAddress)?.debtAmount ?? 0n;
  const ata = await associatedTokenAddress(owner, reserve.mint, reserve.tokenProgram);
  const held = await rpc
    .getTokenAccountBalance(ata)
    .send()
    .then((r) => BigInt(r.value.amount))
    .catch(() => 0n);
  if (held >= debt) return null;
  const name = nameOf(reserve);
  return `owes ${amount(debt, reserve.decimals)} ${name}, holds ${amount(held, reserve.decimals)} ${name}: short by ${amount(debt - held, reserve.decimals)} of ${name}`;
}

function parseUnits(text: string, decimals: number, move: Move): bigint {
  const t = text.trim();
  if (t === 'all' && (move === 'withdraw' || move === 'repay')) return ALL;
  if (!/^\d+(\.\d+)?$/.test(t)) throw new Error(`"${text}" is not an amount`);
  const [whole, fraction = ''] = t.split('.');
  if (fraction.length > decimals) throw new Error(`at most ${decimals} decimals`);
  return BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, '0') || '0');
}

/** The program of each instruction of a move's transaction, in message order. */
const programsOf = (ixs: readonly { programAddress: Address }[]) => [
  ...computeBudgetInstructions(1, 0n).map((i) => i.programAddress),
  ...ixs.map((i) => i.programAddress),
];

async function confirm(signature: Signature, context: Parameters<typeof describeTransactionError>[1]) {
  for (let i = 0; i < 60; i++) {
    const { value } = await rpc.getSignatureStatuses([signature]).send();
    const s = value[0];
    if (s?.err) throw new Error(describeTransactionError(s.err, context));
    if (s && (s.confirmationStatus === 'confirmed' || s.confirmationStatus === 'finalized')) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${signature} not confirmed within 30 s`);
}

async function sendMove(event: Event) {
  event.preventDefault();
  if (!state.wallet || !state.account || !state.market) return status('Connect a wallet first.', true);
  const move = $<HTMLSelectElement>('move-kind').value as Move;
  const reserveAddress = address($<HTMLSelectElement>('move-reserve').value);
  const reserve = state.reserves.get(reserveAddress)!;
  const owner = address(state.account.address);
  try {
    const units = parseUnits($<HTMLInputElement>('move-amount').value, reserve.decimals, move);
    const { address: positionAddress, position } = await fetchWalletPosition(rpc, state.market, owner, 0);
    if (move === 'repay' && units === ALL && position) {
      const short = await repayAllShortfall(owner, positionAddress, position, reserveAddress, reserve);
      if (short) return status(`refused, nothing signed: ${short}`, true);
    }
    const ixs = await moveInstructions({ move, market: state.market, owner, positionAddress, position, reserveAddress, reserves: state.reserves, amount: units });
    const tables = state.table ? [state.table] : [];
    // Simulated first: the amount is checked by the program itself before anything is signed.
    status('simulating…');
    const sim = await simulateInstructions(rpc, owner, [...computeBudgetInstructions(1_400_000, 0n), ...ixs], tables);
    const context = { programs: programsOf(ixs), logs: sim.logs, feePayer: owner };
    if (sim.err) return status(`refused, nothing signed: ${describeTransactionError(sim.err, context)}`, true);
    const limit = Math.min(1_400_000, Math.ceil(Number(sim.unitsConsumed ?? 200_000n) * 1.1) + 5_000);
    const { value: blockhash } = await rpc.getLatestBlockhash().send();
    const message = v0Message(owner, [...computeBudgetInstructions(limit, 0n), ...ixs], blockhash, tables);
    const wire = new Uint8Array(getTransactionEncoder().encode(compileTransaction(message)));
    status(`simulated (${sim.unitsConsumed} compute units): sign in ${state.wallet.name}…`);
    const signed = await signTransaction(state.wallet, state.account, wire, chain);
    const signature = await rpc
      .sendTransaction(getBase64Decoder().decode(signed) as never, { encoding: 'base64' })
      .send()
      .catch((e: unknown) => {
        throw new Error(describeThrown(e, { feePayer: owner }));
      });
    await confirm(signature, { programs: programsOf(ixs), feePayer: owner });
    status(`${move} of ${$<HTMLInputElement>('move-amount').value} ${nameOf(reserve)} confirmed (${signature})`);
  } catch (e) {
    return status(`failed: ${(e as Error).message}`, true);
  }
  await refresh();
}

async function connectWallet() {
  const wallets = signingWallets();
  if (wallets.length === 0) return status('No Wallet Standard wallet that signs Solana transactions was found.', true);
  state.wallet = wallets[0];
  state.account = await connect(state.wallet);
  $('wallet-address').textContent = `${state.wallet.name}: ${state.account.address}`;
  await refresh();
}

async function refresh() {
  document.body.dataset.refreshed = '0';
  // An error from before is about a state that is gone: a refresh starts clean.
  if ($('status').className === 'error') status('');
  try {
    await renderReserves();
    await renderPosition();
  } catch (e) {
    status(`failed to load: ${(e as Error).message}`, true);
  }
  document.body.dataset.refreshed = String(Date.now());
}

/** The market picker: every market of the program; choosing one reloads the page on it. */
async function pickMarket(): Promise<Address | null> {
  const markets = await fetchMarkets(rpc);
  const wanted = params.get('market');
  const chosen = wanted ? address(wanted) : ([...markets.keys()][0] ?? null);
  const picker = $<HTMLSelectElement>('market-picker');
  const listed = new Map(markets);
  if (chosen && !listed.has(chosen)) listed.set(chosen, undefined as never);
  picker.innerHTML = [...listed]
    .map(([key, m]) => `<option value="${key}"${key === chosen ? ' selected' : ''}>${short(key)}${m ? ` · id ${m.marketId} · ${m.reserveCount} reserves` : ''}</option>`)
    .join('');
  picker.addEventListener('change', () => {
    params.set('market', picker.value);
    location.search = params.toString();
  });
  return chosen;
}

async function start() {
  $('connection').innerHTML = `RPC <code>${rpcUrl}</code>`;
  let market: Address | null;
  try {
    market = await pickMarket();
  } catch (e) {
    const how = params.get('rpc')
      ? 'check the address, or pass another with ?rpc=<url>'
      : 'start a local validator there (bash scripts/localnet/validator.sh start, or solana-test-validator), or pass your cluster\'s RPC with ?rpc=<url>, e.g. ?rpc=https://api.devnet.solana.com&market=<address>';
    return status(`Could not reach the Solana RPC at ${rpcUrl} (${(e as Error).message}): ${how}`, true);
  }
  if (!market) return status(`No Ballast market on ${rpcUrl}: pass one with ?market=<address>&rpc=<url>`, true);
  try {
    await loadMarket(market);
  } catch (e) {
    return status(`${(e as Error).message} (on ${rpcUrl}; choose a market above or pass ?market=<address>)`, true);
  }
  $('connect').addEventListener('click', () => connectWallet().catch((e) => status(`${e.message}`, true)));
  $('move').addEventListener('submit', (e) => void sendMove(e));
  $('refresh').addEventListener('click', () => void refresh());
  onWalletsChanged(() => status(`${signingWallets().length} wallet(s) available`));
  await refresh();
  document.body.dataset.ready = '1';
}

void start().catch((e) => status(`failed to start: ${(e as Error).message}`, true));
