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

export interface Operation {
  name: string;
  repository: string;
  description: string;
  /** Samples parameter sets from the fixture (run read-only by parity). */
  params_from?: string;
  /** Literal parameter sets instead of params_from. */
  params?: Params[];
  /** Parameters parity generates fresh per iteration (shared by both sides). */
  generate?: Record<string, 'cuid' | 'uuid' | 'now'>;
  /** Result columns compared under another name, per ORM. */
  rename?: { prisma?: Record<string, string>; drizzle?: Record<string, string> };
  writes?: boolean;
  compare?: 'rows' | 'entities' | 'count';
  reason?: string;
  ignore?: string[];
  tolerance?: Record<string, string | number>;
  prisma: (deps: any, p: Params) => Promise<unknown>;
  drizzle: (deps: any, p: Params) => Promise<unknown>;
}

export const operations: Operation[] = [
  {
    name: 'find-user-by-email',
    repository: 'user',
    description: 'Log-in lookup: one staff user by e-mail (findUnique vs select … limit 1).',
    params_from: 'SELECT email FROM users ORDER BY random() LIMIT 100',
    prisma: ({ prisma }, p) => prisma.user.findUnique({ where: { email: p.email } }),
    drizzle: ({ db, schema: s, orm }, p) =>
      db.select().from(s.users).where(orm.eq(s.users.email, p.email)).limit(1),
  },
  {
    name: 'list-customer-bikes',
    repository: 'bike',
    description: "A customer's bikes, newest first.",
    params_from:
      'SELECT customer_id FROM (SELECT DISTINCT customer_id FROM bikes) b ORDER BY random() LIMIT 100',
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
    params_from:
      'SELECT customer_id FROM (SELECT DISTINCT customer_id FROM bikes) b ORDER BY random() LIMIT 100',
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
    params_from:
      'SELECT b.id AS bike_id, u.id AS mechanic_id, i1.id AS item_a, i2.id AS item_b, ' +
      "'Service for ' || b.serial_number AS description, (abs(hashtext(b.id::text)) % 50000 + 1) / 100.0 AS estimated_cost " +
      'FROM (SELECT id, serial_number FROM bikes ORDER BY random() LIMIT 100) b ' +
      "CROSS JOIN LATERAL (SELECT id FROM users WHERE role = 'MECHANIC' ORDER BY md5(id || b.id::text) LIMIT 1) u " +
      'CROSS JOIN LATERAL (SELECT id FROM items WHERE id < (SELECT max(id) FROM items) ORDER BY md5(id::text || b.id::text) LIMIT 1) i1 ' +
      'CROSS JOIN LATERAL (SELECT id FROM items WHERE id > i1.id ORDER BY md5(b.id::text || id::text) LIMIT 1) i2',
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
    drizzle: ({ db, schema: s, orm }, p) =>
      db.transaction(async (tx: any) => {
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
    params_from:
      'SELECT customer_id FROM (SELECT DISTINCT customer_id FROM transactions) t ORDER BY random() LIMIT 100',
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
    params_from:
      "SELECT make_timestamp(y, 1, 1, 0, 0, 0) AS from_ts, make_timestamp(y + 1, 1, 1, 0, 0, 0) AS to_ts " +
      "FROM (SELECT DISTINCT extract(year FROM occurred_at)::int AS y FROM transactions WHERE occurred_at > '1970-01-01') t ORDER BY y",
    prisma: ({ prisma }, p) => prisma.$queryRaw`
      SELECT date_trunc('month', occurred_at) AS month, sum(amount) AS revenue, count(*) AS transactions
      FROM transactions
      WHERE occurred_at >= ${p.from_ts}::timestamp AND occurred_at < ${p.to_ts}::timestamp
      GROUP BY 1
      ORDER BY 1`,
    drizzle: ({ db, schema: s, orm }, p) => {
      const month = orm.sql`date_trunc('month', ${s.transactions.occurredAt})`;
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
