//! Times sled's own open of a store directory, and counts its keys by prefix (a diagnostic for the bench).

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        return;
    };
    let t = std::time::Instant::now();
    let Ok(db) = sled::Config::new()
        .path(&dir)
        .cache_capacity(64 << 20)
        .open()
    else {
        return;
    };
    println!("sled open {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    if std::env::args().nth(2).is_none() {
        return;
    }
    let mut counts = std::collections::BTreeMap::new();
    for k in db.iter().keys().flatten() {
        *counts.entry(k[0] as char).or_insert(0u64) += 1;
    }
    println!("{counts:?}");
}
