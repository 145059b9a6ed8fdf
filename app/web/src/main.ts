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
  computeBudgetInstructions,
  decodeOraclePrice,
  describeTransactionError,
  fetchMarketAccount,
  fetchMarkets,
  fetchReserves,
  fetchWalletPosition,
  findMarketLookupTable,
  healthFigures,
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
  type Reserve,
} from '@ballast/client';
import type { Wallet, WalletAccount } from '@wallet-standard/base';
import { healthChart } from './chart';
import { marketHours, sessionOpen } from './session';
import { connect, onWalletsChanged, signingWallets, signTransaction } from './wallet';

const params = new URLSearchParams(location.search);
const rpcUrl = params.get('rpc') ?? 'http://127.0.0.1:8899';
const chain =
  params.get('chain') ??
  (/127\.0\.0\.1|localhost/.test(rpcUrl) ? 'solana:localnet' : /devnet/.test(rpcUrl) ? 'solana:devnet' : 'solana:mainnet');
// Names for mints, like the Solana CLI's address labels: `?labels=<mint>:SOL,<mint>:USDC`.
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
} = { reserves: new Map(), table: null };

const short = (a: string) => `${a.slice(0, 4)}…${a.slice(-4)}`;
const nameOf = (r: Reserve) => labels.get(r.mint) ?? short(r.mint);
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
      const price = read
        ? `$${read.price.toFixed(4)} <small>±${standing.band.toFixed(4)} band, ${standing.ageSecs} s old</small>` +
          (standing.refusal ? ` <b class="bad">${standing.refusal}: no new borrow against it</b>` : '')
        : '<b class="bad">no price</b>';
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
      return `<tr data-reserve="${s.reserve}"><td>${nameOf(r)}</td><td>${amount(s.depositAmount, r.decimals)}</td>
        <td>${amount(s.debtAmount, r.decimals)}</td><td>$${s.price.toFixed(4)} <small>±${s.band.toFixed(4)} band, ${s.ageSecs} s old</small></td>
        <td class="liquidation-price">${s.liquidationPrice === null ? '–' : `$${s.liquidationPrice.toFixed(4)}`}</td></tr>`;
    })
    .join('');
  $('position').innerHTML = `<div class="figures">
      <span>health factor <b id="health-factor" class="${f.liquidatable ? 'bad' : 'good'}">${hf}</b></span>
      <span>leverage <b id="leverage">${f.leverage === null ? '–' : `${f.leverage.toFixed(3)}×`}</b></span>
      <span id="liquidatable">${f.liquidatable ? '<b class="bad">liquidatable</b>' : 'not liquidatable'}</span>
      <span>collateral ${usd(f.collateralUsd)} (maintenance ${usd(f.maintCollateralUsd)})</span>
      <span>debt ${usd(f.debtUsd)}</span></div>
    <p id="stress">joint stress shock: initial collateral ${usd(f.initCollateralUsd)} → ${usd(f.stressedInitCollateralUsd)}
      against initial debt ${usd(f.initDebtUsd)}: ${f.passesInitial ? '<span class="good">may borrow or withdraw more</span>' : '<b class="bad">reduce-only (no new borrow or withdrawal)</b>'}</p>
    <p><small>position <code id="position-address">${positionAddress}</code></small></p>
    <table><tr><th>asset</th><th>deposit</th><th>debt</th><th>price</th><th>liquidation price</th></tr>${slots}</table>`;
  $('charts').innerHTML = f.slots
    .map((s, i) => (s.depositAmount > 0n && s.liquidationPrice !== null ? healthChart(f, i, nameOf(state.reserves.get(s.reserve)!)) : ''))
    .join('');
}

function parseUnits(text: string, decimals: number, move: Move): bigint {
  const t = text.trim();
  if (t === 'all' && (move === 'withdraw' || move === 'repay')) return ALL;
  if (!/^\d+(\.\d+)?$/.test(t)) throw new Error(`"${text}" is not an amount`);
  const [whole, fraction = ''] = t.split('.');
  if (fraction.length > decimals) throw new Error(`at most ${decimals} decimals`);
  return BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, '0') || '0');
}

async function confirm(signature: Signature) {
  for (let i = 0; i < 60; i++) {
    const { value } = await rpc.getSignatureStatuses([signature]).send();
    const s = value[0];
    if (s?.err) throw new Error(describeTransactionError(s.err));
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
    const ixs = await moveInstructions({ move, market: state.market, owner, positionAddress, position, reserveAddress, reserves: state.reserves, amount: units });
    const tables = state.table ? [state.table] : [];
    // Simulated first: the amount is checked by the program itself before anything is signed.
    status('simulating…');
    const sim = await simulateInstructions(rpc, owner, [...computeBudgetInstructions(1_400_000, 0n), ...ixs], tables);
    if (sim.err) {
      const logs = sim.logs.filter((l) => !l.includes(' consumed ')).slice(-3).join('\n');
      return status(`refused, nothing signed: ${describeTransactionError(sim.err)}\n${logs}`, true);
    }
    const limit = Math.min(1_400_000, Math.ceil(Number(sim.unitsConsumed ?? 200_000n) * 1.1) + 5_000);
    const { value: blockhash } = await rpc.getLatestBlockhash().send();
    const message = v0Message(owner, [...computeBudgetInstructions(limit, 0n), ...ixs], blockhash, tables);
    const wire = new Uint8Array(getTransactionEncoder().encode(compileTransaction(message)));
    status(`simulated (${sim.unitsConsumed} compute units): sign in ${state.wallet.name}…`);
    const signed = await signTransaction(state.wallet, state.account, wire, chain);
    const signature = await rpc.sendTransaction(getBase64Decoder().decode(signed) as never, { encoding: 'base64' }).send();
    await confirm(signature);
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
  const market = await pickMarket();
  if (!market) return status(`No Ballast market on ${rpcUrl}: pass one with ?market=<address>&rpc=<url>`, true);
  await loadMarket(market);
  $('connect').addEventListener('click', () => connectWallet().catch((e) => status(`${e.message}`, true)));
  $('move').addEventListener('submit', (e) => void sendMove(e));
  $('refresh').addEventListener('click', () => void refresh());
  onWalletsChanged(() => status(`${signingWallets().length} wallet(s) available`));
  await refresh();
  document.body.dataset.ready = '1';
}

void start().catch((e) => status(`failed to start: ${(e as Error).message}`, true));
