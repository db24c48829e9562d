//! The floor of a password login for `./x bench`: how many argon2id verifications per second
//! this machine does with the product's parameters, one thread per core and nothing else
//! running (the Hasher the server uses, with no queue). Prints one line of JSON.
//!
//! `cargo run --release -p server --example argon_rate -- SECONDS`

use std::time::{Duration, Instant};

use idp::account::password::Hasher;

const PW: &str = "kobyla ma maly bok u potoka";

#[tokio::main]
async fn main() {
    let seconds = std::env::args()
        .nth(1)
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(5.0)
        .clamp(0.5, 120.0);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (hasher, hash) = match async {
        let h = Hasher::new(cores, cores)?;
        let hash = h.hash(PW.into()).await?;
        Ok::<_, idp::Error>((h, hash))
    }
    .await
    {
        Ok(x) => x,
        Err(e) => {
            eprintln!("argon_rate: {e}");
            std::process::exit(1);
        }
    };
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..cores {
        let (hasher, hash) = (hasher.clone(), hash.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                if matches!(hasher.verify(PW.into(), Some(hash.clone())).await, Ok(true)) {
                    n += 1;
                }
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap_or(0);
    }
    let per_sec = total as f64 / started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({ "label": "argon2id alone", "threads": cores, "per_sec": per_sec })
    );
}
