//! Aliases (`models:/NAME@alias`), promotion and deletion.

use bertopic_registry::{Registry, RegistryError};

fn model() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("model.json"), "{}").unwrap();
    d
}

#[test]
fn alias_resolves_moves_and_guards_deletion() {
    let root = tempfile::tempdir().unwrap();
    let r = Registry::new(root.path());
    let m = model();
    for _ in 0..3 {
        r.register("papers", m.path(), Default::default()).unwrap();
    }
    assert_eq!(r.set_alias("papers", "champion", 2).unwrap(), None);
    assert_eq!(
        r.resolve(&"models:/papers@champion".parse().unwrap())
            .unwrap()
            .version,
        2
    );

    // Moving the alias returns where it was.
    assert_eq!(r.set_alias("papers", "champion", 3).unwrap(), Some(2));
    assert_eq!(r.aliases("papers").unwrap().get("champion"), Some(&3));

    // An unknown alias or version is a clear error.
    let e = r
        .resolve(&"models:/papers@staging".parse().unwrap())
        .unwrap_err();
    assert!(matches!(e, RegistryError::UnknownAlias { .. }), "{e}");
    assert!(e.to_string().contains("champion"), "{e}");
    assert!(r.set_alias("papers", "x", 9).is_err());
    assert!(r.set_alias("papers", "latest", 1).is_err());

    // An aliased version is not deleted without force.
    let e = r.delete_version("papers", 3, false).unwrap_err();
    assert!(
        matches!(e, RegistryError::Aliased { version: 3, .. }),
        "{e}"
    );
    assert!(r.version("papers", 3).is_ok());
    // An unaliased one is; latest then moves down.
    assert!(r.delete_version("papers", 2, false).unwrap().is_empty());
    assert_eq!(
        r.versions("papers")
            .unwrap()
            .iter()
            .map(|v| v.version)
            .collect::<Vec<_>>(),
        vec![1, 3]
    );
    // With force the alias goes too.
    assert_eq!(
        r.delete_version("papers", 3, true).unwrap(),
        vec!["champion"]
    );
    assert!(r.aliases("papers").unwrap().is_empty());
    assert_eq!(r.latest("papers").unwrap().version, 1);
    // The next registration does not reuse a deleted number's folder wrongly.
    let v = r.register("papers", m.path(), Default::default()).unwrap();
    assert!(v.version >= 2);
}

#[test]
fn concurrent_promotions_all_land() {
    let root = tempfile::tempdir().unwrap();
    let r = Registry::new(root.path());
    let m = model();
    r.register("p", m.path(), Default::default()).unwrap();
    std::thread::scope(|s| {
        for i in 0..8 {
            let r = r.clone();
            s.spawn(move || r.set_alias("p", &format!("a{i}"), 1).unwrap());
        }
    });
    assert_eq!(r.aliases("p").unwrap().len(), 8);
}
