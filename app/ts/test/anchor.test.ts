// The official Anchor client (`@coral-xyz/anchor`'s `Program`, the committed IDL) against a
// local validator with the programs loaded: deposit, borrow, repay, withdraw and liquidate, each
// given only the accounts a user chooses (the market, the asset's mint, a position to repay or
// liquidate, the token programs of a liquidation's two mints), the rest resolved from the IDL's
// relations and PDAs. Every call is checked by what it changed: token balances, and the
// position's deposit and debt read back with the generated client's decoder, so a wrongly
// resolved account (or a silently skipped call) fails the test.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AnchorProvider, BN, Program, Wallet, web3, type Idl } from '@coral-xyz/anchor';
import { address, type Address } from '@solana/kit';
import {
  associatedTokenAddress,
  describeThrown,
  describeTransactionError,
  getPositionDecoder,
  getReserveDecoder,
  healthReservesAfter,
  moveInstructions,
  occupiedReserves,
  slotAccounts,
  type Position,
  type Reserve,
} from '../src';

const root = join(__dirname, '../../../..');
const work = join(root, 'target/ts-anchor');
const ledger = join(work, 'ledger');
const cli = join(root, 'target/debug/ballast');
const idl = JSON.parse(readFileSync(join(root, 'idl/ballast.json'), 'utf8')) as Idl;

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer().once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
/** RPC, websocket, faucet and the validator's other ports: 61 free ports from a base. */
async function freeBlock(size: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 30_000 + ((process.pid * 173 + attempt * 89) % 25_000);
    let ok = true;
    for (let p = base; p < base + size && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error('no free block of ports on 127.0.0.1');
}

const ctx = {} as {
  url: string;
  market: Address;
  mints: Record<string, Address>;
  reserves: Record<string, Address>;
  pubkey: Record<string, Address>;
  connection: web3.Connection;
  validatorStarted: boolean;
};

/** The Rust CLI, for what is not under test here: keys, airdrops, the market, prices. */
function ballast(who: string, args: string[]) {
  const market = ctx.market ? ['--market', ctx.market] : [];
  const out = execFileSync(cli, ['-u', ctx.url, '-k', join(work, `${who}.json`), '--output', 'json', ...market, ...args], {
    encoding: 'utf8',
    env: { ...process.env, RUST_LOG: 'error' },
  });
  const value = JSON.parse(out);
  if (value.error) throw new Error(`ballast ${args.join(' ')}: ${value.error}`);
  return value;
}
const feed = (n: number) => n.toString(16).padStart(2, '0').repeat(32);
/** SOL at `sol` dollars, USDC at 1, TSLAx at 250, published now (a price is good for borrowing
 * for ~20 s on localnet). */
const postPrices = (sol: number) => {
  for (const [n, price] of [[2, 1], [3, 250], [1, sol]]) ballast('admin', ['oracle', 'post', '--feed', feed(n), '--price', String(price)]);
};

function keypair(who: string): web3.Keypair {
  return web3.Keypair.fromSecretKey(Uint8Array.from(JSON.parse(readFileSync(join(work, `${who}.json`), 'utf8'))));
}
/** A `Program` whose provider (fee payer, default signer) is `who`'s key. */
function programOf(who: string): Program {
  const provider = new AnchorProvider(ctx.connection, new Wallet(keypair(who)), { commitment: 'confirmed' });
  return new Program(idl, provider);
}
const pk = (a: Address) => new web3.PublicKey(a);

/** Sends what a `program.methods…` builder resolved, signed by the program's provider, and waits
 * for confirmation by polling (Anchor's `.rpc()` confirms over a websocket that keeps
 * reconnecting once the validator stops). A refusal throws with the program's error in words. */
async function send(program: Program, builder: { transaction(): Promise<web3.Transaction> }): Promise<string> {
  const provider = program.provider as AnchorProvider;
  const tx = await builder.transaction();
  tx.feePayer = provider.wallet.publicKey;
  tx.recentBlockhash = (await ctx.connection.getLatestBlockhash('confirmed')).blockhash;
  const signed = await provider.wallet.signTransaction(tx);
  const signature = await ctx.connection.sendRawTransaction(signed.serialize()).catch((e: Error & { logs?: string[] }) => {
    throw new Error(describeThrown(e, { logs: e.logs ?? [], feePayer: tx.feePayer!.toBase58() }));
  });
  for (let i = 0; i < 120; i++) {
    const { value } = await ctx.connection.getSignatureStatuses([signature]);
    if (value[0]?.err) throw new Error(describeTransactionError(value[0].err));
    if (value[0]?.confirmationStatus === 'confirmed' || value[0]?.confirmationStatus === 'finalized') return signature;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${signature} not confirmed within 30 s`);
}

async function reserveOf(key: Address): Promise<Reserve> {
  const info = await ctx.connection.getAccountInfo(pk(key));
  assert.ok(info, `reserve ${key}`);
  return getReserveDecoder().decode(new Uint8Array(info.data));
}
async function positionOf(key: web3.PublicKey): Promise<Position | null> {
  const info = await ctx.connection.getAccountInfo(key);
  return info ? getPositionDecoder().decode(new Uint8Array(info.data)) : null;
}
/** A position's deposit shares and borrow shares in `reserve` (0 when no slot holds it). */
function slotOf(position: Position | null, reserve: Address) {
  const slot = position?.slots.find((s) => s.reserve === reserve);
  return { deposit: slot?.depositShares ?? 0n, debt: slot?.borrowShares ?? 0n };
}
/** Base units `owner` holds of `mint` (0 without an account). */
async function balance(owner: Address, mint: Address): Promise<bigint> {
  const reserve = await reserveOf(ctx.reserves[symbolOf(mint)]);
  const ata = await associatedTokenAddress(owner, mint, reserve.tokenProgram);
  const info = await ctx.connection.getTokenAccountBalance(pk(ata)).catch(() => null);
  return info ? BigInt(info.value.amount) : 0n;
}
const symbolOf = (mint: Address) => Object.keys(ctx.mints).find((s) => ctx.mints[s] === mint)!;

/** The remaining accounts of a health check: (reserve, price account) per slot, in slot order. */
async function healthRemaining(slots: Address[]): Promise<web3.AccountMeta[]> {
  const reserves = new Map<Address, Reserve>();
  for (const r of slots) reserves.set(r, await reserveOf(r));
  return slotAccounts(slots, reserves).map((m) => ({ pubkey: pk(m.address), isSigner: false, isWritable: false }));
}

/** Idempotent creation of `owner`'s associated token account of `mint` (paid by `payer`). */
async function createAta(payer: Address, owner: Address, mint: Address): Promise<web3.TransactionInstruction> {
  const tokenProgram = (await reserveOf(ctx.reserves[symbolOf(mint)])).tokenProgram;
  const ata = await associatedTokenAddress(owner, mint, tokenProgram);
  return new web3.TransactionInstruction({
    programId: new web3.PublicKey('ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL'),
    keys: [
      { pubkey: pk(payer), isSigner: true, isWritable: true },
      { pubkey: pk(ata), isSigner: false, isWritable: true },
      { pubkey: pk(owner), isSigner: false, isWritable: false },
      { pubkey: pk(mint), isSigner: false, isWritable: false },
      { pubkey: web3.SystemProgram.programId, isSigner: false, isWritable: false },
      { pubkey: pk(tokenProgram), isSigner: false, isWritable: false },
    ],
    data: Buffer.from([1]),
  });
}

before(async () => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const port = await freeBlock(61);
  execFileSync('bash', [join(root, 'scripts/localnet/validator.sh'), 'start', ledger, String(port)], { stdio: 'inherit' });
  ctx.validatorStarted = true;
  ctx.url = `http://127.0.0.1:${port}`;
  ctx.connection = new web3.Connection(ctx.url, 'confirmed');
  ctx.pubkey = {};
  for (const who of ['admin', 'user', 'keeper']) {
    ctx.pubkey[who] = ballast(who, ['keygen', join(work, `${who}.json`)]).pubkey;
    ballast(who, ['airdrop', '10']);
  }
  const report = ballast('admin', ['market', 'bootstrap', '--config', join(root, 'migrations/localnet.toml')]);
  ctx.market = report.market;
  ctx.mints = Object.fromEntries(report.reserves.map((r: { name: string; mint: string }) => [r.name, r.mint]));
  ctx.reserves = Object.fromEntries(report.reserves.map((r: { name: string; reserve: string }) => [r.name, r.reserve]));
  ballast('admin', ['token', 'mint', ctx.mints.SOL, '10', '--to', ctx.pubkey.user]);
  ballast('admin', ['token', 'mint', ctx.mints.USDC, '10000']);
  ballast('admin', ['token', 'mint', ctx.mints.USDC, '10', '--to', ctx.pubkey.user]); // for the interest
  ballast('admin', ['token', 'mint', ctx.mints.USDC, '1000', '--to', ctx.pubkey.keeper]);
  postPrices(100);
  ballast('admin', ['deposit', ctx.mints.USDC, '10000']);
});

after(() => {
  if (!ctx.validatorStarted) return;
  try {
    execFileSync('bash', [join(root, 'scripts/localnet/validator.sh'), 'stop', ledger], { stdio: 'inherit' });
  } catch {}
});

test('Anchor`s Program resolves every account a user does not choose: deposit, borrow, repay, withdraw, liquidate', async () => {
  const user = programOf('user');
  const owner = ctx.pubkey.user;
  const market = pk(ctx.market);
  const [SOL, USDC] = [ctx.mints.SOL, ctx.mints.USDC];
  const [position] = web3.PublicKey.findProgramAddressSync(
    [Buffer.from('position'), market.toBuffer(), pk(owner).toBuffer(), Buffer.from([0, 0, 0, 0])],
    pk(idl.address as Address),
  );

  // open_position: the market and the index; the position is the IDL's PDA of the two.
  await send(user, user.methods.openPosition(0).accounts({ market }));
  assert.ok(await positionOf(position), 'the position exists at the PDA the Rust SDK derives');

  // deposit 10 SOL: market and mint; owner (the provider), position, reserve, vault, the
  // wallet's token account and the token program resolved.
  // What Anchor resolved is what the generated client builds for the same deposit.
  const resolved = await user.methods.deposit(new BN(10_000_000_000)).accounts({ market, mint: pk(SOL) }).instruction();
  const solReserveAddress = ctx.reserves.SOL;
  const generated = await moveInstructions({
    move: 'deposit',
    market: ctx.market,
    owner,
    positionAddress: address(position.toBase58()),
    position: await positionOf(position),
    reserveAddress: solReserveAddress,
    reserves: new Map([[solReserveAddress, await reserveOf(solReserveAddress)]]),
    amount: 10_000_000_000n,
  });
  assert.deepEqual(
    resolved.keys.map((k) => [k.pubkey.toBase58(), k.isSigner, k.isWritable]),
    generated[generated.length - 1].accounts!.map((a) => [a.address, a.role >= 2, (a.role & 1) === 1]),
    'the same accounts, in the same order, with the same roles',
  );
  assert.deepEqual([...resolved.data], [...generated[generated.length - 1].data!]);
  const solBefore = await balance(owner, SOL);
  await send(user, user.methods.deposit(new BN(10_000_000_000)).accounts({ market, mint: pk(SOL) }));
  assert.equal(solBefore - (await balance(owner, SOL)), 10_000_000_000n, 'the wallet paid 10 SOL');
  assert.ok(slotOf(await positionOf(position), ctx.reserves.SOL).deposit > 0n, 'the position holds SOL');

  // borrow 500 USDC against it: the health check's (reserve, price) pairs are the remaining
  // accounts (the IDL cannot name them: they depend on the position's slots).
  postPrices(100);
  let p = await positionOf(position);
  const borrowSlots = healthReservesAfter(p, ctx.reserves.USDC);
  const usdcBefore = await balance(owner, USDC);
  await send(user, user.methods
    .borrow(new BN(500_000_000))
    .accounts({ market, mint: pk(USDC) })
    .remainingAccounts(await healthRemaining(borrowSlots)));
  assert.equal((await balance(owner, USDC)) - usdcBefore, 500_000_000n, 'the wallet received 500 USDC');
  const debtAfterBorrow = slotOf(await positionOf(position), ctx.reserves.USDC).debt;
  assert.ok(debtAfterBorrow > 0n, 'the position owes USDC');

  // repay 200 USDC: the position to repay and the mint; the reserve comes from the position's
  // market, the payer's token account from the provider.
  await send(user, user.methods.repay(new BN(200_000_000)).accounts({ position, mint: pk(USDC) }));
  const debtAfterRepay = slotOf(await positionOf(position), ctx.reserves.USDC).debt;
  assert.ok(debtAfterRepay < debtAfterBorrow, `debt shares ${debtAfterBorrow} → ${debtAfterRepay}`);
  assert.equal(usdcBefore + 500_000_000n - (await balance(owner, USDC)), 200_000_000n, 'the wallet paid 200 USDC');

  // withdraw 1 SOL with debt outstanding: priced by the position's slots.
  postPrices(100);
  p = await positionOf(position);
  const depositBefore = slotOf(p, ctx.reserves.SOL).deposit;
  await send(user, user.methods
    .withdraw(new BN(1_000_000_000))
    .accounts({ market, mint: pk(SOL) })
    .remainingAccounts(await healthRemaining(occupiedReserves(p!))));
  assert.equal(await balance(owner, SOL), 1_000_000_000n, 'the wallet has 1 SOL back');
  assert.ok(slotOf(await positionOf(position), ctx.reserves.SOL).deposit < depositBefore);

  // SOL falls to $40: 9 SOL × $40 × 0.8 = $288 of maintenance collateral against ~$300 of debt.
  // A keeper liquidates with the position, the two mints and their token programs; the market
  // (the position's), both reserves, vaults, the keeper's token accounts and the seized
  // reserve's insurance pool resolved.
  postPrices(40);
  const keeper = programOf('keeper');
  const solReserve = await reserveOf(ctx.reserves.SOL);
  const usdcReserve = await reserveOf(ctx.reserves.USDC);
  p = await positionOf(position);
  const before = slotOf(p, ctx.reserves.USDC).debt;
  const keeperUsdc = await balance(ctx.pubkey.keeper, USDC);
  await send(keeper, keeper.methods
    .liquidate(new BN(100_000_000))
    .accounts({
      position,
      repayMint: pk(USDC),
      repayTokenProgram: pk(usdcReserve.tokenProgram),
      seizeMint: pk(SOL),
      seizeTokenProgram: pk(solReserve.tokenProgram),
      liquidatorPosition: null,
    } as never)
    .preInstructions([await createAta(ctx.pubkey.keeper, ctx.pubkey.keeper, SOL)])
    .remainingAccounts(await healthRemaining(occupiedReserves(p!))));
  const after = slotOf(await positionOf(position), ctx.reserves.USDC).debt;
  assert.ok(after < before, `the liquidation repaid debt: shares ${before} → ${after}`);
  const repaid = keeperUsdc - (await balance(ctx.pubkey.keeper, USDC));
  assert.ok(repaid > 0n && repaid <= 100_000_000n, `the keeper repaid ${repaid} (at most 100 USDC)`);
  assert.ok((await balance(ctx.pubkey.keeper, SOL)) > 0n, 'the keeper seized SOL');
});

test('an account the IDL cannot resolve is asked for by name', async () => {
  // Without the market (or a reserve or position to read it from), a deposit cannot be built.
  const user = programOf('user');
  await assert.rejects(
    user.methods.deposit(new BN(1)).accounts({ mint: pk(ctx.mints.SOL) } as never).instruction(),
    /Reached maximum depth for account resolution|market/,
  );
});
