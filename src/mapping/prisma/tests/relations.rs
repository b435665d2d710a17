//! Relations: implicit many-to-many join tables, and the relations that
//! make none.

use super::*;

#[test]
fn implicit_many_to_many_join_tables() {
    let m = ok(M2M);
    // Default name: model names sorted; A is the model that sorts first.
    let t = m.table("_PostToTag").unwrap();
    assert_eq!(
        (t.logical.as_str(), t.schema.as_deref()),
        ("PostToTag", Some("public"))
    );
    assert_eq!(t.columns[0].name, "A");
    assert_eq!(
        (t.columns[0].db_type.as_str(), t.columns[1].db_type.as_str()),
        ("integer", "uuid")
    );
    assert_eq!(t.primary_key, vec!["A".to_string(), "B".to_string()]);
    assert_eq!(t.uniques, vec![vec!["A".to_string(), "B".into()]]);
    assert!(t.columns.iter().all(|c| !c.nullable && !c.has_default));
    // Explicit name; A is Category (sorts before Post), so model A's schema.
    let t = m.table("auth._PostCategories").unwrap();
    assert_eq!(
        (t.columns[0].db_type.as_str(), t.columns[0].read),
        ("bigint", ReadMode::BigInt)
    );
    assert_eq!(t.columns[1].db_type, "integer");
    // Self-relation: both columns reference User.
    let t = m.table("auth._follows").unwrap();
    assert_eq!(t.columns.len(), 2);

    let v = tables(M2M);
    let j = v["joinTables"].as_array().unwrap();
    let names: Vec<&str> = j.iter().map(|x| x["table"].as_str().unwrap()).collect();
    assert_eq!(names, ["_PostCategories", "_PostToTag", "_follows"]);
    assert_eq!(j[0]["A"]["model"], "Category");
    assert_eq!(j[0]["A"]["referencesColumn"], "category_id");
    assert_eq!(j[0]["A"]["relationField"], "posts");
    assert_eq!(j[0]["defaultName"], false);
    assert_eq!(j[1]["defaultName"], true);
    assert_eq!(j[1]["B"]["nativeType"], serde_json::json!(["Uuid", []]));
    // Self-relation: the relation fields sorted by name decide A.
    assert_eq!(j[2]["A"]["relationField"], "followers");
    assert_eq!(j[2]["B"]["relationField"], "following");
}

#[test]
fn one_to_many_and_one_to_one_relations_make_no_join_table() {
    let m = ok(&format!(
        "{PG}model User {{\n  id Int @id\n  posts Post[]\n  profile Profile?\n}}\nmodel Post {{\n  id Int @id\n  authorId Int\n  author User @relation(fields: [authorId], references: [id], onDelete: Cascade)\n}}\nmodel Profile {{\n  id Int @id\n  userId Int @unique\n  user User @relation(fields: [userId], references: [id])\n}}\n"
    ));
    assert_eq!(m.tables.len(), 3);
    assert_eq!(m.table("Post").unwrap().columns.len(), 2);
}
