//! Times sled's own open of a store directory, and counts its keys and their bytes by prefix (a diagnostic for the bench).

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        return;
    };
    let t = std::time::Instant::now();
    let Ok(db) = sled::Config::new()
        .path(&dir)
        .cache_capacity(8 << 20)
        .open()
    else {
        return;
    };
    println!("sled open {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    if std::env::args().nth(2).is_none() {
        let t = std::time::Instant::now();
        drop(db);
        println!("sled drop {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
        return;
    }
    let mut counts = std::collections::BTreeMap::new();
    for (k, v) in db.iter().flatten() {
        let e = counts.entry(k[0] as char).or_insert((0u64, 0u64));
        e.0 += 1;
        e.1 += (k.len() + v.len()) as u64;
    }
    println!("{counts:?}");
}
