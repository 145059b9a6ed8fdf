/**
 * The Ballast TypeScript client: the code Codama generates from idl/ballast.json
 * (`./generated`: instructions, accounts, types, PDAs, errors) and a thin layer on top: the
 * market's accounts, the position's health from the program's own `health` view, v0
 * transactions with the market's lookup table, and errors by name.
 */
export * from './generated';
export * from './market';
export * from './health';
export * from './transactions';
export * from './errors';
export * from './actions';
export * from './views';
