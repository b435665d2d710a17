//! Unit tests of the Prisma reader as a whole: errors with positions,
//! types, keys, enums and defaults here; join tables ([`relations`]);
//! multi-file folders, DMMF input and hostile text ([`sources`]).

mod relations;
mod sources;

use super::*;
use crate::mapping::{Dialect, ReadMode};

const PG: &str = "datasource db {\n  provider = \"postgresql\"\n}\n";

fn ok(text: &str) -> Mapping {
    parse_str("schema.prisma", text).unwrap_or_else(|e| panic!("{e}"))
}

fn err(text: &str) -> String {
    match parse_str("schema.prisma", text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// The `tables.json` view of a schema text.
fn tables(text: &str) -> Value {
    let (r, _) =
        resolve_files(&[("schema.prisma".into(), text.into())]).unwrap_or_else(|e| panic!("{e}"));
    dmmf::tables_json("schema.prisma", "test", &r)
}

fn column<'a>(v: &'a Value, model: &str, field: &str) -> &'a Value {
    let m = v["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == model)
        .unwrap();
    m["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == field)
        .unwrap()
}

#[test]
fn syntax_errors_carry_file_line_and_column() {
    let text = format!("{PG}model User {{\n  id    Int @id\n  email @unique\n}}\n");
    assert_eq!(
        err(&text),
        "schema.prisma:6:9: expected a field type after \"email\", found \"@\""
    );
    // Arguments may span lines, so an unclosed one is noticed at the `}`.
    let text = format!("{PG}model User {{\n  id Int @id @default(autoincrement()\n}}\n");
    assert_eq!(
        err(&text),
        "schema.prisma:6:1: expected \",\" or \")\" in the arguments of @default, found \"}\""
    );
}

#[test]
fn resolution_errors_are_collected_with_positions() {
    let text = format!("{PG}model Post {{\n  id Int @id\n  author Usr\n  tags Strin\n}}\n");
    let e = err(&text);
    assert!(e.contains("the Prisma schema has 2 errors"), "{e}");
    assert!(
        e.contains("schema.prisma:6:10: unknown type \"Usr\""),
        "{e}"
    );
    assert!(e.contains("(did you mean \"String\"?)"), "{e}");
}

#[test]
fn rejects_what_prisma_rejects() {
    let cases = [
        (
            "view V {\n  id Int @id\n}\n",
            "Views cannot have primary keys",
        ),
        (
            "view V {\n  a Int\n  b Int\n  @@id([a, b])\n}\n",
            "Views cannot have primary keys",
        ),
        (
            "model A {\n  id Int @id\n  b B @relation(fields: [bId], references: [id])\n  bId Int\n}\nmodel B {\n  id Int @id\n}\n",
            "missing an opposite relation field",
        ),
        (
            "model A {\n  id Int @id\n  x B[]\n  y B[]\n}\nmodel B {\n  id Int @id\n  a A[]\n}\n",
            "ambiguous relation",
        ),
        (
            "model A {\n  id Int @id\n  b Nope[]\n}\n",
            "unknown type \"Nope\"",
        ),
        ("model A {\n  name String\n}\n", "no unique criterion"),
        (
            "model A {\n  id Int @id @foo\n}\n",
            "unknown attribute @foo",
        ),
        (
            "model A {\n  id Int @id @db.VarChar(3)\n}\n",
            "cannot annotate a Int field",
        ),
        (
            "model A {\n  id Int @id @default(\"x\")\n}\n",
            "must be an integer",
        ),
        (
            "model A {\n  id Int @id\n  e E @default(C)\n}\nenum E {\n  A\n  B\n}\n",
            "\"C\" is not a value of enum",
        ),
        (
            "model A {\n  id Int @id\n  @@map(\"t\")\n}\nmodel B {\n  id Int @id\n  @@map(\"t\")\n}\n",
            "maps to table \"t\"",
        ),
        (
            "model A {\n  id Int @id\n}\nmodel A {\n  id Int @id\n}\n",
            "already defined",
        ),
        (
            "model A {\n  id Int @id\n  @@schema(\"x\")\n}\n",
            "needs the datasource to list its schemas",
        ),
    ];
    for (body, want) in cases {
        let e = err(&format!("{PG}{body}"));
        assert!(e.contains(want), "expected {want:?} in: {e}");
    }
}

#[test]
fn providers() {
    let m = ok(
        "datasource db {\n  provider = \"mysql\"\n  url = env(\"DATABASE_URL\")\n  relationMode = \"prisma\"\n}\nmodel A {\n  id String @id\n  ok Boolean\n}\n",
    );
    assert_eq!(m.dialect, Dialect::Mysql);
    assert_eq!(m.tables[0].columns[0].db_type, "varchar(191)");
    assert_eq!(m.tables[0].columns[1].db_type, "tinyint(1)");
    let m = ok(
        "datasource db {\n  provider = \"cockroachdb\"\n}\nmodel A {\n  id BigInt @id @db.Int8\n}\n",
    );
    assert_eq!(m.dialect, Dialect::Postgres);
    assert_eq!(m.tables[0].columns[0].db_type, "bigint");
    let e = err("datasource db {\n  provider = \"mongodb\"\n}\n");
    assert!(
        e.starts_with("schema.prisma:2:14: provider \"mongodb\" is not supported"),
        "{e}"
    );
    assert!(err("model A {\n  id Int @id\n}\n").contains("no datasource block"));
    let e = err(
        "datasource db {\n  provider = \"sqlite\"\n}\nmodel A {\n  id Int @id\n  t String[]\n}\n",
    );
    assert!(e.contains("has no scalar lists"), "{e}");
}

#[test]
fn prisma7_and_legacy_datasources_are_both_accepted() {
    let legacy = "generator client {\n  provider = \"prisma-client-js\"\n  previewFeatures = [\"metrics\", \"tracing\"]\n  binaryTargets = env(\"T\")\n}\ndatasource db {\n  provider = \"postgres\"\n  url = env(\"DATABASE_URL\")\n  directUrl = env(\"DIRECT_URL\")\n  shadowDatabaseUrl = env(\"SHADOW\")\n  extensions = [pgvector(map: \"vector\")]\n}\nmodel A {\n  id Int @id\n}\n";
    assert_eq!(ok(legacy).dialect, Dialect::Postgres);
    let v = tables(legacy);
    assert_eq!(v["provider"], "postgres");
    assert_eq!(
        v["normalized"]["datasourceProperties"],
        serde_json::json!(["url", "directUrl", "shadowDatabaseUrl"])
    );
    ok(&format!("{PG}model A {{\n  id Int @id\n}}\n"));
}

#[test]
fn columns_types_read_modes_and_keys() {
    let m = ok(&format!(
        r#"{PG}
model Order {{
  id        String    @id @default(uuid()) @db.Uuid
  total     Decimal   @db.Decimal(10, 2)
  price     Decimal
  placedOn  DateTime  @db.Date
  at        DateTime  @default(now()) @map("placed_at") @db.Timestamptz(6)
  opens     DateTime? @db.Time
  updatedAt DateTime  @updatedAt
  tags      String[]
  meta      Json?
  blob      Bytes
  code      String    @unique @db.Char(3)
  geo       Unsupported("point")?
  legacy    Int       @ignore
  @@unique([total, price])
  @@map("orders")
}}
"#
    ));
    let t = m.table("orders").unwrap();
    assert_eq!(t.logical, "Order");
    assert_eq!(t.primary_key, vec!["id"]);
    assert_eq!(
        t.uniques,
        vec![
            vec!["code".to_string()],
            vec!["total".into(), "price".into()]
        ]
    );
    let c = |n: &str| t.column(n).unwrap_or_else(|| panic!("no column {n}"));
    assert_eq!(
        (c("id").db_type.as_str(), c("id").read, c("id").has_default),
        ("uuid", ReadMode::Text, true)
    );
    assert_eq!(
        (c("total").db_type.as_str(), c("total").read),
        ("numeric(10,2)", ReadMode::Decimal)
    );
    assert_eq!(c("price").db_type, "numeric(65,30)");
    assert_eq!(
        (c("placedOn").db_type.as_str(), c("placedOn").read),
        ("date", ReadMode::Date)
    );
    assert_eq!(
        (
            c("placed_at").field.as_str(),
            c("placed_at").db_type.as_str()
        ),
        ("at", "timestamptz(6)")
    );
    assert_eq!(
        (c("opens").read, c("opens").nullable),
        (ReadMode::Time, true)
    );
    assert!(c("updatedAt").is_updated_at && !c("updatedAt").has_default);
    assert_eq!(
        (c("tags").db_type.as_str(), c("tags").is_list),
        ("text[]", true)
    );
    assert_eq!(
        (c("meta").db_type.as_str(), c("meta").read),
        ("jsonb", ReadMode::Json)
    );
    assert_eq!(
        (c("blob").db_type.as_str(), c("blob").read),
        ("bytea", ReadMode::Bytes)
    );
    assert!(t.column("geo").is_none() && t.column("legacy").is_none());
    assert_eq!(t.columns.len(), 11);
    assert!(
        m.notes.iter().any(|n| n.contains("Order.geo")),
        "{:?}",
        m.notes
    );
}

#[test]
fn sqlite_decimals_are_read_as_exact_decimals() {
    let m = ok(
        "datasource db {\n  provider = \"sqlite\"\n}\nmodel A {\n  id Int @id\n  d Decimal\n  t DateTime\n}\n",
    );
    let t = &m.tables[0];
    assert_eq!(
        (t.columns[1].db_type.as_str(), t.columns[1].read),
        ("decimal", ReadMode::Decimal)
    );
    assert_eq!(t.columns[2].db_type, "datetime");
}

#[test]
fn enums_with_maps() {
    let m = ok(&format!(
        r#"{PG}
enum JobStatus {{
  WAITING_FOR_PARTS @map("waiting_parts")
  DONE
  @@map("job_status")
}}
model Job {{
  id     Int         @id
  status JobStatus   @default(WAITING_FOR_PARTS)
  past   JobStatus[]
}}
"#
    ));
    let e = m.enum_def("JobStatus").unwrap();
    assert_eq!(
        (e.name.as_str(), e.db_name.as_str()),
        ("JobStatus", "job_status")
    );
    assert_eq!(
        (e.values[0].name.as_str(), e.values[0].db_name.as_str()),
        ("WAITING_FOR_PARTS", "waiting_parts")
    );
    assert_eq!(e.values[1].db_name, "DONE");
    let t = m.table("Job").unwrap();
    let s = t.column("status").unwrap();
    assert_eq!(
        (s.db_type.as_str(), s.enum_name.as_deref(), s.read),
        ("job_status", Some("JobStatus"), ReadMode::EnumName)
    );
    assert_eq!(t.column("past").unwrap().db_type, "job_status[]");
}

#[test]
fn defaults_in_dmmf_representation() {
    let v = tables(&format!(
        r#"{PG}
enum Role {{
  USER
  ADMIN
}}
model D {{
  id     String   @id @default(cuid())
  u4     String   @default(uuid())
  u7     String   @default(uuid(7))
  c2     String   @default(cuid(2))
  n      Int      @default(-1)
  big    BigInt   @default(0)
  f      Float    @default(0.05)
  f1     Float    @default(1.0)
  dec    Decimal  @default(0)
  b      Boolean  @default(false)
  s      String   @default("a\"b")
  j      Json     @default("{{}}")
  at     DateTime @default("2024-01-02T03:04:05Z")
  now    DateTime @default(now())
  gen    String   @default(dbgenerated("gen_random_uuid()")) @db.Uuid
  gen0   String?  @default(dbgenerated())
  role   Role     @default(USER)
  roles  Role[]   @default([USER, ADMIN])
  tags   String[] @default([])
  seq    Int      @default(autoincrement())
  none   String?
}}
"#
    ));
    use serde_json::json;
    for (field, default) in [
        ("id", json!({"name": "cuid", "args": [1]})),
        ("u4", json!({"name": "uuid", "args": [4]})),
        ("u7", json!({"name": "uuid", "args": [7]})),
        ("c2", json!({"name": "cuid", "args": [2]})),
        ("n", json!(-1)),
        ("big", json!("0")),
        ("f", json!(0.05)),
        ("f1", json!(1)),
        ("dec", json!(0)),
        ("b", json!(false)),
        ("s", json!("a\"b")),
        ("j", json!("{}")),
        ("at", json!("2024-01-02T03:04:05+00:00")),
        ("now", json!({"name": "now", "args": []})),
        (
            "gen",
            json!({"name": "dbgenerated", "args": ["gen_random_uuid()"]}),
        ),
        ("gen0", json!({"name": "dbgenerated", "args": []})),
        ("role", json!("USER")),
        ("roles", json!(["USER", "ADMIN"])),
        ("tags", json!([])),
        ("seq", json!({"name": "autoincrement", "args": []})),
        ("none", Value::Null),
    ] {
        assert_eq!(column(&v, "D", field)["default"], default, "{field}");
    }
    assert_eq!(column(&v, "D", "gen")["nativeType"], json!(["Uuid", []]));
}

const M2M: &str = r#"
datasource db {
  provider = "postgresql"
  schemas  = ["auth", "public"]
}
model Post {
  id    Int        @id
  tags  Tag[]
  cats  Category[] @relation("PostCategories")
  @@schema("public")
}
model Tag {
  id    String @id @db.Uuid
  posts Post[]
  @@schema("public")
}
model Category {
  id    BigInt @id @map("category_id")
  posts Post[] @relation("PostCategories")
  @@map("categories")
  @@schema("auth")
}
model User {
  id        Int    @id
  followers User[] @relation("follows")
  following User[] @relation("follows")
  @@schema("auth")
}
"#;

#[test]
fn ignored_models_and_custom_datasource_names() {
    let m = ok(
        "datasource pg {\n  provider = \"postgresql\"\n}\nmodel A {\n  id Int @id @pg.SmallInt\n}\nmodel Old {\n  x Int\n  @@ignore\n}\n",
    );
    assert_eq!(m.tables.len(), 1);
    assert_eq!(m.tables[0].columns[0].db_type, "smallint");
    assert!(m.notes.iter().any(|n| n.contains("Old")));
    let e = err(
        "datasource pg {\n  provider = \"postgresql\"\n}\nmodel A {\n  id Int @id @db.SmallInt\n}\n",
    );
    assert!(e.contains("@pg."), "{e}");
}

#[test]
fn composite_types_are_skipped_and_single_field_indexes_accepted() {
    let m = ok(&format!(
        "{PG}type Address {{\n  street String\n}}\nmodel A {{\n  id Int @id\n  n Int\n  @@index(n)\n  @@index([n(sort: Desc)], type: BTree)\n  @@unique(fields: [n], name: \"by_n\")\n}}\n"
    ));
    assert_eq!(m.tables.len(), 1);
    assert_eq!(m.tables[0].uniques, vec![vec!["n".to_string()]]);
    let e = err(&format!(
        "{PG}type Address {{\n  street String\n}}\nmodel A {{\n  id Int @id\n  home Address\n}}\n"
    ));
    assert!(e.contains("composite types only exist on MongoDB"), "{e}");
    let e = err(&format!("{PG}type Name = String\n"));
    assert!(e.contains("type aliases were removed"), "{e}");
}
