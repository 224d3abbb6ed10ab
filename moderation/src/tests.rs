use super::*;
use filters::rules::{Kind, Rule, RuleAction};
use filters::{Action, Policy, Subject};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

fn pv(channel_id: u64, post_id: u64, version: i64) -> PostVersion {
    PostVersion {
        channel_id,
        post_id,
        version,
    }
}

fn term(id: &str, pattern: &str) -> Rule {
    Rule::new(id, Kind::Term, pattern, RuleAction::Hide)
}

#[test]
fn created_rules_get_ids_versions_and_an_audit_entry() {
    let (_dir, store) = store();
    let a = store
        .create_rule(term("", "закладки"), "mod1", Some("KZ order 17"))
        .unwrap();
    let b = store.create_rule(term("", "meph"), "mod2", None).unwrap();
    assert_eq!((a.id.as_str(), b.id.as_str()), ("r1", "r2"));
    assert_eq!(a.version, Some(1));
    assert_eq!(a.created_by.as_deref(), Some("mod1"));
    assert!(a.created_at.as_deref().unwrap().ends_with('Z'));
    assert_eq!(store.rules().unwrap().len(), 2);

    let log = store.audit(&AuditQuery::default()).unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].target, "r2", "newest first");
    assert_eq!(log[1].actor, "mod1");
    assert_eq!(log[1].action, "rule.create");
    assert_eq!(log[1].note.as_deref(), Some("KZ order 17"));
    assert!(log[1].old.is_none());
    assert_eq!(log[1].new.as_ref().unwrap()["pattern"], "закладки");
}

#[test]
fn a_taken_id_is_refused() {
    let (_dir, store) = store();
    store.create_rule(term("x", "meph"), "m", None).unwrap();
    assert!(matches!(
        store.create_rule(term("x", "other"), "m", None),
        Err(Error::Exists(id)) if id == "x"
    ));
}

#[test]
fn invalid_rules_are_refused_with_the_reason() {
    let (_dir, store) = store();
    let bad_regex = Rule::new("", Kind::Regex, "(", RuleAction::Drop);
    let Err(Error::InvalidRule(why)) = store.create_rule(bad_regex, "m", None) else {
        panic!("an unbalanced regex must be refused");
    };
    assert!(why.contains("regex"), "{why}");
    let bad_region = term("", "meph").in_regions(&["Kazakhstan"]);
    assert!(matches!(
        store.create_rule(bad_region, "m", None),
        Err(Error::InvalidRule(_))
    ));
    assert!(store.rules().unwrap().is_empty());
    assert!(store.audit(&AuditQuery::default()).unwrap().is_empty());
}

#[test]
fn updates_bump_the_version_and_refuse_stale_ones() {
    let (_dir, store) = store();
    let rule = store.create_rule(term("", "meph"), "a", None).unwrap();
    let patch = RulePatch {
        enabled: Some(false),
        version: Some(1),
        ..RulePatch::default()
    };
    let updated = store
        .update_rule(&rule.id, patch.clone(), "b", Some("false positives"))
        .unwrap();
    assert_eq!(updated.version, Some(2));
    assert!(!updated.enabled);
    assert_eq!(updated.created_by.as_deref(), Some("a"), "creator kept");

    // A second moderator working from version 1 is refused.
    let stale = store.update_rule(&rule.id, patch, "c", None);
    assert!(matches!(
        stale,
        Err(Error::Conflict {
            expected: 1,
            current: 2,
            ..
        })
    ));

    let log = store
        .audit(&AuditQuery {
            target: Some(rule.id.clone()),
            ..AuditQuery::default()
        })
        .unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].action, "rule.update");
    assert_eq!(log[0].old.as_ref().unwrap()["enabled"], true);
    assert_eq!(log[0].new.as_ref().unwrap()["enabled"], false);
}

#[test]
fn an_update_that_changes_nothing_is_not_a_new_version() {
    let (_dir, store) = store();
    let rule = store.create_rule(term("", "meph"), "a", None).unwrap();
    let same = RulePatch {
        pattern: Some(" meph ".into()),
        ..RulePatch::default()
    };
    assert_eq!(store.update_rule(&rule.id, same, "a", None).unwrap(), rule);
    assert_eq!(store.audit(&AuditQuery::default()).unwrap().len(), 1);
}

#[test]
fn deletes_are_audited_and_respect_versions() {
    let (_dir, store) = store();
    let rule = store.create_rule(term("", "meph"), "a", None).unwrap();
    assert!(matches!(
        store.delete_rule(&rule.id, Some(7), "a", None),
        Err(Error::Conflict { .. })
    ));
    store
        .delete_rule(&rule.id, Some(1), "b", Some("done"))
        .unwrap();
    assert!(matches!(store.rule(&rule.id), Err(Error::NotFound(_))));
    let log = store.audit(&AuditQuery::default()).unwrap();
    assert_eq!(log[0].action, "rule.delete");
    assert!(log[0].new.is_none());
    assert_eq!(log[0].old.as_ref().unwrap()["pattern"], "meph");
}

#[test]
fn import_replaces_by_id_and_is_all_or_nothing() {
    let (_dir, store) = store();
    store.create_rule(term("kz-1", "meph"), "a", None).unwrap();
    let summary = store
        .import_rules(
            vec![
                term("kz-1", "mephedrone"),
                term("kz-2", "закладки"),
                term("", "spice"),
            ],
            "cli",
        )
        .unwrap();
    assert_eq!(
        summary,
        ImportSummary {
            created: 2,
            replaced: 1,
            unchanged: 0
        }
    );
    let replaced = store.rule("kz-1").unwrap();
    assert_eq!(replaced.pattern, "mephedrone");
    assert_eq!(replaced.version, Some(2));
    assert_eq!(replaced.created_by.as_deref(), Some("a"));

    let again = store
        .import_rules(vec![term("kz-1", "mephedrone")], "cli")
        .unwrap();
    assert_eq!(again.unchanged, 1);

    let bad = store.import_rules(
        vec![
            term("kz-3", "new"),
            Rule::new("kz-4", Kind::Regex, "(", RuleAction::Drop),
        ],
        "cli",
    );
    let Err(Error::InvalidRule(why)) = bad else {
        panic!("a bad rule fails the import");
    };
    assert!(why.contains("kz-4"), "{why}");
    assert!(matches!(store.rule("kz-3"), Err(Error::NotFound(_))));
}

#[test]
fn audit_pages_with_a_cursor_and_filters() {
    let (_dir, store) = store();
    for i in 0..7 {
        let actor = if i % 2 == 0 { "even" } else { "odd" };
        store
            .create_rule(term("", &format!("word{i}")), actor, None)
            .unwrap();
    }
    let page1 = store
        .audit(&AuditQuery {
            limit: Some(3),
            ..AuditQuery::default()
        })
        .unwrap();
    let page2 = store
        .audit(&AuditQuery {
            limit: Some(3),
            before: Some(page1.last().unwrap().seq),
            ..AuditQuery::default()
        })
        .unwrap();
    let seqs: Vec<i64> = page1.iter().chain(&page2).map(|e| e.seq).collect();
    assert_eq!(seqs, vec![7, 6, 5, 4, 3, 2]);
    let odd = store
        .audit(&AuditQuery {
            actor: Some("odd".into()),
            ..AuditQuery::default()
        })
        .unwrap();
    assert_eq!(odd.len(), 3);
}

#[test]
fn the_audit_log_cannot_be_rewritten() {
    let (_dir, store) = store();
    store.create_rule(term("", "meph"), "a", None).unwrap();
    let conn = store.conn.lock();
    assert!(
        conn.execute("UPDATE audit SET actor = 'someone else'", [])
            .is_err()
    );
    assert!(conn.execute("DELETE FROM audit", []).is_err());
}

#[test]
fn rules_and_settings_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store.create_rule(term("", "meph"), "a", None).unwrap();
        let mut configs = filters::classify::default_configs();
        configs[0].threshold = 0.95;
        store.set_classifier_configs(configs, "a", None).unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.rules().unwrap()[0].pattern, "meph");
    assert_eq!(store.classifier_configs().unwrap()[0].threshold, 0.95);
}

#[test]
fn classifier_settings_are_checked_and_audited() {
    let (_dir, store) = store();
    assert_eq!(
        store.classifier_configs().unwrap(),
        filters::classify::default_configs()
    );
    let mut configs = filters::classify::default_configs();
    configs[0].threshold = 1.5;
    assert!(matches!(
        store.set_classifier_configs(configs, "a", None),
        Err(Error::InvalidClassifiers(_))
    ));
    let mut configs = filters::classify::default_configs();
    configs[0].category = "astrology".into();
    assert!(matches!(
        store.set_classifier_configs(configs, "a", None),
        Err(Error::InvalidClassifiers(_))
    ));
    assert!(store.audit(&AuditQuery::default()).unwrap().is_empty());
}

#[test]
fn a_missing_database_beside_an_index_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("index")).unwrap();
    std::fs::write(dir.path().join("index/meta.json"), "{}").unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, Error::Missing { .. }));
    assert!(err.to_string().contains("init-rules"), "{err}");
    // The deliberate way out.
    Store::open_or_create(dir.path()).unwrap();
    Store::open(dir.path()).unwrap();
}

#[test]
fn a_corrupt_database_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(FILE_NAME),
        b"this is not a database at all, really",
    )
    .unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");
}

#[test]
fn the_ingest_engine_has_drop_and_regex_rules_and_skips_disabled_ones() {
    let (_dir, store) = store();
    store
        .create_rule(term("kz", "закладки").in_regions(&["KZ"]), "a", None)
        .unwrap();
    let regex =
        Rule::new("re", Kind::Regex, r"продам\s+ствол", RuleAction::Hide).in_regions(&["KZ"]);
    store.create_rule(regex, "a", None).unwrap();
    store
        .create_rule(
            Rule::new("drop", Kind::Term, "meph", RuleAction::Drop),
            "a",
            None,
        )
        .unwrap();
    let mut off = Rule::new("off", Kind::Term, "погода", RuleAction::Drop);
    off.enabled = false;
    store.create_rule(off, "a", None).unwrap();
    let engine = store.engine().unwrap();
    let post = |text| Subject {
        text,
        ..Subject::default()
    };
    assert_eq!(
        engine.verdict(&post("З.А.К.Л.А.Д.К.И тут")).action,
        Action::Index,
        "term hides are applied by search, from the index"
    );
    assert_eq!(
        engine.verdict(&post("продам ствол")).action,
        Action::Hide {
            regions: vec!["KZ".into()]
        }
    );
    assert_eq!(engine.verdict(&post("m e p h")).action, Action::Drop);
    assert_eq!(engine.verdict(&post("погода")).action, Action::Index);
}

#[test]
fn review_decisions_are_recorded_replaced_audited_and_kept() {
    let (dir, store) = store();
    let held = serde_json::json!({"reasons": ["spam:0.97"]});
    store
        .decide_review(
            pv(7, 1, 100),
            Decision::Approve,
            &held,
            "mod1",
            Some("fine"),
        )
        .unwrap();
    store
        .decide_review(pv(7, 2, 100), Decision::Reject, &held, "mod1", None)
        .unwrap();
    // The post was edited and held again; the second decision replaces the first.
    let again = store
        .decide_review(
            pv(7, 1, 200),
            Decision::Reject,
            &held,
            "mod2",
            Some("edited into spam"),
        )
        .unwrap();
    assert_eq!((again.version, again.decision), (200, Decision::Reject));

    drop(store);
    let store = Store::open(dir.path()).unwrap();
    let all = store.review_decisions().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        (
            all[0].post_id,
            all[0].version,
            all[0].decision,
            all[0].actor.as_str()
        ),
        (1, 200, Decision::Reject, "mod2")
    );
    assert_eq!(store.review_decision(7, 3).unwrap(), None);

    let log = store
        .audit(&AuditQuery {
            target: Some("post:7/1".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].action, "review.reject");
    assert_eq!(log[0].note.as_deref(), Some("edited into spam"));
    assert_eq!(
        log[0].old.as_ref().unwrap()["decision"]["decision"],
        "approve"
    );
    assert_eq!(
        log[0].new.as_ref().unwrap()["held"]["reasons"][0],
        "spam:0.97"
    );
    assert_eq!(log[1].action, "review.approve");
    assert!(log[1].old.is_none());
}

#[test]
fn a_version_1_database_is_upgraded_keeping_its_rules() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        // The version 1 schema: the same but for the review table's missing `version`.
        let v1 = SCHEMA.replace(
            "version    INTEGER NOT NULL, -- the post version decided (the indexer's late-edit version)\n",
            "",
        );
        assert_ne!(v1, SCHEMA);
        conn.execute_batch(&format!("BEGIN; {v1} PRAGMA user_version = 1; COMMIT;"))
            .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    store.create_rule(term("a", "meph"), "mod", None).unwrap();
    let held = serde_json::json!({});
    store
        .decide_review(pv(1, 2, 3), Decision::Approve, &held, "mod", None)
        .unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.rules().unwrap().len(), 1);
    assert_eq!(store.review_decisions().unwrap()[0].version, 3);
}
