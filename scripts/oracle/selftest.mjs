#!/usr/bin/env node
// Self-test of the oracle's own comparison (values.mjs): the referee's notion of
// "the same information" on the cases the issues name. Run by scripts/test-oracle.sh;
// prints one line per failing case and "N passed, N failed"; exit 1 on any failure.
//
//   node scripts/oracle/selftest.mjs [--node-modules fixtures/bikeshop/node_modules]
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sameInfo, show, textInstantNs, typeOf } from './values.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const i = process.argv.indexOf('--node-modules');
const nodeModules = path.resolve(i > 0 ? process.argv[i + 1] : path.join(here, '../../fixtures/bikeshop/node_modules'));
const require = createRequire(path.join(nodeModules, '..', 'package.json'));
// decimal.js as Prisma's runtime bundles it (Prisma.Decimal) is the same library.
const Decimal = (await import(pathToFileURL(require.resolve('@prisma/client/runtime/client')).href)).Decimal;

const D = (s) => new Decimal(s);
const invalid = new Date(NaN);
const enumMap = new Map([['WAITING_FOR_PARTS', 'waiting_parts'], ['DONE', 'DONE']]);
const cases = [
  // [name, a (Prisma), b (Drizzle), same?, ctx]
  ['Invalid Date vs "infinity"', invalid, 'infinity', false],
  ['Invalid Date vs Invalid Date', invalid, new Date('x'), true],
  ['Invalid Date vs a valid Date', invalid, new Date(0), false],
  ['Date vs the same instant as PG text', new Date('2024-03-05T10:11:12.345Z'), '2024-03-05 10:11:12.345', true],
  ['Date (ms) vs text with µs', new Date('2024-03-05T10:11:12.345Z'), '2024-03-05 10:11:12.345678', false],
  ['Date (ms) vs text with ns', new Date('2024-03-05T10:11:12.123Z'), '2024-03-05T10:11:12.123000789Z', false],
  ['Date vs text with an offset', new Date('2024-03-31T00:30:00Z'), '2024-03-31T02:30:00.000+02:00', true],
  ['Date vs timestamptz text', new Date('2024-03-05T10:11:12.123Z'), '2024-03-05 10:11:12.123+00', true],
  ['Date vs date text', new Date('2024-02-29T00:00:00Z'), '2024-02-29', true],
  ['Date year 1 vs Date year 2001', new Date('0001-01-01T00:00:00Z'), new Date('2001-01-01T00:00:00Z'), false],
  ['Date vs time text 24:00:00', new Date('1970-01-02T00:00:00Z'), '24:00:00', true],
  ['Date vs BC text', new Date('0044-03-15T12:00:00Z'), '0044-03-15 12:00:00 BC', false],
  ['Date vs epoch-ms digits', new Date(1709633472123), '1709633472123', false],
  ['[] vs null (scalar list)', [], null, false],
  ['[] vs []', [], [], true],
  ['null vs null', null, null, true],
  ['bigint 2^53+1 vs number 2^53', 9007199254740993n, 9007199254740992, false],
  ['bigint -2^63 vs number -2^63 (exact double)', -9223372036854775808n, -9223372036854775808, true],
  ['bigint 2^63-1 vs number 2^63', 9223372036854775807n, 9223372036854775807, false],
  ['Decimal 1.1 vs "1.10"', D('1.1'), '1.10', true],
  ['Decimal vs longer text', D('123456789012345678.123456789012'), '123456789012345678.12345678901', false],
  ['Decimal 2^53+1 vs number', D('9007199254740993'), 9007199254740992, false],
  ['Decimal 0.1 vs number 0.1', D('0.1'), 0.1, true],
  ['Decimal NaN vs "NaN"', D('NaN'), 'NaN', true],
  ['Decimal Infinity vs "-Infinity"', D('Infinity'), '-Infinity', false],
  ['number 2 vs 2.5', 2, 2.5, false],
  ['NaN vs NaN', NaN, NaN, true],
  ['false vs 2 (plain integer boolean)', false, 2, false],
  ['true vs 1', true, 1, true],
  ['enum name vs its label', 'WAITING_FOR_PARTS', 'waiting_parts', true, { enumMap }],
  ['enum name vs another label', 'DONE', 'waiting_parts', false, { enumMap }],
  ['bytes Uint8Array vs Buffer', new Uint8Array([0, 255]), Buffer.from([0, 255]), true],
  ['bytes differ', new Uint8Array([0]), Buffer.from([1]), false],
  ['JSON key order', { b: 1, a: 2 }, { a: 2, b: 1 }, true],
  ['JSON values differ', { a: 1 }, { a: 2 }, false],
  ['array with NULL element vs without', ['a', null], ['a'], false],
];
let passed = 0;
let failed = 0;
for (const [name, a, b, want, ctx] of cases) {
  const got = sameInfo(a, b, { Decimal, ...(ctx ?? {}) });
  if (got === want) passed++;
  else {
    failed++;
    console.log(`FAIL - ${name}: sameInfo(${show(a)}, ${show(b)}) = ${got}, want ${want}`);
  }
}
const checks = [
  ['typeOf Buffer', typeOf(Buffer.from([1])), 'bytes'],
  ['typeOf Decimal', typeOf(D('1')), 'Decimal'],
  ['typeOf array of Dates', typeOf([new Date(0), null]), 'array<Date>'],
  ['textInstantNs year 10000', String(textInstantNs('10000-01-01 00:00:00')), String(BigInt(Date.UTC(10000, 0, 1)) * 1_000_000n)],
  ['show Invalid Date', show(invalid), 'Invalid Date'],
];
for (const [name, got, want] of checks) {
  if (got === want) passed++;
  else {
    failed++;
    console.log(`FAIL - ${name}: ${got}, want ${want}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
