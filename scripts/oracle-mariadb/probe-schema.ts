// The MariaDB oracle's probe table as drizzle-orm mysql-core maps it (read
// through mysql2). One column per read mode under test; see setup.sql.
import { customType, mysqlTable, int, datetime, timestamp, date, time, boolean, tinyint, bigint, decimal, float, double, json, mysqlEnum, binary, varbinary, char, varchar } from 'drizzle-orm/mysql-core';

// mysql-core has no BLOB builder: a customType is how an app declares one.
const blob = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'blob' });

export const probe = mysqlTable('probe', {
  id: int('id').primaryKey(),
  dt3_d: datetime('dt3_d', { mode: 'date', fsp: 3 }),
  dt6_s: datetime('dt6_s', { mode: 'string', fsp: 6 }),
  dt6_d: datetime('dt6_d', { mode: 'date', fsp: 6 }),
  dt0_s: datetime('dt0_s', { mode: 'string' }),
  ts6_d: timestamp('ts6_d', { mode: 'date', fsp: 6 }),
  ts3_s: timestamp('ts3_s', { mode: 'string', fsp: 3 }),
  d_s: date('d_s', { mode: 'string' }),
  d_d: date('d_d', { mode: 'date' }),
  tm: time('tm', { fsp: 6 }),
  b: boolean('b'),
  b_int: tinyint('b_int'),
  big_n: bigint('big_n', { mode: 'number' }),
  big_b: bigint('big_b', { mode: 'bigint' }),
  ubig_n: bigint('ubig_n', { mode: 'number', unsigned: true }),
  ubig_b: bigint('ubig_b', { mode: 'bigint', unsigned: true }),
  dec_s: decimal('dec_s', { precision: 65, scale: 30 }),
  dec_n: decimal('dec_n', { precision: 65, scale: 30, mode: 'number' }),
  f: float('f'),
  dbl: double('dbl'),
  j: json('j'),
  e: mysqlEnum('e', ['a', 'B', 'c d']),
  bin: binary('bin', { length: 4 }),
  vb: varbinary('vb', { length: 8 }),
  bl: blob('bl'),
  c: char('c', { length: 5 }),
  txt: varchar('txt', { length: 20 }),
});
