//! Where a schema comes from: multi-file folders, concatenated files,
//! DMMF JSON, and text Prisma accepts or rejects (block comments,
//! mangled schemas).

use super::*;

#[test]
fn multi_file_folders_are_merged_in_path_order() {
    let dir = std::env::temp_dir().join(format!("parity-prisma-multi-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("models")).unwrap();
    std::fs::write(
        dir.join("schema.prisma"),
        format!("generator client {{\n  provider = \"prisma-client\"\n}}\n{PG}"),
    )
    .unwrap();
    std::fs::write(
        dir.join("models/user.prisma"),
        "model User {\n  id Int @id\n  role Role\n  posts Post[]\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("models/post.prisma"),
        "model Post {\n  id Int @id\n  userId Int\n  user User @relation(fields: [userId], references: [id])\n}\nenum Role {\n  A\n}\n",
    )
    .unwrap();
    std::fs::write(dir.join("README.md"), "not a schema").unwrap();
    let m = load_path(&dir).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = m.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Post", "User"]);
    assert_eq!(
        m.table("User").unwrap().column("role").unwrap().db_type,
        "Role"
    );
    let v = show_mapping_json(&dir).unwrap();
    assert_eq!(v["models"].as_array().unwrap().len(), 2);

    // An error in one part names that part.
    std::fs::write(
        dir.join("models/post.prisma"),
        "model Post {\n  id Int @id\n  user Usr\n}\n",
    )
    .unwrap();
    let e = load_path(&dir).unwrap_err().to_string();
    assert!(e.contains("post.prisma:3:8: unknown type \"Usr\""), "{e}");
    std::fs::write(
        dir.join("models/post.prisma"),
        "model Post {\n  id Int @\n}\n",
    )
    .unwrap();
    let e = load_path(&dir).unwrap_err().to_string();
    assert!(
        e.contains("post.prisma:2:11: expected an attribute name"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    let empty = std::env::temp_dir().join(format!("parity-prisma-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    assert!(matches!(
        load_path(&empty),
        Err(PrismaError::NoSchemaFiles(_))
    ));
    std::fs::remove_dir_all(&empty).unwrap();
}

#[test]
fn concatenated_multi_file_markers_are_comments() {
    let text = format!(
        "// ===== file: schema/a.prisma =====\n{PG}// ===== file: schema/b.prisma =====\nmodel A {{\n  id Int @id\n}}\n"
    );
    assert_eq!(ok(&text).tables.len(), 1);
}

#[test]
fn dmmf_input_gives_the_same_mapping() {
    let text = format!(
        "{PG}enum E {{\n  X @map(\"x\")\n}}\nmodel A {{\n  id Int @id @default(autoincrement())\n  e E\n  bs B[]\n  @@map(\"a\")\n}}\nmodel B {{\n  id String @id @db.Uuid\n  as A[]\n}}\n"
    );
    let from_text = ok(&text);
    let (r, _) = resolve_files(&[("s.prisma".into(), text)]).unwrap();
    let dm = serde_json::to_value(&r.datamodel).unwrap();
    let whole = serde_json::json!({"datamodel": dm}).to_string();
    for json in [whole, dm.to_string()] {
        let m = from_dmmf(&json, "postgresql").unwrap();
        assert_eq!(
            serde_json::to_value(&m.tables).unwrap(),
            serde_json::to_value(&from_text.tables).unwrap()
        );
        assert_eq!(m.enums[0].values[0].db_name, "x");
    }
    let dir = std::env::temp_dir().join(format!("parity-prisma-dmmf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("dmmf.json");
    std::fs::write(
        &file,
        serde_json::json!({"provider": "mysql", "datamodel": dm}).to_string(),
    )
    .unwrap();
    assert_eq!(load_path(&file).unwrap().dialect, Dialect::Mysql);
    std::fs::write(&file, "{\"nope\": 1}").unwrap();
    assert!(matches!(load_path(&file), Err(PrismaError::Dmmf { .. })));
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(from_dmmf("{\"models\": []}", "mongodb").is_err());
}

/// Cheap mutation fuzzing: no input may panic the reader.
#[test]
fn never_panics_on_mangled_schemas() {
    let base = format!(
        "{M2M}\nenum E {{\n  A @map(\"a\")\n}}\nview V {{\n  x Int @unique\n  d Decimal @db.Decimal(1,2) @default(1.5)\n  @@map(\"v\")\n}}\n"
    );
    let bytes = base.as_bytes();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet = b"@()[]{}\",:=?.\n -1aZ/\\";
    for _ in 0..3000 {
        let mut s = bytes.to_vec();
        for _ in 0..1 + next() % 4 {
            if s.is_empty() {
                break;
            }
            let i = (next() as usize) % s.len();
            match next() % 3 {
                0 => {
                    s.remove(i);
                }
                1 => s.insert(i, alphabet[(next() as usize) % alphabet.len()]),
                _ => s.truncate(i.max(1)),
            }
        }
        let text = String::from_utf8_lossy(&s);
        let _ = parse_str("fuzz.prisma", &text);
    }
}

/// Issue 9: block comments where Prisma 7.10's get_dmmf accepts them (checked
/// with @prisma/prisma-schema-wasm on each of these texts), rejected where
/// it rejects them.
#[test]
fn block_comments_agree_with_get_dmmf() {
    for accepted in [
        "/* top */\n/** doc top */\nmodel A {\n  id Int @id\n}\n",
        "model A {\n  /* c */\n  /** doc f */\n  id Int @id\n}\n",
        "model A {\n  id Int @id /* c */\n  b String /** d */\n}\n",
        "model A {\n  /* a\n  b */\n  id Int @id\n}\n",
        "/* a\nmodel B {\n} */\nmodel A {\n  id Int @id\n}\n",
        "model A {\n  id Int @id\n} /* x */\n",
        "model A {\n  id Int @id\n  /* c */\n  @@map(\"a\")\n}\n",
        "model A {\n  id Int @id\n  @@map(\"a\") /* c */\n}\n",
        "enum E {\n  /* c */\n  A /* d */\n  B\n}\nmodel A {\n  id Int @id\n  e E\n}\n",
        "/* c */ model A {\n  id Int @id\n}\n",
        "model A {\n  /* c */ id Int @id\n}\n",
        "model A { /* c */\n  id Int @id\n}\n",
        "model A {\n  id Int @id /**/\n}\n",
    ] {
        let m = ok(&format!("{PG}{accepted}"));
        let a = m
            .tables
            .iter()
            .find(|t| t.name == "A" || t.name == "a")
            .unwrap();
        assert_eq!(a.primary_key, vec!["id".to_string()], "{accepted}");
    }
    for (rejected, line) in [
        ("model A {\n  id Int @id /* c */ @map(\"x\")\n}\n", 5),
        ("model A {\n  id /* c */ Int @id\n}\n", 5),
        ("model A {\n  id Int /* c */ @id\n}\n", 5),
        ("model A {\n  id Int @id /* c */ /* d */\n}\n", 5),
        ("model A {\n  id Int @id @default(/* c */ 1)\n}\n", 5),
        ("model A {\n  id Int @id /* c */ // x\n}\n", 5),
        ("model A /* c */ {\n  id Int @id\n}\n", 4),
        ("model A {\n  id Int @id\n}\n/* x\n", 7),
    ] {
        let e = err(&format!("{PG}{rejected}"));
        assert!(e.contains(&format!(":{line}:")), "{rejected}: {e}");
    }
}
