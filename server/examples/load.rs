//! The load generator of `./x bench`: N connections send requests to one loopback URL for a
//! bounded time (and at most a bounded count), and it prints one line of JSON with what came
//! back: counts by outcome, the rate of answered requests, latency percentiles of the
//! answered ones (503s are counted apart: they are shed, not served), and — given the
//! server's pid — the server's CPU time per answered request, read from `/proc`.
//!
//! ```text
//! cargo run --release -p server --example load -- --url http://127.0.0.1:3000/healthz \
//!     --connections 1 --seconds 5 [--method POST --body 'username=bench{n}&…'] \
//!     [--header 'Origin: http://127.0.0.1:3000'] [--accounts 64] [--pid 1234] [--label x] \
//!     [--retry-after]
//! ```
//!
//! In the body and header values `{n}` becomes one of `0..--accounts` (spread by a hash of the
//! request's number), and
//! `{ip}` an address of 10.0.0.0/8 that is new for every request (for `X-Forwarded-For`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    url: String,
    method: reqwest::Method,
    body: Option<String>,
    headers: Vec<(String, String)>,
    connections: usize,
    seconds: f64,
    max_requests: u64,
    accounts: u64,
    pid: Option<u32>,
    label: String,
    /// After a 503, wait what `Retry-After` says (at most 5 s) before the next request, as a
    /// citizen told "try again in a moment" does; without it a refused client asks again at
    /// once (a flood).
    retry_after: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        url: String::new(),
        method: reqwest::Method::GET,
        body: None,
        headers: Vec::new(),
        connections: 1,
        seconds: 5.0,
        max_requests: 1_000_000,
        accounts: 1,
        pid: None,
        label: String::new(),
        retry_after: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => a.url = value()?,
            "--method" => a.method = value()?.parse().map_err(|e| format!("--method: {e}"))?,
            "--body" => a.body = Some(value()?),
            "--header" => {
                let h = value()?;
                let (k, v) = h
                    .split_once(':')
                    .ok_or("--header: expected 'Name: value'")?;
                a.headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
            "--connections" => a.connections = num(&value()?)?,
            "--seconds" => a.seconds = num(&value()?)?,
            "--max-requests" => a.max_requests = num(&value()?)?,
            "--accounts" => a.accounts = num::<u64>(&value()?)?.max(1),
            "--pid" => a.pid = Some(num(&value()?)?),
            "--label" => a.label = value()?,
            "--retry-after" => a.retry_after = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let url = reqwest::Url::parse(&a.url).map_err(|e| format!("--url: {e}"))?;
    // a load generator that can be pointed elsewhere is a denial-of-service tool
    if !matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")) {
        return Err("--url must be on loopback (127.0.0.1, localhost or [::1])".into());
    }
    if a.connections == 0 || a.connections > 1024 {
        return Err("--connections: 1 to 1024".into());
    }
    if !(0.1..=600.0).contains(&a.seconds) {
        return Err("--seconds: 0.1 to 600".into());
    }
    Ok(a)
}

fn num<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("not a number: {s}"))
}

fn fill(template: &str, n: u64, accounts: u64) -> String {
    let ip = format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255);
    template
        // spread over the accounts (a multiplicative hash), not the first few in a row
        .replace(
            "{n}",
            &(n.wrapping_mul(2_654_435_761) % accounts).to_string(),
        )
        .replace("{ip}", &ip)
}

/// The server's CPU time so far (user + system, in clock ticks of 10 ms).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // the fields after the command name, which is in parentheses and may contain spaces
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

#[derive(Default)]
struct Tally {
    ok: Vec<u32>,
    shed: u64,
    other: u64,
    errors: u64,
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("load: {e}");
            std::process::exit(2);
        }
    };
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(args.connections)
        .timeout(Duration::from_secs(30))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("load: {e}");
            std::process::exit(2);
        }
    };
    let counter = Arc::new(AtomicU64::new(0));
    let cpu_before = args.pid.and_then(cpu_ticks);
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.seconds);
    let mut tasks = Vec::new();
    for _ in 0..args.connections {
        let (client, args, counter) = (client.clone(), args.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                if n >= args.max_requests {
                    break;
                }
                let mut req = client.request(args.method.clone(), &args.url);
                for (k, v) in &args.headers {
                    req = req.header(k, fill(v, n, args.accounts));
                }
                if let Some(body) = &args.body {
                    req = req
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(fill(body, n, args.accounts));
                }
                let t = Instant::now();
                match req.send().await {
                    Ok(resp) => {
                        let status = resp.status();
                        let wait = resp
                            .headers()
                            .get(reqwest::header::RETRY_AFTER)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.parse::<f64>().ok())
                            .map(|s| Duration::from_secs_f64(s.clamp(0.0, 5.0)));
                        // read the whole answer: a page is served when its last byte is
                        let read = resp.bytes().await.is_ok();
                        let micros = t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                        if !read {
                            tally.errors += 1;
                        } else if status.is_success() || status.is_redirection() {
                            tally.ok.push(micros);
                        } else if status == reqwest::StatusCode::SERVICE_UNAVAILABLE {
                            tally.shed += 1;
                            if let (true, Some(wait)) = (args.retry_after, wait) {
                                tokio::time::sleep(wait).await;
                            }
                        } else {
                            tally.other += 1;
                        }
                    }
                    Err(_) => tally.errors += 1,
                }
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for t in tasks {
        if let Ok(t) = t.await {
            all.ok.extend(t.ok);
            all.shed += t.shed;
            all.other += t.other;
            all.errors += t.errors;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_ms_per_ok = match (cpu_before, args.pid.and_then(cpu_ticks)) {
        (Some(b), Some(a)) if !all.ok.is_empty() => {
            Some((a - b) as f64 * 10.0 / all.ok.len() as f64)
        }
        _ => None,
    };
    all.ok.sort_unstable();
    let line = serde_json::json!({
        "label": args.label,
        "connections": args.connections,
        "retry_after": args.retry_after,
        "seconds": elapsed,
        "ok": all.ok.len(),
        "shed": all.shed,
        "other": all.other,
        "errors": all.errors,
        "ok_per_sec": all.ok.len() as f64 / elapsed,
        "p50_us": percentile(&all.ok, 0.50),
        "p99_us": percentile(&all.ok, 0.99),
        "cpu_ms_per_ok": cpu_ms_per_ok,
    });
    println!("{line}");
}
