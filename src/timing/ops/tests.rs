//! Operation files: parsing, placeholders, rendering.

use super::statement::{Tok, control_of, scan};
use super::*;

const FIND: &str = r#"
name = "find-user-by-email"
repository = "user"
params_from = "SELECT email FROM users LIMIT 10"

[source]
statements = ["SELECT \"id\" FROM \"users\" WHERE (\"email\" = $1 AND 1=1) LIMIT $2 OFFSET $3"]
params = ["email", 1, 0]

[target]
statements = ["select \"id\" from \"users\" where \"users\".\"email\" = $1 limit $2"]
params = { "$1" = "email", "2" = 1 }
"#;

#[test]
fn parses_a_single_statement_operation() {
    let op = parse(Path::new("queries/user/find.toml"), FIND).unwrap();
    assert_eq!(op.id(), "user/find-user-by-email");
    assert!(matches!(op.params, Some(ParamSource::Query(_))));
    let s = &op.source.statements[0];
    assert_eq!(s.style, Style::Dollar);
    assert_eq!(
        s.params,
        vec![
            ParamRef::Named("email".into()),
            ParamRef::Literal(Val::Int(1)),
            ParamRef::Literal(Val::Int(0))
        ]
    );
    assert_eq!(op.target.statements[0].params.len(), 2);
    assert!(s.pieces.is_none());
    assert_eq!(op.compare, CompareMode::Rows);
}

#[test]
fn multi_statement_sides_refs_and_controls() {
    let text = r#"
name = "create"
repository = "repair"
writes = true
compare = "entities"
generate = { repair_id = "cuid" }
ignore = ["repairs.created_at", "updated_at"]
tolerance = { "received_at" = "1s" }

[[params]]
bike_id = "b1"

[[source.statements]]
sql = "BEGIN"

[[source.statements]]
sql = "INSERT INTO repairs (id, bike_id, created_at) VALUES ($1, $2, $3) RETURNING id"
params = ["repair_id", "bike_id", "{{now}}"]

[[source.statements]]
sql = "SELECT * FROM items WHERE repair_id IN ({{stmt2.id[]}}) OFFSET $1"
params = [{ value = "0" }]

[[source.statements]]
sql = "SELECT $1::text"
params = ["{{stmt2.id}}"]

[[source.statements]]
sql = "COMMIT"

[target]
statements = ["insert into repairs (id, bike_id) values (?, ?)"]
params = ["repair_id", "bike_id"]
"#;
    let op = parse(Path::new("q/r/c.toml"), text).unwrap();
    assert!(op.writes);
    assert_eq!(op.source.statements[0].control, Some(Control::Begin));
    assert_eq!(op.source.statements[4].control, Some(Control::Commit));
    assert_eq!(op.source.statements[1].params[2], ParamRef::Now);
    assert_eq!(
        op.source.statements[3].params[0],
        ParamRef::Ref {
            stmt: 1,
            column: "id".into()
        }
    );
    assert!(op.ignore[0].matches("repairs", "created_at"));
    assert!(op.ignore[1].matches("anything", "updated_at"));
    assert_eq!(op.target.statements[0].style, Style::Question);
    // Rendering the list: IN ($1,$2) OFFSET $3, in textual order.
    let st = &op.source.statements[2];
    let (sql, binds) = render(st, &|stmt, col| {
        assert_eq!((stmt, col), (1, "id"));
        vec![Val::Text("a".into()), Val::Text("b".into())]
    })
    .unwrap();
    assert_eq!(
        sql,
        "SELECT * FROM items WHERE repair_id IN ($1,$2) OFFSET $3"
    );
    assert_eq!(
        binds,
        vec![
            Binding::Value(Val::Text("a".into())),
            Binding::Value(Val::Text("b".into())),
            Binding::Param(0)
        ]
    );
    assert!(render(st, &|_, _| Vec::new()).is_none());
}

#[test]
fn mistakes_name_the_fix() {
    let bad = FIND.replace("params = [\"email\", 1, 0]", "params = [\"email\"]");
    let e = parse(Path::new("f.toml"), &bad).unwrap_err();
    assert!(e.message.contains("3 placeholder(s)"), "{e}");
    let bad = FIND.replace(
        "repository = \"user\"",
        "repository = \"user\"\ncompare = \"count\"",
    );
    let e = parse(Path::new("f.toml"), &bad).unwrap_err();
    assert!(e.message.contains("reason"), "{e}");
    let bad = FIND.replace("params_from", "paramz_from");
    let e = parse(Path::new("f.toml"), &bad).unwrap_err();
    assert!(e.message.contains("paramz_from"), "{e}");
    let bad = "name='x'\nrepository='r'\n[[params]]\na=1\n[source]\nstatements=['select $1']\nparams=['b']\n[target]\nstatements=['select 1']\n";
    let e = parse(Path::new("f.toml"), bad).unwrap_err();
    assert!(e.message.contains("\"b\""), "{e}");
    let bad = "name='x'\nrepository='r'\n[source]\nstatements=['select $1']\nparams=['{{stmt1.id}}']\n[target]\nstatements=['select 1']\n";
    let e = parse(Path::new("f.toml"), bad).unwrap_err();
    assert!(e.message.contains("earlier"), "{e}");
}

#[test]
fn sql_files_and_per_statement_params() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
            dir.path().join("t.sql"),
            "BEGIN;\nINSERT INTO t (a) VALUES (?) RETURNING id;\nSELECT * FROM u WHERE t_id = ?;\nCOMMIT;\n",
        )
        .unwrap();
    let text = "name = 'x'\nrepository = 'r'\n[[params]]\na = 1\n\
                    [source]\nsql_file = 't.sql'\nparams = [[], ['a'], ['{{stmt2.id}}'], []]\n\
                    [target]\nstatements = ['select ?']\nparams = ['a']\n";
    let op = parse(&dir.path().join("op.toml"), text).unwrap();
    let s = &op.source.statements;
    assert_eq!(s.len(), 4);
    assert_eq!(s[0].control, Some(Control::Begin));
    assert_eq!(s[1].params, vec![ParamRef::Named("a".into())]);
    assert_eq!(
        s[2].params,
        vec![ParamRef::Ref {
            stmt: 1,
            column: "id".into()
        }]
    );
    assert_eq!(s[2].arity, 1);
}

#[test]
fn placeholders_inside_literals_are_text() {
    let t = scan("select '$1', \"?\" from t where a = $2 -- $9\n and b = ?");
    assert_eq!(
        t.iter().filter(|t| !matches!(t, Tok::Text(_))).count(),
        2,
        "{t:?}"
    );
    assert_eq!(
        split_statements("select ';'; -- c;\nselect 2;"),
        vec!["select ';'", "select 2"]
    );
    assert_eq!(control_of("begin"), Some(Control::Begin));
    assert_eq!(control_of("ROLLBACK TO SAVEPOINT a"), None);
    assert_eq!(control_of("select 1"), None);
}
