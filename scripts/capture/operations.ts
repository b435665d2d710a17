// The bike-shop app's repository operations, written once per ORM the way
// the app writes them: `prisma` is the production code, `drizzle` the
// rewrite behind the feature flag. scripts/capture-queries.mjs runs both
// against a seeded fixture database and records the SQL each one sends.
//
// Every operation takes the same named parameters. Ids both sides must
// share (a new repair's id) are parameters too, so the two results can be
// compared row for row; Prisma's `@default(cuid())` would otherwise make
// each side invent its own.
//
// Packages are handed in (`deps`) rather than imported, so this file runs
// from scripts/ while the packages live in fixtures/bikeshop/node_modules.

export type Params = Record<string, any>;
/** A setting that differs per database: `{ postgresql, sqlite, mysql }`. */
export type PerDialect<T> = T | { postgresql?: T; sqlite?: T; mysql?: T };

export interface Operation {
  name: string;
  repository: string;
  description: string;
  /** Samples parameter sets from the fixture (run read-only by parity). */
  params_from?: PerDialect<string>;
  /** Literal parameter sets instead of params_from. */
  params?: Params[];
  /** Parameters parity generates fresh per iteration (shared by both sides). */
  generate?: Record<string, 'cuid' | 'uuid' | 'now'>;
  /** Result columns compared under another name, per ORM. */
  rename?: { prisma?: Record<string, string>; drizzle?: Record<string, string> };
  /** Comment lines written above the settings (why a tolerance exists). */
  comment?: PerDialect<string>;
  writes?: boolean;
  compare?: 'rows' | 'entities' | 'count';
  reason?: string;
  ignore?: PerDialect<string[]>;
  tolerance?: PerDialect<Record<string, string | number>>;
  prisma: (deps: any, p: Params) => Promise<unknown>;
  drizzle: (deps: any, p: Params) => Promise<unknown>;
}

// Plain SQL that PostgreSQL and SQLite both run (MariaDB's variant is derived below).
const CREATE_REPAIR_PARAMS =
  'WITH b AS (SELECT id, serial_number, row_number() OVER (ORDER BY random()) AS n FROM bikes), ' +
  "m AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS c FROM users WHERE role = 'MECHANIC'), " +
  'i AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS c FROM items) ' +
  'SELECT b.id AS bike_id, m.id AS mechanic_id, i1.id AS item_a, i2.id AS item_b, ' +
  "'Service for ' || b.serial_number AS description, (b.n * 37 % 50000 + 1) / 100.0 AS estimated_cost " +
  'FROM b JOIN m ON m.k = b.n % m.c JOIN i i1 ON i1.k = b.n % (i1.c - 1) JOIN i i2 ON i2.k = i1.k + 1 ' +
  'ORDER BY b.n LIMIT 100';

export const operations: Operation[] = [
  {
    name: 'find-user-by-email',
    repository: 'user',
    description: 'Log-in lookup: one staff user by e-mail (findUnique vs select … limit 1).',
    params_from: {
      postgresql: 'SELECT email FROM users ORDER BY random() LIMIT 100',
      sqlite: 'SELECT email FROM users ORDER BY random() LIMIT 100',
      mysql: 'SELECT email FROM users ORDER BY RAND() LIMIT 100',
    },
    comment: {
      sqlite:
        "The SQLite Drizzle schema reads users.created_at with integer({ mode: 'timestamp' }), which counts seconds:\n" +
        'it misreads every row Prisma wrote. `parity check` reports that mapping bug on every row; this operation\n' +
        'leaves the column out so that it still shows whether the two SQL forms return the same rows.',
    },
    ignore: { sqlite: ['users.created_at'] },
    prisma: ({ prisma }, p) => prisma.user.findUnique({ where: { email: p.email } }),
    drizzle: ({ db, schema: s, orm }, p) =>
      db.select().from(s.users).where(orm.eq(s.users.email, p.email)).limit(1),
  },
  {
    name: 'list-customer-bikes',
    repository: 'bike',
    description: "A customer's bikes, newest first.",
    params_from: {
      postgresql: 'SELECT customer_id FROM (SELECT DISTINCT customer_id FROM bikes) b ORDER BY random() LIMIT 100',
      sqlite: 'SELECT customer_id FROM (SELECT DISTINCT customer_id FROM bikes) b ORDER BY random() LIMIT 100',
      mysql: 'SELECT customer_id FROM (SELECT DISTINCT customer_id FROM bikes) b ORDER BY RAND() LIMIT 100',
    },
    prisma: ({ prisma }, p) =>
      prisma.bike.findMany({
        where: { customerId: p.customer_id },
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      }),
    drizzle: ({ db, schema: s, orm }, p) =>
      db
        .select()
        .from(s.bikes)
        .where(orm.eq(s.bikes.customerId, p.customer_id))
        .orderBy(orm.desc(s.bikes.createdAt), orm.asc(s.bikes.id)),
  },
  {
    name: 'list-customer-bikes-with-repairs',
    repository: 'bike',
    description:
      "A customer's bikes with their repairs: Prisma's include (two queries) against Drizzle's relational query (one query, json_agg over a lateral join).",
    comment: {
      postgresql:
        "repairs.estimated_cost is numeric(65,30): Prisma reads an exact Decimal, the Drizzle schema reads mode 'number'\n" +
        '(a JS double, ~16 significant digits). That loss is a mapping difference `parity check` reports per row; the\n' +
        'tolerance keeps it from hiding whether the two SQL forms return the same rows.',
      sqlite:
        "repairs.received_at holds microseconds: Prisma's Date keeps milliseconds, Drizzle's numeric() string all six\n" +
        'digits (a mapping difference `parity check` reports per row). Drizzle\'s relational query carries the nested\n' +
        'repairs through json_array(), and SQLite prints a REAL there with 15 significant digits: estimated_cost\n' +
        'loses its 16th-17th digit on that path only. The tolerances keep both from hiding whether the rows match.',
    },
    tolerance: {
      postgresql: { 'repairs.estimated_cost': '0.0000001%' },
      sqlite: { 'repairs.received_at': '1ms', 'repairs.estimated_cost': '0.0000001%' },
      mysql: { 'repairs.estimated_cost': '0.0000001%' },
    },
    params_from: {
      postgresql: 'SELECT customer_id FROM (SELECT DISTINCT customer_id FROM bikes) b ORDER BY random() LIMIT 100',
      sqlite: 'SELECT customer_id FROM (SELECT DISTINCT customer_id FROM bikes) b ORDER BY random() LIMIT 100',
      mysql: 'SELECT customer_id FROM (SELECT DISTINCT customer_id FROM bikes) b ORDER BY RAND() LIMIT 100',
    },
    prisma: ({ prisma }, p) =>
      prisma.bike.findMany({
        where: { customerId: p.customer_id },
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
        include: { repairs: true },
      }),
    drizzle: ({ db, schema: s, orm }, p) =>
      db.query.bikes.findMany({
        where: orm.eq(s.bikes.customerId, p.customer_id),
        orderBy: [orm.desc(s.bikes.createdAt), orm.asc(s.bikes.id)],
        with: { repairs: true },
      }),
  },
  {
    name: 'create-repair-with-items',
    repository: 'repair',
    description:
      'Book a bike in for repair with two parts: a nested create with connect (Prisma) against an explicit transaction of inserts (Drizzle).',
    writes: true,
    compare: 'entities',
    reason:
      'The two ORMs read back different slices of the new repair: Prisma re-selects the repair and its items, Drizzle returns the inserted rows. Entities are compared by primary key where both sides return them.',
    // Every column varies per bike, so the capture can tell parameters from
    // literals (and parity samples a different booking per iteration).
    // item_a < item_b: Prisma orders the join-table rows by item id, so the
    // placeholder order is stable only when the two ids are ordered.
    // Plain SQL that PostgreSQL and SQLite both run.
    params_from: {
      postgresql: CREATE_REPAIR_PARAMS,
      sqlite: CREATE_REPAIR_PARAMS,
      // MariaDB: RAND(), CONCAT and CAST to text for the estimated cost.
      mysql: CREATE_REPAIR_PARAMS.replace('random()', 'RAND()')
        .replace("'Service for ' || b.serial_number", "CONCAT('Service for ', b.serial_number)")
        .replace('(b.n * 37 % 50000 + 1) / 100.0', 'CAST((b.n * 37 % 50000 + 1) / 100.0 AS CHAR)'),
    },
    generate: { repair_id: 'cuid' },
    // Prisma stamps created_at/updated_at in the client (@default(now()),
    // @updatedAt); Drizzle leaves them to the database: a few ms apart.
    ignore: ['repairs.created_at', 'repairs.updated_at', 'repairs.received_at'],
    prisma: ({ prisma }, p) =>
      prisma.repair.create({
        data: {
          id: p.repair_id,
          bike: { connect: { id: p.bike_id } },
          mechanic: { connect: { id: p.mechanic_id } },
          description: p.description,
          estimatedCost: p.estimated_cost,
          status: 'RECEIVED',
          items: { connect: [{ id: p.item_a }, { id: p.item_b }] },
        },
        include: { items: true },
      }),
    drizzle: ({ db, schema: s, orm, dialect }, p) =>
      dialect === 'mysql'
        ? // MySQL has no RETURNING: insert, then read the row back.
          db.transaction(async (tx: any) => {
            await tx.insert(s.repairs).values({
              id: p.repair_id,
              bikeId: p.bike_id,
              mechanicId: p.mechanic_id,
              description: p.description,
              estimatedCost: p.estimated_cost,
              status: 'RECEIVED',
            });
            const [repair] = await tx.select().from(s.repairs).where(orm.eq(s.repairs.id, p.repair_id));
            await tx.insert(s.itemToRepair).values([
              { a: p.item_a, b: repair.id },
              { a: p.item_b, b: repair.id },
            ]);
            const items = await tx
              .select()
              .from(s.items)
              .where(orm.inArray(s.items.id, [p.item_a, p.item_b]));
            return { ...repair, items };
          })
        : dialect === 'sqlite'
        ? // better-sqlite3 transactions are synchronous.
          db.transaction((tx: any) => {
            const [repair] = tx
              .insert(s.repairs)
              .values({
                id: p.repair_id,
                bikeId: p.bike_id,
                mechanicId: p.mechanic_id,
                description: p.description,
                estimatedCost: p.estimated_cost,
                status: 'RECEIVED',
              })
              .returning()
              .all();
            tx.insert(s.itemToRepair)
              .values([
                { a: p.item_a, b: repair.id },
                { a: p.item_b, b: repair.id },
              ])
              .run();
            const items = tx
              .select()
              .from(s.items)
              .where(orm.inArray(s.items.id, [p.item_a, p.item_b]))
              .all();
            return { ...repair, items };
          })
        : db.transaction(async (tx: any) => {
        const [repair] = await tx
          .insert(s.repairs)
          .values({
            id: p.repair_id,
            bikeId: p.bike_id,
            mechanicId: p.mechanic_id,
            description: p.description,
            estimatedCost: p.estimated_cost,
            status: 'RECEIVED',
          })
          .returning();
        await tx.insert(s.itemToRepair).values([
          { a: p.item_a, b: repair.id },
          { a: p.item_b, b: repair.id },
        ]);
        const items = await tx
          .select()
          .from(s.items)
          .where(orm.inArray(s.items.id, [p.item_a, p.item_b]));
        return { ...repair, items };
      }),
  },
  {
    name: 'customer-transaction-total',
    repository: 'transaction',
    description: "A customer's lifetime spend: aggregate _sum (Prisma) against select sum() (Drizzle).",
    rename: { prisma: { '_sum$amount': 'sum' } },
    params_from: {
      postgresql: 'SELECT customer_id FROM (SELECT DISTINCT customer_id FROM transactions) t ORDER BY random() LIMIT 100',
      sqlite: 'SELECT customer_id FROM (SELECT DISTINCT customer_id FROM transactions) t ORDER BY random() LIMIT 100',
      mysql: 'SELECT customer_id FROM (SELECT DISTINCT customer_id FROM transactions) t ORDER BY RAND() LIMIT 100',
    },
    prisma: ({ prisma }, p) =>
      prisma.transaction.aggregate({ _sum: { amount: true }, where: { customerId: p.customer_id } }),
    drizzle: ({ db, schema: s, orm }, p) =>
      db
        .select({ sum: orm.sum(s.transactions.amount) })
        .from(s.transactions)
        .where(orm.eq(s.transactions.customerId, p.customer_id)),
  },
  {
    name: 'monthly-revenue-report',
    repository: 'transaction',
    description:
      "Revenue per month for a year: Prisma's $queryRaw (groupBy cannot truncate dates) against Drizzle's query builder.",
    params_from: {
      postgresql:
        'SELECT make_timestamp(y, 1, 1, 0, 0, 0) AS from_ts, make_timestamp(y + 1, 1, 1, 0, 0, 0) AS to_ts ' +
        "FROM (SELECT DISTINCT extract(year FROM occurred_at)::int AS y FROM transactions WHERE occurred_at > '1970-01-01') t ORDER BY y",
      // SQLite keeps Prisma 7's ISO-8601 text: compare it as text.
      sqlite:
        "SELECT y || '-01-01T00:00:00.000+00:00' AS from_ts, (y + 1) || '-01-01T00:00:00.000+00:00' AS to_ts " +
        "FROM (SELECT DISTINCT CAST(strftime('%Y', occurred_at) AS INTEGER) AS y FROM transactions WHERE occurred_at > '1970') t ORDER BY y",
      mysql:
        "SELECT CONCAT(y, '-01-01 00:00:00') AS from_ts, CONCAT(y + 1, '-01-01 00:00:00') AS to_ts " +
        "FROM (SELECT DISTINCT YEAR(occurred_at) AS y FROM transactions WHERE occurred_at > '1970-01-01') t ORDER BY y",
    },
    prisma: ({ prisma, dialect }, p) =>
      dialect === 'mysql'
        ? prisma.$queryRaw`
      SELECT DATE_FORMAT(occurred_at, '%Y-%m-01') AS month, sum(amount) AS revenue, count(*) AS transactions
      FROM transactions
      WHERE occurred_at >= ${p.from_ts} AND occurred_at < ${p.to_ts}
      GROUP BY 1
      ORDER BY 1`
        : dialect === 'sqlite'
        ? prisma.$queryRaw`
      SELECT strftime('%Y-%m', occurred_at) AS month, sum(amount) AS revenue, count(*) AS transactions
      FROM transactions
      WHERE occurred_at >= ${p.from_ts} AND occurred_at < ${p.to_ts}
      GROUP BY 1
      ORDER BY 1`
        : prisma.$queryRaw`
      SELECT date_trunc('month', occurred_at) AS month, sum(amount) AS revenue, count(*) AS transactions
      FROM transactions
      WHERE occurred_at >= ${p.from_ts}::timestamp AND occurred_at < ${p.to_ts}::timestamp
      GROUP BY 1
      ORDER BY 1`,
    drizzle: ({ db, schema: s, orm, dialect }, p) => {
      const month =
        dialect === 'mysql'
          ? orm.sql`DATE_FORMAT(${s.transactions.occurredAt}, '%Y-%m-01')`
          : dialect === 'sqlite'
          ? orm.sql`strftime('%Y-%m', ${s.transactions.occurredAt})`
          : orm.sql`date_trunc('month', ${s.transactions.occurredAt})`;
      return db
        .select({
          month: month.as('month'),
          revenue: orm.sum(s.transactions.amount).as('revenue'),
          transactions: orm.count().as('transactions'),
        })
        .from(s.transactions)
        .where(
          orm.and(
            orm.gte(s.transactions.occurredAt, p.from_ts),
            orm.lt(s.transactions.occurredAt, p.to_ts),
          ),
        )
        .groupBy(month)
        .orderBy(month);
    },
  },
];
