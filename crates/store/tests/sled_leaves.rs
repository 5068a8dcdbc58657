//! The vendored sled's leaf rule (vendor/sled/PATCHES.md, `src/node.rs`): leaves of small values grow past 16 keys, split and merge, and the tree still holds exactly what was written, before and after reopening.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Rng;
use std::collections::BTreeMap;

/// Mostly tiny values (the leaves that now hold up to 32 keys), some of a
/// few KiB (the leaves that still split at 17), now and then a removal.
fn value(rng: &mut Rng, n: u64) -> Vec<u8> {
    let len = if rng.below(10) == 0 {
        1_000 + rng.below(3_000)
    } else {
        rng.below(40)
    };
    (0..len).map(|i| (n + i) as u8).collect()
}

fn open(dir: &std::path::Path) -> sled::Db {
    sled::Config::new()
        .path(dir)
        .cache_capacity(8 << 20)
        .open()
        .unwrap()
}

fn assert_same(db: &sled::Db, model: &BTreeMap<Vec<u8>, Vec<u8>>, when: &str) {
    let stored: Vec<(Vec<u8>, Vec<u8>)> = db
        .iter()
        .map(|kv| {
            let (k, v) = kv.unwrap();
            (k.to_vec(), v.to_vec())
        })
        .collect();
    let expected: Vec<(Vec<u8>, Vec<u8>)> =
        model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    assert_eq!(stored.len(), expected.len(), "{when}: key count");
    assert!(stored == expected, "{when}: contents differ");
    // Point reads and a reverse scan walk the tree differently from a scan.
    for (k, v) in model.iter().step_by(7) {
        assert_eq!(db.get(k).unwrap().as_deref(), Some(v.as_slice()), "{when}");
    }
    let backwards = db.iter().rev().count();
    assert_eq!(backwards, model.len(), "{when}: reverse scan");
}

#[test]
fn leaves_of_small_values_split_and_merge_and_keep_every_key() {
    // given an empty store and a model of what it should hold
    let dir = tempfile::tempdir().unwrap();
    let mut db = open(dir.path());
    let mut model = BTreeMap::new();
    let mut rng = Rng(0x5EED_1EAF);

    // when 30,000 inserts, overwrites and removals (singly and in batches,
    // in runs of neighbouring keys and scattered) go in, with a reopen
    // every 5,000
    for n in 0..30_000u64 {
        let key = if rng.below(2) == 0 {
            format!("k{:05}", n / 3 % 4_000)
        } else {
            format!("k{:05}", rng.below(4_000))
        }
        .into_bytes();
        match rng.below(10) {
            0..=1 => {
                db.remove(&key).unwrap();
                model.remove(&key);
            }
            2 => {
                let mut batch = sled::Batch::default();
                for i in 0..rng.below(60) {
                    let k = format!("k{:05}", (n + i * 13) % 4_000).into_bytes();
                    if rng.below(4) == 0 {
                        batch.remove(k.clone());
                        model.remove(&k);
                    } else {
                        let v = value(&mut rng, n + i);
                        batch.insert(k.clone(), v.clone());
                        model.insert(k, v);
                    }
                }
                db.apply_batch(batch).unwrap();
            }
            _ => {
                let v = value(&mut rng, n);
                db.insert(&key, v.clone()).unwrap();
                model.insert(key, v);
            }
        }
        if n % 5_000 == 4_999 {
            assert_same(&db, &model, &format!("after {} operations", n + 1));
            db.flush().unwrap();
            drop(db);
            db = open(dir.path());
            assert_same(&db, &model, &format!("reopened after {} operations", n + 1));
        }
    }

    // then the tree holds exactly the model, and still does after clearing
    // most of it (leaves merge back) and reopening
    let doomed: Vec<Vec<u8>> = model.keys().filter(|k| k[5] != b'7').cloned().collect();
    for k in doomed {
        db.remove(&k).unwrap();
        model.remove(&k);
    }
    db.flush().unwrap();
    drop(db);
    let db = open(dir.path());
    assert_same(&db, &model, "after removing nine keys in ten and reopening");
}
